#include "codec/meter_driver.hpp"

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "base/checked.hpp"

namespace joule::codec {

namespace {

constexpr std::uint16_t kMaxRegistersPerRead = 60;  // under every vendor's per-request cap

bool IsDlt645(Protocol p) { return p == Protocol::kDlt645_2007 || p == Protocol::kDlt645_1997; }

dlt645::Edition EditionOf(const DeviceModel& model) {
    return model.protocol == Protocol::kDlt645_1997 ? dlt645::Edition::k1997
                                                    : dlt645::Edition::k2007;
}

void Put(DeviceReading& out, int circuit, Point point, Decimal value) {
    auto fill = [&](std::vector<PointValue>& values) {
        for (PointValue& v : values) {
            if (v.point == point) {
                v.value = value;
                return;
            }
        }
        values.push_back({point, value});
    };
    if (circuit < 0) {
        for (auto& values : out.circuits)
            fill(values);
    } else {
        fill(out.circuits[static_cast<std::size_t>(circuit)]);
    }
}

Result<std::uint8_t> ParseUnit(std::string_view text) {
    if (text.empty() || text.size() > 3) {
        return InvalidArgument("bus_address", "a Modbus unit id is 1..247");
    }
    unsigned value = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return InvalidArgument("bus_address", "a Modbus unit id is 1..247");
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value < 1 || value > modbus::kMaxUnit) {
        return InvalidArgument("bus_address", "a Modbus unit id is 1..247");
    }
    return static_cast<std::uint8_t>(value);
}

Result<Bytes> EncodeModbus(ModbusFraming framing, std::uint8_t unit, const modbus::Pdu& pdu,
                           std::uint16_t sequence) {
    if (framing == ModbusFraming::kMbap) {
        return modbus::EncodeTcp({sequence, unit, pdu});
    }
    return modbus::EncodeRtu({unit, pdu});
}

// A purchase count read with the other points [ACCT-1] is a wire value: a whole number below
// PurchaseCountModulus, or the reply is not what the model says it is.
Status CheckPurchaseCounts(const DeviceModel& model, const DeviceReading& reading) {
    for (const std::vector<PointValue>& circuit : reading.circuits) {
        for (const PointValue& v : circuit) {
            std::int64_t count = 0;
            if (v.point == Point::kPurchaseCount && (!Rescale(v.value, 0, &count) || count < 0 ||
                                                     count >= PurchaseCountModulus(model))) {
                return InvalidArgument(
                    "purchase_count",
                    "not a purchase count below " + std::to_string(PurchaseCountModulus(model)));
            }
        }
    }
    return {};
}

// The PDU of a Modbus reply, checked to come from `unit` (and, for MBAP, to carry `sequence`).
Result<modbus::Pdu> DecodeModbusReply(ModbusFraming framing, std::uint8_t unit,
                                      std::uint16_t sequence, ByteView reply) {
    if (framing == ModbusFraming::kMbap) {
        JOULE_ASSIGN_OR_RETURN(modbus::TcpDecoded decoded, modbus::DecodeTcp(reply));
        if (decoded.adu.transaction_id != sequence) {
            return InvalidArgument("transaction_id", "reply to a request never sent");
        }
        if (decoded.adu.unit != unit)
            return InvalidArgument("unit", "reply from another unit");
        return decoded.adu.pdu;
    }
    JOULE_ASSIGN_OR_RETURN(modbus::RtuDecoded decoded,
                           modbus::DecodeRtu(reply, modbus::Direction::kResponse));
    if (decoded.adu.unit != unit)
        return InvalidArgument("unit", "reply from another unit");
    return decoded.adu.pdu;
}

Exchange ModbusExchange(ModbusFraming framing, std::uint8_t unit, std::uint8_t function,
                        Bytes bytes) {
    Exchange e;
    e.request = std::move(bytes);
    if (framing == ModbusFraming::kMbap) {
        e.reply_kind = FrameKind::kModbusTcp;
    } else {
        e.reply_kind = FrameKind::kModbusRtu;
        e.rtu = RtuExpectation{unit, function, RtuDirection::kResponse};
    }
    return e;
}

Result<dlt645::Frame> DecodeDltReply(const dlt645::Frame& request, ByteView reply) {
    JOULE_ASSIGN_OR_RETURN(dlt645::DecodedFrame decoded, dlt645::DecodeFrame(reply));
    JOULE_TRY(dlt645::CheckReplyMatches(request, decoded.frame));
    return decoded.frame;
}

// A CJ/T 188 quantity in the reading's unit `want` ("m3", "kWh" or "m3/h"). ToBaseUnit applies
// only the ×10/×100 of a unit code, so litres, Wh and MWh are converted here; joules have no exact
// kWh value and are refused (kInvalidArgument "unit") rather than mislabelled.
Result<Decimal> ToReadingUnit(const cjt188::UnitValue& v, std::string_view want) {
    JOULE_ASSIGN_OR_RETURN(Decimal value, cjt188::ToBaseUnit(v.value, v.unit));
    const std::string_view symbol = cjt188::DescribeUnit(v.unit)->symbol;
    struct Conversion {
        std::string_view from;
        std::string_view to;
        int shift;  // value × 10^shift
    };
    static constexpr Conversion kConversions[] = {
        {"m3", "m3", 0},   {"L", "m3", -3},     {"kWh", "kWh", 0},   {"Wh", "kWh", -3},
        {"MWh", "kWh", 3}, {"m3/h", "m3/h", 0}, {"L/h", "m3/h", -3},
    };
    for (const Conversion& c : kConversions) {
        if (c.from != symbol || c.to != want)
            continue;
        // Moving the decimal point is exact; past zero places the mantissa grows (checked).
        int decimals = value.decimals - c.shift;
        std::int64_t mantissa = value.mantissa;
        for (; decimals < 0; ++decimals) {
            auto scaled = CheckedMul(mantissa, 10);
            if (!scaled)
                return InvalidArgument("value", "overflows int64 in " + std::string(want));
            mantissa = *scaled;
        }
        return Decimal{mantissa, decimals};
    }
    return InvalidArgument(
        "unit", "a value in " + std::string(symbol) + " is not an exact " + std::string(want));
}

Status FailIfError(const dlt645::Reply& reply) {
    if (const auto* error = std::get_if<dlt645::ErrorReply>(&reply)) {
        return FailedPrecondition("meter error: " + dlt645::DescribeErrorWord(error->error),
                                  "reply");
    }
    return {};
}

}  // namespace

