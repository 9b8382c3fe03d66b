// Accounts and the money on them [ACCT-1..10]: every money-moving call needs an Idempotency-Key
// (checked by dispatch), every edit honours If-Match with the account's ETag, and the billing
// service logs each change with the caller in the same transaction.
#include <algorithm>
#include <iterator>

#include "api/api_internal.hpp"
#include "api/request_json.hpp"
#include "service/billing_service.hpp"
#include "wire/json.hpp"

namespace joule::api {

namespace {

constexpr int kMaxLedgerRows = 10'000;  // the newest transfers, paged

// An optional exact-match filter naming one value of an enum, by its name.
template <class E>
Result<std::optional<E>> EnumParam(const QueryParams& query, std::string_view key,
                                   std::initializer_list<E> values, std::string_view (*name)(E)) {
    const auto it = query.find(key);
    if (it == query.end()) {
        return std::optional<E>();
    }
    std::string names;
    for (E v : values) {
        if (name(v) == it->second) {
            return std::optional<E>(v);
        }
        names += (names.empty() ? "" : ", ") + std::string(name(v));
    }
    return InvalidArgument(std::string(key), "must be one of " + names);
}

// An account edit's request: the account from the path, the edit's own fields (`read`), "at"
// (default: now) and the version of the If-Match header.
template <class Request>
Result<Request> AccountEdit(const Call& c, Status (*read)(wire::ObjectReader&, Request&)) {
    wire::ObjectReader body(c.body, "");
    Request request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_TRY(read(body, request));
    request.at = c.now;
    if (body.Has("at")) {
        JOULE_ASSIGN_OR_RETURN(request.at, body.InstantField("at"));
    }
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(request.expected_version, IfMatchVersion(c));
    return request;
}

}  // namespace

Result<Reply> Api::Impl::ListAccounts(Call& c) {
    JOULE_TRY(OnlyParams(
        c.query, {"page", "page_size", "sort", "q", "status", "state", "relay", "billing_mode"}));
    AccountQuery query;
    JOULE_ASSIGN_OR_RETURN(
        query.status, EnumParam(c.query, "status", {AccountStatus::kOpen, AccountStatus::kClosed},
                                AccountStatusName));
    JOULE_ASSIGN_OR_RETURN(
        query.state,
        EnumParam(c.query, "state",
                  {PrepaidState::kNormal, PrepaidState::kAlarm1, PrepaidState::kAlarm2,
                   PrepaidState::kAlarm3, PrepaidState::kTripHeld, PrepaidState::kTripped,
                   PrepaidState::kKeepPower, PrepaidState::kForcedTrip},
                  PrepaidStateName));
    JOULE_ASSIGN_OR_RETURN(query.relay,
                           EnumParam(c.query, "relay", {Relay::kClosed, Relay::kOpen}, RelayName));
    JOULE_ASSIGN_OR_RETURN(
        query.billing_mode,
        EnumParam(c.query, "billing_mode", {BillingMode::kPlatform, BillingMode::kMeter},
                  BillingModeName));
    if (const auto q = c.query.find("q"); q != c.query.end()) {
        if (q->second.size() > 64) {
            return InvalidArgument("q", "at most 64 bytes");
        }
        query.search = q->second;
    }
    static constexpr std::pair<std::string_view, AccountQuery::Sort> kSorts[] = {
        {"number", AccountQuery::Sort::kNumber},
        {"tenant_name", AccountQuery::Sort::kTenantName},
        {"state", AccountQuery::Sort::kState},
        {"opened_at", AccountQuery::Sort::kOpenedAt}};
    if (const auto sort = c.query.find("sort"); sort != c.query.end()) {
        query.descending = sort->second.starts_with('-');
        const std::string_view key =
            std::string_view(sort->second).substr(query.descending ? 1 : 0);
        const auto* found = std::find_if(std::begin(kSorts), std::end(kSorts),
                                         [&](const auto& s) { return s.first == key; });
        if (found == std::end(kSorts)) {
            return InvalidArgument("sort",
                                   "must be one of number, tenant_name, state, opened_at (prefix - "
                                   "to reverse)");
        }
        query.sort = found->second;
    }
    JOULE_ASSIGN_OR_RETURN(PageBounds bounds, PageParams(c.query));
    query.limit = bounds.page_size;
    query.offset = static_cast<int64_t>(bounds.page - 1) * bounds.page_size;
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto page, tx->PageAccounts(c.project->id, query));
    tx.reset();
    // Written, not built: the page is the room-monitoring list's hot path.
    wire::JsonText text;
    text.BeginObject().Key("items").BeginArray();
    for (const AccountSummary& a : page.first) {
        WriteAccountSummary(text, a);
    }
    text.EndArray()
        .Key("page")
        .Int(bounds.page)
        .Key("page_size")
        .Int(bounds.page_size)
        .Key("total")
        .Int(page.second)
        .EndObject();
    Reply reply;
    reply.text = text.Take();
    return reply;
}

