// SimMeter: state, the load, faults and the protocol dispatch. The protocol front ends live in
// sim_dlt645.cpp, sim_modbus.cpp and sim_cjt188.cpp.
#include "sim/sim_meter.hpp"

#include <algorithm>
#include <utility>

#include "base/checked.hpp"
#include "codec/cjt188.hpp"
#include "codec/dlt645.hpp"
#include "codec/meter_driver.hpp"
#include "codec/modbus.hpp"
#include "sim/sim_values.hpp"

namespace joule::sim {

namespace {

constexpr std::int64_t kWireModulus = 1'000'000'000;   // 999999.99 (kWh, m3) + 0.01, in Wh or L
constexpr std::int64_t kF32Modulus = 100'000'000'000;  // 10^8 kWh in Wh
constexpr std::int64_t kMaxModulus = 1'000'000'000'000'000'000;

bool IsDlt645(codec::Protocol p) {
    return p == codec::Protocol::kDlt645_2007 || p == codec::Protocol::kDlt645_1997;
}

// The Wh an integer energy register holds before it wraps: 2^bits × 10^(scale + 3).
std::int64_t ModbusModulus(const codec::DeviceModel& model) {
    for (const codec::PointSpec& p : model.points) {
        if (p.point != codec::Point::kEnergyTotal)
            continue;
        Int128 raw_states = 0;
        switch (p.format.type) {
            case codec::modbus::ValueType::kU16:
                raw_states = Int128{1} << 16;
                break;
            case codec::modbus::ValueType::kI16:
                raw_states = Int128{1} << 15;
                break;
            case codec::modbus::ValueType::kU32:
                raw_states = Int128{1} << 32;
                break;
            case codec::modbus::ValueType::kI32:
                raw_states = Int128{1} << 31;
                break;
            case codec::modbus::ValueType::kF32:
                return kF32Modulus;
            case codec::modbus::ValueType::kU64:
            case codec::modbus::ValueType::kI64:
                return kMaxModulus;
        }
        int exponent = p.format.scale_exponent + 3;  // register unit in Wh = 10^exponent
        for (; exponent > 0 && raw_states <= kMaxModulus; --exponent)
            raw_states *= 10;
        for (; exponent < 0; ++exponent)
            raw_states /= 10;
        return static_cast<std::int64_t>(std::clamp<Int128>(raw_states, 1, kMaxModulus));
    }
    return kF32Modulus;
}

Result<std::uint8_t> ParseUnit(std::string_view text) {
    unsigned value = 0;
    bool ok = !text.empty() && text.size() <= 3;
    for (char c : text) {
        ok = ok && c >= '0' && c <= '9';
        if (ok)
            value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (!ok || value < 1 || value > codec::modbus::kMaxUnit)
        return InvalidArgument("bus_address", "a Modbus unit id is 1..247");
    return static_cast<std::uint8_t>(value);
}

Decimal Negate(Decimal d) { return Decimal{-d.mantissa, d.decimals}; }

}  // namespace

// ------------------------------------------------------------------------------ civil time

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t DaysFromCivil(std::int64_t y, std::int64_t m, std::int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const std::int64_t yoe = y - era * 400;
    const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

constexpr std::int64_t kDaysTo2000 = 10957;  // DaysFromCivil(2000, 1, 1)

}  // namespace

std::int64_t ToSeconds(const MeterDateTime& t) {
    const std::int64_t days = DaysFromCivil(t.year, t.month, t.day) - kDaysTo2000;
    return days * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

MeterDateTime FromSeconds(std::int64_t seconds) {
    std::int64_t days = seconds / 86400;
    std::int64_t rest = seconds % 86400;
    if (rest < 0) {
        rest += 86400;
        --days;
    }
    // civil_from_days
    const std::int64_t z = days + kDaysTo2000 + 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const std::int64_t doe = z - era * 146097;
    const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const std::int64_t mp = (5 * doy + 2) / 153;
    const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
    const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
    return MeterDateTime{static_cast<int>(y),
                         static_cast<int>(m),
                         static_cast<int>(d),
                         static_cast<int>(rest / 3600),
                         static_cast<int>(rest / 60 % 60),
                         static_cast<int>(rest % 60)};
}

MeterDateTime AddSeconds(const MeterDateTime& t, std::int64_t seconds) {
    return FromSeconds(ToSeconds(t) + seconds);
}

// ------------------------------------------------------------------------------ construction

Result<SimMeter> SimMeter::Make(codec::DeviceModel model, std::string_view bus_address,
                                SimOptions options) {
    if (auto valid = codec::ValidateDeviceModel(model); !valid)
        return std::unexpected(valid.error().WithFieldPrefix("model"));
    SimMeter m;
    m.bus_address_ = std::string(bus_address);
    if (IsDlt645(model.protocol)) {
        // The meter's real address is all BCD; AA padding is how masters short-address it.
        JOULE_ASSIGN_OR_RETURN(codec::dlt645::Address address,
                               codec::dlt645::ParseAddress(bus_address));
        if (codec::dlt645::HasWildcard(address) || codec::dlt645::IsBroadcast(address))
            return InvalidArgument("bus_address", "a meter's own address is all BCD digits");
        std::copy(address.bytes.begin(), address.bytes.end(), m.address_bytes_.begin());
    } else if (model.protocol == codec::Protocol::kCjt188) {
        auto address = codec::cjt188::ParseAddress(bus_address);
        if (!address)
            return InvalidArgument("bus_address", address.error().message);
        for (std::uint8_t b : *address) {
            if (!codec::IsBcdByte(b))
                return InvalidArgument("bus_address", "a meter's own address is all BCD digits");
        }
        m.address_bytes_ = *address;
    } else {
        JOULE_ASSIGN_OR_RETURN(m.unit_, ParseUnit(bus_address));
    }
    m.options_ = options;
    if (!Cjt188BasePerUnit(options.volume_unit, true))
        return InvalidArgument("volume_unit", "CJ/T 188 volume is sent in L or m3");
    if (!Cjt188BasePerUnit(options.heat_unit, false))
        return InvalidArgument("heat_unit", "CJ/T 188 heat is sent in Wh, kWh or MWh");
    if (options.register_modulus < 0)
        return InvalidArgument("register_modulus", "must be positive (or 0: the wire's capacity)");
    m.modulus_ = options.register_modulus > 0                    ? options.register_modulus
                 : model.protocol == codec::Protocol::kModbusRtu ? ModbusModulus(model)
                                                                 : kWireModulus;
    m.circuits_.resize(static_cast<std::size_t>(model.circuits));
    m.model_ = std::move(model);
    m.UpdateLocalTrip();
    return m;
}

const CircuitState& SimMeter::circuit(int c) const {
    return circuits_.at(static_cast<std::size_t>(c));
}

MeterDateTime SimMeter::MeterClock() const { return AddSeconds(now_, drift_s_); }

std::int64_t SimMeter::Wrap(std::int64_t value) const { return value % modulus_; }

// ------------------------------------------------------------------------------ the bus

std::optional<Bytes> SimMeter::HandleFrame(ByteView request_frame) {
    ++stats_.frames;
    std::optional<Bytes> reply;
    if (!silent_) {
        if (IsDlt645(model_.protocol))
            reply = HandleDlt645(request_frame);
        else if (model_.protocol == codec::Protocol::kCjt188)
            reply = HandleCjt188(request_frame);
        else
            reply = HandleModbus(request_frame);
    }
    if (!reply) {
        ++stats_.ignored;
        return std::nullopt;
    }
    ++stats_.replies;
    if (corrupt_ && !reply->empty()) {
        // MBAP has no checksum: break its protocol id (bytes 2-3) so the decoder must notice.
        const bool mbap = model_.protocol == codec::Protocol::kModbusRtu && reply_is_mbap_;
        const std::size_t at = mbap                                             ? 3
                               : model_.protocol == codec::Protocol::kModbusRtu ? reply->size() - 1
                                                                                : reply->size() - 2;
        (*reply)[at] = static_cast<std::uint8_t>((*reply)[at] ^ 0x5A);
    }
    return reply;
}

// ------------------------------------------------------------------------------ the load

Result<std::int64_t> SimMeter::Advance(int circuit, std::int64_t energy_wh, int rate_index) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    if (energy_wh < 0)
        return InvalidArgument("energy_wh", "must not be negative");
    if (rate_index < 0 || rate_index >= kRates)
        return InvalidArgument("rate_index", "must be 0..3 (T1..T4)");
    CircuitState& c = mutable_circuit(circuit);
    if (!c.relay_closed() || c.voltage_loss)
        return 0;
    const std::int64_t step = energy_wh % modulus_;
    if (c.reverse_flow) {
        c.reverse_wh = Wrap(c.reverse_wh + step);
        auto& rate = c.reverse_rate_wh[static_cast<std::size_t>(rate_index)];
        rate = Wrap(rate + step);
    } else {
        c.forward_wh = Wrap(c.forward_wh + step);
        auto& rate = c.rate_wh[static_cast<std::size_t>(rate_index)];
        rate = Wrap(rate + step);
    }
    if (model_.in_meter_prepaid) {
        // Combined active energy (forward + reverse) is charged, as prepaid meters do so that
        // reversed wiring does not meter for free.
        Charge(energy_wh);
        UpdateLocalTrip();
    }
    return energy_wh;
}

Result<std::int64_t> SimMeter::AdvanceVolume(std::int64_t litres) {
    if (litres < 0)
        return InvalidArgument("litres", "must not be negative");
    if (!fluid_.valve_open)
        return 0;
    fluid_.volume_l = Wrap(fluid_.volume_l + litres % modulus_);
    return litres;
}

Result<std::int64_t> SimMeter::AdvanceHeat(std::int64_t heat_wh) {
    if (heat_wh < 0)
        return InvalidArgument("heat_wh", "must not be negative");
    if (!fluid_.valve_open)
        return 0;
    fluid_.heat_wh = Wrap(fluid_.heat_wh + heat_wh % modulus_);
    return heat_wh;
}

void SimMeter::Charge(std::int64_t energy_wh) {
    PrepaidState& p = prepaid_;
    p.segment_wh = CheckedAdd(p.segment_wh, energy_wh).value_or(p.segment_wh);
    // fen = Wh × (yuan/kWh × 10^4) / 10^5, rounded half up once over the whole segment.
    const Int128 numerator = Int128{p.segment_wh} * p.price_e4;
    const auto fen = static_cast<std::int64_t>((numerator + 50'000) / 100'000);
    p.balance_fen -= fen - p.segment_fen;
    p.segment_fen = fen;
}

void SimMeter::UpdateLocalTrip() {
    if (!model_.in_meter_prepaid)
        return;
    for (CircuitState& c : circuits_) {
        if (prepaid_.balance_fen > 0)
            c.local_tripped = false;
        else if (!c.hold)
            c.local_tripped = true;
    }
}

void SimMeter::SetPrice(std::int64_t price_e4) {
    prepaid_.price_e4 = price_e4;
    prepaid_.segment_wh = 0;
    prepaid_.segment_fen = 0;
}

bool SimMeter::Trip(int circuit) {
    CircuitState& c = mutable_circuit(circuit);
    if (c.hold)
        return false;
    c.remote_tripped = true;
    c.awaiting_button = false;
    return true;
}

bool SimMeter::Close(int circuit, bool direct) {
    CircuitState& c = mutable_circuit(circuit);
    if (model_.in_meter_prepaid && prepaid_.balance_fen <= 0 && !c.hold)
        return false;  // no money: a local-prepaid meter refuses to close
    if (c.remote_tripped) {
        c.remote_tripped = false;
        c.awaiting_button = !direct;
    } else if (direct) {
        c.awaiting_button = false;
    }
    return true;
}

Status SimMeter::PressButton(int circuit) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    mutable_circuit(circuit).awaiting_button = false;
    return {};
}

// ------------------------------------------------------------------------------ setters

Status SimMeter::SetInstantaneous(int circuit, Decimal voltage, Decimal current, Decimal power) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    CircuitState& c = mutable_circuit(circuit);
    c.voltage = voltage;
    c.current = current;
    c.power = power;
    return {};
}

Status SimMeter::SetPowerFactor(int circuit, Decimal power_factor) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    mutable_circuit(circuit).power_factor = power_factor;
    return {};
}

