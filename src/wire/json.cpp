#include "wire/json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "base/decimal.hpp"

namespace joule::wire {

namespace {
std::string Indexed(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}
}  // namespace

std::string MoneyText(Money m) { return FormatScaled(m.fen, kMoneyScale); }
std::string PriceText(UnitPrice p) { return FormatScaled(p.ten_thousandths, kPriceScale); }
std::string QuantityText(Quantity q) { return FormatScaled(q.milli, kQuantityScale); }

Result<Utility> UtilityFromText(std::string_view text, std::string_view field) {
    if (text == "electricity") {
        return Utility::kElectricity;
    }
    if (text == "water") {
        return Utility::kWater;
    }
    if (text == "heat") {
        return Utility::kHeat;
    }
    return InvalidArgument(std::string(field), "must be \"electricity\", \"water\" or \"heat\"");
}

std::string_view UtilityText(Utility u) {
    switch (u) {
        case Utility::kWater:
            return "water";
        case Utility::kHeat:
            return "heat";
        case Utility::kElectricity:
            break;
    }
    return "electricity";
}

ObjectReader::ObjectReader(const Json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

Status ObjectReader::Check() const {
    if (!object_.is_object()) {
        return InvalidArgument(path_.empty() ? "(root)" : path_, "must be a JSON object");
    }
    return {};
}

std::string ObjectReader::PathOf(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

bool ObjectReader::Has(std::string_view key) const {
    return object_.is_object() && object_.contains(key);
}

Result<const Json*> ObjectReader::Get(std::string_view key) {
    seen_.emplace(key);
    if (!object_.is_object()) {
        return InvalidArgument(path_.empty() ? "(root)" : path_, "must be a JSON object");
    }
    auto it = object_.find(key);
    if (it == object_.end()) {
        return InvalidArgument(PathOf(key), "is required");
    }
    return &*it;
}

Result<std::string> ObjectReader::String(std::string_view key, std::size_t max_bytes) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    if (!v->is_string()) {
        return InvalidArgument(PathOf(key), "must be a string");
    }
    std::string s = v->get<std::string>();
    if (s.empty() || s.size() > max_bytes) {
        return InvalidArgument(PathOf(key),
                               "must be 1 to " + std::to_string(max_bytes) + " bytes long");
    }
    return s;
}

Result<std::string> ObjectReader::OptString(std::string_view key, std::string fallback,
                                            std::size_t max_bytes) {
    if (!Has(key)) {
        seen_.emplace(key);
        return fallback;
    }
    return String(key, max_bytes);
}

Result<int64_t> ObjectReader::Integer(std::string_view key, int64_t min, int64_t max) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    if (!v->is_number_integer()) {
        return InvalidArgument(PathOf(key), "must be an integer");
    }
    const int64_t n = v->get<int64_t>();
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return InvalidArgument(PathOf(key), "is too large");
    }
    if (n < min || n > max) {
        return InvalidArgument(
            PathOf(key), "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return n;
}

Result<int64_t> ObjectReader::OptInteger(std::string_view key, int64_t fallback, int64_t min,
                                         int64_t max) {
    if (!Has(key)) {
        seen_.emplace(key);
        return fallback;
    }
    return Integer(key, min, max);
}

Result<bool> ObjectReader::OptBool(std::string_view key, bool fallback) {
    if (!Has(key)) {
        seen_.emplace(key);
        return fallback;
    }
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    if (!v->is_boolean()) {
        return InvalidArgument(PathOf(key), "must be true or false");
    }
    return v->get<bool>();
}

namespace {
Result<int64_t> DecimalOf(const Json& v, int scale, const std::string& field) {
    if (!v.is_string()) {
        return InvalidArgument(field, "must be a decimal string such as \"12.34\"");
    }
    return ParseScaled(v.get_ref<const std::string&>(), scale, field);
}
}  // namespace

Result<Money> ObjectReader::MoneyField(std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    JOULE_ASSIGN_OR_RETURN(int64_t fen, DecimalOf(*v, kMoneyScale, PathOf(key)));
    return Money{fen};
}

Result<Money> ObjectReader::OptMoney(std::string_view key, Money fallback) {
    if (!Has(key)) {
        seen_.emplace(key);
        return fallback;
    }
    return MoneyField(key);
}

Result<UnitPrice> ObjectReader::Price(std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    JOULE_ASSIGN_OR_RETURN(int64_t p, DecimalOf(*v, kPriceScale, PathOf(key)));
    return UnitPrice{p};
}

Result<Quantity> ObjectReader::QuantityField(std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    JOULE_ASSIGN_OR_RETURN(int64_t q, DecimalOf(*v, kQuantityScale, PathOf(key)));
    return Quantity{q};
}

Result<Instant> ObjectReader::InstantField(std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    if (!v->is_string()) {
        return InvalidArgument(PathOf(key), "must be an RFC 3339 time string");
    }
    return ParseInstant(v->get_ref<const std::string&>(), PathOf(key));
}

Result<const Json*> ObjectReader::Array(std::string_view key, std::size_t max_items) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    if (!v->is_array()) {
        return InvalidArgument(PathOf(key), "must be an array");
    }
    if (v->size() > max_items) {
        return InvalidArgument(PathOf(key),
                               "has more than " + std::to_string(max_items) + " items");
    }
    return v;
}

Result<const Json*> ObjectReader::OptArray(std::string_view key, std::size_t max_items) {
    if (!Has(key)) {
        seen_.emplace(key);
        return static_cast<const Json*>(nullptr);
    }
    return Array(key, max_items);
}

Result<const Json*> ObjectReader::Object(std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, Get(key));
    if (!v->is_object()) {
        return InvalidArgument(PathOf(key), "must be an object");
    }
    return v;
}

