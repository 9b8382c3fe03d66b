#include "app/readings_csv.hpp"

#include "base/decimal.hpp"

namespace joule::app {

namespace {

std::vector<std::string_view> SplitFields(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = line.find(',', start);
        out.push_back(
            line.substr(start, comma == std::string_view::npos ? line.npos : comma - start));
        if (comma == std::string_view::npos) {
            return out;
        }
        start = comma + 1;
    }
}

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
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);  // UTF-8 BOM from spreadsheet exports
    }
    std::vector<ReadingItem> out;
    std::size_t line_no = 0;
    bool per_rate = false;
    bool header_seen = false;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        std::string_view line = Trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line_no;
        if (line.empty()) {
            continue;
        }
        auto fields = SplitFields(line);
        for (auto& f : fields) {
            f = Trim(f);
        }
        const std::string at = "line " + std::to_string(line_no);
        if (!header_seen) {
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
            header_seen = true;
            continue;
        }
        const std::size_t expected = per_rate ? 7 : 3;
        if (fields.size() != expected) {
            return InvalidArgument(at, "has " + std::to_string(fields.size()) +
                                           " fields, expected " + std::to_string(expected));
        }
        if (out.size() >= kMaxBatchReadings) {
            return InvalidArgument(at, "more than 100000 readings in one file; split it");
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
    if (!header_seen) {
        return InvalidArgument("line 1", "the file is empty; expected a header meter,time,total");
    }
    return out;
}

}  // namespace joule::app
