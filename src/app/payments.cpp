#include "app/payments.hpp"

#include <memory>

#include "api/credentials.hpp"
#include "base/file.hpp"
#include "pay/alipay.hpp"
#include "pay/crypto.hpp"
#include "pay/sandbox.hpp"
#include "pay/statement.hpp"
#include "pay/wechat_pay.hpp"

namespace joule::app {
namespace {

constexpr std::size_t kMaxKeyFileBytes = std::size_t{64} * 1024;

// A public key or certificate that loads as RSA-2048 (checked now, not at the first payment).
Result<std::string> ReadPublicKey(const std::string& path, std::string_view setting) {
    JOULE_ASSIGN_OR_RETURN(std::string pem, ReadFileText(path, setting, kMaxKeyFileBytes));
    auto probe = pay::VerifyRsaSha256(pem, "probe", std::string(256, '\0'));
    if (!probe && probe.error().field == "key") {
        return InvalidArgument(std::string(setting), path + ": " + probe.error().message);
    }
    return pem;
}

std::string Trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
        text.pop_back();
    }
    return text;
}

// Providers name headers in any case; the HTTP server keeps them lower-cased.
pay::HeaderLookup HeadersOf(const api::HttpRequest& request) {
    return [&request](std::string_view name) {
        std::string lower(name);
        for (char& c : lower) {
            c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        }
        return std::string(request.Header(lower));
    };
}

Result<std::shared_ptr<const pay::WechatPayConfig>> LoadWechatPayConfig(const ServeOptions& o) {
    auto config = std::make_shared<pay::WechatPayConfig>();
    config->app_id = o.wechat_app_id;
    config->mch_id = o.wechat_mch_id;
    JOULE_ASSIGN_OR_RETURN(std::string key,
                           ReadFileText(o.wechat_api_v3_key_file, "payments.wechat_api_v3_key_file",
                                        kMaxKeyFileBytes));
    config->api_v3_key = Trimmed(std::move(key));
    if (config->api_v3_key.size() != 32) {
        return InvalidArgument("payments.wechat_api_v3_key_file",
                               "the APIv3 key is 32 bytes, the file holds " +
                                   std::to_string(config->api_v3_key.size()));
    }
    for (const std::string& entry : o.wechat_platform_keys) {
        const auto eq = entry.find('=');
        JOULE_ASSIGN_OR_RETURN(
            std::string pem, ReadPublicKey(entry.substr(eq + 1), "payments.wechat_platform_keys"));
        config->platform_keys.emplace(entry.substr(0, eq), std::move(pem));
    }
    return config;
}

Result<pay::WechatMerchantKey> LoadWechatMerchantKey(const ServeOptions& o) {
    JOULE_ASSIGN_OR_RETURN(std::string pem,
                           ReadFileText(o.wechat_merchant_key_file,
                                        "payments.wechat_merchant_key_file", kMaxKeyFileBytes));
    pay::WechatMerchantKey key{o.wechat_mch_id, o.wechat_merchant_serial, std::move(pem)};
    // Loaded now, not at the first call: a key that cannot sign is a setting to fix.
    if (auto signed_probe = pay::WechatAuthorization(key, "GET", "/", 0, "probe", "");
        !signed_probe) {
        return InvalidArgument("payments.wechat_merchant_key_file",
                               o.wechat_merchant_key_file + ": " + signed_probe.error().message);
    }
    return key;
}

Result<std::shared_ptr<const pay::AlipayConfig>> LoadAlipayConfig(const ServeOptions& o) {
    JOULE_ASSIGN_OR_RETURN(std::string pem, ReadPublicKey(o.alipay_public_key_file,
                                                          "payments.alipay_public_key_file"));
    return std::make_shared<pay::AlipayConfig>(
        pay::AlipayConfig{o.alipay_app_id, o.alipay_seller_id, std::move(pem)});
}

// The providers this server calls, on the configurations already loaded: WeChat Pay with its
// merchant key and serial, Alipay with the app's private key.
Result<ProviderClients> MakeProviderClients(
    const ServeOptions& o, const std::shared_ptr<const pay::WechatPayConfig>& wechat,
    const std::shared_ptr<const pay::AlipayConfig>& alipay) {
    ProviderClients out;
    const auto notify_url = [&o](std::string_view provider) {
        return o.public_url.empty() ? std::string()
                                    : o.public_url + "/api/v1/pay/notify/" + std::string(provider);
    };
    if (wechat && !o.wechat_merchant_key_file.empty()) {
        JOULE_ASSIGN_OR_RETURN(pay::WechatMerchantKey key, LoadWechatMerchantKey(o));
        out.emplace("wechat",
                    MakeWechatClient(wechat, key, o.wechat_api_base, notify_url("wechat")));
    }
    if (alipay && !o.alipay_private_key_file.empty()) {
        JOULE_ASSIGN_OR_RETURN(std::string pem,
                               ReadFileText(o.alipay_private_key_file,
                                            "payments.alipay_private_key_file", kMaxKeyFileBytes));
        pay::AlipayMerchant merchant{o.alipay_app_id, std::move(pem)};
        // Loaded now, not at the first order: a key that cannot sign is a setting to fix.
        if (auto probe = pay::AlipayQueryRequestText(merchant, "probe", Instant{}); !probe) {
            return InvalidArgument("payments.alipay_private_key_file",
                                   o.alipay_private_key_file + ": " + probe.error().message);
        }
        out.emplace("alipay",
                    MakeAlipayClient(alipay, merchant, o.alipay_gateway, notify_url("alipay")));
    }
    return out;
}

}  // namespace

