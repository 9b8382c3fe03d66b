// Payments through the real `joule serve` over loopback [PAY-2]: the sandbox provider paying an
// order; WeChat Pay notifications signed by Node's crypto (tests/pay/provider_http.mjs, not our
// code) — forged ones refused with nothing credited, a genuine one replayed 15 times at once
// credited once; and the server killed with SIGKILL at seeded random moments while notifications
// pour in, then restarted and sent everything again as providers do until acknowledged: every
// acknowledged payment, and in the end every payment, is credited exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "e2e_site.hpp"
#include "e2e_support.hpp"
#include "http_client.hpp"

namespace {

using namespace joule::e2e;  // NOLINT(google-build-using-namespace): test support
using Json = nlohmann::json;

struct Notification {
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

class PaymentE2eTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("joule-pay-e2e-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        db_ = dir_ / "pay.db";
        ASSERT_NO_FATAL_FAILURE(CreateMallWithOneAccount(dir_, db_));
        ASSERT_EQ(Node({"keys", dir_.string()}), 0);
        config_ = Json::parse(ReadFile(dir_ / "config.json"));
        // WeChat Pay's and Alipay's APIs and WeChat's OAuth, played by Node on loopback.
        provider_ = std::make_unique<Process>(
            std::vector<std::string>{std::string(JOULE_SOURCE_DIR) + "/tests/pay/provider_http.mjs",
                                     "serve", dir_.string(), (dir_ / "provider.json").string()},
            dir_ / "provider.log", "node");
        for (int i = 0; i < 100 && !fs::exists(dir_ / "provider.json"); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const Json provider = Json::parse(ReadFile(dir_ / "provider.json"), nullptr, false);
        ASSERT_TRUE(provider.is_object()) << ReadFile(dir_ / "provider.log");
        provider_port_ = provider.value("port", 0);
        public_url_ = "https://joule.example.com";
        port_ = FreePort();
        dtu_port_ = FreePort();
        Start();
        const std::string log = ReadFile(dir_ / "serve.log");
        const std::string password = FirstAdminPassword(log);
        ASSERT_FALSE(password.empty()) << log;
        const Reply r = Send(port_, http::verb::post, "/api/v1/auth/login",
                             Json{{"username", "admin"}, {"password", password}}.dump());
        ASSERT_EQ(r.status, 200) << r.body;
        cookie_ = r.set_cookie.substr(0, r.set_cookie.find(';'));
        csrf_ = r.json().value("csrf_token", std::string());
    }
    void TearDown() override {
        server_.reset();
        if (!HasFailure()) {
            fs::remove_all(dir_);
        }
    }

    void Start() {
        server_ = std::make_unique<Process>(
            std::vector<std::string>{
                "serve", "--db", db_.string(), "--http", "127.0.0.1:" + std::to_string(port_),
                "--dtu-listen", "127.0.0.1:" + std::to_string(dtu_port_), "--no-access-log",
                "--payments-sandbox", "--wechat-app-id", config_["app_id"].get<std::string>(),
                "--wechat-mch-id", config_["mch_id"].get<std::string>(), "--wechat-api-v3-key-file",
                (dir_ / "apiv3.key").string(), "--wechat-platform-key",
                config_["serial"].get<std::string>() + "=" + (dir_ / "platform.pub.pem").string(),
                "--alipay-app-id", config_["alipay_app_id"].get<std::string>(),
                "--alipay-seller-id", config_["alipay_seller_id"].get<std::string>(),
                "--alipay-public-key-file", (dir_ / "alipay.pub.pem").string(),
                // Our calls: orders, queries and the payers' openid, to Node's providers.
                "--public-url", public_url_, "--wechat-merchant-serial",
                config_["merchant_serial"].get<std::string>(), "--wechat-merchant-key-file",
                (dir_ / "merchant.key.pem").string(), "--wechat-api-base", ProviderBase(),
                "--wechat-app-secret-file", (dir_ / "wechat_app_secret").string(),
                "--wechat-oauth-base", ProviderBase(), "--wechat-oauth-api-base", ProviderBase(),
                "--alipay-private-key-file", (dir_ / "alipay_app.key.pem").string(),
                "--alipay-gateway", ProviderBase() + "/gateway.do", "--tenant-show-codes"},
            dir_ / ("serve-" + std::to_string(starts_++) + ".log"));
        ASSERT_TRUE(WaitForHttpApi(dir_ / ("serve-" + std::to_string(starts_ - 1) + ".log")))
            << ReadFile(dir_ / ("serve-" + std::to_string(starts_ - 1) + ".log"));
        if (starts_ == 1) {
            fs::copy_file(dir_ / "serve-0.log", dir_ / "serve.log");
        }
    }

    int Node(const std::vector<std::string>& args) {
        std::string command =
            "node " + std::string(JOULE_SOURCE_DIR) + "/tests/pay/provider_http.mjs";
        for (const std::string& a : args) {
            command += " '" + a + "'";
        }
        return Shell(command + " > " + (dir_ / "node.log").string() + " 2>&1");
    }

    Reply As(http::verb method, const std::string& target, const std::string& body = "") {
        return Send(port_, method, target, body, {{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}});
    }
    std::string Paid() {
        const Reply r = As(http::verb::get, "/api/v1/projects/e2e/accounts/S101");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json()["balance"]["paid"].get<std::string>();
    }
    std::string ProviderBase() const {
        return "http://127.0.0.1:" + std::to_string(provider_port_);
    }
    // A call to Node's providers (their /mock/ controls, or a page a payer opens).
    Reply AtProvider(http::verb method, const std::string& target, const std::string& body = "") {
        return Send(provider_port_, method, target, body);
    }
    std::string NewOrder(const std::string& provider, const std::string& amount) {
        // WeChat's Native: the only channel the staff API can make without a payer's openid.
        Json body{{"provider", provider}, {"amount", amount}};
        if (provider == "wechat") {
            body["channel"] = "native";
        }
        const Reply r =
            As(http::verb::post, "/api/v1/projects/e2e/accounts/S101/payments", body.dump());
        EXPECT_EQ(r.status, 201) << r.body;
        return r.json().value("order_no", std::string());
    }
    // `provider`'s notifications for `orders` (order_no, fen, transaction, variant), signed by
    // Node.
    std::vector<Notification> Signed(const Json& orders, const std::string& provider = "wechat") {
        std::ofstream(dir_ / "orders.json") << orders.dump();
        EXPECT_EQ(Node({provider, dir_.string(), (dir_ / "orders.json").string(),
                        (dir_ / "notifications.json").string()}),
                  0)
            << ReadFile(dir_ / "node.log");
        std::vector<Notification> out;
        for (const Json& n : Json::parse(ReadFile(dir_ / "notifications.json"))) {
            Notification one;
            for (const auto& [name, value] : n["headers"].items()) {
                one.headers.emplace_back(name, value.get<std::string>());
            }
            one.body = n["body"];
            out.push_back(std::move(one));
        }
        return out;
    }
    // An order made at `provider` and paid there: its signed notification posted to us.
    std::string PaidOrder(const std::string& provider, const std::string& amount, int64_t fen,
                          const std::string& transaction) {
        const std::string order = NewOrder(provider, amount);
        const Notification n = Signed(Json::array({{{"order_no", order},
                                                    {"amount", fen},
                                                    {"transaction_id", transaction},
                                                    {"variant", "valid"}}}),
                                      provider)[0];
        const Reply r =
            Send(port_, http::verb::post, "/api/v1/pay/notify/" + provider, n.body, n.headers);
        EXPECT_TRUE(r.status == 204 || r.status == 200) << r.body;
        return order;
    }
    Reply Post(const Notification& n) {
        return Send(port_, http::verb::post, "/api/v1/pay/notify/wechat", n.body, n.headers);
    }
    int64_t Credited(const std::string& order_no) {
        return Query(db_,
                     "SELECT COUNT(*) FROM payment_notifications WHERE outcome = 'credited' "
                     "AND order_no = '" +
                         order_no + "'");
    }

    fs::path dir_;
    fs::path db_;
    Json config_;
    int port_ = 0;
    int dtu_port_ = 0;
    int starts_ = 0;
    std::unique_ptr<Process> server_;
    std::unique_ptr<Process> provider_;
    int provider_port_ = 0;
    std::string public_url_;
    std::string cookie_;
    std::string csrf_;
};

TEST_F(PaymentE2eTest, TheSandboxPaysAnOrderThroughTheNotificationPath) {
    ASSERT_EQ(Paid(), "10.00");
    const std::string order = NewOrder("sandbox", "50.00");
    ASSERT_FALSE(order.empty());
    const Reply paid =
        As(http::verb::post, "/api/v1/projects/e2e/payments/" + order + "/sandbox-pay");
    ASSERT_EQ(paid.status, 200) << paid.body;
    EXPECT_EQ(paid.json()["outcome"], "credited");
    EXPECT_EQ(paid.json()["order"]["state"], "paid");
    EXPECT_EQ(Paid(), "60.00");
    // Paying it again is refused: the order is paid.
    const Reply again =
        As(http::verb::post, "/api/v1/projects/e2e/payments/" + order + "/sandbox-pay");
    EXPECT_EQ(again.status, 409) << again.body;
    EXPECT_EQ(Paid(), "60.00");
    const Reply detail = As(http::verb::get, "/api/v1/projects/e2e/payments/" + order);
    ASSERT_EQ(detail.status, 200) << detail.body;
    ASSERT_EQ(detail.json()["notifications"].size(), 1U);
    EXPECT_EQ(detail.json()["notifications"][0]["outcome"], "credited");
    const Reply list = As(http::verb::get, "/api/v1/projects/e2e/accounts/S101/payments");
    ASSERT_EQ(list.status, 200) << list.body;
    EXPECT_EQ(list.json()["total"], 1);
    // A forged sandbox notification is refused and recorded, and credits nothing.
    const Reply forged =
        Send(port_, http::verb::post, "/api/v1/pay/notify/sandbox",
             R"({"out_trade_no":")" + order +
                 R"(","transaction_id":"X","amount":100,"state":"SUCCESS","timestamp":1})",
             {{"X-Sandbox-Signature", std::string(64, '0')}});
    EXPECT_EQ(forged.status, 401) << forged.body;
    EXPECT_EQ(Paid(), "60.00");
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM payment_notifications WHERE outcome = 'rejected'"),
              1);
    ExpectLedgerBalanced(db_);
}

