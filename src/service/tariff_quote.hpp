// The tariff quote (电费试算) [TAR-1, TAR-5]: what the meters of a tariff would have been charged
// over a past period under a candidate version, next to what they were charged. The stored
// accepted readings are replayed through the billing core (validation against the meter's cursor,
// then TariffEngine::Price, exactly as live billing does) with the candidate tariff; nothing is
// written. Finance compares a planned price before adding it as a version.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "service/requests.hpp"

namespace joule {

struct QuoteRequest {
    std::string project_code;
    std::string tariff_code;  // the tariff whose meters are quoted (billed under it now)
    // The version to try; nullopt re-prices under the tariff's own versions (a check: the quote
    // then equals what was charged, unless the readings were billed under another tariff).
    std::optional<TariffVersion> candidate;
    Instant from;  // readings with meter time in (from, to]
    Instant to;
    std::vector<std::string> meters;  // codes; empty: every meter billed under the tariff now
};

// Both sides over the same readings: those the quote could price (a reading needs an earlier
// accepted one to begin its interval).
struct QuoteAmounts {
    int64_t readings = 0;
    Quantity energy;
    PerPeriod<Quantity> energy_by_period{};  // as the candidate allocates it
    FineMoney charged_exact;                 // what billing charged (exact, before rounding)
    Money charged;                           // the same rounded to fen (core/rounding.hpp)
    FineMoney quoted_exact;
    Money quoted;
    PerPeriod<FineMoney> quoted_by_period{};  // the candidate's base price by period
    FineMoney quoted_tier_extra;
    FineMoney quoted_surcharges;
};

struct QuoteLine {
    std::string meter;    // code
    std::string account;  // number of the account billed now; empty for a public-area meter
    QuoteAmounts amounts;
    int64_t unpriced_readings = 0;  // accepted readings without an earlier one to start from
};

struct Quote {
    std::vector<QuoteLine> lines;  // by meter code
    QuoteAmounts total;
};

// Limits of one quote, so a request cannot run for minutes.
inline constexpr int64_t kMaxQuoteDays = 92;
inline constexpr std::size_t kMaxQuoteMeters = 20'000;

// kNotFound (field "project", "tariff", "meters[i]"); kInvalidArgument naming the field for a bad
// period, too many meters or a candidate that does not validate ("version.tiers[1].upto" ...).
[[nodiscard]] Result<Quote> QuoteTariff(Store& store, const QuoteRequest& r);

}  // namespace joule
