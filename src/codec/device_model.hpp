// Meter models as data [DEV-2]: which protocol a meter speaks, which identifiers or registers hold
// which quantity, their formats, scaling and word order, how many circuits it has, what it can do
// (relay, valve, in-meter prepaid, frozen registers) and the encoder choices where published
// sources disagree (PROTOCOLS.md §6). Parsed from models/*.json by wire/model_json.hpp, so a new
// model needs no code. Pure data: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "codec/cjt188.hpp"
#include "codec/dlt645.hpp"
#include "codec/modbus.hpp"

namespace joule::codec {

// Stored in model files by name.
enum class Protocol : std::uint8_t {
    kDlt645_2007 = 1,
    kDlt645_1997 = 2,
    kModbusRtu = 3,
    kCjt188 = 4
};
std::string_view ProtocolName(Protocol protocol);
[[nodiscard]] Result<Protocol> ParseProtocol(std::string_view name);

// What a point measures. Values come out in the point's unit: energy kWh, volume m3, heat kWh,
// money yuan, voltage V, current A, power kW, temperature °C, flow m3/h. Stored by name.
enum class Point : std::uint8_t {
    kEnergyTotal,  // forward (import) active energy, total register
    kEnergySharp,  // per-rate registers T1..T4 (尖峰平谷)
    kEnergyPeak,
    kEnergyFlat,
    kEnergyValley,
    kEnergyReverse,  // reverse (export) active energy
    kVoltage,
    kCurrent,
    kPower,
    kPowerFactor,
    kFrequency,
    kBalance,        // in-meter remaining amount (本地费控)
    kOverdraft,      // in-meter overdraft amount
    kPurchaseCount,  // in-meter purchase count (购电次数)
    kRunStatus3,     // DL/T 645 run status word 3: relay, hold
    kRelayClosed,    // Modbus: 1 = relay closed (power on), 0 = open
    kVolumeTotal,    // water: cumulative volume
    kHeatTotal,      // heat meter: cumulative heat
    kFlowRate,
    kSupplyTemperature,
    kReturnTemperature,
    kValveState,         // CJ/T 188: 0 open, 1 closed, 2 undefined, 3 abnormal
    kBatteryLow,         // CJ/T 188: 1 = low
    kDailyFrozenEnergy,  // the last daily frozen forward active total (backfill) [DEV-7]
    kMeterDate,          // the meter's clock (DL/T 645 04000101 / 04000102): meter_time
    kMeterTime
};
std::string_view PointName(Point point);
[[nodiscard]] Result<Point> ParsePoint(std::string_view name);

struct PointSpec {
    Point point = Point::kEnergyTotal;
    // false: one value for the whole device (a box's bus voltage), read once.
    bool per_circuit = true;
    // DL/T 645 and CJ/T 188: the identifier; DL/T 645 blocks: which value of the block.
    std::uint32_t di = 0;
    int block_index = 0;
    // Modbus: function 01..04, first register (circuit 0), and the value's wire format.
    modbus::FunctionCode function = modbus::FunctionCode::kReadHoldingRegisters;
    std::uint16_t address = 0;
    modbus::RegisterFormat format;
};

// Meter billing [ACCT-1]: the data of a DL/T 645 purchase write (a vendor 14H write on cheap
// meters without ESAM): the amount, 4 bytes BCD XXXXXX.XX yuan, and the purchase count after the
// purchase, 2 bytes BCD XXXX, each low byte first, in this order. Stored by name.
enum class PurchaseLayout : std::uint8_t { kAmountCount = 0, kCountAmount = 1 };

// The purchase write's identifier unless a model names another: 070102FF, the identifier the
// 2013 amendment gives remote purchase (there inside a 03H ESAM frame) — confirm per vendor.
inline constexpr std::uint32_t kDefaultPurchaseDi = 0x070102FF;

struct DeviceModel {
    std::string code;
    Protocol protocol = Protocol::kDlt645_2007;
    // A multi-circuit box (多用户计量箱, dormitory terminal) meters several rooms at one bus
    // address. Modbus: circuit c's registers are at address + c × circuit_stride, its relay coil
    // at relay_coil + c × relay_coil_stride.
    int circuits = 1;
    std::uint16_t circuit_stride = 0;

    bool has_relay = false;
    bool has_valve = false;
    bool in_meter_prepaid = false;
    bool per_rate = false;

    std::vector<PointSpec> points;         // read on every schedule
    std::vector<PointSpec> frozen_points;  // read for backfill after an outage

    // DL/T 645 encoder choices.
    std::size_t preamble_bytes = 4;
    dlt645::AddressPadding address_padding = dlt645::AddressPadding::kZero;
    dlt645::Password password{0x02, 0};
    std::uint32_t operator_code = 0;
    dlt645::RemoteCommand trip_command = dlt645::RemoteCommand::kTrip;
    dlt645::RemoteCommand close_command = dlt645::RemoteCommand::kDirectClose;
    dlt645::RequestOptions dlt645_options;
    // Relay command validity: the deadline sent in N3..N8, after the meter's current time.
    std::int64_t command_validity_s = 600;
    // Purchases to an in-meter prepaid meter (14H write).
    std::uint32_t purchase_di = kDefaultPurchaseDi;
    PurchaseLayout purchase_layout = PurchaseLayout::kAmountCount;

    // Modbus relay: a coil per circuit, on = closed.
    std::uint16_t relay_coil = 0;
    std::uint16_t relay_coil_stride = 1;

    // CJ/T 188.
    cjt188::MeterType meter_type = cjt188::MeterType::kColdWater;
    cjt188::Dialect dialect;
};

// Checks internal consistency: points exist for the protocol, circuits 1..64, a relay model has
// a way to report the relay, Modbus formats fit. kInvalidArgument naming the field.
[[nodiscard]] Status ValidateDeviceModel(const DeviceModel& model);

// Whether meters of this model take purchases [ACCT-1]: it is in_meter_prepaid and speaks a
// protocol with a purchase write and a purchase count read (DL/T 645-2007, CJ/T 188). A model
// that is in_meter_prepaid on any other protocol fails ValidateDeviceModel.
[[nodiscard]] bool TakesPurchases(const DeviceModel& model);

// The point a meter of this model is billed on: energy_total on DL/T 645 and Modbus, and on
// CJ/T 188 heat_total for a heat meter, volume_total for any other (water, gas). A valid model
// (ValidateDeviceModel) reads it.
[[nodiscard]] Point BillingRegister(const DeviceModel& model);

}  // namespace joule::codec
