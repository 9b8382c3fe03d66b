// Creating a site (项目) from a description: project, buildings, floors, rooms, gateways, meter
// models, tariffs and meters, in one unit of work: all or nothing [HIER-1, HIER-2].
#pragma once

#include <string>
#include <vector>

#include "service/requests.hpp"

namespace joule {

struct SiteSpec {
    ProjectRecord project;
    struct Floor {
        FloorRecord floor;
        std::vector<RoomRecord> rooms;
    };
    struct Building {
        BuildingRecord building;
        std::vector<Floor> floors;
    };
    std::vector<Building> buildings;
    std::vector<GatewayRecord> gateways;
    std::vector<MeterModelRecord> models;  // created when their code is new
    std::vector<TariffRecord> tariffs;
    struct Meter {
        MeterRecord meter;
        std::string model_code;
        std::string gateway_code;  // empty: none
        std::string room_code;     // empty: none
        std::string tariff_code;   // empty: the account's tariff
        std::string parent_code;   // empty: none
    };
    std::vector<Meter> meters;
};

struct SiteSummary {
    ProjectId project;
    std::size_t rooms = 0;
    std::size_t meters = 0;
    std::size_t tariffs = 0;
};

// Fails with kAlreadyExists when the project code is taken, kNotFound naming the field when a
// meter refers to an unknown model, gateway, room, tariff or parent; nothing is created then.
[[nodiscard]] Result<SiteSummary> CreateSite(Store& store, const SiteSpec& spec, const Actor& actor,
                                             Instant now);

}  // namespace joule

namespace joule {

// Appends a tariff version [TAR-3]. History is never rewritten: the version must take effect
// after the last one and not before `now` (a retroactive change is a separate, audited use case).
[[nodiscard]] Status AddTariffVersion(Store& store, std::string_view project_code,
                                      std::string_view tariff_code, const TariffVersion& version,
                                      const Actor& actor, Instant now);

}  // namespace joule
