// The channels that speak HTTP: Aliyun-style SMS, WeChat template messages and webhooks.
#include <date/date.h>

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "base/percent_encode.hpp"
#include "notify/channels.hpp"
#include "pay/crypto.hpp"

namespace joule::notify {

namespace {

using Json = nlohmann::json;

Instant Now() { return date::floor<std::chrono::seconds>(std::chrono::system_clock::now()); }

std::string Nonce() {
    static thread_local std::mt19937_64 random{std::random_device{}()};
    return pay::HexOf(std::to_string(random()) + std::to_string(random())).substr(0, 32);
}

// The template's values as an object ({} when they do not parse: they are ours, so they do).
Json VarsOf(const DeliveryRecord& d) {
    Json vars = Json::parse(d.vars, nullptr, false);
    return vars.is_object() ? vars : Json::object();
}

// ------------------------------------------------------------------------------------ SMS
class AliyunSmsSender final : public NotificationSender {
public:
    AliyunSmsSender(SmsSettings settings, Seconds timeout)
        : settings_(std::move(settings)), http_(timeout) {}

    Status Send(const DeliveryRecord& d) override {
        const auto code = settings_.templates.find(d.kind);
        if (code == settings_.templates.end()) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             "no SMS template is configured for " + d.kind);
        }
        const std::string form =
            AliyunSignedForm(settings_, d.address, code->second, VarsOf(d).dump(), Nonce(), Now());
        JOULE_ASSIGN_OR_RETURN(
            HttpResponse response,
            http_.Request("POST", settings_.endpoint,
                          {"Content-Type: application/x-www-form-urlencoded"}, form));
        JOULE_TRY(StatusOfHttp(response, "the SMS provider"));
        const Json reply = Json::parse(response.body, nullptr, false);
        const std::string result =
            reply.is_object() && reply.contains("Code") && reply["Code"].is_string()
                ? reply["Code"].get<std::string>()
                : "";
        if (result == "OK") {
            return {};
        }
        const std::string message =
            "the SMS provider said " + (result.empty() ? response.body.substr(0, 200) : result);
        // Its own words for "this number or template will never do".
        if (result.starts_with("isv.MOBILE") || result == "isv.TEMPLATE_MISSING_PARAMETERS" ||
            result == "isv.SMS_TEMPLATE_ILLEGAL" || result == "isv.SMS_SIGNATURE_ILLEGAL" ||
            result == "isv.BLACK_KEY_CONTROL_LIMIT" || result == "isv.PARAM_LENGTH_LIMIT" ||
            result == "isv.INVALID_PARAMETERS" || result == "isv.PARAM_NOT_SUPPORT_URL" ||
            result == "isv.INVALID_JSON_PARAM") {
            return MakeError(ErrorCode::kInvalidArgument, message);
        }
        if (result.starts_with("isv.")) {
            // A limit, or a word we do not know about this message: try it later, and let the
            // rest of the round go on.
            return MakeError(ErrorCode::kResourceExhausted, message);
        }
        return MakeError(ErrorCode::kUnavailable, message);
    }

private:
    SmsSettings settings_;
    HttpClient http_;
};

// ---------------------------------------------------------------------------------- WeChat
class WechatTemplateSender final : public NotificationSender {
public:
    WechatTemplateSender(WechatTemplateSettings settings, Seconds timeout)
        : settings_(std::move(settings)), http_(timeout) {}

    Status Send(const DeliveryRecord& d) override {
        const auto found = settings_.templates.find(d.kind);
        const std::string& template_id =
            found != settings_.templates.end() ? found->second : settings_.default_template;
        if (template_id.empty()) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             "no WeChat template is configured for " + d.kind);
        }  // A token WeChat calls stale (it was renewed elsewhere) is fetched again once, at once.
        Status result = SendOnce(d, template_id);
        if (!result && result.error().code == ErrorCode::kAborted) {
            result = SendOnce(d, template_id);
            if (!result && result.error().code == ErrorCode::kAborted) {
                return MakeError(ErrorCode::kUnavailable, result.error().message);
            }
        }
        return result;
    }

