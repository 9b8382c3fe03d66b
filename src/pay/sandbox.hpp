// The sandbox payment provider [PAY-2]: the demo's and the tests' stand-in for WeChat Pay and
// Alipay, with the same flow (order -> the provider's notification -> verification -> credit
// exactly once -> the reply), signed with HMAC-SHA256 under a secret shared with the platform.
// Its notification is JSON:
//   {"out_trade_no": "...", "transaction_id": "...", "amount": 5000 (fen),
//    "state": "SUCCESS" | "CLOSED", "payer": optional, "timestamp": Unix seconds}
// (a payment is paid at its timestamp)
// with the header X-Sandbox-Signature: hex HMAC-SHA256(secret, body). The reply is 200 {"ok":true}.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/payment_ports.hpp"
#include "pay/wechat_pay.hpp"

namespace joule::pay {

struct SandboxConfig {
    std::string secret;  // at least 16 bytes
    Seconds timestamp_window{300};
};

// kUnauthenticated ("X-Sandbox-Signature", "timestamp") or kInvalidArgument naming the field.
[[nodiscard]] Result<PaymentNotification> VerifySandboxNotification(const SandboxConfig& config,
                                                                    const HeaderLookup& header,
                                                                    std::string_view body,
                                                                    Instant now);

// What the sandbox "provider" sends when an order is paid: the body and its signature header.
struct SandboxNotification {
    std::string body;
    std::string signature;
};
[[nodiscard]] SandboxNotification MakeSandboxNotification(const SandboxConfig& config,
                                                          const PaymentNotification& notice,
                                                          Instant now);

}  // namespace joule::pay
