// Use-case tests against the real SQLite store (in memory): the full path from request to ledger.
#include "service/billing_service.hpp"

#include <array>
#include <map>
#include <thread>
#include <vector>

#include "service/service_test_support.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;

class BillingServiceTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site;
        site.project = {{}, "mall", "Test Mall", "Asia/Shanghai"};
        MeterModelRecord model;
        model.code = "dds";
        model.name = "single-phase prepaid";
        model.spec.max_rate_per_hour = 20'000;  // 20 kW
        site.models.push_back(model);
        MeterModelRecord water = model;
        water.code = "water";
        water.utility = Utility::kWater;
        site.models.push_back(water);
        site.tariffs.push_back(service_test::FlatTariff(T("2026-01-01T00:00:00Z")));
        for (const char* code : {"m1", "m2", "m3"}) {
            SiteSpec::Meter m;
            m.meter.code = code;
            m.model_code = "dds";
            site.meters.push_back(m);
        }
        SiteSpec::Meter pub;
        pub.meter.code = "public";
        pub.meter.public_area = true;
        pub.model_code = "dds";
        site.meters.push_back(pub);
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());

        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = "A001";
        open.tenant_name = "Tea shop";
        open.tariff_code = "flat";
        open.scheme.alarm1 = Money{5000};
        open.scheme.alarm2 = Money{2000};
        open.scheme.alarm3 = Money{500};
        open.meters.push_back({"m1", Kwh(100), std::nullopt});
        open.opened_at = T("2026-11-01T00:00:00Z");
        open.first_top_up = Money{10000};  // 100 yuan
        auto opened = billing_.OpenAccount(open, actor_, now_);
        ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    }

    Result<ApplyReadingsResult> Read(std::string_view meter, std::string_view at, int64_t kwh) {
        ReadingItem item{"mall", std::string(meter),
                         ReadingInput{T(at), T(at), Kwh(kwh), false, {}}};
        return billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), T(at));
    }

    AccountView View() { return billing_.ViewAccount("mall", "A001").value(); }

    Instant now_ = T("2026-11-30T00:00:00Z");
};

TEST_F(BillingServiceTest, OpeningWithFirstTopUpCreditsOnce) {
    const AccountView view = View();
    EXPECT_EQ(view.paid.fen, 10000);
    EXPECT_EQ(view.account.prepaid.state, PrepaidState::kNormal);
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, TopUpIsIdempotentOnItsKey) {
    TopUpRequest r{"mall", "A001", Money{5000}, "cash", "receipt-1", "R1"};
    auto first = billing_.TopUp(r, actor_, now_);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->outcome, TopUpOutcome::kCredited);
    auto second = billing_.TopUp(r, actor_, now_);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->outcome, TopUpOutcome::kAlreadyCredited);
    EXPECT_EQ(View().paid.fen, 15000);
    r.amount = Money{6000};
    auto different = billing_.TopUp(r, actor_, now_);
    ASSERT_FALSE(different.has_value());
    EXPECT_EQ(different.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(different.error().field, "idempotency_key");
    EXPECT_EQ(View().paid.fen, 15000);
    ExpectLedgerBalanced();
}

