// Reconciliation (对账) [PAY-3]: a provider's daily statement, line by line, against our payment
// orders and the ledger. Pure: the statement is parsed by its provider's adapter (src/pay), our
// records are read by the service; this decides what matches and names every mismatch.
//
// A statement covers one provider's merchant for one day (Beijing time), so it may hold payments
// of other projects; those are counted and left to their project's reconciliation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// The most a statement file may be, uploaded, downloaded or decompressed.
inline constexpr std::size_t kMaxStatementBytes = std::size_t{64} * 1024 * 1024;

enum class StatementLineKind : uint8_t { kPayment = 1, kRefund = 2 };

// One line of a provider's statement, as its adapter read it.
struct StatementLine {
    int64_t row = 0;  // where it is in the file, for finance to find it
    StatementLineKind kind = StatementLineKind::kPayment;
    std::string transaction_id;  // the provider's payment
    std::string order_no;        // our out_trade_no
    std::string refund_id;       // refunds: the provider's refund (Alipay: our request number)
    std::string refund_no{};     // refunds: our out_refund_no / out_request_no, when listed
    Money amount;                // payments: the order's total; refunds: the amount refunded
    std::string status;  // the provider's word: SUCCESS, REFUND, REVOKED, 交易, 退款 ...
    bool paid = true;    // a payment line that says the money arrived (not revoked)
    Instant at;
};

// What we have of one order the statement names or the day holds: the order, and the ledger
// transfer its credit posted (pay:<provider>:<transaction>), if any.
struct ReconciledOrder {
    std::string order_no;
    ProjectId project;
    AccountId account;
    std::string state;  // created, paid, closed
    std::string transaction_id;
    Money amount;
    std::optional<Instant> paid_at;
    std::optional<Money> credited;  // the ledger transfer's amount; nullopt: none posted
    bool of_the_day = false;        // paid at this provider on the statement's day
};

// What we have of one refund a statement names: ours, through the provider [PAY-2].
struct ReconciledRefund {
    std::string refund_no;           // ours
    std::string provider_refund_id;  // the provider's, once it gave one
    std::string order_no;
    ProjectId project;
    AccountId account;
    Money amount;
    std::string state;  // requested, processing, succeeded, failed, abnormal
};

// stored as their names: never rename.
enum class MismatchKind : uint8_t {
    kNotCredited,     // the provider took the money; our order is not paid (the tenant waits)
    kUnknownOrder,    // the provider took money for an order number we never made
    kNotInStatement,  // we credited a payment the provider's statement does not have
    kAmountDiffers,   // the statement's amount is not the order's
    kStatusDiffers,   // revoked there and credited here, or paid with another transaction
    kLedgerDiffers,   // the order is paid but its ledger credit is missing or another amount
    kUnknownRefund,   // a refund at the provider we have no record of
    kDuplicateLine,   // the same payment twice in the statement
};
[[nodiscard]] std::string_view MismatchKindName(MismatchKind kind);

struct Mismatch {
    MismatchKind kind = MismatchKind::kNotCredited;
    std::string order_no;
    std::string transaction_id;
    AccountId account;                      // when the order is known
    std::optional<Money> statement_amount;  // what the statement says
    std::optional<Money> our_amount;        // what we have
    std::string statement_status;
    std::string our_status;
    int64_t row = 0;  // the statement's line; 0: not in the statement
    std::string detail;
};

struct ReconciliationResult {
    int64_t lines = 0;           // payment and refund lines read
    int64_t other_projects = 0;  // lines about other projects' orders: not ours to judge
    int64_t matched = 0;         // payments that agree in every respect
    Money statement_paid;        // the statement's payments of this project (paid ones)
    Money statement_refunded;    // its refunds of this project's orders or of unknown ones
    Money credited;              // what we credited for the day's payments of this provider
    std::vector<Mismatch> mismatches;
};

// Matches `lines` against `orders`: every order a line names (of any project), and every order of
// `project` paid on the statement's day at this provider. Each statement payment of `project`
// must be a paid order with the same transaction and amount and a ledger credit of that amount;
// each of the day's paid orders must be in the statement. Each refund line must be one of
// `refunds` (found by our refund number, else the provider's id) of the same amount, and one we
// did not give up on (failed: its money was put back on the account). Lines naming an order or
// refund of another project are only counted.
[[nodiscard]] ReconciliationResult Reconcile(ProjectId project,
                                             const std::vector<StatementLine>& lines,
                                             const std::vector<ReconciledOrder>& orders,
                                             const std::vector<ReconciledRefund>& refunds = {});

}  // namespace joule
