#include "app/bench_dtu.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/bench_support.hpp"
#include "app/site_file.hpp"
#include "codec/stream_scanner.hpp"
#include "ingest/runtime.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "sim/sim_meter.hpp"
#include "storage/sqlite_store.hpp"
#include "wire/model_json.hpp"

namespace joule::app {

namespace {

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

// Benchmarks measure wall time (bench_support.hpp) and memory; only this adapter reads them.

// VmRSS of this process in bytes (0 when /proc is unavailable).
std::int64_t RssBytes() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoll(line.substr(6)) * 1024;
    }
    return 0;
}

// Kernel memory of all TCP sockets on the host, in pages ("TCP: ... mem N" of /proc/net/sockstat).
// Not part of any process's RSS; shown so the socket buffers are not forgotten.
std::int64_t TcpMemPages() {
    std::ifstream in("/proc/net/sockstat");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("TCP:", 0) != 0)
            continue;
        const auto at = line.find(" mem ");
        return at == std::string::npos ? 0 : std::stoll(line.substr(at + 5));
    }
    return 0;
}

// Raises the soft descriptor limit to the hard one; returns the soft limit now in force.
std::int64_t RaiseFdLimit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return 0;
    limit.rlim_cur = limit.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
    (void)getrlimit(RLIMIT_NOFILE, &limit);
    return static_cast<std::int64_t>(limit.rlim_cur);
}

std::string Endpoint(int i) { return "BENCH" + std::to_string(i); }
std::string BusAddress(int i) {
    char text[16];
    std::snprintf(text, sizeof text, "%012d", i + 1);
    return text;
}

Status CreateBenchSite(const std::string& db_path, int n, const MeterModelRecord& model) {
    RemoveDb(db_path);
    JOULE_ASSIGN_OR_RETURN(auto store,
                           storage::SqliteStore::Open(db_path, {storage::Durability::kNormal}));
    SiteSpec site;
    site.project = {{}, "bench-dtu", "Bench DTU", std::string(kDefaultTimeZone)};
    site.models.push_back(model);
    for (int i = 0; i < n; ++i) {
        GatewayRecord g;
        g.code = "gw-" + std::to_string(i);
        g.name = g.code;
        g.transport = "dtu";
        g.endpoint = Endpoint(i);
        site.gateways.push_back(g);
        SiteSpec::Meter m;
        m.meter.code = "E-" + std::to_string(i);
        m.meter.bus_address = BusAddress(i);
        m.model_code = model.code;
        m.gateway_code = g.code;
        site.meters.push_back(m);
    }
    JOULE_ASSIGN_OR_RETURN(SiteSummary summary, CreateSite(*store, site, Actor{}, WallNow()));
    (void)summary;
    return {};
}

// N simulated DTUs on one Asio thread: connect, send "JOULE-DTU:BENCH<i>\r\n", then answer every
// request frame with a SimMeter (or, with answer = false, only hold the connection).
struct Fleet {
    asio::io_context io{1};
    uint16_t port = 0;
    int n = 0;
    bool answer = true;
    const codec::DeviceModel* model = nullptr;
    std::atomic<int> connecting{0};
    std::atomic<int> registered{0};
    std::atomic<int> failed{0};
    std::atomic<int> ended{0};
    std::atomic<int64_t> replies{0};
};

constexpr int kMaxConnectsInFlight = 200;  // stays well under the listen backlog

