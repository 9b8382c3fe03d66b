#include "service/payment_service.hpp"

#include <gtest/gtest.h>

#include <map>

#include <atomic>
#include <random>
#include <thread>

#include "service/service_test_support.hpp"
#include "service/site_service.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;

class PaymentServiceTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        for (const char* code : {"m1", "m2"}) {
            site.meters.push_back(service_test::SiteMeter(site, code));
        }
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
        for (const auto& [number, meter] : {std::pair{"A001", "m1"}, std::pair{"A002", "m2"}}) {
            OpenAccountRequest open;
            open.project_code = "mall";
            open.number = number;
            open.tenant_name = "Shop " + std::string(number);
            open.tariff_code = "flat";
            open.meters.push_back({meter, Kwh(100), std::nullopt});
            open.opened_at = T("2026-11-01T00:00:00Z");
            open.first_top_up = Money{1000};  // 10 yuan
            auto opened = billing_.OpenAccount(open, actor_, now_);
            ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
        }
    }

    PaymentOrderRecord Order(const std::string& no, Money amount, std::string account = "A001",
                             std::string provider = "wechat", std::string channel = "jsapi") {
        auto order = payments_.CreateOrder({"mall", account, amount, provider, channel, no},
                                           Actor{"tenant"}, now_);
        EXPECT_TRUE(order.has_value()) << order.error().ToString();
        return order.value_or(PaymentOrderRecord{});
    }

    static PaymentNotification Paid(const PaymentOrderRecord& o, std::string transaction,
                                    std::optional<Money> amount = std::nullopt) {
        PaymentNotification n;
        n.provider = o.provider;
        n.order_no = o.order_no;
        n.transaction_id = std::move(transaction);
        n.amount = amount.value_or(o.amount);
        n.paid = true;
        n.state = "SUCCESS";
        n.paid_at = T("2026-11-30T00:00:00Z");
        n.payer = "openid-1";
        return n;
    }

    // The outcome of confirming `n`; a failure fails the test (never read as an outcome).
    std::optional<PaymentOutcome> Outcome(const PaymentNotification& n) {
        auto confirmed = payments_.ConfirmPayment(n, now_);
        EXPECT_TRUE(confirmed.has_value()) << confirmed.error().ToString();
        return confirmed ? std::optional(confirmed->outcome) : std::nullopt;
    }

    Money PaidBalance(std::string_view number) {
        return billing_.ViewAccount("mall", number).value().paid;
    }
    std::vector<PaymentNotificationRecord> Log(std::string_view order_no) {
        auto tx = store_->Begin().value();
        return tx->Payments().ListPaymentNotifications(order_no).value();
    }

    Instant now_ = T("2026-11-30T00:00:00Z");
    PaymentService payments_{*store_, billing_};
};

TEST_F(PaymentServiceTest, AnOrderIsCheckedFieldByField) {
    struct Bad {
        CreatePaymentRequest request;
        const char* field = nullptr;
    };
    const Bad bad[] = {
        {{"mall", "A001", Money{0}, "wechat", "jsapi", "P000001"}, "amount"},
        {{"mall", "A001", Money{5'000'001}, "wechat", "jsapi", "P000001"}, "amount"},
        {{"mall", "A001", Money{100}, "paypal", "jsapi", "P000001"}, "provider"},
        {{"mall", "A001", Money{100}, "wechat", "page", "P000001"}, "channel"},
        {{"mall", "A001", Money{100}, "wechat", "jsapi", "P1"}, "order_no"},
        {{"mall", "A001", Money{100}, "wechat", "jsapi", "P 000001"}, "order_no"},
        {{"mall", "A404", Money{100}, "wechat", "jsapi", "P000001"}, "account_number"},
    };
    for (const Bad& b : bad) {
        auto order = payments_.CreateOrder(b.request, actor_, now_);
        ASSERT_FALSE(order.has_value()) << b.field;
        EXPECT_EQ(order.error().field, b.field) << order.error().ToString();
    }
    Order("P000001", Money{100});
    auto taken = payments_.CreateOrder({"mall", "A002", Money{100}, "alipay", "wap", "P000001"},
                                       actor_, now_);
    ASSERT_FALSE(taken.has_value());
    EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(taken.error().field, "order_no");
}