TEST_F(PaymentE2eTest, ForgedWechatNotificationsAreRefusedAndAGenuineOneCreditsOnce) {
    const std::string order = NewOrder("wechat", "20.00");
    ASSERT_FALSE(order.empty());
    const Json bad = Json::array(
        {{{"order_no", order},
          {"amount", 2000},
          {"transaction_id", "42001"},
          {"variant", "tampered"}},
         {{"order_no", order}, {"amount", 2000}, {"transaction_id", "42001"}, {"variant", "stale"}},
         {{"order_no", order}, {"amount", 2000}, {"transaction_id", "42001"}, {"variant", "probe"}},
         {{"order_no", order},
          {"amount", 2000},
          {"transaction_id", "42001"},
          {"variant", "wrong_key"}},
         {{"order_no", order},
          {"amount", 2000},
          {"transaction_id", "42001"},
          {"variant", "wrong_app"}}});
    const std::vector<Notification> forged = Signed(bad);
    ASSERT_EQ(forged.size(), 5U);
    for (std::size_t i = 0; i < forged.size(); ++i) {
        const Reply r = Post(forged[i]);
        EXPECT_TRUE(r.status == 401 || r.status == 400) << bad[i]["variant"] << ": " << r.status;
        EXPECT_EQ(r.json().value("code", ""), "FAIL") << r.body;  // WeChat's failure reply
    }
    EXPECT_EQ(Paid(), "10.00");
    EXPECT_EQ(Credited(order), 0);

    // The genuine one, replayed 15 times at once as WeChat retries: 204 each, one credit.
    const std::vector<Notification> genuine = Signed(Json::array({{{"order_no", order},
                                                                   {"amount", 2000},
                                                                   {"transaction_id", "42001"},
                                                                   {"variant", "valid"}}}));
    std::vector<std::thread> senders;
    std::atomic<int> acknowledged{0};
    for (int i = 0; i < 15; ++i) {
        senders.emplace_back([&] {
            if (Post(genuine[0]).status == 204)
                ++acknowledged;
        });
    }
    for (std::thread& t : senders) {
        t.join();
    }
    EXPECT_EQ(acknowledged.load(), 15);
    EXPECT_EQ(Paid(), "30.00");
    EXPECT_EQ(Credited(order), 1);
    ExpectLedgerBalanced(db_);
}

