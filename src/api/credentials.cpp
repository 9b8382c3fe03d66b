#include "api/credentials.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace joule::api {

namespace {

void InitSodium() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) {
            std::abort();  // no secure random source: nothing here can work
        }
    });
}

std::string Hex(const unsigned char* data, std::size_t size) {
    std::string out(size * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), data, size);
    out.pop_back();
    return out;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
    InitSodium();
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(
            hash, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return MakeError(ErrorCode::kInternal, "argon2id: out of memory");
    }
    return std::string(hash);
}

bool VerifyPassword(std::string_view password, const std::string& hash) {
    InitSodium();
    if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) {
        return false;
    }
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Status CheckPasswordPolicy(std::string_view password, std::string_view field) {
    if (password.size() < kMinPasswordBytes || password.size() > kMaxPasswordBytes) {
        return InvalidArgument(std::string(field), "must be 10 to 128 bytes long");
    }
    const auto is_alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
    const auto is_digit = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; };
    if (std::none_of(password.begin(), password.end(), is_alpha) ||
        std::none_of(password.begin(), password.end(), is_digit)) {
        return InvalidArgument(std::string(field), "must contain a letter and a digit");
    }
    return {};
}

std::string RandomHex(std::size_t bytes) {
    InitSodium();
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    return Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string Sha256Hex(std::string_view data) {
    InitSodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return Hex(digest, sizeof digest);
}

bool SameSecret(std::string_view a, std::string_view b) {
    InitSodium();
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace joule::api
