#include "storage/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "storage/migrations.hpp"

namespace joule::storage {
namespace {

Instant T(int64_t s) { return Instant{Seconds{s}}; }

std::unique_ptr<SqliteStore> OpenMemory() {
    auto store = SqliteStore::Open(":memory:", {});
    EXPECT_TRUE(store.has_value()) << store.error().ToString();
    return std::move(*store);
}

TEST(SqliteStore, MigratesOnceAndReportsVersion) {
    auto store = OpenMemory();
    EXPECT_EQ(store->SchemaVersion().value(), Migrations().back().version);
    EXPECT_EQ(store->Migrate().value(), 0);  // nothing left to apply
}

TEST(SqliteStore, ReadsRunBesideTheWriterAndSeeOnlyCommittedWork) {
    std::string dir = (std::filesystem::temp_directory_path() / "joule-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    {
        auto store = SqliteStore::Open(dir + "/joule.db", {Durability::kNormal}).value();
        auto writer = store->Begin().value();
        ASSERT_TRUE(writer->InsertProject({{}, "p1", "Project", "Asia/Shanghai"}).has_value());
        {
            // The writer holds its lock; a read begins anyway and does not see its work.
            auto reader = store->BeginRead().value();
            EXPECT_FALSE(reader->FindProject("p1").value().has_value());
            // A read unit of work cannot write.
            auto write = reader->InsertProject({{}, "p2", "Project 2", "Asia/Shanghai"});
            ASSERT_FALSE(write.has_value());
            EXPECT_EQ(write.error().code, ErrorCode::kInternal);
        }
        ASSERT_TRUE(writer->Commit().has_value());
        // More reads at once than there are read connections: the extra ones wait their turn.
        std::vector<std::unique_ptr<Tx>> readers;
        for (int i = 0; i < 4; ++i) {
            readers.push_back(store->BeginRead().value());
            EXPECT_TRUE(readers.back()->FindProject("p1").value().has_value());
        }
        std::thread late([&] {
            auto reader = store->BeginRead().value();
            EXPECT_TRUE(reader->FindProject("p1").value().has_value());
        });
        readers.clear();
        late.join();
    }
    std::filesystem::remove_all(dir);
}

TEST(SqliteStore, UncommittedWorkRollsBack) {
    auto store = OpenMemory();
    {
        auto tx = store->Begin().value();
        ASSERT_TRUE(tx->InsertProject({{}, "p1", "Project", "Asia/Shanghai"}).has_value());
    }  // no commit
    auto tx = store->Begin().value();
    EXPECT_FALSE(tx->FindProject("p1").value().has_value());
}

TEST(SqliteStore, TransfersMoveBalancesAndAreAppendOnly) {
    auto store = OpenMemory();
    auto tx = store->Begin().value();
    const LedgerAccountId cash = tx->SystemLedgerAccount(LedgerAccountKind::kCash, "cash").value();
    EXPECT_EQ(tx->SystemLedgerAccount(LedgerAccountKind::kCash, "cash").value(), cash);
    LedgerAccount paid;
    paid.kind = LedgerAccountKind::kTenantPaid;
    const LedgerAccountId tenant = tx->InsertLedgerAccount(paid).value();
    Transfer t{"t1", cash, tenant, Money{1234}, TransferCode::kTopUp, "r", "tester", T(100)};
    ASSERT_TRUE(tx->InsertTransfer(t).has_value());
    EXPECT_EQ(tx->GetLedgerAccount(tenant)->balance.fen, 1234);
    EXPECT_EQ(tx->GetLedgerAccount(cash)->balance.fen, -1234);
    auto found = tx->FindTransfer("t1").value();
    ASSERT_TRUE(found.has_value());
    EXPECT_TRUE(SameTransfer(*found, t));
    // Same id again is a constraint violation the service must have caught first.
    auto again = tx->InsertTransfer(t);
    ASSERT_FALSE(again.has_value());
    EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
    auto summary = tx->SummarizeLedger().value();
    EXPECT_EQ(summary.sum_of_balances.fen, 0);
    EXPECT_EQ(tx->CountBalanceMismatches().value(), 0);
    // The triggers keep the ledger append-only even against hand-written SQL.
    char* err = nullptr;
    EXPECT_NE(sqlite3_exec(store->handle(), "DELETE FROM transfers", nullptr, nullptr, &err),
              SQLITE_OK);
    sqlite3_free(err);
}

TEST(SqliteStore, ReadingsDeduplicateOnMeterAndTime) {
    auto store = OpenMemory();
    auto tx = store->Begin().value();
    StoredReading r;
    r.outcome.meter = MeterId{7};
    r.outcome.input.meter_time = T(1000);
    r.outcome.input.total = Quantity{5};
    EXPECT_TRUE(tx->InsertReading(r).value());
    EXPECT_FALSE(tx->InsertReading(r).value());
    EXPECT_EQ(tx->ListReadings(MeterId{7}, 10).value().size(), 1U);
}

// Migration 22 rebuilds readings as a rowid table: a store written before it keeps every reading,
// its verdict and its key, and an exact re-send is still stored once.
TEST(SqliteStore, ReadingsSurviveTheMoveToAnAppendedTable) {
    const std::string path =
        (std::filesystem::temp_directory_path() / ("joule-migrate-" + std::to_string(::getpid())))
            .string();
    std::filesystem::remove(path);
    {
        sqlite3* db = nullptr;
        ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(db,
                               "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                               "name TEXT NOT NULL)",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        for (const Migration& m : Migrations()) {
            if (m.version >= 22) {
                break;
            }
            ASSERT_EQ(sqlite3_exec(db, m.sql, nullptr, nullptr, nullptr), SQLITE_OK) << m.version;
            const std::string record = "INSERT INTO schema_migrations VALUES (" +
                                       std::to_string(m.version) + ", '" + m.name + "')";
            ASSERT_EQ(sqlite3_exec(db, record.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
        }
        // Two meters, two readings each (one quarantined), inserted out of key order.
        ASSERT_EQ(sqlite3_exec(db,
                               "INSERT INTO readings(meter_id, meter_time, received_at, total, "
                               "verdict, reason, delta, charge_fine, deducted, account_id, source) "
                               "VALUES (8, 2000, 2100, 900, 1, 0, 100, 5000, 5, 3, 1), "
                               "(7, 1000, 1100, 500, 1, 0, 50, 2500, 2, 4, 0), "
                               "(8, 1000, 1100, 800, 1, 0, 0, 0, 0, 3, 0), "
                               "(7, 2000, 2100, 400, 2, 3, 0, 0, 0, 4, 0)",
                               nullptr, nullptr, nullptr),
                  SQLITE_OK);
        sqlite3_close(db);
    }
    {
        auto opened = SqliteStore::Open(path, {});
        ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
        auto& store = *opened;
        EXPECT_EQ(store->SchemaVersion().value(), Migrations().back().version);
        auto tx = store->Begin().value();
        const auto seven = tx->ListReadings(MeterId{7}, 10).value();
        ASSERT_EQ(seven.size(), 2U);
        EXPECT_EQ(seven[0].outcome.input.meter_time, T(2000));  // newest first
        EXPECT_EQ(seven[0].outcome.validated.verdict, static_cast<Verdict>(2));
        EXPECT_EQ(seven[1].outcome.input.total, Quantity{500});
        EXPECT_EQ(seven[1].outcome.deducted, Money{2});
        EXPECT_EQ(seven[1].account, AccountId{4});
        const auto eight = tx->ListReadings(MeterId{8}, 10).value();
        ASSERT_EQ(eight.size(), 2U);
        EXPECT_EQ(eight[0].outcome.charge.total, FineMoney{5000});
        EXPECT_EQ(eight[0].outcome.input.source, static_cast<ReadingSource>(1));
        StoredReading again = eight[0];
        EXPECT_FALSE(tx->InsertReading(again).value());  // the key is still unique
        again.outcome.input.total = Quantity{901};       // a different value at the same time
        EXPECT_TRUE(tx->InsertReading(again).value());
        EXPECT_EQ(tx->ListReadings(MeterId{8}, 10).value().size(), 3U);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::filesystem::remove(path + suffix);
    }
}

// A project with one gateway and one meter, for the device-state tests.
struct DeviceFixture {
    std::unique_ptr<SqliteStore> store = OpenMemory();
    ProjectId project;
    GatewayId gateway;
    MeterId meter;

    DeviceFixture() {
        auto tx = store->Begin().value();
        project = tx->InsertProject({{}, "p1", "Project", "Asia/Shanghai"}).value();
        GatewayRecord g;
        g.project = project;
        g.code = "gw1";
        g.name = "Gateway";
        g.transport = "dtu";
        g.endpoint = "IMEI860000000000001";
        gateway = tx->InsertGateway(g).value();
        MeterModelRecord model;
        model.code = "m";
        model.name = "Model";
        model.definition = R"({"protocol":"dlt645-2007"})";
        ModelId model_id = tx->InsertModel(model).value();
        MeterRecord m;
        m.project = project;
        m.code = "E1";
        m.model = model_id;
        m.gateway = gateway;
        m.bus_address = "000000000001";
        meter = tx->InsertMeter(m).value();
        EXPECT_TRUE(tx->Commit().has_value());
    }
};

TEST(SqliteStore, GatewaysAndMetersKeepTheirBusSettings) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    ASSERT_TRUE(tx->SetGatewayLink(f.gateway, true, T(100)).has_value());
    GatewayRecord g = tx->GetGateway(f.gateway).value();
    EXPECT_EQ(g.endpoint, "IMEI860000000000001");
    EXPECT_TRUE(g.online);
    EXPECT_EQ(g.last_seen, T(100));
    auto meters = tx->ListMetersOfGateway(f.gateway).value();
    ASSERT_EQ(meters.size(), 1U);
    EXPECT_EQ(meters[0].bus_address, "000000000001");
    EXPECT_EQ(tx->GetModel(meters[0].model).value().definition, R"({"protocol":"dlt645-2007"})");
}

TEST(SqliteStore, PendingDevicesUpsertOnGatewayAndAddress) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    PendingDeviceRecord d{0, f.project, f.gateway, "000000000009", "m", "S1", "{}", T(1), T(1)};
    ASSERT_TRUE(tx->UpsertPendingDevice(d).has_value());
    d.serial = "S2";
    d.last_seen = T(5);
    ASSERT_TRUE(tx->UpsertPendingDevice(d).has_value());
    auto list = tx->ListPendingDevices(f.project).value();
    ASSERT_EQ(list.size(), 1U);
    EXPECT_EQ(list[0].serial, "S2");
    EXPECT_EQ(list[0].first_seen, T(1));
    EXPECT_EQ(list[0].last_seen, T(5));
    ASSERT_TRUE(tx->DeletePendingDevice(list[0].id).has_value());
    EXPECT_TRUE(tx->ListPendingDevices(f.project).value().empty());
}

TEST(SqliteStore, CommandsComeDueAndRecordDelivery) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    CommandRecord c;
    c.meter = f.meter;
    c.kind = "trip";
    c.created_at = T(10);
    c.next_attempt_at = T(10);
    c.expires_at = T(1000);
    int64_t id = tx->InsertCommand(c).value();
    EXPECT_TRUE(tx->ListDueCommands(T(9), 10).value().empty());
    auto due = tx->ListDueCommands(T(10), 10).value();
    ASSERT_EQ(due.size(), 1U);
    due[0].state = CommandState::kAcknowledged;
    due[0].attempts = 1;
    due[0].finished_at = T(12);
    ASSERT_TRUE(tx->UpdateCommandDelivery(due[0]).has_value());
    EXPECT_TRUE(tx->ListDueCommands(T(100), 10).value().empty());
    const std::string_view kinds[] = {"trip", "close"};
    auto last = tx->LastCommand(f.meter, kinds).value();
    ASSERT_TRUE(last.has_value());
    EXPECT_EQ(last->id, id);
    EXPECT_EQ(last->state, CommandState::kAcknowledged);
    EXPECT_EQ(last->finished_at, T(12));
}

