#include "core/rounding.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/checked.hpp"

#include <cstdint>
#include <vector>

namespace joule {
namespace {

// Fine amounts written in fen: 1 fen = kFinePerFen = 1e9 fine.
constexpr FineMoney Fine(int64_t v) { return FineMoney{v}; }

TEST(RoundFineToFen, RoundsHalfUpAndCarriesTheRemainder) {
    // 1.5 fen -> 2 fen, carry 1.5 - 2 = -0.5 fen.
    RoundedCharge r = RoundFineToFen(Fine(0), Fine(1'500'000'000));
    EXPECT_EQ(r.deduct, Money{2});
    EXPECT_EQ(r.carry, Fine(-500'000'000));

    // 1.499999999 fen -> 1 fen, carry 0.499999999 fen.
    r = RoundFineToFen(Fine(0), Fine(1'499'999'999));
    EXPECT_EQ(r.deduct, Money{1});
    EXPECT_EQ(r.carry, Fine(499'999'999));

    // 0 -> 0, nothing carried.
    r = RoundFineToFen(Fine(0), Fine(0));
    EXPECT_EQ(r.deduct, Money{0});
    EXPECT_EQ(r.carry, Fine(0));
}

TEST(RoundFineToFen, ExactlyHalfAFenRoundsUp) {
    // 0.5 fen -> 1 fen, carry -0.5 fen.
    RoundedCharge r = RoundFineToFen(Fine(0), Fine(kFinePerFen / 2));
    EXPECT_EQ(r.deduct, Money{1});
    EXPECT_EQ(r.carry, Fine(-kFinePerFen / 2));
    // 0.5 fen - 1 fine -> 0.
    r = RoundFineToFen(Fine(0), Fine(kFinePerFen / 2 - 1));
    EXPECT_EQ(r.deduct, Money{0});
    EXPECT_EQ(r.carry, Fine(kFinePerFen / 2 - 1));
}

TEST(RoundFineToFen, NegativeCarryIsAbsorbedByTheNextCharge) {
    // carry -0.5 fen + 0.4 fen = -0.1 fen -> rounds (half up) to 0, carry -0.1 fen.
    RoundedCharge r = RoundFineToFen(Fine(-500'000'000), Fine(400'000'000));
    EXPECT_EQ(r.deduct, Money{0});
    EXPECT_EQ(r.carry, Fine(-100'000'000));
    // carry -0.5 fen + 0 = exactly -0.5 fen -> half up gives 0, carry stays -0.5 fen.
    r = RoundFineToFen(Fine(-500'000'000), Fine(0));
    EXPECT_EQ(r.deduct, Money{0});
    EXPECT_EQ(r.carry, Fine(-500'000'000));
    // carry -0.4 fen + 1.0 fen = 0.6 fen -> 1 fen, carry -0.4 fen.
    r = RoundFineToFen(Fine(-400'000'000), Fine(1'000'000'000));
    EXPECT_EQ(r.deduct, Money{1});
    EXPECT_EQ(r.carry, Fine(-400'000'000));
    // carry -0.5 fen + 1.0 fen = 0.5 fen -> 1 fen, carry -0.5 fen.
    r = RoundFineToFen(Fine(-500'000'000), Fine(1'000'000'000));
    EXPECT_EQ(r.deduct, Money{1});
    EXPECT_EQ(r.carry, Fine(-500'000'000));
}

TEST(RoundFineToFen, NegativeTotalRoundsTowardPositiveOnHalf) {
    // -1.6 fen -> floor(-1.6 + 0.5) = -2 fen, carry -1.6 + 2 = 0.4 fen.
    RoundedCharge r = RoundFineToFen(Fine(0), Fine(-1'600'000'000));
    EXPECT_EQ(r.deduct, Money{-2});
    EXPECT_EQ(r.carry, Fine(400'000'000));
    // -1.5 fen -> floor(-1.0) = -1 fen, carry -0.5 fen (half up, towards +infinity).
    r = RoundFineToFen(Fine(0), Fine(-1'500'000'000));
    EXPECT_EQ(r.deduct, Money{-1});
    EXPECT_EQ(r.carry, Fine(-500'000'000));
}

TEST(RoundFineToFen, ManySmallChargesNeverDrift) {
    // 1000 charges of 0.333333333 fen: exact sum 333.333333 fen -> 333 fen deducted in total.
    FineMoney carry;
    int64_t deducted = 0;
    for (int i = 0; i < 1000; ++i) {
        const RoundedCharge r = RoundFineToFen(carry, Fine(333'333'333));
        EXPECT_GE(r.deduct.fen, 0);
        EXPECT_GE(r.carry.value, -kFinePerFen / 2);
        EXPECT_LT(r.carry.value, kFinePerFen / 2);
        deducted += r.deduct.fen;
        carry = r.carry;
    }
    EXPECT_EQ(deducted, 333);
    // 333 fen x 1e9 + carry == 333'333'333'000 fine exactly.
    EXPECT_EQ(deducted * kFinePerFen + carry.value, 333'333'333'000);
}

TEST(RoundFineToFen, ArbitraryChargesSumExactlyToRoundedTotal) {
    // A deterministic LCG of charges between 0 and ~2 fen, some exactly half a fen.
    uint64_t state = 12345;
    FineMoney carry;
    int64_t deducted = 0;
    int64_t charged = 0;
    for (int i = 0; i < 10'000; ++i) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        int64_t charge = static_cast<int64_t>(state >> 33) % (2 * kFinePerFen);
        if (i % 7 == 0) {
            charge = kFinePerFen / 2;
        }
        const RoundedCharge r = RoundFineToFen(carry, Fine(charge));
        deducted += r.deduct.fen;
        charged += charge;
        carry = r.carry;
        // The invariant at every step: deductions + carry == charges, exactly.
        ASSERT_EQ(deducted * kFinePerFen + carry.value, charged);
    }
    // And the cumulative deduction is the one rounding of the cumulative charge.
    EXPECT_EQ(Money{deducted}, RoundFineToFen(FineMoney{}, Fine(charged)).deduct);
}

TEST(ShareOf, RoundsHalfAwayFromZero) {
    // 1001 x 50 % = 500.5 -> 501; and -500.5 -> -501.
    EXPECT_EQ(ShareOf(Money{1001}, 5000), Money{501});
    EXPECT_EQ(ShareOf(Money{-1001}, 5000), Money{-501});
    // 333 x 33.33 % = 110.9889 -> 111.
    EXPECT_EQ(ShareOf(Money{333}, 3333), Money{111});
    // 1 x 49.99 % = 0.4999 -> 0; 1 x 50 % = 0.5 -> 1.
    EXPECT_EQ(ShareOf(Money{1}, 4999), Money{0});
    EXPECT_EQ(ShareOf(Money{1}, 5000), Money{1});
    // Whole and nothing.
    EXPECT_EQ(ShareOf(Money{12345}, 10000), Money{12345});
    EXPECT_EQ(ShareOf(Money{12345}, 0), Money{0});
}

TEST(AllocateByWeights, EqualWeightsGiveLeftoverToEarlierParts) {
    // 7 over 4 equal weights: 1.75 each -> floors 1,1,1,1, leftover 3 to the first three.
    const std::vector<int64_t> weights{1, 1, 1, 1};
    std::vector<int64_t> out(4);
    AllocateByWeights(7, weights, out);
    EXPECT_EQ(out, (std::vector<int64_t>{2, 2, 2, 1}));
}

TEST(AllocateByWeights, LargestRemainderWinsOverPosition) {
    // 10 over {2,5,7} (sum 14): 20/14 = 1 r6, 50/14 = 3 r8, 70/14 = 5 r0; leftover 1 goes to the
    // largest remainder (the middle part), not the first.
    const std::vector<int64_t> weights{2, 5, 7};
    std::vector<int64_t> out(3);
    AllocateByWeights(10, weights, out);
    EXPECT_EQ(out, (std::vector<int64_t>{1, 4, 5}));
}

TEST(AllocateByWeights, TiedRemaindersGoToTheEarlierPart) {
    // 5 over {1,3,6} (sum 10): 0.5, 1.5, 3.0 -> floors 0,1,3, leftover 1; remainders 5,5,0 tie
    // -> the first part wins.
    const std::vector<int64_t> weights{1, 3, 6};
    std::vector<int64_t> out(3);
    AllocateByWeights(5, weights, out);
    EXPECT_EQ(out, (std::vector<int64_t>{1, 1, 3}));
}

TEST(AllocateByWeights, ZeroWeightGetsNothing) {
    // 5 over {0,1,1}: 0, 2 r1, 2 r1 -> leftover 1 to the first tied part with weight.
    const std::vector<int64_t> weights{0, 1, 1};
    std::vector<int64_t> out(3);
    AllocateByWeights(5, weights, out);
    EXPECT_EQ(out, (std::vector<int64_t>{0, 3, 2}));
}

TEST(AllocateByWeights, SinglePartTakesEverything) {
    const std::vector<int64_t> weights{42};
    std::vector<int64_t> out(1);
    AllocateByWeights(99, weights, out);
    EXPECT_EQ(out[0], 99);
}

TEST(AllocateByWeights, ManyPartsSumExactly) {
    // 1050 over 100 equal weights: 10 r50 each, leftover 50 to the first 50 parts.
    const std::vector<int64_t> weights(100, 1);
    std::vector<int64_t> out(100);
    AllocateByWeights(1050, weights, out);
    int64_t sum = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        EXPECT_EQ(out[i], i < 50 ? 11 : 10) << i;
        sum += out[i];
    }
    EXPECT_EQ(sum, 1050);
}

TEST(AllocateByWeights, UnevenDurationsSumExactly) {
    // Seconds of pieces of an interval; whatever the split, the parts sum to the whole.
    const std::vector<int64_t> weights{3599, 1, 7200, 3600, 13};
    std::vector<int64_t> out(5);
    for (int64_t total : {0L, 1L, 2L, 9999L, 123457L}) {
        AllocateByWeights(total, weights, out);
        int64_t sum = 0;
        for (int64_t part : out) {
            EXPECT_GE(part, 0);
            sum += part;
        }
        EXPECT_EQ(sum, total);
    }
}

}  // namespace
}  // namespace joule

namespace joule {
namespace {

// The long-list path (sorted) must hand out leftovers exactly as the short-list scan does:
// compare against a reference that scans, over seeded random lists of up to 400 parts.
TEST(AllocateByWeights, LongListsMatchTheScanningReference) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 300; ++round) {
        const std::size_t n = std::uniform_int_distribution<std::size_t>(17, 400)(rng);
        std::vector<int64_t> weights(n);
        for (int64_t& w : weights) {
            w = std::uniform_int_distribution<int64_t>(0, 5)(rng) == 0
                    ? 86400
                    : std::uniform_int_distribution<int64_t>(1, 86400)(rng);
        }
        const int64_t total = std::uniform_int_distribution<int64_t>(0, 10'000'000)(rng);
        std::vector<int64_t> out(n);
        AllocateByWeights(total, weights, out);

        Int128 sum = 0;
        for (int64_t w : weights) {
            sum += w;
        }
        std::vector<int64_t> expected(n);
        std::vector<Int128> rem(n);
        int64_t assigned = 0;
        for (std::size_t i = 0; i < n; ++i) {
            expected[i] = static_cast<int64_t>(static_cast<Int128>(total) * weights[i] / sum);
            rem[i] = static_cast<Int128>(total) * weights[i] % sum;
            assigned += expected[i];
        }
        for (int64_t left = total - assigned; left > 0; --left) {
            std::size_t best = 0;
            for (std::size_t i = 1; i < n; ++i) {
                if (rem[i] > rem[best]) {
                    best = i;
                }
            }
            expected[best] += 1;
            rem[best] = -1;
        }
        ASSERT_EQ(out, expected) << "round " << round;
    }
}

}  // namespace
}  // namespace joule
