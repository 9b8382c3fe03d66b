#include "core/tenant.hpp"

#include <gtest/gtest.h>

#include <set>

namespace joule {
namespace {

TEST(Tenant, MobileNumbersAsPeopleTypeThem) {
    for (const char* typed : {"13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000",
                              "8613800138000", "(138)00138000"}) {
        auto mobile = NormalizeMobile(typed, "phone");
        ASSERT_TRUE(mobile.has_value()) << typed << ": " << mobile.error().ToString();
        EXPECT_EQ(*mobile, "13800138000") << typed;
    }
    for (const char* typed : {"", "1380013800", "138001380001", "23800138000", "1380013800a",
                              "138+00138000", "010-12345678", "+1 415 555 0100"}) {
        auto mobile = NormalizeMobile(typed, "phone");
        ASSERT_FALSE(mobile.has_value()) << typed;
        EXPECT_EQ(mobile.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(mobile.error().field, "phone");
    }
    EXPECT_FALSE(NormalizeMobile(std::string(40, '1'), "phone").has_value());
}

TEST(Tenant, MaskedPhonesShowOnlyTheEnds) {
    EXPECT_EQ(MaskPhone("13800138000"), "138****8000");
    EXPECT_EQ(MaskPhone("1234"), "****");
    EXPECT_EQ(PhoneTail("13900139000"), "*******9000");
    EXPECT_TRUE(SameSecretText("abc", "abc"));
    EXPECT_FALSE(SameSecretText("abc", "abd"));
    EXPECT_FALSE(SameSecretText("abc", "abcd"));
}

TEST(Tenant, CodesAreSixDigitsWithLeadingZeros) {
    EXPECT_EQ(CodeFromEntropy(0), "000000");
    EXPECT_EQ(CodeFromEntropy(42), "000042");
    EXPECT_EQ(CodeFromEntropy(1'000'000), "000000");
    EXPECT_EQ(CodeFromEntropy(4'294'967'295U), "967295");
    std::set<std::string> seen;
    for (uint32_t e = 0; e < 5000; e += 7) {
        const std::string code = CodeFromEntropy(e * 2'654'435'761U);
        ASSERT_EQ(code.size(), 6U);
        ASSERT_EQ(code.find_first_not_of("0123456789"), std::string::npos);
        seen.insert(code);
    }
    EXPECT_GT(seen.size(), 700U);  // distinct entropy, distinct codes
    ASSERT_TRUE(NormalizeCode(" 012345 ", "code").has_value());
    EXPECT_EQ(*NormalizeCode(" 012345 ", "code"), "012345");
    for (const char* bad : {"", "12345", "1234567", "12345a", "12 345"}) {
        auto code = NormalizeCode(bad, "code");
        ASSERT_FALSE(code.has_value()) << bad;
        EXPECT_EQ(code.error().field, "code");
    }
}

}  // namespace
}  // namespace joule
