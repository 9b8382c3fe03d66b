#include "pay/wechat_pay.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

#include "base/percent_encode.hpp"
#include "base/utf8.hpp"
#include "pay/crypto.hpp"
#include "wire/json.hpp"

namespace joule::pay {
namespace {

using wire::Json;
using wire::ObjectReader;

constexpr std::string_view kProbePrefix = "WECHATPAY/SIGNTEST/";

Result<int64_t> UnixSeconds(std::string_view text, std::string_view field) {
    int64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [at, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || text.size() > 12 || ec != std::errc{} || at != end || value < 0) {
        return MakeError(ErrorCode::kUnauthenticated, "must be Unix seconds", std::string(field));
    }
    return value;
}

Result<Json> ParseObject(std::string_view text, std::string_view field) {
    Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        return InvalidArgument(std::string(field), "is not a JSON object");
    }
    return j;
}

// The decrypted transaction (original_type "transaction"). Unknown keys are WeChat's to add.
Result<PaymentNotification> TransactionOf(const WechatPayConfig& config, const Json& t) {
    ObjectReader r(t, "resource");
    PaymentNotification n;
    n.provider = "wechat";
    JOULE_ASSIGN_OR_RETURN(std::string app_id, r.String("appid", 64));
    JOULE_ASSIGN_OR_RETURN(std::string mch_id, r.String("mchid", 64));
    if (app_id != config.app_id) {
        return InvalidArgument("resource.appid", "is not this platform's app id");
    }
    if (mch_id != config.mch_id) {
        return InvalidArgument("resource.mchid", "is not this platform's merchant id");
    }
    JOULE_ASSIGN_OR_RETURN(n.order_no, r.String("out_trade_no", 64));
    JOULE_ASSIGN_OR_RETURN(n.transaction_id, r.OptString("transaction_id", "", 64));
    JOULE_ASSIGN_OR_RETURN(n.state, r.String("trade_state", 32));
    const bool success = n.state == "SUCCESS";
    // A trade not paid (a query's NOTPAY, CLOSED) has no transaction yet, and may have no amount.
    if (n.order_no.empty() || (success && n.transaction_id.empty())) {
        return InvalidArgument("resource.transaction_id",
                               "out_trade_no and transaction_id are required");
    }
    if (success || r.Has("amount")) {
        JOULE_ASSIGN_OR_RETURN(const Json* amount, r.Object("amount"));
        ObjectReader a(*amount, "resource.amount");
        JOULE_ASSIGN_OR_RETURN(int64_t total, a.Integer("total", 1, int64_t{1} << 40));
        JOULE_ASSIGN_OR_RETURN(std::string currency, a.OptString("currency", "CNY", 8));
        if (currency != "CNY") {
            return InvalidArgument("resource.amount.currency", "must be CNY");
        }
        n.amount = Money{total};
    }
    if (r.Has("payer")) {
        JOULE_ASSIGN_OR_RETURN(const Json* payer, r.Object("payer"));
        ObjectReader p(*payer, "resource.payer");
        JOULE_ASSIGN_OR_RETURN(n.payer, p.OptString("openid", "", 128));
    }
    n.paid = success;
    if (n.paid) {
        JOULE_ASSIGN_OR_RETURN(n.paid_at, r.InstantField("success_time"));
    }
    return n;
}

}  // namespace

