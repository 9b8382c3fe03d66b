#include "api/export.hpp"

#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "base/file.hpp"

namespace joule::api {

namespace {

constexpr std::string_view kXlsxType =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr std::size_t kMaxSheetNameChars = 31;     // Excel's limit (LXW_SHEETNAME_MAX)
constexpr std::size_t kMaxXlsxCellChars = 32'767;  // Excel's limit (LXW_STR_MAX)
constexpr int64_t kMaxExactDouble = int64_t{1} << 53;

// Collects the cells of one table: columns by name, in the order they were first seen.
class TableBuilder {
public:
    void BeginRow() { table_.rows.emplace_back(table_.columns.size()); }

    Status Set(const std::string& column, std::string text, bool integer) {
        auto it = index_.find(column);
        if (it == index_.end()) {
            if (table_.columns.size() >= kMaxExportColumns) {
                return MakeError(ErrorCode::kOutOfRange,
                                 "the list has more than " + std::to_string(kMaxExportColumns) +
                                     " columns to export",
                                 "format");
            }
            it = index_.emplace(column, table_.columns.size()).first;
            table_.columns.push_back(column);
        }
        std::vector<ExportCell>& row = table_.rows.back();
        if (row.size() <= it->second) {
            row.resize(it->second + 1);
        }
        row[it->second] = ExportCell{std::move(text), integer};
        return {};
    }

    ExportTable Take() {
        for (std::vector<ExportCell>& row : table_.rows) {
            row.resize(table_.columns.size());  // rows before a new column was seen
        }
        return std::move(table_);
    }

private:
    ExportTable table_;
    std::unordered_map<std::string, std::size_t> index_;
};

template <class J>
Status Flatten(TableBuilder& builder, const std::string& name, const J& value) {
    if (value.is_object()) {
        for (const auto& [key, inner] : value.items()) {
            JOULE_TRY(Flatten(builder, name.empty() ? key : name + "." + key, inner));
        }
        return {};
    }
    if (value.is_string()) {
        return builder.Set(name, value.template get<std::string>(), false);
    }
    if (value.is_null()) {
        return builder.Set(name, "", false);
    }
    // Numbers, booleans and arrays as the API writes them (arrays as one cell of JSON text).
    return builder.Set(name, value.dump(-1, ' ', false, J::error_handler_t::replace),
                       value.is_number_integer());
}

template <class J>
Result<ExportTable> TableOfItems(const J& items) {
    if (!items.is_array()) {
        return InvalidArgument("items", "must be a JSON array");
    }
    TableBuilder builder;
    for (const J& item : items) {
        builder.BeginRow();
        JOULE_TRY(Flatten(builder, item.is_object() ? std::string() : std::string("value"), item));
    }
    return builder.Take();
}

// An optional '-', digits, and optionally '.' and digits.
bool IsPlainDecimal(std::string_view text) {
    if (text.starts_with('-')) {
        text.remove_prefix(1);
    }
    const auto digits = [](std::string_view s) {
        return !s.empty() &&
               std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    const auto dot = text.find('.');
    if (dot == std::string_view::npos) {
        return digits(text);
    }
    return digits(text.substr(0, dot)) && digits(text.substr(dot + 1));
}

void AppendCsvField(std::string& out, std::string_view cell) {
    const bool guard = NeedsFormulaGuard(cell);
    const bool quote = cell.find_first_of(",\"\r\n") != std::string_view::npos;
    if (quote) {
        out += '"';
    }
    if (guard) {
        out += '\'';
    }
    for (char c : cell) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    if (quote) {
        out += '"';
    }
}

// The length of `text` in Unicode characters (UTF-8 continuation bytes not counted).
std::size_t Utf8Chars(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U;
    }));
}

// A column's width for `text` in spreadsheet characters: a CJK (3-byte UTF-8) character is two.
std::size_t ColumnWidth(std::string_view text) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto b = static_cast<unsigned char>(text[i]);
        if ((b & 0xC0U) == 0x80U) {
            continue;
        }
        width += b >= 0xE0U ? 2 : 1;
    }
    return width;
}

// Removes a file when it goes out of scope.
class TempFile {
public:
    TempFile() = default;
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        if (!path_.empty()) {
            ::unlink(path_.c_str());
        }
    }

    Status Create() {
        std::error_code ec;
        const std::filesystem::path dir = std::filesystem::temp_directory_path(ec);
        std::string path =
            ((ec ? std::filesystem::path("/tmp") : dir) / "joule-export-XXXXXX").string();
        const int fd = ::mkstemp(path.data());  // mode 0600: the export may hold personal data
        if (fd < 0) {
            return MakeError(ErrorCode::kInternal, "cannot create a temporary file in " + path);
        }
        ::close(fd);
        path_ = std::move(path);
        return {};
    }

    [[nodiscard]] const std::string& path() const { return path_; }

