// A small HTTP(S) client on libcurl for the outbound calls of the adapters (SMS, WeChat, webhooks;
// later the payment providers' order and query calls). One connection kept alive per client; not
// for use by two threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "core/time.hpp"

namespace joule::notify {

struct HttpResponse {
    long status = 0;  // NOLINT(google-runtime-int): libcurl's type
    std::string body;
    // The final response's headers, names lower-cased (the payment providers sign theirs).
    std::vector<std::pair<std::string, std::string>> headers{};
    [[nodiscard]] std::string_view Header(std::string_view name) const;
};

class HttpClient {
public:
    // An answer larger than `max_body` bytes is refused (kOutOfRange), not held.
    explicit HttpClient(Seconds timeout = Seconds{10}, std::size_t max_body = kDefaultMaxBody);
    static constexpr std::size_t kDefaultMaxBody = std::size_t{1} << 20;  // replies are small
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // `method` GET or POST. Any HTTP status is a response; kUnavailable when no response came
    // (resolution, connection, TLS, timeout), naming what curl said.
    [[nodiscard]] Result<HttpResponse> Request(std::string_view method, const std::string& url,
                                               const std::vector<std::string>& headers,
                                               std::string_view body);

private:
    struct Handle;
    std::unique_ptr<Handle> handle_;
    Seconds timeout_;
    std::size_t max_body_;
};

// libcurl's process-wide start, once, before the first handle (the HTTP client and SMTP both).
void EnsureCurl();

// What a status says for a delivery: 2xx fine; 429 and 5xx try later (kResourceExhausted,
// kUnavailable); any other refused for good (kInvalidArgument). `what` names the service.
[[nodiscard]] Status StatusOfHttp(const HttpResponse& response, std::string_view what);

}  // namespace joule::notify
