// CJ/T 188-2004/2018 (household water, heat and gas meter data transmission): a pure codec
// (bytes <-> typed frames) for the ingest client that reads meters and for the simulator that
// plays water and heat meters. No I/O, no clock, no floating point. Frame grammar, the vendor
// variants and the option that selects each are in docs/protocols/cjt188.md.
//
// Where field devices disagree (PROTOCOLS.md §6) the decoders accept every form seen
// and report which one they saw; what the encoders send is a `Dialect` setting of the meter model.
//
// Error convention (all codecs): truncated / incomplete input is kOutOfRange ("need more bytes"
// to a stream scanner); malformed input is kInvalidArgument; a checksum mismatch is kDataLoss.
// The Error's `field` names the part at fault ("cs", "end", "clock", "901F.current", ...).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "codec/bytes.hpp"
#include "codec/values.hpp"

namespace joule::codec::cjt188 {

// ---- Frame constants ------------------------------------------------------------------------

inline constexpr std::uint8_t kPreambleByte = 0xFE;
inline constexpr std::uint8_t kStartByte = 0x68;
inline constexpr std::uint8_t kEndByte = 0x16;
inline constexpr std::size_t kAddressBytes = 7;
inline constexpr std::size_t kHeaderBytes = 11;      // 68 T A0..A6 C L
inline constexpr std::size_t kMinFrameBytes = 13;    // header + CS + 16 with L = 0
inline constexpr std::size_t kMaxPreambleBytes = 4;  // encoders send 0..4 FE; decoders skip any
inline constexpr std::size_t kDiSerBytes = 3;        // DI(2) SER(1)

// T, the meter type. Wire values: never renumber. Other values in a family (14H..19H water,
// 23H..29H heat, 31H..39H gas, 40H..49H user-defined) are legal; an enum class holds any byte.
enum class MeterType : std::uint8_t {
    kColdWater = 0x10,
    kHotWater = 0x11,
    kDrinkingWater = 0x12,
    kReclaimedWater = 0x13,
    kHeat = 0x20,
    kCooling = 0x21,
    kHeatAndCooling = 0x22,
    kGas = 0x30,
    kElectricity = 0x40,
    kWildcard = 0xAA,  // some read-address requests leave T unknown
};
enum class MeterFamily : std::uint8_t { kWater, kHeat, kGas, kUserDefined, kUnknown };
[[nodiscard]] MeterFamily FamilyOf(MeterType type);

// A0..A6 in wire order: 7 BCD bytes, lowest two digits first. A5 A6 often carry the
// manufacturer code.
using Address = std::array<std::uint8_t, kAddressBytes>;
inline constexpr Address kWildcardAddress = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
inline constexpr Address kBroadcastAddress = {0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99};
// "78330011223344" (A6 first, as printed on the meter) -> wire order. 14 hex digits; A..F are
// accepted for the AA wildcard bytes. kInvalidArgument otherwise.
[[nodiscard]] Result<Address> ParseAddress(std::string_view digits);
// Wire order -> "78330011223344".
[[nodiscard]] std::string FormatAddress(const Address& address);

// Function codes (C bits D4..D0). Wire values: never renumber.
enum class Function : std::uint8_t {
    kReadData = 0x01,
    kReadAddress = 0x03,
    kWriteData = 0x04,
    kReadKeyVersion = 0x09,
    kWriteAddress = 0x15,
    kMotorSync = 0x16,
};

// C: D7 direction (1 = from the meter), D6 abnormal reply, D5 follow-up frame, D4..D0 function.
struct Control {
    bool from_meter = false;
    bool abnormal = false;
    bool follow_up = false;
    std::uint8_t function = 0;  // 5 bits