private:
    std::string path_;
};

// The formats of one sheet's cells: the header's, the examples', the data's (null: none).
struct SheetFormats {
    lxw_format* header = nullptr;
    lxw_format* example = nullptr;
    lxw_format* data = nullptr;
    std::size_t example_rows = 0;
};

// Writes the rows into an open worksheet; the first error, or LXW_NO_ERROR.
lxw_error WriteSheet(lxw_worksheet* sheet, const SheetFormats& formats, const ExportTable& table) {
    lxw_error first = LXW_NO_ERROR;
    const auto keep = [&first](lxw_error e) {
        if (first == LXW_NO_ERROR) {
            first = e;
        }
    };
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
        keep(worksheet_write_string(sheet, 0, static_cast<lxw_col_t>(c), table.columns[c].c_str(),
                                    formats.header));
    }
    for (std::size_t r = 0; r < table.rows.size(); ++r) {
        const auto row = static_cast<lxw_row_t>(r + 1);
        lxw_format* format = r < formats.example_rows ? formats.example : formats.data;
        for (std::size_t c = 0; c < table.rows[r].size(); ++c) {
            const ExportCell& cell = table.rows[r][c];
            const auto col = static_cast<lxw_col_t>(c);
            if (cell.text.empty()) {
                continue;  // an empty cell, as in the CSV
            }
            int64_t n = 0;
            const char* end = cell.text.data() + cell.text.size();
            if (cell.integer && std::from_chars(cell.text.data(), end, n).ptr == end &&
                n <= kMaxExactDouble && n >= -kMaxExactDouble) {
                keep(worksheet_write_number(sheet, row, col, static_cast<double>(n), format));
            } else {
                keep(worksheet_write_string(sheet, row, col, cell.text.c_str(), format));
            }
        }
    }
    return first;
}

Result<std::string> ReadWhole(const std::string& path) {
    auto bytes = ReadFileText(path, "format", std::size_t{1} << 30);
    if (!bytes) {
        return MakeError(ErrorCode::kInternal,
                         "cannot read the workbook back: " + bytes.error().message);
    }
    return bytes;
}

}  // namespace

Result<ExportFormat> ParseExportFormat(std::string_view text) {
    if (text == "json") {
        return ExportFormat::kJson;
    }
    if (text == "csv") {
        return ExportFormat::kCsv;
    }
    if (text == "xlsx") {
        return ExportFormat::kXlsx;
    }
    return InvalidArgument("format", "must be json, csv or xlsx");
}

std::string_view ExportExtension(ExportFormat format) {
    switch (format) {
        case ExportFormat::kCsv:
            return "csv";
        case ExportFormat::kXlsx:
            return "xlsx";
        case ExportFormat::kJson:
            break;
    }
    return "json";
}

std::string_view ExportContentType(ExportFormat format) {
    switch (format) {
        case ExportFormat::kCsv:
            return "text/csv; charset=utf-8";
        case ExportFormat::kXlsx:
            return kXlsxType;
        case ExportFormat::kJson:
            break;
    }
    return "application/json";
}

Result<ExportTable> TableOf(const nlohmann::json& items) { return TableOfItems(items); }

Result<ExportTable> TableOf(const nlohmann::ordered_json& items) { return TableOfItems(items); }

bool NeedsFormulaGuard(std::string_view cell) {
    if (cell.empty() || IsPlainDecimal(cell)) {
        return false;
    }
    static constexpr std::string_view kAscii = "=+-@\t\r";
    if (kAscii.find(cell.front()) != std::string_view::npos) {
        return true;
    }
    // U+FF1D '＝', U+FF0B '＋', U+FF0D '－', U+FF20 '＠' in UTF-8.
    static constexpr std::array<std::string_view, 4> kFullWidth = {"\xEF\xBC\x9D", "\xEF\xBC\x8B",
                                                                   "\xEF\xBC\x8D", "\xEF\xBC\xA0"};
    return std::any_of(kFullWidth.begin(), kFullWidth.end(),
                       [&](std::string_view sign) { return cell.starts_with(sign); });
}

std::string Csv(const ExportTable& table) {
    std::string out = "\xEF\xBB\xBF";
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
        if (c > 0) {
            out += ',';
        }
        AppendCsvField(out, table.columns[c]);
    }
    out += "\r\n";
    for (const std::vector<ExportCell>& row : table.rows) {
        for (std::size_t c = 0; c < row.size(); ++c) {
            if (c > 0) {
                out += ',';
            }
            AppendCsvField(out, row[c].text);
        }
        out += "\r\n";
    }
    return out;
}

