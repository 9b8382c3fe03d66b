// Imports [HIER-3]: POST .../imports/{kind} takes a filled-in template — a CSV (UTF-8, a BOM
// optional, RFC 4180) or an XLSX workbook, told apart by their first bytes — and
// GET .../imports/{kind}/template?format=csv|xlsx gives the template. Here the file becomes typed
// rows: the header row is matched to the template's columns, every cell of every row is checked
// and each problem kept with its row and column; the store's checks and the one unit of work that
// writes everything or nothing are the service's (service/site_import.hpp).
#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <iterator>
#include <map>
#include <set>
#include <span>

#include "api/api_internal.hpp"
#include "base/decimal.hpp"
#include "codec/csv_reader.hpp"
#include "codec/xlsx_reader.hpp"
#include "service/site_import.hpp"

namespace joule::api {

namespace {

constexpr std::string_view kXlsxType =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
constexpr std::size_t kMaxImportColumns = 64;
constexpr std::size_t kMaxImportCellBytes = 4096;
constexpr std::size_t kMaxListedErrors = 1'000;  // the rest are counted, not listed
constexpr int kMaxConcurrentImports = 2;

// One column of a template: its field key (what the header must name), the header's Chinese
// label, whether it must be filled, what goes there, and the example row's value.
struct Column {
    std::string_view key;
    std::string_view label;
    bool required;
    std::string_view help;
    std::string_view example;
};

constexpr std::array kBuildingColumns = {
    Column{"code", "楼栋编号", true,
           "楼栋的编号，项目内唯一 / the building's code, unique in the project", "B1"},
    Column{"name", "楼栋名称", false, "不填则同编号 / empty: the code", "1号楼"},
};

constexpr std::array kRoomColumns = {
    Column{"building", "楼栋", false,
           "楼栋编号或名称；不存在则新建 / a building's code or name; created when there is none",
           "B1"},
    Column{"floor", "楼层", false,
           "该楼栋的楼层编号或名称；不存在则新建 / a floor of that building; created when there "
           "is none",
           "1F"},
    Column{"code", "房间编号", true, "项目内唯一 / unique in the project", "101"},
    Column{"name", "房间名称", false, "不填则同编号 / empty: the code", "商铺101"},
    Column{"area", "面积(m²)", false, "平方米，最多两位小数 / m², at most two decimals", "35.50"},
};

constexpr std::array kGatewayColumns = {
    Column{"code", "网关编号", true, "项目内唯一 / unique in the project", "GW1"},
    Column{"name", "网关名称", false, "不填则同编号 / empty: the code", "1号楼配电房"},
    Column{"transport", "通讯方式", true,
           "mqtt、modbus_tcp（平台轮询）或 dtu（4G 透传） / mqtt, modbus_tcp or dtu", "modbus_tcp"},
    Column{"endpoint", "地址", false,
           "modbus_tcp: host:port；dtu: 注册包编号（必填）；mqtt: 客户端 ID / host:port, the "
           "DTU's registration id, or the MQTT client id",
           "192.168.1.20:502"},
    Column{"framing", "帧格式", false,
           "modbus_tcp: transparent（透传 RS-485，默认）或 mbap / transparent (default) or mbap",
           "transparent"},
};

constexpr std::array kMeterColumns = {
    Column{"code", "表号", true,
           "表的序列号或通讯地址，项目内唯一（按文本填写，保留前导零） / the meter's serial or "
           "address, unique in the project (as text: leading zeros kept)",
           "000012345678"},
    Column{"model", "型号", true, "表型号编码（GET /api/v1/models） / a model code", "dds-1"},
    Column{"gateway", "网关编号", false, "已有网关 / an existing gateway", "GW1"},
    Column{"bus_address", "通讯地址", false,
           "总线上的地址或 Modbus 从站号；不填则同表号 / its bus address or Modbus unit id; empty: "
           "the code",
           ""},
    Column{"circuit", "回路", false, "多回路表箱的回路 0-63；单表为 0 / circuit of a box, 0..63",
           "0"},
    Column{"room", "房间编号", false, "已有房间 / an existing room", "101"},
    Column{"tariff", "电价方案", false,
           "一表一价：覆盖户的电价 / this meter's own tariff over the account's", ""},
    Column{"parent", "上级表号", false,
           "总表（已有或本文件中的表） / its master meter, existing or in this file", ""},
    Column{"public_area", "公区表", false, "是/否（默认否） / yes or no (default no)", "否"},
};

constexpr std::array kAccountColumns = {
    Column{"number", "户号", true, "项目内唯一 / the account number, unique in the project",
           "A101"},
    Column{"tenant", "租户名称", true, "", "茶叶店"},
    Column{"phone", "电话", false, "", "13800000000"},
    Column{"tariff", "电价方案", true, "电价方案编码 / a tariff code of the project", "flat"},
    Column{"meters", "表号", true, "一户多表用分号分隔 / several meters separated by ';'",
           "000012345678"},
    Column{"readings", "开户读数", true,
           "每块表的开户读数（kWh 或 m³，最多三位小数），与表号一一对应 / each meter's opening "
           "register, in the same order",
           "1234.56"},
    Column{"balance", "初始余额(元)", false,
           "开户时的首笔充值，元，最多两位小数（需 money.top_up 权限） / a first top-up in yuan "
           "(needs money.top_up)",
           "100.00"},
    Column{"channel", "收款渠道", false, "首笔充值的渠道，默认 import / the first top-up's channel",
           "import"},
};

std::span<const Column> ColumnsOf(ImportKind kind) {
    switch (kind) {
        case ImportKind::kBuildings:
            return kBuildingColumns;
        case ImportKind::kRooms:
            return kRoomColumns;
        case ImportKind::kGateways:
            return kGatewayColumns;
        case ImportKind::kMeters:
            return kMeterColumns;
        case ImportKind::kAccounts:
            return kAccountColumns;
    }
    return {};
}

// The template's header cell of a column: "楼栋名称 building" style, label then key.
std::string HeaderOf(const Column& c) { return std::string(c.label) + " " + std::string(c.key); }

// Trims ASCII white space and the ideographic space U+3000 at both ends.
std::string_view Trim(std::string_view s) {
    constexpr std::string_view kWide = "\xE3\x80\x80";
    while (true) {
        if (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) {
            s.remove_prefix(1);
        } else if (s.starts_with(kWide)) {
            s.remove_prefix(kWide.size());
        } else if (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) {
            s.remove_suffix(1);
        } else if (s.ends_with(kWide)) {
            s.remove_suffix(kWide.size());
        } else {
            return s;
        }
    }
}

std::string Lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](char c) {
        return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    });
    return out;
}

