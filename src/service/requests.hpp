// Plain request and result types of the use cases. Adapters (CLI, HTTP later) fill them from
// their own formats; the services validate them and name the field at fault.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/forecast.hpp"
#include "core/ports.hpp"

namespace joule {

inline constexpr std::size_t kMaxBatchReadings = 100'000;
inline constexpr std::size_t kMaxMetersPerAccount = 64;

// Who asks for a change, and from where: every change is logged with it [ADM-2].
struct Actor {
    Actor() = default;
    Actor(std::string name_, std::string remote_ = "",  // NOLINT(google-explicit-constructor)
          std::string request_id_ = "")
        : name(std::move(name_)), remote(std::move(remote_)), request_id(std::move(request_id_)) {}

    std::string name = "system";
    std::string remote;      // the caller's address, "cli", or empty for the platform itself
    std::string request_id;  // the API request that made the change
};

// The operation-log row of a change `actor` made in `project` (invalid: of no one project).
inline OperationRecord OperationBy(const Actor& actor, Instant at, ProjectId project,
                                   std::string action, std::string target, std::string detail) {
    return OperationRecord{
        at,      actor.name,   std::move(action), std::move(target), std::move(detail),
        project, actor.remote, actor.request_id};
}

struct MeterOpening {
    std::string meter_code;
    Quantity opening_total;  // register at opening (kWh or m^3 in thousandths)
    std::optional<PerPeriod<Quantity>> opening_per_rate;
};

struct OpenAccountRequest {
    std::string project_code;
    std::string number;
    std::string tenant_name;
    std::string phone;
    std::string tariff_code;
    ControlScheme scheme;
    int32_t debt_share_basis_points = 0;
    std::vector<MeterOpening> meters;
    Money first_top_up;            // 0 = none
    std::string channel = "cash";  // of the first top-up
    Instant opened_at;
    // Meter billing [ACCT-1]: exactly one meter whose model is in_meter_prepaid, and the purchase
    // count the meter shows now (its next purchase carries this + 1).
    BillingMode billing_mode = BillingMode::kPlatform;
    int64_t purchase_count = 0;
};

struct TopUpRequest {
    std::string project_code;
    std::string account_number;
    Money amount;
    std::string channel = "cash";  // cash, pos, transfer, wechat, alipay ...
    std::string idempotency_key;
    std::string ref;  // receipt or order number
};

// stored: never renumber.
enum class TopUpOutcome : uint8_t { kCredited = 0, kAlreadyCredited = 1 };

struct TopUpResult {
    TopUpOutcome outcome = TopUpOutcome::kCredited;
    Money credited;  // to the balance, after debt recovery
    Money debt_recovered;
    Money balance_after;
    PrepaidState state = PrepaidState::kNormal;
    // Meter billing: the purchase queued to the meter (command id, the count it carries, the
    // amount sent); 0 for platform billing or when nothing was left to send.
    int64_t purchase_command = 0;
    int64_t purchase_count = 0;
    Money purchase_amount;
};

struct RefundRequest {
    std::string project_code;
    std::string account_number;
    Money amount;
    std::string channel = "cash";
    std::string idempotency_key;
    std::string reason;
};

struct SubsidyRequest {
    std::string project_code;
    std::string account_number;
    Money amount;
    int32_t priority = 0;
    std::optional<Instant> expires_at;
    std::string idempotency_key;
    std::string reason;
};

struct DebtRequest {
    std::string project_code;
    std::string account_number;
    Money amount;  // arrears to record as debt (> 0)
    std::string idempotency_key;
    std::string reason;
};

struct ControlRequest {
    std::string project_code;
    std::string account_number;
    ControlEvent event = ControlEvent::kBalanceChanged;
    std::string reason;  // required for keep power and manual trips
    // Optimistic concurrency: refused (kAborted, field "expected_version") when the account's
    // version is no longer this one.
    std::optional<int64_t> expected_version;
};

// A change of an open account's terms (PATCH .../accounts/{account}): each present field replaces
// the account's. A new alarm scheme takes effect at once (alarms raised or cleared, the relay
// tripped or closed as the balance now stands); a new tariff prices readings from the next one.
struct ChangeTermsRequest {
    std::string project_code;
    std::string account_number;
    std::optional<std::string> tenant_name;
    std::optional<std::string> phone;
    std::optional<std::string> tariff_code;
    std::optional<ControlScheme> scheme;
    std::optional<int32_t> debt_share_basis_points;
    std::optional<int64_t> expected_version;  // as in ControlRequest
};

struct ReadingItem {
    std::string project_code;
    std::string meter_code;
    ReadingInput reading;
};

struct ApplyReadingsResult {
    std::size_t accepted = 0;
    std::size_t duplicates = 0;
    std::size_t quarantined = 0;
    Money deducted;
    std::size_t transfers = 0;
    std::size_t commands = 0;
    std::size_t alarms_raised = 0;
};

struct ReplaceMeterRequest {
    std::string project_code;
    std::string account_number;
    std::string old_meter_code;
    Quantity old_final_total;  // the old meter's last register, billed first
    std::string new_meter_code;
    Quantity new_opening_total;
    Instant at;
    // Optimistic concurrency: refused (kAborted, field "expected_version") when the account's
    // version is no longer this one.
    std::optional<int64_t> expected_version;
};

struct TransferTenantRequest {
    std::string project_code;
    std::string account_number;  // the account passing to a new tenant
    std::string new_number;
    std::string new_tenant_name;
    std::string new_phone;
    std::vector<MeterOpening> transfer_readings;  // the registers at transfer (settled, reopened)
    bool carry_balance = true;                    // move the remaining paid balance, else refund it
    std::string channel = "cash";
    Instant at;
    // Optimistic concurrency: refused (kAborted, field "expected_version") when the account's
    // version is no longer this one.
    std::optional<int64_t> expected_version;
};

struct CloseAccountRequest {
    std::string project_code;
    std::string account_number;
    std::vector<MeterOpening> final_readings;
    std::string channel = "cash";  // where the remaining balance is refunded
    Instant at;
    // Optimistic concurrency: refused (kAborted, field "expected_version") when the account's
    // version is no longer this one.
    std::optional<int64_t> expected_version;
};

struct CloseAccountResult {
    Money refunded;
    Money grants_forfeited;
};

struct AccountView {
    AccountRecord account;
    Money paid;
    Money granted;
    Money debt;
    Money available;      // platform billing: paid + granted; meter billing: the meter's amount
    Money meter_pending;  // meter billing: sent to the meter, not yet confirmed
    Money meter_held;     // meter billing: purchases the meter confirmed
    std::vector<LedgerAccount> ledger_accounts;
    std::vector<MeterBinding> bindings;
    std::vector<std::string> meter_codes;  // the code of each binding's meter, in order
    std::string tariff_code;
    // Usage [ALM-4]: today's totals, one per meter (the project's local day so far), what they
    // charged, and the forecast from the whole days before today (at most kForecastDays, fewer for
    // a younger account; none for one opened today or billed by its meter).
    std::vector<MeterDayTotal> today;
    Money charged_today;
    int64_t forecast_days = 0;
    std::optional<UsageForecast> forecast;
};

}  // namespace joule
