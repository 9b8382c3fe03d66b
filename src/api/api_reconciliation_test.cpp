// Reconciliation through the API [PAY-3]: a statement file uploaded by finance, matched with the
// orders and the ledger, its mismatches listed and alarmed; who may, and what a bad file gets.
#include <gtest/gtest.h>

#include <algorithm>

#include "api/api_test_support.hpp"
#include "core/payment_ports.hpp"
#include "pay/statement.hpp"
#include "service/site_service.hpp"

namespace joule::api::test {
namespace {

std::string TradeBill(const std::vector<std::array<std::string, 4>>& lines);

ApiOptions WithSandbox() {
    ApiOptions o;
    o.payments = StubSandbox();
    o.payments.parse_statement = [](std::string_view provider, std::string_view bytes) {
        return pay::ParseStatement(provider, bytes);
    };
    // WeChat's statements, as the provider client fetches them: the 20th's, none on the 18th
    // (no trade), not ready on the 19th, a file that does not verify on the 21st.
    o.payments.statement_providers = {"wechat"};
    o.payments.download_statement = [](std::string_view, CivilDate day,
                                       Instant) -> Result<std::optional<std::string>> {
        const std::string d = FormatDate(day);
        if (d == "2026-11-18") {
            return std::optional<std::string>();
        }
        if (d == "2026-11-19") {
            return MakeError(ErrorCode::kUnavailable, "STATEMENT_CREATING: 账单生成中");
        }
        if (d == "2026-11-21") {
            return MakeError(ErrorCode::kUnauthenticated, "not the file named", "file");
        }
        return std::optional<std::string>(
            TradeBill({{d + " 09:15:00", "T-stray", "J000stray", "12.50"}}));
    };
    return o;
}

// A trade bill (WeChat's format, the sandbox's too) of (time, transaction, order, amount) lines.
std::string TradeBill(const std::vector<std::array<std::string, 4>>& lines) {
    std::string bill =
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
        "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
        "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
        "费率备注\n";
    int64_t settled = 0;
    for (const auto& [time, txn, order, amount] : lines) {
        for (const std::string& part :
             {"`" + time, std::string("`wx1,`19000,`0,`"), "`" + txn, "`" + order,
              std::string("`o1,`JSAPI,`SUCCESS,`CMC,`CNY"), "`" + amount,
              std::string("`0.00,`,`,`0.00,`0.00,`,`,`电费,`,`0.00,`0.60%"), "`" + amount,
              std::string("`0.00,`\n")}) {
            bill.append(part).append(part.ends_with('\n') ? "" : ",");
        }
        const auto dot = amount.find('.');
        settled += std::stoll(amount.substr(0, dot)) * 100 + std::stoll(amount.substr(dot + 1));
    }
    bill +=
        "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
        "申请退款总金额\n";
    bill += "`" + std::to_string(lines.size()) + ",`" + std::to_string(settled / 100) + "." +
            (settled % 100 < 10 ? "0" : "") + std::to_string(settled % 100) +
            ",`0.00,`0.00,`0.00,`0.00,`0.00\n";
    return bill;
}

class ReconciliationApiTest : public ApiHarness {
protected:
    ReconciliationApiTest() : ApiHarness(WithSandbox()) {}

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

