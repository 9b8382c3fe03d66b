// Notifications through the real `joule serve` [ALM-3]: SMS, email and webhooks into local sinks
// that are not our code (tests/notify/sinks.mjs, Node checking the signatures). A counter top-up
// reaches the tenant by SMS and staff by email and webhook within seconds; a webhook that is down
// is retried and holds up nothing; the delivery log shows it all; a bad recipient is refused
// naming the field, with nothing written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../notify/node_sinks.hpp"
#include "e2e_site.hpp"
#include "e2e_support.hpp"
#include "http_client.hpp"

namespace {

using namespace joule::e2e;  // NOLINT(google-build-using-namespace): test support
using Json = nlohmann::json;
using joule::notify::test::Sinks;

class NotifyE2eTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_GT(sinks_.http_port, 0) << "the Node sinks did not start";
        dir_ = fs::temp_directory_path() / ("joule-notify-e2e-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        db_ = dir_ / "notify.db";
        ASSERT_NO_FATAL_FAILURE(CreateMallWithOneAccount(dir_, db_));
        std::ofstream(dir_ / "sms.secret") << joule::notify::test::kSmsSecret << "\n";
        port_ = FreePort();
        server_ = std::make_unique<Process>(
            std::vector<std::string>{"serve",
                                     "--db",
                                     db_.string(),
                                     "--http",
                                     "127.0.0.1:" + std::to_string(port_),
                                     "--dtu-listen",
                                     "127.0.0.1:" + std::to_string(FreePort()),
                                     "--no-access-log",
                                     "--smtp-url",
                                     "smtp://127.0.0.1:" + std::to_string(sinks_.smtp_port),
                                     "--smtp-from",
                                     "notice@mall.example.com",
                                     "--smtp-from-name",
                                     "物业中心",
                                     "--sms-endpoint",
                                     sinks_.Http("/sms"),
                                     "--sms-access-key-id",
                                     "LTAI-test",
                                     "--sms-access-key-secret-file",
                                     (dir_ / "sms.secret").string(),
                                     "--sms-sign-name",
                                     "万达物业",
                                     "--sms-template",
                                     "top_up=SMS_100001",
                                     "--sms-template",
                                     "low_balance_1=SMS_100002"},
            dir_ / "serve.log");
        ASSERT_TRUE(WaitForHttpApi(dir_ / "serve.log")) << ReadFile(dir_ / "serve.log");
        const std::string log = ReadFile(dir_ / "serve.log");
        EXPECT_NE(log.find("notifications on email, sms, webhook"), std::string::npos) << log;
        const Reply r =
            Send(port_, http::verb::post, "/api/v1/auth/login",
                 Json{{"username", "admin"}, {"password", FirstAdminPassword(log)}}.dump());
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
    Reply As(http::verb method, const std::string& target, const std::string& body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}) {
        headers.emplace_back("Cookie", cookie_);
        headers.emplace_back("X-CSRF-Token", csrf_);
        return Send(port_, method, target, body, headers);
    }
    // What the sinks received on `channel`.
    std::vector<Json> Got(const std::string& channel) {
        std::vector<Json> out;
        for (const Json& j : sinks_.Received()) {
            if (j.value("channel", "") == channel) {
                out.push_back(j);
            }
        }
        return out;
    }

    Sinks sinks_;
    fs::path dir_;
    fs::path db_;
    int port_ = 0;
    std::unique_ptr<Process> server_;
    std::string cookie_;
    std::string csrf_;
};

