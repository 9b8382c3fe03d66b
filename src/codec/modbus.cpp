#include "codec/modbus.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <string>
#include <utility>

#include "base/checked.hpp"

namespace joule::codec::modbus {

namespace {

std::unexpected<Error> NeedMore(std::string field, std::size_t need, std::size_t have) {
    return MakeError(ErrorCode::kOutOfRange,
                     "need " + std::to_string(need) + " byte(s), have " + std::to_string(have),
                     std::move(field));
}

constexpr std::array<std::uint16_t, 256> MakeCrcTable() {
    std::array<std::uint16_t, 256> table{};
    for (unsigned i = 0; i < 256; ++i) {
        unsigned crc = i;
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc & 1U) != 0 ? (crc >> 1) ^ 0xA001U : crc >> 1;
        table[i] = static_cast<std::uint16_t>(crc);
    }
    return table;
}
constexpr std::array<std::uint16_t, 256> kCrcTable = MakeCrcTable();

}  // namespace

bool IsSupportedFunction(std::uint8_t function) {
    switch (function) {
        case 0x01:
        case 0x02:
        case 0x03:
        case 0x04:
        case 0x05:
        case 0x06:
        case 0x0F:
        case 0x10:
            return true;
        default:
            return false;
    }
}

std::string_view ExceptionName(std::uint8_t code) {
    switch (code) {
        case 0x01:
            return "illegal function";
        case 0x02:
            return "illegal data address";
        case 0x03:
            return "illegal data value";
        case 0x04:
            return "server device failure";
        case 0x05:
            return "acknowledge";
        case 0x06:
            return "server device busy";
        case 0x08:
            return "memory parity error";
        case 0x0A:
            return "gateway path unavailable";
        case 0x0B:
            return "gateway target device failed to respond";
        default:
            return "unknown exception";
    }
}

std::uint16_t Crc16(ByteView bytes) {
    unsigned crc = 0xFFFF;
    for (std::uint8_t b : bytes)
        crc = (crc >> 8) ^ kCrcTable[(crc ^ b) & 0xFFU];
    return static_cast<std::uint16_t>(crc);
}

Result<std::size_t> RtuResponseLength(ByteView prefix) {
    if (prefix.size() < 2)
        return NeedMore("function", 2, prefix.size());
    std::uint8_t unit = prefix[0];
    if (unit == kBroadcastUnit || unit > kMaxUnit)
        return InvalidArgument("unit", "response unit must be 1..247, got " + std::to_string(unit));
    std::uint8_t function = prefix[1];
    if ((function & kExceptionFlag) != 0) {
        if (!IsSupportedFunction(static_cast<std::uint8_t>(function & 0x7FU)))
            return InvalidArgument("function", "exception for unsupported function " +
                                                   std::to_string(function & 0x7FU));
        return std::size_t{5};
    }
    switch (function) {
        case 0x01:
        case 0x02:
        case 0x03:
        case 0x04: {
            if (prefix.size() < 3)
                return NeedMore("byte_count", 3, prefix.size());
            std::size_t count = prefix[2];
            bool registers = function >= 0x03;
            if (count == 0 || count > 250 || (registers && count % 2 != 0))
                return InvalidArgument("byte_count",
                                       "impossible byte count " + std::to_string(count));
            return 3 + count + 2;
        }
        case 0x05:
        case 0x06:
        case 0x0F:
        case 0x10:
            return std::size_t{8};
        default:
            return InvalidArgument("function", "unsupported function " + std::to_string(function));
    }
}

Result<std::size_t> RtuRequestLength(ByteView prefix) {
    if (prefix.size() < 2)
        return NeedMore("function", 2, prefix.size());
    std::uint8_t unit = prefix[0];
    if (unit > kMaxUnit)
        return InvalidArgument("unit", "request unit must be 0..247, got " + std::to_string(unit));
    std::uint8_t function = prefix[1];
    switch (function) {
        case 0x01:
        case 0x02:
        case 0x03:
        case 0x04:
        case 0x05:
        case 0x06:
            return std::size_t{8};
        case 0x0F:
        case 0x10: {
            if (prefix.size() < 7)
                return NeedMore("byte_count", 7, prefix.size());
            std::size_t count = prefix[6];
            if (count == 0 || count > 246 || (function == 0x10 && count % 2 != 0))
                return InvalidArgument("byte_count",
                                       "impossible byte count " + std::to_string(count));
            return 7 + count + 2;
        }
        default:
            return InvalidArgument("function", "unsupported function " + std::to_string(function));
    }
}