    HttpResponse Upload(const Session& s, const std::string& query, std::string file) {
        return As(s, "POST", "/api/v1/projects/mall/reconciliations" + query, std::move(file),
                  {{"content-type", "text/csv"}});
    }
};

TEST_F(ReconciliationApiTest, AStatementIsMatchedAndItsMismatchesListed) {
    const Session fin = Login("fin");
    auto order = As(fin, "POST", "/api/v1/projects/mall/accounts/A001/payments",
                    Json{{"amount", "88.00"}, {"provider", "sandbox"}}.dump());
    ASSERT_EQ(order.status, 201) << order.body;
    const std::string order_no = Body(order)["order_no"];
    ASSERT_EQ(As(fin, "POST", "/api/v1/projects/mall/payments/" + order_no + "/sandbox-pay").status,
              200);

    // 08:00 in Beijing is now_ (2026-11-20T00:00:00Z): the statement of 2026-11-20.
    const std::string bill = TradeBill({{"2026-11-20 08:00:00", "T-" + order_no, order_no, "88.00"},
                                        {"2026-11-20 09:15:00", "T-stray", "J000stray", "12.50"}});
    auto done = Upload(fin, "?provider=sandbox", bill);
    ASSERT_EQ(done.status, 201) << done.body;
    const Json run = Body(done);
    EXPECT_EQ(run["bill_date"], "2026-11-20");
    EXPECT_EQ(run["lines"], 2);
    EXPECT_EQ(run["matched"], 1);
    EXPECT_EQ(run["mismatches"], 1);
    EXPECT_EQ(run["statement_paid"], "100.50");
    EXPECT_EQ(run["credited"], "88.00");
    EXPECT_EQ(run["imported_by"], "fin");
    ASSERT_EQ(run["mismatch_list"].size(), 1U);
    EXPECT_EQ(run["mismatch_list"][0]["kind"], "unknown_order");
    EXPECT_EQ(run["mismatch_list"][0]["order_no"], "J000stray");
    EXPECT_EQ(run["mismatch_list"][0]["statement_amount"], "12.50");
    EXPECT_EQ(run["mismatch_list"][0]["our_amount"], "");
    EXPECT_EQ(run["mismatch_list"][0]["row"], 3);

    auto listed = As(fin, "GET", "/api/v1/projects/mall/reconciliations");
    ASSERT_EQ(listed.status, 200);
    EXPECT_EQ(Body(listed)["total"], 1);
    const std::string id = std::to_string(run["id"].get<int64_t>());
    auto one = As(fin, "GET", "/api/v1/projects/mall/reconciliations/" + id);
    ASSERT_EQ(one.status, 200);
    EXPECT_EQ(Body(one)["mismatch_list"].size(), 1U);
    EXPECT_EQ(As(fin, "GET", "/api/v1/projects/mall/reconciliations/999").status, 404);
    // The unknown order's money is alarmed to finance.
    auto alarms = As(fin, "GET", "/api/v1/projects/mall/alarms");
    EXPECT_NE(alarms.body.find("payment_mismatch"), std::string::npos);
}

TEST_F(ReconciliationApiTest, ABadFileOrCallChangesNothing) {
    const Session fin = Login("fin");
    const std::string bill = TradeBill({{"2026-11-20 08:00:00", "T1", "J1", "1.00"}});
    // Cut off before its totals; of another day; a provider nobody knows; no provider.
    const auto cut = Upload(fin, "?provider=wechat", bill.substr(0, bill.find("总交易单数")));
    EXPECT_EQ(cut.status, 400);
    EXPECT_EQ(Body(cut)["field"], "file");
    const auto other_day = Upload(fin, "?provider=wechat&date=2026-11-19", bill);
    EXPECT_EQ(other_day.status, 400);
    EXPECT_EQ(Body(other_day)["field"], "date");
    EXPECT_EQ(Body(Upload(fin, "?provider=paypal", bill))["field"], "provider");
    EXPECT_EQ(Body(Upload(fin, "", bill))["field"], "provider");
    EXPECT_EQ(Body(Upload(fin, "?provider=wechat", ""))["field"], "body");
    EXPECT_EQ(Body(Upload(fin, "?provider=wechat&date=20261120", bill))["field"], "date");
    // Engineering may not import statements.
    EXPECT_EQ(Upload(Login("eng"), "?provider=wechat", bill).status, 403);
    EXPECT_EQ(Body(As(fin, "GET", "/api/v1/projects/mall/reconciliations"))["total"], 0);
}

TEST_F(ReconciliationApiTest, AStatementIsFetchedFromItsProviderNow) {
    const Session fin = Login("fin");
    const auto fetch = [&](const Json& body) {
        return As(fin, "POST", "/api/v1/projects/mall/reconciliations/fetch", body.dump());
    };
    auto done = fetch({{"provider", "wechat"}, {"date", "2026-11-20"}});
    ASSERT_EQ(done.status, 201) << done.body;
    EXPECT_EQ(Body(done)["bill_date"], "2026-11-20");
    EXPECT_EQ(Body(done)["lines"], 1);
    EXPECT_EQ(Body(done)["imported_by"], "fin");
    EXPECT_EQ(Body(done)["mismatch_list"][0]["kind"], "unknown_order");
    EXPECT_EQ(Body(done)["file_sha256"].get<std::string>().size(), 64U);
    const auto location = std::find_if(done.headers.begin(), done.headers.end(),
                                       [](const auto& h) { return h.first == "Location"; });
    ASSERT_NE(location, done.headers.end());
    EXPECT_NE(location->second.find("/reconciliations/"), std::string::npos);
    // A day without any trade: reconciled, nothing in it.
    auto empty = fetch({{"provider", "wechat"}, {"date", "2026-11-18"}});
    ASSERT_EQ(empty.status, 201) << empty.body;
    EXPECT_EQ(Body(empty)["lines"], 0);
    EXPECT_EQ(Body(empty)["file_sha256"], "");
    // Not ready, or not verifying: 503 naming the provider (never a 401 that signs finance out).
    for (const char* day : {"2026-11-19", "2026-11-21"}) {
        auto later = fetch({{"provider", "wechat"}, {"date", day}});
        EXPECT_EQ(later.status, 503) << day;
        EXPECT_EQ(Body(later)["field"], "provider");
    }
    // A provider this server does not call, bad requests, someone without the right.
    auto alipay = fetch({{"provider", "alipay"}, {"date", "2026-11-20"}});
    EXPECT_EQ(alipay.status, 409);
    EXPECT_EQ(Body(alipay)["field"], "provider");
    EXPECT_EQ(Body(fetch({{"provider", "wechat"}, {"date", "2026-11-31"}}))["field"], "date");
    EXPECT_EQ(Body(fetch({{"provider", "wechat"}}))["field"], "date");
    EXPECT_EQ(fetch({{"provider", "wechat"}, {"date", "2026-11-20"}, {"x", 1}}).status, 400);
    EXPECT_EQ(As(Login("eng"), "POST", "/api/v1/projects/mall/reconciliations/fetch",
                 Json{{"provider", "wechat"}, {"date", "2026-11-20"}}.dump())
                  .status,
              403);
    EXPECT_EQ(Body(As(fin, "GET", "/api/v1/projects/mall/reconciliations"))["total"], 2);
    // What the console offers: statements of WeChat only.
    const Json providers = Body(As(Login("eng"), "GET", "/api/v1/payments/providers"));
    EXPECT_EQ(providers["statements"], Json::array({"wechat"}));
    EXPECT_EQ(providers["orders"], Json::array({"sandbox"}));
}

}  // namespace
}  // namespace joule::api::test