std::optional<Decimal> DeviceReading::Find(int circuit, Point point) const {
    if (circuit < 0 || static_cast<std::size_t>(circuit) >= circuits.size())
        return std::nullopt;
    for (const PointValue& v : circuits[static_cast<std::size_t>(circuit)]) {
        if (v.point == point)
            return v.value;
    }
    return std::nullopt;
}

Result<ReadPlan> ReadPlan::Make(const DeviceModel& model, std::string_view bus_address,
                                ModbusFraming framing, bool frozen) {
    ReadPlan plan;
    plan.model_ = &model;
    plan.framing_ = framing;
    const std::vector<PointSpec>& points = frozen ? model.frozen_points : model.points;
    if (IsDlt645(model.protocol)) {
        JOULE_ASSIGN_OR_RETURN(plan.dlt_address_,
                               dlt645::ParseAddress(bus_address, model.address_padding));
        for (const PointSpec& p : points) {
            auto same = std::find_if(plan.steps_.begin(), plan.steps_.end(),
                                     [&](const Step& s) { return s.di == p.di; });
            if (same == plan.steps_.end()) {
                plan.steps_.push_back(Step{p.di, {}, 0, 0, {}});
                same = plan.steps_.end() - 1;
            }
            same->targets.push_back({p, 0, 0});
        }
    } else if (model.protocol == Protocol::kCjt188) {
        JOULE_ASSIGN_OR_RETURN(plan.cjt_address_, cjt188::ParseAddress(bus_address));
        plan.steps_.push_back(Step{cjt188::kDiCurrentData, {}, 0, 0, {}});
        for (const PointSpec& p : points)
            plan.steps_.back().targets.push_back({p, 0, 0});
    } else {
        JOULE_ASSIGN_OR_RETURN(plan.unit_, ParseUnit(bus_address));
        // Expand per-circuit points, then merge neighbours of one function into range reads.
        std::vector<Step::Target> targets;
        for (const PointSpec& p : points) {
            if (!p.per_circuit) {
                targets.push_back({p, -1, p.address});
                continue;
            }
            for (int c = 0; c < model.circuits; ++c) {
                auto address = static_cast<std::uint16_t>(p.address + static_cast<unsigned>(c) *
                                                                          model.circuit_stride);
                targets.push_back({p, c, address});
            }
        }
        std::sort(targets.begin(), targets.end(), [](const auto& a, const auto& b) {
            return std::pair(a.spec.function, a.address) < std::pair(b.spec.function, b.address);
        });
        for (const Step::Target& t : targets) {
            const bool bits = t.spec.function == modbus::FunctionCode::kReadCoils ||
                              t.spec.function == modbus::FunctionCode::kReadDiscreteInputs;
            const auto count =
                static_cast<std::uint16_t>(bits ? 1 : modbus::RegisterCount(t.spec.format.type));
            Step* last = plan.steps_.empty() ? nullptr : &plan.steps_.back();
            if (last != nullptr && last->function == t.spec.function &&
                t.address + count - last->address <= kMaxRegistersPerRead) {
                last->quantity = static_cast<std::uint16_t>(
                    std::max<int>(last->quantity, t.address + count - last->address));
            } else {
                plan.steps_.push_back(Step{0, t.spec.function, t.address, count, {}});
            }
            plan.steps_.back().targets.push_back(t);
        }
    }
    return plan;
}