TEST(SqliteStore, FirstOpenCommandIsTheOldestUnfinishedOfItsKind) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    auto insert = [&](std::string kind) {
        CommandRecord c;
        c.meter = f.meter;
        c.kind = std::move(kind);
        c.created_at = T(1);
        return tx->InsertCommand(c).value();
    };
    const int64_t first = insert("purchase");
    insert("trip");
    const int64_t second = insert("purchase");
    EXPECT_EQ(tx->FirstOpenCommand(f.meter, "purchase").value()->id, first);
    CommandRecord done = tx->GetCommand(first).value();
    done.state = CommandState::kAcknowledged;
    ASSERT_TRUE(tx->UpdateCommandDelivery(done).has_value());
    EXPECT_EQ(tx->FirstOpenCommand(f.meter, "purchase").value()->id, second);
    EXPECT_FALSE(tx->FirstOpenCommand(f.meter, "close").value().has_value());
}

TEST(SqliteStore, MeterStatusIsOverwritten) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    EXPECT_FALSE(tx->LoadMeterStatus(f.meter).value().has_value());
    MeterStatusRecord s;
    s.meter = f.meter;
    s.online = true;
    s.last_seen = T(7);
    s.relay = RelayState::kOpen;
    s.values_json = R"({"voltage":"220.1"})";
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());
    s.relay = RelayState::kClosed;
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());
    auto loaded = tx->LoadMeterStatus(f.meter).value();
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->relay, RelayState::kClosed);
    EXPECT_EQ(loaded->values_json, R"({"voltage":"220.1"})");
    // The same state with new reading columns (a save that does not run the change trigger).
    s.last_seen = T(9);
    s.last_failure = T(8);
    s.failures = 2;
    s.meter_time = T(6);
    s.values_json = R"({"voltage":"219.0"})";
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());
    loaded = tx->LoadMeterStatus(f.meter).value();
    ASSERT_TRUE(loaded.has_value());
    EXPECT_EQ(loaded->relay, RelayState::kClosed);
    EXPECT_TRUE(loaded->online);
    EXPECT_EQ(loaded->last_seen, T(9));
    EXPECT_EQ(loaded->last_failure, T(8));
    EXPECT_EQ(loaded->failures, 2);
    EXPECT_EQ(loaded->meter_time, T(6));
    EXPECT_EQ(loaded->values_json, R"({"voltage":"219.0"})");
}

