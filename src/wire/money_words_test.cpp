#include "wire/money_words.hpp"

#include <gtest/gtest.h>

namespace joule::wire {
namespace {

std::string Capitals(int64_t fen) { return MoneyInChineseCapitals(Money{fen}); }

TEST(MoneyInChineseCapitals, WholeYuanEndWithZheng) {
    EXPECT_EQ(Capitals(0), "零元整");
    EXPECT_EQ(Capitals(100), "壹元整");
    EXPECT_EQ(Capitals(1000), "壹拾元整");
    EXPECT_EQ(Capitals(1500), "壹拾伍元整");
    EXPECT_EQ(Capitals(10'000'00), "壹万元整");
    EXPECT_EQ(Capitals(100'000'000'00), "壹亿元整");
}

TEST(MoneyInChineseCapitals, ZerosBetweenDigitsAreSaidOnce) {
    EXPECT_EQ(Capitals(1005'00), "壹仟零伍元整");
    EXPECT_EQ(Capitals(1050'00), "壹仟零伍拾元整");
    EXPECT_EQ(Capitals(10'050'00), "壹万零伍拾元整");
    EXPECT_EQ(Capitals(10'500'00), "壹万零伍佰元整");
    EXPECT_EQ(Capitals(15'000'00), "壹万伍仟元整");
    EXPECT_EQ(Capitals(105'000'00), "壹拾万伍仟元整");
    EXPECT_EQ(Capitals(100'005'00), "壹拾万零伍元整");
    EXPECT_EQ(Capitals(100'000'005'00), "壹亿零伍元整");
    EXPECT_EQ(Capitals(100'050'000'00), "壹亿零伍万元整");
    EXPECT_EQ(Capitals(123'456'789'00), "壹亿贰仟叁佰肆拾伍万陆仟柒佰捌拾玖元整");
    EXPECT_EQ(Capitals(20'000'300'00), "贰仟万零叁佰元整");
}

TEST(MoneyInChineseCapitals, JiaoAndFen) {
    EXPECT_EQ(Capitals(5), "伍分");
    EXPECT_EQ(Capitals(50), "伍角整");
    EXPECT_EQ(Capitals(55), "伍角伍分");
    EXPECT_EQ(Capitals(105), "壹元零伍分");
    EXPECT_EQ(Capitals(1050), "壹拾元伍角整");
    EXPECT_EQ(Capitals(1005'30), "壹仟零伍元叁角整");
    EXPECT_EQ(Capitals(123'45), "壹佰贰拾叁元肆角伍分");
    EXPECT_EQ(Capitals(-123'45), "负壹佰贰拾叁元肆角伍分");
}

}  // namespace
}  // namespace joule::wire
