// The notification channels [ALM-3], each a NotificationSender (core/notification_ports.hpp):
// email through an SMTP server, SMS through an Aliyun-style signed HTTP API, WeChat
// official-account template messages, and webhooks with an HMAC-signed JSON body. Each sender
// holds one connection and is used by one dispatcher thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/notification_ports.hpp"
#include "notify/http_client.hpp"

namespace joule::notify {

// ------------------------------------------------------------------------------ email (SMTP)
struct SmtpSettings {
    std::string url;        // smtp://host:port (STARTTLS when offered, required with `require_tls`)
                            // or smtps://host:port
    std::string from;       // the sender's address
    std::string from_name;  // shown beside it ("物业中心")
    std::string user;       // "" for no login
    std::string password;
    bool require_tls = false;  // refuse to send in clear
};

// The RFC 5322 message: UTF-8 subject (RFC 2047 Base64) and a Base64 text/plain body.
// `message_id` names the delivery so a receiver can spot a repeat.
[[nodiscard]] std::string ComposeEmail(const SmtpSettings& smtp, const std::string& to,
                                       const std::string& subject, const std::string& body,
                                       const std::string& message_id, Instant date);

[[nodiscard]] std::unique_ptr<NotificationSender> MakeSmtpSender(SmtpSettings settings,
                                                                 Seconds timeout = Seconds{20});

// ---------------------------------------------------------------------- SMS (Aliyun style)
struct SmsSettings {
    std::string endpoint = "https://dysmsapi.aliyuncs.com/";
    std::string access_key_id;
    std::string access_key_secret;
    std::string sign_name;  // the approved signature (签名)
    std::string region = "cn-hangzhou";
    std::map<std::string, std::string> templates;  // event kind -> approved template code
};

// The signed form of one SendSms call (Aliyun RPC signature v1: HMAC-SHA1 over
// "POST&%2F&" + the percent-encoded sorted query, keyed with secret + "&").
[[nodiscard]] std::string AliyunSignedForm(const SmsSettings& sms, const std::string& phone,
                                           const std::string& template_code,
                                           const std::string& template_param,
                                           const std::string& nonce, Instant now);

[[nodiscard]] std::unique_ptr<NotificationSender> MakeAliyunSmsSender(SmsSettings settings,
                                                                      Seconds timeout = Seconds{
                                                                          10});

// ------------------------------------------------------ WeChat official-account templates
struct WechatTemplateSettings {
    std::string api_base = "https://api.weixin.qq.com";
    std::string app_id;
    std::string app_secret;
    std::map<std::string, std::string> templates;  // event kind -> template id
    std::string default_template;                  // for kinds without their own
};

[[nodiscard]] std::unique_ptr<NotificationSender> MakeWechatTemplateSender(
    WechatTemplateSettings settings, Seconds timeout = Seconds{10});

// -------------------------------------------------------------------------------- webhook
// POSTs {"id", "event", "kind", "subject", "title", "body", "values", "created_at"} with
// X-Joule-Delivery (the id, for the receiver to drop repeats), X-Joule-Timestamp (Unix seconds)
// and X-Joule-Signature: "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body).
[[nodiscard]] std::string WebhookBody(const DeliveryRecord& d);
[[nodiscard]] std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                                           std::string_view body);

[[nodiscard]] std::unique_ptr<NotificationSender> MakeWebhookSender(Seconds timeout = Seconds{5});

}  // namespace joule::notify
