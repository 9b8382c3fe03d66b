// The calls we make to the payment providers [PAY-2, PAY-4]: making a payer's order (WeChat Pay
// JSAPI, Native and H5; Alipay wap, page and precreate) and asking about an order. Each call is
// signed with our key and each answer verified as the provider signs it (src/pay); the HTTP is
// libcurl's (notify::HttpClient), a few connections kept per provider.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api/api.hpp"
#include "base/error.hpp"
#include "core/payment_ports.hpp"

namespace joule::pay {
struct WechatPayConfig;
struct WechatMerchantKey;
struct AlipayConfig;
struct AlipayMerchant;
}  // namespace joule::pay

namespace joule::app {

// How long a payer has to pay an order at the provider; the querier asks about it for a day.
inline constexpr Seconds kOrderExpiry{2 * 3600};

class ProviderClient {
public:
    virtual ~ProviderClient() = default;
    // What the provider says of one of our orders, verified. kNotFound when it has no such order
    // (the payer never opened it); kUnavailable when it cannot be asked now; kUnauthenticated
    // for an answer that does not verify.
    [[nodiscard]] virtual Result<PaymentNotification> Query(const PaymentOrderRecord& order,
                                                            Instant now) = 0;
    // The order made at the provider for its channel. kUnavailable when the provider cannot be
    // reached or fails (the order may exist there); kInvalidArgument ("provider" or the field)
    // when it refuses the order.
    [[nodiscard]] virtual Result<api::PrepayAnswer> Prepay(const PaymentOrderRecord& order,
                                                           const api::PrepayRequest& request,
                                                           Instant now) = 0;
    // Asks the provider to refund `refund` of `order` (again: the same refund number is the same
    // refund there). kInvalidArgument when the provider refused it for good; kUnavailable when
    // it could not be asked or its answer not read (unknown: ask again); kUnauthenticated for an
    // answer that does not verify.
    [[nodiscard]] virtual Result<RefundAnswer> Refund(const PaymentRefundRecord& refund,
                                                      const PaymentOrderRecord& order,
                                                      Instant now) = 0;
    // The provider's statement of `day` (Beijing time) [PAY-3], as pay::ParseStatement reads it:
    // WeChat Pay's trade bill, checked against the SHA1 its signed answer gave; Alipay's bill zip.
    // nullopt when the provider says it has none (no payment or refund that day). kUnavailable
    // when it is not ready or cannot be fetched now (ask again later); kUnauthenticated for an
    // answer or file that does not verify; kOutOfRange past kMaxStatementBytes.
    [[nodiscard]] virtual Result<std::optional<std::string>> DownloadStatement(CivilDate day,
                                                                               Instant now) = 0;
};

using ProviderClients = std::map<std::string, std::shared_ptr<ProviderClient>, std::less<>>;

// WeChat Pay API v3 at `api_base`, notifications to `notify_url`.
[[nodiscard]] std::shared_ptr<ProviderClient> MakeWechatClient(
    std::shared_ptr<const pay::WechatPayConfig> config, const pay::WechatMerchantKey& key,
    std::string api_base, std::string notify_url);
// Alipay's open API at `gateway`, notifications to `notify_url`.
[[nodiscard]] std::shared_ptr<ProviderClient> MakeAlipayClient(
    std::shared_ptr<const pay::AlipayConfig> config, const pay::AlipayMerchant& merchant,
    std::string gateway, std::string notify_url);

// The openid of WeChat's OAuth code (GET /sns/oauth2/access_token at `api_base`).
[[nodiscard]] std::function<Result<std::string>(std::string_view code)> MakeWechatOpenidLookup(
    std::string app_id, std::string app_secret, std::string api_base);

}  // namespace joule::app
