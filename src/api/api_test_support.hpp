// The API over a real SQLite store in a temporary file, called through Api::Handle exactly as the
// HTTP server calls it, with signed-in sessions: for the API's tests. ApiHarness builds no site;
// each suite's SetUp does (service/site_service.hpp CreateSite, or the API itself).
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "api/api.hpp"
#include "core/payment_ports.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/bus_statistics.hpp"
#include "service/service_test_support.hpp"

namespace joule::api::test {

inline constexpr const char* kPassword = "Secret12345";

// A stand-in sandbox provider for the API's tests: its "notification" is the order's own fields
// as JSON, paid with transaction "T-<order>" (the real sandbox's signatures are tested in src/pay
// and end to end).
inline PaymentGateway StubSandbox() {
    PaymentGateway g;
    g.providers = {"sandbox"};
    g.verify = [](std::string_view, const HttpRequest& r,
                  Instant now) -> Result<PaymentNotification> {
        const auto j = nlohmann::json::parse(r.body);
        PaymentNotification n;
        n.provider = "sandbox";
        n.order_no = j.at("order_no");
        n.transaction_id = j.at("transaction_id");
        n.amount = Money{j.at("fen").get<int64_t>()};
        n.paid = true;
        n.state = "SUCCESS";
        n.paid_at = now;
        return n;
    };
    g.sandbox_pay = [](const PaymentOrderRecord& order, Instant) {
        HttpRequest r;
        r.method = "POST";
        r.path = "/api/v1/pay/notify/sandbox";
        r.body = nlohmann::json{{"order_no", order.order_no},
                                {"transaction_id", "T-" + order.order_no},
                                {"fen", order.amount.fen}}
                     .dump();
        return r;
    };
    g.refund_providers = {"sandbox"};
    // The sandbox refunds at once; "FAIL" in the reason makes it refuse, "SLOW" not answer.
    g.refund = [](const PaymentRefundRecord& refund, const PaymentOrderRecord&,
                  Instant) -> Result<RefundAnswer> {
        if (refund.reason.find("FAIL") != std::string::npos) {
            return InvalidArgument("provider", "refused by the stub");
        }
        if (refund.reason.find("SLOW") != std::string::npos) {
            return MakeError(ErrorCode::kUnavailable, "the stub does not answer");
        }
        return RefundAnswer{RefundState::kSucceeded, "SBXR-" + refund.refund_no, "SUCCESS"};
    };
    return g;
}

class ApiHarness : public ::testing::Test {
protected:
    ApiHarness() : ApiHarness(ApiOptions{}) {}
    // With `options` (the access log off and the clock the test's now_, whatever they say).
    explicit ApiHarness(ApiOptions options)
        : api_(*store_, *store_, billing_, acquisition_, Quiet(std::move(options))) {}

    using Json = nlohmann::json;
    using Headers = std::vector<std::pair<std::string, std::string>>;

    struct Session {
        std::string cookie;
        std::string csrf;
    };

    // One request; a body is sent as JSON unless `headers` name another content type.
    HttpResponse Call(std::string method, const std::string& path, std::string body = "",
                      Headers headers = {}) {
        HttpRequest r;
        r.method = std::move(method);
        const auto q = path.find('?');
        r.path = path.substr(0, q);
        if (q != std::string::npos) {
            r.query = path.substr(q + 1);
        }
        r.body = std::move(body);
        r.remote = "127.0.0.1";
        bool typed = false;
        for (const auto& [name, value] : headers) {
            typed = typed || name == "content-type";
        }
        r.headers = std::move(headers);
        if (!r.body.empty() && !typed) {
            r.headers.emplace_back("content-type", "application/json");
        }
        return api_.Handle(r);
    }

    Session Login(const std::string& user, const std::string& password = kPassword) {
        auto r = Call("POST", "/api/v1/auth/login",
                      Json{{"username", user}, {"password", password}}.dump());
        EXPECT_EQ(r.status, 200) << r.body;
        Session s;
        for (const auto& [name, value] : r.headers) {
            if (name == "Set-Cookie") {
                s.cookie = value.substr(0, value.find(';'));
            }
        }
        s.csrf = Json::parse(r.body).value("csrf_token", "");
        return s;
    }

    HttpResponse As(const Session& s, std::string method, const std::string& path,
                    std::string body = "", Headers headers = {}) {
        headers.emplace_back("cookie", s.cookie);
        headers.emplace_back("x-csrf-token", s.csrf);
        return Call(std::move(method), path, std::move(body), std::move(headers));
    }

    static Json Body(const HttpResponse& r) { return Json::parse(r.body); }

    static std::string HeaderOf(const HttpResponse& r, std::string_view name) {
        for (const auto& [k, v] : r.headers) {
            if (k == name) {
                return v;
            }
        }
        return {};
    }

    // Creates a user of `role` in `projects` (a group user when none).
    void AddUser(const std::string& name, const std::string& role,
                 const std::vector<std::string>& projects) {
        auto created = api_.CreateUser(name, kPassword, role, projects.empty(), projects);
        ASSERT_TRUE(created.has_value()) << created.error().ToString();
    }

    Instant now_ = service_test::T("2026-11-20T00:00:00Z");
    service_test::TempFileStore store_;
    BillingService billing_{*store_};
    AcquisitionService acquisition_{*store_, billing_};
    BusStatistics bus_;  // what the runtime would count; tests record into it
    Api api_;

private:
    ApiOptions Quiet(ApiOptions options) {
        options.access_log = false;
        options.clock = [this] { return now_; };
        options.bus_statistics = &bus_;
        return options;
    }
};

}  // namespace joule::api::test
