#include "codec/xlsx_reader.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "codec/test_zip.hpp"

namespace joule::codec {
namespace {

using Cells = std::vector<std::string>;
using Entries = testing::ZipEntries;

using testing::MakeZip;

constexpr const char* kMain = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
constexpr const char* kRel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

std::string Sst(const std::vector<std::string>& items) {
    std::string out = std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><sst xmlns=\"") +
                      kMain + "\" count=\"" + std::to_string(items.size()) + "\">";
    for (const std::string& item : items) {
        out += "<si>" + item + "</si>";
    }
    return out + "</sst>";
}

std::string SheetXml(const std::string& rows) {
    return std::string("<?xml version=\"1.0\" encoding=\"UTF-8\"?><worksheet xmlns=\"") + kMain +
           "\" xmlns:r=\"" + kRel + "\"><sheetData>" + rows + "</sheetData></worksheet>";
}

// The parts of a workbook with one sheet (the conventional names), shared strings optional.
Entries Workbook(const std::string& sheet, const std::string& shared = "") {
    Entries parts = {
        {"[Content_Types].xml",
         "<?xml version=\"1.0\"?><Types "
         "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>"},
        {"_rels/.rels",
         std::string("<?xml version=\"1.0\"?><Relationships "
                     "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                     "<Relationship Id=\"rId1\" Type=\"") +
             kRel + "/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>"},
        {"xl/workbook.xml", std::string("<?xml version=\"1.0\"?><workbook xmlns=\"") + kMain +
                                "\" xmlns:r=\"" + kRel +
                                "\"><sheets><sheet name=\"rooms\" sheetId=\"1\" "
                                "r:id=\"rId1\"/></sheets></workbook>"},
        {"xl/_rels/workbook.xml.rels",
         std::string("<?xml version=\"1.0\"?><Relationships "
                     "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                     "<Relationship Id=\"rId1\" Type=\"") +
             kRel +
             "/worksheet\" Target=\"worksheets/sheet1.xml\"/><Relationship Id=\"rId2\" Type=\"" +
             kRel + "/sharedStrings\" Target=\"sharedStrings.xml\"/></Relationships>"},
        {"xl/worksheets/sheet1.xml", sheet},
    };
    if (!shared.empty()) {
        parts.emplace_back("xl/sharedStrings.xml", shared);
    }
    return parts;
}

Sheet Read(const std::string& bytes, const XlsxLimits& limits = {}) {
    auto sheet = ReadXlsx(bytes, limits);
    EXPECT_TRUE(sheet.has_value()) << sheet.error().ToString();
    return sheet.value_or(Sheet{});
}

Error Fails(const std::string& bytes, const XlsxLimits& limits = {}) {
    auto sheet = ReadXlsx(bytes, limits);
    EXPECT_FALSE(sheet.has_value());
    return sheet.has_value() ? Error{} : sheet.error();
}

TEST(XlsxReader, ReadsSharedInlineNumberAndBooleanCells) {
    const std::string shared =
        Sst({"<t>code</t>", "<t>name</t>", "<t xml:space=\"preserve\"> 1号楼 </t>",
             "<r><t>Tea</t></r><r><rPr><b/></rPr><t> shop</t></r>"
             "<rPh sb=\"0\" eb=\"1\"><t>ティー</t></rPh>"});
    const std::string rows =
        "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
        "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\" t=\"s\"><v>3</v></c>"
        "<c r=\"C2\"><v>12.300000000000001</v></c><c r=\"D2\" t=\"b\"><v>1</v></c>"
        "<c r=\"E2\" t=\"inlineStr\"><is><t>inline &amp; &lt;text&gt;</t></is></c>"
        "<c r=\"F2\" t=\"str\"><f>A2&amp;\"x\"</f><v>computed</v></c>"
        "<c r=\"G2\" t=\"e\"><v>#N/A</v></c></row>";
    const Sheet sheet = Read(MakeZip(Workbook(SheetXml(rows), shared)));
    ASSERT_EQ(sheet.rows.size(), 2u);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"code", "name"}));
    EXPECT_EQ(sheet.rows[1].number, 2);
    EXPECT_EQ(sheet.rows[1].cells, (Cells{" 1号楼 ", "Tea shop", "12.3", "TRUE", "inline & <text>",
                                          "computed", "#N/A"}));
}

