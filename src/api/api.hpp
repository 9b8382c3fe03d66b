// The HTTP API under /api/v1 [ADM-1, ADM-2, SEC-1]: one route table drives dispatch, the
// permission check, the project scope and the OpenAPI document, so they cannot disagree.
//
// Every request: request id → route → principal (session cookie or bearer API key) → CSRF for
// cookie sessions on writes → permission → project scope (a project the principal cannot see is
// 404, never 403, so its existence does not leak) → JSON body checks → handler → one error body
// {code, message, field}. Money-moving calls need an Idempotency-Key header.
//
// Thread-safety: Handle() may be called concurrently; the store serializes units of work.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_server.hpp"
#include "core/access.hpp"
#include "core/access_ports.hpp"
#include "core/ports.hpp"
#include "core/reconciliation.hpp"

namespace joule {
class AcquisitionService;
class BillingService;
class BusStatistics;
struct PaymentNotification;
struct PaymentOrderRecord;
struct PaymentRefundRecord;
struct RefundAnswer;
}  // namespace joule

namespace joule::api {

// The most rows one export of a list (?format=csv|xlsx) may have by default.
inline constexpr int kDefaultMaxExportRows = 100'000;
// The largest file an import takes (POST .../imports/{kind}); other bodies keep the HTTP
// server's limit (1 MiB).
inline constexpr std::size_t kMaxImportBytes = std::size_t{16} * 1024 * 1024;

// The payment providers [PAY-2], wired by the app to src/pay: the API itself checks no
// signature. Unset functions: the provider is not configured (its routes answer 404).
// What the provider needs to start a payer's order besides the order itself [PAY-2].
struct PrepayRequest {
    std::string description;  // shown to the payer: "电费充值 A-101"
    std::string openid;       // WeChat JSAPI: the payer in our official account
    std::string client_ip;    // WeChat H5: the payer's address
    std::string return_url;   // WeChat H5, Alipay wap and page: where the payer comes back to
};

// How the payer opens the order: kind "jsapi" (the fields for WeChat's getBrandWCPayRequest:
// appId, timeStamp, nonceStr, package, signType, paySign), "redirect" (the page to open: WeChat
// H5, Alipay wap and page) or "qr" (a QR code's content: WeChat Native, Alipay precreate).
struct PrepayAnswer {
    std::string kind;
    std::string url;
    std::vector<std::pair<std::string, std::string>> jsapi;
};

struct PaymentGateway {
    // Verifies what `provider` ("wechat", "alipay", "sandbox") posted to
    // /api/v1/pay/notify/{provider}: the notice, or the refusal (kUnauthenticated or
    // kInvalidArgument naming the header or field; kNotFound for a provider not configured).
    std::function<Result<PaymentNotification>(std::string_view provider, const HttpRequest& request,
                                              Instant now)>
        verify;
    // The sandbox provider paying `order`: the notification it posts. Set only when the sandbox
    // is on (the demo, tests): it credits money nobody paid.
    std::function<HttpRequest(const PaymentOrderRecord& order, Instant now)> sandbox_pay;
    // The providers orders can be made for ("wechat", "alipay", "sandbox"): the sandbox when on,
    // the others when their keys for our calls and the public address are set.
    std::vector<std::string> providers;
    // The order made at its provider (not the sandbox): how the payer opens it. kUnavailable when
    // the provider cannot be reached or answers 5xx (the order may exist there: it is asked
    // about later); another code when the provider refused it for good.
    std::function<Result<PrepayAnswer>(const PaymentOrderRecord& order,
                                       const PrepayRequest& request, Instant now)>
        prepay;
    // A refund asked of `order`'s provider [PAY-2] (the sandbox's at once). Errors as
    // app::ProviderClient::Refund: a refusal (kInvalidArgument) fails the refund, anything else
    // leaves it to be asked again.
    std::function<Result<RefundAnswer>(const PaymentRefundRecord& refund,
                                       const PaymentOrderRecord& order, Instant now)>
        refund;
    // The providers `refund` can reach ("sandbox" when on; the others with their keys for our
    // calls): a refund of another provider's order is refused before anything is debited.
    std::vector<std::string> refund_providers;
    // WeChat's OAuth for the payers' openid (JSAPI); unset when the AppSecret is not configured.
    // The page to send a payer to, coming back to `redirect_uri` with a code and `state`.
    std::function<std::string(std::string_view redirect_uri, std::string_view state)>
        wechat_authorize_url;
    // The openid of the payer a code was given for; kUnauthenticated ("code") for a code WeChat
    // refuses, kUnavailable when WeChat cannot be reached.
    std::function<Result<std::string>(std::string_view code)> wechat_openid;
    // "https://joule.example.com": where payers and providers reach this server; "" = unknown.
    std::string public_url;
    // Reads a provider's daily statement file into its lines (src/pay/statement) [PAY-3];
    // kInvalidArgument naming "file", "provider" or "row N: <column>".
    std::function<Result<std::vector<StatementLine>>(std::string_view provider,
                                                     std::string_view bytes)>
        parse_statement;
    // The providers whose statements this server fetches itself (their keys for our calls set),
    // and the fetch: the statement file of `day` as parse_statement reads it, nullopt when the
    // provider has none (no payment or refund that day). Errors as
    // app::ProviderClient::DownloadStatement.
    std::vector<std::string> statement_providers;
    std::function<Result<std::optional<std::string>>(std::string_view provider, CivilDate day,
                                                     Instant now)>
        download_statement;
};

struct ApiOptions {
    bool secure_cookies = false;  // set the Secure flag (TLS here or at a reverse proxy)
    std::chrono::seconds session_ttl{std::chrono::hours(12)};
    int lockout_after_failures = 5;
    std::chrono::seconds lockout_for{std::chrono::minutes(15)};
    bool access_log = true;  // one JSON line per request on stderr
    std::function<Instant()> clock;
    // Above it an export is refused (400, field "format") rather than cut short. At least
    // kMaxPageSize (500), so an export is never smaller than a page.
    int max_export_rows = kDefaultMaxExportRows;
    // The live stream: how often the store's changes are read, and how many streams may be open.
    std::chrono::milliseconds live_poll_interval{250};
    int max_live_streams = 1'000;
    // More Prometheus text for /metrics (the store's counters), appended to the API's own.
    std::function<std::string()> extra_metrics{};
    // The web console's directory (index.html, assets/): GET and HEAD of every path outside the
    // API's are answered from it (static_files.hpp). "": those paths are 404.
    std::string web_root{};
    // The gateways' bus counters, shown with each gateway; nullptr: none are shown.
    const BusStatistics* bus_statistics = nullptr;
    PaymentGateway payments{};
    // The notification channels the server sends on ("email", "sms", ...), shown to staff.
    std::vector<std::string> notify_channels{};
    // Tenants [PAY-1]: whether codes can reach tenants by SMS (an SMS channel with a template for
    // verification_code), and, demos only, codes that come back in the answer.
    bool tenant_codes_by_sms = false;
    bool tenant_show_codes = false;
    // The top-up amounts the tenants' pages offer, in fen.
    std::vector<int64_t> tenant_top_up_presets_fen{5'000, 10'000, 20'000, 50'000};
};

// How a route is reached.
enum class RouteAccess : std::uint8_t {
    kPublic,      // no principal (health, login, the OpenAPI document)
    kSignedIn,    // any principal
    kPermission,  // a principal with `permission`
    kTenant,      // a tenant signed in by SMS code (the cookie joule_tenant), not staff
};

struct RouteInfo {
    std::string method;
    std::string pattern;  // "/api/v1/projects/{project}/accounts"
    std::string operation_id;
    std::string summary;
    std::string tag;
    RouteAccess access = RouteAccess::kPermission;
    Permission permission = Permission::kProjectsView;
    bool money = false;  // moves money: Idempotency-Key required
    bool paged = false;  // a list: page, page_size, sort, order, q
    bool has_body = false;
    // The media type of a success that is not JSON ("text/event-stream", "text/html").
    std::string produces;
    // A file route: the media types of the file a POST takes as its body (read by the handler, not
    // parsed as JSON, up to kMaxImportBytes) or a GET answers with (chosen by its ?format).
    std::vector<std::string> file_types{};
    // The largest body it takes; 0: the HTTP server's own limit (1 MiB).
    std::size_t max_body_bytes = 0;
};

class Api {
public:
    Api(Store& store, AccessStore& access, BillingService& billing, AcquisitionService& acquisition,
        ApiOptions options);
    ~Api();
    Api(const Api&) = delete;
    Api& operator=(const Api&) = delete;

    // Answers one request; never throws.
    [[nodiscard]] HttpResponse Handle(const HttpRequest& request);

    [[nodiscard]] const std::vector<RouteInfo>& routes() const;
    // The OpenAPI 3.0 document, built from routes().
    [[nodiscard]] std::string OpenApiJson() const;
    // The body limit of a request to `target` (its path, and maybe '?' and a query) by `method`:
    // its route's max_body_bytes (kMaxImportBytes for imports), 0 (the server's own) for the rest.
    // For HttpServerOptions::body_limit_of.
    [[nodiscard]] std::size_t BodyLimitOf(std::string_view method, std::string_view target) const;

    // Creates a user (used by `joule admin create` and the first start). kAlreadyExists for a
    // taken name, kInvalidArgument for a weak password or an unknown role.
    [[nodiscard]] Result<int64_t> CreateUser(const std::string& username,
                                             const std::string& password, const std::string& role,
                                             bool all_projects,
                                             const std::vector<std::string>& project_codes);
    // When there is no user at all: creates "admin" with a random password and returns it (to be
    // printed once). nullopt when users exist.
    [[nodiscard]] Result<std::optional<std::string>> EnsureFirstAdmin();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace joule::api
