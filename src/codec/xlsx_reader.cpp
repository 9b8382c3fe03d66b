#include "codec/xlsx_reader.hpp"

#include <expat.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace joule::codec {

namespace {

constexpr int64_t kMaxSheetRow = 1'048'576;      // Excel's last row
constexpr std::size_t kMaxSheetColumn = 16'384;  // Excel's last column, XFD
constexpr std::size_t kXmlChunkBytes = std::size_t{1} << 20;
constexpr int kMaxSignificantDigits = 15;  // what a spreadsheet shows of a number
constexpr int64_t kMaxExponent = 400;
constexpr char kNamespaceSeparator = '|';  // never part of an XML name

Error Invalid(std::string message, std::string field = {}) {
    return Error{ErrorCode::kInvalidArgument, std::move(message), std::move(field)};
}

// ------------------------------------------------------------------------------------- zip

// The workbook's zip, and the parts a workbook must have.
class Archive {
public:
    static Result<std::unique_ptr<Archive>> Open(std::string_view bytes, const XlsxLimits& limits) {
        ZipLimits zip_limits;
        zip_limits.max_entries = limits.max_entries;
        zip_limits.max_entry_bytes = limits.max_part_bytes;
        zip_limits.max_total_bytes = limits.max_total_bytes;
        JOULE_ASSIGN_OR_RETURN(auto zip, ZipArchive::Open(bytes, zip_limits, "an XLSX file"));
        return std::make_unique<Archive>(std::move(zip));
    }
    explicit Archive(std::unique_ptr<ZipArchive> zip) : zip_(std::move(zip)) {}

    // The decompressed bytes of part `name` (matched without regard to case, as OPC part names
    // are), nullopt when there is no such entry.
    Result<std::optional<std::string>> Read(const std::string& name) { return zip_->Read(name); }

    // A part that must be there.
    Result<std::string> ReadRequired(const std::string& name) {
        JOULE_ASSIGN_OR_RETURN(auto part, Read(name));
        if (!part) {
            return std::unexpected(Invalid("not an XLSX workbook: it has no " + name));
        }
        return std::move(*part);
    }

private:
    std::unique_ptr<ZipArchive> zip_;
};

// ------------------------------------------------------------------------------------- XML

// The local part of an expanded name "namespace|local".
std::string_view LocalName(std::string_view name) {
    const auto bar = name.rfind(kNamespaceSeparator);
    return bar == std::string_view::npos ? name : name.substr(bar + 1);
}

// An attribute by local name; `qualified`: only one with a namespace (r:id, not id).
std::optional<std::string_view> Attribute(const char** attributes, std::string_view local,
                                          bool qualified = false) {
    for (std::size_t i = 0; attributes[i] != nullptr; i += 2) {
        const std::string_view name = attributes[i];
        const bool has_namespace = name.find(kNamespaceSeparator) != std::string_view::npos;
        if (LocalName(name) == local && has_namespace == qualified) {
            return std::string_view(attributes[i + 1]);
        }
    }
    return std::nullopt;
}

// Receives one part's elements. A handler stops the parse by returning an error.
class XmlHandler {
public:
    virtual ~XmlHandler() = default;
    virtual Status Start(std::string_view local, const char** attributes) = 0;
    virtual Status End(std::string_view local) = 0;
    virtual Status Text(std::string_view text) = 0;
};

struct ParseState {
    XML_Parser parser;
    XmlHandler& handler;
    std::optional<Error> error;

