// The embedded store: SQLite in WAL mode. One writer connection (one unit of work that writes at a
// time) and a few read-only connections, so reads run beside each other and beside the writer.
// Implements the ports of core/ports.hpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/access_ports.hpp"
#include "core/ports.hpp"
#include "storage/wal_checkpointer.hpp"

struct sqlite3;

namespace joule::storage {

// stored in config: the durability of a commit.
enum class Durability {
    kFull,    // synchronous=FULL: the WAL is fsynced at every commit; survives power loss
    kNormal,  // synchronous=NORMAL: fsync at checkpoints only; a power cut may lose last commits
};

struct SqliteOptions {
    Durability durability = Durability::kFull;
    bool migrate = true;  // apply pending migrations on open
    // Read-only connections for BeginRead(). 0, or a database without a file (":memory:"): reads
    // use the writer's connection and wait for its lock.
    int read_connections = 4;
    // Checkpoints of a file database run on their own thread (storage/wal_checkpointer.hpp).
    bool background_checkpoints = true;
    // The writer's page cache, MiB; memory is taken only as pages are read. Ingest of 100,000
    // meters touches each meter's newest index and state pages in every few commits, some 200 MiB
    // by the end of docs/performance.md's 5-minute run; a smaller cache reads them back each time.
    int writer_cache_mib = 256;
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
    [[nodiscard]] Result<std::unique_ptr<Tx>> BeginRead() override;
    // Group commit: the callers waiting at once share one transaction and one commit (one fsync
    // with Durability::kFull). The first caller to find no group running leads: it takes what is
    // queued (itself included, at most kMaxGroup), runs each work inside a savepoint, commits and
    // wakes the others; whoever arrived meanwhile forms the next group.
    [[nodiscard]] Status RunCommitted(const std::function<Status(Tx&)>& work) override;
    static constexpr std::size_t kMaxGroup = 256;
    struct GroupStats {
        std::uint64_t groups = 0;  // transactions run for RunCommitted
        std::uint64_t works = 0;   // works run in them
        std::size_t waiting = 0;   // works queued for the next group now
    };
    [[nodiscard]] GroupStats group_stats();
    struct CheckpointStats {
        std::int64_t background = 0;  // run by the checkpoint thread
        std::int64_t inline_ = 0;     // run by the writer, the WAL past its hard limit
    };
    [[nodiscard]] CheckpointStats checkpoint_stats() const;
    // Users, sessions and API keys (sqlite_access.cpp); the same writer lock as Begin().
    [[nodiscard]] Result<std::unique_ptr<AccessTx>> BeginAccess() override;

    // The schema version after migrations, and how many were applied by Open/Migrate.
    [[nodiscard]] Result<int> SchemaVersion();
    [[nodiscard]] Result<int> Migrate();

    sqlite3* handle();  // the writer's connection

    // One connection and what belongs to it (prepared statements, parsed tariffs); used by one
    // unit of work at a time, under its mutex. Defined in sqlite_store.cpp.
    struct Connection;

private:
    explicit SqliteStore(std::unique_ptr<Connection> writer);
    Status OpenReaders();
    struct GroupMember;
    void RunGroup(std::span<GroupMember* const> members);
    std::unique_ptr<Connection> writer_;
    std::string reader_path_;  // empty: no file, no readers
    int reader_count_ = 0;
    std::mutex readers_mutex_;  // guards opening the readers
    std::atomic<bool> readers_ready_{false};
    std::vector<std::unique_ptr<Connection>> readers_;
    std::atomic<std::size_t> next_reader_{0};
    struct Group;  // the queue of RunCommitted
    std::unique_ptr<Group> group_;
    std::unique_ptr<WalCheckpointer> checkpointer_;  // last: stops before the connections close
};

}  // namespace joule::storage
