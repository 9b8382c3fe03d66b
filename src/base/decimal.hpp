// Exact decimal text <-> scaled integers ("12.34" at scale 2 <-> 1234). No floating point:
// money, prices and quantities travel as decimal strings in JSON, CSV and the CLI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace joule {

// Parses an optionally signed decimal with at most `scale` fraction digits into an integer of
// that scale. Rejects empty input, stray characters, exponents, too many fraction digits and
// values that do not fit in int64. Errors are kInvalidArgument naming `field`.
[[nodiscard]] Result<int64_t> ParseScaled(std::string_view text, int scale, std::string_view field);

// Formats a scaled integer with exactly `scale` fraction digits: (1234, 2) -> "12.34".
[[nodiscard]] std::string FormatScaled(int64_t value, int scale);

}  // namespace joule
