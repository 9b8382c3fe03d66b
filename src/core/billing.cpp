#include "core/billing.hpp"

#include "base/assert.hpp"
#include "core/rounding.hpp"

namespace joule {

static_assert(sizeof(MeterBilling) <= 1024, "resident billing state must stay within 1 KiB");

std::string DeductionTransferId(MeterId meter, Instant meter_time, std::size_t part) {
    std::string id = "rd:";
    id += std::to_string(meter_time.time_since_epoch().count());
    id += ':';
    id += std::to_string(meter.value);
    id += ':';
    id += std::to_string(part);
    return id;
}

void BillMeterReadings(MeterBilling& meter, Wallet* wallet, std::span<const ReadingInput> readings,
                       const BillingContext& ctx, TariffEngine& engine,
                       std::vector<ReadingOutcome>& outcomes, std::vector<Transfer>& transfers) {
    std::vector<Draw> draws;
    for (const ReadingInput& input : readings) {
        ReadingOutcome outcome{
            meter.meter, input, ValidateReading(meter.spec, meter.cursor, input), {}, {}};
        ValidatedReading& v = outcome.validated;
        if (v.reason == ReadingReason::kNoCursor && !meter.account.valid()) {
            v = ValidatedReading{Verdict::kAccepted, ReadingReason::kBaseline, {}, false, {}, {}};
            meter.cursor = Advance(input);
        } else if (v.verdict == Verdict::kAccepted && ctx.tariff == nullptr) {
            meter.cursor = Advance(input);
            meter.billed_total += v.delta;
        } else if (v.verdict == Verdict::kAccepted) {
            auto charge = engine.Price(*ctx.tariff, *ctx.zone, v.from, input.meter_time, v.delta,
                                       v.bill_per_rate ? &v.per_rate_delta : nullptr, meter.tiers);
            if (!charge) {
                v = ValidatedReading{
                    Verdict::kQuarantined, ReadingReason::kNoTariff, {}, false, {}, {}};
            } else {
                outcome.charge = *charge;
                meter.cursor = Advance(input);
                meter.billed_total += v.delta;
                meter.charged_total += charge->total;
                const RoundedCharge rounded = RoundFineToFen(meter.carry, charge->total);
                meter.carry = rounded.carry;
                meter.deducted_total += rounded.deduct;
                outcome.deducted = rounded.deduct;
                if (wallet != nullptr && rounded.deduct.fen > 0) {
                    draws.clear();
                    PlanDraw(*wallet, rounded.deduct, input.meter_time, draws);
                    for (std::size_t k = 0; k < draws.size(); ++k) {
                        LedgerAccount& from =
                            draws[k].grant_index < 0
                                ? wallet->paid
                                : wallet->grants[static_cast<std::size_t>(draws[k].grant_index)];
                        JOULE_ASSERT(from.kind == LedgerAccountKind::kTenantPaid ||
                                         from.balance >= draws[k].amount,
                                     "a grant was overdrawn");
                        from.balance -= draws[k].amount;
                        transfers.push_back(Transfer{
                            DeductionTransferId(meter.meter, input.meter_time, k), from.id,
                            ctx.revenue, draws[k].amount, TransferCode::kDeduction,
                            ctx.meter_code.empty() ? "meter:" + std::to_string(meter.meter.value)
                                                   : "meter " + std::string(ctx.meter_code),
                            std::string(ctx.actor), input.meter_time});
                    }
                }
            }
        }
        outcomes.push_back(outcome);
    }
}

}  // namespace joule
