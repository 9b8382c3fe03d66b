#include "codec/stream_scanner.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "codec/modbus.hpp"

namespace joule::codec {
namespace {

// Checksums are computed here, independently of the code under test.
std::uint8_t SumMod256(const Bytes& bytes) {
    unsigned sum = 0;
    for (std::uint8_t b : bytes)
        sum += b;
    return static_cast<std::uint8_t>(sum % 256);
}

void Append(Bytes& out, const Bytes& more) { out.insert(out.end(), more.begin(), more.end()); }

Bytes Ascii(std::string_view text) { return Bytes(text.begin(), text.end()); }

Bytes Hex(std::string_view text) {
    auto bytes = ParseHex(text);
    EXPECT_TRUE(bytes.has_value());
    return bytes.value_or(Bytes{});
}

// 68 A0..A5 68 C L DATA(+33H) CS 16.
Bytes Dlt645(std::uint8_t control, const Bytes& plain_data,
             const Bytes& address = {0x12, 0x90, 0x78, 0x56, 0x34, 0x12}) {
    Bytes frame{0x68};
    Append(frame, address);
    frame.push_back(0x68);
    frame.push_back(control);
    frame.push_back(static_cast<std::uint8_t>(plain_data.size()));
    for (std::uint8_t b : plain_data)
        frame.push_back(static_cast<std::uint8_t>(b + 0x33));
    frame.push_back(SumMod256(frame));
    frame.push_back(0x16);
    return frame;
}

// A read reply for forward active total energy (DI 00010000): 1234.56 kWh.
Bytes Dlt645Reading() { return Dlt645(0x91, {0x00, 0x00, 0x01, 0x00, 0x56, 0x34, 0x12, 0x00}); }

// 68 T A0..A6 C L DATA CS 16 (no +33H).
Bytes Cjt188(std::uint8_t type, const Bytes& address, std::uint8_t control, const Bytes& data) {
    Bytes frame{0x68, type};
    Append(frame, address);
    frame.push_back(control);
    frame.push_back(static_cast<std::uint8_t>(data.size()));
    Append(frame, data);
    frame.push_back(SumMod256(frame));
    frame.push_back(0x16);
    return frame;
}

// A valve reply (C = 84H, DI A017, SER 05, ST 00 00).
Bytes Cjt188ValveReply(const Bytes& address = {0x78, 0x56, 0x34, 0x12, 0x00, 0x00, 0x00}) {
    return Cjt188(0x10, address, 0x84, {0xA0, 0x17, 0x05, 0x00, 0x00});
}

Bytes WithCrc(Bytes adu) {
    const std::uint16_t crc = modbus::Crc16(adu);
    adu.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    adu.push_back(static_cast<std::uint8_t>(crc >> 8));
    return adu;
}

// A channel of electricity meters, and one that carries both kinds of meter.
StreamScannerOptions Dlt645Options() {
    StreamScannerOptions options;
    options.dlt645 = true;
    return options;
}

StreamScannerOptions MixedOptions() {
    StreamScannerOptions options;
    options.dlt645 = true;
    options.cjt188 = true;
    return options;
}

std::vector<ScannedFrame> Drain(StreamScanner& scanner) {
    std::vector<ScannedFrame> frames;
    while (auto frame = scanner.Next())
        frames.push_back(std::move(*frame));
    return frames;
}

// Feeds `stream` in pieces cut at `cuts` (ascending offsets), draining after each Feed.
std::vector<ScannedFrame> FeedInPieces(StreamScanner& scanner, const Bytes& stream,
                                       const std::vector<std::size_t>& cuts) {
    std::vector<ScannedFrame> frames;
    std::size_t from = 0;
    auto feed_to = [&](std::size_t to) {
        scanner.Feed(ByteView(stream).subspan(from, to - from));
        for (auto& frame : Drain(scanner))
            frames.push_back(std::move(frame));
        from = to;
    };
    for (std::size_t cut : cuts)
        feed_to(cut);
    feed_to(stream.size());
    return frames;
}

// Every byte fed is in a frame, counted as preamble or discarded, or still buffered.
void ExpectBytesAccountedFor(const StreamScanner& scanner) {
    const auto& c = scanner.counters();
    EXPECT_EQ(c.bytes_fed, c.frame_bytes + c.preamble_bytes + c.discarded_bytes +
                               static_cast<std::uint64_t>(scanner.buffered()));
}

ScannedFrame Frame(FrameKind kind, Bytes bytes) { return ScannedFrame{kind, std::move(bytes)}; }

TEST(StreamScanner, TestFramesAgreeWithRealCaptures) {
    // A real DL/T 645 "no requested data" error reply (PROTOCOLS.md §1.4) and the Modbus example
    // request of §2.1: the helpers build frames byte for byte as meters send them.
    EXPECT_EQ(Dlt645(0xD1, {0x02}), Hex("68 12 90 78 56 34 12 68 D1 01 35 8D 16"));
    EXPECT_EQ(WithCrc(Hex("01 03 00 00 00 0A")), Hex("01 03 00 00 00 0A C5 CD"));
}

TEST(StreamScanner, FindsAFrameFedWhole) {
    StreamScanner scanner(Dlt645Options());
    scanner.Feed(Dlt645Reading());
    auto frame = scanner.Next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(*frame, Frame(FrameKind::kDlt645, Dlt645Reading()));
    EXPECT_FALSE(scanner.Next().has_value());
    EXPECT_EQ(scanner.counters().frames, 1u);
    EXPECT_EQ(scanner.buffered(), 0u);
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, FindsFramesSplitAtEveryBytePosition) {
    Bytes stream{0xFE, 0xFE, 0xFE, 0xFE};
    Append(stream, Dlt645Reading());
    Append(stream, Ascii("+++noise"));
    Append(stream, {0xFE, 0xFE});
    Append(stream, Cjt188ValveReply());
    const std::vector<ScannedFrame> expected{Frame(FrameKind::kDlt645, Dlt645Reading()),
                                             Frame(FrameKind::kCjt188, Cjt188ValveReply())};
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        StreamScanner scanner(MixedOptions());
        EXPECT_EQ(FeedInPieces(scanner, stream, {cut}), expected) << "cut at " << cut;
        EXPECT_EQ(scanner.counters().preamble_bytes, 6u);
        EXPECT_EQ(scanner.counters().discarded_bytes, 8u);
        ExpectBytesAccountedFor(scanner);
    }
    // Two cuts, every pair, and one byte at a time.
    for (std::size_t a = 0; a <= stream.size(); ++a) {
        for (std::size_t b = a; b <= stream.size(); ++b) {
            StreamScanner scanner(MixedOptions());
            ASSERT_EQ(FeedInPieces(scanner, stream, {a, b}), expected) << a << "," << b;
        }
    }
    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < stream.size(); ++i)
        every_byte.push_back(i);
    StreamScanner scanner(MixedOptions());
    EXPECT_EQ(FeedInPieces(scanner, stream, every_byte), expected);
}

