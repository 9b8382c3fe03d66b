#include "core/reconciliation.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace joule {
namespace {

const ProjectId kMall{1};
const ProjectId kPark{2};

ReconciledOrder Paid(const std::string& order_no, int64_t fen, ProjectId project = kMall) {
    ReconciledOrder o;
    o.order_no = order_no;
    o.project = project;
    o.account = AccountId{7};
    o.state = "paid";
    o.transaction_id = "T" + order_no;
    o.amount = Money{fen};
    o.credited = Money{fen};
    o.of_the_day = true;
    return o;
}

StatementLine LineOf(const ReconciledOrder& o, int64_t row) {
    StatementLine l;
    l.row = row;
    l.transaction_id = o.transaction_id;
    l.order_no = o.order_no;
    l.amount = o.amount;
    l.status = "SUCCESS";
    return l;
}

std::map<std::string, MismatchKind> KindsByOrder(const ReconciliationResult& r) {
    std::map<std::string, MismatchKind> out;
    for (const Mismatch& m : r.mismatches) {
        out.emplace(m.order_no, m.kind);
    }
    return out;
}

TEST(Reconciliation, AStatementThatAgreesHasNoMismatch) {
    const std::vector<ReconciledOrder> orders{Paid("A", 10000), Paid("B", 2550)};
    const ReconciliationResult r =
        Reconcile(kMall, {LineOf(orders[0], 2), LineOf(orders[1], 3)}, orders);
    EXPECT_TRUE(r.mismatches.empty());
    EXPECT_EQ(r.matched, 2);
    EXPECT_EQ(r.statement_paid, Money{12550});
    EXPECT_EQ(r.credited, Money{12550});
}

TEST(Reconciliation, EveryKindOfMismatchIsNamed) {
    std::vector<ReconciledOrder> orders{Paid("ok", 100),        Paid("waiting", 500),
                                        Paid("short", 900),     Paid("missing", 300),
                                        Paid("other-txn", 400), Paid("no-ledger", 600),
                                        Paid("revoked", 700),   Paid("park", 800, kPark)};
    orders[1].state = "created";  // paid at the provider, never credited here
    orders[1].transaction_id = "";
    orders[1].credited.reset();
    orders[1].of_the_day = false;
    orders[5].credited = Money{599};
    std::vector<StatementLine> lines;
    int64_t row = 2;
    for (const ReconciledOrder& o : orders) {
        if (o.order_no != "missing") {
            lines.push_back(LineOf(o, row++));
        }
    }
    lines[1].transaction_id = "Twaiting";
    lines[2].amount = Money{990};          // short: the statement says 9.90, ours 9.00
    lines[3].transaction_id = "Tanother";  // other-txn
    lines[5].paid = false;                 // revoked
    lines[5].status = "REVOKED";
    StatementLine stranger;
    stranger.row = row++;
    stranger.transaction_id = "Tx-stranger";
    stranger.order_no = "nobody";
    stranger.amount = Money{5000};
    lines.push_back(stranger);
    lines.push_back(LineOf(orders[0], row++));  // "ok" listed twice
    StatementLine refund = LineOf(orders[0], row++);
    refund.kind = StatementLineKind::kRefund;
    refund.refund_id = "R1";
    refund.amount = Money{50};
    lines.push_back(refund);

    const ReconciliationResult r = Reconcile(kMall, lines, orders);
    EXPECT_EQ(r.other_projects, 1);
    EXPECT_EQ(r.matched, 1);
    std::multimap<std::string, std::string> got;
    for (const Mismatch& m : r.mismatches) {
        got.emplace(m.order_no, std::string(MismatchKindName(m.kind)));
    }
    const std::multimap<std::string, std::string> want{
        {"waiting", "not_credited"},     {"short", "amount_differs"},
        {"other-txn", "status_differs"}, {"no-ledger", "ledger_differs"},
        {"revoked", "status_differs"},   {"nobody", "unknown_order"},
        {"ok", "duplicate_line"},        {"ok", "unknown_refund"},
        {"missing", "not_in_statement"}};
    EXPECT_EQ(got, want);
    for (const Mismatch& m : r.mismatches) {
        if (m.order_no == "short") {
            EXPECT_EQ(m.statement_amount, Money{990});
            EXPECT_EQ(m.our_amount, Money{900});
            EXPECT_EQ(m.row, 4);
        }
        if (m.order_no == "missing") {
            EXPECT_EQ(m.row, 0);
            EXPECT_FALSE(m.statement_amount.has_value());
        }
        if (m.order_no == "no-ledger") {
            EXPECT_EQ(m.our_amount, Money{599});
        }
    }
    EXPECT_EQ(r.statement_refunded, Money{50});
}

// Property: a statement made from the day's orders with k of them corrupted at random has
// exactly k mismatches, one per corrupted order, of the kind the corruption makes.
TEST(Reconciliation, EachCorruptedLineIsOneMismatchOfItsKind) {
    std::mt19937_64 rng(20261123);
    for (int round = 0; round < 200; ++round) {
        std::vector<ReconciledOrder> orders;
        const int n = 1 + static_cast<int>(rng() % 40);
        orders.reserve(static_cast<std::size_t>(n));
        for (int i = 0; i < n; ++i) {
            orders.push_back(
                Paid("J" + std::to_string(i), 1 + static_cast<int64_t>(rng() % 5'000'000)));
        }
        std::vector<StatementLine> lines;
        std::map<std::string, MismatchKind> want;
        for (int i = 0; i < n; ++i) {
            StatementLine line = LineOf(orders[static_cast<std::size_t>(i)], i + 2);
            switch (rng() % 6) {
                case 0:
                    want.emplace(line.order_no, MismatchKind::kNotInStatement);
                    continue;  // dropped from the statement
                case 1:
                    line.amount += Money{1};
                    want.emplace(line.order_no, MismatchKind::kAmountDiffers);
                    break;
                case 2:
                    orders[static_cast<std::size_t>(i)].credited.reset();
                    want.emplace(line.order_no, MismatchKind::kLedgerDiffers);
                    break;
                default:
                    break;
            }
            lines.push_back(line);
        }
        std::shuffle(lines.begin(), lines.end(), rng);
        const ReconciliationResult r = Reconcile(kMall, lines, orders);
        ASSERT_EQ(KindsByOrder(r), want) << "round " << round;
        ASSERT_EQ(r.matched + static_cast<int64_t>(want.size()), n);
    }
}

}  // namespace
}  // namespace joule

