// Sign-in, users, roles (built-in and custom), API keys and the operation log [ADM-1, ADM-2,
// ADM-3, SEC-1]. Users and custom roles are read with an ETag and edited with If-Match; nobody
// hands out a permission it does not hold, nor disables or demotes itself.
#include <algorithm>

#include "api/api_internal.hpp"
#include "api/credentials.hpp"
#include "wire/json.hpp"

namespace joule::api {

namespace {

Json UserJson(const UserRecord& u, const std::vector<ProjectRecord>& projects) {
    Json project_codes = Json::array();
    for (ProjectId id : u.projects) {
        for (const ProjectRecord& p : projects) {
            if (p.id == id) {
                project_codes.push_back(p.code);
            }
        }
    }
    return Json{{"id", u.id},
                {"username", u.username},
                {"display_name", u.display_name},
                {"role", u.role},
                {"all_projects", u.all_projects},
                {"projects", project_codes},
                {"disabled", u.disabled},
                {"locked", u.locked_until.has_value()},
                {"version", u.version}};
}

// Whether `principal` may see and manage `user`: group users see everyone; project users see the
// users whose every project is theirs (a user of no project belongs to no project admin).
bool SeesUser(const Principal& principal, const UserRecord& user) {
    if (principal.all_projects) {
        return true;
    }
    return !user.all_projects && !user.projects.empty() &&
           std::all_of(user.projects.begin(), user.projects.end(),
                       [&](ProjectId p) { return principal.SeesProject(p); });
}

constexpr std::size_t kMaxUserProjects = 1000;
constexpr std::size_t kMaxDisplayNameBytes = 128;
constexpr std::size_t kMaxRolePermissions = 64;  // names, repeats allowed

// Only a group user makes group users; `granter` nullptr is the command line, which may.
Status CheckGroupGrant(const Principal* granter, bool all_projects) {
    if (granter != nullptr && !granter->all_projects && all_projects) {
        return MakeError(ErrorCode::kPermissionDenied, "only a group user can make group users",
                         "all_projects");
    }
    return {};
}

// The ids of the projects `codes` name, sorted, each one `granter` sees (nullptr: the command
// line, every project): a project it cannot see answers like one that does not exist.
Result<std::vector<ProjectId>> ProjectIdsOf(const std::vector<std::string>& codes,
                                            const std::vector<ProjectRecord>& projects,
                                            const Principal* granter) {
    std::vector<ProjectId> ids;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const auto it = std::find_if(projects.begin(), projects.end(),
                                     [&](const ProjectRecord& p) { return p.code == codes[i]; });
        if (it == projects.end() || (granter != nullptr && !granter->SeesProject(it->id))) {
            return NotFound("no project '" + codes[i].substr(0, 64) + "'",
                            "projects[" + std::to_string(i) + "]");
        }
        ids.push_back(it->id);
    }
    std::sort(ids.begin(), ids.end(), [](ProjectId a, ProjectId b) { return a.value < b.value; });
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
}

// The role `code` a user is given by `granter` (nullptr: the command line): 400 naming "role"
// when no role has the code, 403 when it holds a permission the granter does not.
Status CheckRoleGrant(AccessTx& tx, const std::string& code, const Principal* granter) {
    JOULE_ASSIGN_OR_RETURN(std::optional<RoleDefinition> role, tx.ResolveRole(code));
    if (!role) {
        return InvalidArgument("role", "unknown role '" + code.substr(0, 32) + "'");
    }
    return granter == nullptr ? Status() : CheckGrant(*granter, role->permissions, "role");
}

// An edit is made against the version stored now, else 409 naming If-Match.
Status CheckVersion(int64_t stored, int64_t expected, const std::string& what) {
    if (stored != expected) {
        return MakeError(ErrorCode::kAborted,
                         what + " was changed by someone else (version " + std::to_string(stored) +
                             " now); read it again",
                         "If-Match");
    }
    return {};
}

// The user of the path parameter `id`, if `principal` sees it; else 404 naming "user".
Result<UserRecord> SeenUser(AccessTx& tx, const Principal& principal, const std::string& id) {
    JOULE_ASSIGN_OR_RETURN(int64_t user_id, PositiveId(id, "user"));
    JOULE_ASSIGN_OR_RETURN(auto user, tx.GetUser(user_id));
    if (!user || !SeesUser(principal, *user)) {
        return NotFound("no user " + std::to_string(user_id), "user");
    }
    return *user;
}

// SeenUser, when `manager` may also change it: a user manager changes (edits, resets) only users
// whose role it holds every permission of, so it never takes over a more powerful user (403).
Result<UserRecord> ManagedUser(AccessTx& tx, const Principal& manager, const std::string& id) {
    JOULE_ASSIGN_OR_RETURN(UserRecord user, SeenUser(tx, manager, id));
    JOULE_ASSIGN_OR_RETURN(std::optional<RoleDefinition> role, tx.ResolveRole(user.role));
    if (role && !CheckGrant(manager, role->permissions, "user")) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "user " + user.username +
                             " has permissions you do not hold; a user manager who holds them "
                             "can change the user",
                         "user");
    }
    return user;
}

