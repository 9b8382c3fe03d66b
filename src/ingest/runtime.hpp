// The acquisition runtime [DEV-3, DEV-4]: the TCP transports and the command dispatcher, on one
// Boost.Asio thread.
//  - A listener for 4G DTUs that dial in: a registration packet (a configurable pattern such as an
//    IMEI or ICCID string) names the gateway, heartbeats keep it alive, then transparent RS-485
//    frames flow both ways.
//  - Outbound connections to Modbus-TCP gateways and serial servers ("host:port"): Modbus-TCP
//    with unit ids (framing "mbap") or transparent RS-485 frames inside TCP ("transparent").
//  - Per connection one request in flight (an RS-485 bus is half duplex), a timeout and retries
//    per request, a read schedule per project, online/offline state of gateways and meters.
//  - The command dispatcher: due commands go out over whichever transport reaches the meter;
//    MQTT gateways are reached through a CommandSink the MQTT adapter provides.
// Everything the runtime learns goes to AcquisitionService; it keeps no state of its own that
// matters after a restart.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "service/acquisition_service.hpp"
#include "service/bus_statistics.hpp"

namespace joule::ingest {

struct RuntimeOptions {
    std::string dtu_listen = "127.0.0.1:0";  // port 0: any free port (see dtu_port())
    // ECMAScript regex over the registration packet (trimmed); group 1 is the gateway endpoint.
    std::string dtu_registration_pattern =
        R"(^(?:JOULE-DTU:|IMEI:|ICCID:)?([0-9A-Za-z_.-]{4,64})$)";
    std::string dtu_heartbeat = "HB";  // packets equal to this are heartbeats (besides noise)
    std::chrono::milliseconds request_timeout{1500};
    int retries = 2;  // per request, after the first try
    std::chrono::seconds registration_timeout{10};
    std::chrono::seconds link_silence_limit{120};    // a DTU silent this long is dropped
    std::chrono::seconds reconnect_backoff_max{30};  // outbound Modbus-TCP reconnects
    std::chrono::milliseconds dispatch_interval{500};
    int64_t read_interval_override_s = 0;  // > 0: every project reads this often (the demo)
    std::size_t max_connections = 20'000;
};

// Delivers commands to gateways the runtime does not hold a socket for (MQTT).
class CommandSink {
public:
    virtual ~CommandSink() = default;
    // Hands the command to the gateway; the result arrives later through
    // AcquisitionService::RecordCommandResult.
    [[nodiscard]] virtual Status SendCommand(const CommandRecord& command, const MeterRecord& meter,
                                             const GatewayRecord& gateway) = 0;
};

struct RuntimeStats {
    std::atomic<int64_t> connections{0};
    std::atomic<int64_t> reads_ok{0};
    std::atomic<int64_t> reads_failed{0};
    std::atomic<int64_t> frames_rejected{0};
    std::atomic<int64_t> commands_sent{0};
    std::atomic<int64_t> commands_acknowledged{0};
};

class Runtime {
public:
    Runtime(Store& store, AcquisitionService& service, RuntimeOptions options,
            std::function<Instant()> clock);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    void SetCommandSink(CommandSink* sink);
    // Where each request's outcome is counted; before Start(). Default: the runtime's own.
    void SetBusStatistics(BusStatistics* statistics);
    // Loads gateways, meters and models, binds the DTU listener, connects to polled gateways and
    // starts the I/O thread. kInvalidArgument for a bad listen address or pattern.
    [[nodiscard]] Status Start();
    void Stop();
    // Reloads gateways and meters from the store (after a binding or an import).
    void Reload();

    [[nodiscard]] uint16_t dtu_port() const;
    [[nodiscard]] const RuntimeStats& stats() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace joule::ingest
