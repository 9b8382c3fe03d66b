// Fuzzes Modbus TCP decoding (codec/modbus.hpp): DecodeTcp over a buffer holding several MBAP
// ADUs, one by one as a client reads them, and each PDU as a server request.
// Checked: the error convention; TcpAduLength agrees; header fields are the wire's; every decoded
// ADU re-encodes to the same bytes (function 0, which DecodeTcp passes through, must be refused by
// EncodeTcp); every proper prefix is "need more" (kOutOfRange); requests round-trip through the
// server and client halves of the codec (modbus_checks.hpp).
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
    ByteView bytes = in.Take(in.remaining() / 4 * 3 + 1);  // the rest feeds CheckServerRequest
    for (int adus = 0; adus < 64; ++adus) {
        const auto decoded = modbus::DecodeTcp(bytes);
        if (!decoded.has_value()) {
            joule::fuzz::CheckModbusError(decoded.error());
            break;
        }
        const std::size_t n = decoded->consumed;
        JOULE_ASSERT(n >= 8 && n <= modbus::kMaxTcpAduBytes && n <= bytes.size(), "ADU size");
        const auto length = modbus::TcpAduLength(bytes);
        JOULE_ASSERT(length.has_value() && *length == n, "TcpAduLength disagrees");
        const auto& adu = decoded->adu;
        JOULE_ASSERT(adu.transaction_id == (bytes[0] << 8 | bytes[1]) && bytes[2] == 0 &&
                         bytes[3] == 0 && adu.unit == bytes[6] && adu.pdu.function == bytes[7] &&
                         adu.pdu.data.size() == n - 8,
                     "MBAP fields");

        const auto encoded = modbus::EncodeTcp(adu);
        if (adu.pdu.function == 0) {
            JOULE_ASSERT(
                !encoded.has_value() && encoded.error().code == ErrorCode::kInvalidArgument,
                "function 0 encoded");
        } else {
            JOULE_ASSERT(encoded.has_value() && encoded->size() == n &&
                             std::equal(encoded->begin(), encoded->end(), bytes.begin()),
                         "ADU round trip");
        }
        for (std::size_t k = 0; k < n; ++k) {
            const auto prefix = modbus::DecodeTcp(bytes.first(k));
            JOULE_ASSERT(!prefix.has_value() && prefix.error().code == ErrorCode::kOutOfRange,
                         "a proper prefix of an ADU is not 'need more bytes'");
        }
        joule::fuzz::CheckServerRequest(adu.pdu, in);
        bytes = bytes.subspan(n);
    }
    return 0;
}
