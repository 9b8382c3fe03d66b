// The MQTT gateway adapter: topic routing, strict JSON checks and the libmosquitto client.
// nlohmann-json throws; every call into it is inside Parse() below, which catches at the edge.
#include "ingest/mqtt_gateway.hpp"

#include <mosquitto.h>
#include <time.h>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/decimal.hpp"
#include "wire/json.hpp"

namespace joule::ingest {

using wire::Json;
using wire::ObjectReader;

struct MqttIngest::Route {
    std::string topic;
    ProjectRecord project;
    GatewayRecord gateway;
};

struct MqttIngest::Prepared {
    Route route;
    std::string batch_id;
    std::vector<MeterSample> samples;         // may be empty: every meter was unknown
    std::vector<std::string> unknown_meters;  // logged by the handling thread, in order
};

namespace {

std::once_flag lib_init;

int64_t ThreadCpuNs() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

Status MosqError(int rc, std::string_view what) {
    const ErrorCode code =
        rc == MOSQ_ERR_INVAL ? ErrorCode::kInvalidArgument : ErrorCode::kUnavailable;
    return MakeError(code, std::string(what) + ": " + mosquitto_strerror(rc));
}

// A failed service call is the store's fault, not the message's: reported as kInternal so the
// message is logged as "batch_failed" rather than "payload_rejected".
template <typename T>
T AsInternal(T s) {
    if (!s) {
        s.error().code = ErrorCode::kInternal;
    }
    return s;
}

Result<Json> Parse(std::string_view payload) {
    if (payload.size() > kMaxPayloadBytes) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "payload of " + std::to_string(payload.size()) + " bytes exceeds " +
                             std::to_string(kMaxPayloadBytes),
                         "(payload)");
    }
    try {
        Json j = Json::parse(payload.begin(), payload.end());
        if (!j.is_object()) {
            return InvalidArgument("(root)", "must be a JSON object");
        }
        return j;
    } catch (const Json::exception& e) {
        return InvalidArgument("(payload)", std::string("not JSON: ") + e.what());
    }
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t at = s.find(sep, start);
        out.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) {
            return out;
        }
        start = at + 1;
    }
}

Result<bool> RequiredBool(ObjectReader& r, std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, r.Value(key));
    if (!v->is_boolean()) {
        return InvalidArgument(r.PathOf(key), "must be true or false");
    }
    return v->get<bool>();
}

Result<RelayState> RelayOf(std::string_view text, const std::string& field) {
    if (text == "closed") {
        return RelayState::kClosed;
    }
    if (text == "open") {
        return RelayState::kOpen;
    }
    if (text == "unknown") {
        return RelayState::kUnknown;
    }
    return InvalidArgument(field, "must be \"closed\", \"open\" or \"unknown\"");
}

Result<ValveState> ValveOf(std::string_view text, const std::string& field) {
    if (text == "open") {
        return ValveState::kOpen;
    }
    if (text == "closed") {
        return ValveState::kClosed;
    }
    if (text == "abnormal") {
        return ValveState::kAbnormal;
    }
    if (text == "unknown") {
        return ValveState::kUnknown;
    }
    return InvalidArgument(field, "must be \"open\", \"closed\", \"abnormal\" or \"unknown\"");
}

// "values": short keys, decimal-string values; kept as compact JSON text.
Result<std::string> ValuesOf(const Json& values, const std::string& path) {
    if (values.size() > kMaxValuesPerReading) {
        return InvalidArgument(path, "at most 32 values");
    }
    for (const auto& [key, value] : values.items()) {
        const std::string field = path + "." + key;
        if (key.empty() || key.size() > 32) {
            return InvalidArgument(field, "keys are 1..32 characters");
        }
        if (!value.is_string() || value.get_ref<const std::string&>().size() > 32) {
            return InvalidArgument(field, "must be a decimal string");
        }
        JOULE_TRY(ParseScaled(value.get_ref<const std::string&>(), 9, field));
    }
    return values.dump();
}

struct ParsedReading {
    std::string meter;
    MeterSample sample;
};

