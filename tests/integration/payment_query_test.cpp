// Orders asked about at WeChat Pay when their notification does not come [PAY-4]: the querier
// against a WeChat Pay API played by Node (integration/node_providers.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "app/payment_querier.hpp"
#include "app/provider_clients.hpp"
#include "notify/http_client.hpp"
#include "pay/alipay.hpp"
#include "pay/wechat_pay.hpp"
#include "service/billing_service.hpp"
#include "service/payment_service.hpp"
#include "service/service_test_support.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

#include "node_providers.hpp"

namespace joule {
namespace {

using Json = nlohmann::json;
using pay_test::FakeWechat;

class PaymentQueryTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_GT(wechat_.port, 0) << "node did not start the fake WeChat Pay";
        SiteSpec site = service_test::FlatSite("mall");
        site.meters.push_back(service_test::SiteMeter(site, "m1"));
        ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
        ASSERT_TRUE(
            billing_.OpenAccount(service_test::TeaShop("mall", "A001", "m1", now_), Actor{}, now_)
                .has_value());
    }

    PaymentOrderRecord Order(const std::string& no, int64_t fen,
                             const std::string& provider = "wechat") {
        auto order = payments_.CreateOrder(
            {"mall", "A001", Money{fen}, provider, provider == "wechat" ? "jsapi" : "wap", no},
            Actor{"tenant"}, now_);
        EXPECT_TRUE(order.has_value()) << order.error().ToString();
        return order.value_or(PaymentOrderRecord{});
    }
    Money Paid() { return billing_.ViewAccount("mall", "A001").value().paid; }
    app::PaymentQuerier Querier() {
        // The answers' timestamps are the fake's wall clock: so is this querier's `now`.
        return app::PaymentQuerier(
            *store_, payments_,
            {{"wechat",
              app::MakeWechatClient(wechat_.Config(), wechat_.MerchantKey(), wechat_.Base(), "")}},
            app::PaymentQueryOptions{Seconds{180}, Seconds{120}, Seconds{24 * 3600}, 50});
    }
    static Instant WallNow() {
        return std::chrono::floor<Seconds>(std::chrono::system_clock::now());
    }

    FakeWechat wechat_;
    service_test::TempFileStore store_;  // removed afterwards
    BillingService billing_{*store_};
    PaymentService payments_{*store_, billing_};
    Instant now_ = WallNow() - Seconds{600};  // the orders were made ten minutes ago
};

TEST_F(PaymentQueryTest, APaymentWhoseNotificationWasLostIsCreditedOnceByTheQuery) {
    Order("Q000001", 5000);  // paid at WeChat; its notification never came
    Order("Q000002", 3000);  // opened, not paid
    Order("Q000003", 2000);  // never opened at WeChat
    Order("Q000004", 1000);  // closed at WeChat
    wechat_.Set({{"order_no", "Q000001"},
                 {"state", "SUCCESS"},
                 {"amount", 5000},
                 {"transaction_id", "4200000000000001"}});
    wechat_.Set({{"order_no", "Q000002"}, {"state", "NOTPAY"}});
    wechat_.Set({{"order_no", "Q000004"}, {"state", "CLOSED"}});
    app::PaymentQuerier querier = Querier();
    const Instant now = WallNow();

    auto round = querier.RunOnce(now);
    ASSERT_TRUE(round.has_value()) << round.error().ToString();
    EXPECT_EQ(round->asked, 4);
    EXPECT_EQ(round->credited, 1);
    EXPECT_EQ(round->closed, 1);
    EXPECT_EQ(round->still_open, 2);
    EXPECT_EQ(round->failed, 0);
    EXPECT_EQ(Paid(), Money{5000});
    EXPECT_EQ(payments_.FindOrder("Q000001").value()->state, PaymentOrderState::kPaid);
    EXPECT_EQ(payments_.FindOrder("Q000001").value()->transaction_id, "4200000000000001");
    EXPECT_EQ(payments_.FindOrder("Q000004").value()->state, PaymentOrderState::kClosed);

    // Asked again only after `every`, and then only the orders still open.
    EXPECT_EQ(querier.RunOnce(now + Seconds{60}).value().asked, 0);
    wechat_.Set({{"order_no", "Q000002"},
                 {"state", "SUCCESS"},
                 {"amount", 3000},
                 {"transaction_id", "4200000000000002"}});
    auto later = querier.RunOnce(WallNow() + Seconds{121});
    ASSERT_TRUE(later.has_value());
    EXPECT_EQ(later->asked, 2);  // Q000002 and Q000003
    EXPECT_EQ(later->credited, 1);
    EXPECT_EQ(Paid(), Money{8000});
    const Json asked = wechat_.Asked();
    EXPECT_EQ(asked.value("Q000001", 0), 1);  // a paid order is never asked about again
    EXPECT_EQ(asked.value("Q000002", 0), 2);

    // The notification arriving after the query credits nothing more.
    PaymentNotification late;
    late.provider = "wechat";
    late.order_no = "Q000001";
    late.transaction_id = "4200000000000001";
    late.amount = Money{5000};
    late.paid = true;
    late.state = "SUCCESS";
    EXPECT_EQ(payments_.ConfirmPayment(late, WallNow()).value().outcome,
              PaymentOutcome::kAlreadyCredited);
    EXPECT_EQ(Paid(), Money{8000});
}

