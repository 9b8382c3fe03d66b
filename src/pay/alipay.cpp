#include "pay/alipay.hpp"

#include <nlohmann/json.hpp>

#include "base/decimal.hpp"
#include "base/percent_encode.hpp"
#include "base/utf8.hpp"
#include "codec/bytes.hpp"
#include "pay/crypto.hpp"
#include "pay/wechat_pay.hpp"
#include "wire/json.hpp"

namespace joule::pay {
namespace {

Result<std::string> Unescape(std::string_view text, std::string_view what) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '+') {
            out += ' ';
        } else if (c == '%') {
            const int high = i + 2 < text.size() ? codec::HexDigit(text[i + 1]) : -1;
            const int low = i + 2 < text.size() ? codec::HexDigit(text[i + 2]) : -1;
            if (high < 0 || low < 0) {
                return InvalidArgument(std::string(what), "a % not followed by two hex digits");
            }
            out += static_cast<char>(high * 16 + low);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

const std::string& Param(const std::map<std::string, std::string, std::less<>>& params,
                         std::string_view name) {
    static const std::string kEmpty;
    auto it = params.find(name);
    return it == params.end() ? kEmpty : it->second;
}

Result<std::string> Required(const std::map<std::string, std::string, std::less<>>& params,
                             std::string_view name, std::size_t max_bytes) {
    const std::string& value = Param(params, name);
    if (value.empty()) {
        return InvalidArgument(std::string(name), "is required");
    }
    if (value.size() > max_bytes) {
        return InvalidArgument(std::string(name),
                               "is longer than " + std::to_string(max_bytes) + " bytes");
    }
    return value;
}

using Params = std::map<std::string, std::string, std::less<>>;

// "2026-11-22 18:00:00", Beijing time (UTC+8 all year), as Alipay writes its times.
std::string AlipayTime(Instant at) {
    std::string text = FormatInstant(at + Seconds{8 * 3600});  // "2026-11-22T18:00:00Z"
    text.pop_back();
    text[10] = ' ';
    return text;
}

Result<Instant> FromAlipayTime(std::string_view at, std::string_view field) {
    if (at.size() != 19 || at[10] != ' ') {
        return InvalidArgument(std::string(field), "must be yyyy-MM-dd HH:mm:ss");
    }
    std::string iso(at);
    iso[10] = 'T';
    return ParseInstant(iso + "+08:00", field);
}

Result<std::string> SignedRequest(const AlipayMerchant& merchant, std::string_view method,
                                  const wire::Json& biz_content, std::string_view notify_url,
                                  std::string_view return_url, Instant now) {
    Params params{{"app_id", merchant.app_id}, {"method", std::string(method)},
                  {"format", "JSON"},          {"charset", "utf-8"},
                  {"sign_type", "RSA2"},       {"timestamp", AlipayTime(now)},
                  {"version", "1.0"},          {"biz_content", biz_content.dump()}};
    if (!notify_url.empty()) {
        params.emplace("notify_url", notify_url);
    }
    if (!return_url.empty()) {
        params.emplace("return_url", return_url);
    }
    // A request signs every non-empty parameter but `sign` itself: sign_type included (unlike a
    // notification, whose check leaves sign_type out).
    std::string content;
    for (const auto& [name, value] : params) {
        if (!value.empty()) {
            content.append(content.empty() ? "" : "&").append(name).append("=").append(value);
        }
    }
    JOULE_ASSIGN_OR_RETURN(std::string signature, SignRsaSha256(merchant.private_key_pem, content));
    params.emplace("sign", Base64Encode(signature));
    std::string out;
    for (const auto& [name, value] : params) {
        out.append(out.empty() ? "" : "&").append(name).append("=").append(PercentEncode(value));
    }
    return out;
}

// The response object of `method`'s answer, its signature verified over its exact text.
Result<wire::Json> VerifiedResponse(const AlipayConfig& config, std::string_view method,
                                    std::string_view body) {
    if (body.size() > kMaxNotificationBytes) {
        return InvalidArgument("body", "over 64 KiB");
    }
    std::string key(method);
    for (char& c : key) {
        c = c == '.' ? '_' : c;
    }
    key += "_response";
    JOULE_ASSIGN_OR_RETURN(std::string_view raw, RawJsonMember(body, key));
    auto sign_text = RawJsonMember(body, "sign");
    const wire::Json sign = sign_text
                                ? wire::Json::parse(sign_text->begin(), sign_text->end(), nullptr,
                                                    /*allow_exceptions=*/false)
                                : wire::Json();
    if (!sign.is_string()) {
        return MakeError(ErrorCode::kUnauthenticated, "the answer is not signed", "sign");
    }
    auto signature = Base64Decode(sign.get<std::string>(), "sign");
    if (!signature) {
        return MakeError(ErrorCode::kUnauthenticated, signature.error().message, "sign");
    }
    if (auto ok = VerifyRsaSha256(config.alipay_public_key_pem, raw, *signature); !ok) {
        if (ok.error().code == ErrorCode::kUnauthenticated) {
            return MakeError(ErrorCode::kUnauthenticated, "does not verify with Alipay's key",
                             "sign");
        }
        return std::unexpected(ok.error());
    }
    wire::Json j = wire::Json::parse(raw.begin(), raw.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
        return InvalidArgument(key, "is not a JSON object");
    }
    return j;
}

std::string StringOf(const wire::Json& j, std::string_view key, std::size_t max_bytes = 256) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string()
               ? std::string(Utf8Prefix(it->get<std::string>(), max_bytes))
               : std::string();
}

// Alipay's "10000" is success; anything else a refusal with its sub_code.
Status Succeeded(const wire::Json& response) {
    if (StringOf(response, "code") == "10000") {
        return {};
    }
    const std::string sub_code = StringOf(response, "sub_code");
    const std::string what = StringOf(response, "code") + " " + sub_code + ": " +
                             StringOf(response, "sub_msg", 200) + " " +
                             StringOf(response, "msg", 200);
    if (sub_code == "ACQ.TRADE_NOT_EXIST") {
        return NotFound("Alipay has no such trade (" + what + ")", "out_trade_no");
    }
    if (sub_code == "ACQ.SYSTEM_ERROR" || sub_code == "aop.ACQ.SYSTEM_ERROR" ||
        StringOf(response, "code") == "20000") {
        return MakeError(ErrorCode::kUnavailable, "Alipay is unavailable (" + what + ")");
    }
    return InvalidArgument("alipay", "Alipay refused: " + what);
}

}  // namespace

