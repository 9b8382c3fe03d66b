// Payments [PAY-2]: orders for WeChat Pay, Alipay or the sandbox provider, and the crediting of
// verified notifications exactly once per provider transaction, whatever the retries, their
// order and their concurrency. The verification itself (signatures, decryption) is the pay
// adapter's; what reaches ConfirmPayment is already known to come from the provider.
//
// Crediting is one unit of work: the notification's record, the order turned paid, the top-up
// with its ledger transfer (id "pay:<provider>:<transaction>"), the prepaid step with its relay
// command (or the in-meter purchase), and the top-up notice in the outbox. Two guards make a
// second credit impossible even when notifications race: the order's state and provider
// transaction id (unique per provider), and the ledger transfer's id.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/payment_ports.hpp"
#include "service/billing_service.hpp"

namespace joule {

struct CreatePaymentRequest {
    std::string project_code;
    std::string account_number;
    Money amount;
    std::string provider;  // "wechat", "alipay", "sandbox"
    std::string channel;  // wechat: "jsapi", "native", "h5"; alipay: "wap", "page", "qr"; "sandbox"
    std::string order_no;  // made by the caller: 6..32 of [A-Za-z0-9_-], unique
};

// stored in payment_notifications.outcome by name: never rename.
enum class PaymentOutcome : uint8_t {
    kCredited,          // this notification credited the payment
    kAlreadyCredited,   // a repeat: acknowledged, nothing more
    kUnpaid,            // not a payment (closed, waiting, another event): acknowledged
    kAmountMismatch,    // paid, but not the order's amount: alarm, nothing credited
    kDuplicatePayment,  // a second transaction for a paid order: alarm, nothing credited
    kNotCredited,       // paid, but the account refuses the credit (closed since the order):
                        // alarm, the order stays unpaid, for finance to refund
};
std::string_view PaymentOutcomeName(PaymentOutcome outcome);

struct PaymentResult {
    PaymentOutcome outcome = PaymentOutcome::kCredited;
    PaymentOrderRecord order;  // as it is afterwards
    TopUpResult top_up;        // kCredited only
};

// A refund of a paid order back to its payer through the provider [PAY-2].
struct RefundPaymentRequest {
    std::string project_code;
    std::string order_no;
    Money amount;
    std::string reason;
    std::string idempotency_key;  // the caller's; a repeat returns the refund it made
    std::string refund_no;        // made by the caller: 6..32 of [A-Za-z0-9_-], unique
};

// A provider's daily statement to reconcile with a project's orders and ledger [PAY-3].
struct ReconcileRequest {
    std::string project_code;
    std::string provider;                // "wechat", "alipay", "sandbox"
    std::optional<CivilDate> bill_date;  // the statement's day (Beijing); nullopt: its lines'
    std::vector<StatementLine> lines;    // as the provider's adapter read them
    std::string file_sha256;
};

struct Reconciliation {
    ReconciliationRun run;
    std::vector<Mismatch> mismatches;
};

// A provider's statement of a day the server fetched itself [PAY-3].
struct FetchedStatement {
    std::string provider;
    CivilDate day{};
    std::vector<StatementLine> lines;  // none: the provider had no statement (no trade that day)
    std::string file_sha256;           // "" for none
};

// The most one online payment may be: 50,000 yuan.
inline constexpr Money kMaxOnlinePayment{5'000'000};

struct PaymentOptions {
    // The sandbox provider credits money nobody paid: only for the demo and tests. Off, its
    // orders and notifications are refused (field "provider").
    bool sandbox = false;
};

class PaymentService {
public:
    PaymentService(Store& store, BillingService& billing, PaymentOptions options = {})
        : store_(store), billing_(billing), options_(options) {}

    // An order for an open account. kInvalidArgument naming the field (amount 0.01..50,000
    // yuan, a known provider and channel, the order number's form), kNotFound for the account,
    // kFailedPrecondition for a closed one, kAlreadyExists for a number taken.
    [[nodiscard]] Result<PaymentOrderRecord> CreateOrder(const CreatePaymentRequest& r,
                                                         const Actor& actor, Instant now);

