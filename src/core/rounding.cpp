#include "core/rounding.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "base/assert.hpp"
#include "base/checked.hpp"

namespace joule {

namespace {
// floor division for a positive divisor
int64_t FloorDiv(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && (a < 0)) {
        --q;
    }
    return q;
}
}  // namespace

RoundedCharge RoundFineToFen(FineMoney carry, FineMoney charge) {
    const int64_t total = carry.value + charge.value;
    // half up: floor(total / unit + 1/2)
    const int64_t fen = FloorDiv(total + kFinePerFen / 2, kFinePerFen);
    return {Money{fen}, FineMoney{total - fen * kFinePerFen}};
}

namespace {
// numerator / denominator (> 0) to whole fen, half away from zero: the rule of every share and
// average of money.
Money DivideHalfAwayFromZero(Int128 numerator, Int128 denominator) {
    const Int128 magnitude = numerator >= 0 ? numerator : -numerator;
    const Int128 rounded = (2 * magnitude + denominator) / (2 * denominator);
    return Money{static_cast<int64_t>(numerator >= 0 ? rounded : -rounded)};
}
}  // namespace

Money ShareOf(Money amount, int32_t basis_points) {
    return DivideHalfAwayFromZero(static_cast<Int128>(amount.fen) * basis_points, kBasisPointsOne);
}

Money AverageOf(Money amount, int64_t count) {
    JOULE_ASSERT(count > 0, "average over no items");
    return DivideHalfAwayFromZero(amount.fen, count);
}

void AllocateByWeights(int64_t total, std::span<const int64_t> weights, std::span<int64_t> out) {
    JOULE_ASSERT(weights.size() == out.size(), "allocation spans differ in size");
    JOULE_ASSERT(total >= 0, "allocation of a negative total");
    Int128 weight_sum = 0;
    for (int64_t w : weights) {
        JOULE_ASSERT(w >= 0, "negative allocation weight");
        weight_sum += w;
    }
    JOULE_ASSERT(weight_sum > 0, "allocation weights sum to zero");
    if (weights.size() == 1) {
        out[0] = total;
        return;
    }
    int64_t assigned = 0;
    // Remainders are < weight_sum; keep them to hand out leftover units.
    constexpr std::size_t kInline = 64;
    Int128 remainder_inline[kInline];
    Int128* remainders = remainder_inline;
    std::unique_ptr<Int128[]> heap;
    if (weights.size() > kInline) {
        heap = std::make_unique<Int128[]>(weights.size());
        remainders = heap.get();
    }
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const Int128 numerator = static_cast<Int128>(total) * weights[i];
        out[i] = static_cast<int64_t>(numerator / weight_sum);
        remainders[i] = numerator % weight_sum;
        assigned += out[i];
    }
    const auto leftover = static_cast<std::size_t>(total - assigned);  // < weights.size()
    if (leftover == 0) {
        return;
    }
    // The leftover units go to the largest remainders, earlier piece first on ties. A short list
    // (the usual case: a few TOU pieces) is scanned; a long one (an interval spanning months of
    // daily pieces) is sorted once, so the cost stays O(n log n).
    if (weights.size() <= 16) {
        for (std::size_t k = 0; k < leftover; ++k) {
            std::size_t best = 0;
            for (std::size_t i = 1; i < weights.size(); ++i) {
                if (remainders[i] > remainders[best]) {
                    best = i;
                }
            }
            out[best] += 1;
            remainders[best] = -1;
        }
        return;
    }
    std::vector<std::size_t> order(weights.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(leftover),
                      order.end(), [&](std::size_t a, std::size_t b) {
                          return remainders[a] != remainders[b] ? remainders[a] > remainders[b]
                                                                : a < b;
                      });
    for (std::size_t k = 0; k < leftover; ++k) {
        out[order[k]] += 1;
    }
}

}  // namespace joule