Result<ParsedReading> ReadingOf(const Json& item, const std::string& path) {
    ObjectReader r(item, path);
    JOULE_TRY(r.Check());
    ParsedReading out;
    MeterSample& s = out.sample;
    JOULE_ASSIGN_OR_RETURN(out.meter, r.String("meter", 64));
    if (out.meter.empty()) {
        return InvalidArgument(r.PathOf("meter"), "must not be empty");
    }
    JOULE_ASSIGN_OR_RETURN(s.meter_time, r.InstantField("time"));
    if (r.Has("total")) {
        JOULE_ASSIGN_OR_RETURN(s.total, r.QuantityField("total"));
        if (s.total->milli < 0) {
            return InvalidArgument(r.PathOf("total"), "must not be negative");
        }
    }
    JOULE_ASSIGN_OR_RETURN(const Json* rates, r.OptObject("rates"));
    if (rates != nullptr) {
        ObjectReader rr(*rates, r.PathOf("rates"));
        static constexpr std::array<const char*, kPeriodCount> kNames = {"sharp", "peak", "flat",
                                                                         "valley"};
        for (std::size_t i = 0; i < kNames.size(); ++i) {
            JOULE_ASSIGN_OR_RETURN(s.per_rate[i], rr.QuantityField(kNames[i]));
        }
        JOULE_TRY(rr.Finish());
        s.has_per_rate = true;
    }
    JOULE_ASSIGN_OR_RETURN(std::string relay, r.OptString("relay", "unknown", 16));
    JOULE_ASSIGN_OR_RETURN(s.relay, RelayOf(relay, r.PathOf("relay")));
    JOULE_ASSIGN_OR_RETURN(std::string valve, r.OptString("valve", "unknown", 16));
    JOULE_ASSIGN_OR_RETURN(s.valve, ValveOf(valve, r.PathOf("valve")));
    JOULE_ASSIGN_OR_RETURN(s.hold, r.OptBool("hold", false));
    JOULE_ASSIGN_OR_RETURN(s.battery_low, r.OptBool("battery_low", false));
    JOULE_ASSIGN_OR_RETURN(s.backfill, r.OptBool("backfill", false));
    JOULE_ASSIGN_OR_RETURN(const Json* values, r.OptObject("values"));
    if (values != nullptr) {
        JOULE_ASSIGN_OR_RETURN(s.values_json, ValuesOf(*values, r.PathOf("values")));
    }
    JOULE_TRY(r.Finish());
    return out;
}

}  // namespace

// Meter keys as gateways send them: a meter's code, else its bus address (a meter with no bus
// address answers to its code), and only among the meters of the message's gateway — a gateway's
// credentials never reach another gateway's meters. Each gateway's meters are loaded once and kept
// until the registry stamp (meter and gateway counts and ids) changes: that is checked at most
// once per kStampCheck, at once after a miss of a new key, and at most once per kMissCheck for a
// key that missed before: a meter just added is found at once, and a gateway that keeps sending
// an unbound meter does not cost a store read per message.
// Meters are only ever added, so a new stamp covers every change. Used by the network thread
// (readings prepared ahead) and the handling thread, so it has its own lock; it reads the store
// on a read connection and never waits for the writer.
struct MqttIngest::MeterCache {
    static constexpr std::chrono::milliseconds kStampCheck{1000};
    static constexpr std::chrono::milliseconds kMissCheck{100};
    static constexpr std::size_t kMaxMissed = 10'000;
    using Index = std::unordered_map<std::string, MeterId>;
    struct GatewayMeters {
        Index by_code;
        Index by_bus;
    };
    std::unordered_map<int64_t, GatewayMeters> gateways;
    std::unordered_set<std::string> missed;  // keys not found since the stamp last changed
    std::string stamp;
    std::optional<std::chrono::steady_clock::time_point> checked;
    std::mutex mutex;  // guards everything above

    // The meter `key` names on `gateway`, code first.
    Result<std::optional<MeterId>> Find(Store& store, const GatewayRecord& gateway,
                                        const std::string& key) {
        std::lock_guard lock(mutex);
        return Lookup(store, gateway, key, [&](const GatewayMeters& m) {
            for (const Index* index : {&m.by_code, &m.by_bus}) {
                if (auto it = index->find(key); it != index->end()) {
                    return std::optional<MeterId>(it->second);
                }
            }
            return std::optional<MeterId>();
        });
    }

    // Whether a bus address is a meter of `gateway`.
    Result<bool> HasBus(Store& store, const GatewayRecord& gateway, const std::string& bus) {
        std::lock_guard lock(mutex);
        JOULE_ASSIGN_OR_RETURN(auto id, Lookup(store, gateway, bus, [&](const GatewayMeters& m) {
                                   const auto it = m.by_bus.find(bus);
                                   return it == m.by_bus.end() ? std::optional<MeterId>()
                                                               : std::optional<MeterId>(it->second);
                               }));
        return id.has_value();
    }

private:
    // `pick` on the gateway's meters; after a miss, once more if the registry changed.
    template <class Pick>
    Result<std::optional<MeterId>> Lookup(Store& store, const GatewayRecord& gateway,
                                          const std::string& key, Pick pick) {
        JOULE_TRY(CheckStamp(store, kStampCheck));
        JOULE_ASSIGN_OR_RETURN(const GatewayMeters* meters, MetersOf(store, gateway));
        if (auto id = pick(*meters)) {
            return id;
        }
        const bool new_miss = !missed.contains(key);
        JOULE_ASSIGN_OR_RETURN(
            bool changed, CheckStamp(store, new_miss ? std::chrono::milliseconds(0) : kMissCheck));
        std::optional<MeterId> id;
        if (changed) {
            JOULE_ASSIGN_OR_RETURN(meters, MetersOf(store, gateway));
            id = pick(*meters);
        }
        if (!id) {
            if (missed.size() >= kMaxMissed) {
                missed.clear();  // only a throttle: forgetting costs one store read per key
            }
            missed.insert(key);
        }
        return id;
    }