TEST(SqliteStore, LiveChangesAreRecordedOnlyWhenAnnouncedStateChanges) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    const int64_t start = tx->LastLiveChange().value();
    MeterStatusRecord s;
    s.meter = f.meter;
    s.online = true;
    s.relay = RelayState::kClosed;
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());  // first status: announced
    s.last_seen = T(60);
    s.values_json = R"({"voltage":"220.0"})";
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());  // a new reading, same state: not
    s.relay = RelayState::kOpen;
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());  // the relay opened: announced
    s.online = false;
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());  // went offline: announced
    s.last_seen = T(65);
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());  // still offline: not
    s.hold = true;
    ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());                       // keep power: announced
    ASSERT_TRUE(tx->SetGatewayLink(f.gateway, false, T(70)).has_value());  // already offline
    ASSERT_TRUE(tx->SetGatewayLink(f.gateway, true, T(80)).has_value());   // came online
    CommandRecord c;
    c.meter = f.meter;
    c.kind = "trip";
    c.created_at = T(90);
    const int64_t command = tx->InsertCommand(c).value();
    c = tx->GetCommand(command).value();
    c.attempts = 1;
    ASSERT_TRUE(tx->UpdateCommandDelivery(c).has_value());  // same state: not
    c.state = CommandState::kAcknowledged;
    ASSERT_TRUE(tx->UpdateCommandDelivery(c).has_value());
    AlarmRecord a;
    a.project = f.project;
    a.meter = f.meter;
    a.kind = AlarmKind::kMeterOffline;
    a.raised_at = T(95);
    ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
    ASSERT_TRUE(tx->RaiseAlarm(a).has_value());  // already open: nothing new
    ASSERT_TRUE(tx->ClearAlarm({}, f.meter, AlarmKind::kMeterOffline, T(99)).has_value());
    ASSERT_TRUE(tx->Commit().has_value());

    auto read = f.store->BeginRead().value();
    auto changes = read->ListLiveChanges(start, 100).value();
    std::vector<std::pair<LiveKind, int64_t>> seen;
    for (const LiveChange& c2 : changes) {
        EXPECT_EQ(c2.project, f.project);
        seen.emplace_back(c2.kind, c2.subject);
    }
    auto alarms = read->ListAlarms(f.project, false).value();
    ASSERT_EQ(alarms.size(), 1U);
    const int64_t alarm = alarms[0].id;
    const std::vector<std::pair<LiveKind, int64_t>> want = {{LiveKind::kMeter, f.meter.value},
                                                            {LiveKind::kMeter, f.meter.value},
                                                            {LiveKind::kMeter, f.meter.value},
                                                            {LiveKind::kMeter, f.meter.value},
                                                            {LiveKind::kGateway, f.gateway.value},
                                                            {LiveKind::kCommand, command},
                                                            {LiveKind::kCommand, command},
                                                            {LiveKind::kAlarm, alarm},
                                                            {LiveKind::kAlarm, alarm}};
    EXPECT_EQ(seen, want);
    for (std::size_t i = 1; i < changes.size(); ++i) {
        EXPECT_EQ(changes[i].seq, changes[i - 1].seq + 1);  // contiguous: resuming finds gaps
    }
    EXPECT_EQ(read->LastLiveChange().value(), changes.back().seq);
    EXPECT_EQ(read->ListLiveChanges(changes[2].seq, 2).value().front().seq, changes[3].seq);
}

