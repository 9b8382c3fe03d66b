// A string as a JSON string literal, for the few places below the adapters that write a small
// JSON document by hand (outbox payloads, alarm details, template values) without a JSON library.
#pragma once

#include <string>
#include <string_view>

namespace joule {

// "..." with quotes, backslashes and control characters escaped; other bytes as they are.
[[nodiscard]] std::string JsonQuote(std::string_view text);

}  // namespace joule
