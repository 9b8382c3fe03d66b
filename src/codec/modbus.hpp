// Modbus application protocol, RTU and TCP framings: a pure codec (bytes <-> typed PDUs) for the
// ingest client that reads meters and for the simulator that plays them. No I/O, no clock, no
// floating point: IEEE-754 binary32 registers are converted with integer arithmetic to exact
// Decimals. Frame grammar and the vendor choices are in docs/protocols/modbus.md.
//
// Error convention (all codecs): truncated / incomplete input is kOutOfRange ("need more bytes"
// to a stream scanner); malformed input is kInvalidArgument; a CRC mismatch is kDataLoss. The
// Error's `field` names the part at fault ("crc", "byte_count", "mbap.length", ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "codec/bytes.hpp"
#include "codec/values.hpp"

namespace joule::codec::modbus {

// ---- Limits (Modbus Application Protocol V1.1b3) -------------------------------------------

inline constexpr std::uint8_t kBroadcastUnit = 0;    // RTU: every server acts, none replies
inline constexpr std::uint8_t kMaxUnit = 247;        // RTU server addresses 1..247
inline constexpr std::size_t kMaxPduBytes = 253;     // function + data
inline constexpr std::size_t kMaxRtuAduBytes = 256;  // unit + PDU + CRC
inline constexpr std::size_t kMbapHeaderBytes = 7;   // TID PID LEN UNIT
inline constexpr std::size_t kMaxTcpAduBytes = 260;  // MBAP + PDU
inline constexpr std::uint16_t kMaxReadRegisters = 125;
inline constexpr std::uint16_t kMaxReadBits = 2000;
inline constexpr std::uint16_t kMaxWriteRegisters = 123;
inline constexpr std::uint16_t kMaxWriteCoils = 1968;

// Function codes this codec speaks. Wire values: never renumber.
enum class FunctionCode : std::uint8_t {
    kReadCoils = 0x01,
    kReadDiscreteInputs = 0x02,
    kReadHoldingRegisters = 0x03,
    kReadInputRegisters = 0x04,
    kWriteSingleCoil = 0x05,
    kWriteSingleRegister = 0x06,
    kWriteMultipleCoils = 0x0F,
    kWriteMultipleRegisters = 0x10,
};
inline constexpr std::uint8_t kExceptionFlag = 0x80;  // reply function = request function | 80H

// True for the eight function codes above.
[[nodiscard]] bool IsSupportedFunction(std::uint8_t function);

// Exception codes (reply `function|80H, code`). Wire values: never renumber.
enum class ExceptionCode : std::uint8_t {
    kIllegalFunction = 0x01,
    kIllegalDataAddress = 0x02,
    kIllegalDataValue = 0x03,
    kServerDeviceFailure = 0x04,
    kAcknowledge = 0x05,
    kServerDeviceBusy = 0x06,
    kMemoryParityError = 0x08,
    kGatewayPathUnavailable = 0x0A,
    kGatewayTargetFailedToRespond = 0x0B,
};
// "illegal data address"; codes outside the table give "unknown exception".
[[nodiscard]] std::string_view ExceptionName(std::uint8_t code);

// ---- CRC and stream framing (used by the DTU stream scanner) --------------------------------

// CRC-16/MODBUS: reflected poly A001H, init FFFFH, no final xor. Sent LOW byte first:
// Crc16("01 03 00 00 00 0A") = 0xCDC5, on the wire "C5 CD". Crc16("123456789") = 0x4B37.
[[nodiscard]] std::uint16_t Crc16(ByteView bytes);

// Total RTU ADU length (unit .. CRC) of a RESPONSE that starts at prefix[0], from its first bytes:
// FC 01-04: 3 + byte_count + 2; FC 05/06/0F/10: 8; exception (function|80H): 5.
// kOutOfRange when the prefix is too short to tell (needs unit, function and, for 01-04, the
// byte count). kInvalidArgument when prefix[0] cannot start a response (unit 0 or > 247, function
// not supported, byte count 0, > 250, or odd for registers): the scanner should skip a byte.
[[nodiscard]] Result<std::size_t> RtuResponseLength(ByteView prefix);
// The same for a REQUEST (server side): FC 01-06: 8; 0F/10: 7 + byte_count + 2.
// kInvalidArgument for unit > 247, an unsupported function, or a byte count that no legal
// quantity produces (0, > 246, odd for 10H).
[[nodiscard]] Result<std::size_t> RtuRequestLength(ByteView prefix);
// Total MBAP ADU length (6 + LEN) from the first 6 bytes; kOutOfRange if fewer; kInvalidArgument
// when PID != 0 or LEN is outside 2..254.
[[nodiscard]] Result<std::size_t> TcpAduLength(ByteView prefix);

// ---- PDU and ADUs ---------------------------------------------------------------------------

// Protocol data unit: function code (with the exception flag for exception replies) and data.
struct Pdu {
    std::uint8_t function = 0;
    Bytes data;