Result<std::string_view> RawJsonMember(std::string_view json, std::string_view key) {
    const auto missing = [&] { return InvalidArgument(std::string(key), "is not in the answer"); };
    std::size_t i = 0;
    const auto skip_space = [&] {
        while (i < json.size() &&
               (json[i] == ' ' || json[i] == '\n' || json[i] == '\r' || json[i] == '\t')) {
            ++i;
        }
    };
    // From an opening quote to past its closing one; false when the text ends first.
    const auto skip_string = [&] {
        for (++i; i < json.size(); ++i) {
            if (json[i] == '\\') {
                ++i;
            } else if (json[i] == '"') {
                ++i;
                return true;
            }
        }
        return false;
    };
    skip_space();
    if (i >= json.size() || json[i] != '{') {
        return missing();
    }
    ++i;
    while (true) {
        skip_space();
        if (i >= json.size() || json[i] != '"') {
            return missing();
        }
        const std::size_t name_start = i + 1;
        if (!skip_string()) {
            return missing();
        }
        const std::string_view name = json.substr(name_start, i - 1 - name_start);
        skip_space();
        if (i >= json.size() || json[i] != ':') {
            return missing();
        }
        ++i;
        skip_space();
        const std::size_t value_start = i;
        int depth = 0;
        while (i < json.size()) {
            const char c = json[i];
            if (c == '"') {
                if (!skip_string()) {
                    return missing();
                }
                continue;
            }
            if (c == '{' || c == '[') {
                ++depth;
            } else if (c == '}' || c == ']') {
                if (depth == 0) {
                    break;
                }
                --depth;
            } else if (c == ',' && depth == 0) {
                break;
            }
            ++i;
        }
        if (i >= json.size() || depth != 0) {
            return missing();
        }
        std::size_t value_end = i;
        while (value_end > value_start &&
               (json[value_end - 1] == ' ' || json[value_end - 1] == '\n' ||
                json[value_end - 1] == '\r' || json[value_end - 1] == '\t')) {
            --value_end;
        }
        if (name == key) {
            if (value_end == value_start) {
                return missing();
            }
            return json.substr(value_start, value_end - value_start);
        }
        if (json[i] == '}') {
            return missing();
        }
        ++i;  // the comma
    }
}

