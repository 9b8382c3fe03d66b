#include "storage/sqlite_store.hpp"

#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <unordered_map>

#include "base/assert.hpp"
#include "core/payment_ports.hpp"
#include "core/time.hpp"
#include "storage/migrations.hpp"
#include "storage/sqlite_notifications.hpp"
#include "storage/sqlite_query.hpp"
#include "storage/sqlite_rows.hpp"
#include "storage/sqlite_tenants.hpp"
#include "wire/json.hpp"

namespace joule::storage {

namespace {

using sqlite::AlarmRow;
using sqlite::At;
using sqlite::CollectRows;
using sqlite::Exec;
using sqlite::FirstRow;
using sqlite::kAlarmColumns;
using sqlite::Query;
using sqlite::Secs;
using sqlite::SqlError;
using sqlite::TransferRow;

// Ids as a JSON array, for "IN (SELECT value FROM json_each(?))": one statement for a set.
template <class Id>
std::string IdArray(std::span<const Id> ids) {
    std::string out = "[";
    for (const Id& id : ids) {
        if (out.size() > 1) {
            out.push_back(',');
        }
        out += std::to_string(id.value);
    }
    out.push_back(']');
    return out;
}

// Strings as a JSON array, for "IN (SELECT value FROM json_each(?))".
std::string TextArray(std::span<const std::string_view> texts) {
    nlohmann::json list = nlohmann::json::array();
    for (std::string_view t : texts) {
        list.push_back(std::string(t));
    }
    return list.dump();
}

}  // namespace

#define JOULE_ACCOUNT_SELECT                                                                       \
    "SELECT id, project_id, number, tenant_name, phone, tariff_id, alarm1, alarm2, alarm3, "       \
    "overdraft, restore_level, emergency, friendly_nights, night_start_minute, night_end_minute, " \
    "friendly_weekends, friendly_holidays, debt_share_bp, status, opened_at, closed_at, "          \
    "prepaid_state, relay, keep_power, forced_trip, emergency_taken, band, paid_ledger_id, "       \
    "debt_ledger_id, version, billing_mode, purchase_confirmed, purchase_assigned, "               \
    "meter_remaining, meter_remaining_count, meter_remaining_at "

#define JOULE_COMMAND_SELECT                                                            \
    "SELECT id, meter_id, account_id, kind, state, reason, actor, created_at, params, " \
    "attempts, next_attempt_at, expires_at, finished_at, error FROM commands "
// Column lists shared by every query that maps rows with ModelRow / MeterRow.
#define JOULE_MODEL_SELECT                                                                    \
    "SELECT id, code, name, utility, register_modulus, max_rate_per_hour, "                   \
    "future_tolerance_s, gap_threshold_s, has_relay, per_rate, definition, in_meter_prepaid " \
    "FROM meter_models "
#define JOULE_METER_SELECT                                                               \
    "SELECT id, project_id, code, model_id, IFNULL(gateway_id, 0), IFNULL(room_id, 0), " \
    "IFNULL(tariff_id, 0), IFNULL(parent_id, 0), public_area, bus_address, circuit, version "

namespace {

// The day-total queries, one text per period and group, made once: the statement cache knows a
// statement by the address of its text.
std::string PeriodColumn(SummaryPeriod period) {
    // The local day number as "YYYY-MM-DD", or "YYYY-MM".
    return period == SummaryPeriod::kDay ? "date(d.day * 86400, 'unixepoch')"
                                         : "substr(date(d.day * 86400, 'unixepoch'), 1, 7)";
}

const char* EnergySql(SummaryPeriod period, SummaryGroup group) {
    static const std::vector<std::string> texts = [] {
        std::vector<std::string> out;
        for (const SummaryPeriod p : {SummaryPeriod::kDay, SummaryPeriod::kMonth}) {
            for (const SummaryGroup g : {SummaryGroup::kProject, SummaryGroup::kBuilding,
                                         SummaryGroup::kAccount, SummaryGroup::kMeter}) {
                const char* key = g == SummaryGroup::kBuilding  ? "COALESCE(f.building_id, 0)"
                                  : g == SummaryGroup::kAccount ? "d.account_id"
                                  : g == SummaryGroup::kMeter   ? "d.meter_id"
                                                                : "0";
                out.push_back("SELECT " + PeriodColumn(p) + ", " + key +
                              ", mm.utility, SUM(d.energy), SUM(d.deducted), SUM(d.readings) "
                              "FROM meter_days d JOIN meters m ON m.id = d.meter_id "
                              "JOIN meter_models mm ON mm.id = m.model_id" +
                              (g == SummaryGroup::kBuilding
                                   ? " LEFT JOIN rooms r ON r.id = m.room_id "
                                     "LEFT JOIN floors f ON f.id = r.floor_id"
                                   : "") +
                              " WHERE d.day BETWEEN ? AND ? AND m.project_id = ? "
                              "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3");
            }
        }
        return out;
    }();
    return texts[static_cast<std::size_t>(period) * 4 + static_cast<std::size_t>(group)].c_str();
}

const char* SalesSql(SummaryPeriod period, bool by_account) {
    static const std::vector<std::string> texts = [] {
        std::vector<std::string> out;
        for (const SummaryPeriod p : {SummaryPeriod::kDay, SummaryPeriod::kMonth}) {
            for (const bool account : {false, true}) {
                out.push_back("SELECT " + PeriodColumn(p) + ", " +
                              (account ? "d.account_id" : "0") +
                              ", d.code, d.channel, SUM(d.amount), SUM(d.transfers) "
                              "FROM sales_days d WHERE d.project_id = ? AND d.day BETWEEN ? AND ? "
                              "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4");
            }
        }
        return out;
    }();
    return texts[static_cast<std::size_t>(period) * 2 + (by_account ? 1 : 0)].c_str();
}

}  // namespace

class SqliteTx final : public Tx, public PaymentTx, private sqlite::UnitOfWork {
public:
    SqliteTx(SqliteStore::Connection& connection, std::unique_lock<std::mutex> lock)
        : UnitOfWork(connection.db, connection.statements, std::move(lock)),
          tariff_cache_(connection.tariffs),
          notifications_(connection.db, connection.statements),
          tenants_(connection.db, connection.statements) {}
    // A unit of work that did not commit is rolled back (~UnitOfWork): the tariff cache may hold
    // a version it added, which a later insert could match by count.
    ~SqliteTx() override {
        if (!Committed()) {
            tariff_cache_.clear();
        }
    }
    SqliteTx(const SqliteTx&) = delete;
    SqliteTx& operator=(const SqliteTx&) = delete;

    // A grouped unit of work is committed by its group (SqliteStore::RunGroup), not its members.
    Status Commit() override {
        if (grouped_) {
            return MakeError(ErrorCode::kInternal, "a work run by RunCommitted() must not commit");
        }
        return CommitWork();
    }

    // The group's side: each member's work runs between Enter and Leave, in its own savepoint.
    void Group() { grouped_ = true; }
    Status EnterMember() { return Q("SAVEPOINT member").Run(); }
    Status LeaveMember(bool keep) {
        if (!keep) {
            tariff_cache_.clear();  // it may hold a version the rollback took back
            JOULE_TRY(Q("ROLLBACK TO member").Run());
        }
        return Q("RELEASE member").Run();
    }
    // False once SQLite has rolled the whole transaction back by itself (I/O error, disk full).
    bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
    Status CommitGroup() { return CommitWork(); }

    // ----------------------------------------------------------- hierarchy
    static ProjectRecord ProjectRow(const Query& q) {
        return ProjectRecord{{q.ColInt(0)}, q.ColText(1), q.ColText(2), q.ColText(3), q.ColInt(4)};
    }
    Result<std::vector<ProjectRecord>> ListProjects() override {
        auto q = Q("SELECT id, code, name, time_zone, read_interval_s FROM projects ORDER BY id");
        return CollectRows(q, [](const Query& row) { return ProjectRow(row); });
    }
    Status SetReadInterval(ProjectId id, int64_t seconds) override {
        auto q = Q("UPDATE projects SET read_interval_s = ? WHERE id = ?");
        return q.Int(seconds).Int(id.value).Run();
    }
    Result<ProjectId> InsertProject(const ProjectRecord& r) override {
        // Day totals (meter_days, sales_days) are cut at one offset per project.
        JOULE_ASSIGN_OR_RETURN(const Zone zone, Zone::Load(r.time_zone));
        const Seconds day_offset = DayCutOffset(zone);
        auto q =
            Q("INSERT INTO projects(code, name, time_zone, read_interval_s, day_offset_s) "
              "VALUES (?, ?, ?, ?, ?)");
        JOULE_TRY(q.Text(r.code)
                      .Text(r.name)
                      .Text(r.time_zone)
                      .Int(r.read_interval_s)
                      .Int(day_offset.count())
                      .Run());
        return ProjectId{sqlite3_last_insert_rowid(db_)};
    }
    Result<std::optional<ProjectRecord>> FindProject(std::string_view code) override {
        auto q =
            Q("SELECT id, code, name, time_zone, read_interval_s FROM projects WHERE code = ?");
        q.Text(code);
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
            return std::optional<ProjectRecord>();
        }
        return ProjectRow(q);
    }
    Result<ProjectRecord> GetProject(ProjectId id) override {
        auto q = Q("SELECT id, code, name, time_zone, read_interval_s FROM projects WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
            return NotFound("no project " + std::to_string(id.value));
        }
        return ProjectRow(q);
    }
    Result<BuildingId> InsertBuilding(const BuildingRecord& r) override {
        auto q = Q("INSERT INTO buildings(project_id, code, name) VALUES (?, ?, ?)");
        JOULE_TRY(q.Int(r.project.value).Text(r.code).Text(r.name).Run());
        return BuildingId{sqlite3_last_insert_rowid(db_)};
    }
    Result<FloorId> InsertFloor(const FloorRecord& r) override {
        auto q = Q("INSERT INTO floors(building_id, code, name) VALUES (?, ?, ?)");
        JOULE_TRY(q.Int(r.building.value).Text(r.code).Text(r.name).Run());
        return FloorId{sqlite3_last_insert_rowid(db_)};
    }
    Result<RoomId> InsertRoom(const RoomRecord& r) override {
        auto q =
            Q("INSERT INTO rooms(project_id, floor_id, code, name, area_dm2) "
              "VALUES (?, ?, ?, ?, ?)");
        JOULE_TRY(q.Int(r.project.value)
                      .IdOrNull(r.floor.value)
                      .Text(r.code)
                      .Text(r.name)
                      .Int(r.area_dm2)
                      .Run());
        return RoomId{sqlite3_last_insert_rowid(db_)};
    }
    static BuildingRecord BuildingRow(const Query& r) {
        return BuildingRecord{
            {r.ColInt(0)}, {r.ColInt(1)}, r.ColText(2), r.ColText(3), r.ColInt(4)};
    }
    static FloorRecord FloorRow(const Query& r) {
        return FloorRecord{{r.ColInt(0)}, {r.ColInt(1)}, r.ColText(2), r.ColText(3), r.ColInt(4)};
    }
    static RoomRecord RoomRow(const Query& r) {
        return RoomRecord{{r.ColInt(0)}, {r.ColInt(1)}, {r.ColOptInt(2).value_or(0)},
                          r.ColText(3),  r.ColText(4),  r.ColInt(5),
                          r.ColInt(6)};
    }
    Result<std::vector<BuildingRecord>> ListBuildings(ProjectId project) override {
        auto q =
            Q("SELECT id, project_id, code, name, version FROM buildings WHERE project_id = ? "
              "ORDER BY code");
        q.Int(project.value);
        return CollectRows(q, BuildingRow);
    }
    Result<std::vector<FloorRecord>> ListFloors(ProjectId project) override {
        auto q =
            Q("SELECT f.id, f.building_id, f.code, f.name, f.version FROM floors f JOIN "
              "buildings b ON b.id = f.building_id WHERE b.project_id = ? ORDER BY b.code, f.code");
        q.Int(project.value);
        return CollectRows(q, FloorRow);
    }
    Result<std::vector<RoomRecord>> ListRooms(ProjectId project) override {
        auto q =
            Q("SELECT id, project_id, floor_id, code, name, area_dm2, version FROM rooms "
              "WHERE project_id = ? ORDER BY code");
        q.Int(project.value);
        return CollectRows(q, RoomRow);
    }
    Result<std::vector<RoomMonitorLine>> ListRoomMonitor(ProjectId project) override {
        auto q =
            Q("SELECT r.code, r.name, COALESCE(b.code, ''), COALESCE(f.code, ''), "
              "COALESCE(m.code, ''), COALESCE(ms.online, 0), COALESCE(a.number, ''), "
              "COALESCE(a.tenant_name, ''), COALESCE(a.prepaid_state, 0), COALESCE(a.relay, 0), "
              "COALESCE(a.keep_power, 0), COALESCE(a.billing_mode, 0), "
              "COALESCE((SELECT SUM(balance) FROM ledger_accounts "
              "          WHERE owner_account_id = a.id AND kind = ?2), 0), "
              "COALESCE((SELECT SUM(balance) FROM ledger_accounts "
              "          WHERE owner_account_id = a.id AND kind = ?3), 0) "
              "FROM rooms r "
              "LEFT JOIN floors f ON f.id = r.floor_id "
              "LEFT JOIN buildings b ON b.id = f.building_id "
              "LEFT JOIN meters m ON m.room_id = r.id "
              "LEFT JOIN meter_status ms ON ms.meter_id = m.id "
              "LEFT JOIN account_meters am ON am.meter_id = m.id AND am.bound_to IS NULL "
              "LEFT JOIN accounts a ON a.id = am.account_id AND a.status = ?4 "
              "WHERE r.project_id = ?1 ORDER BY r.code, m.code");
        q.Int(project.value)
            .Int(static_cast<int64_t>(LedgerAccountKind::kTenantPaid))
            .Int(static_cast<int64_t>(LedgerAccountKind::kTenantGrant))
            .Int(static_cast<int64_t>(AccountStatus::kOpen));
        return CollectRows(q, [](const Query& row) {
            RoomMonitorLine line;
            line.room = row.ColText(0);
            line.room_name = row.ColText(1);
            line.building = row.ColText(2);
            line.floor = row.ColText(3);
            line.meter = row.ColText(4);
            line.online = row.ColInt(5) != 0;
            line.account = row.ColText(6);
            line.tenant = row.ColText(7);
            line.state = static_cast<PrepaidState>(row.ColInt(8));
            line.relay = static_cast<Relay>(row.ColInt(9));
            line.keep_power = row.ColInt(10) != 0;
            line.billing_mode = static_cast<BillingMode>(row.ColInt(11));
            line.balances.paid = Money{row.ColInt(12)};
            line.balances.granted = Money{row.ColInt(13)};
            return line;
        });
    }
    Result<std::optional<RoomRecord>> FindRoom(ProjectId project, std::string_view code) override {
        auto q =
            Q("SELECT id, project_id, floor_id, code, name, area_dm2, version FROM rooms "
              "WHERE project_id = ? AND code = ?");
        q.Int(project.value).Text(code);
        return FirstRow(q, RoomRow);
    }
    Result<GatewayId> InsertGateway(const GatewayRecord& r) override {
        auto q =
            Q("INSERT INTO gateways(project_id, code, name, transport, endpoint, framing, "
              "secret_hash) VALUES (?, ?, ?, ?, ?, ?, ?)");
        JOULE_TRY(q.Int(r.project.value)
                      .Text(r.code)
                      .Text(r.name)
                      .Text(r.transport)
                      .Text(r.endpoint)
                      .Text(r.framing)
                      .Text(r.secret_hash)
                      .Run());
        return GatewayId{sqlite3_last_insert_rowid(db_)};
    }
    static GatewayRecord GatewayRow(const Query& q) {
        GatewayRecord g;
        g.id = {q.ColInt(0)};
        g.project = {q.ColInt(1)};
        g.code = q.ColText(2);
        g.name = q.ColText(3);
        g.transport = q.ColText(4);
        g.endpoint = q.ColText(5);
        g.framing = q.ColText(6);
        g.online = q.ColInt(7) != 0;
        if (auto seen = q.ColOptInt(8))
            g.last_seen = At(*seen);
        g.secret_hash = q.ColText(9);
        g.version = q.ColInt(10);
        return g;
    }
#define JOULE_GATEWAY_SELECT                                                               \
    "SELECT id, project_id, code, name, transport, endpoint, framing, online, last_seen, " \
    "secret_hash, version FROM gateways "
    Result<std::optional<GatewayRecord>> FindGateway(ProjectId project,
                                                     std::string_view code) override {
        auto q = Q(JOULE_GATEWAY_SELECT "WHERE project_id = ? AND code = ?");
        q.Int(project.value).Text(code);
        return FirstRow(q, [](const Query& row) { return GatewayRow(row); });
    }
    Result<GatewayRecord> GetGateway(GatewayId id) override {
        auto q = Q(JOULE_GATEWAY_SELECT "WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found,
                               FirstRow(q, [](const Query& row) { return GatewayRow(row); }));
        if (!found) {
            return NotFound("no gateway " + std::to_string(id.value));
        }
        return *found;
    }
    Result<std::vector<GatewayRecord>> ListGateways() override {
        auto q = Q(JOULE_GATEWAY_SELECT "ORDER BY id");
        return CollectRows(q, [](const Query& row) { return GatewayRow(row); });
    }
    Status SetGatewayLink(GatewayId id, bool online, Instant at) override {
        auto q = Q("UPDATE gateways SET online = ?, last_seen = ? WHERE id = ?");
        return q.Int(online).Int(Secs(at)).Int(id.value).Run();
    }

