#include "storage/wal_checkpointer.hpp"

#include <sqlite3.h>

#include "storage/sqlite_query.hpp"

namespace joule::storage {

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(sqlite3* writer,
                                                                const std::string& path,
                                                                const CheckpointOptions& options) {
    sqlite3* own = nullptr;
    if (sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK) {
        std::string message = own != nullptr ? sqlite3_errmsg(own) : "out of memory";
        sqlite3_close(own);
        return MakeError(ErrorCode::kUnavailable,
                         "cannot open database '" + path + "' to checkpoint: " + message);
    }
    for (const char* pragma :
         {"PRAGMA busy_timeout = 5000",
          options.full_sync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"}) {
        if (auto set = sqlite::Exec(own, pragma); !set) {
            sqlite3_close(own);
            return std::unexpected(set.error());
        }
    }
    std::unique_ptr<WalCheckpointer> checkpointer(new WalCheckpointer(writer, own, options));
    checkpointer->thread_ = std::thread([c = checkpointer.get()] { c->Run(); });
    sqlite3_wal_hook(writer, &WalCheckpointer::OnCommit, checkpointer.get());
    return checkpointer;
}

WalCheckpointer::WalCheckpointer(sqlite3* writer, sqlite3* own, const CheckpointOptions& options)
    : writer_(writer), own_(own), options_(options) {}

WalCheckpointer::~WalCheckpointer() {
    sqlite3_wal_autocheckpoint(writer_, options_.threshold_pages);  // replaces our hook
    {
        std::lock_guard lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
    sqlite3_close(own_);
}

// Runs on the writer's thread after each commit, under the writer's lock: keep it cheap.
int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages) {
    auto* c = static_cast<WalCheckpointer*>(self);
    if (wal_pages >= c->options_.hard_limit_pages) {
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        c->inline_.fetch_add(1);
    } else if (wal_pages >= c->options_.threshold_pages) {
        {
            std::lock_guard lock(c->mutex_);
            c->pending_ = true;
        }
        c->wake_.notify_one();
    }
    return SQLITE_OK;
}

void WalCheckpointer::Run() {
    std::unique_lock lock(mutex_);
    while (true) {
        wake_.wait(lock, [this] { return pending_ || stop_; });
        if (stop_) {
            return;
        }
        pending_ = false;
        lock.unlock();
        // PASSIVE copies what no reader still needs and never waits for the writer; a WAL that is
        // completely copied is restarted by the writer's next transaction.
        if (sqlite3_wal_checkpoint_v2(own_, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
            SQLITE_OK) {
            background_.fetch_add(1);
        }
        lock.lock();
    }
}

}  // namespace joule::storage
