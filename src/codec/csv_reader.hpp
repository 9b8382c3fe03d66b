// Reads CSV as RFC 4180 describes it, the one CSV reader of the tree (imports of the API and
// `joule import-readings`):
//   file    = [BOM] record *(newline record) [newline]
//   record  = field *("," field)
//   field   = quoted / plain
//   quoted  = '"' *(any byte but '"' / '""') '"'     ; may hold commas, CR and LF
//   plain   = *(any byte but ',' CR LF)
//   newline = CRLF / LF / CR
// Text is UTF-8, with an optional byte-order mark (Excel's "CSV UTF-8"). A quote inside a plain
// field is taken as it is (as spreadsheets do); text after a quoted field's closing quote, an
// unclosed quote, invalid UTF-8 and a NUL byte are errors. Records are numbered from 1 like the
// rows of a spreadsheet, blank lines included, so a row number in an error is the row the user
// sees when the file is opened in one.
// Pure: no I/O, no clock, no floating point.
#pragma once

#include <string_view>

#include "base/error.hpp"
#include "codec/sheet.hpp"

namespace joule::codec {

// The rows of `bytes`. Errors, with `field` naming the cell ("C7") where the reader stopped:
//   kInvalidArgument  a quote problem or text that is not UTF-8 (the message says which; a file
//                     saved as GBK by Excel's plain "CSV" is the usual cause)
//   kOutOfRange       more than limits.max_rows non-empty rows (field "row N"), a cell right of
//                     limits.max_columns, a cell longer than limits.max_cell_bytes
[[nodiscard]] Result<Sheet> ReadCsv(std::string_view bytes, const SheetLimits& limits);

}  // namespace joule::codec
