#include "ingest/runtime.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <array>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <thread>

#include "base/host_port.hpp"
#include "codec/meter_driver.hpp"
#include "core/time.hpp"
#include "wire/command_params.hpp"
#include "wire/meter_time.hpp"
#include "wire/model_json.hpp"

namespace joule::ingest {

using wire::FromMeterTime;
using wire::ToMeterTime;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t kModbusTcpPort = 502;  // a polled gateway's endpoint without a port
constexpr std::size_t kReadChunkBytes = 1024;
constexpr std::size_t kMaxRegistrationBytes = 256;
constexpr std::chrono::milliseconds kIdleReadSlice{250};
// Backfill [DEV-7]: at most this many daily freezes are read after an outage (a meter keeps
// 7..62), and an outage is a gap since the last good read of more than this many read intervals.
constexpr int kMaxBackfillFreezes = 31;
constexpr int kOutageAfterReads = 2;

// One physical device on a bus: a meter, or a multi-circuit box whose circuits are meters.
struct Device {
    std::string bus_address;
    const codec::DeviceModel* model = nullptr;
    std::vector<MeterRecord> circuits;  // by circuit index; id invalid where unconfigured
};

struct GatewayState {
    GatewayRecord record;
    const Zone* zone = nullptr;
    int64_t read_interval_s = 1800;
    std::vector<Device> devices;
    std::deque<CommandRecord> commands;
    SteadyClock::time_point next_poll{};
    std::shared_ptr<tcp::socket> socket;  // the live link, if any
    uint16_t sequence = 0;
    // Devices (by bus address) to check for missed readings at their next good read: every
    // device when the link comes up, and a device whose read failed [DEV-7].
    std::set<std::string> catch_up;
    SteadyClock::time_point next_time_sync{};  // daily broadcast time sync (DL/T 645)
    SteadyClock::time_point last_forced_sync{};
    bool discovered = false;  // read-address scan done on this link [HIER-4]

    // A transparent bus that carries (or may carry: no devices yet) DL/T 645-2007 meters.
    [[nodiscard]] bool Dlt645Bus() const {
        if (framing() == codec::ModbusFraming::kMbap)
            return false;
        if (devices.empty())
            return record.transport == "dtu";
        for (const Device& d : devices) {
            if (d.model->protocol == codec::Protocol::kDlt645_2007)
                return true;
        }
        return false;
    }

    [[nodiscard]] codec::ModbusFraming framing() const {
        return record.framing == "mbap" ? codec::ModbusFraming::kMbap : codec::ModbusFraming::kRtu;
    }
    [[nodiscard]] codec::StreamScannerOptions ScannerOptions() const {
        codec::StreamScannerOptions o;
        o.dlt645 = Dlt645Bus();
        for (const Device& d : devices) {
            switch (d.model->protocol) {
                case codec::Protocol::kDlt645_2007:
                case codec::Protocol::kDlt645_1997:
                    o.dlt645 = true;
                    break;
                case codec::Protocol::kCjt188:
                    o.cjt188 = true;
                    break;
                case codec::Protocol::kModbusRtu:
                    (framing() == codec::ModbusFraming::kMbap ? o.modbus_tcp : o.modbus_rtu) = true;
                    break;
            }
        }
        return o;
    }
};

// kWh, m3 as decimals -> Wh, L (three places).
std::optional<Quantity> ToQuantity(std::optional<codec::Decimal> value) {
    std::int64_t milli = 0;
    if (!value || !codec::Rescale(*value, 3, &milli) || milli < 0)
        return std::nullopt;
    return Quantity{milli};
}

MeterSample ToSample(const Device& device, const codec::DeviceReading& reading, int circuit,
                     const Zone& zone, Instant now) {
    MeterSample s;
    s.meter = device.circuits[static_cast<std::size_t>(circuit)].id;
    s.received = now;
    s.meter_time = now;
    if (reading.meter_clock && codec::IsValid(*reading.meter_clock)) {
        s.meter_time = FromMeterTime(zone, *reading.meter_clock);
        s.meter_clock = true;
    }
    s.total = ToQuantity(reading.Find(circuit, codec::BillingRegister(*device.model)));
    auto sharp = ToQuantity(reading.Find(circuit, codec::Point::kEnergySharp));
    auto peak = ToQuantity(reading.Find(circuit, codec::Point::kEnergyPeak));
    auto flat = ToQuantity(reading.Find(circuit, codec::Point::kEnergyFlat));
    auto valley = ToQuantity(reading.Find(circuit, codec::Point::kEnergyValley));
    if (sharp && peak && flat && valley) {
        s.has_per_rate = true;
        s.per_rate = PerPeriod<Quantity>{*sharp, *peak, *flat, *valley};
    }
    if (auto closed = codec::RelayClosed(reading, circuit)) {
        s.relay = *closed ? RelayState::kClosed : RelayState::kOpen;
    }
    s.hold = codec::HoldPower(reading, circuit).value_or(false);
    if (auto valve = reading.Find(circuit, codec::Point::kValveState)) {
        s.valve = valve->mantissa == 0   ? ValveState::kOpen
                  : valve->mantissa == 1 ? ValveState::kClosed
                                         : ValveState::kAbnormal;
    }
    if (auto battery = reading.Find(circuit, codec::Point::kBatteryLow)) {
        s.battery_low = battery->mantissa != 0;
    }
    // In-meter purse [ACCT-1]: the remaining amount (negative by the overdraft once it is used)
    // and the purchase count, mirrored on a meter-billing account.
    std::int64_t fen = 0;
    if (auto balance = reading.Find(circuit, codec::Point::kBalance);
        balance && codec::Rescale(*balance, 2, &fen)) {
        std::int64_t overdraft = 0;
        auto over = reading.Find(circuit, codec::Point::kOverdraft);
        if (fen == 0 && over && codec::Rescale(*over, 2, &overdraft))
            fen = -overdraft;
        s.in_meter_remaining = Money{fen};
    }
    std::int64_t count = 0;
    if (auto purchases = reading.Find(circuit, codec::Point::kPurchaseCount);
        purchases && codec::Rescale(*purchases, 0, &count) && count >= 0) {
        s.purchase_count = count;
    }
    nlohmann::json values = nlohmann::json::object();
    for (const codec::PointValue& v : reading.circuits[static_cast<std::size_t>(circuit)]) {
        values[std::string(codec::PointName(v.point))] = codec::FormatDecimal(v.value);
    }
    if (reading.meter_clock)
        values["meter_clock"] = codec::FormatMeterDateTime(*reading.meter_clock);
    s.values_json = values.dump();
    return s;
}

}  // namespace