    // Credits a verified notification at most once (see the file comment). Every outcome in
    // PaymentOutcome is a success to acknowledge to the provider, and is recorded. An unpaid
    // notification without an order number (a provider event that is not about one of our
    // orders) is recorded as kUnpaid. kNotFound
    // ("order_no") for an order we never made and kInvalidArgument ("provider") for an order of
    // another provider: those are recorded, not acknowledged (the provider retries, and staff
    // see them).
    [[nodiscard]] Result<PaymentResult> ConfirmPayment(const PaymentNotification& n, Instant now);

    // A refund asked for (see RefundPaymentRequest): in one unit of work the refund is recorded
    // and the account's paid credit debited to the provider's cash account (transfer
    // "refund:<provider>:<refund_no>"), so the money cannot be spent while it goes back. The
    // provider is asked afterwards (SettleRefund). A repeated key returns its refund.
    // kNotFound naming "order"; kFailedPrecondition naming "order" (not paid) or "amount" (more
    // than is left to refund of the order, or than the paid balance); kInvalidArgument naming
    // the field; kAlreadyExists ("Idempotency-Key") for a key used for another refund.
    [[nodiscard]] Result<PaymentRefundRecord> RequestRefund(const RefundPaymentRequest& r,
                                                            const Actor& actor, Instant now);
    // What the provider answered, or why it could not be asked: kUnavailable (and any answer
    // that is not a refusal) keeps the refund open to be asked again; a refusal
    // (kInvalidArgument, kFailedPrecondition) or a closed refund fails it and returns the money
    // to the account (transfer "refund-back:<provider>:<refund_no>"), and an abnormal one is
    // alarmed for finance. A refund already succeeded or failed is left as it is.
    [[nodiscard]] Result<PaymentRefundRecord> SettleRefund(std::string_view refund_no,
                                                           const Result<RefundAnswer>& answer,
                                                           Instant now);
    // The order's refunds, oldest first.
    [[nodiscard]] Result<std::vector<PaymentRefundRecord>> RefundsOfOrder(
        std::string_view order_no);

    // A notification that failed verification, recorded for finance (never credited).
    [[nodiscard]] Status RecordRejected(std::string_view provider, std::string_view detail,
                                        Instant now);

    [[nodiscard]] Result<std::optional<PaymentOrderRecord>> FindOrder(std::string_view order_no);
    // An order its provider refused when it was made: closed, so it is never asked about or
    // paid. Nothing changes for an order paid or closed meanwhile; kNotFound naming "order_no".
    [[nodiscard]] Status CloseRefusedOrder(std::string_view order_no);

    // Reconciles a statement (core/reconciliation.hpp) and records it, with an alarm
    // payment_mismatch for each account a mismatch is about (and one for the project when a
    // mismatch is about no order of ours), in one unit of work. kInvalidArgument naming "provider",
    // or "date" when a line is not of the statement's day (or there is no day to tell);
    // kNotFound naming "project".
    [[nodiscard]] Result<Reconciliation> Reconcile(const ReconcileRequest& r, const Actor& actor,
                                                   Instant now);
    // A statement the server fetched (see FetchedStatement) reconciled for every project and its
    // day recorded done (StatementDownload), in one unit of work: a day is reconciled once, and
    // not again once done (then nothing is returned). Errors as Reconcile.
    [[nodiscard]] Result<std::vector<Reconciliation>> ReconcileFetched(const FetchedStatement& f,
                                                                       const Actor& actor,
                                                                       Instant now);
    // A fetch of `provider`'s statement of `day` that failed, recorded to be tried again; at
    // `alarm_after` failures every project gets a payment_mismatch alarm, once per day.
    [[nodiscard]] Status RecordFetchFailure(std::string_view provider, CivilDate day,
                                            const Error& error, int64_t alarm_after, Instant now);
    [[nodiscard]] Result<std::optional<StatementDownload>> FindStatementDownload(
        std::string_view provider, CivilDate day);
    [[nodiscard]] Result<std::vector<ReconciliationRun>> ListReconciliations(
        std::string_view project_code, int limit);
    // kNotFound naming "reconciliation" for one of another project.
    [[nodiscard]] Result<Reconciliation> GetReconciliation(std::string_view project_code,
                                                           int64_t id);

private:
    Store& store_;
    BillingService& billing_;
    PaymentOptions options_;
};

}  // namespace joule