    // Drops everything when the stamp changed (checked when the last check is older than
    // `max_age`). Returns whether it did.
    Result<bool> CheckStamp(Store& store, std::chrono::milliseconds max_age) {
        const auto now = std::chrono::steady_clock::now();
        if (checked && now - *checked < max_age) {
            return false;
        }
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(std::string fresh, tx->RegistryStamp());
        checked = now;
        if (fresh == stamp) {
            return false;
        }
        gateways.clear();
        missed.clear();
        stamp = std::move(fresh);
        return true;
    }

    Result<const GatewayMeters*> MetersOf(Store& store, const GatewayRecord& gateway) {
        auto it = gateways.find(gateway.id.value);
        if (it == gateways.end()) {
            JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
            JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMetersOfGateway(gateway.id));
            GatewayMeters index;
            for (const MeterRecord& m : meters) {
                index.by_code.emplace(m.code, m.id);
                index.by_bus.emplace(m.bus_address.empty() ? m.code : m.bus_address, m.id);
            }
            it = gateways.emplace(gateway.id.value, std::move(index)).first;
        }
        return &it->second;
    }
};

// libmosquitto's callbacks run on its network thread.
struct MqttCallbacks {
    static void OnConnect(struct mosquitto* client, void* obj, int rc) {
        auto* self = static_cast<MqttIngest*>(obj);
        if (rc != 0) {
            std::fprintf(stderr, "mqtt: broker refused the connection: %s\n",
                         mosquitto_connack_string(rc));
            return;
        }
        self->connected_.store(true);
        const std::string filter = self->options_.topic_prefix + "/+/+/up/+";
        const int sub = mosquitto_subscribe(client, nullptr, filter.c_str(), self->options_.qos);
        if (sub != MOSQ_ERR_SUCCESS) {
            std::fprintf(stderr, "mqtt: subscribe %s failed: %s\n", filter.c_str(),
                         mosquitto_strerror(sub));
        }
    }
    static void OnDisconnect(struct mosquitto* /*client*/, void* obj, int /*rc*/) {
        static_cast<MqttIngest*>(obj)->connected_.store(false);
    }
    static void OnMessage(struct mosquitto* /*client*/, void* obj,
                          const struct mosquitto_message* message) {
        auto* self = static_cast<MqttIngest*>(obj);
        const std::string_view topic = message->topic == nullptr ? "" : message->topic;
        const std::string_view payload(
            static_cast<const char*>(message->payload),
            message->payload == nullptr ? 0U : static_cast<std::size_t>(message->payloadlen));
        self->Enqueue(topic, payload);
    }
};

std::string CommandTopic(std::string_view prefix, std::string_view project,
                         std::string_view gateway) {
    std::string t(prefix);
    t.append("/").append(project).append("/").append(gateway).append("/down/command");
    return t;
}

MqttIngest::MqttIngest(Store& store, AcquisitionService& service, MqttOptions options,
                       std::function<Instant()> clock)
    : store_(store),
      service_(service),
      options_(std::move(options)),
      clock_(std::move(clock)),
      meter_cache_(std::make_unique<MeterCache>()) {}

MqttIngest::~MqttIngest() { Stop(); }