TEST_F(PaymentServiceTest, APaymentCreditsOnceAndItsRepeatsAreAcknowledged) {
    const PaymentOrderRecord order = Order("P000002", Money{5000});
    const Money before = PaidBalance("A001");
    auto first = payments_.ConfirmPayment(Paid(order, "4200000001"), now_);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->outcome, PaymentOutcome::kCredited);
    EXPECT_EQ(first->order.state, PaymentOrderState::kPaid);
    EXPECT_EQ(first->top_up.credited, Money{5000});
    for (int i = 0; i < 14; ++i) {
        auto again = payments_.ConfirmPayment(Paid(order, "4200000001"), now_);
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(again->outcome, PaymentOutcome::kAlreadyCredited);
    }
    EXPECT_EQ(PaidBalance("A001"), before + Money{5000});
    const auto stored = payments_.FindOrder("P000002").value().value();
    EXPECT_EQ(stored.state, PaymentOrderState::kPaid);
    EXPECT_EQ(stored.transaction_id, "4200000001");
    EXPECT_EQ(stored.payer, "openid-1");
    const auto log = Log("P000002");
    ASSERT_EQ(log.size(), 15U);
    EXPECT_EQ(log.front().outcome, "credited");
    EXPECT_EQ(log.back().outcome, "already_credited");
    ExpectLedgerBalanced();
}

TEST_F(PaymentServiceTest, APaymentToATrippedAccountQueuesTheCloseInTheSameUnitOfWork) {
    // 10 yuan at 1 yuan/kWh: 20 kWh puts A001 in arrears and trips it.
    ReadingItem item{"mall", "m1", ReadingInput{now_, now_, Kwh(120), false, {}}};
    ASSERT_TRUE(billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), now_).has_value());
    ASSERT_EQ(billing_.ViewAccount("mall", "A001").value().account.prepaid.state,
              PrepaidState::kTripped);
    const PaymentOrderRecord order = Order("P000003", Money{10000});
    auto paid = payments_.ConfirmPayment(Paid(order, "4200000002"), now_);
    ASSERT_TRUE(paid.has_value()) << paid.error().ToString();
    EXPECT_EQ(paid->top_up.state, PrepaidState::kNormal);
    auto tx = store_->Begin().value();
    const ProjectRecord project = tx->FindProject("mall").value().value();
    const auto commands = tx->ListCommands(project.id, 100).value();
    ASSERT_FALSE(commands.empty());
    EXPECT_EQ(commands.front().kind, "close");
    tx.reset();
    ExpectLedgerBalanced();
}

TEST_F(PaymentServiceTest, AWrongAmountOrASecondPaymentIsAlarmedNotCredited) {
    const PaymentOrderRecord order = Order("P000004", Money{5000});
    const Money before = PaidBalance("A001");
    auto wrong = payments_.ConfirmPayment(Paid(order, "4200000003", Money{500}), now_);
    ASSERT_TRUE(wrong.has_value());
    EXPECT_EQ(wrong->outcome, PaymentOutcome::kAmountMismatch);
    EXPECT_EQ(PaidBalance("A001"), before);
    EXPECT_EQ(payments_.FindOrder("P000004").value()->state, PaymentOrderState::kCreated);
    ASSERT_EQ(OpenAlarms(AlarmKind::kPaymentMismatch).size(), 1U);

    ASSERT_EQ(Outcome(Paid(order, "4200000004")), PaymentOutcome::kCredited);
    auto twice = payments_.ConfirmPayment(Paid(order, "4200000005"), now_);
    ASSERT_TRUE(twice.has_value());
    EXPECT_EQ(twice->outcome, PaymentOutcome::kDuplicatePayment);
    EXPECT_EQ(PaidBalance("A001"), before + Money{5000});
    EXPECT_EQ(payments_.FindOrder("P000004").value()->transaction_id, "4200000004");
    ExpectLedgerBalanced();
}

