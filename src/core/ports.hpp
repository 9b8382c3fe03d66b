// Ports: the interfaces the services talk to and storage adapters implement (SQLite now,
// PostgreSQL later). A Tx is one unit of work: everything a use case writes commits together or
// not at all; a Tx destroyed without Commit() rolls back. Errors are operating errors (I/O, a
// broken store); business outcomes are decided by services and core, not here.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "core/billing.hpp"
#include "core/ids.hpp"
#include "core/ledger.hpp"
#include "core/prepaid.hpp"
#include "core/purchase.hpp"
#include "core/tariff.hpp"

namespace joule {

class PaymentTx;       // core/payment_ports.hpp
class NotificationTx;  // core/notification_ports.hpp
class TenantTx;        // core/tenant_ports.hpp

struct ProjectRecord {
    ProjectId id;
    std::string code;
    std::string name;
    std::string time_zone{kDefaultTimeZone};
    int64_t read_interval_s = 1800;  // polling schedule [DEV-4]
};

// Buildings, floors, rooms, gateways and meters carry a version: 1 when inserted, bumped by every
// update (optimistic concurrency of the API's edits, migration 10).
struct BuildingRecord {
    BuildingId id;
    ProjectId project;
    std::string code;
    std::string name;
    int64_t version = 0;
};

struct FloorRecord {
    FloorId id;
    BuildingId building;
    std::string code;
    std::string name;
    int64_t version = 0;
};

struct RoomRecord {
    RoomId id;
    ProjectId project;
    FloorId floor;
    std::string code;
    std::string name;
    int64_t area_dm2 = 0;  // floor area in 0.01 m^2
    int64_t version = 0;
};

struct GatewayRecord {
    GatewayId id;
    ProjectId project;
    std::string code;
    std::string name;
    std::string transport;  // "mqtt", "modbus_tcp", "dtu"
    // How the platform reaches it: "host:port" it polls (modbus_tcp), the registration id a DTU
    // sends when it dials in (dtu), or the MQTT client id (mqtt).
    std::string endpoint;
    std::string framing = "transparent";  // modbus_tcp: "mbap" or "transparent" RS-485 frames
    bool online = false;
    std::optional<Instant> last_seen;
    std::string secret_hash;  // mqtt: hex SHA-256 of the gateway's password
    int64_t version = 0;
};

struct MeterModelRecord {
    ModelId id;
    std::string code;
    std::string name;
    Utility utility = Utility::kElectricity;
    RegisterSpec spec;
    bool has_relay = true;
    bool per_rate = false;
    bool in_meter_prepaid = false;  // the meter can hold the money itself [ACCT-1]
    std::string definition = "{}";  // the model file as JSON: protocol, points, capabilities
};

struct MeterRecord {
    MeterId id;
    ProjectId project;
    std::string code;  // the meter's address or serial, unique in the project
    ModelId model;
    GatewayId gateway;  // invalid when not yet commissioned
    RoomId room;        // invalid for meters not in a room
    TariffId tariff;    // 一表一价: overrides the account's tariff when valid
    MeterId parent;     // master meter, for loss analysis
    bool public_area = false;
    std::string bus_address;  // what it answers to on its bus; empty: the code
    int64_t circuit = 0;      // circuit of a multi-circuit box, 0 for a single meter
    int64_t version = 0;
};

// What still refers to a meter: a meter with any of it has a history a delete would lose.
struct MeterHistory {
    int64_t bindings = 0;    // account bindings, past and present
    int64_t readings = 0;    // stored readings, whatever their verdict
    int64_t commands = 0;    // commands, whatever their state
    int64_t sub_meters = 0;  // meters that name it as their parent
};

struct TariffRecord {
    TariffId id;
    ProjectId project;
    std::string code;
    Tariff tariff;
};

// stored: never renumber.
enum class AccountStatus : uint8_t { kOpen = 1, kClosed = 2 };
std::string_view AccountStatusName(AccountStatus status);  // "open", "closed"

struct AccountRecord {
    AccountId id;
    ProjectId project;
    std::string number;  // the account number (户号) staff and tenants use
    std::string tenant_name;
    std::string phone;
    TariffId tariff;
    ControlScheme scheme;
    int32_t debt_share_basis_points = 0;  // share of each top-up that recovers debt [ACCT-9]
    AccountStatus status = AccountStatus::kOpen;
    Instant opened_at;
    std::optional<Instant> closed_at;
    PrepaidStatus prepaid;
    LedgerAccountId paid;
    LedgerAccountId debt;
    BillingMode billing_mode = BillingMode::kPlatform;
    MeterPurse purse;     // meter billing only
    int64_t version = 0;  // bumped on every update (optimistic concurrency for later editors)
};

// A page of a project's accounts, filtered, searched and sorted by the store (the account and
// room-monitoring lists: a page of 100 out of 10,000 without loading the rest).
struct AccountQuery {
    enum class Sort : uint8_t { kNumber, kTenantName, kState, kOpenedAt };
    std::optional<AccountStatus> status;
    std::optional<PrepaidState> state;
    std::optional<Relay> relay;
    std::optional<BillingMode> billing_mode;
    std::string search;  // a substring of the number, the tenant's name or the phone
    Sort sort = Sort::kNumber;
    bool descending = false;
    int64_t offset = 0;
    int64_t limit = 50;
};

// A row of the account list: what staff scan in a page of 100 (no scheme, purse or ledger ids,
// so the store reads only these columns).
struct AccountSummary {
    std::string number;
    std::string tenant_name;
    std::string phone;
    AccountStatus status = AccountStatus::kOpen;
    PrepaidState state = PrepaidState::kNormal;
    Relay relay = Relay::kClosed;
    bool keep_power = false;
    BillingMode billing_mode = BillingMode::kPlatform;
    Instant opened_at;
    int64_t version = 0;
};
AccountSummary SummaryOf(const AccountRecord& a);

// One period of a meter bound to an account, with the registers at both ends [ACCT-10].
struct MeterBinding {
    AccountId account;
    MeterId meter;
    Instant bound_from;
    std::optional<Instant> bound_to;
    Quantity opening_total;
    std::optional<Quantity> closing_total;
};

struct StoredReading {
    ReadingOutcome outcome;
    AccountId account;
};

struct AlarmRecord {
    int64_t id = 0;
    ProjectId project;
    AccountId account;
    MeterId meter;
    GatewayId gateway;  // gateway alarms (offline); invalid otherwise
    AlarmKind kind = AlarmKind::kLowBalance1;
    bool open = true;
    Instant raised_at;
    std::optional<Instant> cleared_at;
    std::string detail;
    std::optional<Instant> acknowledged_at;  // staff saw it [ALM-2]
    std::string acknowledged_by;
    std::optional<Instant> notified_at;  // turned into deliveries [ALM-2]
};

// stored: never renumber.
enum class CommandState : uint8_t {
    kQueued = 1,
    kSent = 2,
    kAcknowledged = 3,
    kFailed = 4,
    kExpired = 5
};

std::string_view CommandStateName(CommandState state);  // "queued", "sent", "acknowledged" ...

// One meter of a room as the room-monitoring grid shows it (a room without meters: one line with
// `meter` empty). The account is the one open on the meter now, if any.
struct RoomMonitorLine {
    std::string room;
    std::string room_name;
    std::string building;  // codes; "" when the room has no floor
    std::string floor;
    std::string meter;
    bool online = false;
    std::string account;  // "" without an open account
    std::string tenant;
    PrepaidState state = PrepaidState::kNormal;
    Relay relay = Relay::kClosed;
    bool keep_power = false;
    BillingMode billing_mode = BillingMode::kPlatform;
    TenantBalances balances;  // paid and granted credit of the account
};

struct CommandRecord {
    int64_t id = 0;
    MeterId meter;
    AccountId account;
    std::string kind;  // "trip", "close", "valve_close", "valve_open", "time_sync" ...
    CommandState state = CommandState::kQueued;
    std::string reason;
    std::string actor;
    Instant created_at;
    std::string params = "{}";  // kind-specific parameters as JSON (amounts, prices)
    int64_t attempts = 0;
    Instant next_attempt_at;  // the dispatcher's next try
    Instant expires_at;       // given up after this; epoch 0: the dispatcher's default
    std::optional<Instant> finished_at;
    std::string error;  // the last failure
};

// The live state of a meter, overwritten by every read [MON-1].
// stored: never renumber.
enum class RelayState : uint8_t { kUnknown = 0, kClosed = 1, kOpen = 2 };
enum class ValveState : uint8_t { kUnknown = 0, kOpen = 1, kClosed = 2, kAbnormal = 3 };
std::string_view RelayStateName(RelayState state);  // "unknown", "closed", "open"
std::string_view ValveStateName(ValveState state);  // "unknown", "open", "closed", "abnormal"

struct MeterStatusRecord {
    MeterId meter;
    bool online = false;
    std::optional<Instant> last_seen;
    std::optional<Instant> last_failure;
    int64_t failures = 0;  // consecutive failed reads
    std::optional<Instant> meter_time;
    RelayState relay = RelayState::kUnknown;
    ValveState valve = ValveState::kUnknown;
    bool hold = false;
    std::string values_json = "{}";  // voltage, power, in-meter balance ... as decimal strings
};

// A device that answered or registered but is not configured [HIER-4].
struct PendingDeviceRecord {
    int64_t id = 0;
    ProjectId project;
    GatewayId gateway;
    std::string bus_address;
    std::string model_code;
    std::string serial;
    std::string params = "{}";
    Instant first_seen;
    Instant last_seen;
};

struct DeviceEventRecord {
    int64_t seq = 0;
    Instant at;
    GatewayId gateway;
    MeterId meter;
    std::string kind;  // "frame_rejected", "unknown_gateway", "timeout", "relay_mismatch" ...
    std::string detail;
};

struct OperationRecord {
    Instant at;
    std::string actor;
    std::string action;
    std::string target;
    std::string detail;  // JSON: before/after
    ProjectId project;   // invalid: not of one project (users, keys, group settings)
    std::string remote;  // where the call came from ("cli", an address)
    std::string request_id;
};

// Day and month totals of a project [RPT-*]: energy from accepted readings, money from top-ups,
// refunds and subsidies, added up by the store as they are written (local days, see the
// migration "live_and_daily").
enum class SummaryPeriod : uint8_t { kDay, kMonth };
enum class SummaryGroup : uint8_t { kProject, kBuilding, kAccount, kMeter };
struct EnergyTotal {
    std::string period;  // "2026-11-21" or "2026-11"
    int64_t group = 0;   // the building, account or meter id; 0: the project, or none
    Utility utility = Utility::kElectricity;
    Quantity energy;
    Money deducted;  // taken from prepaid balances for it
    int64_t readings = 0;
};
struct SalesTotal {
    std::string period;
    int64_t group = 0;                         // the account id; 0: the project
    TransferCode code = TransferCode::kTopUp;  // top-up, refund or subsidy
    std::string channel;                       // "cash", "wechat" ... (the other ledger side)
    Money amount;
    int64_t transfers = 0;
};
// What a batch of readings adds to a meter's day (meter_days): the accepted readings that close
// intervals of that local day (core/time.hpp DayNumber of meter time - 1 s: a reading at exactly
// midnight closes the day before).
struct MeterDayTotal {
    int64_t day = 0;
    MeterId meter;
    AccountId account;  // invalid: none (a public-area meter)
    Quantity energy;
    Money deducted;
    int64_t readings = 0;
};
// Local days as counted by the store: days since 1970-01-01.
struct DayRange {
    int64_t first = 0;
    int64_t last = 0;  // inclusive
};

struct LedgerSummary {
    int64_t transfers = 0;
    Money sum_of_balances;  // must be zero
    std::vector<std::pair<LedgerAccountKind, Money>> by_kind;
};

// A change the live stream announces (GET .../events): the store records one, in the unit of
// work that made it, whenever a meter's link or switch state, an account's state, an alarm, a
// command's state or a gateway's link changes. It names the subject; its state is read when sent.
// stored: never renumber.
enum class LiveKind : uint8_t { kMeter = 1, kAccount = 2, kAlarm = 3, kCommand = 4, kGateway = 5 };
struct LiveChange {
    int64_t seq = 0;  // increasing, never reused
    ProjectId project;
    LiveKind kind = LiveKind::kMeter;
    int64_t subject = 0;  // the meter, account, alarm, command or gateway id
    Instant at;
};

// What recording a sample needs about its meter's live state, read for a whole batch with a few
// set queries instead of several statements per sample.
struct MeterLiveContext {
    std::optional<MeterStatusRecord> status;
    std::optional<CommandRecord> last_switch;  // the newest command among the switch kinds
    std::vector<AlarmKind> open_alarms;        // the meter's own (no account, no gateway)
};

class Tx {
public:
    virtual ~Tx() = default;

