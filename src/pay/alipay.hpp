// Alipay asynchronous notifications [PAY-2] (trade_status_sync): a form-encoded POST whose
// parameters, without sign and sign_type and without empty values, sorted by name and joined as
// "k=v&k=v", are signed RSA2 (SHA256withRSA) with Alipay's key. Verified here against Alipay's
// public key, then the app id (and seller, when configured) checked against ours and the amount
// read exactly from its yuan text. Alipay expects the body "success"; anything else makes it
// retry (8 times over about 25 hours).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/payment_ports.hpp"

namespace joule::pay {

struct AlipayConfig {
    std::string app_id;
    std::string seller_id;              // the merchant's Alipay user id; "" skips the check
    std::string alipay_public_key_pem;  // Alipay's public key (or certificate), not ours
};

// The form's parameters, percent-decoded ('+' is a space). kInvalidArgument naming the
// parameter for bad encoding, an empty name or a repeated one.
[[nodiscard]] Result<std::map<std::string, std::string, std::less<>>> ParseForm(
    std::string_view body);

// The text Alipay signs: every parameter but sign and sign_type with a non-empty value, sorted
// by name, "k=v" joined by "&".
[[nodiscard]] std::string AlipaySignContent(
    const std::map<std::string, std::string, std::less<>>& params);

// kUnauthenticated ("sign") for a signature that does not verify or a sign_type that is not
// RSA2, kInvalidArgument for a malformed form, another app or seller, or a bad amount.
// TRADE_SUCCESS and TRADE_FINISHED are paid; WAIT_BUYER_PAY and TRADE_CLOSED verify unpaid.
[[nodiscard]] Result<PaymentNotification> VerifyAlipayNotification(const AlipayConfig& config,
                                                                   std::string_view body);

}  // namespace joule::pay