Result<Exchange> ReadPlan::Request(std::size_t i, std::uint16_t sequence) const {
    const Step& step = steps_.at(i);
    const DeviceModel& model = *model_;
    if (IsDlt645(model.protocol)) {
        dlt645::ReadDataRequest read{EditionOf(model), step.di, std::nullopt};
        JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame,
                               dlt645::BuildRequest(dlt_address_, read, model.dlt645_options));
        JOULE_ASSIGN_OR_RETURN(Bytes bytes, dlt645::EncodeFrame(frame, {model.preamble_bytes}));
        return Exchange{std::move(bytes), true, FrameKind::kDlt645, std::nullopt};
    }
    if (model.protocol == Protocol::kCjt188) {
        cjt188::Frame frame = cjt188::ReadDataRequest(
            model.meter_type, cjt_address_, static_cast<std::uint16_t>(step.di),
            static_cast<std::uint8_t>(sequence), model.dialect);
        JOULE_ASSIGN_OR_RETURN(Bytes bytes,
                               cjt188::EncodeFrame(frame, model.dialect.preamble_bytes));
        return Exchange{std::move(bytes), true, FrameKind::kCjt188, std::nullopt};
    }
    JOULE_ASSIGN_OR_RETURN(modbus::Pdu pdu, modbus::EncodeRequest(modbus::ReadRequest(
                                                step.function, step.address, step.quantity)));
    JOULE_ASSIGN_OR_RETURN(Bytes bytes, EncodeModbus(framing_, unit_, pdu, sequence));
    return ModbusExchange(framing_, unit_, static_cast<std::uint8_t>(step.function),
                          std::move(bytes));
}

Status ReadPlan::Apply(std::size_t i, std::uint16_t sequence, ByteView reply,
                       DeviceReading& out) const {
    DeviceReading next = out;
    next.circuits.resize(static_cast<std::size_t>(model_->circuits));
    const Step& step = steps_.at(i);
    if (IsDlt645(model_->protocol)) {
        JOULE_TRY(ApplyDlt645(step, reply, next));
    } else if (model_->protocol == Protocol::kCjt188) {
        JOULE_TRY(ApplyCjt188(step, sequence, reply, next));
    } else {
        JOULE_TRY(ApplyModbus(step, sequence, reply, next));
    }
    JOULE_TRY(CheckPurchaseCounts(*model_, next));
    out = std::move(next);
    return {};
}

Status ReadPlan::ApplyDlt645(const Step& step, ByteView reply, DeviceReading& out) const {
    dlt645::ReadDataRequest read{EditionOf(*model_), step.di, std::nullopt};
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame request,
                           dlt645::BuildRequest(dlt_address_, read, model_->dlt645_options));
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame, DecodeDltReply(request, reply));
    JOULE_ASSIGN_OR_RETURN(dlt645::Reply parsed, dlt645::ParseReply(frame));
    JOULE_TRY(FailIfError(parsed));
    const auto* data = std::get_if<dlt645::ReadReply>(&parsed);
    if (data == nullptr)
        return InvalidArgument("control", "not a read reply");
    JOULE_ASSIGN_OR_RETURN(dlt645::DataItem item,
                           dlt645::FindDataItem(step.di, EditionOf(*model_)));
    if (item.format == dlt645::ValueFormat::kDateWeek) {
        JOULE_ASSIGN_OR_RETURN(dlt645::MeterDate date, dlt645::DecodeMeterDate(data->payload));
        MeterDateTime clock = out.meter_clock.value_or(MeterDateTime{});
        clock.year = date.year;
        clock.month = date.month;
        clock.day = date.day;
        out.meter_clock = clock;
        return {};
    }
    if (item.format == dlt645::ValueFormat::kTime) {
        JOULE_ASSIGN_OR_RETURN(dlt645::MeterTime time, dlt645::DecodeMeterTime(data->payload));
        MeterDateTime clock = out.meter_clock.value_or(MeterDateTime{});
        clock.hour = time.hour;
        clock.minute = time.minute;
        clock.second = time.second;
        out.meter_clock = clock;
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(std::vector<Decimal> values, dlt645::DecodeValues(item, data->payload));
    for (const Step::Target& t : step.targets) {
        const auto index = static_cast<std::size_t>(t.spec.block_index);
        if (index >= values.size()) {
            return InvalidArgument("data", "block has " + std::to_string(values.size()) +
                                               " values, the model reads index " +
                                               std::to_string(index));
        }
        Put(out, 0, t.spec.point, values[index]);
    }
    return {};
}

Status ReadPlan::ApplyModbus(const Step& step, std::uint16_t sequence, ByteView reply,
                             DeviceReading& out) const {
    JOULE_ASSIGN_OR_RETURN(modbus::Pdu pdu, DecodeModbusReply(framing_, unit_, sequence, reply));
    const modbus::Request request = modbus::ReadRequest(step.function, step.address, step.quantity);
    JOULE_ASSIGN_OR_RETURN(modbus::Response response, modbus::ParseResponse(request, pdu));
    if (response.exception) {
        return FailedPrecondition(
            "modbus exception " + std::string(modbus::ExceptionName(response.exception_code)),
            "reply");
    }
    for (const Step::Target& t : step.targets) {
        const auto offset = static_cast<std::size_t>(t.address - step.address);
        Decimal value;
        if (!response.bits.empty()) {
            value = Decimal{response.bits.at(offset) ? 1 : 0, 0};
        } else {
            auto registers = std::span<const std::uint16_t>(response.registers).subspan(offset);
            JOULE_ASSIGN_OR_RETURN(value, modbus::DecodeRegisters(registers, t.spec.format));
        }
        Put(out, t.circuit, t.spec.point, value);
    }
    return {};
}

