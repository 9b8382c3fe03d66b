#include "sim/sim_site.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/decimal.hpp"
#include "base/host_port.hpp"
#include "codec/meter_driver.hpp"
#include "codec/stream_scanner.hpp"
#include "core/time.hpp"
#include "sim/mqtt_sim_gateway.hpp"
#include "sim/sim_meter.hpp"
#include "wire/command_params.hpp"
#include "wire/meter_time.hpp"
#include "wire/model_json.hpp"

namespace joule::sim {

using wire::FromMeterTime;
using wire::ToMeterTime;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
using namespace asio::experimental::awaitable_operators;  // NOLINT(google-build-using-namespace)

namespace {

// Average power of a profile at an hour of the day, in W (per circuit).
int64_t ProfileWatts(std::string_view profile, int hour) {
    const bool day = hour >= 9 && hour < 22;
    if (profile == "public")
        return 3000;
    if (profile == "office")
        return hour >= 8 && hour < 19 ? 2500 : 300;
    if (profile == "dorm")
        return hour >= 18 || hour < 1 ? 800 : 150;
    return day ? 3500 : 400;  // shop
}

struct SimDevice {
    std::unique_ptr<SimMeter> meter;
    std::string bus_address;
    std::vector<std::string> codes;  // the platform's meter code per circuit ("": none)
    int64_t overload_watts = 0;      // > 0: draws this instead of its profile
    std::string profile;
    bool water = false;
    int circuits = 1;
    int64_t carry_mwh = 0;  // sub-Wh remainder so slow loads still add up exactly
};

struct Fault : FaultSpec {
    bool applied = false;
};

struct SimGateway {
    GatewayRecord record;
    std::string project_code;
    std::vector<SimDevice*> devices;
    bool offline = false;
    std::unique_ptr<MqttSimGateway> mqtt;  // transport "mqtt"
    uint16_t sequence = 0;                 // MQTT gateways: their own bus's request counter
};

Instant WallNow() { return date::floor<Seconds>(std::chrono::system_clock::now()); }

// The reply frame to `exchange` as the gateway's serial port would see it: the meter's bytes
// through a scanner (preamble stripped, checksum verified). nullopt: silence or a garbled reply.
std::optional<codec::Bytes> BusExchange(SimMeter& meter, const codec::Exchange& exchange) {
    auto reply = meter.HandleFrame(exchange.request);
    if (!reply || !exchange.expects_reply)
        return std::nullopt;
    codec::StreamScannerOptions o;
    o.dlt645 = exchange.reply_kind == codec::FrameKind::kDlt645;
    o.cjt188 = exchange.reply_kind == codec::FrameKind::kCjt188;
    o.modbus_rtu = exchange.reply_kind == codec::FrameKind::kModbusRtu;
    codec::StreamScanner scanner(o);
    if (exchange.rtu)
        scanner.ExpectModbusRtu(*exchange.rtu);
    scanner.Feed(*reply);
    scanner.MarkIdle();
    while (auto frame = scanner.Next()) {
        if (frame->kind == exchange.reply_kind)
            return std::move(frame->bytes);
    }
    return std::nullopt;
}

std::optional<Quantity> Milli(std::optional<codec::Decimal> value) {
    std::int64_t milli = 0;
    if (!value || !codec::Rescale(*value, 3, &milli) || milli < 0)
        return std::nullopt;
    return Quantity{milli};
}

// A decoded read as the gateway reports it (the same mapping as ingest's ToSample).
std::optional<SimMeterReading> ToMqttReading(const codec::DeviceModel& model,
                                             const codec::DeviceReading& reading, int circuit,
                                             const Zone& zone) {
    const auto total = Milli(reading.Find(circuit, codec::BillingRegister(model)));
    if (!total)
        return std::nullopt;  // nothing to bill: treated as a failed read
    SimMeterReading r;
    r.total = *total;
    auto sharp = Milli(reading.Find(circuit, codec::Point::kEnergySharp));
    auto peak = Milli(reading.Find(circuit, codec::Point::kEnergyPeak));
    auto flat = Milli(reading.Find(circuit, codec::Point::kEnergyFlat));
    auto valley = Milli(reading.Find(circuit, codec::Point::kEnergyValley));
    if (sharp && peak && flat && valley)
        r.per_rate = PerPeriod<Quantity>{*sharp, *peak, *flat, *valley};
    if (auto closed = codec::RelayClosed(reading, circuit))
        r.relay = *closed ? "closed" : "open";
    r.hold = codec::HoldPower(reading, circuit).value_or(false);
    if (auto valve = reading.Find(circuit, codec::Point::kValveState)) {
        r.valve = valve->mantissa == 0 ? "open" : valve->mantissa == 1 ? "closed" : "abnormal";
    }
    if (auto battery = reading.Find(circuit, codec::Point::kBatteryLow))
        r.battery_low = battery->mantissa != 0;
    if (reading.meter_clock && codec::IsValid(*reading.meter_clock))
        r.time = FromMeterTime(zone, *reading.meter_clock);
    for (codec::Point point : {codec::Point::kVoltage, codec::Point::kCurrent, codec::Point::kPower,
                               codec::Point::kPowerFactor}) {
        if (auto value = reading.Find(circuit, point))
            r.values.emplace_back(std::string(codec::PointName(point)),
                                  codec::FormatDecimal(*value));
    }
    return r;
}

}  // namespace

std::string FaultKindNames() {
    std::string out;
    for (std::string_view kind : kFaultKinds) {
        out += out.empty() ? "" : " ";
        out += kind;
    }
    return out;
}

Result<FaultSpec> ParseFault(std::string_view text) {
    const std::string quoted = "\"" + std::string(text) + "\"";
    auto number = [&](std::string_view part, std::string_view what) -> Result<int64_t> {
        auto n = ParseScaled(part, 0, "fault");
        if (!n) {
            return InvalidArgument("fault", quoted + ": " + std::string(what) +
                                                " must be a whole number, got \"" +
                                                std::string(part) + "\"");
        }
        return n;
    };
    FaultSpec f;
    std::string_view body = text;
    if (const auto at = body.find('@'); at != std::string_view::npos) {
        JOULE_ASSIGN_OR_RETURN(f.after_s, number(body.substr(at + 1), "after_s"));
        if (f.after_s < 0)
            return InvalidArgument("fault", quoted + ": after_s must be >= 0");
        body = body.substr(0, at);
    }
    const auto first = body.find(':');
    if (first == std::string_view::npos || first == 0) {
        return InvalidArgument("fault", quoted + ": must be bus_address:kind[:value][@after_s]");
    }
    f.address = std::string(body.substr(0, first));
    std::string_view kind = body.substr(first + 1);
    if (const auto second = kind.find(':'); second != std::string_view::npos) {
        JOULE_ASSIGN_OR_RETURN(f.value, number(kind.substr(second + 1), "the value"));
        kind = kind.substr(0, second);
    }
    if (std::find(kFaultKinds.begin(), kFaultKinds.end(), kind) == kFaultKinds.end()) {
        return InvalidArgument("fault", quoted + ": unknown kind \"" + std::string(kind) + "\" (" +
                                            FaultKindNames() + ")");
    }
    f.kind = std::string(kind);
    return f;
}

struct SimSite::Impl {
    Store& store;
    SiteOptions options;
    asio::io_context io;
    std::thread thread;
    SiteStats stats;
    std::vector<std::unique_ptr<SimDevice>> devices;
    std::vector<std::unique_ptr<SimGateway>> gateways;
    std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
    std::unique_ptr<Zone> zone;
    std::mt19937_64 rng;
    std::vector<Fault> faults;
    HostPort dtu_peer;  // options.dtu_connect, checked by Start
    std::chrono::steady_clock::time_point started;

