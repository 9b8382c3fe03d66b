// Fuzzes the DL/T 645 codec (codec/dlt645.hpp) on raw bytes, as a meter or a DTU sends them (the
// corpus holds the codec tests' frames and field captures). One input is read four ways:
//   1. DecodeFrame, then: the error convention; the frame re-encodes to the same wire bytes; every
//      proper prefix of it is "need more" (kOutOfRange); the stream scanner, written separately,
//      finds the same frame; address text round-trips; the edition is detectable or refused.
//   2. The frame as a request (ParseRequest) or a reply (ParseReply): what parses rebuilds with
//      BuildRequest / BuildReply and parses back to the same message.
//   3. A second frame after the first, checked as the reply to the first (CheckReplyMatches).
//   4. The data-item layer: a read reply's payload, and also the input's first 4 bytes as a DI with
//      the following bytes as its payload, through FindDataItem / DecodeValues / EncodeValues and
//      the date, time and status-word decoders, each of which must round-trip.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <variant>

#include "codec/dlt645.hpp"
#include "codec/stream_scanner.hpp"
#include "fuzz_input.hpp"

namespace {

namespace codec = joule::codec;
namespace dlt645 = joule::codec::dlt645;
using codec::ByteView;
using joule::ErrorCode;

void CheckError(const joule::Error& error) {
    JOULE_ASSERT(error.code == ErrorCode::kOutOfRange ||
                     error.code == ErrorCode::kInvalidArgument ||
                     error.code == ErrorCode::kDataLoss,
                 "a DL/T 645 error outside the codec's convention");
}

bool SameBytes(const codec::Bytes& a, ByteView b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void CheckRequest(const dlt645::Frame& frame) {
    const auto request = dlt645::ParseRequest(frame);
    if (!request.has_value()) {
        CheckError(request.error());
        return;
    }
    const auto built = dlt645::BuildRequest(frame.address, *request);
    JOULE_ASSERT(built.has_value(), "a parsed request does not build");
    const auto again = dlt645::ParseRequest(*built);
    JOULE_ASSERT(again.has_value() && *again == *request, "request round trip");
    const auto wire = dlt645::EncodeFrame(*built);
    JOULE_ASSERT(wire.has_value(), "a built request does not encode");
}

// Values of a data item: decoded values encode and decode back to themselves.
void CheckDataItem(dlt645::DataId di, dlt645::Edition edition, ByteView payload) {
    const auto item = dlt645::FindDataItem(di, edition);
    if (!item.has_value()) {
        JOULE_ASSERT(item.error().code == ErrorCode::kNotFound, "FindDataItem error code");
        return;
    }
    JOULE_ASSERT(item->di == di && item->edition == edition, "FindDataItem returned another item");
    switch (item->format) {
        case dlt645::ValueFormat::kBcd:
        case dlt645::ValueFormat::kStatusWord: {
            const auto values = dlt645::DecodeValues(*item, payload);
            if (!values.has_value()) {
                CheckError(values.error());
                return;
            }
            JOULE_ASSERT(!values->empty(), "no values decoded");
            const auto encoded = dlt645::EncodeValues(*item, *values);
            JOULE_ASSERT(encoded.has_value() && encoded->size() == payload.size(),
                         "decoded values do not encode to the same size");
            const auto again = dlt645::DecodeValues(*item, *encoded);
            JOULE_ASSERT(again.has_value() && *again == *values, "values round trip");
            break;
        }
        case dlt645::ValueFormat::kDateWeek: {
            const auto date = dlt645::DecodeMeterDate(payload);
            if (!date.has_value())
                return CheckError(date.error());
            const auto encoded =
                dlt645::EncodeMeterDate(dlt645::CombineDateTime(*date, dlt645::MeterTime{}));
            JOULE_ASSERT(encoded.has_value(), "a decoded date does not encode");
            const auto again = dlt645::DecodeMeterDate(*encoded);
            JOULE_ASSERT(again.has_value() && again->year == date->year &&
                             again->month == date->month && again->day == date->day,
                         "date round trip");
            break;
        }
        case dlt645::ValueFormat::kTime: {
            const auto time = dlt645::DecodeMeterTime(payload);
            if (!time.has_value())
                return CheckError(time.error());
            const auto encoded =
                dlt645::EncodeMeterTime(dlt645::CombineDateTime(dlt645::MeterDate{}, *time));
            JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, payload), "time round trip");
            break;
        }
        case dlt645::ValueFormat::kDateTimeMinutes: {
            const auto t = dlt645::DecodeDateTimeMinutes(payload);
            if (!t.has_value())
                return CheckError(t.error());
            JOULE_ASSERT(codec::IsValid(*t), "an invalid date decoded");
            const auto encoded = dlt645::EncodeDateTimeMinutes(*t);
            JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, payload),
                         "date-time round trip");
            break;
        }
        case dlt645::ValueFormat::kRaw:
            break;
    }
}