Result<std::size_t> TcpAduLength(ByteView prefix) {
    if (prefix.size() < 6)
        return NeedMore("mbap.length", 6, prefix.size());
    unsigned protocol = static_cast<unsigned>(prefix[2]) << 8 | prefix[3];
    if (protocol != 0)
        return InvalidArgument("mbap.protocol_id", "must be 0, got " + std::to_string(protocol));
    std::size_t length = static_cast<std::size_t>(prefix[4]) << 8 | prefix[5];
    if (length < 2 || length > 1 + kMaxPduBytes)
        return InvalidArgument("mbap.length", "must be 2..254, got " + std::to_string(length));
    return 6 + length;
}

// ---- ADUs -----------------------------------------------------------------------------------

namespace {

void PutU16Be(Bytes& out, std::uint16_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xFFU));
}

std::uint16_t U16BeAt(ByteView bytes, std::size_t at) {
    return static_cast<std::uint16_t>(bytes[at] << 8 | bytes[at + 1]);
}

Status CheckPdu(const Pdu& pdu) {
    if (pdu.function == 0)
        return InvalidArgument("function", "function code 0 is not valid");
    if (1 + pdu.data.size() > kMaxPduBytes)
        return InvalidArgument(
            "pdu", "PDU of " + std::to_string(1 + pdu.data.size()) + " bytes exceeds 253");
    return {};
}

}  // namespace

Result<Bytes> EncodeRtu(const RtuAdu& adu) {
    if (adu.unit > kMaxUnit)
        return InvalidArgument("unit", "must be 0..247, got " + std::to_string(adu.unit));
    JOULE_TRY(CheckPdu(adu.pdu));
    Bytes out;
    out.reserve(adu.pdu.data.size() + 4);
    out.push_back(adu.unit);
    out.push_back(adu.pdu.function);
    out.insert(out.end(), adu.pdu.data.begin(), adu.pdu.data.end());
    std::uint16_t crc = Crc16(out);
    out.push_back(static_cast<std::uint8_t>(crc & 0xFFU));
    out.push_back(static_cast<std::uint8_t>(crc >> 8));
    return out;
}

Result<RtuDecoded> DecodeRtu(ByteView bytes, Direction direction) {
    JOULE_ASSIGN_OR_RETURN(std::size_t length, direction == Direction::kResponse
                                                   ? RtuResponseLength(bytes)
                                                   : RtuRequestLength(bytes));
    if (bytes.size() < length)
        return NeedMore("adu", length, bytes.size());
    ByteView frame = bytes.first(length);
    std::uint16_t wire = static_cast<std::uint16_t>(frame[length - 1] << 8 | frame[length - 2]);
    std::uint16_t computed = Crc16(frame.first(length - 2));
    if (wire != computed) {
        return MakeError(ErrorCode::kDataLoss,
                         "CRC mismatch: frame carries " + ToHex(frame.last(2)) + ", computed " +
                             ToHex(Bytes{static_cast<std::uint8_t>(computed & 0xFFU),
                                         static_cast<std::uint8_t>(computed >> 8)}),
                         "crc");
    }
    RtuDecoded out;
    out.adu.unit = frame[0];
    out.adu.pdu.function = frame[1];
    out.adu.pdu.data.assign(frame.begin() + 2, frame.end() - 2);
    out.consumed = length;
    return out;
}

Result<Bytes> EncodeTcp(const TcpAdu& adu) {
    JOULE_TRY(CheckPdu(adu.pdu));
    Bytes out;
    out.reserve(kMbapHeaderBytes + 1 + adu.pdu.data.size());
    PutU16Be(out, adu.transaction_id);
    PutU16Be(out, 0);
    PutU16Be(out, static_cast<std::uint16_t>(2 + adu.pdu.data.size()));
    out.push_back(adu.unit);
    out.push_back(adu.pdu.function);
    out.insert(out.end(), adu.pdu.data.begin(), adu.pdu.data.end());
    return out;
}