Result<Reply> Api::Impl::GetAccount(Call& c) {
    const std::string& number = c.params.at("account");
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto view,
                           FromService(billing.ViewAccount(c.project->code, number, c.now)));
    Json body = AccountSummaryJson(view.account);
    body["balance"] = {{"paid", wire::MoneyText(view.paid)},
                       {"granted", wire::MoneyText(view.granted)},
                       {"debt", wire::MoneyText(view.debt)},
                       {"available", wire::MoneyText(view.available)},
                       {"meter_pending", wire::MoneyText(view.meter_pending)},
                       {"meter_held", wire::MoneyText(view.meter_held)}};
    Json meters = Json::array();
    for (std::size_t i = 0; i < view.bindings.size(); ++i) {
        const MeterBinding& b = view.bindings[i];
        if (b.bound_to) {
            continue;
        }
        // The day totals have one row per meter and day: today's, if the meter read today.
        const auto today = std::find_if(view.today.begin(), view.today.end(),
                                        [&](const MeterDayTotal& d) { return d.meter == b.meter; });
        const bool read = today != view.today.end();
        meters.push_back(Json{{"code", view.meter_codes[i]},
                              {"bound_from", FormatInstant(b.bound_from)},
                              {"opening_total", wire::QuantityText(b.opening_total)},
                              {"today",
                               {{"energy", wire::QuantityText(read ? today->energy : Quantity{})},
                                {"charged", wire::MoneyText(read ? today->deducted : Money{})}}}});
    }
    body["meters"] = std::move(meters);
    body["tariff"] = view.tariff_code;
    // Days left [ALM-4]: null when there is nothing to forecast from (opened today, no usage,
    // billed by the meter).
    body["usage"] = {
        {"charged_today", wire::MoneyText(view.charged_today)},
        {"forecast_days", view.forecast_days},
        {"daily_average", view.forecast ? wire::MoneyText(view.forecast->daily_average) : ""},
        {"days_left", view.forecast && view.forecast->days_left ? Json(*view.forecast->days_left)
                                                                : Json(nullptr)}};
    body["scheme"] = wire::ControlSchemeToJson(view.account.scheme);
    return WithTag(200, std::move(body), view.account.version);
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
    request.idempotency_key = c.idempotency_key();
    JOULE_ASSIGN_OR_RETURN(auto result, FromService(billing.TopUp(request, c.actor(), c.now)));
    const bool replay = result.outcome == TopUpOutcome::kAlreadyCredited;
    // The billing service records the top-up in the operation log in its own transaction.
    Json out{{"outcome", replay ? "already_credited" : "credited"},
             {"credited", wire::MoneyText(result.credited)},
             {"debt_recovered", wire::MoneyText(result.debt_recovered)},
             {"balance_after", wire::MoneyText(result.balance_after)},
             {"state", PrepaidStateName(result.state)}};
    if (result.purchase_command != 0) {
        out["purchase"] = {{"command", result.purchase_command},
                           {"count", result.purchase_count},
                           {"amount", wire::MoneyText(result.purchase_amount)}};
    }
    return Reply{replay ? 200 : 201, std::move(out), {}};
}