    Impl(Store& s, SiteOptions o)
        : store(s), options(std::move(o)), rng(static_cast<uint64_t>(options.seed)) {}

    // Guards the SimMeters against the MQTT gateways' threads (reads, commands); the DTU and
    // Modbus paths and the ticks run on the io thread.
    std::mutex meters_mutex;

    Status Load();
    Status StartMqtt(SimGateway& gateway);
    std::optional<SimMeterReading> ReadOverBus(SimGateway& gateway, SimDevice& device, int circuit);
    SimCommandResult Execute(SimGateway& gateway, const SimCommand& command);
    void ApplyFaults(int64_t elapsed_s);
    std::optional<codec::Bytes> Answer(SimGateway& gateway, codec::ByteView frame);
    awaitable<void> Tick();
    awaitable<void> DtuClient(SimGateway* gateway);
    awaitable<void> ServeBus(SimGateway* gateway, tcp::socket socket, bool mbap);
    awaitable<void> ModbusServer(SimGateway* gateway, tcp::acceptor* acceptor);
    bool Offline(const SimGateway& gateway) const;
};

Status SimSite::Impl::Load() {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto records, tx->ListGateways());
    std::map<int64_t, codec::DeviceModel> models;
    for (const GatewayRecord& g : records) {
        if (g.transport != "dtu" && g.transport != "modbus_tcp" && g.transport != "mqtt")
            continue;
        if (g.transport == "mqtt" && options.mqtt.empty()) {
            std::fprintf(stderr, "joule sim: MQTT gateway %s is not played (no --mqtt broker)\n",
                         g.code.c_str());
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(g.project));
        if (!zone) {
            JOULE_ASSIGN_OR_RETURN(Zone loaded, Zone::Load(project.time_zone));
            zone = std::make_unique<Zone>(std::move(loaded));
        }
        auto gateway = std::make_unique<SimGateway>();
        gateway->record = g;
        gateway->project_code = project.code;
        JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMetersOfGateway(g.id));
        std::map<std::string, SimDevice*> by_address;
        for (const MeterRecord& m : meters) {
            auto model = models.find(m.model.value);
            if (model == models.end()) {
                JOULE_ASSIGN_OR_RETURN(MeterModelRecord record, tx->GetModel(m.model));
                auto device_model = wire::DeviceModelFromDefinition(record.definition);
                if (!device_model)
                    continue;
                model = models.emplace(m.model.value, std::move(*device_model)).first;
            }
            const std::string address = m.bus_address.empty() ? m.code : m.bus_address;
            const auto circuit = static_cast<std::size_t>(m.circuit);
            if (auto known = by_address.find(address); known != by_address.end()) {
                if (circuit < known->second->codes.size())
                    known->second->codes[circuit] = m.code;  // another circuit of the same box
                continue;
            }
            JOULE_ASSIGN_OR_RETURN(SimMeter meter, SimMeter::Make(model->second, address));
            auto device = std::make_unique<SimDevice>();
            device->meter = std::make_unique<SimMeter>(std::move(meter));
            device->bus_address = address;
            device->codes.resize(static_cast<std::size_t>(model->second.circuits));
            if (circuit < device->codes.size())
                device->codes[circuit] = m.code;
            device->water = model->second.protocol == codec::Protocol::kCjt188;
            device->circuits = model->second.circuits;
            device->profile = m.public_area                ? "public"
                              : model->second.circuits > 1 ? "dorm"
                                                           : "shop";
            bool meter_billed = false;  // [ACCT-1] the meter holds the money: it starts empty
            if (auto binding = tx->CurrentBinding(m.id); binding && *binding) {
                auto account = tx->GetAccount((*binding)->account);
                meter_billed = account && account->billing_mode == BillingMode::kMeter;
            }
            if (model->second.in_meter_prepaid && !meter_billed) {
                // The platform keeps the money (远程费控): the meter's own purse never runs dry.
                // The most its XXXXXX.XX balance register can show.
                (void)device->meter->SetBalance(codec::kMaxPurchaseFen);
            }
            by_address[address] = device.get();
            gateway->devices.push_back(device.get());
            devices.push_back(std::move(device));
        }
        gateways.push_back(std::move(gateway));
    }
    JOULE_ASSIGN_OR_RETURN(auto all_models, tx->ListModels());
    for (const std::string& extra : options.extra_meters) {
        const auto first = extra.find(':');
        const auto second = extra.find(':', first == std::string::npos ? first : first + 1);
        if (first == std::string::npos || second == std::string::npos) {
            return InvalidArgument("extra_meters", "must be gateway:bus_address:model: " + extra);
        }
        const std::string gateway_code = extra.substr(0, first);
        const std::string address = extra.substr(first + 1, second - first - 1);
        const std::string model_code = extra.substr(second + 1);
        auto gateway = std::find_if(gateways.begin(), gateways.end(),
                                    [&](const auto& g) { return g->record.code == gateway_code; });
        auto model = std::find_if(all_models.begin(), all_models.end(),
                                  [&](const MeterModelRecord& m) { return m.code == model_code; });
        if (gateway == gateways.end())
            return NotFound("no gateway " + gateway_code, "extra_meters");
        if (model == all_models.end())
            return NotFound("no model " + model_code, "extra_meters");
        JOULE_ASSIGN_OR_RETURN(codec::DeviceModel device_model,
                               wire::DeviceModelFromDefinition(model->definition));
        JOULE_ASSIGN_OR_RETURN(SimMeter meter, SimMeter::Make(device_model, address));
        auto device = std::make_unique<SimDevice>();
        device->meter = std::make_unique<SimMeter>(std::move(meter));
        device->bus_address = address;
        device->profile = "shop";
        device->codes.resize(static_cast<std::size_t>(device_model.circuits));
        if (device_model.in_meter_prepaid)
            (void)device->meter->SetBalance(codec::kMaxPurchaseFen);
        (*gateway)->devices.push_back(device.get());
        devices.push_back(std::move(device));
    }
    for (const std::string& text : options.faults) {
        JOULE_ASSIGN_OR_RETURN(FaultSpec fault, ParseFault(text));
        faults.push_back(Fault{std::move(fault), false});
    }
    return {};
}

