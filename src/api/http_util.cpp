#include "api/http_util.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace joule::api {

using Json = nlohmann::json;

int HttpStatusOf(const Error& error) {
    switch (error.code) {
        case ErrorCode::kInvalidArgument:
        case ErrorCode::kOutOfRange:
            return 400;
        case ErrorCode::kUnauthenticated:
            return 401;
        case ErrorCode::kPermissionDenied:
            return 403;
        case ErrorCode::kNotFound:
            return 404;
        case ErrorCode::kAlreadyExists:
        case ErrorCode::kAborted:
        case ErrorCode::kFailedPrecondition:
            return 409;
        case ErrorCode::kResourceExhausted:
            return 429;
        case ErrorCode::kUnavailable:
            return 503;
        case ErrorCode::kDeadlineExceeded:
            return 504;
        case ErrorCode::kInternal:
        case ErrorCode::kDataLoss:
            return 500;
    }
    return 500;
}

std::string ErrorJson(const Error& error) {
    // Internal details (SQL text, paths) stay in the server log.
    const bool internal = error.code == ErrorCode::kInternal || error.code == ErrorCode::kDataLoss;
    const Json body{{"code", ErrorCodeName(error.code)},
                    {"message", internal ? std::string("internal error") : error.message},
                    {"field", error.field}};
    return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsToken(std::string_view text) {
    return !text.empty() && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    });
}

Status CheckUsername(std::string_view name) {
    const bool ok =
        !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
                   c == '.' || c == '@';
        });
    if (!ok) {
        return InvalidArgument("username", "must be 1 to 64 letters, digits or . _ - @");
    }
    return {};
}

Result<int64_t> PositiveId(std::string_view text, std::string_view field) {
    int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value <= 0) {
        return InvalidArgument(std::string(field), "must be a positive integer id");
    }
    return value;
}

Result<QueryParams> ParseQuery(std::string_view query) {
    QueryParams out;
    std::size_t start = 0;
    while (start < query.size()) {
        auto amp = query.find('&', start);
        if (amp == std::string_view::npos) {
            amp = query.size();
        }
        std::string part(query.substr(start, amp - start));
        start = amp + 1;
        if (part.empty()) {
            continue;
        }
        std::replace(part.begin(), part.end(), '+', ' ');
        const auto eq = part.find('=');
        auto key = PercentDecode(part.substr(0, eq));
        auto value = PercentDecode(eq == std::string::npos ? "" : part.substr(eq + 1));
        if (!key || !value || key->empty() || key->size() > 64 || value->size() > 256) {
            return InvalidArgument("query", "malformed query parameter");
        }
        if (!out.emplace(std::move(*key), std::move(*value)).second) {
            return InvalidArgument("query", "a query parameter is repeated");
        }
    }
    return out;
}

Result<bool> BoolParam(const QueryParams& query, std::string_view name, bool fallback) {
    const auto it = query.find(name);
    if (it == query.end()) {
        return fallback;
    }
    if (it->second == "true" || it->second == "1") {
        return true;
    }
    if (it->second == "false" || it->second == "0") {
        return false;
    }
    return InvalidArgument(std::string(name), "must be true or false");
}

Result<std::vector<std::string>> StringList(const Json& list, std::string_view field) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < list.size(); ++i) {
        const std::string path = std::string(field) + "[" + std::to_string(i) + "]";
        if (!list[i].is_string()) {
            return InvalidArgument(path, "must be a string");
        }
        out.push_back(list[i].get<std::string>());
        if (out.back().size() > 256) {
            return InvalidArgument(path, "must be at most 256 bytes");
        }
    }
    return out;
}

Result<Json> ParseJsonBody(const HttpRequest& request) {
    const std::string_view type = request.Header("content-type");
    if (!type.starts_with("application/json")) {
        return InvalidArgument("Content-Type", "must be application/json");
    }
    // nlohmann rejects invalid UTF-8 in strings, so a body that parses is valid UTF-8.
    Json body = Json::parse(request.body, nullptr, false);
    if (body.is_discarded()) {
        return InvalidArgument("body", "not valid JSON (or not valid UTF-8)");
    }
    if (!body.is_object()) {
        return InvalidArgument("body", "must be a JSON object");
    }
    return body;
}