    friend bool operator==(const Control&, const Control&) = default;
};
[[nodiscard]] Control DecodeControl(std::uint8_t c);
[[nodiscard]] std::uint8_t EncodeControl(const Control& control);

// ---- Data identifiers -----------------------------------------------------------------------

inline constexpr std::uint16_t kDiCurrentData = 0x901F;   // read current metering data
inline constexpr std::uint16_t kDiHistoryFirst = 0xD120;  // D120..D12B: settlement month 1..12
inline constexpr std::uint16_t kDiHistoryLast = 0xD12B;
inline constexpr std::uint16_t kDiReadAddress = 0x810A;
inline constexpr std::uint16_t kDiMotorSync = 0xA016;
inline constexpr std::uint16_t kDiValveControl = 0xA017;
inline constexpr std::uint16_t kDiWriteAddress = 0xA018;
inline constexpr std::uint16_t kDiReadPurchase = 0x8105;   // read purchase amount (读购入金额)
inline constexpr std::uint16_t kDiWritePurchase = 0xA013;  // write purchase amount (写购入金额)

// How the two DI bytes go on the wire. Stored in model files: never renumber.
//   kBigEndian:    90 1F  (2004 per ng-gateway; JY heat meter; SC water meter's A0 17 valve)
//   kLittleEndian: 1F 90  (2018 per ng-gateway; SC water meter's read, hftangyu captures)
enum class DiOrder : std::uint8_t { kBigEndian = 0, kLittleEndian = 1 };

// True for the identifiers this codec knows: 901F, 903F..907F, 911F, 8102..8105, 810A,
// D120..D12B, A010..A019, A101..A107.
[[nodiscard]] bool IsKnownDi(std::uint16_t di);

struct DiDetection {
    std::uint16_t di = 0;
    DiOrder order = DiOrder::kBigEndian;
    bool known = false;  // one reading of the two bytes is a known DI (false: `fallback` used)
};
// Reads two wire bytes as whichever order yields a known DI (no known DI reads as a known DI
// reversed, so this is unambiguous for the table above); neither -> `fallback`, known = false.
// The checksum cannot tell the orders apart (same byte sum), so the table is the only evidence.
[[nodiscard]] DiDetection DetectDi(std::uint8_t first, std::uint8_t second, DiOrder fallback);

// ---- Dialect: what a meter model sends ------------------------------------------------------

// Order of the unit byte and the BCD value in "value + unit" fields.
enum class UnitPosition : std::uint8_t { kAfterValue = 0, kBeforeValue = 1 };

// Heat meter 901F reply layouts (PROTOCOLS.md §6.2). Stored: never renumber.
//   kStandard46:   L = 2EH. heat 4+unit, heat 4+unit, power 4+unit, flow 4+unit, volume 4+unit,
//                  supply and return temperature 3 BCD, working hours 3 BCD, clock 7, ST 2.
//   kUnitFirst46:  the JY capture: kStandard46 with each unit byte BEFORE its value.
//   kNgGateway43:  L = 2BH, ng-gateway's schema: power and flow 3+unit, temperatures 2 BCD,
//                  hours 4 BCD.
enum class HeatLayout : std::uint8_t { kStandard46 = 0, kUnitFirst46 = 1, kNgGateway43 = 2 };

// ST bit assignment (PROTOCOLS.md §6.3). Stored: never renumber.
//   kStandard: first ST byte D0-D1 valve (00 open, 01 closed, 11 abnormal), D2 battery low.
//   kSdqr:     first ST byte bits 7-6 valve (same codes: mask C0H), bit 5 (20H) battery low.
enum class StatusLayout : std::uint8_t { kStandard = 0, kSdqr = 1 };

struct DiOrderOverride {
    std::uint16_t di = 0;
    DiOrder order = DiOrder::kBigEndian;
};

struct Dialect {
    DiOrder di_order = DiOrder::kBigEndian;                  // 2004 default
    std::vector<DiOrderOverride> di_overrides;               // e.g. SC water: 901F little, A017 big
    std::size_t preamble_bytes = 4;                          // FE bytes before 68 (0..4)
    UnitPosition unit_position = UnitPosition::kAfterValue;  // water/gas 901F and D12x
    HeatLayout heat_layout = HeatLayout::kStandard46;
    StatusLayout status_layout = StatusLayout::kStandard;
    bool read_address_reply_carries_address = true;  // L=0AH (DI SER A0..A6) vs L=03H
};
// The order `dialect` sends `di` in: an override when one names it, else dialect.di_order.
[[nodiscard]] DiOrder OrderFor(const Dialect& dialect, std::uint16_t di);

// ---- Frames ---------------------------------------------------------------------------------

// One frame. Every frame with L >= 3 carries DI and SER; an abnormal reply that carries only ST
// (L = 1 or 2) has has_di = false and the ST bytes in `data`.
struct Frame {
    MeterType meter_type = MeterType::kColdWater;
    Address address{};
    std::uint8_t control = 0;
    bool has_di = true;
    std::uint16_t di = 0;
    DiOrder di_order = DiOrder::kBigEndian;  // as seen (decode) / to send (encode)
    std::uint8_t ser = 0;
    Bytes data;  // after SER (all of DATA when !has_di)