// The column a header cell names: its key as a word ("楼栋名称 building", "Building"), or its
// label alone ("楼栋名称").
const Column* MatchHeader(std::span<const Column> columns, std::string_view cell) {
    const std::string text = Lower(Trim(cell));
    for (const Column& c : columns) {
        if (text == c.key || text == Lower(c.label) || text.ends_with(" " + std::string(c.key)) ||
            text == Lower(HeaderOf(c))) {
            return &c;
        }
    }
    return nullptr;
}

// The problems found here, merged with the service's and sorted by row then column.
struct Problem {
    int64_t row = 0;
    std::string column;
    ErrorCode code = ErrorCode::kInvalidArgument;
    std::string message;
};

// A data row's cells by field key, and where each column is.
class RowCells {
public:
    RowCells(const codec::SheetRow& row, const std::vector<const Column*>& by_index)
        : row_(row), by_index_(by_index) {}

    [[nodiscard]] int64_t number() const { return row_.number; }

    // The trimmed text of `key`'s cell ("" when the column is absent or the cell empty).
    [[nodiscard]] std::string Get(std::string_view key) const {
        for (std::size_t i = 0; i < by_index_.size() && i < row_.cells.size(); ++i) {
            if (by_index_[i] != nullptr && by_index_[i]->key == key) {
                return std::string(Trim(row_.cells[i]));
            }
        }
        return {};
    }

private:
    const codec::SheetRow& row_;
    const std::vector<const Column*>& by_index_;
};

// Turns one row into typed fields, keeping a problem per bad cell.
class RowReader {
public:
    RowReader(const RowCells& cells, std::span<const Column> columns,
              std::vector<Problem>& problems)
        : cells_(cells), columns_(columns), problems_(problems) {}

    std::string Text(std::string_view key, std::size_t max_bytes) {
        std::string text = cells_.Get(key);
        const Column* column = Find(key);
        if (text.empty() && column != nullptr && column->required) {
            Fail(key, "is required");
        } else if (text.size() > max_bytes) {
            Fail(key, "must be at most " + std::to_string(max_bytes) + " bytes");
        }
        return text;
    }

