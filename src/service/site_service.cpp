#include "service/site_service.hpp"
#include "service/project_lookup.hpp"

#include <map>

namespace joule {

namespace {
std::string At(std::string_view list, std::size_t i, std::string_view leaf) {
    return std::string(list) + "[" + std::to_string(i) + "]." + std::string(leaf);
}
}  // namespace

Result<SiteSummary> CreateSite(Store& store, const SiteSpec& spec, const Actor& actor,
                               Instant now) {
    JOULE_TRY(Zone::Load(spec.project.time_zone));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto existing, tx->FindProject(spec.project.code));
    if (existing) {
        return MakeError(ErrorCode::kAlreadyExists, "project '" + spec.project.code + "' exists",
                         "project.code");
    }
    SiteSummary summary;
    JOULE_ASSIGN_OR_RETURN(summary.project, tx->InsertProject(spec.project));
    std::map<std::string, RoomId> rooms;
    for (std::size_t b = 0; b < spec.buildings.size(); ++b) {
        BuildingRecord building = spec.buildings[b].building;
        building.project = summary.project;
        auto building_id = tx->InsertBuilding(building);
        if (!building_id) {
            return std::unexpected(Error{building_id.error().code, "duplicate building code",
                                         At("buildings", b, "code")});
        }
        for (const SiteSpec::Floor& f : spec.buildings[b].floors) {
            FloorRecord floor = f.floor;
            floor.building = *building_id;
            JOULE_ASSIGN_OR_RETURN(FloorId floor_id, tx->InsertFloor(floor));
            for (RoomRecord room : f.rooms) {
                room.project = summary.project;
                room.floor = floor_id;
                auto room_id = tx->InsertRoom(room);
                if (!room_id) {
                    return std::unexpected(Error{room_id.error().code,
                                                 "room code '" + room.code + "' is used twice",
                                                 "rooms.code"});
                }
                rooms[room.code] = *room_id;
                ++summary.rooms;
            }
        }
    }
    std::map<std::string, GatewayId> gateways;
    for (std::size_t i = 0; i < spec.gateways.size(); ++i) {
        GatewayRecord g = spec.gateways[i];
        g.project = summary.project;
        auto id = tx->InsertGateway(g);
        if (!id) {
            return std::unexpected(
                Error{id.error().code, "duplicate gateway code", At("gateways", i, "code")});
        }
        gateways[g.code] = *id;
    }
    std::map<std::string, ModelId> models;
    for (const MeterModelRecord& m : spec.models) {
        JOULE_ASSIGN_OR_RETURN(auto found, tx->FindModel(m.code));
        if (found) {
            models[m.code] = found->id;
        } else {
            JOULE_ASSIGN_OR_RETURN(models[m.code], tx->InsertModel(m));
        }
    }
    std::map<std::string, TariffId> tariffs;
    for (std::size_t i = 0; i < spec.tariffs.size(); ++i) {
        TariffRecord t = spec.tariffs[i];
        t.project = summary.project;
        if (auto valid = ValidateTariff(t.tariff); !valid) {
            return std::unexpected(
                valid.error().WithFieldPrefix("tariffs[" + std::to_string(i) + "]"));
        }
        auto id = tx->InsertTariff(t);
        if (!id) {
            return std::unexpected(
                Error{id.error().code, "duplicate tariff code", At("tariffs", i, "code")});
        }
        tariffs[t.code] = *id;
        ++summary.tariffs;
    }
    std::map<std::string, MeterId> meters;
    std::map<int64_t, MeterModelRecord> loaded_models;  // by id: read once, not once per meter
    for (std::size_t i = 0; i < spec.meters.size(); ++i) {
        const SiteSpec::Meter& m = spec.meters[i];
        MeterRecord meter = m.meter;
        meter.project = summary.project;
        auto lookup = [&](const auto& table, const std::string& code, std::string_view leaf,
                          auto& out) -> Status {
            if (code.empty()) {
                return {};
            }
            auto it = table.find(code);
            if (it == table.end()) {
                return NotFound("no " + std::string(leaf) + " '" + code + "' in the site",
                                At("meters", i, leaf));
            }
            out = it->second;
            return {};
        };
        JOULE_TRY(lookup(models, m.model_code, "model", meter.model));
        if (!meter.model.valid()) {
            JOULE_ASSIGN_OR_RETURN(auto model, tx->FindModel(m.model_code));
            if (!model) {
                return NotFound("no model '" + m.model_code + "'", At("meters", i, "model"));
            }
            meter.model = model->id;
        }
        JOULE_TRY(lookup(gateways, m.gateway_code, "gateway", meter.gateway));
        JOULE_TRY(lookup(rooms, m.room_code, "room", meter.room));
        JOULE_TRY(lookup(tariffs, m.tariff_code, "tariff", meter.tariff));
        JOULE_TRY(lookup(meters, m.parent_code, "parent", meter.parent));
        auto id = tx->InsertMeter(meter);
        if (!id) {
            return std::unexpected(Error{id.error().code,
                                         "meter code '" + meter.code + "' is used twice",
                                         At("meters", i, "code")});
        }
        meters[meter.code] = *id;
        auto model = loaded_models.find(meter.model.value);
        if (model == loaded_models.end()) {
            JOULE_ASSIGN_OR_RETURN(MeterModelRecord record, tx->GetModel(meter.model));
            model = loaded_models.emplace(meter.model.value, std::move(record)).first;
        }
        MeterBilling billing;
        billing.meter = *id;
        billing.utility = model->second.utility;
        billing.spec = model->second.spec;
        JOULE_TRY(tx->SaveBilling(billing));
        ++summary.meters;
    }
    JOULE_TRY(tx->InsertOperation(
        OperationBy(actor, now, summary.project, "site.create", spec.project.code,
                    "{\"rooms\":" + std::to_string(summary.rooms) +
                        ",\"meters\":" + std::to_string(summary.meters) + "}")));
    JOULE_TRY(tx->Commit());
    return summary;
}

}  // namespace joule

namespace joule {

Status AddTariffVersion(Store& store, std::string_view project_code, std::string_view tariff_code,
                        const TariffVersion& version, const Actor& actor, Instant now) {
    if (version.effective_from < now) {
        return InvalidArgument("effective_from", "a new version cannot take effect in the past");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(*tx, project_code));
    JOULE_ASSIGN_OR_RETURN(auto tariff, tx->FindTariff(project.id, tariff_code));
    if (!tariff) {
        return NotFound("no tariff '" + std::string(tariff_code) + "'", "tariff");
    }
    Tariff next = tariff->tariff;
    next.versions.push_back(version);
    JOULE_TRY(ValidateTariff(next));  // also checks the effective time follows the last version
    JOULE_TRY(tx->AppendTariffVersion(tariff->id, version));
    JOULE_TRY(tx->InsertOperation(
        OperationBy(actor, now, project.id, "tariff.version", std::string(tariff_code),
                    "{\"effective_from\":\"" + FormatInstant(version.effective_from) + "\"}")));
    return tx->Commit();
}

}  // namespace joule