std::optional<SimMeterReading> SimSite::Impl::ReadOverBus(SimGateway& gateway, SimDevice& device,
                                                          int circuit) {
    std::lock_guard lock(meters_mutex);
    const codec::DeviceModel& model = device.meter->model();
    auto plan = codec::ReadPlan::Make(model, device.bus_address, codec::ModbusFraming::kRtu);
    if (!plan)
        return std::nullopt;
    codec::DeviceReading reading;
    bool answered = false;
    for (std::size_t i = 0; i < plan->size(); ++i) {
        const uint16_t sequence = ++gateway.sequence;
        auto request = plan->Request(i, sequence);
        if (!request)
            return std::nullopt;
        auto reply = BusExchange(*device.meter, *request);
        if (!reply)
            return std::nullopt;  // silent or garbled: the read failed
        auto applied = plan->Apply(i, sequence, *reply, reading);
        if (applied) {
            answered = true;
        } else if (applied.error().code != ErrorCode::kFailedPrecondition) {
            return std::nullopt;  // an error reply only skips its point
        }
    }
    if (!answered)
        return std::nullopt;
    return ToMqttReading(model, reading, circuit, *zone);
}

// A platform command as an edge gateway carries it out: the meter's own frame on the bus, its
// reply checked. A broadcast (time sync) goes to every meter of the gateway.
SimCommandResult SimSite::Impl::Execute(SimGateway& gateway, const SimCommand& command) {
    std::lock_guard lock(meters_mutex);
    SimDevice* device = nullptr;
    int circuit = 0;
    for (SimDevice* d : gateway.devices) {
        for (std::size_t c = 0; c < d->codes.size() && device == nullptr; ++c) {
            if (!command.meter.empty() && d->codes[c] == command.meter) {
                device = d;
                circuit = static_cast<int>(c);
            }
        }
    }
    for (SimDevice* d : gateway.devices) {
        if (device == nullptr && d->bus_address == command.bus_address)
            device = d;
    }
    if (device == nullptr)
        return {false, "meter " + command.meter + " is not on this gateway"};
    auto kind = codec::ParseDeviceCommand(command.kind);
    if (!kind)
        return {false, kind.error().ToString()};
    codec::DeviceCommand request;
    request.kind = *kind;
    request.circuit = circuit;
    request.meter_now = ToMeterTime(*zone, WallNow());
    auto value = wire::CommandValue(command.params_json);
    if (!value)
        return {false, value.error().ToString()};
    request.value = *value;
    auto exchange = codec::EncodeCommand(device->meter->model(), device->bus_address,
                                         codec::ModbusFraming::kRtu, request, ++gateway.sequence);
    if (!exchange)
        return {false, exchange.error().ToString()};
    if (!exchange->expects_reply) {
        for (SimDevice* d : gateway.devices)
            (void)d->meter->HandleFrame(exchange->request);
        ++stats.mqtt_commands;
        return {};
    }
    auto reply = BusExchange(*device->meter, *exchange);
    if (!reply)
        return {false, "the meter did not answer"};
    auto checked = codec::CheckCommandReply(device->meter->model(), *exchange, *reply);
    if (!checked)
        return {false, checked.error().ToString()};
    ++stats.mqtt_commands;
    return {};
}

