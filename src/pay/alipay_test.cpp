#include "pay/alipay.hpp"

#include <gtest/gtest.h>

namespace joule::pay {
namespace {

TEST(AlipayForm, DecodesPercentAndPlusAndKeepsEmptyValues) {
    auto form = ParseForm("a=1&b=%E4%B8%AD+x&c=&d");
    ASSERT_TRUE(form.has_value()) << form.error().ToString();
    EXPECT_EQ(form->at("a"), "1");
    EXPECT_EQ(form->at("b"), "\xE4\xB8\xAD x");  // 中 x
    EXPECT_EQ(form->at("c"), "");
    EXPECT_EQ(form->at("d"), "");
}

TEST(AlipayForm, RefusesBadEncodingAndRepeatedNames) {
    EXPECT_EQ(ParseForm("a=%G1").error().field, "a");
    EXPECT_EQ(ParseForm("a=%4").error().field, "a");
    EXPECT_EQ(ParseForm("a=1&a=2").error().field, "a");
    EXPECT_EQ(ParseForm("=1").error().field, "body");
}

TEST(AlipaySignContent, SortsByNameAndLeavesOutTheSignatureAndEmptyValues) {
    const std::map<std::string, std::string, std::less<>> params{
        {"total_amount", "2.00"},       {"sign", "xxx"},  {"sign_type", "RSA2"},
        {"app_id", "2014072300007148"}, {"buyer_id", ""}, {"out_trade_no", "6823789339978248"},
        {"body", "大乐透2.1"}};
    EXPECT_EQ(AlipaySignContent(params),
              "app_id=2014072300007148&body=大乐透2.1&out_trade_no=6823789339978248&"
              "total_amount=2.00");
}

TEST(AlipayNotification, WithoutRsa2OrASignatureIsRefusedBeforeAnythingElse) {
    const AlipayConfig config{"2021000000000001", "", "no key needed to refuse"};
    auto rsa = VerifyAlipayNotification(config, "sign_type=RSA&sign=AAAA&app_id=x");
    ASSERT_FALSE(rsa.has_value());
    EXPECT_EQ(rsa.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(rsa.error().field, "sign_type");
    auto unsigned_ = VerifyAlipayNotification(config, "sign_type=RSA2&app_id=x");
    ASSERT_FALSE(unsigned_.has_value());
    EXPECT_EQ(unsigned_.error().field, "sign");
}

}  // namespace
}  // namespace joule::pay