    // ----------------------------------------------------------- models and meters
    static MeterModelRecord ModelRow(const Query& q) {
        MeterModelRecord m;
        m.id = {q.ColInt(0)};
        m.code = q.ColText(1);
        m.name = q.ColText(2);
        m.utility = static_cast<Utility>(q.ColInt(3));
        m.spec.register_modulus = {q.ColInt(4)};
        m.spec.max_rate_per_hour = q.ColInt(5);
        m.spec.future_tolerance = Seconds{q.ColInt(6)};
        m.spec.gap_threshold = Seconds{q.ColInt(7)};
        m.has_relay = q.ColInt(8) != 0;
        m.per_rate = q.ColInt(9) != 0;
        m.definition = q.ColText(10);
        m.in_meter_prepaid = q.ColInt(11) != 0;
        return m;
    }
    Result<ModelId> InsertModel(const MeterModelRecord& r) override {
        auto q =
            Q("INSERT INTO meter_models(code, name, utility, register_modulus, "
              "max_rate_per_hour, future_tolerance_s, gap_threshold_s, has_relay, per_rate, "
              "definition, in_meter_prepaid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        JOULE_TRY(q.Text(r.code)
                      .Text(r.name)
                      .Int(static_cast<int64_t>(r.utility))
                      .Int(r.spec.register_modulus.milli)
                      .Int(r.spec.max_rate_per_hour)
                      .Int(r.spec.future_tolerance.count())
                      .Int(r.spec.gap_threshold.count())
                      .Int(r.has_relay)
                      .Int(r.per_rate)
                      .Text(r.definition)
                      .Int(r.in_meter_prepaid)
                      .Run());
        return ModelId{sqlite3_last_insert_rowid(db_)};
    }
    Result<std::optional<MeterModelRecord>> FindModel(std::string_view code) override {
        auto q = Q(JOULE_MODEL_SELECT "WHERE code = ?");
        q.Text(code);
        return FirstRow(q, [](const Query& row) { return ModelRow(row); });
    }
    Result<MeterModelRecord> GetModel(ModelId id) override {
        auto q = Q(JOULE_MODEL_SELECT "WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found,
                               FirstRow(q, [](const Query& row) { return ModelRow(row); }));
        if (!found) {
            return NotFound("no meter model " + std::to_string(id.value));
        }
        return *found;
    }
    static MeterRecord MeterRow(const Query& q) {
        return MeterRecord{{q.ColInt(0)},    {q.ColInt(1)}, q.ColText(2),  {q.ColInt(3)},
                           {q.ColInt(4)},    {q.ColInt(5)}, {q.ColInt(6)}, {q.ColInt(7)},
                           q.ColInt(8) != 0, q.ColText(9),  q.ColInt(10),  q.ColInt(11)};
    }
    Result<MeterId> InsertMeter(const MeterRecord& r) override {
        auto q =
            Q("INSERT INTO meters(project_id, code, model_id, gateway_id, room_id, tariff_id, "
              "parent_id, public_area, bus_address, circuit) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        JOULE_TRY(q.Int(r.project.value)
                      .Text(r.code)
                      .Int(r.model.value)
                      .IdOrNull(r.gateway.value)
                      .IdOrNull(r.room.value)
                      .IdOrNull(r.tariff.value)
                      .IdOrNull(r.parent.value)
                      .Int(r.public_area)
                      .Text(r.bus_address)
                      .Int(r.circuit)
                      .Run());
        return MeterId{sqlite3_last_insert_rowid(db_)};
    }
    Result<std::optional<MeterRecord>> FindMeter(ProjectId project,
                                                 std::string_view code) override {
        auto q = Q(JOULE_METER_SELECT "FROM meters WHERE project_id = ? AND code = ?");
        q.Int(project.value).Text(code);
        return FirstRow(q, [](const Query& row) { return MeterRow(row); });
    }
    Result<MeterRecord> GetMeter(MeterId id) override {
        auto q = Q(JOULE_METER_SELECT "FROM meters WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found,
                               FirstRow(q, [](const Query& row) { return MeterRow(row); }));
        if (!found) {
            return NotFound("no meter " + std::to_string(id.value));
        }
        return *found;
    }
    Result<std::vector<MeterRecord>> GetMeters(std::span<const MeterId> ids) override {
        auto q = Q(JOULE_METER_SELECT "FROM meters WHERE id IN (SELECT value FROM json_each(?))");
        q.Text(IdArray(ids));
        return CollectRows(q, [](const Query& row) { return MeterRow(row); });
    }
    Result<std::vector<MeterRecord>> ListMeters(ProjectId project) override {
        auto q = Q(JOULE_METER_SELECT "FROM meters WHERE project_id = ? ORDER BY id");
        q.Int(project.value);
        return CollectRows(q, [](const Query& row) { return MeterRow(row); });
    }

