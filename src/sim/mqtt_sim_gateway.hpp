// A simulated MQTT edge gateway for `joule sim` [DEV-3a]: it speaks docs/gateway-protocol.md
// through libmosquitto. It registers its meters, reads them on an interval into a local buffer
// and publishes the buffer in batches; while the broker is unreachable the buffer grows (up to a
// bound, oldest dropped and counted) and is re-sent on reconnect with the original meter times
// (断点续传). It executes commands through a handler, once per command id and never after their
// expiry, and acks them. Its Last Will marks it offline when its link is lost (SetLinkUp(false)
// simulates that); a clean Stop() publishes the offline status itself.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "core/tariff.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

struct mosquitto;

namespace joule::sim {

// What a meter shows when the gateway reads it.
struct SimMeterReading {
    Quantity total;                               // kWh or m^3 register, in thousandths
    std::optional<PerPeriod<Quantity>> per_rate;  // sharp, peak, flat, valley
    std::string relay = "unknown";                // "closed", "open", "unknown"
    std::string valve = "unknown";                // "open", "closed", "abnormal", "unknown"
    bool hold = false;                            // 保电
    bool battery_low = false;
    std::optional<Instant> time;  // the meter's own clock; default: the gateway's clock
    // Instantaneous values ("voltage" -> "220.1"): decimal strings, at most 32.
    std::vector<std::pair<std::string, std::string>> values;
};

struct SimMqttMeter {
    std::string code;         // sent as "meter" in readings
    std::string bus_address;  // announced in the registration
    std::string model;
    // Called on the gateway's own thread. nullopt: the meter did not answer on the bus; the
    // gateway publishes an rs485_timeout event instead of a reading.
    std::function<std::optional<SimMeterReading>()> read;
};

struct SimCommand {
    int64_t id = 0;
    std::string meter;
    std::string bus_address;
    std::string kind;
    std::string params_json = "{}";
    std::optional<Instant> expires;
};

struct SimCommandResult {
    bool ok = true;
    std::string error;
};

struct MqttSimOptions {
    std::string host = "127.0.0.1";
    int port = 1883;
    std::string username;  // the gateway code, by convention
    std::string password;
    std::string client_id;  // default: username
    std::string topic_prefix = "joule";
    std::string project;
    std::string gateway;
    std::string model = "joule-sim-gw";
    std::string serial = "SIM-0001";
    std::chrono::milliseconds interval{60'000};  // between reads of all meters
    std::size_t max_buffered = 100'000;          // readings kept while offline
    std::size_t batch_size = 500;                // readings per published batch (<= 1000)
    // How often the gateway re-publishes its status with its bus counters (the first one after
    // the first read); 0: never.
    std::chrono::milliseconds bus_report_interval{60'000};
    int keepalive_s = 30;
    // TLS when set: the broker's certificate must chain to this CA and name the host.
    std::string tls_cafile;
};

struct MqttSimStats {
    std::atomic<int64_t> sampled{0};
    std::atomic<int64_t> published{0};  // readings acknowledged by the broker
    std::atomic<int64_t> dropped{0};    // buffer overflow
    std::atomic<int64_t> commands{0};   // executed (duplicates not counted)
    std::atomic<int64_t> connects{0};
    std::atomic<int64_t> refused{0};     // CONNACKs refusing us (bad credentials, not allowed)
    std::atomic<int64_t> unanswered{0};  // meter reads that got no answer (rs485_timeout)
    std::atomic<int64_t> link_drops{0};  // SetLinkUp(false) calls that cut a link
};

// Thread-safety: Start/Stop/SampleNow/Flush from any thread; the handler and the meters' read
// functions run on the gateway's threads, one at a time per kind.
class MqttSimGateway {
public:
    using CommandHandler = std::function<SimCommandResult(const SimCommand&)>;

    MqttSimGateway(MqttSimOptions options, std::vector<SimMqttMeter> meters, CommandHandler handler,
                   std::function<Instant()> clock);
    ~MqttSimGateway();
    MqttSimGateway(const MqttSimGateway&) = delete;
    MqttSimGateway& operator=(const MqttSimGateway&) = delete;

    // Connects (retrying forever in the background) and starts reading on the interval.
    // kInvalidArgument for bad options; kInternal when libmosquitto cannot be set up.
    [[nodiscard]] Status Start();
    void Stop();

    // Simulates the uplink going away (a 4G outage) and coming back. Down: the TCP connection is
    // cut without an MQTT DISCONNECT, so the broker publishes the Last Will (offline), and the
    // gateway stops reconnecting; readings keep accumulating in the buffer. Up: it reconnects,
    // announces itself online and re-sends the buffer. No-op before Start or when unchanged.
    void SetLinkUp(bool up);

    // Reads every meter once into the buffer (the interval thread does this too).
    void SampleNow();
    // Publishes the next batch if connected and none is in flight.
    void Flush();

    [[nodiscard]] bool connected() const { return connected_.load(); }
    [[nodiscard]] std::size_t buffered() const;
    [[nodiscard]] const MqttSimStats& stats() const { return stats_; }

private:
    friend struct SimCallbacks;
    void Loop();
    void OnConnected();
    void OnPublished(int mid);
    void OnCommand(std::string_view payload);
    void PublishEvent(std::string_view kind, std::string_view meter, std::string_view detail);
    std::string Topic(std::string_view leaf) const;

    MqttSimOptions options_;
    std::vector<SimMqttMeter> meters_;
    CommandHandler handler_;
    std::function<Instant()> clock_;

    mutable std::mutex mutex_;        // guards the buffer, the in-flight batch and done_commands_
    std::deque<std::string> buffer_;  // one JSON reading object each
    std::optional<int> inflight_mid_;
    std::size_t inflight_count_ = 0;
    int64_t next_batch_ = 1;
    // The bus counters since start, reported in the status message (guarded by mutex_).
    int64_t bus_requests_ = 0;
    int64_t bus_answered_ = 0;
    std::chrono::steady_clock::time_point next_bus_report_{};
    std::map<int64_t, SimCommandResult> done_commands_;  // by id, the newest 1024

    struct mosquitto* client_ = nullptr;
    std::atomic<bool> connected_{false};
    std::mutex link_mutex_;  // serializes SetLinkUp and Stop
    bool link_up_ = true;
    std::thread thread_;
    std::mutex stop_mutex_;
    std::condition_variable wake_;
    bool stop_ = false;
    MqttSimStats stats_;
};

}  // namespace joule::sim