TEST(SqliteStore, LiveChangesKeepTheNewestHundredThousand) {
    DeviceFixture f;
    auto tx = f.store->Begin().value();
    MeterStatusRecord s;
    s.meter = f.meter;
    for (int i = 0; i < 101'000; ++i) {
        s.online = i % 2 == 0;  // every save a change
        ASSERT_TRUE(tx->SaveMeterStatus(s).has_value());
    }
    ASSERT_TRUE(tx->Commit().has_value());
    auto read = f.store->BeginRead().value();
    const int64_t last = read->LastLiveChange().value();
    auto oldest = read->ListLiveChanges(0, 1).value();
    ASSERT_EQ(oldest.size(), 1U);
    EXPECT_GT(oldest[0].seq, last - 100'000);
    EXPECT_LE(oldest[0].seq, last - 99'000);
}

RoleRecord CustomRole(const std::string& code, std::initializer_list<Permission> permissions) {
    RoleRecord r;
    r.role.code = code;
    r.role.name = "Cashier";
    for (Permission p : permissions) {
        r.role.permissions.set(static_cast<std::size_t>(p));
    }
    r.created_at = T(1000);
    r.updated_at = T(1000);
    return r;
}

TEST(SqliteStore, CustomRolesAreVersionedAndResolvedBesideTheBuiltInOnes) {
    auto store = OpenMemory();
    auto tx = store->BeginAccess().value();
    ASSERT_TRUE(
        tx->InsertRole(CustomRole("cashier", {Permission::kAccountsView, Permission::kMoneyTopUp}))
            .has_value());
    ASSERT_TRUE(tx->InsertRole(CustomRole("auditor", {Permission::kOperationsView})).has_value());
    auto taken = tx->InsertRole(CustomRole("cashier", {Permission::kAlarmsView}));
    ASSERT_FALSE(taken.has_value());
    EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
    EXPECT_EQ(taken.error().field, "code");

    const std::vector<RoleRecord> listed = tx->ListRoles().value();
    ASSERT_EQ(listed.size(), 2U);
    EXPECT_EQ(listed[0].role.code, "auditor");  // by code
    RoleRecord cashier = tx->FindRole("cashier").value().value();
    EXPECT_EQ(cashier.version, 1);
    EXPECT_FALSE(cashier.role.builtin);
    EXPECT_EQ(PermissionNames(cashier.role.permissions),
              (std::vector<std::string>{"accounts.view", "money.topup"}));
    EXPECT_FALSE(tx->FindRole("nobody").value().has_value());

    // An update at the version read bumps it; one at an older version changes nothing.
    cashier.role.name = "Counter cashier";
    cashier.role.permissions.set(static_cast<std::size_t>(Permission::kMoneyRefund));
    cashier.updated_at = T(2000);
    ASSERT_TRUE(tx->UpdateRole(cashier).has_value());
    auto stale = tx->UpdateRole(cashier);
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, ErrorCode::kAborted);
    const RoleRecord updated = tx->FindRole("cashier").value().value();
    EXPECT_EQ(updated.version, 2);
    EXPECT_EQ(updated.role.name, "Counter cashier");
    EXPECT_EQ(updated.created_at, T(1000));
    EXPECT_EQ(updated.updated_at, T(2000));
    EXPECT_TRUE(updated.role.permissions.test(static_cast<std::size_t>(Permission::kMoneyRefund)));

    // A user's role resolves from the built-in table first, then the custom roles.
    EXPECT_EQ(tx->ResolveRole("finance").value()->name, "Finance");
    EXPECT_TRUE(tx->ResolveRole("finance").value()->builtin);
    EXPECT_EQ(tx->ResolveRole("cashier").value()->permissions, updated.role.permissions);
    EXPECT_FALSE(tx->ResolveRole("nobody").value().has_value());

    EXPECT_EQ(tx->DeleteRole("cashier", 1).error().code, ErrorCode::kAborted);
    ASSERT_TRUE(tx->DeleteRole("cashier", 2).has_value());
    EXPECT_FALSE(tx->ResolveRole("cashier").value().has_value());
    ASSERT_TRUE(tx->Commit().has_value());
    EXPECT_EQ(store->BeginAccess().value()->ListRoles().value().size(), 1U);
}

// Group commit: works waiting together share a transaction; each is all-or-nothing on its own.
TEST(SqliteStore, RunCommittedGroupsWaitingWorksAndRollsBackOnlyTheFailedOnes) {
    auto store = OpenMemory();
    constexpr int kOthers = 12;
    auto insert = [&](Tx& tx, const std::string& code) {
        return tx.InsertProject({{}, code, "Project", "Asia/Shanghai"});
    };
    std::vector<std::thread> others;
    std::vector<Status> results(kOthers);
    const Status first = store->RunCommitted([&](Tx& tx) -> Status {
        JOULE_TRY(insert(tx, "first"));
        // While this group runs, the others queue up behind it; they must all form the next one.
        for (int i = 0; i < kOthers; ++i) {
            others.emplace_back([&, i] {
                results[static_cast<std::size_t>(i)] = store->RunCommitted([&, i](Tx& t) -> Status {
                    JOULE_TRY(insert(t, "p" + std::to_string(i)));
                    if (i % 4 == 1) {
                        return FailedPrecondition("refused after writing", "p");
                    }
                    if (i % 4 == 2) {
                        return t.Commit();  // not allowed: the group commits
                    }
                    return {};
                });
            });
        }
        while (store->group_stats().waiting < kOthers) {
            std::this_thread::yield();
        }
        return {};
    });
    for (std::thread& t : others) {
        t.join();
    }
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    const SqliteStore::GroupStats stats = store->group_stats();
    EXPECT_EQ(stats.groups, 2U);
    EXPECT_EQ(stats.works, 1U + kOthers);
    EXPECT_EQ(stats.waiting, 0U);
    auto tx = store->Begin().value();
    EXPECT_TRUE(tx->FindProject("first").value().has_value());
    for (int i = 0; i < kOthers; ++i) {
        const std::string code = "p" + std::to_string(i);
        const Status& r = results[static_cast<std::size_t>(i)];
        const bool stored = tx->FindProject(code).value().has_value();
        if (i % 4 == 1) {
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
            EXPECT_FALSE(stored) << code;
        } else if (i % 4 == 2) {
            ASSERT_FALSE(r.has_value());
            EXPECT_EQ(r.error().code, ErrorCode::kInternal);
            EXPECT_FALSE(stored) << code;
        } else {
            EXPECT_TRUE(r.has_value()) << code << ": " << r.error().ToString();
            EXPECT_TRUE(stored) << code;
        }
    }
}

// A group whose commit cannot happen fails every work in it, and stores none of them.
TEST(SqliteStore, RunCommittedFailsEveryWorkWhenTheGroupCannotCommit) {
    auto store = OpenMemory();
    // A deferred foreign key violated by a work is only found at COMMIT: the whole group fails.
    ASSERT_EQ(sqlite3_exec(store->handle(), "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr),
              SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(store->handle(), "PRAGMA defer_foreign_keys = ON", nullptr, nullptr, nullptr),
        SQLITE_OK);
    const Status r = store->RunCommitted([](Tx& tx) -> Status {
        JOULE_TRY(tx.InsertProject({{}, "p1", "Project", "Asia/Shanghai"}));
        JOULE_TRY(tx.InsertBuilding({{}, ProjectId{999}, "b1", "Building", 0}));
        return {};
    });
    ASSERT_FALSE(r.has_value());
    auto tx = store->Begin().value();
    EXPECT_FALSE(tx->FindProject("p1").value().has_value());
}

}  // namespace
}  // namespace joule::storage