// A PATCH of a user: the fields given, each checked as create checks it.
struct UserPatch {
    std::optional<std::string> display_name;
    std::optional<std::string> role;
    std::optional<bool> all_projects;
    std::optional<std::vector<std::string>> projects;  // codes
    std::optional<bool> disabled;
};

Result<std::optional<bool>> OptFlag(wire::ObjectReader& body, std::string_view key) {
    if (!body.Has(key)) {
        return std::optional<bool>();
    }
    JOULE_ASSIGN_OR_RETURN(bool flag, body.OptBool(key, false));
    return std::optional<bool>(flag);
}

Result<UserPatch> ReadUserPatch(wire::ObjectReader& body) {
    UserPatch patch;
    JOULE_ASSIGN_OR_RETURN(patch.display_name, OptText(body, "display_name", kMaxDisplayNameBytes));
    if (body.Has("role")) {
        JOULE_ASSIGN_OR_RETURN(patch.role, body.String("role", kMaxRoleCodeBytes));
    }
    JOULE_ASSIGN_OR_RETURN(patch.all_projects, OptFlag(body, "all_projects"));
    JOULE_ASSIGN_OR_RETURN(const Json* list, body.OptArray("projects", kMaxUserProjects));
    if (list != nullptr) {
        JOULE_ASSIGN_OR_RETURN(patch.projects, StringList(*list, "projects"));
    }
    JOULE_ASSIGN_OR_RETURN(patch.disabled, OptFlag(body, "disabled"));
    return patch;
}

// `patch` applied to `user` by `editor`, with create's rules: a role the editor holds, group users
// made only by a group user, projects the editor sees. A field given unchanged is not checked.
Status ApplyUserPatch(AccessTx& tx, const Principal& editor, const UserPatch& patch,
                      const std::vector<ProjectRecord>& projects, UserRecord& user) {
    user.display_name = patch.display_name.value_or(user.display_name);
    if (patch.role && *patch.role != user.role) {
        JOULE_TRY(CheckRoleGrant(tx, *patch.role, &editor));
        user.role = *patch.role;
    }
    if (patch.all_projects) {
        JOULE_TRY(CheckGroupGrant(&editor, *patch.all_projects));
        user.all_projects = *patch.all_projects;
    }
    if (patch.projects) {
        JOULE_ASSIGN_OR_RETURN(user.projects, ProjectIdsOf(*patch.projects, projects, &editor));
    }
    user.disabled = patch.disabled.value_or(user.disabled);
    return {};
}

// Whether an edit changes what the user may reach: its role or projects, or it is disabled. Its
// sessions end and its cached principals go.
bool ReachChanged(const UserRecord& before, const UserRecord& after) {
    return after.role != before.role || after.all_projects != before.all_projects ||
           after.projects != before.projects || (after.disabled && !before.disabled);
}

