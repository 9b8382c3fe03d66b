#include "codec/device_model.hpp"

#include <array>
#include <utility>

namespace joule::codec {

namespace {

constexpr std::array<std::pair<Protocol, std::string_view>, 4> kProtocols{{
    {Protocol::kDlt645_2007, "dlt645-2007"},
    {Protocol::kDlt645_1997, "dlt645-1997"},
    {Protocol::kModbusRtu, "modbus-rtu"},
    {Protocol::kCjt188, "cjt188"},
}};

constexpr std::array<std::pair<Point, std::string_view>, 26> kPoints{{
    {Point::kEnergyTotal, "energy_total"},
    {Point::kEnergySharp, "energy_sharp"},
    {Point::kEnergyPeak, "energy_peak"},
    {Point::kEnergyFlat, "energy_flat"},
    {Point::kEnergyValley, "energy_valley"},
    {Point::kEnergyReverse, "energy_reverse"},
    {Point::kVoltage, "voltage"},
    {Point::kCurrent, "current"},
    {Point::kPower, "power"},
    {Point::kPowerFactor, "power_factor"},
    {Point::kFrequency, "frequency"},
    {Point::kBalance, "balance"},
    {Point::kOverdraft, "overdraft"},
    {Point::kPurchaseCount, "purchase_count"},
    {Point::kRunStatus3, "run_status_3"},
    {Point::kRelayClosed, "relay_closed"},
    {Point::kVolumeTotal, "volume_total"},
    {Point::kHeatTotal, "heat_total"},
    {Point::kFlowRate, "flow_rate"},
    {Point::kSupplyTemperature, "supply_temperature"},
    {Point::kReturnTemperature, "return_temperature"},
    {Point::kValveState, "valve_state"},
    {Point::kBatteryLow, "battery_low"},
    {Point::kDailyFrozenEnergy, "daily_frozen_energy"},
    {Point::kMeterDate, "meter_date"},
    {Point::kMeterTime, "meter_time"},
}};

bool IsDlt645(Protocol p) { return p == Protocol::kDlt645_2007 || p == Protocol::kDlt645_1997; }

bool HasPoint(const DeviceModel& model, Point point) {
    for (const PointSpec& p : model.points) {
        if (p.point == point)
            return true;
    }
    return false;
}

}  // namespace

std::string_view ProtocolName(Protocol protocol) {
    for (const auto& [p, name] : kProtocols) {
        if (p == protocol)
            return name;
    }
    return "unknown";
}

Result<Protocol> ParseProtocol(std::string_view name) {
    for (const auto& [p, text] : kProtocols) {
        if (text == name)
            return p;
    }
    return InvalidArgument("protocol", "unknown protocol \"" + std::string(name) +
                                           "\" (dlt645-2007, dlt645-1997, modbus-rtu, cjt188)");
}

std::string_view PointName(Point point) {
    for (const auto& [p, name] : kPoints) {
        if (p == point)
            return name;
    }
    return "unknown";
}

Result<Point> ParsePoint(std::string_view name) {
    for (const auto& [p, text] : kPoints) {
        if (text == name)
            return p;
    }
    return InvalidArgument("point", "unknown point \"" + std::string(name) + "\"");
}

bool TakesPurchases(const DeviceModel& model) {
    return model.in_meter_prepaid &&
           (model.protocol == Protocol::kDlt645_2007 || model.protocol == Protocol::kCjt188);
}

Point BillingRegister(const DeviceModel& model) {
    if (model.protocol != Protocol::kCjt188)
        return Point::kEnergyTotal;
    return cjt188::FamilyOf(model.meter_type) == cjt188::MeterFamily::kHeat ? Point::kHeatTotal
                                                                            : Point::kVolumeTotal;
}

Status ValidateDeviceModel(const DeviceModel& model) {
    if (model.code.empty())
        return InvalidArgument("code", "must not be empty");
    if (model.in_meter_prepaid && !TakesPurchases(model)) {
        return InvalidArgument("capabilities.in_meter_prepaid",
                               "purchases can be sent to dlt645-2007 and cjt188 meters only");
    }
    if (model.circuits < 1 || model.circuits > 64) {
        return InvalidArgument("circuits", "must be 1..64");
    }
    if (model.circuits > 1 && model.protocol != Protocol::kModbusRtu) {
        return InvalidArgument("circuits", "multi-circuit boxes are supported on modbus-rtu");
    }
    if (model.points.empty())
        return InvalidArgument("points", "a model needs at least one point");
    if (model.preamble_bytes > 4)
        return InvalidArgument("preamble", "must be 0..4");
    const Point register_point = BillingRegister(model);
    if (!HasPoint(model, register_point)) {
        return InvalidArgument(
            "points",
            "the billing register \"" + std::string(PointName(register_point)) + "\" is missing");
    }
    const std::size_t total = model.points.size() + model.frozen_points.size();
    for (std::size_t i = 0; i < total; ++i) {
        const bool frozen = i >= model.points.size();
        const std::size_t index = frozen ? i - model.points.size() : i;
        const PointSpec& p = frozen ? model.frozen_points[index] : model.points[index];
        const std::string field =
            (frozen ? "frozen_points[" : "points[") + std::to_string(index) + "]";
        if (IsDlt645(model.protocol)) {
            auto edition = model.protocol == Protocol::kDlt645_1997 ? dlt645::Edition::k1997
                                                                    : dlt645::Edition::k2007;
            auto item = dlt645::FindDataItem(p.di, edition);
            if (!item)
                return InvalidArgument(field + ".di", item.error().message);
        } else if (model.protocol == Protocol::kModbusRtu) {
            auto f = static_cast<std::uint8_t>(p.function);
            if (f < 1 || f > 4)
                return InvalidArgument(field + ".function", "must be 1..4");
            const auto span = static_cast<std::uint32_t>(p.address) +
                              static_cast<std::uint32_t>(model.circuit_stride) *
                                  static_cast<std::uint32_t>(model.circuits - 1) +
                              modbus::RegisterCount(p.format.type);
            if (span > 0x10000)
                return InvalidArgument(field + ".address", "beyond 65535");
        } else if (p.di != cjt188::kDiCurrentData) {
            return InvalidArgument(field + ".di", "CJ/T 188 models read 901F");
        }
    }
    if (model.has_relay) {
        const bool reported = IsDlt645(model.protocol) ? HasPoint(model, Point::kRunStatus3)
                                                       : HasPoint(model, Point::kRelayClosed);
        if (!reported) {
            return InvalidArgument(
                "points",
                "a relay model must read the relay state (" +
                    std::string(IsDlt645(model.protocol) ? "run_status_3" : "relay_closed") + ")");
        }
    }
    if (model.has_valve && model.protocol != Protocol::kCjt188)
        return InvalidArgument("valve", "valves are CJ/T 188 meters");
    return {};
}

}  // namespace joule::codec
