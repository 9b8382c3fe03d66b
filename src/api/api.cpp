#include "api/api.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "api/api_internal.hpp"
#include "api/credentials.hpp"
#include "service/billing_service.hpp"
#include "wire/json.hpp"

namespace joule::api {

namespace {

constexpr std::size_t kMaxIdempotencyKeyBytes = 64;
constexpr std::size_t kMaxCachedSessions = 10'000;
constexpr int kMaxConcurrentExports = 2;  // each may hold 100,000 rows a few times over

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

// ?format of a request: kJson when absent. Only lists take it (anything else is a 400 naming
// "format", as an unknown parameter would be); it is taken out of the query, so the list's own
// handler never sees it. A file route (an import's template) answers a file of its own and reads
// ?format itself.
Result<ExportFormat> TakeFormat(QueryParams& query, const RouteInfo& route) {
    const auto it = query.find("format");
    if (it == query.end() || !route.file_types.empty()) {
        return ExportFormat::kJson;  // a file route reads its ?format itself
    }
    if (!route.paged) {
        return InvalidArgument("format", "only lists can be exported; this is not a list");
    }
    JOULE_ASSIGN_OR_RETURN(const ExportFormat format, ParseExportFormat(it->second));
    query.erase(it);
    return format;
}

// The rows of a list's answer {items, page, page_size, total} as a table. Above `max_rows` it is
// refused before any table is built (kOutOfRange naming "format"); a list that gave fewer rows
// than it counted is an error too, never a file silently cut short.
template <class J>
Result<ExportTable> RowsOf(const J& page, int max_rows) {
    if (!page.is_object() || !page.contains("items")) {
        return MakeError(ErrorCode::kInternal, "the list's answer has no items to export");
    }
    const int64_t total = page.value("total", int64_t{0});
    if (total > max_rows) {
        return MakeError(ErrorCode::kOutOfRange,
                         "the export would have " + std::to_string(total) +
                             " rows, more than the " + std::to_string(max_rows) +
                             " one export may have; narrow it with the list's filters",
                         "format");
    }
    JOULE_ASSIGN_OR_RETURN(ExportTable table, TableOf(page.at("items")));
    if (table.rows.size() != static_cast<std::size_t>(total)) {
        return MakeError(ErrorCode::kInternal, "the list gave " +
                                                   std::to_string(table.rows.size()) + " of " +
                                                   std::to_string(total) + " rows to export");
    }
    return table;
}

// The list a request reads, relative to /api/v1/ and to its project: "accounts",
// "meters/m1/readings", "operations".
std::string ListPathOf(const Call& call) {
    std::string_view rest = call.http.path;
    constexpr std::string_view kRoot = "/api/v1/";
    if (rest.starts_with(kRoot)) {
        rest.remove_prefix(kRoot.size());
    }
    if (call.project) {
        const std::string prefix = "projects/" + call.project->code + "/";
        if (rest.starts_with(prefix)) {
            rest.remove_prefix(prefix.size());
        }
    }
    return std::string(rest.substr(0, 200));
}

// A piece of a file name: letters, digits, '.', '_' and '-' kept, '/' as '-', the rest '_'.
std::string FileNamePart(std::string_view text) {
    std::string out;
    for (char c : text.substr(0, 100)) {
        const bool keep =
            std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
        out += keep ? c : c == '/' ? '-' : '_';
    }
    return out;
}

}  // namespace

// ------------------------------------------------------------------------------ shared pieces

Error AsApiError(Error error) {
    if (error.field == "idempotency_key") {
        error.field = "Idempotency-Key";
    } else if (error.field == "expected_version") {
        error.field = "If-Match";
    } else if (error.code == ErrorCode::kNotFound && error.field == "account_number") {
        error.field = "account";
    } else if (error.code == ErrorCode::kNotFound && error.field == "pending_id") {
        error.field = "device";
    }
    return error;
}

Result<AccountRecord> FindAccountOf(Tx& tx, const Call& call) {
    const std::string& number = call.params.at("account");
    JOULE_ASSIGN_OR_RETURN(auto account, tx.FindAccount(call.project->id, number));
    if (!account) {
        return NotFound("no account '" + number.substr(0, 64) + "'", "account");
    }
    return *account;
}

Result<MeterRecord> FindMeterOf(Tx& tx, const Call& call) {
    const std::string& code = call.params.at("meter");
    JOULE_ASSIGN_OR_RETURN(auto meter, tx.FindMeter(call.project->id, code));
    if (!meter) {
        return NotFound("no meter '" + code.substr(0, 64) + "'", "meter");
    }
    return *meter;
}

Result<std::optional<int64_t>> IfMatchVersion(const Call& call) {
    std::string_view tag = call.http.Header("if-match");
    if (tag.empty()) {
        return std::optional<int64_t>();
    }
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"') {
        tag = tag.substr(1, tag.size() - 2);
    }
    auto version = PositiveId(tag, "If-Match");
    if (!version) {
        return InvalidArgument("If-Match", "must be the ETag of the object, e.g. \"3\"");
    }
    return std::optional<int64_t>(*version);
}

Status OnlyParams(const QueryParams& query, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : query) {
        if (std::find(known.begin(), known.end(), key) == known.end()) {
            return InvalidArgument(key, "unknown query parameter");
        }
    }
    return {};
}

int RowsToLoad(const QueryParams& query, int window) {
    return query.max_page_size > kMaxPageSize ? std::max(window, query.max_page_size + 1) : window;
}

Status CheckWindow(const QueryParams& query, std::size_t loaded, int loaded_limit) {
    if (query.max_page_size > kMaxPageSize && loaded >= static_cast<std::size_t>(loaded_limit)) {
        return MakeError(ErrorCode::kOutOfRange,
                         "the list has more than the " + std::to_string(query.max_page_size) +
                             " rows one export may have; narrow it with the list's filters",
                         "format");
    }
    return {};
}

