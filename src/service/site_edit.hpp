// Editing a project's hierarchy and devices [HIER-1, HIER-2]: create, update and delete buildings,
// floors, rooms, gateways and meters, each call one unit of work with its operation-log row
// (before and after) [ADM-2].
//
// Optimistic concurrency: an update or delete names the version the caller read; when the row has
// moved on it is refused (kAborted, field "expected_version") and nothing changes. A delete never
// cascades into anything that holds data: a building with floors, a floor with rooms, a room with
// meters, a gateway with meters, and a meter with an account (now or before), readings, commands
// or sub-meters are refused (kFailedPrecondition naming what is in the way). What a delete does
// take with it is said at Tx::DeleteGateway and Tx::DeleteMeter (core/ports.hpp): a gateway's
// pending devices, a meter's live status and billing state; open alarms are cleared, not deleted.
//
// References are codes, as the API and the site file name things: a floor lives in the building
// of its path, a room on (building, floor) or on none, a meter names its model, gateway, room,
// tariff (一表一价) and parent meter. An empty reference means none.
//
// Errors name the field at fault: kInvalidArgument for a malformed value, kNotFound for a
// reference to nothing (the building, floor, model ...), kAlreadyExists for a taken code, endpoint
// or bus address, kFailedPrecondition for a change the object's state forbids.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "service/requests.hpp"

namespace joule {

inline constexpr std::size_t kMaxCodeBytes = 64;
inline constexpr std::size_t kMaxNameBytes = 128;
inline constexpr std::size_t kMaxEndpointBytes = 128;
inline constexpr std::size_t kMaxBusAddressBytes = 32;
inline constexpr int64_t kMaxCircuit = 63;
inline constexpr int64_t kMaxAreaDm2 = 100'000'000'00;  // 100 km^2: no room is larger

// A code names an object in paths and files: 1..64 bytes, no '/', no control characters, no
// space at either end.
[[nodiscard]] Status CheckCode(std::string_view code, std::string_view field);
// A name: 1..128 bytes, no control characters but line breaks and tabs (a cell may hold them).
[[nodiscard]] Status CheckName(std::string_view name, std::string_view field);

// The objects as the API shows them: each record with the codes of what it refers to.
struct FloorView {
    FloorRecord floor;
    std::string building;
};
struct RoomView {
    RoomRecord room;
    std::string building;  // "" for a room on no floor
    std::string floor;
};
struct MeterView {
    MeterRecord meter;
    std::string model;
    std::string gateway;
    std::string room;
    std::string tariff;
    std::string parent;
};

// The views of records read in `tx`.
[[nodiscard]] Result<FloorView> ViewOf(Tx& tx, const FloorRecord& floor);
[[nodiscard]] Result<RoomView> ViewOf(Tx& tx, const RoomRecord& room);
[[nodiscard]] Result<MeterView> ViewOf(Tx& tx, const MeterRecord& meter);

// The operation log's JSON of each (also the "before" and "after" of an edit).
[[nodiscard]] std::string LogJson(const BuildingRecord& b);
[[nodiscard]] std::string LogJson(const FloorView& f);
[[nodiscard]] std::string LogJson(const RoomView& r);
[[nodiscard]] std::string LogJson(const GatewayRecord& g);
[[nodiscard]] std::string LogJson(const MeterView& m);

// What a new room or meter names, by code.
struct RoomSpec {
    std::string code;
    std::string name;      // "": the code
    std::string building;  // with floor, or both ""
    std::string floor;
    int64_t area_dm2 = 0;
};
struct MeterSpec {
    std::string code;  // the meter's serial or address, unique in the project
    std::string model;
    std::string gateway;
    std::string bus_address;  // "": the code
    int64_t circuit = 0;
    std::string room;
    std::string tariff;
    std::string parent;
    bool public_area = false;
};

// The fields an update changes; those not set stay as they are.
struct BuildingPatch {
    std::optional<std::string> code;
    std::optional<std::string> name;
};
using FloorPatch = BuildingPatch;
struct RoomPatch {
    std::optional<std::string> code;
    std::optional<std::string> name;
    std::optional<int64_t> area_dm2;
    // Moves the room: building and floor together (both "": onto no floor).
    std::optional<std::pair<std::string, std::string>> place;
};
struct GatewayPatch {
    std::optional<std::string> code;
    std::optional<std::string> name;
    std::optional<std::string> transport;
    std::optional<std::string> endpoint;
    std::optional<std::string> framing;
};
struct MeterPatch {
    std::optional<std::string> code;
    std::optional<std::string> model;  // refused once the meter has readings or an account
    std::optional<std::string> gateway;
    std::optional<std::string> bus_address;
    std::optional<int64_t> circuit;
    std::optional<std::string> room;
    std::optional<std::string> tariff;
    std::optional<std::string> parent;
    std::optional<bool> public_area;  // true refused while an account holds the meter
};

// Each call: the project by code (kNotFound "project"), the object by the code of its path
// (kNotFound "building", "floor", "room", "gateway", "meter"), then the change.
class SiteEditor {
public:
    explicit SiteEditor(Store& store) : store_(store) {}