Status VerifyWechatSignature(const WechatPayConfig& config, const HeaderLookup& header,
                             std::string_view body, Instant now) {
    if (body.size() > kMaxNotificationBytes) {
        return InvalidArgument("body", "over 64 KiB");
    }
    const std::string timestamp = header("Wechatpay-Timestamp");
    const std::string nonce = header("Wechatpay-Nonce");
    const std::string signature = header("Wechatpay-Signature");
    const std::string serial = header("Wechatpay-Serial");
    const std::string type = header("Wechatpay-Signature-Type");
    for (const auto& [name, value] :
         {std::pair{"Wechatpay-Timestamp", &timestamp}, std::pair{"Wechatpay-Nonce", &nonce},
          std::pair{"Wechatpay-Signature", &signature}, std::pair{"Wechatpay-Serial", &serial}}) {
        if (value->empty()) {
            return MakeError(ErrorCode::kUnauthenticated, "missing", name);
        }
    }
    if (!type.empty() && type != "WECHATPAY2-SHA256-RSA2048") {
        return MakeError(ErrorCode::kUnauthenticated, "must be WECHATPAY2-SHA256-RSA2048",
                         "Wechatpay-Signature-Type");
    }
    if (signature.starts_with(kProbePrefix)) {
        // WeChat's probes check that merchants verify: they must be refused, never credited.
        return MakeError(ErrorCode::kUnauthenticated, "a signature-test probe",
                         "Wechatpay-Signature");
    }
    JOULE_ASSIGN_OR_RETURN(int64_t sent, UnixSeconds(timestamp, "Wechatpay-Timestamp"));
    const int64_t skew = now.time_since_epoch().count() - sent;
    if (skew > config.timestamp_window.count() || -skew > config.timestamp_window.count()) {
        return MakeError(ErrorCode::kUnauthenticated,
                         "outside the " + std::to_string(config.timestamp_window.count()) +
                             " s window (a replay, or a clock off)",
                         "Wechatpay-Timestamp");
    }
    const auto key = config.platform_keys.find(serial);
    if (key == config.platform_keys.end()) {
        return MakeError(ErrorCode::kUnauthenticated,
                         "names no platform certificate we hold (download the current ones)",
                         "Wechatpay-Serial");
    }
    auto raw_signature = Base64Decode(signature, "Wechatpay-Signature");
    if (!raw_signature) {
        return MakeError(ErrorCode::kUnauthenticated, raw_signature.error().message,
                         "Wechatpay-Signature");
    }
    std::string message;
    message.reserve(timestamp.size() + nonce.size() + body.size() + 3);
    message.append(timestamp).append("\n").append(nonce).append("\n").append(body).append("\n");
    if (auto ok = VerifyRsaSha256(key->second, message, *raw_signature); !ok) {
        if (ok.error().code == ErrorCode::kUnauthenticated) {
            return MakeError(ErrorCode::kUnauthenticated, "does not verify with the platform key",
                             "Wechatpay-Signature");
        }
        return std::unexpected(ok.error());
    }
    return {};
}

Result<PaymentNotification> VerifyWechatNotification(const WechatPayConfig& config,
                                                     const HeaderLookup& header,
                                                     std::string_view body, Instant now) {
    JOULE_TRY(VerifyWechatSignature(config, header, body, now));
    // Signed by WeChat: now the content.
    JOULE_ASSIGN_OR_RETURN(Json j, ParseObject(body, "body"));
    ObjectReader root(j, "");
    JOULE_ASSIGN_OR_RETURN(std::string event_id, root.String("id", 64));
    JOULE_ASSIGN_OR_RETURN(std::string event_type, root.String("event_type", 64));
    JOULE_ASSIGN_OR_RETURN(const Json* resource, root.Object("resource"));
    ObjectReader res(*resource, "resource");
    JOULE_ASSIGN_OR_RETURN(std::string algorithm, res.String("algorithm", 32));
    JOULE_ASSIGN_OR_RETURN(std::string ciphertext, res.String("ciphertext", kMaxNotificationBytes));
    JOULE_ASSIGN_OR_RETURN(std::string aad, res.OptString("associated_data", "", 256));
    JOULE_ASSIGN_OR_RETURN(std::string resource_nonce, res.String("nonce", 64));
    JOULE_ASSIGN_OR_RETURN(std::string original_type, res.OptString("original_type", "", 32));
    if (algorithm != "AEAD_AES_256_GCM") {
        return InvalidArgument("resource.algorithm", "must be AEAD_AES_256_GCM");
    }
    JOULE_ASSIGN_OR_RETURN(std::string sealed, Base64Decode(ciphertext, "resource.ciphertext"));
    auto plain = DecryptAes256Gcm(config.api_v3_key, resource_nonce, aad, sealed);
    if (!plain) {
        if (plain.error().code == ErrorCode::kUnauthenticated) {
            return MakeError(ErrorCode::kUnauthenticated, "does not decrypt with the APIv3 key",
                             "resource.ciphertext");
        }
        return std::unexpected(plain.error());
    }
    if (original_type != "transaction" || !event_type.starts_with("TRANSACTION.")) {
        // Refund and other events verify but credit nothing here.
        PaymentNotification n;
        n.provider = "wechat";
        n.state = event_type;
        n.event_id = event_id;
        return n;
    }
    JOULE_ASSIGN_OR_RETURN(Json transaction, ParseObject(*plain, "resource"));
    JOULE_ASSIGN_OR_RETURN(PaymentNotification n, TransactionOf(config, transaction));
    n.event_id = event_id;
    n.paid = n.paid && event_type == "TRANSACTION.SUCCESS";
    return n;
}

