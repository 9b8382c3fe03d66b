// The site file (JSON) and account opening file: parsed into service requests with every error
// naming its field path. The format is documented in docs/site-file.md.
#pragma once

#include <string>

#include "service/requests.hpp"
#include "service/site_service.hpp"
#include "wire/json.hpp"

namespace joule::app {

[[nodiscard]] Result<SiteSpec> ParseSite(const wire::Json& j);
[[nodiscard]] Result<OpenAccountRequest> ParseAccount(const wire::Json& j, const std::string& path,
                                                      std::string_view project_code);
// A list of {"meter": CODE, "reading": REGISTER} under `key` (openings, final or transfer
// readings); registers are never negative.
[[nodiscard]] Result<std::vector<MeterOpening>> ParseMeterReadings(wire::ObjectReader& r,
                                                                   std::string_view key);
// Reads and parses a whole JSON file; errors name the file (kInvalidArgument, kNotFound).
[[nodiscard]] Result<wire::Json> ReadJsonFile(const std::string& file);

}  // namespace joule::app