Result<const Json*> ObjectReader::OptObject(std::string_view key) {
    if (!Has(key)) {
        seen_.emplace(key);
        return static_cast<const Json*>(nullptr);
    }
    return Object(key);
}

Status ObjectReader::Finish() const {
    if (!object_.is_object()) {
        return {};
    }
    for (const auto& [key, value] : object_.items()) {
        if (!seen_.contains(key)) {
            return InvalidArgument(PathOf(key), "is not a known field");
        }
    }
    return {};
}

// ---------------------------------------------------------------- tariffs

namespace {

constexpr std::string_view kWeekdayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
constexpr std::string_view kDayTypeNames[] = {"workday", "weekend", "holiday"};

Result<Period> PeriodFromText(const Json& v, const std::string& field) {
    if (v.is_string()) {
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            if (v.get_ref<const std::string&>() == PeriodName(static_cast<Period>(p))) {
                return static_cast<Period>(p);
            }
        }
    }
    return InvalidArgument(field, "must be one of sharp, peak, flat, valley");
}

Result<uint16_t> MinuteOfDay(const Json& v, const std::string& field) {
    if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        if (s.size() == 5 && s[2] == ':' && std::isdigit(static_cast<unsigned char>(s[0])) &&
            std::isdigit(static_cast<unsigned char>(s[1])) &&
            std::isdigit(static_cast<unsigned char>(s[3])) &&
            std::isdigit(static_cast<unsigned char>(s[4]))) {
            const int h = (s[0] - '0') * 10 + (s[1] - '0');
            const int m = (s[3] - '0') * 10 + (s[4] - '0');
            if (h < 24 && m < 60) {
                return static_cast<uint16_t>(h * 60 + m);
            }
        }
    }
    return InvalidArgument(field, "must be a time of day HH:MM");
}

std::string MinuteText(uint16_t minute) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
    return buf;
}

