// Internal to the API: the call context handed to every handler, and Api::Impl, whose handlers
// are spread over one file per group of resources (api_access, api_accounts, api_devices,
// api_site). The route table and dispatch are in api.cpp.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/api.hpp"
#include "api/export.hpp"
#include "api/http_util.hpp"
#include "api/live_hub.hpp"
#include "api/static_files.hpp"
#include "service/notification_service.hpp"
#include "service/payment_service.hpp"
#include "service/requests.hpp"
#include "service/tenant_service.hpp"
#include "wire/json_text.hpp"

namespace joule {
class AcquisitionService;
enum class ImportKind : uint8_t;
}  // namespace joule

namespace joule::wire {
class ObjectReader;
}  // namespace joule::wire

namespace joule::api {

using Json = nlohmann::json;

inline constexpr std::string_view kSessionCookie = "joule_session";
inline constexpr std::string_view kTenantCookie = "joule_tenant";

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
    std::string session_token_hash;      // the cookie session, if that is how the caller came
    std::optional<TenantPerson> tenant;  // tenant routes: the person signed in
    std::string tenant_csrf;             // and their session's CSRF token
    std::string tenant_openid;           // and the payer's WeChat openid, once OAuth told it

    // The caller as the services log it [ADM-2].
    [[nodiscard]] Actor actor() const {
        return Actor{principal.username.empty() ? "anonymous" : principal.username, http.remote,
                     request_id};
    }
    // The Idempotency-Key header (checked by dispatch on money routes).
    [[nodiscard]] std::string idempotency_key() const {
        return std::string(http.Header("idempotency-key"));
    }
};

// The fields of a new user, from the API or the command line.
struct NewUser {
    std::string username;
    std::string password;
    std::string role;
    bool all_projects = false;
    std::vector<std::string> projects;  // codes
};

struct Reply {
    Reply() = default;
    Reply(int s, Json b, std::vector<std::pair<std::string, std::string>> h)
        : status(s), body(std::move(b)), headers(std::move(h)) {}

    int status = 200;
    Json body;
    std::vector<std::pair<std::string, std::string>> headers;
    // When set, the body as it is instead of `body` dumped: JSON text written by wire::JsonText
    // (content_type empty) or an export's file (with its content_type).
    std::string text;
    std::string content_type;
    // A stream response (the live events): written as it comes after the head.
    std::shared_ptr<ResponseStream> stream;
};

using Handler = std::function<Result<Reply>(Call&)>;

struct Route {
    RouteInfo info;
    std::vector<std::string> segments;  // pattern split on '/', "{name}" for parameters
    Handler handler;
};

// A service error as the API reports it: a missing object names the path parameter it came
// from, and the idempotency key is the header's name.
[[nodiscard]] Error AsApiError(Error error);
// A service's answer, its error as the API reports it (AsApiError).
template <class T>
[[nodiscard]] Result<T> FromService(Result<T> answer) {
    if (!answer) {
        return std::unexpected(AsApiError(std::move(answer).error()));
    }
    return answer;
}
// The account of a path parameter, or 404 naming "account".
[[nodiscard]] Result<AccountRecord> FindAccountOf(Tx& tx, const Call& call);
// The meter of a path parameter, or 404 naming "meter".
[[nodiscard]] Result<MeterRecord> FindMeterOf(Tx& tx, const Call& call);
// The version an edit was made against: the If-Match header ("3", the object's ETag), if any.
[[nodiscard]] Result<std::optional<int64_t>> IfMatchVersion(const Call& call);
// Edits with optimistic concurrency (api_site_edit.cpp; also users and roles): an object's answer
// with its ETag (the version), the same as 201 with a Location, and 204.
[[nodiscard]] Reply WithTag(int status, Json body, int64_t version);
[[nodiscard]] Reply Created(Json body, int64_t version, std::string location);
[[nodiscard]] Reply NoContent();
// The version an edit was made against: If-Match, or a "version" field of `body` (nullptr: a
// call without a body); one of them is required (400 naming If-Match), and both must agree.
[[nodiscard]] Result<int64_t> EditVersion(const Call& c, wire::ObjectReader* body);
// A string field of at most `max_bytes` that may be ""; nullopt when absent (a patch leaves it).
[[nodiscard]] Result<std::optional<std::string>> OptText(wire::ObjectReader& body,
                                                         std::string_view key,
                                                         std::size_t max_bytes);
// The body of a PATCH must change something: 400 naming "body" when it is empty or only "version".
[[nodiscard]] Status SomethingToChange(const Json& body);
// Rejects query parameters other than `known` (so a typo never silently returns everything).
// A path of this server's tenant pages a payer is sent back to ("/m/#/paid/{order_no}"):
// starting with "/m/", at most 256 bytes, printable ASCII without a backslash, so no redirect can
// leave the site. kInvalidArgument naming `field`.
[[nodiscard]] Status CheckReturnPath(std::string_view path, std::string_view field);
[[nodiscard]] Status OnlyParams(const QueryParams& query,
                                std::initializer_list<std::string_view> known);