TEST_F(PaymentServiceTest, UnpaidNoticesCloseAnOrderAndUnknownOrdersAreRefusedButRecorded) {
    const PaymentOrderRecord order = Order("P000005", Money{3000}, "A002", "alipay", "wap");
    PaymentNotification waiting = Paid(order, "2026112100001");
    waiting.paid = false;
    waiting.state = "WAIT_BUYER_PAY";
    EXPECT_EQ(Outcome(waiting), PaymentOutcome::kUnpaid);
    EXPECT_EQ(payments_.FindOrder("P000005").value()->state, PaymentOrderState::kCreated);
    waiting.state = "TRADE_CLOSED";
    EXPECT_EQ(Outcome(waiting), PaymentOutcome::kUnpaid);
    EXPECT_EQ(payments_.FindOrder("P000005").value()->state, PaymentOrderState::kClosed);
    // The money came in after all: it is credited.
    EXPECT_EQ(Outcome(Paid(order, "2026112100001")), PaymentOutcome::kCredited);

    PaymentNotification stranger = Paid(order, "2026112100002");
    stranger.order_no = "P999999";
    auto unknown = payments_.ConfirmPayment(stranger, now_);
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(Log("P999999").size(), 1U);
    PaymentNotification other = Paid(order, "2026112100003");
    other.provider = "wechat";
    auto refused = payments_.ConfirmPayment(other, now_);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().field, "provider");
    ExpectLedgerBalanced();
}

TEST_F(PaymentServiceTest, APaymentTheAccountNoLongerTakesIsAlarmedAndAcknowledged) {
    const PaymentOrderRecord order = Order("P000006", Money{2500}, "A002");
    CloseAccountRequest close;
    close.project_code = "mall";
    close.account_number = "A002";
    close.final_readings.push_back({"m2", Kwh(100), std::nullopt});
    close.at = now_;
    ASSERT_TRUE(billing_.CloseAccount(close, actor_, now_).has_value());
    for (int i = 0; i < 3; ++i) {  // and each retry the same
        EXPECT_EQ(Outcome(Paid(order, "4200000006")), PaymentOutcome::kNotCredited);
    }
    EXPECT_EQ(payments_.FindOrder("P000006").value()->state, PaymentOrderState::kCreated);
    const auto alarms = OpenAlarms(AlarmKind::kPaymentMismatch);
    ASSERT_EQ(alarms.size(), 1U);
    EXPECT_NE(alarms.front().detail.find("not credited"), std::string::npos)
        << alarms.front().detail;
    const auto log = Log("P000006");
    ASSERT_EQ(log.size(), 3U);
    EXPECT_EQ(log.front().outcome, "not_credited");
    ExpectLedgerBalanced();
}

TEST_F(PaymentServiceTest, TheSandboxIsRefusedUnlessItIsOn) {
    auto order = payments_.CreateOrder(
        {"mall", "A001", Money{100}, "sandbox", "sandbox", "S000001"}, actor_, now_);
    ASSERT_FALSE(order.has_value());
    EXPECT_EQ(order.error().field, "provider");
    PaymentNotification n;
    n.provider = "sandbox";
    n.order_no = "S000001";
    n.transaction_id = "SBX-1";
    n.amount = Money{100};
    n.paid = true;
    auto confirmed = payments_.ConfirmPayment(n, now_);
    ASSERT_FALSE(confirmed.has_value());
    EXPECT_EQ(confirmed.error().field, "provider");

    PaymentService demo(*store_, billing_, PaymentOptions{.sandbox = true});
    auto made = demo.CreateOrder({"mall", "A001", Money{100}, "sandbox", "sandbox", "S000001"},
                                 actor_, now_);
    ASSERT_TRUE(made.has_value()) << made.error().ToString();
    auto paid = demo.ConfirmPayment(n, now_);
    ASSERT_TRUE(paid.has_value()) << paid.error().ToString();
    EXPECT_EQ(paid->outcome, PaymentOutcome::kCredited);
}

TEST_F(PaymentServiceTest, AnEventAboutNoOrderIsRecordedAndAcknowledged) {
    PaymentNotification refund;
    refund.provider = "wechat";
    refund.state = "REFUND.SUCCESS";
    EXPECT_EQ(Outcome(refund), PaymentOutcome::kUnpaid);
    refund.paid = true;
    refund.transaction_id = "x";
    refund.amount = Money{1};
    auto refused = payments_.ConfirmPayment(refund, now_);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().field, "order_no");
}

