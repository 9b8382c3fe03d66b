#include "core/credit.hpp"

#include <algorithm>

namespace joule {

Money Wallet::GrantedAvailable(Instant at) const {
    Money sum;
    for (const LedgerAccount& g : grants) {
        if (!IsExpired(g, at)) {
            sum += g.balance;
        }
    }
    return sum;
}

Money Wallet::Available(Instant at) const { return paid.balance + GrantedAvailable(at); }

void PlanDraw(const Wallet& wallet, Money amount, Instant at, std::vector<Draw>& out) {
    Money remaining = amount;
    if (!wallet.grants.empty()) {
        // Small: indices sorted in the draw-down order.
        int32_t order[kMaxGrantsPerAccount];
        std::size_t n = 0;
        for (std::size_t i = 0; i < wallet.grants.size() && n < kMaxGrantsPerAccount; ++i) {
            const LedgerAccount& g = wallet.grants[i];
            if (g.balance.fen > 0 && !IsExpired(g, at)) {
                order[n++] = static_cast<int32_t>(i);
            }
        }
        std::sort(order, order + n, [&](int32_t a, int32_t b) {
            const LedgerAccount& ga = wallet.grants[static_cast<std::size_t>(a)];
            const LedgerAccount& gb = wallet.grants[static_cast<std::size_t>(b)];
            if (ga.priority != gb.priority) {
                return ga.priority < gb.priority;
            }
            const Instant ea = ga.expires_at.value_or(Instant::max());
            const Instant eb = gb.expires_at.value_or(Instant::max());
            if (ea != eb) {
                return ea < eb;
            }
            return ga.id < gb.id;
        });
        for (std::size_t k = 0; k < n && remaining.fen > 0; ++k) {
            const LedgerAccount& g = wallet.grants[static_cast<std::size_t>(order[k])];
            const Money take = std::min(remaining, g.balance);
            out.push_back({order[k], take});
            remaining -= take;
        }
    }
    if (remaining.fen > 0) {
        out.push_back({-1, remaining});
    }
}

void ExpiredGrants(const Wallet& wallet, Instant at, std::vector<int32_t>& out) {
    for (std::size_t i = 0; i < wallet.grants.size(); ++i) {
        if (wallet.grants[i].balance.fen > 0 && IsExpired(wallet.grants[i], at)) {
            out.push_back(static_cast<int32_t>(i));
        }
    }
}

}  // namespace joule
