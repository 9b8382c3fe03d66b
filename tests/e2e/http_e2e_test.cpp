// The HTTP API of the real `joule serve` over a real socket on loopback: first-start admin, sign
// in, a counter top-up sent twice with one Idempotency-Key credits once, a finance user made with
// `joule admin create` has a finance user's rights, the server's limits answer with the error
// body, and no password or session token reaches the log.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "e2e_site.hpp"
#include "e2e_support.hpp"
#include "http_client.hpp"

namespace {

using namespace joule::e2e;  // NOLINT(google-build-using-namespace): test support
using Json = nlohmann::json;

// Raw bytes in, the status line's code out (for requests Beast would refuse to build).
int SendRaw(int port, const std::string& bytes) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    asio::write(socket, asio::buffer(bytes));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket, buffer, res, ec);
    return ec ? -1 : static_cast<int>(res.result_int());
}

class HttpE2eTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("joule-http-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        db_ = dir_ / "http.db";
        ASSERT_NO_FATAL_FAILURE(CreateMallWithOneAccount(dir_, db_));
        port_ = FreePort();
        server_ = std::make_unique<Process>(
            std::vector<std::string>{"serve", "--db", db_.string(), "--http",
                                     "127.0.0.1:" + std::to_string(port_), "--dtu-listen",
                                     "127.0.0.1:" + std::to_string(FreePort())},
            dir_ / "serve.log");
        ASSERT_TRUE(WaitForHttpApi(dir_ / "serve.log")) << ReadFile(dir_ / "serve.log");
        const std::string log = ReadFile(dir_ / "serve.log");
        admin_password_ = FirstAdminPassword(log);
        ASSERT_FALSE(admin_password_.empty()) << log;
    }
    void TearDown() override {
        server_.reset();
        if (!HasFailure()) {
            fs::remove_all(dir_);
        }
    }

    struct Session {
        std::string cookie;
        std::string csrf;
    };
    Session Login(const std::string& user, const std::string& password) {
        const Reply r = Send(port_, http::verb::post, "/api/v1/auth/login",
                             Json{{"username", user}, {"password", password}}.dump());
        EXPECT_EQ(r.status, 200) << r.body;
        return {r.set_cookie.substr(0, r.set_cookie.find(';')),
                r.json().value("csrf_token", std::string())};
    }
    Reply As(const Session& s, http::verb method, const std::string& target,
             const std::string& body = "",
             std::vector<std::pair<std::string, std::string>> headers = {}) {
        headers.emplace_back("Cookie", s.cookie);
        headers.emplace_back("X-CSRF-Token", s.csrf);
        return Send(port_, method, target, body, headers);
    }
    std::string Paid(const Session& s) {
        const Reply r = As(s, http::verb::get, "/api/v1/projects/e2e/accounts/S101");
        EXPECT_EQ(r.status, 200) << r.body;
        return r.json()["balance"]["paid"].get<std::string>();
    }

    fs::path dir_;
    fs::path db_;
    int port_ = 0;
    std::unique_ptr<Process> server_;
    std::string admin_password_;
};

TEST_F(HttpE2eTest, TopUpOverHttpCreditsOnceAndIsLogged) {
    const Session admin = Login("admin", admin_password_);
    EXPECT_EQ(Paid(admin), "10.00");
    const std::string body = Json{{"amount", "5.00"}, {"channel", "cash"}}.dump();
    const std::string target = "/api/v1/projects/e2e/accounts/S101/top-ups";
    const Reply first = As(admin, http::verb::post, target, body, {{"Idempotency-Key", "t-1"}});
    EXPECT_EQ(first.status, 201) << first.body;
    const Reply again = As(admin, http::verb::post, target, body, {{"Idempotency-Key", "t-1"}});
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(again.json()["outcome"], "already_credited");
    EXPECT_EQ(Paid(admin), "15.00");
    ExpectLedgerBalanced(db_);
    EXPECT_EQ(Query(db_,
                    "SELECT COUNT(*) FROM operation_log WHERE actor = 'admin' AND "
                    "action LIKE '%top%'"),
              1);
}