Status MqttIngest::Start() {
    std::lock_guard lock(client_mutex_);
    if (started_) {
        return FailedPrecondition("the MQTT client is already started");
    }
    if (options_.qos < 0 || options_.qos > 2) {
        return InvalidArgument("mqtt.qos", "must be 0, 1 or 2");
    }
    if (options_.keepalive_s < 5 || options_.keepalive_s > 3600) {
        return InvalidArgument("mqtt.keepalive_s", "must be 5..3600");
    }
    if (options_.commit_gather_ms < 0 || options_.commit_gather_ms > 1000) {
        return InvalidArgument("mqtt.commit_gather_ms", "must be 0..1000");
    }
    if (options_.topic_prefix.empty() ||
        options_.topic_prefix.find_first_of("+#") != std::string::npos) {
        return InvalidArgument("mqtt.topic_prefix", "must be non-empty, without + or #");
    }
    std::call_once(lib_init, [] { mosquitto_lib_init(); });
    client_ = mosquitto_new(options_.client_id.c_str(), /*clean_session=*/false, this);
    if (client_ == nullptr) {
        return MakeError(ErrorCode::kInternal, "mosquitto_new failed");
    }
    auto fail = [this](int rc, std::string_view what) {
        mosquitto_destroy(client_);
        client_ = nullptr;
        return MosqError(rc, what);
    };
    int rc = mosquitto_int_option(client_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    if (rc != MOSQ_ERR_SUCCESS) {
        return fail(rc, "mqtt protocol version");
    }
    if (!options_.username.empty()) {
        rc = mosquitto_username_pw_set(client_, options_.username.c_str(),
                                       options_.password.c_str());
        if (rc != MOSQ_ERR_SUCCESS) {
            return fail(rc, "mqtt username");
        }
    }
    if (!options_.tls_cafile.empty() || !options_.tls_capath.empty()) {
        auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
        rc = mosquitto_tls_set(client_, opt(options_.tls_cafile), opt(options_.tls_capath),
                               opt(options_.tls_certfile), opt(options_.tls_keyfile), nullptr);
        if (rc != MOSQ_ERR_SUCCESS) {
            auto e = fail(rc, "mqtt TLS files");
            e.error().field = "mqtt.tls_cafile";
            return e;
        }
    }
    rc = mosquitto_reconnect_delay_set(client_, options_.reconnect_delay_s,
                                       options_.reconnect_delay_max_s, true);
    if (rc != MOSQ_ERR_SUCCESS) {
        return fail(rc, "mqtt reconnect delay");
    }
    mosquitto_connect_callback_set(client_, &MqttCallbacks::OnConnect);
    mosquitto_disconnect_callback_set(client_, &MqttCallbacks::OnDisconnect);
    mosquitto_message_callback_set(client_, &MqttCallbacks::OnMessage);
    rc = mosquitto_connect_async(client_, options_.host.c_str(), options_.port,
                                 options_.keepalive_s);
    if (rc == MOSQ_ERR_INVAL) {
        return fail(rc, "mqtt host/port");
    }
    {
        std::lock_guard q(queue_mutex_);
        stopping_ = false;
    }
    worker_ = std::thread([this] { WorkerLoop(); });
    // Any other failure (broker down) is retried by the network thread's reconnect loop.
    rc = mosquitto_loop_start(client_);
    if (rc != MOSQ_ERR_SUCCESS) {
        {
            std::lock_guard q(queue_mutex_);
            stopping_ = true;
        }
        queue_ready_.notify_all();
        worker_.join();
        return fail(rc, "mqtt network thread");
    }
    started_ = true;
    return {};
}

void MqttIngest::Stop() {
    std::lock_guard lock(client_mutex_);
    if (client_ == nullptr) {
        return;
    }
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);  // no message arrives after this
    {
        std::lock_guard q(queue_mutex_);
        stopping_ = true;
    }
    queue_ready_.notify_all();
    worker_.join();  // handles what is still queued first
    mosquitto_destroy(client_);
    client_ = nullptr;
    connected_.store(false);
    started_ = false;
}

Status MqttIngest::SendCommand(const CommandRecord& command, const MeterRecord& meter,
                               const GatewayRecord& gateway) {
    if (gateway.transport != "mqtt") {
        return InvalidArgument("gateway.transport", "gateway " + gateway.code + " is not MQTT");
    }
    std::string project_code;
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(gateway.project));
        project_code = project.code;
    }
    std::string payload;
    try {
        Json j = Json::object();
        j["id"] = command.id;
        j["meter"] = meter.code;
        j["bus_address"] = meter.bus_address.empty() ? meter.code : meter.bus_address;
        j["kind"] = command.kind;
        j["params"] = Json::parse(command.params.empty() ? std::string("{}") : command.params);
        if (command.expires_at > Instant{}) {
            j["expires"] = FormatInstant(command.expires_at);
        }
        payload = j.dump();
    } catch (const Json::exception& e) {
        return InvalidArgument("command.params", std::string("not JSON: ") + e.what());
    }
    const std::string topic = CommandTopic(options_.topic_prefix, project_code, gateway.code);
    std::lock_guard lock(client_mutex_);
    if (client_ == nullptr) {
        return MakeError(ErrorCode::kUnavailable, "the MQTT client is not started");
    }
    const int rc =
        mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), options_.qos, /*retain=*/false);
    if (rc != MOSQ_ERR_SUCCESS) {
        return MosqError(rc, "mqtt publish " + topic);
    }
    stats_.commands_sent.fetch_add(1);
    return {};
}

void MqttIngest::Log(GatewayId gateway, MeterId meter, std::string kind, std::string detail) {
    DeviceEventRecord e;
    e.at = clock_();
    e.gateway = gateway;
    e.meter = meter;
    e.kind = std::move(kind);
    e.detail = std::move(detail);
    if (e.detail.size() > 1024) {
        e.detail.resize(1024);
    }
    if (auto s = service_.LogDeviceEvent(e); !s) {
        stats_.store_errors.fetch_add(1);
        std::fprintf(stderr, "mqtt: device log: %s\n", s.error().ToString().c_str());
    }
}

Status MqttIngest::HandleMessage(std::string_view topic, std::string_view payload) {
    std::lock_guard lock(handle_mutex_);
    stats_.messages.fetch_add(1);
    Status s = HandleLocked(topic, payload);
    stats_.handled.fetch_add(1);
    return s;
}

namespace {

// <prefix>/<project>/<gateway>/up/<kind> as its four parts after the prefix, or nothing.
std::vector<std::string_view> TopicParts(std::string_view prefix, std::string_view topic) {
    const bool prefixed = topic.size() > prefix.size() &&
                          topic.substr(0, prefix.size()) == prefix && topic[prefix.size()] == '/';
    auto parts =
        prefixed ? Split(topic.substr(prefix.size() + 1), '/') : std::vector<std::string_view>{};
    if (parts.size() != 4 || parts[2] != "up" || parts[0].empty() || parts[1].empty()) {
        parts.clear();
    }
    return parts;
}

}  // namespace