// Every notification replayed in the providers' retry counts (WeChat 15, Alipay 8), from several
// threads, shuffled, with unpaid notices among them, while a counter top-up and a reading batch
// hit the same account: one credit per payment, the ledger balanced.
TEST_F(PaymentServiceTest, ReplaysRacingEachOtherAndTheCounterCreditEachPaymentOnce) {
    std::vector<PaymentOrderRecord> orders;
    for (int i = 0; i < 6; ++i) {
        const bool wechat = i % 2 == 0;
        orders.push_back(Order("P1000" + std::to_string(i), Money{1000 + i}, "A001",
                               wechat ? "wechat" : "alipay", wechat ? "jsapi" : "wap"));
    }
    std::vector<PaymentNotification> notices;
    for (std::size_t i = 0; i < orders.size(); ++i) {
        const PaymentOrderRecord& o = orders[i];
        const int replays = o.provider == "wechat" ? 15 : 8;
        for (int k = 0; k < replays; ++k) {
            notices.push_back(Paid(o, "T" + std::to_string(i)));
        }
        PaymentNotification pending = Paid(o, "T" + std::to_string(i));
        pending.paid = false;
        pending.state = o.provider == "wechat" ? "NOTPAY" : "WAIT_BUYER_PAY";
        notices.push_back(pending);
    }
    std::mt19937 random(20261122);
    std::shuffle(notices.begin(), notices.end(), random);

    const Money before = PaidBalance("A001");
    std::atomic<std::size_t> next{0};
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            for (std::size_t i = next++; i < notices.size(); i = next++) {
                if (!payments_.ConfirmPayment(notices[i], now_))
                    ++failures;
            }
        });
    }
    threads.emplace_back([&] {
        TopUpRequest counter{"mall", "A001", Money{2000}, "cash", "counter-1", "R1"};
        if (!billing_.TopUp(counter, actor_, now_))
            ++failures;
        ReadingItem item{"mall", "m1", ReadingInput{now_, now_, Kwh(103), false, {}}};
        if (!billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), now_))
            ++failures;
    });
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_EQ(failures.load(), 0);
    int64_t paid_in = 0;
    for (const PaymentOrderRecord& o : orders) {
        const auto stored = payments_.FindOrder(o.order_no).value().value();
        EXPECT_EQ(stored.state, PaymentOrderState::kPaid) << o.order_no;
        paid_in += o.amount.fen;
        std::size_t credited = 0;
        for (const auto& n : Log(o.order_no)) {
            credited += n.outcome == "credited" ? 1U : 0U;
        }
        EXPECT_EQ(credited, 1U) << o.order_no;
    }
    // The payments and the counter top-up in, 3 kWh at 1 yuan out: each exactly once.
    EXPECT_EQ(PaidBalance("A001"), before + Money{paid_in} + Money{2000} - Money{300});
    ExpectLedgerBalanced();
}

// A day's statement against the orders: what agrees is matched, every mismatch is recorded and
// alarmed, and a statement of another day is refused [PAY-3].
TEST_F(PaymentServiceTest, AStatementIsReconciledAndEveryMismatchAlarmed) {
    const PaymentOrderRecord p1 = Order("P100001", Money{5000});
    const PaymentOrderRecord p2 = Order("P100002", Money{3000}, "A002");
    const PaymentOrderRecord p3 = Order("P100003", Money{2000});
    EXPECT_EQ(Outcome(Paid(p1, "T1")), PaymentOutcome::kCredited);
    EXPECT_EQ(Outcome(Paid(p2, "T2")), PaymentOutcome::kCredited);
    const auto line = [](int64_t row, const std::string& txn, const std::string& order,
                         int64_t fen) {
        StatementLine l;
        l.row = row;
        l.transaction_id = txn;
        l.order_no = order;
        l.amount = Money{fen};
        l.status = "SUCCESS";
        l.at = T("2026-11-30T00:00:00Z");  // 08:00 in Beijing
        return l;
    };
    ReconcileRequest request;
    request.project_code = "mall";
    request.provider = "wechat";
    request.lines = {line(2, "T1", "P100001", 5000), line(3, "T3", "P100003", 2000),
                     line(4, "T9", "X999999", 1000)};
    request.file_sha256 = "ab";
    auto done = payments_.Reconcile(request, actor_, now_);
    ASSERT_TRUE(done.has_value()) << done.error().ToString();
    EXPECT_EQ(done->run.bill_date, "2026-11-30");
    EXPECT_EQ(done->run.lines, 3);
    EXPECT_EQ(done->run.matched, 1);
    EXPECT_EQ(done->run.statement_paid, Money{8000});
    EXPECT_EQ(done->run.credited, Money{8000});  // P1 and P2 were credited that day
    std::map<std::string, std::string> kinds;
    for (const Mismatch& m : done->mismatches) {
        kinds.emplace(m.order_no, std::string(MismatchKindName(m.kind)));
    }
    EXPECT_EQ(kinds, (std::map<std::string, std::string>{{"P100002", "not_in_statement"},
                                                         {"P100003", "not_credited"},
                                                         {"X999999", "unknown_order"}}));
    // Each account with a mismatch and the project (for the unknown order) have an alarm.
    const auto alarms = OpenAlarms(AlarmKind::kPaymentMismatch);
    EXPECT_EQ(alarms.size(), 3U);

    auto again = payments_.GetReconciliation("mall", done->run.id);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->mismatches.size(), 3U);
    EXPECT_EQ(again->run.file_sha256, "ab");
    EXPECT_EQ(payments_.ListReconciliations("mall", 10).value().size(), 1U);
    auto missing = payments_.GetReconciliation("mall", done->run.id + 1);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().field, "reconciliation");

    // A line of another day: refused, nothing recorded.
    request.bill_date = CivilDate{date::year{2026} / 11 / 29};
    auto wrong_day = payments_.Reconcile(request, actor_, now_);
    ASSERT_FALSE(wrong_day.has_value());
    EXPECT_EQ(wrong_day.error().field, "date");
    request.provider = "paypal";
    EXPECT_EQ(payments_.Reconcile(request, actor_, now_).error().field, "provider");
    EXPECT_EQ(payments_.ListReconciliations("mall", 10).value().size(), 1U);
}

}  // namespace
}  // namespace joule

