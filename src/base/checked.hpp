// Overflow-checked integer arithmetic: overflow is a value (std::nullopt), never UB.
#pragma once

#include <cstdint>
#include <optional>

namespace joule {

// 128-bit integers for exact products (a GNU extension; __extension__ keeps -Wpedantic quiet).
__extension__ typedef __int128 Int128;

[[nodiscard]] inline std::optional<int64_t> CheckedAdd(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_add_overflow(a, b, &out)) {
        return std::nullopt;
    }
    return out;
}
[[nodiscard]] inline std::optional<int64_t> CheckedSub(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_sub_overflow(a, b, &out)) {
        return std::nullopt;
    }
    return out;
}
[[nodiscard]] inline std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
    int64_t out = 0;
    if (__builtin_mul_overflow(a, b, &out)) {
        return std::nullopt;
    }
    return out;
}

}  // namespace joule
