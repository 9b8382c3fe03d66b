// The site file (JSON) and account opening file: parsed into service requests with every error
// naming its field path. The format is documented in docs/site-file.md.
#pragma once

#include <string>

#include "api/request_json.hpp"
#include "service/requests.hpp"
#include "service/site_service.hpp"
#include "wire/json.hpp"
#include "wire/model_json.hpp"

namespace joule::app {

[[nodiscard]] Result<SiteSpec> ParseSite(const wire::Json& j);
// Accounts are read as the API reads them.
using api::ParseMeterReadings;
using api::ParseOpenAccount;
// Reads and parses a whole JSON file; errors name the file (kInvalidArgument, kNotFound).
[[nodiscard]] Result<wire::Json> ReadJsonFile(const std::string& file);
// The meter model `code` from its file `<dir>/<code>.json` (the shipped models/ directory).
[[nodiscard]] Result<wire::ParsedModel> LoadModelFile(const std::string& dir,
                                                      const std::string& code);

}  // namespace joule::app
