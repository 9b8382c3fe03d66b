#include "notify/http_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

namespace joule::notify {

namespace {

struct Body {
    std::string* text = nullptr;
    std::size_t max = 0;
    bool too_large = false;
};

size_t Collect(char* data, size_t size, size_t count, void* user) {
    auto* body = static_cast<Body*>(user);
    const size_t n = size * count;
    if (body->text->size() + n > body->max) {
        body->too_large = true;
        return 0;  // curl reports CURLE_WRITE_ERROR
    }
    body->text->append(data, n);
    return n;
}

// One header line of the response: "Name: value\r\n" kept as ("name", "value"); a status line
// (a redirect's, 100 Continue) starts the list again, so only the final response's remain.
size_t CollectHeader(char* data, size_t size, size_t count, void* user) {
    auto* out = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
    const size_t n = size * count;
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        out->clear();
        return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || out->size() >= 100) {
        return n;
    }
    std::string name(line.substr(0, colon));
    for (char& c : name) {
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
        value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
        value.remove_suffix(1);
    }
    out->emplace_back(std::move(name), std::string(value));
    return n;
}

}  // namespace

std::string_view HttpResponse::Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key.size() == name.size() &&
            std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
                return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
            })) {
            return value;
        }
    }
    return {};
}

struct HttpClient::Handle {
    CURL* curl = nullptr;
    ~Handle() {
        if (curl != nullptr) {
            curl_easy_cleanup(curl);
        }
    }
};

HttpClient::HttpClient(Seconds timeout, std::size_t max_body)
    : handle_(std::make_unique<Handle>()), timeout_(timeout), max_body_(max_body) {
    EnsureCurl();
    handle_->curl = curl_easy_init();
}

HttpClient::~HttpClient() = default;

Result<HttpResponse> HttpClient::Request(std::string_view method, const std::string& url,
                                         const std::vector<std::string>& headers,
                                         std::string_view body) {
    CURL* curl = handle_->curl;
    if (curl == nullptr) {
        return MakeError(ErrorCode::kInternal, "libcurl did not start");
    }
    curl_easy_reset(curl);  // keeps the live connection, forgets the last request's options
    HttpResponse response;
    curl_slist* list = nullptr;
    for (const std::string& h : headers) {
        list = curl_slist_append(list, h.c_str());
    }
    // curl adds "Expect: 100-continue" to larger POSTs, which costs a round trip.
    list = curl_slist_append(list, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count() * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<int64_t>(timeout_.count(), 5) * 1000));
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
    Body body_sink{&response.body, max_body_};
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body_sink);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
    if (method == "POST") {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    } else {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(list);
    if (body_sink.too_large) {
        return MakeError(ErrorCode::kOutOfRange, "the answer of " + url.substr(0, url.find('?')) +
                                                     " is larger than " +
                                                     std::to_string(max_body_) + " bytes");
    }
    if (rc != CURLE_OK) {
        return MakeError(ErrorCode::kUnavailable, std::string("no answer from ") +
                                                      url.substr(0, url.find('?')) + ": " +
                                                      curl_easy_strerror(rc));
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
}

void EnsureCurl() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

Status StatusOfHttp(const HttpResponse& response, std::string_view what) {
    if (response.status >= 200 && response.status < 300) {
        return {};
    }
    std::string message = std::string(what) + " answered HTTP " + std::to_string(response.status);
    if (!response.body.empty()) {
        message += ": " + response.body.substr(0, 200);
    }
    if (response.status == 429) {
        return MakeError(ErrorCode::kResourceExhausted, message);
    }
    if (response.status >= 500 || response.status == 408) {
        return MakeError(ErrorCode::kUnavailable, message);
    }
    return MakeError(ErrorCode::kInvalidArgument, message);
}

}  // namespace joule::notify
