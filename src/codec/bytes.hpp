// Bounds-checked byte handling shared by every codec: a reader that never reads past its input,
// hex text for captures and the CLI, and packed BCD as the metering protocols use it.
// Pure: no I/O, no clock, no floating point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace joule::codec {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

// Reads a byte span front to back. Every read checks the remaining length first and fails with
// kOutOfRange naming `what`, so a truncated frame is reported precisely and never over-read.
class ByteReader {
public:
    explicit ByteReader(ByteView bytes) : bytes_(bytes) {}

    [[nodiscard]] std::size_t remaining() const { return bytes_.size() - pos_; }
    [[nodiscard]] std::size_t position() const { return pos_; }
    [[nodiscard]] bool empty() const { return remaining() == 0; }

    [[nodiscard]] Result<std::uint8_t> U8(std::string_view what);
    [[nodiscard]] Result<std::uint16_t> U16Be(std::string_view what);
    [[nodiscard]] Result<std::uint16_t> U16Le(std::string_view what);
    [[nodiscard]] Result<ByteView> Take(std::size_t n, std::string_view what);

private:
    ByteView bytes_;
    std::size_t pos_ = 0;
};

// The value of one hex digit (either case), or -1 for any other character.
[[nodiscard]] int HexDigit(char c);
// "68 AA aa-01:ff" -> bytes. Spaces, ':', '-' and a leading "0x" per byte are ignored; anything
// else, or an odd digit count, is kInvalidArgument with the offending position.
[[nodiscard]] Result<Bytes> ParseHex(std::string_view text);
// Upper-case hex with a space between bytes: "68 AA 01".
[[nodiscard]] std::string ToHex(ByteView bytes);

// Packed BCD, one byte = two decimal digits (high nibble tens).
[[nodiscard]] inline bool IsBcdByte(std::uint8_t b) { return (b >> 4) <= 9 && (b & 0x0F) <= 9; }
[[nodiscard]] inline std::uint8_t BcdByteValue(std::uint8_t b) {
    return static_cast<std::uint8_t>((b >> 4) * 10 + (b & 0x0F));
}
[[nodiscard]] inline std::uint8_t ToBcdByte(unsigned value) {
    return static_cast<std::uint8_t>(((value / 10) % 10) << 4 | (value % 10));
}
// Digits of a little-endian (low byte first) BCD field as an unsigned integer. Non-BCD nibbles are
// kInvalidArgument naming `what`. At most 18 digits (9 bytes).
[[nodiscard]] Result<std::uint64_t> DecodeBcdLe(ByteView bytes, std::string_view what);
// `value` as `n` little-endian BCD bytes; kOutOfRange when it needs more than 2n digits.
[[nodiscard]] Result<Bytes> EncodeBcdLe(std::uint64_t value, std::size_t n, std::string_view what);

// Sum of bytes mod 256: the checksum of DL/T 645 and CJ/T 188.
[[nodiscard]] std::uint8_t Sum8(ByteView bytes);

}  // namespace joule::codec