Result<MqttIngest::Route> MqttIngest::RouteOf(std::string_view topic, std::string_view* kind) {
    const auto parts = TopicParts(options_.topic_prefix, topic);
    if (parts.empty()) {
        stats_.rejected.fetch_add(1);
        Log({}, {}, "payload_rejected", std::string(topic.substr(0, 256)) + ": unknown topic");
        return InvalidArgument("topic", "not <prefix>/<project>/<gateway>/up/<kind>");
    }
    Route route;
    route.topic = std::string(topic);
    auto found = FindRoute(parts[0], parts[1]);
    if (!found) {
        // The message cannot be routed, so it is not logged as a device event (the store is
        // failing anyway); it was already acknowledged to the broker.
        stats_.store_errors.fetch_add(1);
        std::fprintf(stderr, "mqtt: %s: message dropped, store error: %s\n", route.topic.c_str(),
                     found.error().ToString().c_str());
        return std::unexpected(std::move(found).error());
    }
    if (!*found) {
        stats_.rejected.fetch_add(1);
        Log({}, {}, "unknown_gateway",
            route.topic + ": no MQTT gateway " + std::string(parts[1]) + " in project " +
                std::string(parts[0]));
        return NotFound("no MQTT gateway " + std::string(parts[1]), "topic");
    }
    route.project = std::move((*found)->first);
    route.gateway = std::move((*found)->second);
    *kind = parts[3];
    return route;
}

Result<std::optional<std::pair<ProjectRecord, GatewayRecord>>> MqttIngest::FindRoute(
    std::string_view project_code, std::string_view gateway_code) {
    using Found = std::optional<std::pair<ProjectRecord, GatewayRecord>>;
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto project, tx->FindProject(project_code));
    if (!project) {
        return Found();
    }
    JOULE_ASSIGN_OR_RETURN(auto gateway, tx->FindGateway(project->id, gateway_code));
    if (!gateway || gateway->transport != "mqtt") {
        return Found();
    }
    return Found(std::in_place, std::move(*project), std::move(*gateway));
}

void MqttIngest::LogFailure(const Route& route, const Status& s) {
    if (!s && s.error().code != ErrorCode::kInternal && s.error().code != ErrorCode::kUnavailable) {
        stats_.rejected.fetch_add(1);
        Log(route.gateway.id, {}, "payload_rejected", route.topic + ": " + s.error().ToString());
    } else if (!s) {
        stats_.store_errors.fetch_add(1);
        Log(route.gateway.id, {}, "batch_failed", route.topic + ": " + s.error().ToString());
    }
}

Status MqttIngest::HandleLocked(std::string_view topic, std::string_view payload) {
    std::string_view kind;
    JOULE_ASSIGN_OR_RETURN(Route route, RouteOf(topic, &kind));
    Status s = Dispatch(route, kind, payload);
    LogFailure(route, s);
    return s;
}

// Runs on the network thread, before the message is queued: parsing a reading batch and finding
// its meters (a sixth of the work per reading) then overlaps the handling thread's commits, on
// the other core. Only what needs no store write is done here; anything that fails (an unknown
// topic or gateway, a malformed batch) is left to the handling thread, which redoes it and logs
// it in order as before.
std::unique_ptr<MqttIngest::Prepared> MqttIngest::PrepareAhead(std::string_view topic,
                                                               std::string_view payload) {
    const auto parts = TopicParts(options_.topic_prefix, topic);
    if (parts.empty() || parts[3] != "readings") {
        return nullptr;
    }
    auto found = FindRoute(parts[0], parts[1]);
    if (!found || !*found) {
        return nullptr;
    }
    const Route route{std::string(topic), std::move((*found)->first), std::move((*found)->second)};
    auto prepared = PrepareReadings(route, payload);
    if (!prepared) {
        return nullptr;
    }
    return std::make_unique<Prepared>(std::move(*prepared));
}

void MqttIngest::Enqueue(std::string_view topic, std::string_view payload) {
    std::unique_ptr<Prepared> prepared = PrepareAhead(topic, payload);
    std::unique_lock lock(queue_mutex_);
    if (queue_.size() >= kMaxQueuedMessages) {
        stats_.backpressure_waits.fetch_add(1);
        queue_room_.wait(lock, [this] { return queue_.size() < kMaxQueuedMessages; });
    }
    stats_.messages.fetch_add(1);
    queued_readings_ += prepared ? prepared->samples.size() : 0;
    queue_.push_back(
        {std::string(topic), prepared ? std::string() : std::string(payload), std::move(prepared)});
    // The worker waits for a first message, then for its gathering time or a full commit: it is
    // woken for those, not for every message in between.
    const bool wake = queue_.size() == 1 || GatheredEnough();
    lock.unlock();
    if (wake) {
        queue_ready_.notify_one();
    }
}

bool MqttIngest::GatheredEnough() const {
    return queued_readings_ >= kMaxReadingsPerCommit || queue_.size() >= kMaxQueuedMessages / 2;
}

