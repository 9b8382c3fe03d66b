// Projects and their hierarchy (buildings, floors, rooms) [HIER-1], and tariffs [TAR-1, TAR-3].
#include <algorithm>

#include "api/api_internal.hpp"
#include "base/decimal.hpp"
#include "core/rounding.hpp"
#include "service/site_service.hpp"
#include "service/tariff_quote.hpp"
#include "wire/json.hpp"

namespace joule::api {

namespace {

Json ProjectJson(const ProjectRecord& p) {
    return Json{{"code", p.code},
                {"name", p.name},
                {"time_zone", p.time_zone},
                {"read_interval_s", p.read_interval_s}};
}

// The code of a building or floor id among `records`, "" when there is none.
template <class Record, class Id>
std::string CodeOf(const std::vector<Record>& records, Id id) {
    const auto it =
        std::find_if(records.begin(), records.end(), [&](const Record& r) { return r.id == id; });
    return it == records.end() ? std::string() : it->code;
}

}  // namespace

Result<Reply> Api::Impl::ListProjects(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    std::vector<Json> items;
    for (const ProjectRecord& p : projects) {
        if (c.principal.SeesProject(p.id)) {
            items.push_back(ProjectJson(p));
        }
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), c.query, {"code", "name"}, {}, {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetProject(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    return Reply{200, ProjectJson(*c.project), {}};
}

Result<Reply> Api::Impl::ListBuildings(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto buildings, tx->ListBuildings(c.project->id));
    tx.reset();
    std::vector<Json> items;
    for (const BuildingRecord& b : buildings) {
        items.push_back(Json{{"code", b.code}, {"name", b.name}, {"version", b.version}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), c.query, {"code", "name"}, {}, {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListFloors(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto buildings, tx->ListBuildings(c.project->id));
    JOULE_ASSIGN_OR_RETURN(auto floors, tx->ListFloors(c.project->id));
    tx.reset();
    std::vector<Json> items;
    for (const FloorRecord& f : floors) {
        items.push_back(Json{{"code", f.code},
                             {"name", f.name},
                             {"building", CodeOf(buildings, f.building)},
                             {"version", f.version}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "name", "building"},
                                           {"building"}, {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListRooms(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto buildings, tx->ListBuildings(c.project->id));
    JOULE_ASSIGN_OR_RETURN(auto floors, tx->ListFloors(c.project->id));
    JOULE_ASSIGN_OR_RETURN(auto rooms, tx->ListRooms(c.project->id));
    tx.reset();
    std::vector<Json> items;
    items.reserve(rooms.size());
    for (const RoomRecord& r : rooms) {
        const auto floor = std::find_if(floors.begin(), floors.end(),
                                        [&](const FloorRecord& f) { return f.id == r.floor; });
        items.push_back(
            Json{{"code", r.code},
                 {"name", r.name},
                 {"floor", floor == floors.end() ? "" : floor->code},
                 {"building", floor == floors.end() ? "" : CodeOf(buildings, floor->building)},
                 {"area", FormatScaled(r.area_dm2, 2)},
                 {"version", r.version}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), c.query, {"code", "name", "building", "floor"},
                                {"building", "floor"}, {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

// The room grid (房间监控): each room with its meters' links and the account open in it. A room
// whose meters belong to several accounts shows the first; balances are shown for platform billing
// only (a meter-billed account's money is on the meter: see the account's detail).
Result<Reply> Api::Impl::RoomMonitor(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto lines, tx->ListRoomMonitor(c.project->id));
    tx.reset();
    std::vector<Json> items;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const RoomMonitorLine& line = lines[i];
        if (i == 0 || lines[i - 1].room != line.room) {  // lines come by room
            items.push_back(Json{{"room", line.room},
                                 {"name", line.room_name},
                                 {"building", line.building},
                                 {"floor", line.floor},
                                 {"account", ""},
                                 {"tenant", ""},
                                 {"state", ""},
                                 {"relay", ""},
                                 {"keep_power", false},
                                 {"billing_mode", ""},
                                 {"available", ""},
                                 {"meters", Json::array()}});
        }
        Json& room = items.back();
        if (!line.meter.empty()) {
            room["meters"].push_back(Json{{"code", line.meter}, {"online", line.online}});
        }
        if (!line.account.empty() && room["account"] == "") {
            const bool platform = line.billing_mode == BillingMode::kPlatform;
            room["account"] = line.account;
            room["tenant"] = line.tenant;
            room["state"] = PrepaidStateName(line.state);
            room["relay"] = RelayName(line.relay);
            room["keep_power"] = line.keep_power;
            room["billing_mode"] = BillingModeName(line.billing_mode);
            room["available"] =
                platform ? wire::MoneyText(AvailableBalance(line.billing_mode, {}, line.balances))
                         : "";
        }
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"room", "name", "building"},
                                           {"building", "floor", "state", "account"},
                                           {"room", "name", "account", "tenant"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListTariffs(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto tariffs, tx->ListTariffs(c.project->id));
    tx.reset();
    std::vector<Json> items;
    for (const TariffRecord& t : tariffs) {
        const TariffVersion* last = t.tariff.versions.empty() ? nullptr : &t.tariff.versions.back();
        items.push_back(Json{{"code", t.code},
                             {"name", t.tariff.name},
                             {"utility", wire::UtilityText(t.tariff.utility)},
                             {"versions", t.tariff.versions.size()},
                             {"latest_from", last ? FormatInstant(last->effective_from) : ""}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "name"}, {"utility"},
                                           {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetTariff(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    const std::string& code = c.params.at("tariff");
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto tariff, tx->FindTariff(c.project->id, code));
    if (!tariff) {
        return NotFound("no tariff '" + code.substr(0, 64) + "'", "tariff");
    }
    Json body = wire::TariffToJson(tariff->tariff);
    body["code"] = tariff->code;
    return Reply{200, std::move(body), {}};
}

Result<Reply> Api::Impl::AddTariffVersion(Call& c) {
    JOULE_ASSIGN_OR_RETURN(TariffVersion version, wire::TariffVersionFromJson(c.body, ""));
    JOULE_TRY(FromService(joule::AddTariffVersion(store, c.project->code, c.params.at("tariff"),
                                                  version, c.actor(), c.now)));
    return Reply{201, wire::TariffVersionToJson(version), {}};
}

namespace {

// Components are each rounded to fen for display; the totals are rounded from the exact sums.
std::string FenText(FineMoney exact) { return wire::MoneyText(RoundFineToFen({}, exact).deduct); }

Json AmountsJson(const QuoteAmounts& a) {
    Json energy_by_period = Json::object();
    Json quoted_by_period = Json::object();
    for (std::size_t p = 0; p < kPeriodCount; ++p) {
        const std::string name(PeriodName(static_cast<Period>(p)));
        energy_by_period[name] = wire::QuantityText(a.energy_by_period[p]);
        quoted_by_period[name] = FenText(a.quoted_by_period[p]);
    }
    return Json{{"readings", a.readings},
                {"energy", wire::QuantityText(a.energy)},
                {"energy_by_period", std::move(energy_by_period)},
                {"charged", wire::MoneyText(a.charged)},
                {"quoted", wire::MoneyText(a.quoted)},
                {"difference", wire::MoneyText(a.quoted - a.charged)},
                {"quoted_by_period", std::move(quoted_by_period)},
                {"quoted_tier_extra", FenText(a.quoted_tier_extra)},
                {"quoted_surcharges", FenText(a.quoted_surcharges)}};
}

}  // namespace

// A quote writes nothing: a POST only because the candidate version is a body.
Result<Reply> Api::Impl::QuoteTariffRoute(Call& c) {
    wire::ObjectReader body(c.body, "");
    QuoteRequest r;
    r.project_code = c.project->code;
    r.tariff_code = c.params.at("tariff");
    JOULE_ASSIGN_OR_RETURN(r.from, body.InstantField("from"));
    JOULE_ASSIGN_OR_RETURN(r.to, body.InstantField("to"));
    JOULE_ASSIGN_OR_RETURN(const Json* version, body.OptObject("version"));
    JOULE_ASSIGN_OR_RETURN(const Json* meters, body.OptArray("meters", kMaxQuoteMeters));
    JOULE_TRY(body.Finish());
    if (version != nullptr) {
        // The candidate prices the whole period; its effective_from is optional and unused.
        Json candidate = *version;
        if (!candidate.contains("effective_from")) {
            candidate["effective_from"] = FormatInstant(r.from);
        }
        JOULE_ASSIGN_OR_RETURN(r.candidate, wire::TariffVersionFromJson(candidate, "version"));
    }
    if (meters != nullptr) {
        JOULE_ASSIGN_OR_RETURN(r.meters, StringList(*meters, "meters"));
    }
    JOULE_ASSIGN_OR_RETURN(Quote quote, FromService(QuoteTariff(store, r)));
    Json lines = Json::array();
    for (const QuoteLine& line : quote.lines) {
        Json item = AmountsJson(line.amounts);
        item["meter"] = line.meter;
        item["account"] = line.account;
        item["unpriced_readings"] = line.unpriced_readings;
        lines.push_back(std::move(item));
    }
    return Reply{200,
                 Json{{"tariff", r.tariff_code},
                      {"from", FormatInstant(r.from)},
                      {"to", FormatInstant(r.to)},
                      {"version", r.candidate ? wire::TariffVersionToJson(*r.candidate) : Json()},
                      {"total", AmountsJson(quote.total)},
                      {"lines", std::move(lines)}},
                 {}};
}

}  // namespace joule::api
