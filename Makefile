# The commands people reach for. `make demo` and `make test` work on a fresh Debian 12 machine
# as root: both install what is missing first.
JOBS        ?= 2
DEBUG_DIR   := build/debug
RELEASE_DIR := build/release
CMAKE_GEN   := -G Ninja
export CCACHE_DIR ?= $(CURDIR)/.cache/ccache
FUZZ_TEST_SECONDS ?= 10
FUZZ_SECONDS      ?= 120

.PHONY: deps demo demo-month test unit web web-test build-debug build-release bench fuzz format-fix format-check tidy-check clean

deps:
	@scripts/install-deps.sh

$(DEBUG_DIR)/build.ninja: | deps
	cmake -S . -B $(DEBUG_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug -DJOULE_SANITIZE=ON \
	      -DCMAKE_CXX_FLAGS="-O1" -DJOULE_BUILD_BENCH=OFF

$(RELEASE_DIR)/build.ninja: | deps
	cmake -S . -B $(RELEASE_DIR) $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DJOULE_BUILD_TESTS=OFF

# The web console (web/): npm ci from the lock file when it changed, a Vite build into web/dist
# (served by joule serve) when a source did.
WEB_SOURCES = $(shell git ls-files web/src web/public web/index.html web/vite.config.ts web/tsconfig.json web/package.json web/scripts)

# npm 11 writes lock files without the other platforms' optional packages (rollup's native
# builds), which its own `npm ci` then refuses as out of sync: install from the lock instead.
web/node_modules/.package-lock.json: web/package-lock.json | deps
	cd web && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund --no-save)

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html

# The console's component tests (Vitest); the browser tests run under ctest (web_console_e2e).
web-test: web/node_modules/.package-lock.json
	cd web && npx --no-install vitest run

build-debug: deps $(DEBUG_DIR)/build.ninja
	cmake --build $(DEBUG_DIR) -j $(JOBS)

build-release: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

# The live demo: `joule serve` reads a simulated mall (`joule sim`) over DTU and Modbus-TCP links
# and bills it. Runs until Ctrl-C (DEMO_SECONDS=N stops it). `make demo-month` replays a month
# offline through the same services instead.
demo: build-release web
	scripts/demo.sh

demo-month: build-release
	$(RELEASE_DIR)/src/app/joule demo --db build/demo-month.db

# Every test, built once with AddressSanitizer + UndefinedBehaviorSanitizer (the fuzz corpora are
# replayed there too), then each libFuzzer harness for FUZZ_TEST_SECONDS (clang 16, build/fuzz).
test: build-debug web
	@scripts/check-purity.sh
	@clang-format --dry-run --Werror $(SOURCES)
	cd $(DEBUG_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --output-on-failure -j $(JOBS)
	JOBS=$(JOBS) scripts/run-fuzz.sh $(FUZZ_TEST_SECONDS)

# Unit tests only (about a minute).
unit: build-debug
	cd $(DEBUG_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

# Each libFuzzer harness for FUZZ_SECONDS; `make fuzz FUZZ_ARGS=--merge` keeps what adds coverage.
fuzz: deps
	JOBS=$(JOBS) scripts/run-fuzz.sh $(FUZZ_ARGS) $(FUZZ_SECONDS)

bench: build-release
	$(RELEASE_DIR)/bench/joule_core_benchmark
	$(RELEASE_DIR)/src/app/joule bench store --db build/bench.db
	$(RELEASE_DIR)/bench/joule_notify_benchmark
	$(RELEASE_DIR)/bench/joule_reconciliation_benchmark

SOURCES = $(shell git ls-files '*.cpp' '*.hpp')

format-fix:
	clang-format -i $(SOURCES)

format-check:
	clang-format --dry-run --Werror $(SOURCES)

tidy-check: $(DEBUG_DIR)/build.ninja
	JOBS=$(JOBS) scripts/tidy-check.sh $(DEBUG_DIR)

clean:
	rm -rf build