// Lists that load a window of the newest rows (ledger, readings, commands) and page it in memory:
// how many rows to load, `window` for a page, one more than the export may have for an export
// (QueryParams::max_page_size raised by dispatch), so CheckWindow can tell a cut-off list.
[[nodiscard]] int RowsToLoad(const QueryParams& query, int window);
// kOutOfRange naming "format" when an export loaded all `loaded_limit` rows it asked for: there
// are older rows the export would silently leave out. A page is never refused.
[[nodiscard]] Status CheckWindow(const QueryParams& query, std::size_t loaded, int loaded_limit);
[[nodiscard]] Json AccountSummaryJson(const AccountRecord& a);
// A local date as the store counts days (days since 1970-01-01): summaries and tenants' usage.
[[nodiscard]] inline int64_t DayNumber(CivilDate date) {
    return date::sys_days(date).time_since_epoch().count();
}
// An alarm and a command as lists and the live stream show them.
// A meter's code and an account's number as answers name them: "" for none, or for one that
// cannot be read (a name in an answer, never a reason to fail it).
[[nodiscard]] std::string MeterCodeOf(Tx& tx, MeterId meter);
[[nodiscard]] std::string AccountNumberOf(Tx& tx, AccountId account);
[[nodiscard]] Json AlarmJson(const AlarmRecord& a, const std::string& meter_code,
                             const std::string& account_number);
[[nodiscard]] Json CommandJson(const CommandRecord& c, const std::string& meter_code,
                               const std::string& account_number);
// The same object written into `out`: the account list writes 100 of them without a document.
void WriteAccountSummary(wire::JsonText& out, const AccountSummary& a);

struct Api::Impl {
    Store& store;
    AccessStore& access;
    BillingService& billing;
    AcquisitionService& acquisition;
    ApiOptions options;
    PaymentService payments;            // the sandbox only when options.payments.sandbox_pay is set
    NotificationService notifications;  // recipients and the delivery log (not the sending)
    TenantService tenants;              // tenants' sign-in and bindings [PAY-1]
    std::vector<Route> routes;
    std::vector<RouteInfo> infos;
    std::mutex log_mutex;
    Metrics metrics;
    // Exports running now: each holds up to max_export_rows rows in memory a few times over.
    std::atomic<int> exports_running{0};
    // The live stream's fan-out; its thread starts with the first subscriber.
    LiveHub live_hub;
    // The web console's files, when options.web_root is set.
    std::optional<StaticFiles> static_files;

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
    // Bumped (under sessions_mutex) whenever cached principals are dropped: a principal read from
    // the store before a drop is not cached after it (it may be the dropped one's old self).
    uint64_t principals_generation = 0;

    Impl(Store& s, AccessStore& a, BillingService& b, AcquisitionService& q, ApiOptions o);

    void Add(RouteInfo info, Handler handler);
    void AddRoutes();

    HttpResponse Handle(const HttpRequest& request);
    Result<Reply> Dispatch(const HttpRequest& request, const std::string& request_id,
                           std::string& route_label, std::string& user_label);
    // A list as a file (?format=csv|xlsx): the route's handler run for every row at once (at most
    // options.max_export_rows, else kOutOfRange naming "format"), its items as a table, the
    // export logged.
    Result<Reply> Export(Call& call, const Route& route, ExportFormat format);
    Result<Principal> Authenticate(const HttpRequest& request, Call* call);
    // The user's role (built-in or custom, AccessTx::ResolveRole) narrowed to its projects.
    static Result<Principal> PrincipalOf(AccessTx& tx, const UserRecord& user);
    void Forget(std::string_view token_hash);
    // Drops the cached sessions and keys whose principal `which` picks: the next request of each
    // reads the store again (a user edited, a role's permissions changed).
    void ForgetPrincipals(const std::function<bool(const Principal&)>& which);
    void ForgetUser(int64_t user_id);
    // Records a mutating call of the access store in the operation log, in its unit of work.
    static Status LogOperation(AccessTx& tx, const Actor& actor, Instant at, std::string action,
                               std::string target, const Json& detail);
    // Validates and stores a user, logged as made by `actor`. `creator` is the signed-in
    // principal (it may not create group users unless it is one, nor reach projects it does not
    // see); nullptr for the command line.
    Result<int64_t> InsertUser(const NewUser& spec, const Principal* creator, const Actor& actor,
                               Instant now);
    Result<std::vector<ProjectRecord>> Projects();
    // One short read of the access store (a user), its unit of work ended on return.
    Result<std::optional<UserRecord>> ReadUser(
        const std::function<Result<std::optional<UserRecord>>(AccessTx&)>& read);