namespace joule {
namespace {

StatementLine RefundLine(const std::string& order_no, const std::string& refund_no, int64_t fen,
                         int64_t row, const std::string& provider_id = "") {
    StatementLine l;
    l.row = row;
    l.kind = StatementLineKind::kRefund;
    l.transaction_id = "T" + order_no;
    l.order_no = order_no;
    l.refund_no = refund_no;
    l.refund_id = provider_id.empty() ? "503" + refund_no : provider_id;
    l.amount = Money{fen};
    l.status = "REFUND";
    return l;
}

ReconciledRefund Ours(const std::string& order_no, const std::string& refund_no, int64_t fen,
                      std::string state = "succeeded", ProjectId project = kMall) {
    return ReconciledRefund{refund_no,    "503" + refund_no, order_no,        project,
                            AccountId{7}, Money{fen},        std::move(state)};
}

TEST(Reconciliation, RefundsAreMatchedWithOursAndEveryDisagreementNamed) {
    const std::vector<ReconciledOrder> orders{Paid("A", 10000), Paid("P", 5000, kPark)};
    const std::vector<ReconciledRefund> refunds{
        Ours("A", "R-ok", 1000), Ours("A", "R-amount", 2000), Ours("A", "R-failed", 500, "failed"),
        Ours("A", "R-open", 300, "processing"), Ours("P", "R-park", 100, "succeeded", kPark)};
    std::vector<StatementLine> lines{LineOf(orders[0], 2),
                                     RefundLine("A", "R-ok", 1000, 3),
                                     RefundLine("A", "R-amount", 2500, 4),
                                     RefundLine("A", "R-failed", 500, 5),
                                     RefundLine("A", "R-open", 300, 6),
                                     RefundLine("A", "R-stray", 50, 7),
                                     RefundLine("P", "R-park", 100, 8),
                                     RefundLine("A", "R-ok", 1000, 9)};
    // Found by the provider's id when the statement lacks our number.
    lines.push_back(RefundLine("A", "", 1000, 10, "503R-ok"));
    const ReconciliationResult r = Reconcile(kMall, lines, orders, refunds);
    std::map<int64_t, MismatchKind> by_row;
    for (const Mismatch& m : r.mismatches) {
        by_row.emplace(m.row, m.kind);
    }
    EXPECT_EQ(r.matched, 2);  // the payment and R-ok
    EXPECT_EQ(r.other_projects, 1);
    EXPECT_EQ(by_row.size(), 6U);
    EXPECT_EQ(by_row.at(4), MismatchKind::kAmountDiffers);
    EXPECT_EQ(by_row.at(5), MismatchKind::kStatusDiffers);  // refunded there, money back here
    EXPECT_EQ(by_row.at(6), MismatchKind::kStatusDiffers);  // still open here
    EXPECT_EQ(by_row.at(7), MismatchKind::kUnknownRefund);
    EXPECT_EQ(by_row.at(9), MismatchKind::kDuplicateLine);
    EXPECT_EQ(by_row.at(10), MismatchKind::kDuplicateLine);  // R-ok again, by WeChat's id
    EXPECT_EQ(r.statement_refunded, Money{1000 + 2500 + 500 + 300 + 50 + 1000 + 1000});
}

}  // namespace
}  // namespace joule