// Many clients at once, each key sent twice from different clients: the writes share commits
// (group commit on the write threads) and every key is credited exactly once.
TEST_F(HttpE2eTest, ConcurrentTopUpsOverHttpCreditEachKeyOnce) {
    const Session admin = Login("admin", admin_password_);
    const std::string target = "/api/v1/projects/e2e/accounts/S101/top-ups";
    const std::string body = Json{{"amount", "0.10"}, {"channel", "cash"}}.dump();
    constexpr int kClients = 16;
    constexpr int kKeys = 64;
    std::vector<int> credited(kClients, 0);
    std::vector<int> failed(kClients, 0);
    std::vector<std::thread> clients;
    clients.reserve(kClients);
    for (int c = 0; c < kClients; ++c) {
        clients.emplace_back([&, c] {
            // Client c sends keys c, c+16, ...; its twin (c ^ 1) sends the same keys.
            for (int k = c / 2; k < kKeys; k += kClients / 2) {
                const Reply r = As(admin, http::verb::post, target, body,
                                   {{"Idempotency-Key", "many-" + std::to_string(k)}});
                if (r.status == 201) {
                    ++credited[static_cast<std::size_t>(c)];
                } else if (r.status != 200) {
                    ++failed[static_cast<std::size_t>(c)];
                }
            }
        });
    }
    for (std::thread& t : clients) {
        t.join();
    }
    int credits = 0;
    int failures = 0;
    for (int c = 0; c < kClients; ++c) {
        credits += credited[static_cast<std::size_t>(c)];
        failures += failed[static_cast<std::size_t>(c)];
    }
    EXPECT_EQ(failures, 0);
    EXPECT_EQ(credits, kKeys);
    EXPECT_EQ(Paid(admin), "16.40");  // 10.00 + 64 x 0.10
    ExpectLedgerBalanced(db_);
    // The store reports its group commits on /metrics beside the HTTP counters.
    const Reply metrics = Send(port_, http::verb::get, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.body.find("joule_http_requests_total{route=\""), std::string::npos);
    const std::string works = "\njoule_store_group_works_total ";
    const std::size_t at = metrics.body.find(works);
    ASSERT_NE(at, std::string::npos) << metrics.body;
    EXPECT_GE(std::stoll(metrics.body.substr(at + works.size())), 2 * kKeys);
}

TEST_F(HttpE2eTest, AFinanceUserFromTheCliHasFinanceRights) {
    const std::string password = "Finance12345";
    ASSERT_EQ(Shell("echo " + password + " | " + JOULE_BINARY + " admin create --db " +
                    db_.string() + " --username fin --role finance --project e2e > " +
                    (dir_ / "cli.log").string() + " 2>&1"),
              0)
        << ReadFile(dir_ / "cli.log");
    const Session fin = Login("fin", password);
    EXPECT_EQ(As(fin, http::verb::get, "/api/v1/users").status, 403);
    EXPECT_EQ(As(fin, http::verb::post, "/api/v1/projects/e2e/accounts/S101/top-ups",
                 Json{{"amount", "1.00"}}.dump(), {{"Idempotency-Key", "f-1"}})
                  .status,
              201);
    EXPECT_EQ(As(fin, http::verb::get, "/api/v1/projects/other/accounts").status, 404);
    EXPECT_EQ(As(fin, http::verb::post, "/api/v1/auth/logout").status, 204);
    EXPECT_EQ(As(fin, http::verb::get, "/api/v1/auth/me").status, 401);
    // Neither the password nor the session token is ever written to the log.
    const std::string log = ReadFile(dir_ / "serve.log");
    EXPECT_EQ(log.find(password), std::string::npos);
    EXPECT_EQ(log.find(fin.cookie.substr(fin.cookie.find('=') + 1)), std::string::npos);
    EXPECT_NE(log.find("\"request_id\""), std::string::npos);  // the access log is there
}

TEST_F(HttpE2eTest, LimitsAnswerWithTheErrorBody) {
    const Reply huge =
        Send(port_, http::verb::post, "/api/v1/auth/login",
             "{\"username\":\"" + std::string(std::size_t{2} * 1024 * 1024, 'a') + "\"}");
    EXPECT_EQ(huge.status, 413);
    EXPECT_EQ(huge.json()["code"], "resource_exhausted");
    EXPECT_EQ(SendRaw(port_, "NOT AN HTTP REQUEST\r\n\r\n"), 400);
    const Reply unknown = Send(port_, http::verb::get, "/api/v1/nothing-here");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(unknown.json()["field"], "path");
    EXPECT_EQ(Send(port_, http::verb::get, "/healthz").status, 200);
    const Reply doc = Send(port_, http::verb::get, "/api/v1/openapi.json");
    EXPECT_EQ(doc.status, 200);
    EXPECT_EQ(doc.json()["openapi"], "3.0.3");
}

}  // namespace