TEST_F(PaymentE2eTest, AlipayNotificationsAreAnsweredAsAlipayExpects) {
    const std::string order = NewOrder("alipay", "88.88");
    ASSERT_FALSE(order.empty());
    const auto notice = [&](const char* variant) {
        return Json{{"order_no", order},
                    {"amount", 8888},
                    {"transaction_id", "2026112322001400000001"},
                    {"variant", variant}};
    };
    const std::vector<Notification> sent =
        Signed(Json::array({notice("tampered"), notice("wrong_key"), notice("wrong_app"),
                            notice("closed"), notice("valid")}),
               "alipay");
    ASSERT_EQ(sent.size(), 5U);
    const auto post = [&](const Notification& n) {
        return Send(port_, http::verb::post, "/api/v1/pay/notify/alipay", n.body, n.headers);
    };
    for (std::size_t i = 0; i < 3; ++i) {  // forged: Alipay's "failure", nothing credited
        const Reply r = post(sent[i]);
        EXPECT_NE(r.status, 200) << i;
        EXPECT_EQ(r.body, "failure") << i;
    }
    EXPECT_EQ(Paid(), "10.00");
    // A closed trade is acknowledged and closes the order; the payment after it still credits.
    Reply closed = post(sent[3]);
    EXPECT_EQ(closed.status, 200);
    EXPECT_EQ(closed.body, "success");
    for (int i = 0; i < 8; ++i) {  // Alipay's retries
        const Reply r = post(sent[4]);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "success");
    }
    EXPECT_EQ(Paid(), "98.88");
    EXPECT_EQ(Credited(order), 1);
    ExpectLedgerBalanced(db_);
}

