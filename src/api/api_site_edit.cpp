// Editing a project's hierarchy and devices [HIER-1, HIER-2]: buildings, floors, rooms, gateways
// and meters are created (POST), read (GET, with an ETag), changed (PATCH, If-Match) and deleted
// (DELETE, If-Match) here; the rules — versions, what a delete may take with it, the operation
// log — are the service's (service/site_edit.hpp). Every body field is checked at the edge and an
// unknown one is refused, naming it.
#include <algorithm>

#include "api/api_internal.hpp"
#include "base/decimal.hpp"
#include "service/site_edit.hpp"
#include "wire/json.hpp"

namespace joule::api {

namespace {

Json BuildingJson(const BuildingRecord& b) {
    return Json{{"code", b.code}, {"name", b.name}, {"version", b.version}};
}

Json FloorJson(const FloorView& f) {
    return Json{{"building", f.building},
                {"code", f.floor.code},
                {"name", f.floor.name},
                {"version", f.floor.version}};
}

Json RoomJson(const RoomView& r) {
    return Json{{"code", r.room.code},
                {"name", r.room.name},
                {"building", r.building},
                {"floor", r.floor},
                {"area", FormatScaled(r.room.area_dm2, 2)},
                {"version", r.room.version}};
}

Json GatewayJson(const GatewayRecord& g) {
    return Json{{"code", g.code},
                {"name", g.name},
                {"transport", g.transport},
                {"endpoint", g.endpoint},
                {"framing", g.framing},
                {"online", g.online},
                {"last_seen", g.last_seen ? FormatInstant(*g.last_seen) : ""},
                {"version", g.version}};
}

Json MeterJson(const MeterView& m) {
    return Json{{"code", m.meter.code},
                {"model", m.model},
                {"gateway", m.gateway},
                {"bus_address", m.meter.bus_address},
                {"circuit", m.meter.circuit},
                {"room", m.room},
                {"tariff", m.tariff},
                {"parent", m.parent},
                {"public_area", m.meter.public_area},
                {"version", m.meter.version}};
}

}  // namespace

// An object's answer: its JSON and its ETag (the version).
Reply WithTag(int status, Json body, int64_t version) {
    Reply r{status, std::move(body), {}};
    r.headers.emplace_back("ETag", "\"" + std::to_string(version) + "\"");
    return r;
}

Reply Created(Json body, int64_t version, std::string location) {
    Reply r = WithTag(201, std::move(body), version);
    r.headers.emplace_back("Location", std::move(location));
    return r;
}

Reply NoContent() { return Reply{204, Json(), {}}; }

// The version an edit was made against: If-Match, or a "version" field of the body (for clients
// that cannot set headers); one of them is required, and both must agree.
Result<int64_t> EditVersion(const Call& c, wire::ObjectReader* body) {
    JOULE_ASSIGN_OR_RETURN(std::optional<int64_t> tag, IfMatchVersion(c));
    std::optional<int64_t> field;
    if (body != nullptr && body->Has("version")) {
        JOULE_ASSIGN_OR_RETURN(int64_t v, body->Integer("version", 1, int64_t{1} << 53));
        field = v;
    }
    if (tag && field && *tag != *field) {
        return InvalidArgument("version", "differs from If-Match; send one of them");
    }
    if (!tag && !field) {
        return MakeError(ErrorCode::kInvalidArgument,
                         "an edit needs the object's ETag as If-Match (GET it first): edits are "
                         "refused when someone changed the object in between",
                         "If-Match");
    }
    return tag ? *tag : *field;
}

namespace {

// A string field that may be "" (a reference to nothing, "take the code"); at most `max_bytes`.
// The service checks what a code or a name must be.
Result<std::string> Text(wire::ObjectReader& body, std::string_view key, std::size_t max_bytes) {
    JOULE_ASSIGN_OR_RETURN(const Json* value, body.Value(key));
    if (!value->is_string()) {
        return InvalidArgument(body.PathOf(key), "must be a string");
    }
    std::string text = value->get<std::string>();
    if (text.size() > max_bytes) {
        return InvalidArgument(body.PathOf(key),
                               "must be at most " + std::to_string(max_bytes) + " bytes long");
    }
    return text;
}

// Text, or `fallback` when the field is absent.
Result<std::string> OptText(wire::ObjectReader& body, std::string_view key, std::size_t max_bytes,
                            std::string fallback) {
    if (!body.Has(key)) {
        return fallback;
    }
    return Text(body, key, max_bytes);
}

}  // namespace

// Text, or nothing when the field is absent (a patch leaves it as it is).
Result<std::optional<std::string>> OptText(wire::ObjectReader& body, std::string_view key,
                                           std::size_t max_bytes) {
    if (!body.Has(key)) {
        return std::optional<std::string>();
    }
    JOULE_ASSIGN_OR_RETURN(std::string text, Text(body, key, max_bytes));
    return std::optional<std::string>(std::move(text));
}

namespace {

// An area in m² as a decimal string with at most two places ("35.50").
Result<int64_t> AreaField(wire::ObjectReader& body) {
    JOULE_ASSIGN_OR_RETURN(std::string text, body.String("area", 16));
    JOULE_ASSIGN_OR_RETURN(int64_t area, ParseScaled(text, 2, "area"));
    JOULE_TRY(site_checks::CheckArea(area));
    return area;
}

}  // namespace

// A modbus_tcp gateway is polled at its endpoint: checked as host:port now, not found
// unreachable forever later (the site file's rule).
// The body of a PATCH must change something.
Status SomethingToChange(const Json& body) {
    const bool only_version = body.size() == 1 && body.contains("version");
    if (body.empty() || only_version) {
        return InvalidArgument("body", "nothing to change: name at least one field");
    }
    return {};
}

namespace {

std::string ProjectPath(const Call& c) { return "/api/v1/projects/" + c.project->code; }

}  // namespace

// ---------------------------------------------------------------------------------- buildings

Result<Reply> Api::Impl::GetBuilding(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    const std::string& code = c.params.at("building");
    JOULE_ASSIGN_OR_RETURN(auto building, tx->FindBuilding(c.project->id, code));
    if (!building) {
        return NotFound("no building '" + code.substr(0, 64) + "'", "building");
    }
    JOULE_ASSIGN_OR_RETURN(int64_t floors, tx->CountFloorsOf(building->id));
    Json body = BuildingJson(*building);
    body["floors"] = floors;
    return WithTag(200, std::move(body), building->version);
}

Result<Reply> Api::Impl::CreateBuilding(Call& c) {
    wire::ObjectReader body(c.body, "");
    BuildingRecord building;
    JOULE_ASSIGN_OR_RETURN(building.code, body.String("code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(building.name, OptText(body, "name", kMaxNameBytes, ""));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(building, FromService(SiteEditor(store).CreateBuilding(
                                         c.project->code, building, c.actor(), c.now)));
    return Created(BuildingJson(building), building.version,
                   ProjectPath(c) + "/buildings/" + building.code);
}

