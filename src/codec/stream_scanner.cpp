#include "codec/stream_scanner.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "base/assert.hpp"
#include "codec/modbus.hpp"

namespace joule::codec {
namespace {

constexpr std::uint8_t kStart = 0x68;
constexpr std::uint8_t kEnd = 0x16;
constexpr std::size_t kDlt645Overhead = 12;  // 68 A0..A5 68 C L .. CS 16
constexpr std::size_t kCjt188Overhead = 13;  // 68 T A0..A6 C L .. CS 16
constexpr std::size_t kSmallestFrame = 12;

// What one grammar makes of the bytes at a candidate position.
enum class Verdict : std::uint8_t {
    kReject,       // cannot be this kind of frame: skip a byte
    kBadChecksum,  // complete and well delimited, but the checksum is wrong: skip a byte
    kNeedMore,     // could still be a frame once more bytes arrive
    kFrame,        // a complete frame of `length` bytes
};

struct Probe {
    Verdict verdict = Verdict::kReject;
    std::size_t length = 0;
};

constexpr Probe Reject() { return {Verdict::kReject, 0}; }
constexpr Probe NeedMore() { return {Verdict::kNeedMore, 0}; }

bool IsPreambleByte(std::uint8_t b) { return b == 0xFE || b == 0xFF; }

// DL/T 645 and CJ/T 188 share the tail: L at `length_at`, then data, CS, 16H.
Probe ProbeSumFrame(ByteView v, std::size_t length_at, std::size_t overhead,
                    std::size_t max_frame) {
    if (v.size() <= length_at)
        return NeedMore();
    const std::size_t length = overhead + v[length_at];
    if (length > max_frame)
        return Reject();
    if (v.size() < length)
        return NeedMore();
    if (v[length - 1] != kEnd)
        return Reject();
    if (Sum8(v.first(length - 2)) != v[length - 2])
        return {Verdict::kBadChecksum, 0};
    return {Verdict::kFrame, length};
}

// 68 A0..A5 68 C L DATA CS 16: the second 68H at offset 7 is the structural check.
Probe ProbeDlt645(ByteView v, std::size_t max_frame) {
    if (v[0] != kStart)
        return Reject();
    if (v.size() <= 7)
        return NeedMore();
    if (v[7] != kStart)
        return Reject();
    return ProbeSumFrame(v, 9, kDlt645Overhead, max_frame);
}

// 68 T A0..A6 C L DI SER DATA CS 16.
Probe ProbeCjt188(ByteView v, std::size_t max_frame) {
    if (v[0] != kStart)
        return Reject();
    return ProbeSumFrame(v, 10, kCjt188Overhead, max_frame);
}

// TID(2) PID(2)=0 LEN(2) UNIT PDU: no checksum, so the header is all there is to check.
Probe ProbeModbusTcp(ByteView v, std::size_t max_frame) {
    for (std::size_t i = 2; i < 4 && i < v.size(); ++i) {
        if (v[i] != 0)
            return Reject();
    }
    const auto length = modbus::TcpAduLength(v);
    if (!length.has_value())
        return length.error().code == ErrorCode::kOutOfRange ? NeedMore() : Reject();
    if (*length > max_frame)
        return Reject();
    if (v.size() < 8)
        return NeedMore();
    if ((v[7] & ~modbus::kExceptionFlag) == 0)  // function 0 does not exist
        return Reject();
    if (v.size() < *length)
        return NeedMore();
    return {Verdict::kFrame, *length};
}

// unit function ... CRC, recognised only as the ADU that is expected.
Probe ProbeModbusRtu(ByteView v, const RtuExpectation& expected, std::size_t max_frame) {
    if (v[0] != expected.unit)
        return Reject();
    if (v.size() < 2)
        return NeedMore();
    const bool response = expected.direction == RtuDirection::kResponse;
    const auto exception = static_cast<std::uint8_t>(expected.function | modbus::kExceptionFlag);
    if (v[1] != expected.function && !(response && v[1] == exception))
        return Reject();
    const auto length = response ? modbus::RtuResponseLength(v) : modbus::RtuRequestLength(v);
    if (!length.has_value())
        return length.error().code == ErrorCode::kOutOfRange ? NeedMore() : Reject();
    if (*length > max_frame || *length < 4)
        return Reject();
    if (v.size() < *length)
        return NeedMore();
    const std::uint16_t crc = modbus::Crc16(v.first(*length - 2));
    const auto wire = static_cast<std::uint16_t>(v[*length - 2] | (v[*length - 1] << 8));
    if (crc != wire)
        return {Verdict::kBadChecksum, 0};
    return {Verdict::kFrame, *length};
}

}  // namespace

std::string_view FrameKindName(FrameKind kind) {
    switch (kind) {
        case FrameKind::kDlt645:
            return "dlt645";
        case FrameKind::kCjt188:
            return "cjt188";
        case FrameKind::kModbusRtu:
            return "modbus_rtu";
        case FrameKind::kModbusTcp:
            return "modbus_tcp";
    }
    return "unknown";
}

StreamScanner::StreamScanner(StreamScannerOptions options) : options_(options) {
    JOULE_ASSERT(options_.max_frame_bytes >= kSmallestFrame &&
                     options_.max_frame_bytes <= kMaxScannedFrameBytes &&
                     options_.max_frame_bytes <= options_.max_buffered_bytes,
                 "stream scanner limits out of range");
    buffer_.reserve(options_.max_buffered_bytes);
}

void StreamScanner::Compact() {
    if (head_ == 0)
        return;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(head_));
    stale_ = stale_ > head_ ? stale_ - head_ : 0;
    head_ = 0;
}

