#include "app/site_file.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "base/decimal.hpp"
#include "base/file.hpp"
#include "base/host_port.hpp"
#include "wire/model_json.hpp"

namespace joule::app {

using wire::Json;
using wire::ObjectReader;

namespace {

constexpr std::size_t kMaxSiteItems = 200'000;

std::string Indexed(const std::string& path, std::size_t i) {
    return path + "[" + std::to_string(i) + "]";
}

}  // namespace

Result<SiteSpec> ParseSite(const Json& j) {
    ObjectReader r(j, "");
    JOULE_TRY(r.Check());
    SiteSpec site;
    JOULE_ASSIGN_OR_RETURN(const Json* project, r.Object("project"));
    {
        ObjectReader p(*project, "project");
        JOULE_ASSIGN_OR_RETURN(site.project.code, p.String("code", 64));
        JOULE_ASSIGN_OR_RETURN(site.project.name, p.String("name", 128));
        JOULE_ASSIGN_OR_RETURN(site.project.time_zone,
                               p.OptString("time_zone", std::string(kDefaultTimeZone), 64));
        if (auto zone = Zone::Load(site.project.time_zone); !zone) {
            return InvalidArgument(p.PathOf("time_zone"), zone.error().message);
        }
        JOULE_TRY(p.Finish());
    }
    JOULE_ASSIGN_OR_RETURN(const Json* models, r.OptArray("models", 1000));
    for (std::size_t i = 0; models != nullptr && i < models->size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(wire::ParsedModel parsed,
                               wire::MeterModelFromJson((*models)[i], Indexed("models", i)));
        MeterModelRecord m = std::move(parsed.record);
        site.models.push_back(std::move(m));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* buildings, r.OptArray("buildings", 10'000));
    for (std::size_t b = 0; buildings != nullptr && b < buildings->size(); ++b) {
        ObjectReader br((*buildings)[b], Indexed("buildings", b));
        JOULE_TRY(br.Check());
        SiteSpec::Building building;
        JOULE_ASSIGN_OR_RETURN(building.building.code, br.String("code", 64));
        JOULE_ASSIGN_OR_RETURN(building.building.name,
                               br.OptString("name", building.building.code, 128));
        JOULE_ASSIGN_OR_RETURN(const Json* floors, br.Array("floors", 1000));
        for (std::size_t f = 0; f < floors->size(); ++f) {
            ObjectReader fr((*floors)[f], Indexed(br.PathOf("floors"), f));
            JOULE_TRY(fr.Check());
            SiteSpec::Floor floor;
            JOULE_ASSIGN_OR_RETURN(floor.floor.code, fr.String("code", 64));
            JOULE_ASSIGN_OR_RETURN(floor.floor.name, fr.OptString("name", floor.floor.code, 128));
            JOULE_ASSIGN_OR_RETURN(const Json* rooms, fr.Array("rooms", kMaxSiteItems));
            for (std::size_t k = 0; k < rooms->size(); ++k) {
                ObjectReader rr((*rooms)[k], Indexed(fr.PathOf("rooms"), k));
                JOULE_TRY(rr.Check());
                RoomRecord room;
                JOULE_ASSIGN_OR_RETURN(room.code, rr.String("code", 64));
                JOULE_ASSIGN_OR_RETURN(room.name, rr.OptString("name", room.code, 128));
                if (rr.Has("area")) {
                    JOULE_ASSIGN_OR_RETURN(std::string area, rr.String("area", 16));
                    JOULE_ASSIGN_OR_RETURN(room.area_dm2, ParseScaled(area, 2, rr.PathOf("area")));
                }
                JOULE_TRY(rr.Finish());
                floor.rooms.push_back(std::move(room));
            }
            JOULE_TRY(fr.Finish());
            building.floors.push_back(std::move(floor));
        }
        JOULE_TRY(br.Finish());
        site.buildings.push_back(std::move(building));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* gateways, r.OptArray("gateways", 10'000));
    for (std::size_t i = 0; gateways != nullptr && i < gateways->size(); ++i) {
        ObjectReader g((*gateways)[i], Indexed("gateways", i));
        JOULE_TRY(g.Check());
        GatewayRecord gw;
        JOULE_ASSIGN_OR_RETURN(gw.code, g.String("code", 64));
        JOULE_ASSIGN_OR_RETURN(gw.name, g.OptString("name", gw.code, 128));
        JOULE_ASSIGN_OR_RETURN(gw.transport, g.OptString("transport", "mqtt", 16));
        if (gw.transport != "mqtt" && gw.transport != "modbus_tcp" && gw.transport != "dtu") {
            return InvalidArgument(g.PathOf("transport"), "must be mqtt, modbus_tcp or dtu");
        }
        // How the platform reaches it: host:port (modbus_tcp), registration id (dtu), client id.
        JOULE_ASSIGN_OR_RETURN(gw.endpoint, g.OptString("endpoint", "", 128));
        if (gw.transport == "modbus_tcp") {
            // The platform connects there: checked now, not found unreachable forever later.
            JOULE_TRY(ParseHostPort(gw.endpoint, g.PathOf("endpoint"), PortUse::kConnect, 502));
        }
        JOULE_ASSIGN_OR_RETURN(gw.framing, g.OptString("framing", "transparent", 16));
        if (gw.framing != "transparent" && gw.framing != "mbap") {
            return InvalidArgument(g.PathOf("framing"), "must be transparent or mbap");
        }
        JOULE_TRY(g.Finish());
        site.gateways.push_back(std::move(gw));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* tariffs, r.Array("tariffs", 1000));
    for (std::size_t i = 0; i < tariffs->size(); ++i) {
        const std::string at = Indexed("tariffs", i);
        ObjectReader t((*tariffs)[i], at);
        JOULE_TRY(t.Check());
        TariffRecord record;
        JOULE_ASSIGN_OR_RETURN(record.code, t.String("code", 64));
        JOULE_ASSIGN_OR_RETURN(record.tariff, wire::TariffFromJson((*tariffs)[i], at));
        site.tariffs.push_back(std::move(record));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* meters, r.Array("meters", kMaxSiteItems));
    for (std::size_t i = 0; i < meters->size(); ++i) {
        ObjectReader m((*meters)[i], Indexed("meters", i));
        JOULE_TRY(m.Check());
        SiteSpec::Meter meter;
        JOULE_ASSIGN_OR_RETURN(meter.meter.code, m.String("code", 64));
        JOULE_ASSIGN_OR_RETURN(meter.model_code, m.String("model", 64));
        JOULE_ASSIGN_OR_RETURN(meter.gateway_code, m.OptString("gateway", "", 64));
        JOULE_ASSIGN_OR_RETURN(meter.room_code, m.OptString("room", "", 64));
        JOULE_ASSIGN_OR_RETURN(meter.tariff_code, m.OptString("tariff", "", 64));
        JOULE_ASSIGN_OR_RETURN(meter.parent_code, m.OptString("parent", "", 64));
        JOULE_ASSIGN_OR_RETURN(meter.meter.public_area, m.OptBool("public", false));
        JOULE_ASSIGN_OR_RETURN(meter.meter.bus_address, m.OptString("bus_address", "", 32));
        JOULE_ASSIGN_OR_RETURN(meter.meter.circuit, m.OptInteger("circuit", 0, 0, 63));
        JOULE_TRY(m.Finish());
        site.meters.push_back(std::move(meter));
    }
    JOULE_TRY(r.Finish());
    return site;
}

Result<Json> ReadJsonFile(const std::string& file) {
    JOULE_ASSIGN_OR_RETURN(std::string text, ReadFileText(file, "file"));
    Json j = Json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        return InvalidArgument("file", "'" + file + "' is not valid JSON");
    }
    return j;
}

Result<wire::ParsedModel> LoadModelFile(const std::string& dir, const std::string& code) {
    const std::string file = code + ".json";
    auto text = ReadFileText((std::filesystem::path(dir) / file).string(), "models_dir");
    if (!text) {
        return NotFound("no model file " + file + " in " + dir, "models_dir");
    }
    Json j = Json::parse(*text, nullptr, false);
    if (j.is_discarded()) {
        return InvalidArgument(file, "not JSON");
    }
    return wire::MeterModelFromJson(j, file);
}

}  // namespace joule::app