Status ReadPlan::ApplyCjt188(const Step& step, std::uint16_t sequence, ByteView reply,
                             DeviceReading& out) const {
    const cjt188::Frame request = cjt188::ReadDataRequest(
        model_->meter_type, cjt_address_, static_cast<std::uint16_t>(step.di),
        static_cast<std::uint8_t>(sequence), model_->dialect);
    JOULE_ASSIGN_OR_RETURN(cjt188::DecodedFrame decoded,
                           cjt188::DecodeFrame(reply, model_->dialect.di_order));
    JOULE_TRY(cjt188::CheckReplyMatches(request, decoded.frame));
    if (cjt188::ControlOf(decoded.frame).abnormal) {
        return FailedPrecondition("meter reported an abnormal reply", "reply");
    }
    const bool heat = cjt188::FamilyOf(model_->meter_type) == cjt188::MeterFamily::kHeat;
    std::optional<MeterDateTime> clock;
    std::uint16_t st = 0;
    std::vector<PointValue> values;
    if (heat) {
        JOULE_ASSIGN_OR_RETURN(
            cjt188::HeatData data,
            cjt188::DecodeHeatData(decoded.frame.data, model_->dialect.heat_layout));
        JOULE_ASSIGN_OR_RETURN(Decimal heat_kwh, ToReadingUnit(data.current_heat, "kWh"));
        JOULE_ASSIGN_OR_RETURN(Decimal volume, ToReadingUnit(data.cumulative_flow, "m3"));
        JOULE_ASSIGN_OR_RETURN(Decimal flow, ToReadingUnit(data.flow_rate, "m3/h"));
        values = {{Point::kHeatTotal, heat_kwh},
                  {Point::kVolumeTotal, volume},
                  {Point::kFlowRate, flow},
                  {Point::kSupplyTemperature, data.supply_temperature},
                  {Point::kReturnTemperature, data.return_temperature}};
        clock = data.clock;
        st = data.st;
    } else {
        JOULE_ASSIGN_OR_RETURN(
            cjt188::WaterGasData data,
            cjt188::DecodeWaterGasData(decoded.frame.data, model_->dialect.unit_position));
        JOULE_ASSIGN_OR_RETURN(Decimal volume, ToReadingUnit(data.current, "m3"));
        values = {{Point::kVolumeTotal, volume}};
        clock = data.clock;
        st = data.st;
    }
    const cjt188::MeterStatus status = cjt188::DecodeStatus(st, model_->dialect.status_layout);
    values.push_back({Point::kValveState, Decimal{static_cast<std::int64_t>(status.valve), 0}});
    values.push_back({Point::kBatteryLow, Decimal{status.battery_low ? 1 : 0, 0}});
    for (const PointValue& v : values)
        Put(out, 0, v.point, v.value);
    if (clock)
        out.meter_clock = clock;
    return {};
}

// ------------------------------------------------------------------------------ commands