void MqttIngest::WorkerLoop() {
    const auto gather = std::chrono::milliseconds(options_.commit_gather_ms);
    std::vector<Queued> drained;
    auto round_start = std::chrono::steady_clock::now() - gather;
    while (true) {
        {
            std::unique_lock lock(queue_mutex_);
            queue_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) {
                return;  // stopping, and everything was handled
            }
            // Behind (the last round took longer than `gather`) this does not wait at all.
            queue_ready_.wait_until(lock, round_start + gather,
                                    [this] { return stopping_ || GatheredEnough(); });
            drained.swap(queue_);
            queued_readings_ = 0;
        }
        round_start = std::chrono::steady_clock::now();
        queue_room_.notify_all();
        HandleDrained(drained);
        drained.clear();
    }
}

void MqttIngest::HandleDrained(std::vector<Queued>& drained) {
    std::lock_guard lock(handle_mutex_);
    std::vector<Prepared> pending;
    std::size_t pending_readings = 0;
    // Counted per commit (a backlog drained at once spans many), so the stats follow the load.
    auto wall_start = std::chrono::steady_clock::now();
    int64_t cpu_start = ThreadCpuNs();
    auto count_busy = [&] {
        const auto wall_now = std::chrono::steady_clock::now();
        const int64_t cpu_now = ThreadCpuNs();
        stats_.worker_busy_ns.fetch_add(
            std::chrono::duration_cast<std::chrono::nanoseconds>(wall_now - wall_start).count());
        stats_.worker_cpu_ns.fetch_add(cpu_now - cpu_start);
        wall_start = wall_now;
        cpu_start = cpu_now;
    };
    auto flush = [&] {
        CommitReadings(pending);
        pending.clear();
        pending_readings = 0;
        count_busy();
    };
    auto add = [&](Prepared&& p) {
        LogUnknownMeters(p);
        if (pending_readings + p.samples.size() > kMaxReadingsPerCommit) {
            flush();
        }
        pending_readings += p.samples.size();
        pending.push_back(std::move(p));
    };
    for (Queued& m : drained) {
        if (m.prepared) {
            add(std::move(*m.prepared));
            continue;
        }
        std::string_view kind;
        auto route = RouteOf(m.topic, &kind);
        if (!route) {
            stats_.handled.fetch_add(1);
            continue;
        }
        if (kind != "readings") {
            flush();  // in order: what came before is recorded first
            LogFailure(*route, Dispatch(*route, kind, m.payload));
            stats_.handled.fetch_add(1);
            continue;
        }
        auto prepared = PrepareReadings(*route, m.payload);
        if (!prepared) {
            LogFailure(*route, Status(std::unexpected(prepared.error())));
            stats_.handled.fetch_add(1);
            continue;
        }
        add(std::move(*prepared));
    }
    flush();
}

Status MqttIngest::Dispatch(const Route& route, std::string_view kind, std::string_view payload) {
    if (kind == "readings") {
        return HandleReadings(route, payload);
    }
    if (kind == "register") {
        return HandleRegister(route, payload);
    }
    if (kind == "status") {
        return HandleStatus(route, payload);
    }
    if (kind == "event") {
        return HandleEvent(route, payload);
    }
    if (kind == "ack") {
        return HandleAck(route, payload);
    }
    return InvalidArgument("topic", "unknown message kind " + std::string(kind.substr(0, 32)));
}

Status MqttIngest::HandleReadings(const Route& route, std::string_view payload) {
    JOULE_ASSIGN_OR_RETURN(Prepared p, PrepareReadings(route, payload));
    LogUnknownMeters(p);
    Status s = RecordBatches(std::span<Prepared>(&p, 1));
    if (!s) {
        return MakeError(ErrorCode::kInternal, "batch " + p.batch_id + " " + s.error().message);
    }
    return {};
}

Result<MqttIngest::Prepared> MqttIngest::PrepareReadings(const Route& route,
                                                         std::string_view payload) {
    JOULE_ASSIGN_OR_RETURN(Json j, Parse(payload));
    ObjectReader root(j, "");
    JOULE_ASSIGN_OR_RETURN(std::string batch_id, root.String("batch_id", 64));
    JOULE_ASSIGN_OR_RETURN(const Json* readings, root.Array("readings", kMaxReadingsPerBatch));
    JOULE_TRY(root.Finish());
    if (batch_id.empty()) {
        return InvalidArgument("batch_id", "must not be empty");
    }
    if (readings->empty()) {
        return InvalidArgument("readings", "must hold at least one reading");
    }
    // The whole batch is checked before anything is stored.
    std::vector<ParsedReading> parsed;
    parsed.reserve(readings->size());
    for (std::size_t i = 0; i < readings->size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(ParsedReading r,
                               ReadingOf((*readings)[i], "readings[" + std::to_string(i) + "]"));
        parsed.push_back(std::move(r));
    }
    const Instant now = clock_();
    Prepared out;
    out.route = route;
    out.batch_id = std::move(batch_id);
    out.samples.reserve(parsed.size());
    for (ParsedReading& r : parsed) {
        JOULE_ASSIGN_OR_RETURN(auto id,
                               AsInternal(meter_cache_->Find(store_, route.gateway, r.meter)));
        if (!id) {
            out.unknown_meters.push_back(std::move(r.meter));
            continue;
        }
        r.sample.meter = *id;
        r.sample.received = now;
        out.samples.push_back(std::move(r.sample));
    }
    return out;
}