// Nobody disables or demotes themselves (409), so the last user manager cannot lock everyone out.
Status CheckSelfEdit(const Principal& editor, const UserRecord& before, const UserRecord& after) {
    if (editor.user_id != before.id) {
        return {};
    }
    const char* field = after.disabled != before.disabled           ? "disabled"
                        : after.role != before.role                 ? "role"
                        : after.all_projects != before.all_projects ? "all_projects"
                        : after.projects != before.projects         ? "projects"
                                                                    : nullptr;
    if (field != nullptr) {
        return FailedPrecondition(
            std::string("you cannot change your own ") + field + "; another user manager can",
            field);
    }
    return {};
}

Json RoleJson(const RoleDefinition& r, int64_t version) {
    return Json{{"code", r.code},
                {"name", r.name},
                {"builtin", r.builtin},
                {"permissions", PermissionNames(r.permissions)},
                {"version", version}};
}

Json RoleJson(const RoleRecord& r) { return RoleJson(r.role, r.version); }

// A role's permissions from the body's "permissions": known, not tenant.self, and none the
// granter does not hold itself (403 naming "permissions").
Result<PermissionSet> RolePermissions(wire::ObjectReader& body, const Principal& granter) {
    JOULE_ASSIGN_OR_RETURN(const Json* list, body.Array("permissions", kMaxRolePermissions));
    JOULE_ASSIGN_OR_RETURN(std::vector<std::string> names, StringList(*list, "permissions"));
    JOULE_ASSIGN_OR_RETURN(PermissionSet set, ParseRolePermissions(names, "permissions"));
    JOULE_TRY(CheckGrant(granter, set, "permissions"));
    return set;
}

// The custom role `code` as stored at `version`: 404 naming "role" when there is none, 409 for a
// built-in role (they never change) or another version (naming If-Match).
Result<RoleRecord> RoleAtVersion(AccessTx& tx, const std::string& code, int64_t version) {
    if (FindBuiltinRole(code) != nullptr) {
        return FailedPrecondition("'" + code +
                                      "' is a built-in role: built-in roles cannot be changed or "
                                      "deleted; create a custom role instead",
                                  "role");
    }
    JOULE_ASSIGN_OR_RETURN(auto role, tx.FindRole(code));
    if (!role) {
        return NotFound("no role '" + code.substr(0, 32) + "'", "role");
    }
    JOULE_TRY(CheckVersion(role->version, version, "role '" + code + "'"));
    return *role;
}

// The users who have role `code`.
Result<std::vector<UserRecord>> HoldersOf(AccessTx& tx, const std::string& code) {
    JOULE_ASSIGN_OR_RETURN(auto users, tx.ListUsers());
    std::erase_if(users, [&](const UserRecord& u) { return u.role != code; });
    return users;
}

// A role's permissions change for every user who has it: `editor` must see each of them (a
// project's user manager does not change what another project's users may do), and may not
// change its own role's (409: it would demote itself).
Status CheckRoleReach(AccessTx& tx, const Principal& editor, const RoleRecord& role) {
    if (editor.role == role.role.code) {
        return FailedPrecondition(
            "you have the role '" + role.role.code +
                "': another user manager can change its permissions, you cannot",
            "permissions");
    }
    JOULE_ASSIGN_OR_RETURN(auto holders, HoldersOf(tx, role.role.code));
    const bool all_seen = std::all_of(holders.begin(), holders.end(),
                                      [&](const UserRecord& u) { return SeesUser(editor, u); });
    if (!all_seen) {
        return MakeError(ErrorCode::kPermissionDenied,
                         "users outside your projects have the role '" + role.role.code +
                             "'; a group user manager can change its permissions",
                         "role");
    }
    return {};
}

}  // namespace

Result<std::optional<UserRecord>> Api::Impl::ReadUser(
    const std::function<Result<std::optional<UserRecord>>(AccessTx&)>& read) {
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    return read(*tx);
}

// -------------------------------------------------------------------------------------- auth

