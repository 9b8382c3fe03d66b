// Fuzzes the XLSX reader (codec/xlsx_reader.hpp) with the whole input as the file, under small
// limits (zip entries, decompressed part and total sizes, rows, columns, cell bytes) so that every
// limit is reached. Checked: no error but kInvalidArgument or kOutOfRange; the rows come in
// increasing row numbers; each has a non-empty last cell, at most max_columns cells, each valid
// UTF-8 text within max_cell_bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/xlsx_reader.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    namespace codec = joule::codec;
    codec::XlsxLimits limits;
    limits.max_entries = 64;
    limits.max_part_bytes = std::size_t{4} << 20;
    limits.max_total_bytes = std::size_t{8} << 20;
    limits.max_shared_strings = 10'000;
    limits.sheet.max_rows = 200;
    limits.sheet.max_columns = 16;
    limits.sheet.max_cell_bytes = 256;
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto sheet = codec::ReadXlsx(bytes, limits);
    if (!sheet) {
        JOULE_ASSERT(sheet.error().code == joule::ErrorCode::kInvalidArgument ||
                         sheet.error().code == joule::ErrorCode::kOutOfRange,
                     "an error other than invalid_argument or out_of_range");
        return 0;
    }
    JOULE_ASSERT(codec::LooksLikeZip(bytes), "a workbook that is not a zip");
    JOULE_ASSERT(sheet->rows.size() <= limits.sheet.max_rows, "more rows than the limit");
    int64_t previous = 0;
    for (const codec::SheetRow& row : sheet->rows) {
        JOULE_ASSERT(row.number > previous && row.number <= 1'048'576, "rows out of order");
        previous = row.number;
        JOULE_ASSERT(!row.cells.empty() && !row.cells.back().empty(),
                     "an empty row or a trailing empty cell");
        JOULE_ASSERT(row.cells.size() <= limits.sheet.max_columns, "more cells than the limit");
        for (const auto& cell : row.cells) {
            JOULE_ASSERT(cell.size() <= limits.sheet.max_cell_bytes, "a cell over the limit");
            JOULE_ASSERT(codec::IsCellText(cell), "a cell that is not UTF-8 text");
        }
    }
    return 0;
}
