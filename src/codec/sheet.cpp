#include "codec/sheet.hpp"

#include <algorithm>

namespace joule::codec {

std::string ColumnName(std::size_t index) {
    std::string name;
    std::size_t n = index + 1;  // bijective base 26: A..Z, AA..ZZ, AAA..
    while (n > 0) {
        const std::size_t digit = (n - 1) % 26;
        name.push_back(static_cast<char>('A' + digit));
        n = (n - 1) / 26;
    }
    std::reverse(name.begin(), name.end());
    return name;
}

std::string CellName(std::size_t column, int64_t row) {
    return ColumnName(column) + std::to_string(row);
}

bool IsCellText(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b == 0) {
            return false;
        }
        if (b < 0x80) {
            ++i;
            continue;
        }
        std::size_t length = 0;
        char32_t code = 0;
        char32_t min = 0;
        if ((b & 0xE0U) == 0xC0U) {
            length = 2;
            code = b & 0x1FU;
            min = 0x80;
        } else if ((b & 0xF0U) == 0xE0U) {
            length = 3;
            code = b & 0x0FU;
            min = 0x800;
        } else if ((b & 0xF8U) == 0xF0U) {
            length = 4;
            code = b & 0x07U;
            min = 0x10000;
        } else {
            return false;  // a continuation byte first, or 0xF8..0xFF
        }
        if (text.size() - i < length) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            if ((c & 0xC0U) != 0x80U) {
                return false;
            }
            code = (code << 6U) | (c & 0x3FU);
        }
        if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
            return false;
        }
        i += length;
    }
    return true;
}

}  // namespace joule::codec