awaitable<void> Client(Fleet& f, int i) {
    tcp::socket socket(f.io);
    const tcp::endpoint server(asio::ip::address_v4::loopback(), f.port);
    auto [connect_error] = co_await socket.async_connect(server, asio::as_tuple(use_awaitable));
    --f.connecting;
    if (connect_error) {
        ++f.failed;
        co_return;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    const std::string registration = "JOULE-DTU:" + Endpoint(i) + "\r\n";
    auto registration_buffer = asio::buffer(registration);
    auto [write_error, written] =
        co_await asio::async_write(socket, registration_buffer, asio::as_tuple(use_awaitable));
    (void)written;
    if (write_error) {
        ++f.failed;
        co_return;
    }
    ++f.registered;
    auto meter = sim::SimMeter::Make(*f.model, BusAddress(i));
    codec::StreamScanner scanner(codec::StreamScannerOptions{.dlt645 = true});
    std::array<std::uint8_t, 512> in{};
    for (;;) {
        auto in_buffer = asio::buffer(in);
        auto [read_error, got] =
            co_await socket.async_read_some(in_buffer, asio::as_tuple(use_awaitable));
        if (read_error)
            break;
        if (!f.answer || !meter)
            continue;
        scanner.Feed(codec::ByteView(in.data(), got));
        bool lost = false;
        while (auto frame = scanner.Next()) {
            auto reply = meter->HandleFrame(frame->bytes);
            if (!reply)
                continue;
            auto reply_buffer = asio::buffer(*reply);
            auto [reply_error, sent] =
                co_await asio::async_write(socket, reply_buffer, asio::as_tuple(use_awaitable));
            (void)sent;
            if (reply_error) {
                lost = true;
                break;
            }
            ++f.replies;
        }
        if (lost)
            break;
    }
    ++f.ended;
}

awaitable<void> Launch(Fleet& f) {
    asio::steady_timer pause(f.io);
    for (int i = 0; i < f.n; ++i) {
        while (f.connecting.load() >= kMaxConnectsInFlight) {
            pause.expires_after(std::chrono::milliseconds(1));
            co_await pause.async_wait(use_awaitable);
        }
        ++f.connecting;
        asio::co_spawn(f.io, Client(f, i), asio::detached);
    }
}

// The client-only baseline's server: accepts and holds sockets, reads nothing.
struct BareServer {
    tcp::acceptor acceptor;
    std::vector<tcp::socket> held;
    explicit BareServer(asio::io_context& io)
        : acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
        acceptor.listen(asio::socket_base::max_listen_connections);
    }
};

awaitable<void> HoldAccepted(BareServer& s) {
    for (;;) {
        auto [error, socket] = co_await s.acceptor.async_accept(asio::as_tuple(use_awaitable));
        if (error == asio::error::operation_aborted)
            co_return;
        if (!error)
            s.held.push_back(std::move(socket));
    }
}

void PrintPerConnection(const char* what, std::int64_t before, std::int64_t after, int n) {
    std::printf("%-34s %.1f MiB -> %.1f MiB = %lld bytes per connection\n", what,
                static_cast<double>(before) / (1 << 20), static_cast<double>(after) / (1 << 20),
                static_cast<long long>((after - before) / std::max(n, 1)));
}

// The child of "process" mode: runs the fleet against the port the parent sends, reports its own
// memory once every client registered, and exits when the server closes the connections.
[[noreturn]] void RunChildFleet(int port_pipe, const DtuBenchOptions& o,
                                const codec::DeviceModel& model) {
    uint16_t port = 0;
    if (read(port_pipe, &port, sizeof port) != static_cast<ssize_t>(sizeof port) || port == 0)
        _exit(1);
    close(port_pipe);
    Fleet f;
    f.port = port;
    f.n = o.connections;
    f.model = &model;
    const std::int64_t before = RssBytes();
    asio::co_spawn(f.io, Launch(f), asio::detached);
    std::thread io([&f] { f.io.run(); });
    const bool up = WaitUntil([&f] { return f.registered + f.failed >= f.n; }, o.connect_timeout_s);
    const std::int64_t after = RssBytes();
    std::printf("client process: %d registered, %d failed%s\n", f.registered.load(),
                f.failed.load(), up ? "" : " (timed out)");
    PrintPerConnection("client side (SimMeter + socket)", before, after, f.registered);
    std::fflush(stdout);
    // Bounded: the server closes every link when it stops.
    (void)WaitUntil([&f] { return f.ended + f.failed >= f.n; }, o.hold_seconds + 120);
    f.io.stop();
    io.join();
    std::fflush(stdout);
    _exit(0);
}

}  // namespace

