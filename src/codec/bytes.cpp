#include "codec/bytes.hpp"

#include <string>

namespace joule::codec {

namespace {

std::unexpected<Error> Truncated(std::string_view what, std::size_t need, std::size_t have) {
    return MakeError(
        ErrorCode::kOutOfRange,
        "truncated: needs " + std::to_string(need) + " byte(s), " + std::to_string(have) + " left",
        std::string(what));
}

}  // namespace

Result<std::uint8_t> ByteReader::U8(std::string_view what) {
    if (remaining() < 1)
        return Truncated(what, 1, remaining());
    return bytes_[pos_++];
}

Result<std::uint16_t> ByteReader::U16Be(std::string_view what) {
    if (remaining() < 2)
        return Truncated(what, 2, remaining());
    auto value = static_cast<std::uint16_t>(bytes_[pos_] << 8 | bytes_[pos_ + 1]);
    pos_ += 2;
    return value;
}

Result<std::uint16_t> ByteReader::U16Le(std::string_view what) {
    if (remaining() < 2)
        return Truncated(what, 2, remaining());
    auto value = static_cast<std::uint16_t>(bytes_[pos_ + 1] << 8 | bytes_[pos_]);
    pos_ += 2;
    return value;
}

Result<ByteView> ByteReader::Take(std::size_t n, std::string_view what) {
    if (remaining() < n)
        return Truncated(what, n, remaining());
    ByteView out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
}

int HexDigit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

Result<Bytes> ParseHex(std::string_view text) {
    Bytes out;
    int high = -1;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == ' ' || c == ':' || c == '-' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
            if (high >= 0)
                return InvalidArgument("hex", "odd digit before position " + std::to_string(i));
            continue;
        }
        if (high < 0 && c == '0' && i + 1 < text.size() &&
            (text[i + 1] == 'x' || text[i + 1] == 'X')) {
            ++i;
            continue;
        }
        int digit = HexDigit(c);
        if (digit < 0) {
            return InvalidArgument("hex", "not a hex digit at position " + std::to_string(i));
        }
        if (high < 0) {
            high = digit;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | digit));
            high = -1;
        }
    }
    if (high >= 0)
        return InvalidArgument("hex", "odd number of hex digits");
    return out;
}

std::string ToHex(ByteView bytes) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(bytes.size() * 3);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0)
            out.push_back(' ');
        out.push_back(kDigits[bytes[i] >> 4]);
        out.push_back(kDigits[bytes[i] & 0x0F]);
    }
    return out;
}

Result<std::uint64_t> DecodeBcdLe(ByteView bytes, std::string_view what) {
    if (bytes.size() > 9)
        return InvalidArgument(std::string(what), "BCD field longer than 9 bytes");
    std::uint64_t value = 0;
    for (std::size_t i = bytes.size(); i-- > 0;) {
        if (!IsBcdByte(bytes[i])) {
            return InvalidArgument(std::string(what), "not BCD: byte " + std::to_string(i) +
                                                          " is " + ToHex(bytes.subspan(i, 1)));
        }
        value = value * 100 + BcdByteValue(bytes[i]);
    }
    return value;
}

Result<Bytes> EncodeBcdLe(std::uint64_t value, std::size_t n, std::string_view what) {
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) {
        out[i] = ToBcdByte(static_cast<unsigned>(value % 100));
        value /= 100;
    }
    if (value != 0) {
        return MakeError(ErrorCode::kOutOfRange,
                         "does not fit in " + std::to_string(2 * n) + " BCD digits",
                         std::string(what));
    }
    return out;
}

std::uint8_t Sum8(ByteView bytes) {
    unsigned sum = 0;
    for (std::uint8_t b : bytes)
        sum += b;
    return static_cast<std::uint8_t>(sum & 0xFF);
}

}  // namespace joule::codec
