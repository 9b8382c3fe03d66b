// Payments [PAY-2]: orders, their notifications, and the providers' notification endpoint.
// Verification is the app's PaymentGateway (src/pay); crediting is PaymentService's, exactly once.
//
// The endpoint answers each provider as it expects: WeChat Pay 204 without a body for success and
// 4xx {"code": "FAIL", "message": ...} otherwise (it retries); Alipay the text "success", or
// "failure" (it retries); the sandbox JSON. Every notification is recorded, refused ones too.
#include <algorithm>
#include <cstdio>
#include <map>

#include "api/api_internal.hpp"
#include "api/credentials.hpp"
#include "wire/json.hpp"

namespace joule::api {
namespace {

constexpr int kMaxPaymentRows = 10'000;

Json OrderJson(const PaymentOrderRecord& o, std::string_view account_number) {
    return Json{{"order_no", o.order_no},
                {"account", account_number},
                {"provider", o.provider},
                {"channel", o.channel},
                {"amount", wire::MoneyText(o.amount)},
                {"state", PaymentOrderStateName(o.state)},
                {"created_at", FormatInstant(o.created_at)},
                {"created_by", o.created_by},
                {"paid_at", o.paid_at ? FormatInstant(*o.paid_at) : ""},
                {"transaction_id", o.transaction_id},
                // The ledger transfer of its credit: the receipt's id [PAY-4].
                {"transfer", o.state == PaymentOrderState::kPaid
                                 ? "pay:" + o.provider + ":" + o.transaction_id
                                 : std::string()},
                {"payer", o.payer}};
}

Json RefundJson(const PaymentRefundRecord& f) {
    return Json{{"refund_no", f.refund_no},
                {"order_no", f.order_no},
                {"provider", f.provider},
                {"amount", wire::MoneyText(f.amount)},
                {"state", RefundStateName(f.state)},
                {"provider_refund_id", f.provider_refund_id},
                {"reason", f.reason},
                {"requested_by", f.requested_by},
                {"requested_at", FormatInstant(f.requested_at)},
                {"finished_at", f.finished_at ? FormatInstant(*f.finished_at) : ""},
                {"detail", f.detail},
                {"tries", f.tries},
                // The ledger transfer that took it off the account.
                {"transfer", "refund:" + f.provider + ":" + f.refund_no}};
}

// Our order numbers: "J", the UTC second, 8 random hex digits; 6..32 characters as both
// providers take, unique, and not guessable from another one.
std::string NewOrderNo(Instant now, std::string_view prefix = "J") {
    std::string order(prefix);
    for (const char c : FormatInstant(now)) {  // "2026-11-22T23:59:53Z" -> 20261122235953
        if (c >= '0' && c <= '9') {
            order += c;
        }
    }
    return order + RandomHex(4);
}

// The order the path names, when it is of the call's project; 404 naming "order" otherwise.
Result<PaymentOrderRecord> OrderOfProject(PaymentTx& payments, const Call& c) {
    const std::string& order_no = c.params.at("order");
    JOULE_ASSIGN_OR_RETURN(auto order, payments.FindPaymentOrder(order_no));
    if (!order || order->project != c.project->id) {
        return NotFound("no payment order " + order_no.substr(0, 64), "order");
    }
    return std::move(*order);
}

bool Configured(const PaymentGateway& gateway, std::string_view provider) {
    return std::find(gateway.providers.begin(), gateway.providers.end(), provider) !=
           gateway.providers.end();
}

std::string ReplaceAll(std::string text, std::string_view from, std::string_view to) {
    for (std::size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

Json PrepayJson(const PrepayAnswer& answer) {
    Json out{{"kind", answer.kind}};
    if (answer.kind == "jsapi") {
        Json jsapi = Json::object();
        for (const auto& [name, value] : answer.jsapi) {
            jsapi[name] = value;
        }
        out["jsapi"] = std::move(jsapi);
    } else {
        out["url"] = answer.url;
    }
    return out;
}

}  // namespace

Status CheckReturnPath(std::string_view path, std::string_view field) {
    const bool printable = std::all_of(path.begin(), path.end(),
                                       [](char ch) { return ch > ' ' && ch < 0x7F && ch != '\\'; });
    if (!path.starts_with("/m/") || path.size() > 256 || !printable) {
        return InvalidArgument(std::string(field),
                               "must be a path of the tenant pages: /m/..., at most 256 printable "
                               "characters");
    }
    return {};
}

Result<Reply> Api::Impl::CreatePayment(Call& c) {
    wire::ObjectReader body(c.body, "");
    CreatePaymentRequest request;
    request.project_code = c.project->code;
    request.account_number = c.params.at("account");
    JOULE_ASSIGN_OR_RETURN(request.amount, body.MoneyField("amount"));
    JOULE_ASSIGN_OR_RETURN(request.provider, body.String("provider", 16));
    const std::string default_channel = request.provider == "wechat"   ? "jsapi"
                                        : request.provider == "alipay" ? "wap"
                                                                       : "sandbox";
    JOULE_ASSIGN_OR_RETURN(request.channel, body.OptString("channel", default_channel, 16));
    JOULE_ASSIGN_OR_RETURN(std::string openid, body.OptString("openid", "", 128));
    JOULE_ASSIGN_OR_RETURN(std::string return_path, body.OptString("return_path", "", 256));
    JOULE_TRY(body.Finish());
    if (!Configured(options.payments, request.provider)) {
        return InvalidArgument("provider", options.payments.providers.empty()
                                               ? "no payment provider is configured on this server"
                                               : "is not configured on this server");
    }
    const bool at_provider = request.provider != "sandbox";
    if (at_provider) {
        // The channel is the service's to check; the payer of a JSAPI order is known only here.
        if (request.channel == "jsapi" && openid.empty()) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             "a WeChat JSAPI payment needs the payer's openid: sign in through "
                             "WeChat first (GET /api/v1/tenant/wechat/authorize)",
                             "openid");
        }
        if (!return_path.empty()) {
            JOULE_TRY(CheckReturnPath(return_path, "return_path"));
        }
    }
    request.order_no = NewOrderNo(c.now);
    JOULE_ASSIGN_OR_RETURN(PaymentOrderRecord order,
                           FromService(payments.CreateOrder(request, c.actor(), c.now)));
    Json out = OrderJson(order, request.account_number);
    if (at_provider) {
        PrepayRequest prepay;
        prepay.description = "预付费充值 " + request.account_number;
        prepay.openid = openid;
        prepay.client_ip = c.http.remote;
        if (!return_path.empty()) {
            prepay.return_url =
                options.payments.public_url + ReplaceAll(return_path, "{order_no}", order.order_no);
        }
        auto answer = options.payments.prepay(order, prepay, c.now);
        if (!answer) {
            // Refused for good: the order can never be paid, so it is closed. Not reached: it
            // may exist at the provider, and the order query settles it.
            if (answer.error().code != ErrorCode::kUnavailable) {
                (void)payments.CloseRefusedOrder(order.order_no);
            }
            std::fprintf(stderr, "payments: order %s at %s: %s\n", order.order_no.c_str(),
                         order.provider.c_str(), answer.error().ToString().c_str());
            return MakeError(
                ErrorCode::kUnavailable,
                "the payment provider could not take the order: " + answer.error().message,
                "provider");
        }
        out["pay"] = PrepayJson(*answer);
    }
    if (order.provider == "sandbox") {
        out["sandbox_pay"] =
            "/api/v1/projects/" + c.project->code + "/payments/" + order.order_no + "/sandbox-pay";
    }
    Reply r{201, std::move(out), {}};
    r.headers.emplace_back("Location",
                           "/api/v1/projects/" + c.project->code + "/payments/" + order.order_no);
    return r;
}

Result<Reply> Api::Impl::ListPayments(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, FindAccountOf(*tx, c));
    const int limit = RowsToLoad(c.query, kMaxPaymentRows);
    JOULE_ASSIGN_OR_RETURN(auto orders,
                           tx->Payments().ListPaymentOrders(c.project->id, account.id, limit));
    tx.reset();
    JOULE_TRY(CheckWindow(c.query, orders.size(), limit));
    std::vector<Json> items;
    items.reserve(orders.size());
    for (const PaymentOrderRecord& o : orders) {
        items.push_back(OrderJson(o, account.number));
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"created_at", "amount"},
                                           {"state", "provider"}, {"order_no", "transaction_id"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetPayment(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(PaymentOrderRecord order, OrderOfProject(tx->Payments(), c));
    JOULE_ASSIGN_OR_RETURN(auto received, tx->Payments().ListPaymentNotifications(order.order_no));
    JOULE_ASSIGN_OR_RETURN(auto refunds, tx->Payments().RefundsOfOrder(order.id));
    const std::string number = AccountNumberOf(*tx, order.account);
    tx.reset();
    Json out = OrderJson(order, number);
    Json list = Json::array();
    for (const PaymentNotificationRecord& n : received) {
        list.push_back(Json{{"received_at", FormatInstant(n.received_at)},
                            {"provider", n.provider},
                            {"transaction_id", n.transaction_id},
                            {"outcome", n.outcome},
                            {"detail", n.detail}});
    }
    out["notifications"] = std::move(list);
    Json refund_list = Json::array();
    Money refunded;
    for (const PaymentRefundRecord& f : refunds) {
        if (f.state != RefundState::kFailed) {
            refunded += f.amount;
        }
        refund_list.push_back(RefundJson(f));
    }
    out["refunds"] = std::move(refund_list);
    out["refunded"] = wire::MoneyText(refunded);  // asked for and not failed
    return Reply{200, std::move(out), {}};
}

Result<Reply> Api::Impl::RefundPayment(Call& c) {
    wire::ObjectReader body(c.body, "");
    RefundPaymentRequest request;
    request.project_code = c.project->code;
    request.order_no = c.params.at("order");
    JOULE_ASSIGN_OR_RETURN(request.amount, body.MoneyField("amount"));
    JOULE_ASSIGN_OR_RETURN(request.reason, body.String("reason", 256));
    JOULE_TRY(body.Finish());
    request.idempotency_key = c.idempotency_key();
    request.refund_no = NewOrderNo(c.now, "R");
    PaymentOrderRecord order;
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(order, OrderOfProject(tx->Payments(), c));
    }
    const auto& can = options.payments.refund_providers;
    if (std::find(can.begin(), can.end(), order.provider) == can.end()) {
        // Nothing is debited for a refund this server could never send.
        return FailedPrecondition("this server makes no refunds at " + order.provider +
                                      " (its keys for our calls are not configured)",
                                  "provider");
    }
    JOULE_ASSIGN_OR_RETURN(PaymentRefundRecord refund,
                           FromService(payments.RequestRefund(request, c.actor(), c.now)));
    if (refund.tries == 0 && refund.state == RefundState::kRequested && options.payments.refund) {
        // Asked now; a repeat of the request (same key) finds it asked and leaves it to the
        // retries, which ask every two minutes until the provider says where it is.
        const Result<RefundAnswer> answer = options.payments.refund(refund, order, c.now);
        if (!answer) {
            std::fprintf(stderr, "payments: refund %s of %s at %s: %s\n", refund.refund_no.c_str(),
                         refund.order_no.c_str(), refund.provider.c_str(),
                         answer.error().ToString().c_str());
        }
        JOULE_ASSIGN_OR_RETURN(refund,
                               FromService(payments.SettleRefund(refund.refund_no, answer, c.now)));
    }
    const bool answered = refund.state != RefundState::kRequested;
    Reply r{answered ? 201 : 202, RefundJson(refund), {}};
    r.headers.emplace_back("Location",
                           "/api/v1/projects/" + c.project->code + "/payments/" + refund.order_no);
    return r;
}

Result<Reply> Api::Impl::SandboxPay(Call& c) {
    if (!options.payments.sandbox_pay) {
        return NotFound("the sandbox provider is off on this server", "order");
    }
    std::optional<PaymentOrderRecord> order;
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
        JOULE_ASSIGN_OR_RETURN(order, OrderOfProject(tx->Payments(), c));
    }
    if (order->provider != "sandbox") {
        return InvalidArgument("order", "is an order of " + order->provider);
    }
    if (order->state == PaymentOrderState::kPaid) {
        // A second sandbox payment would be a second payment of one order (alarmed, not
        // credited): staff asking twice mean once.
        return FailedPrecondition("the order is paid already", "order");
    }
    // The sandbox's own notification, through the endpoint every provider's goes through.
    const HttpRequest posted = options.payments.sandbox_pay(*order, c.now);
    Reply reply = Notify("sandbox", posted, c.now);
    if (reply.status != 200) {
        return reply;
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto paid, tx->Payments().FindPaymentOrder(order->order_no));
    reply.body["order"] = OrderJson(paid.value_or(*order), AccountNumberOf(*tx, order->account));
    return reply;
}

