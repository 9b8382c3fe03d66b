#include "codec/values.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace joule::codec {
namespace {

TEST(FormatDecimal, PlacesThePoint) {
    EXPECT_EQ(FormatDecimal({12345, 2}), "123.45");
    EXPECT_EQ(FormatDecimal({-123, 3}), "-0.123");
    EXPECT_EQ(FormatDecimal({5, 0}), "5");
    EXPECT_EQ(FormatDecimal({5, -2}), "500");
    EXPECT_EQ(FormatDecimal({std::numeric_limits<std::int64_t>::min(), 0}), "-9223372036854775808");
}

TEST(Rescale, MultipliesExactlyAndRoundsHalfAwayFromZero) {
    std::int64_t out = 0;
    ASSERT_TRUE(Rescale({12345, 2}, 3, &out));
    EXPECT_EQ(out, 123450);
    ASSERT_TRUE(Rescale({12345, 3}, 2, &out));
    EXPECT_EQ(out, 1235);
    ASSERT_TRUE(Rescale({-12345, 3}, 2, &out));
    EXPECT_EQ(out, -1235);
    EXPECT_FALSE(Rescale({std::numeric_limits<std::int64_t>::max(), 0}, 1, &out));
}

TEST(MeterDateTime, ValidatesCalendar) {
    EXPECT_TRUE(IsValid({2024, 2, 29, 23, 59, 59}));
    EXPECT_FALSE(IsValid({2023, 2, 29, 0, 0, 0}));
    EXPECT_FALSE(IsValid({2023, 13, 1, 0, 0, 0}));
    EXPECT_EQ(FormatMeterDateTime({2018, 5, 12, 15, 41, 24}), "2018-05-12 15:41:24");
}

}  // namespace
}  // namespace joule::codec
