// The providers' daily statements fetched by the server itself [PAY-3]: the fetcher against
// WeChat Pay's trade bill and Alipay's bill zip played by Node (node_providers.hpp), whose crypto
// checks our signed calls and signs its answers, and whose zip is not libzip's.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "app/provider_clients.hpp"
#include "app/statement_fetcher.hpp"
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

Instant WallNow() { return std::chrono::floor<Seconds>(std::chrono::system_clock::now()); }

// Noon (Beijing) `days` before today (Beijing): when the statement's payments were made.
Instant BeijingNoonDaysAgo(int days) {
    const auto today = date::floor<date::days>(WallNow() + std::chrono::hours{8});
    return Instant{today - date::days{days}} + std::chrono::hours{12 - 8};
}

std::string DayOf(Instant at) {
    return FormatDate(CivilDate{date::floor<date::days>(at + std::chrono::hours{8})});
}

class StatementFetchTest : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_GT(node_.port, 0) << "node did not start the fake providers";
        SiteSpec site = service_test::FlatSite("mall");
        site.meters.push_back(service_test::SiteMeter(site, "m1"));
        ASSERT_TRUE(CreateSite(*store_, site, Actor{}, start_).has_value());
        ASSERT_TRUE(
            billing_
                .OpenAccount(service_test::TeaShop("mall", "A001", "m1", start_), Actor{}, start_)
                .has_value());
    }

    // An order made at `at` and, unless `paid` is false, paid then with `transaction_id`.
    void Paid(const std::string& no, int64_t fen, const std::string& provider,
              const std::string& transaction_id, Instant at, bool paid = true) {
        auto order = payments_.CreateOrder(
            {"mall", "A001", Money{fen}, provider, provider == "wechat" ? "jsapi" : "wap", no},
            Actor{"tenant"}, at);
        ASSERT_TRUE(order.has_value()) << order.error().ToString();
        if (!paid) {
            return;
        }
        PaymentNotification n;
        n.provider = provider;
        n.order_no = no;
        n.transaction_id = transaction_id;
        n.amount = Money{fen};
        n.paid = true;
        n.state = "SUCCESS";
        n.paid_at = at;
        ASSERT_EQ(payments_.ConfirmPayment(n, at).value().outcome, PaymentOutcome::kCredited);
    }

    app::StatementFetcher Fetcher(const app::ProviderClients& clients) {
        app::StatementFetchOptions o;
        o.ready_hour = 0;  // whatever the hour the test runs at, yesterday's is ready
        o.days_back = 3;
        o.retry_every = Seconds{60};
        o.alarm_after = 2;
        o.check_every = Seconds{0};
        return app::StatementFetcher(*store_, fetch_payments_, app::StatementSourcesOf(clients), o);
    }
    app::ProviderClients Wechat() {
        return {{"wechat",
                 app::MakeWechatClient(node_.Config(), node_.MerchantKey(), node_.Base(), "")}};
    }
    std::vector<ReconciliationRun> Runs() {
        return payments_.ListReconciliations("mall", 100).value();
    }
    int64_t MismatchAlarms() {
        auto tx = store_->BeginRead().value();
        const std::vector<AlarmRecord> alarms = tx->ListAlarms(ProjectId{1}, true).value();
        return std::count_if(alarms.begin(), alarms.end(), [](const AlarmRecord& a) {
            return a.kind == AlarmKind::kPaymentMismatch;
        });
    }

    FakeWechat node_;
    service_test::TempFileStore store_;
    BillingService billing_{*store_};
    PaymentService payments_{*store_, billing_};
    PaymentService fetch_payments_{*store_, billing_};  // the fetcher's own, as in joule serve
    Instant start_ = BeijingNoonDaysAgo(6);
};