// Orders made at the providers as payers open them [PAY-2], checked by Node's providers (not our
// code): WeChat Pay's Native (a QR code), H5 (a page, with the way back to ours) and JSAPI (the
// payer's openid from the official account's OAuth, the page's paySign checked as WeChat's
// client does); Alipay's wap (the signed cashier address) and precreate (a QR code); a refused
// order closed, an unreachable one left for the query.
TEST_F(PaymentE2eTest, OrdersAreMadeAtTheProvidersAsTheirPayersOpenThem) {
    const std::string payments = "/api/v1/projects/e2e/accounts/S101/payments";
    const auto order = [&](const Json& body) {
        return As(http::verb::post, payments, body.dump());
    };
    const auto created = [&] { return AtProvider(http::verb::get, "/mock/created").json(); };

    const Reply native =
        order({{"provider", "wechat"}, {"channel", "native"}, {"amount", "50.00"}});
    ASSERT_EQ(native.status, 201) << native.body;
    EXPECT_EQ(native.json()["pay"]["kind"], "qr");
    EXPECT_TRUE(native.json()["pay"]["url"].get<std::string>().starts_with("weixin://wxpay/"));
    ASSERT_EQ(created().size(), 1U);
    const Json made = created()[0]["body"];
    EXPECT_EQ(made["out_trade_no"], native.json()["order_no"]);
    EXPECT_EQ(made["amount"]["total"], 5000);
    EXPECT_EQ(made["notify_url"], public_url_ + "/api/v1/pay/notify/wechat");

    const Reply h5 = order({{"provider", "wechat"},
                            {"channel", "h5"},
                            {"amount", "20.00"},
                            {"return_path", "/m/#/paid/{order_no}"}});
    ASSERT_EQ(h5.status, 201) << h5.body;
    EXPECT_EQ(h5.json()["pay"]["kind"], "redirect");
    const std::string h5_no = h5.json()["order_no"];
    EXPECT_TRUE(h5.json()["pay"]["url"].get<std::string>().ends_with(
        "&redirect_url=https%3A%2F%2Fjoule.example.com%2Fm%2F%23%2Fpaid%2F" + h5_no))
        << h5.body;
    EXPECT_EQ(created()[1]["body"]["scene_info"]["payer_client_ip"], "127.0.0.1");
    // A way back that leaves the site is refused before anything is made.
    EXPECT_EQ(order({{"provider", "wechat"},
                     {"channel", "h5"},
                     {"amount", "20.00"},
                     {"return_path", "//evil.example.com/"}})
                  .status,
              400);

    // JSAPI needs the payer: staff give it; a tenant's comes from WeChat's OAuth below.
    const Reply no_payer =
        order({{"provider", "wechat"}, {"channel", "jsapi"}, {"amount", "9.00"}});
    EXPECT_EQ(no_payer.status, 409) << no_payer.body;
    EXPECT_EQ(no_payer.json()["field"], "openid");
    const Reply jsapi = order(
        {{"provider", "wechat"}, {"channel", "jsapi"}, {"amount", "9.00"}, {"openid", "o-staff"}});
    ASSERT_EQ(jsapi.status, 201) << jsapi.body;
    EXPECT_EQ(jsapi.json()["pay"]["kind"], "jsapi");
    EXPECT_EQ(
        AtProvider(http::verb::post, "/mock/verify-jsapi", jsapi.json()["pay"]["jsapi"].dump())
            .status,
        200)
        << jsapi.body;

    // Alipay: the cashier address opens at Alipay (its signature checked there); the QR code
    // comes from precreate, signed by Alipay and verified here.
    const Reply wap = order({{"provider", "alipay"},
                             {"channel", "wap"},
                             {"amount", "88.88"},
                             {"return_path", "/m/#/paid/{order_no}"}});
    ASSERT_EQ(wap.status, 201) << wap.body;
    EXPECT_EQ(wap.json()["pay"]["kind"], "redirect");
    const std::string cashier = wap.json()["pay"]["url"];
    ASSERT_TRUE(cashier.starts_with(ProviderBase() + "/gateway.do?")) << cashier;
    const Reply opened = AtProvider(http::verb::get, cashier.substr(ProviderBase().size()));
    ASSERT_EQ(opened.status, 200) << opened.body;
    EXPECT_EQ(opened.json()["method"], "alipay.trade.wap.pay");
    EXPECT_EQ(opened.json()["out_trade_no"], wap.json()["order_no"]);
    EXPECT_EQ(created().back()["body"]["total_amount"], "88.88");
    EXPECT_EQ(created().back()["notify_url"], public_url_ + "/api/v1/pay/notify/alipay");
    const Reply qr = order({{"provider", "alipay"}, {"channel", "qr"}, {"amount", "1.00"}});
    ASSERT_EQ(qr.status, 201) << qr.body;
    EXPECT_EQ(qr.json()["pay"]["kind"], "qr");
    EXPECT_TRUE(qr.json()["pay"]["url"].get<std::string>().starts_with("https://qr.alipay.com/"));

    // Refused for good: 503 to the payer, the order closed. WeChat failing: left created, for
    // the query to settle.
    ASSERT_EQ(AtProvider(http::verb::post, "/mock/refuse",
                         Json{{"status", 400}, {"code", "PARAM_ERROR"}}.dump())
                  .status,
              204);
    const Reply refused =
        order({{"provider", "wechat"}, {"channel", "native"}, {"amount", "3.00"}});
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_EQ(refused.json()["field"], "provider");
    ASSERT_EQ(AtProvider(http::verb::post, "/mock/refuse",
                         Json{{"status", 500}, {"code", "SYSTEM_ERROR"}}.dump())
                  .status,
              204);
    EXPECT_EQ(order({{"provider", "wechat"}, {"channel", "native"}, {"amount", "4.00"}}).status,
              503);
    const Reply list = As(http::verb::get, payments + "?page_size=50");
    ASSERT_EQ(list.status, 200) << list.body;
    std::map<std::string, std::string> state_of_amount;
    const Json listed = list.json();
    for (const Json& o : listed["items"]) {
        state_of_amount[o["amount"].get<std::string>()] = o["state"];
    }
    EXPECT_EQ(state_of_amount["3.00"], "closed");
    EXPECT_EQ(state_of_amount["4.00"], "created");
    EXPECT_EQ(state_of_amount["50.00"], "created");
    EXPECT_EQ(Paid(), "10.00");  // nothing is credited before a provider says it is paid
}

