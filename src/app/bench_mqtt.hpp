// `joule bench mqtt`: MQTT ingest end to end on loopback [DEV-3a]. Starts mosquitto (127.0.0.1, a
// free port, generated password and ACL files, persistence off), a store with N meters on MQTT
// gateways and N accounts, MqttIngest, and one libmosquitto publisher per gateway publishing
// reading batches at a fixed rate for a bounded time; reports readings committed per second,
// publish -> committed latency and alarms/commands queued. Then a bare subscriber drains the same
// messages as the ceiling. Stops by itself. See docs/performance.md.
#pragma once

#include <optional>
#include <string>

#include "base/error.hpp"

namespace joule::app {

struct MqttBenchOptions {
    std::string db_path = "build/bench-mqtt.db";  // recreated (from a cached template when present)
    int meters = 100'000;
    int gateways = 100;
    int batch = 500;            // readings per message
    int rate = 20'000;          // readings/s published
    int seconds = 300;          // publishing time
    int low_per_mille = 10;     // accounts opened with a low balance (alarms, trips)
    int drain_timeout_s = 120;  // bound on waiting for the backlog after publishing stops
    std::string sync = "full";  // store durability: full (the product's) or normal
    bool profile_sql = false;   // time each SQL statement on the writer's connection; top 25
    std::optional<int>
        gather_ms;  // group commit, MqttOptions::commit_gather_ms; unset: its default
    std::string mosquitto = "/usr/sbin/mosquitto";
    std::string mosquitto_passwd = "/usr/bin/mosquitto_passwd";
};

[[nodiscard]] Status RunMqttBench(const MqttBenchOptions& options);

}  // namespace joule::app
