// HttpServer on loopback: whose address a request is recorded with (the TCP peer, or the client a
// trusted proxy names in X-Forwarded-For), and the TLS files checked before anything binds.
#include "api/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace joule::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

// GET / with these X-Forwarded-For headers (one field each); the body the server answers.
std::string Get(std::uint16_t port, const std::vector<std::string>& forwarded_for) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::get, "/", 11};
    req.set(http::field::host, "127.0.0.1");
    for (const std::string& value : forwarded_for) {
        req.insert("X-Forwarded-For", value);
    }
    http::write(socket, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    return res.body();
}

// A server that answers with the request's remote address.
class RemoteEcho {
public:
    explicit RemoteEcho(std::vector<std::string> trusted_proxies) {
        HttpServerOptions options;
        options.listen = "127.0.0.1:0";
        options.threads = 1;
        options.trusted_proxies = std::move(trusted_proxies);
        server_ = std::make_unique<HttpServer>(options, [](const HttpRequest& r) {
            HttpResponse out;
            out.content_type = "text/plain";
            out.body = r.remote;
            return out;
        });
        auto started = server_->Start();
        EXPECT_TRUE(started.has_value()) << started.error().ToString();
    }
    [[nodiscard]] std::uint16_t port() const { return server_->port(); }

private:
    std::unique_ptr<HttpServer> server_;
};

TEST(HttpServerRemote, WithoutTrustedProxiesXForwardedForIsIgnored) {
    RemoteEcho server({});
    EXPECT_EQ(Get(server.port(), {}), "127.0.0.1");
    EXPECT_EQ(Get(server.port(), {"203.0.113.7"}), "127.0.0.1");
}

TEST(HttpServerRemote, ATrustedProxyNamesTheClientReadFromTheRight) {
    RemoteEcho server({"127.0.0.1", "10.0.0.2"});
    EXPECT_EQ(Get(server.port(), {}), "127.0.0.1");  // no header: the proxy itself
    EXPECT_EQ(Get(server.port(), {"203.0.113.7"}), "203.0.113.7");
    // The client wrote 198.51.100.1 itself; nginx appended the client's real address, and a
    // second trusted proxy its own.
    EXPECT_EQ(Get(server.port(), {"198.51.100.1, 203.0.113.7,10.0.0.2"}), "203.0.113.7");
    EXPECT_EQ(Get(server.port(), {"198.51.100.1", "203.0.113.7"}), "203.0.113.7");  // two fields
    EXPECT_EQ(Get(server.port(), {"10.0.0.2"}), "10.0.0.2");  // every hop trusted: the leftmost
    EXPECT_EQ(Get(server.port(), {"2001:db8::1"}), "2001:db8::1");
    EXPECT_EQ(Get(server.port(), {"::ffff:203.0.113.9"}), "203.0.113.9");
    // An entry that is not an address ends the walk at the last address believed.
    EXPECT_EQ(Get(server.port(), {"203.0.113.7, unknown"}), "127.0.0.1");
    EXPECT_EQ(Get(server.port(), {"unknown, 10.0.0.2"}), "10.0.0.2");
}

TEST(HttpServerStart, BadProxiesAndTlsFilesAreRefusedBeforeBinding) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.trusted_proxies = {"proxy.local"};
    HttpServer proxies(options, [](const HttpRequest&) { return HttpResponse{}; });
    auto started = proxies.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().field, "http.trusted_proxies");

    options.trusted_proxies.clear();
    options.tls_cert_file = "/nonexistent/cert.pem";
    options.tls_key_file = "/nonexistent/key.pem";
    HttpServer tls(options, [](const HttpRequest&) { return HttpResponse{}; });
    started = tls.Start();
    ASSERT_FALSE(started.has_value());
    EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(started.error().field, "tls.cert");
    EXPECT_EQ(CheckTlsFiles("/nonexistent/cert.pem", "/nonexistent/key.pem").error().field,
              "tls.cert");
}

}  // namespace
}  // namespace joule::api
