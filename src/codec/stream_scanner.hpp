// Finds frame boundaries in a byte stream. 4G DTUs and serial servers deliver the RS-485 bytes of
// meters in arbitrary chunks, with FE/FF wake-up preambles, line noise, heartbeats and ASCII
// registration strings ("IMEI:8613...") between frames (PROTOCOLS.md §5). The scanner buffers what
// it is fed, returns each complete frame whose checksum verifies, and resynchronises one byte at a
// time after anything else, so a valid frame that starts inside rejected bytes is still found.
//
// It only finds boundaries and verifies checksums (DL/T 645 and CJ/T 188 sum, Modbus RTU CRC);
// decoding the frame is the job of dlt645.hpp, cjt188.hpp and modbus.hpp.
// Pure: no I/O, no clock, no floating point.
//
// What counts as a frame, at a candidate position p (the grammars of PROTOCOLS.md §1.2, §2, §3.1):
//   DL/T 645   68 at p and p+7, L at p+9, 16 at p+11+L, CS at p+10+L = sum(p..p+9+L) mod 256
//   CJ/T 188   68 at p, L at p+10, 16 at p+12+L, CS at p+11+L = sum(p..p+10+L) mod 256
//   Modbus TCP PID (p+2..3) = 0, 2 <= LEN (p+4..5, big-endian) <= 254, function (p+7) not 0 or 80H
//   Modbus RTU unit and function (or function | 80H) as expected, length from modbus.hpp, CRC-16
// When several grammars find a valid frame at p, the shortest wins (ties: DL/T 645, CJ/T 188,
// RTU, TCP). A shorter frame completes first, so this is the choice a scanner that has not yet
// seen the longer one's bytes makes too: which frames come out never depends on how the stream was
// cut into chunks (unless an overflow drops bytes or MarkIdle() gives up on a candidate).
//
// Waiting: a candidate whose length field points past the buffered bytes holds back everything
// after it until its bytes arrive, MarkIdle() is called, or the length passes max_frame_bytes.
// CJ/T 188's only fixed header byte is its 68H, so with it enabled every stray 68H (an ASCII 'h' in
// a heartbeat, the second 68H of a damaged DL/T 645 frame) may wait for up to 13 + 255 bytes.
// Enable only the grammars a channel carries, and call MarkIdle() on the adapter's read timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "codec/bytes.hpp"

namespace joule::codec {

// Limits (TigerStyle: a named maximum on every buffer). The largest frame any supported grammar
// can express: CJ/T 188 with L = 255 is 13 + 255 bytes; DL/T 645 is 12 + 255; Modbus TCP 6 + 254;
// Modbus RTU 256.
inline constexpr std::size_t kMaxScannedFrameBytes = 268;
inline constexpr std::size_t kDefaultMaxBufferedBytes = 4096;

enum class FrameKind : std::uint8_t {
    kDlt645 = 1,     // 68 A0..A5 68 C L DATA CS 16
    kCjt188 = 2,     // 68 T A0..A6 C L DI SER DATA CS 16
    kModbusRtu = 3,  // unit function data CRC-16 (low byte first)
    kModbusTcp = 4,  // MBAP: TID PID=0 LEN unit PDU
};

std::string_view FrameKindName(FrameKind kind);

struct StreamScannerOptions {
    // Which grammars to look for. Modbus RTU has no start byte and no length field of its own, so
    // it is only recognised while a reply is expected (StreamScanner::ExpectModbusRtu).
    bool dlt645 = false;
    bool cjt188 = false;
    bool modbus_rtu = false;
    bool modbus_tcp = false;
    // Bytes held while waiting for a frame to complete. Feeding past it drops the oldest bytes and
    // counts an overflow. At least max_frame_bytes.
    std::size_t max_buffered_bytes = kDefaultMaxBufferedBytes;
    // A candidate whose length field promises more than this is rejected at once, so a fake start
    // byte never makes the scanner wait for more. 12..kMaxScannedFrameBytes.
    std::size_t max_frame_bytes = kMaxScannedFrameBytes;
};

// Which Modbus RTU ADU is in flight: replies from a slave (the master's view) or requests from a
// master (a simulator's or a sniffer's view).
enum class RtuDirection : std::uint8_t { kResponse = 1, kRequest = 2 };

struct RtuExpectation {
    std::uint8_t unit = 1;      // slave address 1..247
    std::uint8_t function = 3;  // the request's function code; a reply may carry it | 80H
    RtuDirection direction = RtuDirection::kResponse;
};

struct ScannedFrame {
    FrameKind kind = FrameKind::kDlt645;
    Bytes bytes;  // the frame without preamble: 68..16, the RTU ADU with CRC, or the MBAP ADU