    // A decimal with at most `scale` places, not negative; 0 when empty.
    int64_t Decimal(std::string_view key, int scale, int64_t max) {
        const std::string text = Text(key, 32);
        if (text.empty()) {
            return 0;
        }
        auto value = ParseScaled(text, scale, std::string(key));
        if (!value || *value < 0 || *value > max) {
            Fail(key, "'" + text + "' is not a number from 0 with at most " +
                          std::to_string(scale) + " decimals");
            return 0;
        }
        return *value;
    }

    int64_t Integer(std::string_view key, int64_t min, int64_t max) {
        const std::string text = Text(key, 16);
        if (text.empty()) {
            return min;
        }
        int64_t value = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
            Fail(key, "must be a whole number from " + std::to_string(min) + " to " +
                          std::to_string(max));
            return min;
        }
        return value;
    }

    // 是/否, yes/no, true/false, 1/0 (Excel's TRUE/FALSE); empty: false.
    bool Flag(std::string_view key) {
        const std::string text = Lower(Text(key, 16));
        if (text.empty() || text == "否" || text == "no" || text == "n" || text == "false" ||
            text == "0") {
            return false;
        }
        if (text == "是" || text == "yes" || text == "y" || text == "true" || text == "1") {
            return true;
        }
        Fail(key, "must be 是 or 否 (yes or no)");
        return false;
    }

    // Items separated by ';' (or '；', ',', '，', '、'), each trimmed; empty items refused.
    std::vector<std::string> List(std::string_view key, std::size_t max_items) {
        const std::string text = Text(key, 4096);
        std::vector<std::string> out;
        if (text.empty()) {
            return out;
        }
        std::string normalized;
        for (std::size_t i = 0; i < text.size();) {
            bool separator = false;
            for (std::string_view s : {";", ",", "\xEF\xBC\x9B", "\xEF\xBC\x8C", "\xE3\x80\x81"}) {
                if (std::string_view(text).substr(i).starts_with(s)) {
                    normalized.push_back('\n');
                    i += s.size();
                    separator = true;
                    break;
                }
            }
            if (!separator) {
                normalized.push_back(text[i++]);
            }
        }
        std::size_t start = 0;
        while (start <= normalized.size()) {
            const auto end = normalized.find('\n', start);
            const std::string_view item = Trim(
                std::string_view(normalized)
                    .substr(start, end == std::string::npos ? std::string::npos : end - start));
            if (item.empty()) {
                Fail(key, "has an empty item between separators");
                return {};
            }
            out.emplace_back(item);
            if (end == std::string::npos) {
                break;
            }
            start = end + 1;
        }
        if (out.size() > max_items) {
            Fail(key, "at most " + std::to_string(max_items) + " items");
            return {};
        }
        return out;
    }

    void Fail(std::string_view key, std::string message) {
        if (failed_.insert(std::string(key)).second) {
            problems_.push_back(Problem{cells_.number(), std::string(key),
                                        ErrorCode::kInvalidArgument, std::move(message)});
        }
    }
    [[nodiscard]] bool failed() const { return !failed_.empty(); }

private:
    const Column* Find(std::string_view key) const {
        for (const Column& c : columns_) {
            if (c.key == key) {
                return &c;
            }
        }
        return nullptr;
    }

    const RowCells& cells_;
    std::span<const Column> columns_;
    std::vector<Problem>& problems_;
    std::set<std::string> failed_;
};