namespace joule {
namespace {

class RefundServiceTest : public PaymentServiceTest {
protected:
    PaymentOrderRecord PaidOrder(const std::string& no, Money amount) {
        PaymentOrderRecord o = Order(no, amount);
        EXPECT_EQ(Outcome(Paid(o, "T" + no)), PaymentOutcome::kCredited);
        return o;
    }
    Result<PaymentRefundRecord> Ask(const std::string& order_no, Money amount,
                                    const std::string& key, const std::string& refund_no) {
        return payments_.RequestRefund(
            {"mall", order_no, amount, "tenant moved out", key, refund_no}, Actor{"finance"}, now_);
    }
    static RefundAnswer Answer(RefundState state, std::string id = "50300000000001") {
        return RefundAnswer{state, std::move(id), std::string(RefundStateName(state))};
    }
};

TEST_F(RefundServiceTest, ARefundDebitsTheAccountAtOnceAndSucceedsWhenTheProviderSaysSo) {
    const PaymentOrderRecord order = PaidOrder("ORD0001", Money{5000});
    ASSERT_EQ(PaidBalance("A001"), Money{6000});
    auto asked = Ask(order.order_no, Money{2000}, "key-1", "RF0001");
    ASSERT_TRUE(asked.has_value()) << asked.error().ToString();
    EXPECT_EQ(asked->state, RefundState::kRequested);
    EXPECT_EQ(PaidBalance("A001"), Money{4000});  // not spendable while it goes back
    // The same key again: the same refund, nothing debited twice.
    auto again = Ask(order.order_no, Money{2000}, "key-1", "RF0002");
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->refund_no, "RF0001");
    EXPECT_EQ(PaidBalance("A001"), Money{4000});
    EXPECT_EQ(Ask(order.order_no, Money{100}, "key-1", "RF0003").error().code,
              ErrorCode::kAlreadyExists);

    auto processing = payments_.SettleRefund("RF0001", Answer(RefundState::kProcessing), now_);
    ASSERT_TRUE(processing.has_value());
    EXPECT_EQ(processing->state, RefundState::kProcessing);
    EXPECT_EQ(processing->tries, 1);
    auto done = payments_.SettleRefund("RF0001", Answer(RefundState::kSucceeded), now_);
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->state, RefundState::kSucceeded);
    EXPECT_EQ(done->provider_refund_id, "50300000000001");
    ASSERT_TRUE(done->finished_at.has_value());
    // Final: a late failure changes nothing.
    EXPECT_EQ(payments_.SettleRefund("RF0001", Answer(RefundState::kFailed), now_)->state,
              RefundState::kSucceeded);
    EXPECT_EQ(PaidBalance("A001"), Money{4000});
    ExpectLedgerBalanced();
}