TEST_F(PaymentQueryTest, AnAnswerThatDoesNotVerifyCreditsNothing) {
    Order("Q000010", 5000);
    wechat_.Set({{"order_no", "Q000010"},
                 {"state", "SUCCESS"},
                 {"amount", 5000},
                 {"transaction_id", "4200000000000010"},
                 {"forged", true}});
    auto round = Querier().RunOnce(WallNow());
    ASSERT_TRUE(round.has_value());
    EXPECT_EQ(round->failed, 1);
    EXPECT_EQ(round->credited, 0);
    EXPECT_EQ(Paid(), Money{});
    EXPECT_EQ(payments_.FindOrder("Q000010").value()->state, PaymentOrderState::kCreated);
    // A merchant key WeChat does not know gets its call refused: nothing credited either.
    pay::WechatMerchantKey stranger = wechat_.MerchantKey();
    stranger.serial_no = "0000";
    app::PaymentQuerier wrong(
        *store_, payments_,
        {{"wechat", app::MakeWechatClient(wechat_.Config(), stranger, wechat_.Base(), "")}});
    auto refused = wrong.RunOnce(WallNow() + Seconds{121});
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->failed, 1);
    EXPECT_EQ(Paid(), Money{});
}

// alipay.trade.query, signed by our app key and answered signed by Alipay's (Node's crypto).
TEST_F(PaymentQueryTest, AlipayIsAskedAboutItsOrdersAsWell) {
    Order("QA00001", 8888, "alipay");  // paid at Alipay
    Order("QA00002", 1000, "alipay");  // waiting for the buyer
    Order("QA00003", 1000, "alipay");  // closed
    Order("QA00004", 1000, "alipay");  // never opened
    wechat_.Set({{"order_no", "QA00001"},
                 {"state", "TRADE_SUCCESS"},
                 {"amount", 8888},
                 {"transaction_id", "2026112322001400000009"}});
    wechat_.Set({{"order_no", "QA00002"}, {"state", "WAIT_BUYER_PAY"}, {"amount", 1000}});
    wechat_.Set({{"order_no", "QA00003"}, {"state", "TRADE_CLOSED"}, {"amount", 1000}});
    app::PaymentQuerier querier(
        *store_, payments_, {{"alipay", wechat_.Alipay()}},
        app::PaymentQueryOptions{Seconds{180}, Seconds{120}, Seconds{24 * 3600}, 50});
    auto round = querier.RunOnce(WallNow());
    ASSERT_TRUE(round.has_value()) << round.error().ToString();
    EXPECT_EQ(round->asked, 4);
    EXPECT_EQ(round->credited, 1);
    EXPECT_EQ(round->closed, 1);
    EXPECT_EQ(round->still_open, 2);
    EXPECT_EQ(round->failed, 0);
    EXPECT_EQ(Paid(), Money{8888});
    EXPECT_EQ(payments_.FindOrder("QA00001").value()->transaction_id, "2026112322001400000009");
    EXPECT_EQ(payments_.FindOrder("QA00003").value()->state, PaymentOrderState::kClosed);
    // An answer signed with another key than Alipay's credits nothing.
    Order("QA00005", 500, "alipay");
    wechat_.Set({{"order_no", "QA00005"},
                 {"state", "TRADE_SUCCESS"},
                 {"amount", 500},
                 {"transaction_id", "2026112322001400000010"}});
    auto c = std::make_shared<pay::AlipayConfig>();
    c->app_id = "2021000000000001";
    c->alipay_public_key_pem = wechat_.MerchantPublicKey();  // not Alipay's
    app::PaymentQuerier wrong(
        *store_, payments_,
        {{"alipay",
          app::MakeAlipayClient(c, wechat_.AlipayMerchant(), wechat_.Base() + "/gateway.do", "")}});
    auto refused = wrong.RunOnce(WallNow() + Seconds{121});
    ASSERT_TRUE(refused.has_value());
    EXPECT_GE(refused->failed, 1);
    EXPECT_EQ(refused->credited, 0);
    EXPECT_EQ(Paid(), Money{8888});
}