    void Stop(Error e) {
        if (!error) {
            error = std::move(e);
        }
        XML_StopParser(parser, XML_FALSE);
    }
    void Check(Status status) {
        if (!status) {
            Stop(std::move(status).error());
        }
    }
};

void XMLCALL OnStart(void* data, const XML_Char* name, const XML_Char** attributes) {
    auto* state = static_cast<ParseState*>(data);
    if (!state->error) {
        state->Check(state->handler.Start(LocalName(name), attributes));
    }
}

void XMLCALL OnEnd(void* data, const XML_Char* name) {
    auto* state = static_cast<ParseState*>(data);
    if (!state->error) {
        state->Check(state->handler.End(LocalName(name)));
    }
}

void XMLCALL OnText(void* data, const XML_Char* text, int length) {
    auto* state = static_cast<ParseState*>(data);
    if (!state->error && length > 0) {
        state->Check(state->handler.Text(std::string_view(text, static_cast<std::size_t>(length))));
    }
}

void XMLCALL OnDoctype(void* data, const XML_Char* /*name*/, const XML_Char* /*system_id*/,
                       const XML_Char* /*public_id*/, int /*has_internal_subset*/) {
    // XLSX parts never have one; refusing it rules out entity expansion of any kind.
    static_cast<ParseState*>(data)->Stop(Invalid("a DOCTYPE, which XLSX parts never have"));
}

Status ParseXml(const std::string& part, std::string_view xml, XmlHandler& handler) {
    const auto free_parser = [](XML_Parser p) { XML_ParserFree(p); };
    std::unique_ptr<XML_ParserStruct, decltype(free_parser)> parser(
        XML_ParserCreateNS(nullptr, kNamespaceSeparator), free_parser);
    if (!parser) {
        return MakeError(ErrorCode::kInternal, "cannot start an XML parser");
    }
    ParseState state{parser.get(), handler, std::nullopt};
    XML_SetUserData(parser.get(), &state);
    XML_SetElementHandler(parser.get(), OnStart, OnEnd);
    XML_SetCharacterDataHandler(parser.get(), OnText);
    XML_SetStartDoctypeDeclHandler(parser.get(), OnDoctype);
    std::size_t at = 0;
    do {
        const std::size_t n = std::min(kXmlChunkBytes, xml.size() - at);
        const bool last = at + n == xml.size();
        const XML_Status status = XML_Parse(parser.get(), xml.data() + at, static_cast<int>(n),
                                            last ? XML_TRUE : XML_FALSE);
        if (state.error) {
            Error e = std::move(*state.error);
            if (e.field.empty()) {
                e.message = part + ": " + e.message;
            }
            return std::unexpected(std::move(e));
        }
        if (status != XML_STATUS_OK) {
            return std::unexpected(Invalid(
                part + " line " + std::to_string(XML_GetCurrentLineNumber(parser.get())) +
                ": malformed XML (" + XML_ErrorString(XML_GetErrorCode(parser.get())) + ")"));
        }
        at += n;
    } while (at < xml.size());
    return {};
}

// ------------------------------------------------------------------------ package structure

struct Relationship {
    std::string id;
    std::string type;
    std::string target;
    bool external = false;
};

class RelationshipsHandler final : public XmlHandler {
public:
    std::vector<Relationship> found;

    Status Start(std::string_view local, const char** attributes) override {
        if (local == "Relationship") {
            Relationship r;
            r.id = std::string(Attribute(attributes, "Id").value_or(""));
            r.type = std::string(Attribute(attributes, "Type").value_or(""));
            r.target = std::string(Attribute(attributes, "Target").value_or(""));
            r.external = Attribute(attributes, "TargetMode").value_or("") == "External";
            if (found.size() >= 10'000) {
                return MakeError(ErrorCode::kOutOfRange, "too many relationships");
            }
            found.push_back(std::move(r));
        }
        return {};
    }
    Status End(std::string_view) override { return {}; }
    Status Text(std::string_view) override { return {}; }
};

// The relationships part of `part`: "xl/workbook.xml" -> "xl/_rels/workbook.xml.rels".
std::string RelationshipsOf(std::string_view part) {
    const auto slash = part.rfind('/');
    const std::string dir(slash == std::string_view::npos ? "" : part.substr(0, slash + 1));
    const std::string_view file = slash == std::string_view::npos ? part : part.substr(slash + 1);
    return dir + "_rels/" + std::string(file) + ".rels";
}

// A relationship's target as a part name: absolute ("/xl/x.xml") or relative to the directory of
// `source`, with "." and ".." resolved. kInvalidArgument when it climbs above the package root.
Result<std::string> ResolveTarget(std::string_view source, std::string_view target) {
    std::string path;
    if (target.starts_with('/')) {
        path = std::string(target.substr(1));
    } else {
        const auto slash = source.rfind('/');
        path = std::string(slash == std::string_view::npos ? "" : source.substr(0, slash + 1)) +
               std::string(target);
    }
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const std::string segment =
            path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
        if (segment == "..") {
            if (parts.empty()) {
                return std::unexpected(Invalid("a relationship points outside the workbook"));
            }
            parts.pop_back();
        } else if (!segment.empty() && segment != ".") {
            parts.push_back(segment);
        }
        if (slash == std::string::npos) {
            break;
        }
        start = slash + 1;
    }
    std::string out;
    for (const std::string& p : parts) {
        out += (out.empty() ? "" : "/") + p;
    }
    return out;
}

