#include "core/purchase.hpp"

#include <algorithm>

#include "base/assert.hpp"

namespace joule {

std::string_view BillingModeName(BillingMode mode) {
    return mode == BillingMode::kMeter ? "meter" : "platform";
}

Result<BillingMode> ParseBillingMode(std::string_view name) {
    if (name == "platform")
        return BillingMode::kPlatform;
    if (name == "meter")
        return BillingMode::kMeter;
    return InvalidArgument("billing_mode", "must be \"platform\" or \"meter\"");
}

std::string_view PurchaseCheckName(PurchaseCheck check) {
    switch (check) {
        case PurchaseCheck::kSend:
            return "send";
        case PurchaseCheck::kAlreadyApplied:
            return "already_applied";
        case PurchaseCheck::kMismatch:
            return "mismatch";
    }
    return "unknown";
}

int64_t WireCount(int64_t count, int64_t modulus) {
    JOULE_ASSERT(modulus > 0, "purchase count modulus must be positive");
    const int64_t r = count % modulus;
    return r < 0 ? r + modulus : r;
}

PurchaseCheck CheckPurchaseCount(int64_t expected, int64_t observed, int64_t modulus) {
    if (observed < 0 || observed >= modulus)
        return PurchaseCheck::kMismatch;
    if (observed == WireCount(expected, modulus))
        return PurchaseCheck::kAlreadyApplied;
    if (observed == WireCount(expected - 1, modulus))
        return PurchaseCheck::kSend;
    return PurchaseCheck::kMismatch;
}

Money MeterAvailable(const MeterPurse& purse, Money pending, Money held) {
    return purse.remaining.value_or(pending + held);
}

Money AvailableBalance(BillingMode mode, const MeterPurse& purse, const TenantBalances& balances) {
    if (mode == BillingMode::kMeter) {
        return MeterAvailable(purse, balances.meter_pending, balances.meter_held);
    }
    return balances.paid + balances.granted;
}

int64_t AssignPurchase(MeterPurse& purse) {
    purse.assigned_count = std::max(purse.assigned_count, purse.confirmed_count) + 1;
    return purse.assigned_count;
}

void ConfirmPurchase(MeterPurse& purse, int64_t count, Money amount, int64_t modulus) {
    purse.confirmed_count = std::max(purse.confirmed_count, count);
    const int64_t wire = WireCount(count, modulus);
    if (purse.remaining && purse.remaining_count != wire) {
        *purse.remaining += amount;
        purse.remaining_count = wire;
    }
}

void MirrorRemaining(MeterPurse& purse, Money remaining, std::optional<int64_t> wire_count,
                     Instant at) {
    purse.remaining = remaining;
    if (wire_count)
        purse.remaining_count = wire_count;
    purse.remaining_at = at;
}

}  // namespace joule
