// Fuzzes Modbus RTU decoding (codec/modbus.hpp): DecodeRtu on a buffer that may hold several
// ADUs, as replies (a master's view) or requests (a simulator's), then the request decoder.
// Checked: the error convention; the length functions agree with DecodeRtu; the CRC holds; every
// decoded ADU re-encodes to the same bytes; every proper prefix of a decoded ADU is "need more"
// (kOutOfRange), as the stream scanner relies on; and requests round-trip through the server and
// client halves of the codec (modbus_checks.hpp).
//
// Input: byte 0 bit 0 = requests (else replies) | the bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "codec/modbus.hpp"
#include "fuzz_input.hpp"
#include "modbus_checks.hpp"

namespace {

namespace modbus = joule::codec::modbus;
using joule::ErrorCode;
using joule::codec::ByteView;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    joule::fuzz::FuzzInput in(data, size);
    const bool requests = in.Bool();
    const auto direction = requests ? modbus::Direction::kRequest : modbus::Direction::kResponse;
    // For requests, the last quarter feeds CheckServerRequest with reply values.
    ByteView bytes = requests ? in.Take(in.remaining() / 4 * 3 + 1) : in.Rest();
    for (int adus = 0; adus < 64; ++adus) {
        const auto decoded = modbus::DecodeRtu(bytes, direction);
        if (!decoded.has_value()) {
            joule::fuzz::CheckModbusError(decoded.error());
            break;
        }
        const std::size_t n = decoded->consumed;
        JOULE_ASSERT(n >= 4 && n <= modbus::kMaxRtuAduBytes && n <= bytes.size(), "ADU size");
        const auto length =
            requests ? modbus::RtuRequestLength(bytes) : modbus::RtuResponseLength(bytes);
        JOULE_ASSERT(length.has_value() && *length == n, "length function disagrees");
        const std::uint16_t crc = modbus::Crc16(bytes.first(n - 2));
        JOULE_ASSERT(bytes[n - 2] == (crc & 0xFF) && bytes[n - 1] == (crc >> 8), "CRC");
        JOULE_ASSERT(decoded->adu.unit == bytes[0] && decoded->adu.pdu.function == bytes[1],
                     "unit and function");
        if (!requests) {
            JOULE_ASSERT(decoded->adu.unit >= 1 && decoded->adu.unit <= modbus::kMaxUnit,
                         "a reply from a unit that cannot answer");
        }

        const auto encoded = modbus::EncodeRtu(decoded->adu);
        JOULE_ASSERT(encoded.has_value(), "a decoded ADU does not encode");
        JOULE_ASSERT(ByteView(*encoded).size() == n &&
                         std::equal(encoded->begin(), encoded->end(), bytes.begin()),
                     "ADU round trip");

        for (std::size_t k = 0; k < n; ++k) {
            const auto prefix = modbus::DecodeRtu(bytes.first(k), direction);
            JOULE_ASSERT(!prefix.has_value() && prefix.error().code == ErrorCode::kOutOfRange,
                         "a proper prefix of an ADU is not 'need more bytes'");
        }
        if (requests)
            joule::fuzz::CheckServerRequest(decoded->adu.pdu, in);
        bytes = bytes.subspan(n);
    }
    return 0;
}
