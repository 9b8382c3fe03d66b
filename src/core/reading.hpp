// Reading validation before billing [ACCT-6]. Every reading gets a verdict and a reason; only an
// accepted reading moves the meter's cursor and is billed; quarantined readings are kept (by the
// store) with their reason and never billed.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/tariff.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// stored: never renumber.
enum class Verdict : uint8_t { kAccepted = 1, kDuplicate = 2, kQuarantined = 3 };
std::string_view VerdictName(Verdict verdict);  // "accepted", "duplicate", "quarantined"

// stored: never renumber.
enum class ReadingReason : uint8_t {
    kInterval = 0,              // accepted: a normal interval
    kAfterGap = 1,              // accepted: after a gap longer than the schedule allows
    kRollover = 2,              // accepted: the register wrapped at its maximum
    kDuplicate = 3,             // duplicate: same time and value as the last accepted reading
    kConflictingDuplicate = 4,  // quarantined: same time as the last accepted, different value
    kLate = 5,                  // quarantined: older than the last accepted (out of order, late)
    kRegressed = 6,             // quarantined: went backwards (reset or replacement?)
    kSpike = 7,                 // quarantined: more than the meter can physically pass
    kFuture = 8,                // quarantined: meter time ahead of the receive time
    kBeyondRegisterMax = 9,     // quarantined: value above what the register can hold
    kPerRateMismatch = 10,      // accepted: per-rate registers inconsistent, billed by time instead
    kNoCursor = 11,             // quarantined: the meter has no opening reading yet
    kNoTariff = 12,             // quarantined: no tariff version in effect for the interval
    kBaseline = 13,             // accepted: first reading of an unbilled meter; starts the cursor
};
std::string_view ReadingReasonName(ReadingReason reason);

struct RegisterSpec {
    Quantity register_modulus{1'000'000'000};  // the register wraps to 0 on reaching this value
    int64_t max_rate_per_hour = 100'000'000;   // physical max: Wh per hour (= W) or L per hour
    Seconds future_tolerance{300};             // meter clocks may run this far ahead
    Seconds gap_threshold{3 * 3600};           // an interval longer than this is a gap
};

// The last accepted reading of a meter: where the next interval begins.
struct Cursor {
    bool valid = false;
    Instant time;
    Quantity total;
    bool has_per_rate = false;
    PerPeriod<Quantity> per_rate{};
};

// Where a reading came from [DEV-7]. stored: never renumber.
enum class ReadingSource : uint8_t {
    kLive = 0,    // the register as read now (or as a gateway buffered it, with its meter time)
    kFrozen = 1,  // a frozen register (daily freeze) read after an outage: stamped with the
                  // freeze time, not with when it arrived
};

struct ReadingInput {
    Instant meter_time;  // the time the meter stamped; the interval is billed in meter time
    Instant received;    // when the platform received it
    Quantity total;
    bool has_per_rate = false;
    PerPeriod<Quantity> per_rate{};
    ReadingSource source = ReadingSource::kLive;  // kept with the reading; validation ignores it
};

struct ValidatedReading {
    Verdict verdict = Verdict::kQuarantined;
    ReadingReason reason = ReadingReason::kInterval;
    Quantity delta;  // billed quantity when accepted
    bool bill_per_rate = false;
    PerPeriod<Quantity> per_rate_delta{};
    Instant from;  // interval start (the previous cursor time) when accepted
};

// Judges `reading` against the meter's cursor. Pure; the caller advances the cursor with
// Advance() only when the verdict is kAccepted. Readings of one meter must be presented in
// meter-time order (a batch is sorted first); anything older than the cursor is late.
[[nodiscard]] ValidatedReading ValidateReading(const RegisterSpec& spec, const Cursor& cursor,
                                               const ReadingInput& reading);

// The cursor after an accepted reading.
[[nodiscard]] Cursor Advance(const ReadingInput& reading);

}  // namespace joule
