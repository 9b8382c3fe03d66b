#include "service/site_edit.hpp"
#include "service/project_lookup.hpp"

#include "base/json_quote.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "base/host_port.hpp"

namespace joule {

namespace {

constexpr std::string_view kTransports[] = {"mqtt", "modbus_tcp", "dtu"};
constexpr std::string_view kFramings[] = {"transparent", "mbap"};

bool HasControl(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x20 || b == 0x7F;
    });
}

// Refuses an edit made against another version than the row's.
Status CheckVersion(std::string_view what, std::string_view code, int64_t current,
                    int64_t expected) {
    if (current != expected) {
        return MakeError(ErrorCode::kAborted,
                         std::string(what) + " '" + std::string(code) + "' changed since version " +
                             std::to_string(expected) + " (it is at " + std::to_string(current) +
                             "); reload and try again",
                         "expected_version");
    }
    return {};
}

Status Log(Tx& tx, const Actor& actor, Instant now, ProjectId project, std::string action,
           std::string target, std::string detail) {
    return tx.InsertOperation(
        OperationBy(actor, now, project, std::move(action), std::move(target), std::move(detail)));
}

std::string Created(const std::string& after) { return "{\"after\":" + after + "}"; }
std::string Changed(const std::string& before, const std::string& after) {
    return "{\"before\":" + before + ",\"after\":" + after + "}";
}
std::string Deleted(const std::string& before) { return "{\"before\":" + before + "}"; }

// A name given or, when empty, the code.
Result<std::string> NameOr(const std::string& name, const std::string& code) {
    const std::string out = name.empty() ? code : name;
    JOULE_TRY(CheckName(out, "name"));
    return out;
}

// The record a lookup found, or 404 naming `field`: "no <what> '<code>'<where>".
template <class Record>
Result<Record> Existing(Result<std::optional<Record>> found, std::string_view what,
                        std::string_view code, std::string_view field,
                        const std::string& where = "") {
    if (!found) {
        return std::unexpected(std::move(found).error());
    }
    if (!*found) {
        return NotFound(
            "no " + std::string(what) + " '" + std::string(code.substr(0, 64)) + "'" + where,
            std::string(field));
    }
    return std::move(**found);
}

// kAlreadyExists naming "code" when `found` holds a record: codes are unique in their scope.
template <class Record>
Status CodeFree(Result<std::optional<Record>> found, std::string_view what, std::string_view code) {
    if (!found) {
        return std::unexpected(std::move(found).error());
    }
    if (*found) {
        return MakeError(ErrorCode::kAlreadyExists,
                         std::string(what) + " '" + std::string(code) + "' exists", "code");
    }
    return {};
}

Result<BuildingRecord> FindBuildingOf(Tx& tx, ProjectId project, std::string_view code,
                                      std::string_view field = "building") {
    return Existing(tx.FindBuilding(project, code), "building", code, field);
}

Result<FloorRecord> FindFloorOf(Tx& tx, const BuildingRecord& building, std::string_view code) {
    return Existing(tx.FindFloor(building.id, code), "floor", code, "floor",
                    " in building '" + building.code + "'");
}

Result<RoomRecord> FindRoomOf(Tx& tx, ProjectId project, std::string_view code,
                              std::string_view field = "room") {
    return Existing(tx.FindRoom(project, code), "room", code, field);
}

Result<GatewayRecord> FindGatewayOf(Tx& tx, ProjectId project, std::string_view code,
                                    std::string_view field = "gateway") {
    return Existing(tx.FindGateway(project, code), "gateway", code, field);
}

Result<MeterRecord> FindMeterOf(Tx& tx, ProjectId project, std::string_view code,
                                std::string_view field = "meter") {
    return Existing(tx.FindMeter(project, code), "meter", code, field);
}

// The floor of (building, floor) codes: both empty is no floor; one without the other is refused.
Result<FloorId> PlaceOf(Tx& tx, ProjectId project, const std::string& building,
                        const std::string& floor) {
    if (building.empty() && floor.empty()) {
        return FloorId{};
    }
    if (building.empty()) {
        return InvalidArgument("building", "a floor is in a building: name the building too");
    }
    if (floor.empty()) {
        return InvalidArgument("floor", "a room is on a floor: name the floor too");
    }
    JOULE_ASSIGN_OR_RETURN(BuildingRecord b, FindBuildingOf(tx, project, building));
    JOULE_ASSIGN_OR_RETURN(FloorRecord f, FindFloorOf(tx, b, floor));
    return f.id;
}