Status SimSite::Impl::StartMqtt(SimGateway& gateway) {
    const std::string& code = gateway.record.code;
    auto password = options.mqtt_passwords.find(code);
    if (password == options.mqtt_passwords.end()) {
        return NotFound("no broker password for MQTT gateway " + code +
                            " (the credentials file written by joule mqtt-auth)",
                        "mqtt_passwords");
    }
    MqttSimOptions o;
    JOULE_ASSIGN_OR_RETURN(HostPort broker, ParseHostPort(options.mqtt, "mqtt", PortUse::kConnect,
                                                          static_cast<std::uint16_t>(o.port)));
    o.host = broker.host;
    o.port = broker.port;
    o.username = code;
    o.password = password->second;
    o.client_id = gateway.record.endpoint.empty() ? code : gateway.record.endpoint;
    o.topic_prefix = options.mqtt_prefix;
    o.project = gateway.project_code;
    o.gateway = code;
    o.serial = "SIM-" + code;
    o.interval = std::chrono::seconds(std::max<int64_t>(1, options.mqtt_read_interval_s));
    o.tls_cafile = options.mqtt_cafile;
    std::vector<SimMqttMeter> meters;
    for (SimDevice* d : gateway.devices) {
        for (std::size_t c = 0; c < d->codes.size(); ++c) {
            // A meter the platform does not know (an --extra-meter) reports under its address.
            const std::string meter_code = !d->codes[c].empty() ? d->codes[c]
                                           : c == 0             ? d->bus_address
                                                                : "";
            if (meter_code.empty())
                continue;
            const int circuit = static_cast<int>(c);
            meters.push_back(
                {meter_code, d->bus_address, d->meter->model().code,
                 [this, g = &gateway, d, circuit] { return ReadOverBus(*g, *d, circuit); }});
        }
    }
    gateway.mqtt = std::make_unique<MqttSimGateway>(
        std::move(o), std::move(meters),
        [this, g = &gateway](const SimCommand& c) { return Execute(*g, c); }, WallNow);
    return gateway.mqtt->Start();
}