void MqttIngest::LogUnknownMeters(const Prepared& p) {
    for (const std::string& meter : p.unknown_meters) {
        stats_.unknown_meters.fetch_add(1);
        Log(p.route.gateway.id, {}, "unknown_meter",
            p.route.topic + ": batch " + p.batch_id + ": no meter " + meter + " on gateway " +
                p.route.gateway.code);
    }
}

Status MqttIngest::RecordBatches(std::span<Prepared> group) {
    std::vector<MeterSample> samples;
    for (const Prepared& p : group) {
        samples.insert(samples.end(), p.samples.begin(), p.samples.end());
    }
    if (samples.empty()) {
        return {};
    }
    const Instant now = clock_();
    auto recorded = service_.Record(samples, now);
    if (!recorded) {
        return MakeError(ErrorCode::kInternal, "not recorded: " + recorded.error().ToString());
    }
    stats_.commits.fetch_add(1);
    stats_.readings.fetch_add(static_cast<int64_t>(samples.size()));
    if (on_recorded_) {
        std::vector<std::string> ids;
        ids.reserve(group.size());
        for (const Prepared& p : group) {
            ids.push_back(p.batch_id);
        }
        on_recorded_(ids, *recorded);
    }
    return {};
}

// Records the batches in one Record call (one transaction). When that fails, each batch is
// recorded on its own so only the batch at fault fails (logged as batch_failed).
void MqttIngest::CommitReadings(std::vector<Prepared>& batches) {
    if (batches.empty()) {
        return;
    }
    if (batches.size() > 1 && RecordBatches(batches)) {
        stats_.handled.fetch_add(static_cast<int64_t>(batches.size()));
        return;
    }
    for (Prepared& p : batches) {
        Status s = RecordBatches(std::span<Prepared>(&p, 1));
        if (!s) {
            LogFailure(p.route, MakeError(ErrorCode::kInternal,
                                          "batch " + p.batch_id + " " + s.error().message));
        }
        stats_.handled.fetch_add(1);
    }
}

Status MqttIngest::HandleRegister(const Route& route, std::string_view payload) {
    JOULE_ASSIGN_OR_RETURN(Json j, Parse(payload));
    ObjectReader root(j, "");
    JOULE_ASSIGN_OR_RETURN(std::string model, root.String("model", 64));
    JOULE_ASSIGN_OR_RETURN(std::string serial, root.String("serial", 64));
    JOULE_ASSIGN_OR_RETURN(std::string firmware, root.OptString("firmware", "", 64));
    JOULE_ASSIGN_OR_RETURN(const Json* list, root.Array("meters", kMaxRegisteredMeters));
    JOULE_TRY(root.Finish());
    struct Announced {
        std::string bus_address, model, serial;
    };
    std::vector<Announced> announced;
    for (std::size_t i = 0; i < list->size(); ++i) {
        ObjectReader m((*list)[i], "meters[" + std::to_string(i) + "]");
        JOULE_TRY(m.Check());
        Announced a;
        JOULE_ASSIGN_OR_RETURN(a.bus_address, m.String("bus_address", 64));
        JOULE_ASSIGN_OR_RETURN(a.model, m.OptString("model", "", 64));
        JOULE_ASSIGN_OR_RETURN(a.serial, m.OptString("serial", "", 64));
        JOULE_TRY(m.Finish());
        if (a.bus_address.empty()) {
            return InvalidArgument(m.PathOf("bus_address"), "must not be empty");
        }
        announced.push_back(std::move(a));
    }
    // Which announced meters are already registered, looked up before anything is logged.
    std::vector<bool> known(announced.size(), false);
    for (std::size_t i = 0; i < announced.size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(
            known[i], meter_cache_->HasBus(store_, route.gateway, announced[i].bus_address));
    }
    const Instant now = clock_();
    Log(route.gateway.id, {}, "gateway_registered",
        "model " + model + ", serial " + serial +
            (firmware.empty() ? "" : ", firmware " + firmware) + ", " +
            std::to_string(announced.size()) + " meter(s)");
    for (std::size_t i = 0; i < announced.size(); ++i) {
        const Announced& a = announced[i];
        if (known[i]) {
            continue;
        }
        PendingDeviceRecord d;
        d.project = route.project.id;
        d.gateway = route.gateway.id;
        d.bus_address = a.bus_address;
        d.model_code = a.model;
        d.serial = a.serial;
        d.first_seen = now;
        d.last_seen = now;
        JOULE_TRY(AsInternal(service_.RecordPendingDevice(d)));
    }
    return {};
}

