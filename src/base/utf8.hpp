// UTF-8 text cut to a size in bytes without splitting a character, for fields the providers bound
// in bytes (a description, a refund's reason) and a JSON encoder that refuses broken UTF-8.
#pragma once

#include <cstddef>
#include <string_view>

namespace joule {

// The longest prefix of `text` of at most `max_bytes` bytes that ends between characters.
[[nodiscard]] constexpr std::string_view Utf8Prefix(std::string_view text, std::size_t max_bytes) {
    std::size_t cut = text.size() < max_bytes ? text.size() : max_bytes;
    while (cut > 0 && cut < text.size() &&
           (static_cast<unsigned char>(text[cut]) & 0xC0U) == 0x80U) {
        --cut;
    }
    return text.substr(0, cut);
}

}  // namespace joule
