#include "service/site_import.hpp"
#include "service/project_lookup.hpp"

#include "base/json_quote.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <variant>

namespace joule {

namespace {

// The errors of an import, at most one per (row, column): the first problem of a cell is the one
// to fix, and the next run finds the rest.
class Problems {
public:
    void Add(int64_t row, std::string column, ErrorCode code, std::string message) {
        if (seen_.emplace(row, column).second) {
            errors.push_back(ImportRowError{row, std::move(column), code, std::move(message)});
        }
    }
    // An error of a check, its field taken as the column (or `column` when given).
    void Add(int64_t row, const Error& e, const std::string& column = {}) {
        Add(row, column.empty() ? e.field : column, e.code, e.message);
    }
    // Records a failed check; true when it failed.
    bool Failed(int64_t row, const Status& status) {
        if (status) {
            return false;
        }
        Add(row, status.error());
        return true;
    }
    [[nodiscard]] bool Any() const { return !errors.empty(); }

    std::vector<ImportRowError> errors;

private:
    std::set<std::pair<int64_t, std::string>> seen_;
};

// The first row each key was seen on: a later row with the same key is a duplicate.
class FirstRows {
public:
    // The row `key` was first seen on, or nullopt (and `row` is remembered).
    std::optional<int64_t> Seen(const std::string& key, int64_t row) {
        const auto [it, added] = rows_.emplace(key, row);
        return added ? std::nullopt : std::optional<int64_t>(it->second);
    }

private:
    std::unordered_map<std::string, int64_t> rows_;
};

std::string AlsoOn(int64_t row) { return "the same as on row " + std::to_string(row); }

using Created = std::vector<std::pair<std::string, std::vector<std::string>>>;

// ---------------------------------------------------------------------------------- buildings

Result<Created> ImportBuildings(Tx& tx, const ProjectRecord& project,
                                const std::vector<BuildingRow>& rows, Problems& problems,
                                bool check_only) {
    JOULE_ASSIGN_OR_RETURN(auto existing, tx.ListBuildings(project.id));
    std::set<std::string> taken;
    for (const BuildingRecord& b : existing) {
        taken.insert(b.code);
    }
    FirstRows first;
    std::vector<BuildingRecord> records;
    for (const BuildingRow& row : rows) {
        BuildingRecord b;
        b.project = project.id;
        b.code = row.code;
        b.name = row.name.empty() ? row.code : row.name;
        if (!problems.Failed(row.row, CheckCode(b.code, "code"))) {
            if (auto earlier = first.Seen(b.code, row.row)) {
                problems.Add(row.row, "code", ErrorCode::kAlreadyExists, AlsoOn(*earlier));
            } else if (taken.contains(b.code)) {
                problems.Add(row.row, "code", ErrorCode::kAlreadyExists,
                             "building '" + b.code + "' exists already");
            }
        }
        (void)problems.Failed(row.row, CheckName(b.name, "name"));
        records.push_back(std::move(b));
    }
    if (problems.Any() || check_only) {
        return Created{};
    }
    Created created{{"buildings", {}}};
    for (BuildingRecord& b : records) {
        JOULE_TRY(tx.InsertBuilding(b));
        created[0].second.push_back(b.code);
    }
    return created;
}

// -------------------------------------------------------------------------------------- rooms

// Where a room goes: an existing floor, or a floor (maybe of a building) the import creates.
struct NewBuilding {
    std::string code;
    BuildingId id;  // once inserted
};
struct NewFloor {
    std::variant<BuildingId, std::size_t> building;  // existing, or an index into new buildings
    std::string code;
    FloorId id;  // once inserted
};
using FloorRef = std::variant<FloorId, std::size_t>;  // existing, or an index into new floors

class RoomPlaces {
public:
    RoomPlaces(std::vector<BuildingRecord> buildings, std::vector<FloorRecord> floors)
        : buildings_(std::move(buildings)), floors_(std::move(floors)) {}

