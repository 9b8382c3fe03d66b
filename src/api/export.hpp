// Lists as files (issue 4, item 3): the items of a list answer turned into a table — a header row
// and one row per item — and written as CSV or XLSX. The API's dispatch uses it for
// `?format=csv|xlsx` on every list (api.cpp, Api::Impl::Export); nothing here knows routes.
//
// Columns are the items' keys in the order the first item has them, with keys first seen in a
// later item appended; nested objects are flattened with dotted names ("balance.paid"); arrays
// are one cell of JSON text. A cell is text, except JSON integers, which XLSX writes as numbers
// when a double holds them exactly (|n| <= 2^53). Amounts are strings in the API ("-12.50"), so
// they stay text in both formats: money is never turned into a float.
//
// Thread-safety: every function is reentrant. XLSX goes through a temporary file (libxlsxwriter
// 1.1.4 writes only to files): created by mkstemp (mode 0600) in the system's temporary
// directory and removed before Xlsx() returns.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"

namespace joule::api {

// The most columns (flattened keys); above it kOutOfRange, field "format".
inline constexpr std::size_t kMaxExportColumns = 1'000;

enum class ExportFormat : std::uint8_t { kJson, kCsv, kXlsx };

// "json", "csv" or "xlsx"; anything else is kInvalidArgument naming "format".
[[nodiscard]] Result<ExportFormat> ParseExportFormat(std::string_view text);
// "csv", "xlsx", "json": the file name's extension.
[[nodiscard]] std::string_view ExportExtension(ExportFormat format);
// The Content-Type of an export ("text/csv; charset=utf-8", the XLSX type, "application/json").
[[nodiscard]] std::string_view ExportContentType(ExportFormat format);

struct ExportCell {
    std::string text;      // as the API writes it; null and a missing key are ""
    bool integer = false;  // a JSON integer
};

struct ExportTable {
    std::vector<std::string> columns;
    std::vector<std::vector<ExportCell>> rows;  // each row has columns.size() cells
};

// The table of a JSON array of objects (a non-object item becomes one column "value").
// kInvalidArgument when `items` is not an array; kOutOfRange (field "format") above
// kMaxExportColumns columns. The ordered_json overload keeps the items' written key order; a
// plain nlohmann::json object has its keys sorted.
[[nodiscard]] Result<ExportTable> TableOf(const nlohmann::json& items);
[[nodiscard]] Result<ExportTable> TableOf(const nlohmann::ordered_json& items);

// Whether a CSV cell would be taken for a formula by a spreadsheet, and so gets a leading
// apostrophe: it starts with '=', '+', '-', '@', a tab or a carriage return (or the full-width
// '＝', '＋', '－', '＠', which some CJK spreadsheet set-ups treat alike) — unless the whole cell
// is a plain decimal number, an optional '-', digits, and optionally '.' and digits ("-12.50",
// "-3"), which no spreadsheet evaluates as a formula and which amounts must stay readable as.
[[nodiscard]] bool NeedsFormulaGuard(std::string_view cell);

// RFC 4180 CSV in UTF-8 with a byte-order mark (so Excel in zh-CN reads Chinese right): a header
// row, CRLF after every record, a field quoted when it has a comma, a quote, CR or LF, quotes
// doubled, and every cell (header included) guarded by NeedsFormulaGuard.
[[nodiscard]] std::string Csv(const ExportTable& table);

// An XLSX workbook of one sheet named `sheet_name` (cleaned by SheetName): the header row in
// bold and frozen, then the rows. Cells are typed strings, which spreadsheets never evaluate, so
// no apostrophe is added. kOutOfRange (field "format") for a cell longer than XLSX allows
// (32,767 characters); kInternal when the temporary file cannot be written or read.
[[nodiscard]] Result<std::string> Xlsx(const ExportTable& table, std::string_view sheet_name);

// A valid sheet name: []:*?/\ replaced by '_', apostrophes trimmed at either end, at most 31
// characters (cut on a UTF-8 boundary), "export" when nothing is left.
[[nodiscard]] std::string SheetName(std::string_view name);

// One sheet of XlsxWorkbook: a table with its header row bold and frozen.
struct XlsxSheet {
    std::string name;                    // cleaned by SheetName
    const ExportTable* table = nullptr;  // not owned
    // Every column formatted as text ("@"), so what a user types there stays text (a meter
    // serial keeps its leading zeros), and sized to its widest cell.
    bool text_columns = false;
    // The first rows after the header are examples: grey italic.
    std::size_t example_rows = 0;
};

// A workbook of `sheets` in their order, cells as Xlsx() writes them. The same errors as Xlsx().
[[nodiscard]] Result<std::string> XlsxWorkbook(std::span<const XlsxSheet> sheets);

}  // namespace joule::api
