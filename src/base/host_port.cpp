#include "base/host_port.hpp"

#include <charconv>

namespace joule {

Result<HostPort> ParseHostPort(std::string_view text, std::string_view field, PortUse use,
                               std::optional<std::uint16_t> default_port) {
    const unsigned min_port = use == PortUse::kListen ? 0 : 1;
    auto bad = [&](const std::string& why) {
        return InvalidArgument(std::string(field), why + ", got \"" + std::string(text) + "\"");
    };
    // The port's ':' is the last one outside brackets ("[::1]:80", not the ':' of "[::1]").
    const auto close = text.rfind(']');
    auto colon = text.rfind(':');
    if (close != std::string_view::npos && colon != std::string_view::npos && colon < close)
        colon = std::string_view::npos;
    HostPort out;
    std::string_view host = text.substr(0, colon);
    if (colon == std::string_view::npos) {
        if (!default_port)
            return bad("must be host:port");
        out.port = *default_port;
    } else {
        const std::string_view port = text.substr(colon + 1);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (port.empty() || ec != std::errc() || end != port.data() + port.size() ||
            value < min_port || value > 65535) {
            return bad("port must be " + std::to_string(min_port) + "..65535");
        }
        out.port = static_cast<std::uint16_t>(value);
    }
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    } else if (host.find_first_of(":[]") != std::string_view::npos) {
        // "::1:80" cannot be split: which ':' is the port's?
        return bad("an IPv6 address is written in brackets, e.g. [::1]:8080");
    }
    if (host.empty())
        return bad("must name a host (host:port)");
    out.host = std::string(host);
    return out;
}

}  // namespace joule
