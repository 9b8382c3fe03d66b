// Fuzzes the CJ/T 188 codec (codec/cjt188.hpp) on raw bytes, as water and heat meters send them
// (the corpus holds the codec tests' frames and field captures). One input is read as:
//   1. A frame (DecodeFrame, both fallback DI orders): the error convention; byte-exact
//      re-encoding; FrameLength agrees; every proper prefix is "need more" (kOutOfRange); the
//      stream scanner finds the same frame; the control byte round-trips.
//   2. A reply: the abnormal, write and read-address parsers, and the 901F water/gas and heat
//      layouts and D12x history values, which must re-encode to the same bytes.
//   3. A request, answered the way the simulator answers it (MakeReply, MakeAbnormalReply,
//      MakeWriteReply, MakeReadAddressReply): each reply must pass CheckReplyMatches against the
//      request and survive encode/decode; a valve command rebuilds to the same command.
//   4. A second frame after the first, checked as the reply to the first.
//   5. The input's first 7 bytes as a meter clock, and its first two as a status word.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "codec/cjt188.hpp"
#include "codec/stream_scanner.hpp"
#include "fuzz_input.hpp"

namespace {

namespace codec = joule::codec;
namespace cjt188 = joule::codec::cjt188;
using codec::ByteView;
using joule::ErrorCode;

void CheckError(const joule::Error& error) {
    JOULE_ASSERT(error.code == ErrorCode::kOutOfRange ||
                     error.code == ErrorCode::kInvalidArgument ||
                     error.code == ErrorCode::kDataLoss,
                 "a CJ/T 188 error outside the codec's convention");
}

bool SameBytes(const codec::Bytes& a, ByteView b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Encodes, decodes and encodes again: the wire bytes must not change.
void CheckEncodesStably(const cjt188::Frame& frame) {
    const auto wire = cjt188::EncodeFrame(frame, 0);
    if (!wire.has_value()) {
        JOULE_ASSERT(wire.error().code == ErrorCode::kInvalidArgument, "EncodeFrame error code");
        JOULE_ASSERT(frame.data.size() + (frame.has_di ? cjt188::kDiSerBytes : 0) > 255,
                     "a frame that fits did not encode");
        return;
    }
    const auto decoded = cjt188::DecodeFrame(*wire, frame.di_order);
    JOULE_ASSERT(decoded.has_value() && decoded->consumed == wire->size(),
                 "an encoded frame does not decode");
    const auto again = cjt188::EncodeFrame(decoded->frame, 0);
    JOULE_ASSERT(again.has_value() && *again == *wire, "encode/decode/encode changed the bytes");
}

void CheckUnitValue(const cjt188::UnitValue& v) {
    const auto base = cjt188::ToBaseUnit(v.value, v.unit);
    JOULE_ASSERT(base.has_value() == cjt188::DescribeUnit(v.unit).has_value(),
                 "ToBaseUnit and DescribeUnit disagree on a unit code");
}

// The value layouts of a reply's data: what decodes re-encodes to the same bytes.
void CheckReplyValues(const cjt188::Frame& frame) {
    const ByteView data = frame.data;
    for (const auto position :
         {cjt188::UnitPosition::kAfterValue, cjt188::UnitPosition::kBeforeValue}) {
        if (const auto water = cjt188::DecodeWaterGasData(data, position); water.has_value()) {
            CheckUnitValue(water->current);
            CheckUnitValue(water->settlement);
            const auto encoded = cjt188::EncodeWaterGasData(*water, position);
            JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, data), "901F water round trip");
        } else {
            CheckError(water.error());
        }
        if (const auto history = cjt188::DecodeHistoryData(data, position); history.has_value()) {
            const auto encoded = cjt188::EncodeHistoryData(*history, position);
            JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, data), "D12x round trip");
        } else {
            CheckError(history.error());
        }
    }
    for (const auto layout : {cjt188::HeatLayout::kStandard46, cjt188::HeatLayout::kUnitFirst46,
                              cjt188::HeatLayout::kNgGateway43}) {
        if (const auto heat = cjt188::DecodeHeatData(data, layout); heat.has_value()) {
            CheckUnitValue(heat->current_heat);
            const auto encoded = cjt188::EncodeHeatData(*heat, layout);
            JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, data), "901F heat round trip");
        } else {
            CheckError(heat.error());
        }
    }
}

void CheckReply(const cjt188::Frame& frame) {
    if (const auto st = cjt188::ParseAbnormalReply(frame); !st.has_value())
        CheckError(st.error());
    if (const auto st = cjt188::ParseWriteReply(frame); !st.has_value())
        CheckError(st.error());
    if (const auto address = cjt188::ParseReadAddressReply(frame); !address.has_value())
        CheckError(address.error());
    CheckReplyValues(frame);
}

