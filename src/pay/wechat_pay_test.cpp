// The pure parts of our calls to WeChat Pay; the signed ones are checked by Node's crypto in
// tests/integration/payment_query_test.cpp.
#include "pay/wechat_pay.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace joule::pay {
namespace {

Instant At(std::string_view text) { return ParseInstant(text, "t").value(); }

WechatPayConfig Config() {
    WechatPayConfig c;
    c.app_id = "wx8888888888888888";
    c.mch_id = "1900000109";
    return c;
}

WechatPrepayRequest Jsapi() {
    WechatPrepayRequest r;
    r.channel = "jsapi";
    r.order_no = "J20261122100000ab12cd34";
    r.amount = Money{10'000};
    r.description = "电费充值 A-101";
    r.notify_url = "https://joule.example.com/api/v1/pay/notify/wechat";
    r.expires = At("2026-11-22T04:00:00Z");
    r.openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
    return r;
}

TEST(WechatPrepay, AJsapiOrderCarriesEverythingWechatAsksFor) {
    auto call = WechatPrepayCall(Config(), Jsapi());
    ASSERT_TRUE(call.has_value()) << call.error().ToString();
    EXPECT_EQ(call->path, "/v3/pay/transactions/jsapi");
    const auto body = nlohmann::json::parse(call->body);
    EXPECT_EQ(body["appid"], "wx8888888888888888");
    EXPECT_EQ(body["mchid"], "1900000109");
    EXPECT_EQ(body["out_trade_no"], "J20261122100000ab12cd34");
    EXPECT_EQ(body["time_expire"], "2026-11-22T12:00:00+08:00");  // Beijing time
    EXPECT_EQ(body["amount"]["total"], 10'000);
    EXPECT_EQ(body["amount"]["currency"], "CNY");
    EXPECT_EQ(body["payer"]["openid"], "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    EXPECT_EQ(body["description"], "电费充值 A-101");
    EXPECT_FALSE(body.contains("scene_info"));
}

TEST(WechatPrepay, NativeAndH5TakeWhatTheirChannelNeeds) {
    WechatPrepayRequest native = Jsapi();
    native.channel = "native";
    native.openid.clear();
    auto call = WechatPrepayCall(Config(), native);
    ASSERT_TRUE(call.has_value());
    EXPECT_EQ(call->path, "/v3/pay/transactions/native");
    EXPECT_FALSE(nlohmann::json::parse(call->body).contains("payer"));

    WechatPrepayRequest h5 = native;
    h5.channel = "h5";
    EXPECT_EQ(WechatPrepayCall(Config(), h5).error().field, "client_ip");
    h5.client_ip = "203.0.113.7";
    call = WechatPrepayCall(Config(), h5);
    ASSERT_TRUE(call.has_value());
    const auto body = nlohmann::json::parse(call->body);
    EXPECT_EQ(body["scene_info"]["payer_client_ip"], "203.0.113.7");
    EXPECT_EQ(body["scene_info"]["h5_info"]["type"], "Wap");

    WechatPrepayRequest no_payer = Jsapi();
    no_payer.openid.clear();
    EXPECT_EQ(WechatPrepayCall(Config(), no_payer).error().field, "openid");
    WechatPrepayRequest app = Jsapi();
    app.channel = "app";
    EXPECT_EQ(WechatPrepayCall(Config(), app).error().field, "channel");
}

TEST(WechatPrepay, ALongDescriptionIsCutBetweenCharacters) {
    WechatPrepayRequest r = Jsapi();
    r.description = "a";
    for (int i = 0; i < 60; ++i) {
        r.description += "电";  // 3 bytes each: byte 127 falls inside one
    }
    auto call = WechatPrepayCall(Config(), r);
    ASSERT_TRUE(call.has_value());
    const std::string description = nlohmann::json::parse(call->body)["description"];
    EXPECT_EQ(description.size(), 127U);  // 1 + 42 x 3
    EXPECT_EQ(description, r.description.substr(0, 127));
    r.description = "a" + r.description;  // now 127 falls on a boundary minus one
    call = WechatPrepayCall(Config(), r);
    ASSERT_TRUE(call.has_value());
    EXPECT_EQ(std::string(nlohmann::json::parse(call->body)["description"]).size(), 125U);
}

TEST(WechatBill, TheDaysBillIsAskedForAndItsFileChecked) {
    EXPECT_EQ(WechatTradeBillPath(CivilDate{date::year{2026} / 11 / 22}),
              "/v3/bill/tradebill?bill_date=2026-11-22&bill_type=ALL");
    // Signed only where our signature is meant to go: the API base's origin or WeChat's own.
    EXPECT_EQ(WechatBillDownloadPath("https://api.mch.weixin.qq.com",
                                     "https://api.mch.weixin.qq.com/v3/billdownload/file?token=6X"),
              "/v3/billdownload/file?token=6X");
    EXPECT_EQ(WechatBillDownloadPath("http://127.0.0.1:5000",
                                     "http://127.0.0.1:5000/v3/billdownload/file?token=x"),
              "/v3/billdownload/file?token=x");
    EXPECT_EQ(WechatBillDownloadPath("http://127.0.0.1:5000",
                                     "https://api2.mch.weixin.qq.com/v3/billdownload/file?t=1"),
              "/v3/billdownload/file?t=1");
    for (std::string_view elsewhere :
         {"https://evil.example.com/v3/billdownload/file?token=x",
          "http://127.0.0.1:5001/v3/billdownload/file", "https://api.mch.weixin.qq.com.evil.com/x",
          "ftp://api.mch.weixin.qq.com/x", "/v3/billdownload/file", ""}) {
        auto refused = WechatBillDownloadPath("http://127.0.0.1:5000", elsewhere);
        ASSERT_FALSE(refused.has_value()) << elsewhere;
        EXPECT_EQ(refused.error().field, "download_url");
    }
    // SHA1 of "abc" (FIPS 180-2's example), as WeChat names it, in either case.
    EXPECT_TRUE(CheckWechatBillFile("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"));
    auto other = CheckWechatBillFile("abd", "a9993e364706816aba3e25717850c26c9cd0d89d");
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(other.error().field, "file");
}

TEST(WechatErrors, NameWechatsCodeAndMessage) {
    EXPECT_EQ(WechatErrorText(R"({"code":"PARAM_ERROR","message":"openid 不正确"})"),
              "PARAM_ERROR: openid 不正确");
    EXPECT_EQ(WechatErrorText("<html>bad gateway</html>"), "<html>bad gateway</html>");
}

TEST(WechatOAuth, TheAuthorizePageAndTheTokenCallAreEncoded) {
    EXPECT_EQ(WechatOAuthUrl("https://open.weixin.qq.com", "wx8888888888888888",
                             "https://joule.example.com/api/v1/tenant/wechat/callback", "s t"),
              "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx8888888888888888"
              "&redirect_uri=https%3A%2F%2Fjoule.example.com%2Fapi%2Fv1%2Ftenant%2Fwechat%2F"
              "callback&response_type=code&scope=snsapi_base&state=s%20t#wechat_redirect");
    EXPECT_EQ(WechatOAuthTokenPath("wx1", "se&cret", "C/1"),
              "/sns/oauth2/access_token?appid=wx1&secret=se%26cret&code=C%2F1"
              "&grant_type=authorization_code");
}

TEST(WechatOAuth, TheOpenidOrWechatsRefusal) {
    auto openid = ReadWechatOAuthOpenid(
        R"({"access_token":"AT","expires_in":7200,"openid":"oP1","scope":"snsapi_base"})");
    ASSERT_TRUE(openid.has_value());
    EXPECT_EQ(*openid, "oP1");
    auto refused = ReadWechatOAuthOpenid(R"({"errcode":40163,"errmsg":"code been used"})");
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
    EXPECT_EQ(refused.error().field, "code");
    EXPECT_EQ(ReadWechatOAuthOpenid("[]").error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(ReadWechatOAuthOpenid(R"({"scope":"x"})").error().field, "openid");
}

}  // namespace
}  // namespace joule::pay