    // The floor of (building, floor) text: by code, else by the one name that matches, else new.
    Result<FloorRef> Resolve(const std::string& building, const std::string& floor) {
        std::variant<BuildingId, std::size_t> b;
        JOULE_ASSIGN_OR_RETURN(auto found, Unique(buildings_, building, "building",
                                                  [](const BuildingRecord&) { return true; }));
        if (found) {
            b = found->id;
        } else {
            JOULE_TRY(CheckCode(building, "building"));
            JOULE_TRY(CheckName(building, "building"));
            b = Index(
                new_buildings, building,
                [&] {
                    return NewBuilding{building, {}};
                },
                [&](const NewBuilding& n) { return n.code == building; });
        }
        if (const BuildingId* id = std::get_if<BuildingId>(&b)) {
            JOULE_ASSIGN_OR_RETURN(auto f,
                                   Unique(floors_, floor, "floor",
                                          [&](const FloorRecord& r) { return r.building == *id; }));
            if (f) {
                return FloorRef{f->id};
            }
        }
        JOULE_TRY(CheckCode(floor, "floor"));
        JOULE_TRY(CheckName(floor, "floor"));
        return FloorRef{Index(
            new_floors, floor,
            [&] {
                return NewFloor{b, floor, {}};
            },
            [&](const NewFloor& n) { return n.building == b && n.code == floor; })};
    }

    std::vector<NewBuilding> new_buildings;
    std::vector<NewFloor> new_floors;

private:
    // The record whose code is `text`, else the only one named `text` (of those `in` keeps).
    template <class Record, class Keep>
    static Result<std::optional<Record>> Unique(const std::vector<Record>& records,
                                                const std::string& text, std::string_view what,
                                                Keep in) {
        const Record* by_name = nullptr;
        int named = 0;
        for (const Record& r : records) {
            if (!in(r)) {
                continue;
            }
            if (r.code == text) {
                return std::optional<Record>(r);
            }
            if (r.name == text) {
                by_name = &r;
                ++named;
            }
        }
        if (named > 1) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             std::to_string(named) + " " + std::string(what) + "s are named '" +
                                 text + "'; use the " + std::string(what) + "'s code",
                             std::string(what));
        }
        return named == 1 ? std::optional<Record>(*by_name) : std::nullopt;
    }
    template <class T, class Make, class Same>
    static std::size_t Index(std::vector<T>& list, const std::string& /*key*/, Make make,
                             Same same) {
        const auto it = std::find_if(list.begin(), list.end(), same);
        if (it != list.end()) {
            return static_cast<std::size_t>(it - list.begin());
        }
        list.push_back(make());
        return list.size() - 1;
    }

    std::vector<BuildingRecord> buildings_;
    std::vector<FloorRecord> floors_;
};

