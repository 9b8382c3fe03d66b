// HttpServer on loopback: whose address a request is recorded with (the TCP peer, or the client a
// trusted proxy names in X-Forwarded-For), the TLS files checked before anything binds, and
// stream responses (the live events).
#include "api/http_server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

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

// POST `target` with an empty body; the body the server answers.
std::string Post(std::uint16_t port, const std::string& target) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.prepare_payload();
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

// POST `target` with a body of `bytes` bytes; the answer's status.
int PostSize(std::uint16_t port, const std::string& target, std::size_t bytes) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.body() = std::string(bytes, 'x');
    req.prepare_payload();
    beast::error_code ec;
    http::write(socket, req, ec);  // the server may answer 413 before it has read everything
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res, ec);
    return ec ? 0 : static_cast<int>(res.result_int());
}

// The body limit is decided per request once its headers are in: the import routes take files
// larger than every other body may be.
TEST(HttpServerBodyLimit, ARouteMayTakeMoreThanTheDefault) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.max_body_bytes = 1024;
    options.body_limit_of = [](std::string_view method, std::string_view target) {
        return method == "POST" && target.starts_with("/big") ? std::size_t{8192} : 0;
    };
    HttpServer server(options, [](const HttpRequest& r) {
        HttpResponse out;
        out.body = std::to_string(r.body.size());
        return out;
    });
    ASSERT_TRUE(server.Start().has_value());
    EXPECT_EQ(PostSize(server.port(), "/small", 1000), 200);
    EXPECT_EQ(PostSize(server.port(), "/small", 2000), 413);
    EXPECT_EQ(PostSize(server.port(), "/big?dry_run=true", 2000), 200);
    EXPECT_EQ(PostSize(server.port(), "/big", 8192), 200);
    EXPECT_EQ(PostSize(server.port(), "/big", 9000), 413);
}

// Writes are answered on their own threads: one waiting (for the store's commit, say) holds up
// neither the I/O thread's reads nor the other writes, which can then wait together.
TEST(HttpServerWrites, AWaitingWriteHoldsUpNeitherReadsNorOtherWrites) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.write_threads = 4;
    std::mutex mutex;
    std::condition_variable changed;
    int waiting_writes = 0;
    bool release = false;
    HttpServer server(options, [&](const HttpRequest& r) {
        HttpResponse out;
        if (r.method == "POST") {
            std::unique_lock lock(mutex);
            ++waiting_writes;
            changed.notify_all();
            // Released only once a GET and a second POST got through meanwhile; the timeout
            // turns a server that serialises them into a failure instead of a hang.
            const bool released =
                changed.wait_for(lock, std::chrono::seconds(30), [&] { return release; });
            out.body = released ? "released" : "timed out";
        } else {
            out.body = "read";
        }
        return out;
    });
    ASSERT_TRUE(server.Start().has_value());
    std::string first;
    std::string second;
    std::thread write1([&] { first = Post(server.port(), "/w"); });
    std::thread write2([&] { second = Post(server.port(), "/w"); });
    {
        std::unique_lock lock(mutex);
        ASSERT_TRUE(
            changed.wait_for(lock, std::chrono::seconds(30), [&] { return waiting_writes == 2; }));
    }
    EXPECT_EQ(Get(server.port(), {}), "read");  // the one I/O thread is free
    {
        std::lock_guard lock(mutex);
        release = true;
    }
    changed.notify_all();
    write1.join();
    write2.join();
    EXPECT_EQ(first, "released");
    EXPECT_EQ(second, "released");
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

// Reads from the socket until `text` has arrived (or the peer closed); everything read so far.
std::string ReadUntil(asio::ip::tcp::socket& socket, std::string_view text) {
    std::string seen;
    char chunk[4096];
    while (seen.find(text) == std::string::npos) {
        beast::error_code ec;
        const std::size_t n = socket.read_some(asio::buffer(chunk), ec);
        seen.append(chunk, n);
        if (ec) {
            break;
        }
    }
    return seen;
}

