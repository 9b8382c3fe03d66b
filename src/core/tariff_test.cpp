#include "core/tariff.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace joule {
namespace {

// Charge = Wh x (1e-4 yuan/kWh) x (10000 + loss_bp), in FineMoney (1e-11 yuan).
// Prices used throughout: sharp 1.2000, peak 0.9000, flat 0.6000, valley 0.3000 yuan/kWh.
constexpr UnitPrice kSharp{12000};
constexpr UnitPrice kPeak{9000};
constexpr UnitPrice kFlat{6000};
constexpr UnitPrice kValley{3000};

constexpr std::size_t Idx(Period p) { return static_cast<std::size_t>(p); }

Instant At(std::string_view text) { return ParseInstant(text, "at").value(); }

LocalTime Local(std::string_view text) { return ParseLocalTime(text, "local").value(); }

CivilDate Day(std::string_view text) { return ParseDate(text, "date").value(); }

const Zone& Shanghai() {
    static const Zone zone = Zone::Load("Asia/Shanghai").value();
    return zone;
}

const Zone& Berlin() {
    static const Zone zone = Zone::Load("Europe/Berlin").value();
    return zone;
}

// valley 00:00-07:00, flat 07:00-10:00, peak 10:00-23:00, valley 23:00-24:00.
DaySchedule FourSegmentDay() {
    return DaySchedule{{{0, Period::kValley},
                        {7 * 60, Period::kFlat},
                        {10 * 60, Period::kPeak},
                        {23 * 60, Period::kValley}}};
}

DaySchedule AllDay(Period p) { return DaySchedule{{{0, p}}}; }

TariffVersion FlatVersion(std::string_view from, UnitPrice price) {
    TariffVersion v;
    v.effective_from = At(from);
    v.base = PriceBase::kFlat;
    v.flat_price = price;
    return v;
}

// One season, the same schedule for every day type.
TariffVersion TouVersion(std::string_view from, DaySchedule day) {
    TariffVersion v;
    v.effective_from = At(from);
    v.base = PriceBase::kTou;
    v.tou.prices = {kSharp, kPeak, kFlat, kValley};
    v.tou.day_schedules = {std::move(day)};
    v.tou.seasons = {Season{1, 1, {0, 0, 0}}};
    return v;
}

Tariff MakeTariff(TariffVersion v) {
    Tariff t;
    t.name = "test";
    t.versions.push_back(std::move(v));
    return t;
}

// Monthly tiers: first 200 kWh +0, up to 400 kWh +0.05, above +0.30 yuan/kWh.
void AddMonthlyTiers(TariffVersion& v) {
    v.cycle = TierCycle::kMonthly;
    v.tiers = {Tier{Quantity{200'000}, UnitPrice{0}}, Tier{Quantity{400'000}, UnitPrice{500}},
               Tier{Quantity{0}, UnitPrice{3000}}};
}

// local year*12 + month - 1
constexpr int32_t MonthKey(int32_t year, int32_t month) { return year * 12 + month - 1; }

Charge PriceOk(const Tariff& tariff, const Zone& zone, std::string_view from, std::string_view to,
               int64_t wh, TierState& tiers, const PerPeriod<Quantity>* per_rate = nullptr) {
    TariffEngine engine;
    auto r = engine.Price(tariff, zone, At(from), At(to), Quantity{wh}, per_rate, tiers);
    EXPECT_TRUE(r.has_value()) << (r.has_value() ? "" : r.error().ToString());
    return r.value_or(Charge{});
}

TEST(TariffEngine, FlatPriceChargesQuantityTimesPrice) {
    const Tariff tariff = MakeTariff(FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000}));
    TierState tiers;
    // 1.5 kWh x 0.5 yuan = 0.75 yuan: 1500 x 5000 x 10000 = 75'000'000'000.
    const Charge c =
        PriceOk(tariff, Shanghai(), "2026-01-05T00:00:00Z", "2026-01-05T01:00:00Z", 1500, tiers);
    EXPECT_EQ(c.total, FineMoney{75'000'000'000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{1500});
    EXPECT_EQ(c.base_by_period[Idx(Period::kFlat)], FineMoney{75'000'000'000});
    EXPECT_EQ(c.tier_extra, FineMoney{0});
    EXPECT_EQ(c.surcharges, FineMoney{0});
}

TEST(TariffEngine, TouSegmentAcrossMidnightSplitsByTime) {
    const Tariff tariff = MakeTariff(TouVersion("2026-01-01T00:00:00+08:00", FourSegmentDay()));
    TierState tiers;
    // Local Mon 22:00 -> Tue 08:00 (10 h): peak 22-23 (1 h), valley 23-24 (1 h), valley 00-07
    // (7 h, the valley runs across midnight), flat 07-08 (1 h). 10000 Wh by time: 1000 / 1000 /
    // 7000 / 1000.
    const Charge c = PriceOk(tariff, Shanghai(), "2026-01-05T22:00:00+08:00",
                             "2026-01-06T08:00:00+08:00", 10'000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kPeak)], Quantity{1000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kValley)], Quantity{8000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{1000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kSharp)], Quantity{0});
    // peak 1000 x 9000 x 1e4 = 9e10; valley 8000 x 3000 x 1e4 = 2.4e11; flat 1000 x 6000 x 1e4
    // = 6e10; total 3.9e11 (3.90 yuan).
    EXPECT_EQ(c.base_by_period[Idx(Period::kPeak)], FineMoney{90'000'000'000});
    EXPECT_EQ(c.base_by_period[Idx(Period::kValley)], FineMoney{240'000'000'000});
    EXPECT_EQ(c.base_by_period[Idx(Period::kFlat)], FineMoney{60'000'000'000});
    EXPECT_EQ(c.total, FineMoney{390'000'000'000});
}

TEST(TariffEngine, TouRemainderGoesToTheLargestPiece) {
    const Tariff tariff = MakeTariff(TouVersion("2026-01-01T00:00:00+08:00", FourSegmentDay()));
    TierState tiers;
    // Same 10 h, 10001 Wh. Pieces of 3600/3600/25200/3600 s: 1000.1, 1000.1, 7000.7, 1000.1 ->
    // floors 1000/1000/7000/1000, the leftover 1 Wh to the largest remainder (valley 00-07).
    const Charge c = PriceOk(tariff, Shanghai(), "2026-01-05T22:00:00+08:00",
                             "2026-01-06T08:00:00+08:00", 10'001, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kPeak)], Quantity{1000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kValley)], Quantity{8001});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{1000});
    // 9e10 + 8001 x 3000 x 1e4 (2.4003e11) + 6e10 = 3.9003e11.
    EXPECT_EQ(c.total, FineMoney{390'030'000'000});
}

TEST(TariffEngine, TierBoundaryCrossedInsideOneInterval) {
    TariffVersion v = FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000});
    AddMonthlyTiers(v);
    const Tariff tariff = MakeTariff(v);
    TierState tiers{MonthKey(2026, 1), Quantity{190'000}};
    // 20 kWh from 190 kWh used: 10 kWh in tier 1 (+0), 10 kWh in tier 2 (+0.05).
    // base 20000 x 5000 x 1e4 = 1e12; extra 10000 x 500 x 1e4 = 5e10.
    const Charge c =
        PriceOk(tariff, Shanghai(), "2026-01-15T00:00:00Z", "2026-01-15T01:00:00Z", 20'000, tiers);
    EXPECT_EQ(c.tier_extra, FineMoney{50'000'000'000});
    EXPECT_EQ(c.total, FineMoney{1'050'000'000'000});
    EXPECT_EQ(tiers.cycle_key, MonthKey(2026, 1));
    EXPECT_EQ(tiers.used, Quantity{210'000});

    // Next interval crosses into the top tier: 200 kWh from 210: 190 at +0.05, 10 at +0.30.
    // extra 190000 x 500 x 1e4 + 10000 x 3000 x 1e4 = 9.5e11 + 3e11 = 1.25e12.
    const Charge c2 =
        PriceOk(tariff, Shanghai(), "2026-01-15T01:00:00Z", "2026-01-15T02:00:00Z", 200'000, tiers);
    EXPECT_EQ(c2.tier_extra, FineMoney{1'250'000'000'000});
    EXPECT_EQ(tiers.used, Quantity{410'000});
}

TEST(TariffEngine, MonthlyCycleResetsAtLocalMonthBoundary) {
    TariffVersion v = FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000});
    AddMonthlyTiers(v);
    const Tariff tariff = MakeTariff(v);
    TierState tiers{MonthKey(2026, 1), Quantity{399'500}};
    // 2026-01-31T15:00Z..17:00Z is Shanghai 23:00 Jan 31 .. 01:00 Feb 1; the month turns at 16:00Z.
    // Jan piece 1000 Wh from 399.5 kWh used: 500 at +0.05 and 500 at +0.30
    //   = 500 x 500 x 1e4 + 500 x 3000 x 1e4 = 2.5e9 + 1.5e10 = 1.75e10.
    // Feb piece 1000 Wh in a fresh cycle: tier 1, +0.
    const Charge c =
        PriceOk(tariff, Shanghai(), "2026-01-31T15:00:00Z", "2026-01-31T17:00:00Z", 2000, tiers);
    EXPECT_EQ(c.tier_extra, FineMoney{17'500'000'000});
    // base 2000 x 5000 x 1e4 = 1e11
    EXPECT_EQ(c.total, FineMoney{117'500'000'000});
    EXPECT_EQ(tiers.cycle_key, MonthKey(2026, 2));
    EXPECT_EQ(tiers.used, Quantity{1000});
}

TEST(TariffEngine, StaleTierStateFromAnEarlierCycleIsReset) {
    TariffVersion v = FlatVersion("2025-01-01T00:00:00+08:00", UnitPrice{5000});
    AddMonthlyTiers(v);
    const Tariff tariff = MakeTariff(v);
    TierState tiers{MonthKey(2025, 12), Quantity{500'000}};
    // December's usage does not count in January: 1 kWh in tier 1, no extra.
    const Charge c =
        PriceOk(tariff, Shanghai(), "2026-01-15T00:00:00Z", "2026-01-15T01:00:00Z", 1000, tiers);
    EXPECT_EQ(c.tier_extra, FineMoney{0});
    EXPECT_EQ(tiers.cycle_key, MonthKey(2026, 1));
    EXPECT_EQ(tiers.used, Quantity{1000});
}

TEST(TariffEngine, YearlyCycleResetsAtLocalNewYear) {
    TariffVersion v = FlatVersion("2025-01-01T00:00:00+08:00", UnitPrice{5000});
    v.cycle = TierCycle::kYearly;
    v.tiers = {Tier{Quantity{1000}, UnitPrice{0}}, Tier{Quantity{0}, UnitPrice{1000}}};
    const Tariff tariff = MakeTariff(v);
    TierState tiers{2025, Quantity{1000}};
    // 2025-12-31T15:00Z..17:00Z: Shanghai new year at 16:00Z. 1000 Wh in 2025 above the 1 kWh
    // bound (+0.1: 1000 x 1000 x 1e4 = 1e10), 1000 Wh in 2026 within it (+0).
    const Charge c =
        PriceOk(tariff, Shanghai(), "2025-12-31T15:00:00Z", "2025-12-31T17:00:00Z", 2000, tiers);
    EXPECT_EQ(c.tier_extra, FineMoney{10'000'000'000});
    EXPECT_EQ(tiers.cycle_key, 2026);
    EXPECT_EQ(tiers.used, Quantity{1000});
}

TEST(TariffEngine, VersionChangeInsideIntervalAllocatesByTime) {
    Tariff tariff = MakeTariff(FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000}));
    tariff.versions.push_back(FlatVersion("2026-01-10T12:00:00+08:00", UnitPrice{6000}));
    ASSERT_TRUE(ValidateTariff(tariff).has_value());
    TierState tiers;
    // 02:00Z..06:00Z, the change at 04:00Z: 2 h each. 4001 Wh: 2000.5 / 2000.5, the tie goes to
    // the earlier piece: 2001 at 0.5 and 2000 at 0.6.
    // 2001 x 5000 x 1e4 + 2000 x 6000 x 1e4 = 1.0005e11 + 1.2e11 = 2.2005e11.
    const Charge c =
        PriceOk(tariff, Shanghai(), "2026-01-10T02:00:00Z", "2026-01-10T06:00:00Z", 4001, tiers);
    EXPECT_EQ(c.total, FineMoney{220'050'000'000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{4001});
}

TEST(TariffEngine, VersionChangeFromFlatToTou) {
    Tariff tariff = MakeTariff(FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000}));
    tariff.versions.push_back(TouVersion("2026-01-10T12:00:00+08:00", FourSegmentDay()));
    TierState tiers;
    // Local 11:00..13:00: 1 h flat tariff at 0.5, then 1 h TOU peak at 0.9. 2000 Wh: 1000 each.
    // 1000 x 5000 x 1e4 + 1000 x 9000 x 1e4 = 5e10 + 9e10 = 1.4e11.
    const Charge c = PriceOk(tariff, Shanghai(), "2026-01-10T11:00:00+08:00",
                             "2026-01-10T13:00:00+08:00", 2000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{1000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kPeak)], Quantity{1000});
    EXPECT_EQ(c.total, FineMoney{140'000'000'000});
}

TEST(TariffEngine, SeasonalSwitchUsesSummerScheduleFromJulyFirst) {
    TariffVersion v = TouVersion("2026-01-01T00:00:00+08:00", AllDay(Period::kFlat));
    v.tou.day_schedules.push_back(AllDay(Period::kPeak));
    v.tou.seasons = {Season{1, 1, {0, 0, 0}}, Season{7, 1, {1, 1, 1}}};
    const Tariff tariff = MakeTariff(v);
    ASSERT_TRUE(ValidateTariff(tariff).has_value());
    TierState tiers;
    // Local Jun 30 22:00 .. Jul 1 02:00: 2 h winter flat, 2 h summer peak; 4000 Wh -> 2000 each.
    // 2000 x 6000 x 1e4 + 2000 x 9000 x 1e4 = 1.2e11 + 1.8e11 = 3e11.
    const Charge c = PriceOk(tariff, Shanghai(), "2026-06-30T22:00:00+08:00",
                             "2026-07-01T02:00:00+08:00", 4000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{2000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kPeak)], Quantity{2000});
    EXPECT_EQ(c.total, FineMoney{300'000'000'000});
}

TEST(TariffEngine, HolidayBillsWithTheHolidaySchedule) {
    TariffVersion v = TouVersion("2026-01-01T00:00:00+08:00", AllDay(Period::kFlat));
    v.tou.day_schedules.push_back(AllDay(Period::kValley));  // weekend
    v.tou.day_schedules.push_back(AllDay(Period::kSharp));   // holiday
    v.tou.seasons = {Season{1, 1, {0, 1, 2}}};
    v.tou.holidays = {Day("2026-10-01")};
    const Tariff tariff = MakeTariff(v);
    ASSERT_TRUE(ValidateTariff(tariff).has_value());
    TierState tiers;
    // 2026-10-01 is a Thursday and a holiday: 1 kWh sharp = 1000 x 12000 x 1e4 = 1.2e11.
    Charge c = PriceOk(tariff, Shanghai(), "2026-10-01T10:00:00+08:00", "2026-10-01T11:00:00+08:00",
                       1000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kSharp)], Quantity{1000});
    EXPECT_EQ(c.total, FineMoney{120'000'000'000});
    // The next day (Friday) is a workday: flat 1000 x 6000 x 1e4 = 6e10.
    c = PriceOk(tariff, Shanghai(), "2026-10-02T10:00:00+08:00", "2026-10-02T11:00:00+08:00", 1000,
                tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{1000});
    EXPECT_EQ(c.total, FineMoney{60'000'000'000});
}

TEST(TariffEngine, WeekendBillsWithTheWeekendSchedule) {
    TariffVersion v = TouVersion("2026-01-01T00:00:00+08:00", AllDay(Period::kFlat));
    v.tou.day_schedules.push_back(AllDay(Period::kValley));  // weekend
    v.tou.seasons = {Season{1, 1, {0, 1, 0}}};
    const Tariff tariff = MakeTariff(v);
    TierState tiers;
    // Friday 2026-01-02 23:00 .. Saturday 01:00 local: 1 h workday flat, 1 h weekend valley.
    // 1000 x 6000 x 1e4 + 1000 x 3000 x 1e4 = 6e10 + 3e10 = 9e10.
    const Charge c = PriceOk(tariff, Shanghai(), "2026-01-02T23:00:00+08:00",
                             "2026-01-03T01:00:00+08:00", 2000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{1000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kValley)], Quantity{1000});
    EXPECT_EQ(c.total, FineMoney{90'000'000'000});
}

TEST(TariffEngine, SurchargesAndLossApplyToEveryPerUnitComponent) {
    TariffVersion v = FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000});
    v.surcharges = {Surcharge{"sewage", UnitPrice{1000}}, Surcharge{"service", UnitPrice{200}}};
    v.loss_basis_points = 250;  // +2.5 %
    v.cycle = TierCycle::kMonthly;
    v.tiers = {Tier{Quantity{1000}, UnitPrice{0}}, Tier{Quantity{0}, UnitPrice{1000}}};
    const Tariff tariff = MakeTariff(v);
    ASSERT_TRUE(ValidateTariff(tariff).has_value());
    TierState tiers{MonthKey(2026, 1), Quantity{500}};
    // 1 kWh, 0.5 kWh already used of the 1 kWh first tier:
    //   base      1000 x 5000 x 10250 = 5.125e10
    //   surcharge 1000 x (1000 + 200) x 10250 = 1.23e10
    //   tier      500 x 1000 x 10250 = 5.125e9
    //   total     6.8675e10 (0.68675 yuan = 1 x (0.5 + 0.12) x 1.025 + 0.5 x 0.1 x 1.025)
    const Charge c =
        PriceOk(tariff, Shanghai(), "2026-01-15T00:00:00Z", "2026-01-15T01:00:00Z", 1000, tiers);
    EXPECT_EQ(c.base_by_period[Idx(Period::kFlat)], FineMoney{51'250'000'000});
    EXPECT_EQ(c.surcharges, FineMoney{12'300'000'000});
    EXPECT_EQ(c.tier_extra, FineMoney{5'125'000'000});
    EXPECT_EQ(c.total, FineMoney{68'675'000'000});
}

TEST(TariffEngine, PerRateRegistersAreBilledDirectly) {
    const Tariff tariff = MakeTariff(TouVersion("2026-01-01T00:00:00+08:00", FourSegmentDay()));
    TierState tiers;
    // Local 10:00..12:00 is all peak by time, but the meter's registers say otherwise.
    const PerPeriod<Quantity> per_rate{Quantity{100}, Quantity{200}, Quantity{300}, Quantity{400}};
    const Charge c = PriceOk(tariff, Shanghai(), "2026-01-05T10:00:00+08:00",
                             "2026-01-05T12:00:00+08:00", 1000, tiers, &per_rate);
    EXPECT_EQ(c.quantity_by_period, per_rate);
    // 100x12000 + 200x9000 + 300x6000 + 400x3000 = 1.2e6+1.8e6+1.8e6+1.2e6 = 6e6; x 1e4 = 6e10.
    EXPECT_EQ(c.base_by_period[Idx(Period::kSharp)], FineMoney{12'000'000'000});
    EXPECT_EQ(c.base_by_period[Idx(Period::kPeak)], FineMoney{18'000'000'000});
    EXPECT_EQ(c.base_by_period[Idx(Period::kFlat)], FineMoney{18'000'000'000});
    EXPECT_EQ(c.base_by_period[Idx(Period::kValley)], FineMoney{12'000'000'000});
    EXPECT_EQ(c.total, FineMoney{60'000'000'000});
}

TEST(TariffEngine, PerRateRegistersAcrossAVersionChangeKeepTheirPeriods) {
    Tariff tariff = MakeTariff(TouVersion("2026-01-01T00:00:00+08:00", FourSegmentDay()));
    TariffVersion v1 = TouVersion("2026-01-05T11:00:00+08:00", FourSegmentDay());
    v1.tou.prices[Idx(Period::kPeak)] = UnitPrice{10000};
    tariff.versions.push_back(v1);
    TierState tiers;
    // Local 10:00..12:00, the peak price changes at 11:00. Each register's delta is split by time:
    // peak 201 -> 101 at 0.9 (the tie goes first), 100 at 1.0; valley 400 -> 200 / 200.
    const PerPeriod<Quantity> per_rate{Quantity{0}, Quantity{201}, Quantity{0}, Quantity{400}};
    const Charge c = PriceOk(tariff, Shanghai(), "2026-01-05T10:00:00+08:00",
                             "2026-01-05T12:00:00+08:00", 601, tiers, &per_rate);
    EXPECT_EQ(c.quantity_by_period, per_rate);
    // peak 101 x 9000 x 1e4 + 100 x 10000 x 1e4 = 9.09e9 + 1e10 = 1.909e10
    EXPECT_EQ(c.base_by_period[Idx(Period::kPeak)], FineMoney{19'090'000'000});
    // valley 400 x 3000 x 1e4 = 1.2e10
    EXPECT_EQ(c.base_by_period[Idx(Period::kValley)], FineMoney{12'000'000'000});
    EXPECT_EQ(c.total, FineMoney{31'090'000'000});
}

TEST(TariffEngine, BerlinSpringForwardDayHasTwentyThreeHours) {
    // valley 00-08, peak 08-20, flat 20-24 local. On 2026-03-29 02:00..03:00 does not exist, so
    // the local day (2026-03-28T23:00Z .. 2026-03-29T22:00Z) lasts 23 h: valley 7 h, peak 12 h,
    // flat 4 h. 23000 Wh by time -> 7000 / 12000 / 4000.
    const Tariff tariff = MakeTariff(TouVersion(
        "2026-01-01T00:00:00Z",
        DaySchedule{{{0, Period::kValley}, {8 * 60, Period::kPeak}, {20 * 60, Period::kFlat}}}));
    TierState tiers;
    const Charge c =
        PriceOk(tariff, Berlin(), "2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23'000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kValley)], Quantity{7000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kPeak)], Quantity{12'000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{4000});
    // 7000x3000 + 12000x9000 + 4000x6000 = 2.1e7 + 1.08e8 + 2.4e7 = 1.53e8; x 1e4 = 1.53e12.
    EXPECT_EQ(c.total, FineMoney{1'530'000'000'000});
}

TEST(TariffEngine, BerlinFallBackDayHasTwentyFiveHours) {
    // 2026-10-25: 02:00..03:00 local happens twice; the day 2026-10-24T22:00Z .. 2026-10-25T23:00Z
    // lasts 25 h: valley 9 h, peak 12 h, flat 4 h.
    const Tariff tariff = MakeTariff(TouVersion(
        "2026-01-01T00:00:00Z",
        DaySchedule{{{0, Period::kValley}, {8 * 60, Period::kPeak}, {20 * 60, Period::kFlat}}}));
    TierState tiers;
    const Charge c =
        PriceOk(tariff, Berlin(), "2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25'000, tiers);
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kValley)], Quantity{9000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kPeak)], Quantity{12'000});
    EXPECT_EQ(c.quantity_by_period[Idx(Period::kFlat)], Quantity{4000});
}

TEST(TariffEngine, OneEngineServesSeveralZones) {
    // The engine caches the zone's offset span; switching zones must not reuse it.
    const Tariff tariff = MakeTariff(TouVersion("2026-01-01T00:00:00Z", FourSegmentDay()));
    TariffEngine engine;
    TierState tiers;
    // 2026-01-05T02:00Z..03:00Z is 10:00 in Shanghai (peak) and 03:00 in Berlin (valley).
    for (int round = 0; round < 2; ++round) {
        auto sh = engine.Price(tariff, Shanghai(), At("2026-01-05T02:00:00Z"),
                               At("2026-01-05T03:00:00Z"), Quantity{1000}, nullptr, tiers);
        ASSERT_TRUE(sh.has_value());
        EXPECT_EQ(sh->quantity_by_period[Idx(Period::kPeak)], Quantity{1000});
        auto be = engine.Price(tariff, Berlin(), At("2026-01-05T02:00:00Z"),
                               At("2026-01-05T03:00:00Z"), Quantity{1000}, nullptr, tiers);
        ASSERT_TRUE(be.has_value());
        EXPECT_EQ(be->quantity_by_period[Idx(Period::kValley)], Quantity{1000});
    }
}

TEST(TariffEngine, RejectsBadIntervalsAndMissingVersions) {
    const Tariff tariff = MakeTariff(FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{5000}));
    TariffEngine engine;
    TierState tiers;
    const Instant t0 = At("2026-01-05T00:00:00Z");
    const Instant t1 = At("2026-01-05T01:00:00Z");

    auto r = engine.Price(tariff, Shanghai(), t1, t0, Quantity{1}, nullptr, tiers);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    r = engine.Price(tariff, Shanghai(), t0, t0, Quantity{1}, nullptr, tiers);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);

    r = engine.Price(tariff, Shanghai(), t0, t1, Quantity{-1}, nullptr, tiers);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, "quantity");

    // Before the first version (2025-12-31T16:00Z) nothing is in effect.
    r = engine.Price(tariff, Shanghai(), At("2025-12-31T15:00:00Z"), At("2025-12-31T17:00:00Z"),
                     Quantity{1}, nullptr, tiers);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);

    // Per-rate deltas must sum to the total.
    const PerPeriod<Quantity> per_rate{Quantity{0}, Quantity{0}, Quantity{500}, Quantity{499}};
    r = engine.Price(tariff, Shanghai(), t0, t1, Quantity{1000}, &per_rate, tiers);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.error().field, "per_rate");
}

TEST(TariffEngine, OutOfRangeChargeLeavesTierStateUntouched) {
    // 999'999'999 Wh x 1'000'000 x 10'000 ~ 1e19 fine > INT64_MAX (9.22e18): kOutOfRange. The
    // reading is then quarantined, so the tier position must not have moved.
    TariffVersion v = FlatVersion("2026-01-01T00:00:00+08:00", UnitPrice{kMaxUnitPrice});
    AddMonthlyTiers(v);
    const Tariff tariff = MakeTariff(v);
    TariffEngine engine;
    TierState tiers{MonthKey(2026, 1), Quantity{1000}};
    const auto r = engine.Price(tariff, Shanghai(), At("2026-01-15T00:00:00Z"),
                                At("2026-01-15T01:00:00Z"), Quantity{999'999'999}, nullptr, tiers);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(tiers.cycle_key, MonthKey(2026, 1));
    EXPECT_EQ(tiers.used, Quantity{1000});
}

TEST(DayTypeOf, WeekendsHolidaysAndExtraWorkdays) {
    TouPlan plan;
    // 2026-01-01 Thursday, 01-03 Saturday, 01-04 Sunday, 01-05 Monday.
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-01")), DayType::kWorkday);
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-03")), DayType::kWeekend);
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-04")), DayType::kWeekend);
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-05")), DayType::kWorkday);

    plan.holidays = {Day("2026-01-01"), Day("2026-01-03")};
    plan.extra_workdays = {Day("2026-01-03"), Day("2026-01-04")};
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-01")), DayType::kHoliday);
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-03")), DayType::kHoliday);  // holiday wins
    EXPECT_EQ(DayTypeOf(plan, Day("2026-01-04")), DayType::kWorkday);  // 调休: Sunday worked

    // A Sunday-only weekend: Saturday is a workday.
    TouPlan sunday_only;
    sunday_only.weekend_mask = 0b0000001;
    EXPECT_EQ(DayTypeOf(sunday_only, Day("2026-01-03")), DayType::kWorkday);
    EXPECT_EQ(DayTypeOf(sunday_only, Day("2026-01-04")), DayType::kWeekend);
}

TEST(PeriodAt, FollowsSegmentsSeasonsAndDayTypes) {
    TouPlan plan = TouVersion("2026-01-01T00:00:00Z", FourSegmentDay()).tou;
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T00:00")), Period::kValley);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T06:59:59")), Period::kValley);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T07:00")), Period::kFlat);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T09:59")), Period::kFlat);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T10:00")), Period::kPeak);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T22:59")), Period::kPeak);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T23:00")), Period::kValley);
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-05T23:59:59")), Period::kValley);

    // Seasons from Mar 1 (flat) and Nov 1 (sharp): January is before the first start and wraps
    // to the last season.
    plan.day_schedules = {AllDay(Period::kFlat), AllDay(Period::kSharp), AllDay(Period::kValley)};
    plan.seasons = {Season{3, 1, {0, 2, 0}}, Season{11, 1, {1, 1, 1}}};
    EXPECT_EQ(PeriodAt(plan, Local("2026-01-15T12:00")), Period::kSharp);
    EXPECT_EQ(PeriodAt(plan, Local("2026-02-28T23:59")), Period::kSharp);
    EXPECT_EQ(PeriodAt(plan, Local("2026-03-02T00:00")), Period::kFlat);    // Monday
    EXPECT_EQ(PeriodAt(plan, Local("2026-03-01T00:00")), Period::kValley);  // Sunday
    EXPECT_EQ(PeriodAt(plan, Local("2026-10-31T23:59")), Period::kValley);  // Saturday
    EXPECT_EQ(PeriodAt(plan, Local("2026-11-01T00:00")), Period::kSharp);
    plan.extra_workdays = {Day("2026-03-01")};
    EXPECT_EQ(PeriodAt(plan, Local("2026-03-01T00:00")), Period::kFlat);
}

// A valid TOU tariff to break one field at a time.
Tariff ValidTou() {
    Tariff t = MakeTariff(TouVersion("2026-01-01T00:00:00+08:00", FourSegmentDay()));
    AddMonthlyTiers(t.versions[0]);
    t.versions[0].surcharges = {Surcharge{"sewage", UnitPrice{1000}}};
    return t;
}

void ExpectRejected(const Tariff& t, std::string_view field) {
    const Status s = ValidateTariff(t);
    ASSERT_FALSE(s.has_value()) << field;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(s.error().field, field);
}

TEST(ValidateTariff, AcceptsAValidTariff) {
    EXPECT_TRUE(ValidateTariff(ValidTou()).has_value());
    EXPECT_TRUE(ValidateTariff(MakeTariff(FlatVersion("2026-01-01T00:00:00Z", UnitPrice{5000})))
                    .has_value());
}

TEST(ValidateTariff, RejectsTooManySegments) {
    Tariff t = ValidTou();
    auto& segs = t.versions[0].tou.day_schedules[0].segments;
    segs.clear();
    for (uint16_t i = 0; i < 15; ++i) {
        segs.push_back({static_cast<uint16_t>(i * 60), Period::kFlat});
    }
    ExpectRejected(t, "versions[0].tou.day_schedules[0].segments");
    segs.pop_back();  // 14 is the limit
    EXPECT_TRUE(ValidateTariff(t).has_value());
}

TEST(ValidateTariff, RejectsBadSegmentStarts) {
    Tariff t = ValidTou();
    t.versions[0].tou.day_schedules[0].segments[0].start_minute = 60;
    ExpectRejected(t, "versions[0].tou.day_schedules[0].segments[0].start");

    t = ValidTou();
    t.versions[0].tou.day_schedules[0].segments[2].start_minute = 7 * 60;  // equal to previous
    ExpectRejected(t, "versions[0].tou.day_schedules[0].segments[2].start");

    t = ValidTou();
    t.versions[0].tou.day_schedules[0].segments[3].start_minute = 1440;
    ExpectRejected(t, "versions[0].tou.day_schedules[0].segments[3].start");

    t = ValidTou();
    t.versions[0].tou.day_schedules[0].segments.clear();
    ExpectRejected(t, "versions[0].tou.day_schedules[0].segments");

    // The header's own example: a later version's schedule.
    t = ValidTou();
    t.versions.push_back(TouVersion("2026-06-01T00:00:00+08:00", FourSegmentDay()));
    t.versions[1].tou.day_schedules[0].segments[2].start_minute = 6 * 60;
    ExpectRejected(t, "versions[1].tou.day_schedules[0].segments[2].start");
}

TEST(ValidateTariff, RejectsVersionsNotStrictlyIncreasing) {
    Tariff t = ValidTou();
    t.versions.push_back(FlatVersion("2025-06-01T00:00:00+08:00", UnitPrice{5000}));
    ExpectRejected(t, "versions[1].effective_from");
    t.versions[1].effective_from = t.versions[0].effective_from;
    ExpectRejected(t, "versions[1].effective_from");

    t.versions.clear();
    ExpectRejected(t, "versions");
}

TEST(ValidateTariff, RejectsTiersWithoutCycleAndBadBounds) {
    Tariff t = ValidTou();
    t.versions[0].cycle = TierCycle::kNone;
    ExpectRejected(t, "versions[0].tiers");

    t = ValidTou();
    t.versions[0].tiers.clear();
    ExpectRejected(t, "versions[0].tiers");

    t = ValidTou();
    t.versions[0].tiers[1].upto = Quantity{200'000};  // not above tier 0
    ExpectRejected(t, "versions[0].tiers[1].upto");

    t = ValidTou();
    t.versions[0].tiers[0].upto = Quantity{0};
    ExpectRejected(t, "versions[0].tiers[0].upto");

    t = ValidTou();
    t.versions[0].tiers[2].increment = UnitPrice{-1};
    ExpectRejected(t, "versions[0].tiers[2].increment");
}

TEST(ValidateTariff, RejectsBadPricesLossAndSurcharges) {
    Tariff flat = MakeTariff(FlatVersion("2026-01-01T00:00:00Z", UnitPrice{-1}));
    ExpectRejected(flat, "versions[0].price");
    flat.versions[0].flat_price = UnitPrice{kMaxUnitPrice + 1};
    ExpectRejected(flat, "versions[0].price");

    Tariff t = ValidTou();
    t.versions[0].tou.prices[Idx(Period::kPeak)] = UnitPrice{kMaxUnitPrice + 1};
    ExpectRejected(t, "versions[0].tou.prices.peak");

    t = ValidTou();
    t.versions[0].loss_basis_points = kMaxLossBasisPoints + 1;
    ExpectRejected(t, "versions[0].loss_percent");
    t.versions[0].loss_basis_points = -1;
    ExpectRejected(t, "versions[0].loss_percent");

    t = ValidTou();
    t.versions[0].surcharges[0].name.clear();
    ExpectRejected(t, "versions[0].surcharges[0].name");

    t = ValidTou();
    t.versions[0].surcharges.assign(kMaxSurcharges + 1, Surcharge{"x", UnitPrice{1}});
    ExpectRejected(t, "versions[0].surcharges");

    t = ValidTou();
    t.name.clear();
    ExpectRejected(t, "name");
}

TEST(ValidateTariff, RejectsBadSeasons) {
    Tariff t = ValidTou();
    t.versions[0].tou.seasons[0].schedule_by_day_type[2] = 1;  // only schedule 0 exists
    ExpectRejected(t, "versions[0].tou.seasons[0].schedules");

    t = ValidTou();
    t.versions[0].tou.seasons = {Season{7, 1, {0, 0, 0}}, Season{3, 1, {0, 0, 0}}};
    ExpectRejected(t, "versions[0].tou.seasons[1].start");

    t = ValidTou();
    t.versions[0].tou.seasons[0].start_month = 2;
    t.versions[0].tou.seasons[0].start_day = 30;
    ExpectRejected(t, "versions[0].tou.seasons[0].start");

    t = ValidTou();
    t.versions[0].tou.seasons.clear();
    ExpectRejected(t, "versions[0].tou.seasons");

    t = ValidTou();
    t.versions[0].tou.holidays = {Day("2026-10-02"), Day("2026-10-01")};
    ExpectRejected(t, "versions[0].tou.holidays");
}

}  // namespace
}  // namespace joule
