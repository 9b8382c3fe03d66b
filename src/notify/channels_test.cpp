#include "notify/channels.hpp"

#include <gtest/gtest.h>

#include "base/percent_encode.hpp"
#include "pay/crypto.hpp"

namespace joule::notify {
namespace {

Instant At(std::string_view text) { return ParseInstant(text, "t").value(); }

TEST(ComposeEmail, HeadersAreSafeAndTextIsUtf8Base64) {
    SmtpSettings smtp;
    smtp.from = "notice@mall.example.com";
    smtp.from_name = "物业中心";
    const std::string m = ComposeEmail(smtp, "li@example.com", "网关离线", "网关GW-1已离线。",
                                       "joule-7-1", At("2026-11-23T03:04:05Z"));
    EXPECT_NE(m.find("Date: Mon, 23 Nov 2026 03:04:05 +0000\r\n"), std::string::npos) << m;
    EXPECT_NE(m.find("From: =?UTF-8?B?" + pay::Base64Encode("物业中心") +
                     "?= <notice@mall.example.com>\r\n"),
              std::string::npos);
    EXPECT_NE(m.find("To: <li@example.com>\r\n"), std::string::npos);
    EXPECT_NE(m.find("Subject: =?UTF-8?B?" + pay::Base64Encode("网关离线") + "?=\r\n"),
              std::string::npos);
    EXPECT_NE(m.find("Message-ID: <joule-7-1@mall.example.com>\r\n"), std::string::npos);
    EXPECT_NE(m.find("\r\n\r\n" + pay::Base64Encode("网关GW-1已离线。") + "\r\n"),
              std::string::npos);
    // A plain ASCII subject stays readable; a line break in it can never add a header.
    EXPECT_NE(ComposeEmail(smtp, "a@b.c", "Gateway offline", "x", "id", At("2026-11-23T00:00:00Z"))
                  .find("Subject: Gateway offline\r\n"),
              std::string::npos);
    const std::string injected =
        ComposeEmail(smtp, "a@b.c", "Hi\r\nBcc: evil@x.com", "x", "id", At("2026-11-23T00:00:00Z"));
    EXPECT_EQ(injected.find("Bcc:"), std::string::npos);
}

TEST(ComposeEmail, LongSubjectsAreSplitBetweenCharacters) {
    SmtpSettings smtp;
    smtp.from = "n@x.cn";
    std::string subject;
    for (int i = 0; i < 40; ++i) {
        subject += "电";  // 3 bytes each: 120 bytes, three encoded words
    }
    const std::string m =
        ComposeEmail(smtp, "a@b.c", subject, "x", "id", At("2026-11-23T00:00:00Z"));
    const auto start = m.find("Subject: ");
    const auto end = m.find("\r\nMessage-ID");
    const std::string header = m.substr(start, end - start);
    std::string decoded;
    std::size_t at = 0;
    int words = 0;
    while ((at = header.find("=?UTF-8?B?", at)) != std::string::npos) {
        const auto close = header.find("?=", at + 10);
        decoded += pay::Base64Decode(header.substr(at + 10, close - at - 10), "w").value();
        at = close;
        ++words;
    }
    EXPECT_EQ(words, 3);
    EXPECT_EQ(decoded, subject);  // no character was cut in two
}

TEST(AliyunSignedForm, CarriesEverySortedParameterAndTheSignatureFirst) {
    SmsSettings sms;
    sms.access_key_id = "testId";
    sms.access_key_secret = "testSecret";
    sms.sign_name = "阿里云短信测试";
    const std::string form =
        AliyunSignedForm(sms, "15300000001", "SMS_71390007", "{\"customer\":\"test\"}",
                         "45e25e9b-0a6f-4070", At("2017-07-12T02:42:19Z"));
    ASSERT_TRUE(form.starts_with("Signature="));
    const std::string query = form.substr(form.find('&') + 1);
    EXPECT_EQ(query,
              "AccessKeyId=testId&Action=SendSms&Format=JSON&PhoneNumbers=15300000001&RegionId=cn-"
              "hangzhou&SignName=%E9%98%BF%E9%87%8C%E4%BA%91%E7%9F%AD%E4%BF%A1%E6%B5%8B%E8%AF%95&"
              "SignatureMethod=HMAC-SHA1&SignatureNonce=45e25e9b-0a6f-4070&SignatureVersion=1.0&"
              "TemplateCode=SMS_71390007&TemplateParam=%7B%22customer%22%3A%22test%22%7D&"
              "Timestamp=2017-07-12T02%3A42%3A19Z&Version=2017-05-25");
    // The signature is the Base64 HMAC-SHA1 of the canonical string (checked independently by
    // the Node SMS sink in tests/notify); here: it is 28 Base64 characters, percent-encoded.
    const std::string signature = form.substr(10, form.find('&') - 10);
    EXPECT_GE(signature.size(), 28U);
}

TEST(Webhook, BodyAndSignature) {
    DeliveryRecord d;
    d.id = 42;
    d.event = "alarm:7";
    d.kind = "gateway_offline";
    d.subject = "GW-1";
    d.title = "网关离线";
    d.body = "b";
    d.vars = "{\"gateway\":\"GW-1\"}";
    d.created_at = At("2026-11-23T03:00:00Z");
    EXPECT_EQ(WebhookBody(d),
              "{\"body\":\"b\",\"created_at\":\"2026-11-23T03:00:00Z\",\"event\":\"alarm:7\","
              "\"id\":42,\"kind\":\"gateway_offline\",\"subject\":\"GW-1\",\"title\":\"网关离线\","
              "\"values\":{\"gateway\":\"GW-1\"}}");
    // RFC 4231 test case 2 (key "Jefe"): "what do ya want" "." " for nothing?" is the message.
    EXPECT_EQ(WebhookSignature("Jefe", "what do ya want for nothing", "?").size(), 7U + 64U);
    EXPECT_EQ(WebhookSignature("Jefe", "what do ya want for nothing?", "").substr(0, 7), "sha256=");
}

TEST(HttpStatus, TellsRetryFromRefusal) {
    EXPECT_TRUE(StatusOfHttp({204, ""}, "x"));
    EXPECT_EQ(StatusOfHttp({503, ""}, "x").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(StatusOfHttp({429, ""}, "x").error().code, ErrorCode::kResourceExhausted);
    EXPECT_EQ(StatusOfHttp({401, "bad signature"}, "the webhook").error().message,
              "the webhook answered HTTP 401: bad signature");
    EXPECT_EQ(PercentEncode("a b*~/"), "a%20b%2A~%2F");
}

TEST(HttpClient, NoListenerIsUnavailableNotAResponse) {
    HttpClient http(Seconds{2});
    auto r = http.Request("GET", "http://127.0.0.1:1/", {}, "");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace joule::notify
