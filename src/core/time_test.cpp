#include "core/time.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

Instant Utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
    return Instant{date::sys_days{date::year{y} / date::month{m} / date::day{d}}} + hours{h} +
           minutes{mi} + Seconds{s};
}

LocalTime Wall(int y, unsigned m, unsigned d, int h = 0, int mi = 0) {
    return LocalTime{date::local_days{date::year{y} / date::month{m} / date::day{d}}} + hours{h} +
           minutes{mi};
}

TEST(ParseInstant, AcceptsUtcDesignator) {
    EXPECT_EQ(ParseInstant("2026-11-01T08:00:00Z", "at").value(), Utc(2026, 11, 1, 8));
    EXPECT_EQ(ParseInstant("2026-11-01T08:00Z", "at").value(), Utc(2026, 11, 1, 8));
    EXPECT_EQ(ParseInstant("2026-11-01 08:00:07z", "at").value(), Utc(2026, 11, 1, 8, 0, 7));
}

TEST(ParseInstant, AppliesOffsets) {
    // 16:00 at +08:00 is 08:00Z.
    EXPECT_EQ(ParseInstant("2026-11-01T16:00:00+08:00", "at").value(), Utc(2026, 11, 1, 8));
    // 00:30 at +08:00 is 16:30Z on the previous day.
    EXPECT_EQ(ParseInstant("2026-11-01T00:30:00+08:00", "at").value(), Utc(2026, 10, 31, 16, 30));
    // 02:30 at -05:30 is 08:00Z.
    EXPECT_EQ(ParseInstant("2026-11-01T02:30:00-05:30", "at").value(), Utc(2026, 11, 1, 8));
}

TEST(ParseInstant, RejectsMalformedTextNamingTheField) {
    for (const char* bad :
         {"", "2026-11-01", "2026-11-01T08:00:00", "2026-13-01T08:00:00Z", "2026-02-30T08:00:00Z",
          "2026-11-01T24:00:00Z", "2026-11-01T08:60:00Z", "2026-11-01T08:00:00+0800",
          "2026-11-01T08:00:00+08", "2026-11-01T08:00:00Zjunk", "2026-11-01X08:00:00Z",
          "26-11-01T08:00:00Z", "2026-11-01T8:00:00Z"}) {
        const auto r = ParseInstant(bad, "readings[0].time");
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << bad;
        EXPECT_EQ(r.error().field, "readings[0].time") << bad;
    }
}