void SimSite::Impl::ApplyFaults(int64_t elapsed_s) {
    for (Fault& f : faults) {
        if (f.applied || elapsed_s < f.after_s)
            continue;
        f.applied = true;
        for (auto& device : devices) {
            if (device->bus_address != f.address)
                continue;
            SimMeter& m = *device->meter;
            if (f.kind == "silent")
                m.SetSilent(true);
            if (f.kind == "corrupt")
                m.SetReplyCorruption(true);
            if (f.kind == "reverse")
                (void)m.SetReverseFlow(0, true);
            if (f.kind == "voltage_loss")
                (void)m.SetVoltageLoss(0, true);
            if (f.kind == "clock_drift")
                m.SetClockDrift(f.value);
            if (f.kind == "overload")
                device->overload_watts = f.value;
            if (f.kind == "rollover")
                (void)m.SetEnergyRegisters(0, m.register_modulus() - 100);
            if (f.kind == "reset")
                m.ResetRegisters();
            if (f.kind == "drop_write_reply")  // [ACCT-1] a purchase's acknowledgement is lost
                m.SetDropWriteReplies(static_cast<int>(std::max<int64_t>(f.value, 1)));
        }
    }
}

bool SimSite::Impl::Offline(const SimGateway& gateway) const {
    if (options.offline_gateway != gateway.record.code)
        return false;
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
            .count();
    return elapsed >= options.offline_after_s &&
           elapsed < options.offline_after_s + options.offline_for_s;
}

