#include "core/forecast.hpp"

#include <gtest/gtest.h>

#include "core/rounding.hpp"

namespace joule {
namespace {

TEST(Forecast, DaysLeftAreWholeDaysRoundedDown) {
    // 70.00 spent over 7 days = 10.00 a day; 25.00 lasts 2 whole days, not 2.5.
    const UsageForecast f = ForecastUsage(Money{2500}, Money{7000}, 7);
    EXPECT_EQ(f.daily_average, Money{1000});
    ASSERT_TRUE(f.days_left.has_value());
    EXPECT_EQ(*f.days_left, 2);
}

TEST(Forecast, DaysLeftComeFromTheExactRatioNotTheRoundedAverage) {
    // 0.05 over 3 days averages 0.02 (1.67 fen, half up); 0.10 left lasts 0.10 x 3 / 0.05 = 6
    // days, where dividing by the rounded average would say 5.
    const UsageForecast f = ForecastUsage(Money{10}, Money{5}, 3);
    EXPECT_EQ(f.daily_average, Money{2});
    EXPECT_EQ(f.days_left, 6);
}

TEST(Forecast, NothingLeftIsZeroDaysWhateverTheUsage) {
    EXPECT_EQ(ForecastUsage(Money{0}, Money{7000}, 7).days_left, 0);
    EXPECT_EQ(ForecastUsage(Money{-150}, Money{7000}, 7).days_left, 0);
    EXPECT_EQ(ForecastUsage(Money{-150}, Money{0}, 7).days_left, 0);
}

TEST(Forecast, NoUsageForecastsNoEnd) {
    const UsageForecast idle = ForecastUsage(Money{5000}, Money{0}, 7);
    EXPECT_EQ(idle.daily_average, Money{0});
    EXPECT_FALSE(idle.days_left.has_value());
    // Refunded deductions can leave a negative total: still no usage.
    EXPECT_FALSE(ForecastUsage(Money{5000}, Money{-300}, 7).days_left.has_value());
}

TEST(Forecast, LargeBalancesDoNotOverflow) {
    const Money huge{int64_t{9'000'000'000'000'000}};
    const UsageForecast f = ForecastUsage(huge, Money{7}, 7);
    EXPECT_EQ(f.days_left, int64_t{9'000'000'000'000'000});
}

TEST(Rounding, AnAverageRoundsHalfUpAwayFromZero) {
    EXPECT_EQ(AverageOf(Money{5}, 2), Money{3});    // 2.5 → 3
    EXPECT_EQ(AverageOf(Money{-5}, 2), Money{-3});  // -2.5 → -3
    EXPECT_EQ(AverageOf(Money{4}, 3), Money{1});    // 1.33 → 1
    EXPECT_EQ(AverageOf(Money{5}, 3), Money{2});    // 1.67 → 2
    EXPECT_EQ(AverageOf(Money{0}, 7), Money{0});
}

}  // namespace
}  // namespace joule