struct Runtime::Impl {
    Store& store;
    AcquisitionService& service;
    RuntimeOptions options;
    std::function<Instant()> clock;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::thread thread;
    std::regex registration;
    CommandSink* sink = nullptr;
    RuntimeStats stats;
    BusStatistics own_bus;
    BusStatistics* bus = &own_bus;
    uint16_t port = 0;
    bool stopping = false;

    // The registry: loaded from the store, used on the I/O thread only.
    std::map<int64_t, std::shared_ptr<GatewayState>> gateways;  // by id
    std::map<std::string, int64_t> dtu_endpoints;               // registration id -> gateway
    std::map<int64_t, int64_t> meter_gateway;                   // meter -> gateway
    std::map<int64_t, codec::DeviceModel> models;               // by model id
    std::map<std::string, std::unique_ptr<Zone>> zones;
    std::set<int64_t> outbound_started;  // gateways with an OutboundLoop running

    Impl(Store& s, AcquisitionService& a, RuntimeOptions o, std::function<Instant()> c)
        : store(s), service(a), options(std::move(o)), clock(std::move(c)) {}

    void Log(GatewayId gateway, MeterId meter, std::string kind, std::string detail) {
        (void)service.LogDeviceEvent(
            DeviceEventRecord{0, clock(), gateway, meter, std::move(kind), std::move(detail)});
    }

    Status LoadRegistry();
    void StartOutbound();
    awaitable<void> AcceptLoop();
    awaitable<void> DtuSession(tcp::socket socket);
    awaitable<void> OutboundLoop(std::shared_ptr<GatewayState> gateway);
    awaitable<void> RunLink(std::shared_ptr<GatewayState> gateway,
                            std::shared_ptr<tcp::socket> socket);
    awaitable<Result<codec::Bytes>> Exchange(GatewayState& gateway, tcp::socket& socket,
                                             codec::StreamScanner& scanner,
                                             const codec::Exchange& exchange);
    awaitable<Result<codec::Bytes>> Await(tcp::socket& socket, codec::StreamScanner& scanner,
                                          const codec::Exchange& exchange);
    // A reply that arrived but was refused (it did not fit the request).
    void Rejected(GatewayState& gateway) {
        ++stats.frames_rejected;
        bus->RecordBadFrame(gateway.record.id, clock());
    }
    awaitable<Status> PollDevice(GatewayState& gateway, tcp::socket& socket,
                                 codec::StreamScanner& scanner, const Device& device,
                                 std::vector<MeterSample>& samples);
    awaitable<Result<codec::Bytes>> ExchangeWithRetries(GatewayState& gateway, tcp::socket& socket,
                                                        codec::StreamScanner& scanner,
                                                        const codec::Exchange& exchange);
    awaitable<Status> Backfill(GatewayState& gateway, tcp::socket& socket,
                               codec::StreamScanner& scanner, const Device& device,
                               std::vector<MeterSample>& samples);
    awaitable<Status> RunCommand(GatewayState& gateway, tcp::socket& socket,
                                 codec::StreamScanner& scanner, const CommandRecord& command);
    awaitable<Status> RunPurchase(GatewayState& gateway, tcp::socket& socket,
                                  codec::StreamScanner& scanner, const Device& device,
                                  const CommandRecord& command, codec::DeviceCommand request);
    awaitable<void> DispatchLoop();
    awaitable<void> RegistryWatch();
    std::string registry_stamp;
    awaitable<Status> LinkHousekeeping(GatewayState& gateway, tcp::socket& socket,
                                       codec::StreamScanner& scanner);
};

Status Runtime::Impl::LoadRegistry() {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto all_models, tx->ListModels());
    // Models are only ever added: links may hold plans that point at them.
    for (const MeterModelRecord& m : all_models) {
        auto device = wire::DeviceModelFromDefinition(m.definition);
        if (device)
            models.try_emplace(m.id.value, std::move(*device));
    }
    JOULE_ASSIGN_OR_RETURN(registry_stamp, tx->RegistryStamp());
    JOULE_ASSIGN_OR_RETURN(auto records, tx->ListGateways());
    std::map<int64_t, std::shared_ptr<GatewayState>> next;
    dtu_endpoints.clear();
    meter_gateway.clear();
    for (const GatewayRecord& g : records) {
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(g.project));
        auto zone = zones.find(project.time_zone);
        if (zone == zones.end()) {
            JOULE_ASSIGN_OR_RETURN(Zone loaded, Zone::Load(project.time_zone));
            zone =
                zones.emplace(project.time_zone, std::make_unique<Zone>(std::move(loaded))).first;
        }
        auto existing = gateways.find(g.id.value);
        auto state =
            existing != gateways.end() ? existing->second : std::make_shared<GatewayState>();
        state->record = g;
        state->zone = zone->second.get();
        state->read_interval_s = options.read_interval_override_s > 0
                                     ? options.read_interval_override_s
                                     : project.read_interval_s;
        state->devices.clear();
        JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMetersOfGateway(g.id));
        for (const MeterRecord& m : meters) {
            auto model = models.find(m.model.value);
            if (model == models.end())
                continue;  // bill-only model: not acquired
            meter_gateway[m.id.value] = g.id.value;
            const std::string address = m.bus_address.empty() ? m.code : m.bus_address;
            auto device = std::find_if(state->devices.begin(), state->devices.end(),
                                       [&](const Device& d) { return d.bus_address == address; });
            if (device == state->devices.end()) {
                state->devices.push_back(Device{address, &model->second, {}});
                device = state->devices.end() - 1;
                device->circuits.resize(static_cast<std::size_t>(model->second.circuits));
            }
            if (m.circuit >= 0 && m.circuit < model->second.circuits) {
                device->circuits[static_cast<std::size_t>(m.circuit)] = m;
            }
        }
        if (g.transport == "dtu" && !g.endpoint.empty())
            dtu_endpoints[g.endpoint] = g.id.value;
        next[g.id.value] = state;
    }
    gateways = std::move(next);
    return {};
}

