#include "service/tariff_quote.hpp"
#include "service/project_lookup.hpp"

#include <algorithm>
#include <map>

#include "core/billing.hpp"
#include "core/rounding.hpp"

namespace joule {

namespace {

// Where replaying must start so tier usage is right at `from`: the start of its tier cycle.
Instant CycleStart(const Tariff& tariff, const Zone& zone, Instant from) {
    const TariffVersion* in_effect = nullptr;
    for (const TariffVersion& v : tariff.versions) {
        if (v.effective_from <= from) {
            in_effect = &v;
        }
    }
    if (in_effect == nullptr || in_effect->cycle == TierCycle::kNone || in_effect->tiers.empty()) {
        return from;
    }
    const CivilDate date{std::chrono::floor<date::days>(zone.ToLocal(from))};
    const CivilDate first = in_effect->cycle == TierCycle::kMonthly ? date.year() / date.month() / 1
                                                                    : date.year() / 1 / 1;
    return std::min(from, zone.ToInstant(LocalTime{date::local_days{first}}));
}

// The tariff the quote prices with: the candidate alone (in effect from the beginning of time,
// so it prices every interval), or the stored tariff.
Result<Tariff> PricedTariff(const Tariff& stored, const std::optional<TariffVersion>& candidate) {
    if (!candidate) {
        return stored;
    }
    Tariff priced = stored;
    priced.versions = {*candidate};
    priced.versions.front().effective_from = Instant{};
    if (Status valid = ValidateTariff(priced); !valid) {
        Error e = valid.error();
        constexpr std::string_view kPrefix = "versions[0]";
        if (e.field.starts_with(kPrefix)) {
            e.field = "version" + e.field.substr(kPrefix.size());
        }
        return std::unexpected(e);
    }
    return priced;
}

struct QuotedMeter {
    MeterRecord meter;
    MeterBilling billing;
    std::string account;  // number
};

// The meters billed under `tariff` now: their own tariff, or else their account's.
Result<std::vector<QuotedMeter>> MetersOf(Tx& tx, const ProjectRecord& project,
                                          const TariffRecord& tariff,
                                          const std::vector<std::string>& codes) {
    std::vector<MeterRecord> meters;
    if (codes.empty()) {
        JOULE_ASSIGN_OR_RETURN(meters, tx.ListMeters(project.id));
    }
    for (std::size_t i = 0; i < codes.size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(auto found, tx.FindMeter(project.id, codes[i]));
        if (!found) {
            return NotFound("no meter '" + codes[i].substr(0, 64) + "'",
                            "meters[" + std::to_string(i) + "]");
        }
        meters.push_back(std::move(*found));
    }
    std::map<int64_t, AccountRecord> accounts;
    std::vector<QuotedMeter> out;
    for (MeterRecord& m : meters) {
        JOULE_ASSIGN_OR_RETURN(auto billing, tx.LoadBilling(m.id));
        if (!billing) {
            continue;  // never commissioned for billing: nothing to quote
        }
        QuotedMeter q{std::move(m), *billing, {}};
        TariffId billed_under = q.meter.tariff;
        if (billing->account.valid()) {
            auto it = accounts.find(billing->account.value);
            if (it == accounts.end()) {
                JOULE_ASSIGN_OR_RETURN(AccountRecord a, tx.GetAccount(billing->account));
                it = accounts.emplace(billing->account.value, std::move(a)).first;
            }
            q.account = it->second.number;
            if (!billed_under.valid()) {
                billed_under = it->second.tariff;
            }
        }
        if (codes.empty() && billed_under != tariff.id) {
            continue;
        }
        out.push_back(std::move(q));
    }
    if (out.size() > kMaxQuoteMeters) {
        return InvalidArgument("meters", "a quote covers at most " +
                                             std::to_string(kMaxQuoteMeters) +
                                             " meters; name the meters to quote");
    }
    std::sort(out.begin(), out.end(), [](const QuotedMeter& a, const QuotedMeter& b) {
        return a.meter.code < b.meter.code;
    });
    return out;
}

void Add(QuoteAmounts& to, const QuoteAmounts& from) {
    to.readings += from.readings;
    to.energy += from.energy;
    to.charged_exact += from.charged_exact;
    to.quoted_exact += from.quoted_exact;
    to.quoted_tier_extra += from.quoted_tier_extra;
    to.quoted_surcharges += from.quoted_surcharges;
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        to.energy_by_period[p] += from.energy_by_period[p];
        to.quoted_by_period[p] += from.quoted_by_period[p];
    }
}

// The one rounding rule, once per line and once for the total.
void Round(QuoteAmounts& a) {
    a.charged = RoundFineToFen(FineMoney{}, a.charged_exact).deduct;
    a.quoted = RoundFineToFen(FineMoney{}, a.quoted_exact).deduct;
}

struct Replay {
    const Tariff& tariff;
    const Zone& zone;
    Instant start;  // replay from here (the tier cycle's start)
    Instant from;   // quote readings after this
    Instant to;
    TariffEngine engine;
    std::vector<ReadingInput> inputs;
    std::vector<ReadingOutcome> outcomes;
    std::vector<Transfer> unused_transfers;
};

Result<QuoteLine> QuoteMeter(Tx& tx, Replay& replay, QuotedMeter& m) {
    QuoteLine line{m.meter.code, m.account, {}, 0};
    JOULE_ASSIGN_OR_RETURN(auto stored,
                           tx.ListAcceptedReadings(m.meter.id, replay.start, replay.to));
    JOULE_ASSIGN_OR_RETURN(auto baseline, tx.LastAcceptedReading(m.meter.id, replay.start));
    // Priced like a public-area meter: no account, so no wallet and nothing deducted.
    MeterBilling billing = m.billing;
    billing.account = AccountId{};
    billing.tiers = TierState{};
    billing.cursor = baseline ? Advance(baseline->outcome.input) : Cursor{};
    if (!baseline) {
        // No reading before: the account's opening register begins the first interval.
        JOULE_ASSIGN_OR_RETURN(auto binding, tx.CurrentBinding(m.meter.id));
        if (binding &&
            (stored.empty() || binding->bound_from < stored.front().outcome.input.meter_time)) {
            billing.cursor = Cursor{true, binding->bound_from, binding->opening_total, false, {}};
        }
    }
    replay.inputs.clear();
    for (const StoredReading& r : stored) {
        replay.inputs.push_back(r.outcome.input);
    }
    replay.outcomes.clear();
    BillingContext ctx;
    ctx.tariff = &replay.tariff;
    ctx.zone = &replay.zone;
    BillMeterReadings(billing, nullptr, replay.inputs, ctx, replay.engine, replay.outcomes,
                      replay.unused_transfers);
    for (std::size_t i = 0; i < replay.outcomes.size(); ++i) {
        const ReadingOutcome& o = replay.outcomes[i];
        if (o.input.meter_time <= replay.from) {
            continue;  // replayed for the tier usage only
        }
        if (o.validated.verdict != Verdict::kAccepted ||
            o.validated.reason == ReadingReason::kBaseline) {
            ++line.unpriced_readings;
            continue;
        }
        QuoteAmounts& a = line.amounts;
        ++a.readings;
        a.energy += o.validated.delta;
        a.charged_exact += stored[i].outcome.charge.total;
        a.quoted_exact += o.charge.total;
        a.quoted_tier_extra += o.charge.tier_extra;
        a.quoted_surcharges += o.charge.surcharges;
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            a.energy_by_period[p] += o.charge.quantity_by_period[p];
            a.quoted_by_period[p] += o.charge.base_by_period[p];
        }
    }
    Round(line.amounts);
    return line;
}

}  // namespace

