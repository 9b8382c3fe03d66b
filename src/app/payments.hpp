// The payment providers wired into the API [PAY-2]: the settings of `joule serve` (keys read from
// their files, checked before anything starts) turned into the PaymentGateway the API calls, on
// src/pay's verification.
#pragma once

#include <memory>

#include "api/api.hpp"
#include "app/live.hpp"
#include "app/provider_clients.hpp"
#include "base/error.hpp"
#include "pay/alipay.hpp"
#include "pay/wechat_pay.hpp"

namespace joule::app {

// The gateway for `options`: WeChat Pay and Alipay when configured, the sandbox when
// payments.sandbox is on (its HMAC secret is random per process: only this server signs and
// verifies its notifications). kInvalidArgument naming the setting for a key file that cannot
// be read or a key that does not load.
// The orders are made through `clients` (MakeProviderClients): a provider is offered when its
// client is there and http.public_url is set; and WeChat's OAuth for payers' openid when the
// AppSecret is set.
[[nodiscard]] Result<api::PaymentGateway> MakePaymentGateway(const ServeOptions& options,
                                                             const ProviderClients& clients);

// WeChat Pay's settings read and checked: the app, merchant, APIv3 key and platform keys; and
// the merchant key for our own calls. kInvalidArgument naming the setting that does not load.
[[nodiscard]] Result<std::shared_ptr<const pay::WechatPayConfig>> LoadWechatPayConfig(
    const ServeOptions& options);
[[nodiscard]] Result<pay::WechatMerchantKey> LoadWechatMerchantKey(const ServeOptions& options);
// Alipay's settings read and checked: the app id, seller and Alipay's public key.
[[nodiscard]] Result<std::shared_ptr<const pay::AlipayConfig>> LoadAlipayConfig(
    const ServeOptions& options);

}  // namespace joule::app