// One request and its reply, counted in the bus statistics when a reply is expected.
awaitable<Result<codec::Bytes>> Runtime::Impl::Exchange(GatewayState& gateway, tcp::socket& socket,
                                                        codec::StreamScanner& scanner,
                                                        const codec::Exchange& exchange) {
    scanner.Reset();  // bytes from before this request cannot answer it
    const codec::StreamScannerCounters before = scanner.counters();
    const auto started = SteadyClock::now();
    auto reply = co_await Await(socket, scanner, exchange);
    if (exchange.expects_reply) {
        const codec::StreamScannerCounters& after = scanner.counters();
        const ExchangeOutcome outcome =
            reply ? ExchangeOutcome::kAnswered
                  : (reply.error().code == ErrorCode::kUnavailable ? ExchangeOutcome::kLinkLost
                                                                   : ExchangeOutcome::kTimedOut);
        bus->RecordExchange(
            gateway.record.id, outcome,
            std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started),
            static_cast<int64_t>(after.discarded_bytes - before.discarded_bytes),
            static_cast<int64_t>(after.checksum_failures - before.checksum_failures), clock());
    }
    co_return reply;
}

awaitable<Result<codec::Bytes>> Runtime::Impl::Await(tcp::socket& socket,
                                                     codec::StreamScanner& scanner,
                                                     const codec::Exchange& exchange) {
    if (exchange.rtu)
        scanner.ExpectModbusRtu(*exchange.rtu);
    auto [write_error, written] = co_await asio::async_write(socket, asio::buffer(exchange.request),
                                                             asio::as_tuple(use_awaitable));
    (void)written;
    if (write_error) {
        co_return MakeError(ErrorCode::kUnavailable, "write failed: " + write_error.message());
    }
    if (!exchange.expects_reply)
        co_return codec::Bytes{};
    const auto deadline = SteadyClock::now() + options.request_timeout;
    std::array<std::uint8_t, kReadChunkBytes> buffer{};
    asio::steady_timer timer(socket.get_executor());
    while (true) {
        while (auto frame = scanner.Next()) {
            if (frame->kind == exchange.reply_kind)
                co_return std::move(frame->bytes);
        }
        if (SteadyClock::now() >= deadline) {
            co_return MakeError(
                ErrorCode::kDeadlineExceeded,
                "no reply within " + std::to_string(options.request_timeout.count()) + " ms");
        }
        timer.expires_at(deadline);
        auto result =
            co_await (socket.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable)) ||
                      timer.async_wait(asio::as_tuple(use_awaitable)));
        if (result.index() == 1) {
            scanner.MarkIdle();
            continue;
        }
        auto [read_error, n] = std::get<0>(result);
        if (read_error) {
            co_return MakeError(ErrorCode::kUnavailable, "link lost: " + read_error.message());
        }
        scanner.Feed(codec::ByteView(buffer.data(), n));
    }
}