std::optional<codec::Bytes> SimSite::Impl::Answer(SimGateway& gateway, codec::ByteView frame) {
    ++stats.requests;
    if (options.loss_percent > 0 && static_cast<int>(rng() % 100) < options.loss_percent) {
        return std::nullopt;  // lost on the line
    }
    for (SimDevice* device : gateway.devices) {
        if (auto reply = device->meter->HandleFrame(frame)) {
            ++stats.replies;
            if (options.garbage_percent > 0 &&
                static_cast<int>(rng() % 100) < options.garbage_percent) {
                codec::Bytes noisy(1 + rng() % 16);
                for (auto& b : noisy)
                    b = static_cast<std::uint8_t>(rng());
                noisy.insert(noisy.end(), reply->begin(), reply->end());
                return noisy;
            }
            return reply;
        }
    }
    return std::nullopt;
}

awaitable<void> SimSite::Impl::Tick() {
    asio::steady_timer timer(io);
    auto last = std::chrono::steady_clock::now();
    codec::MeterDateTime last_clock{0, 1, 1, 0, 0, 0};
    while (true) {
        timer.expires_after(std::chrono::seconds(1));
        co_await timer.async_wait(asio::as_tuple(use_awaitable));
        const auto now_steady = std::chrono::steady_clock::now();
        const auto real_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(now_steady - last).count();
        last = now_steady;
        const Instant now = date::floor<Seconds>(std::chrono::system_clock::now());
        const codec::MeterDateTime clock = ToMeterTime(*zone, now);
        const int64_t sim_ms = real_ms * options.speed;
        // A freeze boundary (local midnight, or each minute) passed since the last tick.
        const bool freeze = last_clock.year != 0 &&
                            (options.freeze_every_minute ? clock.minute != last_clock.minute ||
                                                               clock.hour != last_clock.hour
                                                         : clock.day != last_clock.day);
        codec::MeterDateTime freeze_at = clock;
        freeze_at.second = 0;
        if (!options.freeze_every_minute) {
            freeze_at.hour = 0;
            freeze_at.minute = 0;
        }
        last_clock = clock;
        for (auto& gateway : gateways) {
            // Outside meters_mutex: taking the link down joins the gateway's network thread,
            // which may be waiting for that mutex to execute a command.
            const bool offline = Offline(*gateway);
            if (gateway->mqtt && offline != gateway->offline)
                gateway->mqtt->SetLinkUp(!offline);
            gateway->offline = offline;
        }
        std::unique_lock meters_lock(meters_mutex);
        ApplyFaults(std::chrono::duration_cast<std::chrono::seconds>(now_steady - started).count());
        for (auto& device : devices) {
            device->meter->SetClock(clock);
            if (freeze)
                device->meter->Freeze(freeze_at);
            if (device->water) {
                // About 20 L an hour on average, in whole litres.
                device->carry_mwh += 20 * sim_ms / 3600;
                const int64_t litres = device->carry_mwh / 1000;
                device->carry_mwh %= 1000;
                if (litres > 0)
                    (void)device->meter->AdvanceVolume(litres);
                continue;
            }
            const int64_t watts = device->overload_watts > 0 ? device->overload_watts
                                  : options.load_watts > 0
                                      ? options.load_watts
                                      : ProfileWatts(device->profile, clock.hour);
            for (int c = 0; c < device->circuits; ++c) {
                // W × ms = mWh × 3600.
                device->carry_mwh += watts * sim_ms / 3600;
                const int64_t wh = device->carry_mwh / 1000;
                device->carry_mwh %= 1000;
                if (wh <= 0)
                    continue;
                const int rate = clock.hour >= 19 && clock.hour < 21   ? 0
                                 : clock.hour >= 10 && clock.hour < 19 ? 1
                                 : clock.hour >= 8 && clock.hour < 23  ? 2
                                                                       : 3;
                auto metered = device->meter->Advance(c, wh, rate);
                if (metered)
                    stats.energy_wh += *metered;
            }
        }
        meters_lock.unlock();
        if (options.run_for_s > 0 &&
            now_steady - started > std::chrono::seconds(options.run_for_s)) {
            io.stop();
            co_return;
        }
    }
}

