// Moves WAL checkpoints off the writer's commit path. By default SQLite's writer copies the WAL
// back into the database itself (and with synchronous=FULL fsyncs the database) in whichever commit
// crosses 1,000 WAL pages, stalling ingest for that long. Here the writer's commit only signals; a
// thread with its own connection runs PASSIVE checkpoints (they never block the writer or readers)
// on the other core. If the WAL still outgrows `hard_limit_pages` (the checkpoint cannot keep up or
// a long reader pins it), the writer checkpoints inline as before, so the WAL stays bounded.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/error.hpp"

struct sqlite3;

namespace joule::storage {

struct CheckpointOptions {
    int threshold_pages = 1000;  // signal the checkpoint thread at this WAL size (SQLite's default)
    int hard_limit_pages = 20000;  // the writer checkpoints itself beyond this (about 80 MB)
    bool full_sync = true;         // fsync the database after each checkpoint (synchronous=FULL)
};

class WalCheckpointer {
public:
    // Installs the WAL hook on `writer` (replacing its auto-checkpoint) and starts the thread on a
    // second connection to `path`. `writer` must outlive the checkpointer.
    [[nodiscard]] static Result<std::unique_ptr<WalCheckpointer>> Start(
        sqlite3* writer, const std::string& path, const CheckpointOptions& options);
    // Stops the thread and gives the writer back SQLite's auto-checkpoint.
    ~WalCheckpointer();
    WalCheckpointer(const WalCheckpointer&) = delete;
    WalCheckpointer& operator=(const WalCheckpointer&) = delete;

    [[nodiscard]] int64_t background_checkpoints() const { return background_.load(); }
    [[nodiscard]] int64_t inline_checkpoints() const { return inline_.load(); }

private:
    WalCheckpointer(sqlite3* writer, sqlite3* own, const CheckpointOptions& options);
    static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
    void Run();

    sqlite3* writer_;
    sqlite3* own_;
    CheckpointOptions options_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool pending_ = false;  // guarded by mutex_
    bool stop_ = false;     // guarded by mutex_
    std::atomic<int64_t> background_{0};
    std::atomic<int64_t> inline_{0};
    std::thread thread_;
};

}  // namespace joule::storage
