// "host:port" text (command-line options, gateway endpoints) split and checked in one place, for
// the acquisition runtime, the simulator, the command line and the site checks (a Modbus-TCP
// gateway's endpoint, edited or imported).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace joule {

struct HostPort {
    std::string host;  // a name or an address; an IPv6 address without its brackets
    std::uint16_t port = 0;
};

enum class PortUse : std::uint8_t {
    kConnect,  // a peer's port: 1..65535
    kListen,   // our own: 0..65535, 0 = any free port
};

// Splits "host:port"; an IPv6 address is written in brackets ("[::1]:8080"). Without a ':' the
// whole text is the host and the port is `default_port`, when there is one. kInvalidArgument naming
// `field` and quoting the text when the host is empty, the port is missing (and there is no
// default), or the port is not a number in the range `use` allows.
[[nodiscard]] Result<HostPort> ParseHostPort(std::string_view text, std::string_view field,
                                             PortUse use,
                                             std::optional<std::uint16_t> default_port = {});

}  // namespace joule