// Refunds go back through the provider [PAY-2]: WeChat Pay's refund API and Alipay's
// alipay.trade.refund, played by Node (our signatures checked there, its answers verified here).
// The account is debited when finance asks; a refusal puts the money back; a repeat of the
// request is the same refund.
TEST_F(PaymentE2eTest, RefundsGoBackThroughTheProviders) {
    const auto pay = [&](const std::string& provider, const std::string& amount, int64_t fen,
                         const std::string& transaction) {
        return PaidOrder(provider, amount, fen, transaction);
    };
    const auto refund = [&](const std::string& order, const std::string& amount,
                            const std::string& key) {
        return Send(port_, http::verb::post, "/api/v1/projects/e2e/payments/" + order + "/refunds",
                    Json{{"amount", amount}, {"reason", "moved out"}}.dump(),
                    {{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}, {"Idempotency-Key", key}});
    };
    const std::string wechat = pay("wechat", "50.00", 5000, "4200000000000501");
    const std::string alipay = pay("alipay", "40.00", 4000, "2026112322001400000501");
    ASSERT_EQ(Paid(), "100.00");

    // WeChat: still processing, then asked again with the same number: succeeded.
    ASSERT_EQ(
        AtProvider(http::verb::post, "/mock/refund-status", Json{{"status", "PROCESSING"}}.dump())
            .status,
        204);
    const Reply processing = refund(wechat, "20.00", "e2e-r1");
    ASSERT_EQ(processing.status, 201) << processing.body;
    EXPECT_EQ(processing.json()["state"], "processing");
    EXPECT_TRUE(processing.json()["provider_refund_id"].get<std::string>().starts_with("50300"));
    EXPECT_EQ(Paid(), "80.00");
    // WeChat refuses the next one for good: failed, and the money is back.
    ASSERT_EQ(AtProvider(http::verb::post, "/mock/refuse",
                         Json{{"status", 403}, {"code", "NOT_ENOUGH"}}.dump())
                  .status,
              204);
    const Reply refused = refund(wechat, "10.00", "e2e-r2");
    ASSERT_EQ(refused.status, 201) << refused.body;
    EXPECT_EQ(refused.json()["state"], "failed");
    EXPECT_NE(refused.json()["detail"].get<std::string>().find("NOT_ENOUGH"), std::string::npos);
    EXPECT_EQ(Paid(), "80.00");
    // Alipay refunds at once.
    const Reply done = refund(alipay, "40.00", "e2e-r3");
    ASSERT_EQ(done.status, 201) << done.body;
    EXPECT_EQ(done.json()["state"], "succeeded");
    EXPECT_EQ(Paid(), "40.00");
    // Asking again with the same key is the same refund: nothing more at the provider.
    const Reply repeat = refund(alipay, "40.00", "e2e-r3");
    ASSERT_EQ(repeat.status, 201) << repeat.body;
    EXPECT_EQ(repeat.json()["refund_no"], done.json()["refund_no"]);
    const Json at_provider = AtProvider(http::verb::get, "/mock/refunds").json();
    EXPECT_EQ(at_provider.size(), 2U);  // the refused one never existed there
    EXPECT_EQ(at_provider[done.json()["refund_no"].get<std::string>()]["asked"], 1);
    EXPECT_EQ(Paid(), "40.00");
    ExpectLedgerBalanced(db_);
}