Result<std::vector<CivilDate>> Dates(const Json* array, const std::string& field) {
    std::vector<CivilDate> out;
    if (array == nullptr) {
        return out;
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
        const Json& v = (*array)[i];
        if (!v.is_string()) {
            return InvalidArgument(Indexed(field, i), "must be a date YYYY-MM-DD");
        }
        JOULE_ASSIGN_OR_RETURN(CivilDate d,
                               ParseDate(v.get_ref<const std::string&>(), Indexed(field, i)));
        out.push_back(d);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

Result<TouPlan> TouFromJson(const Json& j, const std::string& path) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    TouPlan plan;
    JOULE_ASSIGN_OR_RETURN(const Json* prices, r.Object("prices"));
    ObjectReader pr(*prices, r.PathOf("prices"));
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        JOULE_ASSIGN_OR_RETURN(plan.prices[p], pr.Price(PeriodName(static_cast<Period>(p))));
    }
    JOULE_TRY(pr.Finish());

    JOULE_ASSIGN_OR_RETURN(const Json* schedules, r.Object("day_schedules"));
    std::map<std::string, uint16_t> schedule_index;
    for (const auto& [name, segments] : schedules->items()) {
        const std::string at = r.PathOf("day_schedules") + "." + name;
        if (schedule_index.size() >= kMaxDaySchedules) {
            return InvalidArgument(r.PathOf("day_schedules"), "at most 16 day schedules");
        }
        if (!segments.is_array() || segments.empty() || segments.size() > kMaxSegmentsPerDay) {
            return InvalidArgument(at, "must be an array of 1 to 14 segments");
        }
        DaySchedule day;
        for (std::size_t i = 0; i < segments.size(); ++i) {
            ObjectReader s(segments[i], Indexed(at, i));
            JOULE_TRY(s.Check());
            TouSegment seg;
            JOULE_ASSIGN_OR_RETURN(std::string start_text, s.String("start", 5));
            JOULE_ASSIGN_OR_RETURN(seg.start_minute,
                                   MinuteOfDay(Json(start_text), s.PathOf("start")));
            JOULE_ASSIGN_OR_RETURN(std::string period_text, s.String("period", 16));
            JOULE_ASSIGN_OR_RETURN(seg.period,
                                   PeriodFromText(Json(period_text), s.PathOf("period")));
            JOULE_TRY(s.Finish());
            day.segments.push_back(seg);
        }
        schedule_index.emplace(name, static_cast<uint16_t>(plan.day_schedules.size()));
        plan.day_schedules.push_back(std::move(day));
    }

    JOULE_ASSIGN_OR_RETURN(const Json* seasons, r.Array("seasons", kMaxSeasons));
    for (std::size_t i = 0; i < seasons->size(); ++i) {
        ObjectReader s((*seasons)[i], Indexed(r.PathOf("seasons"), i));
        JOULE_TRY(s.Check());
        Season season;
        JOULE_ASSIGN_OR_RETURN(std::string start, s.String("start", 5));
        JOULE_ASSIGN_OR_RETURN(CivilDate md, ParseDate("2024-" + start, s.PathOf("start")));
        season.start_month = static_cast<uint8_t>(static_cast<unsigned>(md.month()));
        season.start_day = static_cast<uint8_t>(static_cast<unsigned>(md.day()));
        for (std::size_t t = 0; t < kDayTypeCount; ++t) {
            // weekend and holiday default to the workday schedule
            std::string fallback;
            if (t > 0) {
                auto workday = s.Has("workday") ? (*seasons)[i]["workday"] : Json();
                fallback = workday.is_string() ? workday.get<std::string>() : "";
            }
            JOULE_ASSIGN_OR_RETURN(std::string name,
                                   t == 0 ? s.String(kDayTypeNames[t], 64)
                                          : s.OptString(kDayTypeNames[t], fallback, 64));
            auto it = schedule_index.find(name);
            if (it == schedule_index.end()) {
                return InvalidArgument(s.PathOf(kDayTypeNames[t]),
                                       "names no day schedule ('" + name + "')");
            }
            season.schedule_by_day_type[t] = it->second;
        }
        JOULE_TRY(s.Finish());
        plan.seasons.push_back(season);
    }
    std::sort(plan.seasons.begin(), plan.seasons.end(), [](const Season& a, const Season& b) {
        return std::pair(a.start_month, a.start_day) < std::pair(b.start_month, b.start_day);
    });
    JOULE_ASSIGN_OR_RETURN(const Json* holidays, r.OptArray("holidays", 400));
    JOULE_ASSIGN_OR_RETURN(plan.holidays, Dates(holidays, r.PathOf("holidays")));
    JOULE_ASSIGN_OR_RETURN(const Json* workdays, r.OptArray("extra_workdays", 400));
    JOULE_ASSIGN_OR_RETURN(plan.extra_workdays, Dates(workdays, r.PathOf("extra_workdays")));
    JOULE_ASSIGN_OR_RETURN(const Json* weekend, r.OptArray("weekend", 7));
    if (weekend != nullptr) {
        plan.weekend_mask = 0;
        for (std::size_t i = 0; i < weekend->size(); ++i) {
            const Json& d = (*weekend)[i];
            bool found = false;
            for (std::size_t w = 0; w < 7; ++w) {
                if (d.is_string() && d.get_ref<const std::string&>() == kWeekdayNames[w]) {
                    plan.weekend_mask = static_cast<uint8_t>(plan.weekend_mask | (1U << w));
                    found = true;
                }
            }
            if (!found) {
                return InvalidArgument(Indexed(r.PathOf("weekend"), i),
                                       "must be one of sun, mon, tue, wed, thu, fri, sat");
            }
        }
    }
    JOULE_TRY(r.Finish());
    return plan;
}

}  // namespace