// Top-ups arriving together share commits (group commit); each key is still credited once, a
// replay in the same group as its original sees it, and a refused one does not spoil its group.
TEST_F(BillingServiceTest, ConcurrentTopUpsCreditEachKeyOnce) {
    constexpr int kThreads = 8;
    constexpr int kKeys = 40;
    std::vector<std::array<int, kKeys>> credited(kThreads);
    std::vector<int> refused(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            auto& mine = credited[static_cast<std::size_t>(t)];
            mine.fill(0);
            for (int k = 0; k < kKeys; ++k) {
                // Every key is sent by every thread, in a different order in each.
                const int key = (k * 7 + t * 5) % kKeys;
                TopUpRequest r{"mall", "A001", Money{100}, "cash", "k" + std::to_string(key), ""};
                auto result = billing_.TopUp(r, actor_, now_);
                ASSERT_TRUE(result.has_value()) << result.error().ToString();
                if (result->outcome == TopUpOutcome::kCredited) {
                    ++mine[static_cast<std::size_t>(key)];
                }
                // Refused ones in between: an unknown account and a key reused for another sum.
                if (k % 10 == t) {
                    r.account_number = "NOPE";
                    r.idempotency_key = "bad" + std::to_string(t);
                    refused[static_cast<std::size_t>(t)] += billing_.TopUp(r, actor_, now_) ? 0 : 1;
                    r.account_number = "A001";
                    r.idempotency_key = "k" + std::to_string(key);
                    r.amount = Money{999};
                    refused[static_cast<std::size_t>(t)] += billing_.TopUp(r, actor_, now_) ? 0 : 1;
                }
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    for (int k = 0; k < kKeys; ++k) {
        int times = 0;
        for (const auto& mine : credited) {
            times += mine[static_cast<std::size_t>(k)];
        }
        EXPECT_EQ(times, 1) << "key k" << k;
    }
    int refusals = 0;
    for (int r : refused) {
        refusals += r;
    }
    EXPECT_EQ(refusals, kThreads * 4 * 2);  // k % 10 == t four times in each thread, two each
    EXPECT_EQ(View().paid.fen, 10000 + kKeys * 100);
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, BadTopUpsChangeNothing) {
    for (Money amount : {Money{0}, Money{-100}, Money{kMaxTransferFen + 1}}) {
        auto r = billing_.TopUp({"mall", "A001", amount, "cash", "k", ""}, actor_, now_);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().field, "amount");
    }
    auto unknown = billing_.TopUp({"mall", "NOPE", Money{100}, "cash", "k2", ""}, actor_, now_);
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(unknown.error().field, "account_number");
    EXPECT_EQ(View().paid.fen, 10000);
}

TEST_F(BillingServiceTest, ReadingsDeductAlarmTripAndTopUpCloses) {
    // 100 yuan at 1 yuan/kWh: 55 kWh leaves 45 (alarm 1 at <= 50).
    auto r1 = Read("m1", "2026-11-01T10:00:00Z", 155);
    ASSERT_TRUE(r1.has_value()) << r1.error().ToString();
    EXPECT_EQ(r1->deducted.fen, 5500);
    EXPECT_EQ(View().account.prepaid.state, PrepaidState::kAlarm1);
    ASSERT_TRUE(Read("m1", "2026-11-01T14:00:00Z", 190).has_value());  // 10 left: alarm 2
    EXPECT_EQ(View().account.prepaid.state, PrepaidState::kAlarm2);
    ASSERT_TRUE(Read("m1", "2026-11-01T15:00:00Z", 197).has_value());  // 3 left: alarm 3
    EXPECT_EQ(View().account.prepaid.state, PrepaidState::kAlarm3);
    auto trip = Read("m1", "2026-11-01T16:00:00Z", 201);  // -1: trip
    ASSERT_TRUE(trip.has_value());
    EXPECT_EQ(trip->commands, 1U);
    EXPECT_EQ(View().account.prepaid.state, PrepaidState::kTripped);
    EXPECT_EQ(View().account.prepaid.relay, Relay::kOpen);
    auto top = billing_.TopUp({"mall", "A001", Money{5000}, "wechat", "pay-1", ""}, actor_, now_);
    ASSERT_TRUE(top.has_value());
    EXPECT_EQ(top->state, PrepaidState::kAlarm1);  // 49 yuan
    EXPECT_EQ(View().account.prepaid.relay, Relay::kClosed);
    auto tx = store_->Begin().value();
    auto commands = tx->ListCommands(ProjectId{1}, 10).value();
    ASSERT_EQ(commands.size(), 2U);
    EXPECT_EQ(commands[0].kind, "close");
    EXPECT_EQ(commands[1].kind, "trip");
    tx.reset();
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, ApplyingABatchTwiceChangesNothing) {
    std::vector<ReadingItem> batch;
    for (int h = 1; h <= 5; ++h) {
        const std::string at = "2026-11-01T0" + std::to_string(h) + ":00:00Z";
        batch.push_back({"mall", "m1", ReadingInput{T(at), T(at), Kwh(100 + h), false, {}}});
    }
    auto first = billing_.ApplyReadings(batch, now_);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->accepted, 5U);
    EXPECT_EQ(View().paid.fen, 9500);
    auto second = billing_.ApplyReadings(batch, now_);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->accepted, 0U);
    EXPECT_EQ(second->duplicates, 5U);
    EXPECT_EQ(View().paid.fen, 9500);
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, UnknownMeterFailsTheWholeBatch) {
    std::vector<ReadingItem> batch{
        {"mall", "m1", ReadingInput{T("2026-11-01T01:00:00Z"), now_, Kwh(101), false, {}}},
        {"mall", "ghost", ReadingInput{T("2026-11-01T01:00:00Z"), now_, Kwh(1), false, {}}}};
    auto r = billing_.ApplyReadings(batch, now_);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(r.error().field, "readings[1].meter");
    EXPECT_EQ(View().paid.fen, 10000);
}

