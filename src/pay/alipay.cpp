#include "pay/alipay.hpp"

#include "base/decimal.hpp"
#include "codec/bytes.hpp"
#include "pay/crypto.hpp"
#include "pay/wechat_pay.hpp"

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

}  // namespace

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
        // "2026-11-21 10:04:05", Beijing time.
        if (at.size() != 19 || at[10] != ' ') {
            return InvalidArgument("gmt_payment", "must be yyyy-MM-dd HH:mm:ss");
        }
        std::string iso = at;
        iso[10] = 'T';
        JOULE_ASSIGN_OR_RETURN(n.paid_at, ParseInstant(iso + "+08:00", "gmt_payment"));
    }
    return n;
}

}  // namespace joule::pay