// --------------------------------------------------------------------------- reconciliation

namespace {

constexpr int kMaxReconciliationRows = 1'000;

Json RunJson(const ReconciliationRun& r) {
    return Json{{"id", r.id},
                {"provider", r.provider},
                {"bill_date", r.bill_date},
                {"imported_at", FormatInstant(r.imported_at)},
                {"imported_by", r.imported_by},
                {"file_sha256", r.file_sha256},
                {"lines", r.lines},
                {"other_projects", r.other_projects},
                {"matched", r.matched},
                {"mismatches", r.mismatches},
                {"statement_paid", wire::MoneyText(r.statement_paid)},
                {"statement_refunded", wire::MoneyText(r.statement_refunded)},
                {"credited", wire::MoneyText(r.credited)}};
}

}  // namespace

Result<Json> Api::Impl::ReconciliationJson(const Reconciliation& rec) {
    Json out = RunJson(rec.run);
    Json list = Json::array();
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    std::map<int64_t, std::string> numbers;
    for (const Mismatch& m : rec.mismatches) {
        auto number = numbers.find(m.account.value);
        if (number == numbers.end()) {
            number = numbers
                         .emplace(m.account.value,
                                  m.account.valid() ? AccountNumberOf(*tx, m.account) : "")
                         .first;
        }
        const auto money = [](const std::optional<Money>& v) {
            return v ? wire::MoneyText(*v) : std::string();
        };
        list.push_back(Json{{"kind", MismatchKindName(m.kind)},
                            {"order_no", m.order_no},
                            {"transaction_id", m.transaction_id},
                            {"account", number->second},
                            {"statement_amount", money(m.statement_amount)},
                            {"our_amount", money(m.our_amount)},
                            {"statement_status", m.statement_status},
                            {"our_status", m.our_status},
                            {"row", m.row},
                            {"detail", m.detail}});
    }
    out["mismatch_list"] = std::move(list);
    return out;
}