TEST(XlsxReader, GapsInCellsAndRowsKeepTheirPlaces) {
    const std::string rows =
        "<row r=\"2\"><c r=\"B2\" t=\"inlineStr\"><is><t>b</t></is></c>"
        "<c r=\"D2\"><v>4</v></c></row>"
        "<row r=\"3\" s=\"1\" customFormat=\"1\"><c r=\"A3\" s=\"1\"/></row>"  // styled, empty
        "<row r=\"7\"><c t=\"inlineStr\"><is><t>a</t></is></c><c><v>2</v></c></row>"
        "<row><c r=\"C8\"><v>-1.25E-3</v></c></row>";
    const Sheet sheet = Read(MakeZip(Workbook(SheetXml(rows))));
    ASSERT_EQ(sheet.rows.size(), 3u);
    EXPECT_EQ(sheet.rows[0].number, 2);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"", "b", "", "4"}));
    EXPECT_EQ(sheet.rows[1].number, 7);  // cells without r follow each other from A
    EXPECT_EQ(sheet.rows[1].cells, (Cells{"a", "2"}));
    EXPECT_EQ(sheet.rows[2].number, 8);  // a row without r follows the previous one
    EXPECT_EQ(sheet.rows[2].cells, (Cells{"", "", "-0.00125"}));
}

TEST(XlsxReader, PrefixedNamesAndAnotherFirstSheetAreFollowed) {
    // Some writers prefix every element (x:), put the sheet elsewhere, hide a first sheet and
    // name parts with absolute targets.
    const std::string main = kMain;
    Entries parts = {
        {"_rels/.rels",
         std::string("<Relationships "
                     "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                     "<Relationship Id=\"a\" Type=\"") +
             kRel + "/officeDocument\" Target=\"/book/main.xml\"/></Relationships>"},
        {"book/main.xml", "<x:workbook xmlns:x=\"" + main + "\" xmlns:r=\"" + kRel +
                              "\"><x:sheets><x:sheet name=\"hidden\" r:id=\"h\" state=\"hidden\"/>"
                              "<x:sheet name=\"data\" r:id=\"d\"/></x:sheets></x:workbook>"},
        {"book/_rels/main.xml.rels",
         std::string("<Relationships "
                     "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
                     "<Relationship Id=\"h\" Type=\"") +
             kRel + "/worksheet\" Target=\"sheets/h.xml\"/><Relationship Id=\"d\" Type=\"" + kRel +
             "/worksheet\" Target=\"../book/sheets/d.xml\"/></Relationships>"},
        {"book/sheets/h.xml", "<x:worksheet xmlns:x=\"" + main +
                                  "\"><x:sheetData><x:row r=\"1\"><x:c r=\"A1\"><x:v>1</x:v>"
                                  "</x:c></x:row></x:sheetData></x:worksheet>"},
        {"book/sheets/d.xml",
         "<x:worksheet xmlns:x=\"" + main +
             "\"><x:sheetData><x:row r=\"1\"><x:c r=\"A1\" t=\"inlineStr\"><x:is><x:t>visible"
             "</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>"},
    };
    const Sheet sheet = Read(MakeZip(parts));
    ASSERT_EQ(sheet.rows.size(), 1u);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"visible"}));
}

TEST(XlsxReader, WorkbooksWithoutRelationshipsUseTheConventionalNames) {
    Entries parts = Workbook(SheetXml("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>"),
                             Sst({"<t>only</t>"}));
    std::erase_if(parts, [](const auto& p) { return p.first.ends_with(".rels"); });
    const Sheet sheet = Read(MakeZip(parts));
    ASSERT_EQ(sheet.rows.size(), 1u);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"only"}));
}

