#include "core/forecast.hpp"

#include "base/assert.hpp"
#include "base/checked.hpp"
#include "core/rounding.hpp"

namespace joule {

UsageForecast ForecastUsage(Money available, Money spent, int64_t days) {
    JOULE_ASSERT(days > 0, "a forecast over no days");
    // A refund of a deduction can make a day's total negative; it is no usage.
    const bool used = spent.fen > 0;
    UsageForecast out;
    out.daily_average = used ? AverageOf(spent, days) : Money{0};
    if (available.fen <= 0) {
        out.days_left = 0;
    } else if (used) {
        out.days_left = static_cast<int64_t>(Int128{available.fen} * days / spent.fen);
    }
    return out;
}

}  // namespace joule
