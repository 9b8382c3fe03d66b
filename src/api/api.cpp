#include "api/api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <unordered_map>

#include "api/credentials.hpp"
#include "api/http_util.hpp"
#include "service/billing_service.hpp"
#include "wire/json.hpp"

namespace joule::api {

using wire::Json;

namespace {

constexpr std::string_view kSessionCookie = "joule_session";
constexpr std::size_t kMaxIdempotencyKeyBytes = 64;
constexpr std::size_t kMaxCachedSessions = 10'000;

// One call's context, handed to a route's handler.
struct Call {
    const HttpRequest& http;
    const RouteInfo& route;
    std::map<std::string, std::string, std::less<>> params;  // path parameters
    QueryParams query;
    Principal principal;
    std::optional<ProjectRecord> project;  // resolved {project}, visible to the principal
    Json body;                             // parsed JSON body (an object) for routes with a body
    Instant now;
    std::string request_id;
    std::string session_token_hash;  // the cookie session, if that is how the caller came
};

// Who made a change and from where, for the operation log.
struct Origin {
    std::string actor;
    std::string remote;
    std::string request_id;
    Instant at;
};

Origin OriginOf(const Call& call) {
    return {call.principal.username.empty() ? "anonymous" : call.principal.username,
            call.http.remote, call.request_id, call.now};
}

// The fields of a new user, from the API or the command line.
struct NewUser {
    std::string username;
    std::string password;
    std::string role;
    bool all_projects = false;
    std::vector<std::string> projects;  // codes
};

struct Reply {
    int status = 200;
    Json body;
    std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<Result<Reply>(Call&)>;

struct Route {
    RouteInfo info;
    std::vector<std::string> segments;  // pattern split on '/', "{name}" for parameters
    Handler handler;
};

std::vector<std::string> SplitPath(std::string_view path) {
    std::vector<std::string> out;
    std::size_t start = 1;
    while (start <= path.size()) {
        const auto slash = path.find('/', start);
        const auto end = slash == std::string_view::npos ? path.size() : slash;
        out.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

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

Json AccountSummaryJson(const AccountRecord& a) {
    return Json{{"number", a.number},
                {"tenant_name", a.tenant_name},
                {"phone", a.phone},
                {"status", AccountStatusName(a.status)},
                {"state", PrepaidStateName(a.prepaid.state)},
                {"relay", RelayName(a.prepaid.relay)},
                {"keep_power", a.prepaid.keep_power},
                {"billing_mode", BillingModeName(a.billing_mode)},
                {"opened_at", FormatInstant(a.opened_at)},
                {"version", a.version}};
}

}  // namespace

struct Api::Impl {
    Store& store;
    AccessStore& access;
    BillingService& billing;
    ApiOptions options;
    std::vector<Route> routes;
    std::vector<RouteInfo> infos;
    std::mutex log_mutex;
    Metrics metrics;

    // Sessions by token hash: the store is the truth; this saves a read per request. Logout,
    // password change and lockout erase entries here and in the store together.
    struct CachedSession {
        SessionRecord session;
        Principal principal;
    };
    std::mutex sessions_mutex;
    std::unordered_map<std::string, CachedSession> sessions;
    // API keys by the SHA-256 of the whole key, like sessions: revoking drops the entry.
    struct CachedKey {
        std::string prefix;
        Principal principal;
    };
    std::unordered_map<std::string, CachedKey> cached_keys;  // guarded by sessions_mutex

    Impl(Store& s, AccessStore& a, BillingService& b, ApiOptions o)
        : store(s), access(a), billing(b), options(std::move(o)) {
        if (!options.clock) {
            options.clock = [] {
                return std::chrono::floor<Seconds>(std::chrono::system_clock::now());
            };
        }
        AddRoutes();
        for (const Route& r : routes) {
            infos.push_back(r.info);
        }
    }

    void Add(RouteInfo info, Handler handler) {
        Route r;
        r.segments = SplitPath(info.pattern);
        r.info = std::move(info);
        r.handler = std::move(handler);
        routes.push_back(std::move(r));
    }
    void AddRoutes();

    HttpResponse Handle(const HttpRequest& request);
    Result<Reply> Dispatch(const HttpRequest& request, const std::string& request_id,
                           std::string& route_label, std::string& user_label);
    Result<Principal> Authenticate(const HttpRequest& request, Call* call);
    static Result<Principal> PrincipalOf(const UserRecord& user);
    void Forget(std::string_view token_hash);
    void ForgetUser(int64_t user_id);
    // Records a mutating call in the operation log inside the caller's unit of work.
    static Status LogOperation(AccessTx& tx, const Origin& origin, std::string action,
                               std::string target, Json detail);
    // Validates and stores a user, logged as made by `origin`. `creator` is the signed-in
    // principal (it may not create group users unless it is one, nor reach projects it does not
    // see); nullptr for the command line.
    Result<int64_t> InsertUser(const NewUser& spec, const Principal* creator, const Origin& origin);
    Result<std::vector<ProjectRecord>> Projects();

    // Handlers
    Result<Reply> Login(Call& c);
    Result<Reply> Logout(Call& c);
    Result<Reply> Me(Call& c);
    Result<Reply> ChangePassword(Call& c);
    Result<Reply> ListUsers(Call& c);
    Result<Reply> CreateUserRoute(Call& c);
    Result<Reply> ResetPassword(Call& c);
    Result<Reply> ListRoles(Call& c);
    Result<Reply> CreateApiKey(Call& c);
    Result<Reply> ListApiKeys(Call& c);
    Result<Reply> RevokeApiKey(Call& c);
    Result<Reply> ListProjects(Call& c);
    Result<Reply> ListAccounts(Call& c);
    Result<Reply> GetAccount(Call& c);
    Result<Reply> TopUp(Call& c);
    Result<Reply> ListMeters(Call& c);
    Result<Reply> ListAlarms(Call& c);
    Result<Reply> ListOperations(Call& c);
};

// ------------------------------------------------------------------------------------- routes

void Api::Impl::AddRoutes() {
    using P = Permission;
    using A = RouteAccess;
    auto bind = [this](Result<Reply> (Impl::*fn)(Call&)) {
        return [this, fn](Call& c) { return (this->*fn)(c); };
    };
    Add({"POST", "/api/v1/auth/login", "login", "Sign in with a password; sets the session cookie",
         "auth", A::kPublic, P::kProjectsView, false, false, true},
        bind(&Impl::Login));
    Add({"POST", "/api/v1/auth/logout", "logout", "End this session", "auth", A::kSignedIn,
         P::kProjectsView, false, false, false},
        bind(&Impl::Logout));
    Add({"GET", "/api/v1/auth/me", "me", "The signed-in user, permissions and CSRF token", "auth",
         A::kSignedIn, P::kProjectsView, false, false, false},
        bind(&Impl::Me));
    Add({"POST", "/api/v1/auth/password", "changePassword",
         "Change one's own password; every other session ends", "auth", A::kSignedIn,
         P::kProjectsView, false, false, true},
        bind(&Impl::ChangePassword));
    Add({"GET", "/api/v1/users", "listUsers", "Users", "users", A::kPermission, P::kUsersManage,
         false, true, false},
        bind(&Impl::ListUsers));
    Add({"POST", "/api/v1/users", "createUser", "Create a user", "users", A::kPermission,
         P::kUsersManage, false, false, true},
        bind(&Impl::CreateUserRoute));
    Add({"POST", "/api/v1/users/{user}/password", "resetPassword",
         "Set a user's password (admin reset); the user's sessions end", "users", A::kPermission,
         P::kUsersManage, false, false, true},
        bind(&Impl::ResetPassword));
    Add({"GET", "/api/v1/roles", "listRoles", "Built-in roles and their permissions", "users",
         A::kSignedIn, P::kProjectsView, false, false, false},
        bind(&Impl::ListRoles));
    Add({"GET", "/api/v1/api-keys", "listApiKeys", "API keys for integrations", "users",
         A::kPermission, P::kUsersManage, false, true, false},
        bind(&Impl::ListApiKeys));
    Add({"POST", "/api/v1/api-keys", "createApiKey", "Create an API key; the secret is shown once",
         "users", A::kPermission, P::kUsersManage, false, false, true},
        bind(&Impl::CreateApiKey));
    Add({"DELETE", "/api/v1/api-keys/{key}", "revokeApiKey", "Revoke an API key", "users",
         A::kPermission, P::kUsersManage, false, false, false},
        bind(&Impl::RevokeApiKey));
    Add({"GET", "/api/v1/operations", "listOperations", "The operation log", "audit",
         A::kPermission, P::kOperationsView, false, true, false},
        bind(&Impl::ListOperations));
    Add({"GET", "/api/v1/projects", "listProjects", "Projects the caller can see", "projects",
         A::kSignedIn, P::kProjectsView, false, true, false},
        bind(&Impl::ListProjects));
    Add({"GET", "/api/v1/projects/{project}/accounts", "listAccounts", "Accounts of a project",
         "accounts", A::kPermission, P::kAccountsView, false, true, false},
        bind(&Impl::ListAccounts));
    Add({"GET", "/api/v1/projects/{project}/accounts/{account}", "getAccount",
         "An account with its balances and meters", "accounts", A::kPermission, P::kAccountsView,
         false, false, false},
        bind(&Impl::GetAccount));
    Add({"POST", "/api/v1/projects/{project}/accounts/{account}/top-ups", "topUp",
         "Counter top-up (Idempotency-Key required)", "accounts", A::kPermission, P::kMoneyTopUp,
         true, false, true},
        bind(&Impl::TopUp));
    Add({"GET", "/api/v1/projects/{project}/meters", "listMeters", "Meters with their live status",
         "devices", A::kPermission, P::kDevicesView, false, true, false},
        bind(&Impl::ListMeters));
    Add({"GET", "/api/v1/projects/{project}/alarms", "listAlarms", "Alarms of a project", "alarms",
         A::kPermission, P::kAlarmsView, false, true, false},
        bind(&Impl::ListAlarms));
}

// ------------------------------------------------------------------------------------ dispatch

HttpResponse Api::Impl::Handle(const HttpRequest& request) {
    const auto started = std::chrono::steady_clock::now();
    std::string request_id(request.Header("x-request-id").substr(0, 64));
    if (request_id.empty() || !IsToken(request_id)) {
        request_id = RandomHex(8);
    }
    std::string route_label = "unmatched";
    std::string user_label;
    HttpResponse out;
    if (request.path == "/healthz") {
        out.body = R"({"status":"ok"})";
    } else if (request.path == "/readyz") {
        auto tx = store.Begin();
        out.status = tx ? 200 : 503;
        out.body = tx ? R"({"status":"ready"})" : R"({"status":"store unavailable"})";
    } else if (request.path == "/metrics") {
        out.content_type = "text/plain; version=0.0.4";
        out.body = metrics.Render();
    } else if (request.path == "/api/v1/openapi.json" && request.method == "GET") {
        route_label = "openapi";
        out.body = OpenApiDocument(infos);
    } else {
        Result<Reply> reply = [&]() -> Result<Reply> {
            try {
                return Dispatch(request, request_id, route_label, user_label);
            } catch (const std::exception& e) {
                // Handlers return errors; an exception here is a bug, reported without detail.
                std::fprintf(stderr, "api: request %s: unexpected exception: %s\n",
                             request_id.c_str(), e.what());
                return MakeError(ErrorCode::kInternal, "internal error");
            }
        }();
        if (reply) {
            out.status = reply->status;
            if (!reply->body.is_null()) {
                out.body = reply->body.dump(-1, ' ', false, Json::error_handler_t::replace);
            }
            out.headers = std::move(reply->headers);
        } else {
            out.status = HttpStatusOf(reply.error());
            out.body = ErrorJson(reply.error());
        }
    }
    out.headers.emplace_back("X-Request-Id", request_id);
    out.headers.emplace_back("Cache-Control", "no-store");
    out.headers.emplace_back("X-Content-Type-Options", "nosniff");
    const auto elapsed = std::chrono::steady_clock::now() - started;
    metrics.Observe(route_label, out.status, elapsed);
    if (options.access_log) {
        const Json line{
            {"ts", FormatInstant(options.clock())},
            {"request_id", request_id},
            {"method", request.method},
            {"path", request.path.substr(0, 256)},
            {"route", route_label},
            {"status", out.status},
            {"us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()},
            {"user", user_label},
            {"remote", request.remote}};
        const std::string text = line.dump(-1, ' ', false, Json::error_handler_t::replace);
        std::lock_guard lock(log_mutex);
        std::fprintf(stderr, "%s\n", text.c_str());
    }
    return out;
}

Result<Reply> Api::Impl::Dispatch(const HttpRequest& request, const std::string& request_id,
                                  std::string& route_label, std::string& user_label) {
    if (!request.path.starts_with("/api/")) {
        return NotFound("no such resource", "path");
    }
    const std::vector<std::string> segments = SplitPath(request.path);
    const Route* match = nullptr;
    bool path_matched = false;
    std::map<std::string, std::string, std::less<>> params;
    for (const Route& r : routes) {
        if (r.segments.size() != segments.size()) {
            continue;
        }
        std::map<std::string, std::string, std::less<>> found;
        bool ok = true;
        for (std::size_t i = 0; i < segments.size() && ok; ++i) {
            const std::string& want = r.segments[i];
            if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
                ok = !segments[i].empty();
                found.emplace(want.substr(1, want.size() - 2), segments[i]);
            } else {
                ok = want == segments[i];
            }
        }
        if (!ok) {
            continue;
        }
        path_matched = true;
        if (r.info.method == request.method) {
            match = &r;
            params = std::move(found);
            break;
        }
    }
    if (match == nullptr) {
        if (path_matched) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             "method " + request.method.substr(0, 16) + " is not allowed here",
                             "method");
        }
        return NotFound("no such resource", "path");
    }
    route_label = match->info.operation_id;
    JOULE_ASSIGN_OR_RETURN(QueryParams query, ParseQuery(request.query));
    Call call{request, match->info, std::move(params), std::move(query), {},
              {},      {},          options.clock(),   request_id,       {}};
    if (match->info.access != RouteAccess::kPublic) {
        JOULE_ASSIGN_OR_RETURN(call.principal, Authenticate(request, &call));
        user_label = call.principal.username;
        if (match->info.access == RouteAccess::kPermission &&
            !call.principal.Allows(match->info.permission)) {
            return MakeError(
                ErrorCode::kPermissionDenied,
                "this needs the permission " + std::string(PermissionName(match->info.permission)));
        }
    }
    if (auto p = call.params.find("project"); p != call.params.end()) {
        JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
        JOULE_ASSIGN_OR_RETURN(auto project, tx->FindProject(p->second));
        // A project the caller cannot see answers exactly like one that does not exist.
        if (!project || !call.principal.SeesProject(project->id)) {
            return NotFound("no project '" + p->second.substr(0, 64) + "'", "project");
        }
        call.project = std::move(*project);
    }
    if (match->info.has_body) {
        JOULE_ASSIGN_OR_RETURN(call.body, ParseJsonBody(request));
    } else if (!request.body.empty() && request.method != "GET") {
        return InvalidArgument("body", "this call takes no body");
    }
    if (match->info.money) {
        const std::string_view key = request.Header("idempotency-key");
        if (key.empty()) {
            return InvalidArgument("Idempotency-Key", "required on calls that move money");
        }
        if (key.size() > kMaxIdempotencyKeyBytes || !IsToken(key)) {
            return InvalidArgument("Idempotency-Key",
                                   "must be 1 to 64 characters of A-Z a-z 0-9 - _ .");
        }
    }
    return match->handler(call);
}

// ---------------------------------------------------------------------------------- principal

Result<Principal> Api::Impl::PrincipalOf(const UserRecord& user) {
    const RoleDefinition* role = FindBuiltinRole(user.role);
    if (role == nullptr) {
        return MakeError(ErrorCode::kPermissionDenied, "the user's role no longer exists");
    }
    Principal p;
    p.user_id = user.id;
    p.username = user.username;
    p.role = user.role;
    p.permissions = role->permissions;
    p.all_projects = user.all_projects;
    p.projects = user.projects;
    p.own_accounts = user.accounts;
    return p;
}

Result<Principal> Api::Impl::Authenticate(const HttpRequest& request, Call* call) {
    const Instant now = options.clock();
    const std::string_view authorization = request.Header("authorization");
    if (!authorization.empty()) {
        constexpr std::string_view kBearer = "Bearer ";
        if (!authorization.starts_with(kBearer)) {
            return MakeError(ErrorCode::kUnauthenticated, "use 'Authorization: Bearer <key>'",
                             "Authorization");
        }
        const std::string_view key = authorization.substr(kBearer.size());
        // jk_<8 hex prefix>_<secret>: the prefix finds the row, the hash proves the secret.
        const auto second = key.find('_', 3);
        if (!key.starts_with("jk_") || second == std::string_view::npos) {
            return MakeError(ErrorCode::kUnauthenticated, "malformed API key", "Authorization");
        }
        const std::string key_hash = Sha256Hex(key);
        {
            std::lock_guard lock(sessions_mutex);
            if (auto it = cached_keys.find(key_hash); it != cached_keys.end()) {
                return it->second.principal;
            }
        }
        const std::string prefix(key.substr(0, second));
        JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
        JOULE_ASSIGN_OR_RETURN(auto found, tx->FindApiKey(prefix));
        if (!found || found->revoked_at || !SameSecret(found->secret_hash, key_hash)) {
            return MakeError(ErrorCode::kUnauthenticated, "unknown or revoked API key",
                             "Authorization");
        }
        JOULE_ASSIGN_OR_RETURN(auto user, tx->GetUser(found->user_id));
        if (!user || user->disabled) {
            return MakeError(ErrorCode::kUnauthenticated, "the key's user is disabled",
                             "Authorization");
        }
        JOULE_ASSIGN_OR_RETURN(Principal p, PrincipalOf(*user));
        p.permissions &= found->scopes;  // a key never exceeds its user
        p.via_api_key = true;
        std::lock_guard lock(sessions_mutex);
        if (cached_keys.size() >= kMaxCachedSessions) {
            cached_keys.clear();  // only a cache: the store still has every key
        }
        cached_keys.insert_or_assign(key_hash, CachedKey{prefix, p});
        return p;
    }
    const std::string token = CookieValue(request.Header("cookie"), kSessionCookie);
    if (token.empty()) {
        return MakeError(ErrorCode::kUnauthenticated, "sign in first");
    }
    const std::string token_hash = Sha256Hex(token);
    std::optional<CachedSession> cached;
    {
        std::lock_guard lock(sessions_mutex);
        if (auto it = sessions.find(token_hash); it != sessions.end()) {
            cached = it->second;
        }
    }
    if (!cached) {
        JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
        JOULE_ASSIGN_OR_RETURN(auto session, tx->FindSession(token_hash));
        if (!session) {
            return MakeError(ErrorCode::kUnauthenticated, "the session has ended; sign in again");
        }
        JOULE_ASSIGN_OR_RETURN(auto user, tx->GetUser(session->user_id));
        if (!user || user->disabled) {
            return MakeError(ErrorCode::kUnauthenticated, "the user is disabled");
        }
        JOULE_ASSIGN_OR_RETURN(Principal p, PrincipalOf(*user));
        cached = CachedSession{*session, std::move(p)};
        std::lock_guard lock(sessions_mutex);
        if (sessions.size() >= kMaxCachedSessions) {
            sessions.clear();  // only a cache: the store still has every session
        }
        sessions.insert_or_assign(token_hash, *cached);
    }
    if (cached->session.expires_at <= now) {
        Forget(token_hash);
        return MakeError(ErrorCode::kUnauthenticated, "the session has expired; sign in again");
    }
    const bool safe = request.method == "GET" || request.method == "HEAD";
    if (!safe && !SameSecret(request.Header("x-csrf-token"), cached->session.csrf_token)) {
        return MakeError(ErrorCode::kPermissionDenied, "missing or wrong CSRF token",
                         "X-CSRF-Token");
    }
    call->session_token_hash = token_hash;
    return cached->principal;
}

void Api::Impl::Forget(std::string_view token_hash) {
    std::lock_guard lock(sessions_mutex);
    sessions.erase(std::string(token_hash));
}

void Api::Impl::ForgetUser(int64_t user_id) {
    std::lock_guard lock(sessions_mutex);
    std::erase_if(sessions,
                  [&](const auto& entry) { return entry.second.session.user_id == user_id; });
    std::erase_if(cached_keys,
                  [&](const auto& entry) { return entry.second.principal.user_id == user_id; });
}

Status Api::Impl::LogOperation(AccessTx& tx, const Origin& origin, std::string action,
                               std::string target, Json detail) {
    detail["request_id"] = origin.request_id;
    detail["remote"] = origin.remote;
    OperationRecord op;
    op.at = origin.at;
    op.actor = origin.actor;
    op.action = std::move(action);
    op.target = std::move(target);
    op.detail = detail.dump(-1, ' ', false, Json::error_handler_t::replace);
    return tx.InsertOperation(op);
}

Result<std::vector<ProjectRecord>> Api::Impl::Projects() {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    return tx->ListProjects();
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
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto user, tx->FindUser(username));
    if (!user) {
        // Check against a real hash anyway, so an unknown name costs the time a known one does.
        static const std::string kDecoy = HashPassword("decoy-password-0").value_or("");
        (void)VerifyPassword(password, kDecoy);
        return refused();
    }
    if (user->locked_until && *user->locked_until > c.now) {
        return MakeError(
            ErrorCode::kResourceExhausted,
            "too many failed sign-ins; try again after " + FormatInstant(*user->locked_until));
    }
    if (user->disabled || !VerifyPassword(password, user->password_hash)) {
        user->failed_logins += 1;
        if (user->failed_logins >= options.lockout_after_failures) {
            user->locked_until = c.now + options.lockout_for;
            user->failed_logins = 0;
        }
        JOULE_TRY(tx->UpdateUser(*user));
        JOULE_TRY(LogOperation(*tx, OriginOf(c), "auth.login_failed", "user:" + user->username,
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
    JOULE_ASSIGN_OR_RETURN(Principal principal, PrincipalOf(*user));
    c.principal = principal;
    JOULE_TRY(
        LogOperation(*tx, OriginOf(c), "auth.login", "user:" + user->username, Json::object()));
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
    JOULE_TRY(LogOperation(*tx, OriginOf(c), "auth.logout", "user:" + c.principal.username,
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
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto user, tx->GetUser(c.principal.user_id));
    if (!user || !VerifyPassword(old_password, user->password_hash)) {
        return MakeError(ErrorCode::kPermissionDenied, "the old password is wrong", "old_password");
    }
    user->password_hash = hash;
    user->password_changed_at = c.now;
    JOULE_TRY(tx->UpdateUser(*user));
    // Every session of the user ends, this one included: a stolen cookie dies with the password.
    JOULE_TRY(tx->DeleteSessionsOf(user->id));
    JOULE_TRY(LogOperation(*tx, OriginOf(c), "auth.password_changed", "user:" + user->username,
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
        items.push_back(UserJson(u, projects));
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
    JOULE_ASSIGN_OR_RETURN(const Json* project_list, body.OptArray("projects", 1000));
    JOULE_TRY(body.Finish());
    if (project_list != nullptr) {
        JOULE_ASSIGN_OR_RETURN(spec.projects, StringList(*project_list, "projects"));
    }
    JOULE_ASSIGN_OR_RETURN(int64_t id, InsertUser(spec, &c.principal, OriginOf(c)));
    return Reply{201, Json{{"id", id}, {"username", spec.username}}, {}};
}

Result<int64_t> Api::Impl::InsertUser(const NewUser& spec, const Principal* creator,
                                      const Origin& origin) {
    if (creator != nullptr && !creator->all_projects && spec.all_projects) {
        return MakeError(ErrorCode::kPermissionDenied, "only a group user can create group users",
                         "all_projects");
    }
    JOULE_TRY(CheckUsername(spec.username));
    JOULE_TRY(CheckPasswordPolicy(spec.password, "password"));
    if (FindBuiltinRole(spec.role) == nullptr) {
        return InvalidArgument("role", "unknown role '" + spec.role.substr(0, 32) + "'");
    }
    UserRecord u;
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    for (std::size_t i = 0; i < spec.projects.size(); ++i) {
        const auto it = std::find_if(projects.begin(), projects.end(), [&](const ProjectRecord& p) {
            return p.code == spec.projects[i];
        });
        // A project the creator cannot see answers like one that does not exist.
        if (it == projects.end() || (creator != nullptr && !creator->SeesProject(it->id))) {
            return NotFound("no project '" + spec.projects[i].substr(0, 64) + "'",
                            "projects[" + std::to_string(i) + "]");
        }
        u.projects.push_back(it->id);
    }
    JOULE_ASSIGN_OR_RETURN(u.password_hash, HashPassword(spec.password));
    u.username = spec.username;
    u.role = spec.role;
    u.all_projects = spec.all_projects;
    u.created_at = origin.at;
    u.password_changed_at = origin.at;
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(int64_t id, tx->InsertUser(u));
    JOULE_TRY(LogOperation(*tx, origin, "user.create", "user:" + spec.username,
                           Json{{"after",
                                 {{"role", spec.role},
                                  {"all_projects", spec.all_projects},
                                  {"projects", spec.projects}}}}));
    JOULE_TRY(tx->Commit());
    return id;
}

Result<Reply> Api::Impl::ResetPassword(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t user_id, PositiveId(c.params.at("user"), "user"));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string password, body.String("password", kMaxPasswordBytes));
    JOULE_TRY(body.Finish());
    JOULE_TRY(CheckPasswordPolicy(password, "password"));
    JOULE_ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto user, tx->GetUser(user_id));
    const bool visible =
        user && (c.principal.all_projects ||
                 (!user->all_projects &&
                  std::all_of(user->projects.begin(), user->projects.end(),
                              [&](ProjectId p) { return c.principal.SeesProject(p); })));
    if (!visible) {
        return NotFound("no user " + std::to_string(user_id), "user");
    }
    user->password_hash = std::move(hash);
    user->password_changed_at = c.now;
    user->failed_logins = 0;
    user->locked_until.reset();
    JOULE_TRY(tx->UpdateUser(*user));
    JOULE_TRY(tx->DeleteSessionsOf(user->id));
    JOULE_TRY(LogOperation(*tx, OriginOf(c), "user.password_reset", "user:" + user->username,
                           Json::object()));
    JOULE_TRY(tx->Commit());
    ForgetUser(user->id);
    return Reply{204, nullptr, {}};
}

Result<Reply> Api::Impl::ListRoles(Call& c) {
    (void)c;
    Json items = Json::array();
    for (const RoleDefinition& r : BuiltinRoles()) {
        items.push_back(Json{{"code", r.code},
                             {"name", r.name},
                             {"builtin", r.builtin},
                             {"permissions", PermissionNames(r.permissions)}});
    }
    return Reply{200, Json{{"items", items}}, {}};
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
    if (name.empty()) {
        return InvalidArgument("name", "must not be empty");
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
    JOULE_TRY(LogOperation(*tx, OriginOf(c), "api_key.create", "api_key:" + prefix,
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
    JOULE_TRY(
        LogOperation(*tx, OriginOf(c), "api_key.revoke", "api_key:" + it->prefix, Json::object()));
    JOULE_TRY(tx->Commit());
    {
        std::lock_guard lock(sessions_mutex);
        std::erase_if(cached_keys,
                      [&](const auto& entry) { return entry.second.prefix == it->prefix; });
    }
    return Reply{204, nullptr, {}};
}

Result<Reply> Api::Impl::ListOperations(Call& c) {
    if (!c.principal.all_projects) {
        // The log is not yet tagged by project, so only group users may read it.
        return MakeError(ErrorCode::kPermissionDenied,
                         "the operation log spans projects; only group users can read it");
    }
    static constexpr std::string_view kKnown[] = {"page",   "page_size", "actor", "action",
                                                  "target", "from",      "to"};
    for (const auto& [key, value] : c.query) {
        if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
            return InvalidArgument(key, "unknown query parameter");
        }
    }
    OperationFilter filter;
    auto text = [&](std::string_view key) {
        const auto it = c.query.find(key);
        return it == c.query.end() ? std::string() : it->second;
    };
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
    JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
    JOULE_ASSIGN_OR_RETURN(auto found, tx->ListOperations(filter));
    Json items = Json::array();
    for (const LoggedOperation& l : found.first) {
        Json detail = Json::parse(l.op.detail, nullptr, false);
        items.push_back(Json{{"seq", l.seq},
                             {"at", FormatInstant(l.op.at)},
                             {"actor", l.op.actor},
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

// --------------------------------------------------------------------------------- resources

Result<Reply> Api::Impl::ListProjects(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    std::vector<Json> items;
    for (const ProjectRecord& p : projects) {
        if (c.principal.SeesProject(p.id)) {
            items.push_back(Json{{"code", p.code},
                                 {"name", p.name},
                                 {"time_zone", p.time_zone},
                                 {"read_interval_s", p.read_interval_s}});
        }
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), c.query, {"code", "name"}, {}, {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListAccounts(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto accounts, tx->ListAccounts(c.project->id));
    tx.reset();
    std::vector<Json> items;
    items.reserve(accounts.size());
    for (const AccountRecord& a : accounts) {
        if (c.principal.IsTenant() &&
            std::find(c.principal.own_accounts.begin(), c.principal.own_accounts.end(), a.id) ==
                c.principal.own_accounts.end()) {
            continue;
        }
        items.push_back(AccountSummaryJson(a));
    }
    JOULE_ASSIGN_OR_RETURN(
        Json page,
        Page(std::move(items), c.query, {"number", "tenant_name", "state", "opened_at"},
             {"status", "state", "relay", "billing_mode"}, {"number", "tenant_name", "phone"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetAccount(Call& c) {
    const std::string& number = c.params.at("account");
    auto view = billing.ViewAccount(c.project->code, number);
    if (!view) {
        if (view.error().code == ErrorCode::kNotFound) {
            return NotFound("no account '" + number.substr(0, 64) + "'", "account");
        }
        return std::unexpected(view.error());
    }
    Json body = AccountSummaryJson(view->account);
    body["balance"] = {{"paid", wire::MoneyText(view->paid)},
                       {"granted", wire::MoneyText(view->granted)},
                       {"debt", wire::MoneyText(view->debt)},
                       {"available", wire::MoneyText(view->available)},
                       {"meter_pending", wire::MoneyText(view->meter_pending)},
                       {"meter_held", wire::MoneyText(view->meter_held)}};
    Json meters = Json::array();
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    for (const MeterBinding& b : view->bindings) {
        if (b.bound_to) {
            continue;
        }
        JOULE_ASSIGN_OR_RETURN(MeterRecord m, tx->GetMeter(b.meter));
        meters.push_back(Json{{"code", m.code},
                              {"bound_from", FormatInstant(b.bound_from)},
                              {"opening_total", wire::QuantityText(b.opening_total)}});
    }
    body["meters"] = std::move(meters);
    body["scheme"] = wire::ControlSchemeToJson(view->account.scheme);
    Reply r;
    r.body = std::move(body);
    r.headers.emplace_back("ETag", "\"" + std::to_string(view->account.version) + "\"");
    return r;
}

Result<Reply> Api::Impl::TopUp(Call& c) {
    wire::ObjectReader body(c.body, "");
    TopUpRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.amount, body.MoneyField("amount"));
    JOULE_ASSIGN_OR_RETURN(request.channel, body.OptString("channel", "cash", 32));
    JOULE_ASSIGN_OR_RETURN(request.ref, body.OptString("ref", "", 128));
    JOULE_TRY(body.Finish());
    if (request.amount.fen <= 0) {
        return InvalidArgument("amount", "must be positive");
    }
    if (request.amount.fen > kMaxTopUpFen) {
        return InvalidArgument("amount", "must be at most 1000000.00");
    }
    request.idempotency_key = std::string(c.http.Header("idempotency-key"));
    Actor actor{c.principal.username};
    auto result = billing.TopUp(request, actor, c.now);
    if (!result) {
        if (result.error().code == ErrorCode::kNotFound) {
            return NotFound("no account '" + request.account_number.substr(0, 64) + "'", "account");
        }
        if (result.error().field == "idempotency_key") {
            Error e = result.error();
            e.field = "Idempotency-Key";
            return std::unexpected(e);
        }
        return std::unexpected(result.error());
    }
    const bool replay = result->outcome == TopUpOutcome::kAlreadyCredited;
    // The billing service records the top-up in the operation log in its own transaction.
    Json out{{"outcome", replay ? "already_credited" : "credited"},
             {"credited", wire::MoneyText(result->credited)},
             {"debt_recovered", wire::MoneyText(result->debt_recovered)},
             {"balance_after", wire::MoneyText(result->balance_after)},
             {"state", PrepaidStateName(result->state)}};
    if (result->purchase_command != 0) {
        out["purchase"] = {{"command", result->purchase_command},
                           {"count", result->purchase_count},
                           {"amount", wire::MoneyText(result->purchase_amount)}};
    }
    return Reply{replay ? 200 : 201, std::move(out), {}};
}

Result<Reply> Api::Impl::ListMeters(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(c.project->id));
    std::vector<Json> items;
    items.reserve(meters.size());
    for (const MeterRecord& m : meters) {
        JOULE_ASSIGN_OR_RETURN(auto status, tx->LoadMeterStatus(m.id));
        Json item{{"code", m.code}, {"bus_address", m.bus_address}, {"online", false}};
        if (status) {
            item["online"] = status->online;
            item["last_seen"] = status->last_seen ? FormatInstant(*status->last_seen) : "";
            item["relay"] = std::string(RelayStateName(status->relay));
            item["values"] = Json::parse(status->values_json, nullptr, false);
        }
        items.push_back(std::move(item));
    }
    tx.reset();
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "last_seen"},
                                           {"online", "relay"}, {"code", "bus_address"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListAlarms(Call& c) {
    JOULE_ASSIGN_OR_RETURN(bool open_only, BoolParam(c.query, "open", true));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto alarms, tx->ListAlarms(c.project->id, open_only));
    std::vector<Json> items;
    for (const AlarmRecord& a : alarms) {
        items.push_back(Json{{"id", a.id},
                             {"kind", AlarmKindName(a.kind)},
                             {"open", a.open},
                             {"raised_at", FormatInstant(a.raised_at)},
                             {"detail", a.detail}});
    }
    tx.reset();
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"id", "raised_at", "kind"},
                                           {"kind"}, {"detail"}));
    return Reply{200, std::move(page), {}};
}

// --------------------------------------------------------------------------------------- Api

Api::Api(Store& store, AccessStore& access, BillingService& billing, ApiOptions options)
    : impl_(std::make_unique<Impl>(store, access, billing, std::move(options))) {}

Api::~Api() = default;

HttpResponse Api::Handle(const HttpRequest& request) { return impl_->Handle(request); }

const std::vector<RouteInfo>& Api::routes() const { return impl_->infos; }

std::string Api::OpenApiJson() const { return OpenApiDocument(impl_->infos); }

Result<int64_t> Api::CreateUser(const std::string& username, const std::string& password,
                                const std::string& role, bool all_projects,
                                const std::vector<std::string>& project_codes) {
    const NewUser spec{username, password, role, all_projects, project_codes};
    return impl_->InsertUser(spec, nullptr, Origin{"cli", "local", "", impl_->options.clock()});
}

Result<std::optional<std::string>> Api::EnsureFirstAdmin() {
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, impl_->access.BeginAccess());
        JOULE_ASSIGN_OR_RETURN(int64_t users, tx->CountUsers());
        if (users > 0) {
            return std::optional<std::string>();
        }
    }
    const std::string password = "Jl" + RandomHex(8);  // letters and digits, 18 characters
    JOULE_TRY(CreateUser("admin", password, "admin", true, {}));
    return std::optional<std::string>(password);
}

}  // namespace joule::api