// Refuses a parent that is the meter itself or one of its own sub-meters.
Status CheckParent(Tx& tx, const MeterRecord& meter) {
    MeterId at = meter.parent;
    for (int depth = 0; at.valid(); ++depth) {
        if (at == meter.id || depth > 1000) {
            return InvalidArgument("parent", "a meter cannot be its own parent, even indirectly");
        }
        JOULE_ASSIGN_OR_RETURN(MeterRecord up, tx.GetMeter(at));
        at = up.parent;
    }
    return {};
}

MeterSpec SpecOf(const MeterView& v) {
    return MeterSpec{v.meter.code, v.model,  v.gateway, v.meter.bus_address, v.meter.circuit,
                     v.room,       v.tariff, v.parent,  v.meter.public_area};
}

// A model change moves the meter's billing state to the new model's register and utility; only
// allowed before the meter has readings or an account (then it is a meter replacement).
Status ChangeModel(Tx& tx, const MeterRecord& meter, ModelId model) {
    JOULE_ASSIGN_OR_RETURN(MeterHistory history, tx.MeterHistoryOf(meter.id));
    if (history.readings > 0 || history.bindings > 0) {
        return FailedPrecondition("meter '" + meter.code +
                                      "' has readings or an account: its model is part of its "
                                      "history; replace the meter instead "
                                      "(POST .../accounts/{account}/meter-replacements)",
                                  "model");
    }
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord record, tx.GetModel(model));
    JOULE_ASSIGN_OR_RETURN(auto billing, tx.LoadBilling(meter.id));
    MeterBilling state = billing.value_or(MeterBilling{});
    state.meter = meter.id;
    state.utility = record.utility;
    state.spec = record.spec;
    return tx.SaveBilling(state);
}

}  // namespace

// ------------------------------------------------------------------------------ checks, views

Status CheckCode(std::string_view code, std::string_view field) {
    if (code.empty() || code.size() > kMaxCodeBytes) {
        return InvalidArgument(std::string(field), "must be 1 to 64 bytes long");
    }
    if (code.find('/') != std::string_view::npos || HasControl(code)) {
        return InvalidArgument(std::string(field),
                               "must not contain '/' or control characters (it names the object "
                               "in paths)");
    }
    if (code.front() == ' ' || code.back() == ' ') {
        return InvalidArgument(std::string(field), "must not start or end with a space");
    }
    return {};
}

Status CheckName(std::string_view name, std::string_view field) {
    if (name.empty() || name.size() > kMaxNameBytes) {
        return InvalidArgument(std::string(field), "must be 1 to 128 bytes long");
    }
    // A spreadsheet cell may hold line breaks (Alt+Enter) and tabs; nothing else below space.
    const bool control = std::any_of(name.begin(), name.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return (b < 0x20 && c != '\t' && c != '\n' && c != '\r') || b == 0x7F;
    });
    if (control) {
        return InvalidArgument(std::string(field),
                               "must not contain control characters (line breaks and tabs may)");
    }
    return {};
}

Result<FloorView> ViewOf(Tx& tx, const FloorRecord& floor) {
    JOULE_ASSIGN_OR_RETURN(BuildingRecord building, tx.GetBuilding(floor.building));
    return FloorView{floor, building.code};
}

Result<RoomView> ViewOf(Tx& tx, const RoomRecord& room) {
    RoomView view{room, "", ""};
    if (room.floor.valid()) {
        JOULE_ASSIGN_OR_RETURN(FloorRecord floor, tx.GetFloor(room.floor));
        JOULE_ASSIGN_OR_RETURN(BuildingRecord building, tx.GetBuilding(floor.building));
        view.floor = floor.code;
        view.building = building.code;
    }
    return view;
}