private:
    // kAborted: the token was stale and is dropped.
    Status SendOnce(const DeliveryRecord& d, const std::string& template_id) {
        JOULE_ASSIGN_OR_RETURN(std::string token, Token());
        const Json vars = VarsOf(d);
        // The classic industry template: first, keyword1..3, remark.
        Json message = {{"touser", d.address},
                        {"template_id", template_id},
                        {"data",
                         {{"first", {{"value", d.title}}},
                          {"keyword1", {{"value", d.subject}}},
                          {"keyword2", {{"value", vars.value("at", "")}}},
                          {"keyword3", {{"value", vars.value("balance", "")}}},
                          {"remark", {{"value", d.body}}}}}};
        JOULE_ASSIGN_OR_RETURN(
            HttpResponse response,
            http_.Request("POST",
                          settings_.api_base +
                              "/cgi-bin/message/template/send?access_token=" + PercentEncode(token),
                          {"Content-Type: application/json"}, message.dump()));
        JOULE_TRY(StatusOfHttp(response, "WeChat"));
        const Json reply = Json::parse(response.body, nullptr, false);
        const int64_t code = reply.is_object() ? reply.value("errcode", int64_t{-1}) : -1;
        if (code == 0) {
            return {};
        }
        const std::string message_text = "WeChat said " + std::to_string(code) + " " +
                                         (reply.is_object() ? reply.value("errmsg", std::string())
                                                            : response.body.substr(0, 200));
        if (code == 40001 || code == 42001 || code == 40014) {
            token_.clear();  // the token went stale early: fetch another
            return MakeError(ErrorCode::kAborted, message_text);
        }
        if (code == 43004 || code == 40003 || code == 40037) {
            // Unsubscribed, an unknown openid, an unknown template: never going to work.
            return MakeError(ErrorCode::kInvalidArgument, message_text);
        }
        if (code == 45009 || code == 45047) {
            return MakeError(ErrorCode::kResourceExhausted, message_text);
        }
        return MakeError(ErrorCode::kUnavailable, message_text);
    }

    // The access token, fetched again 5 minutes before it expires.
    Result<std::string> Token() {
        const Instant now = Now();
        if (!token_.empty() && now < token_expires_) {
            return token_;
        }
        JOULE_ASSIGN_OR_RETURN(
            HttpResponse response,
            http_.Request("GET",
                          settings_.api_base +
                              "/cgi-bin/token?grant_type=client_credential&appid=" +
                              PercentEncode(settings_.app_id) +
                              "&secret=" + PercentEncode(settings_.app_secret),
                          {}, ""));
        JOULE_TRY(StatusOfHttp(response, "WeChat (access token)"));
        const Json reply = Json::parse(response.body, nullptr, false);
        if (!reply.is_object() || !reply.contains("access_token") ||
            !reply["access_token"].is_string()) {
            return MakeError(ErrorCode::kUnavailable,
                             "WeChat gave no access token: " + response.body.substr(0, 200));
        }
        token_ = reply["access_token"].get<std::string>();
        const int64_t lifetime = reply.value("expires_in", int64_t{7200});
        token_expires_ = now + Seconds{std::max<int64_t>(lifetime - 300, 60)};
        return token_;
    }

    WechatTemplateSettings settings_;
    HttpClient http_;
    std::string token_;
    Instant token_expires_;
};

// --------------------------------------------------------------------------------- webhook
class WebhookSender final : public NotificationSender {
public:
    explicit WebhookSender(Seconds timeout) : http_(timeout) {}

    Status Send(const DeliveryRecord& d) override {
        if (d.secret.empty()) {
            return MakeError(ErrorCode::kFailedPrecondition, "the webhook has no secret");
        }
        const std::string body = WebhookBody(d);
        const std::string timestamp = std::to_string(Now().time_since_epoch().count());
        JOULE_ASSIGN_OR_RETURN(
            HttpResponse response,
            http_.Request("POST", d.address,
                          {"Content-Type: application/json", "User-Agent: Joule-Webhook/1",
                           "X-Joule-Delivery: " + std::to_string(d.id), "X-Joule-Event: " + d.kind,
                           "X-Joule-Timestamp: " + timestamp,
                           "X-Joule-Signature: " + WebhookSignature(d.secret, timestamp, body)},
                          body));
        return StatusOfHttp(response, "the webhook");
    }

private:
    HttpClient http_;
};

}  // namespace

std::string AliyunSignedForm(const SmsSettings& sms, const std::string& phone,
                             const std::string& template_code, const std::string& template_param,
                             const std::string& nonce, Instant now) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"AccessKeyId", sms.access_key_id},
        {"Action", "SendSms"},
        {"Format", "JSON"},
        {"PhoneNumbers", phone},
        {"RegionId", sms.region},
        {"SignName", sms.sign_name},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", nonce},
        {"SignatureVersion", "1.0"},
        {"TemplateCode", template_code},
        {"TemplateParam", template_param},
        {"Timestamp", date::format("%Y-%m-%dT%H:%M:%SZ", now)},
        {"Version", "2017-05-25"},
    };
    std::sort(params.begin(), params.end());
    std::string query;
    for (const auto& [key, value] : params) {
        query += (query.empty() ? "" : "&") + PercentEncode(key) + "=" + PercentEncode(value);
    }
    const std::string to_sign = "POST&" + PercentEncode("/") + "&" + PercentEncode(query);
    const std::string signature =
        pay::Base64Encode(pay::HmacSha1(sms.access_key_secret + "&", to_sign));
    return "Signature=" + PercentEncode(signature) + "&" + query;
}

std::string WebhookBody(const DeliveryRecord& d) {
    const Json body = {{"id", d.id},          {"event", d.event},
                       {"kind", d.kind},      {"subject", d.subject},
                       {"title", d.title},    {"body", d.body},
                       {"values", VarsOf(d)}, {"created_at", FormatInstant(d.created_at)}};
    return body.dump();
}

std::string WebhookSignature(std::string_view secret, std::string_view timestamp,
                             std::string_view body) {
    std::string message;
    message.reserve(timestamp.size() + 1 + body.size());
    message.append(timestamp).append(".").append(body);
    return "sha256=" + pay::HexOf(pay::HmacSha256(secret, message));
}

std::unique_ptr<NotificationSender> MakeAliyunSmsSender(SmsSettings settings, Seconds timeout) {
    return std::make_unique<AliyunSmsSender>(std::move(settings), timeout);
}

std::unique_ptr<NotificationSender> MakeWechatTemplateSender(WechatTemplateSettings settings,
                                                             Seconds timeout) {
    return std::make_unique<WechatTemplateSender>(std::move(settings), timeout);
}

std::unique_ptr<NotificationSender> MakeWebhookSender(Seconds timeout) {
    return std::make_unique<WebhookSender>(timeout);
}

}  // namespace joule::notify
