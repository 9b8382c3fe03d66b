// JSON snapshots of a project for people and tests: accounts with balances and states, the
// ledger (every transfer and the per-kind totals), alarms and commands.
#pragma once

#include "core/ports.hpp"
#include "service/billing_service.hpp"
#include "wire/json.hpp"

namespace joule::app {

struct ReportOptions {
    bool transfers = true;
    bool alarms = true;
    bool commands = true;
    int max_transfers = 1'000'000;
};

[[nodiscard]] Result<wire::Json> ProjectReport(Store& store, std::string_view project_code,
                                               const ReportOptions& options);

// One account: balances, state, bindings and its latest ledger entries.
[[nodiscard]] Result<wire::Json> AccountReport(Store& store, BillingService& billing,
                                               std::string_view project_code,
                                               std::string_view number, int ledger_entries);

}  // namespace joule::app
