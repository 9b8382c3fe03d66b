// Refunds of paid orders through their provider via the API [PAY-2]: finance asks, the account is
// debited at once, the provider's answer settles it (the stub sandbox's here; WeChat Pay's and
// Alipay's in tests/e2e/payment_e2e_test.cpp); who may, and what a bad request gets.
#include <gtest/gtest.h>

#include "api/api_test_support.hpp"
#include "core/payment_ports.hpp"
#include "service/site_service.hpp"

namespace joule::api::test {
namespace {

ApiOptions WithSandbox() {
    ApiOptions o;
    o.payments = StubSandbox();
    return o;
}

class RefundApiTest : public ApiHarness {
protected:
    RefundApiTest() : ApiHarness(WithSandbox()) {}

    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        site.meters.push_back(service_test::SiteMeter(site, "m1"));
        ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
        ASSERT_TRUE(
            billing_
                .OpenAccount(service_test::TeaShop("mall", "A001", "m1", now_, Quantity{100'000}),
                             Actor{}, now_)
                .has_value());
        AddUser("fin", "finance", {"mall"});
        AddUser("eng", "engineering", {"mall"});
    }

    // A paid sandbox order of `amount`; its number.
    std::string PaidOrder(const Session& s, const std::string& amount) {
        auto order = As(s, "POST", "/api/v1/projects/mall/accounts/A001/payments",
                        Json{{"amount", amount}, {"provider", "sandbox"}}.dump());
        EXPECT_EQ(order.status, 201) << order.body;
        const std::string no = Body(order).value("order_no", "");
        EXPECT_EQ(As(s, "POST", "/api/v1/projects/mall/payments/" + no + "/sandbox-pay").status,
                  200);
        return no;
    }
    HttpResponse Refund(const Session& s, const std::string& order, const Json& body,
                        const std::string& key) {
        Headers headers;
        if (!key.empty()) {
            headers.emplace_back("idempotency-key", key);
        }
        return As(s, "POST", "/api/v1/projects/mall/payments/" + order + "/refunds", body.dump(),
                  headers);
    }
    std::string Paid() {
        return billing_.ViewAccount("mall", "A001").has_value()
                   ? std::to_string(billing_.ViewAccount("mall", "A001")->paid.fen)
                   : "";
    }
};

TEST_F(RefundApiTest, FinanceRefundsAPaidOrderOnceWhateverTheRepeats) {
    const Session fin = Login("fin");
    const std::string order = PaidOrder(fin, "88.00");
    ASSERT_EQ(Paid(), "8800");
    auto refunded = Refund(fin, order, {{"amount", "30.00"}, {"reason", "overpaid"}}, "rk-1");
    ASSERT_EQ(refunded.status, 201) << refunded.body;
    const Json refund = Body(refunded);
    EXPECT_EQ(refund["state"], "succeeded");
    EXPECT_EQ(refund["amount"], "30.00");
    EXPECT_EQ(refund["order_no"], order);
    EXPECT_EQ(refund["requested_by"], "fin");
    EXPECT_TRUE(refund["refund_no"].get<std::string>().starts_with("R"));
    EXPECT_EQ(refund["provider_refund_id"], "SBXR-" + refund["refund_no"].get<std::string>());
    EXPECT_EQ(Paid(), "5800");
    // The same key: the same refund, nothing more taken.
    auto again = Refund(fin, order, {{"amount", "30.00"}, {"reason", "overpaid"}}, "rk-1");
    ASSERT_EQ(again.status, 201) << again.body;
    EXPECT_EQ(Body(again)["refund_no"], refund["refund_no"]);
    EXPECT_EQ(Paid(), "5800");
    // More than is left of the order: refused, nothing taken.
    auto over = Refund(fin, order, {{"amount", "58.01"}, {"reason", "overpaid"}}, "rk-2");
    EXPECT_EQ(over.status, 409) << over.body;
    EXPECT_EQ(Body(over)["field"], "amount");
    EXPECT_EQ(Paid(), "5800");

    // The order shows its refunds.
    auto detail = As(fin, "GET", "/api/v1/projects/mall/payments/" + order);
    ASSERT_EQ(detail.status, 200);
    EXPECT_EQ(Body(detail)["refunded"], "30.00");
    ASSERT_EQ(Body(detail)["refunds"].size(), 1U);
    EXPECT_EQ(Body(detail)["refunds"][0]["state"], "succeeded");
}

TEST_F(RefundApiTest, ARefusalPutsTheMoneyBackAndAnUnansweredRefundWaits) {
    const Session fin = Login("fin");
    const std::string order = PaidOrder(fin, "50.00");
    auto refused = Refund(fin, order, {{"amount", "20.00"}, {"reason", "FAIL please"}}, "k-f");
    ASSERT_EQ(refused.status, 201) << refused.body;
    EXPECT_EQ(Body(refused)["state"], "failed");
    EXPECT_EQ(Paid(), "5000");  // back on the account
    auto slow = Refund(fin, order, {{"amount", "20.00"}, {"reason", "SLOW please"}}, "k-s");
    ASSERT_EQ(slow.status, 202) << slow.body;
    EXPECT_EQ(Body(slow)["state"], "requested");
    EXPECT_EQ(Paid(), "3000");  // taken while it goes back
    auto detail = As(fin, "GET", "/api/v1/projects/mall/payments/" + order);
    EXPECT_EQ(Body(detail)["refunded"], "20.00");  // the failed one does not count
}

TEST_F(RefundApiTest, OnlyFinanceWithAKeyRefundsAndBadRequestsChangeNothing) {
    const Session fin = Login("fin");
    const Session eng = Login("eng");
    const std::string order = PaidOrder(fin, "10.00");
    EXPECT_EQ(Refund(eng, order, {{"amount", "1.00"}, {"reason", "x"}}, "k-e").status, 403);
    auto no_key = Refund(fin, order, {{"amount", "1.00"}, {"reason", "x"}}, "");
    EXPECT_EQ(no_key.status, 400);
    EXPECT_EQ(Body(no_key)["field"], "Idempotency-Key");
    EXPECT_EQ(Body(Refund(fin, order, {{"amount", "1.001"}, {"reason", "x"}}, "k-1"))["field"],
              "amount");
    EXPECT_EQ(Body(Refund(fin, order, {{"amount", "1.00"}}, "k-2"))["field"], "reason");
    EXPECT_EQ(Refund(fin, "JNOSUCH000", {{"amount", "1.00"}, {"reason", "x"}}, "k-3").status, 404);
    // An unpaid order has nothing to refund.
    auto unpaid = As(fin, "POST", "/api/v1/projects/mall/accounts/A001/payments",
                     Json{{"amount", "5.00"}, {"provider", "sandbox"}}.dump());
    auto refused =
        Refund(fin, Body(unpaid)["order_no"], {{"amount", "1.00"}, {"reason", "x"}}, "k-4");
    EXPECT_EQ(refused.status, 409);
    EXPECT_EQ(Body(refused)["field"], "order");
    EXPECT_EQ(Paid(), "1000");
}

}  // namespace
}  // namespace joule::api::test