// Answers a request as the simulator does; every answer must match it.
void CheckRequest(const cjt188::Frame& request) {
    cjt188::MeterIdentity self;
    self.type = request.meter_type == cjt188::MeterType::kWildcard ? cjt188::MeterType::kColdWater
                                                                   : request.meter_type;
    // Like the simulator: AA is a per-byte wildcard, all-99 is the broadcast address, and a 99
    // byte in any other address is just the BCD digits 99 of the meter's own address.
    self.address = request.address;
    const bool broadcast = std::all_of(self.address.begin(), self.address.end(),
                                       [](std::uint8_t b) { return b == 0x99; });
    for (auto& b : self.address) {
        if (b == 0xAA || broadcast)
            b = 0x11;
    }
    const cjt188::Dialect dialect;
    const cjt188::Frame replies[] = {
        cjt188::MakeReply(request, self, codec::Bytes{0x12, 0x34}),
        cjt188::MakeAbnormalReply(request, self, 0x0102),
        cjt188::MakeWriteReply(request, self, 0x0001),
        cjt188::MakeReadAddressReply(request, self, dialect),
    };
    for (const auto& reply : replies) {
        const auto matches = cjt188::CheckReplyMatches(request, reply);
        JOULE_ASSERT(matches.has_value(), "the simulator's reply does not match its request");
        CheckEncodesStably(reply);
    }

    const auto valve = cjt188::ParseValveControlRequest(request);
    if (!valve.has_value()) {
        CheckError(valve.error());
        return;
    }
    cjt188::Dialect as_seen;
    as_seen.di_order = request.di_order;
    const auto rebuilt = cjt188::ValveControlRequest(request.meter_type, request.address, *valve,
                                                     request.ser, as_seen);
    const auto again = cjt188::ParseValveControlRequest(rebuilt);
    JOULE_ASSERT(again.has_value() && *again == *valve, "valve command round trip");
}

void CheckFrame(ByteView input, const cjt188::DecodedFrame& decoded) {
    const cjt188::Frame& frame = decoded.frame;
    const std::size_t l = frame.data.size() + (frame.has_di ? cjt188::kDiSerBytes : 0);
    const std::size_t length = cjt188::kMinFrameBytes + l;
    JOULE_ASSERT(l <= 255 && decoded.consumed <= input.size() && decoded.consumed >= length,
                 "frame size");
    const std::size_t preamble = decoded.consumed - length;
    for (std::size_t i = 0; i < preamble; ++i)
        JOULE_ASSERT(input[i] == cjt188::kPreambleByte, "skipped a byte that is not FEH");
    const ByteView wire = input.subspan(preamble, length);

    const auto encoded = cjt188::EncodeFrame(frame, 0);
    JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, wire), "frame round trip");
    const auto frame_length = cjt188::FrameLength(wire);
    JOULE_ASSERT(frame_length.has_value() && *frame_length == length, "FrameLength disagrees");
    if (decoded.di_known)
        JOULE_ASSERT(frame.has_di && cjt188::IsKnownDi(frame.di), "di_known for an unknown DI");
    JOULE_ASSERT(cjt188::EncodeControl(cjt188::DecodeControl(frame.control)) == frame.control,
                 "control byte round trip");

    for (std::size_t k = preamble; k < decoded.consumed; ++k) {
        const auto prefix = cjt188::DecodeFrame(input.first(k));
        JOULE_ASSERT(!prefix.has_value() && prefix.error().code == ErrorCode::kOutOfRange,
                     "a proper prefix of a frame is not 'need more bytes'");
    }

    codec::StreamScannerOptions options;
    options.cjt188 = true;
    codec::StreamScanner scanner(options);
    scanner.Feed(input.first(decoded.consumed));
    const auto scanned = scanner.Next();
    JOULE_ASSERT(scanned.has_value() && SameBytes(scanned->bytes, wire),
                 "the stream scanner and DecodeFrame disagree");

    if (const auto address = cjt188::ParseAddress(cjt188::FormatAddress(frame.address));
        address.has_value()) {
        JOULE_ASSERT(*address == frame.address, "address text round trip");
    }

    if (cjt188::ControlOf(frame).from_meter)
        CheckReply(frame);
    else
        CheckRequest(frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView input = size == 0 ? ByteView{} : ByteView(data, size);

    for (const auto order : {cjt188::DiOrder::kBigEndian, cjt188::DiOrder::kLittleEndian}) {
        const auto decoded = cjt188::DecodeFrame(input, order);
        if (!decoded.has_value()) {
            CheckError(decoded.error());
            continue;
        }
        CheckFrame(input, *decoded);
        if (order != cjt188::DiOrder::kBigEndian)
            continue;
        const auto second = cjt188::DecodeFrame(input.subspan(decoded->consumed));
        if (second.has_value()) {
            const auto matches = cjt188::CheckReplyMatches(decoded->frame, second->frame);
            if (!matches.has_value())
                JOULE_ASSERT(matches.error().code == ErrorCode::kInvalidArgument,
                             "CheckReplyMatches error code");
        }
    }

    // The clock and the status word on their own.
    const ByteView clock = input.first(std::min<std::size_t>(7, input.size()));
    if (const auto decoded = cjt188::DecodeClock(clock); decoded.has_value()) {
        const auto encoded = cjt188::EncodeClock(*decoded);
        JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, clock), "clock round trip");
    } else {
        CheckError(decoded.error());
    }
    joule::fuzz::FuzzInput in(data, size);
    const std::uint16_t st = in.U16();
    for (const auto layout : {cjt188::StatusLayout::kStandard, cjt188::StatusLayout::kSdqr}) {
        const auto status = cjt188::DecodeStatus(st, layout);
        JOULE_ASSERT(cjt188::DecodeStatus(cjt188::EncodeStatus(status, layout), layout) == status,
                     "status round trip");
    }
    return 0;
}
