#include "app/readings_csv.hpp"

#include <gtest/gtest.h>

namespace joule::app {
namespace {

const Instant kNow = ParseInstant("2026-11-01T00:00:00Z", "now").value();

TEST(ReadingsCsv, ParsesTotalsAndPerRateRegisters) {
    auto plain =
        ParseReadingsCsv("meter,time,total\r\nE1,2026-10-31T10:00:00Z,123.45\n\n", "p", kNow);
    ASSERT_TRUE(plain.has_value()) << plain.error().ToString();
    ASSERT_EQ(plain->size(), 1U);
    EXPECT_EQ((*plain)[0].meter_code, "E1");
    EXPECT_EQ((*plain)[0].reading.total.milli, 123'450);
    EXPECT_FALSE((*plain)[0].reading.has_per_rate);
    auto rates = ParseReadingsCsv(
        "\xEF\xBB\xBFmeter,time,total,sharp,peak,flat,valley\n"
        "E1,2026-10-31T18:00:00+08:00,10,1,2,3,4\n",
        "p", kNow);
    ASSERT_TRUE(rates.has_value()) << rates.error().ToString();
    EXPECT_TRUE((*rates)[0].reading.has_per_rate);
    EXPECT_EQ((*rates)[0].reading.per_rate[3].milli, 4000);
}

// The tree's one CSV reader: quoted fields as a spreadsheet writes them, and a malformed file is
// refused naming the cell.
TEST(ReadingsCsv, ReadsQuotedFieldsAndNamesTheCellOfAMalformedFile) {
    auto quoted = ParseReadingsCsv(
        "meter,time,total\r\n\"E,1\",\"2026-10-31T10:00:00Z\",\"7.5\"\r\n", "p", kNow);
    ASSERT_TRUE(quoted.has_value()) << quoted.error().ToString();
    EXPECT_EQ((*quoted)[0].meter_code, "E,1");
    EXPECT_EQ((*quoted)[0].reading.total.milli, 7'500);
    auto open = ParseReadingsCsv("meter,time,total\nE1,\"2026-10-31T10:00:00Z,1\n", "p", kNow);
    ASSERT_FALSE(open.has_value());
    EXPECT_EQ(open.error().field, "B2");
}

TEST(ReadingsCsv, ErrorsNameTheLineAndField) {
    struct Case {
        const char* csv;
        const char* field;
    };
    const Case cases[] = {
        {"", "line 1"},
        {"meter,when,total\n", "line 1"},
        {"meter,time,total\nE1,2026-10-31T10:00:00Z\n", "line 2"},
        {"meter,time,total\nE1,2026-10-31T10:00:00Z,1\nE2,yesterday,1\n", "line 3: time"},
        {"meter,time,total\nE1,2026-10-31T10:00:00Z,abc\n", "line 2: total"},
        {"meter,time,total\nE1,2026-10-31T10:00:00Z,-5\n", "line 2: total"},
        {"meter,time,total\nE1,2026-10-31T10:00:00Z,1.0001\n", "line 2: total"},
        {"meter,time,total\n,2026-10-31T10:00:00Z,1\n", "line 2: meter"},
        {"meter,time,total\nE1,2027-01-01T00:00:00Z,1\n", "line 2: time"},  // far in the future
        {"meter,time,total,sharp,peak,flat,valley\nE1,2026-10-31T10:00:00Z,1,1,x,0,0\n",
         "line 2: peak"},
    };
    for (const Case& c : cases) {
        auto r = ParseReadingsCsv(c.csv, "p", kNow);
        ASSERT_FALSE(r.has_value()) << c.csv;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(r.error().field, c.field) << c.csv << " -> " << r.error().ToString();
    }
}

}  // namespace
}  // namespace joule::app