    [[nodiscard]] Result<BuildingRecord> CreateBuilding(std::string_view project,
                                                        BuildingRecord building, const Actor& actor,
                                                        Instant now);
    [[nodiscard]] Result<BuildingRecord> UpdateBuilding(std::string_view project,
                                                        std::string_view code,
                                                        const BuildingPatch& patch,
                                                        int64_t expected_version,
                                                        const Actor& actor, Instant now);
    [[nodiscard]] Status DeleteBuilding(std::string_view project, std::string_view code,
                                        int64_t expected_version, const Actor& actor, Instant now);

    [[nodiscard]] Result<FloorView> CreateFloor(std::string_view project, std::string_view building,
                                                FloorRecord floor, const Actor& actor, Instant now);
    [[nodiscard]] Result<FloorView> UpdateFloor(std::string_view project, std::string_view building,
                                                std::string_view code, const FloorPatch& patch,
                                                int64_t expected_version, const Actor& actor,
                                                Instant now);
    [[nodiscard]] Status DeleteFloor(std::string_view project, std::string_view building,
                                     std::string_view code, int64_t expected_version,
                                     const Actor& actor, Instant now);

    [[nodiscard]] Result<RoomView> CreateRoom(std::string_view project, const RoomSpec& spec,
                                              const Actor& actor, Instant now);
    [[nodiscard]] Result<RoomView> UpdateRoom(std::string_view project, std::string_view code,
                                              const RoomPatch& patch, int64_t expected_version,
                                              const Actor& actor, Instant now);
    [[nodiscard]] Status DeleteRoom(std::string_view project, std::string_view code,
                                    int64_t expected_version, const Actor& actor, Instant now);

    // transport "mqtt", "modbus_tcp" or "dtu"; framing "transparent" or "mbap"; an endpoint no
    // other gateway of any project has (kAlreadyExists "endpoint"). The caller checks that a
    // modbus_tcp endpoint is host:port.
    [[nodiscard]] Result<GatewayRecord> CreateGateway(std::string_view project,
                                                      GatewayRecord gateway, const Actor& actor,
                                                      Instant now);
    [[nodiscard]] Result<GatewayRecord> UpdateGateway(std::string_view project,
                                                      std::string_view code,
                                                      const GatewayPatch& patch,
                                                      int64_t expected_version, const Actor& actor,
                                                      Instant now);
    [[nodiscard]] Status DeleteGateway(std::string_view project, std::string_view code,
                                       int64_t expected_version, const Actor& actor, Instant now);

    // A new meter starts with an empty billing state: its first reading is the baseline.
    [[nodiscard]] Result<MeterView> CreateMeter(std::string_view project, const MeterSpec& spec,
                                                const Actor& actor, Instant now);
    [[nodiscard]] Result<MeterView> UpdateMeter(std::string_view project, std::string_view code,
                                                const MeterPatch& patch, int64_t expected_version,
                                                const Actor& actor, Instant now);
    [[nodiscard]] Status DeleteMeter(std::string_view project, std::string_view code,
                                     int64_t expected_version, const Actor& actor, Instant now);

private:
    Store& store_;
};

// Checks shared with the import (service/site_import.hpp), inside the caller's unit of work.
namespace site_checks {
// A gateway's code, name, transport, framing and endpoint as values (a DTU needs its endpoint).
[[nodiscard]] Status CheckGatewayFields(const GatewayRecord& g);
// CheckGatewayFields, and that no other gateway (`except`: itself when editing) has its
// (transport, endpoint), in any project — without naming a gateway of another project.
[[nodiscard]] Status CheckGateway(Tx& tx, const GatewayRecord& g, GatewayId except);
// A meter's code, bus address and circuit as values.
[[nodiscard]] Status CheckMeterFields(const MeterSpec& spec);
// A room's area: 0 .. kMaxAreaDm2.
[[nodiscard]] Status CheckArea(int64_t area_dm2);
// That no other meter of `meter.gateway` answers at the same bus address and circuit.
[[nodiscard]] Status CheckBusAddress(Tx& tx, const MeterRecord& meter);
// A meter's references resolved by code into `out` (model, gateway, room, tariff, parent).
[[nodiscard]] Status ResolveMeter(Tx& tx, ProjectId project, const MeterSpec& spec,
                                  MeterRecord& out);
}  // namespace site_checks

}  // namespace joule
