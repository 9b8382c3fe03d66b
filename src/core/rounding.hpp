// THE rounding rule of Joule, in one place.
//
// Money rule: charges accumulate exactly in FineMoney per meter; the fen deducted so far is always
// RoundHalfUp(cumulative exact charge) (四舍五入 on the running total). Each deduction is the
// difference between two such rounded totals, and the sub-fen remainder is carried, so rounding
// never accumulates: over a meter's whole life, deducted fen == round-half-up(sum of exact
// charges), and any sub-period differs from its own rounded charge by less than one fen.
//
// Shares of money (debt recovery share of a top-up) use the same half-up rule.
//
// Quantity allocation rule: when an interval's energy must be split between pieces of time (TOU
// periods, a tariff version change, a cycle boundary), it is split in proportion to duration by
// the largest-remainder method, earlier piece first on ties, so the parts sum exactly to the whole.
#pragma once

#include <cstdint>
#include <span>

#include "core/units.hpp"

namespace joule {

struct RoundedCharge {
    Money deduct;     // fen to deduct now
    FineMoney carry;  // the new remainder, in [-kFinePerFen/2, kFinePerFen/2)
};

// Rounds `carry + charge` half up to whole fen. `carry` is the remainder left by the previous call.
[[nodiscard]] RoundedCharge RoundFineToFen(FineMoney carry, FineMoney charge);

// amount x basis_points / 10000, rounded half up (away from zero on .5) to whole fen.
[[nodiscard]] Money ShareOf(Money amount, int32_t basis_points);

// amount / count (count > 0), rounded half up (away from zero on .5) to whole fen: an average.
[[nodiscard]] Money AverageOf(Money amount, int64_t count);

// Splits `total` (>= 0) into parts proportional to `weights` (each >= 0, sum > 0) by the
// largest-remainder method; writes the parts to `out` (same size as weights). Sum(out) == total.
void AllocateByWeights(int64_t total, std::span<const int64_t> weights, std::span<int64_t> out);

}  // namespace joule