TEST(XlsxReader, DamagedWorkbooksAreRefusedSayingWhy) {
    const std::string good =
        MakeZip(Workbook(SheetXml("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>")));
    EXPECT_EQ(Fails("code,name\n").code, ErrorCode::kInvalidArgument);  // not a zip
    EXPECT_EQ(Fails(good.substr(0, good.size() / 2)).code, ErrorCode::kInvalidArgument);
    Error e = Fails(MakeZip({{"hello.txt", "hi"}}));
    EXPECT_NE(e.message.find("xl/workbook.xml"), std::string::npos) << e.message;
    e = Fails(MakeZip(Workbook(SheetXml("<row r=\"1\"><c r=\"A1\"><v>1</v></row>"))));
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_NE(e.message.find("xl/worksheets/sheet1.xml line 1: malformed XML"), std::string::npos)
        << e.message;
    // A DOCTYPE is refused before any entity could be declared, let alone expanded.
    e = Fails(MakeZip(Workbook(
        "<?xml version=\"1.0\"?><!DOCTYPE lol [<!ENTITY a \"aaaaaaaa\"><!ENTITY b "
        "\"&a;&a;&a;&a;&a;&a;&a;&a;\">]><worksheet><sheetData><row><c t=\"inlineStr\"><is><t>&b;"
        "</t></is></c></row></sheetData></worksheet>")));
    EXPECT_NE(e.message.find("DOCTYPE"), std::string::npos) << e.message;
}

TEST(XlsxReader, CellErrorsNameTheCell) {
    Error e = Fails(MakeZip(
        Workbook(SheetXml("<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>"
                          "99999999999999999999999</v></c></row>"),
                 Sst({"<t>one</t>"}))));
    EXPECT_EQ(e.field, "B1");
    EXPECT_NE(e.message.find("does not exist"), std::string::npos) << e.message;
    e = Fails(MakeZip(Workbook(SheetXml("<row r=\"4\"><c r=\"C4\"><v>12x</v></c></row>"))));
    EXPECT_EQ(e.field, "C4");
    e = Fails(MakeZip(
        Workbook(SheetXml("<row r=\"4\"><c r=\"C4\"><v>1</v></c><c r=\"B4\"><v>2</v></c></row>"))));
    EXPECT_EQ(e.field, "B4");
    EXPECT_NE(e.message.find("out of order"), std::string::npos) << e.message;
    e = Fails(MakeZip(Workbook(SheetXml(
        "<row r=\"4\"><c r=\"A4\"><v>1</v></c></row><row r=\"2\"><c><v>1</v></c></row>"))));
    EXPECT_EQ(e.field, "row 2");
    e = Fails(MakeZip(Workbook(SheetXml("<row r=\"4\"><c r=\"A5\"><v>1</v></c></row>"))));
    EXPECT_EQ(e.field, "row 4");
}

