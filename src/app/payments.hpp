// The payment providers wired into the API [PAY-2]: the settings of `joule serve` (keys read from
// their files, checked before anything starts) turned into the PaymentGateway the API calls, on
// src/pay's verification.
#pragma once

#include <memory>

#include "api/api.hpp"
#include "app/live.hpp"
#include "app/provider_clients.hpp"
#include "base/error.hpp"

namespace joule::app {

// What `joule serve` pays with: the gateway the API calls and the clients of the providers this
// server calls (orders, queries, refunds), from the settings, every key read and checked once,
// before anything starts. WeChat Pay and Alipay notifications are verified when configured; orders
// are made at a provider when its keys for our calls and http.public_url are set; the sandbox when
// payments.sandbox is on (its HMAC secret is random per process: only this server signs and
// verifies its notifications); WeChat's OAuth for payers' openid when the AppSecret is set.
// kInvalidArgument naming the setting for a key file that cannot be read or a key that does not
// load.
struct Payments {
    api::PaymentGateway gateway;
    ProviderClients clients;
};
[[nodiscard]] Result<Payments> MakePayments(const ServeOptions& options);

}  // namespace joule::app