TEST(StreamScanner, SkipsZeroToSevenWakeUpBytes) {
    for (std::size_t n = 0; n <= 7; ++n) {
        Bytes stream(n, 0xFE);
        Append(stream, Dlt645Reading());
        StreamScanner scanner(Dlt645Options());
        scanner.Feed(stream);
        auto frame = scanner.Next();
        ASSERT_TRUE(frame.has_value()) << n << " FE";
        EXPECT_EQ(frame->bytes, Dlt645Reading()) << "the preamble is not part of the frame";
        EXPECT_EQ(scanner.counters().preamble_bytes, n);
        EXPECT_EQ(scanner.counters().discarded_bytes, 0u);
    }
}

TEST(StreamScanner, SkipsGarbageBeforeBetweenAndAfterFrames) {
    Bytes stream = Hex("00 13 37 FF 16 16 AA");
    Append(stream, Dlt645Reading());
    Append(stream, Hex("55 AA 55 00"));
    Append(stream, Dlt645(0x93, {0x12, 0x90, 0x78, 0x56, 0x34, 0x12}));
    Append(stream, Hex("01 02 03"));
    StreamScanner scanner(Dlt645Options());
    scanner.Feed(stream);
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].bytes, Dlt645Reading());
    EXPECT_EQ(frames[1].bytes, Dlt645(0x93, {0x12, 0x90, 0x78, 0x56, 0x34, 0x12}));
    EXPECT_EQ(scanner.counters().preamble_bytes, 1u);  // the FF
    EXPECT_EQ(scanner.counters().discarded_bytes, 13u);
    EXPECT_EQ(scanner.buffered(), 0u);
}