TEST_F(BillingServiceTest, QuarantinedReadingsAreKeptNotBilled) {
    ASSERT_TRUE(Read("m1", "2026-11-01T01:00:00Z", 101).has_value());
    auto spike = Read("m1", "2026-11-01T02:00:00Z", 5000);  // 4899 kWh in an hour on a 20 kW meter
    ASSERT_TRUE(spike.has_value());
    EXPECT_EQ(spike->quarantined, 1U);
    EXPECT_EQ(View().paid.fen, 9900);
    auto tx = store_->Begin().value();
    auto meter = tx->FindMeter(ProjectId{1}, "m1").value();
    auto readings = tx->ListReadings(meter->id, 10).value();
    ASSERT_EQ(readings.size(), 2U);
    EXPECT_EQ(readings[0].outcome.validated.reason, ReadingReason::kSpike);
    auto alarms = tx->ListAlarms(ProjectId{1}, true).value();
    EXPECT_TRUE(std::any_of(alarms.begin(), alarms.end(), [](const AlarmRecord& a) {
        return a.kind == AlarmKind::kReadingQuarantined;
    }));
}

TEST_F(BillingServiceTest, SubsidyIsDrawnFirstAndExpires) {
    SubsidyRequest s{"mall",  "A001",      Money{300}, 0, T("2026-11-02T00:00:00Z"),
                     "sub-1", "base quota"};
    ASSERT_TRUE(billing_.GrantSubsidy(s, actor_, T("2026-11-01T00:00:00Z")).has_value());
    ASSERT_TRUE(Read("m1", "2026-11-01T01:00:00Z", 102).has_value());  // 2 yuan from the grant
    AccountView v = View();
    EXPECT_EQ(v.paid.fen, 10000);
    EXPECT_EQ(v.granted.fen, 100);
    ASSERT_TRUE(billing_.Tick("mall", T("2026-11-02T00:00:00Z")).has_value());
    v = View();
    EXPECT_EQ(v.granted.fen, 0);  // the rest expired back to the subsidy pool
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, RefundCannotExceedPaidBalance) {
    auto too_much =
        billing_.Refund({"mall", "A001", Money{10001}, "cash", "ref-1", ""}, actor_, now_);
    ASSERT_FALSE(too_much.has_value());
    EXPECT_EQ(too_much.error().field, "amount");
    ASSERT_TRUE(billing_.Refund({"mall", "A001", Money{4000}, "cash", "ref-2", ""}, actor_, now_)
                    .has_value());
    EXPECT_EQ(View().paid.fen, 6000);
    ExpectLedgerBalanced();
}