    friend bool operator==(const ScannedFrame&, const ScannedFrame&) = default;
};

// Every byte fed ends in exactly one place: a returned frame, preamble_bytes, discarded_bytes, or
// still buffered. So bytes_fed == frame_bytes + preamble_bytes + discarded_bytes + buffered().
struct StreamScannerCounters {
    std::uint64_t bytes_fed = 0;
    std::uint64_t frames = 0;       // frames returned by Next()
    std::uint64_t frame_bytes = 0;  // their total size
    // FE/FF bytes skipped between frames: wake-up preambles, expected and harmless.
    std::uint64_t preamble_bytes = 0;
    // Every other byte that was not part of a frame: noise, heartbeats, registration strings, the
    // bytes of corrupted frames, and bytes dropped on overflow.
    std::uint64_t discarded_bytes = 0;
    // Candidates complete in length and end byte (16H for DL/T 645 and CJ/T 188) whose checksum or
    // CRC did not match: frames damaged on the line.
    std::uint64_t checksum_failures = 0;
    std::uint64_t overflows = 0;  // Feed calls that had to drop bytes at max_buffered_bytes

    friend bool operator==(const StreamScannerCounters&, const StreamScannerCounters&) = default;
};

// Usage, per connection: after each read, Feed(chunk), then call Next() until it returns nothing.
// When the line has been quiet for longer than a frame takes to arrive, call MarkIdle() and drain
// Next() again.
//
// Not thread-safe: one scanner per connection, used by one task at a time. Memory is bounded:
// buffered() never exceeds options.max_buffered_bytes.
class StreamScanner {
public:
    // Precondition (asserted: the limits are constants, not input):
    // 12 <= max_frame_bytes <= kMaxScannedFrameBytes and max_frame_bytes <= max_buffered_bytes.
    explicit StreamScanner(StreamScannerOptions options);

    // Appends bytes. When the buffer would exceed max_buffered_bytes, the oldest bytes are dropped
    // (counted in discarded_bytes, one overflow). With Next() drained after every Feed, fewer than
    // max_frame_bytes are held between calls, so only a chunk larger than the remaining room
    // overflows.
    void Feed(ByteView chunk);

    // The next complete frame with a valid checksum, in stream order, or nothing until more bytes
    // arrive. Bytes before it are skipped one at a time (a start byte that does not lead to a valid
    // frame costs one byte, then the search resumes at the next byte).
    [[nodiscard]] std::optional<ScannedFrame> Next();

    // No more bytes will arrive for what is buffered now: a candidate that starts in these bytes
    // and is still incomplete is rejected instead of waited for. Lets a frame that sits behind a
    // fake start byte (whose length field promises bytes that never come) be found, and lets noise
    // be counted, once the adapter's read timeout passes. Bytes fed later are not affected.
    void MarkIdle();

    // A Modbus RTU request is in flight: recognise its reply (or the request, by direction) until
    // one is returned by Next() or ClearModbusRtu() is called. Ignored unless options.modbus_rtu.
    void ExpectModbusRtu(RtuExpectation expectation);
    void ClearModbusRtu();
    [[nodiscard]] bool ExpectsModbusRtu() const { return rtu_.has_value(); }

    // Drops every buffered byte (counted as discarded) and any RTU expectation; counters are kept.
    void Reset();

    [[nodiscard]] std::size_t buffered() const { return buffer_.size() - head_; }
    [[nodiscard]] const StreamScannerCounters& counters() const { return counters_; }
    [[nodiscard]] const StreamScannerOptions& options() const { return options_; }

private:
    void Compact();
    void Skip(std::size_t n);
    ScannedFrame TakeFrame(FrameKind kind, std::size_t length);

    StreamScannerOptions options_;
    Bytes buffer_;           // bytes [head_, size) are unread
    std::size_t head_ = 0;   // first unread byte
    std::size_t stale_ = 0;  // bytes [head_, stale_) were buffered at the last MarkIdle()
    std::optional<RtuExpectation> rtu_;
    StreamScannerCounters counters_;
};

}  // namespace joule::codec