    // --- hierarchy and devices
    virtual Result<ProjectId> InsertProject(const ProjectRecord& r) = 0;
    virtual Result<std::optional<ProjectRecord>> FindProject(std::string_view code) = 0;
    virtual Result<ProjectRecord> GetProject(ProjectId id) = 0;
    virtual Result<std::vector<ProjectRecord>> ListProjects() = 0;
    virtual Status SetReadInterval(ProjectId id, int64_t seconds) = 0;
    virtual Result<BuildingId> InsertBuilding(const BuildingRecord& r) = 0;
    virtual Result<FloorId> InsertFloor(const FloorRecord& r) = 0;
    virtual Result<RoomId> InsertRoom(const RoomRecord& r) = 0;
    virtual Result<std::vector<BuildingRecord>> ListBuildings(ProjectId project) = 0;
    virtual Result<std::vector<FloorRecord>> ListFloors(ProjectId project) = 0;
    virtual Result<std::vector<RoomRecord>> ListRooms(ProjectId project) = 0;
    // Every room of the project with its meters, their link and their open account, by room code
    // then meter code: the room grid in one read.
    virtual Result<std::vector<RoomMonitorLine>> ListRoomMonitor(ProjectId project) = 0;
    virtual Result<std::optional<RoomRecord>> FindRoom(ProjectId project,
                                                       std::string_view code) = 0;
    virtual Result<GatewayId> InsertGateway(const GatewayRecord& r) = 0;
    virtual Result<std::optional<GatewayRecord>> FindGateway(ProjectId project,
                                                             std::string_view code) = 0;
    virtual Result<GatewayRecord> GetGateway(GatewayId id) = 0;
    // Every gateway of every project (acquisition starts them all).
    virtual Result<std::vector<GatewayRecord>> ListGateways() = 0;
    virtual Status SetGatewayLink(GatewayId id, bool online, Instant at) = 0;
    virtual Result<ModelId> InsertModel(const MeterModelRecord& r) = 0;
    virtual Result<std::optional<MeterModelRecord>> FindModel(std::string_view code) = 0;
    virtual Result<MeterModelRecord> GetModel(ModelId id) = 0;
    virtual Result<MeterId> InsertMeter(const MeterRecord& r) = 0;
    virtual Result<std::optional<MeterRecord>> FindMeter(ProjectId project,
                                                         std::string_view code) = 0;
    virtual Result<MeterRecord> GetMeter(MeterId id) = 0;
    // The meters of `ids` that exist, in no particular order.
    virtual Result<std::vector<MeterRecord>> GetMeters(std::span<const MeterId> ids) = 0;
    virtual Result<std::vector<MeterRecord>> ListMeters(ProjectId project) = 0;
    virtual Result<std::vector<MeterRecord>> ListMetersOfGateway(GatewayId gateway) = 0;
    virtual Result<std::vector<MeterModelRecord>> ListModels() = 0;
    // Changes whenever meters or gateways are added, edited or removed: acquisition reloads on a
    // change.
    virtual Result<std::string> RegistryStamp() = 0;

