// Shared by the benchmarks (`joule bench store|dtu|mqtt`): wall-clock timing, waiting for a
// condition, and a fresh database file. Benchmarks measure wall time, so they read the clock
// here; timing math uses double (seconds), never near money.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/time.hpp"
#include "service/site_service.hpp"

namespace joule::app {

using SteadyClock = std::chrono::steady_clock;

// Seconds since `t0` on the steady clock.
[[nodiscard]] double SecondsSince(SteadyClock::time_point t0);

// The wall clock, to whole seconds: the clock handed to the runtime and the services.
[[nodiscard]] Instant WallNow();

// Polls `done` every 20 ms for up to `seconds`; whether it became true.
[[nodiscard]] bool WaitUntil(const std::function<bool()>& done, int seconds);

// Deletes an SQLite database and its -wal and -shm files, so a run starts from an empty store.
void RemoveDb(const std::string& path);

// The code of the i-th benchmark meter ("M<i>").
[[nodiscard]] std::string MeterCode(int i);

// A site of one project (`code`, `name`) with the benchmark meter model "m" (readings posted
// directly, up to 100 kWh an hour) and the tariff "flat", 0.8000 yuan/kWh from `tariff_from`.
// The caller adds gateways and meters.
[[nodiscard]] SiteSpec BenchSite(const std::string& code, const std::string& name,
                                 Instant tariff_from);

}  // namespace joule::app