Result<Reply> Api::Impl::Reconciled(Call& c, const ReconcileRequest& request) {
    JOULE_ASSIGN_OR_RETURN(Reconciliation done,
                           FromService(payments.Reconcile(request, c.actor(), c.now)));
    JOULE_ASSIGN_OR_RETURN(Json out, ReconciliationJson(done));
    Reply r{201, std::move(out), {}};
    r.headers.emplace_back("Location", "/api/v1/projects/" + c.project->code + "/reconciliations/" +
                                           std::to_string(done.run.id));
    return r;
}

Result<Reply> Api::Impl::ImportStatement(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {"provider", "date"}));
    const auto provider = c.query.find("provider");
    if (provider == c.query.end()) {
        return InvalidArgument("provider", "required: wechat, alipay or sandbox");
    }
    ReconcileRequest request;
    request.project_code = c.project->code;
    request.provider = provider->second;
    if (const auto date = c.query.find("date"); date != c.query.end()) {
        JOULE_ASSIGN_OR_RETURN(request.bill_date, ParseDate(date->second, "date"));
    }
    const std::string& file = c.http.body;
    if (file.empty()) {
        return InvalidArgument("body", "send the provider's statement file as the body");
    }
    if (file.size() > kMaxStatementBytes) {
        return MakeError(ErrorCode::kOutOfRange, "the statement is larger than 64 MiB", "body");
    }
    if (!options.payments.parse_statement) {
        return FailedPrecondition("this server reads no statements", "provider");
    }
    JOULE_ASSIGN_OR_RETURN(request.lines, options.payments.parse_statement(request.provider, file));
    request.file_sha256 = Sha256Hex(file);
    return Reconciled(c, request);
}