// Sales by day count what tenants paid in and got back, by channel: top-ups, refunds and
// subsidies; deductions are consumption, not sales (the store keeps these totals itself since
// migration 23 dropped the per-transfer trigger).
TEST_F(BillingServiceTest, SalesCountTopUpsRefundsAndSubsidiesButNotDeductions) {
    SubsidyRequest s{"mall",  "A001",      Money{300}, 0, T("2026-12-31T00:00:00Z"),
                     "sub-1", "base quota"};
    ASSERT_TRUE(billing_.GrantSubsidy(s, actor_, T("2026-11-01T00:00:00Z")).has_value());
    ASSERT_TRUE(Read("m1", "2026-11-01T01:00:00Z", 105).has_value());  // 5 yuan deducted
    ASSERT_TRUE(billing_.TopUp({"mall", "A001", Money{5000}, "wechat", "k-1", "R1"}, actor_, now_)
                    .has_value());
    ASSERT_TRUE(billing_.TopUp({"mall", "A001", Money{700}, "wechat", "k-2", "R2"}, actor_, now_)
                    .has_value());
    ASSERT_TRUE(billing_.Refund({"mall", "A001", Money{4000}, "cash", "ref-1", ""}, actor_, now_)
                    .has_value());
    auto read = store_->BeginRead().value();
    const ProjectId project = read->FindProject("mall").value()->id;
    auto sales =
        read->SumSales(project, {0, 1'000'000}, SummaryPeriod::kMonth, SummaryGroup::kProject);
    ASSERT_TRUE(sales.has_value()) << sales.error().ToString();
    using Sum = std::pair<int64_t, int64_t>;  // fen, transfers
    std::map<std::pair<TransferCode, std::string>, Sum> seen;
    for (const SalesTotal& t : *sales) {
        EXPECT_EQ(t.period, "2026-11");
        auto& [fen, count] = seen[{t.code, t.channel}];
        fen += t.amount.fen;
        count += t.transfers;
    }
    ASSERT_EQ(seen.size(), 4U);  // nothing for the deduction
    const std::pair<TransferCode, std::string> cash_top_up{TransferCode::kTopUp, "cash"};
    const std::pair<TransferCode, std::string> wechat_top_up{TransferCode::kTopUp, "wechat"};
    const std::pair<TransferCode, std::string> cash_refund{TransferCode::kRefund, "cash"};
    EXPECT_EQ(seen[cash_top_up], Sum(10000, 1));
    EXPECT_EQ(seen[wechat_top_up], Sum(5700, 2));
    EXPECT_EQ(seen[cash_refund], Sum(4000, 1));
    const std::pair<TransferCode, std::string> subsidies{TransferCode::kSubsidy, ""};
    const auto subsidy = seen.lower_bound(subsidies);
    ASSERT_NE(subsidy, seen.end());
    EXPECT_EQ(subsidy->first.first, TransferCode::kSubsidy);
    EXPECT_EQ(subsidy->second, Sum(300, 1));
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, DebtIsRecoveredByAShareOfTopUps) {
    ASSERT_TRUE(billing_
                    .Control({"mall", "A001", ControlEvent::kKeepPowerOn, "hospital stall", {}},
                             actor_, now_)
                    .has_value());
    ASSERT_TRUE(Read("m1", "2026-11-01T10:00:00Z", 250).has_value());  // -50 yuan under keep power
    EXPECT_EQ(View().account.prepaid.relay, Relay::kClosed);
    ASSERT_TRUE(
        billing_.RecordDebt({"mall", "A001", Money{5000}, "debt-1", "keep power"}, actor_, now_)
            .has_value());
    EXPECT_EQ(View().paid.fen, 0);
    EXPECT_EQ(View().debt.fen, -5000);
    // 30 % of each top-up recovers debt; the account's share is set through the request below.
    auto tx = store_->Begin().value();
    auto account = tx->FindAccount(ProjectId{1}, "A001").value().value();
    account.debt_share_basis_points = 3000;
    ASSERT_TRUE(tx->UpdateAccount(account).has_value());
    ASSERT_TRUE(tx->Commit().has_value());
    auto top = billing_.TopUp({"mall", "A001", Money{10000}, "cash", "t-1", ""}, actor_, now_);
    ASSERT_TRUE(top.has_value()) << top.error().ToString();
    EXPECT_EQ(top->debt_recovered.fen, 3000);
    EXPECT_EQ(View().paid.fen, 7000);
    EXPECT_EQ(View().debt.fen, -2000);
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, MeterReplacementKeepsBalanceAndHistory) {
    ASSERT_TRUE(Read("m1", "2026-11-01T10:00:00Z", 110).has_value());
    ReplaceMeterRequest r{"mall", "A001", "m1", Kwh(112), "m2", Kwh(5), T("2026-11-02T00:00:00Z"),
                          {}};
    auto replaced = billing_.ReplaceMeter(r, actor_, now_);
    ASSERT_TRUE(replaced.has_value()) << replaced.error().ToString();
    EXPECT_EQ(View().paid.fen, 10000 - 1200);
    ASSERT_TRUE(Read("m2", "2026-11-02T10:00:00Z", 8).has_value());  // 3 kWh on the new meter
    const AccountView v = View();
    EXPECT_EQ(v.paid.fen, 10000 - 1500);
    ASSERT_EQ(v.bindings.size(), 2U);
    EXPECT_EQ(v.bindings[0].closing_total, Kwh(112));
    EXPECT_EQ(v.bindings[1].opening_total, Kwh(5));
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, CloseAccountSettlesAndRefunds) {
    CloseAccountRequest r{
        "mall", "A001", {{"m1", Kwh(120), std::nullopt}}, "cash", T("2026-11-03T00:00:00Z"), {}};
    auto closed = billing_.CloseAccount(r, actor_, now_);
    ASSERT_TRUE(closed.has_value()) << closed.error().ToString();
    EXPECT_EQ(closed->refunded.fen, 8000);
    const AccountView v = View();
    EXPECT_EQ(v.account.status, AccountStatus::kClosed);
    EXPECT_EQ(v.paid.fen, 0);
    auto again = billing_.TopUp({"mall", "A001", Money{100}, "cash", "late", ""}, actor_, now_);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, ErrorCode::kFailedPrecondition);
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, TenantTransferCarriesBalanceToTheNewAccount) {
    TransferTenantRequest r;
    r.project_code = "mall";
    r.account_number = "A001";
    r.new_number = "A001-2";
    r.new_tenant_name = "Noodle bar";
    r.transfer_readings = {{"m1", Kwh(130), std::nullopt}};
    r.at = T("2026-11-05T00:00:00Z");
    auto moved = billing_.TransferTenant(r, actor_, now_);
    ASSERT_TRUE(moved.has_value()) << moved.error().ToString();
    auto next = billing_.ViewAccount("mall", "A001-2").value();
    EXPECT_EQ(next.paid.fen, 7000);
    EXPECT_EQ(View().account.status, AccountStatus::kClosed);
    ASSERT_TRUE(Read("m1", "2026-11-05T10:00:00Z", 131).has_value());
    EXPECT_EQ(billing_.ViewAccount("mall", "A001-2")->paid.fen, 6900);
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, PublicMeterStartsFromItsFirstReadingAndIsNeverDeducted) {
    auto first = Read("public", "2026-11-01T01:00:00Z", 500);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->accepted, 1U);
    auto second = Read("public", "2026-11-01T02:00:00Z", 505);
    ASSERT_TRUE(second.has_value());
    EXPECT_EQ(second->accepted, 1U);
    EXPECT_EQ(second->transfers, 0U);
    ExpectLedgerBalanced();
}

