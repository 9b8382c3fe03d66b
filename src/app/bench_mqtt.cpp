#include "app/bench_mqtt.hpp"

#include <mosquitto.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "app/bench_support.hpp"
#include "app/mosquitto_broker.hpp"
#include "ingest/mqtt_auth.hpp"
#include "ingest/mqtt_gateway.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::app {

namespace {

// Benchmarks measure wall time (bench_support.hpp); only this adapter reads the clock. Timing
// math uses double.
int64_t NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               SteadyClock::now().time_since_epoch())
        .count();
}

constexpr int kReadingStepS = 5;       // meter time between two readings of a meter
constexpr int64_t kWhPerReading = 50;  // each reading's total grows by this
constexpr int kOpeningWh = 1'000'000;
const char* const kPrefix = "joule";
const char* const kProject = "bench-mqtt";

std::string GatewayCode(int g) { return "mgw-" + std::to_string(g); }
std::string GatewayPassword(int g) { return "secret-" + std::to_string(g); }
bool IsLow(int i, int per_mille) { return i % 1000 < per_mille; }

// The site: one project, G MQTT gateways with N/G meters each, N accounts. Low accounts get
// balances spread over 0.10 .. 2.50 yuan so alarms and trips happen during the run.
Status CreateTemplate(const std::string& path, const MqttBenchOptions& o, Instant start) {
    RemoveDb(path);
    JOULE_ASSIGN_OR_RETURN(auto store,
                           storage::SqliteStore::Open(path, {storage::Durability::kNormal}));
    SiteSpec site = BenchSite(kProject, "Bench MQTT", start - Seconds{30 * 86400});
    const int per_gw = o.meters / o.gateways;
    for (int g = 0; g < o.gateways; ++g) {
        GatewayRecord gw;
        gw.code = GatewayCode(g);
        gw.name = gw.code;
        gw.transport = "mqtt";
        gw.endpoint = gw.code;
        site.gateways.push_back(gw);
    }
    for (int i = 0; i < o.meters; ++i) {
        SiteSpec::Meter m;
        m.meter.code = MeterCode(i);
        m.model_code = "m";
        m.gateway_code = GatewayCode(i / per_gw);
        site.meters.push_back(m);
    }
    const auto t0 = SteadyClock::now();
    JOULE_TRY(CreateSite(*store, site, Actor{}, start));
    BillingService billing(*store);
    for (int i = 0; i < o.meters; ++i) {
        OpenAccountRequest open;
        open.project_code = kProject;
        open.number = "A" + std::to_string(i);
        open.tenant_name = "tenant";
        open.tariff_code = "flat";
        open.meters.push_back({MeterCode(i), Quantity{kOpeningWh}, std::nullopt});
        open.first_top_up =
            IsLow(i, o.low_per_mille) ? Money{10 + (i / 1000 % 60) * 4} : Money{100'000};
        open.opened_at = start;
        JOULE_TRY(billing.OpenAccount(open, Actor{}, start));
    }
    std::printf("setup: %d meters, %d gateways, %d accounts in %.1f s\n", o.meters, o.gateways,
                o.meters, SecondsSince(t0));
    return {};
}

// Message k of the stream: round k / per_round; within a round, gateway j % G, part j / G.
struct Stream {
    int gateways = 0;
    int per_gw = 0;
    int batch = 0;
    int parts = 0;  // messages per gateway per round
    Instant base;

    [[nodiscard]] int per_round() const { return gateways * parts; }
    [[nodiscard]] int GatewayOf(int64_t k) const {
        return static_cast<int>(k % per_round()) % gateways;
    }
    [[nodiscard]] std::string Topic(int64_t k) const {
        return std::string(kPrefix) + "/" + kProject + "/" + GatewayCode(GatewayOf(k)) +
               "/up/readings";
    }
    [[nodiscard]] std::string Payload(int64_t k) const {
        const int64_t round = k / per_round();
        const int j = static_cast<int>(k % per_round());
        const int g = j % gateways;
        const int part = j / gateways;
        const std::string time = FormatInstant(base + Seconds{round * kReadingStepS});
        std::string out;
        out.reserve(static_cast<std::size_t>(batch) * 72 + 32);
        out += "{\"batch_id\":\"b" + std::to_string(k) + "\",\"readings\":[";
        const int first = g * per_gw + part * batch;
        const int last = std::min(g * per_gw + per_gw, first + batch);
        char total[32];
        for (int i = first; i < last; ++i) {
            const int64_t wh = kOpeningWh + (round + 1) * kWhPerReading + i % 7;
            std::snprintf(total, sizeof total, "%lld.%03lld", static_cast<long long>(wh / 1000),
                          static_cast<long long>(wh % 1000));
            if (i != first) {
                out += ',';
            }
            out += "{\"meter\":\"" + MeterCode(i) + "\",\"time\":\"" + time + "\",\"total\":\"" +
                   total + "\",\"relay\":\"closed\"}";
        }
        out += "]}";
        return out;
    }
    [[nodiscard]] int ReadingsIn(int64_t k) const {
        const int part = static_cast<int>(k % per_round()) / gateways;
        return std::min(batch, per_gw - part * batch);
    }
};

// One libmosquitto client per gateway (the ACL lets a gateway publish only on its own topics),
// each with its own network thread.
struct Publishers {
    std::vector<struct mosquitto*> clients;
    std::atomic<int> connected{0};
    std::atomic<int64_t> acked{0};

    static void OnConnect(struct mosquitto* /*c*/, void* obj, int rc) {
        if (rc == 0) {
            static_cast<Publishers*>(obj)->connected.fetch_add(1);
        }
    }
    static void OnPublish(struct mosquitto* /*c*/, void* obj, int /*mid*/) {
        static_cast<Publishers*>(obj)->acked.fetch_add(1);
    }

    Status Start(uint16_t port, int gateways) {
        for (int g = 0; g < gateways; ++g) {
            const std::string id = "bench-pub-" + std::to_string(g);
            struct mosquitto* c = mosquitto_new(id.c_str(), true, this);
            if (c == nullptr) {
                return MakeError(ErrorCode::kInternal, "mosquitto_new failed");
            }
            clients.push_back(c);
            mosquitto_username_pw_set(c, GatewayCode(g).c_str(), GatewayPassword(g).c_str());
            mosquitto_connect_callback_set(c, &OnConnect);
            mosquitto_publish_callback_set(c, &OnPublish);
            if (mosquitto_connect(c, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS ||
                mosquitto_loop_start(c) != MOSQ_ERR_SUCCESS) {
                return MakeError(ErrorCode::kUnavailable, "publisher " + id + " cannot connect");
            }
        }
        return {};
    }
    Status Publish(const Stream& s, int64_t k) {
        const std::string topic = s.Topic(k);
        const std::string payload = s.Payload(k);
        const int rc = mosquitto_publish(clients[static_cast<std::size_t>(s.GatewayOf(k))], nullptr,
                                         topic.c_str(), static_cast<int>(payload.size()),
                                         payload.data(), 1, false);
        if (rc != MOSQ_ERR_SUCCESS) {
            return MakeError(ErrorCode::kUnavailable,
                             std::string("publish: ") + mosquitto_strerror(rc));
        }
        return {};
    }
    ~Publishers() {
        for (struct mosquitto* c : clients) {
            mosquitto_disconnect(c);
            mosquitto_loop_stop(c, false);
            mosquitto_destroy(c);
        }
    }
};

// The ceiling: a bare subscriber that only counts what it receives.
struct BareSubscriber {
    struct mosquitto* client = nullptr;
    std::atomic<bool> subscribed{false};
    std::atomic<int64_t> messages{0};
    std::atomic<int64_t> bytes{0};
    std::atomic<int64_t> last_ns{0};

    static void OnConnect(struct mosquitto* c, void* /*obj*/, int rc) {
        if (rc == 0) {
            const std::string filter = std::string(kPrefix) + "/+/+/up/+";
            (void)mosquitto_subscribe(c, nullptr, filter.c_str(), 1);
        }
    }
    static void OnSubscribe(struct mosquitto* /*c*/, void* obj, int /*mid*/, int /*n*/,
                            const int* /*granted*/) {
        static_cast<BareSubscriber*>(obj)->subscribed.store(true);
    }
    static void OnMessage(struct mosquitto* /*c*/, void* obj, const struct mosquitto_message* m) {
        auto* self = static_cast<BareSubscriber*>(obj);
        self->bytes.fetch_add(m->payloadlen);
        self->messages.fetch_add(1);
        self->last_ns.store(NowNs());
    }
    Status Start(uint16_t port, const std::string& password) {
        client = mosquitto_new("bench-bare-subscriber", true, this);
        if (client == nullptr) {
            return MakeError(ErrorCode::kInternal, "mosquitto_new failed");
        }
        mosquitto_username_pw_set(client, "joule-platform", password.c_str());
        mosquitto_connect_callback_set(client, &OnConnect);
        mosquitto_subscribe_callback_set(client, &OnSubscribe);
        mosquitto_message_callback_set(client, &OnMessage);
        if (mosquitto_connect(client, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS ||
            mosquitto_loop_start(client) != MOSQ_ERR_SUCCESS) {
            return MakeError(ErrorCode::kUnavailable, "bare subscriber cannot connect");
        }
        return {};
    }
    ~BareSubscriber() {
        if (client != nullptr) {
            mosquitto_disconnect(client);
            mosquitto_loop_stop(client, false);
            mosquitto_destroy(client);
        }
    }
};

// The machine's CPU time so far, from /proc/stat's first line: total and stolen (by the
// hypervisor), in clock ticks. On a shared VM a window with much steal is the host's, not ours.
struct CpuTicks {
    int64_t total = 0;
    int64_t steal = 0;
};
CpuTicks ReadCpuTicks() {
    CpuTicks out;
    std::FILE* f = std::fopen("/proc/stat", "r");
    if (f == nullptr) {
        return out;
    }
    std::array<long long, 8> v{};  // user nice system idle iowait irq softirq steal
    if (std::fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) == 8) {
        for (long long x : v) {
            out.total += x;
        }
        out.steal = v[7];
    }
    std::fclose(f);
    return out;
}
double StealPercent(const CpuTicks& from, const CpuTicks& to) {
    const int64_t total = to.total - from.total;
    return total > 0
               ? 100.0 * static_cast<double>(to.steal - from.steal) / static_cast<double>(total)
               : 0.0;
}

// Time per SQL text on one connection (sqlite3_trace_v2 PROFILE; a trigger's work counts in
// its statement). Only the connection's thread calls it.
struct SqlProfile {
    struct Cost {
        int64_t ns = 0;
        int64_t runs = 0;
    };
    std::map<std::string, Cost, std::less<>> by_sql;
    static int OnTrace(unsigned type, void* self, void* stmt, void* ns) {
        if (type == SQLITE_TRACE_PROFILE) {
            const char* sql = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
            Cost& c = static_cast<SqlProfile*>(self)->by_sql[sql != nullptr ? sql : "?"];
            c.ns += *static_cast<const sqlite3_int64*>(ns);
            ++c.runs;
        }
        return 0;
    }
    void Print(double seconds) const {
        std::vector<std::pair<std::string, Cost>> top(by_sql.begin(), by_sql.end());
        std::sort(top.begin(), top.end(),
                  [](const auto& a, const auto& b) { return a.second.ns > b.second.ns; });
        std::printf(
            "\nSQL on the writer's connection, costliest first (%% of the run's wall time, "
            "runs, us/run):\n");
        for (std::size_t i = 0; i < top.size() && i < 25; ++i) {
            const Cost& c = top[i].second;
            std::printf("  %5.1f %%  %9lld  %7.1f  %.110s\n",
                        100.0 * static_cast<double>(c.ns) / (seconds * 1e9),
                        static_cast<long long>(c.runs),
                        static_cast<double>(c.ns) / 1e3 / static_cast<double>(c.runs),
                        top[i].first.c_str());
        }
    }
};

double Percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
    return v[std::min(at, v.size() - 1)];
}

}  // namespace