Result<Reply> Api::Impl::Login(Call& c) {
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string username, body.String("username", 64));
    JOULE_ASSIGN_OR_RETURN(std::string password, body.String("password", kMaxPasswordBytes));
    JOULE_TRY(body.Finish());
    const auto refused = [] {
        // One message for every refusal, so a caller cannot probe which user names exist.
        return MakeError(ErrorCode::kUnauthenticated, "wrong user name or password");
    };
    // argon2id takes tens of milliseconds: the hash is checked outside any unit of work, whose
    // lock billing and ingest share, and the outcome recorded in a second one.
    JOULE_ASSIGN_OR_RETURN(auto found,
                           ReadUser([&](AccessTx& tx) { return tx.FindUser(username); }));
    if (!found) {
        // Check against a real hash anyway, so an unknown name costs the time a known one does.
        static const std::string kDecoy = HashPassword("decoy-password-0").value_or("");
        (void)VerifyPassword(password, kDecoy);
        return refused();
    }
    if (found->locked_until && *found->locked_until > c.now) {
        return MakeError(
            ErrorCode::kResourceExhausted,
            "too many failed sign-ins; try again after " + FormatInstant(*found->locked_until));
    }
    const bool verified = !found->disabled && VerifyPassword(password, found->password_hash);
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto user, tx->GetUser(found->id));
    if (!user) {
        return refused();
    }
    // A password changed or a user disabled in between is judged by what the store has now.
    if (!verified || user->disabled || user->password_hash != found->password_hash) {
        user->failed_logins += 1;
        if (user->failed_logins >= options.lockout_after_failures) {
            user->locked_until = c.now + options.lockout_for;
            user->failed_logins = 0;
        }
        JOULE_TRY(tx->UpdateUser(*user));
        JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "auth.login_failed", "user:" + user->username,
                               Json{{"locked", user->locked_until.has_value()}}));
        JOULE_TRY(tx->Commit());
        return refused();
    }
    user->failed_logins = 0;
    user->locked_until.reset();
    JOULE_TRY(tx->UpdateUser(*user));
    const std::string token = RandomHex(32);
    SessionRecord session;
    session.token_hash = Sha256Hex(token);
    session.user_id = user->id;
    session.csrf_token = RandomHex(16);
    session.remote = c.http.remote;
    session.created_at = c.now;
    session.expires_at = c.now + options.session_ttl;
    JOULE_TRY(tx->InsertSession(session));
    JOULE_ASSIGN_OR_RETURN(Principal principal, PrincipalOf(*tx, *user));
    c.principal = principal;
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "auth.login", "user:" + user->username,
                           Json::object()));
    JOULE_TRY(tx->Commit());
    Reply r;
    r.body = Json{{"username", user->username},
                  {"role", user->role},
                  {"permissions", PermissionNames(principal.permissions)},
                  {"csrf_token", session.csrf_token},
                  {"expires_at", FormatInstant(session.expires_at)}};
    r.headers.emplace_back("Set-Cookie", SessionCookie(kSessionCookie, token, options.session_ttl,
                                                       options.secure_cookies));
    return r;
}

Result<Reply> Api::Impl::Logout(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    if (!c.session_token_hash.empty()) {
        JOULE_TRY(tx->DeleteSession(c.session_token_hash));
    }
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "auth.logout", "user:" + c.principal.username,
                           Json::object()));
    JOULE_TRY(tx->Commit());
    Forget(c.session_token_hash);
    Reply r;
    r.status = 204;
    r.body = nullptr;
    r.headers.emplace_back("Set-Cookie",
                           SessionCookie(kSessionCookie, "", Seconds{0}, options.secure_cookies));
    return r;
}

Result<Reply> Api::Impl::Me(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    Json visible = Json::array();
    for (const ProjectRecord& p : projects) {
        if (c.principal.SeesProject(p.id)) {
            visible.push_back(Json{{"code", p.code}, {"name", p.name}});
        }
    }
    std::string csrf;
    if (!c.session_token_hash.empty()) {
        std::lock_guard lock(sessions_mutex);
        if (auto it = sessions.find(c.session_token_hash); it != sessions.end()) {
            csrf = it->second.session.csrf_token;
        }
    }
    Reply r;
    r.body = Json{{"username", c.principal.username},
                  {"role", c.principal.role},
                  {"permissions", PermissionNames(c.principal.permissions)},
                  {"projects", visible},
                  {"via_api_key", c.principal.via_api_key},
                  {"csrf_token", csrf}};
    return r;
}