// Finance fetches the day's statements from the providers themselves [PAY-3]: WeChat's trade
// bill (its file checked against the signed SHA1) and Alipay's bill zip, made by Node from the
// payments and refunds taken there.
TEST_F(PaymentE2eTest, TheDaysStatementsAreFetchedFromTheProvidersAndReconciled) {
    const auto pay = [&](const std::string& provider, const std::string& amount, int64_t fen,
                         const std::string& transaction) {
        return Json{{"provider", provider},
                    {"order_no", PaidOrder(provider, amount, fen, transaction)},
                    {"amount", fen},
                    {"transaction_id", transaction}};
    };
    const Json wechat = pay("wechat", "50.00", 5000, "4200000000000601");
    const Json alipay = pay("alipay", "40.00", 4000, "2026112322001400000601");
    ASSERT_EQ(AtProvider(http::verb::post, "/mock/bill",
                         Json{{"mode", "normal"}, {"payments", {wechat, alipay}}}.dump())
                  .status,
              204);
    // A refund at WeChat today: on today's bill too, matched with ours.
    const Reply refund =
        Send(port_, http::verb::post,
             "/api/v1/projects/e2e/payments/" + wechat["order_no"].get<std::string>() + "/refunds",
             Json{{"amount", "20.00"}, {"reason", "moved out"}}.dump(),
             {{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}, {"Idempotency-Key", "e2e-bill-r1"}});
    ASSERT_EQ(refund.status, 201) << refund.body;
    ASSERT_EQ(refund.json()["state"], "succeeded");

    const auto beijing_day = [](int days_ago) {
        const std::chrono::year_month_day day{
            std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() +
                                                  std::chrono::hours{8}) -
            std::chrono::days{days_ago}};
        char text[16];
        std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()),
                      static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
        return std::string(text);
    };
    const auto fetch = [&](const std::string& provider, const std::string& day) {
        return As(http::verb::post, "/api/v1/projects/e2e/reconciliations/fetch",
                  Json{{"provider", provider}, {"date", day}}.dump());
    };
    const Reply at_wechat = fetch("wechat", beijing_day(0));
    ASSERT_EQ(at_wechat.status, 201) << at_wechat.body;
    EXPECT_EQ(at_wechat.json()["lines"], 2);
    EXPECT_EQ(at_wechat.json()["matched"], 2);  // the payment and its refund
    EXPECT_EQ(at_wechat.json()["mismatches"], 0) << at_wechat.body;
    EXPECT_EQ(at_wechat.json()["statement_refunded"], "20.00");
    const Reply at_alipay = fetch("alipay", beijing_day(0));
    ASSERT_EQ(at_alipay.status, 201) << at_alipay.body;
    EXPECT_EQ(at_alipay.json()["lines"], 1);
    EXPECT_EQ(at_alipay.json()["matched"], 1);
    EXPECT_EQ(at_alipay.json()["mismatches"], 0) << at_alipay.body;
    // Yesterday nobody paid: WeChat and Alipay have no statement, and that is reconciled too.
    const Reply none = fetch("alipay", beijing_day(1));
    ASSERT_EQ(none.status, 201) << none.body;
    EXPECT_EQ(none.json()["lines"], 0);
    // A file that is not the one WeChat hashed is refused: 503 naming the provider.
    ASSERT_EQ(AtProvider(http::verb::post, "/mock/bill",
                         Json{{"mode", "tamper"}, {"payments", {wechat, alipay}}}.dump())
                  .status,
              204);
    const Reply tampered = fetch("wechat", beijing_day(0));
    EXPECT_EQ(tampered.status, 503) << tampered.body;
    EXPECT_NE(tampered.body.find("SHA1"), std::string::npos) << tampered.body;
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM reconciliations"), 3);
}