void CheckReply(const dlt645::Frame& frame) {
    const auto reply = dlt645::ParseReply(frame);
    if (!reply.has_value()) {
        CheckError(reply.error());
        return;
    }
    const auto built = dlt645::BuildReply(frame.address, *reply);
    JOULE_ASSERT(built.has_value(), "a parsed reply does not build");
    const auto again = dlt645::ParseReply(*built);
    JOULE_ASSERT(again.has_value() && *again == *reply, "reply round trip");
    if (const auto* read = std::get_if<dlt645::ReadReply>(&*reply))
        CheckDataItem(read->di, read->edition, read->payload);
    if (const auto* error = std::get_if<dlt645::ErrorReply>(&*reply))
        JOULE_ASSERT(!dlt645::DescribeErrorWord(error->error).empty(), "error word text");
}

void CheckFrame(ByteView input, const dlt645::DecodedFrame& decoded) {
    const dlt645::Frame& frame = decoded.frame;
    const std::size_t length = dlt645::kFrameOverheadBytes + frame.data.size();
    JOULE_ASSERT(frame.data.size() <= dlt645::kMaxDataBytes, "L over the limit");
    JOULE_ASSERT(decoded.consumed <= input.size() && decoded.consumed >= length, "consumed");
    const ByteView wire = input.subspan(decoded.consumed - length, length);
    for (std::size_t i = 0; i < decoded.consumed - length; ++i)
        JOULE_ASSERT(input[i] == dlt645::kPreambleByte, "skipped a byte that is not FEH");

    // Byte-exact re-encoding.
    const auto encoded = dlt645::EncodeFrame(frame, {.preamble_count = 0});
    JOULE_ASSERT(encoded.has_value() && SameBytes(*encoded, wire), "frame round trip");

    // Every proper prefix is "need more bytes", as a stream scanner needs.
    for (std::size_t k = decoded.consumed - length; k < decoded.consumed; ++k) {
        const auto prefix = dlt645::DecodeFrame(input.first(k));
        JOULE_ASSERT(!prefix.has_value() && prefix.error().code == ErrorCode::kOutOfRange,
                     "a proper prefix of a frame is not 'need more bytes'");
    }

    // The stream scanner finds the same frame.
    codec::StreamScannerOptions options;
    options.dlt645 = true;
    codec::StreamScanner scanner(options);
    scanner.Feed(input.first(decoded.consumed));
    const auto scanned = scanner.Next();
    JOULE_ASSERT(scanned.has_value() && SameBytes(scanned->bytes, wire),
                 "the stream scanner and DecodeFrame disagree");

    // Address text.
    const std::string text = dlt645::FormatAddress(frame.address);
    const auto parsed_address = dlt645::ParseAddress(text);
    JOULE_ASSERT(parsed_address.has_value() && *parsed_address == frame.address,
                 "address text round trip");
    JOULE_ASSERT(dlt645::AddressMatches(frame.address, frame.address), "an address not itself");

    const auto edition = dlt645::DetectEdition(frame);
    if (!edition.has_value())
        JOULE_ASSERT(edition.error().code == ErrorCode::kInvalidArgument, "DetectEdition error");
    if (frame.control.is_reply())
        CheckReply(frame);
    else
        CheckRequest(frame);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView input = size == 0 ? ByteView{} : ByteView(data, size);

    const auto decoded = dlt645::DecodeFrame(input);
    if (decoded.has_value()) {
        CheckFrame(input, *decoded);
        // A second frame, checked as the reply to the first.
        const auto second = dlt645::DecodeFrame(input.subspan(decoded->consumed));
        if (second.has_value()) {
            const auto matches = dlt645::CheckReplyMatches(decoded->frame, second->frame);
            if (!matches.has_value())
                JOULE_ASSERT(matches.error().code == ErrorCode::kInvalidArgument,
                             "CheckReplyMatches error code");
        }
    } else {
        CheckError(decoded.error());
    }

    // The data-item layer on its own: DI (DI0 first, as on the wire after 33H is removed), then
    // the payload; the DI's low bit of the first byte picks the 1997 table too.
    joule::fuzz::FuzzInput in(data, size);
    const std::uint32_t wire_di = in.U32();
    const auto di = static_cast<dlt645::DataId>((wire_di & 0xFF) << 24 | (wire_di & 0xFF00) << 8 |
                                                (wire_di >> 8 & 0xFF00) | wire_di >> 24);
    const ByteView payload = in.Take(64);
    CheckDataItem(di, dlt645::Edition::k2007, payload);
    CheckDataItem(di & 0xFFFF, dlt645::Edition::k1997, payload);

    // Run status word 3 and the baud tables are total functions over their inputs.
    const auto word = static_cast<std::uint16_t>(wire_di);
    JOULE_ASSERT(dlt645::EncodeRunStatus3(dlt645::DecodeRunStatus3(word)) == word,
                 "run status word 3 round trip");
    const auto table = static_cast<dlt645::BaudTable>(1 + (wire_di >> 16) % 4);
    const auto rate = dlt645::ZToBaudRate(static_cast<std::uint8_t>(wire_di >> 8), table);
    if (rate.has_value()) {
        const auto z = dlt645::BaudRateToZ(*rate, table);
        JOULE_ASSERT(z.has_value() && *z == static_cast<std::uint8_t>(wire_di >> 8),
                     "baud table round trip");
    }
    return 0;
}
