// The tenants' own API [PAY-1] under /api/v1/tenant/: signing in by SMS code, binding accounts,
// and what the phone pages show of a bound account — balance, days left, usage, records, alarms,
// receipts, members — and paying. Everything is reached through one of the person's bindings:
// another account's binding, order or receipt answers exactly like a missing one.
//
// Where the staff API has the same answer (the receipt, a payment order, the sandbox paying it),
// the handler is that one, run with the binding's project and account filled in.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "api/api_internal.hpp"
#include "api/credentials.hpp"
#include "core/notification.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "wire/json.hpp"

namespace joule::api {
namespace {

constexpr int kMaxTenantRecords = 100;
// Per client address and hour: codes asked for, and codes checked (sign-in, binding). A shop's
// Wi-Fi has a few dozen people behind one address; a script has thousands of numbers.
constexpr int kCodesPerAddressPerHour = 20;
constexpr int kCodeChecksPerAddressPerHour = 60;
constexpr int kMaxTenantAlarms = 50;
constexpr int64_t kUsageDays = 31;
constexpr int64_t kUsageMonths = 12;
// WeChat OAuths under way: how many at once, and how long one may take.
constexpr std::size_t kMaxPendingOAuths = 10'000;
constexpr Seconds kOAuthLifetime{600};
constexpr int kOAuthsPerAddressPerHour = 30;
constexpr std::string_view kWechatCallbackPath = "/api/v1/tenant/wechat/callback";

std::string ParamOr(const QueryParams& query, std::string_view name, std::string_view fallback) {
    const auto it = query.find(name);
    return it == query.end() ? std::string(fallback) : it->second;
}

Json CodeSentJson(const CodeSent& sent) {
    Json out{{"sent_to", sent.sent_to},
             {"expires_in", sent.expires_in.count()},
             {"resend_after", sent.resend_after.count()}};
    if (!sent.demo_code.empty()) {
        out["demo_code"] = sent.demo_code;
    }
    return out;
}

// The transfer codes as a mask for TenantTx::TransfersOfAccount.
constexpr uint32_t Bit(TransferCode code) { return 1U << static_cast<uint32_t>(code); }
constexpr uint32_t kMoneyInCodes =
    Bit(TransferCode::kTopUp) | Bit(TransferCode::kRefund) | Bit(TransferCode::kSubsidy);
constexpr uint32_t kUsageCodes = Bit(TransferCode::kDeduction) | Bit(TransferCode::kFee);

}  // namespace

Status Api::Impl::TenantRateLimit(const Call& c, std::string_view what, int per_hour,
                                  std::string_view field) {
    constexpr std::size_t kMaxTracked = 100'000;  // only a guard: a full table starts afresh
    const std::string key = std::string(what) + "|" + c.http.remote;
    std::lock_guard lock(tenant_limits_mutex);
    if (tenant_limits.size() >= kMaxTracked) {
        tenant_limits.clear();
    }
    RateWindow& window = tenant_limits[key];
    if (c.now >= window.start + Seconds{3600}) {
        window = RateWindow{c.now, 0};
    }
    if (window.count >= per_hour) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "too many requests from this address; try again within the hour",
                         std::string(field));
    }
    ++window.count;
    return {};
}

Result<TenantPerson> Api::Impl::AuthenticateTenant(const HttpRequest& request, Call& call) {
    const std::string token = CookieValue(request.Header("cookie"), kTenantCookie);
    if (token.empty()) {
        return MakeError(ErrorCode::kUnauthenticated, "sign in first");
    }
    const std::string token_hash = Sha256Hex(token);
    JOULE_ASSIGN_OR_RETURN(auto found, tenants.Authenticate(token_hash, call.now));
    auto& [session, person] = found;
    const bool safe = request.method == "GET" || request.method == "HEAD";
    if (!safe && !SameSecret(request.Header("x-csrf-token"), session.csrf_token)) {
        return MakeError(ErrorCode::kPermissionDenied, "missing or wrong CSRF token",
                         "X-CSRF-Token");
    }
    call.session_token_hash = token_hash;
    call.tenant_csrf = session.csrf_token;
    call.tenant_openid = session.wechat_openid;
    call.principal.username = TenantActor(person);
    return std::move(person);
}