Result<Reply> Api::Impl::ChangePassword(Call& c) {
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string old_password,
                           body.String("old_password", kMaxPasswordBytes));
    JOULE_ASSIGN_OR_RETURN(std::string new_password,
                           body.String("new_password", kMaxPasswordBytes));
    JOULE_TRY(body.Finish());
    JOULE_TRY(CheckPasswordPolicy(new_password, "new_password"));
    JOULE_ASSIGN_OR_RETURN(std::string hash, HashPassword(new_password));
    // Both hashes are computed outside the unit of work (see Login).
    const int64_t user_id = c.principal.user_id;
    JOULE_ASSIGN_OR_RETURN(auto before,
                           ReadUser([&](AccessTx& tx) { return tx.GetUser(user_id); }));
    if (!before || !VerifyPassword(old_password, before->password_hash)) {
        return MakeError(ErrorCode::kPermissionDenied, "the old password is wrong", "old_password");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto user, tx->GetUser(user_id));
    if (!user || user->password_hash != before->password_hash) {
        return MakeError(ErrorCode::kAborted, "the password changed meanwhile; sign in again",
                         "old_password");
    }
    user->password_hash = hash;
    user->password_changed_at = c.now;
    JOULE_TRY(tx->UpdateUser(*user));
    // Every session of the user ends, this one included: a stolen cookie dies with the password.
    JOULE_TRY(tx->DeleteSessionsOf(user->id));
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "auth.password_changed", "user:" + user->username,
                           Json::object()));
    JOULE_TRY(tx->Commit());
    ForgetUser(user->id);
    Reply r;
    r.status = 204;
    r.body = nullptr;
    return r;
}

// ------------------------------------------------------------------------------------- users

Result<Reply> Api::Impl::ListUsers(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto users, tx->ListUsers());
    std::vector<Json> items;
    for (const UserRecord& u : users) {
        if (SeesUser(c.principal, u)) {
            items.push_back(UserJson(u, projects));
        }
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"id", "username", "role"},
                                           {"role"}, {"username", "display_name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::CreateUserRoute(Call& c) {
    wire::ObjectReader body(c.body, "");
    NewUser spec;
    JOULE_ASSIGN_OR_RETURN(spec.username, body.String("username", 64));
    JOULE_ASSIGN_OR_RETURN(spec.password, body.String("password", kMaxPasswordBytes));
    JOULE_ASSIGN_OR_RETURN(spec.role, body.String("role", 32));
    JOULE_ASSIGN_OR_RETURN(spec.all_projects, body.OptBool("all_projects", false));
    JOULE_ASSIGN_OR_RETURN(const Json* project_list, body.OptArray("projects", kMaxUserProjects));
    JOULE_TRY(body.Finish());
    if (project_list != nullptr) {
        JOULE_ASSIGN_OR_RETURN(spec.projects, StringList(*project_list, "projects"));
    }
    JOULE_ASSIGN_OR_RETURN(int64_t id, InsertUser(spec, &c.principal, c.actor(), c.now));
    return Reply{201, Json{{"id", id}, {"username", spec.username}}, {}};
}

Result<int64_t> Api::Impl::InsertUser(const NewUser& spec, const Principal* creator,
                                      const Actor& actor, Instant now) {
    JOULE_TRY(CheckGroupGrant(creator, spec.all_projects));
    JOULE_TRY(CheckUsername(spec.username));
    JOULE_TRY(CheckPasswordPolicy(spec.password, "password"));
    UserRecord u;
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    JOULE_ASSIGN_OR_RETURN(u.projects, ProjectIdsOf(spec.projects, projects, creator));
    JOULE_ASSIGN_OR_RETURN(u.password_hash, HashPassword(spec.password));
    u.username = spec.username;
    u.role = spec.role;
    u.all_projects = spec.all_projects;
    u.created_at = now;
    u.password_changed_at = now;
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    // The role in the unit of work that stores the user: a custom role deleted meanwhile is not
    // given to anyone.
    JOULE_TRY(CheckRoleGrant(*tx, spec.role, creator));
    JOULE_ASSIGN_OR_RETURN(int64_t id, tx->InsertUser(u));
    JOULE_TRY(LogOperation(*tx, actor, now, "user.create", "user:" + spec.username,
                           Json{{"after",
                                 {{"role", spec.role},
                                  {"all_projects", spec.all_projects},
                                  {"projects", spec.projects}}}}));
    JOULE_TRY(tx->Commit());
    return id;
}