// A tenant inside WeChat: the page sends them to the official account's OAuth, which comes back
// with a code; the server keeps the openid with the session and their JSAPI order carries it.
TEST_F(PaymentE2eTest, ATenantsOpenidComesFromWechatsOAuth) {
    // The account's phone, so its tenant binds as holder.
    const Reply account = As(http::verb::get, "/api/v1/projects/e2e/accounts/S101");
    ASSERT_EQ(account.status, 200) << account.body;
    const Reply phoned =
        Send(port_, http::verb::patch, "/api/v1/projects/e2e/accounts/S101",
             Json{{"phone", "13800000009"}}.dump(),
             {{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}, {"If-Match", account.etag}});
    ASSERT_EQ(phoned.status, 200) << phoned.body;
    const Reply code = Send(port_, http::verb::post, "/api/v1/tenant/codes",
                            Json{{"phone", "13800000009"}}.dump());
    ASSERT_EQ(code.status, 202) << code.body;
    const Reply login =
        Send(port_, http::verb::post, "/api/v1/tenant/login",
             Json{{"phone", "13800000009"}, {"code", code.json()["demo_code"]}}.dump());
    ASSERT_EQ(login.status, 200) << login.body;
    const std::string tenant = login.set_cookie.substr(0, login.set_cookie.find(';'));
    const std::string tenant_csrf = login.json()["csrf_token"];
    const auto as_tenant = [&](http::verb method, const std::string& target,
                               const std::string& body = "") {
        return Send(port_, method, target, body,
                    {{"Cookie", tenant}, {"X-CSRF-Token", tenant_csrf}});
    };
    const Reply bound = as_tenant(http::verb::post, "/api/v1/tenant/bindings",
                                  Json{{"project", "e2e"}, {"account", "S101"}}.dump());
    ASSERT_EQ(bound.status, 201) << bound.body;
    const std::string binding = std::to_string(bound.json()["binding"].get<int64_t>());
    const Json me = as_tenant(http::verb::get, "/api/v1/tenant/me").json();
    EXPECT_EQ(me["wechat_oauth"], true);
    EXPECT_EQ(me["wechat_openid"], false);
    const Json top_up{{"provider", "wechat"}, {"channel", "jsapi"}, {"amount", "30.00"}};
    const std::string pay = "/api/v1/tenant/bindings/" + binding + "/payments";
    EXPECT_EQ(as_tenant(http::verb::post, pay, top_up.dump()).status, 409);

    // The page opens authorize; WeChat (Node) comes straight back to the callback with a code.
    const Reply authorize =
        as_tenant(http::verb::get, "/api/v1/tenant/wechat/authorize?return=%2Fm%2F%23%2Ftopup");
    ASSERT_EQ(authorize.status, 302) << authorize.body;
    ASSERT_TRUE(authorize.location.starts_with(ProviderBase() + "/connect/oauth2/authorize?"))
        << authorize.location;
    const Reply wechat =
        AtProvider(http::verb::get, authorize.location.substr(ProviderBase().size()));
    ASSERT_EQ(wechat.status, 302) << wechat.body;
    ASSERT_TRUE(wechat.location.starts_with(public_url_ + "/api/v1/tenant/wechat/callback?"))
        << wechat.location;
    // The redirect carries no cookie (SameSite=Strict): the state alone ties it to the session.
    const std::string callback = wechat.location.substr(public_url_.size());
    const Reply back = Send(port_, http::verb::get, callback);
    ASSERT_EQ(back.status, 302) << back.body;
    EXPECT_EQ(back.location, "/m/#/topup");
    EXPECT_EQ(Send(port_, http::verb::get, callback).status, 401);  // a state serves once
    EXPECT_EQ(as_tenant(http::verb::get, "/api/v1/tenant/me").json()["wechat_openid"], true);

    const Reply ordered = as_tenant(http::verb::post, pay, top_up.dump());
    ASSERT_EQ(ordered.status, 201) << ordered.body;
    EXPECT_EQ(ordered.json()["pay"]["kind"], "jsapi");
    const Json made = AtProvider(http::verb::get, "/mock/created").json().back();
    EXPECT_TRUE(made["body"]["payer"]["openid"].get<std::string>().starts_with("o-")) << made;
    EXPECT_EQ(
        AtProvider(http::verb::post, "/mock/verify-jsapi", ordered.json()["pay"]["jsapi"].dump())
            .status,
        200);
    // A tenant cannot name another payer.
    Json other = top_up;
    other["openid"] = "o-someone-else";
    EXPECT_EQ(as_tenant(http::verb::post, pay, other.dump()).status, 400);
}