Result<std::string> AlipayOrderRequestText(const AlipayMerchant& merchant,
                                           const AlipayOrderRequest& r) {
    wire::Json biz{{"out_trade_no", r.order_no},
                   {"total_amount", wire::MoneyText(r.amount)},
                   {"subject", std::string(Utf8Prefix(r.subject, 120))},
                   {"time_expire", AlipayTime(r.expires)}};
    std::string method;
    if (r.channel == "wap") {
        method = "alipay.trade.wap.pay";
        biz["product_code"] = "QUICK_WAP_WAY";
        if (!r.return_url.empty()) {
            biz["quit_url"] = r.return_url;
        }
    } else if (r.channel == "page") {
        method = "alipay.trade.page.pay";
        biz["product_code"] = "FAST_INSTANT_TRADE_PAY";
    } else if (r.channel == "qr") {
        method = "alipay.trade.precreate";
    } else {
        return InvalidArgument("channel", "Alipay orders are made for wap, page or qr");
    }
    return SignedRequest(merchant, method, biz, r.notify_url,
                         r.channel == "qr" ? std::string_view{} : r.return_url, r.now);
}

Result<std::string> AlipayQueryRequestText(const AlipayMerchant& merchant,
                                           std::string_view order_no, Instant now) {
    return SignedRequest(merchant, "alipay.trade.query", wire::Json{{"out_trade_no", order_no}}, "",
                         "", now);
}

Result<std::string> AlipayRefundRequestText(const AlipayMerchant& merchant,
                                            std::string_view order_no, std::string_view refund_no,
                                            Money amount, std::string_view reason, Instant now) {
    return SignedRequest(merchant, "alipay.trade.refund",
                         wire::Json{{"out_trade_no", order_no},
                                    {"out_request_no", refund_no},
                                    {"refund_amount", wire::MoneyText(amount)},
                                    {"refund_reason", std::string(Utf8Prefix(reason, 200))}},
                         "", "", now);
}

namespace {

// An answer about a refund, verified; unreadable is unknown (asked again), never a refusal.
Result<wire::Json> RefundResponse(const AlipayConfig& config, std::string_view method,
                                  std::string_view body, std::string_view order_no) {
    auto verified = VerifiedResponse(config, method, body);
    if (!verified) {
        const Error& e = verified.error();
        return MakeError(e.code == ErrorCode::kInvalidArgument ? ErrorCode::kUnavailable : e.code,
                         "Alipay's answer could not be read: " + e.message, e.field);
    }
    if (Status ok = Succeeded(*verified); !ok) {
        if (ok.error().code == ErrorCode::kNotFound) {  // no such trade: refused, not unknown
            return InvalidArgument("alipay", ok.error().message);
        }
        return std::unexpected(ok.error());
    }
    if (const std::string about = StringOf(*verified, "out_trade_no", 64);
        !about.empty() && about != order_no) {
        return MakeError(ErrorCode::kUnavailable, "Alipay answered about order " + about);
    }
    return verified;
}

}  // namespace

Result<RefundAnswer> ReadAlipayRefund(const AlipayConfig& config, std::string_view body,
                                      std::string_view order_no) {
    JOULE_ASSIGN_OR_RETURN(wire::Json response,
                           RefundResponse(config, "alipay.trade.refund", body, order_no));
    // Only fund_change Y says the money moved now; N (a repeat, or not done) is confirmed by
    // the refund query.
    RefundAnswer answer;
    const std::string changed = StringOf(response, "fund_change", 8);
    answer.state = changed == "Y" ? RefundState::kSucceeded : RefundState::kProcessing;
    answer.detail =
        "fund_change " + changed + ", refund_fee " + StringOf(response, "refund_fee", 16);
    return answer;
}

Result<std::string> AlipayRefundQueryRequestText(const AlipayMerchant& merchant,
                                                 std::string_view order_no,
                                                 std::string_view refund_no, Instant now) {
    return SignedRequest(merchant, "alipay.trade.fastpay.refund.query",
                         wire::Json{{"out_trade_no", order_no}, {"out_request_no", refund_no}}, "",
                         "", now);
}

