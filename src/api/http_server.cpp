// Beast's HTTP/1.1 parser and serializer over Asio coroutines: one coroutine per connection,
// requests on a connection answered in order (keep-alive), limits enforced by the parser. The
// connection coroutine is a template on the stream, so plain HTTP runs on a bare tcp_stream and
// only HTTPS connections go through OpenSSL (beast::ssl_stream).
#include "api/http_server.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <thread>
#include <type_traits>
#include <utility>

#include "base/host_port.hpp"

namespace joule::api {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

std::string_view HttpRequest::Header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) {
            return value;
        }
    }
    return {};
}

bool ResponseStream::Push(std::string_view text) {
    const std::lock_guard lock(mutex_);
    if (closed_ || pending_.size() + text.size() > max_pending) {
        return false;
    }
    pending_.append(text);
    return true;
}

void ResponseStream::Close() {
    const std::lock_guard lock(mutex_);
    closed_ = true;
}

std::string ResponseStream::Take(bool& closed) {
    const std::lock_guard lock(mutex_);
    closed = closed_;
    return std::exchange(pending_, std::string());
}

Result<std::string> PercentDecode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out.push_back(text[i]);
            continue;
        }
        if (i + 2 >= text.size()) {
            return InvalidArgument("path", "truncated percent escape");
        }
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
        if (ec != std::errc() || end != text.data() + i + 3) {
            return InvalidArgument("path", "bad percent escape");
        }
        out.push_back(static_cast<char>(value));
        i += 2;
    }
    return out;
}

namespace {

std::string ErrorBody(std::string_view code, std::string_view message, std::string_view field) {
    // The messages here are fixed ASCII, so no JSON escaping is needed.
    return "{\"code\":\"" + std::string(code) + "\",\"message\":\"" + std::string(message) +
           "\",\"field\":\"" + std::string(field) + "\"}";
}

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// Mozilla's "intermediate" TLS 1.2 ciphers: ECDHE key exchange, AEAD only. TLS 1.3 suites are
// OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Result<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
    std::unique_ptr<asio::ssl::context> tls;
    try {
        tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    } catch (const std::exception& e) {
        return MakeError(ErrorCode::kInternal, std::string("OpenSSL: ") + e.what(), "tls");
    }
    SSL_CTX* ctx = tls->native_handle();
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
        return MakeError(ErrorCode::kInternal, "OpenSSL refused the TLS settings", "tls");
    }
    // No client-initiated renegotiation (a cheap way to make the server work hard).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    beast::error_code ec;
    tls->use_certificate_chain_file(cert_file, ec);
    if (ec) {
        return InvalidArgument("tls.cert", "cannot use '" + cert_file + "': " + ec.message());
    }
    tls->use_private_key_file(key_file, asio::ssl::context::pem, ec);
    if (ec) {
        return InvalidArgument("tls.key", "cannot use '" + key_file + "': " + ec.message());
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        return InvalidArgument("tls.key",
                               "'" + key_file + "' is not the key of '" + cert_file + "'");
    }
    return tls;
}

// v4-mapped IPv6 addresses ("::ffff:10.0.0.1", a dual-stack listener's IPv4 peers) as IPv4, so
// they compare equal to the trusted proxies as written.
asio::ip::address Unmapped(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    return address;
}

}  // namespace

Status CheckTlsFiles(const std::string& cert_file, const std::string& key_file) {
    JOULE_TRY(MakeTlsContext(cert_file, key_file));
    return {};
}

struct HttpServer::Impl {
    // Who is at the other end of a connection.
    struct Peer {
        std::string address;         // the TCP peer
        bool trusted_proxy = false;  // one of options.trusted_proxies
    };

    HttpServerOptions options;
    HttpHandler handler;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::unique_ptr<asio::ssl::context> tls;  // null: plain HTTP
    std::vector<asio::ip::address> trusted_proxies;
    std::vector<std::thread> threads;
    std::unique_ptr<asio::thread_pool> writers;  // options.write_threads; null when 0
    std::atomic<int> connections{0};
    std::string host;  // the address listened on
    std::uint16_t port = 0;
    bool started = false;

    asio::awaitable<void> Accept();
    // One connection: beast::tcp_stream (plain HTTP) or TlsStream.
    template <class Stream>
    asio::awaitable<void> Serve(tcp::socket socket);
    Peer PeerOf(const tcp::socket& socket) const;
    std::string ClientBehindProxies(const http::request<http::string_body>& req,
                                    const std::string& peer) const;
    // The handler's response to `req`; a stream response leaves its stream in `stream`.
    http::response<http::string_body> Answer(http::request<http::string_body>& req,
                                             const Peer& peer,
                                             std::shared_ptr<ResponseStream>& stream);
    // Writes a stream response's text as it comes, until it ends or the client goes away.
    template <class Stream>
    asio::awaitable<void> WriteStream(Stream& stream, ResponseStream& out);
};

