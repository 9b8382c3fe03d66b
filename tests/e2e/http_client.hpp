// A one-request HTTP client for the end-to-end tests (Beast over a loopback socket).
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace joule::e2e {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

// A refused connection or a reply cut short is status -1.
struct Reply {
    int status = 0;
    std::string body;
    std::string set_cookie;
    std::string etag;
    std::string location;
    nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline Reply Send(int port, http::verb method, const std::string& target,
                  const std::string& body = "",
                  const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    beast::error_code connected;
    socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                   connected);
    if (connected) {
        return Reply{-1, "", "", "", ""};
    }
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers) {
        req.set(name, value);
    }
    if (!body.empty()) {
        if (req[http::field::content_type].empty()) {
            req.set(http::field::content_type, "application/json");
        }
        req.body() = body;
    }
    req.prepare_payload();
    beast::error_code written;
    http::write(socket, req, written);
    if (written) {
        return Reply{-1, "", "", "", ""};
    }
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code ec;
    http::read(socket, buffer, res, ec);
    Reply out;
    out.status = ec ? -1 : static_cast<int>(res.result_int());
    out.body = res.body();
    out.set_cookie = std::string(res[http::field::set_cookie]);
    out.etag = std::string(res[http::field::etag]);
    out.location = std::string(res[http::field::location]);
    return out;
}

}  // namespace joule::e2e