namespace {

constexpr std::array<std::pair<DeviceCommandKind, std::string_view>, 11> kCommandNames{{
    {DeviceCommandKind::kTrip, "trip"},
    {DeviceCommandKind::kClose, "close"},
    {DeviceCommandKind::kHoldPower, "keep_power"},
    {DeviceCommandKind::kReleaseHold, "release_keep_power"},
    {DeviceCommandKind::kValveOpen, "valve_open"},
    {DeviceCommandKind::kValveClose, "valve_close"},
    {DeviceCommandKind::kTimeSync, "time_sync"},
    {DeviceCommandKind::kSetAlarmAmount1, "set_alarm_amount_1"},
    {DeviceCommandKind::kSetAlarmAmount2, "set_alarm_amount_2"},
    {DeviceCommandKind::kSetPrice, "set_price"},
    {DeviceCommandKind::kPurchase, "purchase"},
}};

// A purchase command's amount in fen and its count, checked.
Result<Dlt645Purchase> PurchaseOf(const DeviceModel& model, const DeviceCommand& command) {
    if (!model.in_meter_prepaid)
        return FailedPrecondition("model " + model.code + " keeps no money", "kind");
    std::int64_t fen = 0;
    if (!command.value || !Rescale(*command.value, 2, &fen) || !IsPurchaseAmount(fen))
        return InvalidArgument("value", "a purchase is 0.01 .. 999999.99 yuan");
    if (!command.count || *command.count < 0)
        return InvalidArgument("count", "a purchase needs the purchase count after it");
    return Dlt645Purchase{fen, *command.count % PurchaseCountModulus(model)};
}

std::unexpected<Error> Unsupported(const DeviceModel& model, DeviceCommandKind kind) {
    return FailedPrecondition(
        "model " + model.code + " cannot " + std::string(DeviceCommandName(kind)), "kind");
}

// The meter's time plus `seconds`, carried through minutes, hours and days.
MeterDateTime AddSeconds(MeterDateTime t, std::int64_t seconds) {
    std::int64_t total = t.hour * 3600 + t.minute * 60 + t.second + seconds;
    std::int64_t days = total / 86400;
    total %= 86400;
    t.hour = static_cast<int>(total / 3600);
    t.minute = static_cast<int>(total / 60 % 60);
    t.second = static_cast<int>(total % 60);
    for (; days > 0; --days) {
        ++t.day;
        if (!IsValid(t)) {
            t.day = 1;
            if (++t.month > 12) {
                t.month = 1;
                ++t.year;
            }
        }
    }
    return t;
}

Result<Exchange> EncodeDlt645Command(const DeviceModel& model, const dlt645::Address& address,
                                     const DeviceCommand& command) {
    dlt645::Request request;
    dlt645::Address to = address;
    bool reply = true;
    switch (command.kind) {
        case DeviceCommandKind::kTrip:
        case DeviceCommandKind::kClose:
        case DeviceCommandKind::kHoldPower:
        case DeviceCommandKind::kReleaseHold: {
            if (!model.has_relay)
                return Unsupported(model, command.kind);
            dlt645::RemoteControlRequest control;
            control.password = model.password;
            control.operator_code = model.operator_code;
            control.command = command.kind == DeviceCommandKind::kTrip    ? model.trip_command
                              : command.kind == DeviceCommandKind::kClose ? model.close_command
                              : command.kind == DeviceCommandKind::kHoldPower
                                  ? dlt645::RemoteCommand::kHoldPower
                                  : dlt645::RemoteCommand::kHoldRelease;
            control.valid_until = AddSeconds(command.meter_now, model.command_validity_s);
            request = control;
            break;
        }
        case DeviceCommandKind::kTimeSync:
            request = dlt645::BroadcastTimeRequest{command.meter_now};
            to = dlt645::kBroadcastAddress;
            reply = false;
            break;
        case DeviceCommandKind::kSetAlarmAmount1:
        case DeviceCommandKind::kSetAlarmAmount2:
        case DeviceCommandKind::kSetPrice: {
            if (!command.value)
                return InvalidArgument("value", "a setting needs a value");
            const dlt645::DataId di =
                command.kind == DeviceCommandKind::kSetAlarmAmount1   ? 0x04001001
                : command.kind == DeviceCommandKind::kSetAlarmAmount2 ? 0x04001002
                                                                      : 0x04050101;
            JOULE_ASSIGN_OR_RETURN(dlt645::DataItem item, dlt645::FindDataItem(di));
            const Decimal values[] = {*command.value};
            JOULE_ASSIGN_OR_RETURN(Bytes value, dlt645::EncodeValues(item, values));
            request = dlt645::WriteDataRequest{dlt645::Edition::k2007, di, model.password,
                                               model.operator_code, std::move(value)};
            break;
        }
        case DeviceCommandKind::kPurchase: {
            JOULE_ASSIGN_OR_RETURN(Dlt645Purchase purchase, PurchaseOf(model, command));
            JOULE_ASSIGN_OR_RETURN(Bytes data,
                                   EncodeDlt645Purchase(model.purchase_layout, purchase));
            request =
                dlt645::WriteDataRequest{dlt645::Edition::k2007, model.purchase_di, model.password,
                                         model.operator_code, std::move(data)};
            break;
        }
        default:
            return Unsupported(model, command.kind);
    }
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame,
                           dlt645::BuildRequest(to, request, model.dlt645_options));
    JOULE_ASSIGN_OR_RETURN(Bytes bytes, dlt645::EncodeFrame(frame, {model.preamble_bytes}));
    return Exchange{std::move(bytes), reply, FrameKind::kDlt645, std::nullopt};
}

}  // namespace

std::string_view DeviceCommandName(DeviceCommandKind kind) {
    for (const auto& [k, name] : kCommandNames) {
        if (k == kind)
            return name;
    }
    return "unknown";
}

Result<DeviceCommandKind> ParseDeviceCommand(std::string_view name) {
    for (const auto& [k, text] : kCommandNames) {
        if (text == name)
            return k;
    }
    return InvalidArgument("kind", "unknown command \"" + std::string(name) + "\"");
}

// ------------------------------------------------------------------ daily freezes [DEV-7]

namespace {

// The daily frozen energy point of a DL/T 645-2007 model: a 0506 kk NN block identifier.
const PointSpec* DailyFreezePoint(const DeviceModel& model) {
    if (model.protocol != Protocol::kDlt645_2007)
        return nullptr;
    for (const PointSpec& p : model.frozen_points) {
        if (p.point == Point::kDailyFrozenEnergy && (p.di >> 16) == 0x0506 &&
            ((p.di >> 8) & 0xFF) != 0)
            return &p;
    }
    return nullptr;
}

}  // namespace

bool FreezeReadPlan::Supports(const DeviceModel& model) {
    return DailyFreezePoint(model) != nullptr;
}

Result<FreezeReadPlan> FreezeReadPlan::Make(const DeviceModel& model, std::string_view bus_address,
                                            int count) {
    const PointSpec* point = DailyFreezePoint(model);
    if (point == nullptr) {
        return FailedPrecondition("model " + model.code + " keeps no readable daily freeze",
                                  "frozen_points");
    }
    if (count < 1 || count > kMaxFreezes)
        return InvalidArgument("count", "1..62 freezes");
    FreezeReadPlan plan;
    plan.model_ = &model;
    JOULE_ASSIGN_OR_RETURN(plan.address_, dlt645::ParseAddress(bus_address, model.address_padding));
    plan.block_family_ = point->di & 0xFFFFFF00U;
    plan.count_ = count;
    return plan;
}

std::uint32_t FreezeReadPlan::DataIdOf(std::size_t i) const {
    const auto back = static_cast<std::uint32_t>(i / 2 + 1);
    return (IsTimeRequest(i) ? 0x05060000U : block_family_) | back;
}

