#include "codec/modbus.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace joule::codec::modbus {
namespace {

Bytes Hex(std::string_view text) {
    auto bytes = ParseHex(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or(Bytes{});
}

TEST(Crc16, MatchesTheCatalogueCheckValue) {
    std::string_view check = "123456789";
    Bytes bytes(check.begin(), check.end());
    EXPECT_EQ(Crc16(bytes), 0x4B37);
}

TEST(Crc16, ReadHoldingRequestGoesOnTheWireLowByteFirst) {
    EXPECT_EQ(Crc16(Hex("01 03 00 00 00 0A")), 0xCDC5);
}

TEST(RtuResponseLength, SizesReadsWritesAndExceptions) {
    EXPECT_EQ(*RtuResponseLength(Hex("01 03 04")), 9U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 01 01")), 6U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 06")), 8U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 10")), 8U);
    EXPECT_EQ(*RtuResponseLength(Hex("03 83")), 5U);
    EXPECT_EQ(RtuResponseLength(Hex("01 03")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuResponseLength(Hex("01")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuResponseLength(Hex("01 03 03")).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(RtuResponseLength(Hex("01 2B")).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(RtuResponseLength(Hex("F8 03 02")).error().code, ErrorCode::kInvalidArgument);
}

TEST(RtuRequestLength, SizesFixedAndVariableRequests) {
    EXPECT_EQ(*RtuRequestLength(Hex("01 03")), 8U);
    EXPECT_EQ(*RtuRequestLength(Hex("00 06")), 8U);
    EXPECT_EQ(*RtuRequestLength(Hex("01 10 00 00 00 02 04")), 13U);
    EXPECT_EQ(RtuRequestLength(Hex("01 10 00 00 00 02")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuRequestLength(Hex("01 10 00 00 00 02 03")).error().code,
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace joule::codec::modbus
