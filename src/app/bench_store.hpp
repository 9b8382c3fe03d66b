// `joule bench store`: end-to-end billing throughput on SQLite (validate -> bill -> durable
// commit in batches) against the ceiling of inserting the same raw rows without billing, and
// synchronous=FULL against NORMAL for single top-ups. Prints a table; see docs/performance.md.
#pragma once

#include <string>

#include "base/error.hpp"

namespace joule::app {

struct StoreBenchOptions {
    std::string db_path = "build/bench.db";
    int meters = 100'000;
    int rounds = 3;       // readings per meter, 30 minutes apart
    int batch = 5'000;    // readings per transaction
    int top_ups = 2'000;  // single-transaction top-ups per durability mode
};

[[nodiscard]] Status RunStoreBench(const StoreBenchOptions& options);

}  // namespace joule::app
