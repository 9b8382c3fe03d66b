// Meter billing [ACCT-1] through BillingService and AcquisitionService against the real SQLite
// store (in memory): top-ups queue purchases with the meter's next purchase counts, the count read
// before each attempt decides send / confirmed / mismatch, and no path credits the meter twice.
// The ledger balances after every step.
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <random>

#include "service/service_test_support.hpp"

namespace joule {
namespace {

using service_test::Kwh;
using service_test::T;
constexpr int64_t kDlt645Counts = 10000;

class MeterBillingTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site;
        site.project = {{}, "mall", "Test Mall", "Asia/Shanghai"};
        MeterModelRecord prepaid;
        prepaid.code = "ddsy";
        prepaid.name = "in-meter prepaid";
        prepaid.spec.max_rate_per_hour = 20'000;
        prepaid.in_meter_prepaid = true;
        site.models.push_back(prepaid);
        MeterModelRecord plain = prepaid;
        plain.code = "dds";
        plain.in_meter_prepaid = false;
        site.models.push_back(plain);
        site.tariffs.push_back(service_test::FlatTariff(T("2026-01-01T00:00:00Z")));
        for (auto [code, model] :
             {std::pair{"m1", "ddsy"}, std::pair{"m2", "ddsy"}, std::pair{"plain", "dds"}}) {
            SiteSpec::Meter m;
            m.meter.code = code;
            m.model_code = model;
            site.meters.push_back(m);
        }
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        meter_ = tx->FindMeter(project.id, "m1").value().value().id;
    }

    OpenAccountRequest Opening(std::string meter) const {
        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = "M001";
        open.tenant_name = "Dumpling shop";
        open.tariff_code = "flat";
        open.scheme.alarm1 = Money{5000};
        open.scheme.alarm2 = Money{2000};
        open.scheme.alarm3 = Money{500};
        open.meters.push_back({std::move(meter), Kwh(100), std::nullopt});
        open.opened_at = T("2026-11-01T00:00:00Z");
        open.billing_mode = BillingMode::kMeter;
        open.purchase_count = 7;
        return open;
    }
    void Open() {
        auto opened = billing_.OpenAccount(Opening("m1"), actor_, now_);
        ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
        ExpectLedgerBalanced();
    }
    TopUpResult TopUp(int64_t fen, std::string key) {
        auto r =
            billing_.TopUp({"mall", "M001", Money{fen}, "cash", std::move(key), "R"}, actor_, now_);
        EXPECT_TRUE(r.has_value()) << r.error().ToString();
        ExpectLedgerBalanced();
        return r.value_or(TopUpResult{});
    }
    AccountView View() { return billing_.ViewAccount("mall", "M001").value(); }
    std::vector<CommandRecord> Take() {
        now_ += Seconds{3600};  // past any backoff
        return acquisition_.TakeDueCommands(now_, 100).value();
    }
    CommandRecord Command(int64_t id) { return store_->Begin().value()->GetCommand(id).value(); }
    bool AlarmOpen(AlarmKind kind) { return !OpenAlarms(kind).empty(); }

    Instant now_ = T("2026-11-01T00:00:00Z");
    MeterId meter_;
};

