// `joule bench dtu`: the DTU listener holding many concurrent connections on loopback. Starts
// ingest::Runtime on 127.0.0.1:0 with N DTU gateways (one simulated DL/T 645 meter each), opens N
// client connections that register and answer reads with a SimMeter, and reports resident memory
// per connection and reads ok/failed over a bounded hold. Stops by itself. See docs/performance.md.
#pragma once

#include <string>

#include "base/error.hpp"

namespace joule::app {

struct DtuBenchOptions {
    std::string db_path = "build/bench-dtu.db";
    std::string models_dir;  // empty: the built-in models directory
    int connections = 10'000;
    int hold_seconds = 20;        // after every connection is up
    int read_interval_s = 10;     // each DTU is polled this often while held
    int connect_timeout_s = 120;  // bound on bringing every connection up
    // "process": the clients run in a forked child, so each side's memory is measured alone and
    // each process needs only N descriptors. "thread": both ends in this process (needs 2N fds);
    // "client-only": the clients against a bare acceptor that only holds the sockets, to subtract
    // from a "thread" run.
    std::string clients = "process";
    // SQLite durability of the runtime's store: "full" (the product's) or "normal".
    std::string sync = "full";
};

[[nodiscard]] Status RunDtuBench(const DtuBenchOptions& options);

}  // namespace joule::app