Result<MeterView> ViewOf(Tx& tx, const MeterRecord& meter) {
    MeterView view{meter, "", "", "", "", ""};
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx.GetModel(meter.model));
    view.model = model.code;
    if (meter.gateway.valid()) {
        JOULE_ASSIGN_OR_RETURN(GatewayRecord gateway, tx.GetGateway(meter.gateway));
        view.gateway = gateway.code;
    }
    if (meter.room.valid()) {
        JOULE_ASSIGN_OR_RETURN(RoomRecord room, tx.GetRoom(meter.room));
        view.room = room.code;
    }
    if (meter.tariff.valid()) {
        JOULE_ASSIGN_OR_RETURN(TariffRecord tariff, tx.GetTariff(meter.tariff));
        view.tariff = tariff.code;
    }
    if (meter.parent.valid()) {
        JOULE_ASSIGN_OR_RETURN(MeterRecord parent, tx.GetMeter(meter.parent));
        view.parent = parent.code;
    }
    return view;
}

std::string LogJson(const BuildingRecord& b) {
    return "{\"code\":" + JsonQuote(b.code) + ",\"name\":" + JsonQuote(b.name) + "}";
}

std::string LogJson(const FloorView& f) {
    return "{\"building\":" + JsonQuote(f.building) + ",\"code\":" + JsonQuote(f.floor.code) +
           ",\"name\":" + JsonQuote(f.floor.name) + "}";
}

std::string LogJson(const RoomView& r) {
    return "{\"code\":" + JsonQuote(r.room.code) + ",\"name\":" + JsonQuote(r.room.name) +
           ",\"building\":" + JsonQuote(r.building) + ",\"floor\":" + JsonQuote(r.floor) +
           ",\"area_dm2\":" + std::to_string(r.room.area_dm2) + "}";
}

std::string LogJson(const GatewayRecord& g) {
    return "{\"code\":" + JsonQuote(g.code) + ",\"name\":" + JsonQuote(g.name) +
           ",\"transport\":" + JsonQuote(g.transport) + ",\"endpoint\":" + JsonQuote(g.endpoint) +
           ",\"framing\":" + JsonQuote(g.framing) + "}";
}

std::string LogJson(const MeterView& m) {
    return "{\"code\":" + JsonQuote(m.meter.code) + ",\"model\":" + JsonQuote(m.model) +
           ",\"gateway\":" + JsonQuote(m.gateway) +
           ",\"bus_address\":" + JsonQuote(m.meter.bus_address) +
           ",\"circuit\":" + std::to_string(m.meter.circuit) + ",\"room\":" + JsonQuote(m.room) +
           ",\"tariff\":" + JsonQuote(m.tariff) + ",\"parent\":" + JsonQuote(m.parent) +
           ",\"public_area\":" + (m.meter.public_area ? "true" : "false") + "}";
}