    friend bool operator==(const Frame&, const Frame&) = default;
};

// FE×preamble_bytes 68 T A0..A6 C L [DI SER] data CS 16. kInvalidArgument when preamble_bytes > 4
// or L would exceed 255.
[[nodiscard]] Result<Bytes> EncodeFrame(const Frame& frame, std::size_t preamble_bytes);

struct DecodedFrame {
    Frame frame;
    std::size_t consumed = 0;  // preamble + frame bytes used from the input
    bool di_known = false;     // DetectDi found the DI in the table
};
// Skips any number of leading FE, then decodes one frame. kOutOfRange while incomplete;
// kInvalidArgument when the first non-FE byte is not 68 ("start") or the end byte is not 16
// ("end"); kDataLoss when CS differs ("cs"). DI order: see DetectDi; `unknown_di_order` reads
// identifiers outside the table.
[[nodiscard]] Result<DecodedFrame> DecodeFrame(ByteView bytes,
                                               DiOrder unknown_di_order = DiOrder::kBigEndian);
// For a stream scanner: total frame length (68 .. 16) = 13 + L for bytes starting at 68.
// kOutOfRange with fewer than 11 bytes; kInvalidArgument when bytes[0] != 68.
[[nodiscard]] Result<std::size_t> FrameLength(ByteView bytes);

[[nodiscard]] inline Control ControlOf(const Frame& frame) { return DecodeControl(frame.control); }

// ---- Requests (master -> meter) -------------------------------------------------------------

// C = 01H, DATA = DI SER (L = 03). Used for 901F, D120..D12B and any other read.
[[nodiscard]] Frame ReadDataRequest(MeterType type, const Address& address, std::uint16_t di,
                                    std::uint8_t ser, const Dialect& dialect);
// C = 03H to the wildcard address AA×7, DI 810A.
[[nodiscard]] Frame ReadAddressRequest(MeterType type, std::uint8_t ser, const Dialect& dialect);
// C = 04H, DI `di`, then `data`.
[[nodiscard]] Frame WriteDataRequest(MeterType type, const Address& address, std::uint16_t di,
                                     std::uint8_t ser, Bytes data, const Dialect& dialect);
// Stored: never renumber (wire values).
enum class ValveCommand : std::uint8_t { kOpen = 0x55, kClose = 0x99 };
// C = 04H, DI A017, one byte 55H (open) or 99H (close): L = 04.
[[nodiscard]] Frame ValveControlRequest(MeterType type, const Address& address,
                                        ValveCommand command, std::uint8_t ser,
                                        const Dialect& dialect);
// C = 15H, DI A018, the new address (7 bytes, wire order).
[[nodiscard]] Frame WriteAddressRequest(MeterType type, const Address& address,
                                        const Address& new_address, std::uint8_t ser,
                                        const Dialect& dialect);

// The valve command of a decoded A017 request (simulator side). kInvalidArgument for another DI
// or a byte other than 55H/99H; kOutOfRange when the byte is missing.
[[nodiscard]] Result<ValveCommand> ParseValveControlRequest(const Frame& request);

// ---- Replies (meter -> master) --------------------------------------------------------------

// Who a simulated meter is: replies carry its own type and address even when the request used
// wildcards.
struct MeterIdentity {
    MeterType type = MeterType::kColdWater;
    Address address{};
};

// Normal reply to `request`: C = function | 80H, DI and SER echoed in the request's DI order.
[[nodiscard]] Frame MakeReply(const Frame& request, const MeterIdentity& self, Bytes data);
// Abnormal reply: C = function | C0H, DATA = ST (2 bytes, first byte = st & FFH) only.
[[nodiscard]] Frame MakeAbnormalReply(const Frame& request, const MeterIdentity& self,
                                      std::uint16_t st);
// Write / valve / write-address / motor-sync reply: DI SER ST(2), so L = 05 (C = 84H for A017).
[[nodiscard]] Frame MakeWriteReply(const Frame& request, const MeterIdentity& self,
                                   std::uint16_t st);
// Read-address reply (C = 83H, DI 810A): with dialect.read_address_reply_carries_address the data
// is A0..A6 (L = 0AH), else empty (L = 03H; the header address is the answer).
[[nodiscard]] Frame MakeReadAddressReply(const Frame& request, const MeterIdentity& self,
                                         const Dialect& dialect);

// Checks that `reply` answers `request`: direction bit set, the same function, the request's
// address (only non-AA bytes compared; AA×7 and 99×7 match any), the meter type unless the request
// used AAH, and DI and SER when the reply carries them. kInvalidArgument naming the differing
// part ("direction", "function", "address", "meter_type", "di", "ser"), so replies to requests
// never sent are detectable.
[[nodiscard]] Status CheckReplyMatches(const Frame& request, const Frame& reply);

// ST of an abnormal reply (D6 set): 1 or 2 bytes after any DI SER. kInvalidArgument when the
// frame is not abnormal; kOutOfRange without ST.
[[nodiscard]] Result<std::uint16_t> ParseAbnormalReply(const Frame& reply);
// ST of a write / valve reply (DI SER ST; ST 1 byte (ng-gateway) or 2 bytes (field captures)).
[[nodiscard]] Result<std::uint16_t> ParseWriteReply(const Frame& reply);
// The meter's address from a read-address reply: DATA A0..A6 when present, else the header's.
[[nodiscard]] Result<Address> ParseReadAddressReply(const Frame& reply);

// ---- Values ---------------------------------------------------------------------------------

// Unit codes (CJ/T 188-2004 Table 13 via ng-gateway). Codes between the named ones are the ×10
// and ×100 variants of the code below them (06H kWh×10, 07H kWh×100, 2DH m³×10, ...).
// Wire values: never renumber.
enum class Unit : std::uint8_t {
    kJoule = 0x01,
    kWattHour = 0x02,
    kKilowattHour = 0x05,
    kMegawattHour = 0x08,
    kMegawattHourX100 = 0x0A,
    kKilojoule = 0x0B,
    kMegajoule = 0x0E,
    kGigajoule = 0x11,
    kGigajouleX100 = 0x13,
    kWatt = 0x14,
    kKilowatt = 0x17,
    kMegawatt = 0x1A,
    kLitre = 0x29,
    kCubicMetre = 0x2C,
    kLitrePerHour = 0x32,
    kCubicMetrePerHour = 0x35,
};

struct UnitInfo {
    std::string_view symbol;  // base unit: "kWh", "m3", "m3/h"
    int exponent = 0;         // 0, 1 or 2: the value is in symbol × 10^exponent
};
// nullopt for a code outside the table (decoders keep the raw code; ingest decides).
[[nodiscard]] std::optional<UnitInfo> DescribeUnit(std::uint8_t code);
// `value` in the code's base unit, exactly (kWh×100 × 12.34 -> 1234 kWh). kInvalidArgument for an
// unknown code.
[[nodiscard]] Result<Decimal> ToBaseUnit(Decimal value, std::uint8_t unit_code);

// A BCD quantity and the unit code that came with it.
struct UnitValue {
    Decimal value;
    std::uint8_t unit = 0;