Result<Reply> Api::Impl::OpenAccount(Call& c) {
    // opened_at defaults to now; the rest is the site file's account format.
    if (!c.body.contains("opened_at")) {
        c.body["opened_at"] = FormatInstant(c.now);
    }
    JOULE_ASSIGN_OR_RETURN(OpenAccountRequest request,
                           ParseOpenAccount(c.body, "", c.project->code));
    if (request.first_top_up.fen != 0) {
        // Money enters through the top-up call, which is idempotent; opening is not.
        return InvalidArgument("top_up", "top up after opening (POST .../top-ups)");
    }
    JOULE_TRY(FromService(billing.OpenAccount(request, c.actor(), c.now)));
    JOULE_ASSIGN_OR_RETURN(auto view,
                           FromService(billing.ViewAccount(c.project->code, request.number)));
    Reply r{201, AccountSummaryJson(view.account), {}};
    r.headers.emplace_back("Location",
                           "/api/v1/projects/" + c.project->code + "/accounts/" + request.number);
    return r;
}

Result<Reply> Api::Impl::Refund(Call& c) {
    wire::ObjectReader body(c.body, "");
    RefundRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.amount, body.MoneyField("amount"));
    JOULE_ASSIGN_OR_RETURN(request.channel, body.OptString("channel", "cash", 32));
    JOULE_ASSIGN_OR_RETURN(request.reason, body.String("reason", 256));
    JOULE_TRY(body.Finish());
    request.idempotency_key = c.idempotency_key();
    JOULE_ASSIGN_OR_RETURN(auto refunded, FromService(billing.Refund(request, c.actor(), c.now)));
    return Reply{201, Json{{"refunded", wire::MoneyText(refunded)}}, {}};
}

Result<Reply> Api::Impl::GrantSubsidy(Call& c) {
    wire::ObjectReader body(c.body, "");
    SubsidyRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.amount, body.MoneyField("amount"));
    JOULE_ASSIGN_OR_RETURN(int64_t priority, body.OptInteger("priority", 0, 0, 1000));
    request.priority = static_cast<int32_t>(priority);
    if (body.Has("expires_at")) {
        JOULE_ASSIGN_OR_RETURN(request.expires_at, body.InstantField("expires_at"));
    }
    JOULE_ASSIGN_OR_RETURN(request.reason, body.String("reason", 256));
    JOULE_TRY(body.Finish());
    request.idempotency_key = c.idempotency_key();
    JOULE_TRY(FromService(billing.GrantSubsidy(request, c.actor(), c.now)));
    return Reply{201, Json{{"granted", wire::MoneyText(request.amount)}}, {}};
}

Result<Reply> Api::Impl::RecordDebt(Call& c) {
    wire::ObjectReader body(c.body, "");
    DebtRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.amount, body.MoneyField("amount"));
    JOULE_ASSIGN_OR_RETURN(request.reason, body.String("reason", 256));
    JOULE_TRY(body.Finish());
    request.idempotency_key = c.idempotency_key();
    JOULE_TRY(FromService(billing.RecordDebt(request, c.actor(), c.now)));
    return Reply{201, Json{{"recorded", wire::MoneyText(request.amount)}}, {}};
}

Result<Reply> Api::Impl::ControlAccount(Call& c) {
    static constexpr std::pair<std::string_view, ControlEvent> kActions[] = {
        {"trip", ControlEvent::kManualTrip},
        {"close", ControlEvent::kManualClose},
        {"keep_power", ControlEvent::kKeepPowerOn},
        {"restore_prepaid", ControlEvent::kKeepPowerOff},
        {"emergency_credit", ControlEvent::kTakeEmergency},
    };
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string action, body.String("action", 32));
    ControlRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.reason, body.OptString("reason", "", 256));
    JOULE_TRY(body.Finish());
    const auto* found = std::find_if(std::begin(kActions), std::end(kActions),
                                     [&](const auto& a) { return a.first == action; });
    if (found == std::end(kActions)) {
        return InvalidArgument(
            "action", "must be trip, close, keep_power, restore_prepaid or emergency_credit");
    }
    request.event = found->second;
    JOULE_ASSIGN_OR_RETURN(request.expected_version, IfMatchVersion(c));
    JOULE_ASSIGN_OR_RETURN(auto status, FromService(billing.Control(request, c.actor(), c.now)));
    return Reply{200,
                 Json{{"state", PrepaidStateName(status.state)},
                      {"relay", RelayName(status.relay)},
                      {"keep_power", status.keep_power}},
                 {}};
}