Status SimMeter::SetFrequency(int circuit, Decimal frequency) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    mutable_circuit(circuit).frequency = frequency;
    return {};
}

void SimMeter::SetHeatInstantaneous(Decimal power_kw, Decimal flow_m3h, Decimal supply_c,
                                    Decimal return_c) {
    fluid_.heat_power = power_kw;
    fluid_.flow_rate = flow_m3h;
    fluid_.supply_temperature = supply_c;
    fluid_.return_temperature = return_c;
}

void SimMeter::Freeze(const MeterDateTime& at) {
    FreezeRecord record;
    record.at = at;
    record.at.second = 0;
    record.circuits = circuits_;
    record.volume_l = fluid_.volume_l;
    record.heat_wh = fluid_.heat_wh;
    freezes_.insert(freezes_.begin(), std::move(record));
    if (freezes_.size() > kDailyFreezesKept)
        freezes_.resize(kDailyFreezesKept);
}

Status SimMeter::SetEnergyRegisters(int circuit, std::int64_t forward_wh,
                                    std::array<std::int64_t, kRates> rate_wh,
                                    std::int64_t reverse_wh) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    const bool negative =
        forward_wh < 0 || reverse_wh < 0 ||
        std::any_of(rate_wh.begin(), rate_wh.end(), [](std::int64_t v) { return v < 0; });
    if (negative)
        return InvalidArgument("energy_wh", "registers are never negative");
    CircuitState& c = mutable_circuit(circuit);
    c.forward_wh = Wrap(forward_wh);
    for (std::size_t i = 0; i < rate_wh.size(); ++i)
        c.rate_wh[i] = Wrap(rate_wh[i]);
    c.reverse_wh = Wrap(reverse_wh);
    return {};
}

