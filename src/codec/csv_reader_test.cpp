#include "codec/csv_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace joule::codec {
namespace {

using Cells = std::vector<std::string>;

Sheet Read(std::string_view text, const SheetLimits& limits = {}) {
    auto sheet = ReadCsv(text, limits);
    EXPECT_TRUE(sheet.has_value()) << sheet.error().ToString();
    return sheet.value_or(Sheet{});
}

Error Fails(std::string_view text, const SheetLimits& limits = {}) {
    auto sheet = ReadCsv(text, limits);
    EXPECT_FALSE(sheet.has_value());
    return sheet.has_value() ? Error{} : sheet.error();
}

TEST(CsvReader, ReadsRowsWithTheirSpreadsheetNumbers) {
    const Sheet sheet = Read("code,name\r\nB1,Tower one\r\n\r\nB2,Tower two\r\n");
    ASSERT_EQ(sheet.rows.size(), 3u);
    EXPECT_EQ(sheet.rows[0].number, 1);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"code", "name"}));
    EXPECT_EQ(sheet.rows[1].cells, (Cells{"B1", "Tower one"}));
    // The blank line is row 3 of the sheet: left out, but counted.
    EXPECT_EQ(sheet.rows[2].number, 4);
    EXPECT_EQ(sheet.rows[2].cells, (Cells{"B2", "Tower two"}));
}

TEST(CsvReader, TakesEveryNewlineAndNoneAtTheEnd) {
    for (const char* text : {"a,b\nc,d", "a,b\r\nc,d\r\n", "a,b\rc,d\r", "a,b\nc,d\n"}) {
        const Sheet sheet = Read(text);
        ASSERT_EQ(sheet.rows.size(), 2u) << text;
        EXPECT_EQ(sheet.rows[1].number, 2) << text;
        EXPECT_EQ(sheet.rows[1].cells, (Cells{"c", "d"})) << text;
    }
    EXPECT_TRUE(Read("").rows.empty());
    EXPECT_TRUE(Read("\xEF\xBB\xBF").rows.empty());
    EXPECT_TRUE(Read("\n\n,,\n").rows.empty());
}

TEST(CsvReader, SkipsTheByteOrderMarkOfExcelsCsvUtf8) {
    const Sheet sheet = Read("\xEF\xBB\xBF楼栋名称 building,面积\n1号楼,12.50\n");
    ASSERT_EQ(sheet.rows.size(), 2u);
    EXPECT_EQ(sheet.rows[0].cells[0], "楼栋名称 building");
    EXPECT_EQ(sheet.rows[1].cells, (Cells{"1号楼", "12.50"}));
}

TEST(CsvReader, QuotedCellsHoldCommasNewlinesAndDoubledQuotes) {
    const Sheet sheet = Read(
        "code,note\n\"R1\",\"a, b\"\n\"R2\",\"line one\r\nline two\"\n\"R3\",\"say \"\"hi\"\"\"\n"
        "R4,\"\"\n");
    ASSERT_EQ(sheet.rows.size(), 5u);
    EXPECT_EQ(sheet.rows[1].cells, (Cells{"R1", "a, b"}));
    EXPECT_EQ(sheet.rows[2].cells, (Cells{"R2", "line one\r\nline two"}));
    // A newline inside a cell is not a new row: R3 is the spreadsheet's fourth row.
    EXPECT_EQ(sheet.rows[3].number, 4);
    EXPECT_EQ(sheet.rows[3].cells, (Cells{"R3", "say \"hi\""}));
    EXPECT_EQ(sheet.rows[4].cells, (Cells{"R4"}));  // a trailing empty cell is dropped
}

TEST(CsvReader, KeepsGapsAndDropsTrailingEmptyCells) {
    const Sheet sheet = Read("a,,c,,\n,b\n");
    ASSERT_EQ(sheet.rows.size(), 2u);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"a", "", "c"}));
    EXPECT_EQ(sheet.rows[1].cells, (Cells{"", "b"}));
}

TEST(CsvReader, AQuoteInsideAPlainCellIsText) {
    const Sheet sheet = Read("5\" pipe,O'Brien\n");
    ASSERT_EQ(sheet.rows.size(), 1u);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"5\" pipe", "O'Brien"}));
}

TEST(CsvReader, SqlMetaCharactersAreJustText) {
    const Sheet sheet = Read("\"x'; DROP TABLE rooms; --\",\"a\\\\b\"\n");
    ASSERT_EQ(sheet.rows.size(), 1u);
    EXPECT_EQ(sheet.rows[0].cells, (Cells{"x'; DROP TABLE rooms; --", "a\\\\b"}));
}

TEST(CsvReader, QuoteErrorsNameTheCell) {
    Error e = Fails("a,b\nc,\"open\n");
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, "B2");
    EXPECT_NE(e.message.find("never closed"), std::string::npos) << e.message;
    e = Fails("a,b\n\"x\"y,z\n");
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, "A2");
    EXPECT_NE(e.message.find("after a closing quote"), std::string::npos) << e.message;
}

TEST(CsvReader, TextThatIsNotUtf8IsRefusedNamingTheCell) {
    // "楼" in GBK, as Excel's plain "CSV" writes it on a Chinese system.
    Error e = Fails("code,name\nB1,\xC2\xA5\xB6\xB0\n");
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(e.field, "B2");
    EXPECT_NE(e.message.find("UTF-8"), std::string::npos) << e.message;
    EXPECT_EQ(Fails(std::string("a,b\x00,c\n", 7)).field, "B1");  // a NUL byte
    EXPECT_EQ(Fails("\xED\xA0\x80\n").field, "A1");               // a surrogate
    EXPECT_EQ(Fails("\xC0\xAF\n").field, "A1");                   // an overlong '/'
}

TEST(CsvReader, LimitsAreErrorsNamingWhereTheyWereHit) {
    SheetLimits limits;
    limits.max_rows = 2;
    limits.max_columns = 3;
    limits.max_cell_bytes = 8;
    EXPECT_EQ(Read("a\nb\n\n", limits).rows.size(), 2u);
    Error e = Fails("a\nb\n\nc\n", limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
    EXPECT_EQ(e.field, "row 4");
    // Trailing empty cells right of the last column are harmless, text there is not.
    EXPECT_EQ(Read("a,b,c,,,,\n", limits).rows[0].cells.size(), 3u);
    e = Fails("a,b,c,,e\n", limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
    EXPECT_EQ(e.field, "E1");
    e = Fails("a,123456789\n", limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
    EXPECT_EQ(e.field, "B1");
    e = Fails("\"12345\"\"6789\"\n", limits);
    EXPECT_EQ(e.code, ErrorCode::kOutOfRange);
    EXPECT_EQ(e.field, "A1");
}

TEST(SheetNames, ColumnsAndCellsAreNamedAsSpreadsheetsShowThem) {
    EXPECT_EQ(ColumnName(0), "A");
    EXPECT_EQ(ColumnName(25), "Z");
    EXPECT_EQ(ColumnName(26), "AA");
    EXPECT_EQ(ColumnName(701), "ZZ");
    EXPECT_EQ(ColumnName(702), "AAA");
    EXPECT_EQ(ColumnName(16'383), "XFD");
    EXPECT_EQ(CellName(2, 7), "C7");
}

}  // namespace
}  // namespace joule::codec