// A refund WeChat is still processing, or that could not be asked, is asked again with the same
// refund number until WeChat says it succeeded.
TEST_F(PaymentQueryTest, AnOpenRefundIsAskedAgainUntilItIsDone) {
    const PaymentOrderRecord order = Order("Q000030", 5000);
    PaymentNotification paid;
    paid.provider = "wechat";
    paid.order_no = order.order_no;
    paid.transaction_id = "4200000000000030";
    paid.amount = Money{5000};
    paid.paid = true;
    paid.state = "SUCCESS";
    ASSERT_EQ(payments_.ConfirmPayment(paid, now_).value().outcome, PaymentOutcome::kCredited);
    auto asked = payments_.RequestRefund(
        {"mall", order.order_no, Money{2000}, "moved out", "k1", "RQ000030"}, Actor{"finance"},
        now_);
    ASSERT_TRUE(asked.has_value()) << asked.error().ToString();
    EXPECT_EQ(Paid(), Money{3000});
    wechat_.RefundStatus("PROCESSING");
    app::PaymentQuerier querier = Querier();
    auto first = querier.RunOnce(WallNow());
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->refunds_asked, 1);  // never asked since it was made ten minutes ago
    EXPECT_EQ(first->refunds_settled, 0);
    EXPECT_EQ(payments_.RefundsOfOrder(order.order_no)->front().state, RefundState::kProcessing);
    EXPECT_EQ(querier.RunOnce(WallNow() + Seconds{60}).value().refunds_asked, 0);  // not yet
    wechat_.RefundStatus("SUCCESS");
    auto second = querier.RunOnce(WallNow() + Seconds{121});
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->refunds_settled, 1);
    const PaymentRefundRecord done = payments_.RefundsOfOrder(order.order_no)->front();
    EXPECT_EQ(done.state, RefundState::kSucceeded);
    EXPECT_EQ(done.tries, 2);
    EXPECT_EQ(wechat_.Refunds()["RQ000030"]["asked"], 2);  // one refund at WeChat, asked twice
    EXPECT_EQ(querier.RunOnce(WallNow() + Seconds{400}).value().refunds_asked, 0);
    EXPECT_EQ(Paid(), Money{3000});
}

TEST_F(PaymentQueryTest, OrdersAreAskedAboutOnlyAfterAFewMinutesAndNotForEver) {
    now_ = WallNow() - Seconds{60};  // a minute old: the notification may well be on its way
    Order("Q000020", 5000);
    now_ = WallNow() - Seconds{25 * 3600};  // a day old: reconciliation's now
    Order("Q000021", 5000);
    EXPECT_EQ(Querier().RunOnce(WallNow()).value().asked, 0);
    EXPECT_TRUE(wechat_.Asked().empty());
}

}  // namespace
}  // namespace joule