TEST(FormatInstant, MatchesTheLibraryFormatEverywhere) {
    // The hand-written formatter against date::format over 400 years of seconds, leap days
    // included, and the fallback beyond year 9999.
    const int64_t start = -62'135'596'800;  // 0001-01-01T00:00:00Z
    for (int64_t s = start; s < int64_t{253'402'300'800}; s += 86'400 * 37 + 3'607) {
        const Instant at{Seconds{s}};
        ASSERT_EQ(FormatInstant(at), date::format("%FT%TZ", at)) << s;
    }
    const Instant leap = ParseInstant("2024-02-29T23:59:59Z", "at").value();
    EXPECT_EQ(FormatInstant(leap), "2024-02-29T23:59:59Z");
    const Instant far{Seconds{int64_t{253'402'300'800}}};
    EXPECT_EQ(FormatInstant(far), date::format("%FT%TZ", far));
}

TEST(FormatInstant, RoundTripsThroughParse) {
    const Instant at = Utc(2026, 2, 28, 23, 59, 59);
    EXPECT_EQ(FormatInstant(at), "2026-02-28T23:59:59Z");
    EXPECT_EQ(ParseInstant(FormatInstant(at), "at").value(), at);
}

TEST(ParseDate, AcceptsValidDatesAndRejectsOthers) {
    EXPECT_EQ(ParseDate("2024-02-29", "d").value(), date::year{2024} / 2 / 29);
    EXPECT_EQ(FormatDate(date::year{2026} / 7 / 1), "2026-07-01");
    for (const char* bad : {"2026-02-29", "2026-7-1", "2026-07-01T00:00", ""}) {
        const auto r = ParseDate(bad, "holidays[2]");
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().field, "holidays[2]");
    }
}

TEST(ParseLocalTime, AcceptsMinutesOrSecondsWithoutZone) {
    EXPECT_EQ(ParseLocalTime("2026-03-29T02:30", "t").value(), Wall(2026, 3, 29, 2, 30));
    EXPECT_EQ(ParseLocalTime("2026-03-29T02:30:15", "t").value(),
              Wall(2026, 3, 29, 2, 30) + Seconds{15});
    EXPECT_FALSE(ParseLocalTime("2026-03-29T02:30Z", "t").has_value());
    EXPECT_FALSE(ParseLocalTime("2026-03-29", "t").has_value());
}

TEST(Zone, LoadsShanghaiAndConvertsBothWays) {
    const Zone zone = Zone::Load("Asia/Shanghai").value();
    EXPECT_EQ(zone.name(), "Asia/Shanghai");
    // 2026-01-31T16:00Z is local midnight of 2026-02-01 (UTC+8, no DST).
    EXPECT_EQ(zone.ToLocal(Utc(2026, 1, 31, 16)), Wall(2026, 2, 1));
    EXPECT_EQ(zone.ToInstant(Wall(2026, 2, 1)), Utc(2026, 1, 31, 16));
    EXPECT_EQ(zone.SpanAt(Utc(2026, 7, 1)).offset, hours{8});
    EXPECT_TRUE(zone == Zone::Load(kDefaultTimeZone).value());
}

TEST(Zone, UnknownNameFailsWithInvalidArgument) {
    const auto r = Zone::Load("Mars/Olympus_Mons");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, "time_zone");
}

TEST(Zone, BerlinSpringForwardNonexistentTimeMapsForward) {
    // 2026-03-29 (last Sunday of March): 02:00 CET jumps to 03:00 CEST at 01:00Z. 02:30 local does
    // not exist and maps to the end of the gap, 01:00Z (= 03:00 CEST).
    const Zone zone = Zone::Load("Europe/Berlin").value();
    EXPECT_EQ(zone.ToInstant(Wall(2026, 3, 29, 2, 30)), Utc(2026, 3, 29, 1));
    EXPECT_EQ(zone.ToLocal(Utc(2026, 3, 29, 1)), Wall(2026, 3, 29, 3));
    // Around the gap: 01:59 CET = 00:59Z and 03:00 CEST = 01:00Z.
    EXPECT_EQ(zone.ToInstant(Wall(2026, 3, 29, 1, 59)), Utc(2026, 3, 29, 0, 59));
    EXPECT_EQ(zone.ToInstant(Wall(2026, 3, 29, 3, 0)), Utc(2026, 3, 29, 1));
    const Zone::Span span = zone.SpanAt(Utc(2026, 3, 29, 0, 59));
    EXPECT_EQ(span.end, Utc(2026, 3, 29, 1));
    EXPECT_EQ(span.offset, hours{1});
    EXPECT_EQ(zone.SpanAt(Utc(2026, 3, 29, 1)).offset, hours{2});
}

TEST(Zone, BerlinFallBackAmbiguousTimeMapsToEarlierInstant) {
    // 2026-10-25 (last Sunday of October): 03:00 CEST falls back to 02:00 CET at 01:00Z. 02:30
    // local happens at 00:30Z (CEST, +2) and again at 01:30Z (CET, +1); the earlier one is chosen.
    const Zone zone = Zone::Load("Europe/Berlin").value();
    EXPECT_EQ(zone.ToInstant(Wall(2026, 10, 25, 2, 30)), Utc(2026, 10, 25, 0, 30));
    EXPECT_EQ(zone.ToLocal(Utc(2026, 10, 25, 0, 30)), Wall(2026, 10, 25, 2, 30));
    EXPECT_EQ(zone.ToLocal(Utc(2026, 10, 25, 1, 30)), Wall(2026, 10, 25, 2, 30));
}

}  // namespace
}  // namespace joule