Result<TariffVersion> TariffVersionFromJson(const Json& j, const std::string& path) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    TariffVersion v;
    JOULE_ASSIGN_OR_RETURN(v.effective_from, r.InstantField("effective_from"));
    if (r.Has("price") == r.Has("tou")) {
        return InvalidArgument(path.empty() ? "price" : path + ".price",
                               "a version has either a flat \"price\" or a \"tou\" plan");
    }
    if (r.Has("price")) {
        v.base = PriceBase::kFlat;
        JOULE_ASSIGN_OR_RETURN(v.flat_price, r.Price("price"));
    } else {
        v.base = PriceBase::kTou;
        JOULE_ASSIGN_OR_RETURN(const Json* tou, r.Object("tou"));
        JOULE_ASSIGN_OR_RETURN(v.tou, TouFromJson(*tou, r.PathOf("tou")));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* tiers, r.OptObject("tiers"));
    if (tiers != nullptr) {
        ObjectReader t(*tiers, r.PathOf("tiers"));
        JOULE_ASSIGN_OR_RETURN(std::string cycle, t.String("cycle", 16));
        if (cycle == "monthly") {
            v.cycle = TierCycle::kMonthly;
        } else if (cycle == "yearly") {
            v.cycle = TierCycle::kYearly;
        } else {
            return InvalidArgument(t.PathOf("cycle"), "must be \"monthly\" or \"yearly\"");
        }
        JOULE_ASSIGN_OR_RETURN(const Json* steps, t.Array("steps", kMaxTiers));
        for (std::size_t i = 0; i < steps->size(); ++i) {
            ObjectReader s((*steps)[i], Indexed(t.PathOf("steps"), i));
            JOULE_TRY(s.Check());
            Tier tier;
            if (i + 1 < steps->size()) {
                JOULE_ASSIGN_OR_RETURN(tier.upto, s.QuantityField("upto"));
            } else if (s.Has("upto")) {
                return InvalidArgument(s.PathOf("upto"), "the last tier has no upper bound");
            }
            JOULE_ASSIGN_OR_RETURN(tier.increment, s.Price("increment"));
            JOULE_TRY(s.Finish());
            v.tiers.push_back(tier);
        }
        JOULE_TRY(t.Finish());
    }
    JOULE_ASSIGN_OR_RETURN(const Json* surcharges, r.OptArray("surcharges", kMaxSurcharges));
    if (surcharges != nullptr) {
        for (std::size_t i = 0; i < surcharges->size(); ++i) {
            ObjectReader s((*surcharges)[i], Indexed(r.PathOf("surcharges"), i));
            JOULE_TRY(s.Check());
            Surcharge sc;
            JOULE_ASSIGN_OR_RETURN(sc.name, s.String("name", 64));
            JOULE_ASSIGN_OR_RETURN(sc.price, s.Price("price"));
            JOULE_TRY(s.Finish());
            v.surcharges.push_back(std::move(sc));
        }
    }
    if (r.Has("loss_percent")) {
        // "2.5" percent = 250 basis points: a percentage with 2 decimals is exactly basis points.
        JOULE_ASSIGN_OR_RETURN(std::string loss, r.String("loss_percent", 16));
        JOULE_ASSIGN_OR_RETURN(int64_t bp, ParseScaled(loss, 2, r.PathOf("loss_percent")));
        if (bp < 0 || bp > kMaxLossBasisPoints) {
            return InvalidArgument(r.PathOf("loss_percent"), "must be between 0 and 50 percent");
        }
        v.loss_basis_points = static_cast<int32_t>(bp);
    }
    JOULE_TRY(r.Finish());
    return v;
}