Result<Reply> Api::Impl::GetUserRoute(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());  // before the access unit of work
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(UserRecord user, SeenUser(*tx, c.principal, c.params.at("user")));
    return WithTag(200, UserJson(user, projects), user.version);
}

Result<Reply> Api::Impl::UpdateUserRoute(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(UserPatch patch, ReadUserPatch(body));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());  // before the access unit of work
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(UserRecord before, ManagedUser(*tx, c.principal, c.params.at("user")));
    JOULE_TRY(CheckVersion(before.version, version, "user " + before.username));
    UserRecord after = before;
    JOULE_TRY(ApplyUserPatch(*tx, c.principal, patch, projects, after));
    JOULE_TRY(CheckSelfEdit(c.principal, before, after));
    JOULE_TRY(tx->UpdateUser(after));
    after.version += 1;
    const bool reach = ReachChanged(before, after);
    if (reach) {
        JOULE_TRY(tx->DeleteSessionsOf(after.id));
    }
    JOULE_TRY(LogOperation(
        *tx, c.actor(), c.now, "user.update", "user:" + after.username,
        Json{{"before", UserJson(before, projects)}, {"after", UserJson(after, projects)}}));
    JOULE_TRY(tx->Commit());
    if (reach) {
        ForgetUser(after.id);
    }
    return WithTag(200, UserJson(after, projects), after.version);
}

Result<Reply> Api::Impl::ResetPassword(Call& c) {
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string password, body.String("password", kMaxPasswordBytes));
    JOULE_TRY(body.Finish());
    JOULE_TRY(CheckPasswordPolicy(password, "password"));
    JOULE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(UserRecord user, ManagedUser(*tx, c.principal, c.params.at("user")));
    user.password_hash = std::move(hash);
    user.password_changed_at = c.now;
    user.failed_logins = 0;
    user.locked_until.reset();
    JOULE_TRY(tx->UpdateUser(user));
    JOULE_TRY(tx->DeleteSessionsOf(user.id));
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "user.password_reset", "user:" + user.username,
                           Json::object()));
    JOULE_TRY(tx->Commit());
    ForgetUser(user.id);
    return Reply{204, nullptr, {}};
}

// ------------------------------------------------------------------------------------- roles

Result<Reply> Api::Impl::ListRoles(Call& c) {
    std::vector<Json> items;
    for (const RoleDefinition& r : BuiltinRoles()) {
        items.push_back(RoleJson(r, 0));
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto custom, tx->ListRoles());
    for (const RoleRecord& r : custom) {
        items.push_back(RoleJson(r));
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "name"}, {"builtin"},
                                           {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetRole(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    const std::string& code = c.params.at("role");
    if (const RoleDefinition* builtin = FindBuiltinRole(code)) {
        return Reply{200, RoleJson(*builtin, 0), {}};  // no ETag: it never changes
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto role, tx->FindRole(code));
    if (!role) {
        return NotFound("no role '" + code.substr(0, 32) + "'", "role");
    }
    return WithTag(200, RoleJson(*role), role->version);
}

Result<Reply> Api::Impl::CreateRole(Call& c) {
    wire::ObjectReader body(c.body, "");
    RoleRecord role;
    JOULE_ASSIGN_OR_RETURN(role.role.code, body.String("code", kMaxRoleCodeBytes));
    JOULE_TRY(CheckCustomRoleCode(role.role.code));
    JOULE_ASSIGN_OR_RETURN(role.role.name, body.String("name", kMaxRoleNameBytes));
    JOULE_TRY(CheckCustomRoleName(role.role.name));
    JOULE_ASSIGN_OR_RETURN(role.role.permissions, RolePermissions(body, c.principal));
    JOULE_TRY(body.Finish());
    role.version = 1;
    role.created_at = c.now;
    role.updated_at = c.now;
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_TRY(tx->InsertRole(role));
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "role.create", "role:" + role.role.code,
                           Json{{"after", RoleJson(role)}}));
    JOULE_TRY(tx->Commit());
    return Created(RoleJson(role), role.version, "/api/v1/roles/" + role.role.code);
}