    // --- editing the hierarchy and devices (the API's site editing and imports). An update
    // writes every column of the record and bumps its version, provided the row is still at
    // r.version: else kAborted and nothing changes (callers check the version first, in the same
    // unit of work, to say more). A taken code is kAlreadyExists. A delete removes only the row
    // (and what the comments say): the caller has checked that nothing else refers to it.
    virtual Result<std::optional<BuildingRecord>> FindBuilding(ProjectId project,
                                                               std::string_view code) = 0;
    virtual Result<BuildingRecord> GetBuilding(BuildingId id) = 0;  // kNotFound when none
    virtual Result<FloorRecord> GetFloor(FloorId id) = 0;
    virtual Result<RoomRecord> GetRoom(RoomId id) = 0;
    virtual Status UpdateBuilding(const BuildingRecord& r) = 0;
    virtual Status DeleteBuilding(BuildingId id) = 0;
    virtual Result<std::optional<FloorRecord>> FindFloor(BuildingId building,
                                                         std::string_view code) = 0;
    virtual Status UpdateFloor(const FloorRecord& r) = 0;
    virtual Status DeleteFloor(FloorId id) = 0;
    virtual Status UpdateRoom(const RoomRecord& r) = 0;
    virtual Status DeleteRoom(RoomId id) = 0;
    // Code, name, transport, endpoint, framing (not the link state or the MQTT secret).
    virtual Status UpdateGateway(const GatewayRecord& r) = 0;
    // Also deletes the gateway's pending devices (they re-register through a gateway that
    // exists) and clears its open alarms at `at` (alarm history is kept).
    virtual Status DeleteGateway(GatewayId id, Instant at) = 0;
    virtual Status UpdateMeter(const MeterRecord& r) = 0;
    // Also deletes the meter's live status and billing state, and clears its open alarms at `at`.
    virtual Status DeleteMeter(MeterId id, Instant at) = 0;
    // What refers to a building, floor or room: its floors, its rooms, the meters in it.
    virtual Result<int64_t> CountFloorsOf(BuildingId building) = 0;
    virtual Result<int64_t> CountRoomsOn(FloorId floor) = 0;
    virtual Result<int64_t> CountMetersIn(RoomId room) = 0;
    virtual Result<MeterHistory> MeterHistoryOf(MeterId meter) = 0;

