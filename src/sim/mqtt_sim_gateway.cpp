// The simulated MQTT gateway: libmosquitto client, reading buffer, command execution.
// nlohmann-json throws; the only parse of foreign input (commands) catches at its call.
#include "sim/mqtt_sim_gateway.hpp"

#include <fcntl.h>
#include <mosquitto.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <stdexcept>

#include "base/decimal.hpp"

namespace joule::sim {

using Json = nlohmann::json;

namespace {
std::once_flag lib_init;
constexpr std::size_t kMaxDoneCommands = 1024;

std::string QuantityText(Quantity q) { return FormatScaled(q.milli, kQuantityScale); }
}  // namespace

struct SimCallbacks {
    static void OnConnect(struct mosquitto* /*client*/, void* obj, int rc) {
        auto* self = static_cast<MqttSimGateway*>(obj);
        if (rc == 0) {
            self->OnConnected();
        } else {
            self->stats_.refused.fetch_add(1);
        }
    }
    static void OnDisconnect(struct mosquitto* /*client*/, void* obj, int /*rc*/) {
        auto* self = static_cast<MqttSimGateway*>(obj);
        self->connected_.store(false);
        std::lock_guard lock(self->mutex_);
        self->inflight_mid_.reset();  // re-sent after the reconnect (the platform dedupes)
    }
    static void OnPublish(struct mosquitto* /*client*/, void* obj, int mid) {
        static_cast<MqttSimGateway*>(obj)->OnPublished(mid);
    }
    static void OnMessage(struct mosquitto* /*client*/, void* obj,
                          const struct mosquitto_message* m) {
        const std::string_view payload(
            static_cast<const char*>(m->payload),
            m->payload == nullptr ? 0U : static_cast<std::size_t>(m->payloadlen));
        static_cast<MqttSimGateway*>(obj)->OnCommand(payload);
    }
};

MqttSimGateway::MqttSimGateway(MqttSimOptions options, std::vector<SimMqttMeter> meters,
                               CommandHandler handler, std::function<Instant()> clock)
    : options_(std::move(options)),
      meters_(std::move(meters)),
      handler_(std::move(handler)),
      clock_(std::move(clock)) {}

MqttSimGateway::~MqttSimGateway() { Stop(); }

std::string MqttSimGateway::Topic(std::string_view leaf) const {
    return options_.topic_prefix + "/" + options_.project + "/" + options_.gateway + "/" +
           std::string(leaf);
}

Status MqttSimGateway::Start() {
    if (client_ != nullptr) {
        return FailedPrecondition("the simulated gateway is already started");
    }
    if (options_.project.empty() || options_.gateway.empty()) {
        return InvalidArgument("gateway", "project and gateway codes are required");
    }
    if (options_.batch_size == 0 || options_.batch_size > 1000) {
        return InvalidArgument("batch_size", "must be 1..1000");
    }
    std::call_once(lib_init, [] { mosquitto_lib_init(); });
    const std::string id = options_.client_id.empty() ? options_.username : options_.client_id;
    client_ = mosquitto_new(id.empty() ? nullptr : id.c_str(), /*clean_session=*/id.empty(), this);
    if (client_ == nullptr) {
        return MakeError(ErrorCode::kInternal, "mosquitto_new failed");
    }
    const std::string status = Topic("up/status");
    const std::string offline = R"({"state":"offline"})";
    int rc = mosquitto_will_set(client_, status.c_str(), static_cast<int>(offline.size()),
                                offline.data(), 1, /*retain=*/true);
    if (rc == MOSQ_ERR_SUCCESS && !options_.username.empty()) {
        rc = mosquitto_username_pw_set(client_, options_.username.c_str(),
                                       options_.password.c_str());
    }
    if (rc == MOSQ_ERR_SUCCESS && !options_.tls_cafile.empty()) {
        rc = mosquitto_tls_set(client_, options_.tls_cafile.c_str(), nullptr, nullptr, nullptr,
                               nullptr);
    }
    if (rc == MOSQ_ERR_SUCCESS) {
        rc = mosquitto_reconnect_delay_set(client_, 1, 10, true);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(client_);
        client_ = nullptr;
        return InvalidArgument("mqtt", mosquitto_strerror(rc));
    }
    mosquitto_connect_callback_set(client_, &SimCallbacks::OnConnect);
    mosquitto_disconnect_callback_set(client_, &SimCallbacks::OnDisconnect);
    mosquitto_publish_callback_set(client_, &SimCallbacks::OnPublish);
    mosquitto_message_callback_set(client_, &SimCallbacks::OnMessage);
    (void)mosquitto_connect_async(client_, options_.host.c_str(), options_.port,
                                  options_.keepalive_s);  // a broker that is down is retried
    rc = mosquitto_loop_start(client_);
    if (rc != MOSQ_ERR_SUCCESS) {
        mosquitto_destroy(client_);
        client_ = nullptr;
        return MakeError(ErrorCode::kInternal, mosquitto_strerror(rc));
    }
    {
        std::lock_guard lock(stop_mutex_);
        stop_ = false;
    }
    thread_ = std::thread([this] { Loop(); });
    return {};
}

void MqttSimGateway::Stop() {
    {
        std::lock_guard lock(stop_mutex_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    std::lock_guard link(link_mutex_);
    if (client_ != nullptr) {
        if (connected_.load()) {
            // A clean disconnect sends no Last Will, so say it ourselves: the platform would
            // otherwise keep a stopped gateway online. Queued ahead of the DISCONNECT.
            const std::string status = Topic("up/status");
            const std::string offline = R"({"state":"offline"})";
            (void)mosquitto_publish(client_, nullptr, status.c_str(),
                                    static_cast<int>(offline.size()), offline.data(), 1,
                                    /*retain=*/true);
        }
        mosquitto_disconnect(client_);
        mosquitto_loop_stop(client_, false);
        mosquitto_destroy(client_);
        client_ = nullptr;
    }
    connected_.store(false);
}

void MqttSimGateway::SetLinkUp(bool up) {
    std::lock_guard link(link_mutex_);
    if (client_ == nullptr || up == link_up_) {
        return;
    }
    link_up_ = up;
    if (up) {
        (void)mosquitto_reconnect_async(client_);  // failures are retried by the loop
        (void)mosquitto_loop_start(client_);
        return;
    }
    stats_.link_drops.fetch_add(1);
    // Cut the TCP connection under libmosquitto without a DISCONNECT packet, as a lost 4G link
    // does, so the broker publishes our Last Will. /dev/null takes the socket's descriptor: the
    // socket closes once the library lets go of it, and what the library still writes (the
    // DISCONNECT below) goes nowhere instead of raising SIGPIPE on a dead socket.
    const int sock = mosquitto_socket(client_);
    if (sock >= 0) {
        const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd >= 0) {
            ::dup2(null_fd, sock);
            ::close(null_fd);
        }
    }
    // Marks the client disconnecting, so the network thread ends instead of reconnecting.
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
    connected_.store(false);
    std::lock_guard lock(mutex_);
    inflight_mid_.reset();  // re-sent after the link comes back (the platform dedupes)
    inflight_count_ = 0;
}

void MqttSimGateway::Loop() {
    auto next_sample = std::chrono::steady_clock::now();
    std::unique_lock lock(stop_mutex_);
    while (!stop_) {
        lock.unlock();
        if (std::chrono::steady_clock::now() >= next_sample) {
            SampleNow();
            next_sample += options_.interval;
        }
        Flush();
        lock.lock();
        wake_.wait_for(lock, std::chrono::milliseconds(50));
    }
}

void MqttSimGateway::OnConnected() {
    stats_.connects.fetch_add(1);
    const std::string commands = Topic("down/command");
    (void)mosquitto_subscribe(client_, nullptr, commands.c_str(), 1);
    const std::string online = R"({"state":"online"})";
    const std::string status = Topic("up/status");
    (void)mosquitto_publish(client_, nullptr, status.c_str(), static_cast<int>(online.size()),
                            online.data(), 1, /*retain=*/true);
    Json reg = {{"model", options_.model}, {"serial", options_.serial}, {"meters", Json::array()}};
    for (const SimMqttMeter& m : meters_) {
        reg["meters"].push_back({{"bus_address", m.bus_address.empty() ? m.code : m.bus_address},
                                 {"model", m.model},
                                 {"serial", m.code}});
    }
    const std::string text = reg.dump();
    const std::string topic = Topic("up/register");
    (void)mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(text.size()),
                            text.data(), 1, false);
    connected_.store(true);
    wake_.notify_all();
}

void MqttSimGateway::SampleNow() {
    const Instant now = clock_();
    std::vector<std::string> readings;
    std::vector<const SimMqttMeter*> unanswered;
    for (const SimMqttMeter& m : meters_) {
        const std::optional<SimMeterReading> read = m.read();
        if (!read) {
            unanswered.push_back(&m);
            continue;
        }
        const SimMeterReading& r = *read;
        Json j = {{"meter", m.code},
                  {"time", FormatInstant(r.time.value_or(now))},
                  {"total", QuantityText(r.total)},
                  {"relay", r.relay},
                  {"valve", r.valve}};
        if (r.per_rate) {
            static constexpr std::array<const char*, kPeriodCount> kNames = {"sharp", "peak",
                                                                             "flat", "valley"};
            Json rates = Json::object();
            for (std::size_t i = 0; i < kNames.size(); ++i) {
                rates[kNames[i]] = QuantityText((*r.per_rate)[i]);
            }
            j["rates"] = rates;
        }
        if (r.hold) {
            j["hold"] = true;
        }
        if (r.battery_low) {
            j["battery_low"] = true;
        }
        if (!r.values.empty()) {
            Json values = Json::object();
            for (const auto& [key, value] : r.values) {
                values[key] = value;
            }
            j["values"] = values;
        }
        readings.push_back(j.dump());
    }
    for (const SimMqttMeter* m : unanswered) {
        stats_.unanswered.fetch_add(1);
        PublishEvent("rs485_timeout", m->bus_address.empty() ? m->code : m->bus_address,
                     "no answer on the bus");
    }
    std::lock_guard lock(mutex_);
    for (std::string& r : readings) {
        buffer_.push_back(std::move(r));
        stats_.sampled.fetch_add(1);
    }
    bus_requests_ += static_cast<int64_t>(meters_.size());
    bus_answered_ += static_cast<int64_t>(meters_.size() - unanswered.size());
    const auto steady_now = std::chrono::steady_clock::now();
    if (options_.bus_report_interval.count() > 0 && steady_now >= next_bus_report_ &&
        client_ != nullptr && connected_.load()) {
        next_bus_report_ = steady_now + options_.bus_report_interval;
        // One request per meter and read; the simulated bus answers at once or never, so it
        // reports no reply times.
        const std::string text = Json{{"state", "online"},
                                      {"bus",
                                       {{"requests", bus_requests_},
                                        {"answered", bus_answered_},
                                        {"timeouts", bus_requests_ - bus_answered_}}}}
                                     .dump();
        const std::string topic = Topic("up/status");
        (void)mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(text.size()),
                                text.data(), 1, /*retain=*/true);
    }
    // Drop the oldest beyond the bound, never the batch in flight.
    while (buffer_.size() > options_.max_buffered && buffer_.size() > inflight_count_) {
        buffer_.erase(buffer_.begin() + static_cast<std::ptrdiff_t>(inflight_count_));
        stats_.dropped.fetch_add(1);
    }
}

