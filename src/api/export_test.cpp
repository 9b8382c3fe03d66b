// Lists as files: the table of JSON items (columns, flattening), CSV per RFC 4180 with a BOM and
// formula guards, and XLSX through libxlsxwriter.
#include "api/export.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace joule::api {
namespace {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

ExportTable TableOfText(std::string_view items) {
    auto table = TableOf(OrderedJson::parse(items));
    EXPECT_TRUE(table.has_value()) << table.error().ToString();
    return table.value_or(ExportTable{});
}

TEST(ExportFormat, IsJsonCsvOrXlsxAndNamesTheFieldOtherwise) {
    EXPECT_EQ(ParseExportFormat("json").value(), ExportFormat::kJson);
    EXPECT_EQ(ParseExportFormat("csv").value(), ExportFormat::kCsv);
    EXPECT_EQ(ParseExportFormat("xlsx").value(), ExportFormat::kXlsx);
    for (const char* bad : {"pdf", "CSV", "", "xls"}) {
        const auto format = ParseExportFormat(bad);
        ASSERT_FALSE(format.has_value()) << bad;
        EXPECT_EQ(format.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(format.error().field, "format");
    }
    EXPECT_EQ(ExportContentType(ExportFormat::kCsv), "text/csv; charset=utf-8");
    EXPECT_EQ(ExportContentType(ExportFormat::kXlsx),
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
}

TEST(ExportTable, ColumnsFollowTheFirstItemThenNewKeysAreAppended) {
    const ExportTable t = TableOfText(
        R"([{"number":"A1","tenant":"Tea","balance":{"paid":"1.00","debt":"0.00"}},
            {"number":"A2","phone":"138","tenant":"Cafe","balance":{"paid":"2.50"}}])");
    EXPECT_EQ(t.columns, (std::vector<std::string>{"number", "tenant", "balance.paid",
                                                   "balance.debt", "phone"}));
    ASSERT_EQ(t.rows.size(), 2u);
    ASSERT_EQ(t.rows[0].size(), 5u);  // padded to the columns seen later
    EXPECT_EQ(t.rows[0][2].text, "1.00");
    EXPECT_EQ(t.rows[0][4].text, "");
    EXPECT_EQ(t.rows[1][1].text, "Cafe");
    EXPECT_EQ(t.rows[1][3].text, "");  // no balance.debt in the second item
    EXPECT_EQ(t.rows[1][4].text, "138");
}

TEST(ExportTable, ArraysAreOneCellOfJsonAndScalarsAreWrittenAsTheApiWritesThem) {
    const ExportTable t = TableOfText(
        R"([{"id":7,"open":true,"detail":null,"scopes":["a","b"],"deep":{"x":{"y":1}},"r":0.5}])");
    EXPECT_EQ(t.columns,
              (std::vector<std::string>{"id", "open", "detail", "scopes", "deep.x.y", "r"}));
    const auto& row = t.rows.at(0);
    EXPECT_EQ(row[0].text, "7");
    EXPECT_TRUE(row[0].integer);
    EXPECT_EQ(row[1].text, "true");
    EXPECT_FALSE(row[1].integer);
    EXPECT_EQ(row[2].text, "");
    EXPECT_EQ(row[3].text, R"(["a","b"])");
    EXPECT_EQ(row[4].text, "1");
    EXPECT_EQ(row[5].text, "0.5");
    EXPECT_FALSE(row[5].integer);
    // A plain document has its keys sorted; not an array is refused.
    const auto sorted = TableOf(Json::parse(R"([{"b":1,"a":2}])"));
    EXPECT_EQ(sorted->columns, (std::vector<std::string>{"a", "b"}));
    EXPECT_FALSE(TableOf(Json::object()).has_value());
    EXPECT_TRUE(TableOf(Json::array())->columns.empty());
}

TEST(ExportTable, TooManyColumnsIsRefusedNamingFormat) {
    OrderedJson item = OrderedJson::object();
    for (std::size_t i = 0; i <= kMaxExportColumns; ++i) {
        item["k" + std::to_string(i)] = 1;
    }
    const auto t = TableOf(OrderedJson::array({item}));
    ASSERT_FALSE(t.has_value());
    EXPECT_EQ(t.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(t.error().field, "format");
}

TEST(FormulaGuard, StartsWithASignButNotAPlainDecimal) {
    for (const char* risky : {"=1+2", "=HYPERLINK(\"http://x\")", "+86 138", "-x", "-", "@SUM(A1)",
                              "\tx", "\rx", "-1e5", "--1", "-1.", "-.5", "+12", "＝1+1", "＠x"}) {
        EXPECT_TRUE(NeedsFormulaGuard(risky)) << risky;
    }
    for (const char* plain :
         {"", "-12.50", "-3", "0", "12.50", "Tea shop", "a=b", "1+1", "S101", "茶馆"}) {
        EXPECT_FALSE(NeedsFormulaGuard(plain)) << plain;
    }
}

TEST(Csv, IsRfc4180WithABomCrlfAndQuotedFields) {
    const ExportTable t = TableOfText(
        R"([{"name":"a,b","note":"say \"hi\"","lines":"1\n2","cr":"x\ry","plain":"ok"}])");
    const std::string csv = Csv(t);
    ASSERT_TRUE(csv.starts_with(kBom));
    EXPECT_EQ(csv.substr(kBom.size()),
              "name,note,lines,cr,plain\r\n"
              "\"a,b\",\"say \"\"hi\"\"\",\"1\n2\",\"x\ry\",ok\r\n");
}

TEST(Csv, GuardsFormulasButKeepsAmountsAndChineseText) {
    const ExportTable t = TableOfText(
        R"js([{"tenant":"=cmd|' /C calc'!A0","amount":"-12.50","phone":"+86 138","who":"@x"},
              {"tenant":"茶馆 (一楼)","amount":"25.00","phone":"-","who":"-1,5"}])js");
    const std::string csv = Csv(t);
    EXPECT_EQ(csv.substr(kBom.size()),
              "tenant,amount,phone,who\r\n"
              "'=cmd|' /C calc'!A0,-12.50,'+86 138,'@x\r\n"
              "茶馆 (一楼),25.00,'-,\"'-1,5\"\r\n");
}

