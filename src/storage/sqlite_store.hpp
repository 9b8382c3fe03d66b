// The embedded store: SQLite in WAL mode, one connection, one writer at a time. Implements the
// ports of core/ports.hpp.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/access_ports.hpp"
#include "core/ports.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace joule::storage {

// stored in config: the durability of a commit.
enum class Durability {
    kFull,    // synchronous=FULL: the WAL is fsynced at every commit; survives power loss
    kNormal,  // synchronous=NORMAL: fsync at checkpoints only; a power cut may lose last commits
};

struct SqliteOptions {
    Durability durability = Durability::kFull;
    bool migrate = true;  // apply pending migrations on open
};

class SqliteStore final : public Store, public AccessStore {
public:
    // Opens (creating if needed) the database at `path` (":memory:" for a private one), sets
    // WAL and the durability, and applies pending migrations. Fails with kUnavailable when the file
    // cannot be opened and kDataLoss when a migration fails or the schema is newer than this build.
    [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                                   const SqliteOptions& options);
    ~SqliteStore() override;
    SqliteStore(const SqliteStore&) = delete;
    SqliteStore& operator=(const SqliteStore&) = delete;

    [[nodiscard]] Result<std::unique_ptr<Tx>> Begin() override;
    // Users, sessions and API keys (sqlite_access.cpp); the same writer lock as Begin().
    [[nodiscard]] Result<std::unique_ptr<AccessTx>> BeginAccess() override;

    // The schema version after migrations, and how many were applied by Open/Migrate.
    [[nodiscard]] Result<int> SchemaVersion();
    [[nodiscard]] Result<int> Migrate();

    sqlite3* handle() { return db_; }

private:
    explicit SqliteStore(sqlite3* db) : db_(db) {}
    sqlite3* db_;
    std::mutex writer_;  // one unit of work at a time
    // Parsed tariffs by id, with the number of versions they were read with. Versions are only
    // ever appended, so an unchanged count means an unchanged tariff. Guarded by writer_.
    struct CachedTariff {
        int64_t versions = 0;
        std::shared_ptr<const TariffRecord> record;
    };
    std::unordered_map<int64_t, CachedTariff> tariff_cache_;
    // Prepared statements by SQL text (string literals: their address is their identity),
    // finalized on close. Guarded by writer_.
    std::unordered_map<const char*, sqlite3_stmt*> statements_;
    friend class SqliteTx;
    friend class SqliteAccessTx;
};

}  // namespace joule::storage
