// Operating errors as values: Result<T> = std::expected<T, Error>. The code set is abseil's
// canonical one; `field` names the input field at fault so the edge can tell the caller exactly
// what to fix (a CSV column, a JSON path, an HTTP body field).
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace joule {

// stored and on the wire (mapped to HTTP later): never renumber.
enum class ErrorCode : int {
    kInvalidArgument = 3,
    kDeadlineExceeded = 4,
    kNotFound = 5,
    kAlreadyExists = 6,
    kPermissionDenied = 7,
    kResourceExhausted = 8,
    kFailedPrecondition = 9,
    kAborted = 10,
    kOutOfRange = 11,
    kInternal = 13,
    kUnavailable = 14,
    kDataLoss = 15,
    kUnauthenticated = 16,
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
    ErrorCode code = ErrorCode::kInternal;
    std::string message;
    std::string field;  // empty when no single input field is at fault

    // "invalid_argument: amount: must be positive"
    [[nodiscard]] std::string ToString() const;

    // Prefixes the field path, so nested parsers report "accounts[3].tariff".
    [[nodiscard]] Error WithFieldPrefix(std::string_view prefix) const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> MakeError(ErrorCode code, std::string message,
                                        std::string field = {}) {
    return std::unexpected<Error>(Error{code, std::move(message), std::move(field)});
}
inline std::unexpected<Error> InvalidArgument(std::string field, std::string message) {
    return MakeError(ErrorCode::kInvalidArgument, std::move(message), std::move(field));
}
inline std::unexpected<Error> NotFound(std::string message, std::string field = {}) {
    return MakeError(ErrorCode::kNotFound, std::move(message), std::move(field));
}
inline std::unexpected<Error> FailedPrecondition(std::string message, std::string field = {}) {
    return MakeError(ErrorCode::kFailedPrecondition, std::move(message), std::move(field));
}

}  // namespace joule

#define JOULE_CONCAT_INNER(a, b) a##b
#define JOULE_CONCAT(a, b) JOULE_CONCAT_INNER(a, b)

// JOULE_TRY(expr): returns the error of a Status/Result expression from the enclosing function.
#define JOULE_TRY(expr)                                                  \
    do {                                                                 \
        auto&& joule_try_result = (expr);                                \
        if (!joule_try_result.has_value()) {                             \
            return std::unexpected(std::move(joule_try_result).error()); \
        }                                                                \
    } while (false)

// JOULE_ASSIGN_OR_RETURN(lhs, expr): lhs = *expr, or return its error.
#define JOULE_ASSIGN_OR_RETURN(lhs, expr) \
    JOULE_ASSIGN_OR_RETURN_IMPL(JOULE_CONCAT(joule_aor_, __LINE__), lhs, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): lhs may be a declaration, which cannot be parenthesized.
#define JOULE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)     \
    auto tmp = (expr);                                  \
    if (!tmp.has_value()) {                             \
        return std::unexpected(std::move(tmp).error()); \
    }                                                   \
    lhs = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