Result<Payments> MakePayments(const ServeOptions& o) {
    std::shared_ptr<const pay::WechatPayConfig> wechat;
    if (!o.wechat_app_id.empty()) {
        JOULE_ASSIGN_OR_RETURN(wechat, LoadWechatPayConfig(o));
    }
    std::shared_ptr<const pay::AlipayConfig> alipay;
    if (!o.alipay_app_id.empty()) {
        JOULE_ASSIGN_OR_RETURN(alipay, LoadAlipayConfig(o));
    }
    JOULE_ASSIGN_OR_RETURN(ProviderClients clients, MakeProviderClients(o, wechat, alipay));
    std::shared_ptr<const pay::SandboxConfig> sandbox;
    if (o.payments_sandbox) {
        sandbox = std::make_shared<pay::SandboxConfig>(
            pay::SandboxConfig{api::RandomHex(32), std::chrono::seconds{300}});
    }

    api::PaymentGateway gateway;
    gateway.public_url = o.public_url;
    // Orders need our keys for the calls and an address for the provider to notify.
    const bool orders = !o.public_url.empty();
    for (const auto& [name, on] :
         {std::pair{"wechat", orders && wechat && clients.contains("wechat")},
          std::pair{"alipay", orders && alipay && clients.contains("alipay")},
          std::pair{"sandbox", sandbox != nullptr}}) {
        if (on) {
            gateway.providers.emplace_back(name);
        }
    }
    if (orders && !clients.empty()) {
        gateway.prepay = [clients](const PaymentOrderRecord& order,
                                   const api::PrepayRequest& request,
                                   Instant now) -> Result<api::PrepayAnswer> {
            const auto client = clients.find(order.provider);
            if (client == clients.end()) {
                return InvalidArgument("provider", order.provider + " takes no orders here");
            }
            return client->second->Prepay(order, request, now);
        };
    }
    for (const auto& [name, client] : clients) {
        gateway.refund_providers.push_back(name);
    }
    if (sandbox) {
        gateway.refund_providers.emplace_back("sandbox");
    }
    gateway.refund = [clients, with_sandbox = sandbox != nullptr](
                         const PaymentRefundRecord& refund, const PaymentOrderRecord& order,
                         Instant now) -> Result<RefundAnswer> {
        if (order.provider == "sandbox" && with_sandbox) {
            return RefundAnswer{RefundState::kSucceeded, "SBXR" + api::RandomHex(8), "sandbox"};
        }
        const auto client = clients.find(order.provider);
        if (client == clients.end()) {
            return MakeError(ErrorCode::kUnavailable,
                             "this server makes no calls to " + order.provider +
                                 " (its keys for our calls are not configured)");
        }
        return client->second->Refund(refund, order, now);
    };
    if (wechat && !o.wechat_app_secret_file.empty()) {
        JOULE_ASSIGN_OR_RETURN(std::string secret,
                               ReadFileText(o.wechat_app_secret_file,
                                            "payments.wechat_app_secret_file", kMaxKeyFileBytes));
        gateway.wechat_authorize_url = [base = o.wechat_oauth_base, app_id = o.wechat_app_id](
                                           std::string_view redirect_uri, std::string_view state) {
            return pay::WechatOAuthUrl(base, app_id, redirect_uri, state);
        };
        gateway.wechat_openid = MakeWechatOpenidLookup(o.wechat_app_id, Trimmed(std::move(secret)),
                                                       o.wechat_oauth_api_base);
    }
    gateway.verify = [wechat, alipay, sandbox](std::string_view provider,
                                               const api::HttpRequest& request,
                                               Instant now) -> Result<PaymentNotification> {
        if (provider == "wechat" && wechat) {
            return pay::VerifyWechatNotification(*wechat, HeadersOf(request), request.body, now);
        }
        if (provider == "alipay" && alipay) {
            return pay::VerifyAlipayNotification(*alipay, request.body);
        }
        if (provider == "sandbox" && sandbox) {
            return pay::VerifySandboxNotification(*sandbox, HeadersOf(request), request.body, now);
        }
        return NotFound(
            "payment provider " + std::string(provider) + " is not configured on this server",
            "provider");
    };
    if (sandbox) {
        gateway.sandbox_pay = [sandbox](const PaymentOrderRecord& order, Instant now) {
            PaymentNotification paid;
            paid.order_no = order.order_no;
            paid.transaction_id = "SBX" + api::RandomHex(8);
            paid.amount = order.amount;
            paid.paid = true;
            paid.payer = "sandbox";
            const pay::SandboxNotification sent = pay::MakeSandboxNotification(*sandbox, paid, now);
            api::HttpRequest request;
            request.method = "POST";
            request.path = "/api/v1/pay/notify/sandbox";
            request.headers = {{"content-type", "application/json"},
                               {"x-sandbox-signature", sent.signature}};
            request.body = sent.body;
            request.remote = "sandbox";
            return request;
        };
    }
    // Statements are read whatever is configured: finance may reconcile a provider's file even
    // while the server takes no new payments from it.
    gateway.parse_statement = [](std::string_view provider, std::string_view bytes) {
        return pay::ParseStatement(provider, bytes);
    };
    return Payments{std::move(gateway), std::move(clients)};
}

}  // namespace joule::app
