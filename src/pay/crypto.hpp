// The cryptography payment providers use, on OpenSSL: Base64, SHA256withRSA signatures (WeChat
// Pay v3, Alipay RSA2), AEAD_AES_256_GCM (WeChat Pay v3 resources), HMAC-SHA256 (the sandbox
// provider, webhooks). Keys come as PEM text: a public key, an X.509 certificate (its public
// key is used) or a private key (PKCS#8 or PKCS#1). Nothing here reads a clock or a file.
#pragma once

#include <string>
#include <string_view>

#include "base/error.hpp"

namespace joule::pay {

[[nodiscard]] std::string Base64Encode(std::string_view bytes);
// Standard alphabet with padding, canonical (unused bits zero); no whitespace. kInvalidArgument
// naming `field`.
[[nodiscard]] Result<std::string> Base64Decode(std::string_view text, std::string_view field);

// kUnauthenticated ("signature") when `signature` is not `key_pem`'s SHA256withRSA signature of
// `message`; kInvalidArgument ("key") for a key that does not load or is not RSA of at least 2048
// bits.
[[nodiscard]] Status VerifyRsaSha256(std::string_view key_pem, std::string_view message,
                                     std::string_view signature);
// The signature bytes (not Base64). kInvalidArgument ("key") for a key that does not load.
[[nodiscard]] Result<std::string> SignRsaSha256(std::string_view private_key_pem,
                                                std::string_view message);

// AES-256-GCM with a 16-byte tag appended to the ciphertext (WeChat Pay's layout).
// kUnauthenticated ("ciphertext") when the tag does not match: tampered, or the wrong key.
[[nodiscard]] Result<std::string> DecryptAes256Gcm(std::string_view key, std::string_view nonce,
                                                   std::string_view associated_data,
                                                   std::string_view ciphertext_and_tag);

// The 32-byte MAC, or "" when it cannot be computed (a caller must refuse an empty one).
[[nodiscard]] std::string HmacSha256(std::string_view key, std::string_view message);
// The 20-byte MAC (Aliyun's RPC request signatures), or "" when it cannot be computed.
[[nodiscard]] std::string HmacSha1(std::string_view key, std::string_view message);
// The 20-byte digest (WeChat Pay's statement files), or "" when it cannot be computed.
[[nodiscard]] std::string Sha1(std::string_view bytes);
[[nodiscard]] std::string HexOf(std::string_view bytes);  // lower case
// Compares without an early exit, so the time taken tells nothing about where they differ.
[[nodiscard]] bool ConstantTimeEqual(std::string_view a, std::string_view b);

}  // namespace joule::pay