Status SimMeter::SetVolumeRegister(std::int64_t litres) {
    if (litres < 0)
        return InvalidArgument("litres", "registers are never negative");
    fluid_.volume_l = Wrap(litres);
    return {};
}

Status SimMeter::SetHeatRegister(std::int64_t heat_wh) {
    if (heat_wh < 0)
        return InvalidArgument("heat_wh", "registers are never negative");
    fluid_.heat_wh = Wrap(heat_wh);
    return {};
}

void SimMeter::ResetRegisters() {
    for (CircuitState& c : circuits_) {
        c.forward_wh = 0;
        c.rate_wh = {};
        c.reverse_wh = 0;
        c.reverse_rate_wh = {};
    }
    fluid_.volume_l = 0;
    fluid_.heat_wh = 0;
    freezes_.clear();
}

Status SimMeter::TopUp(std::int64_t amount_fen) {
    if (!model_.in_meter_prepaid)
        return FailedPrecondition("model " + model_.code + " keeps no money", "model");
    if (amount_fen <= 0)
        return InvalidArgument("amount_fen", "a purchase is positive");
    prepaid_.balance_fen += amount_fen;
    prepaid_.cumulative_purchase_fen += amount_fen;
    ++prepaid_.purchase_count;
    UpdateLocalTrip();
    return {};
}