    // --- live device state, pending devices, the device log
    virtual Result<std::optional<MeterStatusRecord>> LoadMeterStatus(MeterId meter) = 0;
    // The live state of every meter of a project that has one (one read for a whole list).
    virtual Result<std::vector<MeterStatusRecord>> ListMeterStatuses(ProjectId project) = 0;
    virtual Status SaveMeterStatus(const MeterStatusRecord& s) = 0;
    // Inserts, or refreshes last_seen/model/serial/params of the same (gateway, bus address).
    virtual Status UpsertPendingDevice(const PendingDeviceRecord& d) = 0;
    virtual Result<std::vector<PendingDeviceRecord>> ListPendingDevices(ProjectId project) = 0;
    virtual Status DeletePendingDevice(int64_t id) = 0;
    virtual Status InsertDeviceEvent(const DeviceEventRecord& e) = 0;
    virtual Result<std::vector<DeviceEventRecord>> ListDeviceEvents(int64_t after_seq,
                                                                    int limit) = 0;
    // Live changes after `after_seq`, oldest first, at most `limit`; the store keeps the newest
    // 100,000.
    virtual Result<std::vector<LiveChange>> ListLiveChanges(int64_t after_seq, int limit) = 0;
    // The newest live change's seq (0: none yet).
    virtual Result<int64_t> LastLiveChange() = 0;

