// The MQTT gateway adapter [DEV-3a]: edge gateways push registrations, reading batches, status,
// events and command results through an MQTT broker; the platform sends them commands. The
// protocol (topics, JSON schemas, limits) is docs/gateway-protocol.md. This file turns those
// messages into AcquisitionService calls and CommandRecords into command messages; it owns one
// libmosquitto client.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "ingest/runtime.hpp"
#include "service/acquisition_service.hpp"

struct mosquitto;

namespace joule::ingest {

// Named limits (TigerStyle): hitting one rejects the message and logs a device event.
inline constexpr std::size_t kMaxPayloadBytes = 256 * 1024;
inline constexpr std::size_t kMaxReadingsPerBatch = 1000;
inline constexpr std::size_t kMaxRegisteredMeters = 1024;
inline constexpr std::size_t kMaxValuesPerReading = 32;

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
};

struct MqttStats {
    std::atomic<int64_t> messages{0};  // received
    std::atomic<int64_t> handled{0};   // finished (counted after the store calls returned)
    std::atomic<int64_t> rejected{0};  // payload_rejected, unknown_gateway
    std::atomic<int64_t> readings{0};  // readings handed to AcquisitionService::Record
    std::atomic<int64_t> unknown_meters{0};
    std::atomic<int64_t> acks{0};
    std::atomic<int64_t> commands_sent{0};
    std::atomic<int64_t> store_errors{0};  // a service call failed (logged to stderr)
};

// Thread-safety: messages are handled on libmosquitto's network thread, one at a time (a mutex
// serializes HandleMessage, which tests may also call directly). SendCommand may be called from
// any thread. The Store and AcquisitionService must outlive this object.
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
    // Disconnects and joins the network thread. Idempotent.
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

private:
    struct Route;
    Status HandleLocked(std::string_view topic, std::string_view payload);
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
};

// The topic a gateway receives its commands on: "<prefix>/<project>/<gateway>/down/command".
[[nodiscard]] std::string CommandTopic(std::string_view prefix, std::string_view project,
                                       std::string_view gateway);

}  // namespace joule::ingest
