// `joule demo`: builds a sample mall, replays a month of simulated readings, top-ups, a subsidy,
// keep power and a tariff change through the real services and an SQLite file, then prints
// balances, states, alarms and the ledger summary. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"

namespace joule::app {

struct DemoOptions {
    std::string db_path = "build/demo.db";
    int shops = 120;
    int water_meters = 12;
    int public_meters = 6;
    int days = 31;
    uint64_t seed = 42;
};

[[nodiscard]] Status RunDemo(const DemoOptions& options);

}  // namespace joule::app