Json TariffVersionToJson(const TariffVersion& v) {
    Json j;
    j["effective_from"] = FormatInstant(v.effective_from);
    if (v.base == PriceBase::kFlat) {
        j["price"] = PriceText(v.flat_price);
    } else {
        Json tou;
        for (std::size_t p = 0; p < kPeriodCount; ++p) {
            tou["prices"][std::string(PeriodName(static_cast<Period>(p)))] =
                PriceText(v.tou.prices[p]);
        }
        auto schedule_name = [](std::size_t i) { return "s" + std::to_string(i); };
        tou["day_schedules"] = Json::object();
        for (std::size_t d = 0; d < v.tou.day_schedules.size(); ++d) {
            Json segs = Json::array();
            for (const TouSegment& seg : v.tou.day_schedules[d].segments) {
                segs.push_back({{"start", MinuteText(seg.start_minute)},
                                {"period", std::string(PeriodName(seg.period))}});
            }
            tou["day_schedules"][schedule_name(d)] = segs;
        }
        tou["seasons"] = Json::array();
        for (const Season& s : v.tou.seasons) {
            char start[16];
            std::snprintf(start, sizeof start, "%02u-%02u", static_cast<unsigned>(s.start_month),
                          static_cast<unsigned>(s.start_day));
            Json season{{"start", start}};
            for (std::size_t t = 0; t < kDayTypeCount; ++t) {
                season[std::string(kDayTypeNames[t])] = schedule_name(s.schedule_by_day_type[t]);
            }
            tou["seasons"].push_back(season);
        }
        tou["holidays"] = Json::array();
        for (CivilDate d : v.tou.holidays) {
            tou["holidays"].push_back(FormatDate(d));
        }
        tou["extra_workdays"] = Json::array();
        for (CivilDate d : v.tou.extra_workdays) {
            tou["extra_workdays"].push_back(FormatDate(d));
        }
        tou["weekend"] = Json::array();
        for (std::size_t w = 0; w < 7; ++w) {
            if ((v.tou.weekend_mask >> w) & 1U) {
                tou["weekend"].push_back(std::string(kWeekdayNames[w]));
            }
        }
        j["tou"] = tou;
    }
    if (v.cycle != TierCycle::kNone) {
        Json steps = Json::array();
        for (std::size_t i = 0; i < v.tiers.size(); ++i) {
            Json step{{"increment", PriceText(v.tiers[i].increment)}};
            if (i + 1 < v.tiers.size()) {
                step["upto"] = QuantityText(v.tiers[i].upto);
            }
            steps.push_back(step);
        }
        j["tiers"] = {{"cycle", v.cycle == TierCycle::kMonthly ? "monthly" : "yearly"},
                      {"steps", steps}};
    }
    if (!v.surcharges.empty()) {
        j["surcharges"] = Json::array();
        for (const Surcharge& s : v.surcharges) {
            j["surcharges"].push_back({{"name", s.name}, {"price", PriceText(s.price)}});
        }
    }
    if (v.loss_basis_points != 0) {
        j["loss_percent"] = FormatScaled(v.loss_basis_points, 2);
    }
    return j;
}

