// Reads the first worksheet of an XLSX workbook (Office Open XML, ECMA-376 part 1) for imports
// [HIER-3]. An XLSX file is a zip (libzip) of XML parts (expat):
//   _rels/.rels                    -> the workbook part (officeDocument; xl/workbook.xml)
//   xl/workbook.xml                -> <sheets><sheet r:id=...>: the first sheet that is not hidden
//   xl/_rels/workbook.xml.rels     -> the sheet's part and the shared strings' part by r:id / type
//   xl/sharedStrings.xml           -> <sst><si> strings, plain <t> or rich-text runs <r><t>
//   xl/worksheets/sheet1.xml       -> <sheetData><row r="7"><c r="C7" t="s"><v>3</v></c>
// When a relationship part is missing the conventional names above are used.
//
// Cells: t="s" shared string, t="inlineStr" <is> text, t="str" a formula's text, t="b" TRUE or
// FALSE, t="e" the error text ("#N/A"), t="d" the date text as written; otherwise a number, given
// as decimal text without an exponent, rounded in the text to the 15 significant digits the
// spreadsheet shows (it saves a typed 12.3 as "12.300000000000001"; "1.2345E+3" -> "1234.5").
// Digits are only moved and rounded as characters; amounts and quantities are then parsed from
// the text as exact integers of their sub-units by the importer, which refuses extra decimals.
// Formulas are not evaluated: the value the spreadsheet saved is taken. Phonetic runs (<rPh>, the
// furigana of CJK names) are not part of the text. A cell without r follows the previous cell; a
// row without r follows the previous row; cells and rows must come in increasing order, as Excel
// writes them. Numbers with a date format stay numbers (serial days): dates are not interpreted.
//
// Untrusted input, bounded: at most max_entries zip entries; every part is decompressed only up to
// max_part_bytes (a zip bomb stops there, whatever its headers claim) and all parts together up to
// max_total_bytes; a DOCTYPE is refused (no entities, no external anything); encrypted entries and
// bad checksums are errors. Nothing is read outside `bytes`; no file is touched.
// Pure: no I/O, no clock, no floating point.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/error.hpp"
#include "codec/sheet.hpp"
#include "codec/zip_archive.hpp"  // LooksLikeZip, for the importers

namespace joule::codec {

struct XlsxLimits {
    SheetLimits sheet;
    std::size_t max_entries = 10'000;                             // zip entries
    std::size_t max_part_bytes = std::size_t{64} * 1024 * 1024;   // one XML part, decompressed
    std::size_t max_total_bytes = std::size_t{96} * 1024 * 1024;  // all parts read, decompressed
    std::size_t max_shared_strings = 1'000'000;
};

// The non-empty rows of the workbook's first visible sheet. Errors:
//   kInvalidArgument  not a zip, a zip that is not a workbook (a part missing), malformed XML
//                     (the part and line), an encrypted entry, a bad checksum, a shared-string
//                     index out of range, a cell reference that is malformed or out of order
//                     (field: the cell, "C7", where it is known)
//   kOutOfRange       a limit of `limits` (field: the cell or row where it was hit, else "")
[[nodiscard]] Result<Sheet> ReadXlsx(std::string_view bytes, const XlsxLimits& limits);

// A spreadsheet number ("-1.25E-3", "12.300000000000001", "7") as plain decimal text with at
// most 15 significant digits, rounded half away from zero, trailing fractional zeros and a lone
// point removed ("-0.00125", "12.3", "7"). kInvalidArgument when `text` is not a number, or its
// exponent or its magnitude is beyond 10^+-400 (so the text it gives always reads back).
[[nodiscard]] Result<std::string> SpreadsheetNumberText(std::string_view text);

}  // namespace joule::codec
