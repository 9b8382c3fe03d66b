// Tariffs (电价/水价方案) [TAR-1..TAR-4] and the charge engine that prices an interval of use.
//
// A tariff is a list of versions, each effective from an instant; history is never rewritten, a
// change is a new version. A version has a base price (flat, or time-of-use with sharp/peak/flat/
// valley prices and day schedules by season and day type), optional tiers (阶梯: increments on top
// of the base price once a monthly or yearly cycle's usage passes a threshold; a plain tiered
// tariff is a flat base with increments), per-unit surcharges (service fee, sewage, water
// resource fee ...) and a loss percentage applied to every per-unit component.
//
// All calendar logic (days, TOU segments, seasons, holidays, cycles) is evaluated in the
// project's zone. Quantities are split between pieces of time by the allocation rule in
// core/rounding.hpp; charges are exact FineMoney.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// stored: never renumber.
enum class Period : uint8_t { kSharp = 0, kPeak = 1, kFlat = 2, kValley = 3 };
inline constexpr std::size_t kPeriodCount = 4;
template <class T>
using PerPeriod = std::array<T, kPeriodCount>;
std::string_view PeriodName(Period p);  // "sharp", "peak", "flat", "valley"

// stored: never renumber.
enum class DayType : uint8_t { kWorkday = 0, kWeekend = 1, kHoliday = 2 };
inline constexpr std::size_t kDayTypeCount = 3;

inline constexpr std::size_t kMaxSegmentsPerDay = 14;
inline constexpr std::size_t kMaxTiers = 16;
inline constexpr std::size_t kMaxSeasons = 12;
inline constexpr std::size_t kMaxDaySchedules = 16;
inline constexpr std::size_t kMaxSurcharges = 8;
inline constexpr std::size_t kMaxVersions = 1000;
inline constexpr int32_t kMaxLossBasisPoints = 5'000;  // 50 %
inline constexpr int64_t kMaxUnitPrice = 1'000'000;    // 100 yuan per unit

struct TouSegment {
    uint16_t start_minute = 0;  // minute of the local day the segment starts, [0, 1440)
    Period period = Period::kFlat;
};

// A day's periods: segments sorted by start, the first at minute 0, each running to the next.
struct DaySchedule {
    std::vector<TouSegment> segments;
};

// A season starts on a month/day and uses one day schedule per day type.
struct Season {
    uint8_t start_month = 1;
    uint8_t start_day = 1;
    std::array<uint16_t, kDayTypeCount> schedule_by_day_type{};  // index into day_schedules
};

struct TouPlan {
    PerPeriod<UnitPrice> prices{};
    std::vector<DaySchedule> day_schedules;
    std::vector<Season> seasons;            // sorted by (month, day); the last wraps to January
    std::vector<CivilDate> holidays;        // sorted; bill as DayType::kHoliday
    std::vector<CivilDate> extra_workdays;  // sorted; weekend days worked (调休) bill as workdays
    uint8_t weekend_mask = 0b1000001;       // bit n = weekday n (0 = Sunday): Saturday, Sunday
};

// stored: never renumber.
enum class TierCycle : uint8_t { kNone = 0, kMonthly = 1, kYearly = 2 };
// stored: never renumber.
enum class PriceBase : uint8_t { kFlat = 0, kTou = 1 };

// Usage in the cycle up to `upto` bills this tier's increment; the last tier has no upper bound.
struct Tier {
    Quantity upto;
    UnitPrice increment;
};

struct Surcharge {
    std::string name;
    UnitPrice price;
};

struct TariffVersion {
    Instant effective_from;
    PriceBase base = PriceBase::kFlat;
    UnitPrice flat_price;
    TouPlan tou;
    TierCycle cycle = TierCycle::kNone;
    std::vector<Tier> tiers;
    std::vector<Surcharge> surcharges;
    int32_t loss_basis_points = 0;  // 线损: 250 = +2.5 % on every per-unit component
};

struct Tariff {
    std::string name;
    Utility utility = Utility::kElectricity;
    std::vector<TariffVersion> versions;  // strictly increasing effective_from
};

// Checks every limit and ordering rule; the error names the offending field path, e.g.
// "versions[1].tou.day_schedules[0].segments[2].start".
[[nodiscard]] Status ValidateTariff(const Tariff& tariff);

// The day type and TOU period in effect at a local wall time under `plan`.
[[nodiscard]] DayType DayTypeOf(const TouPlan& plan, CivilDate date);
[[nodiscard]] Period PeriodAt(const TouPlan& plan, LocalTime local);

// Per-meter tier position: which cycle the meter is in and how much it used in it.
struct TierState {
    int32_t cycle_key = -1;  // local year*12+month (monthly), year (yearly), 0 (none)
    Quantity used;
};

// What an interval costs, by component; total == sum(base) + tier_extra + surcharges.
struct Charge {
    FineMoney total;
    PerPeriod<Quantity> quantity_by_period{};
    PerPeriod<FineMoney> base_by_period{};
    FineMoney tier_extra;
    FineMoney surcharges;
};

// Prices intervals of use. Holds scratch buffers so the hot path does not allocate; one engine
// per thread, not thread-safe.
class TariffEngine {
public:
    // Charges `quantity` used over (from, to]. When `per_rate` is given (the meter's own
    // sharp/peak/flat/valley register deltas, summing to `quantity`) those are billed directly;
    // otherwise the quantity is allocated to periods by time. Updates `tiers` on success only.
    // Fails with kFailedPrecondition when no version is in effect at `from`, kInvalidArgument when
    // to <= from or quantity < 0, kOutOfRange when the charge does not fit.
    [[nodiscard]] Result<Charge> Price(const Tariff& tariff, const Zone& zone, Instant from,
                                       Instant to, Quantity quantity,
                                       const PerPeriod<Quantity>* per_rate, TierState& tiers);

private:
    struct Piece {
        Instant begin;
        Instant end;
        uint32_t version = 0;
        Period period = Period::kFlat;
        int32_t cycle_key = 0;
        PerPeriod<Quantity> quantity{};
    };
    void Split(const Tariff& tariff, const Zone& zone, Instant from, Instant to, bool by_period);

    std::vector<Piece> pieces_;
    std::vector<int64_t> weights_;
    std::vector<int64_t> shares_;
    // Cached UTC offset span of the last zone used.
    std::optional<Zone> span_zone_;
    Zone::Span span_{};
};

}  // namespace joule