namespace {

// A gateway's own bus counters, cumulative since it booted (gateway-protocol.md "status").
// Counters it adds later are ignored, not refused: newer firmware must not lose its link state.
Result<BusCounters> BusCountersOf(const Json& bus) {
    // 2^40 requests is centuries of polling; with replies of at most an hour it keeps
    // average x answered within int64.
    constexpr int64_t kMaxCount = int64_t{1} << 40;
    ObjectReader r(bus, "bus");
    JOULE_TRY(r.Check());
    BusCounters c;
    JOULE_ASSIGN_OR_RETURN(c.requests, r.Integer("requests", 0, kMaxCount));
    JOULE_ASSIGN_OR_RETURN(c.answered, r.Integer("answered", 0, kMaxCount));
    JOULE_ASSIGN_OR_RETURN(c.timeouts, r.OptInteger("timeouts", 0, 0, kMaxCount));
    JOULE_ASSIGN_OR_RETURN(c.retries, r.OptInteger("retries", 0, 0, kMaxCount));
    JOULE_ASSIGN_OR_RETURN(c.bad_frames, r.OptInteger("bad_frames", 0, 0, kMaxCount));
    JOULE_ASSIGN_OR_RETURN(c.meter_errors, r.OptInteger("meter_errors", 0, 0, kMaxCount));
    JOULE_ASSIGN_OR_RETURN(int64_t average_ms, r.OptInteger("average_ms", 0, 0, 3'600'000));
    JOULE_ASSIGN_OR_RETURN(c.reply_ms_max, r.OptInteger("max_ms", 0, 0, 3'600'000));
    if (c.answered > c.requests) {
        return InvalidArgument("bus.answered", "must not exceed bus.requests");
    }
    c.reply_ms_total = average_ms * c.answered;  // < 2^22 x 2^40
    return c;
}

}  // namespace

Status MqttIngest::HandleStatus(const Route& route, std::string_view payload) {
    JOULE_ASSIGN_OR_RETURN(Json j, Parse(payload));
    ObjectReader root(j, "");
    JOULE_ASSIGN_OR_RETURN(std::string state, root.String("state", 16));
    const Json* bus = nullptr;  // checked after the link is set
    if (root.Has("bus")) {
        JOULE_ASSIGN_OR_RETURN(bus, root.Value("bus"));
    }
    JOULE_TRY(root.Finish());
    if (state != "online" && state != "offline") {
        return InvalidArgument("state", "must be \"online\" or \"offline\"");
    }
    // The link first: counters the platform cannot read never cost the gateway its state.
    const Instant now = clock_();
    JOULE_TRY(AsInternal(service_.SetGatewayLink(route.gateway.id, state == "online", now)));
    if (bus == nullptr) {
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(BusCounters counters, BusCountersOf(*bus));  // logged by the caller
    if (bus_ != nullptr) {
        bus_->RecordReport(route.gateway.id, counters, now);
    }
    return {};
}

Status MqttIngest::HandleEvent(const Route& route, std::string_view payload) {
    JOULE_ASSIGN_OR_RETURN(Json j, Parse(payload));
    ObjectReader root(j, "");
    JOULE_ASSIGN_OR_RETURN(std::string kind, root.String("kind", 32));
    JOULE_ASSIGN_OR_RETURN(std::string meter, root.OptString("meter", "", 64));
    JOULE_ASSIGN_OR_RETURN(std::string detail, root.OptString("detail", "", 512));
    JOULE_TRY(root.Finish());
    if (kind.empty() ||
        kind.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos) {
        return InvalidArgument("kind", "must be 1..32 characters of [a-z0-9_]");
    }
    MeterId meter_id;
    if (!meter.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto found, meter_cache_->Find(store_, route.gateway, meter));
        meter_id = found.value_or(MeterId{});
    }
    Log(route.gateway.id, meter_id, "gateway_" + kind,
        (meter.empty() ? std::string() : "meter " + meter + ": ") + detail);
    return {};
}

Status MqttIngest::HandleAck(const Route& route, std::string_view payload) {
    JOULE_ASSIGN_OR_RETURN(Json j, Parse(payload));
    ObjectReader root(j, "");
    JOULE_ASSIGN_OR_RETURN(int64_t id, root.Integer("id", 1, std::numeric_limits<int64_t>::max()));
    JOULE_ASSIGN_OR_RETURN(bool ok, RequiredBool(root, "ok"));
    JOULE_ASSIGN_OR_RETURN(std::string error, root.OptString("error", "", 512));
    JOULE_TRY(root.Finish());
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
        auto command = tx->GetCommand(id);
        if (!command) {
            return NotFound("no command " + std::to_string(id), "id");
        }
        JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(command->meter));
        if (meter.gateway != route.gateway.id) {
            return MakeError(
                ErrorCode::kPermissionDenied,
                "command " + std::to_string(id) + " is not for gateway " + route.gateway.code,
                "id");
        }
    }
    stats_.acks.fetch_add(1);
    return AsInternal(service_.RecordCommandResult(
        id, ok, ok ? std::string_view{} : std::string_view(error), clock_()));
}

}  // namespace joule::ingest