TEST(StreamScanner, FindsSeveralFramesInOneChunk) {
    Bytes stream;
    for (int i = 0; i < 5; ++i) {
        Append(stream, {0xFE, 0xFE});
        Append(stream, Dlt645Reading());
        Append(stream, Cjt188ValveReply());
    }
    StreamScanner scanner(MixedOptions());
    scanner.Feed(stream);
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 10u);
    for (std::size_t i = 0; i < frames.size(); ++i)
        EXPECT_EQ(frames[i].kind, i % 2 == 0 ? FrameKind::kDlt645 : FrameKind::kCjt188);
    EXPECT_EQ(scanner.counters().frames, 10u);
    EXPECT_EQ(scanner.counters().discarded_bytes, 0u);
}

TEST(StreamScanner, AFakeStartByteInGarbageCostsOneByte) {
    // Looks like a DL/T 645 header (68 at 0 and 7) with L = C8H: a 212-byte frame that never comes.
    const Bytes fake = Hex("68 01 02 03 04 05 06 68 11 C8");
    Bytes stream = fake;
    Append(stream, Dlt645Reading());

    // Until 212 bytes have arrived the fake might still be a frame, so the scanner waits...
    StreamScanner scanner(MixedOptions());
    scanner.Feed(stream);
    EXPECT_FALSE(scanner.Next().has_value());
    // ...and once they have, it is rejected and the frame it covered is found.
    Bytes more;
    for (std::size_t i = 0; i < 200; ++i)
        more.push_back(static_cast<std::uint8_t>(i % 0x60));
    scanner.Feed(more);
    auto frame = scanner.Next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->bytes, Dlt645Reading());
    EXPECT_EQ(scanner.counters().checksum_failures, 0u);
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, MarkIdleGivesUpOnAnIncompleteCandidate) {
    Bytes stream = Hex("68 01 02 03 04 05 06 68 11 C8");
    Append(stream, Dlt645Reading());
    Append(stream, Hex("68 12 90"));  // the start of a frame that the line then drops

    StreamScanner scanner(MixedOptions());
    scanner.Feed(stream);
    EXPECT_FALSE(scanner.Next().has_value());
    scanner.MarkIdle();  // the adapter's read timed out
    auto frame = scanner.Next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->bytes, Dlt645Reading());
    EXPECT_FALSE(scanner.Next().has_value());
    EXPECT_EQ(scanner.buffered(), 0u);
    EXPECT_EQ(scanner.counters().discarded_bytes, 13u);

    // Bytes fed after MarkIdle are waited for as usual.
    const Bytes next = Cjt188ValveReply();
    scanner.Feed(ByteView(next).first(5));
    EXPECT_FALSE(scanner.Next().has_value());
    EXPECT_EQ(scanner.buffered(), 5u);
    scanner.Feed(ByteView(next).subspan(5));
    ASSERT_TRUE(scanner.Next().has_value());
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, ACorruptedFrameIsCountedAndTheNextOneFound) {
    Bytes corrupted = Dlt645Reading();
    corrupted[12] ^= 0x01;  // a data bit flipped on the line: the CS no longer matches
    Bytes stream = corrupted;
    Append(stream, {0xFE, 0xFE});
    Append(stream, Dlt645Reading());
    StreamScanner scanner(Dlt645Options());
    scanner.Feed(stream);
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].bytes, Dlt645Reading());
    EXPECT_EQ(scanner.counters().checksum_failures, 1u);
    EXPECT_EQ(scanner.counters().discarded_bytes, corrupted.size());
    EXPECT_EQ(scanner.counters().preamble_bytes, 2u);
}

TEST(StreamScanner, AFrameThatStartsInsideARejectedOneIsFound) {
    // A frame truncated by a DTU reconnect, followed by a whole frame: the broken header's length
    // spans the good frame, which must not be dropped with it.
    Bytes stream = Dlt645(0x91, {0x00, 0x00, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44});
    stream.resize(12);
    Append(stream, Dlt645Reading());
    StreamScanner scanner(Dlt645Options());
    scanner.Feed(stream);
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], Frame(FrameKind::kDlt645, Dlt645Reading()));
    EXPECT_EQ(scanner.counters().discarded_bytes, 12u);
    EXPECT_EQ(scanner.buffered(), 0u);
}