// The relationships of `part`, or none when it has no relationships part.
Result<std::vector<Relationship>> ReadRelationships(Archive& zip, std::string_view part) {
    const std::string name = RelationshipsOf(part);
    JOULE_ASSIGN_OR_RETURN(auto xml, zip.Read(name));
    if (!xml) {
        return std::vector<Relationship>();
    }
    RelationshipsHandler handler;
    JOULE_TRY(ParseXml(name, *xml, handler));
    return std::move(handler.found);
}

const Relationship* FindByType(const std::vector<Relationship>& rels, std::string_view suffix) {
    const auto it = std::find_if(rels.begin(), rels.end(), [&](const Relationship& r) {
        return !r.external && r.type.ends_with(suffix);
    });
    return it == rels.end() ? nullptr : &*it;
}

// The r:id of the workbook's first visible sheet (else its first sheet).
class WorkbookHandler final : public XmlHandler {
public:
    std::optional<std::string> first_visible;
    std::optional<std::string> first;

    Status Start(std::string_view local, const char** attributes) override {
        if (local != "sheet") {
            return {};
        }
        const std::string id(Attribute(attributes, "id", true).value_or(""));
        const std::string_view state = Attribute(attributes, "state").value_or("visible");
        if (!first) {
            first = id;
        }
        if (!first_visible && state != "hidden" && state != "veryHidden") {
            first_visible = id;
        }
        return {};
    }
    Status End(std::string_view) override { return {}; }
    Status Text(std::string_view) override { return {}; }
};

// ---------------------------------------------------------------------------- shared strings

// <sst><si><t>text</t></si><si><r><t>ri</t></r><r><t>ch</t></r><rPh><t>ignored</t></rPh></si>
class SharedStringsHandler final : public XmlHandler {
public:
    explicit SharedStringsHandler(const XlsxLimits& limits) : limits_(limits) {}
    std::vector<std::string> strings;

    Status Start(std::string_view local, const char** /*attributes*/) override {
        if (local == "si") {
            if (strings.size() >= limits_.max_shared_strings) {
                return MakeError(
                    ErrorCode::kOutOfRange,
                    "more than " + std::to_string(limits_.max_shared_strings) + " shared strings");
            }
            in_si_ = true;
            current_.clear();
        } else if (local == "rPh") {
            ++phonetic_;
        } else if (local == "t" && in_si_ && phonetic_ == 0) {
            in_t_ = true;
        }
        return {};
    }
    Status End(std::string_view local) override {
        if (local == "si") {
            strings.push_back(std::move(current_));
            current_.clear();
            in_si_ = false;
        } else if (local == "rPh") {
            phonetic_ = phonetic_ > 0 ? phonetic_ - 1 : 0;
        } else if (local == "t") {
            in_t_ = false;
        }
        return {};
    }
    Status Text(std::string_view text) override {
        if (in_t_) {
            // Bounded by the part's size; a string too long for a cell is refused where it is used.
            current_.append(text);
        }
        return {};
    }

private:
    const XlsxLimits& limits_;
    std::string current_;
    bool in_si_ = false;
    bool in_t_ = false;
    int phonetic_ = 0;
};

// ------------------------------------------------------------------------------ the sheet

// "C7" -> (2, 7). nullopt when malformed.
std::optional<std::pair<std::size_t, int64_t>> ParseCellName(std::string_view name) {
    std::size_t i = 0;
    std::size_t column = 0;
    while (i < name.size() && name[i] >= 'A' && name[i] <= 'Z' && i < 3) {
        column = column * 26 + static_cast<std::size_t>(name[i] - 'A' + 1);
        ++i;
    }
    if (i == 0 || i == name.size() || column > kMaxSheetColumn) {
        return std::nullopt;
    }
    int64_t row = 0;
    for (std::size_t k = i; k < name.size(); ++k) {
        if (name[k] < '0' || name[k] > '9' || row > kMaxSheetRow) {
            return std::nullopt;
        }
        row = row * 10 + (name[k] - '0');
    }
    if (row < 1 || row > kMaxSheetRow || name[i] == '0') {
        return std::nullopt;
    }
    return std::pair{column - 1, row};
}

std::optional<int64_t> ParseRowNumber(std::string_view text) {
    if (text.empty() || text.size() > 7 || text.front() == '0') {
        return std::nullopt;
    }
    int64_t row = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        row = row * 10 + (c - '0');
    }
    return row >= 1 && row <= kMaxSheetRow ? std::optional<int64_t>(row) : std::nullopt;
}

