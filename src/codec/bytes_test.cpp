#include "codec/bytes.hpp"

#include <gtest/gtest.h>

namespace joule::codec {
namespace {

TEST(ParseHex, AcceptsSeparatorsAndPrefixes) {
    auto bytes = ParseHex("68 aa:0x01-ff");
    ASSERT_TRUE(bytes.has_value()) << bytes.error().ToString();
    EXPECT_EQ(*bytes, (Bytes{0x68, 0xAA, 0x01, 0xFF}));
    EXPECT_EQ(ToHex(*bytes), "68 AA 01 FF");
}

TEST(ParseHex, RejectsOddDigitsAndNonHex) {
    EXPECT_EQ(ParseHex("6").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(ParseHex("6 8").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(ParseHex("6G").error().code, ErrorCode::kInvalidArgument);
}

TEST(ByteReader, NeverReadsPastTheEnd) {
    Bytes data{1, 2, 3};
    ByteReader reader(data);
    EXPECT_EQ(*reader.U16Be("a"), 0x0102);
    auto fail = reader.U16Le("b");
    ASSERT_FALSE(fail.has_value());
    EXPECT_EQ(fail.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(fail.error().field, "b");
    EXPECT_EQ(*reader.U8("c"), 3);
    EXPECT_FALSE(reader.Take(1, "d").has_value());
}

TEST(Bcd, RoundTripsLowByteFirst) {
    auto bytes = EncodeBcdLe(12345678, 4, "v");
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(*bytes, (Bytes{0x78, 0x56, 0x34, 0x12}));
    EXPECT_EQ(*DecodeBcdLe(*bytes, "v"), 12345678U);
    EXPECT_EQ(EncodeBcdLe(100, 1, "v").error().code, ErrorCode::kOutOfRange);
    Bytes bad{0x1A};
    EXPECT_EQ(DecodeBcdLe(bad, "v").error().field, "v");
}

TEST(Sum8, WrapsModulo256) {
    Bytes data{0xFF, 0x02};
    EXPECT_EQ(Sum8(data), 0x01);
}

}  // namespace
}  // namespace joule::codec
