// Ledger rules [ACCT-5] (TigerBeetle's model): append-only transfers, each debiting one ledger
// account and crediting another by the same amount, each with a client-chosen idempotency id. Every
// balance is credits minus debits, so the balances of all ledger accounts always sum to zero.
// Top-up, refund, deduction, subsidy, fee, adjustment, transfer between accounts, debt recovery and
// grant expiry are all transfers.
//
// Tenant balances are the operator's liability (credit-normal): a top-up debits a cash account
// and credits the tenant's paid account; consumption debits the tenant and credits revenue.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/ids.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// stored: never renumber.
enum class LedgerAccountKind : uint8_t {
    kTenantPaid = 1,   // paid credit; may go negative (arrears, overdraft, keep-power)
    kTenantGrant = 2,  // one granted credit (subsidy, free quota, compensation); never negative
    kTenantDebt = 3,   // recorded debt, never positive; recovered by a share of top-ups
    // Meter billing [ACCT-1]: money on its way to the meter and money the meter confirmed it
    // holds. Both are the tenant's (the operator's liability) and never negative.
    kTenantMeterPending = 4,  // purchases sent to the meter, not yet confirmed by its count
    kTenantMeterHeld = 5,     // purchases the meter confirmed (its purse is mirrored, not this)
    kCash = 10,               // money received, per channel (cash, POS, transfer, online ...)
    kEnergyRevenue = 11,      // electricity sold
    kWaterRevenue = 12,       // water sold
    kSubsidyExpense = 13,     // the operator's cost of granted credit
    kFeeIncome = 14,          // fees deducted from balances
    kAdjustments = 15,        // corrections and write-offs
};
std::string_view LedgerAccountKindName(LedgerAccountKind kind);
[[nodiscard]] bool IsTenantKind(LedgerAccountKind kind);

// stored: never renumber.
enum class TransferCode : uint16_t {
    kTopUp = 1,
    kRefund = 2,
    kDeduction = 3,
    kSubsidy = 4,
    kFee = 5,
    kAdjustment = 6,
    kAccountTransfer = 7,
    kDebtRecovery = 8,
    kGrantExpiry = 9,
    kDebtRecorded = 10,
    kPurchaseSent = 11,       // tenant_paid -> meter_pending: a purchase queued to the meter
    kPurchaseConfirmed = 12,  // meter_pending -> meter_held: the meter's count confirmed it
    kPurchaseReturned = 13,   // meter_pending -> tenant_paid: the meter never took it
};
std::string_view TransferCodeName(TransferCode code);

inline constexpr std::size_t kMaxTransferIdBytes = 128;
inline constexpr int64_t kMaxTransferFen = 100'000'000'00;  // 100 million yuan: "absurd" above

struct LedgerAccount {
    LedgerAccountId id;
    LedgerAccountKind kind = LedgerAccountKind::kTenantPaid;
    AccountId owner;                    // the tenant account, for tenant kinds
    int32_t priority = 0;               // grants: lower draws first
    std::optional<Instant> expires_at;  // grants: unusable from this instant
    Money balance;                      // credits - debits
    std::string code;  // system accounts: the channel or purpose ("cash", "wechat"); else empty
};

// A tenant account's balances summed by kind over its ledger accounts (grants together).
struct TenantBalances {
    Money paid;
    Money granted;
    Money debt;
    Money meter_pending;  // meter billing: sent to the meter, not yet confirmed
    Money meter_held;     // meter billing: confirmed by the meter
};
[[nodiscard]] TenantBalances BalancesOf(std::span<const LedgerAccount> ledgers);

struct Transfer {
    std::string id;  // idempotency key chosen by the client before the first attempt
    LedgerAccountId debit;
    LedgerAccountId credit;
    Money amount;
    TransferCode code = TransferCode::kAdjustment;
    std::string ref;    // what it is about: meter reading, receipt number, order id ...
    std::string actor;  // operator or subsystem
    Instant at;
};

// Result of posting one transfer. stored: never renumber.
enum class PostResult : uint8_t {
    kOk = 0,
    kExists = 1,                     // same id, same fields: already posted, nothing to do
    kExistsWithDifferentFields = 2,  // same id, different fields: rejected
    kIdInvalid = 3,
    kAmountNotPositive = 4,
    kAmountAbsurd = 5,
    kSameAccount = 6,
    kGrantWouldGoNegative = 7,
    kDebtWouldGoPositive = 8,
    kMeterAccountWouldGoNegative = 9,  // meter_pending / meter_held below zero
};
std::string_view PostResultName(PostResult result);

// Same id and same economic fields (the idempotency comparison; `at` may differ on retries).
[[nodiscard]] bool SameTransfer(const Transfer& a, const Transfer& b);

// Checks `t` against the two accounts it moves money between (no existence lookup: the store
// does that). Pure.
[[nodiscard]] PostResult CheckTransfer(const Transfer& t, const LedgerAccount& debit,
                                       const LedgerAccount& credit);

// Applies a checked transfer to the two balances.
void ApplyTransfer(const Transfer& t, LedgerAccount& debit, LedgerAccount& credit);

}  // namespace joule