TEST(XlsxReader, AZipBombStopsAtThePartLimitWhateverItsHeadersSay) {
    XlsxLimits limits;
    limits.max_part_bytes = 1 << 20;
    limits.max_total_bytes = 3 << 20;
    // 8 MiB of one repeated row deflates to a few kilobytes.
    std::string rows;
    const std::string row = "<row><c><v>1</v></c></row>";
    while (rows.size() < (std::size_t{8} << 20)) {
        rows += row;
    }
    const std::string bomb = MakeZip(Workbook(SheetXml(rows)));
    EXPECT_LT(bomb.size(), std::size_t{200'000});
    Error e = Fails(bomb, limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
    EXPECT_NE(e.message.find("xl/worksheets/sheet1.xml is larger than"), std::string::npos)
        << e.message;
    // The total over all parts is bounded too.
    limits.max_part_bytes = 1 << 20;
    limits.max_total_bytes = 1000;
    e = Fails(MakeZip(Workbook(SheetXml("<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>"))), limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
    // And the number of entries.
    limits = XlsxLimits{};
    limits.max_entries = 5;
    e = Fails(MakeZip(Workbook(SheetXml(""), Sst({}))), limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
}

TEST(XlsxReader, SheetLimitsNameWhereTheyWereHit) {
    XlsxLimits limits;
    limits.sheet.max_rows = 2;
    limits.sheet.max_columns = 2;
    limits.sheet.max_cell_bytes = 4;
    auto read = [&](const std::string& rows) {
        return ReadXlsx(MakeZip(Workbook(SheetXml(rows))), limits);
    };
    EXPECT_TRUE(read("<row><c><v>1</v></c></row><row r=\"5\"/><row><c><v>2</v></c></row>"));
    auto e = read("<row><c><v>1</v></c></row><row><c><v>2</v></c></row><row><c><v>3</v></c></row>");
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(e.error().field, "row 3");
    e = read("<row><c r=\"C1\"><v>1</v></c></row>");
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().field, "C1");
    e = read("<row><c t=\"inlineStr\"><is><t>12345</t></is></c></row>");
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(e.error().field, "A1");
    // Empty cells far right are no cells at all.
    EXPECT_TRUE(read("<row><c r=\"A1\"><v>1</v></c><c r=\"Z1\" s=\"3\"/></row>"));
}

TEST(XlsxReader, SpreadsheetNumbersAreExactDecimalText) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"7", "7"},
        {"-7", "-7"},
        {"0", "0"},
        {"-0", "0"},
        {"0.000", "0"},
        {"12.5", "12.5"},
        {"12.300000000000001", "12.3"},
        {"2.9999999999999999E-2", "0.03"},
        {"1.2345E+3", "1234.5"},
        {"1.2345e3", "1234.5"},
        {"-1.25E-3", "-0.00125"},
        {"123456789012", "123456789012"},
        {"1.23456789012346E+17", "123456789012346000"},
        {"999999999999999.5", "1000000000000000"},
        {"0.1", "0.1"},
        {".5", "0.5"},
        {"5.", "5"},
        {"+3", "3"},
        {"1E+2", "100"},
        {"0.00012", "0.00012"},
    };
    for (const auto& [in, out] : cases) {
        auto text = SpreadsheetNumberText(in);
        ASSERT_TRUE(text.has_value()) << in << ": " << text.error().ToString();
        EXPECT_EQ(*text, out) << in;
    }
    for (const char* bad :
         {"", "-", ".", "E5", "1E", "1E+", "1.2.3", "12x", "1e999", "0x10", "1 2",
          // Exponents within 400 whose value is not: 23 digits times 10^384 is 407 digits long.
          "44004440004444444444444e384", "0.0000001e-395"}) {
        EXPECT_FALSE(SpreadsheetNumberText(bad).has_value()) << bad;
    }
    // What it gives reads back to itself, at the edge of the range too.
    for (const char* edge : {"1e399", "9.99999999999999e399", "1e-399", "-123e397"}) {
        auto text = SpreadsheetNumberText(edge);
        ASSERT_TRUE(text.has_value()) << edge;
        auto again = SpreadsheetNumberText(*text);
        ASSERT_TRUE(again.has_value()) << edge;
        EXPECT_EQ(*again, *text) << edge;
    }
}

// The committed seeds of the fuzz corpus are real workbooks (libxlsxwriter's, as the API's
// templates and exports are written): each is read.
TEST(XlsxReader, ReadsTheCommittedSeedWorkbooks) {
    const std::filesystem::path dir = std::filesystem::path(JOULE_CORPUS_DIR) / "xlsx_reader";
    int read = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".xlsx") {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes{std::istreambuf_iterator<char>(in), {}};
        auto sheet = ReadXlsx(bytes, XlsxLimits{});
        ASSERT_TRUE(sheet.has_value()) << entry.path() << ": " << sheet.error().ToString();
        EXPECT_FALSE(sheet->rows.empty()) << entry.path();
        ++read;
    }
    EXPECT_GE(read, 2);
}

}  // namespace
}  // namespace joule::codec