awaitable<void> SimSite::Impl::ServeBus(SimGateway* gateway, tcp::socket socket, bool mbap) {
    codec::StreamScannerOptions scanner_options;
    scanner_options.dlt645 = !mbap;
    scanner_options.cjt188 = !mbap;
    scanner_options.modbus_tcp = mbap;
    codec::StreamScanner scanner(scanner_options);
    std::array<std::uint8_t, 1024> buffer{};
    asio::steady_timer timer(io);
    while (socket.is_open()) {
        if (Offline(*gateway))
            break;
        timer.expires_after(std::chrono::milliseconds(500));
        auto result =
            co_await (socket.async_read_some(asio::buffer(buffer), asio::as_tuple(use_awaitable)) ||
                      timer.async_wait(asio::as_tuple(use_awaitable)));
        if (result.index() == 1) {
            scanner.MarkIdle();
            continue;
        }
        auto [error, n] = std::get<0>(result);
        if (error)
            break;
        scanner.Feed(codec::ByteView(buffer.data(), n));
        while (auto frame = scanner.Next()) {
            if (auto reply = Answer(*gateway, frame->bytes)) {
                auto [write_error, written] = co_await asio::async_write(
                    socket, asio::buffer(*reply), asio::as_tuple(use_awaitable));
                (void)written;
                if (write_error)
                    co_return;
            }
        }
    }
}

awaitable<void> SimSite::Impl::DtuClient(SimGateway* gateway) {
    tcp::resolver resolver(io);
    asio::steady_timer timer(io);
    while (true) {
        if (!Offline(*gateway)) {
            // Named locals: GCC 12 mishandles temporaries inside co_await expressions.
            const std::string host = dtu_peer.host;
            const std::string port = std::to_string(dtu_peer.port);
            auto [resolve_error, endpoints] =
                co_await resolver.async_resolve(host, port, asio::as_tuple(use_awaitable));
            if (!resolve_error) {
                tcp::socket socket(io);
                auto [connect_error, endpoint] =
                    co_await asio::async_connect(socket, endpoints, asio::as_tuple(use_awaitable));
                (void)endpoint;
                if (!connect_error) {
                    const std::string hello = "JOULE-DTU:" + gateway->record.endpoint + "\r\n";
                    auto [write_error, written] = co_await asio::async_write(
                        socket, asio::buffer(hello), asio::as_tuple(use_awaitable));
                    (void)written;
                    if (!write_error)
                        co_await ServeBus(gateway, std::move(socket), false);
                }
            }
        }
        timer.expires_after(std::chrono::seconds(2));
        co_await timer.async_wait(asio::as_tuple(use_awaitable));
    }
}

