// Fuzzes the DTU stream scanner (codec/stream_scanner.hpp). The input is a small header (which
// grammars, the limits, an RTU expectation), a chunk plan, and the byte stream, which is fed in
// the planned chunk sizes with MarkIdle() and re-armed RTU expectations where the plan says.
// Checked, after every step: memory stays bounded; every byte is accounted for; each frame is the
// stream's bytes at the position the scanner has reached, after the previous frame, and obeys its
// grammar (sum or CRC, end byte, length); and, when nothing chunk-dependent happened (no overflow,
// no MarkIdle, no re-armed expectation), the frames and counters equal those of one Feed of the
// whole stream. The whole-stream run is also compared with the codecs' own frame decoders.
//
// Input: flags | max_frame | max_buffered | rtu unit | rtu function | plan length n | n plan bytes
// | stream. flags: bit 0 DL/T 645, 1 CJ/T 188, 2 Modbus RTU, 3 Modbus TCP, 4 RTU requests rather
// than replies. A plan byte: bits 0-5 chunk size - 1, bit 6 MarkIdle after it, bit 7 arm the RTU
// expectation before it. The plan repeats until the stream is used up.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "codec/modbus.hpp"
#include "codec/stream_scanner.hpp"
#include "fuzz_input.hpp"

namespace {

namespace codec = joule::codec;
namespace modbus = joule::codec::modbus;
using codec::ByteView;
using codec::FrameKind;
using codec::ScannedFrame;
using codec::StreamScanner;
using codec::StreamScannerOptions;

struct Setup {
    StreamScannerOptions options;
    codec::RtuExpectation rtu;
};

Setup ReadSetup(joule::fuzz::FuzzInput& in) {
    Setup setup;
    const std::uint8_t flags = in.U8();
    setup.options.dlt645 = (flags & 0x01) != 0;
    setup.options.cjt188 = (flags & 0x02) != 0;
    setup.options.modbus_rtu = (flags & 0x04) != 0;
    setup.options.modbus_tcp = (flags & 0x08) != 0;
    if ((flags & 0x0F) == 0)
        setup.options.dlt645 = true;
    setup.options.max_frame_bytes = 12 + in.U8() % (codec::kMaxScannedFrameBytes - 12 + 1);
    setup.options.max_buffered_bytes = setup.options.max_frame_bytes + std::size_t{4} * in.U8();
    setup.rtu.unit = in.U8();
    setup.rtu.function = in.U8();
    setup.rtu.direction =
        (flags & 0x10) != 0 ? codec::RtuDirection::kRequest : codec::RtuDirection::kResponse;
    return setup;
}

bool Enabled(const StreamScannerOptions& o, FrameKind kind) {
    switch (kind) {
        case FrameKind::kDlt645:
            return o.dlt645;
        case FrameKind::kCjt188:
            return o.cjt188;
        case FrameKind::kModbusRtu:
            return o.modbus_rtu;
        case FrameKind::kModbusTcp:
            return o.modbus_tcp;
    }
    return false;
}

// The grammar of PROTOCOLS.md, restated independently of the scanner's code.
void CheckGrammar(const ScannedFrame& frame, const Setup& setup) {
    const ByteView b = frame.bytes;
    JOULE_ASSERT(Enabled(setup.options, frame.kind), "a frame of a kind not asked for");
    JOULE_ASSERT(b.size() <= setup.options.max_frame_bytes, "a frame over max_frame_bytes");
    switch (frame.kind) {
        case FrameKind::kDlt645:
            JOULE_ASSERT(b.size() >= 12 && b[0] == 0x68 && b[7] == 0x68, "DL/T 645 header");
            JOULE_ASSERT(b.size() == 12u + b[9], "DL/T 645 length");
            JOULE_ASSERT(b.back() == 0x16, "DL/T 645 end byte");
            JOULE_ASSERT(codec::Sum8(b.first(b.size() - 2)) == b[b.size() - 2], "DL/T 645 CS");
            break;
        case FrameKind::kCjt188:
            JOULE_ASSERT(b.size() >= 13 && b[0] == 0x68, "CJ/T 188 header");
            JOULE_ASSERT(b.size() == 13u + b[10], "CJ/T 188 length");
            JOULE_ASSERT(b.back() == 0x16, "CJ/T 188 end byte");
            JOULE_ASSERT(codec::Sum8(b.first(b.size() - 2)) == b[b.size() - 2], "CJ/T 188 CS");
            break;
        case FrameKind::kModbusRtu: {
            JOULE_ASSERT(b.size() >= 4 && b[0] == setup.rtu.unit, "RTU unit");
            JOULE_ASSERT((b[1] & 0x7F) == (setup.rtu.function & 0x7F), "RTU function");
            const auto direction = setup.rtu.direction == codec::RtuDirection::kRequest
                                       ? modbus::Direction::kRequest
                                       : modbus::Direction::kResponse;
            const auto decoded = modbus::DecodeRtu(b, direction);
            JOULE_ASSERT(decoded.has_value() && decoded->consumed == b.size(),
                         "an RTU frame that DecodeRtu does not delimit the same way");
            break;
        }
        case FrameKind::kModbusTcp: {
            JOULE_ASSERT(b.size() >= 8 && b[2] == 0 && b[3] == 0, "MBAP protocol id");
            JOULE_ASSERT(b.size() == 6u + (b[4] * 256u + b[5]), "MBAP length");
            const auto decoded = modbus::DecodeTcp(b);
            JOULE_ASSERT(decoded.has_value() && decoded->consumed == b.size(),
                         "a TCP frame that DecodeTcp does not delimit the same way");
            break;
        }
    }
}

struct Outcome {
    std::vector<ScannedFrame> frames;
    codec::StreamScannerCounters counters;
    std::size_t buffered = 0;
};

class Checker {
public:
    Checker(const Setup& setup, ByteView stream) : setup_(setup), stream_(stream) {}

