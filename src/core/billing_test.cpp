#include "core/billing.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/rounding.hpp"

namespace joule {
namespace {

Instant At(std::string_view text) { return ParseInstant(text, "at").value(); }

const Zone& Shanghai() {
    static const Zone zone = Zone::Load("Asia/Shanghai").value();
    return zone;
}

constexpr LedgerAccountId kRevenue{99};

// Flat 0.5000 yuan/kWh from 2026-01-01 local: 1 Wh = 5000 x 10000 = 5e7 fine = 0.05 fen.
Tariff FlatTariff() {
    TariffVersion v;
    v.effective_from = At("2026-01-01T00:00:00+08:00");
    v.flat_price = UnitPrice{5000};
    Tariff t;
    t.name = "residential";
    t.versions = {v};
    return t;
}

// Meter 7 of account 3, opened at 100.000 kWh on 2026-01-10T00:00Z.
MeterBilling OpenMeter() {
    MeterBilling m;
    m.meter = MeterId{7};
    m.account = AccountId{3};
    m.cursor.valid = true;
    m.cursor.time = At("2026-01-10T00:00:00Z");
    m.cursor.total = Quantity{100'000};
    return m;
}

// Paid 10.00 yuan (ledger account 1) and one never-expiring grant of 1.00 yuan (account 2).
Wallet OpenWallet() {
    Wallet w;
    w.paid.id = LedgerAccountId{1};
    w.paid.kind = LedgerAccountKind::kTenantPaid;
    w.paid.balance = Money{1000};
    LedgerAccount grant;
    grant.id = LedgerAccountId{2};
    grant.kind = LedgerAccountKind::kTenantGrant;
    grant.balance = Money{100};
    w.grants = {grant};
    w.debt.id = LedgerAccountId{3};
    w.debt.kind = LedgerAccountKind::kTenantDebt;
    return w;
}

ReadingInput Reading(std::string_view meter_time, int64_t total_wh) {
    ReadingInput r;
    r.meter_time = At(meter_time);
    r.received = r.meter_time + Seconds{10};
    r.total = Quantity{total_wh};
    return r;
}

struct Billed {
    std::vector<ReadingOutcome> outcomes;
    std::vector<Transfer> transfers;
};

Billed Bill(MeterBilling& meter, Wallet* wallet, const std::vector<ReadingInput>& readings,
            const Tariff& tariff) {
    const BillingContext ctx{&tariff, &Shanghai(), kRevenue, "billing", "E1"};
    TariffEngine engine;
    Billed run;
    BillMeterReadings(meter, wallet, readings, ctx, engine, run.outcomes, run.transfers);
    return run;
}

void ExpectInvariant(const MeterBilling& m) {
    EXPECT_EQ(m.deducted_total, RoundFineToFen(FineMoney{}, m.charged_total).deduct);
    EXPECT_EQ(m.deducted_total.fen * kFinePerFen + m.carry.value, m.charged_total.value);
}

TEST(DeductionTransferId, DerivesFromMeterTimeMeterAndPart) {
    // 2026-01-10T01:00:00Z = 1767225600 (2026-01-01) + 9 x 86400 + 3600 = 1768006800.
    EXPECT_EQ(DeductionTransferId(MeterId{7}, At("2026-01-10T01:00:00Z"), 0), "rd:1768006800:7:0");
    EXPECT_EQ(DeductionTransferId(MeterId{7}, At("2026-01-10T01:00:00Z"), 1), "rd:1768006800:7:1");
    EXPECT_NE(DeductionTransferId(MeterId{8}, At("2026-01-10T01:00:00Z"), 0),
              DeductionTransferId(MeterId{7}, At("2026-01-10T01:00:00Z"), 0));
    // Later meter times sort after earlier ones whatever the meter, so new ids are appended to the
    // id index (ten-digit Unix seconds, 2001 to 2286).
    EXPECT_LT(DeductionTransferId(MeterId{99'999}, At("2026-01-10T01:00:00Z"), 3),
              DeductionTransferId(MeterId{1}, At("2026-01-10T01:00:05Z"), 0));
}

TEST(BillMeterReadings, DrawsGrantFirstThenPaidWithCarriedRounding) {
    const Tariff tariff = FlatTariff();
    MeterBilling meter = OpenMeter();
    Wallet wallet = OpenWallet();
    const std::vector<ReadingInput> readings{
        Reading("2026-01-10T01:00:00Z", 101'000),  // 1000 Wh = 5e10 fine = 50 fen exactly
        Reading("2026-01-10T01:00:00Z", 101'000),  // duplicate
        Reading("2026-01-10T02:00:00Z", 103'333),  // 2333 Wh = 1.1665e11 = 116.65 fen -> 117
        Reading("2026-01-10T01:30:00Z", 102'000),  // late
        Reading("2026-01-10T03:00:00Z", 104'000),  // 667 Wh = 33.35 fen - 0.35 carried -> 33
    };
    const Billed run = Bill(meter, &wallet, readings, tariff);

    ASSERT_EQ(run.outcomes.size(), 5U);
    EXPECT_EQ(run.outcomes[0].validated.verdict, Verdict::kAccepted);
    EXPECT_EQ(run.outcomes[0].charge.total, FineMoney{50'000'000'000});
    EXPECT_EQ(run.outcomes[0].deducted, Money{50});
    EXPECT_EQ(run.outcomes[1].validated.verdict, Verdict::kDuplicate);
    EXPECT_EQ(run.outcomes[1].deducted, Money{0});
    EXPECT_EQ(run.outcomes[1].charge.total, FineMoney{0});
    EXPECT_EQ(run.outcomes[2].charge.total, FineMoney{116'650'000'000});
    EXPECT_EQ(run.outcomes[2].deducted, Money{117});
    EXPECT_EQ(run.outcomes[3].validated.verdict, Verdict::kQuarantined);
    EXPECT_EQ(run.outcomes[3].validated.reason, ReadingReason::kLate);
    EXPECT_EQ(run.outcomes[3].deducted, Money{0});
    EXPECT_EQ(run.outcomes[4].charge.total, FineMoney{33'350'000'000});
    EXPECT_EQ(run.outcomes[4].deducted, Money{33});
    for (const ReadingOutcome& o : run.outcomes) {
        EXPECT_EQ(o.meter, MeterId{7});
    }

    // Grant 1.00 covers the first 50 and 50 of the 117; the paid account the rest.
    ASSERT_EQ(run.transfers.size(), 4U);
    const struct {
        const char* id;
        int64_t debit;
        int64_t fen;
    } expected[] = {{"rd:1768006800:7:0", 2, 50},
                    {"rd:1768010400:7:0", 2, 50},
                    {"rd:1768010400:7:1", 1, 67},
                    {"rd:1768014000:7:0", 1, 33}};
    for (std::size_t i = 0; i < run.transfers.size(); ++i) {
        const Transfer& t = run.transfers[i];
        EXPECT_EQ(t.id, expected[i].id) << i;
        EXPECT_EQ(t.debit, LedgerAccountId{expected[i].debit}) << i;
        EXPECT_EQ(t.credit, kRevenue) << i;
        EXPECT_EQ(t.amount, Money{expected[i].fen}) << i;
        EXPECT_EQ(t.code, TransferCode::kDeduction) << i;
        EXPECT_EQ(t.ref, "meter E1") << i;
        EXPECT_EQ(t.actor, "billing") << i;
    }
    EXPECT_EQ(run.transfers[2].id, DeductionTransferId(MeterId{7}, At("2026-01-10T02:00:00Z"), 1));
    EXPECT_EQ(run.transfers[3].at, At("2026-01-10T03:00:00Z"));

    // 1000 - 67 - 33 = 900 paid; the grant is used up.
    EXPECT_EQ(wallet.paid.balance, Money{900});
    EXPECT_EQ(wallet.grants[0].balance, Money{0});

    // State: 4 kWh billed, 2e11 fine = exactly 200 fen charged and deducted, nothing carried.
    EXPECT_EQ(meter.billed_total, Quantity{4000});
    EXPECT_EQ(meter.charged_total, FineMoney{200'000'000'000});
    EXPECT_EQ(meter.deducted_total, Money{200});
    EXPECT_EQ(meter.carry, FineMoney{0});
    EXPECT_EQ(meter.cursor.time, At("2026-01-10T03:00:00Z"));
    EXPECT_EQ(meter.cursor.total, Quantity{104'000});
    ExpectInvariant(meter);
}

TEST(BillMeterReadings, ReplayedBatchIsNotBilledTwice) {
    const Tariff tariff = FlatTariff();
    MeterBilling meter = OpenMeter();
    Wallet wallet = OpenWallet();
    const std::vector<ReadingInput> readings{Reading("2026-01-10T01:00:00Z", 101'000),
                                             Reading("2026-01-10T02:00:00Z", 102'000)};
    const Billed first = Bill(meter, &wallet, readings, tariff);
    EXPECT_EQ(first.transfers.size(), 2U);
    EXPECT_EQ(meter.deducted_total, Money{100});

    // The same batch again (a gateway retry): the last reading is a duplicate, the first late.
    const Billed again = Bill(meter, &wallet, readings, tariff);
    ASSERT_EQ(again.outcomes.size(), 2U);
    EXPECT_EQ(again.outcomes[0].validated.reason, ReadingReason::kLate);
    EXPECT_EQ(again.outcomes[1].validated.verdict, Verdict::kDuplicate);
    EXPECT_TRUE(again.transfers.empty());
    EXPECT_EQ(meter.deducted_total, Money{100});
    EXPECT_EQ(wallet.Available(At("2026-01-10T03:00:00Z")), Money{1000});  // 1100 - 100
}

TEST(BillMeterReadings, QuarantinedReadingsAreNotBilled) {
    const Tariff tariff = FlatTariff();
    MeterBilling meter = OpenMeter();
    meter.spec.max_rate_per_hour = 10'000;  // 10 kW
    Wallet wallet = OpenWallet();
    const std::vector<ReadingInput> readings{
        Reading("2026-01-10T01:00:00Z", 120'000),        // 20 kWh in an hour: a spike
        Reading("2026-01-10T01:00:00Z", 1'000'000'000),  // beyond the register
    };
    const Billed run = Bill(meter, &wallet, readings, tariff);
    ASSERT_EQ(run.outcomes.size(), 2U);
    EXPECT_EQ(run.outcomes[0].validated.reason, ReadingReason::kSpike);
    EXPECT_EQ(run.outcomes[1].validated.reason, ReadingReason::kBeyondRegisterMax);
    EXPECT_TRUE(run.transfers.empty());
    EXPECT_EQ(meter.cursor.time, At("2026-01-10T00:00:00Z"));  // unmoved
    EXPECT_EQ(meter.billed_total, Quantity{});
    EXPECT_EQ(meter.deducted_total, Money{});
    EXPECT_EQ(wallet.paid.balance, Money{1000});
}

TEST(BillMeterReadings, IntervalWithoutTariffIsQuarantinedNoTariff) {
    const Tariff tariff = FlatTariff();  // in effect from 2025-12-31T16:00Z
    MeterBilling meter = OpenMeter();
    meter.cursor.time = At("2025-12-31T15:00:00Z");
    Wallet wallet = OpenWallet();
    const Billed run = Bill(meter, &wallet, {Reading("2025-12-31T15:30:00Z", 100'500)}, tariff);
    ASSERT_EQ(run.outcomes.size(), 1U);
    EXPECT_EQ(run.outcomes[0].validated.verdict, Verdict::kQuarantined);
    EXPECT_EQ(run.outcomes[0].validated.reason, ReadingReason::kNoTariff);
    EXPECT_EQ(run.outcomes[0].validated.delta, Quantity{});
    EXPECT_TRUE(run.transfers.empty());
    EXPECT_EQ(meter.cursor.time, At("2025-12-31T15:00:00Z"));
    EXPECT_EQ(meter.charged_total, FineMoney{});
}

TEST(BillMeterReadings, PublicMeterIsPricedButNotDeducted) {
    const Tariff tariff = FlatTariff();
    MeterBilling meter = OpenMeter();
    meter.account = AccountId{};  // a public-area meter
    const Billed run =
        Bill(meter, nullptr,
             {Reading("2026-01-10T01:00:00Z", 101'000), Reading("2026-01-10T02:00:00Z", 101'011)},
             tariff);
    ASSERT_EQ(run.outcomes.size(), 2U);
    EXPECT_EQ(run.outcomes[0].charge.total, FineMoney{50'000'000'000});
    // 11 Wh = 5.5e8 fine = 0.55 fen -> 1 fen, carry -0.45 fen.
    EXPECT_EQ(run.outcomes[1].charge.total, FineMoney{550'000'000});
    EXPECT_EQ(run.outcomes[1].deducted, Money{1});
    EXPECT_TRUE(run.transfers.empty());
    EXPECT_EQ(meter.billed_total, Quantity{1011});
    EXPECT_EQ(meter.deducted_total, Money{51});
    EXPECT_EQ(meter.carry, FineMoney{-450'000'000});
    ExpectInvariant(meter);
}

TEST(BillMeterReadings, ExpiredGrantIsSkippedAtMeterTime) {
    const Tariff tariff = FlatTariff();
    MeterBilling meter = OpenMeter();
    Wallet wallet = OpenWallet();
    wallet.grants[0].expires_at = At("2026-01-10T01:30:00Z");
    const Billed run =
        Bill(meter, &wallet,
             {Reading("2026-01-10T01:00:00Z", 101'000), Reading("2026-01-10T02:00:00Z", 102'000)},
             tariff);
    ASSERT_EQ(run.transfers.size(), 2U);
    EXPECT_EQ(run.transfers[0].debit, LedgerAccountId{2});  // before expiry: the grant
    EXPECT_EQ(run.transfers[1].debit, LedgerAccountId{1});  // after: paid
    EXPECT_EQ(wallet.grants[0].balance, Money{50});         // left for the expiry transfer
    EXPECT_EQ(wallet.paid.balance, Money{950});
}

TEST(BillMeterReadings, ManyReadingsKeepEveryTotalInStep) {
    // A TOU tariff with odd prices and loss, 500 readings of odd sizes every 15 minutes.
    TariffVersion v;
    v.effective_from = At("2026-01-01T00:00:00+08:00");
    v.base = PriceBase::kTou;
    v.tou.prices = {UnitPrice{13'337}, UnitPrice{9'871}, UnitPrice{6'173}, UnitPrice{3'011}};
    v.tou.day_schedules = {DaySchedule{{{0, Period::kValley},
                                        {7 * 60, Period::kFlat},
                                        {10 * 60, Period::kPeak},
                                        {18 * 60 + 30, Period::kSharp},
                                        {21 * 60, Period::kFlat},
                                        {23 * 60, Period::kValley}}}};
    v.tou.seasons = {Season{1, 1, {0, 0, 0}}};
    v.loss_basis_points = 123;
    v.surcharges = {Surcharge{"service", UnitPrice{77}}};
    Tariff tariff;
    tariff.name = "tou";
    tariff.versions = {v};
    ASSERT_TRUE(ValidateTariff(tariff).has_value());

    MeterBilling meter = OpenMeter();
    Wallet wallet = OpenWallet();
    std::vector<ReadingInput> readings;
    int64_t total = meter.cursor.total.milli;
    uint64_t state = 7;
    for (int i = 1; i <= 500; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        total += static_cast<int64_t>((state >> 40) % 997);
        readings.push_back(Reading("2026-01-10T00:00:00Z", total));
        readings.back().meter_time += Seconds{900 * i + static_cast<int>(state % 7)};
        readings.back().received = readings.back().meter_time;
    }
    const Money before = wallet.Available(At("2026-01-10T00:00:00Z"));
    const Billed run = Bill(meter, &wallet, readings, tariff);

    FineMoney charged;
    Money deducted;
    Money transferred;
    for (const ReadingOutcome& o : run.outcomes) {
        EXPECT_EQ(o.validated.verdict, Verdict::kAccepted);
        charged += o.charge.total;
        deducted += o.deducted;
    }
    for (const Transfer& t : run.transfers) {
        EXPECT_GT(t.amount.fen, 0);
        transferred += t.amount;
    }
    EXPECT_EQ(meter.billed_total, Quantity{total - 100'000});
    EXPECT_EQ(meter.charged_total, charged);
    EXPECT_EQ(meter.deducted_total, deducted);
    EXPECT_EQ(transferred, deducted);
    EXPECT_EQ(wallet.Available(At("2026-01-10T00:00:00Z")), before - deducted);
    EXPECT_GT(deducted.fen, 100);  // the grant ran out and the paid account was drawn
    EXPECT_EQ(wallet.grants[0].balance, Money{0});
    ExpectInvariant(meter);
}

}  // namespace
}  // namespace joule