namespace site_checks {

Status CheckArea(int64_t area_dm2) {
    if (area_dm2 < 0 || area_dm2 > kMaxAreaDm2) {
        return InvalidArgument("area", "must be 0 to 10000000000.00 m²");
    }
    return {};
}

Status CheckMeterFields(const MeterSpec& spec) {
    JOULE_TRY(CheckCode(spec.code, "code"));
    if (spec.bus_address.size() > kMaxBusAddressBytes || HasControl(spec.bus_address)) {
        return InvalidArgument("bus_address",
                               "must be at most 32 bytes without control characters");
    }
    if (spec.circuit < 0 || spec.circuit > kMaxCircuit) {
        return InvalidArgument("circuit", "must be 0 (a single meter) to 63");
    }
    return {};
}

Status CheckGatewayFields(const GatewayRecord& g) {
    JOULE_TRY(CheckCode(g.code, "code"));
    JOULE_TRY(CheckName(g.name, "name"));
    if (std::find(std::begin(kTransports), std::end(kTransports), g.transport) ==
        std::end(kTransports)) {
        return InvalidArgument("transport", "must be mqtt, modbus_tcp or dtu");
    }
    if (std::find(std::begin(kFramings), std::end(kFramings), g.framing) == std::end(kFramings)) {
        return InvalidArgument("framing", "must be transparent or mbap");
    }
    if (g.endpoint.size() > kMaxEndpointBytes || HasControl(g.endpoint)) {
        return InvalidArgument("endpoint", "must be at most 128 bytes without control characters");
    }
    if (g.transport == "dtu" && g.endpoint.empty()) {
        return InvalidArgument("endpoint",
                               "a DTU is known by the registration id it sends when it dials in: "
                               "give it");
    }
    if (g.transport == "modbus_tcp") {  // the platform connects to it: host and port (502)
        JOULE_TRY(ParseHostPort(g.endpoint, "endpoint", PortUse::kConnect, 502));
    }
    return {};
}

Status CheckGateway(Tx& tx, const GatewayRecord& g, GatewayId except) {
    JOULE_TRY(CheckGatewayFields(g));
    if (g.endpoint.empty()) {
        return {};
    }
    // One gateway per (transport, endpoint) in the whole store: an id a DTU registers with, or a
    // host:port polled, must lead to one gateway. Another project's gateway is not named.
    JOULE_ASSIGN_OR_RETURN(auto all, tx.ListGateways());
    for (const GatewayRecord& other : all) {
        if (other.id != except && other.transport == g.transport && other.endpoint == g.endpoint) {
            return MakeError(ErrorCode::kAlreadyExists,
                             other.project == g.project
                                 ? "gateway '" + other.code + "' has this endpoint already"
                                 : std::string("another gateway has this endpoint already"),
                             "endpoint");
        }
    }
    return {};
}

Status CheckBusAddress(Tx& tx, const MeterRecord& meter) {
    if (!meter.gateway.valid()) {
        return {};
    }
    const auto address = [](const MeterRecord& m) -> const std::string& {
        return m.bus_address.empty() ? m.code : m.bus_address;
    };
    JOULE_ASSIGN_OR_RETURN(auto neighbours, tx.ListMetersOfGateway(meter.gateway));
    for (const MeterRecord& other : neighbours) {
        if (other.id != meter.id && address(other) == address(meter) &&
            other.circuit == meter.circuit) {
            return MakeError(ErrorCode::kAlreadyExists,
                             "meter '" + other.code + "' answers at bus address " + address(meter) +
                                 " circuit " + std::to_string(meter.circuit) +
                                 " on this gateway already",
                             "bus_address");
        }
    }
    return {};
}

Status ResolveMeter(Tx& tx, ProjectId project, const MeterSpec& spec, MeterRecord& out) {
    out.project = project;
    out.code = spec.code;
    out.bus_address = spec.bus_address;
    out.circuit = spec.circuit;
    out.public_area = spec.public_area;
    if (spec.model.empty()) {
        return InvalidArgument("model", "every meter has a model (GET /api/v1/models)");
    }
    JOULE_ASSIGN_OR_RETURN(auto model, tx.FindModel(spec.model));
    if (!model) {
        return NotFound("no meter model '" + spec.model.substr(0, 64) + "'", "model");
    }
    out.model = model->id;
    out.gateway = GatewayId{};
    if (!spec.gateway.empty()) {
        JOULE_ASSIGN_OR_RETURN(GatewayRecord g, FindGatewayOf(tx, project, spec.gateway));
        out.gateway = g.id;
    }
    out.room = RoomId{};
    if (!spec.room.empty()) {
        JOULE_ASSIGN_OR_RETURN(RoomRecord r, FindRoomOf(tx, project, spec.room));
        out.room = r.id;
    }
    out.tariff = TariffId{};
    if (!spec.tariff.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto t, tx.FindTariff(project, spec.tariff));
        if (!t) {
            return NotFound("no tariff '" + spec.tariff.substr(0, 64) + "'", "tariff");
        }
        out.tariff = t->id;
    }
    out.parent = MeterId{};
    if (!spec.parent.empty()) {
        JOULE_ASSIGN_OR_RETURN(MeterRecord p, FindMeterOf(tx, project, spec.parent, "parent"));
        out.parent = p.id;
    }
    return {};
}

}  // namespace site_checks

// ---------------------------------------------------------------------------------- buildings

Result<BuildingRecord> SiteEditor::CreateBuilding(std::string_view project_code,
                                                  BuildingRecord building, const Actor& actor,
                                                  Instant now) {
    JOULE_TRY(CheckCode(building.code, "code"));
    JOULE_ASSIGN_OR_RETURN(building.name, NameOr(building.name, building.code));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_TRY(CodeFree(tx->FindBuilding(project.id, building.code), "building", building.code));
    building.project = project.id;
    JOULE_ASSIGN_OR_RETURN(building.id, tx->InsertBuilding(building));
    building.version = 1;
    JOULE_TRY(Log(*tx, actor, now, project.id, "building.create", "building:" + building.code,
                  Created(LogJson(building))));
    JOULE_TRY(tx->Commit());
    return building;
}