Result<PaymentNotification> ReadWechatTransaction(const WechatPayConfig& config,
                                                  const HeaderLookup& header, std::string_view body,
                                                  Instant now) {
    JOULE_TRY(VerifyWechatSignature(config, header, body, now));
    JOULE_ASSIGN_OR_RETURN(Json transaction, ParseObject(body, "body"));
    return TransactionOf(config, transaction);
}

std::string WechatQueryPath(std::string_view mch_id, std::string_view order_no) {
    return "/v3/pay/transactions/out-trade-no/" + std::string(order_no) +
           "?mchid=" + std::string(mch_id);
}

Result<std::string> WechatAuthorization(const WechatMerchantKey& key, std::string_view method,
                                        std::string_view path, int64_t timestamp,
                                        std::string_view nonce, std::string_view body) {
    const std::string ts = std::to_string(timestamp);
    std::string message;
    message.append(method).append("\n").append(path).append("\n").append(ts).append("\n");
    message.append(nonce).append("\n").append(body).append("\n");
    JOULE_ASSIGN_OR_RETURN(std::string signature, SignRsaSha256(key.private_key_pem, message));
    return "WECHATPAY2-SHA256-RSA2048 mchid=\"" + key.mch_id + "\",nonce_str=\"" +
           std::string(nonce) + "\",signature=\"" + Base64Encode(signature) + "\",timestamp=\"" +
           ts + "\",serial_no=\"" + key.serial_no + "\"";
}

Result<std::string> WechatJsapiPaySign(const WechatMerchantKey& key, std::string_view app_id,
                                       int64_t timestamp, std::string_view nonce,
                                       std::string_view package) {
    std::string message;
    message.append(app_id).append("\n").append(std::to_string(timestamp)).append("\n");
    message.append(nonce).append("\n").append(package).append("\n");
    JOULE_ASSIGN_OR_RETURN(std::string signature, SignRsaSha256(key.private_key_pem, message));
    return Base64Encode(signature);
}

std::string WechatTime(Instant at) {
    // Beijing keeps UTC+8 all year: no zone database needed.
    std::string text = FormatInstant(at + Seconds{8 * 3600});  // "2026-11-22T18:00:00Z"
    text.pop_back();
    return text + "+08:00";
}

