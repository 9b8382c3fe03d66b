// Secrets at the edge: argon2id password hashes and random tokens (libsodium), and the SHA-256
// digests under which tokens and API keys are stored. No secret is ever kept or logged in clear.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace joule::api {

inline constexpr std::size_t kMinPasswordBytes = 10;
inline constexpr std::size_t kMaxPasswordBytes = 128;

// An argon2id hash in libsodium's encoded form (salt and parameters included). kInternal when
// libsodium cannot allocate the memory the hash needs.
[[nodiscard]] Result<std::string> HashPassword(std::string_view password);
// Constant-time check of `password` against an encoded hash; false for a malformed hash.
[[nodiscard]] bool VerifyPassword(std::string_view password, const std::string& hash);
// kInvalidArgument naming `field` unless 10..128 bytes with a letter and a digit.
[[nodiscard]] Status CheckPasswordPolicy(std::string_view password, std::string_view field);

// `bytes` random bytes as lower-case hex (2 × bytes characters).
[[nodiscard]] std::string RandomHex(std::size_t bytes);
// Lower-case hex SHA-256.
[[nodiscard]] std::string Sha256Hex(std::string_view data);
// Equal without a timing side channel.
[[nodiscard]] bool SameSecret(std::string_view a, std::string_view b);

}  // namespace joule::api