asio::awaitable<void> HttpServer::Impl::Accept() {
    while (acceptor.is_open()) {
        auto [error, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (error) {
            if (error == asio::error::operation_aborted || !acceptor.is_open()) {
                co_return;
            }
            continue;  // EMFILE and the like: keep accepting
        }
        if (connections.load() >= options.max_connections) {
            beast::error_code ignored;
            socket.close(ignored);  // the limit is a refusal, not a queue
            continue;
        }
        if (tls) {
            auto session = Serve<TlsStream>(std::move(socket));
            asio::co_spawn(acceptor.get_executor(), std::move(session), asio::detached);
        } else {
            auto session = Serve<beast::tcp_stream>(std::move(socket));
            asio::co_spawn(acceptor.get_executor(), std::move(session), asio::detached);
        }
    }
}

http::response<http::string_body> HttpServer::Impl::Answer(
    http::request<http::string_body>& req, const Peer& peer,
    std::shared_ptr<ResponseStream>& stream) {
    HttpRequest r;
    r.method = std::string(req.method_string());
    const std::string_view target = req.target();
    const auto question = target.find('?');
    auto path = PercentDecode(target.substr(0, question));
    HttpResponse out;
    if (!path) {
        out.status = 400;
        out.body =
            ErrorBody("invalid_argument", "the request path has a bad percent escape", "path");
    } else {
        r.path = std::move(*path);
        if (question != std::string_view::npos) {
            r.query = std::string(target.substr(question + 1));
        }
        r.headers.reserve(16);
        for (const auto& field : req) {
            std::string name(field.name_string());
            for (char& c : name) {
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            }
            r.headers.emplace_back(std::move(name), std::string(field.value()));
        }
        r.body = std::move(req.body());
        r.remote = peer.trusted_proxy ? ClientBehindProxies(req, peer.address) : peer.address;
        try {
            out = handler(r);
        } catch (const std::exception& e) {
            // Handlers return errors; an exception is a bug, answered without detail (and never
            // left to unwind through the connection's coroutine).
            std::fprintf(stderr, "http: %s %s: unexpected exception: %s\n", r.method.c_str(),
                         r.path.c_str(), e.what());
            out = HttpResponse{};
            out.status = 500;
            out.body = ErrorBody("internal", "internal error", "");
        }
    }
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::server, "joule");
    res.set(http::field::content_type, out.content_type);
    for (auto& [name, value] : out.headers) {
        res.insert(name, value);
    }
    res.body() = std::move(out.body);
    if (out.stream) {
        // No length and no chunking: the body runs until the connection closes.
        res.set("X-Accel-Buffering", "no");  // nginx: pass events on at once
        res.keep_alive(false);
        stream = std::move(out.stream);
        return res;
    }
    res.keep_alive(req.keep_alive());
    const unsigned status = res.result_int();
    if (status == 204 || status == 304) {
        // No body, and no Content-Length a client could take for the resource's (RFC 9110 8.6).
        res.body().clear();
        return res;
    }
    if (req.method() == http::verb::head) {
        // What GET would answer, without the body: its length, and nothing after the header, so
        // the next request on the connection is read from the right place (RFC 9110 9.3.2).
        res.content_length(res.body().size());
        res.body().clear();
        return res;
    }
    res.prepare_payload();
    return res;
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::WriteStream(Stream& stream, ResponseStream& out) {
    // Polled rather than woken: a producer on another thread never touches this coroutine's
    // timer, and a fifth of a second is well inside "fresh within seconds".
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto last_write = std::chrono::steady_clock::now();
    while (true) {
        bool closed = false;
        std::string text = out.Take(closed);
        const auto now = std::chrono::steady_clock::now();
        if (text.empty() && !closed && now - last_write >= options.stream_heartbeat) {
            text = ": keep-alive\n\n";
        }
        if (!text.empty()) {
            beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
            auto [write_error, written] = co_await asio::async_write(
                stream, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
            (void)written;
            if (write_error) {
                break;
            }
            last_write = now;
        }
        if (closed) {
            break;
        }
        timer.expires_after(options.stream_flush_interval);
        auto [wait_error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        (void)wait_error;
    }
    out.MarkGone();
}

HttpServer::Impl::Peer HttpServer::Impl::PeerOf(const tcp::socket& socket) const {
    beast::error_code peer_error;
    const auto endpoint = socket.remote_endpoint(peer_error);
    if (peer_error) {
        return {};
    }
    const asio::ip::address address = Unmapped(endpoint.address());
    bool trusted = false;
    for (const asio::ip::address& proxy : trusted_proxies) {
        trusted = trusted || proxy == address;
    }
    return {address.to_string(), trusted};
}

// X-Forwarded-For lists the client and then each proxy that forwarded the request; each proxy
// appends the address it received the request from. Read from the right: the first address that
// is not a trusted proxy is the client (whatever is further left, that client could have written
// itself). An entry that is not an IP address ends the walk at the last address believed.
std::string HttpServer::Impl::ClientBehindProxies(const http::request<http::string_body>& req,
                                                  const std::string& peer) const {
    std::vector<std::string_view> hops;
    for (const auto& field : req) {
        if (!beast::iequals(field.name_string(), "x-forwarded-for")) {
            continue;
        }
        std::string_view list = field.value();
        while (!list.empty()) {
            const auto comma = list.find(',');
            std::string_view hop = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            while (!hop.empty() && (hop.front() == ' ' || hop.front() == '\t')) {
                hop.remove_prefix(1);
            }
            while (!hop.empty() && (hop.back() == ' ' || hop.back() == '\t')) {
                hop.remove_suffix(1);
            }
            hops.push_back(hop);
        }
    }
    std::string client = peer;
    for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
        beast::error_code ec;
        const auto address = asio::ip::make_address(*hop, ec);
        if (ec) {
            break;
        }
        const asio::ip::address unmapped = Unmapped(address);
        client = unmapped.to_string();
        bool trusted = false;
        for (const asio::ip::address& proxy : trusted_proxies) {
            trusted = trusted || proxy == unmapped;
        }
        if (!trusted) {
            break;
        }
    }
    return client;
}

template <class Stream>
asio::awaitable<void> HttpServer::Impl::Serve(tcp::socket socket) {
    constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
    connections.fetch_add(1);
    const Peer peer = PeerOf(socket);
    auto stream = [&] {
        if constexpr (kTls) {
            return Stream(std::move(socket), *tls);
        } else {
            return Stream(std::move(socket));
        }
    }();
    if constexpr (kTls) {
        // A peer that does not complete the handshake in time, or speaks plain HTTP to the
        // HTTPS port, is closed without a word.
        beast::get_lowest_layer(stream).expires_after(options.tls_handshake_timeout);
        auto [handshake_error] = co_await stream.async_handshake(
            asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
        if (handshake_error) {
            connections.fetch_sub(1);
            co_return;  // the stream closes the socket
        }
    }
    beast::flat_buffer buffer;
    while (true) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        // Beast checks a Content-Length against the limit while it reads the headers, before the
        // route is known: with per-route limits the headers are read without one, and the
        // route's limit is applied right after (a chunked body is then held to it as it comes).
        if (options.body_limit_of) {
            parser.body_limit(boost::none);
        } else {
            parser.body_limit(options.max_body_bytes);
        }
        beast::get_lowest_layer(stream).expires_after(options.idle_timeout);
        auto [read_error, read_bytes] = co_await http::async_read_header(
            stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        (void)read_bytes;
        if (!read_error && options.body_limit_of) {
            const auto& head = parser.get();
            std::size_t limit = options.body_limit_of(head.method_string(), head.target());
            if (limit == 0) {
                limit = options.max_body_bytes;
            }
            if (parser.content_length() && *parser.content_length() > limit) {
                read_error = http::error::body_limit;  // refused before a byte of it is read
            } else {
                parser.body_limit(limit);
            }
        }
        if (!read_error && !parser.is_done()) {
            auto [body_error, body_bytes] = co_await http::async_read(
                stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            (void)body_bytes;
            read_error = body_error;
        }
        if (read_error) {
            // Answer what the peer can act on; just close on EOF, timeout and reset.
            int status = 0;
            std::string body;
            if (read_error == http::error::body_limit) {
                status = 413;
                body = ErrorBody("resource_exhausted", "the request body is too large", "body");
            } else if (read_error == http::error::header_limit) {
                status = 431;
                body =
                    ErrorBody("resource_exhausted", "the request headers are too large", "headers");
            } else if (read_error.category() ==
                           beast::error_code(http::error::bad_target).category() &&
                       read_error != http::error::end_of_stream &&
                       read_error != http::error::partial_message) {
                status = 400;
                body = ErrorBody("invalid_argument", "malformed HTTP request", "");
            }
            if (status != 0) {
                http::response<http::string_body> res{static_cast<http::status>(status), 11};
                res.set(http::field::content_type, "application/json");
                res.keep_alive(false);
                res.body() = std::move(body);
                res.prepare_payload();
                auto [write_error, written] =
                    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
                (void)write_error;
                (void)written;
            }
            break;
        }
        http::request<http::string_body> req = parser.release();
        std::shared_ptr<ResponseStream> body_stream;
        http::response<http::string_body> res;
        if (writers && req.method() != http::verb::get && req.method() != http::verb::head) {
            res = co_await asio::co_spawn(
                writers->get_executor(),
                [&]() -> asio::awaitable<http::response<http::string_body>> {
                    co_return Answer(req, peer, body_stream);
                },
                asio::use_awaitable);
        } else {
            res = Answer(req, peer, body_stream);
        }
        const bool keep_alive = res.keep_alive();
        auto [write_error, written] =
            co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        (void)written;
        if (body_stream) {
            if (write_error) {
                body_stream->MarkGone();
            } else {
                co_await WriteStream(stream, *body_stream);
            }
            break;
        }
        if (write_error || !keep_alive) {
            break;
        }
    }
    if constexpr (kTls) {
        // close_notify; a peer that never answers it costs at most this long.
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        auto [shutdown_error] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
        (void)shutdown_error;
    }
    beast::error_code ignored;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
    connections.fetch_sub(1);
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    impl_->handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
    Impl& d = *impl_;
    if (d.started) {
        return FailedPrecondition("the HTTP server is already started");
    }
    if (d.options.threads < 1 || d.options.threads > 64) {
        return InvalidArgument("http.threads", "must be 1..64");
    }
    if (d.options.write_threads < 0 || d.options.write_threads > 256) {
        return InvalidArgument("http.write_threads", "must be 0..256");
    }
    // ":8080" listens on every IPv4 address.
    const std::string listen =
        d.options.listen.starts_with(':') ? "0.0.0.0" + d.options.listen : d.options.listen;
    JOULE_ASSIGN_OR_RETURN(HostPort host_port,
                           ParseHostPort(listen, "http.listen", PortUse::kListen));
    beast::error_code ec;
    const auto address = asio::ip::make_address(host_port.host, ec);
    if (ec) {
        return InvalidArgument("http.listen", "not an IP address: " + host_port.host);
    }
    const tcp::endpoint endpoint(address, host_port.port);
    d.trusted_proxies.clear();
    for (const std::string& proxy : d.options.trusted_proxies) {
        const auto proxy_address = asio::ip::make_address(proxy, ec);
        if (ec) {
            return InvalidArgument("http.trusted_proxies", "not an IP address: " + proxy);
        }
        d.trusted_proxies.push_back(Unmapped(proxy_address));
    }
    if (!d.options.tls_cert_file.empty() || !d.options.tls_key_file.empty()) {
        JOULE_ASSIGN_OR_RETURN(d.tls,
                               MakeTlsContext(d.options.tls_cert_file, d.options.tls_key_file));
    }
    d.host = host_port.host;
    d.acceptor.open(endpoint.protocol(), ec);
    if (!ec) {
        d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        d.acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return MakeError(ErrorCode::kUnavailable,
                         "cannot listen on " + d.options.listen + ": " + ec.message(),
                         "http.listen");
    }
    d.port = d.acceptor.local_endpoint().port();
    asio::co_spawn(d.io, d.Accept(), asio::detached);
    d.started = true;
    if (d.options.write_threads > 0) {
        d.writers = std::make_unique<asio::thread_pool>(d.options.write_threads);
    }
    for (int i = 0; i < d.options.threads; ++i) {
        d.threads.emplace_back([&d] { d.io.run(); });
    }
    return {};
}

void HttpServer::Stop() {
    Impl& d = *impl_;
    if (!d.started) {
        return;
    }
    asio::post(d.io, [&d] {
        beast::error_code ignored;
        d.acceptor.close(ignored);
    });
    d.io.stop();
    for (std::thread& t : d.threads) {
        t.join();
    }
    d.threads.clear();
    if (d.writers) {
        // Writes still queued are dropped (nobody could be told their outcome); the ones under
        // way finish, their connections already gone.
        d.writers->stop();
        d.writers->join();
        d.writers.reset();
    }
    d.started = false;
}

std::uint16_t HttpServer::port() const { return impl_->port; }

bool HttpServer::tls() const { return impl_->tls != nullptr; }

const std::string& HttpServer::host() const { return impl_->host; }

}  // namespace joule::api