Result<WechatCall> WechatPrepayCall(const WechatPayConfig& config, const WechatPrepayRequest& r) {
    if (r.channel != "jsapi" && r.channel != "native" && r.channel != "h5") {
        return InvalidArgument("channel", "WeChat Pay orders are made for jsapi, native or h5");
    }
    if (r.channel == "jsapi" && r.openid.empty()) {
        return InvalidArgument("openid", "a JSAPI payment needs the payer's openid");
    }
    if (r.channel == "h5" && r.client_ip.empty()) {
        return InvalidArgument("client_ip", "an H5 payment needs the payer's address");
    }
    // At most 127 bytes, cut before a UTF-8 continuation byte never inside a character.
    Json body{{"appid", config.app_id},
              {"mchid", config.mch_id},
              {"description", std::string(Utf8Prefix(r.description, 127))},
              {"out_trade_no", r.order_no},
              {"time_expire", WechatTime(r.expires)},
              {"notify_url", r.notify_url},
              {"amount", Json{{"total", r.amount.fen}, {"currency", "CNY"}}}};
    if (r.channel == "jsapi") {
        body["payer"] = Json{{"openid", r.openid}};
    }
    if (r.channel == "h5") {
        body["scene_info"] =
            Json{{"payer_client_ip", r.client_ip}, {"h5_info", Json{{"type", "Wap"}}}};
    }
    return WechatCall{"/v3/pay/transactions/" + r.channel, body.dump()};
}

Result<std::string> ReadWechatPrepay(const WechatPayConfig& config, const HeaderLookup& header,
                                     std::string_view body, std::string_view channel, Instant now) {
    JOULE_TRY(VerifyWechatSignature(config, header, body, now));
    JOULE_ASSIGN_OR_RETURN(Json j, ParseObject(body, "body"));
    ObjectReader r(j, "");
    const std::string_view key = channel == "jsapi"    ? "prepay_id"
                                 : channel == "native" ? "code_url"
                                                       : "h5_url";
    return r.String(key, 2048);
}

Result<WechatJsapiParams> WechatJsapiParameters(const WechatMerchantKey& key,
                                                std::string_view app_id, std::string_view prepay_id,
                                                int64_t timestamp, std::string_view nonce) {
    WechatJsapiParams p;
    p.app_id = app_id;
    p.time_stamp = std::to_string(timestamp);
    p.nonce_str = nonce;
    p.package = "prepay_id=" + std::string(prepay_id);
    JOULE_ASSIGN_OR_RETURN(p.pay_sign,
                           WechatJsapiPaySign(key, app_id, timestamp, nonce, p.package));
    return p;
}

WechatCall WechatRefundCall(const WechatRefundRequest& r) {
    const Json body{
        {"out_trade_no", r.order_no},
        {"out_refund_no", r.refund_no},
        {"reason", std::string(Utf8Prefix(r.reason, 80))},
        {"amount", Json{{"refund", r.amount.fen}, {"total", r.total.fen}, {"currency", "CNY"}}}};
    return WechatCall{"/v3/refund/domestic/refunds", body.dump()};
}

std::string WechatRefundQueryPath(std::string_view refund_no) {
    return "/v3/refund/domestic/refunds/" + PercentEncode(refund_no);
}

Result<std::string> ReadWechatRefundRefusal(const WechatPayConfig& config,
                                            const HeaderLookup& header, std::string_view body,
                                            Instant now) {
    const auto unknown = [&](const std::string& why) {
        return MakeError(ErrorCode::kUnavailable, "WeChat Pay's refusal is not one to trust (" +
                                                      why + "): " + WechatErrorText(body));
    };
    if (auto signed_ = VerifyWechatSignature(config, header, body, now); !signed_) {
        return unknown(signed_.error().message);
    }
    const Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    const std::string code = j.is_object() && j.contains("code") && j["code"].is_string()
                                 ? j["code"].get<std::string>()
                                 : std::string();
    static constexpr std::string_view kNoRefundMade[] = {
        "PARAM_ERROR",           "INVALID_REQUEST",     "NOT_ENOUGH",     "NO_AUTH",
        "USER_ACCOUNT_ABNORMAL", "RESOURCE_NOT_EXISTS", "MCH_NOT_EXISTS", "APPID_MCHID_NOT_MATCH"};
    for (const std::string_view refused : kNoRefundMade) {
        if (code == refused) {
            return code;
        }
    }
    return unknown("code " + code.substr(0, 64));
}