Result<Reply> Api::Impl::UpdateRole(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::optional<std::string> name,
                           OptText(body, "name", kMaxRoleNameBytes));
    if (name) {
        JOULE_TRY(CheckCustomRoleName(*name));
    }
    std::optional<PermissionSet> permissions;
    if (body.Has("permissions")) {
        JOULE_ASSIGN_OR_RETURN(permissions, RolePermissions(body, c.principal));
    }
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, &body));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(RoleRecord before, RoleAtVersion(*tx, c.params.at("role"), version));
    RoleRecord after = before;
    after.role.name = name.value_or(before.role.name);
    after.role.permissions = permissions.value_or(before.role.permissions);
    after.updated_at = c.now;
    const bool reach = after.role.permissions != before.role.permissions;
    if (reach) {
        JOULE_TRY(CheckRoleReach(*tx, c.principal, before));
    }
    JOULE_TRY(tx->UpdateRole(after));
    after.version += 1;
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "role.update", "role:" + after.role.code,
                           Json{{"before", RoleJson(before)}, {"after", RoleJson(after)}}));
    JOULE_TRY(tx->Commit());
    if (reach) {
        // Every user with the role has the new permissions from the next request on.
        ForgetPrincipals([&](const Principal& p) { return p.role == after.role.code; });
    }
    return WithTag(200, RoleJson(after), after.version);
}

Result<Reply> Api::Impl::DeleteRole(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(int64_t version, EditVersion(c, nullptr));
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(RoleRecord role, RoleAtVersion(*tx, c.params.at("role"), version));
    JOULE_ASSIGN_OR_RETURN(auto holders, HoldersOf(*tx, role.role.code));
    if (!holders.empty()) {
        return FailedPrecondition("the role '" + role.role.code + "' is given to " +
                                      std::to_string(holders.size()) +
                                      " user(s); give them another role first",
                                  "role");
    }
    JOULE_TRY(tx->DeleteRole(role.role.code, role.version));
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "role.delete", "role:" + role.role.code,
                           Json{{"before", RoleJson(role)}}));
    JOULE_TRY(tx->Commit());
    return NoContent();
}

Result<Reply> Api::Impl::CreateApiKey(Call& c) {
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string name, body.String("name", 64));
    JOULE_ASSIGN_OR_RETURN(const Json* scope_list, body.Array("scopes", kPermissionCount));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(std::vector<std::string> names, StringList(*scope_list, "scopes"));
    JOULE_ASSIGN_OR_RETURN(PermissionSet scopes, ParsePermissions(names, "scopes"));
    if ((scopes & ~c.principal.permissions).any()) {
        return MakeError(ErrorCode::kPermissionDenied, "a key cannot have more than its creator",
                         "scopes");
    }
    const std::string prefix = "jk_" + RandomHex(4);
    const std::string key = prefix + "_" + RandomHex(24);
    ApiKeyRecord record;
    record.prefix = prefix;
    record.secret_hash = Sha256Hex(key);
    record.user_id = c.principal.user_id;
    record.name = name;
    record.scopes = scopes;
    record.created_at = c.now;
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(int64_t id, tx->InsertApiKey(record));
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "api_key.create", "api_key:" + prefix,
                           Json{{"after", {{"name", name}, {"scopes", names}}}}));
    JOULE_TRY(tx->Commit());
    return Reply{201,
                 Json{{"id", id},
                      {"prefix", prefix},
                      {"key", key},
                      {"name", name},
                      {"scopes", PermissionNames(scopes)}},
                 {}};
}

