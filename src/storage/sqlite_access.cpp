// SqliteStore's AccessStore: users, custom roles, sessions and API keys, in the same database and
// under the same writer lock as the rest of the store.
#include <sstream>

#include "base/assert.hpp"
#include "storage/sqlite_query.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::storage {

using sqlite::At;
using sqlite::CollectRows;
using sqlite::FirstRow;
using sqlite::Query;
using sqlite::Secs;

#define JOULE_USER_SELECT                                                              \
    "SELECT id, username, display_name, password_hash, role, all_projects, disabled, " \
    "failed_logins, locked_until, created_at, password_changed_at, version FROM users "

#define JOULE_ROLE_SELECT \
    "SELECT code, name, permissions, version, created_at, updated_at FROM roles "

class SqliteAccessTx final : public AccessTx, private sqlite::UnitOfWork {
public:
    SqliteAccessTx(SqliteStore::Connection& connection, std::unique_lock<std::mutex> lock)
        : UnitOfWork(connection.db, connection.statements, std::move(lock)) {}

    Result<int64_t> InsertUser(const UserRecord& u) override {
        auto q =
            Q("INSERT INTO users(username, display_name, password_hash, role, all_projects, "
              "disabled, failed_logins, locked_until, created_at, password_changed_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        q.Text(u.username)
            .Text(u.display_name)
            .Text(u.password_hash)
            .Text(u.role)
            .Int(u.all_projects)
            .Int(u.disabled)
            .Int(u.failed_logins)
            .OptInt(u.locked_until ? std::optional<int64_t>(Secs(*u.locked_until)) : std::nullopt)
            .Int(Secs(u.created_at))
            .Int(Secs(u.password_changed_at));
        auto inserted = q.Run();
        if (!inserted) {
            if (inserted.error().code == ErrorCode::kAlreadyExists) {
                return MakeError(ErrorCode::kAlreadyExists,
                                 "a user named '" + u.username + "' exists", "username");
            }
            return std::unexpected(inserted.error());
        }
        const int64_t id = sqlite3_last_insert_rowid(db_);
        JOULE_TRY(SaveLists(id, u));
        return id;
    }
    Result<std::optional<UserRecord>> FindUser(std::string_view username) override {
        auto q = Q(JOULE_USER_SELECT "WHERE username = ?");
        q.Text(username);
        JOULE_ASSIGN_OR_RETURN(auto user, FirstRow(q, UserRow));
        return WithLists(std::move(user));
    }
    Result<std::optional<UserRecord>> GetUser(int64_t id) override {
        auto q = Q(JOULE_USER_SELECT "WHERE id = ?");
        q.Int(id);
        JOULE_ASSIGN_OR_RETURN(auto user, FirstRow(q, UserRow));
        return WithLists(std::move(user));
    }
    Result<std::vector<UserRecord>> ListUsers() override {
        auto q = Q(JOULE_USER_SELECT "ORDER BY id");
        JOULE_ASSIGN_OR_RETURN(auto users, CollectRows(q, UserRow));
        for (UserRecord& u : users) {
            JOULE_TRY(LoadLists(u));
        }
        return users;
    }
    Result<int64_t> CountUsers() override {
        auto q = Q("SELECT COUNT(*) FROM users");
        JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
        return row ? q.ColInt(0) : 0;
    }
    Status UpdateUser(const UserRecord& u) override {
        auto q =
            Q("UPDATE users SET display_name = ?, password_hash = ?, role = ?, "
              "all_projects = ?, disabled = ?, failed_logins = ?, locked_until = ?, "
              "password_changed_at = ?, version = version + 1 WHERE id = ? AND version = ?");
        JOULE_TRY(q.Text(u.display_name)
                      .Text(u.password_hash)
                      .Text(u.role)
                      .Int(u.all_projects)
                      .Int(u.disabled)
                      .Int(u.failed_logins)
                      .OptInt(u.locked_until ? std::optional<int64_t>(Secs(*u.locked_until))
                                             : std::nullopt)
                      .Int(Secs(u.password_changed_at))
                      .Int(u.id)
                      .Int(u.version)
                      .Run());
        JOULE_TRY(ChangedOne("user " + std::to_string(u.id)));
        return SaveLists(u.id, u);
    }
    Status InsertRole(const RoleRecord& r) override {
        auto q =
            Q("INSERT INTO roles(code, name, permissions, version, created_at, updated_at) "
              "VALUES (?, ?, ?, 1, ?, ?)");
        auto inserted = q.Text(r.role.code)
                            .Text(r.role.name)
                            .Text(JoinPermissions(r.role.permissions))
                            .Int(Secs(r.created_at))
                            .Int(Secs(r.updated_at))
                            .Run();
        if (!inserted && inserted.error().code == ErrorCode::kAlreadyExists) {
            return MakeError(ErrorCode::kAlreadyExists, "a role '" + r.role.code + "' exists",
                             "code");
        }
        return inserted;
    }
    Result<std::vector<RoleRecord>> ListRoles() override {
        auto q = Q(JOULE_ROLE_SELECT "ORDER BY code");
        return CollectRows(q, RoleRow);
    }
    Result<std::optional<RoleRecord>> FindRole(std::string_view code) override {
        auto q = Q(JOULE_ROLE_SELECT "WHERE code = ?");
        q.Text(code);
        return FirstRow(q, RoleRow);
    }
    Status UpdateRole(const RoleRecord& r) override {
        auto q =
            Q("UPDATE roles SET name = ?, permissions = ?, updated_at = ?, version = version + 1 "
              "WHERE code = ? AND version = ?");
        JOULE_TRY(q.Text(r.role.name)
                      .Text(JoinPermissions(r.role.permissions))
                      .Int(Secs(r.updated_at))
                      .Text(r.role.code)
                      .Int(r.version)
                      .Run());
        return ChangedOne("role '" + r.role.code + "'");
    }
    Status DeleteRole(std::string_view code, int64_t version) override {
        auto q = Q("DELETE FROM roles WHERE code = ? AND version = ?");
        JOULE_TRY(q.Text(code).Int(version).Run());
        return ChangedOne("role '" + std::string(code) + "'");
    }
    Status InsertSession(const SessionRecord& s) override {
        auto q =
            Q("INSERT INTO sessions(token_hash, user_id, csrf_token, remote, created_at, "
              "expires_at) VALUES (?, ?, ?, ?, ?, ?)");
        return q.Text(s.token_hash)
            .Int(s.user_id)
            .Text(s.csrf_token)
            .Text(s.remote)
            .Int(Secs(s.created_at))
            .Int(Secs(s.expires_at))
            .Run();
    }
    Result<std::optional<SessionRecord>> FindSession(std::string_view token_hash) override {
        auto q =
            Q("SELECT token_hash, user_id, csrf_token, remote, created_at, expires_at "
              "FROM sessions WHERE token_hash = ?");
        q.Text(token_hash);
        return FirstRow(q, [](const Query& r) {
            SessionRecord s;
            s.token_hash = r.ColText(0);
            s.user_id = r.ColInt(1);
            s.csrf_token = r.ColText(2);
            s.remote = r.ColText(3);
            s.created_at = At(r.ColInt(4));
            s.expires_at = At(r.ColInt(5));
            return s;
        });
    }
    Status DeleteSession(std::string_view token_hash) override {
        auto q = Q("DELETE FROM sessions WHERE token_hash = ?");
        return q.Text(token_hash).Run();
    }
    Status DeleteSessionsOf(int64_t user_id) override {
        auto q = Q("DELETE FROM sessions WHERE user_id = ?");
        return q.Int(user_id).Run();
    }
    Result<int64_t> InsertApiKey(const ApiKeyRecord& k) override {
        auto q =
            Q("INSERT INTO api_keys(prefix, secret_hash, user_id, name, scopes, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?)");
        JOULE_TRY(q.Text(k.prefix)
                      .Text(k.secret_hash)
                      .Int(k.user_id)
                      .Text(k.name)
                      .Text(JoinPermissions(k.scopes))
                      .Int(Secs(k.created_at))
                      .Run());
        return sqlite3_last_insert_rowid(db_);
    }
    Result<std::optional<ApiKeyRecord>> FindApiKey(std::string_view prefix) override {
        auto q =
            Q("SELECT id, prefix, secret_hash, user_id, name, scopes, created_at, revoked_at "
              "FROM api_keys WHERE prefix = ?");
        q.Text(prefix);
        return FirstRow(q, ApiKeyRow);
    }
    Result<std::vector<ApiKeyRecord>> ListApiKeys() override {
        auto q =
            Q("SELECT id, prefix, secret_hash, user_id, name, scopes, created_at, revoked_at "
              "FROM api_keys ORDER BY id");
        return CollectRows(q, ApiKeyRow);
    }
    Status RevokeApiKey(int64_t id, Instant at) override {
        auto q = Q("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
        return q.Int(Secs(at)).Int(id).Run();
    }
    Status InsertOperation(const OperationRecord& op) override { return InsertOperationRow(op); }
    Result<std::pair<std::vector<LoggedOperation>, int64_t>> ListOperations(
        const OperationFilter& f) override {
        // Empty filters match everything ('' = ?); the project clause is a separate statement
        // so SQLite can use the operation_log_project index for it.
        static const std::string kAll =
            "FROM operation_log WHERE (?1 = '' OR actor = ?1) AND (?2 = '' OR action = ?2) AND "
            "(?3 = '' OR substr(target, 1, length(?3)) = ?3) AND (?4 IS NULL OR at >= ?4) AND "
            "(?5 IS NULL OR at < ?5) ";
        static const std::string kMine =
            kAll + "AND project_id IN (SELECT value FROM json_each(?6)) ";
        static const std::string kCount[2] = {"SELECT COUNT(*) " + kAll,
                                              "SELECT COUNT(*) " + kMine};
        static const std::string kPage[2] = {
            "SELECT seq, at, actor, action, target, detail, project_id, remote, request_id " +
                kAll + "ORDER BY seq DESC LIMIT ? OFFSET ?",
            "SELECT seq, at, actor, action, target, detail, project_id, remote, request_id " +
                kMine + "ORDER BY seq DESC LIMIT ? OFFSET ?"};
        const int mine = f.projects ? 1 : 0;
        auto bind = [&](Query& q) {
            q.Text(f.actor)
                .Text(f.action)
                .Text(f.target_prefix)
                .OptInt(f.from ? std::optional<int64_t>(Secs(*f.from)) : std::nullopt)
                .OptInt(f.to ? std::optional<int64_t>(Secs(*f.to)) : std::nullopt);
            if (f.projects) {
                std::string ids = "[";
                for (ProjectId p : *f.projects) {
                    ids += (ids.size() > 1 ? "," : "") + std::to_string(p.value);
                }
                q.Text(ids + "]");
            }
        };
        int64_t total = 0;
        {
            auto q = Q(kCount[mine].c_str());
            bind(q);
            JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
            total = row ? q.ColInt(0) : 0;
        }
        auto q = Q(kPage[mine].c_str());
        bind(q);
        q.Int(f.limit).Int(f.offset);
        JOULE_ASSIGN_OR_RETURN(auto items, CollectRows(q, [](const Query& r) {
                                   LoggedOperation l;
                                   l.seq = r.ColInt(0);
                                   l.op.at = At(r.ColInt(1));
                                   l.op.actor = r.ColText(2);
                                   l.op.action = r.ColText(3);
                                   l.op.target = r.ColText(4);
                                   l.op.detail = r.ColText(5);
                                   l.op.project = {r.ColInt(6)};
                                   l.op.remote = r.ColText(7);
                                   l.op.request_id = r.ColText(8);
                                   return l;
                               }));
        return std::pair{std::move(items), total};
    }
    Status Commit() override { return CommitWork(); }

private:
    static UserRecord UserRow(const Query& r) {
        UserRecord u;
        u.id = r.ColInt(0);
        u.username = r.ColText(1);
        u.display_name = r.ColText(2);
        u.password_hash = r.ColText(3);
        u.role = r.ColText(4);
        u.all_projects = r.ColInt(5) != 0;
        u.disabled = r.ColInt(6) != 0;
        u.failed_logins = static_cast<int32_t>(r.ColInt(7));
        if (auto locked = r.ColOptInt(8)) {
            u.locked_until = At(*locked);
        }
        u.created_at = At(r.ColInt(9));
        u.password_changed_at = At(r.ColInt(10));
        u.version = r.ColInt(11);
        return u;
    }
    // The last statement changed exactly one row, else kAborted: `what` was not at the version
    // the change was made against (or is gone).
    Status ChangedOne(const std::string& what) {
        if (sqlite3_changes(db_) != 1) {
            return MakeError(ErrorCode::kAborted, what + " was changed by someone else", "version");
        }
        return {};
    }
    // Permission names, comma separated (roles, API key scopes); an unknown name read back is
    // dropped, never granted.
    static std::string JoinPermissions(const PermissionSet& set) {
        std::string out;
        for (const std::string& name : PermissionNames(set)) {
            out += (out.empty() ? "" : ",") + name;
        }
        return out;
    }
    static PermissionSet SplitPermissions(const std::string& text) {
        PermissionSet set;
        std::stringstream names(text);
        std::string name;
        while (std::getline(names, name, ',')) {
            if (auto p = ParsePermission(name, "permissions")) {
                set.set(static_cast<std::size_t>(*p));
            }
        }
        return set;
    }
    static RoleRecord RoleRow(const Query& r) {
        RoleRecord role;
        role.role.code = r.ColText(0);
        role.role.name = r.ColText(1);
        role.role.permissions = SplitPermissions(r.ColText(2));
        role.version = r.ColInt(3);
        role.created_at = At(r.ColInt(4));
        role.updated_at = At(r.ColInt(5));
        return role;
    }
    static ApiKeyRecord ApiKeyRow(const Query& r) {
        ApiKeyRecord k;
        k.id = r.ColInt(0);
        k.prefix = r.ColText(1);
        k.secret_hash = r.ColText(2);
        k.user_id = r.ColInt(3);
        k.name = r.ColText(4);
        k.scopes = SplitPermissions(r.ColText(5));
        k.created_at = At(r.ColInt(6));
        if (auto revoked = r.ColOptInt(7)) {
            k.revoked_at = At(*revoked);
        }
        return k;
    }
    Result<std::optional<UserRecord>> WithLists(std::optional<UserRecord> user) {
        if (user) {
            JOULE_TRY(LoadLists(*user));
        }
        return user;
    }
    Status LoadLists(UserRecord& u) {
        {
            auto q = Q("SELECT project_id FROM user_projects WHERE user_id = ? ORDER BY 1");
            q.Int(u.id);
            JOULE_ASSIGN_OR_RETURN(
                u.projects, CollectRows(q, [](const Query& r) { return ProjectId{r.ColInt(0)}; }));
        }
        auto q = Q("SELECT account_id FROM user_accounts WHERE user_id = ? ORDER BY 1");
        q.Int(u.id);
        JOULE_ASSIGN_OR_RETURN(
            u.accounts, CollectRows(q, [](const Query& r) { return AccountId{r.ColInt(0)}; }));
        return {};
    }
    Status SaveLists(int64_t id, const UserRecord& u) {
        JOULE_TRY(Q("DELETE FROM user_projects WHERE user_id = ?").Int(id).Run());
        JOULE_TRY(Q("DELETE FROM user_accounts WHERE user_id = ?").Int(id).Run());
        for (ProjectId p : u.projects) {
            JOULE_TRY(Q("INSERT OR IGNORE INTO user_projects(user_id, project_id) VALUES (?, ?)")
                          .Int(id)
                          .Int(p.value)
                          .Run());
        }
        for (AccountId a : u.accounts) {
            JOULE_TRY(Q("INSERT OR IGNORE INTO user_accounts(user_id, account_id) VALUES (?, ?)")
                          .Int(id)
                          .Int(a.value)
                          .Run());
        }
        return {};
    }
};

Result<std::unique_ptr<AccessTx>> SqliteStore::BeginAccess() {
    std::unique_lock lock(writer_->mutex);
    JOULE_TRY(sqlite::CachedQuery(writer_->db, writer_->statements, "BEGIN IMMEDIATE").Run());
    return std::unique_ptr<AccessTx>(new SqliteAccessTx(*writer_, std::move(lock)));
}

}  // namespace joule::storage