    // --- tariffs: a tariff's versions are appended, never rewritten
    virtual Result<TariffId> InsertTariff(const TariffRecord& r) = 0;
    virtual Status AppendTariffVersion(TariffId id, const TariffVersion& v) = 0;
    virtual Result<std::optional<TariffRecord>> FindTariff(ProjectId project,
                                                           std::string_view code) = 0;
    virtual Result<TariffRecord> GetTariff(TariffId id) = 0;
    virtual Result<std::vector<TariffRecord>> ListTariffs(ProjectId project) = 0;

    // --- accounts and bindings
    virtual Result<AccountId> InsertAccount(const AccountRecord& r) = 0;
    virtual Status UpdateAccount(const AccountRecord& r) = 0;  // bumps version
    virtual Result<std::optional<AccountRecord>> FindAccount(ProjectId project,
                                                             std::string_view number) = 0;
    virtual Result<AccountRecord> GetAccount(AccountId id) = 0;
    // The accounts with these ids, in one read; ids that name no account are left out.
    virtual Result<std::vector<AccountRecord>> GetAccounts(std::span<const AccountId> ids) = 0;
    virtual Result<std::vector<AccountRecord>> ListAccounts(ProjectId project) = 0;
    // The page and the number of all matching accounts.
    virtual Result<std::pair<std::vector<AccountSummary>, int64_t>> PageAccounts(
        ProjectId project, const AccountQuery& query) = 0;
    virtual Status InsertBinding(const MeterBinding& b) = 0;
    virtual Status CloseBinding(MeterId meter, Instant at, Quantity closing_total) = 0;
    virtual Result<std::optional<MeterBinding>> CurrentBinding(MeterId meter) = 0;
    virtual Result<std::vector<MeterBinding>> BindingsOfAccount(AccountId account) = 0;

