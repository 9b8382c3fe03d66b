#include "core/time.hpp"

#include <date/tz.h>

#include <charconv>

namespace joule {

Result<Zone> Zone::Load(std::string_view name) {
    try {
        const date::time_zone* tz = date::locate_zone(name);
        (void)tz->get_info(Instant{});  // force the lazy load now, not on the billing path
        return Zone(tz);
    } catch (const std::exception&) {
        return InvalidArgument("time_zone", "unknown time zone '" + std::string(name) + "'");
    }
}

Zone::Span Zone::SpanAt(Instant at) const {
    const date::sys_info info = tz_->get_info(at);
    return {Instant{info.begin}, Instant{info.end}, info.offset};
}

Seconds DayCutOffset(const Zone& zone) {
    return zone.SpanAt(Instant{date::sys_days{date::year{2026} / 1 / 1}}).offset;
}

int64_t DayNumber(Instant at, Seconds day_offset) {
    return std::chrono::floor<date::days>(at + day_offset).time_since_epoch().count();
}

LocalTime Zone::ToLocal(Instant at) const {
    return LocalTime{at.time_since_epoch() + tz_->get_info(at).offset};
}

Instant Zone::ToInstant(LocalTime local) const {
    const date::local_info info = tz_->get_info(local);
    switch (info.result) {
        case date::local_info::unique:
        case date::local_info::ambiguous:
            return Instant{local.time_since_epoch() - info.first.offset};
        case date::local_info::nonexistent:
            return Instant{info.first.end};
    }
    return Instant{local.time_since_epoch() - info.first.offset};
}

std::string_view Zone::name() const { return tz_->name(); }

namespace {

// Reads exactly `width` digits at `pos`.
bool ReadDigits(std::string_view text, std::size_t pos, std::size_t width, int& out) {
    if (pos + width > text.size()) {
        return false;
    }
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return false;
        }
    }
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + width, out);
    return ec == std::errc{} && ptr == text.data() + pos + width;
}

bool ParseDateAt(std::string_view text, CivilDate& out) {
    int y = 0;
    int m = 0;
    int d = 0;
    if (text.size() < 10 || !ReadDigits(text, 0, 4, y) || text[4] != '-' ||
        !ReadDigits(text, 5, 2, m) || text[7] != '-' || !ReadDigits(text, 8, 2, d)) {
        return false;
    }
    out = CivilDate{date::year{y}, date::month{static_cast<unsigned>(m)},
                    date::day{static_cast<unsigned>(d)}};
    return out.ok();
}

// "HH:MM" or "HH:MM:SS" at pos; returns characters consumed, 0 on failure.
std::size_t ParseClockAt(std::string_view text, std::size_t pos, Seconds& out) {
    int h = 0;
    int mi = 0;
    int s = 0;
    if (!ReadDigits(text, pos, 2, h) || pos + 2 >= text.size() || text[pos + 2] != ':' ||
        !ReadDigits(text, pos + 3, 2, mi)) {
        return 0;
    }
    std::size_t used = 5;
    if (pos + 5 < text.size() && text[pos + 5] == ':') {
        if (!ReadDigits(text, pos + 6, 2, s)) {
            return 0;
        }
        used = 8;
    }
    if (h > 23 || mi > 59 || s > 59) {
        return 0;
    }
    out = std::chrono::hours{h} + std::chrono::minutes{mi} + Seconds{s};
    return used;
}

}  // namespace

Result<CivilDate> ParseDate(std::string_view text, std::string_view field) {
    CivilDate date;
    if (text.size() != 10 || !ParseDateAt(text, date)) {
        return InvalidArgument(std::string(field),
                               "'" + std::string(text) + "' is not a date of the form YYYY-MM-DD");
    }
    return date;
}

std::string FormatDate(CivilDate d) { return date::format("%F", date::sys_days{d}); }

Result<LocalTime> ParseLocalTime(std::string_view text, std::string_view field) {
    CivilDate date;
    Seconds clock{0};
    if (!ParseDateAt(text, date) || text.size() < 16 || text[10] != 'T' ||
        ParseClockAt(text, 11, clock) + 11 != text.size()) {
        return InvalidArgument(
            std::string(field),
            "'" + std::string(text) + "' is not a local time YYYY-MM-DDTHH:MM[:SS]");
    }
    return LocalTime{date::local_days{date}.time_since_epoch() + clock};
}

Result<Instant> ParseInstant(std::string_view text, std::string_view field) {
    auto fail = [&] {
        return InvalidArgument(
            std::string(field),
            "'" + std::string(text) + "' is not an RFC 3339 time such as 2026-11-01T08:00:00Z");
    };
    CivilDate date;
    Seconds clock{0};
    if (!ParseDateAt(text, date) || text.size() < 17 || (text[10] != 'T' && text[10] != ' ')) {
        return fail();
    }
    const std::size_t used = ParseClockAt(text, 11, clock);
    if (used == 0) {
        return fail();
    }
    std::size_t pos = 11 + used;
    Seconds offset{0};
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        ++pos;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        int oh = 0;
        int om = 0;
        if (!ReadDigits(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
            !ReadDigits(text, pos + 4, 2, om) || oh > 23 || om > 59) {
            return fail();
        }
        offset = sign * (std::chrono::hours{oh} + std::chrono::minutes{om});
        pos += 6;
    } else {
        return fail();  // a bare wall time is ambiguous: an instant must carry its offset
    }
    if (pos != text.size()) {
        return fail();
    }
    return Instant{date::sys_days{date}.time_since_epoch() + clock - offset};
}

std::string FormatInstant(Instant at) {
    // By hand: date::format goes through an ostringstream and its locale on every call, and lists
    // format an instant per row.
    const auto day = std::chrono::floor<date::days>(at);
    const date::year_month_day ymd{day};
    const int year = static_cast<int>(ymd.year());
    if (year < 0 || year > 9999) {
        return date::format("%FT%TZ", at);
    }
    const int64_t second_of_day = (at - day).count();
    const int fields[] = {year,
                          static_cast<int>(static_cast<unsigned>(ymd.month())),
                          static_cast<int>(static_cast<unsigned>(ymd.day())),
                          static_cast<int>(second_of_day / 3600),
                          static_cast<int>(second_of_day / 60 % 60),
                          static_cast<int>(second_of_day % 60)};
    std::string out = "0000-00-00T00:00:00Z";
    static constexpr std::size_t kEnds[] = {4, 7, 10, 13, 16, 19};  // one past each field
    for (std::size_t i = 0; i < std::size(fields); ++i) {
        for (int v = fields[i], p = static_cast<int>(kEnds[i]) - 1; v > 0; v /= 10, --p) {
            out[static_cast<std::size_t>(p)] = static_cast<char>('0' + v % 10);
        }
    }
    return out;
}

}  // namespace joule
