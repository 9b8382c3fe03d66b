// SimMeter's CJ/T 188 front end: 901F current data (water/gas or heat layout per the model's
// dialect), D120..D12B as the last daily freezes, A017 valve control and 810A read address.
// Replies echo the request's DI byte order; unknown requests get the abnormal reply (ST only).
#include <algorithm>

#include "base/checked.hpp"
#include "codec/cjt188.hpp"
#include "codec/meter_driver.hpp"
#include "sim/sim_meter.hpp"
#include "sim/sim_values.hpp"

namespace joule::sim {

namespace cj = codec::cjt188;

std::optional<std::int64_t> Cjt188BasePerUnit(std::uint8_t code, bool volume) {
    const std::optional<cj::UnitInfo> info = cj::DescribeUnit(code);
    if (!info)
        return std::nullopt;
    std::int64_t base = 0;
    if (volume)
        base = info->symbol == "L" ? 1 : info->symbol == "m3" ? 1000 : 0;
    else
        base = info->symbol == "Wh"    ? 1
               : info->symbol == "kWh" ? 1000
               : info->symbol == "MWh" ? 1'000'000
                                       : 0;
    if (base == 0)
        return std::nullopt;
    for (int i = 0; i < info->exponent; ++i)
        base *= 10;
    return base;
}

namespace {

// `quantity` (L or Wh) in the unit `code` at 2 places, truncated like a register.
cj::UnitValue InUnit(std::int64_t quantity, std::uint8_t code, bool volume) {
    const std::int64_t per_unit = Cjt188BasePerUnit(code, volume).value_or(1);
    const Int128 hundredths = Int128{quantity} * 100 / per_unit;
    return cj::UnitValue{Decimal{static_cast<std::int64_t>(hundredths), 2}, code};
}

bool AllBytes(const cj::Address& address, std::uint8_t value) {
    return std::all_of(address.begin(), address.end(),
                       [value](std::uint8_t b) { return b == value; });
}

// True when a request to `pattern` reaches the meter at `self`: AA×7 and 99×7 reach every meter,
// other AA bytes are wildcards.
bool AddressReaches(const cj::Address& pattern, const cj::Address& self) {
    if (AllBytes(pattern, 0xAA) || AllBytes(pattern, 0x99))
        return true;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != 0xAA && pattern[i] != self[i])
            return false;
    }
    return true;
}

}  // namespace

std::uint16_t SimMeter::Cjt188Status() const {
    const auto valve = static_cast<cj::ValveState>(Value(0, codec::Point::kValveState)->mantissa);
    return cj::EncodeStatus(cj::MeterStatus{valve, fluid_.battery_low},
                            model_.dialect.status_layout);
}

Result<Bytes> SimMeter::Cjt188CurrentData() const {
    const std::int64_t settled_l = freezes_.empty() ? 0 : freezes_.front().volume_l;
    const std::int64_t settled_wh = freezes_.empty() ? 0 : freezes_.front().heat_wh;
    if (cj::FamilyOf(model_.meter_type) != cj::MeterFamily::kHeat) {
        cj::WaterGasData data;
        data.current = InUnit(fluid_.volume_l, options_.volume_unit, true);
        data.settlement = InUnit(settled_l, options_.volume_unit, true);
        data.clock = MeterClock();
        data.st = Cjt188Status();
        return cj::EncodeWaterGasData(data, model_.dialect.unit_position);
    }
    cj::HeatData data;
    data.settlement_heat = InUnit(settled_wh, options_.heat_unit, false);
    data.current_heat = InUnit(fluid_.heat_wh, options_.heat_unit, false);
    data.heat_power = {fluid_.heat_power, static_cast<std::uint8_t>(cj::Unit::kKilowatt)};
    data.flow_rate = {fluid_.flow_rate, static_cast<std::uint8_t>(cj::Unit::kCubicMetrePerHour)};
    data.cumulative_flow = InUnit(fluid_.volume_l, options_.volume_unit, true);
    data.supply_temperature = fluid_.supply_temperature;
    data.return_temperature = fluid_.return_temperature;
    data.working_hours = fluid_.working_hours;
    data.clock = MeterClock();
    data.st = Cjt188Status();
    return cj::EncodeHeatData(data, model_.dialect.heat_layout);
}