Result<TcpDecoded> DecodeTcp(ByteView bytes) {
    JOULE_ASSIGN_OR_RETURN(std::size_t length, TcpAduLength(bytes));
    if (bytes.size() < length)
        return NeedMore("pdu", length, bytes.size());
    TcpDecoded out;
    out.adu.transaction_id = U16BeAt(bytes, 0);
    out.adu.unit = bytes[6];
    out.adu.pdu.function = bytes[7];
    out.adu.pdu.data.assign(bytes.begin() + 8, bytes.begin() + static_cast<std::ptrdiff_t>(length));
    out.consumed = length;
    return out;
}

// ---- Requests -------------------------------------------------------------------------------

namespace {

constexpr std::uint16_t kCoilOn = 0xFF00;
constexpr std::uint16_t kCoilOff = 0x0000;

bool IsReadBits(FunctionCode f) {
    return f == FunctionCode::kReadCoils || f == FunctionCode::kReadDiscreteInputs;
}
bool IsReadRegisters(FunctionCode f) {
    return f == FunctionCode::kReadHoldingRegisters || f == FunctionCode::kReadInputRegisters;
}

Status CheckQuantity(std::uint16_t address, std::size_t quantity, std::size_t max) {
    if (quantity < 1 || quantity > max) {
        return InvalidArgument(
            "quantity", "must be 1.." + std::to_string(max) + ", got " + std::to_string(quantity));
    }
    if (address + quantity > 65536) {
        return InvalidArgument("address", "address " + std::to_string(address) + " + quantity " +
                                              std::to_string(quantity) + " passes 65536");
    }
    return {};
}

std::size_t MaxQuantity(FunctionCode f) {
    switch (f) {
        case FunctionCode::kReadCoils:
        case FunctionCode::kReadDiscreteInputs:
            return kMaxReadBits;
        case FunctionCode::kReadHoldingRegisters:
        case FunctionCode::kReadInputRegisters:
            return kMaxReadRegisters;
        case FunctionCode::kWriteMultipleCoils:
            return kMaxWriteCoils;
        case FunctionCode::kWriteMultipleRegisters:
            return kMaxWriteRegisters;
        case FunctionCode::kWriteSingleCoil:
        case FunctionCode::kWriteSingleRegister:
            return 1;
    }
    return 0;
}

Bytes PackBits(const std::vector<bool>& bits) {
    Bytes out((bits.size() + 7) / 8, 0);
    for (std::size_t i = 0; i < bits.size(); ++i) {
        if (bits[i])
            out[i / 8] = static_cast<std::uint8_t>(out[i / 8] | (1U << (i % 8)));
    }
    return out;
}

std::vector<bool> UnpackBits(ByteView packed, std::size_t count) {
    std::vector<bool> out(count);
    for (std::size_t i = 0; i < count; ++i)
        out[i] = ((static_cast<unsigned>(packed[i / 8]) >> (i % 8U)) & 1U) != 0U;
    return out;
}

// Data must be exactly `want` bytes: fewer is truncation, more is malformed.
Status CheckDataSize(const Bytes& data, std::size_t want, std::string_view field) {
    if (data.size() < want)
        return NeedMore(std::string(field), want, data.size());
    if (data.size() > want) {
        return InvalidArgument(
            std::string(field),
            "expected " + std::to_string(want) + " byte(s), got " + std::to_string(data.size()));
    }
    return {};
}

}  // namespace