    // --- billing state and readings
    virtual Result<std::optional<MeterBilling>> LoadBilling(MeterId meter) = 0;
    // Meters of a project by code, each with its billing state, in one read (the billing hot
    // path); codes that name no meter are left out.
    struct MeterWithBilling {
        MeterRecord meter;
        std::optional<MeterBilling> billing;
    };
    virtual Result<std::vector<MeterWithBilling>> LoadMetersBilling(
        ProjectId project, std::span<const std::string_view> codes) = 0;
    virtual Status SaveBilling(const MeterBilling& state) = 0;
    // Stores a raw reading unless one with the same (meter, meter time, total) exists; returns
    // whether it was stored (false = an exact duplicate already kept).
    virtual Result<bool> InsertReading(const StoredReading& r) = 0;
    virtual Result<std::vector<StoredReading>> ListReadings(MeterId meter, int limit) = 0;
    // A meter's accepted readings with meter time in (after, until], oldest first.
    virtual Result<std::vector<StoredReading>> ListAcceptedReadings(MeterId meter, Instant after,
                                                                    Instant until) = 0;
    // A meter's newest accepted reading at or before `at_or_before`.
    virtual Result<std::optional<StoredReading>> LastAcceptedReading(MeterId meter,
                                                                     Instant at_or_before) = 0;
    // Adds a batch's accepted readings to the day totals (one row per day, meter and account).
    virtual Status AddMeterDays(std::span<const MeterDayTotal> totals) = 0;

    // --- ledger
    virtual Result<LedgerAccountId> InsertLedgerAccount(const LedgerAccount& a) = 0;
    // Sets the owner of a tenant ledger account created before its account row.
    virtual Status SetLedgerAccountOwner(LedgerAccountId id, AccountId owner) = 0;
    // The system ledger account of a kind and code (cash channel, revenue ...), created on first
    // use.
    virtual Result<LedgerAccountId> SystemLedgerAccount(LedgerAccountKind kind,
                                                        std::string_view code) = 0;
    virtual Result<LedgerAccount> GetLedgerAccount(LedgerAccountId id) = 0;
    virtual Result<std::vector<LedgerAccount>> LedgerAccountsOf(AccountId owner) = 0;
    // The ledger accounts of these owners in one read, by owner and then id.
    virtual Result<std::vector<LedgerAccount>> LedgerAccountsOfOwners(
        std::span<const AccountId> owners) = 0;
    virtual Result<std::optional<Transfer>> FindTransfer(std::string_view id) = 0;
    // Appends a checked transfer and moves the two balances by its amount. kAlreadyExists (and
    // nothing changed) when the id is taken.
    virtual Status InsertTransfer(const Transfer& t) = 0;
    // Appends many checked transfers whose ids are known to be new (derived ids such as reading
    // deductions), reading and writing each ledger account's balance once. `known` holds ledger
    // accounts with the balance they have in the store now (read in this unit of work), which
    // saves reading them again. An id that turns out to be taken fails with kAlreadyExists and
    // the unit of work must be abandoned.
    virtual Status AppendTransfers(std::span<const Transfer> transfers,
                                   std::span<const LedgerAccount> known) = 0;
    virtual Result<std::vector<Transfer>> TransfersOf(AccountId owner, int limit) = 0;
    virtual Result<LedgerSummary> SummarizeLedger() = 0;
    // One account's day totals (energy and what was deducted for it), by day then meter: the
    // account detail's today and its days-left forecast [ALM-4].
    virtual Result<std::vector<MeterDayTotal>> AccountDays(AccountId account, DayRange days) = 0;
    // Energy and sales totals of a project's local days, by period and group, in period order.
    // Sales have no building group (an account's meters may be in several).
    virtual Result<std::vector<EnergyTotal>> SumEnergy(ProjectId project, DayRange days,
                                                       SummaryPeriod period,
                                                       SummaryGroup group) = 0;
    virtual Result<std::vector<SalesTotal>> SumSales(ProjectId project, DayRange days,
                                                     SummaryPeriod period, SummaryGroup group) = 0;
    // All transfers in posting order, from `after_seq` (exclusive), at most `limit`.
    virtual Result<std::vector<Transfer>> ListTransfers(int64_t after_seq, int limit) = 0;
    // Ledger accounts whose stored balance differs from the sum of their transfers (must be 0).
    virtual Result<int64_t> CountBalanceMismatches() = 0;

