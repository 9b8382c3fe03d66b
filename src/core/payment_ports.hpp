// The payment records the store keeps [PAY-2]: orders made for the providers, and every
// notification received, verified or not. Part of a unit of work (Tx::Payments()), so an order
// turns paid in the same transaction as its credit, its ledger transfer, its meter command and
// its notice.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/ids.hpp"
#include "core/reconciliation.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// stored: never renumber.
enum class PaymentOrderState : uint8_t {
    kCreated = 0,  // sent to the provider, not paid yet
    kPaid = 1,     // paid and credited (once)
    kClosed = 2,   // the provider says it will never be paid
};

// "created", "paid", "closed": as the API, the console and reconciliation name them.
[[nodiscard]] std::string_view PaymentOrderStateName(PaymentOrderState state);

struct PaymentOrderRecord {
    int64_t id = 0;
    ProjectId project;
    AccountId account;
    std::string order_no;  // our out_trade_no, unique
    std::string provider;  // "wechat", "alipay", "sandbox"
    std::string channel;   // "jsapi", "native", "h5", "sandbox", ...
    Money amount;
    PaymentOrderState state = PaymentOrderState::kCreated;
    Instant created_at;
    std::optional<Instant> paid_at;
    std::string transaction_id;  // the provider's, once paid; unique per provider
    std::string payer;
    std::string created_by;
};

// A refund of a paid order through its provider [PAY-2]. stored: never renumber.
enum class RefundState : uint8_t {
    kRequested = 0,   // the account debited; the provider not asked yet, or not reached
    kProcessing = 1,  // the provider took it; the money is on its way back
    kSucceeded = 2,   // the payer has the money back
    kFailed = 3,      // the provider refused or closed it: the money is back on the account
    kAbnormal = 4,    // the provider could not return it (the payer's card): finance acts
};
// "requested", "processing", "succeeded", "failed", "abnormal".
[[nodiscard]] std::string_view RefundStateName(RefundState state);

struct PaymentRefundRecord {
    int64_t id = 0;
    std::string refund_no;   // our out_refund_no (out_request_no at Alipay), unique
    std::string client_key;  // the caller's Idempotency-Key, unique per project
    int64_t order_id = 0;
    std::string order_no;
    ProjectId project;
    AccountId account;
    std::string provider;
    Money amount;
    RefundState state = RefundState::kRequested;
    std::string provider_refund_id{};  // the provider's refund id, once it has one
    std::string reason;
    std::string requested_by;
    Instant requested_at;
    std::optional<Instant> finished_at{};
    std::string detail{};               // the provider's last word, or why it failed
    std::optional<Instant> tried_at{};  // when the provider was last asked
    int64_t tries = 0;
};

// What a provider answered about a refund (verified): where it is, its own id, its words.
struct RefundAnswer {
    RefundState state = RefundState::kProcessing;  // kProcessing, kSucceeded, kFailed, kAbnormal
    std::string provider_refund_id;
    std::string detail;
};

// What a provider's notification says once its adapter (src/pay) verified it: signature, time
// window, our app and merchant, decryption. Only a notification that verified is ever made, so
// everything downstream may trust its fields; `paid` decides whether it credits anything.
struct PaymentNotification {
    std::string provider;        // "wechat", "alipay", "sandbox"
    std::string order_no;        // our out_trade_no; "" for an event about none of our orders
    std::string transaction_id;  // the provider's: credited at most once
    Money amount;                // paid, in fen
    bool paid = false;           // a success state; any other is acknowledged, never credited
    std::string state;           // the provider's word: SUCCESS, TRADE_SUCCESS, CLOSED, ...
    std::optional<Instant> paid_at;
    std::string payer;     // WeChat openid, Alipay buyer_id
    std::string event_id;  // the notification's own id, for the log
};

// One notification as it arrived and what became of it: "credited", "already_credited",
// "unpaid", "amount_mismatch", "duplicate_payment", "unknown_order", "rejected".
struct PaymentNotificationRecord {
    int64_t id = 0;
    Instant received_at;
    std::string provider;
    std::string order_no;
    std::string transaction_id;
    std::string outcome;
    std::string detail;
};

// One import of a provider's daily statement for one project [PAY-3], with its totals; the
// mismatches are kept beside it.
struct ReconciliationRun {
    int64_t id = 0;
    ProjectId project;
    std::string provider;
    std::string bill_date;  // the statement's day, Beijing time: "2026-11-22"
    Instant imported_at;
    std::string imported_by;
    std::string file_sha256;  // of the file as uploaded
    int64_t lines = 0;
    int64_t other_projects = 0;
    int64_t matched = 0;
    int64_t mismatches = 0;
    Money statement_paid;
    Money statement_refunded;
    Money credited;
};