Result<Reply> Api::Impl::UpdateBuilding(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    BuildingPatch patch;
    JOULE_ASSIGN_OR_RETURN(patch.code, OptText(body, "code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.name, OptText(body, "name", kMaxNameBytes));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(BuildingRecord building, FromService(SiteEditor(store).UpdateBuilding(
                                                        c.project->code, c.params.at("building"),
                                                        patch, version, c.actor(), c.now)));
    return WithTag(200, BuildingJson(building), building.version);
}

Result<Reply> Api::Impl::DeleteBuilding(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, nullptr));
    JOULE_TRY(FromService(SiteEditor(store).DeleteBuilding(c.project->code, c.params.at("building"),
                                                           version, c.actor(), c.now)));
    return NoContent();
}

// ------------------------------------------------------------------------------------- floors

Result<Reply> Api::Impl::GetFloor(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    const std::string& building_code = c.params.at("building");
    const std::string& code = c.params.at("floor");
    JOULE_ASSIGN_OR_RETURN(auto building, tx->FindBuilding(c.project->id, building_code));
    if (!building) {
        return NotFound("no building '" + building_code.substr(0, 64) + "'", "building");
    }
    JOULE_ASSIGN_OR_RETURN(auto floor, tx->FindFloor(building->id, code));
    if (!floor) {
        return NotFound("no floor '" + code.substr(0, 64) + "'", "floor");
    }
    JOULE_ASSIGN_OR_RETURN(int64_t rooms, tx->CountRoomsOn(floor->id));
    Json body = FloorJson(FloorView{*floor, building->code});
    body["rooms"] = rooms;
    return WithTag(200, std::move(body), floor->version);
}

