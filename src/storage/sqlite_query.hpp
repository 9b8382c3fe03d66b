// Internal to the SQLite adapters: a cached statement with typed binds and columns, row helpers,
// and the mapping of SQLite result codes to error codes. Not part of any port.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/assert.hpp"
#include "base/error.hpp"
#include "core/ports.hpp"
#include "core/time.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::storage::sqlite {

inline int64_t Secs(Instant t) { return t.time_since_epoch().count(); }
inline Instant At(int64_t s) { return Instant{Seconds{s}}; }

inline Error SqlError(sqlite3* db, int rc, std::string_view what) {
    const ErrorCode code = (rc & 0xff) == SQLITE_CONSTRAINT ? ErrorCode::kAlreadyExists
                           : (rc & 0xff) == SQLITE_BUSY     ? ErrorCode::kUnavailable
                           : (rc & 0xff) == SQLITE_FULL     ? ErrorCode::kResourceExhausted
                                                            : ErrorCode::kInternal;
    return Error{code, std::string(what) + ": " + sqlite3_errmsg(db), ""};
}

// A bound statement from the cache; reset when it goes out of scope.
class Query {
public:
    Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    ~Query() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;

    Query& Int(int64_t v) {
        sqlite3_bind_int64(stmt_, ++index_, v);
        return *this;
    }
    Query& OptInt(std::optional<int64_t> v) {
        if (v) {
            sqlite3_bind_int64(stmt_, ++index_, *v);
        } else {
            sqlite3_bind_null(stmt_, ++index_);
        }
        return *this;
    }
    Query& IdOrNull(int64_t v) { return OptInt(v > 0 ? std::optional<int64_t>(v) : std::nullopt); }
    Query& Text(std::string_view v) {
        sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
        return *this;
    }
    // true when a row is available
    Result<bool> Step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            return true;
        }
        if (rc == SQLITE_DONE) {
            return false;
        }
        return std::unexpected(SqlError(db_, rc, "sqlite step"));
    }
    Status Run() {
        JOULE_ASSIGN_OR_RETURN(bool row, Step());
        (void)row;
        return {};
    }
    int64_t ColInt(int c) const { return sqlite3_column_int64(stmt_, c); }
    bool ColNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
    std::optional<int64_t> ColOptInt(int c) const {
        return ColNull(c) ? std::nullopt : std::optional<int64_t>(ColInt(c));
    }
    std::string ColText(int c) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, c))) : "";
    }

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
    int index_ = 0;
};

// Steps `q` to the end, turning each row into an element with `row`.
template <class RowFn>
auto CollectRows(Query& q, RowFn row) -> Result<std::vector<decltype(row(q))>> {
    std::vector<decltype(row(q))> out;
    while (true) {
        JOULE_ASSIGN_OR_RETURN(bool more, q.Step());
        if (!more) {
            return out;
        }
        out.push_back(row(q));
    }
}

// The first row of `q` turned into a value with `row`, or nullopt when there is none.
template <class RowFn>
auto FirstRow(Query& q, RowFn row) -> Result<std::optional<decltype(row(q))>> {
    JOULE_ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) {
        return std::nullopt;
    }
    return row(q);
}

inline Status Exec(sqlite3* db, const char* sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
        std::string text = message ? message : "unknown";
        sqlite3_free(message);
        return MakeError(ErrorCode::kInternal, std::string("sqlite: ") + text);
    }
    return {};
}

// Prepared statements by SQL text (string literals or other strings that live as long as the
// cache: their address is their identity), prepared once and kept. A statement that does not
// prepare is a bug in this code, not an operating error.
using StatementCache = std::unordered_map<const char*, sqlite3_stmt*>;
inline Query CachedQuery(sqlite3* db, StatementCache& cache, const char* sql) {
    auto it = cache.find(sql);
    if (it == cache.end()) {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        JOULE_ASSERT(rc == SQLITE_OK, sqlite3_errmsg(db));
        it = cache.emplace(sql, stmt).first;
    }
    return Query(db, it->second);
}

// What both units of work (billing and access) share: the store's lock, held from BEGIN until
// COMMIT or the rollback when the object dies, and the store's prepared statements.
class UnitOfWork {
public:
    UnitOfWork(sqlite3* db, StatementCache& statements, std::unique_lock<std::mutex> lock)
        : db_(db), statements_(statements), lock_(std::move(lock)) {}
    ~UnitOfWork() {
        if (!done_) {
            (void)Q("ROLLBACK").Run();
        }
    }
    UnitOfWork(const UnitOfWork&) = delete;
    UnitOfWork& operator=(const UnitOfWork&) = delete;

protected:
    Status CommitWork() {
        JOULE_ASSERT(!done_, "a unit of work was committed twice");
        JOULE_TRY(Q("COMMIT").Run());  // prepared once: sqlite3_exec would parse it each time
        done_ = true;
        lock_.unlock();  // the next unit of work may begin while this object still lives
        return {};
    }
    Query Q(const char* sql) { return CachedQuery(db_, statements_, sql); }
    [[nodiscard]] bool Committed() const { return done_; }
    // The operation log is written by both units of work: one statement.
    Status InsertOperationRow(const OperationRecord& op) {
        auto q =
            Q("INSERT INTO operation_log(at, actor, action, target, detail, project_id, "
              "remote, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        return q.Int(Secs(op.at))
            .Text(op.actor)
            .Text(op.action)
            .Text(op.target)
            .Text(op.detail)
            .Int(op.project.value)
            .Text(op.remote)
            .Text(op.request_id)
            .Run();
    }

    sqlite3* db_;

private:
    StatementCache& statements_;
    std::unique_lock<std::mutex> lock_;
    bool done_ = false;
};

}  // namespace joule::storage::sqlite

namespace joule::storage {

struct SqliteStore::Connection {
    explicit Connection(sqlite3* handle) : db(handle) {}
    ~Connection() {
        for (auto& [sql, stmt] : statements) {
            sqlite3_finalize(stmt);
        }
        sqlite3_close(db);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sqlite3* db;
    std::mutex mutex;  // one unit of work at a time
    // Prepared statements by SQL text (string literals: their address is their identity).
    sqlite::StatementCache statements;
    // Parsed tariffs by id, with the number of versions they were read with. Versions are only
    // ever appended, so an unchanged count means an unchanged tariff.
    struct CachedTariff {
        int64_t versions = 0;
        std::shared_ptr<const TariffRecord> record;
    };
    std::unordered_map<int64_t, CachedTariff> tariffs;
};

}  // namespace joule::storage