Result<Reply> Api::Impl::ChangeAccountTerms(Call& c) {
    JOULE_TRY(SomethingToChange(c.body));
    wire::ObjectReader body(c.body, "");
    JOULE_TRY(body.Check());
    ChangeTermsRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.expected_version, EditVersion(c, &body));
    // A partial scheme is completed from the account's; the version check in the service's
    // transaction refuses the change if the account moved on in between.
    ControlScheme current;
    if (c.body.contains("scheme")) {
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(AccountRecord account, FindAccountOf(*tx, c));
        current = account.scheme;
    }
    JOULE_TRY(ReadChangeTerms(body, current, request));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(AccountRecord account,
                           FromService(billing.ChangeTerms(request, c.actor(), c.now)));
    Json out = AccountSummaryJson(account);
    out["scheme"] = wire::ControlSchemeToJson(account.scheme);
    return WithTag(200, std::move(out), account.version);
}

Result<Reply> Api::Impl::ReplaceMeter(Call& c) {
    JOULE_ASSIGN_OR_RETURN(const auto request,
                           AccountEdit<ReplaceMeterRequest>(c, ReadReplaceMeter));
    JOULE_TRY(FromService(billing.ReplaceMeter(request, c.actor(), c.now)));
    return Reply{201,
                 Json{{"old_meter", request.old_meter_code}, {"new_meter", request.new_meter_code}},
                 {}};
}

Result<Reply> Api::Impl::TransferTenant(Call& c) {
    JOULE_ASSIGN_OR_RETURN(const auto request,
                           AccountEdit<TransferTenantRequest>(c, ReadTransferTenant));
    JOULE_TRY(FromService(billing.TransferTenant(request, c.actor(), c.now)));
    return Reply{201, Json{{"closed", request.account_number}, {"opened", request.new_number}}, {}};
}

Result<Reply> Api::Impl::CloseAccount(Call& c) {
    JOULE_ASSIGN_OR_RETURN(const auto request,
                           AccountEdit<CloseAccountRequest>(c, ReadCloseAccount));
    auto closed = billing.CloseAccount(request, c.actor(), c.now);
    if (!closed && closed.error().field.starts_with("readings")) {
        // The service names the closing registers "readings"; this body calls them so.
        closed.error().field.insert(0, "final_");
    }
    JOULE_TRY(FromService(closed));
    return Reply{200,
                 Json{{"refunded", wire::MoneyText(closed->refunded)},
                      {"grants_forfeited", wire::MoneyText(closed->grants_forfeited)}},
                 {}};
}

Result<Reply> Api::Impl::ListLedger(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, FindAccountOf(*tx, c));
    JOULE_ASSIGN_OR_RETURN(auto ledgers, tx->LedgerAccountsOf(account.id));
    const int limit = RowsToLoad(c.query, kMaxLedgerRows);
    JOULE_ASSIGN_OR_RETURN(auto transfers, tx->TransfersOf(account.id, limit));
    tx.reset();
    JOULE_TRY(CheckWindow(c.query, transfers.size(), limit));
    // Each transfer as seen from the account: + into one of its ledger accounts, - out of one.
    auto owned = [&](LedgerAccountId id) -> const LedgerAccount* {
        const auto it = std::find_if(ledgers.begin(), ledgers.end(),
                                     [&](const LedgerAccount& l) { return l.id == id; });
        return it == ledgers.end() ? nullptr : &*it;
    };
    std::vector<Json> items;
    items.reserve(transfers.size());
    for (const Transfer& t : transfers) {
        const LedgerAccount* in = owned(t.credit);
        const LedgerAccount* out = owned(t.debit);
        const Money signed_amount = in != nullptr && out == nullptr   ? t.amount
                                    : out != nullptr && in == nullptr ? Money{-t.amount.fen}
                                                                      : Money{};
        const LedgerAccount* side = in != nullptr ? in : out;
        items.push_back(Json{{"id", t.id},
                             {"at", FormatInstant(t.at)},
                             {"code", TransferCodeName(t.code)},
                             {"amount", wire::MoneyText(signed_amount)},
                             {"gross", wire::MoneyText(t.amount)},
                             {"ledger", side ? LedgerAccountKindName(side->kind) : ""},
                             {"ref", t.ref},
                             {"actor", t.actor}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"at", "code"}, {"code"},
                                           {"id", "ref", "actor"}));
    return Reply{200, std::move(page), {}};
}

}  // namespace joule::api
