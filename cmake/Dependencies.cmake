# Every third-party package is found here, in one place. All come from Debian 12 packages
# (scripts/install-deps.sh installs them); nothing is vendored or fetched.
find_package(Threads REQUIRED)
find_package(date CONFIG REQUIRED)            # libhowardhinnant-date-dev (date::date-tz)
find_package(SQLite3 REQUIRED)                # libsqlite3-dev
find_package(nlohmann_json 3.11 CONFIG REQUIRED)  # nlohmann-json3-dev
find_package(CLI11 CONFIG REQUIRED)           # libcli11-dev
find_package(PkgConfig REQUIRED)
pkg_check_modules(MOSQUITTO REQUIRED IMPORTED_TARGET libmosquitto)  # libmosquitto-dev
pkg_check_modules(MODBUS REQUIRED IMPORTED_TARGET libmodbus)  # libmodbus-dev (interop tests)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)  # libsodium-dev (argon2id, tokens)
pkg_check_modules(XLSXWRITER REQUIRED IMPORTED_TARGET xlsxwriter)  # libxlsxwriter-dev (exports)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)  # libzip-dev (XLSX imports: the zip)
pkg_check_modules(EXPAT REQUIRED IMPORTED_TARGET expat)    # libexpat1-dev (XLSX imports: the XML)
# libjemalloc-dev: the joule binary's allocator. Ingest allocates and frees many small objects per
# reading on two threads (and Debian's SQLite, built without lookaside, allocates at every statement
# step); with glibc's malloc a 5-minute MQTT run fell behind, with jemalloc it kept up
# (docs/performance.md, session 16). Not with the sanitizers, which bring their own allocator.
if(NOT JOULE_SANITIZE AND NOT JOULE_FUZZ)
    pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
endif()
find_package(Boost 1.81 CONFIG REQUIRED)      # libboost1.81-dev (Asio; header-only here)
find_package(OpenSSL 3 REQUIRED)              # libssl-dev (HTTPS in joule serve)
find_package(tomlplusplus 3 CONFIG REQUIRED)  # libtomlplusplus-dev (joule serve --config)
find_package(CURL 7.88 REQUIRED)              # libcurl4-openssl-dev (SMTP and HTTPS out)
if(JOULE_BUILD_TESTS)
    find_package(GTest REQUIRED)              # libgtest-dev, libgmock-dev
    include(GoogleTest)
endif()
if(JOULE_BUILD_BENCH)
    find_package(benchmark REQUIRED)          # libbenchmark-dev
endif()
