// The MQTT gateway adapter [DEV-3a]: edge gateways push registrations, reading batches, status,
// events and command results through an MQTT broker; the platform sends them commands. The
// protocol (topics, JSON schemas, limits) is docs/gateway-protocol.md. This file turns those
// messages into AcquisitionService calls and CommandRecords into command messages; it owns one
// libmosquitto client.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ingest/runtime.hpp"
#include "service/acquisition_service.hpp"

struct mosquitto;

namespace joule::ingest {

// Named limits (TigerStyle): hitting one rejects the message and logs a device event.
inline constexpr std::size_t kMaxPayloadBytes = std::size_t{256} * 1024;
inline constexpr std::size_t kMaxReadingsPerBatch = 1000;
inline constexpr std::size_t kMaxRegisteredMeters = 1024;
inline constexpr std::size_t kMaxValuesPerReading = 32;
// Messages received but not yet handled. When full, the network thread waits for room (TCP
// backpressure to the broker, counted in MqttStats::backpressure_waits); nothing is dropped.
inline constexpr std::size_t kMaxQueuedMessages = 2000;
// Reading batches drained together are recorded in one AcquisitionService::Record call (one
// transaction) up to this many readings.
inline constexpr std::size_t kMaxReadingsPerCommit = 20'000;

struct MqttOptions {
    std::string host = "127.0.0.1";
    int port = 1883;
    std::string username;  // the platform's broker account
    std::string password;
    std::string client_id = "joule-platform";  // fixed: the broker keeps our session (QoS 1 queue)
    std::string topic_prefix = "joule";
    int keepalive_s = 30;
    int qos = 1;
    unsigned reconnect_delay_s = 1;       // doubled per failed attempt ...
    unsigned reconnect_delay_max_s = 30;  // ... up to this
    // TLS (mosquitto_tls_set): enabled when cafile or capath is set. The server certificate and
    // hostname are always verified.
    std::string tls_cafile;
    std::string tls_capath;
    std::string tls_certfile;  // client certificate, optional
    std::string tls_keyfile;
    // Group commit: the handling thread starts a new round of handling at most this often
    // (unless kMaxReadingsPerCommit readings or kMaxQueuedMessages / 2 messages are already
    // waiting; other kinds of message wait with the readings), so under load each commit
    // carries more readings and its fixed costs (the fsync, pages every commit rewrites, the
    // batch's set queries) are shared. A reading waits at most this much longer. 0..1000.
    int commit_gather_ms = 100;
};

struct MqttStats {
    std::atomic<int64_t> messages{0};  // received
    std::atomic<int64_t> handled{0};   // finished (counted after the store calls returned)
    std::atomic<int64_t> rejected{0};  // payload_rejected, unknown_gateway
    std::atomic<int64_t> readings{0};  // readings handed to AcquisitionService::Record
    std::atomic<int64_t> unknown_meters{0};
    std::atomic<int64_t> acks{0};
    std::atomic<int64_t> commands_sent{0};
    std::atomic<int64_t> store_errors{0};        // a service call failed (logged to stderr)
    std::atomic<int64_t> commits{0};             // Record calls (each one transaction)
    std::atomic<int64_t> backpressure_waits{0};  // the queue was full; the network thread waited
    // The handling thread's time spent handling drained messages: wall clock (waits for the
    // disk included) and its own CPU time, in ns. Their rates say how near it is to its limit.
    std::atomic<int64_t> worker_busy_ns{0};
    std::atomic<int64_t> worker_cpu_ns{0};
};

// Thread-safety: libmosquitto's network thread copies each message into a bounded queue
// (kMaxQueuedMessages), parsing reading batches and finding their meters on the way (store reads
// only); one worker thread drains it in order (at most every MqttOptions::commit_gather_ms while
// it keeps up) and handles the messages, recording the reading batches drained together in one
// Record call (one transaction, up to kMaxReadingsPerCommit readings); a batch that fails there
// is retried on its own so one bad batch never fails another. Other kinds are handled in order
// between those commits. A mutex serializes handling, so HandleMessage (synchronous, one message)
// may also be called directly. SendCommand may be called from any thread. The Store and
// AcquisitionService must outlive this object.
class MqttIngest final : public CommandSink {
public:
    MqttIngest(Store& store, AcquisitionService& service, MqttOptions options,
               std::function<Instant()> clock);
    ~MqttIngest() override;  // Stop()s
    MqttIngest(const MqttIngest&) = delete;
    MqttIngest& operator=(const MqttIngest&) = delete;