Result<Created> ImportRooms(Tx& tx, const ProjectRecord& project, const std::vector<RoomRow>& rows,
                            Problems& problems, bool check_only) {
    JOULE_ASSIGN_OR_RETURN(auto buildings, tx.ListBuildings(project.id));
    JOULE_ASSIGN_OR_RETURN(auto floors, tx.ListFloors(project.id));
    JOULE_ASSIGN_OR_RETURN(auto rooms, tx.ListRooms(project.id));
    std::set<std::string> taken;
    for (const RoomRecord& r : rooms) {
        taken.insert(r.code);
    }
    RoomPlaces places(std::move(buildings), std::move(floors));
    FirstRows first;
    std::vector<std::pair<RoomRecord, std::optional<FloorRef>>> planned;
    for (const RoomRow& row : rows) {
        const RoomSpec& spec = row.spec;
        RoomRecord room;
        room.project = project.id;
        room.code = spec.code;
        room.name = spec.name.empty() ? spec.code : spec.name;
        room.area_dm2 = spec.area_dm2;
        if (!problems.Failed(row.row, CheckCode(room.code, "code"))) {
            if (auto earlier = first.Seen(room.code, row.row)) {
                problems.Add(row.row, "code", ErrorCode::kAlreadyExists, AlsoOn(*earlier));
            } else if (taken.contains(room.code)) {
                problems.Add(row.row, "code", ErrorCode::kAlreadyExists,
                             "room '" + room.code + "' exists already");
            }
        }
        (void)problems.Failed(row.row, CheckName(room.name, "name"));
        (void)problems.Failed(row.row, site_checks::CheckArea(room.area_dm2));
        std::optional<FloorRef> place;
        if (spec.building.empty() != spec.floor.empty()) {
            problems.Add(row.row, spec.building.empty() ? "building" : "floor",
                         ErrorCode::kInvalidArgument,
                         "a room is on a floor of a building: give both, or neither");
        } else if (!spec.building.empty()) {
            auto resolved = places.Resolve(spec.building, spec.floor);
            if (resolved) {
                place = *resolved;
            } else {
                problems.Add(row.row, resolved.error());
            }
        }
        planned.emplace_back(std::move(room), place);
    }
    if (problems.Any() || check_only) {
        return Created{};
    }
    Created created{{"buildings", {}}, {"floors", {}}, {"rooms", {}}};
    for (NewBuilding& b : places.new_buildings) {
        BuildingRecord record{{}, project.id, b.code, b.code};
        JOULE_ASSIGN_OR_RETURN(b.id, tx.InsertBuilding(record));
        created[0].second.push_back(b.code);
    }
    for (NewFloor& f : places.new_floors) {
        FloorRecord record;
        record.code = f.code;
        record.name = f.code;
        std::string building_code;
        if (const auto* id = std::get_if<BuildingId>(&f.building)) {
            record.building = *id;
            JOULE_ASSIGN_OR_RETURN(BuildingRecord b, tx.GetBuilding(*id));
            building_code = b.code;
        } else {
            const NewBuilding& b = places.new_buildings[std::get<std::size_t>(f.building)];
            record.building = b.id;
            building_code = b.code;
        }
        JOULE_ASSIGN_OR_RETURN(f.id, tx.InsertFloor(record));
        created[1].second.push_back(building_code + "/" + f.code);
    }
    for (auto& [room, place] : planned) {
        if (place) {
            const FloorId* id = std::get_if<FloorId>(&*place);
            room.floor = id != nullptr ? *id : places.new_floors[std::get<std::size_t>(*place)].id;
        }
        JOULE_TRY(tx.InsertRoom(room));
        created[2].second.push_back(room.code);
    }
    return created;
}

// ----------------------------------------------------------------------------------- gateways

Result<Created> ImportGateways(Tx& tx, const ProjectRecord& project,
                               const std::vector<GatewayRow>& rows, Problems& problems,
                               bool check_only) {
    JOULE_ASSIGN_OR_RETURN(auto all, tx.ListGateways());
    std::set<std::string> codes;
    std::map<std::pair<std::string, std::string>, const GatewayRecord*> endpoints;
    for (const GatewayRecord& g : all) {
        if (g.project == project.id) {
            codes.insert(g.code);
        }
        if (!g.endpoint.empty()) {
            endpoints.emplace(std::pair{g.transport, g.endpoint}, &g);
        }
    }
    FirstRows first_code;
    FirstRows first_endpoint;
    std::vector<GatewayRecord> records;
    for (const GatewayRow& row : rows) {
        GatewayRecord g = row.gateway;
        g.project = project.id;
        if (g.name.empty()) {
            g.name = g.code;
        }
        if (problems.Failed(row.row, site_checks::CheckGatewayFields(g))) {
            records.push_back(std::move(g));
            continue;
        }
        if (auto earlier = first_code.Seen(g.code, row.row)) {
            problems.Add(row.row, "code", ErrorCode::kAlreadyExists, AlsoOn(*earlier));
        } else if (codes.contains(g.code)) {
            problems.Add(row.row, "code", ErrorCode::kAlreadyExists,
                         "gateway '" + g.code + "' exists already");
        }
        if (!g.endpoint.empty()) {
            if (auto earlier = first_endpoint.Seen(g.transport + "\n" + g.endpoint, row.row)) {
                problems.Add(row.row, "endpoint", ErrorCode::kAlreadyExists, AlsoOn(*earlier));
            } else if (auto it = endpoints.find({g.transport, g.endpoint}); it != endpoints.end()) {
                // Another project's gateway is not named.
                problems.Add(row.row, "endpoint", ErrorCode::kAlreadyExists,
                             it->second->project == project.id
                                 ? "gateway '" + it->second->code + "' has this endpoint already"
                                 : std::string("another gateway has this endpoint already"));
            }
        }
        records.push_back(std::move(g));
    }
    if (problems.Any() || check_only) {
        return Created{};
    }
    Created created{{"gateways", {}}};
    for (GatewayRecord& g : records) {
        JOULE_TRY(tx.InsertGateway(g));
        created[0].second.push_back(g.code);
    }
    return created;
}