std::string SheetName(std::string_view name) {
    std::string out;
    for (char c : name) {
        out += std::string_view("[]:*?/\\").find(c) == std::string_view::npos ? c : '_';
    }
    while (!out.empty() && out.front() == '\'') {
        out.erase(out.begin());
    }
    while (!out.empty() && out.back() == '\'') {
        out.pop_back();
    }
    std::size_t chars = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if ((static_cast<unsigned char>(out[i]) & 0xC0U) != 0x80U && ++chars > kMaxSheetNameChars) {
            out.resize(i);
            break;
        }
    }
    return out.empty() ? std::string("export") : out;
}

Result<std::string> Xlsx(const ExportTable& table, std::string_view sheet_name) {
    const XlsxSheet sheet{std::string(sheet_name), &table, false, 0};
    return XlsxWorkbook(std::span<const XlsxSheet>(&sheet, 1));
}

Result<std::string> XlsxWorkbook(std::span<const XlsxSheet> sheets) {
    for (const XlsxSheet& sheet : sheets) {
        for (const std::vector<ExportCell>& row : sheet.table->rows) {
            for (const ExportCell& cell : row) {
                if (Utf8Chars(cell.text) > kMaxXlsxCellChars) {
                    return MakeError(ErrorCode::kOutOfRange,
                                     "a cell is longer than XLSX allows (32,767 characters); "
                                     "export as CSV instead",
                                     "format");
                }
            }
        }
    }
    TempFile file;
    JOULE_TRY(file.Create());
    // constant_memory: each row goes to libxlsxwriter's own temporary file as it is written, so
    // 100,000 rows do not sit in memory twice.
    lxw_workbook_options options{LXW_TRUE, nullptr, LXW_FALSE};
    lxw_workbook* workbook = workbook_new_opt(file.path().c_str(), &options);
    if (workbook == nullptr) {
        return MakeError(ErrorCode::kInternal, "cannot start a workbook in " + file.path());
    }
    lxw_format* bold = workbook_add_format(workbook);
    lxw_format* text = workbook_add_format(workbook);
    lxw_format* example = workbook_add_format(workbook);
    lxw_error written = LXW_ERROR_MEMORY_MALLOC_FAILED;
    if (bold != nullptr && text != nullptr && example != nullptr) {
        format_set_bold(bold);
        format_set_num_format(text, "@");
        format_set_num_format(example, "@");
        format_set_italic(example);
        format_set_font_color(example, LXW_COLOR_GRAY);
        written = LXW_NO_ERROR;
    }
    std::set<std::string> names;
    for (const XlsxSheet& sheet : sheets) {
        if (written != LXW_NO_ERROR) {
            break;
        }
        std::string name = SheetName(sheet.name);
        while (!names.insert(name).second) {
            name = SheetName(name.substr(0, 28) + "_" + std::to_string(names.size()));
        }
        lxw_worksheet* ws = workbook_add_worksheet(workbook, name.c_str());
        if (ws == nullptr) {
            written = LXW_ERROR_MEMORY_MALLOC_FAILED;
            break;
        }
        worksheet_freeze_panes(ws, 1, 0);
        SheetFormats formats{bold, nullptr, nullptr, sheet.example_rows};
        if (sheet.text_columns) {
            formats.data = text;
            formats.example = example;
            // Width by the widest cell, in characters (a CJK character counts two), 8..60.
            for (std::size_t c = 0; c < sheet.table->columns.size(); ++c) {
                std::size_t widest = ColumnWidth(sheet.table->columns[c]);
                for (const auto& row : sheet.table->rows) {
                    widest = std::max(widest, ColumnWidth(row[c].text));
                }
                const auto col = static_cast<lxw_col_t>(c);
                worksheet_set_column(
                    ws, col, col, static_cast<double>(std::clamp<std::size_t>(widest + 2, 8, 60)),
                    text);
            }
        }
        written = WriteSheet(ws, formats, *sheet.table);
    }
    const lxw_error closed = workbook_close(workbook);  // writes the file and frees the workbook
    if (written != LXW_NO_ERROR || closed != LXW_NO_ERROR) {
        const lxw_error e = written != LXW_NO_ERROR ? written : closed;
        return MakeError(ErrorCode::kInternal, std::string("libxlsxwriter: ") + lxw_strerror(e));
    }
    return ReadWhole(file.path());
}

}  // namespace joule::api
