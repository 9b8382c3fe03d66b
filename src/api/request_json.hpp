// Account requests from JSON, for the HTTP API and the site and scenario files alike: each
// reader fills a service request and names the field path of any error. The formats are in
// docs/api.md and docs/site-file.md.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "service/requests.hpp"
#include "wire/json.hpp"

namespace joule::api {

// {"number", "tenant", "phone"?, "tariff", "scheme"?, "debt_share_percent"?, "meters": [{"meter",
// "reading"}], "top_up"?, "channel"?, "opened_at", "billing_mode"?, "purchase_count"?}
[[nodiscard]] Result<OpenAccountRequest> ParseOpenAccount(const wire::Json& j,
                                                          const std::string& path,
                                                          std::string_view project_code);
// A list of {"meter": CODE, "reading": REGISTER} under `key` (openings, final or transfer
// readings); registers are never negative.
[[nodiscard]] Result<std::vector<MeterOpening>> ParseMeterReadings(wire::ObjectReader& r,
                                                                   std::string_view key);
// The fields of a meter replacement after the account: "old_meter", "old_final", "new_meter",
// "new_opening".
[[nodiscard]] Status ReadReplaceMeter(wire::ObjectReader& r, ReplaceMeterRequest& out);
// Closing: "final_readings", "channel"?.
[[nodiscard]] Status ReadCloseAccount(wire::ObjectReader& r, CloseAccountRequest& out);
// A change of terms (all optional): "tenant", "phone", "tariff", "debt_share_percent", "scheme"
// (the fields given replace those of `current`, the account's scheme now).
[[nodiscard]] Status ReadChangeTerms(wire::ObjectReader& r, const ControlScheme& current,
                                     ChangeTermsRequest& out);
// A tenant transfer: "new_number", "new_tenant", "new_phone"?, "readings", "carry_balance"?,
// "channel"?.
[[nodiscard]] Status ReadTransferTenant(wire::ObjectReader& r, TransferTenantRequest& out);

}  // namespace joule::api
