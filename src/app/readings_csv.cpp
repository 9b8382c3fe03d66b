#include "app/readings_csv.hpp"

#include "base/decimal.hpp"
#include "codec/csv_reader.hpp"

namespace joule::app {

namespace {

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace

Result<std::vector<ReadingItem>> ParseReadingsCsv(std::string_view text,
                                                  std::string_view project_code, Instant now) {
    if (text.size() > kMaxCsvBytes) {
        return InvalidArgument("file", "is larger than 64 MiB; split it");
    }
    // The tree's one CSV reader (RFC 4180: quoted fields, a BOM from spreadsheet exports); a
    // malformed file is refused naming the cell.
    codec::SheetLimits limits;
    limits.max_rows = kMaxBatchReadings + 1;  // and the header
    limits.max_columns = 16;
    limits.max_cell_bytes = 256;
    JOULE_ASSIGN_OR_RETURN(codec::Sheet sheet, codec::ReadCsv(text, limits));
    if (sheet.rows.empty()) {
        return InvalidArgument("line 1", "the file is empty; expected a header meter,time,total");
    }
    std::vector<ReadingItem> out;
    bool per_rate = false;
    for (std::size_t r = 0; r < sheet.rows.size(); ++r) {
        std::vector<std::string_view> fields;
        for (const std::string& cell : sheet.rows[r].cells) {
            fields.push_back(Trim(cell));
        }
        const std::string at = "line " + std::to_string(sheet.rows[r].number);
        if (r == 0) {
            if (fields.size() == 3 && fields[0] == "meter" && fields[1] == "time" &&
                fields[2] == "total") {
                per_rate = false;
            } else if (fields.size() == 7 && fields[0] == "meter" && fields[1] == "time" &&
                       fields[2] == "total" && fields[3] == "sharp" && fields[4] == "peak" &&
                       fields[5] == "flat" && fields[6] == "valley") {
                per_rate = true;
            } else {
                return InvalidArgument(at,
                                       "the header must be meter,time,total or "
                                       "meter,time,total,sharp,peak,flat,valley");
            }
            continue;
        }
        const std::size_t expected = per_rate ? 7 : 3;
        if (fields.size() != expected) {
            // Empty trailing fields are not kept by the reader: "E1,t," has 2.
            return InvalidArgument(at, "has " + std::to_string(fields.size()) +
                                           " fields, expected " + std::to_string(expected));
        }
        ReadingItem item;
        item.project_code = std::string(project_code);
        if (fields[0].empty() || fields[0].size() > 64) {
            return InvalidArgument(at + ": meter", "must be 1 to 64 characters");
        }
        item.meter_code = std::string(fields[0]);
        JOULE_ASSIGN_OR_RETURN(item.reading.meter_time, ParseInstant(fields[1], at + ": time"));
        if (item.reading.meter_time > now + Seconds{300}) {
            return InvalidArgument(at + ": time", "is in the future");
        }
        item.reading.received = now;
        JOULE_ASSIGN_OR_RETURN(item.reading.total.milli,
                               ParseScaled(fields[2], kQuantityScale, at + ": total"));
        if (item.reading.total.milli < 0) {
            return InvalidArgument(at + ": total", "must not be negative");
        }
        if (per_rate) {
            item.reading.has_per_rate = true;
            static constexpr const char* kNames[] = {"sharp", "peak", "flat", "valley"};
            for (std::size_t p = 0; p < kPeriodCount; ++p) {
                JOULE_ASSIGN_OR_RETURN(
                    item.reading.per_rate[p].milli,
                    ParseScaled(fields[3 + p], kQuantityScale, at + ": " + kNames[p]));
                if (item.reading.per_rate[p].milli < 0) {
                    return InvalidArgument(at + ": " + kNames[p], "must not be negative");
                }
            }
        }
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace joule::app