// SIGKILL at seeded random moments while payments' notifications pour in from 6 senders (each
// round its own 40 payments, so every kill lands among credits), then a restart; at the end
// everything is sent again until acknowledged, as the providers do. Whatever was acknowledged
// before a kill is credited once; in the end every payment is credited once.
TEST_F(PaymentE2eTest, KilledWhileCreditingEveryPaymentEndsCreditedExactlyOnce) {
    constexpr int kRounds = 4;
    constexpr int kPerRound = 40;
    constexpr int kPayments = kRounds * kPerRound;
    Json orders = Json::array();
    int64_t total_fen = 0;
    for (int i = 0; i < kPayments; ++i) {
        const int64_t fen = 100 + i;  // each payment its own amount
        const std::string order =
            NewOrder("wechat", std::to_string(fen / 100) + "." + (fen % 100 < 10 ? "0" : "") +
                                   std::to_string(fen % 100));
        ASSERT_FALSE(order.empty());
        orders.push_back({{"order_no", order},
                          {"amount", fen},
                          {"transaction_id", "4200" + std::to_string(i)},
                          {"variant", "valid"}});
        total_fen += fen;
    }
    const std::vector<Notification> notifications = Signed(orders);
    ASSERT_EQ(notifications.size(), static_cast<std::size_t>(kPayments));

    std::mt19937 random(20261122);
    std::vector<char> acked(kPayments, 0);
    std::mutex acked_mutex;
    int partial_rounds = 0;
    for (int round = 0; round < kRounds; ++round) {
        std::atomic<bool> stop{false};
        std::vector<std::thread> senders;
        for (int s = 0; s < 6; ++s) {
            senders.emplace_back([&, s] {
                // Each sender walks the round's notifications from its own starting point.
                for (int k = 0; k < kPerRound && !stop; ++k) {
                    const int i = round * kPerRound + (k + s * 7) % kPerRound;
                    if (Post(notifications[static_cast<std::size_t>(i)]).status == 204) {
                        std::lock_guard lock(acked_mutex);
                        acked[static_cast<std::size_t>(i)] = 1;
                    }
                }
            });
        }
        std::this_thread::sleep_for(
            std::chrono::milliseconds(std::uniform_int_distribution<int>(5, 120)(random)));
        server_->Kill();
        stop = true;
        for (std::thread& t : senders) {
            t.join();
        }
        const auto acked_now = std::count(acked.begin() + round * kPerRound,
                                          acked.begin() + (round + 1) * kPerRound, 1);
        partial_rounds += acked_now < kPerRound ? 1 : 0;
        // Where the kill landed (printed, not asserted: it depends on the machine's speed).
        std::printf("round %d: killed with %lld of %d payments acknowledged\n", round,
                    static_cast<long long>(acked_now), kPerRound);
        // Every payment acknowledged so far is in the store, once; none is in it twice.
        for (int i = 0; i < kPayments; ++i) {
            const int64_t credited = Credited(orders[static_cast<std::size_t>(i)]["order_no"]);
            EXPECT_LE(credited, 1) << "payment " << i;
            if (acked[static_cast<std::size_t>(i)] != 0) {
                EXPECT_EQ(credited, 1)
                    << "round " << round << ": payment " << i << " was acknowledged";
            }
        }
        ASSERT_NO_FATAL_FAILURE(Start());
    }
    std::printf("%d of %d kills landed before every payment of the round was acknowledged\n",
                partial_rounds, kRounds);
    // The providers keep sending until acknowledged.
    for (int i = 0; i < kPayments; ++i) {
        EXPECT_EQ(Post(notifications[static_cast<std::size_t>(i)]).status, 204) << i;
    }
    for (const Json& o : orders) {
        EXPECT_EQ(Credited(o["order_no"]), 1) << o["order_no"];
    }
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM payment_orders WHERE state = 1"), kPayments);
    const int64_t paid = 1000 + total_fen;
    EXPECT_EQ(Paid(), std::to_string(paid / 100) + "." + (paid % 100 < 10 ? "0" : "") +
                          std::to_string(paid % 100));
    ExpectLedgerBalanced(db_);
}

}  // namespace