TEST(Csv, AnEmptyListIsABomAndAnEmptyHeader) {
    EXPECT_EQ(Csv(ExportTable{}), std::string(kBom) + "\r\n");
}

TEST(SheetName, IsValidForExcel) {
    EXPECT_EQ(SheetName("accounts"), "accounts");
    EXPECT_EQ(SheetName("a/b[c]:d*e?f\\g"), "a_b_c__d_e_f_g");
    EXPECT_EQ(SheetName("'quoted'"), "quoted");
    EXPECT_EQ(SheetName(""), "export");
    EXPECT_EQ(SheetName(std::string(40, 'x')), std::string(31, 'x'));
    EXPECT_EQ(SheetName(std::string(40, 'x')).size(), 31u);
    // Cut on characters, not bytes: 40 Chinese characters (3 bytes each) keep 31.
    std::string chinese;
    for (int i = 0; i < 40; ++i) {
        chinese += "电";
    }
    EXPECT_EQ(SheetName(chinese).size(), 31u * 3);
}

// Runs `unzip -p file member` when unzip is installed; nullopt when it is not.
std::optional<std::string> UnzipMember(const std::string& file, const std::string& member) {
    if (std::system("command -v unzip >/dev/null 2>&1") != 0) {
        return std::nullopt;
    }
    const std::string command = "unzip -p '" + file + "' '" + member + "'";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return std::nullopt;
    }
    std::string out;
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        out.append(buffer, n);
    }
    ::pclose(pipe);
    return out;
}

TEST(Xlsx, IsAZipWithTheSheetTheHeaderAndTextAmounts) {
    const ExportTable t = TableOfText(
        R"([{"number":"A001","tenant_name":"茶馆","amount":"-12.50","version":3,"f":"=1+1"}])");
    const auto xlsx = Xlsx(t, "accounts");
    ASSERT_TRUE(xlsx.has_value()) << xlsx.error().ToString();
    ASSERT_GT(xlsx->size(), 100u);
    EXPECT_EQ(xlsx->substr(0, 2), "PK");
    // Check the sheet's XML when unzip is there (it is in scripts/install-deps.sh).
    const std::string path = (std::filesystem::temp_directory_path() /
                              ("joule-xlsx-test-" + std::to_string(::getpid()) + ".xlsx"))
                                 .string();
    {
        std::ofstream out(path, std::ios::binary);
        out << *xlsx;
    }
    const auto sheet = UnzipMember(path, "xl/worksheets/sheet1.xml");
    const auto workbook = UnzipMember(path, "xl/workbook.xml");
    std::filesystem::remove(path);
    if (!sheet) {
        GTEST_SKIP() << "unzip is not installed: the zip's contents are not checked";
    }
    // constant_memory writes strings inline, so the values are in the sheet itself.
    EXPECT_NE(sheet->find("tenant_name"), std::string::npos) << *sheet;
    EXPECT_NE(sheet->find("茶馆"), std::string::npos);
    EXPECT_NE(sheet->find("-12.50"), std::string::npos);    // the amount as text, exactly
    EXPECT_NE(sheet->find("<v>3</v>"), std::string::npos);  // an integer as a number
    EXPECT_NE(sheet->find("=1+1"), std::string::npos);      // a string, not a formula:
    EXPECT_EQ(sheet->find("<f>"), std::string::npos);
    ASSERT_TRUE(workbook.has_value());
    EXPECT_NE(workbook->find("name=\"accounts\""), std::string::npos) << *workbook;
}

TEST(Xlsx, ACellLongerThanExcelAllowsIsRefusedNamingFormat) {
    ExportTable t;
    t.columns = {"detail"};
    t.rows = {{ExportCell{std::string(40'000, 'x'), false}}};
    const auto xlsx = Xlsx(t, "operations");
    ASSERT_FALSE(xlsx.has_value());
    EXPECT_EQ(xlsx.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(xlsx.error().field, "format");
}

TEST(Xlsx, LeavesNoTemporaryFileBehind) {
    // A private TMPDIR, so that exports running elsewhere do not count.
    const std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("joule-xlsx-tmp-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const char* old = std::getenv("TMPDIR");
    const std::string saved = old == nullptr ? "" : old;
    ::setenv("TMPDIR", dir.c_str(), 1);
    const auto xlsx = Xlsx(TableOfText(R"([{"a":"1"}])"), "x");
    const bool empty = std::filesystem::is_empty(dir);
    if (old == nullptr) {
        ::unsetenv("TMPDIR");
    } else {
        ::setenv("TMPDIR", saved.c_str(), 1);
    }
    std::filesystem::remove_all(dir);
    ASSERT_TRUE(xlsx.has_value()) << xlsx.error().ToString();
    EXPECT_TRUE(empty);
}

}  // namespace
}  // namespace joule::api