Result<Api::Impl::TenantAccount> Api::Impl::TenantAccountOf(Call& c) {
    JOULE_ASSIGN_OR_RETURN(const int64_t id, PositiveId(c.params.at("binding"), "binding"));
    JOULE_ASSIGN_OR_RETURN(TenantBinding binding, tenants.BindingOf(*c.tenant, id));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx->GetAccount(binding.account));
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(account.project));
    // The staff handlers this reuses read the project and account from here.
    c.project = project;
    c.params["account"] = account.number;
    return TenantAccount{std::move(binding), std::move(account), std::move(project)};
}

Result<Json> Api::Impl::TenantBindingJson(const TenantBinding& b, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx->GetAccount(b.account));
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(account.project));
    tx.reset();
    JOULE_ASSIGN_OR_RETURN(AccountView view,
                           FromService(billing.ViewAccount(project.code, account.number, now)));
    return TenantBindingJson(b, project, view);
}

Json Api::Impl::TenantBindingJson(const TenantBinding& b, const ProjectRecord& project,
                                  const AccountView& view) {
    const AccountRecord& account = view.account;
    const AccountSummary summary = SummaryOf(view.account);
    return Json{
        {"binding", b.id},
        {"role", BindingRoleName(b.role)},
        {"project", project.code},
        {"project_name", project.name},
        {"account", account.number},
        {"tenant_name", account.tenant_name},
        {"status", AccountStatusName(account.status)},
        {"state", PrepaidStateName(summary.state)},
        {"relay", RelayName(summary.relay)},
        {"available", wire::MoneyText(view.available)},
        {"days_left", view.forecast && view.forecast->days_left ? Json(*view.forecast->days_left)
                                                                : Json(nullptr)}};
}

Result<Reply> Api::Impl::TenantProjects(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto projects, Projects());
    Json items = Json::array();
    for (const ProjectRecord& p : projects) {
        items.push_back(Json{{"code", p.code}, {"name", p.name}});
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

Result<Reply> Api::Impl::TenantSendCode(Call& c) {
    JOULE_TRY(TenantRateLimit(c, "codes", kCodesPerAddressPerHour, "phone"));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string phone, body.String("phone", 32));
    JOULE_ASSIGN_OR_RETURN(std::string project, body.OptString("project", "", 64));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(CodeSent sent,
                           FromService(tenants.SendSignInCode(phone, project, c.now)));
    return Reply{202, CodeSentJson(sent), {}};
}

Result<Reply> Api::Impl::TenantLogin(Call& c) {
    JOULE_TRY(TenantRateLimit(c, "login", kCodeChecksPerAddressPerHour, "code"));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string phone, body.String("phone", 32));
    JOULE_ASSIGN_OR_RETURN(std::string code, body.String("code", 16));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(TenantSignIn signed_in,
                           FromService(tenants.SignIn(phone, code, c.http.remote, c.now)));
    Reply r{200,
            Json{{"phone", MaskPhone(signed_in.person.phone)},
                 {"csrf_token", signed_in.session.csrf_token},
                 {"expires_at", FormatInstant(signed_in.session.expires_at)}},
            {}};
    r.headers.emplace_back("Set-Cookie",
                           SessionCookie(kTenantCookie, signed_in.token, kTenantSessionLifetime,
                                         options.secure_cookies));
    return r;
}

Result<Reply> Api::Impl::TenantLogout(Call& c) {
    JOULE_TRY(FromService(tenants.SignOut(c.session_token_hash)));
    Reply r{204, nullptr, {}};
    r.headers.emplace_back("Set-Cookie",
                           SessionCookie(kTenantCookie, "", Seconds{0}, options.secure_cookies));
    return r;
}

