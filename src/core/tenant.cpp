#include "core/tenant.hpp"

namespace joule {

std::string_view BindingRoleName(BindingRole role) {
    return role == BindingRole::kHolder ? "holder" : "member";
}

Result<std::string> NormalizeMobile(std::string_view phone, std::string_view field) {
    if (phone.size() > 32) {
        return InvalidArgument(std::string(field), "is too long for a phone number");
    }
    std::string digits;
    for (std::size_t i = 0; i < phone.size(); ++i) {
        const char c = phone[i];
        if (c >= '0' && c <= '9') {
            digits += c;
        } else if (c == '+' && digits.empty() && i == phone.find_first_not_of(' ')) {
            continue;
        } else if (c != ' ' && c != '-' && c != '(' && c != ')') {
            return InvalidArgument(std::string(field), "must be a mobile phone number (11 digits)");
        }
    }
    const bool international = phone.find('+') != std::string_view::npos;
    if (international && !digits.starts_with("86")) {
        return InvalidArgument(std::string(field), "must be a mainland China mobile number (+86)");
    }
    if (digits.size() == 13 && digits.starts_with("86")) {
        digits.erase(0, 2);
    }
    if (digits.size() != 11 || digits[0] != '1') {
        return InvalidArgument(std::string(field),
                               "must be a mobile phone number: 11 digits starting with 1");
    }
    return digits;
}

std::string MaskPhone(std::string_view phone) {
    if (phone.size() < 8) {
        return std::string(phone.size(), '*');
    }
    return std::string(phone.substr(0, 3)) + std::string(phone.size() - 7, '*') +
           std::string(phone.substr(phone.size() - 4));
}

std::string PhoneTail(std::string_view phone) {
    if (phone.size() < 4) {
        return std::string(phone.size(), '*');
    }
    return std::string(phone.size() - 4, '*') + std::string(phone.substr(phone.size() - 4));
}

bool SameSecretText(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    unsigned char differ = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        differ = static_cast<unsigned char>(differ | (a[i] ^ b[i]));
    }
    return differ == 0;
}

Result<std::string> NormalizeCode(std::string_view code, std::string_view field) {
    while (!code.empty() && code.front() == ' ') {
        code.remove_prefix(1);
    }
    while (!code.empty() && code.back() == ' ') {
        code.remove_suffix(1);
    }
    if (code.size() != static_cast<std::size_t>(kCodeDigits) ||
        code.find_first_not_of("0123456789") != std::string_view::npos) {
        return InvalidArgument(std::string(field), "must be the " + std::to_string(kCodeDigits) +
                                                       "-digit code sent by SMS");
    }
    return std::string(code);
}

std::string CodeFromEntropy(uint32_t entropy) {
    std::string code(kCodeDigits, '0');
    uint32_t value = entropy % 1'000'000U;  // 4294 full cycles: a bias below one in a million
    for (int i = kCodeDigits - 1; i >= 0; --i) {
        code[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return code;
}

}  // namespace joule