awaitable<Status> Runtime::Impl::PollDevice(GatewayState& gateway, tcp::socket& socket,
                                            codec::StreamScanner& scanner, const Device& device,
                                            std::vector<MeterSample>& samples) {
    auto plan = codec::ReadPlan::Make(*device.model, device.bus_address, gateway.framing());
    if (!plan) {
        Log(gateway.record.id, device.circuits[0].id, "bad_address", plan.error().ToString());
        co_return Status{};
    }
    codec::DeviceReading reading;
    auto read_failed = [&](const Error& why) {
        ++stats.reads_failed;
        gateway.catch_up.insert(device.bus_address);
        for (const MeterRecord& m : device.circuits) {
            if (m.id.valid())
                (void)service.RecordReadFailure(m.id, why.ToString(), clock());
        }
    };
    // A device that answered every request with an error (a Modbus-TCP gateway's "target device
    // failed to respond" for a dead meter) gave no reading at all: that read failed.
    bool answered = false;
    Error refused{ErrorCode::kFailedPrecondition, "no request answered", ""};
    for (std::size_t i = 0; i < plan->size(); ++i) {
        Error last{ErrorCode::kDeadlineExceeded, "no attempt", ""};
        bool ok = false;
        for (int attempt = 0; attempt <= options.retries && !ok; ++attempt) {
            if (attempt > 0)
                bus->RecordRetry(gateway.record.id, clock());
            const uint16_t sequence = ++gateway.sequence;
            auto request = plan->Request(i, sequence);
            if (!request)
                co_return std::unexpected(request.error());
            auto reply = co_await Exchange(gateway, socket, scanner, *request);
            if (!reply) {
                if (reply.error().code == ErrorCode::kUnavailable) {
                    co_return std::unexpected(reply.error());
                }
                last = reply.error();
                continue;
            }
            auto applied = plan->Apply(i, sequence, *reply, reading);
            if (applied) {
                ok = true;
            } else if (applied.error().code == ErrorCode::kFailedPrecondition) {
                // The meter answered with an error (no such data, refused): retrying will not
                // help, and one missing point must not lose the others. Logged, then skipped.
                bus->RecordMeterError(gateway.record.id, clock());
                Log(gateway.record.id, device.circuits[0].id, "meter_error",
                    applied.error().ToString());
                last = applied.error();
                break;
            } else {
                last = applied.error();
                Rejected(gateway);
                Log(gateway.record.id, device.circuits[0].id, "frame_rejected",
                    applied.error().ToString() + ": " + codec::ToHex(*reply));
            }
        }
        if (!ok && last.code == ErrorCode::kFailedPrecondition) {
            refused = last;
            continue;
        }
        if (!ok) {
            read_failed(last);
            co_return Status{};
        }
        answered = true;
    }
    if (!answered) {
        read_failed(refused);
        co_return Status{};
    }
    ++stats.reads_ok;
    const Instant now = clock();
    // The live read proved the device answers; now fetch what it froze while it was not heard.
    // Record() bills a meter's samples in meter-time order, so the freezes are billed before this
    // live reading whatever the order they are appended in.
    if (gateway.catch_up.contains(device.bus_address)) {
        Status caught_up = co_await Backfill(gateway, socket, scanner, device, samples);
        if (!caught_up)
            co_return caught_up;
    }
    for (std::size_t c = 0; c < device.circuits.size(); ++c) {
        if (!device.circuits[c].id.valid())
            continue;
        samples.push_back(ToSample(device, reading, static_cast<int>(c), *gateway.zone, now));
        const MeterSample& s = samples.back();
        const Seconds drift = s.meter_time > now ? s.meter_time - now : now - s.meter_time;
        // A clock that is off gets a time sync now rather than at the daily one, at most every
        // ten minutes per link; the service raises kClockDrift meanwhile.
        if (s.meter_clock && drift > service.policy().clock_drift_limit &&
            SteadyClock::now() - gateway.last_forced_sync > std::chrono::minutes(10)) {
            gateway.last_forced_sync = SteadyClock::now();
            gateway.next_time_sync = SteadyClock::now();
        }
    }
    co_return Status{};
}

awaitable<Result<codec::Bytes>> Runtime::Impl::ExchangeWithRetries(
    GatewayState& gateway, tcp::socket& socket, codec::StreamScanner& scanner,
    const codec::Exchange& exchange) {
    Result<codec::Bytes> reply =
        std::unexpected(Error{ErrorCode::kDeadlineExceeded, "no attempt", ""});
    for (int attempt = 0; attempt <= options.retries; ++attempt) {
        if (attempt > 0)
            bus->RecordRetry(gateway.record.id, clock());
        reply = co_await Exchange(gateway, socket, scanner, exchange);
        if (reply || reply.error().code == ErrorCode::kUnavailable)
            break;
    }
    co_return reply;
}

// Reads the daily freezes newer than the meter's billing cursor, newest first, stopping at the
// first one that is not newer (or that the meter does not have), and appends them as backfill
// samples stamped with their freeze time. Only a link failure (kUnavailable) is returned: a meter
// that cannot be backfilled is logged and read live as usual.
awaitable<Status> Runtime::Impl::Backfill(GatewayState& gateway, tcp::socket& socket,
                                          codec::StreamScanner& scanner, const Device& device,
                                          std::vector<MeterSample>& samples) {
    // Copies: a Reload() while this coroutine waits rebuilds the gateway's device list.
    const std::string address = device.bus_address;
    const MeterId meter = device.circuits[0].id;
    if (!meter.valid() || device.circuits.size() != 1 ||
        !codec::FreezeReadPlan::Supports(*device.model)) {
        gateway.catch_up.erase(address);  // nothing frozen to read
        co_return Status{};
    }
    auto state = service.CatchUp(meter);
    if (!state) {
        Log(gateway.record.id, meter, "backfill_failed", state.error().ToString());
        co_return Status{};
    }
    const Instant now = clock();
    const Seconds outage{kOutageAfterReads * gateway.read_interval_s};
    if (!state->last_seen || !state->cursor || now - *state->last_seen <= outage) {
        gateway.catch_up.erase(address);  // never billed, or no outage to fill
        co_return Status{};
    }
    const auto days = std::chrono::floor<std::chrono::days>(now - *state->last_seen).count();
    const int count = static_cast<int>(std::clamp<int64_t>(days + 1, 1, kMaxBackfillFreezes));
    auto plan = codec::FreezeReadPlan::Make(*device.model, address, count);
    if (!plan) {
        Log(gateway.record.id, meter, "backfill_failed", plan.error().ToString());
        gateway.catch_up.erase(address);
        co_return Status{};
    }
    std::vector<std::optional<codec::FrozenRecord>> records;
    std::string stopped;
    for (std::size_t i = 0; i < plan->size() && stopped.empty(); ++i) {
        auto request = plan->Request(i);
        if (!request)
            co_return std::unexpected(request.error());
        auto reply = co_await ExchangeWithRetries(gateway, socket, scanner, *request);
        if (!reply) {
            if (reply.error().code == ErrorCode::kUnavailable)
                co_return std::unexpected(reply.error());
            // No answer: keep the newer freezes already read; the older ones fall into the
            // first backfilled interval (billed once, spread over its span).
            stopped = reply.error().ToString();
            records.resize(std::min(records.size(), i / 2));
            break;
        }
        auto applied = plan->Apply(i, *reply, records);
        if (!applied) {
            // An error reply: the meter keeps no older freeze. Anything else: a bad frame.
            if (applied.error().code != ErrorCode::kFailedPrecondition) {
                Rejected(gateway);
                stopped = applied.error().ToString();
            } else {
                stopped = "end of the meter's freezes";
            }
            records.resize(std::min(records.size(), i / 2));  // freeze i/2 is incomplete
            break;
        }
        if (codec::FreezeReadPlan::IsTimeRequest(i)) {
            const codec::MeterDateTime& at = records[i / 2]->at;
            if (FromMeterTime(*gateway.zone, at) <= *state->cursor) {
                records.resize(i / 2);  // already billed past this freeze: older ones too
                stopped = "reached the billed cursor";
            }
        }
    }
    int added = 0;
    for (auto it = records.rbegin(); it != records.rend(); ++it) {  // oldest first
        if (!*it)
            continue;
        const codec::FrozenRecord& f = **it;
        MeterSample s;
        s.meter = meter;
        s.received = now;
        s.meter_time = FromMeterTime(*gateway.zone, f.at);
        s.total = ToQuantity(f.total);
        if (!s.total)
            continue;
        if (f.per_rate) {
            auto sharp = ToQuantity((*f.per_rate)[0]);
            auto peak = ToQuantity((*f.per_rate)[1]);
            auto flat = ToQuantity((*f.per_rate)[2]);
            auto valley = ToQuantity((*f.per_rate)[3]);
            if (sharp && peak && flat && valley) {
                s.has_per_rate = true;
                s.per_rate = PerPeriod<Quantity>{*sharp, *peak, *flat, *valley};
            }
        }
        s.backfill = true;
        s.values_json = "{\"frozen_at\":\"" + codec::FormatMeterDateTime(f.at) + "\"}";
        samples.push_back(std::move(s));
        ++added;
    }
    Log(gateway.record.id, meter, "backfill",
        std::to_string(added) + " daily freeze(s) read after " +
            std::to_string(
                std::chrono::floor<std::chrono::minutes>(now - *state->last_seen).count()) +
            " min unheard; stopped: " + (stopped.empty() ? "all read" : stopped));
    gateway.catch_up.erase(address);
    co_return Status{};
}

