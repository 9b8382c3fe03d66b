// The API's small pieces: the one table from error codes to HTTP statuses, the error body, query
// strings, list pages, cookies, request-body checks, the OpenAPI document and the metrics.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api.hpp"
#include "api/http_server.hpp"
#include "base/error.hpp"
#include "core/time.hpp"

namespace joule::api {

inline constexpr int kMaxPageSize = 500;
inline constexpr int kDefaultPageSize = 50;

// The one mapping from error codes to HTTP statuses.
[[nodiscard]] int HttpStatusOf(const Error& error);
// {"code":"invalid_argument","message":"...","field":"amount"}
[[nodiscard]] std::string ErrorJson(const Error& error);

// 1..64 characters of A-Z a-z 0-9 - _ . (request ids, idempotency keys).
[[nodiscard]] bool IsToken(std::string_view text);
// 1..64 bytes of letters, digits, '.', '_', '-', '@'.
[[nodiscard]] Status CheckUsername(std::string_view name);
[[nodiscard]] Result<int64_t> PositiveId(std::string_view text, std::string_view field);

// A request's query parameters, and the largest page_size its list may be asked for. Every
// request gets kMaxPageSize; only an export (dispatch, ?format=csv|xlsx) raises the bound to read
// every row at once. It is a member, not a parameter, so no query string can raise it.
struct QueryParams : std::map<std::string, std::string, std::less<>> {
    using map::map;
    int max_page_size = kMaxPageSize;
};

// Decodes "a=1&b=x%20y" (+ is a space). kInvalidArgument for a repeated or malformed parameter.
[[nodiscard]] Result<QueryParams> ParseQuery(std::string_view query);
[[nodiscard]] Result<bool> BoolParam(const QueryParams& query, std::string_view name,
                                     bool fallback);

// A JSON array of strings, each at most 256 bytes; errors name "<field>[i]".
[[nodiscard]] Result<std::vector<std::string>> StringList(const nlohmann::json& list,
                                                          std::string_view field);

// The body of a write: a JSON object, valid UTF-8, Content-Type application/json.
[[nodiscard]] Result<nlohmann::json> ParseJsonBody(const HttpRequest& request);

struct PageBounds {
    int page = 1;
    int page_size = 50;
};
// ?page (1..1,000,000, default 1) and ?page_size (1..query.max_page_size, default 50).
[[nodiscard]] Result<PageBounds> PageParams(const QueryParams& query);

// A page of `items`: ?page (1..), page_size (1..500, default 50), sort (one of `sortable`, '-'
// prefix for descending), any of `filters` as exact matches on the item's field (as text), q (a
// case-sensitive substring of any of `searchable`). Unknown parameters are rejected, so a typo
// never silently returns everything.
[[nodiscard]] Result<nlohmann::json> Page(std::vector<nlohmann::json> items,
                                          const QueryParams& query,
                                          std::initializer_list<std::string_view> sortable,
                                          std::initializer_list<std::string_view> filters,
                                          std::initializer_list<std::string_view> searchable);

// The value of cookie `name` in a Cookie header, or "".
[[nodiscard]] std::string CookieValue(std::string_view header, std::string_view name);
// HttpOnly, SameSite=Strict, Path=/, Max-Age; Secure when asked.
[[nodiscard]] std::string SessionCookie(std::string_view name, std::string_view value,
                                        Seconds max_age, bool secure);

// OpenAPI 3.0.3, one path item per route pattern.
[[nodiscard]] std::string OpenApiDocument(const std::vector<RouteInfo>& routes);

// One Prometheus counter without labels: its HELP and TYPE lines and its value.
[[nodiscard]] std::string PrometheusCounter(std::string_view name, std::string_view help,
                                            std::uint64_t value);

// Prometheus counters and a latency histogram per route and status class.
class Metrics {
public:
    void Observe(const std::string& route, int status, std::chrono::nanoseconds elapsed);
    [[nodiscard]] std::string Render();

private:
    // Upper bounds in microseconds (rendered as seconds).
    static constexpr std::array<int64_t, 8> kBucketsUs = {1'000,  5'000,   10'000,  25'000,
                                                          50'000, 100'000, 500'000, 1'000'000};
    struct Series {
        int64_t count = 0;
        int64_t sum_us = 0;
        std::array<int64_t, kBucketsUs.size()> buckets{};
    };
    std::mutex mutex_;
    std::map<std::pair<std::string, int>, Series> series_;  // (route, status class 2..5)
};

}  // namespace joule::api
