#include "pay/sandbox.hpp"

#include <nlohmann/json.hpp>

#include "pay/crypto.hpp"
#include "wire/json.hpp"

namespace joule::pay {

Result<PaymentNotification> VerifySandboxNotification(const SandboxConfig& config,
                                                      const HeaderLookup& header,
                                                      std::string_view body, Instant now) {
    if (body.size() > kMaxNotificationBytes) {
        return InvalidArgument("body", "over 64 KiB");
    }
    if (config.secret.size() < 16) {
        return MakeError(ErrorCode::kFailedPrecondition, "the sandbox secret is not set", "secret");
    }
    const std::string signature = header("X-Sandbox-Signature");
    const std::string expected = HexOf(HmacSha256(config.secret, body));
    if (signature.empty() || expected.empty() || !ConstantTimeEqual(signature, expected)) {
        return MakeError(ErrorCode::kUnauthenticated, "does not verify", "X-Sandbox-Signature");
    }
    wire::Json j = wire::Json::parse(body.begin(), body.end(), nullptr, false);
    if (!j.is_object()) {
        return InvalidArgument("body", "is not a JSON object");
    }
    wire::ObjectReader r(j, "");
    JOULE_ASSIGN_OR_RETURN(int64_t sent, r.Integer("timestamp", 0, int64_t{1} << 40));
    const int64_t skew = now.time_since_epoch().count() - sent;
    if (skew > config.timestamp_window.count() || -skew > config.timestamp_window.count()) {
        return MakeError(ErrorCode::kUnauthenticated, "outside the window", "timestamp");
    }
    PaymentNotification n;
    n.provider = "sandbox";
    JOULE_ASSIGN_OR_RETURN(n.order_no, r.String("out_trade_no", 64));
    JOULE_ASSIGN_OR_RETURN(n.transaction_id, r.String("transaction_id", 64));
    JOULE_ASSIGN_OR_RETURN(int64_t fen, r.Integer("amount", 1, int64_t{1} << 40));
    JOULE_ASSIGN_OR_RETURN(n.state, r.String("state", 32));
    JOULE_ASSIGN_OR_RETURN(n.payer, r.OptString("payer", "", 128));
    JOULE_TRY(r.Finish());
    if (n.order_no.empty() || n.transaction_id.empty()) {
        return InvalidArgument("transaction_id", "out_trade_no and transaction_id are required");
    }
    n.amount = Money{fen};
    n.paid = n.state == "SUCCESS";
    if (n.paid) {
        n.paid_at = Instant{std::chrono::seconds{sent}};
    }
    return n;
}

SandboxNotification MakeSandboxNotification(const SandboxConfig& config,
                                            const PaymentNotification& notice, Instant now) {
    wire::Json j{{"out_trade_no", notice.order_no},
                 {"transaction_id", notice.transaction_id},
                 {"amount", notice.amount.fen},
                 {"state", notice.paid ? "SUCCESS" : notice.state},
                 {"timestamp", now.time_since_epoch().count()}};
    if (!notice.payer.empty()) {
        j["payer"] = notice.payer;
    }
    std::string body = j.dump();
    std::string signature = HexOf(HmacSha256(config.secret, body));
    return {std::move(body), std::move(signature)};
}

}  // namespace joule::pay