namespace {

std::string FieldText(const Json& item, std::string_view field) {
    const auto it = item.find(field);
    if (it == item.end() || it->is_null()) {
        return {};
    }
    if (it->is_string()) {
        return it->get<std::string>();
    }
    return it->dump();
}

Result<int> IntParam(const QueryParams& query, std::string_view name, int fallback, int min,
                     int max) {
    const auto it = query.find(name);
    if (it == query.end()) {
        return fallback;
    }
    int value = 0;
    const auto& text = it->second;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
        return InvalidArgument(std::string(name), "must be an integer from " + std::to_string(min) +
                                                      " to " + std::to_string(max));
    }
    return value;
}

}  // namespace

Result<PageBounds> PageParams(const QueryParams& query) {
    PageBounds out;
    JOULE_ASSIGN_OR_RETURN(out.page, IntParam(query, "page", 1, 1, 1'000'000));
    JOULE_ASSIGN_OR_RETURN(out.page_size,
                           IntParam(query, "page_size", kDefaultPageSize, 1, query.max_page_size));
    return out;
}

Result<Json> Page(std::vector<Json> items, const QueryParams& query,
                  std::initializer_list<std::string_view> sortable,
                  std::initializer_list<std::string_view> filters,
                  std::initializer_list<std::string_view> searchable) {
    static constexpr std::string_view kPaging[] = {"page", "page_size", "sort", "q"};
    for (const auto& [key, value] : query) {
        const bool known =
            std::find(std::begin(kPaging), std::end(kPaging), key) != std::end(kPaging) ||
            std::find(filters.begin(), filters.end(), key) != filters.end();
        if (!known) {
            return InvalidArgument(key, "unknown query parameter");
        }
    }
    JOULE_ASSIGN_OR_RETURN(PageBounds bounds, PageParams(query));
    const int page = bounds.page;
    const int page_size = bounds.page_size;
    for (std::string_view filter : filters) {
        if (const auto it = query.find(filter); it != query.end()) {
            std::erase_if(items,
                          [&](const Json& item) { return FieldText(item, filter) != it->second; });
        }
    }
    if (const auto q = query.find("q"); q != query.end() && !q->second.empty()) {
        std::erase_if(items, [&](const Json& item) {
            return std::none_of(searchable.begin(), searchable.end(), [&](std::string_view f) {
                return FieldText(item, f).find(q->second) != std::string::npos;
            });
        });
    }
    if (const auto sort = query.find("sort"); sort != query.end()) {
        const bool descending = sort->second.starts_with('-');
        const std::string key = descending ? sort->second.substr(1) : sort->second;
        if (std::find(sortable.begin(), sortable.end(), key) == sortable.end()) {
            std::string allowed;
            for (std::string_view s : sortable) {
                allowed += (allowed.empty() ? "" : ", ") + std::string(s);
            }
            return InvalidArgument("sort", "must be one of " + allowed + " (prefix - to reverse)");
        }
        std::stable_sort(items.begin(), items.end(), [&](const Json& a, const Json& b) {
            const Json& x = a.contains(key) ? a.at(key) : Json();
            const Json& y = b.contains(key) ? b.at(key) : Json();
            return descending ? y < x : x < y;
        });
    }
    const std::size_t total = items.size();
    const std::size_t first =
        std::min(total, static_cast<std::size_t>(page - 1) * static_cast<std::size_t>(page_size));
    const std::size_t last = std::min(total, first + static_cast<std::size_t>(page_size));
    Json out_items = Json::array();
    for (std::size_t i = first; i < last; ++i) {
        out_items.push_back(std::move(items[i]));
    }
    return Json{{"items", std::move(out_items)},
                {"page", page},
                {"page_size", page_size},
                {"total", total}};
}