Result<Quote> QuoteTariff(Store& store, const QuoteRequest& r) {
    if (r.to <= r.from) {
        return InvalidArgument("to", "must be after from");
    }
    if (r.to - r.from > date::days{kMaxQuoteDays}) {
        return InvalidArgument("to",
                               "a quote covers at most " + std::to_string(kMaxQuoteDays) + " days");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(*tx, r.project_code));
    JOULE_ASSIGN_OR_RETURN(auto tariff, tx->FindTariff(project.id, r.tariff_code));
    if (!tariff) {
        return NotFound("no tariff '" + r.tariff_code + "'", "tariff");
    }
    JOULE_ASSIGN_OR_RETURN(const Tariff priced, PricedTariff(tariff->tariff, r.candidate));
    JOULE_ASSIGN_OR_RETURN(const Zone zone, Zone::Load(project.time_zone));
    JOULE_ASSIGN_OR_RETURN(auto meters, MetersOf(*tx, project, *tariff, r.meters));
    Replay replay{priced, zone, CycleStart(priced, zone, r.from), r.from, r.to, {}, {}, {}, {}};
    Quote quote;
    for (QuotedMeter& m : meters) {
        JOULE_ASSIGN_OR_RETURN(QuoteLine line, QuoteMeter(*tx, replay, m));
        Add(quote.total, line.amounts);
        quote.lines.push_back(std::move(line));
    }
    Round(quote.total);
    return quote;
}

}  // namespace joule
