#include "codec/values.hpp"

#include <cstdio>
#include <limits>

#include "base/checked.hpp"

namespace joule::codec {

std::string FormatDecimal(Decimal value) {
    bool negative = value.mantissa < 0;
    // Unsigned magnitude so INT64_MIN formats without overflow.
    std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(value.mantissa)
                                       : static_cast<std::uint64_t>(value.mantissa);
    std::string digits = std::to_string(magnitude);
    if (value.decimals > 0) {
        auto places = static_cast<std::size_t>(value.decimals);
        if (digits.size() <= places)
            digits.insert(0, places - digits.size() + 1, '0');
        digits.insert(digits.size() - places, 1, '.');
    } else if (value.decimals < 0 && magnitude != 0) {
        digits.append(static_cast<std::size_t>(-value.decimals), '0');
    }
    return negative ? "-" + digits : digits;
}

bool Rescale(Decimal value, int decimals, std::int64_t* out) {
    Int128 m = value.mantissa;
    int shift = decimals - value.decimals;
    constexpr Int128 kMax = std::numeric_limits<std::int64_t>::max();
    constexpr Int128 kMin = std::numeric_limits<std::int64_t>::min();
    if (shift > 18 || shift < -38)
        return false;
    for (; shift > 0; --shift) {
        m *= 10;
        if (m > kMax || m < kMin)
            return false;
    }
    if (shift < 0) {
        Int128 divisor = 1;
        for (; shift < 0; ++shift)
            divisor *= 10;
        Int128 quotient = m / divisor;
        Int128 remainder = m % divisor;
        if (remainder * 2 >= divisor)
            ++quotient;
        if (remainder * 2 <= -divisor)
            --quotient;
        m = quotient;
    }
    if (m > kMax || m < kMin)
        return false;
    *out = static_cast<std::int64_t>(m);
    return true;
}

bool IsValid(const MeterDateTime& t) {
    if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1)
        return false;
    static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (t.year % 4 == 0 && t.year % 100 != 0) || t.year % 400 == 0;
    int days = kDays[t.month - 1] + (t.month == 2 && leap ? 1 : 0);
    return t.day <= days && t.hour >= 0 && t.hour < 24 && t.minute >= 0 && t.minute < 60 &&
           t.second >= 0 && t.second < 60;
}

std::string FormatMeterDateTime(const MeterDateTime& t) {
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", t.year, t.month, t.day,
                  t.hour, t.minute, t.second);
    return text;
}

}  // namespace joule::codec
