#include "base/decimal.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

TEST(ParseScaled, AcceptsIntegersAndFractions) {
    EXPECT_EQ(ParseScaled("12.34", 2, "amount").value(), 1234);
    EXPECT_EQ(ParseScaled("12", 2, "amount").value(), 1200);
    EXPECT_EQ(ParseScaled("0.5", 4, "price").value(), 5000);
    EXPECT_EQ(ParseScaled("-3.1", 2, "amount").value(), -310);
    EXPECT_EQ(ParseScaled("+7", 0, "n").value(), 7);
    EXPECT_EQ(ParseScaled(".5", 1, "n").value(), 5);
}

TEST(ParseScaled, RejectsMalformedInputNamingTheField) {
    for (const char* bad :
         {"", "-", ".", "1.2.3", "1e5", "abc", "12,3", " 1", "1 ", "0x10", "1.234"}) {
        auto r = ParseScaled(bad, 2, "amount");
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(r.error().field, "amount");
    }
}

TEST(ParseScaled, RejectsOverflow) {
    EXPECT_FALSE(ParseScaled("92233720368547758.08", 2, "a").has_value());
    EXPECT_FALSE(ParseScaled("99999999999999999999", 0, "a").has_value());
    EXPECT_EQ(ParseScaled("92233720368547758.07", 2, "a").value(), INT64_MAX);
}

TEST(FormatScaled, RoundTrips) {
    EXPECT_EQ(FormatScaled(1234, 2), "12.34");
    EXPECT_EQ(FormatScaled(5, 2), "0.05");
    EXPECT_EQ(FormatScaled(-5, 2), "-0.05");
    EXPECT_EQ(FormatScaled(0, 3), "0.000");
    EXPECT_EQ(FormatScaled(42, 0), "42");
    EXPECT_EQ(FormatScaled(INT64_MIN, 2), "-92233720368547758.08");
    for (int64_t v : {0L, 1L, -1L, 99L, 100L, 123456789L, -987654321L}) {
        EXPECT_EQ(ParseScaled(FormatScaled(v, 4), 4, "v").value(), v);
    }
}

}  // namespace
}  // namespace joule