    friend bool operator==(const Pdu&, const Pdu&) = default;
};

struct RtuAdu {
    std::uint8_t unit = 0;
    Pdu pdu;

    friend bool operator==(const RtuAdu&, const RtuAdu&) = default;
};

enum class Direction : std::uint8_t { kRequest, kResponse };

struct RtuDecoded {
    RtuAdu adu;
    std::size_t consumed = 0;  // bytes of the input this ADU used
};

// unit | function | data | CRC (low byte first). kInvalidArgument when unit > 247 or the PDU is
// empty of a function code (0) or longer than 253 bytes.
[[nodiscard]] Result<Bytes> EncodeRtu(const RtuAdu& adu);
// Decodes the ADU at the start of `bytes` (which may hold more after it), delimiting it by the
// expected length for `direction` (RtuResponseLength / RtuRequestLength), then checking the CRC
// (kDataLoss, field "crc"). Incomplete: kOutOfRange.
[[nodiscard]] Result<RtuDecoded> DecodeRtu(ByteView bytes, Direction direction);

struct TcpAdu {
    std::uint16_t transaction_id = 0;
    std::uint8_t unit = 0xFF;  // 0xFF or 0 addresses a TCP device; a gateway routes by it
    Pdu pdu;

    friend bool operator==(const TcpAdu&, const TcpAdu&) = default;
};

struct TcpDecoded {
    TcpAdu adu;
    std::size_t consumed = 0;  // 7 + PDU bytes: several ADUs in one buffer decode one by one
};

// TID | PID=0000 | LEN = 1 + PDU bytes | UNIT | PDU, all big-endian. kInvalidArgument for an
// empty or oversized PDU.
[[nodiscard]] Result<Bytes> EncodeTcp(const TcpAdu& adu);
// The MBAP ADU at the start of `bytes`. kOutOfRange while the header or LEN bytes are incomplete;
// kInvalidArgument for PID != 0 ("mbap.protocol_id") or LEN outside 2..254 ("mbap.length").
[[nodiscard]] Result<TcpDecoded> DecodeTcp(ByteView bytes);

// ---- Requests -------------------------------------------------------------------------------

// One request. Which fields matter depends on `function`:
//   01-04 read:            address, quantity
//   05 write single coil:  address, coils[0]           (wire FF00 = on, 0000 = off)
//   06 write single reg.:  address, registers[0]
//   0F write coils:        address, coils               (quantity = coils.size())
//   10 write registers:    address, registers           (quantity = registers.size())
struct Request {
    FunctionCode function = FunctionCode::kReadHoldingRegisters;
    std::uint16_t address = 0;
    std::uint16_t quantity = 0;
    std::vector<std::uint16_t> registers;
    std::vector<bool> coils;

    friend bool operator==(const Request&, const Request&) = default;
};

[[nodiscard]] Request ReadRequest(FunctionCode function, std::uint16_t address,
                                  std::uint16_t quantity);
[[nodiscard]] Request WriteSingleCoil(std::uint16_t address, bool on);
[[nodiscard]] Request WriteSingleRegister(std::uint16_t address, std::uint16_t value);
[[nodiscard]] Request WriteMultipleCoils(std::uint16_t address, std::vector<bool> coils);
[[nodiscard]] Request WriteMultipleRegisters(std::uint16_t address,
                                             std::vector<std::uint16_t> registers);

// Request -> PDU. kInvalidArgument (field "quantity") outside the spec's limits: read registers
// 1..125, read bits 1..2000, write registers 1..123, write coils 1..1968, or when
// address + quantity passes 65536 ("address").
[[nodiscard]] Result<Pdu> EncodeRequest(const Request& request);
// PDU -> Request, server side. The same limits; a 05 value other than FF00/0000 or a byte count
// that disagrees with the quantity is kInvalidArgument; short data is kOutOfRange. An unsupported
// function is kInvalidArgument with field "function" (the simulator answers exception 01).
[[nodiscard]] Result<Request> DecodeRequest(const Pdu& pdu);

// ---- Responses ------------------------------------------------------------------------------

// A decoded reply. For an exception, `exception` is true and only `function` (without 80H) and
// `exception_code` are set. Otherwise, by function:
//   01/02: bits (exactly the requested quantity)       03/04: registers
//   05/06: address, value (05: FF00 or 0000)           0F/10: address, quantity
struct Response {
    FunctionCode function = FunctionCode::kReadHoldingRegisters;
    bool exception = false;
    std::uint8_t exception_code = 0;
    std::vector<bool> bits;
    std::vector<std::uint16_t> registers;
    std::uint16_t address = 0;
    std::uint16_t value = 0;
    std::uint16_t quantity = 0;

