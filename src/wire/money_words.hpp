// An amount written out in Chinese capital numerals (大写金额), as receipts and bills carry it
// beside the figures so that nobody can alter them: 1,005.30 yuan is 壹仟零伍元叁角整.
#pragma once

#include <string>

#include "core/units.hpp"

namespace joule::wire {

// Non-negative amounts up to 9,999,999,999,999.99 yuan; the written form of what the figures
// say, with 零 for every run of zeros between digits, 整 when there are no fen, and 负 in front
// of a negative amount.
[[nodiscard]] std::string MoneyInChineseCapitals(Money amount);

}  // namespace joule::wire