// Events are not buffered: one lost while the link is down is not worth re-sending.
void MqttSimGateway::PublishEvent(std::string_view kind, std::string_view meter,
                                  std::string_view detail) {
    if (client_ == nullptr || !connected_.load()) {
        return;
    }
    const std::string text = Json{{"kind", kind}, {"meter", meter}, {"detail", detail}}.dump();
    const std::string topic = Topic("up/event");
    (void)mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(text.size()),
                            text.data(), 1, false);
}

void MqttSimGateway::Flush() {
    std::lock_guard lock(mutex_);
    if (client_ == nullptr || !connected_.load() || inflight_mid_ || buffer_.empty()) {
        return;
    }
    const std::size_t n = std::min(buffer_.size(), options_.batch_size);
    std::string payload = R"({"batch_id":")" + options_.gateway + "-" +
                          std::to_string(next_batch_++) + R"(","readings":[)";
    for (std::size_t i = 0; i < n; ++i) {
        payload += (i == 0 ? "" : ",") + buffer_[i];
    }
    payload += "]}";
    const std::string topic = Topic("up/readings");
    int mid = 0;
    if (mosquitto_publish(client_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), 1, false) == MOSQ_ERR_SUCCESS) {
        inflight_mid_ = mid;
        inflight_count_ = n;
    }
}