std::optional<Bytes> SimMeter::HandleCjt188(ByteView bytes) {
    auto decoded = cj::DecodeFrame(bytes, model_.dialect.di_order);
    if (!decoded)
        return std::nullopt;
    const cj::Frame& request = decoded->frame;
    const cj::Control control = cj::ControlOf(request);
    cj::Address self{};
    std::copy_n(address_bytes_.begin(), cj::kAddressBytes, self.begin());
    if (control.from_meter || !AddressReaches(request.address, self))
        return std::nullopt;
    if (request.meter_type != model_.meter_type && request.meter_type != cj::MeterType::kWildcard)
        return std::nullopt;
    const bool exact = request.address == self;
    const cj::MeterIdentity identity{model_.meter_type, self};

    auto send = [&](const cj::Frame& reply) -> std::optional<Bytes> {
        auto wire = cj::EncodeFrame(reply, model_.dialect.preamble_bytes);
        if (!wire)
            return std::nullopt;
        return *wire;
    };
    auto refuse = [&]() {
        ++stats_.errors;
        return send(cj::MakeAbnormalReply(request, identity, Cjt188Status()));
    };
    if (!request.has_di)
        return refuse();
    switch (control.function) {
        case static_cast<std::uint8_t>(cj::Function::kReadData): {
            if (request.di == cj::kDiCurrentData) {
                auto data = Cjt188CurrentData();
                if (!data)
                    return refuse();
                return send(cj::MakeReply(request, identity, std::move(*data)));
            }
            if (request.di == cj::kDiReadPurchase && model_.in_meter_prepaid) {
                const cj::PurchaseStatus status{
                    static_cast<std::uint8_t>(prepaid_.purchase_count %
                                              codec::PurchaseCountModulus(model_)),
                    prepaid_.last_purchase_fen, prepaid_.cumulative_purchase_fen,
                    std::max<std::int64_t>(prepaid_.balance_fen, 0), Cjt188Status()};
                auto data = cj::EncodePurchaseStatus(status);
                if (!data)
                    return refuse();
                return send(cj::MakeReply(request, identity, std::move(*data)));
            }
            if (request.di >= cj::kDiHistoryFirst && request.di <= cj::kDiHistoryLast) {
                const std::size_t back = request.di - cj::kDiHistoryFirst;
                if (back >= freezes_.size())
                    return refuse();
                const bool heat = cj::FamilyOf(model_.meter_type) == cj::MeterFamily::kHeat;
                const cj::UnitValue value =
                    heat ? InUnit(freezes_[back].heat_wh, options_.heat_unit, false)
                         : InUnit(freezes_[back].volume_l, options_.volume_unit, true);
                auto data = cj::EncodeHistoryData(value, model_.dialect.unit_position);
                if (!data)
                    return refuse();
                return send(cj::MakeReply(request, identity, std::move(*data)));
            }
            return refuse();
        }
        case static_cast<std::uint8_t>(cj::Function::kReadAddress):
            if (request.di != cj::kDiReadAddress)
                return refuse();
            return send(cj::MakeReadAddressReply(request, identity, model_.dialect));
        case static_cast<std::uint8_t>(cj::Function::kWriteData): {
            if (!exact)
                return std::nullopt;  // writes need the meter's own address
            if (request.di == cj::kDiWritePurchase) {
                auto purchase = cj::DecodePurchaseData(request.data);
                const bool applied =
                    purchase && ApplyPurchase(purchase->amount_fen, purchase->sequence) ==
                                    PurchaseOutcome::kApplied;
                return WriteReply(applied
                                      ? send(cj::MakeWriteReply(request, identity, Cjt188Status()))
                                      : refuse());
            }
            auto valve = cj::ParseValveControlRequest(request);
            if (!valve || !model_.has_valve || fluid_.valve_stuck)
                return refuse();
            fluid_.valve_open = *valve == cj::ValveCommand::kOpen;
            ++stats_.commands;
            return send(cj::MakeWriteReply(request, identity, Cjt188Status()));
        }
        default:
            return refuse();
    }
}

}  // namespace joule::sim
