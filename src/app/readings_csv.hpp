// Readings from CSV (`joule import readings`). Header required:
//   meter,time,total[,sharp,peak,flat,valley]
// time is RFC 3339; registers are decimals in kWh or m^3 (up to 3 places). The file is RFC 4180
// CSV read by codec::ReadCsv (quoted fields, an optional BOM); "line N" is the record's row as a
// spreadsheet numbers it. An import is one transaction: any bad line fails the whole file with
// "line N: field: reason" (a malformed file: the cell, "B7").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "service/requests.hpp"

namespace joule::app {

inline constexpr std::size_t kMaxCsvBytes = std::size_t{64} * 1024 * 1024;

[[nodiscard]] Result<std::vector<ReadingItem>> ParseReadingsCsv(std::string_view text,
                                                                std::string_view project_code,
                                                                Instant now);

}  // namespace joule::app