TEST(StreamScanner, SkipsARegistrationStringAndHeartbeatsBetweenFrames) {
    Bytes stream = Ascii("IMEI:861234567890123,ICCID:89860012345678901234\r\n");
    const std::size_t text = stream.size();
    Append(stream, {0xFE, 0xFE, 0xFE, 0xFE});
    Append(stream, Dlt645Reading());
    Append(stream, Ascii("heartbeat"));  // 'h' is 68H: a fake start byte in every heartbeat
    Append(stream, Dlt645(0x93, {0x12, 0x90, 0x78, 0x56, 0x34, 0x12}));
    StreamScanner scanner(Dlt645Options());
    const auto frames = FeedInPieces(scanner, stream, {7, 30, text + 2, text + 20});
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].bytes, Dlt645Reading());
    EXPECT_EQ(frames[1].bytes, Dlt645(0x93, {0x12, 0x90, 0x78, 0x56, 0x34, 0x12}));
    EXPECT_EQ(scanner.counters().discarded_bytes, text + 9);
    EXPECT_EQ(scanner.counters().preamble_bytes, 4u);
    EXPECT_EQ(scanner.buffered(), 0u);
}

TEST(StreamScanner, WithCjt188EnabledAStray68WaitsForItsLengthOrIdle) {
    // CJ/T 188 reads the 'h' of "heartbeat" as a header whose L (at offset 10) is the T byte of the
    // next frame: 13 + 10H = 29 bytes, two more than have arrived.
    Bytes stream = Ascii("heartbeat");
    Append(stream, Cjt188ValveReply());
    StreamScanner scanner(MixedOptions());
    scanner.Feed(stream);
    EXPECT_FALSE(scanner.Next().has_value());
    scanner.MarkIdle();
    auto frame = scanner.Next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(*frame, Frame(FrameKind::kCjt188, Cjt188ValveReply()));

    // Without MarkIdle the next bytes settle it.
    StreamScanner busy(MixedOptions());
    busy.Feed(stream);
    EXPECT_FALSE(busy.Next().has_value());
    busy.Feed(Cjt188ValveReply());
    auto frames = Drain(busy);
    ASSERT_EQ(frames.size(), 2u);
    EXPECT_EQ(frames[0].bytes, Cjt188ValveReply());
    EXPECT_EQ(busy.counters().discarded_bytes, 9u);
}

TEST(StreamScanner, TellsDlt645FromCjt188) {
    // A CJ/T 188 address whose A5 is BCD 68: the frame has 68H at offset 7 like DL/T 645, but only
    // the CJ/T 188 reading of it has a valid length, checksum and end byte.
    const Bytes water = Cjt188ValveReply({0x01, 0x02, 0x03, 0x04, 0x05, 0x68, 0x00});
    ASSERT_EQ(water[7], 0x68);
    StreamScanner scanner(MixedOptions());
    scanner.Feed(water);
    auto frame = scanner.Next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(*frame, Frame(FrameKind::kCjt188, water));

    // Only the kinds asked for are reported.
    StreamScannerOptions dlt645_only;
    dlt645_only.dlt645 = true;
    StreamScanner scanner645(dlt645_only);
    Bytes stream = Cjt188ValveReply();
    Append(stream, Dlt645Reading());
    scanner645.Feed(stream);
    auto frames = Drain(scanner645);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].kind, FrameKind::kDlt645);
}

TEST(StreamScanner, TheShortestOfTwoValidReadingsWinsHoweverTheStreamIsCut) {
    // Bytes that are a valid 15-byte CJ/T 188 frame (A5 = 68H, C = 0AH, L = 2) and, read as
    // DL/T 645 (68H at offset 7, L = 0AH), also the start of a valid 22-byte frame.
    const Bytes cjt188 =
        Cjt188(0x10, {0x01, 0x02, 0x03, 0x04, 0x05, 0x68, 0x00}, 0x0A, {0x90, 0x1F});
    Bytes stream = cjt188;
    Append(stream, {0x01, 0x02, 0x03, 0x04, 0x05});
    stream.push_back(SumMod256(stream));
    stream.push_back(0x16);
    ASSERT_EQ(stream.size(), 22u);
    ASSERT_EQ(stream[9], 22 - 12);

    std::vector<std::size_t> every_byte;
    for (std::size_t i = 1; i < stream.size(); ++i)
        every_byte.push_back(i);
    for (const auto& cuts :
         {std::vector<std::size_t>{}, std::vector<std::size_t>{16}, every_byte}) {
        StreamScanner scanner(MixedOptions());
        const auto frames = FeedInPieces(scanner, stream, cuts);
        ASSERT_EQ(frames.size(), 1u);
        EXPECT_EQ(frames[0], Frame(FrameKind::kCjt188, cjt188));
        EXPECT_EQ(scanner.counters().discarded_bytes, 7u);
    }
}