awaitable<Status> Runtime::Impl::RunCommand(GatewayState& gateway, tcp::socket& socket,
                                            codec::StreamScanner& scanner,
                                            const CommandRecord& command) {
    const Device* device = nullptr;
    int circuit = 0;
    for (const Device& d : gateway.devices) {
        for (std::size_t c = 0; c < d.circuits.size(); ++c) {
            if (d.circuits[c].id == command.meter) {
                device = &d;
                circuit = static_cast<int>(c);
            }
        }
    }
    auto fail = [&](const std::string& why) {
        (void)service.RecordCommandResult(command.id, false, why, clock());
    };
    if (device == nullptr) {
        fail("meter is not on gateway " + gateway.record.code);
        co_return Status{};
    }
    auto kind = codec::ParseDeviceCommand(command.kind);
    if (!kind) {
        fail(kind.error().ToString());
        co_return Status{};
    }
    auto value = wire::CommandValue(command.params);
    if (!value) {
        fail(value.error().ToString());
        co_return Status{};
    }
    codec::DeviceCommand request{*kind, circuit, ToMeterTime(*gateway.zone, clock()), *value};
    request.count = PurchaseCountOf(command);
    if (*kind == codec::DeviceCommandKind::kPurchase) {
        Status done = co_await RunPurchase(gateway, socket, scanner, *device, command, request);
        co_return done;
    }
    const uint16_t sequence = ++gateway.sequence;
    auto exchange = codec::EncodeCommand(*device->model, device->bus_address, gateway.framing(),
                                         request, sequence);
    if (!exchange) {
        fail(exchange.error().ToString());
        co_return Status{};
    }
    ++stats.commands_sent;
    auto reply = co_await Exchange(gateway, socket, scanner, *exchange);
    if (!reply) {
        fail(reply.error().ToString());
        if (reply.error().code == ErrorCode::kUnavailable)
            co_return std::unexpected(reply.error());
        co_return Status{};
    }
    if (exchange->expects_reply) {
        auto checked = codec::CheckCommandReply(*device->model, *exchange, *reply);
        if (!checked) {
            fail(checked.error().ToString());
            co_return Status{};
        }
    }
    ++stats.commands_acknowledged;
    (void)service.RecordCommandResult(command.id, true, "", clock());
    gateway.next_poll = SteadyClock::now();  // read the new state back soon [CTRL-6]
    co_return Status{};
}

// Meter billing [ACCT-1]: one attempt of a purchase. The meter's purchase count is read first,
// every attempt: the service confirms the purchase without sending when the count already shows
// it (the last acknowledgement was lost), fails it on any count but the one before, and only
// otherwise is it written, once: a write that gets no answer is never repeated blindly, the next
// attempt reads the count again.
awaitable<Status> Runtime::Impl::RunPurchase(GatewayState& gateway, tcp::socket& socket,
                                             codec::StreamScanner& scanner, const Device& device,
                                             const CommandRecord& command,
                                             codec::DeviceCommand request) {
    // Copies: a Reload() while this coroutine waits rebuilds the gateway's device list.
    const std::string address = device.bus_address;
    const codec::DeviceModel model = *device.model;
    const std::int64_t modulus = codec::PurchaseCountModulus(model);
    auto fail = [&](const std::string& why) {
        (void)service.RecordCommandResult(command.id, false, why, clock());
    };
    auto read = codec::EncodePurchaseCountRead(model, address, ++gateway.sequence);
    if (!read) {
        fail(read.error().ToString());
        co_return Status{};
    }
    const codec::Exchange read_exchange = *read;
    auto counted = co_await ExchangeWithRetries(gateway, socket, scanner, read_exchange);
    if (!counted) {
        fail("purchase count not read: " + counted.error().ToString());
        if (counted.error().code == ErrorCode::kUnavailable)
            co_return std::unexpected(counted.error());
        co_return Status{};
    }
    auto count = codec::DecodePurchaseCount(model, read_exchange, *counted);
    if (!count) {
        fail("purchase count not read: " + count.error().ToString());
        co_return Status{};
    }
    auto check = service.CheckPurchase(command.id, *count, modulus, clock());
    if (!check) {
        Log(gateway.record.id, command.meter, "purchase_check_failed", check.error().ToString());
        co_return Status{};
    }
    if (*check != PurchaseCheck::kSend) {
        gateway.next_poll = SteadyClock::now();  // mirror the meter's amount soon
        co_return Status{};
    }
    auto exchange =
        codec::EncodeCommand(model, address, gateway.framing(), request, ++gateway.sequence);
    if (!exchange) {
        fail(exchange.error().ToString());
        co_return Status{};
    }
    const codec::Exchange write_exchange = *exchange;
    ++stats.commands_sent;
    auto reply = co_await Exchange(gateway, socket, scanner, write_exchange);
    if (!reply) {
        fail("no acknowledgement (the next attempt reads the count first): " +
             reply.error().ToString());
        if (reply.error().code == ErrorCode::kUnavailable)
            co_return std::unexpected(reply.error());
        co_return Status{};
    }
    auto checked = codec::CheckCommandReply(model, write_exchange, *reply);
    if (!checked) {
        fail(checked.error().ToString());
        co_return Status{};
    }
    ++stats.commands_acknowledged;
    auto confirmed = service.ConfirmPurchase(command.id, modulus, clock());
    if (!confirmed)
        Log(gateway.record.id, command.meter, "purchase_confirm_failed",
            confirmed.error().ToString());
    gateway.next_poll = SteadyClock::now();
    co_return Status{};
}