// Fills the request's rows of `kind` from one data row.
void ReadRow(ImportKind kind, RowReader& r, int64_t number, ImportRequest& request) {
    switch (kind) {
        case ImportKind::kBuildings: {
            BuildingRow row{number, r.Text("code", kMaxCodeBytes), r.Text("name", kMaxNameBytes)};
            request.buildings.push_back(std::move(row));
            break;
        }
        case ImportKind::kRooms: {
            RoomRow row;
            row.row = number;
            row.spec.building = r.Text("building", kMaxCodeBytes);
            row.spec.floor = r.Text("floor", kMaxCodeBytes);
            row.spec.code = r.Text("code", kMaxCodeBytes);
            row.spec.name = r.Text("name", kMaxNameBytes);
            row.spec.area_dm2 = r.Decimal("area", 2, kMaxAreaDm2);
            request.rooms.push_back(std::move(row));
            break;
        }
        case ImportKind::kGateways: {
            GatewayRow row;
            row.row = number;
            row.gateway.code = r.Text("code", kMaxCodeBytes);
            row.gateway.name = r.Text("name", kMaxNameBytes);
            row.gateway.transport = r.Text("transport", 16);
            row.gateway.endpoint = r.Text("endpoint", kMaxEndpointBytes);
            row.gateway.framing = r.Text("framing", 16);
            if (row.gateway.framing.empty()) {
                row.gateway.framing = "transparent";
            }
            request.gateways.push_back(std::move(row));
            break;
        }
        case ImportKind::kMeters: {
            MeterRow row;
            row.row = number;
            row.spec.code = r.Text("code", kMaxCodeBytes);
            row.spec.model = r.Text("model", kMaxCodeBytes);
            row.spec.gateway = r.Text("gateway", kMaxCodeBytes);
            row.spec.bus_address = r.Text("bus_address", kMaxBusAddressBytes);
            row.spec.circuit = r.Integer("circuit", 0, kMaxCircuit);
            row.spec.room = r.Text("room", kMaxCodeBytes);
            row.spec.tariff = r.Text("tariff", kMaxCodeBytes);
            row.spec.parent = r.Text("parent", kMaxCodeBytes);
            row.spec.public_area = r.Flag("public_area");
            request.meters.push_back(std::move(row));
            break;
        }
        case ImportKind::kAccounts: {
            AccountRow row;
            row.row = number;
            OpenAccountRequest& a = row.request;
            a.number = r.Text("number", kMaxCodeBytes);
            a.tenant_name = r.Text("tenant", kMaxNameBytes);
            a.phone = r.Text("phone", 32);
            a.tariff_code = r.Text("tariff", kMaxCodeBytes);
            const std::vector<std::string> meters = r.List("meters", kMaxMetersPerAccount);
            const std::vector<std::string> readings = r.List("readings", kMaxMetersPerAccount);
            if (!meters.empty() && !readings.empty() && meters.size() != readings.size()) {
                r.Fail("readings", "give one opening register per meter (" +
                                       std::to_string(meters.size()) + " meters, " +
                                       std::to_string(readings.size()) + " readings)");
            } else {
                for (std::size_t i = 0; i < meters.size() && i < readings.size(); ++i) {
                    auto total = ParseScaled(readings[i], kQuantityScale, "readings");
                    if (!total || *total < 0) {
                        r.Fail("readings", "'" + readings[i] +
                                               "' is not a register (kWh or m³, at most three "
                                               "decimals, not negative)");
                        break;
                    }
                    a.meters.push_back(MeterOpening{meters[i], Quantity{*total}, std::nullopt});
                }
            }
            a.first_top_up = Money{r.Decimal("balance", kMoneyScale, kMaxTransferFen)};
            a.channel = r.Text("channel", 32);
            if (a.channel.empty()) {
                a.channel = "import";
            }
            request.accounts.push_back(std::move(row));
            break;
        }
    }
}

// Whether a row is the template's example row, left in by mistake.
bool IsExampleRow(const RowCells& cells, std::span<const Column> columns) {
    int same = 0;
    for (const Column& c : columns) {
        const std::string text = cells.Get(c.key);
        if (text.empty() && c.example.empty()) {
            continue;
        }
        if (text != c.example) {
            return false;
        }
        ++same;
    }
    return same >= 2;
}

std::string KindTitle(ImportKind kind) {
    std::string name(ImportKindName(kind));
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
    return name;
}