// <sheetData><row r="7"><c r="C7" t="s"><v>3</v></c><c t="inlineStr"><is><t>x</t></is></c>
class SheetHandler final : public XmlHandler {
public:
    SheetHandler(const XlsxLimits& limits, const std::vector<std::string>& shared)
        : limits_(limits), shared_(shared) {}
    Sheet sheet;

    Status Start(std::string_view local, const char** attributes) override {
        if (local == "row") {
            return StartRow(attributes);
        }
        if (local == "c") {
            return StartCell(attributes);
        }
        if (!in_cell_) {
            return {};
        }
        if (local == "v") {
            in_v_ = true;
        } else if (local == "is") {
            in_is_ = true;
        } else if (local == "rPh") {
            ++phonetic_;
        } else if (local == "t" && in_is_ && phonetic_ == 0) {
            in_t_ = true;
        }
        return {};
    }

    Status End(std::string_view local) override {
        if (local == "row") {
            return EndRow();
        }
        if (local == "c") {
            return EndCell();
        }
        if (local == "v") {
            in_v_ = false;
        } else if (local == "is") {
            in_is_ = false;
        } else if (local == "rPh") {
            phonetic_ = phonetic_ > 0 ? phonetic_ - 1 : 0;
        } else if (local == "t") {
            in_t_ = false;
        }
        return {};
    }

    Status Text(std::string_view text) override {
        if ((in_v_ || in_t_) && in_cell_) {
            if (value_.size() + text.size() > limits_.sheet.max_cell_bytes) {
                return TooLong();
            }
            value_.append(text);
        }
        return {};
    }

private:
    Status StartRow(const char** attributes) {
        if (in_row_) {
            return std::unexpected(Invalid("a row inside a row"));
        }
        int64_t number = row_ + 1;
        if (const auto r = Attribute(attributes, "r")) {
            const auto parsed = ParseRowNumber(*r);
            if (!parsed) {
                return std::unexpected(
                    Invalid("row number '" + std::string(r->substr(0, 16)) + "' is not 1..1048576",
                            "row " + std::to_string(number)));
            }
            number = *parsed;
        }
        if (number <= row_ || number > kMaxSheetRow) {
            return std::unexpected(Invalid("rows out of order (row " + std::to_string(number) +
                                               " after row " + std::to_string(row_) + ")",
                                           "row " + std::to_string(number)));
        }
        row_ = number;
        column_ = kNoColumn;
        in_row_ = true;
        cells_.clear();
        return {};
    }

    Status EndRow() {
        in_row_ = false;
        if (cells_.empty()) {
            return {};  // only styles, or nothing but empty cells
        }
        if (sheet.rows.size() >= limits_.sheet.max_rows) {
            return MakeError(ErrorCode::kOutOfRange,
                             "more than " + std::to_string(limits_.sheet.max_rows) + " rows",
                             "row " + std::to_string(row_));
        }
        sheet.rows.push_back(SheetRow{row_, std::move(cells_)});
        cells_.clear();
        return {};
    }

    Status StartCell(const char** attributes) {
        if (!in_row_) {
            return std::unexpected(Invalid("a cell outside a row"));
        }
        std::size_t column = column_ == kNoColumn ? 0 : column_ + 1;
        if (const auto r = Attribute(attributes, "r")) {
            const auto parsed = ParseCellName(*r);
            if (!parsed || parsed->second != row_) {
                return std::unexpected(Invalid("cell reference '" + std::string(r->substr(0, 16)) +
                                                   "' is malformed or not in row " +
                                                   std::to_string(row_),
                                               "row " + std::to_string(row_)));
            }
            column = parsed->first;
        }
        if (column_ != kNoColumn && column <= column_) {
            return std::unexpected(
                Invalid("cells out of order in row " + std::to_string(row_), Here(column)));
        }
        if (column >= kMaxSheetColumn) {
            return std::unexpected(
                Invalid("a cell right of column XFD", "row " + std::to_string(row_)));
        }
        column_ = column;
        type_ = std::string(Attribute(attributes, "t").value_or("n").substr(0, 16));
        value_.clear();
        in_cell_ = true;
        return {};
    }