awaitable<void> Runtime::Impl::RunLink(std::shared_ptr<GatewayState> gateway,
                                       std::shared_ptr<tcp::socket> socket) {
    if (gateway->socket) {
        boost::system::error_code ignored;
        gateway->socket->close(ignored);  // the device reconnected: the old link is dead
    }
    gateway->socket = socket;
    gateway->discovered = false;
    gateway->next_time_sync = SteadyClock::now();
    ++stats.connections;
    (void)service.SetGatewayLink(gateway->record.id, true, clock());
    codec::StreamScanner scanner(gateway->ScannerOptions());
    for (const Device& device : gateway->devices)
        gateway->catch_up.insert(device.bus_address);  // the link was down: look for gaps
    gateway->next_poll = SteadyClock::now();
    auto last_heard = SteadyClock::now();
    std::array<std::uint8_t, kReadChunkBytes> buffer{};
    asio::steady_timer timer(socket->get_executor());
    while (!stopping && socket->is_open() && gateway->socket == socket) {
        Status link = {};
        if (!gateway->commands.empty()) {
            CommandRecord command = gateway->commands.front();
            gateway->commands.pop_front();
            link = co_await RunCommand(*gateway, *socket, scanner, command);
            last_heard = SteadyClock::now();
        } else if (!gateway->discovered || SteadyClock::now() >= gateway->next_time_sync) {
            link = co_await LinkHousekeeping(*gateway, *socket, scanner);
        } else if (SteadyClock::now() >= gateway->next_poll) {
            gateway->next_poll =
                SteadyClock::now() + std::chrono::seconds(gateway->read_interval_s);
            std::vector<MeterSample> samples;
            // A copy: a registry reload between two reads must not pull the list away.
            const std::vector<Device> devices = gateway->devices;
            for (const Device& device : devices) {
                link = co_await PollDevice(*gateway, *socket, scanner, device, samples);
                if (!link)
                    break;
            }
            if (!samples.empty()) {
                auto recorded = service.Record(samples, clock());
                if (!recorded) {
                    Log(gateway->record.id, MeterId{}, "record_failed",
                        recorded.error().ToString());
                }
            }
            last_heard = SteadyClock::now();
        } else {
            // Idle: drain heartbeats and notice a closed link.
            timer.expires_after(kIdleReadSlice);
            auto result = co_await (
                socket->async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable)) ||
                timer.async_wait(asio::as_tuple(use_awaitable)));
            if (result.index() == 0) {
                auto [error, n] = std::get<0>(result);
                if (error)
                    break;
                last_heard = SteadyClock::now();
                scanner.Feed(codec::ByteView(buffer.data(), n));
                while (scanner.Next()) {
                }
            }
            if (SteadyClock::now() - last_heard > options.link_silence_limit)
                break;
        }
        if (!link)
            break;
    }
    boost::system::error_code ignored;
    socket->close(ignored);
    --stats.connections;
    if (gateway->socket == socket) {
        gateway->socket.reset();
        for (const CommandRecord& c : gateway->commands) {
            (void)service.RecordCommandResult(c.id, false, "gateway link lost", clock());
        }
        gateway->commands.clear();
        if (!stopping)
            (void)service.SetGatewayLink(gateway->record.id, false, clock());
    }
}