Result<Reply> Api::Impl::TenantMe(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto bindings, FromService(tenants.BindingsOf(*c.tenant)));
    Json accounts = Json::array();
    for (const TenantBinding& b : bindings) {
        JOULE_ASSIGN_OR_RETURN(Json one, TenantBindingJson(b, c.now));
        accounts.push_back(std::move(one));
    }
    Json presets = Json::array();
    for (const int64_t fen : options.tenant_top_up_presets_fen) {
        presets.push_back(wire::MoneyText(Money{fen}));
    }
    return Reply{200,
                 Json{{"phone", MaskPhone(c.tenant->phone)},
                      {"csrf_token", c.tenant_csrf},
                      {"accounts", std::move(accounts)},
                      {"providers", options.payments.providers},
                      {"wechat_oauth", static_cast<bool>(options.payments.wechat_authorize_url)},
                      {"wechat_openid", !c.tenant_openid.empty()},
                      {"top_up_presets", std::move(presets)}},
                 {}};
}

Result<Reply> Api::Impl::TenantBind(Call& c) {
    JOULE_TRY(TenantRateLimit(c, "bind", kCodeChecksPerAddressPerHour, "account"));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string project, body.String("project", 64));
    JOULE_ASSIGN_OR_RETURN(std::string account, body.String("account", 64));
    JOULE_ASSIGN_OR_RETURN(std::string code, body.OptString("code", "", 16));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(BindOutcome outcome,
                           FromService(tenants.Bind(
                               *c.tenant, project, account,
                               code.empty() ? std::nullopt : std::optional<std::string_view>(code),
                               c.actor(), c.now)));
    if (outcome.code_sent) {
        Json out = CodeSentJson(*outcome.code_sent);
        out["code_sent_to"] = out["sent_to"];
        return Reply{202, std::move(out), {}};
    }
    JOULE_ASSIGN_OR_RETURN(Json bound, TenantBindingJson(*outcome.bound, c.now));
    return Reply{201, std::move(bound), {}};
}

Result<Reply> Api::Impl::TenantUnbind(Call& c) {
    JOULE_ASSIGN_OR_RETURN(const int64_t id, PositiveId(c.params.at("binding"), "binding"));
    JOULE_TRY(FromService(tenants.Unbind(*c.tenant, id, c.actor(), c.now)));
    return NoContent();
}

Result<Reply> Api::Impl::TenantAccountDetail(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(TenantAccount t, TenantAccountOf(c));
    JOULE_ASSIGN_OR_RETURN(AccountView view, FromService(billing.ViewAccount(
                                                 t.project.code, t.account.number, c.now)));
    Json out = TenantBindingJson(t.binding, t.project, view);
    out["balance"] = {{"available", wire::MoneyText(view.available)},
                      {"paid", wire::MoneyText(view.paid)},
                      {"granted", wire::MoneyText(view.granted)},
                      {"debt", wire::MoneyText(view.debt)}};
    out["usage"] = {
        {"charged_today", wire::MoneyText(view.charged_today)},
        {"daily_average", view.forecast ? wire::MoneyText(view.forecast->daily_average) : ""},
        {"days_left", out["days_left"]}};
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    Json meters = Json::array();
    for (std::size_t i = 0; i < view.bindings.size(); ++i) {
        const MeterBinding& b = view.bindings[i];
        if (b.bound_to) {
            continue;
        }
        const auto today = std::find_if(view.today.begin(), view.today.end(),
                                        [&](const MeterDayTotal& d) { return d.meter == b.meter; });
        const bool read = today != view.today.end();
        JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(b.meter));
        JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx->GetModel(meter.model));
        JOULE_ASSIGN_OR_RETURN(auto live, acquisition.GetLiveStatus(b.meter, c.now));
        // What the meter last reported, beside the account's commanded `relay`.
        meters.push_back(
            Json{{"code", view.meter_codes[i]},
                 {"utility", wire::UtilityText(model.utility)},
                 {"online", live && live->status.online},
                 {"relay", RelayStateName(live ? live->status.relay : RelayState::kUnknown)},
                 {"today",
                  {{"energy", wire::QuantityText(read ? today->energy : Quantity{})},
                   {"charged", wire::MoneyText(read ? today->deducted : Money{})}}}});
    }
    out["meters"] = std::move(meters);
    const ControlScheme& scheme = view.account.scheme;
    out["alarm_levels"] = {{"alarm1", wire::MoneyText(scheme.alarm1)},
                           {"alarm2", wire::MoneyText(scheme.alarm2)},
                           {"alarm3", wire::MoneyText(scheme.alarm3)}};
    return Reply{200, std::move(out), {}};
}