Result<RefundAnswer> ReadWechatRefund(const WechatPayConfig& config, const HeaderLookup& header,
                                      std::string_view body, std::string_view refund_no,
                                      Instant now) {
    JOULE_TRY(VerifyWechatSignature(config, header, body, now));
    // Signed, but not what a refund answers: unknown, never a refusal, so it is asked again.
    const auto unreadable = [](const Error& e) {
        return MakeError(ErrorCode::kUnavailable,
                         "WeChat Pay's refund answer could not be read: " + e.message, e.field);
    };
    auto parsed = ParseObject(body, "body");
    if (!parsed) {
        return unreadable(parsed.error());
    }
    ObjectReader r(*parsed, "");
    RefundAnswer answer;
    auto id = r.String("refund_id", 64);
    auto status_text = r.String("status", 32);
    if (!id || !status_text) {
        return unreadable(!id ? id.error() : status_text.error());
    }
    answer.provider_refund_id = std::move(*id);
    const std::string status = std::move(*status_text);
    if (auto about = r.OptString("out_refund_no", "", 64); !about || *about != refund_no) {
        return unreadable(Error{ErrorCode::kInvalidArgument, "the answer is about another refund",
                                "out_refund_no"});
    }
    if (status == "SUCCESS") {
        answer.state = RefundState::kSucceeded;
    } else if (status == "PROCESSING") {
        answer.state = RefundState::kProcessing;
    } else if (status == "CLOSED") {
        answer.state = RefundState::kFailed;
    } else if (status == "ABNORMAL") {
        answer.state = RefundState::kAbnormal;
    } else {
        return unreadable(Error{ErrorCode::kInvalidArgument,
                                "not a refund state of WeChat Pay: " + status.substr(0, 32),
                                "status"});
    }
    answer.detail = status;
    return answer;
}

std::string WechatTradeBillPath(CivilDate day) {
    return "/v3/bill/tradebill?bill_date=" + FormatDate(day) + "&bill_type=ALL";
}

Result<std::optional<WechatBillFile>> ReadWechatTradeBill(const WechatPayConfig& config,
                                                          const HeaderLookup& header, int status,
                                                          std::string_view body, Instant now) {
    const auto later = [&](const std::string& why) {
        return MakeError(ErrorCode::kUnavailable, "WeChat Pay's trade bill is not ready (" + why +
                                                      "): " + WechatErrorText(body));
    };
    if (status >= 500 || status == 429) {
        return later("HTTP " + std::to_string(status));
    }
    // Signed like every answer: an unsigned "no bill" could hide a day's payments.
    if (auto signed_ = VerifyWechatSignature(config, header, body, now); !signed_) {
        if (status == 200) {
            return std::unexpected(signed_.error());
        }
        return later(signed_.error().message);
    }
    JOULE_ASSIGN_OR_RETURN(Json j, ParseObject(body, "body"));
    ObjectReader r(j, "");
    if (status != 200) {
        const std::string code =
            j.contains("code") && j["code"].is_string() ? j["code"].get<std::string>() : "";
        if (code == "NO_STATEMENT_EXIST") {
            return std::optional<WechatBillFile>();
        }
        if (code == "STATEMENT_CREATING" || code == "SYSTEM_ERROR" || code == "FREQUENCY_LIMITED") {
            return later(code);
        }
        return InvalidArgument("provider", "WeChat Pay refused the trade bill (" +
                                               std::to_string(status) + " " +
                                               WechatErrorText(body) + ")");
    }
    WechatBillFile file;
    JOULE_ASSIGN_OR_RETURN(const std::string hash_type, r.String("hash_type", 16));
    if (hash_type != "SHA1") {
        return InvalidArgument("hash_type", "must be SHA1, not " + hash_type);
    }
    JOULE_ASSIGN_OR_RETURN(file.sha1_hex, r.String("hash_value", 64));
    for (char& c : file.sha1_hex) {
        c = static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    }
    if (file.sha1_hex.size() != 40 ||
        file.sha1_hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
        return InvalidArgument("hash_value", "must be 40 hexadecimal digits");
    }
    JOULE_ASSIGN_OR_RETURN(file.download_url, r.String("download_url", 2048));
    return std::optional<WechatBillFile>(std::move(file));
}