// Once per link: a read-address scan finds a DL/T 645 meter nobody configured (pending device,
// [HIER-4]); on a bus of several meters the replies collide and nothing is found, which is fine.
// Daily: a broadcast time sync (08H) keeps meter clocks, and so TOU registers, right [CTRL-5].
awaitable<Status> Runtime::Impl::LinkHousekeeping(GatewayState& gateway, tcp::socket& socket,
                                                  codec::StreamScanner& scanner) {
    if (!gateway.Dlt645Bus()) {
        gateway.discovered = true;
        gateway.next_time_sync = SteadyClock::time_point::max();
        co_return Status{};
    }
    if (!gateway.discovered) {
        gateway.discovered = true;
        auto frame = codec::dlt645::BuildRequest(codec::dlt645::kWildcardAddress,
                                                 codec::dlt645::ReadAddressRequest{});
        if (!frame)
            co_return Status{};
        auto bytes = codec::dlt645::EncodeFrame(*frame);
        if (!bytes)
            co_return Status{};
        const codec::Exchange exchange{*bytes, true, codec::FrameKind::kDlt645, std::nullopt};
        auto reply = co_await Exchange(gateway, socket, scanner, exchange);
        if (!reply) {
            if (reply.error().code == ErrorCode::kUnavailable)
                co_return std::unexpected(reply.error());
            co_return Status{};  // nobody, or several meters answering at once
        }
        auto decoded = codec::dlt645::DecodeFrame(*reply);
        if (!decoded)
            co_return Status{};
        auto parsed = codec::dlt645::ParseReply(decoded->frame);
        const auto* found = parsed ? std::get_if<codec::dlt645::AddressReply>(&*parsed) : nullptr;
        if (found == nullptr)
            co_return Status{};
        const std::string address = codec::dlt645::FormatAddress(found->address);
        const bool known = std::any_of(gateway.devices.begin(), gateway.devices.end(),
                                       [&](const Device& d) { return d.bus_address == address; });
        if (!known) {
            std::string model = "dlt645-2007-1p-prepaid";  // the shipped default; staff confirm
            for (const Device& d : gateway.devices) {
                if (d.model->protocol == codec::Protocol::kDlt645_2007)
                    model = d.model->code;
            }
            const Instant now = clock();
            (void)service.RecordPendingDevice(PendingDeviceRecord{
                0, gateway.record.project, gateway.record.id, address, model, address,
                R"({"protocol":"dlt645-2007","found_by":"read_address"})", now, now});
        }
        co_return Status{};
    }
    gateway.next_time_sync = SteadyClock::now() + std::chrono::hours(24);
    for (const Device& device : gateway.devices) {
        if (device.model->protocol != codec::Protocol::kDlt645_2007)
            continue;
        const codec::DeviceCommand sync{codec::DeviceCommandKind::kTimeSync, 0,
                                        ToMeterTime(*gateway.zone, clock()), std::nullopt};
        auto exchange = codec::EncodeCommand(*device.model, device.bus_address, gateway.framing(),
                                             sync, ++gateway.sequence);
        if (!exchange)
            co_return Status{};
        auto sent = co_await Exchange(gateway, socket, scanner, *exchange);
        if (!sent && sent.error().code == ErrorCode::kUnavailable) {
            co_return std::unexpected(sent.error());
        }
        break;  // a broadcast reaches every meter on the bus
    }
    co_return Status{};
}

awaitable<void> Runtime::Impl::DtuSession(tcp::socket socket) {
    auto shared = std::make_shared<tcp::socket>(std::move(socket));
    std::array<char, kMaxRegistrationBytes> buffer{};
    asio::steady_timer timer(shared->get_executor(), options.registration_timeout);
    auto result =
        co_await (shared->async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable)) ||
                  timer.async_wait(asio::as_tuple(use_awaitable)));
    std::string remote;
    boost::system::error_code ec;
    auto endpoint = shared->remote_endpoint(ec);
    if (!ec)
        remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    if (result.index() == 1 || std::get<0>(std::get<0>(result))) {
        Log(GatewayId{}, MeterId{}, "registration_timeout", "no registration from " + remote);
        co_return;
    }
    std::string packet(buffer.data(), std::get<1>(std::get<0>(result)));
    while (!packet.empty() && (packet.back() == '\n' || packet.back() == '\r' ||
                               packet.back() == '\0' || packet.back() == ' ')) {
        packet.pop_back();
    }
    std::smatch match;
    if (!std::regex_match(packet, match, registration)) {
        Log(GatewayId{}, MeterId{}, "registration_rejected",
            "from " + remote + ": " +
                codec::ToHex(codec::ByteView(reinterpret_cast<const std::uint8_t*>(packet.data()),
                                             std::min<std::size_t>(packet.size(), 64))));
        co_return;
    }
    auto found = dtu_endpoints.find(match[1].str());
    if (found == dtu_endpoints.end()) {
        Log(GatewayId{}, MeterId{}, "unknown_gateway",
            "DTU " + match[1].str() + " from " + remote + " is not configured");
        co_return;
    }
    co_await RunLink(gateways.at(found->second), shared);
}

awaitable<void> Runtime::Impl::AcceptLoop() {
    while (!stopping) {
        auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(use_awaitable));
        if (error) {
            if (error == asio::error::operation_aborted)
                co_return;
            continue;
        }
        if (static_cast<std::size_t>(stats.connections.load()) >= options.max_connections) {
            continue;  // the socket closes as it goes out of scope
        }
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(io, DtuSession(std::move(socket)), asio::detached);
    }
}

awaitable<void> Runtime::Impl::OutboundLoop(std::shared_ptr<GatewayState> gateway) {
    auto backoff = std::chrono::seconds(1);
    asio::steady_timer timer(io);
    tcp::resolver resolver(io);
    while (!stopping) {
        // A bad endpoint is treated as an unreachable one: the registry may bring a fixed one.
        auto peer =
            ParseHostPort(gateway->record.endpoint, "endpoint", PortUse::kConnect, kModbusTcpPort);
        if (peer) {
            // Named locals: GCC 12 mishandles temporaries inside co_await expressions.
            const std::string host = peer->host;
            const std::string service_port = std::to_string(peer->port);
            auto [resolve_error, results] =
                co_await resolver.async_resolve(host, service_port, asio::as_tuple(use_awaitable));
            if (!resolve_error) {
                auto socket = std::make_shared<tcp::socket>(io);
                auto [connect_error, connected] =
                    co_await asio::async_connect(*socket, results, asio::as_tuple(use_awaitable));
                (void)connected;
                if (!connect_error) {
                    backoff = std::chrono::seconds(1);
                    co_await RunLink(gateway, socket);
                } else if (backoff == std::chrono::seconds(1)) {
                    (void)service.SetGatewayLink(gateway->record.id, false, clock());
                }
            }
        }
        if (stopping)
            co_return;
        timer.expires_after(backoff);
        co_await timer.async_wait(asio::as_tuple(use_awaitable));
        backoff = std::min(backoff * 2, options.reconnect_backoff_max);
    }
}

