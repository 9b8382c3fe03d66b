#include "storage/sqlite_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

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
    EXPECT_EQ(store->SchemaVersion().value(), 1);
    EXPECT_EQ(store->Migrate().value(), 0);  // nothing left to apply
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

}  // namespace
}  // namespace joule::storage