Result<Exchange> FreezeReadPlan::Request(std::size_t i) const {
    if (i >= size())
        return InvalidArgument("i", "past the plan");
    dlt645::ReadDataRequest read{dlt645::Edition::k2007, DataIdOf(i), std::nullopt};
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame,
                           dlt645::BuildRequest(address_, read, model_->dlt645_options));
    JOULE_ASSIGN_OR_RETURN(Bytes bytes, dlt645::EncodeFrame(frame, {model_->preamble_bytes}));
    return Exchange{std::move(bytes), true, FrameKind::kDlt645, std::nullopt};
}

Status FreezeReadPlan::Apply(std::size_t i, ByteView reply,
                             std::vector<std::optional<FrozenRecord>>& out) const {
    if (i >= size())
        return InvalidArgument("i", "past the plan");
    const std::uint32_t di = DataIdOf(i);
    dlt645::ReadDataRequest read{dlt645::Edition::k2007, di, std::nullopt};
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame request,
                           dlt645::BuildRequest(address_, read, model_->dlt645_options));
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame, DecodeDltReply(request, reply));
    JOULE_ASSIGN_OR_RETURN(dlt645::Reply parsed, dlt645::ParseReply(frame));
    JOULE_TRY(FailIfError(parsed));
    const auto* data = std::get_if<dlt645::ReadReply>(&parsed);
    if (data == nullptr)
        return InvalidArgument("control", "not a read reply");
    out.resize(static_cast<std::size_t>(count_));
    std::optional<FrozenRecord>& record = out[i / 2];
    if (IsTimeRequest(i)) {
        JOULE_ASSIGN_OR_RETURN(MeterDateTime at, dlt645::DecodeDateTimeMinutes(data->payload));
        FrozenRecord next = record.value_or(FrozenRecord{});
        next.at = at;
        record = next;
        return {};
    }
    JOULE_ASSIGN_OR_RETURN(dlt645::DataItem item, dlt645::FindDataItem(di, dlt645::Edition::k2007));
    JOULE_ASSIGN_OR_RETURN(std::vector<Decimal> values, dlt645::DecodeValues(item, data->payload));
    FrozenRecord next = record.value_or(FrozenRecord{});
    next.total = values.front();  // DecodeValues returns at least one value or fails
    if (values.size() >= 5)
        next.per_rate = std::array<Decimal, 4>{values[1], values[2], values[3], values[4]};
    record = next;
    return {};
}

Result<Exchange> EncodeCommand(const DeviceModel& model, std::string_view bus_address,
                               ModbusFraming framing, const DeviceCommand& command,
                               std::uint16_t sequence) {
    if (IsDlt645(model.protocol)) {
        if (model.protocol == Protocol::kDlt645_1997)
            return Unsupported(model, command.kind);
        JOULE_ASSIGN_OR_RETURN(dlt645::Address address,
                               dlt645::ParseAddress(bus_address, model.address_padding));
        return EncodeDlt645Command(model, address, command);
    }
    if (model.protocol == Protocol::kCjt188 && command.kind == DeviceCommandKind::kPurchase) {
        JOULE_ASSIGN_OR_RETURN(Dlt645Purchase purchase, PurchaseOf(model, command));
        JOULE_ASSIGN_OR_RETURN(cjt188::Address address, cjt188::ParseAddress(bus_address));
        JOULE_ASSIGN_OR_RETURN(
            Bytes data, cjt188::EncodePurchaseData(
                            {static_cast<std::uint8_t>(purchase.count), purchase.amount_fen}));
        cjt188::Frame frame = cjt188::WriteDataRequest(
            model.meter_type, address, cjt188::kDiWritePurchase,
            static_cast<std::uint8_t>(sequence), std::move(data), model.dialect);
        JOULE_ASSIGN_OR_RETURN(Bytes bytes,
                               cjt188::EncodeFrame(frame, model.dialect.preamble_bytes));
        return Exchange{std::move(bytes), true, FrameKind::kCjt188, std::nullopt};
    }
    if (model.protocol == Protocol::kCjt188) {
        if (!model.has_valve || (command.kind != DeviceCommandKind::kValveOpen &&
                                 command.kind != DeviceCommandKind::kValveClose)) {
            return Unsupported(model, command.kind);
        }
        JOULE_ASSIGN_OR_RETURN(cjt188::Address address, cjt188::ParseAddress(bus_address));
        const auto valve = command.kind == DeviceCommandKind::kValveOpen
                               ? cjt188::ValveCommand::kOpen
                               : cjt188::ValveCommand::kClose;
        cjt188::Frame frame = cjt188::ValveControlRequest(
            model.meter_type, address, valve, static_cast<std::uint8_t>(sequence), model.dialect);
        JOULE_ASSIGN_OR_RETURN(Bytes bytes,
                               cjt188::EncodeFrame(frame, model.dialect.preamble_bytes));
        return Exchange{std::move(bytes), true, FrameKind::kCjt188, std::nullopt};
    }
    if (!model.has_relay ||
        (command.kind != DeviceCommandKind::kTrip && command.kind != DeviceCommandKind::kClose)) {
        return Unsupported(model, command.kind);
    }
    if (command.circuit < 0 || command.circuit >= model.circuits) {
        return InvalidArgument("circuit",
                               "the model has " + std::to_string(model.circuits) + " circuit(s)");
    }
    JOULE_ASSIGN_OR_RETURN(std::uint8_t unit, ParseUnit(bus_address));
    const auto coil = static_cast<std::uint16_t>(
        model.relay_coil + static_cast<unsigned>(command.circuit) * model.relay_coil_stride);
    JOULE_ASSIGN_OR_RETURN(modbus::Pdu pdu, modbus::EncodeRequest(modbus::WriteSingleCoil(
                                                coil, command.kind == DeviceCommandKind::kClose)));
    JOULE_ASSIGN_OR_RETURN(Bytes bytes, EncodeModbus(framing, unit, pdu, sequence));
    return ModbusExchange(framing, unit, static_cast<std::uint8_t>(pdu.function), std::move(bytes));
}