awaitable<void> SimSite::Impl::ModbusServer(SimGateway* gateway, tcp::acceptor* acceptor) {
    while (true) {
        auto [error, socket] = co_await acceptor->async_accept(asio::as_tuple(use_awaitable));
        if (error)
            co_return;
        if (Offline(*gateway))
            continue;
        asio::co_spawn(io, ServeBus(gateway, std::move(socket), gateway->record.framing == "mbap"),
                       asio::detached);
    }
}

SimSite::SimSite(Store& store, SiteOptions options)
    : impl_(std::make_unique<Impl>(store, std::move(options))) {}

SimSite::~SimSite() { Stop(); }

Status SimSite::Start() {
    Impl& d = *impl_;
    JOULE_TRY(d.Load());
    if (!d.zone)
        return FailedPrecondition(
            "the site has no DTU, Modbus-TCP or MQTT gateways (MQTT ones need --mqtt)");
    d.started = std::chrono::steady_clock::now();
    // Meter clocks run before any frame arrives (a time sync right after connecting must find
    // them set).
    const codec::MeterDateTime clock =
        ToMeterTime(*d.zone, date::floor<Seconds>(std::chrono::system_clock::now()));
    for (auto& device : d.devices)
        device->meter->SetClock(clock);
    // Faults due at once hold from the first request, not from the first tick a second later (a
    // purchase sent within that second met its meter without the fault).
    d.ApplyFaults(0);
    for (auto& gateway : d.gateways) {
        if (gateway->record.transport == "dtu") {
            JOULE_ASSIGN_OR_RETURN(
                d.dtu_peer, ParseHostPort(d.options.dtu_connect, "dtu_connect", PortUse::kConnect));
            asio::co_spawn(d.io, d.DtuClient(gateway.get()), asio::detached);
            continue;
        }
        if (gateway->record.transport == "mqtt") {
            JOULE_TRY(d.StartMqtt(*gateway));
            continue;
        }
        const std::string& endpoint = gateway->record.endpoint;
        auto listen = ParseHostPort(endpoint, "endpoint", PortUse::kConnect);
        boost::system::error_code ec;
        auto address = asio::ip::make_address(listen ? listen->host : "", ec);
        if (!listen || ec) {
            return InvalidArgument("endpoint", "gateway " + gateway->record.code +
                                                   ": endpoint must be ip:port, got " + endpoint);
        }
        auto acceptor = std::make_unique<tcp::acceptor>(d.io);
        tcp::endpoint at(address, listen->port);
        acceptor->open(at.protocol(), ec);
        if (!ec)
            acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
        if (!ec)
            acceptor->bind(at, ec);
        if (!ec)
            acceptor->listen(asio::socket_base::max_listen_connections, ec);
        if (ec) {
            return MakeError(ErrorCode::kUnavailable, "gateway " + gateway->record.code +
                                                          " cannot listen on " + endpoint + ": " +
                                                          ec.message());
        }
        asio::co_spawn(d.io, d.ModbusServer(gateway.get(), acceptor.get()), asio::detached);
        d.acceptors.push_back(std::move(acceptor));
    }
    asio::co_spawn(d.io, d.Tick(), asio::detached);
    d.thread = std::thread([&d] { d.io.run(); });
    return {};
}

void SimSite::Wait() {
    if (impl_->thread.joinable())
        impl_->thread.join();
}

void SimSite::Stop() {
    for (auto& gateway : impl_->gateways) {
        if (gateway->mqtt)
            gateway->mqtt->Stop();  // says offline, as a gateway switched off cleanly would
    }
    impl_->io.stop();
    if (impl_->thread.joinable())
        impl_->thread.join();
}

const SiteStats& SimSite::stats() const { return impl_->stats; }
std::size_t SimSite::device_count() const { return impl_->devices.size(); }

}  // namespace joule::sim