    // api_payments.cpp: reconciliation with the providers' statements [PAY-3]
    Result<Json> ReconciliationJson(const Reconciliation& rec);
    Result<Reply> RefundPayment(Call& c);
    Result<Reply> TenantWechatAuthorize(Call& c);
    Result<Reply> TenantWechatCallback(Call& c);
    Result<Reply> ImportStatement(Call& c);
    Result<Reply> FetchStatement(Call& c);
    Result<Reply> PaymentProviders(Call& c);
    // 201 with the reconciliation of `request`, recorded.
    Result<Reply> Reconciled(Call& c, const ReconcileRequest& request);
    Result<Reply> ListReconciliations(Call& c);
    Result<Reply> GetReconciliation(Call& c);

    // Tenants' calls that send SMS or check codes, counted per client address and hour, against
    // pumping and guessing from one place (the service limits per phone and per person).
    struct RateWindow {
        Instant start;
        int count = 0;
    };
    std::mutex tenant_limits_mutex;
    std::unordered_map<std::string, RateWindow> tenant_limits;
    Status TenantRateLimit(const Call& c, std::string_view what, int per_hour,
                           std::string_view field);
    // WeChat OAuths under way, by their state: whose session learns the openid and where the
    // payer goes back to. The callback comes from WeChat's redirect, which carries no SameSite
    // Strict cookie, so the state is what ties it to the session.
    struct PendingOAuth {
        std::string session_token_hash;
        std::string return_path;
        Instant expires;
    };
    std::mutex oauth_mutex;
    std::unordered_map<std::string, PendingOAuth> oauth_states;

    // api_tenant.cpp: the tenants' own API [PAY-1]
    struct TenantAccount {
        TenantBinding binding;
        AccountRecord account;
        ProjectRecord project;
    };
    Result<TenantPerson> AuthenticateTenant(const HttpRequest& request, Call& call);
    // The person's binding of the path's {binding}, its account and project (also set on `c`,
    // with params["account"], for the staff handlers reused); 404 naming "binding" otherwise.
    Result<TenantAccount> TenantAccountOf(Call& c);
    Result<Json> TenantBindingJson(const TenantBinding& b, Instant now);
    static Json TenantBindingJson(const TenantBinding& b, const ProjectRecord& project,
                                  const AccountView& view);
    Result<Reply> ListAccountTenants(Call& c);
    Result<Reply> RemoveAccountTenant(Call& c);
    Status TenantOwnsOrder(Call& c);
    Result<Reply> TenantProjects(Call& c);
    Result<Reply> TenantSendCode(Call& c);
    Result<Reply> TenantLogin(Call& c);
    Result<Reply> TenantLogout(Call& c);
    Result<Reply> TenantMe(Call& c);
    Result<Reply> TenantBind(Call& c);
    Result<Reply> TenantUnbind(Call& c);
    Result<Reply> TenantAccountDetail(Call& c);
    Result<Reply> TenantMembers(Call& c);
    Result<Reply> TenantUsage(Call& c);
    Result<Reply> TenantRecords(Call& c);
    Result<Reply> TenantAlarms(Call& c);
    Result<Reply> TenantReceipt(Call& c);
    Result<Reply> TenantCreatePayment(Call& c);
    Result<Reply> TenantGetPayment(Call& c);
    Result<Reply> TenantSandboxPay(Call& c);

    // api_access.cpp: sign-in, users, roles, API keys, the operation log
    Result<Reply> Login(Call& c);
    Result<Reply> Logout(Call& c);
    Result<Reply> Me(Call& c);
    Result<Reply> ChangePassword(Call& c);
    Result<Reply> ListUsers(Call& c);
    Result<Reply> CreateUserRoute(Call& c);
    Result<Reply> GetUserRoute(Call& c);
    Result<Reply> UpdateUserRoute(Call& c);
    Result<Reply> ResetPassword(Call& c);
    Result<Reply> ListRoles(Call& c);
    Result<Reply> GetRole(Call& c);
    Result<Reply> CreateRole(Call& c);
    Result<Reply> UpdateRole(Call& c);
    Result<Reply> DeleteRole(Call& c);
    Result<Reply> CreateApiKey(Call& c);
    Result<Reply> ListApiKeys(Call& c);
    Result<Reply> RevokeApiKey(Call& c);
    Result<Reply> ListOperations(Call& c);

