// Credits [ACCT-4, ACCT-8]: a tenant account spends from its granted credits first (subsidy,
// free quota, compensation), then from paid credit. One deterministic draw-down order:
//   1. unexpired grants with a positive balance, by priority (lower first), then by expiry
//      (sooner first, never-expiring last), then by ledger account id (older first);
//   2. paid credit, which takes whatever is left and may go negative (arrears).
#pragma once

#include <cstdint>
#include <vector>

#include "core/ledger.hpp"

namespace joule {

// A tenant account's ledger accounts.
struct Wallet {
    LedgerAccount paid;
    std::vector<LedgerAccount> grants;
    LedgerAccount debt;

    // What can be spent at `at`: paid plus unexpired grants (debt is tracked apart).
    [[nodiscard]] Money Available(Instant at) const;
    [[nodiscard]] Money GrantedAvailable(Instant at) const;
};

inline constexpr std::size_t kMaxGrantsPerAccount = 64;  // open grants; more are refused

struct Draw {
    int32_t grant_index = -1;  // index into Wallet::grants, or -1 for the paid account
    Money amount;
};

// Splits `amount` (> 0) over the wallet in draw-down order. Appends to `out`.
void PlanDraw(const Wallet& wallet, Money amount, Instant at, std::vector<Draw>& out);

// Grants that have expired at `at` and still hold money: each must be expired by a transfer.
void ExpiredGrants(const Wallet& wallet, Instant at, std::vector<int32_t>& out);

[[nodiscard]] inline bool IsExpired(const LedgerAccount& grant, Instant at) {
    return grant.expires_at.has_value() && *grant.expires_at <= at;
}

}  // namespace joule