// A provider's statement of one day as the server fetches it itself [PAY-3]: done once it was
// reconciled for every project; until then asked for again.
struct StatementDownload {
    std::string provider;
    std::string bill_date;  // Beijing time: "2026-11-22"
    bool done = false;
    int64_t attempts = 0;
    Instant last_attempt_at{};
    std::string last_error{};
    std::string file_sha256{};  // "" when the provider had none (no payment or refund that day)
    int64_t lines = 0;
    bool alarmed = false;  // finance was told it could not be fetched
};

class PaymentTx {
public:
    virtual ~PaymentTx() = default;
    // kAlreadyExists ("order_no") when the number is taken.
    virtual Result<int64_t> InsertPaymentOrder(const PaymentOrderRecord& order) = 0;
    virtual Result<std::optional<PaymentOrderRecord>> FindPaymentOrder(
        std::string_view order_no) = 0;
    // Paid with `transaction_id` (kAlreadyExists when another order has it at this provider).
    virtual Status MarkPaymentOrderPaid(int64_t id, std::string_view transaction_id,
                                        Instant paid_at, std::string_view payer) = 0;
    virtual Status ClosePaymentOrder(int64_t id) = 0;
    // Newest first; an invalid `account` lists the project's.
    virtual Result<std::vector<PaymentOrderRecord>> ListPaymentOrders(ProjectId project,
                                                                      AccountId account,
                                                                      int limit) = 0;
    virtual Status InsertPaymentNotification(const PaymentNotificationRecord& n) = 0;
    virtual Result<std::vector<PaymentNotificationRecord>> ListPaymentNotifications(
        std::string_view order_no) = 0;
    // The orders of `project` at `provider` paid in [from, to), oldest first.
    virtual Result<std::vector<PaymentOrderRecord>> PaidOrdersBetween(ProjectId project,
                                                                      std::string_view provider,
                                                                      Instant from, Instant to) = 0;
    // Orders still created (not paid, not closed) made in (created_after, created_before] and not
    // asked about at their provider since `queried_before`, oldest first [PAY-4].
    virtual Result<std::vector<PaymentOrderRecord>> OrdersToQuery(Instant created_before,
                                                                  Instant created_after,
                                                                  Instant queried_before,
                                                                  int limit) = 0;
    virtual Status MarkOrderQueried(int64_t id, Instant at) = 0;
    // kAlreadyExists ("refund_no" or "Idempotency-Key") when taken.
    virtual Result<int64_t> InsertRefund(const PaymentRefundRecord& refund) = 0;
    virtual Result<std::optional<PaymentRefundRecord>> FindRefund(std::string_view refund_no) = 0;
    virtual Result<std::optional<PaymentRefundRecord>> FindRefundByKey(
        ProjectId project, std::string_view client_key) = 0;
    virtual Result<std::vector<PaymentRefundRecord>> RefundsOfOrder(int64_t order_id) = 0;
    // Its state, provider_refund_id, finished_at, detail, tried_at and tries.
    virtual Status UpdateRefund(const PaymentRefundRecord& refund) = 0;
    // Refunds still requested or processing, not asked about (or, never asked, not requested)
    // since `tried_before`, oldest first.
    virtual Result<std::vector<PaymentRefundRecord>> RefundsToRetry(Instant tried_before,
                                                                    int limit) = 0;
    // A reconciliation and its mismatches; its id.
    virtual Result<int64_t> InsertReconciliation(const ReconciliationRun& run,
                                                 const std::vector<Mismatch>& mismatches) = 0;
    virtual Result<std::vector<ReconciliationRun>> ListReconciliations(
        ProjectId project,
        int limit) = 0;  // newest first
    virtual Result<std::optional<ReconciliationRun>> GetReconciliation(int64_t id) = 0;
    virtual Result<std::vector<Mismatch>> ListMismatches(int64_t run) = 0;  // in file order
    virtual Result<std::optional<StatementDownload>> FindStatementDownload(
        std::string_view provider, std::string_view bill_date) = 0;
    virtual Status SaveStatementDownload(
        const StatementDownload& download) = 0;  // insert or update
    // When the first order at `provider` was made; nullopt: none yet.
    virtual Result<std::optional<Instant>> FirstOrderAt(std::string_view provider) = 0;
};

}  // namespace joule