    // api_site.cpp: projects, buildings, floors, rooms, tariffs
    Result<Reply> ListProjects(Call& c);
    Result<Reply> GetProject(Call& c);
    Result<Reply> ListBuildings(Call& c);
    Result<Reply> ListFloors(Call& c);
    Result<Reply> ListRooms(Call& c);
    Result<Reply> RoomMonitor(Call& c);
    Result<Reply> ListTariffs(Call& c);
    Result<Reply> GetTariff(Call& c);
    Result<Reply> AddTariffVersion(Call& c);
    Result<Reply> QuoteTariffRoute(Call& c);

    // api_site_edit.cpp: creating, editing and deleting buildings, floors, rooms, gateways and
    // meters, If-Match on every edit
    Result<Reply> GetBuilding(Call& c);
    Result<Reply> CreateBuilding(Call& c);
    Result<Reply> UpdateBuilding(Call& c);
    Result<Reply> DeleteBuilding(Call& c);
    Result<Reply> GetFloor(Call& c);
    Result<Reply> CreateFloor(Call& c);
    Result<Reply> UpdateFloor(Call& c);
    Result<Reply> DeleteFloor(Call& c);
    Result<Reply> GetRoom(Call& c);
    Result<Reply> CreateRoom(Call& c);
    Result<Reply> UpdateRoom(Call& c);
    Result<Reply> DeleteRoom(Call& c);
    Result<Reply> GetGateway(Call& c);
    Result<Reply> CreateGateway(Call& c);
    Result<Reply> UpdateGateway(Call& c);
    Result<Reply> DeleteGateway(Call& c);
    Result<Reply> CreateMeter(Call& c);
    Result<Reply> UpdateMeter(Call& c);
    Result<Reply> DeleteMeter(Call& c);

    // api_import.cpp: imports of CSV or XLSX templates [HIER-3], and the templates
    void AddImportRoutes();  // called by AddRoutes: two routes per kind
    // Payments (api_payments.cpp)
    Result<Reply> CreatePayment(Call& c);
    Result<Reply> ListPayments(Call& c);
    Result<Reply> GetPayment(Call& c);
    Result<Reply> SandboxPay(Call& c);
    Result<Reply> PaymentNotify(Call& c);
    // Notifications (api_notifications.cpp)
    Result<Reply> ListRecipients(Call& c);
    Result<Reply> CreateRecipient(Call& c);
    Result<Reply> UpdateRecipient(Call& c);
    Result<Reply> DeleteRecipient(Call& c);
    Result<Reply> ListDeliveries(Call& c);
    Result<Reply> RetryDelivery(Call& c);
    Result<Reply> ListEventKinds(Call& c);
    // Verifies and credits one notification of `provider`; the provider's reply either way.
    Reply Notify(std::string_view provider, const HttpRequest& request, Instant now);
    Result<Reply> Import(Call& c, ImportKind kind);
    Result<Reply> ImportTemplate(Call& c, ImportKind kind);
    // Imports running now: each holds its file decoded, up to 16 MiB of XLSX a few times over.
    std::atomic<int> imports_running{0};

    // api_accounts.cpp: accounts and the money on them
    Result<Reply> ListAccounts(Call& c);
    Result<Reply> GetAccount(Call& c);
    Result<Reply> OpenAccount(Call& c);
    Result<Reply> TopUp(Call& c);
    Result<Reply> Refund(Call& c);
    Result<Reply> GrantSubsidy(Call& c);
    Result<Reply> RecordDebt(Call& c);
    Result<Reply> ControlAccount(Call& c);
    Result<Reply> ChangeAccountTerms(Call& c);
    Result<Reply> ReplaceMeter(Call& c);
    Result<Reply> TransferTenant(Call& c);
    Result<Reply> CloseAccount(Call& c);
    Result<Reply> ListLedger(Call& c);

    // api_devices.cpp: gateways, models, meters, readings, pending devices, commands, alarms
    Result<Reply> ListGateways(Call& c);
    Result<Reply> ListModels(Call& c);
    Result<Reply> ListMeters(Call& c);
    Result<Reply> GetMeter(Call& c);
    Result<Reply> ListReadings(Call& c);
    Result<Reply> SendCommand(Call& c);
    Result<Reply> ListPendingDevices(Call& c);
    Result<Reply> BindPendingDevice(Call& c);
    Result<Reply> ListCommands(Call& c);
    Result<Reply> ListAlarms(Call& c);
    Result<Reply> AcknowledgeAlarm(Call& c);
    Result<Reply> ClearAlarm(Call& c);
    Result<Reply> LiveEvents(Call& c);

    // api_reports.cpp: day and month summaries, receipts
    Result<Reply> EnergySummary(Call& c);
    Result<Reply> SalesSummary(Call& c);
    Result<Reply> Receipt(Call& c);
    Result<Json> AlarmReply(const AlarmRecord& alarm);  // with its meter's code
};

}  // namespace joule::api