// ------------------------------------------------------------------------------------- meters

Result<Created> ImportMeters(Tx& tx, const ProjectRecord& project,
                             const std::vector<MeterRow>& rows, Problems& problems,
                             bool check_only) {
    JOULE_ASSIGN_OR_RETURN(auto models, tx.ListModels());
    JOULE_ASSIGN_OR_RETURN(auto gateways, tx.ListGateways());
    JOULE_ASSIGN_OR_RETURN(auto rooms, tx.ListRooms(project.id));
    JOULE_ASSIGN_OR_RETURN(auto tariffs, tx.ListTariffs(project.id));
    JOULE_ASSIGN_OR_RETURN(auto meters, tx.ListMeters(project.id));
    std::unordered_map<std::string, const MeterModelRecord*> model_of;
    for (const MeterModelRecord& m : models) {
        model_of.emplace(m.code, &m);
    }
    std::unordered_map<std::string, GatewayId> gateway_of;
    for (const GatewayRecord& g : gateways) {
        if (g.project == project.id) {
            gateway_of.emplace(g.code, g.id);
        }
    }
    std::unordered_map<std::string, RoomId> room_of;
    for (const RoomRecord& r : rooms) {
        room_of.emplace(r.code, r.id);
    }
    std::unordered_map<std::string, TariffId> tariff_of;
    for (const TariffRecord& t : tariffs) {
        tariff_of.emplace(t.code, t.id);
    }
    std::unordered_map<std::string, MeterId> meter_of;
    // (gateway, bus address, circuit) -> the meter answering there
    std::map<std::tuple<int64_t, std::string, int64_t>, std::string> addresses;
    for (const MeterRecord& m : meters) {
        meter_of.emplace(m.code, m.id);
        if (m.gateway.valid()) {
            addresses.emplace(std::tuple{m.gateway.value,
                                         m.bus_address.empty() ? m.code : m.bus_address, m.circuit},
                              m.code);
        }
    }
    std::unordered_map<std::string, std::size_t> in_file;  // code -> index of its row
    for (std::size_t i = 0; i < rows.size(); ++i) {
        in_file.emplace(rows[i].spec.code, i);
    }
    FirstRows first;
    std::map<std::tuple<int64_t, std::string, int64_t>, int64_t> file_addresses;
    std::vector<MeterRecord> records(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const int64_t at = rows[i].row;
        const MeterSpec& spec = rows[i].spec;
        MeterRecord& m = records[i];
        m.project = project.id;
        m.code = spec.code;
        m.bus_address = spec.bus_address;
        m.circuit = spec.circuit;
        m.public_area = spec.public_area;
        if (!problems.Failed(at, site_checks::CheckMeterFields(spec))) {
            if (auto earlier = first.Seen(spec.code, at)) {
                problems.Add(at, "code", ErrorCode::kAlreadyExists, AlsoOn(*earlier));
            } else if (meter_of.contains(spec.code)) {
                problems.Add(at, "code", ErrorCode::kAlreadyExists,
                             "meter '" + spec.code + "' exists already");
            }
        }
        if (spec.model.empty()) {
            problems.Add(at, "model", ErrorCode::kInvalidArgument, "every meter has a model");
        } else if (auto it = model_of.find(spec.model); it == model_of.end()) {
            problems.Add(at, "model", ErrorCode::kNotFound,
                         "no meter model '" + spec.model + "' (GET /api/v1/models)");
        } else {
            m.model = it->second->id;
        }
        const auto reference = [&](const std::string& code, const auto& table, auto& out,
                                   const char* column, const char* what) {
            if (code.empty()) {
                return;
            }
            if (auto it = table.find(code); it != table.end()) {
                out = it->second;
            } else {
                problems.Add(at, column, ErrorCode::kNotFound,
                             std::string("no ") + what + " '" + code + "'");
            }
        };
        reference(spec.gateway, gateway_of, m.gateway, "gateway", "gateway");
        reference(spec.room, room_of, m.room, "room", "room");
        reference(spec.tariff, tariff_of, m.tariff, "tariff", "tariff");
        if (!spec.parent.empty()) {
            if (spec.parent == spec.code) {
                problems.Add(at, "parent", ErrorCode::kInvalidArgument,
                             "a meter cannot be its own parent");
            } else if (!meter_of.contains(spec.parent) && !in_file.contains(spec.parent)) {
                problems.Add(at, "parent", ErrorCode::kNotFound,
                             "no meter '" + spec.parent + "' in the project or this file");
            }
        }
        if (m.gateway.valid()) {
            const std::tuple key{m.gateway.value,
                                 spec.bus_address.empty() ? spec.code : spec.bus_address,
                                 spec.circuit};
            const auto [it, added] = file_addresses.emplace(key, at);
            if (!added) {
                problems.Add(at, "bus_address", ErrorCode::kAlreadyExists, AlsoOn(it->second));
            } else if (auto s = addresses.find(key); s != addresses.end()) {
                problems.Add(at, "bus_address", ErrorCode::kAlreadyExists,
                             "meter '" + s->second +
                                 "' answers at this address and circuit on "
                                 "this gateway already");
            }
        }
    }
    // Parents inside the file must not go round in a loop: each chain of parents is walked once
    // (0 not seen, 1 on the chain being walked, 2 known to end).
    std::vector<std::uint8_t> state(rows.size(), 0);
    const auto parent_in_file = [&](std::size_t i) -> std::optional<std::size_t> {
        const std::string& parent = rows[i].spec.parent;
        if (parent.empty() || meter_of.contains(parent)) {
            return std::nullopt;
        }
        const auto it = in_file.find(parent);
        return it == in_file.end() ? std::nullopt : std::optional<std::size_t>(it->second);
    };
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::vector<std::size_t> chain;
        std::optional<std::size_t> at = i;
        while (at && state[*at] != 2) {
            if (state[*at] == 1) {
                for (auto k = std::find(chain.begin(), chain.end(), *at); k != chain.end(); ++k) {
                    problems.Add(rows[*k].row, "parent", ErrorCode::kInvalidArgument,
                                 "the parents of the file's meters go round in a loop");
                }
                break;
            }
            state[*at] = 1;
            chain.push_back(*at);
            at = parent_in_file(*at);
        }
        for (std::size_t k : chain) {
            state[k] = 2;
        }
    }
    if (problems.Any() || check_only) {
        return Created{};
    }
    // Written parents first: each row after the file's meter it names as its parent.
    Created created{{"meters", {}}};
    std::vector<bool> done(rows.size(), false);
    std::unordered_map<int64_t, MeterModelRecord> model_by_id;
    for (const MeterModelRecord& m : models) {
        model_by_id.emplace(m.id.value, m);
    }
    for (std::size_t i = 0; i < rows.size(); ++i) {
        std::vector<std::size_t> chain;
        for (std::optional<std::size_t> at = i; at && !done[*at]; at = parent_in_file(*at)) {
            chain.push_back(*at);
        }
        for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
            if (done[*it]) {
                continue;
            }
            MeterRecord& m = records[*it];
            const std::string& parent = rows[*it].spec.parent;
            if (!parent.empty()) {
                m.parent = meter_of.at(parent);
            }
            JOULE_ASSIGN_OR_RETURN(m.id, tx.InsertMeter(m));
            meter_of.emplace(m.code, m.id);
            const MeterModelRecord& model = model_by_id.at(m.model.value);
            MeterBilling billing;
            billing.meter = m.id;
            billing.utility = model.utility;
            billing.spec = model.spec;
            JOULE_TRY(tx.SaveBilling(billing));
            done[*it] = true;
        }
    }
    for (const MeterRecord& m : records) {
        created[0].second.push_back(m.code);
    }
    return created;
}