    friend bool operator==(const Response&, const Response&) = default;
};

// Server side builders.
// The normal reply to `request`: reads take `bits` (01/02) or `registers` (03/04), whose size
// must equal request.quantity (kInvalidArgument otherwise); writes echo the request.
[[nodiscard]] Result<Pdu> BuildResponse(const Request& request,
                                        std::span<const std::uint16_t> registers = {},
                                        const std::vector<bool>& bits = {});
// function|80H, code. `function` is the request's function byte (any value < 80H).
[[nodiscard]] Pdu BuildExceptionResponse(std::uint8_t function, ExceptionCode code);

// Client side: checks `pdu` answers `request` and decodes it. kInvalidArgument when the function
// is not the request's (field "function"), the byte count is not what the quantity implies
// ("byte_count"), or a write echo differs from the request ("address", "value", "quantity");
// kOutOfRange when data is short. An exception reply is a success with `exception` set.
[[nodiscard]] Result<Response> ParseResponse(const Request& request, const Pdu& pdu);

// ---- Register values ------------------------------------------------------------------------

// Wire values of a meter map entry. Stored in model files: never renumber.
enum class ValueType : std::uint8_t {
    kU16 = 0,
    kI16 = 1,
    kU32 = 2,
    kI32 = 3,
    kU64 = 4,
    kI64 = 5,
    kF32 = 6
};

// Byte order of a multi-register value, named by where bytes A (most significant) .. D land on the
// wire. kAbcd: high word first, big-endian words (the Modbus norm; Eastron, Chint). kCdab: words
// swapped. kBadc: bytes swapped inside each word. kDcba: fully little-endian. For 64-bit values
// the same rule applies to four words; for 16-bit values kBadc/kDcba swap the register's bytes.
enum class WordOrder : std::uint8_t { kAbcd = 0, kCdab = 1, kBadc = 2, kDcba = 3 };

// 1, 2 or 4 registers.
[[nodiscard]] std::size_t RegisterCount(ValueType type);

struct RegisterFormat {
    ValueType type = ValueType::kU16;
    WordOrder word_order = WordOrder::kAbcd;
    // value = raw × 10^scale_exponent: DTSU666 voltage stored as binary32 in 0.1 V is -1,
    // DDSY1352 energy as UINT32 in 0.01 kWh is -2.
    int scale_exponent = 0;
    // f32 only: places of the decoded Decimal (rounded half away from zero). Integer types decode
    // exactly with decimals = max(0, -scale_exponent).
    int decimals = 0;
};

// The first RegisterCount(type) registers as an exact Decimal. kOutOfRange when too few
// registers; kInvalidArgument for NaN/infinity, a result outside int64, or a scale or decimals
// outside -18..18.
[[nodiscard]] Result<Decimal> DecodeRegisters(std::span<const std::uint16_t> registers,
                                              const RegisterFormat& format);
// The inverse, for the simulator: value / 10^scale_exponent rounded half away from zero for
// integer types (kInvalidArgument when it does not fit the type), the nearest binary32 pattern
// (ties to even) for f32 (kInvalidArgument beyond the binary32 range).
[[nodiscard]] Result<std::vector<std::uint16_t>> EncodeRegisters(Decimal value,
                                                                 const RegisterFormat& format);

// IEEE-754 binary32 pattern -> bits × 10^scale_exponent at `decimals` places, integer-only,
// round half away from zero. -0 gives 0. Errors as DecodeRegisters.
[[nodiscard]] Result<Decimal> DecodeF32(std::uint32_t bits, int scale_exponent, int decimals);
// Decimal -> nearest binary32 pattern (round half to even, subnormals included).
// kInvalidArgument when |value| rounds beyond the largest finite binary32 or decimals is outside
// -36..36.
[[nodiscard]] Result<std::uint32_t> EncodeF32(Decimal value);

}  // namespace joule::codec::modbus
