// Days left at current usage [ALM-4]: what an account's recent deductions say about how long its
// balance lasts. Pure arithmetic on whole fen; the service chooses the days it looks back over.
#pragma once

#include <cstdint>
#include <optional>

#include "core/units.hpp"

namespace joule {

// How many days of recent usage the forecast averages: a week, so a weekend neither hides nor
// doubles a shop's usage. Fewer when the account is younger than that.
inline constexpr int64_t kForecastDays = 7;

struct UsageForecast {
    Money daily_average;               // spent / days, half up (core/rounding.hpp)
    std::optional<int64_t> days_left;  // none: nothing was spent, so no end is in sight
};

// `spent` over the last `days` whole days (>= 1) against what is `available` now. Days left are
// whole days, rounded down (the tenant should hear of the last day before it starts), from the
// exact ratio available x days / spent rather than the rounded average; 0 once nothing is left.
[[nodiscard]] UsageForecast ForecastUsage(Money available, Money spent, int64_t days);

}  // namespace joule