void StreamScanner::Feed(ByteView chunk) {
    counters_.bytes_fed += chunk.size();
    Compact();
    const std::size_t limit = options_.max_buffered_bytes;
    if (buffer_.size() + chunk.size() > limit) {
        // Keep the newest `limit` bytes: the oldest are a candidate that has waited longest.
        ++counters_.overflows;
        if (chunk.size() >= limit) {
            counters_.discarded_bytes += buffer_.size() + (chunk.size() - limit);
            buffer_.clear();
            stale_ = 0;
            chunk = chunk.last(limit);
        } else {
            const std::size_t drop = buffer_.size() + chunk.size() - limit;
            counters_.discarded_bytes += drop;
            head_ = drop;
            Compact();
        }
    }
    buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
}

void StreamScanner::Skip(std::size_t n) {
    for (std::size_t i = head_; i < head_ + n; ++i) {
        if (IsPreambleByte(buffer_[i]))
            ++counters_.preamble_bytes;
        else
            ++counters_.discarded_bytes;
    }
    head_ += n;
}

ScannedFrame StreamScanner::TakeFrame(FrameKind kind, std::size_t length) {
    const auto begin = buffer_.begin() + static_cast<std::ptrdiff_t>(head_);
    ScannedFrame frame{kind, Bytes(begin, begin + static_cast<std::ptrdiff_t>(length))};
    head_ += length;
    ++counters_.frames;
    counters_.frame_bytes += length;
    if (kind == FrameKind::kModbusRtu)
        rtu_.reset();
    return frame;
}

std::optional<ScannedFrame> StreamScanner::Next() {
    const bool only_start_byte_kinds =
        !options_.modbus_tcp && !(options_.modbus_rtu && rtu_.has_value());
    const std::size_t max_frame = options_.max_frame_bytes;
    while (head_ < buffer_.size()) {
        ByteView rest(buffer_.data() + head_, buffer_.size() - head_);
        if (only_start_byte_kinds && rest[0] != kStart) {
            // Fast path: nothing but a 68H can start a frame, so jump to the next one.
            const auto it = std::find(rest.begin() + 1, rest.end(), kStart);
            Skip(static_cast<std::size_t>(it - rest.begin()));
            continue;
        }

        // Candidates in priority order, for ties (the header explains the choice).
        std::array<std::pair<FrameKind, Probe>, 4> probes{};
        std::size_t count = 0;
        if (options_.dlt645)
            probes[count++] = {FrameKind::kDlt645, ProbeDlt645(rest, max_frame)};
        if (options_.cjt188)
            probes[count++] = {FrameKind::kCjt188, ProbeCjt188(rest, max_frame)};
        if (options_.modbus_rtu && rtu_.has_value())
            probes[count++] = {FrameKind::kModbusRtu, ProbeModbusRtu(rest, *rtu_, max_frame)};
        if (options_.modbus_tcp)
            probes[count++] = {FrameKind::kModbusTcp, ProbeModbusTcp(rest, max_frame)};

        const std::pair<FrameKind, Probe>* shortest = nullptr;
        bool need_more = false;
        bool bad_checksum = false;
        for (std::size_t i = 0; i < count; ++i) {
            const auto& [kind, probe] = probes[i];
            if (probe.verdict == Verdict::kFrame &&
                (shortest == nullptr || probe.length < shortest->second.length))
                shortest = &probes[i];
            need_more = need_more || probe.verdict == Verdict::kNeedMore;
            bad_checksum = bad_checksum || probe.verdict == Verdict::kBadChecksum;
        }
        if (shortest != nullptr)
            return TakeFrame(shortest->first, shortest->second.length);
        if (need_more && head_ >= stale_)
            return std::nullopt;
        if (bad_checksum)
            ++counters_.checksum_failures;
        Skip(1);
    }
    return std::nullopt;
}

void StreamScanner::MarkIdle() { stale_ = buffer_.size(); }

void StreamScanner::ExpectModbusRtu(RtuExpectation expectation) { rtu_ = expectation; }

void StreamScanner::ClearModbusRtu() { rtu_.reset(); }

void StreamScanner::Reset() {
    counters_.discarded_bytes += buffered();
    buffer_.clear();
    head_ = 0;
    stale_ = 0;
    rtu_.reset();
}

}  // namespace joule::codec