PurchaseOutcome SimMeter::ApplyPurchase(std::int64_t amount_fen, std::int64_t wire_count) {
    const std::int64_t modulus = codec::PurchaseCountModulus(model_);
    const std::int64_t now = prepaid_.purchase_count % modulus;
    if (model_.in_meter_prepaid && amount_fen > 0 && wire_count == (now + 1) % modulus) {
        (void)TopUp(amount_fen);
        prepaid_.last_purchase_fen = amount_fen;
        ++stats_.purchases_applied;
        ++stats_.commands;
        return PurchaseOutcome::kApplied;
    }
    if (model_.in_meter_prepaid && wire_count == now && prepaid_.purchase_count > 0) {
        ++stats_.purchases_replayed;
        return PurchaseOutcome::kReplayed;
    }
    ++stats_.purchases_refused;
    return PurchaseOutcome::kRefused;
}

std::optional<Bytes> SimMeter::WriteReply(std::optional<Bytes> reply) {
    if (reply && drop_write_replies_ > 0) {
        --drop_write_replies_;
        ++stats_.replies_dropped;
        return std::nullopt;
    }
    return reply;
}

Status SimMeter::SetBalance(std::int64_t balance_fen) {
    if (!model_.in_meter_prepaid)
        return FailedPrecondition("model " + model_.code + " keeps no money", "model");
    prepaid_.balance_fen = balance_fen;
    UpdateLocalTrip();
    return {};
}

Status SimMeter::SetReverseFlow(int circuit, bool reverse) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    mutable_circuit(circuit).reverse_flow = reverse;
    return {};
}

Status SimMeter::SetVoltageLoss(int circuit, bool lost) {
    if (!ValidCircuit(circuit))
        return InvalidArgument("circuit", "the model has " + std::to_string(model_.circuits));
    mutable_circuit(circuit).voltage_loss = lost;
    return {};
}