TEST_F(RefundServiceTest, ARefusedOrClosedRefundPutsTheMoneyBackOnce) {
    const PaymentOrderRecord order = PaidOrder("ORD0002", Money{5000});
    const auto error = [](ErrorCode code, const char* message) {
        return Result<RefundAnswer>(std::unexpected(Error{code, message, "provider"}));
    };
    // Refused at its first ask: the money comes back, and finance hears of it.
    ASSERT_TRUE(Ask(order.order_no, Money{3000}, "k-a", "RF0101").has_value());
    EXPECT_EQ(PaidBalance("A001"), Money{3000});
    auto refused = payments_.SettleRefund(
        "RF0101", error(ErrorCode::kInvalidArgument, "NOT_ENOUGH: 基本账户余额不足"), now_);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->state, RefundState::kFailed);
    EXPECT_EQ(PaidBalance("A001"), Money{6000});
    EXPECT_EQ(OpenAlarms(AlarmKind::kPaymentMismatch).size(), 1U);
    // Answered again: still once.
    ASSERT_TRUE(payments_.SettleRefund("RF0101", Answer(RefundState::kFailed), now_));
    EXPECT_EQ(PaidBalance("A001"), Money{6000});

    // Not reached at first: once asked, an error never gives the money back (the provider may
    // have taken it); only its answer settles it.
    ASSERT_TRUE(Ask(order.order_no, Money{3000}, "k-b", "RF0102").has_value());
    auto unreachable =
        payments_.SettleRefund("RF0102", error(ErrorCode::kUnavailable, "timeout"), now_);
    ASSERT_TRUE(unreachable.has_value());
    EXPECT_EQ(unreachable->state, RefundState::kRequested);
    auto late_refusal = payments_.SettleRefund(
        "RF0102", error(ErrorCode::kInvalidArgument, "INVALID_REQUEST: 订单已全额退款"), now_);
    ASSERT_TRUE(late_refusal.has_value());
    EXPECT_EQ(late_refusal->state, RefundState::kRequested);
    EXPECT_EQ(PaidBalance("A001"), Money{3000});
    // A processing refund the provider then closes: the money comes back.
    ASSERT_TRUE(payments_.SettleRefund("RF0102", Answer(RefundState::kProcessing), now_));
    ASSERT_TRUE(
        payments_.SettleRefund("RF0102", error(ErrorCode::kInvalidArgument, "PARAM_ERROR"), now_));
    EXPECT_EQ(PaidBalance("A001"), Money{3000});
    EXPECT_EQ(payments_.SettleRefund("RF0102", Answer(RefundState::kFailed), now_)->state,
              RefundState::kFailed);
    EXPECT_EQ(PaidBalance("A001"), Money{6000});
    ExpectLedgerBalanced();
}

TEST_F(RefundServiceTest, NoMoreThanTheOrderOrTheBalanceIsRefunded) {
    const PaymentOrderRecord order = PaidOrder("ORD0003", Money{5000});
    ASSERT_TRUE(Ask(order.order_no, Money{4000}, "k1", "RF0201").has_value());
    auto over = Ask(order.order_no, Money{1001}, "k2", "RF0202");
    ASSERT_FALSE(over.has_value());
    EXPECT_EQ(over.error().field, "amount");
    ASSERT_TRUE(Ask(order.order_no, Money{1000}, "k3", "RF0203").has_value());
    EXPECT_EQ(PaidBalance("A001"), Money{1000});
    // Another order, more than the paid balance left: refused, nothing recorded.
    const PaymentOrderRecord unpaid = Order("ORD0004", Money{500});
    EXPECT_EQ(Ask(unpaid.order_no, Money{500}, "k4", "RF0204").error().field, "order");
    EXPECT_EQ(Ask("NOSUCHORDER", Money{500}, "k5", "RF0205").error().code, ErrorCode::kNotFound);
    EXPECT_EQ(Ask(order.order_no, Money{0}, "k6", "RF0206").error().field, "amount");
    EXPECT_EQ(Ask(order.order_no, Money{1}, "k7", "bad no").error().field, "refund_no");
    // An abnormal refund is alarmed for finance and stays debited.
    ASSERT_TRUE(payments_.SettleRefund("RF0201", Answer(RefundState::kAbnormal), now_));
    EXPECT_EQ(OpenAlarms(AlarmKind::kPaymentMismatch).size(), 1U);
    EXPECT_EQ(PaidBalance("A001"), Money{1000});
    EXPECT_EQ(payments_.RefundsOfOrder(order.order_no)->size(), 2U);
    ExpectLedgerBalanced();
}

}  // namespace
}  // namespace joule
