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

namespace joule::pay {
namespace {

TEST(AlipayAnswer, TheResponseIsReadAsItStandsInTheText) {
    const std::string body =
        R"({"alipay_trade_query_response":{"code":"10000","msg":"Success","a":[1,{"b":"}\","}]} ,)"
        R"( "sign":"c2ln"})";
    auto raw = RawJsonMember(body, "alipay_trade_query_response");
    ASSERT_TRUE(raw.has_value()) << raw.error().ToString();
    EXPECT_EQ(*raw, R"({"code":"10000","msg":"Success","a":[1,{"b":"}\","}]})");
    EXPECT_EQ(RawJsonMember(body, "sign").value(), R"("c2ln")");
    EXPECT_EQ(RawJsonMember(body, "nothing").error().field, "nothing");
    for (const std::string_view bad : {"", "[]", "{", R"({"a")", R"({"a":)", R"({"a":"x)",
                                       R"({"a":{"b":1})", "{\"a\":1", R"({"a":,"b":1})"}) {
        EXPECT_FALSE(RawJsonMember(bad, "a").has_value()) << bad;
    }
}

TEST(AlipayAnswer, AnUnsignedAnswerIsRefused) {
    const AlipayConfig config{"2021000000000001", "", "no key needed to refuse"};
    auto unsigned_ = ReadAlipayTradeQuery(
        config,
        R"({"alipay_trade_query_response":{"code":"10000","trade_status":"TRADE_SUCCESS"}})");
    ASSERT_FALSE(unsigned_.has_value());
    EXPECT_EQ(unsigned_.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(unsigned_.error().field, "sign");
    auto other = ReadAlipayTradeQuery(config, R"({"alipay_trade_pay_response":{},"sign":"c2ln"})");
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error().field, "alipay_trade_query_response");
}

}  // namespace
}  // namespace joule::pay
