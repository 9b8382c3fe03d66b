#include "codec/modbus.hpp"

#include <array>
#include <string>

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

}  // namespace joule::codec::modbus