// HEAD answers GET's length without its body, and a 304 no length at all: a keep-alive
// connection then reads the next answer from the right place.
TEST(HttpServerFraming, HeadAndNotModifiedCarryNoBody) {
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    HttpServer server(options, [](const HttpRequest& r) {
        HttpResponse out;
        out.content_type = "text/plain";
        out.body = "hello";  // whatever the method: the server decides what is sent
        out.status = r.path == "/cached" ? 304 : 200;
        return out;
    });
    ASSERT_TRUE(server.Start().has_value());
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    const std::string requests =
        "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET /cached HTTP/1.1\r\nHost: x\r\n\r\n"
        "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    asio::write(socket, asio::buffer(requests));
    const std::string seen = ReadUntil(socket, "never sent");
    const auto second = seen.find("HTTP/1.1 304");
    const auto third = seen.find("HTTP/1.1 200", 1);
    ASSERT_NE(second, std::string::npos) << seen;
    ASSERT_NE(third, std::string::npos) << seen;
    const std::string head = seen.substr(0, second);
    const std::string not_modified = seen.substr(second, third - second);
    EXPECT_NE(head.find("Content-Length: 5\r\n"), std::string::npos) << head;
    EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;  // nothing after the header
    EXPECT_EQ(not_modified.find("Content-Length"), std::string::npos) << not_modified;
    EXPECT_TRUE(not_modified.ends_with("\r\n\r\n")) << not_modified;
    EXPECT_TRUE(seen.ends_with("\r\n\r\nhello")) << seen;  // only GET carries the body
}

TEST(HttpServerStream, PushedTextFollowsTheHeadUntilClosed) {
    auto stream = std::make_shared<ResponseStream>();
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.stream_flush_interval = std::chrono::milliseconds(10);
    HttpServer server(options, [&](const HttpRequest&) {
        HttpResponse out;
        out.content_type = "text/event-stream";
        out.body = "retry: 3000\n\n";
        out.stream = stream;
        return out;
    });
    ASSERT_TRUE(server.Start().has_value());
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
    const std::string request = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
    asio::write(socket, asio::buffer(request));
    const std::string head = ReadUntil(socket, "retry: 3000\n\n");
    EXPECT_NE(head.find("HTTP/1.1 200"), std::string::npos) << head;
    EXPECT_NE(head.find("Content-Type: text/event-stream"), std::string::npos) << head;
    EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;  // runs until closed
    EXPECT_NE(head.find("Connection: close"), std::string::npos) << head;

    EXPECT_TRUE(stream->Push("data: one\n\n"));
    EXPECT_NE(ReadUntil(socket, "data: one\n\n").find("data: one"), std::string::npos);
    EXPECT_TRUE(stream->Push("data: two\n\n"));
    stream->Close();
    EXPECT_FALSE(stream->Push("data: three\n\n"));  // closed: nothing more is taken
    // What was pushed before Close() is written, then the server ends the response.
    const std::string rest = ReadUntil(socket, "never sent");
    EXPECT_NE(rest.find("data: two"), std::string::npos) << rest;
    EXPECT_EQ(rest.find("data: three"), std::string::npos) << rest;
    for (int i = 0; i < 500 && !stream->gone(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(stream->gone());
}

TEST(HttpServerStream, AClientThatLeavesIsNoticedAndAFullStreamRefusesMore) {
    auto stream = std::make_shared<ResponseStream>();
    stream->max_pending = 16;
    HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.threads = 1;
    options.stream_flush_interval = std::chrono::milliseconds(10);
    options.stream_heartbeat = std::chrono::seconds(0);  // a comment line at every flush
    HttpServer server(options, [&](const HttpRequest&) {
        HttpResponse out;
        out.content_type = "text/event-stream";
        out.stream = stream;
        return out;
    });
    ASSERT_TRUE(server.Start().has_value());
    {
        asio::io_context io;
        asio::ip::tcp::socket socket(io);
        socket.connect({asio::ip::make_address("127.0.0.1"), server.port()});
        const std::string request = "GET /events HTTP/1.1\r\nHost: x\r\n\r\n";
        asio::write(socket, asio::buffer(request));
        EXPECT_NE(ReadUntil(socket, ": keep-alive\n\n").find(": keep-alive"), std::string::npos);
    }  // the client goes away
    for (int i = 0; i < 1000 && !stream->gone(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(stream->gone());
    auto full = std::make_shared<ResponseStream>();
    full->max_pending = 16;
    EXPECT_TRUE(full->Push("0123456789"));
    EXPECT_FALSE(full->Push("0123456789"));  // would pass max_pending: refused whole
    bool closed = true;
    EXPECT_EQ(full->Take(closed), "0123456789");
    EXPECT_FALSE(closed);
}

}  // namespace
}  // namespace joule::api