// ------------------------------------------------------------------------------ values

std::uint16_t SimMeter::RunStatus3Word(int circuit) const {
    const CircuitState& c = this->circuit(circuit);
    codec::dlt645::RunStatus3 s;
    s.relay_open = !c.relay_closed();
    s.relay_command_trip = c.remote_tripped || c.local_tripped;
    s.pre_trip_alarm = c.alarm || (model_.in_meter_prepaid && prepaid_.alarm_1_fen > 0 &&
                                   prepaid_.balance_fen < prepaid_.alarm_1_fen);
    s.meter_type = model_.in_meter_prepaid ? codec::dlt645::PrepaidType::kMoney
                                           : codec::dlt645::PrepaidType::kNotPrepaid;
    s.hold_power = c.hold;
    return codec::dlt645::EncodeRunStatus3(s);
}

std::optional<Decimal> SimMeter::Value(int circuit, codec::Point point) const {
    using codec::Point;
    if (!ValidCircuit(circuit))
        return std::nullopt;
    const CircuitState& c = this->circuit(circuit);
    const bool prepaid = model_.in_meter_prepaid;
    auto signed_value = [&c](Decimal d) {
        if (c.voltage_loss)
            return Decimal{0, d.decimals};
        return c.reverse_flow ? Negate(d) : d;
    };
    switch (point) {
        case Point::kEnergyTotal:
            return Decimal{c.forward_wh, 3};
        case Point::kEnergySharp:
        case Point::kEnergyPeak:
        case Point::kEnergyFlat:
        case Point::kEnergyValley: {
            const auto rate = static_cast<std::size_t>(static_cast<int>(point) -
                                                       static_cast<int>(Point::kEnergySharp));
            return Decimal{c.rate_wh[rate], 3};
        }
        case Point::kEnergyReverse:
            return Decimal{c.reverse_wh, 3};
        case Point::kVoltage:
            return c.voltage_loss ? Decimal{0, c.voltage.decimals} : c.voltage;
        case Point::kCurrent:
            return signed_value(c.current);
        case Point::kPower:
            return signed_value(c.power);
        case Point::kPowerFactor:
            return c.power_factor;
        case Point::kFrequency:
            return c.voltage_loss ? Decimal{0, c.frequency.decimals} : c.frequency;
        case Point::kBalance:
            if (!prepaid)
                return std::nullopt;
            return Decimal{std::max<std::int64_t>(prepaid_.balance_fen, 0), 2};
        case Point::kOverdraft:
            if (!prepaid)
                return std::nullopt;
            return Decimal{std::max<std::int64_t>(-prepaid_.balance_fen, 0), 2};
        case Point::kPurchaseCount:
            if (!prepaid)
                return std::nullopt;
            return Decimal{prepaid_.purchase_count, 0};
        case Point::kRunStatus3:
            return Decimal{RunStatus3Word(circuit), 0};
        case Point::kRelayClosed:
            return Decimal{c.relay_closed() ? 1 : 0, 0};
        case Point::kVolumeTotal:
            return Decimal{fluid_.volume_l, 3};
        case Point::kHeatTotal:
            return Decimal{fluid_.heat_wh, 3};
        case Point::kFlowRate:
            return fluid_.flow_rate;
        case Point::kSupplyTemperature:
            return fluid_.supply_temperature;
        case Point::kReturnTemperature:
            return fluid_.return_temperature;
        case Point::kValveState: {
            const auto state = fluid_.valve_stuck  ? codec::cjt188::ValveState::kAbnormal
                               : fluid_.valve_open ? codec::cjt188::ValveState::kOpen
                                                   : codec::cjt188::ValveState::kClosed;
            return Decimal{static_cast<std::int64_t>(state), 0};
        }
        case Point::kBatteryLow:
            return Decimal{fluid_.battery_low ? 1 : 0, 0};
        case Point::kDailyFrozenEnergy:
            if (freezes_.empty())
                return std::nullopt;
            return Decimal{freezes_.front().circuits[static_cast<std::size_t>(circuit)].forward_wh,
                           3};
        case Point::kMeterDate:
        case Point::kMeterTime:
            return std::nullopt;  // the clock is MeterClock(), not a decimal value
    }
    return std::nullopt;
}

}  // namespace joule::sim