Reply ProblemsReply(std::vector<Problem> problems, const std::vector<std::string>& header_keys,
                    const std::map<std::string, std::size_t>& column_index, std::size_t rows) {
    // In a row: what concerns the whole row first, then the template's column order.
    const auto order = [&](const std::string& key) {
        const auto it = std::find(header_keys.begin(), header_keys.end(), key);
        return key.empty() ? 0 : 1 + static_cast<std::size_t>(it - header_keys.begin());
    };
    std::stable_sort(problems.begin(), problems.end(), [&](const Problem& a, const Problem& b) {
        return a.row != b.row ? a.row < b.row : order(a.column) < order(b.column);
    });
    std::set<int64_t> bad_rows;
    Json listed = Json::array();
    for (const Problem& p : problems) {
        bad_rows.insert(p.row);
        if (listed.size() >= kMaxListedErrors) {
            continue;
        }
        Json item{{"row", p.row},
                  {"column", p.column},
                  {"code", ErrorCodeName(p.code)},
                  {"message", p.message}};
        if (const auto it = column_index.find(p.column); it != column_index.end() && p.row > 0) {
            item["cell"] = codec::CellName(it->second, p.row);
        }
        listed.push_back(std::move(item));
    }
    Json body{{"code", ErrorCodeName(ErrorCode::kInvalidArgument)},
              {"message", std::to_string(problems.size()) + " problem(s) in " +
                              std::to_string(bad_rows.size()) + " of " + std::to_string(rows) +
                              " row(s); nothing was imported"},
              {"field", "rows"},
              {"errors", std::move(listed)},
              {"errors_total", problems.size()}};
    return Reply{400, std::move(body), {}};
}

}  // namespace

void Api::Impl::AddImportRoutes() {
    struct KindRoutes {
        ImportKind kind;
        Permission manage;
        Permission view;
        const char* what;
    };
    static constexpr KindRoutes kKinds[] = {
        {ImportKind::kBuildings, Permission::kProjectsManage, Permission::kProjectsView,
         "buildings"},
        {ImportKind::kRooms, Permission::kProjectsManage, Permission::kProjectsView,
         "rooms, creating missing buildings and floors"},
        {ImportKind::kGateways, Permission::kDevicesManage, Permission::kDevicesView, "gateways"},
        {ImportKind::kMeters, Permission::kDevicesManage, Permission::kDevicesView, "meters"},
        {ImportKind::kAccounts, Permission::kAccountsManage, Permission::kAccountsView,
         "accounts opened on meters (an opening balance needs money.top_up)"},
    };
    for (const KindRoutes& k : kKinds) {
        const std::string name(ImportKindName(k.kind));
        RouteInfo import;
        import.method = "POST";
        import.pattern = "/api/v1/projects/{project}/imports/" + name;
        import.operation_id = "import" + KindTitle(k.kind);
        import.summary = std::string("Import ") + k.what +
                         " from a CSV or XLSX template: every row or none, row errors listed; "
                         "?dry_run=true checks only";
        import.tag = "imports";
        import.permission = k.manage;
        import.has_body = true;
        import.file_types = {"text/csv", std::string(kXlsxType)};
        import.max_body_bytes = kMaxImportBytes;
        const ImportKind kind = k.kind;
        Add(std::move(import), [this, kind](Call& c) { return Import(c, kind); });
        RouteInfo form;
        form.method = "GET";
        form.pattern = "/api/v1/projects/{project}/imports/" + name + "/template";
        form.operation_id = "import" + KindTitle(k.kind) + "Template";
        form.summary = "The import template of " + name +
                       " (?format=csv or xlsx): header, example row, and in XLSX a help sheet";
        form.tag = "imports";
        form.permission = k.view;
        form.file_types = {"text/csv", std::string(kXlsxType)};
        Add(std::move(form), [this, kind](Call& c) { return ImportTemplate(c, kind); });
    }
}