Request ReadRequest(FunctionCode function, std::uint16_t address, std::uint16_t quantity) {
    Request request;
    request.function = function;
    request.address = address;
    request.quantity = quantity;
    return request;
}
Request WriteSingleCoil(std::uint16_t address, bool on) {
    Request request = ReadRequest(FunctionCode::kWriteSingleCoil, address, 1);
    request.coils = {on};
    return request;
}
Request WriteSingleRegister(std::uint16_t address, std::uint16_t value) {
    Request request = ReadRequest(FunctionCode::kWriteSingleRegister, address, 1);
    request.registers = {value};
    return request;
}
Request WriteMultipleCoils(std::uint16_t address, std::vector<bool> coils) {
    auto quantity = static_cast<std::uint16_t>(std::min<std::size_t>(coils.size(), 0xFFFF));
    Request request = ReadRequest(FunctionCode::kWriteMultipleCoils, address, quantity);
    request.coils = std::move(coils);
    return request;
}
Request WriteMultipleRegisters(std::uint16_t address, std::vector<std::uint16_t> registers) {
    auto quantity = static_cast<std::uint16_t>(std::min<std::size_t>(registers.size(), 0xFFFF));
    Request request = ReadRequest(FunctionCode::kWriteMultipleRegisters, address, quantity);
    request.registers = std::move(registers);
    return request;
}

Result<Pdu> EncodeRequest(const Request& request) {
    Pdu pdu{.function = static_cast<std::uint8_t>(request.function), .data = {}};
    if (!IsSupportedFunction(pdu.function))
        return InvalidArgument("function", "unsupported function " + std::to_string(pdu.function));
    PutU16Be(pdu.data, request.address);
    switch (request.function) {
        case FunctionCode::kReadCoils:
        case FunctionCode::kReadDiscreteInputs:
        case FunctionCode::kReadHoldingRegisters:
        case FunctionCode::kReadInputRegisters:
            JOULE_TRY(
                CheckQuantity(request.address, request.quantity, MaxQuantity(request.function)));
            PutU16Be(pdu.data, request.quantity);
            return pdu;
        case FunctionCode::kWriteSingleCoil:
            if (request.coils.size() != 1)
                return InvalidArgument("coils", "write single coil takes exactly one coil");
            PutU16Be(pdu.data, request.coils[0] ? kCoilOn : kCoilOff);
            return pdu;
        case FunctionCode::kWriteSingleRegister:
            if (request.registers.size() != 1)
                return InvalidArgument("registers", "write single register takes exactly one");
            PutU16Be(pdu.data, request.registers[0]);
            return pdu;
        case FunctionCode::kWriteMultipleCoils:
        case FunctionCode::kWriteMultipleRegisters: {
            bool coils = request.function == FunctionCode::kWriteMultipleCoils;
            std::size_t count = coils ? request.coils.size() : request.registers.size();
            JOULE_TRY(CheckQuantity(request.address, count, MaxQuantity(request.function)));
            if (request.quantity != count)
                return InvalidArgument("quantity", "quantity differs from the values given");
            PutU16Be(pdu.data, request.quantity);
            if (coils) {
                Bytes packed = PackBits(request.coils);
                pdu.data.push_back(static_cast<std::uint8_t>(packed.size()));
                pdu.data.insert(pdu.data.end(), packed.begin(), packed.end());
            } else {
                pdu.data.push_back(static_cast<std::uint8_t>(2 * count));
                for (std::uint16_t value : request.registers)
                    PutU16Be(pdu.data, value);
            }
            return pdu;
        }
    }
    return InvalidArgument("function", "unsupported function");
}