TEST_F(NotifyE2eTest, ATopUpReachesTheTenantAndStaffAndADeadWebhookHoldsUpNothing) {
    const std::string base = "/api/v1/projects/e2e";
    // The tenant's phone.
    const Reply account = As(http::verb::get, base + "/accounts/S101");
    ASSERT_EQ(account.status, 200) << account.body;
    const Reply phoned = As(http::verb::patch, base + "/accounts/S101",
                            Json{{"phone", "13800138000"}}.dump(), {{"If-Match", account.etag}});
    ASSERT_EQ(phoned.status, 200) << phoned.body;
    // Staff: finance by email for top-ups, ops by webhook, and a webhook that is down.
    const std::string recipients = base + "/notifications/recipients";
    const Json email = {{"name", "王会计"},
                        {"role", "finance"},
                        {"channel", "email"},
                        {"address", "wang@example.com"},
                        {"kinds", {"top_up"}}};
    ASSERT_EQ(As(http::verb::post, recipients, email.dump()).status, 201);
    const Json hook = {{"name", "Ops"},
                       {"role", "management"},
                       {"channel", "webhook"},
                       {"address", sinks_.Http("/hook/ops")},
                       {"language", "en"},
                       {"kinds", {"top_up"}},
                       {"secret", joule::notify::test::kHookSecret}};
    const Reply added = As(http::verb::post, recipients, hook.dump());
    ASSERT_EQ(added.status, 201) << added.body;
    EXPECT_EQ(added.json()["has_secret"], true);
    EXPECT_FALSE(added.json().contains("secret"));
    Json down = hook;
    down["name"] = "Down";
    down["address"] = sinks_.Http("/down/ops");
    ASSERT_EQ(As(http::verb::post, recipients, down.dump()).status, 201);
    // A bad one is refused naming the field, and nothing is written.
    Json bad = email;
    bad["channel"] = "fax";
    const Reply refused = As(http::verb::post, recipients, bad.dump());
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(refused.json()["field"], "channel") << refused.body;
    const Reply listed = As(http::verb::get, recipients);
    ASSERT_EQ(listed.status, 200) << listed.body;
    EXPECT_EQ(listed.json()["total"], 3);
    EXPECT_EQ(listed.json()["channels"], Json({"email", "sms", "webhook"}));

    const Reply topped =
        As(http::verb::post, base + "/accounts/S101/top-ups",
           Json{{"amount", "5.00"}, {"channel", "cash"}}.dump(), {{"Idempotency-Key", "n-1"}});
    ASSERT_EQ(topped.status, 201) << topped.body;

    ASSERT_TRUE(WaitFor(
        [&] { return !Got("sms").empty() && !Got("email").empty() && !Got("webhook").empty(); },
        std::chrono::seconds(20)))
        << sinks_.Received().dump();
    const Json sms = Got("sms").front();
    EXPECT_TRUE(sms["ok"].get<bool>());  // signed as Aliyun checks it
    EXPECT_EQ(sms["phone"], "13800138000");
    EXPECT_EQ(sms["template"], "SMS_100001");
    EXPECT_EQ(sms["values"]["amount"], "5.00");
    EXPECT_EQ(sms["values"]["balance"], "15.00");
    const Json mail = Got("email").front();
    EXPECT_EQ(mail["to"][0], "<wang@example.com>");
    EXPECT_EQ(mail["subject"], "充值到账提醒");
    EXPECT_NE(mail["body"].get<std::string>().find("充值5.00元已到账，当前余额15.00元"),
              std::string::npos)
        << mail.dump();
    const Json webhook = Got("webhook").front();
    EXPECT_TRUE(webhook["ok"].get<bool>());
    EXPECT_EQ(webhook["body"]["kind"], "top_up");
    EXPECT_EQ(webhook["body"]["title"], "Top-up received");  // its language

    // The log: three sent, the dead webhook queued again with its error; only one SMS (told once).
    Json log;
    ASSERT_TRUE(WaitFor(
        [&] {
            log = As(http::verb::get, base + "/notifications/deliveries").json();
            int sent = 0;
            int retrying = 0;
            for (const Json& d : log["items"]) {
                sent += d["state"] == "sent" ? 1 : 0;
                retrying += d["state"] == "queued" && d["attempts"].get<int>() >= 1 ? 1 : 0;
            }
            return sent == 3 && retrying == 1;
        },
        std::chrono::seconds(20)))
        << log.dump();
    for (const Json& d : log["items"]) {
        if (d["state"] == "queued") {
            EXPECT_EQ(d["error"], "the webhook answered HTTP 503: down for maintenance");
            EXPECT_EQ(d["address"], sinks_.Http("/down/ops"));
        }
    }
    EXPECT_EQ(Got("sms").size(), 1U);
    const Reply filtered =
        As(http::verb::get, base + "/notifications/deliveries?channel=sms&state=sent");
    ASSERT_EQ(filtered.status, 200) << filtered.body;
    ASSERT_EQ(filtered.json()["items"].size(), 1U);
    EXPECT_EQ(filtered.json()["items"][0]["recipient"], "tenant");
    EXPECT_EQ(As(http::verb::get, base + "/notifications/deliveries?colour=red").status, 400);
    EXPECT_EQ(Query(db_, "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL"), 0);
}

}  // namespace
