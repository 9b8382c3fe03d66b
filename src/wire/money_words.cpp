#include "wire/money_words.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace joule::wire {

namespace {

constexpr std::array<std::string_view, 10> kDigits = {"零", "壹", "贰", "叁", "肆",
                                                      "伍", "陆", "柒", "捌", "玖"};
constexpr std::array<std::string_view, 4> kPlaces = {"", "拾", "佰", "仟"};    // in a group
constexpr std::array<std::string_view, 4> kGroups = {"", "万", "亿", "万亿"};  // of 4 digits

}  // namespace

std::string MoneyInChineseCapitals(Money amount) {
    std::string out;
    // Through uint64_t: the magnitude of INT64_MIN does not fit an int64_t.
    uint64_t fen = static_cast<uint64_t>(amount.fen);
    if (amount.fen < 0) {
        out = "负";
        fen = ~fen + 1;
    }
    const uint64_t yuan = fen / 100;
    const auto jiao = static_cast<std::size_t>(fen / 10 % 10);
    const auto cents = static_cast<std::size_t>(fen % 10);
    if (yuan > 0) {
        // Groups of four digits from the highest; a zero between written digits (inside a group
        // or across an empty group) is said once.
        std::array<uint64_t, 4> groups{};
        uint64_t rest = yuan;
        std::size_t count = 0;
        while (rest > 0 && count < groups.size()) {
            groups[count++] = rest % 10'000;
            rest /= 10'000;
        }
        bool written = false;
        bool zero_pending = false;
        for (std::size_t g = count; g-- > 0;) {
            const uint64_t group = groups[g];
            if (group == 0) {
                zero_pending = written;
                continue;
            }
            for (std::size_t place = 4; place-- > 0;) {
                uint64_t divisor = 1;
                for (std::size_t i = 0; i < place; ++i) {
                    divisor *= 10;
                }
                const auto digit = static_cast<std::size_t>(group / divisor % 10);
                if (digit == 0) {
                    zero_pending = zero_pending || written;
                    continue;
                }
                if (zero_pending) {
                    out += kDigits[0];
                    zero_pending = false;
                }
                out += kDigits[digit];
                out += kPlaces[place];
                written = true;
            }
            out += kGroups[g];
            // Zeros at the low end of a group are not said: 壹拾万伍仟 (105,000).
            zero_pending = false;
        }
        out += "元";
    }
    if (jiao == 0 && cents == 0) {
        out += yuan > 0 ? "整" : "零元整";
        return out;
    }
    if (jiao > 0) {
        out += kDigits[jiao];
        out += "角";
    } else if (yuan > 0) {
        out += kDigits[0];  // 壹元零伍分
    }
    if (cents > 0) {
        out += kDigits[cents];
        out += "分";
    } else {
        out += "整";
    }
    return out;
}

}  // namespace joule::wire