Result<Request> DecodeRequest(const Pdu& pdu) {
    if (!IsSupportedFunction(pdu.function))
        return InvalidArgument("function", "unsupported function " + std::to_string(pdu.function));
    Request request;
    request.function = static_cast<FunctionCode>(pdu.function);
    const Bytes& data = pdu.data;
    switch (request.function) {
        case FunctionCode::kReadCoils:
        case FunctionCode::kReadDiscreteInputs:
        case FunctionCode::kReadHoldingRegisters:
        case FunctionCode::kReadInputRegisters:
            JOULE_TRY(CheckDataSize(data, 4, "data"));
            request.address = U16BeAt(data, 0);
            request.quantity = U16BeAt(data, 2);
            JOULE_TRY(
                CheckQuantity(request.address, request.quantity, MaxQuantity(request.function)));
            return request;
        case FunctionCode::kWriteSingleCoil: {
            JOULE_TRY(CheckDataSize(data, 4, "data"));
            request.address = U16BeAt(data, 0);
            request.quantity = 1;
            std::uint16_t value = U16BeAt(data, 2);
            if (value != kCoilOn && value != kCoilOff)
                return InvalidArgument("value", "coil value must be FF00 or 0000");
            request.coils = {value == kCoilOn};
            return request;
        }
        case FunctionCode::kWriteSingleRegister:
            JOULE_TRY(CheckDataSize(data, 4, "data"));
            request.address = U16BeAt(data, 0);
            request.quantity = 1;
            request.registers = {U16BeAt(data, 2)};
            return request;
        case FunctionCode::kWriteMultipleCoils:
        case FunctionCode::kWriteMultipleRegisters: {
            if (data.size() < 5)
                return NeedMore("byte_count", 5, data.size());
            request.address = U16BeAt(data, 0);
            request.quantity = U16BeAt(data, 2);
            JOULE_TRY(
                CheckQuantity(request.address, request.quantity, MaxQuantity(request.function)));
            bool coils = request.function == FunctionCode::kWriteMultipleCoils;
            std::size_t want = coils ? (request.quantity + 7U) / 8U : 2U * request.quantity;
            if (data[4] != want) {
                return InvalidArgument(
                    "byte_count", "quantity " + std::to_string(request.quantity) + " needs " +
                                      std::to_string(want) + ", got " + std::to_string(data[4]));
            }
            JOULE_TRY(CheckDataSize(data, 5 + want, "values"));
            ByteView values = ByteView(data).subspan(5);
            if (coils) {
                request.coils = UnpackBits(values, request.quantity);
            } else {
                for (std::size_t i = 0; i < request.quantity; ++i)
                    request.registers.push_back(U16BeAt(values, 2 * i));
            }
            return request;
        }
    }
    return InvalidArgument("function", "unsupported function");
}

// ---- Responses ------------------------------------------------------------------------------

Result<Pdu> BuildResponse(const Request& request, std::span<const std::uint16_t> registers,
                          const std::vector<bool>& bits) {
    Pdu pdu{.function = static_cast<std::uint8_t>(request.function), .data = {}};
    if (IsReadBits(request.function) || IsReadRegisters(request.function)) {
        JOULE_TRY(CheckQuantity(request.address, request.quantity, MaxQuantity(request.function)));
        if (IsReadBits(request.function)) {
            if (bits.size() != request.quantity)
                return InvalidArgument("bits", "must hold exactly the requested quantity");
            Bytes packed = PackBits(bits);
            pdu.data.push_back(static_cast<std::uint8_t>(packed.size()));
            pdu.data.insert(pdu.data.end(), packed.begin(), packed.end());
        } else {
            if (registers.size() != request.quantity)
                return InvalidArgument("registers", "must hold exactly the requested quantity");
            pdu.data.push_back(static_cast<std::uint8_t>(2 * registers.size()));
            for (std::uint16_t value : registers)
                PutU16Be(pdu.data, value);
        }
        return pdu;
    }
    JOULE_ASSIGN_OR_RETURN(Pdu echo, EncodeRequest(request));
    echo.data.resize(4);  // 05/06 echo address+value; 0F/10 address+quantity
    return echo;
}

Pdu BuildExceptionResponse(std::uint8_t function, ExceptionCode code) {
    return Pdu{.function = static_cast<std::uint8_t>(function | kExceptionFlag),
               .data = {static_cast<std::uint8_t>(code)}};
}