Result<Reply> Api::Impl::PaymentProviders(Call& /*c*/) {
    const PaymentGateway& g = options.payments;
    return Reply{200,
                 Json{{"orders", g.providers},
                      {"refunds", g.refund_providers},
                      {"statements",
                       g.download_statement ? g.statement_providers : std::vector<std::string>{}}},
                 {}};
}

Result<Reply> Api::Impl::FetchStatement(Call& c) {
    wire::ObjectReader body(c.body, "");
    ReconcileRequest request;
    request.project_code = c.project->code;
    JOULE_ASSIGN_OR_RETURN(request.provider, body.String("provider", 16));
    JOULE_ASSIGN_OR_RETURN(const std::string date, body.String("date", 16));
    JOULE_TRY(body.Finish());
    JOULE_ASSIGN_OR_RETURN(const CivilDate day, ParseDate(date, "date"));
    request.bill_date = day;
    const auto& can = options.payments.statement_providers;
    if (!options.payments.download_statement ||
        std::find(can.begin(), can.end(), request.provider) == can.end()) {
        return FailedPrecondition("this server fetches no statements from " + request.provider +
                                      " (its keys for our calls are not configured); upload "
                                      "the file instead",
                                  "provider");
    }
    // Fetched now (a few seconds). Whatever the provider did wrong (not ready, unreachable, an
    // answer or a file that does not verify) is a 503 naming it, never the caller's 401.
    auto file = options.payments.download_statement(request.provider, day, c.now);
    if (!file) {
        return MakeError(ErrorCode::kUnavailable,
                         request.provider + "'s statement of " + date +
                             " could not be fetched: " + file.error().ToString(),
                         "provider");
    }
    if (*file) {
        JOULE_ASSIGN_OR_RETURN(request.lines,
                               options.payments.parse_statement(request.provider, **file));
        request.file_sha256 = Sha256Hex(**file);
    }
    return Reconciled(c, request);
}

