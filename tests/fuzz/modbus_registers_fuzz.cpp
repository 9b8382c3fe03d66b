// Fuzzes Modbus register value decoding (modbus::DecodeRegisters / EncodeRegisters), the integer
// arithmetic that turns 16/32/64-bit integers and IEEE-754 binary32 registers into exact Decimals.
// Checked: the error convention; integer types round-trip exactly to the same registers; for f32,
// decode(encode(decode(r))) == decode(r) (the nearest float to a rounded value rounds back to it);
// the decimals of the result are the promised ones; and EncodeF32/DecodeF32 agree on the bits.
//
// Input: type | word order | scale_exponent | decimals | registers (big-endian pairs).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/modbus.hpp"
#include "codec/values.hpp"
#include "fuzz_input.hpp"
#include "modbus_checks.hpp"

namespace {

namespace modbus = joule::codec::modbus;
using joule::codec::Decimal;

// -20..20: a little past the codec's -18..18, so the range checks run too.
int SmallInt(std::uint8_t b) { return static_cast<int>(b % 41) - 20; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    joule::fuzz::FuzzInput in(data, size);
    modbus::RegisterFormat format;
    format.type = static_cast<modbus::ValueType>(in.U8() % 7);
    format.word_order = static_cast<modbus::WordOrder>(in.U8() % 4);
    format.scale_exponent = SmallInt(in.U8());
    format.decimals = SmallInt(in.U8());
    std::vector<std::uint16_t> registers;
    while (!in.empty() && registers.size() < 4)
        registers.push_back(in.U16());

    const auto value = modbus::DecodeRegisters(registers, format);
    if (!value.has_value()) {
        joule::fuzz::CheckModbusError(value.error());
        return 0;
    }
    const std::size_t n = modbus::RegisterCount(format.type);
    JOULE_ASSERT(registers.size() >= n, "decoded from too few registers");
    const bool f32 = format.type == modbus::ValueType::kF32;
    const int decimals = f32 ? format.decimals : std::max(0, -format.scale_exponent);
    JOULE_ASSERT(value->decimals == decimals, "the result's decimals");

    const auto encoded = modbus::EncodeRegisters(*value, format);
    if (!encoded.has_value() && f32 && format.decimals < 0) {
        // Rounding to tens or more (negative decimals) may carry a value just below the largest
        // float past it; EncodeRegisters documents kInvalidArgument beyond the float range.
        JOULE_ASSERT(encoded.error().code == joule::ErrorCode::kInvalidArgument,
                     "out-of-range encode is kInvalidArgument");
        return 0;
    }
    JOULE_ASSERT(encoded.has_value() && encoded->size() == n, "a decoded value does not encode");
    if (!f32) {
        JOULE_ASSERT(std::equal(encoded->begin(), encoded->end(), registers.begin()),
                     "integer registers round trip");
        return 0;
    }
    const auto again = modbus::DecodeRegisters(*encoded, format);
    JOULE_ASSERT(again.has_value() && *again == *value, "f32 decode(encode(decode)) round trip");

    // The scaled value as a float pattern, and back.
    const auto bits = modbus::EncodeF32(Decimal{value->mantissa, decimals + format.scale_exponent});
    JOULE_ASSERT(bits.has_value(), "EncodeF32 of a decoded value");
    const auto back = modbus::DecodeF32(*bits, format.scale_exponent, decimals);
    JOULE_ASSERT(back.has_value() && *back == *value, "DecodeF32(EncodeF32) round trip");
    return 0;
}