void MqttSimGateway::OnPublished(int mid) {
    {
        std::lock_guard lock(mutex_);
        if (!inflight_mid_ || *inflight_mid_ != mid) {
            return;
        }
        buffer_.erase(buffer_.begin(),
                      buffer_.begin() + static_cast<std::ptrdiff_t>(inflight_count_));
        stats_.published.fetch_add(static_cast<int64_t>(inflight_count_));
        inflight_mid_.reset();
        inflight_count_ = 0;
    }
    wake_.notify_all();
}

void MqttSimGateway::OnCommand(std::string_view payload) {
    SimCommand c;
    try {
        const Json j = Json::parse(payload.begin(), payload.end());
        c.id = j.at("id").get<int64_t>();
        c.meter = j.value("meter", "");
        c.bus_address = j.value("bus_address", "");
        c.kind = j.at("kind").get<std::string>();
        c.params_json = j.contains("params") ? j["params"].dump() : "{}";
        if (j.contains("expires")) {
            auto expires = ParseInstant(j["expires"].get<std::string>(), "expires");
            if (!expires) {
                throw std::invalid_argument(expires.error().ToString());
            }
            c.expires = *expires;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "sim gateway %s: bad command: %s\n", options_.gateway.c_str(),
                     e.what());
        return;
    }
    SimCommandResult result;
    {
        std::lock_guard lock(mutex_);
        auto done = done_commands_.find(c.id);
        if (done != done_commands_.end()) {
            result = done->second;  // QoS 1 redelivery: ack again, do not execute twice
        } else if (c.expires && clock_() > *c.expires) {
            result = {false, "expired"};  // the protocol forbids executing it late
        } else {
            result = handler_ ? handler_(c) : SimCommandResult{false, "no handler"};
            stats_.commands.fetch_add(1);
            done_commands_[c.id] = result;
            if (done_commands_.size() > kMaxDoneCommands) {
                done_commands_.erase(done_commands_.begin());
            }
        }
    }
    Json ack = {{"id", c.id}, {"ok", result.ok}};
    if (!result.ok) {
        ack["error"] = result.error;
    }
    const std::string text = ack.dump();
    const std::string topic = Topic("up/ack");
    (void)mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(text.size()),
                            text.data(), 1, false);
}

std::size_t MqttSimGateway::buffered() const {
    std::lock_guard lock(mutex_);
    return buffer_.size();
}

}  // namespace joule::sim