// ----------------------------------------------------------------------------------- accounts

// The template's column of a field the billing service names.
std::string AccountColumn(std::string_view field) {
    if (field.starts_with("meters[")) {
        return field.ends_with(".reading") ? "readings" : "meters";
    }
    if (field == "tenant_name") {
        return "tenant";
    }
    if (field == "first_top_up") {
        return "balance";
    }
    if (field == "opened_at") {
        return "tariff";  // a tariff not yet in effect
    }
    if (field == "number" || field == "tenant" || field == "phone" || field == "tariff" ||
        field == "channel" || field == "meters") {
        return std::string(field);
    }
    return "";
}

Result<Created> ImportAccounts(Tx& tx, BillingService& billing, const ProjectRecord& project,
                               const std::vector<AccountRow>& rows, Problems& problems,
                               bool check_only, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tariffs, tx.ListTariffs(project.id));
    JOULE_ASSIGN_OR_RETURN(auto meters, tx.ListMeters(project.id));
    JOULE_ASSIGN_OR_RETURN(auto models, tx.ListModels());
    JOULE_ASSIGN_OR_RETURN(auto accounts, tx.ListAccounts(project.id));
    std::unordered_map<std::string, const TariffRecord*> tariff_of;
    for (const TariffRecord& t : tariffs) {
        tariff_of.emplace(t.code, &t);
    }
    std::unordered_map<std::string, const MeterRecord*> meter_of;
    for (const MeterRecord& m : meters) {
        meter_of.emplace(m.code, &m);
    }
    std::unordered_map<int64_t, const MeterModelRecord*> model_of;
    for (const MeterModelRecord& m : models) {
        model_of.emplace(m.id.value, &m);
    }
    std::set<std::string> numbers;
    for (const AccountRecord& a : accounts) {
        numbers.insert(a.number);
    }
    FirstRows first_number;
    FirstRows first_meter;
    for (const AccountRow& row : rows) {
        const OpenAccountRequest& r = row.request;
        const int64_t at = row.row;
        if (!problems.Failed(at, CheckCode(r.number, "number"))) {
            if (auto earlier = first_number.Seen(r.number, at)) {
                problems.Add(at, "number", ErrorCode::kAlreadyExists, AlsoOn(*earlier));
            } else if (numbers.contains(r.number)) {
                problems.Add(at, "number", ErrorCode::kAlreadyExists,
                             "account '" + r.number + "' exists already");
            }
        }
        (void)problems.Failed(at, CheckName(r.tenant_name, "tenant"));
        if (r.phone.size() > 32) {
            problems.Add(at, "phone", ErrorCode::kInvalidArgument, "must be at most 32 bytes");
        }
        if (auto t = tariff_of.find(r.tariff_code); t == tariff_of.end()) {
            problems.Add(at, "tariff", ErrorCode::kNotFound, "no tariff '" + r.tariff_code + "'");
        } else if (t->second->tariff.versions.front().effective_from > now) {
            problems.Add(at, "tariff", ErrorCode::kFailedPrecondition,
                         "tariff '" + r.tariff_code + "' is not in effect yet");
        }
        if (r.meters.empty()) {
            problems.Add(at, "meters", ErrorCode::kInvalidArgument,
                         "an account is opened on at least one meter");
        }
        for (const MeterOpening& opening : r.meters) {
            const auto m = meter_of.find(opening.meter_code);
            if (m == meter_of.end()) {
                problems.Add(at, "meters", ErrorCode::kNotFound,
                             "no meter '" + opening.meter_code + "'");
                continue;
            }
            if (auto earlier = first_meter.Seen(opening.meter_code, at)) {
                problems.Add(at, "meters", ErrorCode::kAlreadyExists,
                             "meter '" + opening.meter_code + "' is taken by the account on row " +
                                 std::to_string(*earlier));
                continue;
            }
            if (m->second->public_area) {
                problems.Add(at, "meters", ErrorCode::kFailedPrecondition,
                             "meter '" + opening.meter_code + "' is a public-area meter");
                continue;
            }
            JOULE_ASSIGN_OR_RETURN(auto binding, tx.CurrentBinding(m->second->id));
            if (binding) {
                problems.Add(at, "meters", ErrorCode::kAlreadyExists,
                             "meter '" + opening.meter_code + "' is bound to another account");
                continue;
            }
            const MeterModelRecord* model = model_of.at(m->second->model.value);
            if (opening.opening_total.milli < 0 ||
                opening.opening_total >= model->spec.register_modulus) {
                problems.Add(at, "readings", ErrorCode::kInvalidArgument,
                             "the opening register of meter '" + opening.meter_code +
                                 "' is negative or above what its register can hold");
            }
        }
        if (r.first_top_up.fen < 0 || r.first_top_up.fen > kMaxTransferFen) {
            problems.Add(at, "balance", ErrorCode::kInvalidArgument,
                         "must be 0 to 100000000.00 yuan");
        }
        if (r.channel.empty() || r.channel.size() > 32) {
            problems.Add(at, "channel", ErrorCode::kInvalidArgument, "must be 1 to 32 bytes");
        }
    }
    if (problems.Any() || check_only) {
        return Created{};
    }
    Created created{{"accounts", {}}};
    for (const AccountRow& row : rows) {
        OpenAccountRequest r = row.request;
        r.project_code = project.code;
        r.opened_at = now;
        r.billing_mode = BillingMode::kPlatform;
        auto opened = billing.OpenAccountInTx(tx, r, actor, now);
        if (!opened) {
            // Checked above, so only what the checks do not see gets here (a meter read later
            // than now, a store error): reported on its row, and nothing is written.
            const Error& e = opened.error();
            if (e.code == ErrorCode::kInternal || e.code == ErrorCode::kDataLoss ||
                e.code == ErrorCode::kUnavailable) {
                return std::unexpected(e);
            }
            problems.Add(row.row, AccountColumn(e.field), e.code, e.message);
            return Created{};
        }
        created[0].second.push_back(r.number);
    }
    return created;
}