    friend bool operator==(const UnitValue&, const UnitValue&) = default;
};

// ST: first wire byte in bits 0-7, second (vendor-defined) in bits 8-15.
enum class ValveState : std::uint8_t { kOpen = 0, kClosed = 1, kUndefined = 2, kAbnormal = 3 };
struct MeterStatus {
    ValveState valve = ValveState::kOpen;
    bool battery_low = false;

    friend bool operator==(const MeterStatus&, const MeterStatus&) = default;
};
[[nodiscard]] MeterStatus DecodeStatus(std::uint16_t st, StatusLayout layout);
// The first ST byte for `status` (other bits 0) in bits 0-7, `vendor_byte` in bits 8-15.
[[nodiscard]] std::uint16_t EncodeStatus(const MeterStatus& status, StatusLayout layout,
                                         std::uint8_t vendor_byte = 0);

// Water / gas 901F (T = 1x, 3x): 19 data bytes after SER (L = 16H).
struct WaterGasData {
    UnitValue current;                   // current cumulative flow, XXXXXX.XX
    UnitValue settlement;                // settlement-day cumulative flow, XXXXXX.XX
    std::optional<MeterDateTime> clock;  // nullopt when the meter sends 00×7 (clock not set)
    std::uint16_t st = 0;

    friend bool operator==(const WaterGasData&, const WaterGasData&) = default;
};
// Exactly 19 bytes: fewer kOutOfRange, more kInvalidArgument. Non-BCD digits, a clock that is not
// a real date: kInvalidArgument naming the field.
[[nodiscard]] Result<WaterGasData> DecodeWaterGasData(ByteView data, UnitPosition position);
// kInvalidArgument when a value is negative or needs more than 8 BCD digits at 2 decimals (values
// with more decimals are rounded half away from zero) or the clock is invalid.
[[nodiscard]] Result<Bytes> EncodeWaterGasData(const WaterGasData& value, UnitPosition position);

// Heat 901F (T = 2x).
struct HeatData {
    UnitValue settlement_heat;   // XXXXXX.XX
    UnitValue current_heat;      // XXXXXX.XX
    UnitValue heat_power;        // XXXXXX.XX (ng43: XXXX.XX)
    UnitValue flow_rate;         // XXXX.XXXX (ng43: XXX.XXX)
    UnitValue cumulative_flow;   // XXXXXX.XX
    Decimal supply_temperature;  // °C, XXXX.XX (ng43: XX.XX)
    Decimal return_temperature;  // °C
    std::int64_t working_hours = 0;
    std::optional<MeterDateTime> clock;
    std::uint16_t st = 0;

