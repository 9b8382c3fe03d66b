// The HTTP/1.1 server of the API (Boost.Beast on Asio). This header keeps Beast out of its users:
// a request and a response are plain structs and the whole API is one handler function. The
// server owns the limits (header and body size, idle time, connection count); a request that
// breaks one gets a JSON error and nothing reaches the handler. With a certificate and key it
// speaks HTTPS only (OpenSSL, TLS 1.2 at least); without, plain HTTP with no TLS code in the path.
//
// Thread-safety: Start/Stop from one thread. The handler is called on the server's I/O threads,
// concurrently for different connections, so it must be thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"

namespace joule::api {

struct HttpRequest {
    std::string method;                                        // "GET", "POST" ...
    std::string path;                                          // percent-decoded, without the query
    std::string query;                                         // raw, after '?'
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    // The client's address ("127.0.0.1"): the TCP peer, or, when the peer is a trusted proxy
    // (HttpServerOptions::trusted_proxies), the rightmost X-Forwarded-For entry that is not one.
    std::string remote;

    // The first header of that (lower-case) name, or "".
    [[nodiscard]] std::string_view Header(std::string_view name) const;
};

// The body of a response that stays open and is written as it comes (Server-Sent Events). The
// producer pushes text from any thread; the server writes what has been pushed a few times a
// second, a comment line when nothing came for a while (so proxies keep the connection and a
// client that went away is noticed), and ends the response after Close() or when the client has
// gone (then gone() is true and the producer drops the stream).
class ResponseStream {
public:
    // Appends text to write. Returns false, and appends nothing, when more than `max_pending`
    // bytes are already waiting (a client that does not read): the producer should Close() it.
    bool Push(std::string_view text);
    void Close();
    [[nodiscard]] bool gone() const { return gone_.load(); }

    // The server's side: what is waiting, and whether the stream is over once it is written.
    std::string Take(bool& closed);
    void MarkGone() { gone_.store(true); }

    std::size_t max_pending = std::size_t{1} << 20;

private:
    mutable std::mutex mutex_;
    std::string pending_;
    bool closed_ = false;
    std::atomic<bool> gone_{false};
};

struct HttpResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Set-Cookie ...)
    // When set, the response is a stream: `body` is written first, then the stream's text until
    // it ends; the connection closes after it.
    std::shared_ptr<ResponseStream> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
    std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
    int threads = 2;
    // Threads that answer requests which may wait for the store's writer (every method but GET
    // and HEAD), so a write waiting for its commit never holds up the reads of an I/O thread, and
    // writes arriving together can share one commit. 0: everything runs on the I/O threads.
    int write_threads = 32;
    std::size_t max_header_bytes = std::size_t{16} * 1024;
    std::size_t max_body_bytes = std::size_t{1024} * 1024;
    // When set, a request's body limit by its method and target (path and query), asked once its
    // headers are read, so a route that takes files (an import) may allow more. 0: max_body_bytes.
    std::function<std::size_t(std::string_view method, std::string_view target)> body_limit_of;
    std::chrono::seconds idle_timeout{60};
    int max_connections = 10'000;
    // HTTPS only when both are set: a PEM certificate chain (the server's certificate first) and
    // its PEM private key. TLS 1.2 or 1.3, forward-secret AEAD ciphers only.
    std::string tls_cert_file;
    std::string tls_key_file;
    std::chrono::seconds tls_handshake_timeout{10};
    // IP addresses of reverse proxies whose X-Forwarded-For is believed (see HttpRequest::remote).
    std::vector<std::string> trusted_proxies;
    // Streams: how often pushed text is written, and the longest silence before a comment line.
    std::chrono::milliseconds stream_flush_interval{200};
    std::chrono::seconds stream_heartbeat{15};
};

class HttpServer {
public:
    HttpServer(HttpServerOptions options, HttpHandler handler);
    ~HttpServer();  // Stop()s
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts the I/O threads. kInvalidArgument for a bad listen address
    // ("http.listen"), a certificate or key that cannot be used ("tls.cert", "tls.key") or a
    // trusted proxy that is not an IP address ("http.trusted_proxies"); kUnavailable when the
    // address cannot be bound.
    [[nodiscard]] Status Start();
    // Closes the listener and every connection and joins the threads. Idempotent.
    void Stop();
    // The bound address and port (after Start).
    [[nodiscard]] const std::string& host() const;
    [[nodiscard]] std::uint16_t port() const;
    // Whether it speaks HTTPS.
    [[nodiscard]] bool tls() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Loads a certificate chain and its key as Start() does, so that a bad file stops `joule serve`
// before anything starts: kInvalidArgument naming "tls.cert" or "tls.key" with OpenSSL's reason
// when a file cannot be read or parsed, or when the key does not belong to the certificate.
[[nodiscard]] Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file);

// Decodes %XX escapes (and nothing else). kInvalidArgument for a bad escape.
[[nodiscard]] Result<std::string> PercentDecode(std::string_view text);

}  // namespace joule::api
