// The payment providers wired into the API [PAY-2]: the settings of `joule serve` (keys read from
// their files, checked before anything starts) turned into the PaymentGateway the API calls, on
// src/pay's verification.
#pragma once

#include "api/api.hpp"
#include "app/live.hpp"
#include "base/error.hpp"

namespace joule::app {

// The gateway for `options`: WeChat Pay and Alipay when configured, the sandbox when
// payments.sandbox is on (its HMAC secret is random per process: only this server signs and
// verifies its notifications). kInvalidArgument naming the setting for a key file that cannot
// be read or a key that does not load.
[[nodiscard]] Result<api::PaymentGateway> MakePaymentGateway(const ServeOptions& options);

}  // namespace joule::app