Result<RefundAnswer> ReadAlipayRefundQuery(const AlipayConfig& config, std::string_view body,
                                           std::string_view order_no) {
    JOULE_ASSIGN_OR_RETURN(
        wire::Json response,
        RefundResponse(config, "alipay.trade.fastpay.refund.query", body, order_no));
    RefundAnswer answer;
    const std::string status = StringOf(response, "refund_status", 32);
    // Without refund_status Alipay has not (yet) refunded it: still open, asked again.
    answer.state = status == "REFUND_SUCCESS" ? RefundState::kSucceeded : RefundState::kProcessing;
    answer.detail = status.empty() ? "not refunded yet" : status;
    return answer;
}

Result<std::string> AlipayBillUrlRequestText(const AlipayMerchant& merchant, CivilDate day,
                                             Instant now) {
    return SignedRequest(merchant, "alipay.data.dataservice.bill.downloadurl.query",
                         wire::Json{{"bill_type", "trade"}, {"bill_date", FormatDate(day)}}, "", "",
                         now);
}

Result<std::optional<std::string>> ReadAlipayBillUrl(const AlipayConfig& config,
                                                     std::string_view body) {
    JOULE_ASSIGN_OR_RETURN(
        wire::Json response,
        VerifiedResponse(config, "alipay.data.dataservice.bill.downloadurl.query", body));
    const std::string sub_code = StringOf(response, "sub_code");
    if (sub_code == "isp.bill_not_exist") {
        return std::optional<std::string>();
    }
    if (sub_code == "isp.unknow-error" || sub_code == "isp.unknown-error") {
        return MakeError(ErrorCode::kUnavailable, "Alipay cannot give the bill now (" + sub_code +
                                                      ": " + StringOf(response, "sub_msg", 200) +
                                                      ")");
    }
    JOULE_TRY(Succeeded(response));
    std::string url = StringOf(response, "bill_download_url", 2048);
    if (!url.starts_with("https://") && !url.starts_with("http://")) {
        return InvalidArgument("bill_download_url", "is not an http(s) address in Alipay's answer");
    }
    return std::optional<std::string>(std::move(url));
}

Result<std::string> ReadAlipayPrecreate(const AlipayConfig& config, std::string_view body) {
    JOULE_ASSIGN_OR_RETURN(wire::Json response,
                           VerifiedResponse(config, "alipay.trade.precreate", body));
    JOULE_TRY(Succeeded(response));
    std::string qr = StringOf(response, "qr_code", 2048);
    if (qr.empty()) {
        return InvalidArgument("qr_code", "is not in Alipay's answer");
    }
    return qr;
}

Result<PaymentNotification> ReadAlipayTradeQuery(const AlipayConfig& config,
                                                 std::string_view body) {
    JOULE_ASSIGN_OR_RETURN(wire::Json response,
                           VerifiedResponse(config, "alipay.trade.query", body));
    JOULE_TRY(Succeeded(response));
    PaymentNotification n;
    n.provider = "alipay";
    n.order_no = StringOf(response, "out_trade_no", 64);
    n.transaction_id = StringOf(response, "trade_no", 64);
    n.state = StringOf(response, "trade_status", 32);
    if (n.order_no.empty() || n.state.empty()) {
        return InvalidArgument("out_trade_no", "out_trade_no and trade_status are required");
    }
    n.paid = n.state == "TRADE_SUCCESS" || n.state == "TRADE_FINISHED";
    if (n.paid && n.transaction_id.empty()) {
        return InvalidArgument("trade_no", "a paid trade without its trade_no");
    }
    if (const std::string total = StringOf(response, "total_amount", 16); !total.empty()) {
        JOULE_ASSIGN_OR_RETURN(int64_t fen, ParseScaled(total, 2, "total_amount"));
        n.amount = Money{fen};
    } else if (n.paid) {
        return InvalidArgument("total_amount", "a paid trade without its amount");
    }
    n.payer = StringOf(response, "buyer_user_id", 128);
    if (const std::string at = StringOf(response, "send_pay_date", 32); n.paid && !at.empty()) {
        JOULE_ASSIGN_OR_RETURN(n.paid_at, FromAlipayTime(at, "send_pay_date"));
    }
    return n;
}