Result<Response> ParseResponse(const Request& request, const Pdu& pdu) {
    auto function = static_cast<std::uint8_t>(request.function);
    Response response;
    response.function = request.function;
    if (pdu.function == (function | kExceptionFlag)) {
        JOULE_TRY(CheckDataSize(pdu.data, 1, "exception_code"));
        response.exception = true;
        response.exception_code = pdu.data[0];
        return response;
    }
    if (pdu.function != function) {
        return InvalidArgument("function", "reply function " + std::to_string(pdu.function) +
                                               " does not answer request function " +
                                               std::to_string(function));
    }
    const Bytes& data = pdu.data;
    if (IsReadBits(request.function) || IsReadRegisters(request.function)) {
        if (data.empty())
            return NeedMore("byte_count", 1, 0);
        bool bits = IsReadBits(request.function);
        std::size_t want = bits ? (request.quantity + 7U) / 8U : 2U * request.quantity;
        if (data[0] != want) {
            return InvalidArgument("byte_count", "quantity " + std::to_string(request.quantity) +
                                                     " needs " + std::to_string(want) + ", got " +
                                                     std::to_string(data[0]));
        }
        JOULE_TRY(CheckDataSize(data, 1 + want, "values"));
        ByteView values = ByteView(data).subspan(1);
        if (bits) {
            response.bits = UnpackBits(values, request.quantity);
        } else {
            for (std::size_t i = 0; i < request.quantity; ++i)
                response.registers.push_back(U16BeAt(values, 2 * i));
        }
        return response;
    }
    JOULE_TRY(CheckDataSize(data, 4, "data"));
    response.address = U16BeAt(data, 0);
    if (response.address != request.address)
        return InvalidArgument("address", "write reply echoes a different address");
    std::uint16_t second = U16BeAt(data, 2);
    switch (request.function) {
        case FunctionCode::kWriteSingleCoil:
        case FunctionCode::kWriteSingleRegister: {
            JOULE_ASSIGN_OR_RETURN(Pdu sent, EncodeRequest(request));
            if (second != U16BeAt(sent.data, 2))
                return InvalidArgument("value", "write reply echoes a different value");
            response.value = second;
            response.quantity = 1;
            return response;
        }
        default:
            if (second != request.quantity)
                return InvalidArgument("quantity", "write reply echoes a different quantity");
            response.quantity = second;
            return response;
    }
}

// ---- Register values ------------------------------------------------------------------------

namespace {

__extension__ typedef unsigned __int128 UInt128;

constexpr int kMaxScale = 18;

int BitLength(UInt128 v) {
    int n = 0;
    while (v != 0) {
        v >>= 1;
        ++n;
    }
    return n;
}

UInt128 Pow(unsigned base, int exponent) {
    UInt128 out = 1;
    for (int i = 0; i < exponent; ++i)
        out *= base;
    return out;
}

// Rounds num / den half away from zero (both magnitudes; den > 0, both < 2^126).
UInt128 RoundDiv(UInt128 num, UInt128 den) {
    UInt128 q = num / den;
    UInt128 r = num % den;
    if (2 * r >= den)
        ++q;
    return q;
}

Status CheckRange(int value, int limit, std::string_view field) {
    if (value < -limit || value > limit) {
        return InvalidArgument(std::string(field), "must be " + std::to_string(-limit) + ".." +
                                                       std::to_string(limit) + ", got " +
                                                       std::to_string(value));
    }
    return {};
}

std::uint16_t SwapBytes(std::uint16_t w) { return static_cast<std::uint16_t>(w << 8 | w >> 8); }

// Applies `order` to big-endian words (ABCD) or back: both steps are involutions.
void Reorder(std::span<std::uint16_t> words, WordOrder order) {
    if (order == WordOrder::kBadc || order == WordOrder::kDcba) {
        for (std::uint16_t& w : words)
            w = SwapBytes(w);
    }
    if (order == WordOrder::kCdab || order == WordOrder::kDcba)
        std::reverse(words.begin(), words.end());
}

Result<Decimal> DecodeInteger(std::uint64_t raw, const RegisterFormat& format) {
    Int128 value = 0;
    switch (format.type) {
        case ValueType::kU16:
        case ValueType::kU32:
        case ValueType::kU64:
            value = raw;
            break;
        case ValueType::kI16:
            value = static_cast<std::int16_t>(raw);
            break;
        case ValueType::kI32:
            value = static_cast<std::int32_t>(raw);
            break;
        case ValueType::kI64:
            value = static_cast<std::int64_t>(raw);
            break;
        case ValueType::kF32:
            break;
    }
    int decimals = format.scale_exponent < 0 ? -format.scale_exponent : 0;
    for (int i = 0; i < format.scale_exponent; ++i)
        value *= 10;  // |value| < 2^64 × 10^18 < 2^124: no overflow before the check below
    if (value > std::numeric_limits<std::int64_t>::max() ||
        value < std::numeric_limits<std::int64_t>::min()) {
        return InvalidArgument("value", "register value does not fit int64 after scaling");
    }
    return Decimal{static_cast<std::int64_t>(value), decimals};
}

}  // namespace