Result<Reply> Api::Impl::Import(Call& c, ImportKind kind) {
    JOULE_TRY(OnlyParams(c.query, {"dry_run"}));
    JOULE_ASSIGN_OR_RETURN(const bool dry_run, BoolParam(c.query, "dry_run", false));
    const std::string& file = c.http.body;
    if (file.empty()) {
        return InvalidArgument("body", "send the filled-in template (CSV or XLSX) as the body");
    }
    if (file.size() > kMaxImportBytes) {
        return MakeError(ErrorCode::kOutOfRange,
                         "the file is larger than 16 MiB; split it (at most 20,000 rows)", "body");
    }
    if (imports_running.fetch_add(1) >= kMaxConcurrentImports) {
        imports_running.fetch_sub(1);
        return MakeError(ErrorCode::kResourceExhausted,
                         "other imports are running; try again in a moment", "body");
    }
    struct Running {
        std::atomic<int>& count;
        ~Running() { count.fetch_sub(1); }
    } running{imports_running};

    // The file: XLSX is a zip; anything else is read as CSV.
    const bool xlsx = codec::LooksLikeZip(file);
    codec::XlsxLimits limits;
    limits.sheet.max_rows = kMaxImportRows + 1;  // and the header
    limits.sheet.max_columns = kMaxImportColumns;
    limits.sheet.max_cell_bytes = kMaxImportCellBytes;
    auto sheet = xlsx ? codec::ReadXlsx(file, limits) : codec::ReadCsv(file, limits.sheet);
    if (!sheet && sheet.error().code == ErrorCode::kOutOfRange &&
        sheet.error().field.starts_with("row ")) {
        return MakeError(ErrorCode::kOutOfRange,
                         "the file has more than " + std::to_string(kMaxImportRows) +
                             " rows to import; split it",
                         "body");
    }
    if (!sheet) {
        const Error& e = sheet.error();
        const std::string where = e.field.empty() ? "" : e.field + ": ";
        return MakeError(
            e.code, std::string(xlsx ? "the XLSX file" : "the CSV file") + ": " + where + e.message,
            "body");
    }
    if (sheet->rows.empty()) {
        return InvalidArgument("body", "the file is empty: it needs the template's header row");
    }

    // The header: every column known, none twice, every required one there.
    const std::span<const Column> columns = ColumnsOf(kind);
    const codec::SheetRow& header = sheet->rows.front();
    std::vector<const Column*> by_index(header.cells.size(), nullptr);
    std::vector<Problem> problems;
    std::map<std::string, std::size_t> column_index;
    std::vector<std::string> header_keys;
    for (const Column& col : columns) {
        header_keys.emplace_back(col.key);
    }
    for (std::size_t i = 0; i < header.cells.size(); ++i) {
        if (Trim(header.cells[i]).empty()) {
            continue;
        }
        const Column* col = MatchHeader(columns, header.cells[i]);
        if (col == nullptr) {
            std::string known;
            for (const Column& k : columns) {
                known += (known.empty() ? "" : ", ") + std::string(k.key);
            }
            problems.push_back(Problem{header.number, "", ErrorCode::kInvalidArgument,
                                       codec::CellName(i, header.number) + ": unknown column '" +
                                           std::string(Trim(header.cells[i])).substr(0, 64) +
                                           "'; the template's columns are " + known});
            continue;
        }
        if (!column_index.emplace(std::string(col->key), i).second) {
            problems.push_back(Problem{header.number, std::string(col->key),
                                       ErrorCode::kInvalidArgument,
                                       "column " + std::string(col->key) + " is there twice"});
            continue;
        }
        by_index[i] = col;
    }
    for (const Column& col : columns) {
        if (col.required && !column_index.contains(std::string(col.key))) {
            problems.push_back(Problem{header.number, std::string(col.key),
                                       ErrorCode::kInvalidArgument,
                                       "the required column " + HeaderOf(col) + " is missing"});
        }
    }
    const std::size_t data_rows = sheet->rows.size() - 1;
    if (!problems.empty()) {
        return ProblemsReply(std::move(problems), header_keys, column_index, data_rows);
    }
    if (data_rows == 0) {
        return InvalidArgument("body", "the file has a header but no rows to import");
    }

    // Every row, every cell.
    ImportRequest request;
    request.project_code = c.project->code;
    request.kind = kind;
    request.dry_run = dry_run;
    request.format = xlsx ? "xlsx" : "csv";
    request.file_rows = data_rows;
    bool money = false;
    for (std::size_t i = 1; i < sheet->rows.size(); ++i) {
        const codec::SheetRow& row = sheet->rows[i];
        const RowCells cells(row, by_index);
        bool stray = false;
        for (std::size_t k = 0; k < row.cells.size(); ++k) {
            if ((k >= by_index.size() || by_index[k] == nullptr) && !Trim(row.cells[k]).empty()) {
                problems.push_back(Problem{
                    row.number, "", ErrorCode::kInvalidArgument,
                    codec::CellName(k, row.number) + ": a value in a column without a header"});
                stray = true;
                break;
            }
        }
        if (stray) {
            continue;
        }
        if (IsExampleRow(cells, columns)) {
            problems.push_back(Problem{row.number, "", ErrorCode::kInvalidArgument,
                                       "this is the template's example row: delete it"});
            continue;
        }
        // A row with a bad cell is reported here and left out of the store's checks (which
        // would only report the same cell again).
        ImportRequest one;
        RowReader reader(cells, columns, problems);
        ReadRow(kind, reader, row.number, one);
        if (reader.failed()) {
            continue;
        }
        money = money || (kind == ImportKind::kAccounts &&
                          one.accounts.front().request.first_top_up.fen > 0);
        std::move(one.buildings.begin(), one.buildings.end(),
                  std::back_inserter(request.buildings));
        std::move(one.rooms.begin(), one.rooms.end(), std::back_inserter(request.rooms));
        std::move(one.gateways.begin(), one.gateways.end(), std::back_inserter(request.gateways));
        std::move(one.meters.begin(), one.meters.end(), std::back_inserter(request.meters));
        std::move(one.accounts.begin(), one.accounts.end(), std::back_inserter(request.accounts));
    }
    // Money goes in only with the permission to take it.
    if (money && !c.principal.Allows(Permission::kMoneyTopUp)) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "opening balances are top-ups: they need the permission money.top_up "
                         "(or import without the balance column)",
                         "balance");
    }
    request.check_only = !problems.empty();
    JOULE_ASSIGN_OR_RETURN(ImportResult result,
                           FromService(ImportSite(store, billing, request, c.actor(), c.now)));
    for (ImportRowError& e : result.errors) {
        problems.push_back(Problem{e.row, std::move(e.column), e.code, std::move(e.message)});
    }
    if (!problems.empty()) {
        return ProblemsReply(std::move(problems), header_keys, column_index, data_rows);
    }
    Json created = Json::object();
    Json counts = Json::object();
    for (const auto& [what, codes] : result.created) {
        created[what] = codes;
        counts[what] = codes.size();
    }
    Json body{{"kind", ImportKindName(kind)}, {"format", request.format},
              {"dry_run", dry_run},           {"rows", data_rows},
              {"counts", std::move(counts)},  {"created", std::move(created)}};
    return Reply{dry_run ? 200 : 201, std::move(body), {}};
}