TEST(StreamScanner, RejectsAWrongEndByteWithoutCountingAChecksumFailure) {
    Bytes frame = Dlt645Reading();
    frame.back() = 0x17;
    StreamScanner scanner(Dlt645Options());
    scanner.Feed(frame);
    EXPECT_TRUE(Drain(scanner).empty());
    EXPECT_EQ(scanner.counters().checksum_failures, 0u);
    EXPECT_EQ(scanner.counters().discarded_bytes, frame.size());
}

TEST(StreamScanner, RejectsFramesLongerThanTheLimitAtOnce) {
    StreamScannerOptions options = Dlt645Options();
    options.max_frame_bytes = 24;
    StreamScanner scanner(options);
    Bytes stream = Dlt645(0x91, Bytes(20, 0x00));  // 32 bytes: over the limit
    Append(stream, Dlt645Reading());               // 20 bytes
    // A header promising more than the limit is not waited for: only its second 68H, at offset 7,
    // is still a candidate.
    scanner.Feed(ByteView(stream).first(10));
    EXPECT_FALSE(scanner.Next().has_value());
    EXPECT_EQ(scanner.buffered(), 3u);
    scanner.Feed(ByteView(stream).subspan(10));
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].bytes, Dlt645Reading());
}

TEST(StreamScanner, OverflowDropsTheOldestBytesAndCountsIt) {
    StreamScannerOptions options = Dlt645Options();
    options.max_buffered_bytes = 64;
    options.max_frame_bytes = 64;
    StreamScanner scanner(options);

    // A chunk larger than the whole buffer keeps its newest 64 bytes.
    scanner.Feed(Bytes(100, 0x00));
    EXPECT_EQ(scanner.buffered(), 64u);
    EXPECT_EQ(scanner.counters().overflows, 1u);
    EXPECT_EQ(scanner.counters().discarded_bytes, 36u);
    EXPECT_TRUE(Drain(scanner).empty());
    ExpectBytesAccountedFor(scanner);

    // A candidate waiting for its 52 bytes, then a chunk that does not fit beside it.
    scanner.Feed(Hex("68 01 02 03 04 05 06 68 11 28"));
    EXPECT_FALSE(scanner.Next().has_value());
    Bytes chunk(40, 0x00);
    Append(chunk, Dlt645Reading());
    scanner.Feed(chunk);
    EXPECT_EQ(scanner.counters().overflows, 2u);
    EXPECT_LE(scanner.buffered(), 64u);
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].bytes, Dlt645Reading());
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, MemoryStaysBoundedWhenNobodyDrains) {
    StreamScannerOptions options = MixedOptions();
    options.modbus_tcp = true;
    options.max_buffered_bytes = 300;
    StreamScanner scanner(options);
    std::uint32_t x = 12345;
    for (int i = 0; i < 1000; ++i) {
        Bytes chunk(37);
        for (auto& b : chunk) {
            x = x * 1103515245u + 12345u;
            b = static_cast<std::uint8_t>(x >> 24);
        }
        scanner.Feed(chunk);
        ASSERT_LE(scanner.buffered(), 300u);
        if (i % 10 == 0)
            (void)Drain(scanner);
    }
    EXPECT_GT(scanner.counters().overflows, 0u);
    (void)Drain(scanner);
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, ModbusRtuReplyOnlyWhenExpected) {
    StreamScannerOptions options;
    options.dlt645 = true;
    options.modbus_rtu = true;
    const Bytes reply = WithCrc(Hex("01 03 04 00 0A 00 0B"));  // two registers: 10, 11

    StreamScanner scanner(options);
    scanner.Feed(reply);  // nothing asked: RTU has no start byte, so these bytes are noise
    EXPECT_TRUE(Drain(scanner).empty());
    EXPECT_EQ(scanner.counters().discarded_bytes, reply.size());

    scanner.ExpectModbusRtu({.unit = 1, .function = 3});
    EXPECT_TRUE(scanner.ExpectsModbusRtu());
    Bytes stream = Ascii("IMEI:861234567890123");
    Append(stream, WithCrc(Hex("02 03 02 00 01")));  // another slave's reply: not ours
    Append(stream, reply);
    Append(stream, reply);  // a duplicate after the expectation was met
    const auto frames = FeedInPieces(scanner, stream, {3, 25, 29});
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0], Frame(FrameKind::kModbusRtu, reply));
    EXPECT_FALSE(scanner.ExpectsModbusRtu()) << "one request, one reply";
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, ModbusRtuSplitEverywhereExceptionsAndBadCrc) {
    StreamScannerOptions options;
    options.modbus_rtu = true;
    const Bytes reply = WithCrc(Hex("05 04 06 00 01 00 02 00 03"));
    Bytes stream = Hex("FF 00 05");
    Append(stream, reply);
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        StreamScanner scanner(options);
        scanner.ExpectModbusRtu({.unit = 5, .function = 4});
        const auto frames = FeedInPieces(scanner, stream, {cut});
        ASSERT_EQ(frames.size(), 1u) << "cut at " << cut;
        EXPECT_EQ(frames[0].bytes, reply);
    }

    // An exception reply (function | 80H) answers the request too.
    const Bytes exception = WithCrc(Hex("05 84 02"));
    StreamScanner scanner(options);
    scanner.ExpectModbusRtu({.unit = 5, .function = 4});
    Bytes bad = reply;
    bad[4] ^= 0x40;
    scanner.Feed(bad);
    scanner.Feed(exception);
    auto frames = Drain(scanner);
    ASSERT_EQ(frames.size(), 1u);
    EXPECT_EQ(frames[0].bytes, exception);
    EXPECT_EQ(scanner.counters().checksum_failures, 1u);
    EXPECT_EQ(scanner.counters().discarded_bytes, bad.size());

    // ClearModbusRtu: the request timed out, a late reply is noise.
    scanner.ExpectModbusRtu({.unit = 5, .function = 4});
    scanner.ClearModbusRtu();
    scanner.Feed(reply);
    EXPECT_TRUE(Drain(scanner).empty());
}