// ---- regressions from the money review

TEST_F(BillingServiceTest, AMeterCannotBeBoundBeforeItsLastReading) {
    ASSERT_TRUE(Read("m1", "2026-11-01T10:00:00Z", 110).has_value());
    CloseAccountRequest close{
        "mall", "A001", {{"m1", Kwh(111), std::nullopt}}, "cash", T("2026-11-01T11:00:00Z"), {}};
    ASSERT_TRUE(billing_.CloseAccount(close, actor_, now_).has_value());
    OpenAccountRequest open;
    open.project_code = "mall";
    open.number = "B001";
    open.tenant_name = "Backdated";
    open.tariff_code = "flat";
    open.meters.push_back({"m1", Kwh(105), std::nullopt});
    open.opened_at = T("2026-11-01T09:00:00Z");  // before the last billed reading
    auto r = billing_.OpenAccount(open, actor_, now_);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(r.error().field, "meters[0]");
    EXPECT_FALSE(billing_.ViewAccount("mall", "B001").has_value());  // nothing half-created
}

TEST_F(BillingServiceTest, ClientKeysCannotTakeSystemIds) {
    for (const char* key : {"expire:1", "rd:1:2:0", "k:debt", "close:5"}) {
        auto r = billing_.TopUp({"mall", "A001", Money{100}, "cash", key, ""}, actor_, now_);
        ASSERT_FALSE(r.has_value()) << key;
        EXPECT_EQ(r.error().field, "idempotency_key");
    }
    EXPECT_EQ(View().paid.fen, 10000);
}