Result<Tariff> TariffFromJson(const Json& j, const std::string& path) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    Tariff t;
    JOULE_ASSIGN_OR_RETURN(t.name, r.String("name", 128));
    JOULE_ASSIGN_OR_RETURN(std::string utility, r.OptString("utility", "electricity", 16));
    JOULE_ASSIGN_OR_RETURN(t.utility, UtilityFromText(utility, r.PathOf("utility")));
    JOULE_ASSIGN_OR_RETURN(const Json* versions, r.Array("versions", kMaxVersions));
    for (std::size_t i = 0; i < versions->size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(
            TariffVersion v,
            TariffVersionFromJson((*versions)[i], Indexed(r.PathOf("versions"), i)));
        t.versions.push_back(std::move(v));
    }
    // "code" is the caller's business (a site file names tariffs by code); accept it here.
    JOULE_ASSIGN_OR_RETURN(std::string code, r.OptString("code", "", 64));
    JOULE_TRY(r.Finish());
    if (auto valid = ValidateTariff(t); !valid) {
        return std::unexpected(path.empty() ? valid.error() : valid.error().WithFieldPrefix(path));
    }
    return t;
}

Json TariffToJson(const Tariff& tariff) {
    Json j{{"name", tariff.name}, {"utility", std::string(UtilityText(tariff.utility))}};
    j["versions"] = Json::array();
    for (const TariffVersion& v : tariff.versions) {
        j["versions"].push_back(TariffVersionToJson(v));
    }
    return j;
}

Result<ControlScheme> ControlSchemeFromJson(const Json& j, const std::string& path) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    ControlScheme s;
    JOULE_ASSIGN_OR_RETURN(s.alarm1, r.OptMoney("alarm1", s.alarm1));
    JOULE_ASSIGN_OR_RETURN(s.alarm2, r.OptMoney("alarm2", s.alarm2));
    JOULE_ASSIGN_OR_RETURN(s.alarm3, r.OptMoney("alarm3", s.alarm3));
    JOULE_ASSIGN_OR_RETURN(s.overdraft, r.OptMoney("overdraft", s.overdraft));
    JOULE_ASSIGN_OR_RETURN(s.restore, r.OptMoney("restore", s.restore));
    JOULE_ASSIGN_OR_RETURN(s.emergency, r.OptMoney("emergency", s.emergency));
    if (auto valid = ValidateControlScheme(s); !valid) {
        return std::unexpected(path.empty() ? valid.error() : valid.error().WithFieldPrefix(path));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* friendly, r.OptObject("friendly"));
    if (friendly != nullptr) {
        ObjectReader f(*friendly, r.PathOf("friendly"));
        JOULE_ASSIGN_OR_RETURN(s.friendly.nights, f.OptBool("nights", false));
        JOULE_ASSIGN_OR_RETURN(std::string start, f.OptString("night_start", "22:00", 5));
        JOULE_ASSIGN_OR_RETURN(s.friendly.night_start_minute,
                               MinuteOfDay(Json(start), f.PathOf("night_start")));
        JOULE_ASSIGN_OR_RETURN(std::string end, f.OptString("night_end", "08:00", 5));
        JOULE_ASSIGN_OR_RETURN(s.friendly.night_end_minute,
                               MinuteOfDay(Json(end), f.PathOf("night_end")));
        JOULE_ASSIGN_OR_RETURN(s.friendly.weekends, f.OptBool("weekends", false));
        JOULE_ASSIGN_OR_RETURN(s.friendly.holidays, f.OptBool("holidays", false));
        JOULE_TRY(f.Finish());
    }
    JOULE_TRY(r.Finish());
    return s;
}

Json ControlSchemeToJson(const ControlScheme& s) {
    return Json{{"alarm1", MoneyText(s.alarm1)},
                {"alarm2", MoneyText(s.alarm2)},
                {"alarm3", MoneyText(s.alarm3)},
                {"overdraft", MoneyText(s.overdraft)},
                {"restore", MoneyText(s.restore)},
                {"emergency", MoneyText(s.emergency)},
                {"friendly",
                 {{"nights", s.friendly.nights},
                  {"night_start", MinuteText(s.friendly.night_start_minute)},
                  {"night_end", MinuteText(s.friendly.night_end_minute)},
                  {"weekends", s.friendly.weekends},
                  {"holidays", s.friendly.holidays}}}};
}

}  // namespace joule::wire