Result<Reply> Api::Impl::ListApiKeys(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto keys, tx->ListApiKeys());
    std::vector<Json> items;
    for (const ApiKeyRecord& k : keys) {
        if (!c.principal.all_projects && k.user_id != c.principal.user_id) {
            continue;  // project admins see their own keys only
        }
        items.push_back(Json{{"id", k.id},
                             {"prefix", k.prefix},
                             {"name", k.name},
                             {"scopes", PermissionNames(k.scopes)},
                             {"created_at", FormatInstant(k.created_at)},
                             {"revoked", k.revoked_at.has_value()}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), c.query, {"id", "name"}, {}, {"name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::RevokeApiKey(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t id, PositiveId(c.params.at("key"), "key"));
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto keys, tx->ListApiKeys());
    const auto it = std::find_if(keys.begin(), keys.end(), [&](const ApiKeyRecord& k) {
        return k.id == id && (c.principal.all_projects || k.user_id == c.principal.user_id);
    });
    if (it == keys.end()) {
        return NotFound("no API key " + std::to_string(id), "key");
    }
    JOULE_TRY(tx->RevokeApiKey(id, c.now));
    JOULE_TRY(LogOperation(*tx, c.actor(), c.now, "api_key.revoke", "api_key:" + it->prefix,
                           Json::object()));
    JOULE_TRY(tx->Commit());
    {
        std::lock_guard lock(sessions_mutex);
        ++principals_generation;
        std::erase_if(cached_keys,
                      [&](const auto& entry) { return entry.second.prefix == it->prefix; });
    }
    return Reply{204, nullptr, {}};
}

Result<Reply> Api::Impl::ListOperations(Call& c) {
    JOULE_TRY(OnlyParams(
        c.query, {"page", "page_size", "actor", "action", "target", "from", "to", "project"}));
    OperationFilter filter;
    auto text = [&](std::string_view key) {
        const auto it = c.query.find(key);
        return it == c.query.end() ? std::string() : it->second;
    };
    // Project staff read the changes of their projects; group users everything, including
    // changes of no one project (users, keys), unless they ask for one project.
    if (const std::string code = text("project"); !code.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(auto project, tx->FindProject(code));
        if (!project || !c.principal.SeesProject(project->id)) {
            return NotFound("no project '" + code.substr(0, 64) + "'", "project");
        }
        filter.projects = std::vector<ProjectId>{project->id};
    } else if (!c.principal.all_projects) {
        filter.projects = c.principal.projects;
    }
    filter.actor = text("actor");
    filter.action = text("action");
    filter.target_prefix = text("target");
    for (const auto& [key, slot] : {std::pair{"from", &filter.from}, std::pair{"to", &filter.to}}) {
        if (const std::string value = text(key); !value.empty()) {
            JOULE_ASSIGN_OR_RETURN(*slot, ParseInstant(value, key));
        }
    }
    JOULE_ASSIGN_OR_RETURN(PageBounds bounds, PageParams(c.query));
    const int64_t page = bounds.page;
    filter.limit = bounds.page_size;
    filter.offset = (page - 1) * filter.limit;
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());  // before the access unit of work
    auto project_code = [&](ProjectId id) {
        const auto it = std::find_if(projects.begin(), projects.end(),
                                     [&](const ProjectRecord& p) { return p.id == id; });
        return it == projects.end() ? std::string() : it->code;
    };
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto found, tx->ListOperations(filter));
    Json items = Json::array();
    for (const LoggedOperation& l : found.first) {
        Json detail = Json::parse(l.op.detail, nullptr, false);
        items.push_back(Json{{"seq", l.seq},
                             {"at", FormatInstant(l.op.at)},
                             {"actor", l.op.actor},
                             {"remote", l.op.remote},
                             {"request_id", l.op.request_id},
                             {"project", project_code(l.op.project)},
                             {"action", l.op.action},
                             {"target", l.op.target},
                             {"detail", detail.is_discarded() ? Json(l.op.detail) : detail}});
    }
    return Reply{200,
                 Json{{"items", std::move(items)},
                      {"page", page},
                      {"page_size", filter.limit},
                      {"total", found.second}},
                 {}};
}

}  // namespace joule::api
