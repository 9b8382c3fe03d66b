// A table read out of a spreadsheet file (CSV or XLSX) for imports [HIER-3]: what both readers
// (csv_reader.hpp, xlsx_reader.hpp) give, the limits they enforce, and the names of cells as a
// spreadsheet shows them ("C7"). A reader knows cells, not what they mean: the importer maps the
// header row to fields and checks each value.
// Pure: no I/O, no clock, no floating point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace joule::codec {

// One row that has at least one non-empty cell.
struct SheetRow {
    // The row's number as the spreadsheet shows it (the first row is 1). Empty rows are left out
    // of Sheet::rows but still counted, so this is the number the user sees.
    int64_t number = 0;
    // Column A first; a missing cell in a gap is "", trailing empty cells are dropped.
    std::vector<std::string> cells;
};

struct Sheet {
    std::vector<SheetRow> rows;  // in increasing row number
};

// Bounds on what a reader builds out of untrusted bytes (TigerStyle: a limit on everything).
// Hitting one is kOutOfRange naming the cell (or the row) where it was hit.
struct SheetLimits {
    std::size_t max_rows = 100'000;  // non-empty rows
    std::size_t max_columns = 256;   // a cell right of column IV is refused
    std::size_t max_cell_bytes = std::size_t{32} * 1024;
};

// The spreadsheet name of the 0-based column `index`: 0 -> "A", 25 -> "Z", 26 -> "AA".
[[nodiscard]] std::string ColumnName(std::size_t index);
// The name of a cell: (2, 7) -> "C7".
[[nodiscard]] std::string CellName(std::size_t column, int64_t row);

// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF,
// no NUL). Spreadsheets hold text; a NUL byte in a cell is never meant.
[[nodiscard]] bool IsCellText(std::string_view text);

}  // namespace joule::codec