std::size_t RegisterCount(ValueType type) {
    switch (type) {
        case ValueType::kU16:
        case ValueType::kI16:
            return 1;
        case ValueType::kU32:
        case ValueType::kI32:
        case ValueType::kF32:
            return 2;
        case ValueType::kU64:
        case ValueType::kI64:
            return 4;
    }
    return 1;
}

Result<Decimal> DecodeF32(std::uint32_t bits, int scale_exponent, int decimals) {
    JOULE_TRY(CheckRange(scale_exponent, kMaxScale, "scale_exponent"));
    JOULE_TRY(CheckRange(decimals, kMaxScale, "decimals"));
    bool negative = (bits >> 31) != 0;
    unsigned biased = (bits >> 23) & 0xFFU;
    std::uint32_t fraction = bits & 0x7FFFFFU;
    if (biased == 0xFF) {
        return InvalidArgument(
            "value", fraction != 0 ? "f32 register holds NaN" : "f32 register holds infinity");
    }
    // |value| = m × 2^e exactly.
    UInt128 m = biased == 0 ? fraction : (fraction | 0x800000U);
    int e = biased == 0 ? -149 : static_cast<int>(biased) - 150;
    if (m == 0)
        return Decimal{0, decimals};
    // Result = m × 2^e × 10^k = m × 5^k × 2^(e+k) for k = scale + decimals, |k| <= 36.
    int k = scale_exponent + decimals;
    UInt128 num = m * Pow(5, std::max(k, 0));  // < 2^24 × 5^36 < 2^108
    UInt128 den = Pow(5, std::max(-k, 0));     // < 2^84
    int s = e + k;
    constexpr UInt128 kInt64Max = std::numeric_limits<std::int64_t>::max();
    UInt128 magnitude = 0;
    if (s >= 0) {
        // k < 0 here keeps m × 2^s below 2^127 (s <= 103); k >= 0 is bounded by the int64 check.
        if (BitLength(num) + s > 126)
            return InvalidArgument("value", "f32 value does not fit int64 at these decimals");
        magnitude = RoundDiv(num << s, den);
    } else if (BitLength(den) + (-s) > 120) {
        magnitude = 0;  // den >= 2^119 > 2 × num: rounds to zero
    } else {
        magnitude = RoundDiv(num, den << (-s));
    }
    if (magnitude > kInt64Max)
        return InvalidArgument("value", "f32 value does not fit int64 at these decimals");
    auto mantissa = static_cast<std::int64_t>(magnitude);
    return Decimal{negative ? -mantissa : mantissa, decimals};
}

Result<std::uint32_t> EncodeF32(Decimal value) {
    JOULE_TRY(CheckRange(value.decimals, 38, "decimals"));
    if (value.mantissa == 0)
        return std::uint32_t{0};
    bool negative = value.mantissa < 0;
    UInt128 num = negative ? 0 - static_cast<UInt128>(static_cast<Int128>(value.mantissa))
                           : static_cast<UInt128>(value.mantissa);
    // |value| = num / den × 2^b, den = 5^j. Large powers of 5 keep ~100 significant bits and fold
    // the rest into `sticky`, which is exact for round-to-nearest at 24 bits.
    int b = -value.decimals;
    UInt128 den = 1;
    bool sticky = false;
    if (b >= 0) {
        const int fives = b;  // b grows below as bits are shifted out
        for (int i = 0; i < fives; ++i) {
            num *= 5;
            while (BitLength(num) > 100) {
                sticky = sticky || (num & 1U) != 0;
                num >>= 1;
                ++b;
            }
        }
    } else {
        den = Pow(5, -b);  // < 2^89
    }
    // q = floor(num × 2^t / den) with 2^25 <= q < 2^27.
    int t = 26 - (BitLength(num) - BitLength(den));
    UInt128 q = 0;
    if (t >= 0) {
        UInt128 scaled = num << t;
        q = scaled / den;
        sticky = sticky || scaled % den != 0;
    } else {
        UInt128 divisor = den << (-t);
        q = num / divisor;
        sticky = sticky || num % divisor != 0;
    }
    // |value| ~ q × 2^(b - t). The binary32 pattern's last significand bit weighs 2^lsb.
    int q_bits = BitLength(q);
    int top = q_bits - 1 + b - t;
    int lsb = std::max(top - 23, -149);
    int shift = lsb - (b - t);  // >= 2
    std::uint64_t mantissa = 0;
    if (shift <= 40) {
        UInt128 round_bit = (q >> (shift - 1)) & 1U;
        UInt128 below = q & ((UInt128{1} << (shift - 1)) - 1);
        sticky = sticky || below != 0;
        mantissa = static_cast<std::uint64_t>(q >> shift);
        if (round_bit != 0 && (sticky || (mantissa & 1U) != 0))
            ++mantissa;
    }
    if (mantissa == (1U << 24)) {
        mantissa >>= 1;
        ++lsb;
    }
    std::uint32_t biased = 0;
    if (mantissa >= (1U << 23)) {
        int exponent = lsb + 150;
        if (exponent >= 255)
            return InvalidArgument("value", "beyond the largest finite binary32");
        biased = static_cast<std::uint32_t>(exponent);
        mantissa -= 1U << 23;
    }
    return static_cast<std::uint32_t>((negative ? 1U : 0U) << 31 | biased << 23 |
                                      static_cast<std::uint32_t>(mantissa));
}