    Result<std::vector<MeterRecord>> ListMetersOfGateway(GatewayId gateway) override {
        auto q = Q(JOULE_METER_SELECT "FROM meters WHERE gateway_id = ? ORDER BY id");
        q.Int(gateway.value);
        return CollectRows(q, [](const Query& row) { return MeterRow(row); });
    }
    Result<std::string> RegistryStamp() override {
        // Counts and newest ids see additions and removals; the sums of versions see edits.
        auto q =
            Q("SELECT (SELECT COUNT(*) || ':' || IFNULL(MAX(id), 0) || ':' || "
              "IFNULL(SUM(version), 0) FROM meters) || '/' || (SELECT COUNT(*) || ':' || "
              "IFNULL(MAX(id), 0) || ':' || IFNULL(SUM(version), 0) FROM gateways)");
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        return row ? q.ColText(0) : std::string();
    }
    // ----------------------------------------------------------- editing the site
    // An update of a row still at `version`, bumping it; kAborted when it moved on.
    Status Updated(std::string_view what, int64_t version) {
        if (sqlite3_changes(db_) == 0) {
            return MakeError(ErrorCode::kAborted,
                             "the " + std::string(what) + " changed since version " +
                                 std::to_string(version) + "; reload and try again",
                             "expected_version");
        }
        return {};
    }
    Result<std::optional<BuildingRecord>> FindBuilding(ProjectId project,
                                                       std::string_view code) override {
        auto q =
            Q("SELECT id, project_id, code, name, version FROM buildings WHERE project_id = ? AND "
              "code = ?");
        q.Int(project.value).Text(code);
        return FirstRow(q, BuildingRow);
    }
    Result<BuildingRecord> GetBuilding(BuildingId id) override {
        auto q = Q("SELECT id, project_id, code, name, version FROM buildings WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found, FirstRow(q, BuildingRow));
        if (!found) {
            return NotFound("no building " + std::to_string(id.value));
        }
        return *found;
    }
    Result<FloorRecord> GetFloor(FloorId id) override {
        auto q = Q("SELECT id, building_id, code, name, version FROM floors WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found, FirstRow(q, FloorRow));
        if (!found) {
            return NotFound("no floor " + std::to_string(id.value));
        }
        return *found;
    }
    Result<RoomRecord> GetRoom(RoomId id) override {
        auto q = Q(
            "SELECT id, project_id, floor_id, code, name, area_dm2, version FROM rooms WHERE id = "
            "?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found, FirstRow(q, RoomRow));
        if (!found) {
            return NotFound("no room " + std::to_string(id.value));
        }
        return *found;
    }
    Status UpdateBuilding(const BuildingRecord& r) override {
        auto q =
            Q("UPDATE buildings SET code = ?, name = ?, version = version + 1 WHERE id = ? AND "
              "version = ?");
        JOULE_TRY(q.Text(r.code).Text(r.name).Int(r.id.value).Int(r.version).Run());
        return Updated("building", r.version);
    }
    Status DeleteBuilding(BuildingId id) override {
        auto q = Q("DELETE FROM buildings WHERE id = ?");
        return q.Int(id.value).Run();
    }
    Result<std::optional<FloorRecord>> FindFloor(BuildingId building,
                                                 std::string_view code) override {
        auto q =
            Q("SELECT id, building_id, code, name, version FROM floors WHERE building_id = ? AND "
              "code = ?");
        q.Int(building.value).Text(code);
        return FirstRow(q, FloorRow);
    }
    Status UpdateFloor(const FloorRecord& r) override {
        auto q =
            Q("UPDATE floors SET code = ?, name = ?, version = version + 1 WHERE id = ? AND "
              "version = ?");
        JOULE_TRY(q.Text(r.code).Text(r.name).Int(r.id.value).Int(r.version).Run());
        return Updated("floor", r.version);
    }
    Status DeleteFloor(FloorId id) override {
        auto q = Q("DELETE FROM floors WHERE id = ?");
        return q.Int(id.value).Run();
    }
    Status UpdateRoom(const RoomRecord& r) override {
        auto q = Q(
            "UPDATE rooms SET floor_id = ?, code = ?, name = ?, area_dm2 = ?, version = version + "
            "1 WHERE id = ? AND version = ?");
        JOULE_TRY(q.IdOrNull(r.floor.value)
                      .Text(r.code)
                      .Text(r.name)
                      .Int(r.area_dm2)
                      .Int(r.id.value)
                      .Int(r.version)
                      .Run());
        return Updated("room", r.version);
    }
    Status DeleteRoom(RoomId id) override {
        auto q = Q("DELETE FROM rooms WHERE id = ?");
        return q.Int(id.value).Run();
    }
    Status UpdateGateway(const GatewayRecord& r) override {
        auto q =
            Q("UPDATE gateways SET code = ?, name = ?, transport = ?, endpoint = ?, framing = ?, "
              "version = version + 1 WHERE id = ? AND version = ?");
        JOULE_TRY(q.Text(r.code)
                      .Text(r.name)
                      .Text(r.transport)
                      .Text(r.endpoint)
                      .Text(r.framing)
                      .Int(r.id.value)
                      .Int(r.version)
                      .Run());
        return Updated("gateway", r.version);
    }
    Status DeleteGateway(GatewayId id, Instant at) override {
        auto alarms =
            Q("UPDATE alarms SET open = 0, cleared_at = ? WHERE gateway_id = ? AND open = 1");
        JOULE_TRY(alarms.Int(Secs(at)).Int(id.value).Run());
        auto pending = Q("DELETE FROM pending_devices WHERE gateway_id = ?");
        JOULE_TRY(pending.Int(id.value).Run());
        auto q = Q("DELETE FROM gateways WHERE id = ?");
        return q.Int(id.value).Run();
    }
    Status UpdateMeter(const MeterRecord& r) override {
        auto q = Q(
            "UPDATE meters SET code = ?, model_id = ?, gateway_id = ?, room_id = ?, tariff_id = ?, "
            "parent_id = ?, public_area = ?, bus_address = ?, circuit = ?, version = version + 1 "
            "WHERE id = ? AND version = ?");
        JOULE_TRY(q.Text(r.code)
                      .Int(r.model.value)
                      .IdOrNull(r.gateway.value)
                      .IdOrNull(r.room.value)
                      .IdOrNull(r.tariff.value)
                      .IdOrNull(r.parent.value)
                      .Int(r.public_area)
                      .Text(r.bus_address)
                      .Int(r.circuit)
                      .Int(r.id.value)
                      .Int(r.version)
                      .Run());
        return Updated("meter", r.version);
    }
    Status DeleteMeter(MeterId id, Instant at) override {
        auto alarms =
            Q("UPDATE alarms SET open = 0, cleared_at = ? WHERE meter_id = ? AND open = 1");
        JOULE_TRY(alarms.Int(Secs(at)).Int(id.value).Run());
        auto status = Q("DELETE FROM meter_status WHERE meter_id = ?");
        JOULE_TRY(status.Int(id.value).Run());
        auto billing = Q("DELETE FROM meter_billing WHERE meter_id = ?");
        JOULE_TRY(billing.Int(id.value).Run());
        auto q = Q("DELETE FROM meters WHERE id = ?");
        return q.Int(id.value).Run();
    }
    Result<int64_t> Count(Query& q) {
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        return row ? q.ColInt(0) : 0;
    }
    Result<int64_t> CountFloorsOf(BuildingId building) override {
        auto q = Q("SELECT COUNT(*) FROM floors WHERE building_id = ?");
        q.Int(building.value);
        return Count(q);
    }
    Result<int64_t> CountRoomsOn(FloorId floor) override {
        auto q = Q("SELECT COUNT(*) FROM rooms WHERE floor_id = ?");
        q.Int(floor.value);
        return Count(q);
    }
    Result<int64_t> CountMetersIn(RoomId room) override {
        auto q = Q("SELECT COUNT(*) FROM meters WHERE room_id = ?");
        q.Int(room.value);
        return Count(q);
    }
    Result<MeterHistory> MeterHistoryOf(MeterId meter) override {
        // EXISTS-style counts capped at 1,000 each: the answer only says whether, and roughly how
        // much, history there is, without counting a year of readings.
        auto q =
            Q("SELECT (SELECT COUNT(*) FROM account_meters WHERE meter_id = ?1), "
              "(SELECT COUNT(*) FROM (SELECT 1 FROM readings WHERE meter_id = ?1 LIMIT 1000)), "
              "(SELECT COUNT(*) FROM (SELECT 1 FROM commands WHERE meter_id = ?1 LIMIT 1000)), "
              "(SELECT COUNT(*) FROM meters WHERE parent_id = ?1)");
        q.Int(meter.value);
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
            return MeterHistory{};
        }
        return MeterHistory{q.ColInt(0), q.ColInt(1), q.ColInt(2), q.ColInt(3)};
    }
    Result<std::vector<MeterModelRecord>> ListModels() override {
        auto q = Q(JOULE_MODEL_SELECT "ORDER BY id");
        return CollectRows(q, [](const Query& row) { return ModelRow(row); });
    }

    // ----------------------------------------------------------- live device state
#define JOULE_STATUS_SELECT                                                                \
    "SELECT s.meter_id, s.online, s.last_seen, s.last_failure, s.failures, s.meter_time, " \
    "s.relay, s.valve, s.hold, s.values_json FROM meter_status s "
    static MeterStatusRecord StatusRow(const Query& row) {
        MeterStatusRecord s;
        s.meter = {row.ColInt(0)};
        s.online = row.ColInt(1) != 0;
        if (auto v = row.ColOptInt(2))
            s.last_seen = At(*v);
        if (auto v = row.ColOptInt(3))
            s.last_failure = At(*v);
        s.failures = row.ColInt(4);
        if (auto v = row.ColOptInt(5))
            s.meter_time = At(*v);
        s.relay = static_cast<RelayState>(row.ColInt(6));
        s.valve = static_cast<ValveState>(row.ColInt(7));
        s.hold = row.ColInt(8) != 0;
        s.values_json = row.ColText(9);
        return s;
    }
    Result<std::optional<MeterStatusRecord>> LoadMeterStatus(MeterId meter) override {
        auto q = Q(JOULE_STATUS_SELECT "WHERE s.meter_id = ?");
        q.Int(meter.value);
        return FirstRow(q, StatusRow);
    }
    Result<std::vector<MeterStatusRecord>> ListMeterStatuses(ProjectId project) override {
        auto q = Q(JOULE_STATUS_SELECT
                   "JOIN meters m ON m.id = s.meter_id WHERE m.project_id = ? ORDER BY m.code");
        q.Int(project.value);
        return CollectRows(q, StatusRow);
    }
    Result<std::vector<std::pair<MeterId, MeterLiveContext>>> LoadLiveContexts(
        std::span<const MeterId> meters, std::span<const std::string_view> switch_kinds) override {
        const std::string ids = IdArray(meters);
        std::unordered_map<int64_t, MeterLiveContext> by_meter;
        {
            auto q = Q(JOULE_STATUS_SELECT "WHERE s.meter_id IN (SELECT value FROM json_each(?))");
            q.Text(ids);
            JOULE_ASSIGN_OR_RETURN(auto statuses, CollectRows(q, StatusRow));
            for (MeterStatusRecord& status : statuses) {
                by_meter[status.meter.value].status = std::move(status);
            }
        }
        {
            auto q = Q(JOULE_COMMAND_SELECT
                       "WHERE id IN (SELECT MAX(id) FROM commands WHERE meter_id IN (SELECT value "
                       "FROM json_each(?1)) AND kind IN (SELECT value FROM json_each(?2)) GROUP "
                       "BY meter_id)");
            q.Text(ids).Text(TextArray(switch_kinds));
            JOULE_ASSIGN_OR_RETURN(
                auto commands, CollectRows(q, [](const Query& row) { return CommandRow(row); }));
            for (CommandRecord& command : commands) {
                by_meter[command.meter.value].last_switch = std::move(command);
            }
        }
        {
            // The partial index alarms_one_open serves (open, account 0, meter, gateway 0).
            auto q =
                Q("SELECT meter_id, kind FROM alarms WHERE open = 1 AND account_id = 0 AND "
                  "gateway_id = 0 AND meter_id IN (SELECT value FROM json_each(?))");
            q.Text(ids);
            while (true) {
                JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
                if (!row) {
                    break;
                }
                by_meter[q.ColInt(0)].open_alarms.push_back(static_cast<AlarmKind>(q.ColInt(1)));
            }
        }
        std::vector<std::pair<MeterId, MeterLiveContext>> out;
        out.reserve(by_meter.size());
        for (auto& [id, context] : by_meter) {
            out.emplace_back(MeterId{id}, std::move(context));
        }
        return out;
    }
#undef JOULE_STATUS_SELECT
    Status SaveMeterStatus(const MeterStatusRecord& s) override {
        auto secs = [](const std::optional<Instant>& t) {
            return t ? std::optional<int64_t>(Secs(*t)) : std::nullopt;
        };
        // Both statements take the same values in the same order: the per-reading columns, then
        // the meter and the four the live-change trigger compares.
        auto bind = [&](Query& q) -> Query& {
            return q.OptInt(secs(s.last_seen))
                .OptInt(secs(s.last_failure))
                .Int(s.failures)
                .OptInt(secs(s.meter_time))
                .Text(s.values_json)
                .Int(s.meter.value)
                .Int(s.online)
                .Int(static_cast<int64_t>(s.relay))
                .Int(static_cast<int64_t>(s.valve))
                .Int(s.hold);
        };
        // Most saves are a reading's, with those four as they were: updating the others alone
        // does not run the trigger (migration 23).
        auto same_state =
            Q("UPDATE meter_status SET last_seen = ?, last_failure = ?, failures = ?, "
              "meter_time = ?, values_json = ? WHERE meter_id = ? AND online = ? AND relay = ? "
              "AND valve = ? AND hold = ?");
        JOULE_TRY(bind(same_state).Run());
        if (sqlite3_changes(db_) == 1) {
            return {};
        }
        // An upsert, not a replace: the live-change trigger compares the old row with the new one
        // (migration 9).
        auto q =
            Q("INSERT INTO meter_status(last_seen, last_failure, failures, meter_time, "
              "values_json, meter_id, online, relay, valve, hold) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT(meter_id) DO UPDATE SET online = excluded.online, last_seen = "
              "excluded.last_seen, last_failure = excluded.last_failure, failures = "
              "excluded.failures, meter_time = excluded.meter_time, relay = excluded.relay, "
              "valve = excluded.valve, hold = excluded.hold, "
              "values_json = excluded.values_json");
        return bind(q).Run();
    }
    Status UpsertPendingDevice(const PendingDeviceRecord& d) override {
        auto q =
            Q("INSERT INTO pending_devices(project_id, gateway_id, bus_address, model_code, "
              "serial, params, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT(gateway_id, bus_address) DO UPDATE SET model_code = "
              "excluded.model_code, serial = excluded.serial, params = excluded.params, "
              "last_seen = excluded.last_seen");
        return q.Int(d.project.value)
            .Int(d.gateway.value)
            .Text(d.bus_address)
            .Text(d.model_code)
            .Text(d.serial)
            .Text(d.params)
            .Int(Secs(d.first_seen))
            .Int(Secs(d.last_seen))
            .Run();
    }
    Result<std::vector<PendingDeviceRecord>> ListPendingDevices(ProjectId project) override {
        auto q =
            Q("SELECT id, project_id, gateway_id, bus_address, model_code, serial, params, "
              "first_seen, last_seen FROM pending_devices WHERE project_id = ? ORDER BY id");
        q.Int(project.value);
        return CollectRows(q, [](const Query& row) {
            return PendingDeviceRecord{row.ColInt(0),  {row.ColInt(1)},   {row.ColInt(2)},
                                       row.ColText(3), row.ColText(4),    row.ColText(5),
                                       row.ColText(6), At(row.ColInt(7)), At(row.ColInt(8))};
        });
    }
    Status DeletePendingDevice(int64_t id) override {
        auto q = Q("DELETE FROM pending_devices WHERE id = ?");
        return q.Int(id).Run();
    }
    Status InsertDeviceEvent(const DeviceEventRecord& e) override {
        auto q =
            Q("INSERT INTO device_events(at, gateway_id, meter_id, kind, detail) "
              "VALUES (?, ?, ?, ?, ?)");
        return q.Int(Secs(e.at))
            .Int(e.gateway.value)
            .Int(e.meter.value)
            .Text(e.kind)
            .Text(e.detail)
            .Run();
    }
    Result<std::vector<DeviceEventRecord>> ListDeviceEvents(int64_t after_seq, int limit) override {
        auto q =
            Q("SELECT seq, at, gateway_id, meter_id, kind, detail FROM device_events "
              "WHERE seq > ? ORDER BY seq LIMIT ?");
        q.Int(after_seq).Int(limit);
        return CollectRows(q, [](const Query& row) {
            return DeviceEventRecord{row.ColInt(0),   At(row.ColInt(1)), {row.ColInt(2)},
                                     {row.ColInt(3)}, row.ColText(4),    row.ColText(5)};
        });
    }
    Result<std::vector<MeterDayTotal>> AccountDays(AccountId account, DayRange days) override {
        auto q =
            Q("SELECT day, meter_id, energy, deducted, readings FROM meter_days "
              "WHERE account_id = ? AND day BETWEEN ? AND ? ORDER BY day, meter_id");
        q.Int(account.value).Int(days.first).Int(days.last);
        return CollectRows(q, [&](const Query& row) {
            return MeterDayTotal{row.ColInt(0),           {row.ColInt(1)},      account,
                                 Quantity{row.ColInt(2)}, Money{row.ColInt(3)}, row.ColInt(4)};
        });
    }
    Result<std::vector<EnergyTotal>> SumEnergy(ProjectId project, DayRange days,
                                               SummaryPeriod period, SummaryGroup group) override {
        auto q = Q(EnergySql(period, group));
        q.Int(days.first).Int(days.last).Int(project.value);
        return CollectRows(q, [](const Query& row) {
            return EnergyTotal{
                row.ColText(0),          row.ColInt(1),        static_cast<Utility>(row.ColInt(2)),
                Quantity{row.ColInt(3)}, Money{row.ColInt(4)}, row.ColInt(5)};
        });
    }
    Result<std::vector<SalesTotal>> SumSales(ProjectId project, DayRange days, SummaryPeriod period,
                                             SummaryGroup group) override {
        if (group != SummaryGroup::kProject && group != SummaryGroup::kAccount) {
            return InvalidArgument("group", "sales are summed by project or account");
        }
        auto q = Q(SalesSql(period, group == SummaryGroup::kAccount));
        q.Int(project.value).Int(days.first).Int(days.last);
        return CollectRows(q, [](const Query& row) {
            return SalesTotal{
                row.ColText(0), row.ColInt(1),        static_cast<TransferCode>(row.ColInt(2)),
                row.ColText(3), Money{row.ColInt(4)}, row.ColInt(5)};
        });
    }

    Result<std::vector<LiveChange>> ListLiveChanges(int64_t after_seq, int limit) override {
        auto q =
            Q("SELECT seq, project_id, kind, subject_id, at FROM live_changes WHERE seq > ? "
              "ORDER BY seq LIMIT ?");
        q.Int(after_seq).Int(limit);
        return CollectRows(q, [](const Query& row) {
            return LiveChange{row.ColInt(0),
                              {row.ColInt(1)},
                              static_cast<LiveKind>(row.ColInt(2)),
                              row.ColInt(3),
                              At(row.ColInt(4))};
        });
    }
    Result<int64_t> LastLiveChange() override {
        auto q = Q("SELECT COALESCE(MAX(seq), 0) FROM live_changes");
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        return row ? q.ColInt(0) : 0;
    }

    // ----------------------------------------------------------- tariffs
    Result<TariffId> InsertTariff(const TariffRecord& r) override {
        auto q = Q("INSERT INTO tariffs(project_id, code, name, utility) VALUES (?, ?, ?, ?)");
        JOULE_TRY(q.Int(r.project.value)
                      .Text(r.code)
                      .Text(r.tariff.name)
                      .Int(static_cast<int64_t>(r.tariff.utility))
                      .Run());
        const TariffId id{sqlite3_last_insert_rowid(db_)};
        for (const TariffVersion& v : r.tariff.versions) {
            JOULE_TRY(AppendTariffVersion(id, v));
        }
        return id;
    }
    Status AppendTariffVersion(TariffId id, const TariffVersion& v) override {
        auto q = Q("INSERT INTO tariff_versions(tariff_id, effective_from, body) VALUES (?, ?, ?)");
        return q.Int(id.value)
            .Int(Secs(v.effective_from))
            .Text(wire::TariffVersionToJson(v).dump())
            .Run();
    }
    Result<std::optional<TariffRecord>> FindTariff(ProjectId project,
                                                   std::string_view code) override {
        int64_t id = 0;
        {
            auto q = Q("SELECT id FROM tariffs WHERE project_id = ? AND code = ?");
            q.Int(project.value).Text(code);
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            if (!row) {
                return std::optional<TariffRecord>();
            }
            id = q.ColInt(0);
        }
        JOULE_ASSIGN_OR_RETURN(TariffRecord r, GetTariff(TariffId{id}));
        return r;
    }
    Result<std::vector<TariffRecord>> ListTariffs(ProjectId project) override {
        std::vector<int64_t> ids;
        {
            auto q = Q("SELECT id FROM tariffs WHERE project_id = ? ORDER BY code");
            q.Int(project.value);
            JOULE_ASSIGN_OR_RETURN(ids, CollectRows(q, [](const Query& r) { return r.ColInt(0); }));
        }
        std::vector<TariffRecord> out;
        out.reserve(ids.size());
        for (int64_t id : ids) {
            JOULE_ASSIGN_OR_RETURN(TariffRecord r, GetTariff(TariffId{id}));
            out.push_back(std::move(r));
        }
        return out;
    }
    Result<TariffRecord> GetTariff(TariffId id) override {
        int64_t versions = 0;
        {
            auto q = Q("SELECT COUNT(*) FROM tariff_versions WHERE tariff_id = ?");
            q.Int(id.value);
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            versions = row ? q.ColInt(0) : 0;
        }
        auto cached = tariff_cache_.find(id.value);
        if (cached != tariff_cache_.end() && cached->second.versions == versions) {
            return *cached->second.record;
        }
        TariffRecord r;
        {
            auto q = Q("SELECT id, project_id, code, name, utility FROM tariffs WHERE id = ?");
            q.Int(id.value);
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            if (!row) {
                return NotFound("no tariff " + std::to_string(id.value));
            }
            r.id = {q.ColInt(0)};
            r.project = {q.ColInt(1)};
            r.code = q.ColText(2);
            r.tariff.name = q.ColText(3);
            r.tariff.utility = static_cast<Utility>(q.ColInt(4));
        }
        auto q = Q("SELECT body FROM tariff_versions WHERE tariff_id = ? ORDER BY effective_from");
        q.Int(id.value);
        while (true) {
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            if (!row) {
                break;
            }
            auto body = wire::Json::parse(q.ColText(0), nullptr, false);
            auto v = wire::TariffVersionFromJson(body, "tariff_versions.body");
            if (!v) {
                return MakeError(ErrorCode::kDataLoss,
                                 "stored tariff version is unreadable: " + v.error().ToString());
            }
            r.tariff.versions.push_back(std::move(*v));
        }
        tariff_cache_[id.value] = {versions, std::make_shared<const TariffRecord>(r)};
        return r;
    }

    // ----------------------------------------------------------- accounts
    static AccountRecord AccountRow(const Query& q) {
        AccountRecord a;
        a.id = {q.ColInt(0)};
        a.project = {q.ColInt(1)};
        a.number = q.ColText(2);
        a.tenant_name = q.ColText(3);
        a.phone = q.ColText(4);
        a.tariff = {q.ColInt(5)};
        a.scheme.alarm1 = {q.ColInt(6)};
        a.scheme.alarm2 = {q.ColInt(7)};
        a.scheme.alarm3 = {q.ColInt(8)};
        a.scheme.overdraft = {q.ColInt(9)};
        a.scheme.restore = {q.ColInt(10)};
        a.scheme.emergency = {q.ColInt(11)};
        a.scheme.friendly.nights = q.ColInt(12) != 0;
        a.scheme.friendly.night_start_minute = static_cast<uint16_t>(q.ColInt(13));
        a.scheme.friendly.night_end_minute = static_cast<uint16_t>(q.ColInt(14));
        a.scheme.friendly.weekends = q.ColInt(15) != 0;
        a.scheme.friendly.holidays = q.ColInt(16) != 0;
        a.debt_share_basis_points = static_cast<int32_t>(q.ColInt(17));
        a.status = static_cast<AccountStatus>(q.ColInt(18));
        a.opened_at = At(q.ColInt(19));
        if (auto c = q.ColOptInt(20)) {
            a.closed_at = At(*c);
        }
        a.prepaid.state = static_cast<PrepaidState>(q.ColInt(21));
        a.prepaid.relay = static_cast<Relay>(q.ColInt(22));
        a.prepaid.keep_power = q.ColInt(23) != 0;
        a.prepaid.forced_trip = q.ColInt(24) != 0;
        a.prepaid.emergency_taken = q.ColInt(25) != 0;
        a.prepaid.band = static_cast<uint8_t>(q.ColInt(26));
        a.paid = {q.ColInt(27)};
        a.debt = {q.ColInt(28)};
        a.version = q.ColInt(29);
        a.billing_mode = static_cast<BillingMode>(q.ColInt(30));
        a.purse.confirmed_count = q.ColInt(31);
        a.purse.assigned_count = q.ColInt(32);
        if (auto r = q.ColOptInt(33)) {
            a.purse.remaining = Money{*r};
        }
        a.purse.remaining_count = q.ColOptInt(34);
        if (auto t = q.ColOptInt(35)) {
            a.purse.remaining_at = At(*t);
        }
        return a;
    }
    static void BindScheme(Query& q, const ControlScheme& s) {
        q.Int(s.alarm1.fen)
            .Int(s.alarm2.fen)
            .Int(s.alarm3.fen)
            .Int(s.overdraft.fen)
            .Int(s.restore.fen)
            .Int(s.emergency.fen)
            .Int(s.friendly.nights)
            .Int(s.friendly.night_start_minute)
            .Int(s.friendly.night_end_minute)
            .Int(s.friendly.weekends)
            .Int(s.friendly.holidays);
    }
    static void BindPurse(Query& q, const AccountRecord& a) {
        const MeterPurse& p = a.purse;
        q.Int(static_cast<int64_t>(a.billing_mode))
            .Int(p.confirmed_count)
            .Int(p.assigned_count)
            .OptInt(p.remaining ? std::optional<int64_t>(p.remaining->fen) : std::nullopt)
            .OptInt(p.remaining_count)
            .OptInt(p.remaining_at ? std::optional<int64_t>(Secs(*p.remaining_at)) : std::nullopt);
    }
    Result<AccountId> InsertAccount(const AccountRecord& a) override {
        auto q =
            Q("INSERT INTO accounts(project_id, number, tenant_name, phone, tariff_id, "
              "alarm1, alarm2, alarm3, overdraft, restore_level, emergency, friendly_nights, "
              "night_start_minute, night_end_minute, friendly_weekends, friendly_holidays, "
              "debt_share_bp, status, opened_at, closed_at, prepaid_state, relay, keep_power, "
              "forced_trip, emergency_taken, band, paid_ledger_id, debt_ledger_id, version, "
              "billing_mode, purchase_confirmed, purchase_assigned, meter_remaining, "
              "meter_remaining_count, meter_remaining_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
              "?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)");
        q.Int(a.project.value).Text(a.number).Text(a.tenant_name).Text(a.phone).Int(a.tariff.value);
        BindScheme(q, a.scheme);
        q.Int(a.debt_share_basis_points)
            .Int(static_cast<int64_t>(a.status))
            .Int(Secs(a.opened_at))
            .OptInt(a.closed_at ? std::optional<int64_t>(Secs(*a.closed_at)) : std::nullopt)
            .Int(static_cast<int64_t>(a.prepaid.state))
            .Int(static_cast<int64_t>(a.prepaid.relay))
            .Int(a.prepaid.keep_power)
            .Int(a.prepaid.forced_trip)
            .Int(a.prepaid.emergency_taken)
            .Int(a.prepaid.band)
            .Int(a.paid.value)
            .Int(a.debt.value);
        BindPurse(q, a);
        JOULE_TRY(q.Run());
        return AccountId{sqlite3_last_insert_rowid(db_)};
    }
    Status UpdateAccount(const AccountRecord& a) override {
        auto q =
            Q("UPDATE accounts SET tenant_name = ?, phone = ?, tariff_id = ?, alarm1 = ?, "
              "alarm2 = ?, alarm3 = ?, overdraft = ?, restore_level = ?, emergency = ?, "
              "friendly_nights = ?, night_start_minute = ?, night_end_minute = ?, "
              "friendly_weekends = ?, friendly_holidays = ?, "
              "debt_share_bp = ?, status = ?, closed_at = ?, prepaid_state = ?, relay = ?, "
              "keep_power = ?, forced_trip = ?, emergency_taken = ?, band = ?, "
              "billing_mode = ?, purchase_confirmed = ?, purchase_assigned = ?, "
              "meter_remaining = ?, meter_remaining_count = ?, meter_remaining_at = ?, "
              "version = version + 1 WHERE id = ? AND version = ?");
        q.Text(a.tenant_name).Text(a.phone).Int(a.tariff.value);
        BindScheme(q, a.scheme);
        q.Int(a.debt_share_basis_points)
            .Int(static_cast<int64_t>(a.status))
            .OptInt(a.closed_at ? std::optional<int64_t>(Secs(*a.closed_at)) : std::nullopt)
            .Int(static_cast<int64_t>(a.prepaid.state))
            .Int(static_cast<int64_t>(a.prepaid.relay))
            .Int(a.prepaid.keep_power)
            .Int(a.prepaid.forced_trip)
            .Int(a.prepaid.emergency_taken)
            .Int(a.prepaid.band);
        BindPurse(q, a);
        JOULE_TRY(q.Int(a.id.value).Int(a.version).Run());
        if (sqlite3_changes(db_) != 1) {
            return MakeError(
                ErrorCode::kAborted,
                "account " + a.number + " was changed by someone else; reload and retry",
                "version");
        }
        return {};
    }
    Result<std::optional<AccountRecord>> FindAccount(ProjectId project,
                                                     std::string_view number) override {
        auto q = Q(JOULE_ACCOUNT_SELECT "FROM accounts WHERE project_id = ? AND number = ?");
        q.Int(project.value).Text(number);
        return FirstRow(q, [](const Query& row) { return AccountRow(row); });
    }
    Result<AccountRecord> GetAccount(AccountId id) override {
        auto q = Q(JOULE_ACCOUNT_SELECT "FROM accounts WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found,
                               FirstRow(q, [](const Query& row) { return AccountRow(row); }));
        if (!found) {
            return NotFound("no account " + std::to_string(id.value));
        }
        return *found;
    }
    Result<std::vector<AccountRecord>> GetAccounts(std::span<const AccountId> ids) override {
        auto q =
            Q(JOULE_ACCOUNT_SELECT "FROM accounts WHERE id IN (SELECT value FROM json_each(?))");
        q.Text(IdArray(ids));
        return CollectRows(q, [](const Query& row) { return AccountRow(row); });
    }
    Result<std::vector<AccountRecord>> ListAccounts(ProjectId project) override {
        auto q = Q(JOULE_ACCOUNT_SELECT "FROM accounts WHERE project_id = ? ORDER BY number");
        q.Int(project.value);
        return CollectRows(q, [](const Query& row) { return AccountRow(row); });
    }
    Result<std::pair<std::vector<AccountSummary>, int64_t>> PageAccounts(
        ProjectId project, const AccountQuery& query) override {
        // Unset filters match everything (?n IS NULL), so one statement per sort order serves
        // every combination; the number breaks ties so pages never overlap.
#define JOULE_ACCOUNT_WHERE                                                       \
    "FROM accounts WHERE project_id = ?1 AND (?2 IS NULL OR status = ?2) AND "    \
    "(?3 IS NULL OR prepaid_state = ?3) AND (?4 IS NULL OR relay = ?4) AND "      \
    "(?5 IS NULL OR billing_mode = ?5) AND (?6 = '' OR instr(number, ?6) > 0 OR " \
    "instr(tenant_name, ?6) > 0 OR instr(phone, ?6) > 0) "
#define JOULE_ACCOUNT_PAGE(order)                                                                 \
    "SELECT number, tenant_name, phone, status, prepaid_state, relay, keep_power, billing_mode, " \
    "opened_at, version " JOULE_ACCOUNT_WHERE "ORDER BY " order " LIMIT ?7 OFFSET ?8"
        static constexpr const char* kPages[4][2] = {
            {JOULE_ACCOUNT_PAGE("number"), JOULE_ACCOUNT_PAGE("number DESC")},
            {JOULE_ACCOUNT_PAGE("tenant_name, number"),
             JOULE_ACCOUNT_PAGE("tenant_name DESC, number DESC")},
            {JOULE_ACCOUNT_PAGE("prepaid_state, number"),
             JOULE_ACCOUNT_PAGE("prepaid_state DESC, number DESC")},
            {JOULE_ACCOUNT_PAGE("opened_at, number"),
             JOULE_ACCOUNT_PAGE("opened_at DESC, number DESC")},
        };
        auto bind = [&](Query& q) {
            auto opt = [](auto v) {
                return v ? std::optional<int64_t>(static_cast<int64_t>(*v)) : std::nullopt;
            };
            q.Int(project.value)
                .OptInt(opt(query.status))
                .OptInt(opt(query.state))
                .OptInt(opt(query.relay))
                .OptInt(opt(query.billing_mode))
                .Text(query.search)
                .Int(query.limit)
                .Int(query.offset);
        };
        int64_t total = 0;
        {
            // Without a search the total is a sum of the kept counts (migration 8): a few rows,
            // not every account of the project.
            auto q = query.search.empty()
                         ? Q("SELECT IFNULL(SUM(n), 0) FROM account_counts WHERE project_id = ?1 "
                             "AND (?2 IS NULL OR status = ?2) AND "
                             "(?3 IS NULL OR prepaid_state = ?3) AND (?4 IS NULL OR relay = ?4) "
                             "AND (?5 IS NULL OR billing_mode = ?5) AND ?6 = ?6 AND ?7 = ?7 AND "
                             "?8 = ?8")
                         : Q("SELECT COUNT(*) " JOULE_ACCOUNT_WHERE "AND ?7 = ?7 AND ?8 = ?8");
            bind(q);
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            total = row ? q.ColInt(0) : 0;
        }
        auto q = Q(kPages[static_cast<std::size_t>(query.sort)][query.descending ? 1 : 0]);
        bind(q);
        JOULE_ASSIGN_OR_RETURN(auto page, CollectRows(q, [](const Query& row) {
                                   return AccountSummary{row.ColText(0),
                                                         row.ColText(1),
                                                         row.ColText(2),
                                                         static_cast<AccountStatus>(row.ColInt(3)),
                                                         static_cast<PrepaidState>(row.ColInt(4)),
                                                         static_cast<Relay>(row.ColInt(5)),
                                                         row.ColInt(6) != 0,
                                                         static_cast<BillingMode>(row.ColInt(7)),
                                                         At(row.ColInt(8)),
                                                         row.ColInt(9)};
                               }));
#undef JOULE_ACCOUNT_PAGE
#undef JOULE_ACCOUNT_WHERE
        return std::pair{std::move(page), total};
    }
    Status InsertBinding(const MeterBinding& b) override {
        auto q =
            Q("INSERT INTO account_meters(account_id, meter_id, bound_from, bound_to, "
              "opening_total, closing_total) VALUES (?, ?, ?, NULL, ?, NULL)");
        return q.Int(b.account.value)
            .Int(b.meter.value)
            .Int(Secs(b.bound_from))
            .Int(b.opening_total.milli)
            .Run();
    }
    Status CloseBinding(MeterId meter, Instant at, Quantity closing_total) override {
        auto q =
            Q("UPDATE account_meters SET bound_to = ?, closing_total = ? "
              "WHERE meter_id = ? AND bound_to IS NULL");
        return q.Int(Secs(at)).Int(closing_total.milli).Int(meter.value).Run();
    }
    static MeterBinding BindingRow(const Query& q) {
        MeterBinding b;
        b.account = {q.ColInt(0)};
        b.meter = {q.ColInt(1)};
        b.bound_from = At(q.ColInt(2));
        if (auto t = q.ColOptInt(3)) {
            b.bound_to = At(*t);
        }
        b.opening_total = {q.ColInt(4)};
        if (auto c = q.ColOptInt(5)) {
            b.closing_total = Quantity{*c};
        }
        return b;
    }
    Result<std::optional<MeterBinding>> CurrentBinding(MeterId meter) override {
        auto q =
            Q("SELECT account_id, meter_id, bound_from, bound_to, opening_total, closing_total "
              "FROM account_meters WHERE meter_id = ? AND bound_to IS NULL");
        q.Int(meter.value);
        return FirstRow(q, [](const Query& row) { return BindingRow(row); });
    }
    Result<std::vector<MeterBinding>> BindingsOfAccount(AccountId account) override {
        auto q =
            Q("SELECT account_id, meter_id, bound_from, bound_to, opening_total, closing_total "
              "FROM account_meters WHERE account_id = ? ORDER BY bound_from, meter_id");
        q.Int(account.value);
        return CollectRows(q, [](const Query& row) { return BindingRow(row); });
    }

    // ----------------------------------------------------------- billing state and readings
    // Columns 0..20 of a billing row, as selected by the two queries below.
    static MeterBilling BillingRow(const Query& q, int c) {
        MeterBilling b;
        b.meter = {q.ColInt(c + 0)};
        b.account = {q.ColInt(c + 1)};
        b.utility = static_cast<Utility>(q.ColInt(c + 2));
        b.spec.register_modulus = {q.ColInt(c + 3)};
        b.spec.max_rate_per_hour = q.ColInt(c + 4);
        b.spec.future_tolerance = Seconds{q.ColInt(c + 5)};
        b.spec.gap_threshold = Seconds{q.ColInt(c + 6)};
        b.cursor.valid = q.ColInt(c + 7) != 0;
        b.cursor.time = At(q.ColInt(c + 8));
        b.cursor.total = {q.ColInt(c + 9)};
        b.cursor.has_per_rate = q.ColInt(c + 10) != 0;
        for (int p = 0; p < 4; ++p) {
            b.cursor.per_rate[static_cast<std::size_t>(p)] = {q.ColInt(c + 11 + p)};
        }
        b.tiers.cycle_key = static_cast<int32_t>(q.ColInt(c + 15));
        b.tiers.used = {q.ColInt(c + 16)};
        b.carry = {q.ColInt(c + 17)};
        b.billed_total = {q.ColInt(c + 18)};
        b.charged_total = {q.ColInt(c + 19)};
        b.deducted_total = {q.ColInt(c + 20)};
        return b;
    }
#define JOULE_BILLING_COLUMNS                                                                 \
    "b.meter_id, IFNULL(b.account_id, 0), mm.utility, mm.register_modulus, "                  \
    "mm.max_rate_per_hour, mm.future_tolerance_s, mm.gap_threshold_s, b.cursor_valid, "       \
    "b.cursor_time, b.cursor_total, b.has_per_rate, b.rate_sharp, b.rate_peak, b.rate_flat, " \
    "b.rate_valley, b.cycle_key, b.cycle_used, b.carry, b.billed_total, b.charged_total, "    \
    "b.deducted_total "
    Result<std::optional<MeterBilling>> LoadBilling(MeterId meter) override {
        auto q = Q("SELECT " JOULE_BILLING_COLUMNS
                   "FROM meter_billing b JOIN meters m ON m.id = b.meter_id "
                   "JOIN meter_models mm ON mm.id = m.model_id WHERE b.meter_id = ?");
        q.Int(meter.value);
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) {
            return std::optional<MeterBilling>();
        }
        return BillingRow(q, 0);
    }
// The meter's columns as MeterRow reads them (0..11), then the billing state's.
#define JOULE_METER_BILLING_SELECT                                                          \
    "SELECT m.id, m.project_id, m.code, m.model_id, IFNULL(m.gateway_id, 0), "              \
    "IFNULL(m.room_id, 0), IFNULL(m.tariff_id, 0), IFNULL(m.parent_id, 0), m.public_area, " \
    "m.bus_address, m.circuit, m.version, b.meter_id IS NOT NULL, " JOULE_BILLING_COLUMNS   \
    "FROM meters m JOIN meter_models mm ON mm.id = m.model_id "                             \
    "LEFT JOIN meter_billing b ON b.meter_id = m.id "
    static MeterWithBilling MeterBillingRow(const Query& q) {
        MeterWithBilling out{MeterRow(q), std::nullopt};
        if (q.ColInt(12) != 0) {
            out.billing = BillingRow(q, 13);
        }
        return out;
    }
    Result<std::vector<MeterWithBilling>> LoadMetersBilling(
        ProjectId project, std::span<const std::string_view> codes) override {
        auto q = Q(JOULE_METER_BILLING_SELECT
                   "WHERE m.project_id = ? AND m.code IN (SELECT value FROM json_each(?))");
        q.Int(project.value).Text(TextArray(codes));
        return CollectRows(q, MeterBillingRow);
    }
    Status SaveBilling(const MeterBilling& b) override {
        // An upsert: REPLACE would delete and re-insert the row.
        auto q =
            Q("INSERT INTO meter_billing(meter_id, account_id, cursor_valid, "
              "cursor_time, cursor_total, has_per_rate, rate_sharp, rate_peak, rate_flat, "
              "rate_valley, cycle_key, cycle_used, carry, billed_total, charged_total, "
              "deducted_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
              "ON CONFLICT(meter_id) DO UPDATE SET account_id = excluded.account_id, "
              "cursor_valid = excluded.cursor_valid, cursor_time = excluded.cursor_time, "
              "cursor_total = excluded.cursor_total, has_per_rate = excluded.has_per_rate, "
              "rate_sharp = excluded.rate_sharp, rate_peak = excluded.rate_peak, "
              "rate_flat = excluded.rate_flat, rate_valley = excluded.rate_valley, "
              "cycle_key = excluded.cycle_key, cycle_used = excluded.cycle_used, "
              "carry = excluded.carry, billed_total = excluded.billed_total, "
              "charged_total = excluded.charged_total, "
              "deducted_total = excluded.deducted_total");
        q.Int(b.meter.value)
            .IdOrNull(b.account.value)
            .Int(b.cursor.valid)
            .Int(Secs(b.cursor.time))
            .Int(b.cursor.total.milli)
            .Int(b.cursor.has_per_rate);
        for (Quantity r : b.cursor.per_rate) {
            q.Int(r.milli);
        }
        return q.Int(b.tiers.cycle_key)
            .Int(b.tiers.used.milli)
            .Int(b.carry.value)
            .Int(b.billed_total.milli)
            .Int(b.charged_total.value)
            .Int(b.deducted_total.fen)
            .Run();
    }
    Result<bool> InsertReading(const StoredReading& r) override {
        const ReadingOutcome& o = r.outcome;
        auto q =
            Q("INSERT OR IGNORE INTO readings(meter_id, meter_time, received_at, total, "
              "rate_sharp, rate_peak, rate_flat, rate_valley, verdict, reason, delta, "
              "charge_fine, deducted, account_id, source) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        q.Int(o.meter.value)
            .Int(Secs(o.input.meter_time))
            .Int(Secs(o.input.received))
            .Int(o.input.total.milli);
        for (Quantity p : o.input.per_rate) {
            q.OptInt(o.input.has_per_rate ? std::optional<int64_t>(p.milli) : std::nullopt);
        }
        JOULE_TRY(q.Int(static_cast<int64_t>(o.validated.verdict))
                      .Int(static_cast<int64_t>(o.validated.reason))
                      .Int(o.validated.delta.milli)
                      .Int(o.charge.total.value)
                      .Int(o.deducted.fen)
                      .IdOrNull(r.account.value)
                      .Int(static_cast<int64_t>(o.input.source))
                      .Run());
        return sqlite3_changes(db_) == 1;
    }
    Status AddMeterDays(std::span<const MeterDayTotal> totals) override {
        for (const MeterDayTotal& t : totals) {
            auto q =
                Q("INSERT INTO meter_days(day, meter_id, account_id, energy, deducted, readings) "
                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, meter_id, account_id) DO UPDATE SET "
                  "energy = energy + excluded.energy, deducted = deducted + excluded.deducted, "
                  "readings = readings + excluded.readings");
            JOULE_TRY(q.Int(t.day)
                          .Int(t.meter.value)
                          .Int(t.account.value)
                          .Int(t.energy.milli)
                          .Int(t.deducted.fen)
                          .Int(t.readings)
                          .Run());
        }
        return {};
    }
#define JOULE_READING_SELECT                                                              \
    "SELECT meter_id, meter_time, received_at, total, rate_sharp, rate_peak, rate_flat, " \
    "rate_valley, verdict, reason, delta, charge_fine, deducted, IFNULL(account_id, 0), " \
    "source FROM readings "
    static StoredReading ReadingRow(const Query& q) {
        StoredReading s;
        ReadingOutcome& o = s.outcome;
        o.meter = {q.ColInt(0)};
        o.input.meter_time = At(q.ColInt(1));
        o.input.received = At(q.ColInt(2));
        o.input.total = {q.ColInt(3)};
        o.input.has_per_rate = !q.ColNull(4);
        for (int p = 0; p < 4; ++p) {
            o.input.per_rate[static_cast<std::size_t>(p)] = {q.ColInt(4 + p)};
        }
        o.validated.verdict = static_cast<Verdict>(q.ColInt(8));
        o.validated.reason = static_cast<ReadingReason>(q.ColInt(9));
        o.validated.delta = {q.ColInt(10)};
        o.charge.total = {q.ColInt(11)};
        o.deducted = {q.ColInt(12)};
        s.account = {q.ColInt(13)};
        o.input.source = static_cast<ReadingSource>(q.ColInt(14));
        return s;
    }
    Result<std::vector<StoredReading>> ListReadings(MeterId meter, int limit) override {
        auto q = Q(JOULE_READING_SELECT "WHERE meter_id = ? ORDER BY meter_time DESC LIMIT ?");
        q.Int(meter.value).Int(limit);
        return CollectRows(q, ReadingRow);
    }
    Result<std::vector<StoredReading>> ListAcceptedReadings(MeterId meter, Instant after,
                                                            Instant until) override {
        auto q = Q(JOULE_READING_SELECT
                   "WHERE meter_id = ? AND meter_time > ? AND meter_time <= ? AND verdict = ? "
                   "ORDER BY meter_time");
        q.Int(meter.value)
            .Int(Secs(after))
            .Int(Secs(until))
            .Int(static_cast<int64_t>(Verdict::kAccepted));
        return CollectRows(q, ReadingRow);
    }
    Result<std::optional<StoredReading>> LastAcceptedReading(MeterId meter,
                                                             Instant at_or_before) override {
        auto q = Q(JOULE_READING_SELECT
                   "WHERE meter_id = ? AND meter_time <= ? AND verdict = ? "
                   "ORDER BY meter_time DESC LIMIT 1");
        q.Int(meter.value).Int(Secs(at_or_before)).Int(static_cast<int64_t>(Verdict::kAccepted));
        return FirstRow(q, ReadingRow);
    }
#undef JOULE_READING_SELECT

    // ----------------------------------------------------------- ledger
    static LedgerAccount LedgerRow(const Query& q) {
        LedgerAccount a;
        a.id = {q.ColInt(0)};
        a.kind = static_cast<LedgerAccountKind>(q.ColInt(1));
        a.owner = {q.ColInt(2)};
        a.priority = static_cast<int32_t>(q.ColInt(3));
        if (auto e = q.ColOptInt(4)) {
            a.expires_at = At(*e);
        }
        a.balance = {q.ColInt(5)};
        a.code = q.ColText(6);
        return a;
    }
    Result<LedgerAccountId> InsertLedgerAccount(const LedgerAccount& a) override {
        auto q =
            Q("INSERT INTO ledger_accounts(kind, code, owner_account_id, priority, expires_at, "
              "balance) VALUES (?, NULL, ?, ?, ?, 0)");
        JOULE_TRY(
            q.Int(static_cast<int64_t>(a.kind))
                .IdOrNull(a.owner.value)
                .Int(a.priority)
                .OptInt(a.expires_at ? std::optional<int64_t>(Secs(*a.expires_at)) : std::nullopt)
                .Run());
        return LedgerAccountId{sqlite3_last_insert_rowid(db_)};
    }
    Status SetLedgerAccountOwner(LedgerAccountId id, AccountId owner) override {
        auto q =
            Q("UPDATE ledger_accounts SET owner_account_id = ? WHERE id = ? AND "
              "owner_account_id IS NULL");
        return q.Int(owner.value).Int(id.value).Run();
    }
    Result<LedgerAccountId> SystemLedgerAccount(LedgerAccountKind kind,
                                                std::string_view code) override {
        {
            auto q = Q("SELECT id FROM ledger_accounts WHERE kind = ? AND code = ?");
            q.Int(static_cast<int64_t>(kind)).Text(code);
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            if (row) {
                return LedgerAccountId{q.ColInt(0)};
            }
        }
        auto q = Q("INSERT INTO ledger_accounts(kind, code, balance) VALUES (?, ?, 0)");
        JOULE_TRY(q.Int(static_cast<int64_t>(kind)).Text(code).Run());
        return LedgerAccountId{sqlite3_last_insert_rowid(db_)};
    }
    Result<LedgerAccount> GetLedgerAccount(LedgerAccountId id) override {
        auto q =
            Q("SELECT id, kind, IFNULL(owner_account_id, 0), priority, expires_at, balance, "
              "IFNULL(code, '') "
              "FROM ledger_accounts WHERE id = ?");
        q.Int(id.value);
        JOULE_ASSIGN_OR_RETURN(auto found,
                               FirstRow(q, [](const Query& row) { return LedgerRow(row); }));
        if (!found) {
            return NotFound("no ledger account " + std::to_string(id.value));
        }
        return *found;
    }
    Result<std::vector<LedgerAccount>> LedgerAccountsOf(AccountId owner) override {
        auto q =
            Q("SELECT id, kind, IFNULL(owner_account_id, 0), priority, expires_at, balance, "
              "IFNULL(code, '') "
              "FROM ledger_accounts WHERE owner_account_id = ? ORDER BY id");
        q.Int(owner.value);
        return CollectRows(q, [](const Query& row) { return LedgerRow(row); });
    }
    Result<std::vector<LedgerAccount>> LedgerAccountsOfOwners(
        std::span<const AccountId> owners) override {
        auto q =
            Q("SELECT id, kind, IFNULL(owner_account_id, 0), priority, expires_at, balance, "
              "IFNULL(code, '') FROM ledger_accounts "
              "WHERE owner_account_id IN (SELECT value FROM json_each(?)) "
              "ORDER BY owner_account_id, id");
        q.Text(IdArray(owners));
        return CollectRows(q, [](const Query& row) { return LedgerRow(row); });
    }
    Result<std::optional<Transfer>> FindTransfer(std::string_view id) override {
        auto q =
            Q("SELECT id, debit_id, credit_id, amount, code, ref, actor, at FROM transfers "
              "WHERE id = ?");
        q.Text(id);
        return FirstRow(q, [](const Query& row) { return TransferRow(row); });
    }
    Status InsertTransfer(const Transfer& t) override {
        JOULE_ASSERT(t.amount.fen > 0, "a transfer amount must be positive");
        {
            // Checked before any balance moves, so a rejected transfer leaves the unit of work
            // as it was (the caller may go on and commit the rest).
            auto exists = Q("SELECT 1 FROM transfers WHERE id = ?");
            exists.Text(t.id);
            JOULE_ASSIGN_OR_RETURN(bool row, exists.Step());
            if (row) {
                return MakeError(ErrorCode::kAlreadyExists,
                                 "a transfer with id '" + t.id + "' exists", "id");
            }
        }
        return AppendTransfers(std::span<const Transfer>(&t, 1), {});
    }
    Status AppendTransfers(std::span<const Transfer> transfers,
                           std::span<const LedgerAccount> known) override {
        if (transfers.empty()) {
            return {};
        }
        std::unordered_map<int64_t, int64_t> balances;  // ledger account -> running balance
        for (const LedgerAccount& k : known) {
            balances.emplace(k.id.value, k.balance.fen);
        }
        auto balance_of = [&](LedgerAccountId id) -> Result<int64_t*> {
            auto it = balances.find(id.value);
            if (it == balances.end()) {
                auto q = Q("SELECT balance FROM ledger_accounts WHERE id = ?");
                q.Int(id.value);
                JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
                if (!row) {
                    return NotFound("no ledger account " + std::to_string(id.value));
                }
                it = balances.emplace(id.value, q.ColInt(0)).first;
            }
            return &it->second;
        };
        for (const Transfer& t : transfers) {
            JOULE_ASSERT(t.amount.fen > 0, "a transfer amount must be positive");
            JOULE_ASSIGN_OR_RETURN(int64_t * debit, balance_of(t.debit));
            *debit -= t.amount.fen;
            const int64_t debit_after = *debit;
            JOULE_ASSIGN_OR_RETURN(int64_t * credit, balance_of(t.credit));
            *credit += t.amount.fen;
            auto q =
                Q("INSERT INTO transfers(id, debit_id, credit_id, amount, code, ref, actor, "
                  "at, debit_balance_after, credit_balance_after) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            JOULE_TRY(q.Text(t.id)
                          .Int(t.debit.value)
                          .Int(t.credit.value)
                          .Int(t.amount.fen)
                          .Int(static_cast<int64_t>(t.code))
                          .Text(t.ref)
                          .Text(t.actor)
                          .Int(Secs(t.at))
                          .Int(debit_after)
                          .Int(*credit)
                          .Run());
            JOULE_TRY(AddToSalesDay(t));
        }
        for (const auto& [id, balance] : balances) {
            auto q = Q("UPDATE ledger_accounts SET balance = ? WHERE id = ?");
            JOULE_TRY(q.Int(balance).Int(id).Run());
        }
        return {};
    }
    // The day's sales of a tenant account (migration 9's sales_days): top-ups and subsidies
    // credit the tenant, refunds debit it; the other side is the channel. Kept here rather than
    // by a trigger on transfers, which cost every deduction as much as its row (migration 23).
    Status AddToSalesDay(const Transfer& t) {
        if (t.code != TransferCode::kTopUp && t.code != TransferCode::kRefund &&
            t.code != TransferCode::kSubsidy) {
            return {};
        }
        const bool refund = t.code == TransferCode::kRefund;
        auto q =
            Q("INSERT INTO sales_days(project_id, day, account_id, code, channel, amount, "
              "transfers) "
              "SELECT a.project_id, (?1 + p.day_offset_s) / 86400, a.id, ?2, "
              "COALESCE(other.code, ''), ?3, 1 "
              "FROM ledger_accounts tenant JOIN accounts a ON a.id = tenant.owner_account_id "
              "JOIN projects p ON p.id = a.project_id "
              "LEFT JOIN ledger_accounts other ON other.id = ?5 WHERE tenant.id = ?4 "
              "ON CONFLICT (project_id, day, account_id, code, channel) DO UPDATE SET "
              "amount = amount + excluded.amount, transfers = transfers + 1");
        return q.Int(Secs(t.at))
            .Int(static_cast<int64_t>(t.code))
            .Int(t.amount.fen)
            .Int(refund ? t.debit.value : t.credit.value)
            .Int(refund ? t.credit.value : t.debit.value)
            .Run();
    }
    Result<std::vector<Transfer>> TransfersOf(AccountId owner, int limit) override {
        auto q =
            Q("SELECT t.id, t.debit_id, t.credit_id, t.amount, t.code, t.ref, t.actor, t.at "
              "FROM transfers t WHERE t.debit_id IN (SELECT id FROM ledger_accounts WHERE "
              "owner_account_id = ?1) OR t.credit_id IN (SELECT id FROM ledger_accounts "
              "WHERE owner_account_id = ?1) ORDER BY t.seq DESC LIMIT ?2");
        q.Int(owner.value).Int(limit);
        return CollectRows(q, [](const Query& row) { return TransferRow(row); });
    }
    Result<std::vector<Transfer>> ListTransfers(int64_t after_seq, int limit) override {
        auto q =
            Q("SELECT id, debit_id, credit_id, amount, code, ref, actor, at FROM transfers "
              "WHERE seq > ? ORDER BY seq LIMIT ?");
        q.Int(after_seq).Int(limit);
        return CollectRows(q, [](const Query& row) { return TransferRow(row); });
    }
    Result<LedgerSummary> SummarizeLedger() override {
        LedgerSummary s;
        {
            auto q = Q("SELECT COUNT(*) FROM transfers");
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            s.transfers = row ? q.ColInt(0) : 0;
        }
        auto q = Q("SELECT kind, SUM(balance) FROM ledger_accounts GROUP BY kind ORDER BY kind");
        while (true) {
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            if (!row) {
                break;
            }
            const Money m{q.ColInt(1)};
            s.by_kind.emplace_back(static_cast<LedgerAccountKind>(q.ColInt(0)), m);
            s.sum_of_balances += m;
        }
        return s;
    }
    Result<int64_t> CountBalanceMismatches() override {
        auto q =
            Q("SELECT COUNT(*) FROM ledger_accounts la WHERE la.balance != "
              "IFNULL((SELECT SUM(amount) FROM transfers WHERE credit_id = la.id), 0) - "
              "IFNULL((SELECT SUM(amount) FROM transfers WHERE debit_id = la.id), 0)");
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        return row ? q.ColInt(0) : 0;
    }

    // ----------------------------------------------------------- alarms, commands, outbox, log
    Status RaiseAlarm(const AlarmRecord& a) override {
        auto q =
            Q("INSERT OR IGNORE INTO alarms(project_id, account_id, meter_id, gateway_id, kind, "
              "open, raised_at, detail) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
        return q.Int(a.project.value)
            .Int(a.account.value)
            .Int(a.meter.value)
            .Int(a.gateway.value)
            .Int(static_cast<int64_t>(a.kind))
            .Int(Secs(a.raised_at))
            .Text(a.detail)
            .Run();
    }
    Status ClearAlarm(AccountId account, MeterId meter, AlarmKind kind, Instant at) override {
        auto q =
            Q("UPDATE alarms SET open = 0, cleared_at = ? WHERE account_id = ? AND "
              "meter_id = ? AND gateway_id = 0 AND kind = ? AND open = 1");
        return q.Int(Secs(at))
            .Int(account.value)
            .Int(meter.value)
            .Int(static_cast<int64_t>(kind))
            .Run();
    }
    Status ClearGatewayAlarm(GatewayId gateway, AlarmKind kind, Instant at) override {
        auto q =
            Q("UPDATE alarms SET open = 0, cleared_at = ? WHERE gateway_id = ? AND kind = ? "
              "AND open = 1");
        return q.Int(Secs(at)).Int(gateway.value).Int(static_cast<int64_t>(kind)).Run();
    }
    Result<std::vector<AlarmRecord>> ListAlarms(ProjectId project, bool open_only) override {
        static const std::string kSql =
            std::string(kAlarmColumns) + "WHERE project_id = ? AND (open = 1 OR ? = 0) ORDER BY id";
        auto q = Q(kSql.c_str());
        q.Int(project.value).Int(open_only);
        return CollectRows(q, AlarmRow);
    }
    Result<std::optional<AlarmRecord>> GetAlarm(int64_t id) override {
        static const std::string kSql = std::string(kAlarmColumns) + "WHERE id = ?";
        auto q = Q(kSql.c_str());
        q.Int(id);
        return FirstRow(q, AlarmRow);
    }
    Status AcknowledgeAlarm(int64_t id, std::string_view by, Instant at) override {
        auto q =
            Q("UPDATE alarms SET acknowledged_at = ?, acknowledged_by = ? "
              "WHERE id = ? AND open = 1 AND acknowledged_at IS NULL");
        return q.Int(Secs(at)).Text(by).Int(id).Run();
    }
    Status ClearAlarmById(int64_t id, Instant at) override {
        auto q = Q("UPDATE alarms SET open = 0, cleared_at = ? WHERE id = ? AND open = 1");
        return q.Int(Secs(at)).Int(id).Run();
    }
    Result<int64_t> InsertCommand(const CommandRecord& c) override {
        JOULE_ASSIGN_OR_RETURN(MeterRecord meter, GetMeter(c.meter));
        auto q =
            Q("INSERT INTO commands(project_id, meter_id, account_id, kind, state, reason, "
              "actor, created_at, params, next_attempt_at, expires_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        JOULE_TRY(q.Int(meter.project.value)
                      .Int(c.meter.value)
                      .Int(c.account.value)
                      .Text(c.kind)
                      .Int(static_cast<int64_t>(c.state))
                      .Text(c.reason)
                      .Text(c.actor)
                      .Int(Secs(c.created_at))
                      .Text(c.params)
                      .Int(Secs(c.next_attempt_at))
                      .Int(Secs(c.expires_at))
                      .Run());
        return sqlite3_last_insert_rowid(db_);
    }
    static CommandRecord CommandRow(const Query& q) {
        CommandRecord c;
        c.id = q.ColInt(0);
        c.meter = {q.ColInt(1)};
        c.account = {q.ColInt(2)};
        c.kind = q.ColText(3);
        c.state = static_cast<CommandState>(q.ColInt(4));
        c.reason = q.ColText(5);
        c.actor = q.ColText(6);
        c.created_at = At(q.ColInt(7));
        c.params = q.ColText(8);
        c.attempts = q.ColInt(9);
        c.next_attempt_at = At(q.ColInt(10));
        c.expires_at = At(q.ColInt(11));
        if (auto f = q.ColOptInt(12))
            c.finished_at = At(*f);
        c.error = q.ColText(13);
        return c;
    }
    Result<std::vector<CommandRecord>> ListCommands(ProjectId project, int limit) override {
        auto q = Q(JOULE_COMMAND_SELECT "WHERE project_id = ? ORDER BY id DESC LIMIT ?");
        q.Int(project.value).Int(limit);
        return CollectRows(q, [](const Query& row) { return CommandRow(row); });
    }
    Result<CommandRecord> GetCommand(int64_t id) override {
        auto q = Q(JOULE_COMMAND_SELECT "WHERE id = ?");
        q.Int(id);
        JOULE_ASSIGN_OR_RETURN(auto found,
                               FirstRow(q, [](const Query& row) { return CommandRow(row); }));
        if (!found) {
            return NotFound("no command " + std::to_string(id));
        }
        return *found;
    }
    Result<std::vector<CommandRecord>> ListDueCommands(Instant now, int limit) override {
        auto q = Q(JOULE_COMMAND_SELECT
                   "WHERE state IN (1, 2) AND next_attempt_at <= ? ORDER BY id LIMIT ?");
        q.Int(Secs(now)).Int(limit);
        return CollectRows(q, [](const Query& row) { return CommandRow(row); });
    }
    Status UpdateCommandDelivery(const CommandRecord& c) override {
        auto q =
            Q("UPDATE commands SET state = ?, attempts = ?, next_attempt_at = ?, "
              "finished_at = ?, error = ? WHERE id = ?");
        return q.Int(static_cast<int64_t>(c.state))
            .Int(c.attempts)
            .Int(Secs(c.next_attempt_at))
            .OptInt(c.finished_at ? std::optional<int64_t>(Secs(*c.finished_at)) : std::nullopt)
            .Text(c.error)
            .Int(c.id)
            .Run();
    }
    Result<std::optional<CommandRecord>> LastCommand(
        MeterId meter, std::span<const std::string_view> kinds) override {
        auto q = Q(JOULE_COMMAND_SELECT
                   "WHERE meter_id = ? AND kind IN (SELECT value FROM json_each(?)) "
                   "ORDER BY id DESC LIMIT 1");
        q.Int(meter.value).Text(TextArray(kinds));
        return FirstRow(q, [](const Query& row) { return CommandRow(row); });
    }
    Result<std::optional<CommandRecord>> FirstOpenCommand(MeterId meter,
                                                          std::string_view kind) override {
        auto q = Q(JOULE_COMMAND_SELECT
                   "WHERE meter_id = ? AND kind = ? AND state IN (1, 2) ORDER BY id LIMIT 1");
        q.Int(meter.value).Text(kind);
        return FirstRow(q, [](const Query& row) { return CommandRow(row); });
    }
    Status InsertOutbox(std::string_view topic, std::string_view payload, Instant at) override {
        auto q = Q("INSERT INTO outbox(topic, payload, created_at) VALUES (?, ?, ?)");
        return q.Text(topic).Text(payload).Int(Secs(at)).Run();
    }
    Status InsertOperation(const OperationRecord& op) override { return InsertOperationRow(op); }

    // --- payments [PAY-2]
    PaymentTx& Payments() override { return *this; }
    NotificationTx& Notifications() override { return notifications_; }
    TenantTx& Tenants() override { return tenants_; }

    Result<int64_t> InsertPaymentOrder(const PaymentOrderRecord& o) override {
        auto q =
            Q("INSERT INTO payment_orders(project_id, account_id, order_no, provider, "
              "channel, amount_fen, state, created_at, created_by) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
        auto inserted = q.Int(o.project.value)
                            .Int(o.account.value)
                            .Text(o.order_no)
                            .Text(o.provider)
                            .Text(o.channel)
                            .Int(o.amount.fen)
                            .Int(static_cast<int64_t>(o.state))
                            .Int(Secs(o.created_at))
                            .Text(o.created_by)
                            .Run();
        if (!inserted) {
            if (inserted.error().code == ErrorCode::kAlreadyExists) {
                return MakeError(ErrorCode::kAlreadyExists, "order number taken", "order_no");
            }
            return std::unexpected(inserted.error());
        }
        return sqlite3_last_insert_rowid(db_);
    }
    static PaymentOrderRecord PaymentOrderRow(const Query& r) {
        PaymentOrderRecord o;
        o.id = r.ColInt(0);
        o.project = ProjectId{r.ColInt(1)};
        o.account = AccountId{r.ColInt(2)};
        o.order_no = r.ColText(3);
        o.provider = r.ColText(4);
        o.channel = r.ColText(5);
        o.amount = Money{r.ColInt(6)};
        o.state = static_cast<PaymentOrderState>(r.ColInt(7));
        o.created_at = At(r.ColInt(8));
        if (auto paid = r.ColOptInt(9)) {
            o.paid_at = At(*paid);
        }
        o.transaction_id = r.ColText(10);
        o.payer = r.ColText(11);
        o.created_by = r.ColText(12);
        return o;
    }
#define JOULE_PAYMENT_ORDER_COLUMNS                                                            \
    "id, project_id, account_id, order_no, provider, channel, amount_fen, state, created_at, " \
    "paid_at, transaction_id, payer, created_by"
    Result<std::optional<PaymentOrderRecord>> FindPaymentOrder(std::string_view order_no) override {
        auto q = Q("SELECT " JOULE_PAYMENT_ORDER_COLUMNS " FROM payment_orders WHERE order_no = ?");
        q.Text(order_no);
        return sqlite::FirstRow(q, PaymentOrderRow);
    }
    Status MarkPaymentOrderPaid(int64_t id, std::string_view transaction_id, Instant paid_at,
                                std::string_view payer) override {
        auto q =
            Q("UPDATE payment_orders SET state = 1, transaction_id = ?, paid_at = ?, "
              "payer = ? WHERE id = ? AND state != 1");
        auto updated = q.Text(transaction_id).Int(Secs(paid_at)).Text(payer).Int(id).Run();
        if (!updated) {
            if (updated.error().code == ErrorCode::kAlreadyExists) {
                return MakeError(ErrorCode::kAlreadyExists, "another order has this transaction",
                                 "transaction_id");
            }
            return updated;
        }
        if (sqlite3_changes(db_) != 1) {
            return FailedPrecondition("the order is paid already", "order_no");
        }
        return {};
    }
    Status ClosePaymentOrder(int64_t id) override {
        auto q = Q("UPDATE payment_orders SET state = 2 WHERE id = ? AND state = 0");
        return q.Int(id).Run();
    }
    Result<std::vector<PaymentOrderRecord>> ListPaymentOrders(ProjectId project, AccountId account,
                                                              int limit) override {
        auto q = Q("SELECT " JOULE_PAYMENT_ORDER_COLUMNS
                   " FROM payment_orders WHERE project_id = ? AND (? = 0 OR account_id = ?) "
                   "ORDER BY id DESC LIMIT ?");
        q.Int(project.value).Int(account.value).Int(account.value).Int(limit);
        return CollectRows(q, PaymentOrderRow);
    }
    Status InsertPaymentNotification(const PaymentNotificationRecord& n) override {
        auto q =
            Q("INSERT INTO payment_notifications(received_at, provider, order_no, "
              "transaction_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)");
        return q.Int(Secs(n.received_at))
            .Text(n.provider)
            .Text(n.order_no)
            .Text(n.transaction_id)
            .Text(n.outcome)
            .Text(n.detail)
            .Run();
    }
    Result<std::vector<PaymentOrderRecord>> PaidOrdersBetween(ProjectId project,
                                                              std::string_view provider,
                                                              Instant from, Instant to) override {
        auto q = Q("SELECT " JOULE_PAYMENT_ORDER_COLUMNS
                   " FROM payment_orders WHERE project_id = ? AND provider = ? AND state = 1 "
                   "AND paid_at >= ? AND paid_at < ? ORDER BY paid_at, id");
        q.Int(project.value).Text(provider).Int(Secs(from)).Int(Secs(to));
        return CollectRows(q, PaymentOrderRow);
    }
    Result<std::vector<PaymentOrderRecord>> OrdersToQuery(Instant created_before,
                                                          Instant created_after,
                                                          Instant queried_before,
                                                          int limit) override {
        auto q = Q("SELECT " JOULE_PAYMENT_ORDER_COLUMNS
                   " FROM payment_orders WHERE state = 0 AND created_at <= ? AND created_at > ? "
                   "AND (queried_at IS NULL OR queried_at <= ?) ORDER BY created_at, id LIMIT ?");
        q.Int(Secs(created_before)).Int(Secs(created_after)).Int(Secs(queried_before)).Int(limit);
        return CollectRows(q, PaymentOrderRow);
    }
    Status MarkOrderQueried(int64_t id, Instant at) override {
        auto q = Q("UPDATE payment_orders SET queried_at = ?, queries = queries + 1 WHERE id = ?");
        return q.Int(Secs(at)).Int(id).Run();
    }
    Result<int64_t> InsertRefund(const PaymentRefundRecord& r) override {
        auto q =
            Q("INSERT INTO payment_refunds(refund_no, client_key, order_id, project_id, "
              "account_id, provider, amount_fen, state, provider_refund_id, reason, requested_by, "
              "requested_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        auto inserted = q.Text(r.refund_no)
                            .Text(r.client_key)
                            .Int(r.order_id)
                            .Int(r.project.value)
                            .Int(r.account.value)
                            .Text(r.provider)
                            .Int(r.amount.fen)
                            .Int(static_cast<int64_t>(r.state))
                            .Text(r.provider_refund_id)
                            .Text(r.reason)
                            .Text(r.requested_by)
                            .Int(Secs(r.requested_at))
                            .Text(r.detail)
                            .Run();
        if (!inserted) {
            if (inserted.error().code == ErrorCode::kAlreadyExists) {
                return MakeError(ErrorCode::kAlreadyExists, "refund number or key taken",
                                 "Idempotency-Key");
            }
            return std::unexpected(inserted.error());
        }
        return sqlite3_last_insert_rowid(db_);
    }
    static PaymentRefundRecord RefundRow(const Query& r) {
        PaymentRefundRecord f;
        f.id = r.ColInt(0);
        f.refund_no = r.ColText(1);
        f.client_key = r.ColText(2);
        f.order_id = r.ColInt(3);
        f.order_no = r.ColText(4);
        f.project = ProjectId{r.ColInt(5)};
        f.account = AccountId{r.ColInt(6)};
        f.provider = r.ColText(7);
        f.amount = Money{r.ColInt(8)};
        f.state = static_cast<RefundState>(r.ColInt(9));
        f.provider_refund_id = r.ColText(10);
        f.reason = r.ColText(11);
        f.requested_by = r.ColText(12);
        f.requested_at = At(r.ColInt(13));
        if (auto at = r.ColOptInt(14)) {
            f.finished_at = At(*at);
        }
        f.detail = r.ColText(15);
        if (auto at = r.ColOptInt(16)) {
            f.tried_at = At(*at);
        }
        f.tries = r.ColInt(17);
        return f;
    }
#define JOULE_REFUND_COLUMNS                                                                \
    "f.id, f.refund_no, f.client_key, f.order_id, o.order_no, f.project_id, f.account_id, " \
    "f.provider, f.amount_fen, f.state, f.provider_refund_id, f.reason, f.requested_by, "   \
    "f.requested_at, f.finished_at, f.detail, f.tried_at, f.tries FROM payment_refunds f "  \
    "JOIN payment_orders o ON o.id = f.order_id"
    Result<std::optional<PaymentRefundRecord>> FindRefund(std::string_view refund_no) override {
        auto q = Q("SELECT " JOULE_REFUND_COLUMNS " WHERE f.refund_no = ?");
        q.Text(refund_no);
        return sqlite::FirstRow(q, RefundRow);
    }
    Result<std::optional<PaymentRefundRecord>> FindRefundByKey(
        ProjectId project, std::string_view client_key) override {
        auto q = Q("SELECT " JOULE_REFUND_COLUMNS " WHERE f.project_id = ? AND f.client_key = ?");
        q.Int(project.value).Text(client_key);
        return sqlite::FirstRow(q, RefundRow);
    }
    Result<std::vector<PaymentRefundRecord>> RefundsOfOrder(int64_t order_id) override {
        auto q = Q("SELECT " JOULE_REFUND_COLUMNS " WHERE f.order_id = ? ORDER BY f.id");
        q.Int(order_id);
        return CollectRows(q, RefundRow);
    }
    Status UpdateRefund(const PaymentRefundRecord& r) override {
        auto q =
            Q("UPDATE payment_refunds SET state = ?, provider_refund_id = ?, finished_at = ?, "
              "detail = ?, tried_at = ?, tries = ? WHERE id = ?");
        return q.Int(static_cast<int64_t>(r.state))
            .Text(r.provider_refund_id)
            .OptInt(r.finished_at ? std::optional<int64_t>(Secs(*r.finished_at)) : std::nullopt)
            .Text(r.detail)
            .OptInt(r.tried_at ? std::optional<int64_t>(Secs(*r.tried_at)) : std::nullopt)
            .Int(r.tries)
            .Int(r.id)
            .Run();
    }
    Result<std::vector<PaymentRefundRecord>> RefundsToRetry(Instant tried_before,
                                                            int limit) override {
        auto q = Q("SELECT " JOULE_REFUND_COLUMNS
                   " WHERE f.state IN (0, 1) AND COALESCE(f.tried_at, f.requested_at) <= ? "
                   "ORDER BY f.requested_at, f.id LIMIT ?");
        q.Int(Secs(tried_before)).Int(limit);
        return CollectRows(q, RefundRow);
    }
    Result<int64_t> InsertReconciliation(const ReconciliationRun& run,
                                         const std::vector<Mismatch>& mismatches) override {
        auto q =
            Q("INSERT INTO reconciliations(project_id, provider, bill_date, imported_at, "
              "imported_by, file_sha256, lines, other_projects, matched, mismatches, "
              "statement_paid_fen, statement_refunded_fen, credited_fen) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        JOULE_TRY(q.Int(run.project.value)
                      .Text(run.provider)
                      .Text(run.bill_date)
                      .Int(Secs(run.imported_at))
                      .Text(run.imported_by)
                      .Text(run.file_sha256)
                      .Int(run.lines)
                      .Int(run.other_projects)
                      .Int(run.matched)
                      .Int(run.mismatches)
                      .Int(run.statement_paid.fen)
                      .Int(run.statement_refunded.fen)
                      .Int(run.credited.fen)
                      .Run());
        const int64_t id = sqlite3_last_insert_rowid(db_);
        const auto fen = [](const std::optional<Money>& m) {
            return m ? std::optional<int64_t>(m->fen) : std::nullopt;
        };
        for (const Mismatch& m : mismatches) {
            auto row =
                Q("INSERT INTO reconciliation_mismatches(reconciliation_id, kind, order_no, "
                  "transaction_id, account_id, statement_amount_fen, our_amount_fen, "
                  "statement_status, our_status, row, detail) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            JOULE_TRY(row.Int(id)
                          .Text(MismatchKindName(m.kind))
                          .Text(m.order_no)
                          .Text(m.transaction_id)
                          .Int(m.account.value)
                          .OptInt(fen(m.statement_amount))
                          .OptInt(fen(m.our_amount))
                          .Text(m.statement_status)
                          .Text(m.our_status)
                          .Int(m.row)
                          .Text(m.detail)
                          .Run());
        }
        return id;
    }
    static ReconciliationRun ReconciliationRow(const Query& r) {
        ReconciliationRun run;
        run.id = r.ColInt(0);
        run.project = ProjectId{r.ColInt(1)};
        run.provider = r.ColText(2);
        run.bill_date = r.ColText(3);
        run.imported_at = At(r.ColInt(4));
        run.imported_by = r.ColText(5);
        run.file_sha256 = r.ColText(6);
        run.lines = r.ColInt(7);
        run.other_projects = r.ColInt(8);
        run.matched = r.ColInt(9);
        run.mismatches = r.ColInt(10);
        run.statement_paid = Money{r.ColInt(11)};
        run.statement_refunded = Money{r.ColInt(12)};
        run.credited = Money{r.ColInt(13)};
        return run;
    }
#define JOULE_RECONCILIATION_COLUMNS                                                      \
    "id, project_id, provider, bill_date, imported_at, imported_by, file_sha256, lines, " \
    "other_projects, matched, mismatches, statement_paid_fen, statement_refunded_fen, "   \
    "credited_fen"
    Result<std::vector<ReconciliationRun>> ListReconciliations(ProjectId project,
                                                               int limit) override {
        auto q = Q("SELECT " JOULE_RECONCILIATION_COLUMNS
                   " FROM reconciliations WHERE project_id = ? ORDER BY id DESC LIMIT ?");
        q.Int(project.value).Int(limit);
        return CollectRows(q, ReconciliationRow);
    }
    Result<std::optional<ReconciliationRun>> GetReconciliation(int64_t id) override {
        auto q = Q("SELECT " JOULE_RECONCILIATION_COLUMNS " FROM reconciliations WHERE id = ?");
        q.Int(id);
        return sqlite::FirstRow(q, ReconciliationRow);
    }
    Result<std::optional<StatementDownload>> FindStatementDownload(
        std::string_view provider, std::string_view bill_date) override {
        auto q =
            Q("SELECT provider, bill_date, done, attempts, last_attempt_at, last_error, "
              "file_sha256, lines, alarmed FROM statement_downloads "
              "WHERE provider = ? AND bill_date = ?");
        q.Text(provider).Text(bill_date);
        return sqlite::FirstRow(q, [](const Query& r) {
            StatementDownload d;
            d.provider = r.ColText(0);
            d.bill_date = r.ColText(1);
            d.done = r.ColInt(2) != 0;
            d.attempts = r.ColInt(3);
            d.last_attempt_at = At(r.ColInt(4));
            d.last_error = r.ColText(5);
            d.file_sha256 = r.ColText(6);
            d.lines = r.ColInt(7);
            d.alarmed = r.ColInt(8) != 0;
            return d;
        });
    }
    Result<std::optional<Instant>> FirstOrderAt(std::string_view provider) override {
        auto q = Q("SELECT MIN(created_at) FROM payment_orders WHERE provider = ?");
        q.Text(provider);
        JOULE_ASSIGN_OR_RETURN(auto first, sqlite::FirstRow(q, [](const Query& r) {
                                   return r.ColNull(0) ? std::optional<Instant>()
                                                       : std::optional<Instant>(At(r.ColInt(0)));
                               }));
        return first ? *first : std::nullopt;
    }
    Status SaveStatementDownload(const StatementDownload& d) override {
        auto q =
            Q("INSERT INTO statement_downloads(provider, bill_date, done, attempts, "
              "last_attempt_at, last_error, file_sha256, lines, alarmed) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(provider, bill_date) DO UPDATE SET "
              "done = excluded.done, attempts = excluded.attempts, "
              "last_attempt_at = excluded.last_attempt_at, last_error = excluded.last_error, "
              "file_sha256 = excluded.file_sha256, lines = excluded.lines, "
              "alarmed = excluded.alarmed");
        return q.Text(d.provider)
            .Text(d.bill_date)
            .Int(d.done ? 1 : 0)
            .Int(d.attempts)
            .Int(Secs(d.last_attempt_at))
            .Text(d.last_error)
            .Text(d.file_sha256)
            .Int(d.lines)
            .Int(d.alarmed ? 1 : 0)
            .Run();
    }
    Result<std::vector<Mismatch>> ListMismatches(int64_t run) override {
        auto q =
            Q("SELECT kind, order_no, transaction_id, account_id, statement_amount_fen, "
              "our_amount_fen, statement_status, our_status, row, detail "
              "FROM reconciliation_mismatches WHERE reconciliation_id = ? ORDER BY id");
        q.Int(run);
        return CollectRows(q, [](const Query& r) {
            Mismatch m;
            const std::string kind = r.ColText(0);
            for (uint8_t k = 0; k <= static_cast<uint8_t>(MismatchKind::kDuplicateLine); ++k) {
                if (MismatchKindName(static_cast<MismatchKind>(k)) == kind) {
                    m.kind = static_cast<MismatchKind>(k);
                }
            }
            m.order_no = r.ColText(1);
            m.transaction_id = r.ColText(2);
            m.account = AccountId{r.ColInt(3)};
            if (auto a = r.ColOptInt(4)) {
                m.statement_amount = Money{*a};
            }
            if (auto a = r.ColOptInt(5)) {
                m.our_amount = Money{*a};
            }
            m.statement_status = r.ColText(6);
            m.our_status = r.ColText(7);
            m.row = r.ColInt(8);
            m.detail = r.ColText(9);
            return m;
        });
    }
    Result<std::vector<PaymentNotificationRecord>> ListPaymentNotifications(
        std::string_view order_no) override {
        auto q =
            Q("SELECT id, received_at, provider, order_no, transaction_id, outcome, detail "
              "FROM payment_notifications WHERE order_no = ? ORDER BY id");
        q.Text(order_no);
        return CollectRows(q, [](const Query& r) {
            return PaymentNotificationRecord{r.ColInt(0),  At(r.ColInt(1)), r.ColText(2),
                                             r.ColText(3), r.ColText(4),    r.ColText(5),
                                             r.ColText(6)};
        });
    }

private:
    std::unordered_map<int64_t, SqliteStore::Connection::CachedTariff>& tariff_cache_;
    sqlite::SqliteNotifications notifications_;
    sqlite::SqliteTenants tenants_;
    bool grouped_ = false;
};

namespace {

// Process-wide settings, before SQLite initializes (after that sqlite3_config refuses, which is
// harmless: the defaults stay). Memory statistics off: with them every allocation SQLite makes
// takes a global mutex, and Debian's build (SQLITE_OMIT_LOOKASIDE) allocates for every statement
// step; nothing here reads the statistics.
void ConfigureSqlite() {
    static std::once_flag once;
    std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// Opens one connection with the settings every connection shares.
Result<sqlite3*> OpenConnection(const std::string& path, int flags) {
    ConfigureSqlite();
    sqlite3* db = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        return MakeError(ErrorCode::kUnavailable,
                         "cannot open database '" + path + "': " + message);
    }
    // First: another process (joule sim, a CLI top-up) may hold the lock the next pragmas need.
    if (auto busy = Exec(db, "PRAGMA busy_timeout = 5000"); !busy) {
        sqlite3_close(db);
        return std::unexpected(busy.error());
    }
    return db;
}

}  // namespace

SqliteStore::SqliteStore(std::unique_ptr<Connection> writer)
    : writer_(std::move(writer)), group_(std::make_unique<Group>()) {}

SqliteStore::~SqliteStore() = default;

sqlite3* SqliteStore::handle() { return writer_->db; }

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const SqliteOptions& options) {
    JOULE_ASSIGN_OR_RETURN(sqlite3 * db,
                           OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
    std::unique_ptr<SqliteStore> store(new SqliteStore(std::make_unique<Connection>(db)));
    JOULE_TRY(Exec(db, "PRAGMA journal_mode = WAL"));
    JOULE_TRY(Exec(db, options.durability == Durability::kFull ? "PRAGMA synchronous = FULL"
                                                               : "PRAGMA synchronous = NORMAL"));
    JOULE_TRY(Exec(db, "PRAGMA foreign_keys = ON"));
    const std::string cache_size =
        "PRAGMA cache_size = " +
        std::to_string(-int64_t{std::max(options.writer_cache_mib, 2)} * 1024);
    JOULE_TRY(Exec(db, cache_size.c_str()));
    if (options.migrate) {
        JOULE_TRY(store->Migrate());
    }
    // A database without a file (":memory:", a temporary one) has no second connection. The
    // readers open at the first BeginRead: a CLI command that only writes never pays for them.
    const char* file = sqlite3_db_filename(db, "main");
    if (file != nullptr && *file != '\0') {
        store->reader_path_ = file;
        store->reader_count_ = options.read_connections;
        if (options.background_checkpoints) {
            CheckpointOptions checkpoints;
            checkpoints.full_sync = options.durability == Durability::kFull;
            JOULE_ASSIGN_OR_RETURN(store->checkpointer_,
                                   WalCheckpointer::Start(db, file, checkpoints));
        }
    }
    return store;
}

Status SqliteStore::OpenReaders() {
    std::lock_guard lock(readers_mutex_);
    if (readers_ready_.load(std::memory_order_relaxed)) {
        return {};
    }
    std::vector<std::unique_ptr<Connection>> opened;
    for (int i = 0; i < reader_count_; ++i) {
        JOULE_ASSIGN_OR_RETURN(sqlite3 * db, OpenConnection(reader_path_, SQLITE_OPEN_READONLY));
        opened.push_back(std::make_unique<Connection>(db));
        JOULE_TRY(Exec(db, "PRAGMA cache_size = -16384"));  // 16 MiB each
    }
    readers_ = std::move(opened);  // never changes again once ready
    readers_ready_.store(true, std::memory_order_release);
    return {};
}

namespace {

// A write unit of work on the writer's connection, holding its lock until it ends.
Result<std::unique_ptr<SqliteTx>> BeginWrite(SqliteStore::Connection& writer) {
    std::unique_lock lock(writer.mutex);
    // IMMEDIATE takes the write lock now, so a unit of work never fails half-way on a busy lock.
    JOULE_TRY(sqlite::CachedQuery(writer.db, writer.statements, "BEGIN IMMEDIATE").Run());
    return std::make_unique<SqliteTx>(writer, std::move(lock));
}

}  // namespace

Result<std::unique_ptr<Tx>> SqliteStore::Begin() {
    JOULE_ASSIGN_OR_RETURN(std::unique_ptr<SqliteTx> tx, BeginWrite(*writer_));
    return std::unique_ptr<Tx>(std::move(tx));
}

struct SqliteStore::GroupMember {
    const std::function<Status(Tx&)>* work = nullptr;
    Status result;
    bool done = false;
};

struct SqliteStore::Group {
    std::mutex mutex;
    std::condition_variable finished;  // a group has committed or failed
    std::deque<GroupMember*> queue;
    bool leading = false;  // a caller is running a group
    GroupStats stats;
};

SqliteStore::CheckpointStats SqliteStore::checkpoint_stats() const {
    if (!checkpointer_) {
        return {};
    }
    return {checkpointer_->background_checkpoints(), checkpointer_->inline_checkpoints()};
}

SqliteStore::GroupStats SqliteStore::group_stats() {
    std::lock_guard lock(group_->mutex);
    GroupStats out = group_->stats;
    out.waiting = group_->queue.size();
    return out;
}

Status SqliteStore::RunCommitted(const std::function<Status(Tx&)>& work) {
    Group& g = *group_;
    GroupMember me;
    me.work = &work;
    std::unique_lock lock(g.mutex);
    g.queue.push_back(&me);
    while (!me.done) {
        if (g.leading) {
            g.finished.wait(lock);
            continue;
        }
        g.leading = true;
        const std::size_t n = std::min(g.queue.size(), kMaxGroup);
        std::vector<GroupMember*> members(g.queue.begin(),
                                          g.queue.begin() + static_cast<std::ptrdiff_t>(n));
        g.queue.erase(g.queue.begin(), g.queue.begin() + static_cast<std::ptrdiff_t>(n));
        lock.unlock();
        try {
            RunGroup(members);
        } catch (...) {
            // Works return errors; one that throws (memory running out) fails its group rather
            // than leaving every later writer waiting for a leader that is gone.
            for (GroupMember* m : members) {
                m->result = MakeError(ErrorCode::kInternal, "a grouped write failed unexpectedly");
            }
        }
        lock.lock();
        for (GroupMember* m : members) {
            m->done = true;
        }
        g.leading = false;
        ++g.stats.groups;
        g.stats.works += members.size();
        g.finished.notify_all();
    }
    return me.result;
}

void SqliteStore::RunGroup(std::span<GroupMember* const> members) {
    auto fail_all = [&](const Status& error) {  // what ran is rolled back, so it all failed
        for (GroupMember* m : members) {
            if (m->result) {
                m->result = error;
            }
        }
    };
    Result<std::unique_ptr<SqliteTx>> begun = BeginWrite(*writer_);
    if (!begun) {
        fail_all(std::unexpected(begun.error()));
        return;
    }
    SqliteTx& tx = **begun;
    tx.Group();
    for (GroupMember* m : members) {
        if (Status entered = tx.EnterMember(); !entered) {
            fail_all(entered);
            return;  // ~SqliteTx rolls back
        }
        m->result = (*m->work)(tx);
        if (!tx.InTransaction()) {
            // SQLite gave up the whole transaction: nothing of the group is stored.
            fail_all(m->result ? Status(MakeError(ErrorCode::kUnavailable,
                                                  "the store rolled the transaction back"))
                               : m->result);
            return;
        }
        if (Status left = tx.LeaveMember(m->result.has_value()); !left) {
            fail_all(left);
            return;
        }
    }
    if (Status committed = tx.CommitGroup(); !committed) {
        fail_all(committed);
    }
}

Result<std::unique_ptr<Tx>> SqliteStore::BeginRead() {
    if (!readers_ready_.load(std::memory_order_acquire)) {
        JOULE_TRY(OpenReaders());
    }
    if (readers_.empty()) {
        return Begin();
    }
    // The first free reader from a rotating start; when all are busy, wait for the start one.
    const std::size_t start = next_reader_.fetch_add(1, std::memory_order_relaxed);
    Connection* reader = nullptr;
    std::unique_lock<std::mutex> lock;
    for (std::size_t i = 0; i < readers_.size() && reader == nullptr; ++i) {
        Connection& candidate = *readers_[(start + i) % readers_.size()];
        lock = std::unique_lock(candidate.mutex, std::try_to_lock);
        if (lock.owns_lock()) {
            reader = &candidate;
        }
    }
    if (reader == nullptr) {
        reader = readers_[start % readers_.size()].get();
        lock = std::unique_lock(reader->mutex);
    }
    // DEFERRED: the snapshot is taken at the first read and never blocks the writer (WAL).
    JOULE_TRY(sqlite::CachedQuery(reader->db, reader->statements, "BEGIN").Run());
    return std::unique_ptr<Tx>(new SqliteTx(*reader, std::move(lock)));
}

Result<int> SqliteStore::SchemaVersion() {
    sqlite3* db_ = writer_->db;
    JOULE_TRY(Exec(db_,
                   "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                   "name TEXT NOT NULL, applied_at INTEGER NOT NULL DEFAULT (unixepoch()))"));
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db_, "SELECT IFNULL(MAX(version), 0) FROM schema_migrations", -1, &stmt,
                       nullptr);
    int version = 0;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        version = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return version;
}

Result<int> SqliteStore::Migrate() {
    std::lock_guard lock(writer_->mutex);
    sqlite3* db_ = writer_->db;
    JOULE_ASSIGN_OR_RETURN(int current, SchemaVersion());
    const auto migrations = Migrations();
    if (!migrations.empty() && current > migrations.back().version) {
        return MakeError(ErrorCode::kDataLoss,
                         "the database schema (version " + std::to_string(current) +
                             ") is newer than this build of joule understands");
    }
    int applied = 0;
    for (const Migration& m : migrations) {
        if (m.version <= current) {
            continue;
        }
        JOULE_TRY(Exec(db_, "BEGIN IMMEDIATE"));
        auto run = Exec(db_, m.sql);
        if (!run) {
            (void)Exec(db_, "ROLLBACK");
            return MakeError(ErrorCode::kDataLoss, "migration " + std::to_string(m.version) + " (" +
                                                       m.name + ") failed: " + run.error().message);
        }
        const std::string record = "INSERT INTO schema_migrations(version, name) VALUES (" +
                                   std::to_string(m.version) + ", '" + m.name + "')";
        JOULE_TRY(Exec(db_, record.c_str()));
        JOULE_TRY(Exec(db_, "COMMIT"));
        ++applied;
    }
    return applied;
}

}  // namespace joule::storage