std::string CookieValue(std::string_view header, std::string_view name) {
    std::size_t start = 0;
    while (start < header.size()) {
        auto end = header.find(';', start);
        if (end == std::string_view::npos) {
            end = header.size();
        }
        std::string_view part = header.substr(start, end - start);
        while (!part.empty() && part.front() == ' ') {
            part.remove_prefix(1);
        }
        if (part.size() > name.size() && part.starts_with(name) && part[name.size()] == '=') {
            return std::string(part.substr(name.size() + 1));
        }
        start = end + 1;
    }
    return {};
}

std::string SessionCookie(std::string_view name, std::string_view value, Seconds max_age,
                          bool secure) {
    std::string out =
        std::string(name) + "=" + std::string(value) +
        "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count());
    if (secure) {
        out += "; Secure";
    }
    return out;
}

namespace {

Json ErrorResponse(std::string_view description) {
    return Json{{"description", description},
                {"content",
                 {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

}  // namespace

std::string OpenApiDocument(const std::vector<RouteInfo>& routes) {
    Json paths = Json::object();
    for (const RouteInfo& r : routes) {
        Json op{{"operationId", r.operation_id}, {"summary", r.summary}, {"tags", {r.tag}}};
        Json parameters = Json::array();
        std::size_t open = r.pattern.find('{');
        while (open != std::string::npos) {
            const std::size_t close = r.pattern.find('}', open);
            parameters.push_back(Json{{"name", r.pattern.substr(open + 1, close - open - 1)},
                                      {"in", "path"},
                                      {"required", true},
                                      {"schema", {{"type", "string"}}}});
            open = r.pattern.find('{', close);
        }
        if (r.paged) {
            for (const char* name : {"page", "page_size", "sort", "q"}) {
                parameters.push_back(Json{{"name", name},
                                          {"in", "query"},
                                          {"required", false},
                                          {"schema", {{"type", "string"}}}});
            }
            parameters.push_back(Json{
                {"name", "format"},
                {"in", "query"},
                {"required", false},
                {"description",
                 "json (default) pages; csv or xlsx export every matching row (at most 100,000 by "
                 "default) as a file, with the same filters and sort"},
                {"schema", {{"type", "string"}, {"enum", {"json", "csv", "xlsx"}}}}});
        }
        if (r.money) {
            parameters.push_back(Json{{"name", "Idempotency-Key"},
                                      {"in", "header"},
                                      {"required", true},
                                      {"schema", {{"type", "string"}, {"maxLength", 64}}}});
        }
        if (!parameters.empty()) {
            op["parameters"] = parameters;
        }
        // A file route takes a file as its body (an import) or answers one (a template).
        Json files = Json::object();
        for (const std::string& type : r.file_types) {
            files[type] = {{"schema", {{"type", "string"}, {"format", "binary"}}}};
        }
        if (r.has_body && !r.file_types.empty()) {
            op["requestBody"] = {{"required", true}, {"content", files}};
        } else if (r.has_body) {
            op["requestBody"] = {
                {"required", true},
                {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
        }
        op["responses"] = {{"2XX", {{"description", "success"}}},
                           {"4XX", ErrorResponse("rejected; nothing changed")},
                           {"5XX", ErrorResponse("server error")}};
        if (!r.has_body && !r.file_types.empty()) {
            op["responses"]["2XX"] = {{"description", "the file (Content-Disposition: attachment)"},
                                      {"content", files}};
        }
        if (r.paged) {
            op["responses"]["2XX"] = {
                {"description",
                 "a page {items, page, page_size, total}; with format=csv or xlsx every row as "
                 "a file (Content-Disposition: attachment)"},
                {"content",
                 {{"application/json", {{"schema", {{"type", "object"}}}}},
                  {"text/csv", {{"schema", {{"type", "string"}}}}},
                  {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
        }
        if (!r.produces.empty()) {
            op["responses"]["2XX"] = {
                {"description", "success"},
                {"content", {{r.produces, {{"schema", {{"type", "string"}}}}}}}};
        }
        if (r.access == RouteAccess::kPublic) {
            op["security"] = Json::array();
        } else if (r.access == RouteAccess::kPermission) {
            op["x-permission"] = PermissionName(r.permission);
        } else if (r.access == RouteAccess::kTenant) {
            op["security"] = Json::array({{{"tenantSession", Json::array()}}});
        }
        std::string method = r.method;
        std::transform(method.begin(), method.end(), method.begin(),
                       [](char c) { return static_cast<char>(std::tolower(c)); });
        paths[r.pattern][method] = std::move(op);
    }
    const Json doc{
        {"openapi", "3.0.3"},
        {"info",
         {{"title", "Joule API"},
          {"version", "1"},
          {"description",
           "Remote prepaid electricity and water metering. Amounts are decimal strings in "
           "yuan; instants are RFC 3339 UTC. Errors are {code, message, field}."}}},
        {"servers", {{{"url", "/"}}}},
        {"security", {{{"session", Json::array()}}, {{"apiKey", Json::array()}}}},
        {"paths", paths},
        {"components",
         {{"securitySchemes",
           {{"session", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "joule_session"}}},
            {"apiKey", {{"type", "http"}, {"scheme", "bearer"}}},
            {"tenantSession", {{"type", "apiKey"}, {"in", "cookie"}, {"name", "joule_tenant"}}}}},
          {"schemas",
           {{"Error",
             {{"type", "object"},
              {"required", {"code", "message", "field"}},
              {"properties",
               {{"code", {{"type", "string"}}},
                {"message", {{"type", "string"}}},
                {"field", {{"type", "string"}}}}}}}}}}}};
    return doc.dump(2);
}

void Metrics::Observe(const std::string& route, int status, std::chrono::nanoseconds elapsed) {
    const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
    std::lock_guard lock(mutex_);
    Series& s = series_[{route, status / 100}];
    s.count += 1;
    s.sum_us += us;
    for (std::size_t i = 0; i < kBucketsUs.size(); ++i) {
        if (us <= kBucketsUs[i]) {
            s.buckets[i] += 1;
        }
    }
}

namespace {

// Microseconds as seconds with six decimals ("0.001000"), without floating point.
std::string SecondsText(int64_t us) {
    std::string frac = std::to_string(us % 1'000'000);
    frac.insert(0, 6 - frac.size(), '0');
    return std::to_string(us / 1'000'000) + "." + frac;
}

}  // namespace

std::string PrometheusCounter(std::string_view name, std::string_view help, std::uint64_t value) {
    const std::string n(name);
    return "# HELP " + n + " " + std::string(help) + "\n# TYPE " + n + " counter\n" + n + " " +
           std::to_string(value) + "\n";
}

std::string Metrics::Render() {
    std::lock_guard lock(mutex_);
    std::string out =
        "# HELP joule_http_requests_total HTTP requests by route and status class.\n"
        "# TYPE joule_http_requests_total counter\n";
    for (const auto& [key, s] : series_) {
        out += "joule_http_requests_total{route=\"" + key.first + "\",status=\"" +
               std::to_string(key.second) + "xx\"} " + std::to_string(s.count) + "\n";
    }
    out +=
        "# HELP joule_http_request_seconds Time to answer, by route.\n"
        "# TYPE joule_http_request_seconds histogram\n";
    for (const auto& [key, s] : series_) {
        const std::string labels =
            "route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "xx\"";
        for (std::size_t i = 0; i < kBucketsUs.size(); ++i) {
            out += "joule_http_request_seconds_bucket{" + labels + ",le=\"" +
                   SecondsText(kBucketsUs[i]) + "\"} " + std::to_string(s.buckets[i]) + "\n";
        }
        out += "joule_http_request_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
               std::to_string(s.count) + "\n";
        out += "joule_http_request_seconds_sum{" + labels + "} " + SecondsText(s.sum_us) + "\n";
        out += "joule_http_request_seconds_count{" + labels + "} " + std::to_string(s.count) + "\n";
    }
    return out;
}

}  // namespace joule::api