    friend bool operator==(const HeatData&, const HeatData&) = default;
};
// Data after SER: 43 bytes for the 46 layouts, 40 for kNgGateway43. Errors as DecodeWaterGasData.
[[nodiscard]] Result<HeatData> DecodeHeatData(ByteView data, HeatLayout layout);
[[nodiscard]] Result<Bytes> EncodeHeatData(const HeatData& value, HeatLayout layout);

// D120..D12B history: one settlement-day cumulative value, 4 BCD + unit (5 bytes).
[[nodiscard]] Result<UnitValue> DecodeHistoryData(ByteView data, UnitPosition position);
[[nodiscard]] Result<Bytes> EncodeHistoryData(const UnitValue& value, UnitPosition position);

// The 7-byte clock ss mm hh DD MM YY CC (each BCD, low first): 2015-05-11 22:01:31 is
// 31 01 22 11 05 15 20. nullopt for 00×7.
[[nodiscard]] Result<std::optional<MeterDateTime>> DecodeClock(ByteView bytes);

}  // namespace joule::codec::cjt188

namespace joule::codec {

// Purchases [ACCT-1], both protocols: the amount is 4 bytes BCD XXXXXX.XX yuan (the CJ/T 188
// A013 write and the DL/T 645 purchase write alike), so a purchase is 1 .. kMaxPurchaseFen fen.
inline constexpr std::int64_t kMaxPurchaseFen = 99'999'999;
[[nodiscard]] constexpr bool IsPurchaseAmount(std::int64_t fen) {
    return fen > 0 && fen <= kMaxPurchaseFen;
}

}  // namespace joule::codec

namespace joule::codec::cjt188 {

// A purchase (A013, C = 04H) [ACCT-1]: DATA = purchase sequence number (1 byte, binary: the
// meter's purchase count after this purchase, mod 256) then the amount, 4 bytes BCD XXXXXX.XX
// yuan, low byte first. The reply is the write reply (DI SER ST). [MEM: layout to confirm per
// vendor; the sequence number is what makes a replay detectable.]
struct PurchaseData {
    std::uint8_t sequence = 0;
    std::int64_t amount_fen = 0;  // 1 .. 99999999
    friend bool operator==(const PurchaseData&, const PurchaseData&) = default;
};
[[nodiscard]] Result<Bytes> EncodePurchaseData(const PurchaseData& purchase);
// kOutOfRange when short; kInvalidArgument for extra bytes or non-BCD amount digits.
[[nodiscard]] Result<PurchaseData> DecodePurchaseData(ByteView data);

// The reply to read purchase amount (8105, C = 01H) [MEM]: the sequence number of the last
// purchase (1 byte), its amount, the cumulative purchased amount and the remaining amount (each
// 4 bytes BCD XXXXXX.XX yuan, low byte first), then ST (2 bytes). L = 3 + 13 + 2 = 12H.
struct PurchaseStatus {
    std::uint8_t sequence = 0;
    std::int64_t last_fen = 0;
    std::int64_t cumulative_fen = 0;
    std::int64_t remaining_fen = 0;  // not negative: the meter shows 0 when overdrawn
    std::uint16_t st = 0;
    friend bool operator==(const PurchaseStatus&, const PurchaseStatus&) = default;
};
[[nodiscard]] Result<Bytes> EncodePurchaseStatus(const PurchaseStatus& status);
[[nodiscard]] Result<PurchaseStatus> DecodePurchaseStatus(ByteView data);
[[nodiscard]] Result<Bytes> EncodeClock(const std::optional<MeterDateTime>& clock);

}  // namespace joule::codec::cjt188