Result<Reply> Api::Impl::CreateFloor(Call& c) {
    wire::ObjectReader body(c.body, "");
    FloorRecord floor;
    JOULE_ASSIGN_OR_RETURN(floor.code, body.String("code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(floor.name, OptText(body, "name", kMaxNameBytes, ""));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(FloorView view,
                           FromService(SiteEditor(store).CreateFloor(
                               c.project->code, c.params.at("building"), floor, c.actor(), c.now)));
    return Created(FloorJson(view), view.floor.version,
                   ProjectPath(c) + "/buildings/" + view.building + "/floors/" + view.floor.code);
}

Result<Reply> Api::Impl::UpdateFloor(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    FloorPatch patch;
    JOULE_ASSIGN_OR_RETURN(patch.code, OptText(body, "code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.name, OptText(body, "name", kMaxNameBytes));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(
        FloorView view, FromService(SiteEditor(store).UpdateFloor(
                            c.project->code, c.params.at("building"), c.params.at("floor"), patch,
                            version, c.actor(), c.now)));
    return WithTag(200, FloorJson(view), view.floor.version);
}

Result<Reply> Api::Impl::DeleteFloor(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, nullptr));
    JOULE_TRY(FromService(SiteEditor(store).DeleteFloor(c.project->code, c.params.at("building"),
                                                        c.params.at("floor"), version, c.actor(),
                                                        c.now)));
    return NoContent();
}

// -------------------------------------------------------------------------------------- rooms

Result<Reply> Api::Impl::GetRoom(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    const std::string& code = c.params.at("room");
    JOULE_ASSIGN_OR_RETURN(auto room, tx->FindRoom(c.project->id, code));
    if (!room) {
        return NotFound("no room '" + code.substr(0, 64) + "'", "room");
    }
    JOULE_ASSIGN_OR_RETURN(RoomView view, ViewOf(*tx, *room));
    JOULE_ASSIGN_OR_RETURN(int64_t meters, tx->CountMetersIn(room->id));
    Json body = RoomJson(view);
    body["meters"] = meters;
    return WithTag(200, std::move(body), room->version);
}

