// Fuzzes the CSV reader (codec/csv_reader.hpp) with the whole input as the file, under small
// limits so that every limit is reached. Checked: the rows come in increasing spreadsheet row
// numbers; each has a non-empty last cell, at most max_columns cells, each valid UTF-8 text within
// max_cell_bytes; and writing the rows back as RFC 4180 CSV (every cell quoted) and reading that
// again gives the same cells. Each cell that reads as a spreadsheet number is checked too: the
// exact text of the exact text is itself (SpreadsheetNumberText is idempotent).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/csv_reader.hpp"
#include "codec/xlsx_reader.hpp"
#include "fuzz_input.hpp"

namespace {

namespace codec = joule::codec;

codec::SheetLimits Limits() {
    codec::SheetLimits limits;
    limits.max_rows = 200;
    limits.max_columns = 16;
    limits.max_cell_bytes = 256;
    return limits;
}

std::string WriteBack(const codec::Sheet& sheet) {
    std::string out;
    for (const codec::SheetRow& row : sheet.rows) {
        for (std::size_t c = 0; c < row.cells.size(); ++c) {
            out += c == 0 ? "\"" : ",\"";
            for (char ch : row.cells[c]) {
                out += ch;
                if (ch == '"') {
                    out += '"';
                }
            }
            out += '"';
        }
        out += "\r\n";
    }
    return out;
}

void CheckRows(const codec::Sheet& sheet, const codec::SheetLimits& limits) {
    JOULE_ASSERT(sheet.rows.size() <= limits.max_rows, "more rows than the limit");
    int64_t previous = 0;
    for (const codec::SheetRow& row : sheet.rows) {
        JOULE_ASSERT(row.number > previous, "rows out of order");
        previous = row.number;
        JOULE_ASSERT(!row.cells.empty() && !row.cells.back().empty(),
                     "an empty row or a trailing empty cell");
        JOULE_ASSERT(row.cells.size() <= limits.max_columns, "more cells than the limit");
        for (const std::string& cell : row.cells) {
            JOULE_ASSERT(cell.size() <= limits.max_cell_bytes, "a cell over the limit");
            JOULE_ASSERT(codec::IsCellText(cell), "a cell that is not UTF-8 text");
            if (auto number = codec::SpreadsheetNumberText(cell)) {
                auto again = codec::SpreadsheetNumberText(*number);
                JOULE_ASSERT(again.has_value() && *again == *number,
                             "number text is not idempotent");
            }
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const codec::SheetLimits limits = Limits();
    auto sheet = codec::ReadCsv(text, limits);
    if (!sheet) {
        JOULE_ASSERT(sheet.error().code == joule::ErrorCode::kInvalidArgument ||
                         sheet.error().code == joule::ErrorCode::kOutOfRange,
                     "an error other than invalid_argument or out_of_range");
        return 0;
    }
    CheckRows(*sheet, limits);
    auto again = codec::ReadCsv(WriteBack(*sheet), limits);
    JOULE_ASSERT(again.has_value(), "written-back CSV does not read");
    JOULE_ASSERT(again->rows.size() == sheet->rows.size(), "written-back CSV has other rows");
    for (std::size_t r = 0; r < sheet->rows.size(); ++r) {
        JOULE_ASSERT(again->rows[r].cells == sheet->rows[r].cells,
                     "written-back CSV has other cells");
    }
    return 0;
}
