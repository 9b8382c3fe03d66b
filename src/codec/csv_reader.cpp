#include "codec/csv_reader.hpp"

#include <string>
#include <utility>

namespace joule::codec {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Collects the cells of the record being read and hands finished rows to the sheet.
class RowBuilder {
public:
    RowBuilder(Sheet& sheet, const SheetLimits& limits) : sheet_(sheet), limits_(limits) {}

    [[nodiscard]] std::size_t column() const { return column_; }
    [[nodiscard]] std::string Here() const { return CellName(column_, row_); }

    // Checks the size a cell is about to grow to.
    [[nodiscard]] Status Room(std::size_t size) const {
        if (size > limits_.max_cell_bytes) {
            return MakeError(
                ErrorCode::kOutOfRange,
                "the cell is longer than " + std::to_string(limits_.max_cell_bytes) + " bytes",
                Here());
        }
        return {};
    }

    Status EndCell(std::string cell) {
        if (column_ >= limits_.max_columns) {
            // Empty cells right of the limit (trailing commas) are harmless; text there is not.
            if (!cell.empty()) {
                return MakeError(ErrorCode::kOutOfRange,
                                 "a cell right of column " + ColumnName(limits_.max_columns - 1) +
                                     " (the last column a sheet may use here)",
                                 Here());
            }
            ++column_;
            return {};
        }
        if (!IsCellText(cell)) {
            return InvalidArgument(Here(),
                                   "the text is not UTF-8 (save the sheet as \"CSV UTF-8\" or as "
                                   "XLSX)");
        }
        cells_.push_back(std::move(cell));
        ++column_;
        return {};
    }

    Status EndRow() {
        while (!cells_.empty() && cells_.back().empty()) {
            cells_.pop_back();
        }
        if (!cells_.empty()) {
            if (sheet_.rows.size() >= limits_.max_rows) {
                return MakeError(ErrorCode::kOutOfRange,
                                 "more than " + std::to_string(limits_.max_rows) + " rows",
                                 "row " + std::to_string(row_));
            }
            sheet_.rows.push_back(SheetRow{row_, std::move(cells_)});
        }
        cells_.clear();
        column_ = 0;
        ++row_;
        return {};
    }

private:
    Sheet& sheet_;
    const SheetLimits& limits_;
    std::vector<std::string> cells_;
    std::size_t column_ = 0;  // of the next cell
    int64_t row_ = 1;
};

}  // namespace

Result<Sheet> ReadCsv(std::string_view bytes, const SheetLimits& limits) {
    if (bytes.starts_with(kBom)) {
        bytes.remove_prefix(kBom.size());
    }
    Sheet sheet;
    RowBuilder rows(sheet, limits);
    std::size_t i = 0;
    const std::size_t n = bytes.size();
    // Each turn reads one field and the separator after it (',' or a newline or the end).
    while (i < n) {
        std::string cell;
        if (bytes[i] == '"') {
            const std::string opened_at = rows.Here();
            ++i;
            bool closed = false;
            while (i < n) {
                const std::size_t quote = bytes.find('"', i);
                const std::size_t end = quote == std::string_view::npos ? n : quote;
                JOULE_TRY(rows.Room(cell.size() + (end - i)));
                cell.append(bytes.substr(i, end - i));
                i = end;
                if (quote == std::string_view::npos) {
                    break;
                }
                if (i + 1 < n && bytes[i + 1] == '"') {  // "" is one quote
                    JOULE_TRY(rows.Room(cell.size() + 1));
                    cell.push_back('"');
                    i += 2;
                    continue;
                }
                ++i;  // the closing quote
                closed = true;
                break;
            }
            if (!closed) {
                return InvalidArgument(opened_at,
                                       "the quoted cell that starts here is never closed (a "
                                       "missing closing quote)");
            }
            if (i < n && bytes[i] != ',' && bytes[i] != '\r' && bytes[i] != '\n') {
                return InvalidArgument(rows.Here(),
                                       "text after a closing quote (a quote inside a quoted cell "
                                       "must be doubled: \"\")");
            }
        } else {
            const std::size_t end = bytes.find_first_of(",\r\n", i);
            const std::size_t stop = end == std::string_view::npos ? n : end;
            JOULE_TRY(rows.Room(stop - i));
            cell.assign(bytes.substr(i, stop - i));
            i = stop;
        }
        JOULE_TRY(rows.EndCell(std::move(cell)));
        if (i >= n) {
            break;
        }
        if (bytes[i] == ',') {
            ++i;
            if (i == n) {
                JOULE_TRY(rows.EndCell(std::string()));  // "a," ends with an empty cell
            }
            continue;
        }
        // CRLF, LF or a lone CR ends the record.
        i +=
            bytes[i] == '\r' && i + 1 < n && bytes[i + 1] == '\n' ? std::size_t{2} : std::size_t{1};
        JOULE_TRY(rows.EndRow());
    }
    if (rows.column() > 0) {
        JOULE_TRY(rows.EndRow());  // the last record had no newline
    }
    return sheet;
}

}  // namespace joule::codec
