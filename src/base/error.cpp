#include "base/error.hpp"

namespace joule {

std::string_view ErrorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::kInvalidArgument:
            return "invalid_argument";
        case ErrorCode::kDeadlineExceeded:
            return "deadline_exceeded";
        case ErrorCode::kNotFound:
            return "not_found";
        case ErrorCode::kAlreadyExists:
            return "already_exists";
        case ErrorCode::kPermissionDenied:
            return "permission_denied";
        case ErrorCode::kResourceExhausted:
            return "resource_exhausted";
        case ErrorCode::kFailedPrecondition:
            return "failed_precondition";
        case ErrorCode::kAborted:
            return "aborted";
        case ErrorCode::kOutOfRange:
            return "out_of_range";
        case ErrorCode::kInternal:
            return "internal";
        case ErrorCode::kUnavailable:
            return "unavailable";
        case ErrorCode::kDataLoss:
            return "data_loss";
        case ErrorCode::kUnauthenticated:
            return "unauthenticated";
    }
    return "unknown";
}

std::string Error::ToString() const {
    std::string out(ErrorCodeName(code));
    out += ": ";
    if (!field.empty()) {
        out += field;
        out += ": ";
    }
    out += message;
    return out;
}

Error Error::WithFieldPrefix(std::string_view prefix) const {
    Error copy = *this;
    if (copy.field.empty()) {
        copy.field = std::string(prefix);
    } else if (copy.field.front() == '[') {
        copy.field = std::string(prefix) + copy.field;
    } else {
        copy.field = std::string(prefix) + "." + copy.field;
    }
    return copy;
}

}  // namespace joule