Result<Reply> Api::Impl::CreateRoom(Call& c) {
    wire::ObjectReader body(c.body, "");
    RoomSpec spec;
    JOULE_ASSIGN_OR_RETURN(spec.code, body.String("code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(spec.name, OptText(body, "name", kMaxNameBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.building, OptText(body, "building", kMaxCodeBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.floor, OptText(body, "floor", kMaxCodeBytes, ""));
    if (body.Has("area")) {
        JOULE_ASSIGN_OR_RETURN(spec.area_dm2, AreaField(body));
    }
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(RoomView view, FromService(SiteEditor(store).CreateRoom(
                                              c.project->code, spec, c.actor(), c.now)));
    return Created(RoomJson(view), view.room.version, ProjectPath(c) + "/rooms/" + view.room.code);
}

Result<Reply> Api::Impl::UpdateRoom(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    RoomPatch patch;
    JOULE_ASSIGN_OR_RETURN(patch.code, OptText(body, "code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.name, OptText(body, "name", kMaxNameBytes));
    if (body.Has("area")) {
        JOULE_ASSIGN_OR_RETURN(patch.area_dm2, AreaField(body));
    }
    // A move names both: the building and the floor ("" and "": onto no floor).
    if (body.Has("building") || body.Has("floor")) {
        JOULE_ASSIGN_OR_RETURN(std::string building, Text(body, "building", kMaxCodeBytes));
        JOULE_ASSIGN_OR_RETURN(std::string floor, Text(body, "floor", kMaxCodeBytes));
        patch.place = std::pair{std::move(building), std::move(floor)};
    }
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(RoomView view, FromService(SiteEditor(store).UpdateRoom(
                                              c.project->code, c.params.at("room"), patch, version,
                                              c.actor(), c.now)));
    return WithTag(200, RoomJson(view), view.room.version);
}

Result<Reply> Api::Impl::DeleteRoom(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, nullptr));
    JOULE_TRY(FromService(SiteEditor(store).DeleteRoom(c.project->code, c.params.at("room"),
                                                       version, c.actor(), c.now)));
    return NoContent();
}

// ----------------------------------------------------------------------------------- gateways

Result<Reply> Api::Impl::GetGateway(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    const std::string& code = c.params.at("gateway");
    JOULE_ASSIGN_OR_RETURN(auto gateway, tx->FindGateway(c.project->id, code));
    if (!gateway) {
        return NotFound("no gateway '" + code.substr(0, 64) + "'", "gateway");
    }
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMetersOfGateway(gateway->id));
    Json body = GatewayJson(*gateway);
    body["meters"] = meters.size();
    return WithTag(200, std::move(body), gateway->version);
}

Result<Reply> Api::Impl::CreateGateway(Call& c) {
    wire::ObjectReader body(c.body, "");
    GatewayRecord gateway;
    JOULE_ASSIGN_OR_RETURN(gateway.code, body.String("code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(gateway.name, OptText(body, "name", kMaxNameBytes, ""));
    JOULE_ASSIGN_OR_RETURN(gateway.transport, body.String("transport", 16));
    JOULE_ASSIGN_OR_RETURN(gateway.endpoint, OptText(body, "endpoint", kMaxEndpointBytes, ""));
    JOULE_ASSIGN_OR_RETURN(gateway.framing, body.OptString("framing", "transparent", 16));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(gateway, FromService(SiteEditor(store).CreateGateway(
                                        c.project->code, gateway, c.actor(), c.now)));
    return Created(GatewayJson(gateway), gateway.version,
                   ProjectPath(c) + "/gateways/" + gateway.code);
}

Result<Reply> Api::Impl::UpdateGateway(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    GatewayPatch patch;
    JOULE_ASSIGN_OR_RETURN(patch.code, OptText(body, "code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.name, OptText(body, "name", kMaxNameBytes));
    JOULE_ASSIGN_OR_RETURN(patch.transport, OptText(body, "transport", 16));
    JOULE_ASSIGN_OR_RETURN(patch.endpoint, OptText(body, "endpoint", kMaxEndpointBytes));
    JOULE_ASSIGN_OR_RETURN(patch.framing, OptText(body, "framing", 16));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(GatewayRecord gateway, FromService(SiteEditor(store).UpdateGateway(
                                                      c.project->code, c.params.at("gateway"),
                                                      patch, version, c.actor(), c.now)));
    return WithTag(200, GatewayJson(gateway), gateway.version);
}

Result<Reply> Api::Impl::DeleteGateway(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, nullptr));
    JOULE_TRY(FromService(SiteEditor(store).DeleteGateway(c.project->code, c.params.at("gateway"),
                                                          version, c.actor(), c.now)));
    return NoContent();
}

// ------------------------------------------------------------------------------------- meters

Result<Reply> Api::Impl::CreateMeter(Call& c) {
    wire::ObjectReader body(c.body, "");
    MeterSpec spec;
    JOULE_ASSIGN_OR_RETURN(spec.code, body.String("code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(spec.model, body.String("model", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(spec.gateway, OptText(body, "gateway", kMaxCodeBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.bus_address, OptText(body, "bus_address", kMaxBusAddressBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.circuit, body.OptInteger("circuit", 0, 0, kMaxCircuit));
    JOULE_ASSIGN_OR_RETURN(spec.room, OptText(body, "room", kMaxCodeBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.tariff, OptText(body, "tariff", kMaxCodeBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.parent, OptText(body, "parent", kMaxCodeBytes, ""));
    JOULE_ASSIGN_OR_RETURN(spec.public_area, body.OptBool("public_area", false));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(MeterView view, FromService(SiteEditor(store).CreateMeter(
                                               c.project->code, spec, c.actor(), c.now)));
    return Created(MeterJson(view), view.meter.version,
                   ProjectPath(c) + "/meters/" + view.meter.code);
}

Result<Reply> Api::Impl::UpdateMeter(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    MeterPatch patch;
    JOULE_ASSIGN_OR_RETURN(patch.code, OptText(body, "code", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.model, OptText(body, "model", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.gateway, OptText(body, "gateway", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.bus_address, OptText(body, "bus_address", kMaxBusAddressBytes));
    if (body.Has("circuit")) {
        JOULE_ASSIGN_OR_RETURN(patch.circuit, body.Integer("circuit", 0, kMaxCircuit));
    }
    JOULE_ASSIGN_OR_RETURN(patch.room, OptText(body, "room", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.tariff, OptText(body, "tariff", kMaxCodeBytes));
    JOULE_ASSIGN_OR_RETURN(patch.parent, OptText(body, "parent", kMaxCodeBytes));
    if (body.Has("public_area")) {
        JOULE_ASSIGN_OR_RETURN(patch.public_area, body.OptBool("public_area", false));
    }
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(MeterView view, FromService(SiteEditor(store).UpdateMeter(
                                               c.project->code, c.params.at("meter"), patch,
                                               version, c.actor(), c.now)));
    return WithTag(200, MeterJson(view), view.meter.version);
}

Result<Reply> Api::Impl::DeleteMeter(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, nullptr));
    JOULE_TRY(FromService(SiteEditor(store).DeleteMeter(c.project->code, c.params.at("meter"),
                                                        version, c.actor(), c.now)));
    return NoContent();
}

}  // namespace joule::api
