// Bus statistics [DEV-3, DEV-4]: how well each gateway's RS-485 bus answers, for engineers
// deciding whether a meter, a cable or a gateway is at fault. Counted in memory since the server
// started (`since`): they describe the line as it is now, and losing them at a restart loses
// nothing the business needs (readings, alarms and the device log are in the store).
//  - Links the platform drives (Modbus-TCP, serial servers, dial-in DTUs) are counted here, one
//    request at a time, by the acquisition runtime.
//  - MQTT gateways run their own buses and report their own counters in their status message;
//    the last report is kept as it came, with its time.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/ids.hpp"
#include "core/time.hpp"

namespace joule {

struct BusCounters {
    int64_t requests = 0;        // requests that expect a reply (retries included)
    int64_t answered = 0;        // got a reply of the expected kind
    int64_t timeouts = 0;        // no reply in time
    int64_t retries = 0;         // requests that repeated one that failed
    int64_t bad_frames = 0;      // replies with a bad checksum, or that did not fit the request
    int64_t meter_errors = 0;    // error replies (DL/T 645 error word, Modbus exception)
    int64_t link_losses = 0;     // the connection dropped mid-request
    int64_t noise_bytes = 0;     // bytes on the line that were no frame
    int64_t reply_ms_total = 0;  // over the answered requests
    int64_t reply_ms_max = 0;
};

enum class BusSource : std::uint8_t {
    kPlatform,  // counted by the platform, which drives the bus
    kGateway,   // reported by an MQTT gateway about its own bus
};

struct BusSnapshot {
    BusSource source = BusSource::kPlatform;
    BusCounters counters;
    Instant since;                         // platform: counting started; gateway: first report
    std::optional<Instant> last_activity;  // platform: last request; gateway: last report
};

// One request's outcome on a platform-driven bus.
enum class ExchangeOutcome : std::uint8_t {
    kAnswered,
    kTimedOut,
    kLinkLost,
};

class BusStatistics {
public:
    // A request that expects a reply was sent and ended as `outcome`; `reply_time` counts when
    // answered. `noise_bytes` and `bad_frames` are what the line carried meanwhile.
    void RecordExchange(GatewayId gateway, ExchangeOutcome outcome,
                        std::chrono::milliseconds reply_time, int64_t noise_bytes,
                        int64_t bad_frames, Instant now);
    void RecordRetry(GatewayId gateway, Instant now);
    // A reply arrived but was refused: it did not decode or did not fit the request.
    void RecordBadFrame(GatewayId gateway, Instant now);
    void RecordMeterError(GatewayId gateway, Instant now);
    // An MQTT gateway's own counters (cumulative since it booted), replacing its last report.
    void RecordReport(GatewayId gateway, const BusCounters& reported, Instant now);

    [[nodiscard]] std::optional<BusSnapshot> Get(GatewayId gateway) const;

private:
    BusSnapshot& EntryOf(GatewayId gateway, BusSource source, Instant now);  // mutex_ held

    mutable std::mutex mutex_;
    std::unordered_map<int64_t, BusSnapshot> by_gateway_;
};

}  // namespace joule