void WriteAccountSummary(wire::JsonText& out, const AccountSummary& a) {
    out.BeginObject()
        .Key("number")
        .String(a.number)
        .Key("tenant_name")
        .String(a.tenant_name)
        .Key("phone")
        .String(a.phone)
        .Key("status")
        .String(AccountStatusName(a.status))
        .Key("state")
        .String(PrepaidStateName(a.state))
        .Key("relay")
        .String(RelayName(a.relay))
        .Key("keep_power")
        .Bool(a.keep_power)
        .Key("billing_mode")
        .String(BillingModeName(a.billing_mode))
        .Key("opened_at")
        .String(FormatInstant(a.opened_at))
        .Key("version")
        .Int(a.version)
        .EndObject();
}

Json AccountSummaryJson(const AccountRecord& a) {
    wire::JsonText text;
    WriteAccountSummary(text, SummaryOf(a));
    return Json::parse(text.Take());
}

namespace {

// What the API's NotificationService needs of the options: the channels the notifier sends on
// (a resend on any other would wait for ever).
NotifyOptions NotifyOptionsFor(const std::vector<std::string>& channels) {
    NotifyOptions options;
    for (const std::string& name : channels) {
        if (auto channel = ParseNotifyChannel(name, "notify_channels")) {
            options.configured.insert(*channel);
        }
    }
    return options;
}

}  // namespace

Api::Impl::Impl(Store& s, AccessStore& a, BillingService& b, AcquisitionService& q, ApiOptions o)
    : store(s),
      access(a),
      billing(b),
      acquisition(q),
      options(std::move(o)),
      payments(s, b, PaymentOptions{.sandbox = static_cast<bool>(options.payments.sandbox_pay)}),
      notifications(s, NotifyOptionsFor(options.notify_channels)),
      tenants(s, TenantOptions{.sms_configured = options.tenant_codes_by_sms,
                               .show_codes = options.tenant_show_codes,
                               .random_hex = RandomHex,
                               .sha256_hex = Sha256Hex}),
      live_hub(s, LiveHub::Options{options.live_poll_interval, options.max_live_streams}) {
    if (!options.clock) {
        options.clock = [] {
            return std::chrono::floor<Seconds>(std::chrono::system_clock::now());
        };
    }
    if (!options.web_root.empty()) {
        static_files.emplace(options.web_root);
    }
    AddRoutes();
    for (const Route& r : routes) {
        infos.push_back(r.info);
    }
}

void Api::Impl::Add(RouteInfo info, Handler handler) {
    Route r;
    r.segments = SplitPath(info.pattern);
    r.info = std::move(info);
    r.handler = std::move(handler);
    routes.push_back(std::move(r));
}

// ------------------------------------------------------------------------------------- routes