    // --- alarms, commands, outbox, operation log
    // Opens an alarm unless one of the same kind is open for the account/meter (de-duplicated).
    virtual Status RaiseAlarm(const AlarmRecord& a) = 0;
    virtual Status ClearAlarm(AccountId account, MeterId meter, AlarmKind kind, Instant at) = 0;
    virtual Status ClearGatewayAlarm(GatewayId gateway, AlarmKind kind, Instant at) = 0;
    virtual Result<std::vector<AlarmRecord>> ListAlarms(ProjectId project, bool open_only) = 0;
    virtual Result<std::optional<AlarmRecord>> GetAlarm(int64_t id) = 0;
    // Staff acknowledge an open alarm (once; later calls change nothing) or clear it by hand.
    virtual Status AcknowledgeAlarm(int64_t id, std::string_view by, Instant at) = 0;
    virtual Status ClearAlarmById(int64_t id, Instant at) = 0;
    virtual Result<int64_t> InsertCommand(const CommandRecord& c) = 0;
    virtual Result<std::vector<CommandRecord>> ListCommands(ProjectId project, int limit) = 0;
    virtual Result<CommandRecord> GetCommand(int64_t id) = 0;
    // Queued or sent commands whose next attempt is due at `now`, oldest first.
    virtual Result<std::vector<CommandRecord>> ListDueCommands(Instant now, int limit) = 0;
    // Saves state, attempts, next attempt, finish time and error.
    virtual Status UpdateCommandDelivery(const CommandRecord& c) = 0;
    // The newest command of the meter among `kinds`, whatever its state.
    virtual Result<std::optional<CommandRecord>> LastCommand(
        MeterId meter, std::span<const std::string_view> kinds) = 0;
    // For each of `meters` that has any: its status, its newest command among `switch_kinds`
    // and its own open alarms, by meter id.
    virtual Result<std::vector<std::pair<MeterId, MeterLiveContext>>> LoadLiveContexts(
        std::span<const MeterId> meters, std::span<const std::string_view> switch_kinds) = 0;
    // The oldest queued or sent command of the meter of `kind` (purchases go out in order).
    virtual Result<std::optional<CommandRecord>> FirstOpenCommand(MeterId meter,
                                                                  std::string_view kind) = 0;
    virtual Status InsertOutbox(std::string_view topic, std::string_view payload, Instant at) = 0;
    virtual Status InsertOperation(const OperationRecord& op) = 0;

    // --- payments [PAY-2]: orders and notifications, in this same unit of work
    virtual PaymentTx& Payments() = 0;
    // --- notifications [ALM-3]: recipients, events waiting to be told, deliveries
    virtual NotificationTx& Notifications() = 0;
    // --- tenants [PAY-1]: people, their sessions and codes, their bindings to accounts
    virtual TenantTx& Tenants() = 0;

    virtual Status Commit() = 0;
};

class Store {
public:
    virtual ~Store() = default;
    // Starts a write unit of work. On SQLite writers are serialized by the store itself.
    virtual Result<std::unique_ptr<Tx>> Begin() = 0;
    // Starts a unit of work that only reads: it may run beside other reads and beside a writer,
    // and sees the store as of its first read. Writing through it fails (kInternal).
    virtual Result<std::unique_ptr<Tx>> BeginRead() { return Begin(); }
    // Runs `work` in a write unit of work and returns once it is committed (durably, as the store
    // is configured) or has failed. `work` must not call Commit(): a store may put the work of
    // several callers waiting at once into one transaction with one commit (group commit), each
    // inside its own savepoint. A work that fails is rolled back alone and its error returned; a
    // commit that fails fails every work in it. So `work` may run on another thread than the
    // caller's, and whatever it reports through its captures is only valid on success.
    virtual Status RunCommitted(const std::function<Status(Tx&)>& work) {
        JOULE_ASSIGN_OR_RETURN(std::unique_ptr<Tx> tx, Begin());
        JOULE_TRY(work(*tx));
        return tx->Commit();
    }
};

}  // namespace joule
