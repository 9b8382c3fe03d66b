// Meter billing [ACCT-1]: the meter holds the balance (本地费控) and the platform sends it
// purchases. A purchase carries the purchase count the meter will have after applying it; the
// meter applies it only when that is its own count + 1, so reading the count tells whether a
// purchase was applied, and a purchase resent after a lost acknowledgement never credits twice.
// Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "base/error.hpp"
#include "core/ledger.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// Who holds the balance. stored: never renumber.
//   kPlatform: the platform holds it, deducts consumption and switches the relay.
//   kMeter:    the meter holds it; the platform sends purchases checked against the meter's
//              purchase count and mirrors the meter's remaining amount; the meter trips itself.
enum class BillingMode : uint8_t { kPlatform = 0, kMeter = 1 };
std::string_view BillingModeName(BillingMode mode);
// "platform" or "meter"; kInvalidArgument (field "billing_mode") otherwise.
[[nodiscard]] Result<BillingMode> ParseBillingMode(std::string_view name);

// The in-meter purse of a meter-billing account (its one meter) as the platform knows it.
struct MeterPurse {
    int64_t confirmed_count = 0;     // the meter's purchase count after the last confirmed purchase
    int64_t assigned_count = 0;      // the count the newest queued purchase brings it to
    std::optional<Money> remaining;  // mirrored remaining amount, as last read
    std::optional<int64_t> remaining_count;  // the purchase count (as on the wire) read with it
    std::optional<Instant> remaining_at;     // server time of that read
    friend bool operator==(const MeterPurse&, const MeterPurse&) = default;
};

// The largest purchase a meter register takes: XXXXXX.XX yuan.
inline constexpr Money kMaxPurchase{99'999'999};

// What reading the meter's count before (re)sending a purchase means. stored: never renumber.
enum class PurchaseCheck : uint8_t {
    kSend = 0,            // the meter is at expected - 1: not applied yet, send it
    kAlreadyApplied = 1,  // the meter is at expected: applied (a lost acknowledgement)
    kMismatch = 2,        // anything else: never send; staff must look
};
std::string_view PurchaseCheckName(PurchaseCheck check);

// Counts on the wire wrap: DL/T 645 XXXX at 10000, CJ/T 188's one byte at 256. `modulus` > 0.
[[nodiscard]] int64_t WireCount(int64_t count, int64_t modulus);
// Compares the count the meter reports (`observed`, a wire value) with the count the purchase
// brings it to (`expected`, the platform's full count).
[[nodiscard]] PurchaseCheck CheckPurchaseCount(int64_t expected, int64_t observed, int64_t modulus);

// What a meter-billing account has: the meter's remaining amount as last read, else (before the
// first read) what was sent to it, `pending` plus `held`.
[[nodiscard]] Money MeterAvailable(const MeterPurse& purse, Money pending, Money held);
// What an account shows as available: platform billing paid + granted, meter billing
// MeterAvailable.
[[nodiscard]] Money AvailableBalance(BillingMode mode, const MeterPurse& purse,
                                     const TenantBalances& balances);

// The next purchase of a purse: the count it carries, and the purse with it assigned.
[[nodiscard]] int64_t AssignPurchase(MeterPurse& purse);
// A purchase confirmed (by acknowledgement or by the count): the confirmed count advances, and a
// mirrored remaining amount read before the meter applied it (its wire count differs) grows by
// `amount` until the next read replaces it.
void ConfirmPurchase(MeterPurse& purse, int64_t count, Money amount, int64_t modulus);
// A read of the meter's remaining amount (and purchase count, when the model reads it).
void MirrorRemaining(MeterPurse& purse, Money remaining, std::optional<int64_t> wire_count,
                     Instant at);

}  // namespace joule