// Meters bound or gateways added while serving (binding a pending device, an import) are picked
// up within seconds.
awaitable<void> Runtime::Impl::RegistryWatch() {
    asio::steady_timer timer(io);
    while (!stopping) {
        timer.expires_after(std::chrono::seconds(5));
        co_await timer.async_wait(asio::as_tuple(use_awaitable));
        if (stopping)
            co_return;
        auto tx = store.Begin();
        if (!tx)
            continue;
        auto stamp = (*tx)->RegistryStamp();
        tx->reset();
        if (!stamp || *stamp == registry_stamp)
            continue;
        if (LoadRegistry())
            StartOutbound();
    }
}

awaitable<void> Runtime::Impl::DispatchLoop() {
    asio::steady_timer timer(io);
    while (!stopping) {
        timer.expires_after(options.dispatch_interval);
        co_await timer.async_wait(asio::as_tuple(use_awaitable));
        if (stopping)
            co_return;
        auto due = service.TakeDueCommands(clock(), 200);
        if (!due)
            continue;
        for (const CommandRecord& command : *due) {
            auto route = meter_gateway.find(command.meter.value);
            if (route == meter_gateway.end()) {
                (void)LoadRegistry();
                route = meter_gateway.find(command.meter.value);
            }
            if (route == meter_gateway.end()) {
                (void)service.RecordCommandResult(command.id, false, "the meter has no gateway",
                                                  clock());
                continue;
            }
            auto gateway = gateways.at(route->second);
            if (gateway->record.transport == "mqtt" && command.kind == "purchase") {
                // Opening refuses meter billing on MQTT meters (the count must be read right
                // before each attempt); this guards a meter moved to an MQTT gateway afterwards.
                (void)service.RecordCommandResult(
                    command.id, false, "purchases need a DTU or polled link (count check)",
                    clock());
                continue;
            }
            if (gateway->record.transport == "mqtt") {
                if (sink == nullptr) {
                    (void)service.RecordCommandResult(command.id, false, "MQTT is not running",
                                                      clock());
                    continue;
                }
                MeterRecord meter;
                for (const Device& d : gateway->devices) {
                    for (const MeterRecord& m : d.circuits) {
                        if (m.id == command.meter)
                            meter = m;
                    }
                }
                auto sent = sink->SendCommand(command, meter, gateway->record);
                if (!sent) {
                    (void)service.RecordCommandResult(command.id, false, sent.error().ToString(),
                                                      clock());
                }
                continue;
            }
            if (!gateway->socket) {
                (void)service.RecordCommandResult(command.id, false, "gateway offline", clock());
                continue;
            }
            gateway->commands.push_back(command);
        }
    }
}

void Runtime::Impl::StartOutbound() {
    for (auto& [id, gateway] : gateways) {
        if (gateway->record.transport == "modbus_tcp" && !gateway->record.endpoint.empty() &&
            outbound_started.insert(id).second) {
            asio::co_spawn(io, OutboundLoop(gateway), asio::detached);
        }
    }
}

Runtime::Runtime(Store& store, AcquisitionService& service, RuntimeOptions options,
                 std::function<Instant()> clock)
    : impl_(std::make_unique<Impl>(store, service, std::move(options), std::move(clock))) {}

Runtime::~Runtime() { Stop(); }

void Runtime::SetCommandSink(CommandSink* sink) { impl_->sink = sink; }

void Runtime::SetBusStatistics(BusStatistics* statistics) {
    impl_->bus = statistics != nullptr ? statistics : &impl_->own_bus;
}

Status Runtime::Start() {
    Impl& d = *impl_;
    try {
        d.registration = std::regex(d.options.dtu_registration_pattern);
    } catch (const std::regex_error& e) {
        return InvalidArgument("dtu_registration_pattern", e.what());
    }
    JOULE_TRY(d.LoadRegistry());
    JOULE_ASSIGN_OR_RETURN(HostPort listen,
                           ParseHostPort(d.options.dtu_listen, "dtu_listen", PortUse::kListen));
    boost::system::error_code ec;
    auto address = asio::ip::make_address(listen.host, ec);
    if (ec)
        return InvalidArgument("dtu_listen", "bad address: " + ec.message());
    tcp::endpoint endpoint(address, listen.port);
    d.acceptor.open(endpoint.protocol(), ec);
    if (!ec)
        d.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        d.acceptor.bind(endpoint, ec);
    if (!ec)
        d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return MakeError(ErrorCode::kUnavailable,
                         "cannot listen on " + d.options.dtu_listen + ": " + ec.message(),
                         "dtu_listen");
    }
    d.port = d.acceptor.local_endpoint().port();
    asio::co_spawn(d.io, d.AcceptLoop(), asio::detached);
    asio::co_spawn(d.io, d.DispatchLoop(), asio::detached);
    asio::co_spawn(d.io, d.RegistryWatch(), asio::detached);
    d.StartOutbound();
    d.thread = std::thread([&d] { d.io.run(); });
    return {};
}

void Runtime::Stop() {
    Impl& d = *impl_;
    if (!d.thread.joinable())
        return;
    asio::post(d.io, [&d] {
        d.stopping = true;
        boost::system::error_code ignored;
        d.acceptor.close(ignored);
        for (auto& [id, gateway] : d.gateways) {
            if (gateway->socket)
                gateway->socket->close(ignored);
        }
    });
    d.io.stop();
    d.thread.join();
}

void Runtime::Reload() {
    asio::post(impl_->io, [d = impl_.get()] {
        if (d->LoadRegistry())
            d->StartOutbound();
    });
}

uint16_t Runtime::dtu_port() const { return impl_->port; }
const RuntimeStats& Runtime::stats() const { return impl_->stats; }

}  // namespace joule::ingest
