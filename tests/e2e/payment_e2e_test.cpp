// Payments through the real `joule serve` over loopback [PAY-2]: the sandbox provider paying an
// order; WeChat Pay notifications signed by Node's crypto (tests/pay/provider_http.mjs, not our
// code) — forged ones refused with nothing credited, a genuine one replayed 15 times at once
// credited once; and the server killed with SIGKILL at seeded random moments while notifications
// pour in, then restarted and sent everything again as providers do until acknowledged: every
// acknowledged payment, and in the end every payment, is credited exactly once.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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
                "serve",
                "--db",
                db_.string(),
                "--http",
                "127.0.0.1:" + std::to_string(port_),
                "--dtu-listen",
                "127.0.0.1:" + std::to_string(dtu_port_),
                "--no-access-log",
                "--payments-sandbox",
                "--wechat-app-id",
                config_["app_id"].get<std::string>(),
                "--wechat-mch-id",
                config_["mch_id"].get<std::string>(),
                "--wechat-api-v3-key-file",
                (dir_ / "apiv3.key").string(),
                "--wechat-platform-key",
                config_["serial"].get<std::string>() + "=" + (dir_ / "platform.pub.pem").string(),
                "--alipay-app-id",
                config_["alipay_app_id"].get<std::string>(),
                "--alipay-seller-id",
                config_["alipay_seller_id"].get<std::string>(),
                "--alipay-public-key-file",
                (dir_ / "alipay.pub.pem").string()},
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
    std::string NewOrder(const std::string& provider, const std::string& amount) {
        const Reply r = As(http::verb::post, "/api/v1/projects/e2e/accounts/S101/payments",
                           Json{{"provider", provider}, {"amount", amount}}.dump());
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