Status RunDtuBench(const DtuBenchOptions& o) {
    const int n = o.connections;
    if (n <= 0 || o.hold_seconds <= 0 || o.read_interval_s <= 0)
        return InvalidArgument("connections", "connections, hold and interval must be positive");
    if (o.clients != "process" && o.clients != "thread" && o.clients != "client-only")
        return InvalidArgument("clients", "process, thread or client-only");
    const std::int64_t fds = RaiseFdLimit();
    const std::int64_t needed = (o.clients == "process" ? n : 2 * n) + 64;
    std::printf("descriptor limit %lld, this mode needs about %lld\n", static_cast<long long>(fds),
                static_cast<long long>(needed));
    if (fds < needed) {
        return FailedPrecondition(
            "the descriptor limit (RLIMIT_NOFILE hard limit) is too low: raise it (ulimit -Hn) "
            "or use --clients process or fewer --connections",
            "connections");
    }
    JOULE_ASSIGN_OR_RETURN(
        wire::ParsedModel model,
        LoadModelFile(o.models_dir.empty() ? JOULE_DEFAULT_MODELS_DIR : o.models_dir,
                      "dlt645-2007-1p-prepaid"));
    if (!model.device)
        return InvalidArgument("model", "the model has no protocol map");

    if (o.clients == "client-only") {
        Fleet f;
        f.n = n;
        f.model = &*model.device;
        BareServer server(f.io);
        f.port = server.acceptor.local_endpoint().port();
        const std::int64_t before = RssBytes();
        const std::int64_t tcp_before = TcpMemPages();
        asio::co_spawn(f.io, HoldAccepted(server), asio::detached);
        asio::co_spawn(f.io, Launch(f), asio::detached);
        std::thread io([&f] { f.io.run(); });
        const bool up =
            WaitUntil([&f] { return f.registered + f.failed >= f.n; }, o.connect_timeout_s);
        std::this_thread::sleep_for(std::chrono::seconds(1));  // let the acceptor catch up
        const std::int64_t after = RssBytes();
        std::printf("client-only: %d registered, %d failed%s\n", f.registered.load(),
                    f.failed.load(), up ? "" : " (timed out)");
        PrintPerConnection("clients + bare acceptor", before, after, f.registered);
        std::printf("kernel TCP memory (all sockets)   %lld pages more\n",
                    static_cast<long long>(TcpMemPages() - tcp_before));
        asio::post(f.io, [&server] {
            boost::system::error_code ignored;
            server.acceptor.close(ignored);
            for (auto& s : server.held)
                s.close(ignored);
        });
        (void)WaitUntil([&f] { return f.ended + f.failed >= f.n; }, 30);
        f.io.stop();
        io.join();
        return {};
    }

    int port_pipe[2] = {-1, -1};
    pid_t child = -1;
    if (o.clients == "process") {
        if (pipe(port_pipe) != 0)
            return MakeError(ErrorCode::kUnavailable, "pipe failed", "clients");
        std::fflush(stdout);
        child = fork();
        if (child < 0)
            return MakeError(ErrorCode::kUnavailable, "fork failed", "clients");
        if (child == 0) {
            close(port_pipe[1]);
            RunChildFleet(port_pipe[0], o, *model.device);
        }
        close(port_pipe[0]);
    }

    const auto t_setup = SteadyClock::now();
    JOULE_TRY(CreateBenchSite(o.db_path, n, model.record));
    std::printf("setup: %d DTU gateways with one meter each in %.1f s\n", n, SecondsSince(t_setup));
    JOULE_ASSIGN_OR_RETURN(
        auto store,
        storage::SqliteStore::Open(o.db_path, {o.sync == "normal" ? storage::Durability::kNormal
                                                                  : storage::Durability::kFull}));
    std::printf("store durability: synchronous=%s\n", o.sync == "normal" ? "NORMAL" : "FULL");
    BillingService billing(*store);
    AcquisitionService acquisition(*store, billing);
    ingest::RuntimeOptions options;
    options.dtu_listen = "127.0.0.1:0";
    options.read_interval_override_s = o.read_interval_s;
    options.max_connections = static_cast<std::size_t>(n) + 16;
    ingest::Runtime runtime(*store, acquisition, options, WallNow);
    JOULE_TRY(runtime.Start());
    const uint16_t port = runtime.dtu_port();
    const auto& stats = runtime.stats();

    const std::int64_t before = RssBytes();
    const std::int64_t tcp_before = TcpMemPages();
    std::unique_ptr<Fleet> fleet;
    std::thread fleet_io;
    if (child > 0) {
        if (write(port_pipe[1], &port, sizeof port) != static_cast<ssize_t>(sizeof port))
            return MakeError(ErrorCode::kUnavailable, "pipe write failed", "clients");
        close(port_pipe[1]);
    } else {
        fleet = std::make_unique<Fleet>();
        fleet->port = port;
        fleet->n = n;
        fleet->model = &*model.device;
        asio::co_spawn(fleet->io, Launch(*fleet), asio::detached);
        fleet_io = std::thread([&fleet] { fleet->io.run(); });
    }
    const auto t_connect = SteadyClock::now();
    const bool up = WaitUntil([&] { return stats.connections.load() >= n; }, o.connect_timeout_s);
    const double connect_s = SecondsSince(t_connect);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::int64_t after = RssBytes();
    const std::int64_t tcp_after = TcpMemPages();
    std::printf("server: %lld of %d connections up in %.1f s%s\n",
                static_cast<long long>(stats.connections.load()), n, connect_s,
                up ? "" : " (timed out)");
    PrintPerConnection(child > 0 ? "server side (ingest::Runtime)" : "both ends, one process",
                       before, after, static_cast<int>(stats.connections.load()));
    std::printf("kernel TCP memory (all sockets)   %lld pages more (%lld bytes per connection)\n",
                static_cast<long long>(tcp_after - tcp_before),
                static_cast<long long>((tcp_after - tcp_before) * sysconf(_SC_PAGESIZE) /
                                       std::max<std::int64_t>(stats.connections.load(), 1)));

    const int64_t ok0 = stats.reads_ok.load();
    const int64_t failed0 = stats.reads_failed.load();
    const auto t_hold = SteadyClock::now();
    int64_t min_connections = stats.connections.load();
    while (SecondsSince(t_hold) < o.hold_seconds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
        min_connections = std::min(min_connections, stats.connections.load());
    }
    const double held_s = SecondsSince(t_hold);
    const int64_t ok = stats.reads_ok.load() - ok0;
    const int64_t failed = stats.reads_failed.load() - failed0;
    std::printf("held %.1f s, connections never below %lld, read interval %d s\n", held_s,
                static_cast<long long>(min_connections), o.read_interval_s);
    std::printf(
        "meter reads during the hold       %lld ok, %lld failed (%.0f reads/s; every "
        "meter due about %.1f times)\n",
        static_cast<long long>(ok), static_cast<long long>(failed),
        static_cast<double>(ok) / held_s, held_s / o.read_interval_s);
    std::printf("meter reads in total              %lld ok, %lld failed, %lld frames rejected\n",
                static_cast<long long>(stats.reads_ok.load()),
                static_cast<long long>(stats.reads_failed.load()),
                static_cast<long long>(stats.frames_rejected.load()));
    std::printf("peak RSS now                      %.1f MiB\n",
                static_cast<double>(RssBytes()) / (1 << 20));
    std::fflush(stdout);

    runtime.Stop();
    if (child > 0) {
        int status = 0;
        waitpid(child, &status, 0);
    } else {
        (void)WaitUntil([&] { return fleet->ended + fleet->failed >= n; }, 30);
        fleet->io.stop();
        fleet_io.join();
    }
    return {};
}

}  // namespace joule::app
