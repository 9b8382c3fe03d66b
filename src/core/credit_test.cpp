#include "core/credit.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string_view>
#include <vector>

namespace joule {
namespace {

Instant At(std::string_view text) { return ParseInstant(text, "at").value(); }

LedgerAccount Grant(int64_t id, int32_t priority, int64_t balance_fen,
                    std::optional<Instant> expires_at) {
    LedgerAccount g;
    g.id = LedgerAccountId{id};
    g.kind = LedgerAccountKind::kTenantGrant;
    g.priority = priority;
    g.balance = Money{balance_fen};
    g.expires_at = expires_at;
    return g;
}

// paid 0.10 yuan and six grants at "now" = 2026-02-01:
//   [0] id 10 priority 1, 1.00, never expires
//   [1] id 11 priority 0, 0.50, expires 2026-06-01
//   [2] id 12 priority 0, 0.30, expires 2026-03-01
//   [3] id 13 priority 0, 0.40, expired 2026-01-01
//   [4] id  9 priority 1, 0.20, never expires
//   [5] id  8 priority 0, 0.00 (used up), never expires
Wallet TestWallet() {
    Wallet w;
    w.paid.id = LedgerAccountId{1};
    w.paid.kind = LedgerAccountKind::kTenantPaid;
    w.paid.balance = Money{10};
    w.debt.id = LedgerAccountId{2};
    w.debt.kind = LedgerAccountKind::kTenantDebt;
    w.debt.balance = Money{-700};
    w.grants = {Grant(10, 1, 100, std::nullopt),
                Grant(11, 0, 50, At("2026-06-01T00:00:00Z")),
                Grant(12, 0, 30, At("2026-03-01T00:00:00Z")),
                Grant(13, 0, 40, At("2026-01-01T00:00:00Z")),
                Grant(9, 1, 20, std::nullopt),
                Grant(8, 0, 0, std::nullopt)};
    return w;
}

const Instant kNow = Instant{date::sys_days{date::year{2026} / 2 / 1}};

TEST(PlanDraw, GrantsByPriorityThenExpiryThenIdAndPaidLast) {
    const Wallet w = TestWallet();
    std::vector<Draw> draws;
    PlanDraw(w, Money{250}, kNow, draws);
    // priority 0: [2] (expires Mar) 30, [1] (expires Jun) 50; expired [3] and empty [5] skipped.
    // priority 1, never expiring: [4] (id 9) 20 before [0] (id 10) 100.
    // 30 + 50 + 20 + 100 = 200 from grants; the paid account takes the last 50 (10 -> -40).
    ASSERT_EQ(draws.size(), 5U);
    EXPECT_EQ(draws[0].grant_index, 2);
    EXPECT_EQ(draws[0].amount, Money{30});
    EXPECT_EQ(draws[1].grant_index, 1);
    EXPECT_EQ(draws[1].amount, Money{50});
    EXPECT_EQ(draws[2].grant_index, 4);
    EXPECT_EQ(draws[2].amount, Money{20});
    EXPECT_EQ(draws[3].grant_index, 0);
    EXPECT_EQ(draws[3].amount, Money{100});
    EXPECT_EQ(draws[4].grant_index, -1);
    EXPECT_EQ(draws[4].amount, Money{50});
}

TEST(PlanDraw, StopsAsSoonAsTheAmountIsCovered) {
    const Wallet w = TestWallet();
    std::vector<Draw> draws;
    PlanDraw(w, Money{60}, kNow, draws);
    // 30 from [2], the remaining 30 from [1].
    ASSERT_EQ(draws.size(), 2U);
    EXPECT_EQ(draws[0].grant_index, 2);
    EXPECT_EQ(draws[0].amount, Money{30});
    EXPECT_EQ(draws[1].grant_index, 1);
    EXPECT_EQ(draws[1].amount, Money{30});
}

TEST(PlanDraw, AppendsToExistingDraws) {
    const Wallet w = TestWallet();
    std::vector<Draw> draws{{-1, Money{1}}};
    PlanDraw(w, Money{10}, kNow, draws);
    ASSERT_EQ(draws.size(), 2U);
    EXPECT_EQ(draws[1].grant_index, 2);
    EXPECT_EQ(draws[1].amount, Money{10});
}

TEST(PlanDraw, GrantExpiringAtTheInstantIsSkipped) {
    const Wallet w = TestWallet();
    std::vector<Draw> draws;
    // At 2026-03-01T00:00Z grant [2] has just expired: [1] comes first.
    PlanDraw(w, Money{10}, At("2026-03-01T00:00:00Z"), draws);
    ASSERT_EQ(draws.size(), 1U);
    EXPECT_EQ(draws[0].grant_index, 1);
}

TEST(PlanDraw, WithoutGrantsThePaidAccountGoesNegative) {
    Wallet w = TestWallet();
    w.grants.clear();
    std::vector<Draw> draws;
    PlanDraw(w, Money{500}, kNow, draws);
    ASSERT_EQ(draws.size(), 1U);
    EXPECT_EQ(draws[0].grant_index, -1);
    EXPECT_EQ(draws[0].amount, Money{500});  // paid 0.10 -> -4.90
}

TEST(ExpiredGrants, ListsExpiredGrantsThatStillHoldMoney) {
    Wallet w = TestWallet();
    w.grants.push_back(Grant(14, 0, 0, At("2026-01-15T00:00:00Z")));  // expired but empty
    std::vector<int32_t> expired;
    ExpiredGrants(w, kNow, expired);
    EXPECT_EQ(expired, (std::vector<int32_t>{3}));

    expired.clear();
    ExpiredGrants(w, At("2026-03-01T00:00:00Z"), expired);  // [2] expires at this instant
    EXPECT_EQ(expired, (std::vector<int32_t>{2, 3}));
}

TEST(Wallet, AvailableIsPaidPlusUnexpiredGrants) {
    const Wallet w = TestWallet();
    // grants 100 + 50 + 30 + 20 (+0) = 200; expired 40 excluded; debt not counted.
    EXPECT_EQ(w.GrantedAvailable(kNow), Money{200});
    EXPECT_EQ(w.Available(kNow), Money{210});
    // After 2026-06-01 grants [1] and [2] are gone too: 100 + 20 = 120, plus paid 10.
    EXPECT_EQ(w.Available(At("2026-06-01T00:00:00Z")), Money{130});
    // Before 2026-01-01 the 0.40 grant still counts.
    EXPECT_EQ(w.Available(At("2025-12-31T23:59:59Z")), Money{250});
}

TEST(IsExpired, ExpiresAtTheInstant) {
    const LedgerAccount g = Grant(1, 0, 1, At("2026-03-01T00:00:00Z"));
    EXPECT_FALSE(IsExpired(g, At("2026-02-28T23:59:59Z")));
    EXPECT_TRUE(IsExpired(g, At("2026-03-01T00:00:00Z")));
    EXPECT_FALSE(IsExpired(Grant(2, 0, 1, std::nullopt), Instant::max()));
}

}  // namespace
}  // namespace joule