    void Feed(StreamScanner& scanner, ByteView chunk) {
        scanner.Feed(chunk);
        fed_ += chunk.size();
        CheckState(scanner);
    }

    void Drain(StreamScanner& scanner, Outcome& out) {
        while (auto frame = scanner.Next()) {
            CheckState(scanner);
            // The buffer is always a suffix of the stream fed so far, so the frame just taken
            // ended where the buffered bytes begin.
            const std::size_t end = fed_ - scanner.buffered();
            JOULE_ASSERT(end >= frame->bytes.size() && end - frame->bytes.size() >= last_end_,
                         "frames overlap or go backwards");
            const auto at = stream_.subspan(end - frame->bytes.size(), frame->bytes.size());
            JOULE_ASSERT(std::equal(at.begin(), at.end(), frame->bytes.begin()),
                         "a frame that is not the stream's bytes at its position");
            last_end_ = end;
            CheckGrammar(*frame, setup_);
            if (frame->kind == FrameKind::kModbusRtu)
                JOULE_ASSERT(!scanner.ExpectsModbusRtu(), "the RTU expectation outlived its reply");
            out.frames.push_back(std::move(*frame));
        }
        CheckState(scanner);
    }

private:
    void CheckState(const StreamScanner& scanner) const {
        const auto& c = scanner.counters();
        JOULE_ASSERT(scanner.buffered() <= setup_.options.max_buffered_bytes, "unbounded buffer");
        JOULE_ASSERT(c.bytes_fed == fed_, "bytes_fed");
        JOULE_ASSERT(c.bytes_fed ==
                         c.frame_bytes + c.preamble_bytes + c.discarded_bytes + scanner.buffered(),
                     "a byte fed is neither in a frame, counted, nor buffered");
    }

    const Setup& setup_;
    ByteView stream_;
    std::size_t fed_ = 0;
    std::size_t last_end_ = 0;
};

// Compares a scan of the whole stream with what the codecs decode at its start.
void CheckAgainstCodecs(const Setup& setup, ByteView stream, const Outcome& whole) {
    const auto& o = setup.options;
    if (o.modbus_tcp && !o.dlt645 && !o.cjt188 && !o.modbus_rtu) {
        const auto decoded = modbus::DecodeTcp(stream);
        if (decoded.has_value() && decoded->consumed <= o.max_frame_bytes &&
            (stream[7] & 0x7F) != 0) {
            JOULE_ASSERT(!whole.frames.empty() && whole.frames[0].bytes.size() == decoded->consumed,
                         "the scanner missed an MBAP ADU at the start of the stream");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    joule::fuzz::FuzzInput in(data, size);
    const Setup setup = ReadSetup(in);
    const std::size_t plan_length = in.U8() % 33;
    const ByteView plan = in.Take(plan_length);
    const ByteView stream = in.Rest();

    // The stream in planned chunks.
    StreamScanner scanner(setup.options);
    Checker checker(setup, stream);
    Outcome chunked;
    bool chunk_dependent = false;
    if (setup.options.modbus_rtu)
        scanner.ExpectModbusRtu(setup.rtu);
    std::size_t pos = 0;
    for (std::size_t step = 0; pos < stream.size(); ++step) {
        const std::uint8_t p = plan.empty() ? 0x3F : plan[step % plan.size()];
        const std::size_t n = plan.empty()
                                  ? stream.size()
                                  : std::min<std::size_t>((p & 0x3F) + 1u, stream.size() - pos);
        if ((p & 0x80) != 0 && setup.options.modbus_rtu) {
            scanner.ExpectModbusRtu(setup.rtu);
            chunk_dependent = true;
        }
        checker.Feed(scanner, stream.subspan(pos, n));
        pos += n;
        checker.Drain(scanner, chunked);
        if ((p & 0x40) != 0) {
            scanner.MarkIdle();
            chunk_dependent = true;
            checker.Drain(scanner, chunked);
        }
    }
    chunk_dependent = chunk_dependent || scanner.counters().overflows > 0;
    JOULE_ASSERT(scanner.counters().frames == chunked.frames.size(), "frames counter");
    chunked.counters = scanner.counters();
    chunked.buffered = scanner.buffered();

    // The same stream in one Feed, with room for all of it.
    Setup whole_setup = setup;
    whole_setup.options.max_buffered_bytes = std::max(setup.options.max_frame_bytes, stream.size());
    StreamScanner reference(whole_setup.options);
    Checker reference_checker(whole_setup, stream);
    Outcome whole;
    if (setup.options.modbus_rtu)
        reference.ExpectModbusRtu(setup.rtu);
    reference_checker.Feed(reference, stream);
    reference_checker.Drain(reference, whole);
    whole.counters = reference.counters();
    whole.buffered = reference.buffered();
    JOULE_ASSERT(whole.counters.overflows == 0, "an overflow with room for the whole stream");
    CheckAgainstCodecs(setup, stream, whole);

    if (!chunk_dependent) {
        JOULE_ASSERT(chunked.frames == whole.frames, "chunking changed the frames found");
        JOULE_ASSERT(chunked.counters == whole.counters, "chunking changed the counters");
        JOULE_ASSERT(chunked.buffered == whole.buffered, "chunking changed what is left");
    }

    // Once the line is idle nothing can still be waited for: the buffer empties.
    reference.MarkIdle();
    reference_checker.Drain(reference, whole);
    JOULE_ASSERT(reference.buffered() == 0, "bytes left after MarkIdle");
    return 0;
}