Status CheckCommandReply(const DeviceModel& model, const Exchange& exchange, ByteView reply) {
    if (IsDlt645(model.protocol)) {
        JOULE_ASSIGN_OR_RETURN(dlt645::DecodedFrame request, dlt645::DecodeFrame(exchange.request));
        JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame, DecodeDltReply(request.frame, reply));
        JOULE_ASSIGN_OR_RETURN(dlt645::Reply parsed, dlt645::ParseReply(frame));
        JOULE_TRY(FailIfError(parsed));
        if (!std::holds_alternative<dlt645::AckReply>(parsed)) {
            return InvalidArgument("control", "not an acknowledgement");
        }
        return {};
    }
    if (model.protocol == Protocol::kCjt188) {
        JOULE_ASSIGN_OR_RETURN(cjt188::DecodedFrame request,
                               cjt188::DecodeFrame(exchange.request, model.dialect.di_order));
        JOULE_ASSIGN_OR_RETURN(cjt188::DecodedFrame decoded,
                               cjt188::DecodeFrame(reply, model.dialect.di_order));
        JOULE_TRY(cjt188::CheckReplyMatches(request.frame, decoded.frame));
        if (cjt188::ControlOf(decoded.frame).abnormal) {
            return FailedPrecondition("meter refused the command (abnormal reply)", "reply");
        }
        return {};
    }
    const bool mbap = exchange.reply_kind == FrameKind::kModbusTcp;
    modbus::Pdu request_pdu;
    std::uint8_t unit = 0;
    std::uint16_t sequence = 0;
    if (mbap) {
        JOULE_ASSIGN_OR_RETURN(modbus::TcpDecoded sent, modbus::DecodeTcp(exchange.request));
        request_pdu = sent.adu.pdu;
        unit = sent.adu.unit;
        sequence = sent.adu.transaction_id;
    } else {
        JOULE_ASSIGN_OR_RETURN(modbus::RtuDecoded sent,
                               modbus::DecodeRtu(exchange.request, modbus::Direction::kRequest));
        request_pdu = sent.adu.pdu;
        unit = sent.adu.unit;
    }
    JOULE_ASSIGN_OR_RETURN(modbus::Request request, modbus::DecodeRequest(request_pdu));
    JOULE_ASSIGN_OR_RETURN(
        modbus::Pdu pdu, DecodeModbusReply(mbap ? ModbusFraming::kMbap : ModbusFraming::kRtu, unit,
                                           sequence, reply));
    JOULE_ASSIGN_OR_RETURN(modbus::Response response, modbus::ParseResponse(request, pdu));
    if (response.exception) {
        return FailedPrecondition(
            "modbus exception " + std::string(modbus::ExceptionName(response.exception_code)),
            "reply");
    }
    return {};
}

std::optional<bool> RelayClosed(const DeviceReading& reading, int circuit) {
    if (auto word = reading.Find(circuit, Point::kRunStatus3)) {
        return !dlt645::DecodeRunStatus3(static_cast<std::uint16_t>(word->mantissa)).relay_open;
    }
    if (auto coil = reading.Find(circuit, Point::kRelayClosed))
        return coil->mantissa != 0;
    return std::nullopt;
}

std::optional<bool> HoldPower(const DeviceReading& reading, int circuit) {
    if (auto word = reading.Find(circuit, Point::kRunStatus3)) {
        return dlt645::DecodeRunStatus3(static_cast<std::uint16_t>(word->mantissa)).hold_power;
    }
    return std::nullopt;
}

// ------------------------------------------------------------------ purchases [ACCT-1]

Result<Bytes> EncodeDlt645Purchase(PurchaseLayout layout, const Dlt645Purchase& purchase) {
    if (!IsPurchaseAmount(purchase.amount_fen))
        return InvalidArgument("amount", "a purchase is 0.01 .. 999999.99 yuan");
    if (purchase.count < 0 || purchase.count >= kDlt645PurchaseCounts)
        return InvalidArgument("count", "the purchase count is 0 .. 9999 on the wire");
    JOULE_ASSIGN_OR_RETURN(
        Bytes amount, EncodeBcdLe(static_cast<std::uint64_t>(purchase.amount_fen), 4, "amount"));
    JOULE_ASSIGN_OR_RETURN(Bytes count,
                           EncodeBcdLe(static_cast<std::uint64_t>(purchase.count), 2, "count"));
    Bytes out = layout == PurchaseLayout::kAmountCount ? amount : count;
    const Bytes& second = layout == PurchaseLayout::kAmountCount ? count : amount;
    out.insert(out.end(), second.begin(), second.end());
    return out;
}

