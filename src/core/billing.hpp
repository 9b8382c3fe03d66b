// The pure billing step (TigerBeetle's prefetch -> pure compute -> commit): given a meter's
// billing state, its account's wallet, the tariff and a batch of readings, compute every effect:
// verdicts, charges, deductions as ledger transfers, and the new state. No I/O; the service
// loads the inputs and persists the outputs in one transaction.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/credit.hpp"
#include "core/ids.hpp"
#include "core/ledger.hpp"
#include "core/reading.hpp"
#include "core/tariff.hpp"

namespace joule {

// A meter's resident billing state (kept ≤ 1 KiB; checked by a static_assert).
struct MeterBilling {
    MeterId meter;
    AccountId account;  // invalid for public-area meters: priced for reports, never deducted
    Utility utility = Utility::kElectricity;
    RegisterSpec spec;
    Cursor cursor;
    TierState tiers;
    FineMoney carry;          // sub-fen remainder of the cumulative charge (core/rounding.hpp)
    Quantity billed_total;    // all accepted quantity since the state began
    FineMoney charged_total;  // all exact charges since the state began (audit: see below)
    Money deducted_total;     // == RoundFineToFen(0, charged_total).deduct, always
};

struct ReadingOutcome {
    MeterId meter;
    ReadingInput input;
    ValidatedReading validated;
    Charge charge;   // zero unless accepted
    Money deducted;  // fen taken from the wallet for this reading
};

struct BillingContext {
    const Tariff* tariff = nullptr;  // null: readings are validated and kept, not priced
    const Zone* zone = nullptr;
    LedgerAccountId revenue;  // where deductions go
    std::string_view actor = "billing";
    std::string_view meter_code;  // for the transfers' reference
};

// Bills `readings` (one meter, sorted by meter time) against `meter`. A meter with no account and
// no cursor takes its first valid reading as the baseline (public-area meters need no opening).
// When `wallet` is non-null every rounded deduction is drawn from it in draw-down order: transfers
// are appended to `transfers` and applied to the wallet's balances. Appends one outcome per
// reading.
void BillMeterReadings(MeterBilling& meter, Wallet* wallet, std::span<const ReadingInput> readings,
                       const BillingContext& ctx, TariffEngine& engine,
                       std::vector<ReadingOutcome>& outcomes, std::vector<Transfer>& transfers);

// The deduction transfer id of a reading: the idempotency key is derived from the meter and the
// meter time, so a reading can never be deducted twice. The meter time comes first so that new ids
// are appended to the end of the transfers' id index instead of landing on one leaf page per meter
// (ids stored before the change began with the meter; the billing cursor, which refuses a reading
// at or before it, is what keeps those readings from being deducted again).
[[nodiscard]] std::string DeductionTransferId(MeterId meter, Instant meter_time, std::size_t part);

}  // namespace joule