TEST_F(StatementFetchTest, YesterdaysWechatBillIsReconciledOnceForEveryProject) {
    const Instant yesterday = BeijingNoonDaysAgo(1);
    Paid("SF00001", 5000, "wechat", "4200000000000101", yesterday);  // in the bill: matches
    Paid("SF00002", 3000, "wechat", "4200000000000102", yesterday);  // not in the bill
    // WeChat took these yesterday: ours, and one for an order we never made.
    node_.Bill("normal", Json::array({{{"provider", "wechat"},
                                       {"order_no", "SF00001"},
                                       {"amount", 5000},
                                       {"transaction_id", "4200000000000101"},
                                       {"at", FormatInstant(yesterday)}},
                                      {{"provider", "wechat"},
                                       {"order_no", "SF00099"},
                                       {"amount", 1200},
                                       {"transaction_id", "4200000000000199"},
                                       {"at", FormatInstant(yesterday)}}}));
    app::StatementFetcher fetcher = Fetcher(Wechat());
    auto round = fetcher.RunOnce(WallNow());
    ASSERT_TRUE(round.has_value()) << round.error().ToString();
    // Only yesterday: the days before the first order are none of ours, today is not over.
    EXPECT_EQ(round->fetched, 1);
    EXPECT_EQ(round->failed, 0);
    EXPECT_EQ(round->reconciliations, 1);
    EXPECT_EQ(round->mismatches, 2);
    const std::vector<ReconciliationRun> runs = Runs();
    ASSERT_EQ(runs.size(), 1U);
    EXPECT_EQ(runs[0].provider, "wechat");
    EXPECT_EQ(runs[0].bill_date, DayOf(yesterday));
    EXPECT_EQ(runs[0].imported_by, "statement-fetch");
    EXPECT_EQ(runs[0].lines, 2);
    EXPECT_EQ(runs[0].matched, 1);
    EXPECT_EQ(runs[0].statement_paid, Money{6200});
    EXPECT_EQ(runs[0].credited, Money{8000});
    EXPECT_EQ(runs[0].file_sha256.size(), 64U);
    const auto mismatches = payments_.GetReconciliation("mall", runs[0].id).value().mismatches;
    ASSERT_EQ(mismatches.size(), 2U);
    std::set<std::string> kinds;
    for (const Mismatch& m : mismatches) {
        kinds.insert(std::string(MismatchKindName(m.kind)) + " " + m.order_no);
    }
    EXPECT_EQ(kinds, (std::set<std::string>{"not_in_statement SF00002", "unknown_order SF00099"}));
    EXPECT_GE(MismatchAlarms(), 1);
    const auto done =
        payments_.FindStatementDownload("wechat", ParseDate(DayOf(yesterday), "d").value()).value();
    ASSERT_TRUE(done.has_value());
    EXPECT_TRUE(done->done);
    EXPECT_EQ(done->lines, 2);

    // Done is done: the next rounds fetch nothing, and the service will not reconcile it twice.
    auto again = fetcher.RunOnce(WallNow() + Seconds{120});
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->fetched, 0);
    EXPECT_EQ(Runs().size(), 1U);
    FetchedStatement twice;
    twice.provider = "wechat";
    twice.day = ParseDate(DayOf(yesterday), "d").value();
    EXPECT_TRUE(fetch_payments_.ReconcileFetched(twice, Actor{"x"}, WallNow()).value().empty());
    EXPECT_EQ(Runs().size(), 1U);
}