Result<BuildingRecord> SiteEditor::UpdateBuilding(std::string_view project_code,
                                                  std::string_view code, const BuildingPatch& patch,
                                                  int64_t expected_version, const Actor& actor,
                                                  Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(BuildingRecord before, FindBuildingOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("building", before.code, before.version, expected_version));
    BuildingRecord after = before;
    if (patch.code && *patch.code != before.code) {
        JOULE_TRY(CheckCode(*patch.code, "code"));
        JOULE_TRY(CodeFree(tx->FindBuilding(project.id, *patch.code), "building", *patch.code));
        after.code = *patch.code;
    }
    if (patch.name) {
        JOULE_TRY(CheckName(*patch.name, "name"));
        after.name = *patch.name;
    }
    JOULE_TRY(tx->UpdateBuilding(after));
    after.version = before.version + 1;
    JOULE_TRY(Log(*tx, actor, now, project.id, "building.update", "building:" + before.code,
                  Changed(LogJson(before), LogJson(after))));
    JOULE_TRY(tx->Commit());
    return after;
}

Status SiteEditor::DeleteBuilding(std::string_view project_code, std::string_view code,
                                  int64_t expected_version, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(BuildingRecord before, FindBuildingOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("building", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(int64_t floors, tx->CountFloorsOf(before.id));
    if (floors > 0) {
        return FailedPrecondition("building '" + before.code + "' still has " +
                                      std::to_string(floors) +
                                      " floor(s); delete them first (their rooms before them)",
                                  "building");
    }
    JOULE_TRY(tx->DeleteBuilding(before.id));
    JOULE_TRY(Log(*tx, actor, now, project.id, "building.delete", "building:" + before.code,
                  Deleted(LogJson(before))));
    return tx->Commit();
}

// ------------------------------------------------------------------------------------- floors

Result<FloorView> SiteEditor::CreateFloor(std::string_view project_code,
                                          std::string_view building_code, FloorRecord floor,
                                          const Actor& actor, Instant now) {
    JOULE_TRY(CheckCode(floor.code, "code"));
    JOULE_ASSIGN_OR_RETURN(floor.name, NameOr(floor.name, floor.code));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(BuildingRecord building, FindBuildingOf(*tx, project.id, building_code));
    JOULE_ASSIGN_OR_RETURN(auto taken, tx->FindFloor(building.id, floor.code));
    if (taken) {
        return MakeError(ErrorCode::kAlreadyExists,
                         "floor '" + floor.code + "' exists in building '" + building.code + "'",
                         "code");
    }
    floor.building = building.id;
    JOULE_ASSIGN_OR_RETURN(floor.id, tx->InsertFloor(floor));
    floor.version = 1;
    const FloorView view{floor, building.code};
    JOULE_TRY(Log(*tx, actor, now, project.id, "floor.create",
                  "floor:" + building.code + "/" + floor.code, Created(LogJson(view))));
    JOULE_TRY(tx->Commit());
    return view;
}

Result<FloorView> SiteEditor::UpdateFloor(std::string_view project_code,
                                          std::string_view building_code, std::string_view code,
                                          const FloorPatch& patch, int64_t expected_version,
                                          const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(BuildingRecord building, FindBuildingOf(*tx, project.id, building_code));
    JOULE_ASSIGN_OR_RETURN(FloorRecord before, FindFloorOf(*tx, building, code));
    JOULE_TRY(CheckVersion("floor", before.code, before.version, expected_version));
    FloorRecord after = before;
    if (patch.code && *patch.code != before.code) {
        JOULE_TRY(CheckCode(*patch.code, "code"));
        JOULE_ASSIGN_OR_RETURN(auto taken, tx->FindFloor(building.id, *patch.code));
        if (taken) {
            return MakeError(
                ErrorCode::kAlreadyExists,
                "floor '" + *patch.code + "' exists in building '" + building.code + "'", "code");
        }
        after.code = *patch.code;
    }
    if (patch.name) {
        JOULE_TRY(CheckName(*patch.name, "name"));
        after.name = *patch.name;
    }
    JOULE_TRY(tx->UpdateFloor(after));
    after.version = before.version + 1;
    const FloorView view{after, building.code};
    JOULE_TRY(Log(*tx, actor, now, project.id, "floor.update",
                  "floor:" + building.code + "/" + before.code,
                  Changed(LogJson(FloorView{before, building.code}), LogJson(view))));
    JOULE_TRY(tx->Commit());
    return view;
}

Status SiteEditor::DeleteFloor(std::string_view project_code, std::string_view building_code,
                               std::string_view code, int64_t expected_version, const Actor& actor,
                               Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(BuildingRecord building, FindBuildingOf(*tx, project.id, building_code));
    JOULE_ASSIGN_OR_RETURN(FloorRecord before, FindFloorOf(*tx, building, code));
    JOULE_TRY(CheckVersion("floor", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(int64_t rooms, tx->CountRoomsOn(before.id));
    if (rooms > 0) {
        return FailedPrecondition("floor '" + before.code + "' still has " + std::to_string(rooms) +
                                      " room(s); delete them or move them to another floor first",
                                  "floor");
    }
    JOULE_TRY(tx->DeleteFloor(before.id));
    JOULE_TRY(Log(*tx, actor, now, project.id, "floor.delete",
                  "floor:" + building.code + "/" + before.code,
                  Deleted(LogJson(FloorView{before, building.code}))));
    return tx->Commit();
}

// -------------------------------------------------------------------------------------- rooms

Result<RoomView> SiteEditor::CreateRoom(std::string_view project_code, const RoomSpec& spec,
                                        const Actor& actor, Instant now) {
    JOULE_TRY(CheckCode(spec.code, "code"));
    JOULE_TRY(site_checks::CheckArea(spec.area_dm2));
    RoomRecord room;
    room.code = spec.code;
    room.area_dm2 = spec.area_dm2;
    JOULE_ASSIGN_OR_RETURN(room.name, NameOr(spec.name, spec.code));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(room.floor, PlaceOf(*tx, project.id, spec.building, spec.floor));
    JOULE_TRY(CodeFree(tx->FindRoom(project.id, room.code), "room", room.code));
    room.project = project.id;
    JOULE_ASSIGN_OR_RETURN(room.id, tx->InsertRoom(room));
    room.version = 1;
    JOULE_ASSIGN_OR_RETURN(RoomView view, ViewOf(*tx, room));
    JOULE_TRY(Log(*tx, actor, now, project.id, "room.create", "room:" + room.code,
                  Created(LogJson(view))));
    JOULE_TRY(tx->Commit());
    return view;
}

Result<RoomView> SiteEditor::UpdateRoom(std::string_view project_code, std::string_view code,
                                        const RoomPatch& patch, int64_t expected_version,
                                        const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(RoomRecord before, FindRoomOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("room", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(RoomView before_view, ViewOf(*tx, before));
    RoomRecord after = before;
    if (patch.code && *patch.code != before.code) {
        JOULE_TRY(CheckCode(*patch.code, "code"));
        JOULE_TRY(CodeFree(tx->FindRoom(project.id, *patch.code), "room", *patch.code));
        after.code = *patch.code;
    }
    if (patch.name) {
        JOULE_TRY(CheckName(*patch.name, "name"));
        after.name = *patch.name;
    }
    if (patch.area_dm2) {
        JOULE_TRY(site_checks::CheckArea(*patch.area_dm2));
        after.area_dm2 = *patch.area_dm2;
    }
    if (patch.place) {
        JOULE_ASSIGN_OR_RETURN(after.floor,
                               PlaceOf(*tx, project.id, patch.place->first, patch.place->second));
    }
    JOULE_TRY(tx->UpdateRoom(after));
    after.version = before.version + 1;
    JOULE_ASSIGN_OR_RETURN(RoomView view, ViewOf(*tx, after));
    JOULE_TRY(Log(*tx, actor, now, project.id, "room.update", "room:" + before.code,
                  Changed(LogJson(before_view), LogJson(view))));
    JOULE_TRY(tx->Commit());
    return view;
}

Status SiteEditor::DeleteRoom(std::string_view project_code, std::string_view code,
                              int64_t expected_version, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(RoomRecord before, FindRoomOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("room", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(int64_t meters, tx->CountMetersIn(before.id));
    if (meters > 0) {
        return FailedPrecondition("room '" + before.code + "' still has " + std::to_string(meters) +
                                      " meter(s); move them to another room first",
                                  "room");
    }
    JOULE_ASSIGN_OR_RETURN(RoomView view, ViewOf(*tx, before));
    JOULE_TRY(tx->DeleteRoom(before.id));
    JOULE_TRY(Log(*tx, actor, now, project.id, "room.delete", "room:" + before.code,
                  Deleted(LogJson(view))));
    return tx->Commit();
}

// ----------------------------------------------------------------------------------- gateways

Result<GatewayRecord> SiteEditor::CreateGateway(std::string_view project_code,
                                                GatewayRecord gateway, const Actor& actor,
                                                Instant now) {
    if (gateway.name.empty()) {
        gateway.name = gateway.code;
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    gateway.project = project.id;
    JOULE_TRY(site_checks::CheckGateway(*tx, gateway, GatewayId{}));
    JOULE_TRY(CodeFree(tx->FindGateway(project.id, gateway.code), "gateway", gateway.code));
    gateway.online = false;
    gateway.last_seen.reset();
    gateway.secret_hash.clear();  // MQTT credentials come from `joule mqtt-auth`
    JOULE_ASSIGN_OR_RETURN(gateway.id, tx->InsertGateway(gateway));
    gateway.version = 1;
    JOULE_TRY(Log(*tx, actor, now, project.id, "gateway.create", "gateway:" + gateway.code,
                  Created(LogJson(gateway))));
    JOULE_TRY(tx->Commit());
    return gateway;
}

Result<GatewayRecord> SiteEditor::UpdateGateway(std::string_view project_code,
                                                std::string_view code, const GatewayPatch& patch,
                                                int64_t expected_version, const Actor& actor,
                                                Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(GatewayRecord before, FindGatewayOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("gateway", before.code, before.version, expected_version));
    GatewayRecord after = before;
    after.code = patch.code.value_or(before.code);
    after.name = patch.name.value_or(before.name);
    after.transport = patch.transport.value_or(before.transport);
    after.endpoint = patch.endpoint.value_or(before.endpoint);
    after.framing = patch.framing.value_or(before.framing);
    JOULE_TRY(site_checks::CheckGateway(*tx, after, before.id));
    if (after.code != before.code) {
        JOULE_TRY(CodeFree(tx->FindGateway(project.id, after.code), "gateway", after.code));
    }
    JOULE_TRY(tx->UpdateGateway(after));
    after.version = before.version + 1;
    JOULE_TRY(Log(*tx, actor, now, project.id, "gateway.update", "gateway:" + before.code,
                  Changed(LogJson(before), LogJson(after))));
    JOULE_TRY(tx->Commit());
    return after;
}

Status SiteEditor::DeleteGateway(std::string_view project_code, std::string_view code,
                                 int64_t expected_version, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(GatewayRecord before, FindGatewayOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("gateway", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMetersOfGateway(before.id));
    if (!meters.empty()) {
        return FailedPrecondition("gateway '" + before.code + "' still has " +
                                      std::to_string(meters.size()) +
                                      " meter(s); move them to another gateway or delete them "
                                      "first",
                                  "gateway");
    }
    JOULE_TRY(tx->DeleteGateway(before.id, now));
    JOULE_TRY(Log(*tx, actor, now, project.id, "gateway.delete", "gateway:" + before.code,
                  Deleted(LogJson(before))));
    return tx->Commit();
}

// ------------------------------------------------------------------------------------- meters

Result<MeterView> SiteEditor::CreateMeter(std::string_view project_code, const MeterSpec& spec,
                                          const Actor& actor, Instant now) {
    JOULE_TRY(site_checks::CheckMeterFields(spec));
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_TRY(CodeFree(tx->FindMeter(project.id, spec.code), "meter", spec.code));
    MeterRecord meter;
    JOULE_TRY(site_checks::ResolveMeter(*tx, project.id, spec, meter));
    JOULE_TRY(site_checks::CheckBusAddress(*tx, meter));
    JOULE_ASSIGN_OR_RETURN(meter.id, tx->InsertMeter(meter));
    meter.version = 1;
    // Billing state as site creation and binding make it: the first reading is the baseline.
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx->GetModel(meter.model));
    MeterBilling billing;
    billing.meter = meter.id;
    billing.utility = model.utility;
    billing.spec = model.spec;
    JOULE_TRY(tx->SaveBilling(billing));
    JOULE_ASSIGN_OR_RETURN(MeterView view, ViewOf(*tx, meter));
    JOULE_TRY(Log(*tx, actor, now, project.id, "meter.create", "meter:" + meter.code,
                  Created(LogJson(view))));
    JOULE_TRY(tx->Commit());
    return view;
}

Result<MeterView> SiteEditor::UpdateMeter(std::string_view project_code, std::string_view code,
                                          const MeterPatch& patch, int64_t expected_version,
                                          const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(MeterRecord before, FindMeterOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("meter", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(MeterView before_view, ViewOf(*tx, before));
    MeterSpec spec = SpecOf(before_view);
    spec.code = patch.code.value_or(spec.code);
    spec.model = patch.model.value_or(spec.model);
    spec.gateway = patch.gateway.value_or(spec.gateway);
    spec.bus_address = patch.bus_address.value_or(spec.bus_address);
    spec.circuit = patch.circuit.value_or(spec.circuit);
    spec.room = patch.room.value_or(spec.room);
    spec.tariff = patch.tariff.value_or(spec.tariff);
    spec.parent = patch.parent.value_or(spec.parent);
    spec.public_area = patch.public_area.value_or(spec.public_area);
    JOULE_TRY(site_checks::CheckMeterFields(spec));
    if (spec.code != before.code) {
        JOULE_TRY(CodeFree(tx->FindMeter(project.id, spec.code), "meter", spec.code));
    }
    MeterRecord after = before;
    JOULE_TRY(site_checks::ResolveMeter(*tx, project.id, spec, after));
    JOULE_TRY(CheckParent(*tx, after));
    JOULE_TRY(site_checks::CheckBusAddress(*tx, after));
    if (after.public_area && !before.public_area) {
        JOULE_ASSIGN_OR_RETURN(auto binding, tx->CurrentBinding(before.id));
        if (binding) {
            JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx->GetAccount(binding->account));
            return FailedPrecondition("meter '" + before.code + "' is held by account '" +
                                          account.number +
                                          "'; a public-area meter belongs to no tenant",
                                      "public_area");
        }
    }
    if (after.model != before.model) {
        JOULE_TRY(ChangeModel(*tx, before, after.model));
    }
    JOULE_TRY(tx->UpdateMeter(after));
    after.version = before.version + 1;
    JOULE_ASSIGN_OR_RETURN(MeterView view, ViewOf(*tx, after));
    JOULE_TRY(Log(*tx, actor, now, project.id, "meter.update", "meter:" + before.code,
                  Changed(LogJson(before_view), LogJson(view))));
    JOULE_TRY(tx->Commit());
    return view;
}

Status SiteEditor::DeleteMeter(std::string_view project_code, std::string_view code,
                               int64_t expected_version, const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(MeterRecord before, FindMeterOf(*tx, project.id, code));
    JOULE_TRY(CheckVersion("meter", before.code, before.version, expected_version));
    JOULE_ASSIGN_OR_RETURN(auto binding, tx->CurrentBinding(before.id));
    if (binding) {
        JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx->GetAccount(binding->account));
        return FailedPrecondition("meter '" + before.code + "' is held by account '" +
                                      account.number +
                                      "'; close the account or replace the meter first",
                                  "meter");
    }
    JOULE_ASSIGN_OR_RETURN(MeterHistory history, tx->MeterHistoryOf(before.id));
    std::string held;
    if (history.bindings > 0) {
        held = "an account history";
    } else if (history.readings > 0) {
        held = "readings";
    } else if (history.commands > 0) {
        held = "a command history";
    } else if (history.sub_meters > 0) {
        held = std::to_string(history.sub_meters) + " sub-meter(s) naming it as their parent";
    }
    if (!held.empty()) {
        return FailedPrecondition("meter '" + before.code + "' has " + held +
                                      ", which deleting it would lose; edit it instead",
                                  "meter");
    }
    JOULE_ASSIGN_OR_RETURN(MeterView view, ViewOf(*tx, before));
    JOULE_TRY(tx->DeleteMeter(before.id, now));
    JOULE_TRY(Log(*tx, actor, now, project.id, "meter.delete", "meter:" + before.code,
                  Deleted(LogJson(view))));
    return tx->Commit();
}

}  // namespace joule