TEST_F(MeterBillingTest, MeterModeNeedsAModelThatHoldsMoneyAndChangesNothingOtherwise) {
    auto refused = billing_.OpenAccount(Opening("plain"), actor_, now_);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(refused.error().field, "billing_mode");
    EXPECT_NE(refused.error().message.find("capabilities.in_meter_prepaid"), std::string::npos);
    OpenAccountRequest two = Opening("m1");
    two.meters.push_back({"m2", Kwh(0), std::nullopt});
    auto too_many = billing_.OpenAccount(two, actor_, now_);
    ASSERT_FALSE(too_many.has_value());
    EXPECT_EQ(too_many.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(too_many.error().field, "meters");
    auto tx = store_->Begin().value();
    const ProjectRecord project = tx->FindProject("mall").value().value();
    EXPECT_FALSE(tx->FindAccount(project.id, "M001").value().has_value());
    EXPECT_EQ(tx->SummarizeLedger().value().transfers, 0);
}

// A meter behind an MQTT gateway cannot have its purchase count read before each attempt, so
// it cannot hold the money: refused at opening, not after the money was sent on.
TEST_F(MeterBillingTest, MeterModeIsRefusedForAMeterBehindAnMqttGateway) {
    {
        auto tx = store_->Begin().value();
        const ProjectRecord project = tx->FindProject("mall").value().value();
        GatewayRecord edge;
        edge.project = project.id;
        edge.code = "edge";
        edge.transport = "mqtt";
        edge.endpoint = "edge";
        const GatewayId gateway = tx->InsertGateway(edge).value();
        MeterRecord m = tx->FindMeter(project.id, "m2").value().value();
        m.code = "m-edge";
        m.gateway = gateway;
        ASSERT_TRUE(tx->InsertMeter(m).has_value());
        MeterBilling billing;
        billing.meter = tx->FindMeter(project.id, "m-edge").value()->id;
        ASSERT_TRUE(tx->SaveBilling(billing).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    auto refused = billing_.OpenAccount(Opening("m-edge"), actor_, now_);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(refused.error().field, "billing_mode");
    EXPECT_FALSE(billing_.ViewAccount("mall", "M001").has_value());
}

TEST_F(MeterBillingTest, TopUpsQueuePurchasesWithTheNextCountsInOrder) {
    Open();
    const TopUpResult a = TopUp(10000, "k1");
    const TopUpResult b = TopUp(2500, "k2");
    const TopUpResult c = TopUp(1, "k3");
    EXPECT_EQ(a.purchase_count, 8);
    EXPECT_EQ(b.purchase_count, 9);
    EXPECT_EQ(c.purchase_count, 10);
    EXPECT_EQ(a.purchase_amount, Money{10000});
    EXPECT_EQ(Command(a.purchase_command).params,
              R"({"value":"100.00","count":8,"amount_fen":10000})");
    EXPECT_EQ(Command(c.purchase_command).params, R"({"value":"0.01","count":10,"amount_fen":1})");
    const AccountView view = View();
    EXPECT_EQ(view.paid, Money{0});  // all of it on its way to the meter
    EXPECT_EQ(view.meter_pending, Money{12501});
    EXPECT_EQ(view.meter_held, Money{0});
    EXPECT_EQ(view.account.purse.assigned_count, 10);
    EXPECT_EQ(view.account.purse.confirmed_count, 7);
    // A repeated key is the same payment: no second purchase.
    const TopUpResult again = TopUp(10000, "k1");
    EXPECT_EQ(again.outcome, TopUpOutcome::kAlreadyCredited);
    EXPECT_EQ(again.purchase_command, 0);
    EXPECT_EQ(View().meter_pending, Money{12501});
}

TEST_F(MeterBillingTest, PurchasesGoOutOneAtATimeInCountOrder) {
    Open();
    const TopUpResult a = TopUp(1000, "k1");
    const TopUpResult b = TopUp(2000, "k2");
    auto due = Take();
    ASSERT_EQ(due.size(), 1U);
    EXPECT_EQ(due[0].id, a.purchase_command);
    // The first comes due again (no result yet); the second waits behind it.
    due = Take();
    ASSERT_EQ(due.size(), 1U);
    EXPECT_EQ(due[0].id, a.purchase_command);
    ASSERT_EQ(acquisition_.CheckPurchase(a.purchase_command, 7, kDlt645Counts, now_).value(),
              PurchaseCheck::kSend);
    ASSERT_TRUE(acquisition_.ConfirmPurchase(a.purchase_command, kDlt645Counts, now_));
    due = Take();
    ASSERT_EQ(due.size(), 1U);
    EXPECT_EQ(due[0].id, b.purchase_command);
    ASSERT_TRUE(acquisition_.ConfirmPurchase(b.purchase_command, kDlt645Counts, now_));
    const AccountView view = View();
    EXPECT_EQ(view.meter_pending, Money{0});
    EXPECT_EQ(view.meter_held, Money{3000});
    EXPECT_EQ(view.account.purse.confirmed_count, 9);
    ExpectLedgerBalanced();
}

TEST_F(MeterBillingTest, ALostAcknowledgementIsConfirmedByTheCountWithoutResending) {
    Open();
    const TopUpResult a = TopUp(5000, "k1");
    ASSERT_EQ(Take().size(), 1U);
    ASSERT_EQ(acquisition_.CheckPurchase(a.purchase_command, 7, kDlt645Counts, now_).value(),
              PurchaseCheck::kSend);
    // Sent; the meter applied it but its reply was lost.
    ASSERT_TRUE(acquisition_.RecordCommandResult(a.purchase_command, false, "timeout", now_));
    EXPECT_EQ(View().meter_held, Money{0});
    ASSERT_EQ(Take().size(), 1U);  // retried: the runtime reads the count first
    EXPECT_EQ(acquisition_.CheckPurchase(a.purchase_command, 8, kDlt645Counts, now_).value(),
              PurchaseCheck::kAlreadyApplied);
    EXPECT_EQ(Command(a.purchase_command).state, CommandState::kAcknowledged);
    EXPECT_EQ(View().meter_held, Money{5000});
    ExpectLedgerBalanced();
    // Late or repeated confirmations (an acknowledgement arriving after all, a replayed check)
    // change nothing.
    EXPECT_FALSE(billing_.ConfirmPurchase(a.purchase_command, kDlt645Counts, "late", now_).value());
    ASSERT_TRUE(acquisition_.ConfirmPurchase(a.purchase_command, kDlt645Counts, now_));
    EXPECT_EQ(acquisition_.CheckPurchase(a.purchase_command, 8, kDlt645Counts, now_).value(),
              PurchaseCheck::kAlreadyApplied);
    ASSERT_TRUE(acquisition_.RecordCommandResult(a.purchase_command, false, "late", now_));
    const AccountView view = View();
    EXPECT_EQ(view.meter_held, Money{5000});
    EXPECT_EQ(view.meter_pending, Money{0});
    EXPECT_EQ(view.account.purse.confirmed_count, 8);
    EXPECT_TRUE(Take().empty());
    ExpectLedgerBalanced();
}

TEST_F(MeterBillingTest, AnUnexpectedCountFailsThePurchaseWithAnAlarmAndKeepsTheMoneyPending) {
    Open();
    const TopUpResult a = TopUp(5000, "k1");
    ASSERT_EQ(Take().size(), 1U);
    // Someone sold to the meter elsewhere (count 9), or a reset meter (count 0): never guess.
    EXPECT_EQ(acquisition_.CheckPurchase(a.purchase_command, 9, kDlt645Counts, now_).value(),
              PurchaseCheck::kMismatch);
    const CommandRecord failed = Command(a.purchase_command);
    EXPECT_EQ(failed.state, CommandState::kFailed);
    EXPECT_NE(failed.error.find("meter purchase count is 9"), std::string::npos);
    EXPECT_TRUE(AlarmOpen(AlarmKind::kPurchaseCountMismatch));
    EXPECT_EQ(View().meter_pending, Money{5000});
    EXPECT_EQ(View().meter_held, Money{0});
    EXPECT_TRUE(Take().empty());
    ExpectLedgerBalanced();
    // Staff find the meter did take it after all: confirming it once moves the money and clears
    // the alarm.
    EXPECT_TRUE(billing_.ConfirmPurchase(a.purchase_command, kDlt645Counts, "staff", now_).value());
    EXPECT_FALSE(AlarmOpen(AlarmKind::kPurchaseCountMismatch));
    EXPECT_EQ(View().meter_held, Money{5000});
    ExpectLedgerBalanced();
}

TEST_F(MeterBillingTest, ReadingsArePricedNotDeductedAndAlarmsFollowTheMeterAmount) {
    Open();
    TopUp(10000, "k1");
    now_ += Seconds{3600};
    ReadingItem item{"mall", "m1", ReadingInput{now_, now_, Kwh(110), false, {}}};
    auto billed = billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), now_);
    ASSERT_TRUE(billed.has_value()) << billed.error().ToString();
    EXPECT_EQ(billed->accepted, 1U);
    EXPECT_EQ(billed->deducted, Money{0});
    EXPECT_EQ(billed->commands, 0U);
    EXPECT_EQ(View().meter_pending, Money{10000});
    // The meter reads 15.00 yuan left: alarm 2 (at or below 20.00), no trip from the platform.
    MeterSample s;
    s.meter = meter_;
    s.meter_time = now_ + Seconds{60};
    s.received = now_ + Seconds{60};
    s.total = Kwh(111);
    s.in_meter_remaining = Money{1500};
    s.purchase_count = 7;
    ASSERT_TRUE(acquisition_.Record(std::vector<MeterSample>{s}, now_ + Seconds{60}));
    AccountView view = View();
    EXPECT_EQ(view.available, Money{1500});
    EXPECT_EQ(view.account.purse.remaining, Money{1500});
    EXPECT_EQ(view.account.prepaid.state, PrepaidState::kAlarm2);
    EXPECT_TRUE(AlarmOpen(AlarmKind::kLowBalance2));
    // Even below zero (the meter's own overdraft) the platform sends no trip: the meter does.
    s.meter_time += Seconds{60};
    s.received += Seconds{60};
    s.in_meter_remaining = Money{-300};
    ASSERT_TRUE(acquisition_.Record(std::vector<MeterSample>{s}, now_ + Seconds{120}));
    view = View();
    EXPECT_EQ(view.available, Money{-300});
    EXPECT_EQ(view.account.prepaid.relay, Relay::kClosed);
    auto tx = store_->Begin().value();
    const std::string_view relay[] = {"trip", "close"};
    EXPECT_FALSE(tx->LastCommand(meter_, relay).value().has_value());
    EXPECT_EQ(tx->SummarizeLedger().value().sum_of_balances.fen, 0);
}

TEST_F(MeterBillingTest, ConfirmationAddsThePurchaseToAMirrorReadBeforeIt) {
    Open();
    MeterSample s;
    s.meter = meter_;
    s.meter_time = now_;
    s.received = now_;
    s.in_meter_remaining = Money{200};
    s.purchase_count = 7;
    ASSERT_TRUE(acquisition_.Record(std::vector<MeterSample>{s}, now_));
    const TopUpResult a = TopUp(5000, "k1");
    ASSERT_EQ(Take().size(), 1U);
    ASSERT_TRUE(acquisition_.ConfirmPurchase(a.purchase_command, kDlt645Counts, now_));
    EXPECT_EQ(View().available, Money{5200});
    EXPECT_EQ(View().account.purse.remaining_count, 8);
}

TEST_F(MeterBillingTest, PlatformOnlyOperationsAreRefusedAndChangeNothing) {
    Open();
    TopUp(1000, "k1");
    auto subsidy = billing_.GrantSubsidy({"mall", "M001", Money{500}, 0, std::nullopt, "s1", "x"},
                                         actor_, now_);
    ASSERT_FALSE(subsidy.has_value());
    EXPECT_EQ(subsidy.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(subsidy.error().field, "billing_mode");
    auto closing = billing_.CloseAccount(
        {"mall", "M001", {{"m1", Kwh(100), std::nullopt}}, "cash", now_, {}}, actor_, now_);
    ASSERT_FALSE(closing.has_value());
    EXPECT_EQ(closing.error().field, "billing_mode");
    auto too_big =
        billing_.TopUp({"mall", "M001", Money{100'000'000}, "cash", "k9", ""}, actor_, now_);
    ASSERT_FALSE(too_big.has_value());
    EXPECT_EQ(too_big.error().field, "amount");
    // The paid credit of a meter-billing account is always 0 and never in arrears.
    auto refund = billing_.Refund({"mall", "M001", Money{100}, "cash", "r1", ""}, actor_, now_);
    ASSERT_FALSE(refund.has_value());
    EXPECT_EQ(refund.error().field, "billing_mode");
    auto debt = billing_.RecordDebt({"mall", "M001", Money{100}, "d1", ""}, actor_, now_);
    ASSERT_FALSE(debt.has_value());
    EXPECT_EQ(debt.error().field, "billing_mode");
    const AccountView view = View();
    EXPECT_EQ(view.meter_pending, Money{1000});
    EXPECT_EQ(view.account.status, AccountStatus::kOpen);
    EXPECT_EQ(view.granted, Money{0});
    ExpectLedgerBalanced();
}

// Seeded: random top-ups (keys repeated), dispatch attempts whose acknowledgement is lost or
// whose write is refused, and mirror reads, against a fake meter that applies a purchase only at
// its count + 1. After every step the ledger balances, the money is all either pending or held,
// nothing is held that the meter did not apply, and once drained the meter got every payment
// exactly once. JOULE_SEED=N replays a seed.
TEST_F(MeterBillingTest, RandomLostAcknowledgementsAndRefusalsNeverCreditTwice) {
    const char* env = std::getenv("JOULE_SEED");
    const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : 20261101;
    SCOPED_TRACE("JOULE_SEED=" + std::to_string(seed));
    std::mt19937_64 rng(seed);
    Open();
    struct FakeMeter {
        int64_t count = 7;
        int64_t balance = 0;
    } meter;
    std::map<std::string, int64_t> keys;  // key -> amount
    int64_t paid_in = 0;
    auto dispatch = [&](bool flaky) {
        now_ += Seconds{600};  // past any backoff
        const std::vector<CommandRecord> due = acquisition_.TakeDueCommands(now_, 100).value();
        for (const CommandRecord& c : due) {
            const PurchaseCheck check =
                acquisition_.CheckPurchase(c.id, meter.count % kDlt645Counts, kDlt645Counts, now_)
                    .value();
            if (check != PurchaseCheck::kSend)
                continue;
            const int64_t count = PurchaseCountOf(c).value();
            const int64_t fen = std::stoll(c.params.substr(c.params.find("amount_fen") + 12));
            const uint64_t fate = flaky ? rng() % 3 : 0;
            if (fate == 2) {  // the meter refuses (a bad moment): nothing applied
                ASSERT_TRUE(acquisition_.RecordCommandResult(c.id, false, "refused", now_));
                continue;
            }
            ASSERT_EQ(count, meter.count + 1);  // sent in order, each exactly at count + 1
            meter.count = count;
            meter.balance += fen;
            if (fate == 1) {  // applied, acknowledgement lost
                ASSERT_TRUE(acquisition_.RecordCommandResult(c.id, false, "timeout", now_));
            } else {
                ASSERT_TRUE(acquisition_.ConfirmPurchase(c.id, kDlt645Counts, now_));
            }
        }
    };
    for (int step = 0; step < 1000; ++step) {
        switch (rng() % 4) {
            case 0: {
                const std::string key = "k" + std::to_string(rng() % 40);
                auto known = keys.find(key);
                const int64_t fen =
                    known != keys.end() ? known->second : 1 + static_cast<int64_t>(rng() % 5000);
                const TopUpResult r = TopUp(fen, key);
                if (known == keys.end()) {
                    keys[key] = fen;
                    paid_in += fen;
                    EXPECT_EQ(r.outcome, TopUpOutcome::kCredited);
                } else {
                    EXPECT_EQ(r.outcome, TopUpOutcome::kAlreadyCredited);
                }
                break;
            }
            case 1:
            case 2:
                dispatch(true);
                break;
            default: {
                MeterSample s;
                s.meter = meter_;
                s.meter_time = now_;
                s.received = now_;
                s.in_meter_remaining = Money{meter.balance};
                s.purchase_count = meter.count % kDlt645Counts;
                ASSERT_TRUE(acquisition_.Record(std::vector<MeterSample>{s}, now_));
                break;
            }
        }
        const AccountView view = View();
        ASSERT_EQ(view.meter_pending.fen + view.meter_held.fen, paid_in);
        ASSERT_LE(view.meter_held.fen, meter.balance);  // only what the meter applied
        ASSERT_EQ(view.paid.fen, 0);
        ExpectLedgerBalanced();
        if (HasFatalFailure())
            return;
    }
    for (int i = 0; i < 200 && View().meter_pending.fen > 0; ++i)
        dispatch(false);
    const AccountView view = View();
    EXPECT_EQ(meter.balance, paid_in);
    EXPECT_EQ(view.meter_held.fen, paid_in);
    EXPECT_EQ(view.meter_pending.fen, 0);
    EXPECT_EQ(view.account.purse.confirmed_count, meter.count);
    EXPECT_EQ(view.account.purse.assigned_count, meter.count);
    ExpectLedgerBalanced();
}

}  // namespace
}  // namespace joule
