// The port for users, sessions and API keys [ADM-1, ADM-3, SEC-1]. Secrets are never stored:
// passwords as argon2id hashes, session tokens and API key secrets as SHA-256 hashes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "core/access.hpp"
#include "core/ids.hpp"
#include "core/ports.hpp"
#include "core/time.hpp"

namespace joule {

struct UserRecord {
    int64_t id = 0;
    std::string username;  // unique, 1..64 bytes
    std::string display_name;
    std::string password_hash;  // argon2id, libsodium's encoded string
    std::string role;           // a built-in or custom role's code
    bool all_projects = false;
    std::vector<ProjectId> projects;
    std::vector<AccountId> accounts;  // tenant users: their own accounts
    bool disabled = false;
    int32_t failed_logins = 0;  // consecutive
    std::optional<Instant> locked_until;
    Instant created_at;
    Instant password_changed_at;
    int64_t version = 0;  // bumped on every update (optimistic concurrency)
};

// A custom role [ADM-1]: a named list of permissions the user managers define beside the built-in
// roles (role.builtin is false). Users refer to it by code.
struct RoleRecord {
    RoleDefinition role;
    int64_t version = 0;  // 1 when inserted, bumped on every update (optimistic concurrency)
    Instant created_at;
    Instant updated_at;
};

struct SessionRecord {
    std::string token_hash;  // hex SHA-256 of the cookie value
    int64_t user_id = 0;
    std::string csrf_token;
    std::string remote;
    Instant created_at;
    Instant expires_at;
};

struct ApiKeyRecord {
    int64_t id = 0;
    std::string prefix;       // public part, shown in lists ("jk_1a2b3c4d")
    std::string secret_hash;  // hex SHA-256 of the whole key
    int64_t user_id = 0;      // acts with this user's projects, narrowed to `scopes`
    std::string name;
    PermissionSet scopes;
    Instant created_at;
    std::optional<Instant> revoked_at;
};

// A query of the operation log [ADM-2]: exact actor and action, a target prefix, an instant range,
// newest first.
struct OperationFilter {
    std::string actor;
    std::string action;
    std::string target_prefix;
    std::optional<Instant> from;  // inclusive
    std::optional<Instant> to;    // exclusive
    // Only changes in these projects; nullopt: every row, including those of no project.
    std::optional<std::vector<ProjectId>> projects;
    int64_t offset = 0;
    int64_t limit = 50;
};

struct LoggedOperation {
    int64_t seq = 0;
    OperationRecord op;
};

class AccessTx {
public:
    virtual ~AccessTx() = default;
    // kAlreadyExists (field "username") when the name is taken.
    virtual Result<int64_t> InsertUser(const UserRecord& u) = 0;
    virtual Result<std::optional<UserRecord>> FindUser(std::string_view username) = 0;
    virtual Result<std::optional<UserRecord>> GetUser(int64_t id) = 0;
    virtual Result<std::vector<UserRecord>> ListUsers() = 0;
    virtual Result<int64_t> CountUsers() = 0;
    // Saves every field and the project/account lists when u.version is the stored version, and
    // bumps it; kAborted (field "version") when someone changed the user in between.
    virtual Status UpdateUser(const UserRecord& u) = 0;
    // Custom roles. InsertRole: kAlreadyExists (field "code") when the code is taken. UpdateRole
    // saves the name and permissions and bumps the version, DeleteRole deletes, each only when
    // the stored version is r.version / `version`: else kAborted (field "version").
    virtual Status InsertRole(const RoleRecord& r) = 0;
    virtual Result<std::vector<RoleRecord>> ListRoles() = 0;  // by code
    virtual Result<std::optional<RoleRecord>> FindRole(std::string_view code) = 0;
    virtual Status UpdateRole(const RoleRecord& r) = 0;
    virtual Status DeleteRole(std::string_view code, int64_t version) = 0;
    // A user's role, built-in or custom: the one place a role code becomes permissions. nullopt
    // when no role has `code`.
    Result<std::optional<RoleDefinition>> ResolveRole(std::string_view code);
    virtual Status InsertSession(const SessionRecord& s) = 0;
    virtual Result<std::optional<SessionRecord>> FindSession(std::string_view token_hash) = 0;
    virtual Status DeleteSession(std::string_view token_hash) = 0;
    virtual Status DeleteSessionsOf(int64_t user_id) = 0;
    virtual Result<int64_t> InsertApiKey(const ApiKeyRecord& k) = 0;
    virtual Result<std::optional<ApiKeyRecord>> FindApiKey(std::string_view prefix) = 0;
    virtual Result<std::vector<ApiKeyRecord>> ListApiKeys() = 0;
    virtual Status RevokeApiKey(int64_t id, Instant at) = 0;
    // The operation log [ADM-2], in the same unit of work as the change it records.
    virtual Status InsertOperation(const OperationRecord& op) = 0;
    // The matching page and the total number of matches.
    virtual Result<std::pair<std::vector<LoggedOperation>, int64_t>> ListOperations(
        const OperationFilter& filter) = 0;
    virtual Status Commit() = 0;
};

class AccessStore {
public:
    virtual ~AccessStore() = default;
    virtual Result<std::unique_ptr<AccessTx>> BeginAccess() = 0;
};

}  // namespace joule