Status RunMqttBench(const MqttBenchOptions& o) {
    if (o.meters <= 0 || o.gateways <= 0 || o.meters % o.gateways != 0 || o.batch <= 0 ||
        o.batch > static_cast<int>(ingest::kMaxReadingsPerBatch) || o.rate <= 0 || o.seconds <= 0) {
        return InvalidArgument(
            "bench mqtt", "meters a multiple of gateways, batch 1..1000, rate and seconds > 0");
    }
    if (o.sync != "full" && o.sync != "normal") {
        return InvalidArgument("--sync", "must be full or normal");
    }
    mosquitto_lib_init();  // reference counted by libmosquitto
    const Instant start = WallNow();

    // The store, from a cached template (setup is not what is measured).
    const std::string tmpl = o.db_path + ".template-" + std::to_string(o.meters) + "-" +
                             std::to_string(o.gateways) + "-" + std::to_string(o.low_per_mille);
    if (!std::filesystem::exists(tmpl)) {
        JOULE_TRY(CreateTemplate(tmpl + ".tmp", o, start - Seconds{7 * 86400}));
        {
            // Fold the WAL into the file so one copy is the whole database.
            JOULE_ASSIGN_OR_RETURN(
                auto s, storage::SqliteStore::Open(tmpl + ".tmp", {storage::Durability::kNormal}));
        }
        std::filesystem::rename(tmpl + ".tmp", tmpl);
    }
    RemoveDb(o.db_path);
    std::filesystem::copy_file(tmpl, o.db_path);
    JOULE_ASSIGN_OR_RETURN(
        auto store,
        storage::SqliteStore::Open(o.db_path, {o.sync == "full" ? storage::Durability::kFull
                                                                : storage::Durability::kNormal}));

    SqlProfile sql_profile;
    if (o.profile_sql) {
        sqlite3_trace_v2(store->handle(), SQLITE_TRACE_PROFILE, &SqlProfile::OnTrace, &sql_profile);
    }

    // The broker: loopback, a free port, generated credentials, persistence off (the bench
    // measures our ingest, not the broker's disk).
    char dir_template[] = "/tmp/joule-bench-mqtt-XXXXXX";
    if (::mkdtemp(dir_template) == nullptr) {
        return MakeError(ErrorCode::kUnavailable, "mkdtemp failed");
    }
    const std::string dir = dir_template;
    ingest::BrokerAuthOptions auth;
    auth.password_file = dir + "/passwd";
    auth.acl_file = dir + "/acl";
    auth.platform_password = "bench-platform";
    auth.mosquitto_passwd = o.mosquitto_passwd;
    for (int g = 0; g < o.gateways; ++g) {
        auth.gateway_passwords.emplace(GatewayCode(g), GatewayPassword(g));
    }
    JOULE_TRY(ingest::WriteMosquittoAuth(*store, auth));
    app::BrokerOptions broker_options;
    broker_options.dir = dir;
    broker_options.password_file = auth.password_file;
    broker_options.acl_file = auth.acl_file;
    broker_options.unlimited_queues = true;
    broker_options.mosquitto = o.mosquitto;
    MosquittoBroker broker;
    JOULE_TRY(broker.Start(broker_options));
    const uint16_t port = broker.port();

    Stream stream;
    stream.gateways = o.gateways;
    stream.per_gw = o.meters / o.gateways;
    stream.batch = o.batch;
    stream.parts = (stream.per_gw + o.batch - 1) / o.batch;
    const int64_t per_round_readings = o.meters;
    const int64_t total_readings = static_cast<int64_t>(o.rate) * o.seconds;
    const int64_t rounds = (total_readings + per_round_readings - 1) / per_round_readings;
    const int64_t messages = rounds * stream.per_round();
    // Meter times end before the run starts: readings are never in the future.
    stream.base = start - Seconds{(rounds + 2) * kReadingStepS + 600};
    std::vector<std::atomic<int64_t>> published_ns(static_cast<std::size_t>(messages));

    BillingService billing(*store);
    AcquisitionService acquisition(*store, billing);
    ingest::MqttOptions mo;
    mo.port = port;
    mo.username = "joule-platform";
    mo.password = auth.platform_password;
    mo.client_id = "joule-platform-bench";
    mo.commit_gather_ms = o.gather_ms.value_or(mo.commit_gather_ms);  // Start() checks the range
    auto ingest = std::make_unique<ingest::MqttIngest>(*store, acquisition, mo, WallNow);
    std::vector<double> latency;  // per batch, s; written on the handling thread only
    std::vector<double> alarm_latency;
    int64_t alarms = 0;
    int64_t commands = 0;
    // Stalls: gaps between two commits longer than kStall while publishing (time since start, s).
    constexpr double kStall = 0.5;
    int64_t last_commit_ns = 0;
    std::vector<std::pair<double, double>> stalls;
    std::atomic<int64_t> t0_ns{0};
    latency.reserve(static_cast<std::size_t>(messages));
    // All batches of one commit are committed at once; an alarm or command queued by that
    // commit is timed from the earliest-published batch in it (conservative).
    ingest->set_on_recorded([&](const std::vector<std::string>& ids, const RecordResult& r) {
        const int64_t now_ns = NowNs();
        if (last_commit_ns != 0) {
            const double gap = static_cast<double>(now_ns - last_commit_ns) / 1e9;
            if (gap > kStall) {
                stalls.emplace_back(static_cast<double>(now_ns - t0_ns.load()) / 1e9, gap);
            }
        }
        last_commit_ns = now_ns;
        double worst = 0;
        for (const std::string& id : ids) {
            const int64_t k = std::atoll(id.c_str() + 1);
            if (k < 0 || k >= messages) {
                continue;
            }
            const double s =
                static_cast<double>(now_ns - published_ns[static_cast<std::size_t>(k)].load()) /
                1e9;
            latency.push_back(s);
            worst = std::max(worst, s);
        }
        const auto raised = static_cast<int64_t>(r.billing.alarms_raised);
        const auto queued = static_cast<int64_t>(r.billing.commands);
        if (raised + queued > 0) {
            alarm_latency.push_back(worst);
            alarms += raised;
            commands += queued;
        }
    });
    JOULE_TRY(ingest->Start());
    if (!WaitUntil([&] { return ingest->connected(); }, 10)) {
        return MakeError(ErrorCode::kUnavailable, "MqttIngest did not connect");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the subscription is placed

    Publishers pubs;
    JOULE_TRY(pubs.Start(port, o.gateways));
    if (!WaitUntil([&] { return pubs.connected.load() == o.gateways; }, 30)) {
        return MakeError(ErrorCode::kUnavailable, "publishers did not connect");
    }
    std::printf(
        "broker 127.0.0.1:%u (persistence off), %lld messages of %d readings, %d/s "
        "for %d s, store sync %s, group commit every %d ms\n",
        port, static_cast<long long>(messages), o.batch, o.rate, o.seconds, o.sync.c_str(),
        mo.commit_gather_ms);
    std::fflush(stdout);

    // Publishing: message k is due at t0 + k * batch / rate.
    std::atomic<int64_t> sent{0};
    std::atomic<bool> publish_failed{false};
    const auto t0 = SteadyClock::now();
    t0_ns.store(NowNs());
    const double message_interval = static_cast<double>(o.batch) / o.rate;
    std::thread pacer([&] {
        for (int64_t k = 0; k < messages; ++k) {
            std::this_thread::sleep_until(
                t0 + std::chrono::duration_cast<SteadyClock::duration>(
                         std::chrono::duration<double>(static_cast<double>(k) * message_interval)));
            published_ns[static_cast<std::size_t>(k)].store(NowNs());
            if (!pubs.Publish(stream, k)) {
                publish_failed.store(true);
                return;
            }
            sent.fetch_add(1);
        }
    });
    // Every 10 s: readings committed in the window.
    std::vector<double> windows;
    int64_t last = 0;
    auto window_start = SteadyClock::now();
    const CpuTicks run_ticks = ReadCpuTicks();
    CpuTicks window_ticks = run_ticks;
    int64_t window_busy_ns = ingest->stats().worker_busy_ns.load();
    int64_t window_cpu_ns = ingest->stats().worker_cpu_ns.load();
    const double deadline = o.seconds + o.drain_timeout_s;
    while (ingest->stats().readings.load() + ingest->stats().rejected.load() * o.batch <
               total_readings &&
           SecondsSince(t0) < deadline && !publish_failed.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (SecondsSince(window_start) >= 10.0) {
            const int64_t now_readings = ingest->stats().readings.load();
            const double rate =
                static_cast<double>(now_readings - last) / SecondsSince(window_start);
            windows.push_back(rate);
            const CpuTicks ticks = ReadCpuTicks();
            const int64_t busy_ns = ingest->stats().worker_busy_ns.load();
            const int64_t cpu_ns = ingest->stats().worker_cpu_ns.load();
            const double window_ns = SecondsSince(window_start) * 1e9;
            std::printf(
                "  t=%5.0f s  %8.0f readings/s committed  (published %lld msgs, CPU steal %.0f "
                "%%, worker busy %.0f %%, its CPU %.0f %%)\n",
                SecondsSince(t0), rate, static_cast<long long>(sent.load()),
                StealPercent(window_ticks, ticks),
                100.0 * static_cast<double>(busy_ns - window_busy_ns) / window_ns,
                100.0 * static_cast<double>(cpu_ns - window_cpu_ns) / window_ns);
            window_ticks = ticks;
            window_busy_ns = busy_ns;
            window_cpu_ns = cpu_ns;
            std::fflush(stdout);
            last = now_readings;
            window_start = SteadyClock::now();
        }
    }
    const double ingest_s = SecondsSince(t0);
    const double run_steal = StealPercent(run_ticks, ReadCpuTicks());
    const double worker_busy =
        100.0 * static_cast<double>(ingest->stats().worker_busy_ns.load()) / (ingest_s * 1e9);
    const double worker_cpu =
        100.0 * static_cast<double>(ingest->stats().worker_cpu_ns.load()) / (ingest_s * 1e9);
    pacer.join();
    ingest->Stop();  // joins the handling thread: latency vectors are ours now
    // Read before ingest is destroyed for the ceiling run below.
    const int64_t committed = ingest->stats().readings.load();
    const int64_t rejected = ingest->stats().rejected.load();
    const int64_t store_errors = ingest->stats().store_errors.load();
    const int64_t commits = ingest->stats().commits.load();
    const int64_t backpressure_waits = ingest->stats().backpressure_waits.load();
    // Sustained: windows while publishing (the last partial window after it is left out).
    std::vector<double> sustained;
    for (std::size_t w = 0; w < windows.size(); ++w) {
        if (static_cast<double>(w + 1) * 10.0 <= o.seconds) {
            sustained.push_back(windows[w]);
        }
    }
    double avg = 0;
    for (double r : sustained) {
        avg += r / static_cast<double>(sustained.size());
    }
    const double min_window =
        sustained.empty() ? 0 : *std::min_element(sustained.begin(), sustained.end());
    const double overall = static_cast<double>(committed) / ingest_s;

    // The ceiling: the same messages drained by a bare subscriber, published as fast as it
    // drains (at most 200 messages in flight so the publishers' queues stay bounded).
    ingest.reset();
    BareSubscriber bare;
    JOULE_TRY(bare.Start(port, auth.platform_password));
    if (!WaitUntil([&] { return bare.subscribed.load(); }, 10)) {
        return MakeError(ErrorCode::kUnavailable, "bare subscriber did not subscribe");
    }
    const int64_t t1 = NowNs();
    for (int64_t k = 0; k < messages; ++k) {
        while (k - bare.messages.load() > 200) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
        JOULE_TRY(pubs.Publish(stream, k));
    }
    (void)WaitUntil([&] { return bare.messages.load() >= messages; }, 60);
    const double bare_s = static_cast<double>(bare.last_ns.load() - t1) / 1e9;
    const double bare_msgs = static_cast<double>(bare.messages.load()) / bare_s;
    const double bare_readings =
        static_cast<double>(bare.messages.load()) *
        (static_cast<double>(total_readings) / static_cast<double>(messages)) / bare_s;

    std::printf("\nmeters / gateways / readings per message   %d / %d / %d\n", o.meters, o.gateways,
                o.batch);
    std::printf("published                                  %lld messages, %lld readings\n",
                static_cast<long long>(sent.load()),
                static_cast<long long>(static_cast<int64_t>(sent.load()) * o.batch));
    std::printf(
        "committed                                  %lld readings in %.1f s "
        "(%.0f/s overall), %lld rejected msgs, %lld store errors\n",
        static_cast<long long>(committed), ingest_s, overall, static_cast<long long>(rejected),
        static_cast<long long>(store_errors));
    std::printf("CPU time stolen by the hypervisor          %.1f %%\n", run_steal);
    std::printf("handling thread busy / its CPU time        %.1f %% / %.1f %% of the run\n",
                worker_busy, worker_cpu);
    std::printf("commits (Record calls) / backpressure waits %lld / %lld\n",
                static_cast<long long>(commits), static_cast<long long>(backpressure_waits));
    if (o.profile_sql) {
        sqlite3_trace_v2(store->handle(), 0, nullptr, nullptr);
        sql_profile.Print(ingest_s);
    }
    const auto checkpoints = store->checkpoint_stats();
    std::printf("WAL checkpoints background / by the writer %lld / %lld\n",
                static_cast<long long>(checkpoints.background),
                static_cast<long long>(checkpoints.inline_));
    std::printf("gaps between commits > %.1f s              %zu", kStall, stalls.size());
    for (std::size_t i = 0; i < stalls.size() && i < 12; ++i) {
        std::printf("%s%.2f s at t=%.0f s", i == 0 ? ": " : ", ", stalls[i].second,
                    stalls[i].first);
    }
    std::printf("\n");
    std::printf(
        "sustained per 10 s window while publishing  min %.0f / avg %.0f readings/s "
        "(%zu windows)\n",
        min_window, avg, sustained.size());
    std::printf(
        "publish -> committed per batch             p50 %.3f s / p99 %.3f s / max "
        "%.3f s (%zu batches)\n",
        Percentile(latency, 0.5), Percentile(latency, 0.99), Percentile(latency, 1.0),
        latency.size());
    std::printf(
        "alarms raised / commands queued            %lld / %lld in %zu batches; "
        "reading -> queued p50 %.3f s / p99 %.3f s\n",
        static_cast<long long>(alarms), static_cast<long long>(commands), alarm_latency.size(),
        Percentile(alarm_latency, 0.5), Percentile(alarm_latency, 0.99));
    std::printf(
        "bare subscriber (ceiling)                  %lld messages in %.2f s = %.0f "
        "msgs/s = %.0f readings/s\n",
        static_cast<long long>(bare.messages.load()), bare_s, bare_msgs, bare_readings);
    std::printf("ingest sustained avg / ceiling             %.2f (ingest paced at %d/s)\n",
                avg / bare_readings, o.rate);
    std::filesystem::remove_all(dir);
    return {};
}

}  // namespace joule::app