// The one table: dispatch, permissions, the project scope and the OpenAPI document all read it.
void Api::Impl::AddRoutes() {
    using P = Permission;
    constexpr RouteAccess kPublic = RouteAccess::kPublic;
    constexpr RouteAccess kSignedIn = RouteAccess::kSignedIn;
    constexpr RouteAccess kNeeds = RouteAccess::kPermission;
    enum Shape : std::uint8_t { kRead = 0, kList = 1, kWrite = 2, kMoney = 3 };
    auto add = [this](const char* method, std::string pattern, const char* id, const char* summary,
                      const char* tag, RouteAccess reach, P permission, Shape shape,
                      Result<Reply> (Impl::*fn)(Call&)) {
        Add({method, std::move(pattern), id, summary, tag, reach, permission, shape == kMoney,
             shape == kList, shape == kWrite || shape == kMoney, ""},
            [this, fn](Call& c) { return (this->*fn)(c); });
    };
    constexpr const char* kProject = "/api/v1/projects/{project}";
    const auto p = [](const char* rest) { return std::string(kProject) + rest; };

    add("POST", "/api/v1/auth/login", "login", "Sign in with a password; sets the session cookie",
        "auth", kPublic, P::kProjectsView, kWrite, &Impl::Login);
    add("POST", "/api/v1/auth/logout", "logout", "End this session", "auth", kSignedIn,
        P::kProjectsView, kRead, &Impl::Logout);
    add("GET", "/api/v1/auth/me", "me", "The signed-in user, permissions and CSRF token", "auth",
        kSignedIn, P::kProjectsView, kRead, &Impl::Me);
    add("POST", "/api/v1/auth/password", "changePassword",
        "Change one's own password; every other session ends", "auth", kSignedIn, P::kProjectsView,
        kWrite, &Impl::ChangePassword);
    add("GET", "/api/v1/users", "listUsers", "Users", "users", kNeeds, P::kUsersManage, kList,
        &Impl::ListUsers);
    add("POST", "/api/v1/users", "createUser", "Create a user", "users", kNeeds, P::kUsersManage,
        kWrite, &Impl::CreateUserRoute);
    add("GET", "/api/v1/users/{user}", "getUser", "A user; ETag", "users", kNeeds, P::kUsersManage,
        kRead, &Impl::GetUserRoute);
    add("PATCH", "/api/v1/users/{user}", "updateUser",
        "Change a user's display name, role, projects or disabled (If-Match); a new role or "
        "projects, or disabling, end the user's sessions",
        "users", kNeeds, P::kUsersManage, kWrite, &Impl::UpdateUserRoute);
    add("POST", "/api/v1/users/{user}/password", "resetPassword",
        "Set a user's password (admin reset); the user's sessions end", "users", kNeeds,
        P::kUsersManage, kWrite, &Impl::ResetPassword);
    add("GET", "/api/v1/roles", "listRoles", "Built-in and custom roles and their permissions",
        "users", kSignedIn, P::kProjectsView, kList, &Impl::ListRoles);
    add("POST", "/api/v1/roles", "createRole", "Create a custom role from a list of permissions",
        "users", kNeeds, P::kUsersManage, kWrite, &Impl::CreateRole);
    add("GET", "/api/v1/roles/{role}", "getRole", "A role; ETag (custom roles)", "users", kNeeds,
        P::kUsersManage, kRead, &Impl::GetRole);
    add("PATCH", "/api/v1/roles/{role}", "updateRole",
        "Rename a custom role or change its permissions (If-Match); its users have the new "
        "permissions from their next request",
        "users", kNeeds, P::kUsersManage, kWrite, &Impl::UpdateRole);
    add("DELETE", "/api/v1/roles/{role}", "deleteRole",
        "Delete a custom role no user has (If-Match)", "users", kNeeds, P::kUsersManage, kRead,
        &Impl::DeleteRole);
    add("GET", "/api/v1/api-keys", "listApiKeys", "API keys for integrations", "users", kNeeds,
        P::kUsersManage, kList, &Impl::ListApiKeys);
    add("POST", "/api/v1/api-keys", "createApiKey", "Create an API key; the secret is shown once",
        "users", kNeeds, P::kUsersManage, kWrite, &Impl::CreateApiKey);
    add("DELETE", "/api/v1/api-keys/{key}", "revokeApiKey", "Revoke an API key", "users", kNeeds,
        P::kUsersManage, kRead, &Impl::RevokeApiKey);
    add("GET", "/api/v1/operations", "listOperations",
        "The operation log: every change, who, when, from where (newest first)", "audit", kNeeds,
        P::kOperationsView, kList, &Impl::ListOperations);
    add("GET", "/api/v1/models", "listModels", "Meter models (protocol, capabilities)", "devices",
        kNeeds, P::kDevicesView, kList, &Impl::ListModels);

    add("GET", "/api/v1/projects", "listProjects", "Projects the caller can see", "projects",
        kSignedIn, P::kProjectsView, kList, &Impl::ListProjects);
    add("GET", kProject, "getProject", "A project", "projects", kNeeds, P::kProjectsView, kRead,
        &Impl::GetProject);
    add("GET", p("/buildings"), "listBuildings", "Buildings of a project", "projects", kNeeds,
        P::kProjectsView, kList, &Impl::ListBuildings);
    add("GET", p("/floors"), "listFloors", "Floors of a project (filter: building)", "projects",
        kNeeds, P::kProjectsView, kList, &Impl::ListFloors);
    add("GET", p("/rooms"), "listRooms", "Rooms of a project (filters: building, floor)",
        "projects", kNeeds, P::kProjectsView, kList, &Impl::ListRooms);
    add("GET", p("/room-monitor"), "roomMonitor",
        "The room grid: every room with its meters' links and its open account (filters: "
        "building, floor, state, account)",
        "accounts", kNeeds, P::kAccountsView, kList, &Impl::RoomMonitor);
    // Editing the hierarchy and devices: every edit and delete with If-Match (the ETag of GET).
    add("POST", p("/buildings"), "createBuilding", "Create a building", "projects", kNeeds,
        P::kProjectsManage, kWrite, &Impl::CreateBuilding);
    add("GET", p("/buildings/{building}"), "getBuilding", "A building; ETag", "projects", kNeeds,
        P::kProjectsView, kRead, &Impl::GetBuilding);
    add("PATCH", p("/buildings/{building}"), "updateBuilding",
        "Rename a building or change its code (If-Match)", "projects", kNeeds, P::kProjectsManage,
        kWrite, &Impl::UpdateBuilding);
    add("DELETE", p("/buildings/{building}"), "deleteBuilding",
        "Delete a building that has no floors (If-Match)", "projects", kNeeds, P::kProjectsManage,
        kRead, &Impl::DeleteBuilding);
    add("POST", p("/buildings/{building}/floors"), "createFloor", "Create a floor of a building",
        "projects", kNeeds, P::kProjectsManage, kWrite, &Impl::CreateFloor);
    add("GET", p("/buildings/{building}/floors/{floor}"), "getFloor", "A floor; ETag", "projects",
        kNeeds, P::kProjectsView, kRead, &Impl::GetFloor);
    add("PATCH", p("/buildings/{building}/floors/{floor}"), "updateFloor",
        "Rename a floor or change its code (If-Match)", "projects", kNeeds, P::kProjectsManage,
        kWrite, &Impl::UpdateFloor);
    add("DELETE", p("/buildings/{building}/floors/{floor}"), "deleteFloor",
        "Delete a floor that has no rooms (If-Match)", "projects", kNeeds, P::kProjectsManage,
        kRead, &Impl::DeleteFloor);
    add("POST", p("/rooms"), "createRoom", "Create a room on a floor (or on none)", "projects",
        kNeeds, P::kProjectsManage, kWrite, &Impl::CreateRoom);
    add("GET", p("/rooms/{room}"), "getRoom", "A room; ETag", "projects", kNeeds, P::kProjectsView,
        kRead, &Impl::GetRoom);
    add("PATCH", p("/rooms/{room}"), "updateRoom",
        "Change a room's code, name, area or floor (If-Match)", "projects", kNeeds,
        P::kProjectsManage, kWrite, &Impl::UpdateRoom);
    add("DELETE", p("/rooms/{room}"), "deleteRoom", "Delete a room that has no meters (If-Match)",
        "projects", kNeeds, P::kProjectsManage, kRead, &Impl::DeleteRoom);
    add("POST", p("/gateways"), "createGateway", "Create a gateway (MQTT, Modbus-TCP or DTU)",
        "devices", kNeeds, P::kDevicesManage, kWrite, &Impl::CreateGateway);
    add("GET", p("/gateways/{gateway}"), "getGateway", "A gateway with its link state; ETag",
        "devices", kNeeds, P::kDevicesView, kRead, &Impl::GetGateway);
    add("PATCH", p("/gateways/{gateway}"), "updateGateway",
        "Change a gateway's code, name, transport, endpoint or framing (If-Match)", "devices",
        kNeeds, P::kDevicesManage, kWrite, &Impl::UpdateGateway);
    add("DELETE", p("/gateways/{gateway}"), "deleteGateway",
        "Delete a gateway that has no meters (If-Match)", "devices", kNeeds, P::kDevicesManage,
        kRead, &Impl::DeleteGateway);
    add("POST", p("/meters"), "createMeter",
        "Create a meter: serial/address, model, gateway and bus address, room, tariff, parent",
        "devices", kNeeds, P::kDevicesManage, kWrite, &Impl::CreateMeter);
    add("PATCH", p("/meters/{meter}"), "updateMeter",
        "Change a meter's wiring, room, tariff, parent or code (If-Match)", "devices", kNeeds,
        P::kDevicesManage, kWrite, &Impl::UpdateMeter);
    add("DELETE", p("/meters/{meter}"), "deleteMeter",
        "Delete a meter that has no history: no account, readings, commands or sub-meters "
        "(If-Match)",
        "devices", kNeeds, P::kDevicesManage, kRead, &Impl::DeleteMeter);
    AddImportRoutes();
    add("GET", p("/tariffs"), "listTariffs", "Tariffs of a project", "tariffs", kNeeds,
        P::kTariffsView, kList, &Impl::ListTariffs);
    add("GET", p("/tariffs/{tariff}"), "getTariff", "A tariff with every version", "tariffs",
        kNeeds, P::kTariffsView, kRead, &Impl::GetTariff);
    add("POST", p("/tariffs/{tariff}/versions"), "addTariffVersion",
        "A new tariff version from a future instant (past bills never change)", "tariffs", kNeeds,
        P::kTariffsManage, kWrite, &Impl::AddTariffVersion);
    add("POST", p("/tariffs/{tariff}/quote"), "quoteTariff",
        "Quote (试算): a past period's readings of the tariff's meters priced under a candidate "
        "version, next to what was charged; changes nothing",
        "tariffs", kNeeds, P::kTariffsView, kWrite, &Impl::QuoteTariffRoute);

    add("GET", p("/accounts"), "listAccounts", "Accounts of a project", "accounts", kNeeds,
        P::kAccountsView, kList, &Impl::ListAccounts);
    add("POST", p("/accounts"), "openAccount", "Open an account on one or more meters", "accounts",
        kNeeds, P::kAccountsManage, kWrite, &Impl::OpenAccount);
    add("GET", p("/accounts/{account}"), "getAccount", "An account with its balances and meters",
        "accounts", kNeeds, P::kAccountsView, kRead, &Impl::GetAccount);
    add("PATCH", p("/accounts/{account}"), "changeAccountTerms",
        "Change the tenant's name or phone, the tariff, the alarm scheme or the debt share "
        "(If-Match); a new scheme applies to the balance at once",
        "accounts", kNeeds, P::kAccountsManage, kWrite, &Impl::ChangeAccountTerms);
    add("POST", p("/accounts/{account}/top-ups"), "topUp",
        "Counter top-up (Idempotency-Key required)", "accounts", kNeeds, P::kMoneyTopUp, kMoney,
        &Impl::TopUp);
    add("POST", p("/accounts/{account}/refunds"), "refund",
        "Refund paid credit (Idempotency-Key required)", "accounts", kNeeds, P::kMoneyRefund,
        kMoney, &Impl::Refund);
    add("POST", p("/accounts/{account}/subsidies"), "grantSubsidy",
        "Grant credit kept apart from paid money (Idempotency-Key required)", "accounts", kNeeds,
        P::kMoneyRefund, kMoney, &Impl::GrantSubsidy);
    add("POST", p("/accounts/{account}/debts"), "recordDebt",
        "Move arrears into debt recovered from later top-ups (Idempotency-Key required)",
        "accounts", kNeeds, P::kMoneyRefund, kMoney, &Impl::RecordDebt);
    add("POST", p("/accounts/{account}/control"), "controlAccount",
        "Trip, close, keep power, restore prepaid control, or take the emergency credit",
        "commands", kNeeds, P::kCommandsSend, kWrite, &Impl::ControlAccount);
    add("POST", p("/accounts/{account}/meter-replacements"), "replaceMeter",
        "Replace a meter: the old one billed to its final register, the new one opened", "accounts",
        kNeeds, P::kAccountsManage, kWrite, &Impl::ReplaceMeter);
    add("POST", p("/accounts/{account}/transfer"), "transferTenant",
        "Pass the account's meters to a new tenant (settled, balance carried or refunded)",
        "accounts", kNeeds, P::kAccountsManage, kWrite, &Impl::TransferTenant);
    add("POST", p("/accounts/{account}/close"), "closeAccount",
        "Close: bill the final registers and refund what is left", "accounts", kNeeds,
        P::kAccountsManage, kWrite, &Impl::CloseAccount);
    add("GET", p("/accounts/{account}/tenants"), "listAccountTenants",
        "The people bound to the account on the tenants' pages (holder: the account's phone)",
        "accounts", kNeeds, P::kAccountsView, kRead, &Impl::ListAccountTenants);
    add("DELETE", p("/accounts/{account}/tenants/{binding}"), "removeAccountTenant",
        "Unbind a person from the account's tenants' pages", "accounts", kNeeds, P::kAccountsManage,
        kRead, &Impl::RemoveAccountTenant);
    add("GET", p("/accounts/{account}/ledger"), "listLedger",
        "The account's ledger transfers, newest first", "accounts", kNeeds, P::kAccountsView, kList,
        &Impl::ListLedger);

    add("POST", p("/accounts/{account}/payments"), "createPayment",
        "An online payment order for the account (provider, channel, amount) with a configured "
        "provider; a sandbox order answers with the path that pays it",
        "payments", kNeeds, P::kMoneyTopUp, kWrite, &Impl::CreatePayment);
    add("GET", p("/accounts/{account}/payments"), "listPayments",
        "The account's payment orders, newest first", "payments", kNeeds, P::kAccountsView, kList,
        &Impl::ListPayments);
    add("GET", p("/payments/{order}"), "getPayment",
        "A payment order with every notification received for it", "payments", kNeeds,
        P::kAccountsView, kRead, &Impl::GetPayment);
    add("POST", p("/payments/{order}/refunds"), "refundPayment",
        "Refund a paid order through its provider (amount, reason; Idempotency-Key required): "
        "the account is debited at once; 201 when the provider answered, 202 when it is asked "
        "again later",
        "payments", kNeeds, P::kMoneyRefund, kMoney, &Impl::RefundPayment);
    add("POST", p("/payments/{order}/sandbox-pay"), "sandboxPay",
        "The sandbox provider pays the order: its signed notification goes through the same "
        "verification and crediting as a real one (only when the sandbox is on)",
        "payments", kNeeds, P::kMoneyTopUp, kRead, &Impl::SandboxPay);
    {
        RouteInfo import;
        import.method = "POST";
        import.pattern = p("/reconciliations");
        import.operation_id = "importStatement";
        import.summary =
            "Reconcile a provider's daily statement (provider=wechat|alipay|sandbox, date: its "
            "day, "
            "else its lines'): every line matched with the orders and the ledger, every mismatch "
            "recorded and alarmed; the file as the body (WeChat trade bill, Alipay business "
            "detail; UTF-8 or GBK)";
        import.tag = "payments";
        import.permission = P::kMoneyRefund;
        import.has_body = true;
        import.file_types = {"text/csv", "application/octet-stream"};
        import.max_body_bytes = std::size_t{64} * 1024 * 1024;
        Add(std::move(import), [this](Call& c) { return ImportStatement(c); });
    }
    add("GET", "/api/v1/payments/providers", "paymentProviders",
        "What this server does with each payment provider: takes orders (orders), refunds through "
        "it (refunds), fetches its daily statements (statements)",
        "payments", kSignedIn, P::kProjectsView, kRead, &Impl::PaymentProviders);
    add("POST", p("/reconciliations/fetch"), "fetchStatement",
        "Fetch a provider's daily statement from the provider now and reconcile it for this "
        "project ({provider: wechat|alipay, date}); the server also does this itself each day",
        "payments", kNeeds, P::kMoneyRefund, kWrite, &Impl::FetchStatement);
    add("GET", p("/reconciliations"), "listReconciliations",
        "Statements reconciled, newest first, with their totals", "payments", kNeeds,
        P::kReportsView, kList, &Impl::ListReconciliations);
    add("GET", p("/reconciliations/{reconciliation}"), "getReconciliation",
        "A reconciliation and every mismatch it found", "payments", kNeeds, P::kReportsView, kRead,
        &Impl::GetReconciliation);
    // The providers post JSON (WeChat Pay) or a form (Alipay), verified as it came.
    Add({"POST",
         "/api/v1/pay/notify/{provider}",
         "paymentNotify",
         "The providers' payment notifications (wechat, alipay, sandbox): verified, credited "
         "exactly once, answered as each provider expects",
         "payments",
         kPublic,
         P::kProjectsView,
         false,
         false,
         true,
         "",
         {"application/json", "application/x-www-form-urlencoded"}},
        [this](Call& c) { return PaymentNotify(c); });

    // Tenants [PAY-1]: their own API, reached by their own session (docs/tenant.md).
    constexpr RouteAccess kTenant = RouteAccess::kTenant;
    const auto t = [](const char* rest) { return std::string("/api/v1/tenant") + rest; };
    add("GET", t("/projects"), "tenantProjects", "The projects a tenant may pick", "tenant",
        kPublic, P::kProjectsView, kRead, &Impl::TenantProjects);
    add("POST", t("/codes"), "tenantSendCode",
        "Send a sign-in code by SMS to a mobile phone (one a minute, ten a day)", "tenant", kPublic,
        P::kProjectsView, kWrite, &Impl::TenantSendCode);
    add("POST", t("/login"), "tenantLogin",
        "Sign in with the phone and its code; sets the cookie joule_tenant", "tenant", kPublic,
        P::kProjectsView, kWrite, &Impl::TenantLogin);
    add("POST", t("/logout"), "tenantLogout", "End the tenant's session", "tenant", kTenant,
        P::kProjectsView, kRead, &Impl::TenantLogout);
    add("GET", t("/me"), "tenantMe",
        "The signed-in tenant: masked phone, CSRF token, bound accounts, payment providers and "
        "top-up presets",
        "tenant", kTenant, P::kProjectsView, kRead, &Impl::TenantMe);
    add("POST", t("/bindings"), "tenantBind",
        "Bind an account: at once for the account's own phone, else with a code sent to it (202 "
        "until the code is given)",
        "tenant", kTenant, P::kProjectsView, kWrite, &Impl::TenantBind);
    add("DELETE", t("/bindings/{binding}"), "tenantUnbind",
        "Unbind: one's own binding, or a member's by the holder", "tenant", kTenant,
        P::kProjectsView, kRead, &Impl::TenantUnbind);
    add("GET", t("/bindings/{binding}"), "tenantAccount",
        "A bound account: balance, days left, supply, today's usage per meter, alarm levels",
        "tenant", kTenant, P::kProjectsView, kRead, &Impl::TenantAccountDetail);
    add("GET", t("/bindings/{binding}/members"), "tenantMembers",
        "Everyone bound to the account (phones masked)", "tenant", kTenant, P::kProjectsView, kRead,
        &Impl::TenantMembers);
    add("GET", t("/bindings/{binding}/usage"), "tenantUsage",
        "Energy and charges of the last 31 days or 12 months (period=day|month)", "tenant", kTenant,
        P::kProjectsView, kRead, &Impl::TenantUsage);
    add("GET", t("/bindings/{binding}/records"), "tenantRecords",
        "Top-ups and usage records, newest first (kind=top_up|usage|all)", "tenant", kTenant,
        P::kProjectsView, kRead, &Impl::TenantRecords);
    add("GET", t("/bindings/{binding}/alarms"), "tenantAlarms",
        "The account's alarms, newest first", "tenant", kTenant, P::kProjectsView, kRead,
        &Impl::TenantAlarms);
    add("GET", t("/bindings/{binding}/receipt"), "tenantReceipt",
        "A printable receipt of a top-up, refund or subsidy (transfer: its id)", "tenant", kTenant,
        P::kProjectsView, kRead, &Impl::TenantReceipt);
    routes.back().info.produces = "text/html";
    add("POST", t("/bindings/{binding}/payments"), "tenantCreatePayment",
        "Top up online: a payment order (amount, provider)", "tenant", kTenant, P::kProjectsView,
        kWrite, &Impl::TenantCreatePayment);
    add("GET", t("/wechat/authorize"), "tenantWechatAuthorize",
        "Redirect to WeChat's silent OAuth for the payer's openid, which JSAPI payments need; "
        "return: the /m/ page to come back to",
        "tenant", kTenant, P::kProjectsView, kRead, &Impl::TenantWechatAuthorize);
    add("GET", t("/wechat/callback"), "tenantWechatCallback",
        "Where WeChat's OAuth comes back (code, state): the openid is kept with the session, "
        "then a redirect to the page",
        "tenant", kPublic, P::kProjectsView, kRead, &Impl::TenantWechatCallback);
    add("GET", t("/payments/{order}"), "tenantPayment", "One of the tenant's payment orders",
        "tenant", kTenant, P::kProjectsView, kRead, &Impl::TenantGetPayment);
    add("POST", t("/payments/{order}/sandbox-pay"), "tenantSandboxPay",
        "The sandbox provider pays the order (only when the sandbox is on)", "tenant", kTenant,
        P::kProjectsView, kRead, &Impl::TenantSandboxPay);

    add("GET", p("/notifications/recipients"), "listRecipients",
        "Staff told of the project's events, and the channels this server sends on",
        "notifications", kNeeds, P::kAlarmsView, kList, &Impl::ListRecipients);
    add("POST", p("/notifications/recipients"), "createRecipient",
        "Add a recipient: name, role (engineering, finance, management), channel (email, sms, "
        "wechat, webhook), address, language, kinds (empty: the role's), a webhook's secret",
        "notifications", kNeeds, P::kAlarmsManage, kWrite, &Impl::CreateRecipient);
    add("PUT", p("/notifications/recipients/{recipient}"), "updateRecipient",
        "Replace a recipient (an empty secret keeps the webhook's)", "notifications", kNeeds,
        P::kAlarmsManage, kWrite, &Impl::UpdateRecipient);
    add("DELETE", p("/notifications/recipients/{recipient}"), "deleteRecipient",
        "Remove a recipient", "notifications", kNeeds, P::kAlarmsManage, kRead,
        &Impl::DeleteRecipient);
    add("GET", p("/notifications/deliveries"), "listDeliveries",
        "The delivery log, newest first: state, channel, kind, q, before (an id), limit (1..500)",
        "notifications", kNeeds, P::kAlarmsView, kRead, &Impl::ListDeliveries);
    add("POST", p("/notifications/deliveries/{delivery}/retry"), "retryDelivery",
        "Send a failed or suppressed delivery again", "notifications", kNeeds, P::kAlarmsManage,
        kRead, &Impl::RetryDelivery);
    add("GET", p("/notifications/kinds"), "listEventKinds",
        "The event kinds, whom they are for, and whether quiet hours hold them", "notifications",
        kNeeds, P::kAlarmsView, kRead, &Impl::ListEventKinds);

    add("GET", p("/gateways"), "listGateways", "Gateways with link state and bus statistics",
        "devices", kNeeds, P::kDevicesView, kList, &Impl::ListGateways);
    add("GET", p("/meters"), "listMeters", "Meters with their live status", "devices", kNeeds,
        P::kDevicesView, kList, &Impl::ListMeters);
    add("GET", p("/meters/{meter}"), "getMeter", "A meter, its live status and its account",
        "devices", kNeeds, P::kDevicesView, kRead, &Impl::GetMeter);
    add("GET", p("/meters/{meter}/readings"), "listReadings",
        "Readings of a meter, newest first, quarantined ones with their reason", "devices", kNeeds,
        P::kDevicesView, kList, &Impl::ListReadings);
    add("POST", p("/meters/{meter}/commands"), "sendCommand",
        "Queue a device command (valve, time sync) with a reason", "commands", kNeeds,
        P::kCommandsSend, kWrite, &Impl::SendCommand);
    add("GET", p("/pending-devices"), "listPendingDevices",
        "Devices that answered or registered but are not configured", "devices", kNeeds,
        P::kDevicesView, kList, &Impl::ListPendingDevices);
    add("POST", p("/pending-devices/{device}/bind"), "bindPendingDevice",
        "Bind a pending device: it becomes a live meter", "devices", kNeeds, P::kDevicesManage,
        kWrite, &Impl::BindPendingDevice);
    add("GET", p("/commands"), "listCommands", "Command history (filters: meter, account, state)",
        "commands", kNeeds, P::kDevicesView, kList, &Impl::ListCommands);
    add("GET", p("/alarms"), "listAlarms", "Alarms of a project", "alarms", kNeeds, P::kAlarmsView,
        kList, &Impl::ListAlarms);
    add("POST", p("/alarms/{alarm}/acknowledge"), "acknowledgeAlarm", "Acknowledge an open alarm",
        "alarms", kNeeds, P::kAlarmsManage, kRead, &Impl::AcknowledgeAlarm);
    add("POST", p("/alarms/{alarm}/clear"), "clearAlarm", "Clear an open alarm by hand", "alarms",
        kNeeds, P::kAlarmsManage, kRead, &Impl::ClearAlarm);
    add("GET", p("/events"), "liveEvents",
        "Live updates as Server-Sent Events: meter and gateway state, account state, alarms and "
        "command results the caller may see; resumes from Last-Event-ID",
        "live", kNeeds, P::kProjectsView, kRead, &Impl::LiveEvents);
    routes.back().info.produces = "text/event-stream";
    add("GET", p("/summaries/energy"), "energySummary",
        "Energy and charges by local day or month, per project, building, account or meter "
        "(from, to, period, group)",
        "reports", kNeeds, P::kReportsView, kList, &Impl::EnergySummary);
    add("GET", p("/summaries/sales"), "salesSummary",
        "Top-ups, refunds and subsidies by local day or month and channel, per project or "
        "account (from, to, period, group)",
        "reports", kNeeds, P::kReportsView, kList, &Impl::SalesSummary);
    add("GET", p("/accounts/{account}/receipt"), "receipt",
        "A printable receipt of a top-up, refund or subsidy (transfer: its ledger id), amount in "
        "figures and in Chinese capitals",
        "accounts", kNeeds, P::kAccountsView, kRead, &Impl::Receipt);
    routes.back().info.produces = "text/html";
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
        auto tx = store.BeginRead();
        out.status = tx ? 200 : 503;
        out.body = tx ? R"({"status":"ready"})" : R"({"status":"store unavailable"})";
    } else if (request.path == "/metrics") {
        out.content_type = "text/plain; version=0.0.4";
        out.body = metrics.Render();
        if (options.extra_metrics) {
            out.body += options.extra_metrics();
        }
    } else if (request.path == "/api/v1/openapi.json" && request.method == "GET") {
        route_label = "openapi";
        out.body = OpenApiDocument(infos);
    } else if (static_files && StaticFiles::Serves(request)) {
        route_label = "static";  // one label: file names would grow /metrics without bound
        out = static_files->Serve(request);
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
            if (!reply->content_type.empty()) {
                out.content_type = std::move(reply->content_type);
            }
            if (!reply->text.empty()) {
                out.body = std::move(reply->text);
            } else if (!reply->body.is_null()) {
                out.body = reply->body.dump(-1, ' ', false, Json::error_handler_t::replace);
            }
            out.headers = std::move(reply->headers);
            out.stream = std::move(reply->stream);
        } else {
            out.status = HttpStatusOf(reply.error());
            out.body = ErrorJson(reply.error());
        }
    }
    out.headers.emplace_back("X-Request-Id", request_id);
    // Unless the answer set them itself (the console's files cache by their own rules).
    const auto add_unless_set = [&out](std::string_view name, std::string_view value) {
        const bool set = std::any_of(out.headers.begin(), out.headers.end(),
                                     [name](const auto& h) { return h.first == name; });
        if (!set) {
            out.headers.emplace_back(name, value);
        }
    };
    add_unless_set("Cache-Control", "no-store");
    add_unless_set("X-Content-Type-Options", "nosniff");
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
    std::string allowed;  // methods of the routes whose pattern the path matches
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
        allowed += (allowed.empty() ? "" : ", ") + r.info.method;
        if (r.info.method == request.method) {
            match = &r;
            params = std::move(found);
            break;
        }
    }
    if (match == nullptr) {
        if (!allowed.empty()) {
            // 405 with the methods there are (the error body as everywhere else).
            Reply r{405,
                    Json{{"code", ErrorCodeName(ErrorCode::kInvalidArgument)},
                         {"message", "method " + request.method.substr(0, 16) +
                                         " is not allowed here; use " + allowed},
                         {"field", "method"}},
                    {{"Allow", allowed}}};
            return r;
        }
        return NotFound("no such resource", "path");
    }
    route_label = match->info.operation_id;
    JOULE_ASSIGN_OR_RETURN(QueryParams query, ParseQuery(request.query));
    Call call{request,
              match->info,
              std::move(params),
              std::move(query),
              {},
              {},
              {},
              options.clock(),
              request_id,
              {},
              {},
              {},
              {}};
    if (match->info.access == RouteAccess::kTenant) {
        JOULE_ASSIGN_OR_RETURN(call.tenant, AuthenticateTenant(request, call));
        user_label = call.principal.username;
    } else if (match->info.access != RouteAccess::kPublic) {
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
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(auto project, tx->FindProject(p->second));
        // A project the caller cannot see answers exactly like one that does not exist.
        if (!project || !call.principal.SeesProject(project->id)) {
            return NotFound("no project '" + p->second.substr(0, 64) + "'", "project");
        }
        call.project = std::move(*project);
    }
    if (match->info.has_body && match->info.file_types.empty()) {
        JOULE_ASSIGN_OR_RETURN(call.body, ParseJsonBody(request));
    } else if (!match->info.has_body && !request.body.empty() && request.method != "GET") {
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
    // After the permission and the project scope: an export of a list the caller cannot read is
    // refused exactly like the list.
    JOULE_ASSIGN_OR_RETURN(const ExportFormat format, TakeFormat(call.query, match->info));
    if (format != ExportFormat::kJson) {
        return Export(call, *match, format);
    }
    return match->handler(call);
}

