#include "wire/json_text.hpp"

#include <charconv>

namespace joule::wire {

namespace {

// The length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one.
std::size_t Utf8Sequence(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (s.size() < length || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) {
            return 0;
        }
    }
    return length;
}

}  // namespace

JsonText& JsonText::Open(char bracket) {
    BeforeValue();
    out_.push_back(bracket);
    need_comma_ = false;
    return *this;
}

JsonText& JsonText::Close(char bracket) {
    out_.push_back(bracket);
    need_comma_ = true;
    return *this;
}

void JsonText::BeforeValue() {
    if (need_comma_) {
        out_.push_back(',');
    }
}

JsonText& JsonText::Key(std::string_view key) {
    BeforeValue();
    Quoted(key);
    out_.push_back(':');
    need_comma_ = false;
    return *this;
}

JsonText& JsonText::String(std::string_view value) {
    BeforeValue();
    Quoted(value);
    need_comma_ = true;
    return *this;
}

JsonText& JsonText::Int(int64_t value) {
    BeforeValue();
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    out_.append(digits, end);
    need_comma_ = true;
    return *this;
}

JsonText& JsonText::Bool(bool value) {
    BeforeValue();
    out_.append(value ? "true" : "false");
    need_comma_ = true;
    return *this;
}

JsonText& JsonText::Raw(std::string_view json) {
    BeforeValue();
    out_.append(json);
    need_comma_ = true;
    return *this;
}

void JsonText::Quoted(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_.push_back('"');
    std::size_t i = 0;
    while (i < text.size()) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x80) {
            const std::size_t length = Utf8Sequence(text.substr(i));
            if (length == 0) {
                out_.append("\xEF\xBF\xBD");  // U+FFFD for the byte that starts no sequence
                ++i;
            } else {
                out_.append(text.substr(i, length));
                i += length;
            }
            continue;
        }
        switch (c) {
            case '"':
                out_.append("\\\"");
                break;
            case '\\':
                out_.append("\\\\");
                break;
            case '\b':
                out_.append("\\b");
                break;
            case '\f':
                out_.append("\\f");
                break;
            case '\n':
                out_.append("\\n");
                break;
            case '\r':
                out_.append("\\r");
                break;
            case '\t':
                out_.append("\\t");
                break;
            default:
                if (c < 0x20) {
                    out_.append("\\u00");
                    out_.push_back(kHex[c >> 4]);
                    out_.push_back(kHex[c & 0xF]);
                } else {
                    out_.push_back(static_cast<char>(c));
                }
        }
        ++i;
    }
    out_.push_back('"');
}

}  // namespace joule::wire
