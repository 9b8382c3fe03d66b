#include "base/decimal.hpp"

#include "base/checked.hpp"

namespace joule {

Result<int64_t> ParseScaled(std::string_view text, int scale, std::string_view field) {
    auto fail = [&](std::string why) {
        return InvalidArgument(std::string(field), std::move(why));
    };
    if (text.empty()) {
        return fail("must not be empty");
    }
    bool negative = false;
    std::size_t pos = 0;
    if (text[0] == '-' || text[0] == '+') {
        negative = text[0] == '-';
        pos = 1;
    }
    int64_t value = 0;
    int fraction_digits = -1;  // -1 until the decimal point is seen
    bool any_digit = false;
    for (; pos < text.size(); ++pos) {
        const char c = text[pos];
        if (c == '.') {
            if (fraction_digits >= 0) {
                return fail("'" + std::string(text) + "' has more than one decimal point");
            }
            fraction_digits = 0;
            continue;
        }
        if (c < '0' || c > '9') {
            return fail("'" + std::string(text) + "' is not a decimal number");
        }
        any_digit = true;
        if (fraction_digits >= 0) {
            if (++fraction_digits > scale) {
                return fail("'" + std::string(text) + "' has more than " + std::to_string(scale) +
                            " decimal places");
            }
        }
        auto times_ten = CheckedMul(value, 10);
        auto next = times_ten ? CheckedAdd(*times_ten, c - '0') : std::nullopt;
        if (!next) {
            return fail("'" + std::string(text) + "' is too large");
        }
        value = *next;
    }
    if (!any_digit) {
        return fail("'" + std::string(text) + "' is not a decimal number");
    }
    for (int i = fraction_digits < 0 ? 0 : fraction_digits; i < scale; ++i) {
        auto next = CheckedMul(value, 10);
        if (!next) {
            return fail("'" + std::string(text) + "' is too large");
        }
        value = *next;
    }
    return negative ? -value : value;
}

std::string FormatScaled(int64_t value, int scale) {
    // Work in unsigned so INT64_MIN formats correctly.
    const bool negative = value < 0;
    uint64_t magnitude =
        negative ? static_cast<uint64_t>(-(value + 1)) + 1U : static_cast<uint64_t>(value);
    std::string digits = std::to_string(magnitude);
    const auto width = static_cast<std::size_t>(scale);
    if (digits.size() <= width) {
        digits.insert(0, width + 1 - digits.size(), '0');
    }
    std::string out = negative ? "-" : "";
    out += digits.substr(0, digits.size() - width);
    if (scale > 0) {
        out += '.';
        out += digits.substr(digits.size() - width);
    }
    return out;
}

}  // namespace joule