Result<Reply> Api::Impl::Export(Call& call, const Route& route, ExportFormat format) {
    if (exports_running.fetch_add(1) >= kMaxConcurrentExports) {
        exports_running.fetch_sub(1);
        return MakeError(ErrorCode::kResourceExhausted,
                         "other exports are running; try again in a moment", "format");
    }
    struct Running {
        std::atomic<int>& count;
        ~Running() { count.fetch_sub(1); }
    } running{exports_running};
    // The filters as asked, for the log; paging is the export's own: every row, from the first.
    Json filters = Json::object();
    for (const auto& [key, value] : call.query) {
        if (key != "page" && key != "page_size") {
            filters[key] = value;
        }
    }
    const int max_rows = std::max(options.max_export_rows, kMaxPageSize);
    call.query.max_page_size = max_rows;
    call.query.insert_or_assign("page", "1");
    call.query.insert_or_assign("page_size", std::to_string(max_rows));
    JOULE_ASSIGN_OR_RETURN(Reply listed, route.handler(call));
    ExportTable table;
    if (listed.text.empty()) {
        JOULE_ASSIGN_OR_RETURN(table, RowsOf(listed.body, max_rows));
    } else {
        // Written JSON text (the account list): parsed keeping its key order for the columns.
        JOULE_ASSIGN_OR_RETURN(
            table, RowsOf(nlohmann::ordered_json::parse(listed.text, nullptr, false), max_rows));
    }
    listed = Reply();
    const std::string list = ListPathOf(call);
    const auto slash = route.info.pattern.rfind('/');
    const std::string sheet = route.info.pattern.substr(slash + 1);
    Reply reply;
    reply.content_type = ExportContentType(format);
    if (format == ExportFormat::kXlsx) {
        JOULE_ASSIGN_OR_RETURN(reply.text, Xlsx(table, sheet));
    } else {
        reply.text = Csv(table);
    }
    // Exports carry tenants' names and phones out of the product: each is logged, who, what and
    // with which filters, before a byte leaves.
    const Json detail{{"format", ExportExtension(format)},
                      {"rows", table.rows.size()},
                      {"filters", std::move(filters)}};
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, access.BeginAccess());
        JOULE_TRY(tx->InsertOperation(OperationBy(
            call.actor(), call.now, call.project ? call.project->id : ProjectId{}, "list.export",
            "list:" + list, detail.dump(-1, ' ', false, Json::error_handler_t::replace))));
        JOULE_TRY(tx->Commit());
    }
    const std::string file_name = FileNamePart(call.project ? call.project->code : "joule") + "-" +
                                  FileNamePart(list) + "-" + FormatInstant(call.now).substr(0, 10) +
                                  "." + std::string(ExportExtension(format));
    reply.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file_name + "\"");
    return reply;
}

