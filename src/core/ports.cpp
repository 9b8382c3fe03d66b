#include "core/ports.hpp"

#include "core/payment_ports.hpp"

namespace joule {

std::string_view AccountStatusName(AccountStatus status) {
    return status == AccountStatus::kOpen ? "open" : "closed";
}

AccountSummary SummaryOf(const AccountRecord& a) {
    return AccountSummary{
        a.number,        a.tenant_name,        a.phone,        a.status,    a.prepaid.state,
        a.prepaid.relay, a.prepaid.keep_power, a.billing_mode, a.opened_at, a.version};
}

std::string_view CommandStateName(CommandState state) {
    switch (state) {
        case CommandState::kQueued:
            return "queued";
        case CommandState::kSent:
            return "sent";
        case CommandState::kAcknowledged:
            return "acknowledged";
        case CommandState::kFailed:
            return "failed";
        case CommandState::kExpired:
            return "expired";
    }
    return "unknown";
}

std::string_view RelayStateName(RelayState state) {
    switch (state) {
        case RelayState::kClosed:
            return "closed";
        case RelayState::kOpen:
            return "open";
        case RelayState::kUnknown:
            break;
    }
    return "unknown";
}

std::string_view ValveStateName(ValveState state) {
    switch (state) {
        case ValveState::kOpen:
            return "open";
        case ValveState::kClosed:
            return "closed";
        case ValveState::kAbnormal:
            return "abnormal";
        case ValveState::kUnknown:
            break;
    }
    return "unknown";
}

std::string_view RefundStateName(RefundState state) {
    switch (state) {
        case RefundState::kRequested:
            return "requested";
        case RefundState::kProcessing:
            return "processing";
        case RefundState::kSucceeded:
            return "succeeded";
        case RefundState::kFailed:
            return "failed";
        case RefundState::kAbnormal:
            return "abnormal";
    }
    return "unknown";
}

std::string_view PaymentOrderStateName(PaymentOrderState state) {
    switch (state) {
        case PaymentOrderState::kCreated:
            return "created";
        case PaymentOrderState::kPaid:
            return "paid";
        case PaymentOrderState::kClosed:
            return "closed";
    }
    return "unknown";
}

}  // namespace joule
