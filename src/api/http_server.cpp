// Beast's HTTP/1.1 parser and serializer over Asio coroutines: one coroutine per connection,
// requests on a connection answered in order (keep-alive), limits enforced by the parser.
#include "api/http_server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <charconv>
#include <thread>

#include "wire/host_port.hpp"

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

}  // namespace

struct HttpServer::Impl {
    HttpServerOptions options;
    HttpHandler handler;
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::vector<std::thread> threads;
    std::atomic<int> connections{0};
    std::string host;  // the address listened on
    std::uint16_t port = 0;
    bool started = false;

    asio::awaitable<void> Accept();
    asio::awaitable<void> Serve(tcp::socket socket);
    http::response<http::string_body> Answer(http::request<http::string_body>& req,
                                             const std::string& remote);
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
        auto session = Serve(std::move(socket));
        asio::co_spawn(acceptor.get_executor(), std::move(session), asio::detached);
    }
}

http::response<http::string_body> HttpServer::Impl::Answer(http::request<http::string_body>& req,
                                                           const std::string& remote) {
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
        r.remote = remote;
        out = handler(r);
    }
    http::response<http::string_body> res{static_cast<http::status>(out.status), req.version()};
    res.set(http::field::server, "joule");
    res.set(http::field::content_type, out.content_type);
    for (auto& [name, value] : out.headers) {
        res.insert(name, value);
    }
    res.keep_alive(req.keep_alive());
    res.body() = std::move(out.body);
    res.prepare_payload();
    return res;
}

asio::awaitable<void> HttpServer::Impl::Serve(tcp::socket socket) {
    connections.fetch_add(1);
    beast::error_code peer_error;
    const auto endpoint = socket.remote_endpoint(peer_error);
    const std::string remote = peer_error ? std::string() : endpoint.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    while (true) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
        parser.body_limit(options.max_body_bytes);
        stream.expires_after(options.idle_timeout);
        auto [read_error, read_bytes] =
            co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        (void)read_bytes;
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
        http::response<http::string_body> res = Answer(req, remote);
        const bool keep_alive = res.keep_alive();
        auto [write_error, written] =
            co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        (void)written;
        if (write_error || !keep_alive) {
            break;
        }
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
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
    // ":8080" listens on every IPv4 address.
    const std::string listen =
        d.options.listen.starts_with(':') ? "0.0.0.0" + d.options.listen : d.options.listen;
    JOULE_ASSIGN_OR_RETURN(wire::HostPort host_port,
                           wire::ParseHostPort(listen, "http.listen", wire::PortUse::kListen));
    beast::error_code ec;
    const auto address = asio::ip::make_address(host_port.host, ec);
    if (ec) {
        return InvalidArgument("http.listen", "not an IP address: " + host_port.host);
    }
    const tcp::endpoint endpoint(address, host_port.port);
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
    d.started = false;
}

std::uint16_t HttpServer::port() const { return impl_->port; }

const std::string& HttpServer::host() const { return impl_->host; }

}  // namespace joule::api