TEST(StreamScanner, ModbusRtuRequestsForASimulator) {
    StreamScannerOptions options;
    options.modbus_rtu = true;
    StreamScanner scanner(options);
    scanner.ExpectModbusRtu({.unit = 1, .function = 3, .direction = RtuDirection::kRequest});
    scanner.Feed(Hex("00 01 03 00 00 00 0A C5 CD"));
    auto frame = scanner.Next();
    ASSERT_TRUE(frame.has_value());
    EXPECT_EQ(frame->bytes, Hex("01 03 00 00 00 0A C5 CD"));
}

TEST(StreamScanner, ModbusTcpFramesByMbapLength) {
    StreamScannerOptions options;
    options.modbus_tcp = true;
    const Bytes first = Hex("00 01 00 00 00 07 01 03 04 00 0A 00 0B");
    const Bytes second = Hex("00 02 00 00 00 03 01 83 02");
    Bytes stream = Ascii("IMEI:861234567890123\r\n");
    Append(stream, first);
    Append(stream, Hex("00 03 00 01 00 06 01 03"));  // protocol id 1: not Modbus
    Append(stream, second);
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        StreamScanner scanner(options);
        const auto frames = FeedInPieces(scanner, stream, {cut});
        ASSERT_EQ(frames.size(), 2u) << "cut at " << cut;
        EXPECT_EQ(frames[0], Frame(FrameKind::kModbusTcp, first));
        EXPECT_EQ(frames[1], Frame(FrameKind::kModbusTcp, second));
        ExpectBytesAccountedFor(scanner);
    }
}

TEST(StreamScanner, ResetDropsBufferedBytesButKeepsCounters) {
    StreamScanner scanner(Dlt645Options());
    scanner.Feed(ByteView(Dlt645Reading()).first(9));
    EXPECT_FALSE(scanner.Next().has_value());
    scanner.Reset();
    EXPECT_EQ(scanner.buffered(), 0u);
    EXPECT_EQ(scanner.counters().discarded_bytes, 9u);
    scanner.Feed(Dlt645Reading());
    EXPECT_TRUE(scanner.Next().has_value());
    ExpectBytesAccountedFor(scanner);
}

TEST(StreamScanner, NamesFrameKinds) {
    EXPECT_EQ(FrameKindName(FrameKind::kDlt645), "dlt645");
    EXPECT_EQ(FrameKindName(FrameKind::kCjt188), "cjt188");
    EXPECT_EQ(FrameKindName(FrameKind::kModbusRtu), "modbus_rtu");
    EXPECT_EQ(FrameKindName(FrameKind::kModbusTcp), "modbus_tcp");
}

}  // namespace
}  // namespace joule::codec