    // Creates the client, connects (asynchronously: a broker that is down is retried forever)
    // and starts the network thread. kInvalidArgument for bad options or TLS files,
    // kInternal when libmosquitto cannot be set up. Calling it twice is kFailedPrecondition.
    [[nodiscard]] Status Start();
    // Disconnects, joins the network thread, handles what is still queued and joins the worker.
    // Idempotent.
    void Stop();
    // True while the client holds a CONNACKed connection.
    [[nodiscard]] bool connected() const { return connected_.load(); }

    // Publishes the command (QoS 1, not retained) to the meter's gateway's down/command topic.
    // The result comes back as an ack message -> AcquisitionService::RecordCommandResult.
    // kInvalidArgument when the gateway is not an MQTT gateway, kUnavailable when the client is
    // not started or the publish fails (the dispatcher retries).
    [[nodiscard]] Status SendCommand(const CommandRecord& command, const MeterRecord& meter,
                                     const GatewayRecord& gateway) override;

    // Handles one received message as the network thread does. Returns what was wrong with it
    // (already logged as a device event) or success; never throws.
    Status HandleMessage(std::string_view topic, std::string_view payload);

    [[nodiscard]] const MqttStats& stats() const { return stats_; }

    // Called after each commit of reading batches, on the handling thread, with their batch_ids
    // and what that one Record call did. For metrics and benchmarks; set before Start().
    using RecordedHook =
        std::function<void(const std::vector<std::string>& batch_ids, const RecordResult&)>;
    void set_on_recorded(RecordedHook hook) { on_recorded_ = std::move(hook); }
    // Where gateways' own bus counters (in their status messages) go; before Start().
    void set_bus_statistics(BusStatistics* statistics) { bus_ = statistics; }

private:
    struct Route;
    struct Prepared;
    struct MeterCache;
    struct Queued {
        std::string topic;
        std::string payload;                 // empty when prepared
        std::unique_ptr<Prepared> prepared;  // a reading batch prepared on the network thread
    };
    Status HandleLocked(std::string_view topic, std::string_view payload);
    Result<Route> RouteOf(std::string_view topic, std::string_view* kind);
    // The project and MQTT gateway a topic names, or nullopt; an error is the store's.
    Result<std::optional<std::pair<ProjectRecord, GatewayRecord>>> FindRoute(
        std::string_view project_code, std::string_view gateway_code);
    void LogFailure(const Route& route, const Status& s);
    // Parses a reading batch and finds its meters; no store writes (unknown meters are listed).
    Result<Prepared> PrepareReadings(const Route& route, std::string_view payload);
    std::unique_ptr<Prepared> PrepareAhead(std::string_view topic, std::string_view payload);
    void LogUnknownMeters(const Prepared& p);
    // A full commit's readings, or half the queue's room, is waiting (queue_mutex_ held).
    [[nodiscard]] bool GatheredEnough() const;
    Status RecordBatches(std::span<Prepared> group);
    void CommitReadings(std::vector<Prepared>& batches);
    void Enqueue(std::string_view topic, std::string_view payload);
    void WorkerLoop();
    void HandleDrained(std::vector<Queued>& drained);
    Status Dispatch(const Route& route, std::string_view kind, std::string_view payload);
    Status HandleReadings(const Route& route, std::string_view payload);
    Status HandleRegister(const Route& route, std::string_view payload);
    Status HandleStatus(const Route& route, std::string_view payload);
    Status HandleEvent(const Route& route, std::string_view payload);
    Status HandleAck(const Route& route, std::string_view payload);
    void Log(GatewayId gateway, MeterId meter, std::string kind, std::string detail);

    friend struct MqttCallbacks;  // libmosquitto's C callbacks (mqtt_gateway.cpp)

    Store& store_;
    AcquisitionService& service_;
    MqttOptions options_;
    std::function<Instant()> clock_;
    std::mutex handle_mutex_;  // one message at a time
    std::mutex client_mutex_;  // guards client_ creation and destruction
    struct mosquitto* client_ = nullptr;
    bool started_ = false;
    std::atomic<bool> connected_{false};
    MqttStats stats_;
    RecordedHook on_recorded_;
    BusStatistics* bus_ = nullptr;
    std::mutex queue_mutex_;
    std::condition_variable queue_ready_;  // a message arrived, or stopping
    std::condition_variable queue_room_;   // the worker took messages
    std::vector<Queued> queue_;
    std::size_t queued_readings_ = 0;  // in queue_'s prepared batches
    bool stopping_ = false;
    std::thread worker_;
    std::unique_ptr<MeterCache> meter_cache_;  // locks itself: the network thread uses it too
};

// The topic a gateway receives its commands on: "<prefix>/<project>/<gateway>/down/command".
[[nodiscard]] std::string CommandTopic(std::string_view prefix, std::string_view project,
                                       std::string_view gateway);

}  // namespace joule::ingest