    Status EndCell() {
        in_cell_ = false;
        in_v_ = in_is_ = in_t_ = false;
        phonetic_ = 0;
        JOULE_ASSIGN_OR_RETURN(std::string text, CellText());
        if (text.empty()) {
            return {};
        }
        if (text.size() > limits_.sheet.max_cell_bytes) {
            return TooLong();
        }
        if (column_ >= limits_.sheet.max_columns) {
            return MakeError(ErrorCode::kOutOfRange,
                             "a cell right of column " + ColumnName(limits_.sheet.max_columns - 1) +
                                 " (the last column a sheet may use here)",
                             Here(column_));
        }
        if (!IsCellText(text)) {
            return std::unexpected(Invalid("the cell's text is not valid", Here(column_)));
        }
        cells_.resize(column_ + 1);
        cells_[column_] = std::move(text);
        return {};
    }

    Result<std::string> CellText() {
        if (type_ == "s") {
            if (value_.empty()) {
                return std::string();
            }
            std::size_t index = 0;
            for (char c : value_) {
                if (c < '0' || c > '9') {
                    return std::unexpected(
                        Invalid("a shared string index that is not a number", Here(column_)));
                }
                // Past the table's size the exact value no longer matters (and cannot overflow).
                index =
                    std::min(index * 10 + static_cast<std::size_t>(c - '0'), shared_.size() + 1);
            }
            if (index >= shared_.size()) {
                return std::unexpected(Invalid(
                    "shared string " + value_.substr(0, 16) + " does not exist", Here(column_)));
            }
            return shared_[index];
        }
        if (type_ == "inlineStr" || type_ == "str" || type_ == "e" || type_ == "d") {
            return value_;
        }
        if (type_ == "b") {
            if (value_ == "1") {
                return std::string("TRUE");
            }
            if (value_ == "0") {
                return std::string("FALSE");
            }
            if (value_.empty()) {
                return std::string();
            }
            return std::unexpected(Invalid("a boolean that is neither 0 nor 1", Here(column_)));
        }
        if (type_ == "n") {
            if (value_.empty()) {
                return std::string();
            }
            auto number = SpreadsheetNumberText(value_);
            if (!number) {
                return std::unexpected(Invalid(number.error().message, Here(column_)));
            }
            return number;
        }
        return std::unexpected(Invalid("a cell of unknown type '" + type_ + "'", Here(column_)));
    }

    [[nodiscard]] std::string Here(std::size_t column) const { return CellName(column, row_); }
    Status TooLong() const {
        return MakeError(
            ErrorCode::kOutOfRange,
            "the cell is longer than " + std::to_string(limits_.sheet.max_cell_bytes) + " bytes",
            Here(column_));
    }

    static constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);
    const XlsxLimits& limits_;
    const std::vector<std::string>& shared_;
    int64_t row_ = 0;                 // the current (or last) row's number
    std::size_t column_ = kNoColumn;  // the current (or last) cell's column in the row
    std::vector<std::string> cells_;
    std::string type_;
    std::string value_;
    bool in_row_ = false;
    bool in_cell_ = false;
    bool in_v_ = false;
    bool in_is_ = false;
    bool in_t_ = false;
    int phonetic_ = 0;
};

}  // namespace