Result<Reply> Api::Impl::ListReconciliations(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto runs, FromService(payments.ListReconciliations(
                                          c.project->code, kMaxReconciliationRows)));
    std::vector<Json> items;
    items.reserve(runs.size());
    for (const ReconciliationRun& r : runs) {
        items.push_back(RunJson(r));
    }
    JOULE_ASSIGN_OR_RETURN(
        Json page, Page(std::move(items), c.query, {"id", "bill_date", "mismatches"}, {"provider"},
                        {"bill_date", "imported_by"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetReconciliation(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(const int64_t id,
                           PositiveId(c.params.at("reconciliation"), "reconciliation"));
    JOULE_ASSIGN_OR_RETURN(Reconciliation rec,
                           FromService(payments.GetReconciliation(c.project->code, id)));
    JOULE_ASSIGN_OR_RETURN(Json out, ReconciliationJson(rec));
    return Reply{200, std::move(out), {}};
}

Result<Reply> Api::Impl::PaymentNotify(Call& c) {
    const std::string& provider = c.params.at("provider");
    if (!Configured(options.payments, provider)) {
        // Not recorded: anyone could fill the notification log with providers this server lacks.
        return NotFound(
            "payment provider '" + provider.substr(0, 32) + "' is not configured on this server",
            "provider");
    }
    return Notify(provider, c.http, c.now);
}

Reply Api::Impl::Notify(std::string_view provider, const HttpRequest& request, Instant now) {
    // Each provider's way of saying yes and no.
    const auto success = [&](std::string_view outcome) {
        if (provider == "wechat") {
            return Reply{204, nullptr, {}};
        }
        if (provider == "alipay") {
            Reply r{200, nullptr, {}};
            r.text = "success";
            r.content_type = "text/plain; charset=utf-8";
            return r;
        }
        return Reply{200, Json{{"outcome", outcome}}, {}};
    };
    const auto failure = [&](int status, const Error& e) {
        if (provider == "alipay") {
            Reply r{status, nullptr, {}};
            r.text = "failure";
            r.content_type = "text/plain; charset=utf-8";
            return r;
        }
        if (provider == "wechat") {
            return Reply{status, Json{{"code", "FAIL"}, {"message", e.ToString()}}, {}};
        }
        return Reply{
            status,
            Json{{"code", ErrorCodeName(e.code)}, {"message", e.message}, {"field", e.field}},
            {}};
    };
    // Only reached for a configured provider (PaymentNotify, SandboxPay): verify is set.
    auto notice = options.payments.verify(provider, request, now);
    if (!notice) {
        // Recorded for finance: a forged or broken notification is worth seeing.
        (void)payments.RecordRejected(provider, notice.error().ToString(), now);
        const int status = notice.error().code == ErrorCode::kUnauthenticated ? 401 : 400;
        return failure(status, notice.error());
    }
    auto confirmed = payments.ConfirmPayment(*notice, now);
    if (!confirmed) {
        const ErrorCode code = confirmed.error().code;
        const int status = code == ErrorCode::kNotFound          ? 404
                           : code == ErrorCode::kInvalidArgument ? 400
                                                                 : 503;  // retried
        return failure(status, confirmed.error());
    }
    return success(PaymentOutcomeName(confirmed->outcome));
}

}  // namespace joule::api