// ---------------------------------------------------------------------------------- principal

Result<Principal> Api::Impl::PrincipalOf(AccessTx& tx, const UserRecord& user) {
    JOULE_ASSIGN_OR_RETURN(std::optional<RoleDefinition> role, tx.ResolveRole(user.role));
    if (!role) {
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
        uint64_t generation = 0;
        {
            std::lock_guard lock(sessions_mutex);
            if (auto it = cached_keys.find(key_hash); it != cached_keys.end()) {
                return it->second.principal;
            }
            generation = principals_generation;
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
        JOULE_ASSIGN_OR_RETURN(Principal p, PrincipalOf(*tx, *user));
        p.permissions &= found->scopes;  // a key never exceeds its user
        p.via_api_key = true;
        std::lock_guard lock(sessions_mutex);
        if (cached_keys.size() >= kMaxCachedSessions) {
            cached_keys.clear();  // only a cache: the store still has every key
        }
        if (generation == principals_generation) {
            cached_keys.insert_or_assign(key_hash, CachedKey{prefix, p});
        }
        return p;
    }
    const std::string token = CookieValue(request.Header("cookie"), kSessionCookie);
    if (token.empty()) {
        return MakeError(ErrorCode::kUnauthenticated, "sign in first");
    }
    const std::string token_hash = Sha256Hex(token);
    std::optional<CachedSession> cached;
    uint64_t generation = 0;
    {
        std::lock_guard lock(sessions_mutex);
        if (auto it = sessions.find(token_hash); it != sessions.end()) {
            cached = it->second;
        }
        generation = principals_generation;
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
        JOULE_ASSIGN_OR_RETURN(Principal p, PrincipalOf(*tx, *user));
        cached = CachedSession{*session, std::move(p)};
        std::lock_guard lock(sessions_mutex);
        if (sessions.size() >= kMaxCachedSessions) {
            sessions.clear();  // only a cache: the store still has every session
        }
        if (generation == principals_generation) {
            sessions.insert_or_assign(token_hash, *cached);
        }
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
    ++principals_generation;
    sessions.erase(std::string(token_hash));
}

void Api::Impl::ForgetPrincipals(const std::function<bool(const Principal&)>& which) {
    std::lock_guard lock(sessions_mutex);
    ++principals_generation;
    std::erase_if(sessions, [&](const auto& entry) { return which(entry.second.principal); });
    std::erase_if(cached_keys, [&](const auto& entry) { return which(entry.second.principal); });
}

void Api::Impl::ForgetUser(int64_t user_id) {
    ForgetPrincipals([&](const Principal& p) { return p.user_id == user_id; });
}

Status Api::Impl::LogOperation(AccessTx& tx, const Actor& actor, Instant at, std::string action,
                               std::string target, const Json& detail) {
    // By value and moved on: callers pass temporaries, which then are never copied.
    return tx.InsertOperation(
        OperationBy(actor, at, ProjectId{}, std::move(action), std::move(target),
                    detail.dump(-1, ' ', false, Json::error_handler_t::replace)));
}

Result<std::vector<ProjectRecord>> Api::Impl::Projects() {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    return tx->ListProjects();
}

// --------------------------------------------------------------------------------------- Api

Api::Api(Store& store, AccessStore& access, BillingService& billing,
         AcquisitionService& acquisition, ApiOptions options)
    : impl_(std::make_unique<Impl>(store, access, billing, acquisition, std::move(options))) {}

Api::~Api() = default;

HttpResponse Api::Handle(const HttpRequest& request) { return impl_->Handle(request); }

const std::vector<RouteInfo>& Api::routes() const { return impl_->infos; }

std::string Api::OpenApiJson() const { return OpenApiDocument(impl_->infos); }

std::size_t Api::BodyLimitOf(std::string_view method, std::string_view target) const {
    const std::vector<std::string> segments = SplitPath(target.substr(0, target.find('?')));
    for (const Route& r : impl_->routes) {
        if (r.info.max_body_bytes == 0 || r.info.method != method ||
            r.segments.size() != segments.size()) {
            continue;
        }
        bool same = true;
        for (std::size_t i = 0; i < segments.size() && same; ++i) {
            const std::string& want = r.segments[i];
            same = (want.size() > 2 && want.front() == '{') || want == segments[i];
        }
        if (same) {
            return r.info.max_body_bytes;
        }
    }
    return 0;
}

Result<int64_t> Api::CreateUser(const std::string& username, const std::string& password,
                                const std::string& role, bool all_projects,
                                const std::vector<std::string>& project_codes) {
    const NewUser spec{username, password, role, all_projects, project_codes};
    return impl_->InsertUser(spec, nullptr, Actor{"cli", "cli", ""}, impl_->options.clock());
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