Result<Decimal> DecodeRegisters(std::span<const std::uint16_t> registers,
                                const RegisterFormat& format) {
    JOULE_TRY(CheckRange(format.scale_exponent, kMaxScale, "scale_exponent"));
    std::size_t n = RegisterCount(format.type);
    if (registers.size() < n) {
        return MakeError(
            ErrorCode::kOutOfRange,
            "need " + std::to_string(n) + " register(s), have " + std::to_string(registers.size()),
            "registers");
    }
    std::array<std::uint16_t, 4> words{};
    std::copy_n(registers.begin(), n, words.begin());
    Reorder(std::span(words).first(n), format.word_order);
    std::uint64_t raw = 0;
    for (std::size_t i = 0; i < n; ++i)
        raw = raw << 16 | words[i];
    if (format.type == ValueType::kF32)
        return DecodeF32(static_cast<std::uint32_t>(raw), format.scale_exponent, format.decimals);
    return DecodeInteger(raw, format);
}

Result<std::vector<std::uint16_t>> EncodeRegisters(Decimal value, const RegisterFormat& format) {
    JOULE_TRY(CheckRange(format.scale_exponent, kMaxScale, "scale_exponent"));
    std::uint64_t raw = 0;
    if (format.type == ValueType::kF32) {
        JOULE_ASSIGN_OR_RETURN(
            std::uint32_t bits,
            EncodeF32(Decimal{value.mantissa, value.decimals + format.scale_exponent}));
        raw = bits;
    } else {
        std::int64_t scaled = 0;
        if (!Rescale(value, -format.scale_exponent, &scaled))
            return InvalidArgument("value", "does not fit int64 at the register's scale");
        Int128 lo = 0;
        Int128 hi = 0;
        switch (format.type) {
            case ValueType::kU16:
                hi = 0xFFFF;
                break;
            case ValueType::kI16:
                lo = -0x8000;
                hi = 0x7FFF;
                break;
            case ValueType::kU32:
                hi = 0xFFFFFFFF;
                break;
            case ValueType::kI32:
                lo = -Int128{0x80000000};
                hi = 0x7FFFFFFF;
                break;
            case ValueType::kU64:
                hi = std::numeric_limits<std::int64_t>::max();
                break;
            case ValueType::kI64:
            case ValueType::kF32:
                lo = std::numeric_limits<std::int64_t>::min();
                hi = std::numeric_limits<std::int64_t>::max();
                break;
        }
        if (scaled < lo || scaled > hi)
            return InvalidArgument("value", "out of the register type's range");
        raw = static_cast<std::uint64_t>(scaled);
    }
    std::size_t n = RegisterCount(format.type);
    std::vector<std::uint16_t> words(n);
    for (std::size_t i = 0; i < n; ++i)
        words[n - 1 - i] = static_cast<std::uint16_t>(raw >> (16 * i));
    Reorder(words, format.word_order);
    return words;
}

}  // namespace joule::codec::modbus