TEST_F(StatementFetchTest, ABillNotReadyOrNotTheFileNamedIsAskedForAgainAndAlarmedOnce) {
    const Instant yesterday = BeijingNoonDaysAgo(1);
    Paid("SF00011", 5000, "wechat", "4200000000000111", yesterday);
    node_.Bill("creating", Json::array({{{"provider", "wechat"},
                                         {"order_no", "SF00011"},
                                         {"amount", 5000},
                                         {"transaction_id", "4200000000000111"},
                                         {"at", FormatInstant(yesterday)}}}));
    app::StatementFetcher fetcher = Fetcher(Wechat());
    const Instant now = WallNow();
    auto first = fetcher.RunOnce(now);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->failed, 1);
    EXPECT_EQ(first->fetched, 0);
    EXPECT_EQ(MismatchAlarms(), 0);  // not yet: WeChat makes them by the morning
    const CivilDate day = ParseDate(DayOf(yesterday), "d").value();
    auto record = payments_.FindStatementDownload("wechat", day).value();
    ASSERT_TRUE(record.has_value());
    EXPECT_FALSE(record->done);
    EXPECT_EQ(record->attempts, 1);
    EXPECT_NE(record->last_error.find("STATEMENT_CREATING"), std::string::npos)
        << record->last_error;
    // Not again before retry_every.
    EXPECT_EQ(fetcher.RunOnce(now + Seconds{30}).value().failed, 0);

    // A file that is not the one WeChat hashed is refused: nothing reconciled from it; the second
    // failure is alarmed, once.
    node_.Bill("tamper", Json::array({{{"provider", "wechat"},
                                       {"order_no", "SF00011"},
                                       {"amount", 5000},
                                       {"transaction_id", "4200000000000111"},
                                       {"at", FormatInstant(yesterday)}}}));
    auto second = fetcher.RunOnce(now + Seconds{61});
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->failed, 1);
    record = payments_.FindStatementDownload("wechat", day).value();
    EXPECT_EQ(record->attempts, 2);
    EXPECT_TRUE(record->alarmed);
    EXPECT_NE(record->last_error.find("SHA1"), std::string::npos) << record->last_error;
    EXPECT_EQ(MismatchAlarms(), 1);
    EXPECT_TRUE(Runs().empty());

    // Ready: reconciled, everything matching.
    node_.Bill("normal", Json::array({{{"provider", "wechat"},
                                       {"order_no", "SF00011"},
                                       {"amount", 5000},
                                       {"transaction_id", "4200000000000111"},
                                       {"at", FormatInstant(yesterday)}}}));
    auto third = fetcher.RunOnce(now + Seconds{122});
    ASSERT_TRUE(third.has_value());
    EXPECT_EQ(third->fetched, 1);
    EXPECT_EQ(third->mismatches, 0);
    ASSERT_EQ(Runs().size(), 1U);
    EXPECT_EQ(Runs()[0].matched, 1);
    EXPECT_EQ(payments_.FindStatementDownload("wechat", day).value()->attempts, 3);
}

TEST_F(StatementFetchTest, AlipaysBillZipAndADayWithoutAnyTrade) {
    // An order two days ago nobody paid: that day's bill does not exist (no trade); yesterday's
    // payment is in yesterday's zip.
    Paid("SF00020", 1000, "alipay", "", BeijingNoonDaysAgo(2), false);
    const Instant yesterday = BeijingNoonDaysAgo(1);
    Paid("SF00021", 8800, "alipay", "2026112222001400000021", yesterday);
    node_.Bill("normal", Json::array({{{"provider", "alipay"},
                                       {"order_no", "SF00021"},
                                       {"amount", 8800},
                                       {"transaction_id", "2026112222001400000021"},
                                       {"at", FormatInstant(yesterday)}}}));
    app::StatementFetcher fetcher = Fetcher({{"alipay", node_.Alipay()}});
    auto round = fetcher.RunOnce(WallNow());
    ASSERT_TRUE(round.has_value()) << round.error().ToString();
    EXPECT_EQ(round->failed, 0);
    EXPECT_EQ(round->fetched, 2);
    EXPECT_EQ(round->mismatches, 0);
    const std::vector<ReconciliationRun> runs = Runs();  // newest first
    ASSERT_EQ(runs.size(), 2U);
    EXPECT_EQ(runs[0].provider, "alipay");
    EXPECT_EQ(runs[0].bill_date, DayOf(yesterday));
    EXPECT_EQ(runs[0].lines, 1);
    EXPECT_EQ(runs[0].matched, 1);
    EXPECT_EQ(runs[0].statement_paid, Money{8800});
    EXPECT_EQ(runs[1].bill_date, DayOf(BeijingNoonDaysAgo(2)));
    EXPECT_EQ(runs[1].lines, 0);
    EXPECT_EQ(runs[1].file_sha256, "");
    EXPECT_EQ(MismatchAlarms(), 0);
}

}  // namespace
}  // namespace joule
