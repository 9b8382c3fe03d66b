// Reading a whole file or stream with a size bound: the one way the CLI and the server read
// config, site, model, CSV and capture files.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace joule {

inline constexpr std::size_t kMaxFileBytes = std::size_t{64} << 20;  // 64 MiB

// All of `in`, or kResourceExhausted (naming `field`) past `max_bytes`; `what` names the source
// in the message.
[[nodiscard]] Result<std::string> ReadAll(std::istream& in, std::size_t max_bytes,
                                          std::string_view what, std::string_view field);

// The whole file: kNotFound (naming `field`) when it cannot be opened, kResourceExhausted past
// `max_bytes`.
[[nodiscard]] Result<std::string> ReadFileText(const std::string& path, std::string_view field,
                                               std::size_t max_bytes = kMaxFileBytes);

}  // namespace joule
