// Time: UTC instants and civil local time are distinct types (abseil's model), and a project time
// zone (default Asia/Shanghai) through Howard Hinnant's date/tz.h over the OS tz database.
// Nothing here reads a clock: "now" is always an argument.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <date/date.h>

#include "base/error.hpp"

namespace date {
class time_zone;
}

namespace joule {

using Seconds = std::chrono::seconds;
using Instant = date::sys_seconds;      // an absolute instant, UTC, second resolution
using LocalTime = date::local_seconds;  // wall-clock time in some zone
using CivilDate = date::year_month_day;

inline constexpr std::string_view kDefaultTimeZone = "Asia/Shanghai";

// A loaded time zone. Cheap to copy; the zone data lives in the process-wide tz database.
// Loading reads the OS tz database once (constant data, like a table); every other member is a
// pure computation.
class Zone {
public:
    // Fails with kInvalidArgument (field "time_zone") for an unknown zone name.
    [[nodiscard]] static Result<Zone> Load(std::string_view name);

    // The interval [begin, end) of instants over which the UTC offset is constant.
    struct Span {
        Instant begin;
        Instant end;
        Seconds offset;
    };
    [[nodiscard]] Span SpanAt(Instant at) const;

    [[nodiscard]] LocalTime ToLocal(Instant at) const;
    // A wall time that does not exist (spring forward) maps to the instant the gap ends; an
    // ambiguous one (fall back) maps to the earlier instant.
    [[nodiscard]] Instant ToInstant(LocalTime local) const;
    [[nodiscard]] std::string_view name() const;
    friend bool operator==(const Zone& a, const Zone& b) { return a.tz_ == b.tz_; }

private:
    explicit Zone(const date::time_zone* tz) : tz_(tz) {}
    const date::time_zone* tz_;
};

// Day totals (the reports' energy and sales by day) cut local days at one offset per zone: its
// offset on 2026-01-01, standard time north of the equator. Exact for zones without daylight
// saving (China); zones with it are cut at standard time all year.
[[nodiscard]] Seconds DayCutOffset(const Zone& zone);
// The day (days since 1970-01-01, local at `day_offset`) an instant falls in.
[[nodiscard]] int64_t DayNumber(Instant at, Seconds day_offset);

// RFC 3339 "2026-11-01T08:00:00Z" or with an offset "2026-11-01T16:00:00+08:00".
[[nodiscard]] Result<Instant> ParseInstant(std::string_view text, std::string_view field);
// "2026-11-01T08:00:00Z"
[[nodiscard]] std::string FormatInstant(Instant at);
// "2026-11-01"
[[nodiscard]] Result<CivilDate> ParseDate(std::string_view text, std::string_view field);
[[nodiscard]] std::string FormatDate(CivilDate date);
// "2026-11-01T08:00[:00]" (no zone): a wall time, interpreted in a project's zone by the caller.
[[nodiscard]] Result<LocalTime> ParseLocalTime(std::string_view text, std::string_view field);

}  // namespace joule