Result<Sheet> ReadXlsx(std::string_view bytes, const XlsxLimits& limits) {
    JOULE_ASSIGN_OR_RETURN(auto zip, Archive::Open(bytes, limits));
    // The workbook part, from the package relationships.
    std::string workbook = "xl/workbook.xml";
    JOULE_ASSIGN_OR_RETURN(auto package, ReadRelationships(*zip, ""));
    if (const Relationship* office = FindByType(package, "/officeDocument")) {
        JOULE_ASSIGN_OR_RETURN(workbook, ResolveTarget("", office->target));
    }
    JOULE_ASSIGN_OR_RETURN(std::string workbook_xml, zip->ReadRequired(workbook));
    WorkbookHandler sheets;
    JOULE_TRY(ParseXml(workbook, workbook_xml, sheets));
    workbook_xml.clear();
    // The first visible sheet's part and the shared strings' part, from the workbook's
    // relationships (the conventional names when it has none).
    JOULE_ASSIGN_OR_RETURN(auto rels, ReadRelationships(*zip, workbook));
    std::string sheet_part = "xl/worksheets/sheet1.xml";
    std::string strings_part = "xl/sharedStrings.xml";
    if (!rels.empty()) {
        const std::optional<std::string>& id =
            sheets.first_visible ? sheets.first_visible : sheets.first;
        if (!id) {
            return std::unexpected(Invalid("the workbook has no sheet"));
        }
        const auto it = std::find_if(rels.begin(), rels.end(), [&](const Relationship& r) {
            return r.id == *id && !r.external;
        });
        if (it == rels.end()) {
            return std::unexpected(Invalid("the workbook's first sheet has no part"));
        }
        JOULE_ASSIGN_OR_RETURN(sheet_part, ResolveTarget(workbook, it->target));
        const Relationship* strings = FindByType(rels, "/sharedStrings");
        strings_part.clear();
        if (strings != nullptr) {
            JOULE_ASSIGN_OR_RETURN(strings_part, ResolveTarget(workbook, strings->target));
        }
    }
    std::vector<std::string> shared;
    if (!strings_part.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto strings_xml, zip->Read(strings_part));
        if (strings_xml) {
            SharedStringsHandler handler(limits);
            JOULE_TRY(ParseXml(strings_part, *strings_xml, handler));
            shared = std::move(handler.strings);
        }
    }
    JOULE_ASSIGN_OR_RETURN(std::string sheet_xml, zip->ReadRequired(sheet_part));
    SheetHandler handler(limits, shared);
    JOULE_TRY(ParseXml(sheet_part, sheet_xml, handler));
    return std::move(handler.sheet);
}

Result<std::string> SpreadsheetNumberText(std::string_view text) {
    const auto bad = [&]() -> Result<std::string> {
        return std::unexpected(
            Invalid("'" + std::string(text.substr(0, 32)) + "' is not a number"));
    };
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
        negative = text[i] == '-';
        ++i;
    }
    // The digits without the point, and how many of them come before it.
    std::string digits;
    int64_t point = 0;
    bool seen_point = false;
    bool any_digit = false;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c >= '0' && c <= '9') {
            any_digit = true;
            if (digits.empty() && c == '0') {
                if (seen_point) {
                    --point;  // a leading zero after the point moves it left
                }
                continue;
            }
            if (digits.size() >= 400) {
                return bad();
            }
            digits.push_back(c);
            if (!seen_point) {
                ++point;
            }
        } else if (c == '.' && !seen_point) {
            seen_point = true;
        } else {
            break;
        }
    }
    if (!any_digit) {
        return bad();
    }
    int64_t exponent = 0;
    if (i < text.size()) {
        if (text[i] != 'e' && text[i] != 'E') {
            return bad();
        }
        ++i;
        bool exponent_negative = false;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
            exponent_negative = text[i] == '-';
            ++i;
        }
        if (i == text.size()) {
            return bad();
        }
        for (; i < text.size(); ++i) {
            if (text[i] < '0' || text[i] > '9' || exponent > kMaxExponent) {
                return bad();
            }
            exponent = exponent * 10 + (text[i] - '0');
        }
        if (exponent > kMaxExponent) {
            return bad();
        }
        exponent = exponent_negative ? -exponent : exponent;
    }
    if (digits.empty()) {
        return std::string("0");
    }
    point += exponent;
    // Round to what a spreadsheet shows, half away from zero.
    if (digits.size() > static_cast<std::size_t>(kMaxSignificantDigits)) {
        const bool up = digits[kMaxSignificantDigits] >= '5';
        digits.resize(kMaxSignificantDigits);
        if (up) {
            std::size_t k = digits.size();
            while (k > 0 && digits[k - 1] == '9') {
                digits[--k] = '0';
            }
            if (k == 0) {
                digits.insert(digits.begin(), '1');
                digits.pop_back();
                ++point;
            } else {
                ++digits[k - 1];
            }
        }
    }
    // The value's magnitude, not only its written exponent, stays within 10^+-400: a longer
    // plain text would not read back as a number (the fuzzer found "4400...4e384", 407 digits).
    if (point > kMaxExponent || point < -kMaxExponent) {
        return bad();
    }
    while (!digits.empty() && digits.back() == '0') {
        digits.pop_back();
    }
    const auto count = static_cast<int64_t>(digits.size());
    std::string out = negative ? "-" : "";
    if (point <= 0) {
        out += "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    } else if (point >= count) {
        out += digits + std::string(static_cast<std::size_t>(point - count), '0');
    } else {
        out += digits.substr(0, static_cast<std::size_t>(point)) + "." +
               digits.substr(static_cast<std::size_t>(point));
    }
    return out;
}

}  // namespace joule::codec