Result<std::map<std::string, std::string, std::less<>>> ParseForm(std::string_view body) {
    std::map<std::string, std::string, std::less<>> out;
    std::size_t start = 0;
    while (start <= body.size()) {
        const std::size_t end = std::min(body.find('&', start), body.size());
        const std::string_view pair = body.substr(start, end - start);
        start = end + 1;
        if (pair.empty()) {
            continue;
        }
        const std::size_t eq = pair.find('=');
        JOULE_ASSIGN_OR_RETURN(std::string name, Unescape(pair.substr(0, eq), "body"));
        if (name.empty()) {
            return InvalidArgument("body", "a parameter without a name");
        }
        JOULE_ASSIGN_OR_RETURN(
            std::string value,
            Unescape(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1),
                     name));
        if (out.contains(name)) {
            return InvalidArgument(name, "is given twice");
        }
        out.emplace(std::move(name), std::move(value));
    }
    return out;
}

std::string AlipaySignContent(const std::map<std::string, std::string, std::less<>>& params) {
    std::string out;
    for (const auto& [name, value] : params) {  // std::map: sorted by name, byte order
        if (name == "sign" || name == "sign_type" || value.empty()) {
            continue;
        }
        if (!out.empty()) {
            out += '&';
        }
        out.append(name).append("=").append(value);
    }
    return out;
}

Result<PaymentNotification> VerifyAlipayNotification(const AlipayConfig& config,
                                                     std::string_view body) {
    if (body.size() > kMaxNotificationBytes) {
        return InvalidArgument("body", "over 64 KiB");
    }
    JOULE_ASSIGN_OR_RETURN(auto params, ParseForm(body));
    const std::string& sign_type = Param(params, "sign_type");
    if (sign_type != "RSA2") {
        return MakeError(ErrorCode::kUnauthenticated, "sign_type must be RSA2", "sign_type");
    }
    const std::string& sign = Param(params, "sign");
    if (sign.empty()) {
        return MakeError(ErrorCode::kUnauthenticated, "missing", "sign");
    }
    auto signature = Base64Decode(sign, "sign");
    if (!signature) {
        return MakeError(ErrorCode::kUnauthenticated, signature.error().message, "sign");
    }
    if (auto ok =
            VerifyRsaSha256(config.alipay_public_key_pem, AlipaySignContent(params), *signature);
        !ok) {
        if (ok.error().code == ErrorCode::kUnauthenticated) {
            return MakeError(ErrorCode::kUnauthenticated, "does not verify with Alipay's key",
                             "sign");
        }
        return std::unexpected(ok.error());
    }

    // Signed by Alipay: now the content.
    JOULE_ASSIGN_OR_RETURN(std::string app_id, Required(params, "app_id", 64));
    if (app_id != config.app_id) {
        return InvalidArgument("app_id", "is not this platform's app id");
    }
    if (!config.seller_id.empty() && Param(params, "seller_id") != config.seller_id) {
        return InvalidArgument("seller_id", "is not this platform's seller");
    }
    PaymentNotification n;
    n.provider = "alipay";
    JOULE_ASSIGN_OR_RETURN(n.order_no, Required(params, "out_trade_no", 64));
    JOULE_ASSIGN_OR_RETURN(n.transaction_id, Required(params, "trade_no", 64));
    JOULE_ASSIGN_OR_RETURN(n.state, Required(params, "trade_status", 32));
    JOULE_ASSIGN_OR_RETURN(std::string total, Required(params, "total_amount", 16));
    JOULE_ASSIGN_OR_RETURN(int64_t fen, ParseScaled(total, 2, "total_amount"));
    if (fen <= 0) {
        return InvalidArgument("total_amount", "must be above zero");
    }
    n.amount = Money{fen};
    n.payer = Param(params, "buyer_id").substr(0, 128);
    n.event_id = Param(params, "notify_id").substr(0, 128);
    n.paid = n.state == "TRADE_SUCCESS" || n.state == "TRADE_FINISHED";
    if (const std::string& at = Param(params, "gmt_payment"); n.paid && !at.empty()) {
        JOULE_ASSIGN_OR_RETURN(n.paid_at, FromAlipayTime(at, "gmt_payment"));
    }
    return n;
}

}  // namespace joule::pay