namespace {

// "https://host:port" of an absolute http(s) URL, and the rest ("/path?query"); nullopt when it
// is not one.
std::optional<std::pair<std::string_view, std::string_view>> OriginAndPath(std::string_view url) {
    const std::size_t scheme = url.find("://");
    if (scheme == std::string_view::npos ||
        (url.substr(0, scheme) != "https" && url.substr(0, scheme) != "http")) {
        return std::nullopt;
    }
    const std::size_t slash = url.find('/', scheme + 3);
    if (slash == scheme + 3) {
        return std::nullopt;
    }
    if (slash == std::string_view::npos) {
        return std::pair{url, std::string_view("/")};
    }
    return std::pair{url.substr(0, slash), url.substr(slash)};
}

}  // namespace

Result<std::string> WechatBillDownloadPath(std::string_view api_base,
                                           std::string_view download_url) {
    const auto url = OriginAndPath(download_url);
    const auto base = OriginAndPath(api_base);
    if (!url) {
        return InvalidArgument("download_url", "is not an http(s) address");
    }
    if ((!base || url->first != base->first) && url->first != "https://api.mch.weixin.qq.com" &&
        url->first != "https://api2.mch.weixin.qq.com") {
        return InvalidArgument("download_url",
                               "is not at WeChat Pay (" + std::string(url->first) + ")");
    }
    return std::string(url->second);
}

Status CheckWechatBillFile(std::string_view file, std::string_view sha1_hex) {
    const std::string got = HexOf(Sha1(file));
    if (got.empty() || !ConstantTimeEqual(got, sha1_hex)) {
        return MakeError(ErrorCode::kUnauthenticated,
                         "the downloaded trade bill is not the file WeChat Pay named (SHA1 " + got +
                             ", expected " + std::string(sha1_hex) + ")",
                         "file");
    }
    return {};
}

std::string WechatErrorText(std::string_view body) {
    Json j = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("code") && j["code"].is_string()) {
        std::string text(Utf8Prefix(j["code"].get<std::string>(), 64));
        if (j.contains("message") && j["message"].is_string()) {
            text += ": " + std::string(Utf8Prefix(j["message"].get<std::string>(), 200));
        }
        return text;
    }
    return std::string(Utf8Prefix(body, 200));
}

std::string WechatOAuthUrl(std::string_view oauth_base, std::string_view app_id,
                           std::string_view redirect_uri, std::string_view state) {
    return std::string(oauth_base) + "/connect/oauth2/authorize?appid=" + PercentEncode(app_id) +
           "&redirect_uri=" + PercentEncode(redirect_uri) +
           "&response_type=code&scope=snsapi_base&state=" + PercentEncode(state) +
           "#wechat_redirect";
}

std::string WechatOAuthTokenPath(std::string_view app_id, std::string_view secret,
                                 std::string_view code) {
    return "/sns/oauth2/access_token?appid=" + PercentEncode(app_id) +
           "&secret=" + PercentEncode(secret) + "&code=" + PercentEncode(code) +
           "&grant_type=authorization_code";
}

Result<std::string> ReadWechatOAuthOpenid(std::string_view body) {
    JOULE_ASSIGN_OR_RETURN(Json j, ParseObject(body, "body"));
    if (j.contains("errcode") && !(j["errcode"].is_number_integer() && j["errcode"] == 0)) {
        const std::string message = j.contains("errmsg") && j["errmsg"].is_string()
                                        ? j["errmsg"].get<std::string>().substr(0, 200)
                                        : std::string("no message");
        return MakeError(ErrorCode::kUnauthenticated,
                         "WeChat refused the code (" + j["errcode"].dump() + ": " + message + ")",
                         "code");
    }
    ObjectReader r(j, "");
    return r.String("openid", 128);
}

}  // namespace joule::pay