TEST_F(BillingServiceTest, ASubsidyKeyReplayedForAnotherAccountIsRefused) {
    OpenAccountRequest open;
    open.project_code = "mall";
    open.number = "A002";
    open.tenant_name = "Second";
    open.tariff_code = "flat";
    open.meters.push_back({"m2", Kwh(0), std::nullopt});
    open.opened_at = T("2026-11-01T00:00:00Z");
    ASSERT_TRUE(billing_.OpenAccount(open, actor_, now_).has_value());
    ASSERT_TRUE(
        billing_.GrantSubsidy({"mall", "A001", Money{100}, 0, std::nullopt, "g1", ""}, actor_, now_)
            .has_value());
    auto other = billing_.GrantSubsidy({"mall", "A002", Money{100}, 0, std::nullopt, "g1", ""},
                                       actor_, now_);
    ASSERT_FALSE(other.has_value());
    EXPECT_EQ(other.error().field, "idempotency_key");
    EXPECT_EQ(billing_.ViewAccount("mall", "A002")->granted.fen, 0);
}

TEST_F(BillingServiceTest, ClosingNeedsAFinalReadingForEveryMeter) {
    CloseAccountRequest close{"mall", "A001", {}, "cash", T("2026-11-02T00:00:00Z"), {}};
    auto r = billing_.CloseAccount(close, actor_, now_);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field, "readings");
    EXPECT_EQ(View().account.status, AccountStatus::kOpen);
    EXPECT_EQ(View().paid.fen, 10000);
}

TEST_F(BillingServiceTest, ReplacementRefusesNegativeRegistersAndPublicMeters) {
    ReplaceMeterRequest r{
        "mall", "A001", "m1", Kwh(101), "m2", Quantity{-1}, T("2026-11-02T00:00:00Z"), {}};
    auto negative = billing_.ReplaceMeter(r, actor_, now_);
    ASSERT_FALSE(negative.has_value());
    EXPECT_EQ(negative.error().field, "new_opening_reading");
    r.new_opening_total = Kwh(1);
    r.new_meter_code = "public";
    auto public_meter = billing_.ReplaceMeter(r, actor_, now_);
    ASSERT_FALSE(public_meter.has_value());
    EXPECT_EQ(public_meter.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(View().paid.fen, 10000);  // the old meter's final reading was rolled back too
}

TEST_F(BillingServiceTest, ANewMeterOnATrippedAccountIsTrippedToo) {
    ASSERT_TRUE(Read("m1", "2026-11-01T10:00:00Z", 201).has_value());  // -1.00: tripped
    ASSERT_EQ(View().account.prepaid.relay, Relay::kOpen);
    ReplaceMeterRequest r{"mall", "A001", "m1", Kwh(201), "m2", Kwh(0), T("2026-11-01T11:00:00Z"),
                          {}};
    ASSERT_TRUE(billing_.ReplaceMeter(r, actor_, now_).has_value());
    auto tx = store_->Begin().value();
    auto commands = tx->ListCommands(ProjectId{1}, 10).value();
    ASSERT_FALSE(commands.empty());
    EXPECT_EQ(commands[0].kind, "trip");
    EXPECT_EQ(commands[0].meter, tx->FindMeter(ProjectId{1}, "m2")->value().id);
}

TEST_F(BillingServiceTest, OverlongReasonsAndFutureTransfersAreRefused) {
    auto refund = billing_.Refund(
        {"mall", "A001", Money{100}, "cash", "r-long", std::string(300, 'x')}, actor_, now_);
    ASSERT_FALSE(refund.has_value());
    EXPECT_EQ(refund.error().field, "reason");
    TransferTenantRequest transfer;
    transfer.project_code = "mall";
    transfer.account_number = "A001";
    transfer.new_number = "A009";
    transfer.new_tenant_name = "Too early";
    transfer.transfer_readings = {{"m1", Kwh(100), std::nullopt}};
    transfer.at = now_ + Seconds{86400};
    auto moved = billing_.TransferTenant(transfer, actor_, now_);
    ASSERT_FALSE(moved.has_value());
    EXPECT_EQ(moved.error().field, "at");
    EXPECT_EQ(View().paid.fen, 10000);
}

TEST_F(BillingServiceTest, AnInconsistentSchemeIsRefusedByTheServiceItself) {
    OpenAccountRequest open;
    open.project_code = "mall";
    open.number = "A004";
    open.tenant_name = "Levels upside down";
    open.tariff_code = "flat";
    open.meters.push_back({"m3", Kwh(0), std::nullopt});
    open.opened_at = T("2026-11-01T00:00:00Z");
    open.scheme.alarm1 = Money{100};
    open.scheme.alarm2 = Money{500};
    auto r = billing_.OpenAccount(open, actor_, now_);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field, "scheme.alarm2");
    EXPECT_FALSE(billing_.ViewAccount("mall", "A004").has_value());
}