Result<Dlt645Purchase> DecodeDlt645Purchase(PurchaseLayout layout, ByteView data) {
    if (data.size() != 6)
        return InvalidArgument("data", "a purchase is 6 bytes (amount 4, count 2)");
    const bool amount_first = layout == PurchaseLayout::kAmountCount;
    JOULE_ASSIGN_OR_RETURN(std::uint64_t amount,
                           DecodeBcdLe(data.subspan(amount_first ? 0 : 2, 4), "amount"));
    JOULE_ASSIGN_OR_RETURN(std::uint64_t count,
                           DecodeBcdLe(data.subspan(amount_first ? 4 : 0, 2), "count"));
    return Dlt645Purchase{static_cast<std::int64_t>(amount), static_cast<std::int64_t>(count)};
}

std::int64_t PurchaseCountModulus(const DeviceModel& model) {
    return model.protocol == Protocol::kCjt188 ? kCjt188PurchaseCounts : kDlt645PurchaseCounts;
}

namespace {

// The DL/T 645 identifier of the purchase count: the model's point, else the money-type record.
std::uint32_t PurchaseCountDiOf(const DeviceModel& model) {
    for (const PointSpec& p : model.points) {
        if (p.point == Point::kPurchaseCount)
            return p.di;
    }
    return 0x03330201;
}

}  // namespace

Result<Exchange> EncodePurchaseCountRead(const DeviceModel& model, std::string_view bus_address,
                                         std::uint16_t sequence) {
    if (!TakesPurchases(model))
        return Unsupported(model, DeviceCommandKind::kPurchase);
    if (model.protocol == Protocol::kDlt645_2007) {
        JOULE_ASSIGN_OR_RETURN(dlt645::Address address,
                               dlt645::ParseAddress(bus_address, model.address_padding));
        dlt645::ReadDataRequest read{dlt645::Edition::k2007, PurchaseCountDiOf(model),
                                     std::nullopt};
        JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame,
                               dlt645::BuildRequest(address, read, model.dlt645_options));
        JOULE_ASSIGN_OR_RETURN(Bytes bytes, dlt645::EncodeFrame(frame, {model.preamble_bytes}));
        return Exchange{std::move(bytes), true, FrameKind::kDlt645, std::nullopt};
    }
    if (model.protocol == Protocol::kCjt188) {
        JOULE_ASSIGN_OR_RETURN(cjt188::Address address, cjt188::ParseAddress(bus_address));
        cjt188::Frame frame =
            cjt188::ReadDataRequest(model.meter_type, address, cjt188::kDiReadPurchase,
                                    static_cast<std::uint8_t>(sequence), model.dialect);
        JOULE_ASSIGN_OR_RETURN(Bytes bytes,
                               cjt188::EncodeFrame(frame, model.dialect.preamble_bytes));
        return Exchange{std::move(bytes), true, FrameKind::kCjt188, std::nullopt};
    }
    return Unsupported(model, DeviceCommandKind::kPurchase);
}

Result<std::int64_t> DecodePurchaseCount(const DeviceModel& model, const Exchange& exchange,
                                         ByteView reply) {
    if (model.protocol == Protocol::kCjt188) {
        JOULE_ASSIGN_OR_RETURN(cjt188::DecodedFrame request,
                               cjt188::DecodeFrame(exchange.request, model.dialect.di_order));
        JOULE_ASSIGN_OR_RETURN(cjt188::DecodedFrame decoded,
                               cjt188::DecodeFrame(reply, model.dialect.di_order));
        JOULE_TRY(cjt188::CheckReplyMatches(request.frame, decoded.frame));
        if (cjt188::ControlOf(decoded.frame).abnormal)
            return FailedPrecondition("meter reported an abnormal reply", "reply");
        JOULE_ASSIGN_OR_RETURN(cjt188::PurchaseStatus status,
                               cjt188::DecodePurchaseStatus(decoded.frame.data));
        return static_cast<std::int64_t>(status.sequence);
    }
    if (model.protocol != Protocol::kDlt645_2007)
        return Unsupported(model, DeviceCommandKind::kPurchase);
    JOULE_ASSIGN_OR_RETURN(dlt645::DecodedFrame request, dlt645::DecodeFrame(exchange.request));
    JOULE_ASSIGN_OR_RETURN(dlt645::Frame frame, DecodeDltReply(request.frame, reply));
    JOULE_ASSIGN_OR_RETURN(dlt645::Reply parsed, dlt645::ParseReply(frame));
    JOULE_TRY(FailIfError(parsed));
    const auto* data = std::get_if<dlt645::ReadReply>(&parsed);
    if (data == nullptr)
        return InvalidArgument("control", "not a read reply");
    const std::uint32_t di = PurchaseCountDiOf(model);
    if (data->di != di)
        return InvalidArgument("di", "a reply to a request never sent");
    JOULE_ASSIGN_OR_RETURN(dlt645::DataItem item, dlt645::FindDataItem(di, dlt645::Edition::k2007));
    JOULE_ASSIGN_OR_RETURN(std::vector<Decimal> values, dlt645::DecodeValues(item, data->payload));
    std::int64_t count = 0;
    if (!Rescale(values.front(), 0, &count) || count < 0 || count >= PurchaseCountModulus(model))
        return InvalidArgument("value", "not a purchase count");
    return count;
}

}  // namespace joule::codec
