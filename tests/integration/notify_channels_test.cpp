// The notification channels against local sinks that are not our code (tests/notify/sinks.mjs,
// Node's crypto checking the signatures): SMTP email, Aliyun-style SMS, WeChat template messages
// and signed webhooks, each on loopback, plus the failures a delivery must tell apart.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../notify/node_sinks.hpp"
#include "notify/channels.hpp"

namespace joule::notify {
namespace {

using Json = nlohmann::json;

using test::kHookSecret;
using test::kSmsSecret;
using test::Sinks;

DeliveryRecord Delivery(int64_t id, std::string kind, std::string address) {
    DeliveryRecord d;
    d.id = id;
    d.event = "alarm:" + std::to_string(id);
    d.kind = std::move(kind);
    d.subject = "A-101";
    d.address = std::move(address);
    d.title = "充值到账提醒";
    d.body = "户号A-101（万达广场）充值100.00元已到账，当前余额123.45元。";
    d.vars = R"({"account":"A-101","amount":"100.00","balance":"123.45","at":"2026-11-23 11:00"})";
    d.created_at = ParseInstant("2026-11-23T03:00:00Z", "t").value();
    return d;
}

class NotifyChannelsTest : public ::testing::Test {
protected:
    void SetUp() override { ASSERT_GT(sinks_.http_port, 0) << "the Node sinks did not start"; }
    Sinks sinks_;
};

TEST_F(NotifyChannelsTest, EmailGoesThroughSmtpWithItsWordsIntact) {
    SmtpSettings smtp;
    smtp.url = "smtp://127.0.0.1:" + std::to_string(sinks_.smtp_port);
    smtp.from = "notice@mall.example.com";
    smtp.from_name = "物业中心";
    auto email = MakeSmtpSender(smtp);
    ASSERT_TRUE(email->Send(Delivery(1, "top_up", "li@example.com")).has_value());
    ASSERT_TRUE(email->Send(Delivery(2, "top_up", "wang@example.com")).has_value());
    // A mailbox the server refuses for good is refused for good.
    auto refused = email->Send(Delivery(3, "top_up", "reject@example.com"));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << refused.error().message;

    const Json got = sinks_.Received();
    ASSERT_EQ(got.size(), 2U) << got.dump();
    EXPECT_EQ(got[0]["from"], "<notice@mall.example.com>");
    EXPECT_EQ(got[0]["to"][0], "<li@example.com>");
    EXPECT_EQ(got[0]["subject"], "充值到账提醒");
    EXPECT_EQ(got[0]["body"], "户号A-101（万达广场）充值100.00元已到账，当前余额123.45元。");
    EXPECT_EQ(got[0]["message_id"], "<joule-1-1@mall.example.com>");
    EXPECT_EQ(got[1]["to"][0], "<wang@example.com>");

    // No server: try later.
    smtp.url = "smtp://127.0.0.1:1";
    auto down = MakeSmtpSender(smtp)->Send(Delivery(4, "top_up", "li@example.com"));
    ASSERT_FALSE(down.has_value());
    EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);
}

TEST_F(NotifyChannelsTest, SmsIsSignedAsAliyunChecksIt) {
    SmsSettings sms;
    sms.endpoint = sinks_.Http("/sms");
    sms.access_key_id = "LTAI-test";
    sms.access_key_secret = kSmsSecret;
    sms.sign_name = "万达物业";
    sms.templates = {{"top_up", "SMS_100001"}};
    auto sender = MakeAliyunSmsSender(sms);
    ASSERT_TRUE(sender->Send(Delivery(1, "top_up", "13800138000")).has_value());
    // The provider refusing the number: for good.
    auto illegal = sender->Send(Delivery(2, "top_up", "13900000000"));
    ASSERT_FALSE(illegal.has_value());
    EXPECT_EQ(illegal.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(illegal.error().message, "the SMS provider said isv.MOBILE_NUMBER_ILLEGAL");
    // No template for the kind: for good, and nothing is sent.
    auto no_template = sender->Send(Delivery(3, "low_balance_1", "13800138000"));
    ASSERT_FALSE(no_template.has_value());
    EXPECT_EQ(no_template.error().code, ErrorCode::kFailedPrecondition);
    // Another secret: the provider's check fails, and so does the delivery.
    sms.access_key_secret = "not-the-secret";
    auto forged = MakeAliyunSmsSender(sms)->Send(Delivery(4, "top_up", "13800138000"));
    ASSERT_FALSE(forged.has_value());

    const Json got = sinks_.Received();
    ASSERT_EQ(got.size(), 3U) << got.dump();
    EXPECT_TRUE(got[0]["ok"].get<bool>());  // Node's HMAC-SHA1 agrees with ours
    EXPECT_EQ(got[0]["phone"], "13800138000");
    EXPECT_EQ(got[0]["template"], "SMS_100001");
    EXPECT_EQ(got[0]["sign_name"], "万达物业");
    EXPECT_EQ(got[0]["values"]["balance"], "123.45");
    EXPECT_FALSE(got[2]["ok"].get<bool>());
}

TEST_F(NotifyChannelsTest, WechatTemplatesFetchATokenOnceAndSendTheValues) {
    WechatTemplateSettings wechat;
    wechat.api_base = sinks_.Http("");
    wechat.app_id = "wx1234567890abcdef";
    wechat.app_secret = "mp-secret";
    wechat.default_template = "TPL-general";
    wechat.templates = {{"top_up", "TPL-topup"}};
    auto sender = MakeWechatTemplateSender(wechat);
    ASSERT_TRUE(sender->Send(Delivery(1, "top_up", "oUser1234567")).has_value());
    ASSERT_TRUE(sender->Send(Delivery(2, "gateway_offline", "oUser1234567")).has_value());
    const Json got = sinks_.Received();
    ASSERT_EQ(got.size(), 2U) << got.dump();
    EXPECT_EQ(got[0]["touser"], "oUser1234567");
    EXPECT_EQ(got[0]["template_id"], "TPL-topup");
    EXPECT_EQ(got[0]["data"]["first"]["value"], "充值到账提醒");
    EXPECT_EQ(got[0]["data"]["keyword3"]["value"], "123.45");
    EXPECT_EQ(got[1]["template_id"], "TPL-general");

    wechat.app_secret = "wrong";
    auto refused = MakeWechatTemplateSender(wechat)->Send(Delivery(3, "top_up", "oUser1234567"));
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
}

TEST_F(NotifyChannelsTest, WebhooksAreSignedAndFailuresAreToldApart) {
    auto hook = MakeWebhookSender();
    DeliveryRecord d = Delivery(7, "top_up", sinks_.Http("/hook/ops"));
    d.secret = kHookSecret;
    ASSERT_TRUE(hook->Send(d).has_value());
    d.secret = "another-secret-0123456789";
    auto wrong = hook->Send(d);
    ASSERT_FALSE(wrong.has_value());
    EXPECT_EQ(wrong.error().code, ErrorCode::kInvalidArgument);  // 401: the receiver refuses
    d.address = sinks_.Http("/down/ops");
    auto down = hook->Send(d);
    ASSERT_FALSE(down.has_value());
    EXPECT_EQ(down.error().code, ErrorCode::kUnavailable);  // 503: try later
    EXPECT_EQ(down.error().message, "the webhook answered HTTP 503: down for maintenance");

    const Json got = sinks_.Received();
    ASSERT_EQ(got.size(), 2U) << got.dump();
    EXPECT_TRUE(got[0]["ok"].get<bool>());
    EXPECT_EQ(got[0]["delivery"], "7");
    EXPECT_EQ(got[0]["event"], "top_up");
    EXPECT_LT(got[0]["age"].get<double>(), 60.0);
    EXPECT_EQ(got[0]["body"]["values"]["amount"], "100.00");
    EXPECT_EQ(got[0]["body"]["title"], "充值到账提醒");
    EXPECT_FALSE(got[1]["ok"].get<bool>());
}

}  // namespace
}  // namespace joule::notify