TEST_F(BillingServiceTest, FirstTopUpFailureLeavesNoAccount) {
    OpenAccountRequest open;
    open.project_code = "mall";
    open.number = "A003";
    open.tenant_name = "Long channel";
    open.tariff_code = "flat";
    open.meters.push_back({"m3", Kwh(0), std::nullopt});
    open.opened_at = T("2026-11-01T00:00:00Z");
    open.first_top_up = Money{1000};
    open.channel = std::string(40, 'x');
    auto r = billing_.OpenAccount(open, actor_, now_);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().field, "channel");
    EXPECT_FALSE(billing_.ViewAccount("mall", "A003").has_value());
}

// Today is the project's local day (Asia/Shanghai); the forecast averages the whole days since
// the opening (at most a week) and divides what is left by it.
TEST_F(BillingServiceTest, TheViewShowsTodaysUsageAndTheDaysLeft) {
    ASSERT_TRUE(Read("m1", "2026-11-01T10:00:00Z", 110).has_value());  // Nov 1: 10 yuan
    ASSERT_TRUE(Read("m1", "2026-11-02T10:00:00Z", 120).has_value());  // Nov 2: 10 yuan
    ASSERT_TRUE(Read("m1", "2026-11-03T10:00:00Z", 124).has_value());  // Nov 3: 4 yuan
    // 20:00 on Nov 3 in Shanghai.
    const AccountView view =
        billing_.ViewAccount("mall", "A001", T("2026-11-03T12:00:00Z")).value();
    ASSERT_EQ(view.today.size(), 1U);
    EXPECT_EQ(view.today[0].energy, Kwh(4));
    EXPECT_EQ(view.today[0].deducted, Money{400});
    EXPECT_EQ(view.forecast_days, 2);  // Nov 1 and 2
    ASSERT_TRUE(view.forecast.has_value());
    EXPECT_EQ(view.forecast->daily_average, Money{1000});
    EXPECT_EQ(view.forecast->days_left, 7);  // 76 yuan left at 10 a day

    // 07:00 on Nov 4 in Shanghai is already the next day: nothing today yet, three days behind.
    const AccountView next =
        billing_.ViewAccount("mall", "A001", T("2026-11-03T23:00:00Z")).value();
    EXPECT_TRUE(next.today.empty());
    EXPECT_EQ(next.forecast_days, 3);
    EXPECT_EQ(next.forecast->daily_average, Money{800});  // 24 / 3
    EXPECT_EQ(next.forecast->days_left, 9);               // 76 x 3 / 24 = 9.5

    // The day of the opening has no whole day behind it; without an instant, no usage at all.
    EXPECT_FALSE(billing_.ViewAccount("mall", "A001", T("2026-11-01T12:00:00Z"))->forecast);
    const AccountView plain = View();
    EXPECT_TRUE(plain.today.empty());
    EXPECT_FALSE(plain.forecast.has_value());
}