Result<Reply> Api::Impl::TenantMembers(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(const int64_t id, PositiveId(c.params.at("binding"), "binding"));
    JOULE_ASSIGN_OR_RETURN(auto members, FromService(tenants.Members(*c.tenant, id)));
    Json items = Json::array();
    for (const TenantBinding& m : members) {
        items.push_back(Json{{"binding", m.id},
                             {"phone", MaskPhone(m.phone)},
                             {"role", BindingRoleName(m.role)},
                             {"since", FormatInstant(m.created_at)},
                             {"me", m.person == c.tenant->id}});
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

Result<Reply> Api::Impl::TenantUsage(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {"period"}));
    const auto wanted = c.query.find("period");
    const std::string period = wanted == c.query.end() ? "day" : wanted->second;
    if (period != "day" && period != "month") {
        return InvalidArgument("period", "must be day or month");
    }
    JOULE_ASSIGN_OR_RETURN(TenantAccount t, TenantAccountOf(c));
    JOULE_ASSIGN_OR_RETURN(const Zone zone, Zone::Load(t.project.time_zone));
    const CivilDate today{date::floor<date::days>(zone.ToLocal(c.now))};
    const bool daily = period == "day";
    const CivilDate first =
        daily ? CivilDate{date::sys_days(today) - date::days{kUsageDays - 1}}
              : CivilDate{(today.year() / today.month() - date::months{kUsageMonths - 1}) / 1};
    // The account's own day totals (never the whole project's), by period and utility.
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(
        auto days, tx->AccountDays(t.account.id, DayRange{DayNumber(first), DayNumber(today)}));
    std::map<int64_t, Utility> utility_of;
    struct Total {
        Quantity energy;
        Money charged;
    };
    std::map<std::pair<std::string, std::string>, Total> totals;  // (period, utility)
    for (const MeterDayTotal& d : days) {
        auto utility = utility_of.find(d.meter.value);
        if (utility == utility_of.end()) {
            JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(d.meter));
            JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx->GetModel(meter.model));
            utility = utility_of.emplace(d.meter.value, model.utility).first;
        }
        std::string label = FormatDate(CivilDate{date::sys_days{date::days{d.day}}});
        if (!daily) {
            label.resize(7);  // "2026-11"
        }
        Total& total = totals[std::pair{label, std::string(wire::UtilityText(utility->second))}];
        total.energy += d.energy;
        total.charged += d.deducted;
    }
    tx.reset();
    Json items = Json::array();
    for (const auto& [key, total] : totals) {
        items.push_back(Json{{"period", key.first},
                             {"utility", key.second},
                             {"energy", wire::QuantityText(total.energy)},
                             {"charged", wire::MoneyText(total.charged)}});
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

Result<Reply> Api::Impl::TenantRecords(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {"kind"}));
    const auto wanted = c.query.find("kind");
    const std::string kind = wanted == c.query.end() ? "all" : wanted->second;
    if (kind != "all" && kind != "top_up" && kind != "usage") {
        return InvalidArgument("kind", "must be top_up, usage or all");
    }
    JOULE_ASSIGN_OR_RETURN(TenantAccount t, TenantAccountOf(c));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto ledgers, tx->LedgerAccountsOf(t.account.id));
    // Read by code in the store: a busy account's deductions never crowd its top-ups out.
    const uint32_t mask = kind == "top_up"  ? kMoneyInCodes
                          : kind == "usage" ? kUsageCodes
                                            : kMoneyInCodes | kUsageCodes;
    JOULE_ASSIGN_OR_RETURN(auto transfers,
                           tx->Tenants().TransfersOfAccount(t.account.id, mask, kMaxTenantRecords));
    const auto owned = [&](LedgerAccountId id) {
        return std::any_of(ledgers.begin(), ledgers.end(),
                           [&](const LedgerAccount& l) { return l.id == id; });
    };
    std::unordered_map<int64_t, std::string> channel_codes;
    Json items = Json::array();
    for (const Transfer& tr : transfers) {
        const bool money_in = (kMoneyInCodes & Bit(tr.code)) != 0;
        const bool in = owned(tr.credit);
        const bool out = owned(tr.debit);
        if (in == out) {
            continue;  // between the account's own ledgers (debt recovery): no money in or out
        }
        const LedgerAccountId other = in ? tr.debit : tr.credit;
        auto channel = channel_codes.find(other.value);
        if (channel == channel_codes.end()) {
            JOULE_ASSIGN_OR_RETURN(LedgerAccount l, tx->GetLedgerAccount(other));
            channel = channel_codes.emplace(other.value, l.code).first;
        }
        items.push_back(Json{{"id", tr.id},
                             {"at", FormatInstant(tr.at)},
                             {"code", TransferCodeName(tr.code)},
                             {"amount", wire::MoneyText(in ? tr.amount : Money{-tr.amount.fen})},
                             {"channel", money_in ? channel->second : ""},
                             {"receipt", money_in}});
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

Result<Reply> Api::Impl::TenantAlarms(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(TenantAccount t, TenantAccountOf(c));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    // Read past the staff's kinds (wiring, payments) so a page of the tenant's own is filled.
    JOULE_ASSIGN_OR_RETURN(auto alarms,
                           tx->Tenants().AlarmsOfAccount(t.account.id, kMaxTenantAlarms * 4));
    tx.reset();
    Json items = Json::array();
    for (const AlarmRecord& a : alarms) {
        const EventKindInfo* kind = FindEventKind(AlarmKindName(a.kind));
        // Only what is for tenants, and never the staff's detail of it.
        if (kind == nullptr || kind->audience != Audience::kTenant) {
            continue;
        }
        items.push_back(Json{{"id", a.id},
                             {"kind", AlarmKindName(a.kind)},
                             {"open", a.open},
                             {"raised_at", FormatInstant(a.raised_at)},
                             {"cleared_at", a.cleared_at ? FormatInstant(*a.cleared_at) : ""}});
        if (std::ssize(items) >= kMaxTenantAlarms) {
            break;
        }
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

Result<Reply> Api::Impl::TenantReceipt(Call& c) {
    JOULE_TRY(TenantAccountOf(c));
    return Receipt(c);
}

Result<Reply> Api::Impl::TenantCreatePayment(Call& c) {
    JOULE_TRY(TenantAccountOf(c));
    if (!c.body.contains("provider") && !options.payments.providers.empty()) {
        c.body["provider"] = options.payments.providers.front();
    }
    if (c.body.contains("openid")) {
        return InvalidArgument("openid", "comes from signing in through WeChat, not the request");
    }
    if (!c.tenant_openid.empty()) {
        c.body["openid"] = c.tenant_openid;
    }
    JOULE_ASSIGN_OR_RETURN(Reply r, CreatePayment(c));
    // The tenant's own paths, not the staff ones.
    const std::string order = r.body.value("order_no", "");
    if (r.body.contains("sandbox_pay")) {
        r.body["sandbox_pay"] = "/api/v1/tenant/payments/" + order + "/sandbox-pay";
    }
    r.headers.clear();
    r.headers.emplace_back("Location", "/api/v1/tenant/payments/" + order);
    return r;
}

// The order `c.params["order"]` when it is of an account the person is bound to; the project
// and account filled in for the staff handlers.
Status Api::Impl::TenantOwnsOrder(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto order, FromService(payments.FindOrder(c.params.at("order"))));
    JOULE_ASSIGN_OR_RETURN(auto bindings, FromService(tenants.BindingsOf(*c.tenant)));
    const bool mine =
        order && std::any_of(bindings.begin(), bindings.end(),
                             [&](const TenantBinding& b) { return b.account == order->account; });
    if (!mine) {
        return NotFound("no payment order " + c.params.at("order").substr(0, 64), "order");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(order->project));
    c.project = std::move(project);
    return {};
}

Result<Reply> Api::Impl::TenantGetPayment(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_TRY(TenantOwnsOrder(c));
    JOULE_ASSIGN_OR_RETURN(Reply r, GetPayment(c));
    // The providers' messages, who ordered it and who paid (another member, maybe) are staff's.
    r.body.erase("notifications");
    r.body.erase("created_by");
    r.body.erase("payer");
    return r;
}

Result<Reply> Api::Impl::TenantSandboxPay(Call& c) {
    JOULE_TRY(TenantOwnsOrder(c));
    JOULE_ASSIGN_OR_RETURN(Reply r, SandboxPay(c));
    if (r.body.contains("order")) {
        r.body["order"].erase("created_by");
        r.body["order"].erase("payer");
    }
    return r;
}

// --------------------------------------------------------------------- staff's view of tenants

Result<Reply> Api::Impl::ListAccountTenants(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(
        auto found, FromService(tenants.PeopleOfAccount(c.project->code, c.params.at("account"))));
    Json items = Json::array();
    for (const TenantBinding& b : found.second) {
        items.push_back(Json{{"binding", b.id},
                             {"phone", b.phone},
                             {"role", BindingRoleName(b.role)},
                             {"since", FormatInstant(b.created_at)}});
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

Result<Reply> Api::Impl::RemoveAccountTenant(Call& c) {
    JOULE_ASSIGN_OR_RETURN(const int64_t id, PositiveId(c.params.at("binding"), "binding"));
    JOULE_TRY(FromService(
        tenants.RemoveBinding(c.project->code, c.params.at("account"), id, c.actor(), c.now)));
    return NoContent();
}

// WeChat's OAuth for the payer's openid [PAY-2]: the tenant's page sends the payer here, we send
// them to WeChat (silent, scope snsapi_base), WeChat sends them back to the callback with a code
// we trade for the openid, kept with the session; then back to the page.
Result<Reply> Api::Impl::TenantWechatAuthorize(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {"return"}));
    if (!options.payments.wechat_authorize_url || options.payments.public_url.empty()) {
        return NotFound("WeChat sign-in is not configured on this server", "wechat");
    }
    const std::string back = ParamOr(c.query, "return", "/m/");
    JOULE_TRY(CheckReturnPath(back, "return"));
    JOULE_TRY(TenantRateLimit(c, "oauth", kOAuthsPerAddressPerHour, "wechat"));
    const std::string state = RandomHex(16);
    {
        const std::lock_guard lock(oauth_mutex);
        if (oauth_states.size() >= kMaxPendingOAuths) {
            std::erase_if(oauth_states, [&](const auto& s) { return s.second.expires <= c.now; });
        }
        if (oauth_states.size() >= kMaxPendingOAuths) {
            return MakeError(ErrorCode::kResourceExhausted, "too many WeChat sign-ins under way",
                             "wechat");
        }
        oauth_states.insert_or_assign(
            state, PendingOAuth{c.session_token_hash, back, c.now + kOAuthLifetime});
    }
    Reply r{302, nullptr, {}};
    r.headers.emplace_back(
        "Location", options.payments.wechat_authorize_url(
                        options.payments.public_url + std::string(kWechatCallbackPath), state));
    return r;
}

Result<Reply> Api::Impl::TenantWechatCallback(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {"code", "state"}));
    const std::string state = ParamOr(c.query, "state", "");
    std::optional<PendingOAuth> pending;
    {
        const std::lock_guard lock(oauth_mutex);
        if (auto it = oauth_states.find(state); it != oauth_states.end()) {
            pending = std::move(it->second);
            oauth_states.erase(it);  // once
        }
    }
    if (!pending || pending->expires <= c.now) {
        return MakeError(ErrorCode::kUnauthenticated,
                         "this WeChat sign-in is unknown or has expired; start again from the page",
                         "state");
    }
    // Without a code the payer refused, or WeChat failed: back to the page, no openid.
    if (const std::string code = ParamOr(c.query, "code", ""); !code.empty()) {
        if (code.size() > 256) {
            return InvalidArgument("code", "is longer than 256 bytes");
        }
        JOULE_ASSIGN_OR_RETURN(std::string openid,
                               FromService(options.payments.wechat_openid(code)));
        JOULE_TRY(FromService(tenants.RememberWechatPayer(pending->session_token_hash, openid)));
    }
    Reply r{302, nullptr, {}};
    r.headers.emplace_back("Location", pending->return_path);
    return r;
}

}  // namespace joule::api
