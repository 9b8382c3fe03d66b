#include "core/tariff.hpp"

#include <algorithm>
#include <limits>

#include "base/assert.hpp"
#include "base/checked.hpp"
#include "core/rounding.hpp"

namespace joule {

std::string_view PeriodName(Period p) {
    switch (p) {
        case Period::kSharp:
            return "sharp";
        case Period::kPeak:
            return "peak";
        case Period::kFlat:
            return "flat";
        case Period::kValley:
            return "valley";
    }
    return "flat";
}

namespace {

std::string Index(std::string_view name, std::size_t i) {
    return std::string(name) + "[" + std::to_string(i) + "]";
}

Status ValidatePrice(UnitPrice price, const std::string& field) {
    if (price.ten_thousandths < 0 || price.ten_thousandths > kMaxUnitPrice) {
        return InvalidArgument(field, "must be between 0 and 100.0000 yuan per unit");
    }
    return {};
}

Status ValidateTou(const TouPlan& tou, const std::string& at) {
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        JOULE_TRY(ValidatePrice(tou.prices[p],
                                at + ".prices." + std::string(PeriodName(static_cast<Period>(p)))));
    }
    if (tou.day_schedules.empty() || tou.day_schedules.size() > kMaxDaySchedules) {
        return InvalidArgument(at + ".day_schedules", "needs 1 to 16 day schedules");
    }
    for (std::size_t d = 0; d < tou.day_schedules.size(); ++d) {
        const auto& segs = tou.day_schedules[d].segments;
        const std::string f = at + "." + Index("day_schedules", d) + ".segments";
        if (segs.empty() || segs.size() > kMaxSegmentsPerDay) {
            return InvalidArgument(f, "a day has 1 to 14 segments");
        }
        if (segs[0].start_minute != 0) {
            return InvalidArgument(f + "[0].start", "the first segment must start at 00:00");
        }
        for (std::size_t i = 0; i < segs.size(); ++i) {
            if (segs[i].start_minute >= 1440) {
                return InvalidArgument(Index(f, i) + ".start", "must be before 24:00");
            }
            if (i > 0 && segs[i].start_minute <= segs[i - 1].start_minute) {
                return InvalidArgument(Index(f, i) + ".start",
                                       "segments must be in increasing order of start time");
            }
            if (static_cast<std::size_t>(segs[i].period) >= kPeriodCount) {
                return InvalidArgument(Index(f, i) + ".period", "unknown period");
            }
        }
    }
    if (tou.seasons.empty() || tou.seasons.size() > kMaxSeasons) {
        return InvalidArgument(at + ".seasons", "needs 1 to 12 seasons");
    }
    for (std::size_t s = 0; s < tou.seasons.size(); ++s) {
        const Season& season = tou.seasons[s];
        const std::string f = at + "." + Index("seasons", s);
        const CivilDate start{date::year{2024}, date::month{season.start_month},
                              date::day{season.start_day}};
        if (!start.ok()) {
            return InvalidArgument(f + ".start", "not a valid month and day");
        }
        if (s > 0) {
            const Season& prev = tou.seasons[s - 1];
            if (std::pair(season.start_month, season.start_day) <=
                std::pair(prev.start_month, prev.start_day)) {
                return InvalidArgument(f + ".start", "seasons must be in calendar order");
            }
        }
        for (std::size_t t = 0; t < kDayTypeCount; ++t) {
            if (season.schedule_by_day_type[t] >= tou.day_schedules.size()) {
                return InvalidArgument(f + ".schedules",
                                       "names a day schedule that does not exist");
            }
        }
    }
    if (!std::is_sorted(tou.holidays.begin(), tou.holidays.end()) ||
        !std::is_sorted(tou.extra_workdays.begin(), tou.extra_workdays.end())) {
        return InvalidArgument(at + ".holidays", "dates must be sorted");
    }
    if (tou.weekend_mask >= 0x80) {
        return InvalidArgument(at + ".weekend", "unknown weekday");
    }
    return {};
}

Status ValidateVersion(const TariffVersion& v, const std::string& at) {
    if (v.base == PriceBase::kFlat) {
        JOULE_TRY(ValidatePrice(v.flat_price, at + ".price"));
    } else {
        JOULE_TRY(ValidateTou(v.tou, at + ".tou"));
    }
    if (v.cycle == TierCycle::kNone && !v.tiers.empty()) {
        return InvalidArgument(at + ".tiers", "tiers need a monthly or yearly cycle");
    }
    if (v.cycle != TierCycle::kNone && (v.tiers.empty() || v.tiers.size() > kMaxTiers)) {
        return InvalidArgument(at + ".tiers", "a tiered tariff has 1 to 16 tiers");
    }
    for (std::size_t i = 0; i < v.tiers.size(); ++i) {
        const std::string f = at + "." + Index("tiers", i);
        JOULE_TRY(ValidatePrice(v.tiers[i].increment, f + ".increment"));
        if (i + 1 < v.tiers.size()) {
            if (v.tiers[i].upto.milli <= 0 || (i > 0 && v.tiers[i].upto <= v.tiers[i - 1].upto)) {
                return InvalidArgument(f + ".upto", "tier bounds must be positive and increasing");
            }
        }
    }
    if (v.surcharges.size() > kMaxSurcharges) {
        return InvalidArgument(at + ".surcharges", "at most 8 surcharges");
    }
    for (std::size_t i = 0; i < v.surcharges.size(); ++i) {
        const std::string f = at + "." + Index("surcharges", i);
        if (v.surcharges[i].name.empty() || v.surcharges[i].name.size() > 64) {
            return InvalidArgument(f + ".name", "needs a name of 1 to 64 bytes");
        }
        JOULE_TRY(ValidatePrice(v.surcharges[i].price, f + ".price"));
    }
    if (v.loss_basis_points < 0 || v.loss_basis_points > kMaxLossBasisPoints) {
        return InvalidArgument(at + ".loss_percent", "must be between 0 and 50 percent");
    }
    return {};
}

int32_t CycleKey(TierCycle cycle, CivilDate date) {
    switch (cycle) {
        case TierCycle::kNone:
            return 0;
        case TierCycle::kMonthly:
            return static_cast<int32_t>(date.year()) * 12 +
                   static_cast<int32_t>(static_cast<unsigned>(date.month())) - 1;
        case TierCycle::kYearly:
            return static_cast<int32_t>(date.year());
    }
    return 0;
}

const Season& SeasonOf(const TouPlan& plan, CivilDate date) {
    const auto md =
        std::pair(static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    const Season* current = &plan.seasons.back();  // before the first start: last season wraps
    for (const Season& s : plan.seasons) {
        if (std::pair<unsigned, unsigned>(s.start_month, s.start_day) <= md) {
            current = &s;
        }
    }
    return *current;
}

const DaySchedule& ScheduleOf(const TouPlan& plan, CivilDate date) {
    const Season& season = SeasonOf(plan, date);
    return plan.day_schedules[season.schedule_by_day_type[static_cast<std::size_t>(
        DayTypeOf(plan, date))]];
}

// Index of the segment containing `minute` and the minute the next one starts (1440 at day end).
std::pair<std::size_t, int> SegmentAt(const DaySchedule& day, int minute) {
    std::size_t i = 0;
    while (i + 1 < day.segments.size() && day.segments[i + 1].start_minute <= minute) {
        ++i;
    }
    const int next = i + 1 < day.segments.size() ? day.segments[i + 1].start_minute : 1440;
    return {i, next};
}

// fine = quantity x price x (10000 + loss_bp), exact, in 128 bits.
Int128 FineOf(Quantity q, UnitPrice p, int32_t loss_bp) {
    return static_cast<Int128>(q.milli) * p.ten_thousandths * (kBasisPointsOne + loss_bp);
}

}  // namespace

Status ValidateTariff(const Tariff& tariff) {
    if (tariff.name.empty() || tariff.name.size() > 128) {
        return InvalidArgument("name", "needs a name of 1 to 128 bytes");
    }
    if (tariff.versions.empty() || tariff.versions.size() > kMaxVersions) {
        return InvalidArgument("versions", "a tariff has 1 to 1000 versions");
    }
    for (std::size_t i = 0; i < tariff.versions.size(); ++i) {
        const std::string at = Index("versions", i);
        if (i > 0 && tariff.versions[i].effective_from <= tariff.versions[i - 1].effective_from) {
            return InvalidArgument(at + ".effective_from",
                                   "versions must have strictly increasing effective times");
        }
        JOULE_TRY(ValidateVersion(tariff.versions[i], at));
    }
    return {};
}

DayType DayTypeOf(const TouPlan& plan, CivilDate date) {
    if (std::binary_search(plan.holidays.begin(), plan.holidays.end(), date)) {
        return DayType::kHoliday;
    }
    if (std::binary_search(plan.extra_workdays.begin(), plan.extra_workdays.end(), date)) {
        return DayType::kWorkday;
    }
    const unsigned weekday = date::weekday{date::sys_days{date}}.c_encoding();
    return (plan.weekend_mask >> weekday) & 1U ? DayType::kWeekend : DayType::kWorkday;
}

Period PeriodAt(const TouPlan& plan, LocalTime local) {
    const auto day = date::floor<date::days>(local);
    const CivilDate date{day};
    const int minute =
        static_cast<int>(std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
    const DaySchedule& schedule = ScheduleOf(plan, date);
    return schedule.segments[SegmentAt(schedule, minute).first].period;
}

void TariffEngine::Split(const Tariff& tariff, const Zone& zone, Instant from, Instant to,
                         bool by_period) {
    pieces_.clear();
    const auto& versions = tariff.versions;
    std::size_t v = 0;
    while (v + 1 < versions.size() && versions[v + 1].effective_from <= from) {
        ++v;
    }
    constexpr Instant kNever = Instant::max();
    Instant t = from;
    while (t < to) {
        while (v + 1 < versions.size() && versions[v + 1].effective_from <= t) {
            ++v;
        }
        const TariffVersion& version = versions[v];
        const Instant next_version =
            v + 1 < versions.size() ? versions[v + 1].effective_from : kNever;
        const bool tou = by_period && version.base == PriceBase::kTou;
        Piece piece;
        piece.begin = t;
        piece.version = static_cast<uint32_t>(v);
        Instant end = std::min(to, next_version);
        if (tou || version.cycle != TierCycle::kNone) {
            if (!span_zone_ || !(*span_zone_ == zone) || t < span_.begin || t >= span_.end) {
                span_zone_ = zone;
                span_ = zone.SpanAt(t);
            }
            const LocalTime local{t.time_since_epoch() + span_.offset};
            const auto day = date::floor<date::days>(local);
            const CivilDate date{day};
            piece.cycle_key = CycleKey(version.cycle, date);
            LocalTime local_end = LocalTime{day.time_since_epoch()} + date::days{1};
            if (tou) {
                const int minute = static_cast<int>(
                    std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
                const DaySchedule& schedule = ScheduleOf(version.tou, date);
                const auto [segment, next_start] = SegmentAt(schedule, minute);
                piece.period = schedule.segments[segment].period;
                local_end = LocalTime{day.time_since_epoch()} + std::chrono::minutes{next_start};
            }
            end = std::min({end, span_.end, Instant{local_end.time_since_epoch() - span_.offset}});
        }
        piece.end = end;
        pieces_.push_back(piece);
        t = end;
    }
}

Result<Charge> TariffEngine::Price(const Tariff& tariff, const Zone& zone, Instant from, Instant to,
                                   Quantity quantity, const PerPeriod<Quantity>* per_rate,
                                   TierState& tiers) {
    if (to <= from) {
        return InvalidArgument("meter_time", "an interval must end after it begins");
    }
    if (quantity.milli < 0) {
        return InvalidArgument("quantity", "must not be negative");
    }
    if (tariff.versions.empty() || tariff.versions.front().effective_from > from) {
        return FailedPrecondition("no version of tariff '" + tariff.name + "' is in effect at " +
                                  FormatInstant(from));
    }
    if (per_rate != nullptr) {
        Quantity sum;
        for (Quantity q : *per_rate) {
            if (q.milli < 0) {
                return InvalidArgument("per_rate", "register deltas must not be negative");
            }
            sum += q;
        }
        if (sum != quantity) {
            return InvalidArgument("per_rate", "register deltas do not sum to the total");
        }
    }

    Split(tariff, zone, from, to, per_rate == nullptr);

    // Allocate the quantity (or each period's quantity) to pieces in proportion to duration.
    const std::size_t n = pieces_.size();
    if (n == 1) {
        if (per_rate != nullptr) {
            pieces_[0].quantity = *per_rate;
        } else {
            pieces_[0].quantity[static_cast<std::size_t>(pieces_[0].period)] = quantity;
        }
    } else {
        weights_.resize(n);
        shares_.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            weights_[i] = (pieces_[i].end - pieces_[i].begin).count();
        }
        if (per_rate != nullptr) {
            for (std::size_t p = 0; p < kPeriodCount; ++p) {
                AllocateByWeights((*per_rate)[p].milli, weights_, shares_);
                for (std::size_t i = 0; i < n; ++i) {
                    pieces_[i].quantity[p].milli = shares_[i];
                }
            }
        } else {
            AllocateByWeights(quantity.milli, weights_, shares_);
            for (std::size_t i = 0; i < n; ++i) {
                pieces_[i].quantity[static_cast<std::size_t>(pieces_[i].period)].milli = shares_[i];
            }
        }
    }

    Int128 base_by_period[kPeriodCount] = {0, 0, 0, 0};
    Int128 tier_extra = 0;
    Int128 surcharges = 0;
    Charge charge;
    // Work on a copy: a charge that does not fit fails the reading, which must not move the
    // meter's tier position.
    TierState next_tiers = tiers;
    for (const Piece& piece : pieces_) {
        const TariffVersion& version = tariff.versions[piece.version];
        const int32_t loss = version.loss_basis_points;
        Quantity piece_total;
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            const Quantity q = piece.quantity[p];
            if (q.milli == 0) {
                continue;
            }
            piece_total += q;
            charge.quantity_by_period[p] += q;
            const UnitPrice price =
                version.base == PriceBase::kFlat ? version.flat_price : version.tou.prices[p];
            base_by_period[p] += FineOf(q, price, loss);
        }
        for (const Surcharge& s : version.surcharges) {
            surcharges += FineOf(piece_total, s.price, loss);
        }
        if (version.cycle == TierCycle::kNone) {
            continue;
        }
        if (next_tiers.cycle_key != piece.cycle_key) {
            next_tiers.cycle_key = piece.cycle_key;
            next_tiers.used = Quantity{};
        }
        int64_t remaining = piece_total.milli;
        int64_t used = next_tiers.used.milli;
        for (std::size_t i = 0; i < version.tiers.size() && remaining > 0; ++i) {
            const int64_t upper = i + 1 < version.tiers.size()
                                      ? version.tiers[i].upto.milli
                                      : std::numeric_limits<int64_t>::max();
            if (used >= upper) {
                continue;
            }
            const int64_t take = std::min(remaining, upper - used);
            tier_extra += FineOf(Quantity{take}, version.tiers[i].increment, loss);
            used += take;
            remaining -= take;
        }
        next_tiers.used.milli += piece_total.milli;
    }

    constexpr Int128 kMax = std::numeric_limits<int64_t>::max();
    Int128 total = tier_extra + surcharges;
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        if (base_by_period[p] > kMax) {
            return MakeError(ErrorCode::kOutOfRange, "the charge of one interval is too large",
                             "quantity");
        }
        charge.base_by_period[p].value = static_cast<int64_t>(base_by_period[p]);
        total += base_by_period[p];
    }
    if (total > kMax) {
        return MakeError(ErrorCode::kOutOfRange, "the charge of one interval is too large",
                         "quantity");
    }
    charge.tier_extra.value = static_cast<int64_t>(tier_extra);
    charge.surcharges.value = static_cast<int64_t>(surcharges);
    charge.total.value = static_cast<int64_t>(total);
    tiers = next_tiers;
    return charge;
}

}  // namespace joule
