#include "core/reconciliation.hpp"

#include <set>
#include <unordered_map>

namespace joule {

std::string_view MismatchKindName(MismatchKind kind) {
    switch (kind) {
        case MismatchKind::kNotCredited:
            return "not_credited";
        case MismatchKind::kUnknownOrder:
            return "unknown_order";
        case MismatchKind::kNotInStatement:
            return "not_in_statement";
        case MismatchKind::kAmountDiffers:
            return "amount_differs";
        case MismatchKind::kStatusDiffers:
            return "status_differs";
        case MismatchKind::kLedgerDiffers:
            return "ledger_differs";
        case MismatchKind::kUnknownRefund:
            return "unknown_refund";
        case MismatchKind::kDuplicateLine:
            return "duplicate_line";
    }
    return "unknown";
}

namespace {

Mismatch Of(MismatchKind kind, const StatementLine& line, const ReconciledOrder* order,
            std::string detail) {
    Mismatch m;
    m.kind = kind;
    m.order_no = line.order_no;
    m.transaction_id = line.transaction_id;
    m.statement_amount = line.amount;
    m.statement_status = line.status;
    m.row = line.row;
    m.detail = std::move(detail);
    if (order != nullptr) {
        m.account = order->account;
        m.our_amount = order->amount;
        m.our_status = order->state;
    }
    return m;
}

}  // namespace

ReconciliationResult Reconcile(ProjectId project, const std::vector<StatementLine>& lines,
                               const std::vector<ReconciledOrder>& orders,
                               const std::vector<ReconciledRefund>& refunds) {
    ReconciliationResult out;
    std::unordered_map<std::string, const ReconciledOrder*> by_order;
    for (const ReconciledOrder& o : orders) {
        by_order.emplace(o.order_no, &o);
    }
    std::unordered_map<std::string, const ReconciledRefund*> by_refund;  // ours and theirs
    for (const ReconciledRefund& f : refunds) {
        by_refund.emplace(f.refund_no, &f);
        if (!f.provider_refund_id.empty()) {
            by_refund.emplace(f.provider_refund_id, &f);
        }
    }
    const auto refund_of = [&](const StatementLine& line) -> const ReconciledRefund* {
        for (const std::string* key : {&line.refund_no, &line.refund_id}) {
            if (!key->empty()) {
                if (auto it = by_refund.find(*key); it != by_refund.end()) {
                    return it->second;
                }
            }
        }
        return nullptr;
    };
    std::set<std::string> seen_refunds;
    std::set<std::string> seen_transactions;  // payments met in the statement
    std::set<std::string> seen_orders;
    for (const StatementLine& line : lines) {
        ++out.lines;
        const auto found = by_order.find(line.order_no);
        const ReconciledOrder* order = found == by_order.end() ? nullptr : found->second;
        if (order != nullptr && order->project != project) {
            ++out.other_projects;
            continue;
        }
        if (line.kind == StatementLineKind::kRefund) {
            const ReconciledRefund* refund = refund_of(line);
            if (refund != nullptr && refund->project != project) {
                ++out.other_projects;
                continue;
            }
            out.statement_refunded += line.amount;
            if (refund == nullptr) {
                out.mismatches.push_back(Of(MismatchKind::kUnknownRefund, line, order,
                                            "a refund of " + line.refund_id +
                                                " at the provider that the platform did not "
                                                "make"));
                continue;
            }
            if (!seen_refunds.insert(refund->refund_no).second) {
                out.mismatches.push_back(
                    Of(MismatchKind::kDuplicateLine, line, order,
                       "the statement lists refund " + refund->refund_no + " more than once"));
                continue;
            }
            Mismatch m = Of(MismatchKind::kAmountDiffers, line, order, "");
            m.account = refund->account;
            m.our_amount = refund->amount;
            m.our_status = refund->state;
            if (refund->amount != line.amount) {
                m.detail = "refund " + refund->refund_no + " is of another amount here";
                out.mismatches.push_back(std::move(m));
            } else if (refund->state == "failed") {
                // The worst case: refunded to the payer and put back on the account too.
                m.kind = MismatchKind::kStatusDiffers;
                m.detail = "refunded at the provider, but refund " + refund->refund_no +
                           " failed here and its money was put back on the account";
                out.mismatches.push_back(std::move(m));
            } else if (refund->state != "succeeded") {
                m.kind = MismatchKind::kStatusDiffers;
                m.detail = "refunded at the provider, refund " + refund->refund_no + " is " +
                           refund->state + " here";
                out.mismatches.push_back(std::move(m));
            } else {
                ++out.matched;
            }
            continue;
        }
        if (!seen_transactions.insert(line.transaction_id).second) {
            out.mismatches.push_back(Of(MismatchKind::kDuplicateLine, line, order,
                                        "the statement lists this payment more than once"));
            continue;
        }
        seen_orders.insert(line.order_no);
        if (line.paid) {
            out.statement_paid += line.amount;
        }
        if (order == nullptr) {
            out.mismatches.push_back(
                Of(MismatchKind::kUnknownOrder, line, nullptr,
                   line.paid ? "the provider took money for an order the platform never made"
                             : "an order the platform never made"));
            continue;
        }
        const bool ours_paid = order->state == "paid";
        if (!line.paid) {
            if (ours_paid && order->transaction_id == line.transaction_id) {
                out.mismatches.push_back(Of(MismatchKind::kStatusDiffers, line, order,
                                            "revoked at the provider, credited here"));
            } else {
                ++out.matched;  // revoked there, not credited here: they agree
            }
            continue;
        }
        if (!ours_paid) {
            out.mismatches.push_back(Of(MismatchKind::kNotCredited, line, order,
                                        "paid at the provider, the account was never credited"));
            continue;
        }
        if (order->transaction_id != line.transaction_id) {
            out.mismatches.push_back(Of(MismatchKind::kStatusDiffers, line, order,
                                        "the order was credited for transaction " +
                                            order->transaction_id + ", not this one"));
            continue;
        }
        if (order->amount != line.amount) {
            out.mismatches.push_back(Of(MismatchKind::kAmountDiffers, line, order,
                                        "the statement's amount is not the order's"));
            continue;
        }
        if (!order->credited || *order->credited != order->amount) {
            Mismatch m = Of(MismatchKind::kLedgerDiffers, line, order,
                            order->credited ? "the ledger credited another amount"
                                            : "the ledger has no credit for the payment");
            m.our_amount = order->credited;
            out.mismatches.push_back(std::move(m));
            continue;
        }
        ++out.matched;
    }
    // The day's credited payments the statement does not have.
    for (const ReconciledOrder& o : orders) {
        if (o.project != project || o.state != "paid" || !o.of_the_day) {
            continue;
        }
        out.credited += o.credited.value_or(Money{});
        if (seen_orders.contains(o.order_no)) {
            continue;
        }
        // Built in place: GCC 12 at -O3 warns falsely about a local copied in.
        Mismatch& m = out.mismatches.emplace_back();
        m.kind = MismatchKind::kNotInStatement;
        m.order_no = o.order_no;
        m.transaction_id = o.transaction_id;
        m.account = o.account;
        m.our_amount = o.amount;
        m.our_status = o.state;
        m.detail = "credited here, not in the provider's statement of the day";
    }
    return out;
}

}  // namespace joule