TEST_F(BillingServiceTest, ANewSchemeAppliesToTheBalanceAtOnce) {
    ChangeTermsRequest change;
    change.project_code = "mall";
    change.account_number = "A001";
    change.tenant_name = "Tea house";
    change.phone = "13800000000";
    change.scheme = View().account.scheme;
    change.scheme->alarm1 = Money{15000};  // 100 yuan left is now below every level
    change.scheme->alarm2 = Money{12000};
    change.scheme->alarm3 = Money{11000};
    change.expected_version = View().account.version;
    auto changed = billing_.ChangeTerms(change, actor_, now_);
    ASSERT_TRUE(changed.has_value()) << changed.error().ToString();
    EXPECT_EQ(changed->tenant_name, "Tea house");
    EXPECT_EQ(changed->phone, "13800000000");
    EXPECT_EQ(changed->prepaid.state, PrepaidState::kAlarm3);
    EXPECT_EQ(View().account.prepaid.state, PrepaidState::kAlarm3);
    EXPECT_EQ(View().account.scheme.alarm1, Money{15000});
    EXPECT_EQ(View().account.version, changed->version);
    EXPECT_EQ(OpenAlarms(AlarmKind::kLowBalance3).size(), 1U);

    // Back to the old levels: the alarm clears, the state is normal again.
    ChangeTermsRequest back;
    back.project_code = "mall";
    back.account_number = "A001";
    back.scheme = ControlScheme{};
    back.expected_version = changed->version;
    auto restored = billing_.ChangeTerms(back, actor_, now_);
    ASSERT_TRUE(restored.has_value()) << restored.error().ToString();
    EXPECT_EQ(restored->prepaid.state, PrepaidState::kNormal);
    EXPECT_TRUE(OpenAlarms(AlarmKind::kLowBalance3).empty());
    EXPECT_EQ(View().account.tenant_name, "Tea house");  // absent fields stay
    ExpectLedgerBalanced();
}

TEST_F(BillingServiceTest, ABadChangeOfTermsChangesNothing) {
    const AccountRecord before = View().account;
    const auto refused = [&](ChangeTermsRequest r) {
        r.project_code = "mall";
        r.account_number = r.account_number.empty() ? "A001" : r.account_number;
        auto result = billing_.ChangeTerms(r, actor_, now_);
        EXPECT_FALSE(result.has_value());
        const AccountRecord after = View().account;
        EXPECT_EQ(after.version, before.version);
        EXPECT_EQ(after.tenant_name, before.tenant_name);
        EXPECT_EQ(after.tariff, before.tariff);
        return result ? Error{ErrorCode::kInternal, "accepted", ""} : result.error();
    };
    ChangeTermsRequest r;
    r.tariff_code = "nope";
    r.tenant_name = "Renamed";
    EXPECT_EQ(refused(r).field, "tariff");
    r = {};
    r.tenant_name = std::string(200, 'x');
    EXPECT_EQ(refused(r).field, "tenant_name");
    r = {};
    r.phone = std::string(40, '1');
    EXPECT_EQ(refused(r).field, "phone");
    r = {};
    r.scheme = ControlScheme{};
    r.scheme->alarm2 = Money{9000};  // above alarm 1
    EXPECT_EQ(refused(r).field, "scheme.alarm2");
    r = {};
    r.debt_share_basis_points = 10'001;
    EXPECT_EQ(refused(r).field, "debt_share_percent");
    r = {};
    r.tenant_name = "Stale";
    r.expected_version = before.version + 5;
    const Error stale = refused(r);
    EXPECT_EQ(stale.code, ErrorCode::kAborted);
    EXPECT_EQ(stale.field, "expected_version");
    r = {};
    r.account_number = "NOPE";
    r.tenant_name = "Nobody";
    EXPECT_EQ(refused(r).code, ErrorCode::kNotFound);
    // A water tariff on an electricity account is a slip, not a change of terms.
    {
        auto tx = store_->Begin().value();
        TariffRecord water = service_test::FlatTariff(T("2026-01-01T00:00:00Z"));
        water.project = tx->FindProject("mall").value()->id;
        water.code = "water";
        water.tariff.utility = Utility::kWater;
        ASSERT_TRUE(tx->InsertTariff(water).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    r = {};
    r.tariff_code = "water";
    const Error other_utility = refused(r);
    EXPECT_EQ(other_utility.code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(other_utility.field, "tariff");
}

}  // namespace
}  // namespace joule