std::string CreatedJson(const Created& created) {
    std::string out = "{";
    for (const auto& [kind, codes] : created) {
        out += (out.size() > 1 ? "," : "") + JsonQuote(kind) + ":" + std::to_string(codes.size());
    }
    return out + "}";
}

}  // namespace

std::string_view ImportKindName(ImportKind kind) {
    switch (kind) {
        case ImportKind::kBuildings:
            return "buildings";
        case ImportKind::kRooms:
            return "rooms";
        case ImportKind::kGateways:
            return "gateways";
        case ImportKind::kMeters:
            return "meters";
        case ImportKind::kAccounts:
            return "accounts";
    }
    return "?";
}

Result<ImportResult> ImportSite(Store& store, BillingService& billing, const ImportRequest& request,
                                const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, request.project_code));
    Problems problems;
    const bool check_only = request.check_only;
    Result<Created> created = Created{};
    switch (request.kind) {
        case ImportKind::kBuildings:
            created = ImportBuildings(*tx, project, request.buildings, problems, check_only);
            break;
        case ImportKind::kRooms:
            created = ImportRooms(*tx, project, request.rooms, problems, check_only);
            break;
        case ImportKind::kGateways:
            created = ImportGateways(*tx, project, request.gateways, problems, check_only);
            break;
        case ImportKind::kMeters:
            created = ImportMeters(*tx, project, request.meters, problems, check_only);
            break;
        case ImportKind::kAccounts:
            created = ImportAccounts(*tx, billing, project, request.accounts, problems, check_only,
                                     actor, now);
            break;
    }
    if (!created) {
        return std::unexpected(created.error());
    }
    ImportResult result;
    if (problems.Any() || check_only) {
        result.errors = std::move(problems.errors);
        return result;  // the unit of work rolls back
    }
    result.created = std::move(*created);
    if (request.dry_run) {
        return result;  // everything was written and now rolls back
    }
    const std::string kind(ImportKindName(request.kind));
    JOULE_TRY(
        tx->InsertOperation(OperationBy(actor, now, project.id, "import." + kind, "import:" + kind,
                                        "{\"format\":" + JsonQuote(request.format) +
                                            ",\"rows\":" + std::to_string(request.file_rows) +
                                            ",\"created\":" + CreatedJson(result.created) + "}")));
    JOULE_TRY(tx->Commit());
    result.written = true;
    return result;
}

}  // namespace joule
