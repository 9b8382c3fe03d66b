#include "core/reading.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace joule {
namespace {

Instant At(std::string_view text) { return ParseInstant(text, "at").value(); }

// The cursor: 100 kWh at 2026-01-05T00:00Z.
Cursor StartCursor() {
    Cursor c;
    c.valid = true;
    c.time = At("2026-01-05T00:00:00Z");
    c.total = Quantity{100'000};
    return c;
}

ReadingInput Reading(std::string_view meter_time, int64_t total_wh) {
    ReadingInput r;
    r.meter_time = At(meter_time);
    r.received = r.meter_time + Seconds{5};
    r.total = Quantity{total_wh};
    return r;
}

void ExpectQuarantined(const ValidatedReading& v, ReadingReason reason) {
    EXPECT_EQ(v.verdict, Verdict::kQuarantined);
    EXPECT_EQ(v.reason, reason) << ReadingReasonName(v.reason);
    EXPECT_EQ(v.delta, Quantity{});
    EXPECT_FALSE(v.bill_per_rate);
}

TEST(ValidateReading, AcceptsANormalInterval) {
    const RegisterSpec spec;
    const ValidatedReading v =
        ValidateReading(spec, StartCursor(), Reading("2026-01-05T00:15:00Z", 100'250));
    EXPECT_EQ(v.verdict, Verdict::kAccepted);
    EXPECT_EQ(v.reason, ReadingReason::kInterval);
    EXPECT_EQ(v.delta, Quantity{250});  // 100.250 - 100.000 kWh
    EXPECT_EQ(v.from, At("2026-01-05T00:00:00Z"));
    EXPECT_FALSE(v.bill_per_rate);
}

TEST(ValidateReading, ZeroConsumptionIsAnAcceptedInterval) {
    const ValidatedReading v =
        ValidateReading(RegisterSpec{}, StartCursor(), Reading("2026-01-05T00:15:00Z", 100'000));
    EXPECT_EQ(v.verdict, Verdict::kAccepted);
    EXPECT_EQ(v.delta, Quantity{0});
}

TEST(ValidateReading, FirstReadingWithoutCursorIsQuarantined) {
    const ValidatedReading v =
        ValidateReading(RegisterSpec{}, Cursor{}, Reading("2026-01-05T00:15:00Z", 100'250));
    ExpectQuarantined(v, ReadingReason::kNoCursor);
}

TEST(ValidateReading, SameTimeSameValueIsADuplicate) {
    const ValidatedReading v =
        ValidateReading(RegisterSpec{}, StartCursor(), Reading("2026-01-05T00:00:00Z", 100'000));
    EXPECT_EQ(v.verdict, Verdict::kDuplicate);
    EXPECT_EQ(v.reason, ReadingReason::kDuplicate);
    EXPECT_EQ(v.delta, Quantity{});
}

TEST(ValidateReading, SameTimeDifferentValueIsAConflictingDuplicate) {
    const ValidatedReading v =
        ValidateReading(RegisterSpec{}, StartCursor(), Reading("2026-01-05T00:00:00Z", 100'001));
    ExpectQuarantined(v, ReadingReason::kConflictingDuplicate);
}

TEST(ValidateReading, OlderThanCursorIsLate) {
    const ValidatedReading v =
        ValidateReading(RegisterSpec{}, StartCursor(), Reading("2026-01-04T23:45:00Z", 99'900));
    ExpectQuarantined(v, ReadingReason::kLate);
}

TEST(ValidateReading, GoingBackwardsIsRegressed) {
    // 99.000 kWh after 100.000: as a wrap of the 1e9 Wh register that would be ~1e9 Wh in 15 min,
    // far beyond the physical maximum, so it is a regression (reset or replacement?).
    const ValidatedReading v =
        ValidateReading(RegisterSpec{}, StartCursor(), Reading("2026-01-05T00:15:00Z", 99'000));
    ExpectQuarantined(v, ReadingReason::kRegressed);
}

TEST(ValidateReading, WrapAtRegisterModulusIsARollover) {
    RegisterSpec spec;
    spec.register_modulus = Quantity{1'000'000};  // a 1000.000 kWh register
    Cursor cursor = StartCursor();
    cursor.total = Quantity{999'900};
    // 999.900 -> 0.100 kWh: (1'000'000 - 999'900) + 100 = 200 Wh.
    const ValidatedReading v = ValidateReading(spec, cursor, Reading("2026-01-05T00:15:00Z", 100));
    EXPECT_EQ(v.verdict, Verdict::kAccepted);
    EXPECT_EQ(v.reason, ReadingReason::kRollover);
    EXPECT_EQ(v.delta, Quantity{200});
}

TEST(ValidateReading, ValueAtOrAboveModulusIsBeyondRegisterMax) {
    RegisterSpec spec;
    spec.register_modulus = Quantity{1'000'000};
    ExpectQuarantined(
        ValidateReading(spec, StartCursor(), Reading("2026-01-05T00:15:00Z", 1'000'000)),
        ReadingReason::kBeyondRegisterMax);
    ExpectQuarantined(ValidateReading(spec, StartCursor(), Reading("2026-01-05T00:15:00Z", -1)),
                      ReadingReason::kBeyondRegisterMax);
}

TEST(ValidateReading, MoreThanMaxRateIsASpike) {
    RegisterSpec spec;
    spec.max_rate_per_hour = 10'000;  // 10 kW
    // 15 min at 10 kW = 2500 Wh, plus 10 Wh of register slack: 2510 passes, 2511 is a spike.
    const ValidatedReading ok =
        ValidateReading(spec, StartCursor(), Reading("2026-01-05T00:15:00Z", 102'510));
    EXPECT_EQ(ok.verdict, Verdict::kAccepted);
    EXPECT_EQ(ok.delta, Quantity{2510});
    ExpectQuarantined(
        ValidateReading(spec, StartCursor(), Reading("2026-01-05T00:15:00Z", 102'511)),
        ReadingReason::kSpike);
}

TEST(ValidateReading, MeterTimeBeyondToleranceIsFuture) {
    const RegisterSpec spec;  // 300 s tolerance
    ReadingInput r = Reading("2026-01-05T00:15:00Z", 100'250);
    r.received = r.meter_time - Seconds{300};
    EXPECT_EQ(ValidateReading(spec, StartCursor(), r).verdict, Verdict::kAccepted);
    r.received = r.meter_time - Seconds{301};
    ExpectQuarantined(ValidateReading(spec, StartCursor(), r), ReadingReason::kFuture);
}

TEST(ValidateReading, LongIntervalIsAcceptedAfterGap) {
    const RegisterSpec spec;  // gap threshold 3 h
    const ValidatedReading at_threshold =
        ValidateReading(spec, StartCursor(), Reading("2026-01-05T03:00:00Z", 101'000));
    EXPECT_EQ(at_threshold.reason, ReadingReason::kInterval);
    const ValidatedReading gap =
        ValidateReading(spec, StartCursor(), Reading("2026-01-05T03:00:01Z", 101'000));
    EXPECT_EQ(gap.verdict, Verdict::kAccepted);
    EXPECT_EQ(gap.reason, ReadingReason::kAfterGap);
    EXPECT_EQ(gap.delta, Quantity{1000});
}

Cursor PerRateCursor() {
    Cursor c = StartCursor();
    c.has_per_rate = true;
    c.per_rate = {Quantity{10'000}, Quantity{20'000}, Quantity{30'000}, Quantity{40'000}};
    return c;
}

TEST(ValidateReading, ConsistentPerRateRegistersAreBilledPerRate) {
    ReadingInput r = Reading("2026-01-05T00:15:00Z", 100'250);
    r.has_per_rate = true;
    // deltas 0 + 100 + 50 + 100 = 250 == total delta
    r.per_rate = {Quantity{10'000}, Quantity{20'100}, Quantity{30'050}, Quantity{40'100}};
    const ValidatedReading v = ValidateReading(RegisterSpec{}, PerRateCursor(), r);
    EXPECT_EQ(v.verdict, Verdict::kAccepted);
    EXPECT_EQ(v.reason, ReadingReason::kInterval);
    EXPECT_TRUE(v.bill_per_rate);
    EXPECT_EQ(v.per_rate_delta,
              (PerPeriod<Quantity>{Quantity{0}, Quantity{100}, Quantity{50}, Quantity{100}}));
}

TEST(ValidateReading, InconsistentPerRateRegistersAreBilledByTime) {
    ReadingInput r = Reading("2026-01-05T00:15:00Z", 100'250);
    r.has_per_rate = true;
    // deltas 0 + 100 + 40 + 100 = 240 != 250
    r.per_rate = {Quantity{10'000}, Quantity{20'100}, Quantity{30'040}, Quantity{40'100}};
    ValidatedReading v = ValidateReading(RegisterSpec{}, PerRateCursor(), r);
    EXPECT_EQ(v.verdict, Verdict::kAccepted);
    EXPECT_EQ(v.reason, ReadingReason::kPerRateMismatch);
    EXPECT_FALSE(v.bill_per_rate);
    EXPECT_EQ(v.per_rate_delta, PerPeriod<Quantity>{});
    EXPECT_EQ(v.delta, Quantity{250});

    // A per-rate register that went backwards (a huge forward distance) is inconsistent too.
    r.per_rate = {Quantity{9'999}, Quantity{20'100}, Quantity{30'050}, Quantity{40'100}};
    v = ValidateReading(RegisterSpec{}, PerRateCursor(), r);
    EXPECT_EQ(v.reason, ReadingReason::kPerRateMismatch);
    EXPECT_FALSE(v.bill_per_rate);

    // After a gap the gap is the more important reason.
    r = Reading("2026-01-05T04:00:00Z", 100'250);
    r.has_per_rate = true;
    r.per_rate = {Quantity{10'000}, Quantity{20'100}, Quantity{30'040}, Quantity{40'100}};
    v = ValidateReading(RegisterSpec{}, PerRateCursor(), r);
    EXPECT_EQ(v.reason, ReadingReason::kAfterGap);
    EXPECT_FALSE(v.bill_per_rate);
}

TEST(ValidateReading, PerRateNeedsPerRateOnBothEnds) {
    ReadingInput r = Reading("2026-01-05T00:15:00Z", 100'250);
    r.has_per_rate = true;
    r.per_rate = {Quantity{0}, Quantity{100}, Quantity{50}, Quantity{100}};
    // The cursor has no per-rate values: the interval is billed by time, as a plain interval.
    const ValidatedReading v = ValidateReading(RegisterSpec{}, StartCursor(), r);
    EXPECT_EQ(v.reason, ReadingReason::kInterval);
    EXPECT_FALSE(v.bill_per_rate);
}

TEST(Advance, CursorTakesTheReading) {
    ReadingInput r = Reading("2026-01-05T00:15:00Z", 100'250);
    r.has_per_rate = true;
    r.per_rate = {Quantity{1}, Quantity{2}, Quantity{3}, Quantity{4}};
    const Cursor c = Advance(r);
    EXPECT_TRUE(c.valid);
    EXPECT_EQ(c.time, r.meter_time);
    EXPECT_EQ(c.total, Quantity{100'250});
    EXPECT_TRUE(c.has_per_rate);
    EXPECT_EQ(c.per_rate, r.per_rate);
    // The next reading at the same time is now a duplicate.
    EXPECT_EQ(ValidateReading(RegisterSpec{}, c, r).verdict, Verdict::kDuplicate);
}

TEST(ReadingReasonName, NamesAreStable) {
    EXPECT_EQ(ReadingReasonName(ReadingReason::kNoCursor), "no_cursor");
    EXPECT_EQ(ReadingReasonName(ReadingReason::kConflictingDuplicate), "conflicting_duplicate");
    EXPECT_EQ(ReadingReasonName(ReadingReason::kPerRateMismatch), "per_rate_mismatch");
}

}  // namespace
}  // namespace joule
