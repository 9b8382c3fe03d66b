// Core alone, one core: tariff + deduction + prepaid state per reading.
// Targets (issue 2): >= 2,000,000 readings/s flat, >= 500,000 readings/s TOU with tiers.
#include <benchmark/benchmark.h>

#include "core/billing.hpp"
#include "core/prepaid.hpp"

namespace joule {
namespace {

Instant T(std::string_view text) { return ParseInstant(text, "t").value(); }

Tariff FlatTariff() {
    Tariff t;
    t.name = "flat";
    TariffVersion v;
    v.effective_from = T("2020-01-01T00:00:00Z");
    v.flat_price = UnitPrice{8000};
    t.versions.push_back(v);
    return t;
}

Tariff TouTieredTariff() {
    Tariff t;
    t.name = "tou+tiers";
    TariffVersion v;
    v.effective_from = T("2020-01-01T00:00:00Z");
    v.base = PriceBase::kTou;
    v.tou.prices = {UnitPrice{13500}, UnitPrice{11200}, UnitPrice{7800}, UnitPrice{3900}};
    DaySchedule day;
    day.segments = {{0, Period::kValley},  {480, Period::kFlat},  {600, Period::kPeak},
                    {720, Period::kFlat},  {840, Period::kPeak},  {1140, Period::kSharp},
                    {1260, Period::kPeak}, {1320, Period::kFlat}, {1380, Period::kValley}};
    v.tou.day_schedules.push_back(day);
    Season all;
    v.tou.seasons.push_back(all);
    v.tou.holidays = {CivilDate{date::year{2026}, date::month{10}, date::day{1}}};
    v.cycle = TierCycle::kMonthly;
    v.tiers = {{Quantity{200'000}, UnitPrice{0}},
               {Quantity{400'000}, UnitPrice{500}},
               {Quantity{}, UnitPrice{3000}}};
    v.surcharges = {{"service", UnitPrice{500}}};
    v.loss_basis_points = 200;
    t.versions.push_back(v);
    return t;
}

// One meter, one account: each iteration bills one 30-minute reading and steps prepaid control.
void BillOneReading(benchmark::State& state, const Tariff& tariff) {
    const Zone zone = Zone::Load("Asia/Shanghai").value();
    TariffEngine engine;
    MeterBilling meter;
    meter.meter = MeterId{1};
    meter.account = AccountId{1};
    meter.spec.register_modulus = Quantity{INT64_MAX / 4};
    meter.spec.max_rate_per_hour = 1'000'000'000;
    Instant t = T("2026-01-01T00:00:00Z");
    meter.cursor = Cursor{true, t, Quantity{0}, false, {}};
    Wallet wallet;
    wallet.paid.id = LedgerAccountId{1};
    wallet.paid.balance = Money{INT64_MAX / 4};
    const BillingContext ctx{&tariff, &zone, LedgerAccountId{2}, "bench", "M1"};
    ControlScheme scheme;
    PrepaidStatus status;
    std::vector<ReadingOutcome> outcomes;
    std::vector<Transfer> transfers;
    outcomes.reserve(1);
    transfers.reserve(4);
    ReadingInput input{t, t, Quantity{0}, false, {}};
    for (auto _ : state) {
        t += Seconds{1800};
        input.meter_time = t;
        input.received = t;
        input.total.milli += 1234;
        outcomes.clear();
        transfers.clear();
        BillMeterReadings(meter, &wallet, std::span<const ReadingInput>(&input, 1), ctx, engine,
                          outcomes, transfers);
        ControlEffects effects;
        status = StepPrepaid(scheme, status, ControlEvent::kBalanceChanged, wallet.Available(t),
                             false, effects);
        benchmark::DoNotOptimize(transfers.data());
        benchmark::DoNotOptimize(status);
    }
    state.SetItemsProcessed(state.iterations());
    state.counters["readings/s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_BillFlat(benchmark::State& state) { BillOneReading(state, FlatTariff()); }
void BM_BillTouWithTiers(benchmark::State& state) { BillOneReading(state, TouTieredTariff()); }

BENCHMARK(BM_BillFlat);
BENCHMARK(BM_BillTouWithTiers);

}  // namespace
}  // namespace joule

BENCHMARK_MAIN();