Result<Reply> Api::Impl::ImportTemplate(Call& c, ImportKind kind) {
    JOULE_TRY(OnlyParams(c.query, {"format"}));
    std::string format = "csv";
    if (const auto it = c.query.find("format"); it != c.query.end()) {
        format = it->second;
    }
    if (format != "csv" && format != "xlsx") {
        return InvalidArgument("format", "must be csv or xlsx");
    }
    const std::span<const Column> columns = ColumnsOf(kind);
    ExportTable sheet;
    std::vector<ExportCell> example;
    for (const Column& col : columns) {
        sheet.columns.push_back(HeaderOf(col));
        example.push_back(ExportCell{std::string(col.example), false});
    }
    sheet.rows.push_back(std::move(example));
    const std::string name(ImportKindName(kind));
    std::string file_name = c.project->code + "-" + name + "-template";
    for (char& ch : file_name) {
        if (std::isalnum(static_cast<unsigned char>(ch)) == 0 && ch != '-' && ch != '_' &&
            ch != '.') {
            ch = '_';
        }
    }
    Reply reply;
    if (format == "csv") {
        reply.text = Csv(sheet);
        reply.content_type = "text/csv; charset=utf-8";
    } else {
        // A second sheet explains each column.
        ExportTable help;
        help.columns = {"列 column", "字段 field", "必填 required", "说明 description",
                        "示例 example"};
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const Column& col = columns[i];
            help.rows.push_back({ExportCell{codec::ColumnName(i), false},
                                 ExportCell{HeaderOf(col), false},
                                 ExportCell{col.required ? "是 yes" : "否 no", false},
                                 ExportCell{std::string(col.help), false},
                                 ExportCell{std::string(col.example), false}});
        }
        help.rows.push_back(
            {ExportCell{"", false}, ExportCell{"", false}, ExportCell{"", false},
             ExportCell{"第 2 行是示例，导入前请删除；任一行有错则整个文件都不导入。 "
                        "Row 2 is an example: delete it. A file with any error "
                        "imports nothing.",
                        false},
             ExportCell{"", false}});
        const XlsxSheet sheets[] = {{name, &sheet, true, 1}, {"说明 help", &help, true, 0}};
        JOULE_ASSIGN_OR_RETURN(reply.text, XlsxWorkbook(sheets));
        reply.content_type = std::string(kXlsxType);
    }
    reply.headers.emplace_back("Content-Disposition",
                               "attachment; filename=\"" + file_name + "." + format + "\"");
    return reply;
}

}  // namespace joule::api
