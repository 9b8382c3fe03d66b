#include "pay/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <climits>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace joule::pay {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int SextetOf(char c) {
    const auto at = kAlphabet.find(c);
    return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
// A loaded key, shared by the threads that verify or sign with it (OpenSSL 3 allows concurrent
// use of an EVP_PKEY that nobody modifies).
using SharedKey = std::shared_ptr<EVP_PKEY>;
struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct MdFree {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct CipherFree {
    void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

// OpenSSL leaves the reasons of a failure on the thread's error queue; a later, unrelated call on
// the same thread (a TLS read) would see them. Cleared whenever a function here returns.
struct ClearErrorsOnExit {
    ClearErrorsOnExit() = default;
    ClearErrorsOnExit(const ClearErrorsOnExit&) = delete;
    ClearErrorsOnExit& operator=(const ClearErrorsOnExit&) = delete;
    ~ClearErrorsOnExit() { ERR_clear_error(); }
};

// Payment signatures are RSA PKCS#1 v1.5 of at least 2048 bits (WeChat's WECHATPAY2-SHA256-
// RSA2048, Alipay's RSA2): a key of another type would verify another scheme.
Status RequireRsa2048(const EVP_PKEY* key) {
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048) {
        return InvalidArgument("key", "must be an RSA key of at least 2048 bits");
    }
    return {};
}

std::unique_ptr<BIO, BioFree> BioOf(std::string_view pem) {
    return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// A public key from a PEM public key or certificate.
Result<Key> LoadPublicKey(std::string_view pem) {
    if (pem.size() > std::size_t{64} * 1024) {
        return InvalidArgument("key", "PEM text over 64 KiB");
    }
    if (pem.find("BEGIN CERTIFICATE") != std::string_view::npos) {
        auto bio = BioOf(pem);
        X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (cert == nullptr) {
            return InvalidArgument("key", "the certificate does not load");
        }
        Key key(X509_get_pubkey(cert));
        X509_free(cert);
        if (!key) {
            return InvalidArgument("key", "the certificate holds no usable public key");
        }
        JOULE_TRY(RequireRsa2048(key.get()));
        return key;
    }
    auto bio = BioOf(pem);
    Key key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        return InvalidArgument("key", "the public key does not load (PEM \"PUBLIC KEY\" expected)");
    }
    JOULE_TRY(RequireRsa2048(key.get()));
    return key;
}

Result<Key> LoadPrivateKey(std::string_view pem) {
    if (pem.size() > std::size_t{64} * 1024) {
        return InvalidArgument("key", "PEM text over 64 KiB");
    }
    auto bio = BioOf(pem);
    Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        return InvalidArgument("key", "the private key does not load");
    }
    JOULE_TRY(RequireRsa2048(key.get()));
    return key;
}

// OpenSSL 3 reads PEM through its provider decoders: about 0.4 ms a key and a global lock taken
// many times over, which was most of a notification's CPU time at 1,000 notifications/s (and
// worse on two threads). A server holds a few keys (the providers' public keys, its merchant
// keys), so each PEM text is loaded once and kept. Bounded, for callers that pass many keys.
class KeyCache {
public:
    template <typename Load>
    Result<SharedKey> Get(std::string_view pem, Load load) {
        {
            const std::shared_lock lock(mutex_);
            if (const auto found = keys_.find(std::string(pem)); found != keys_.end()) {
                return found->second;
            }
        }
        JOULE_ASSIGN_OR_RETURN(Key loaded, load(pem));  // a key that fails is not kept
        SharedKey key(loaded.release(), KeyFree{});
        const std::unique_lock lock(mutex_);
        if (keys_.size() >= kMaxKeys) {
            keys_.clear();
        }
        keys_.emplace(std::string(pem), key);
        return key;
    }

private:
    static constexpr std::size_t kMaxKeys = 64;
    std::shared_mutex mutex_;
    std::unordered_map<std::string, SharedKey> keys_;  // by PEM text
};

// Never destroyed: a destructor at exit could run after OpenSSL's own cleanup and free keys whose
// provider is gone.
Result<SharedKey> CachedPublicKey(std::string_view pem) {
    static KeyCache* const cache = new KeyCache;
    return cache->Get(pem, LoadPublicKey);
}

Result<SharedKey> CachedPrivateKey(std::string_view pem) {
    static KeyCache* const cache = new KeyCache;
    return cache->Get(pem, LoadPrivateKey);
}

// EVP_sha256() and EVP_aes_256_gcm() look their implementation up in the provider store (under a
// lock) at each use; fetched once instead (signatures, HMAC-SHA256 webhooks, AES-GCM). Never freed:
// they live as long as the process.
const EVP_MD* Sha256() {
    static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return kSha256 != nullptr ? kSha256 : EVP_sha256();
}

const EVP_CIPHER* Aes256Gcm() {
    static EVP_CIPHER* const kAes256Gcm = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    return kAes256Gcm != nullptr ? kAes256Gcm : EVP_aes_256_gcm();
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto at = [&](std::size_t k) {
        return static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
    };
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (bytes.size() - i == 1) {
        const unsigned v = at(i) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (bytes.size() - i == 2) {
        const unsigned v = (at(i) << 16) | (at(i + 1) << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

Result<std::string> Base64Decode(std::string_view text, std::string_view field) {
    if (text.size() % 4 != 0) {
        return InvalidArgument(std::string(field), "is not Base64 (length not a multiple of 4)");
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::array<int, 4> s{};
        int padding = 0;
        for (std::size_t k = 0; k < 4; ++k) {
            const char c = text[i + k];
            if (c == '=' && last && k >= 2) {
                ++padding;
                s[k] = 0;
                continue;
            }
            if (padding > 0 || (s[k] = SextetOf(c)) < 0) {
                return InvalidArgument(std::string(field),
                                       "is not Base64 (a character outside its alphabet)");
            }
        }
        // The bits a padded quartet leaves unused must be zero: one text per byte string.
        if ((padding == 1 && (s[2] & 3) != 0) || (padding == 2 && (s[1] & 15) != 0)) {
            return InvalidArgument(std::string(field), "is not canonical Base64");
        }
        const unsigned v = (static_cast<unsigned>(s[0]) << 18) |
                           (static_cast<unsigned>(s[1]) << 12) |
                           (static_cast<unsigned>(s[2]) << 6) | static_cast<unsigned>(s[3]);
        out += static_cast<char>((v >> 16) & 0xFF);
        if (padding < 2)
            out += static_cast<char>((v >> 8) & 0xFF);
        if (padding < 1)
            out += static_cast<char>(v & 0xFF);
    }
    return out;
}

Status VerifyRsaSha256(std::string_view key_pem, std::string_view message,
                       std::string_view signature) {
    const ClearErrorsOnExit clear;
    JOULE_ASSIGN_OR_RETURN(SharedKey key, CachedPublicKey(key_pem));
    std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, Sha256(), nullptr, key.get()) != 1) {
        return MakeError(ErrorCode::kInternal, "cannot start a SHA256withRSA verification");
    }
    const int ok = EVP_DigestVerify(
        ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(message.data()), message.size());
    if (ok != 1) {
        return MakeError(ErrorCode::kUnauthenticated, "the signature does not verify", "signature");
    }
    return {};
}

Result<std::string> SignRsaSha256(std::string_view private_key_pem, std::string_view message) {
    const ClearErrorsOnExit clear;
    JOULE_ASSIGN_OR_RETURN(SharedKey key, CachedPrivateKey(private_key_pem));
    std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
    std::size_t length = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, Sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
        return MakeError(ErrorCode::kInternal, "cannot sign with SHA256withRSA");
    }
    std::string signature(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
        return MakeError(ErrorCode::kInternal, "cannot sign with SHA256withRSA");
    }
    signature.resize(length);
    return signature;
}

Result<std::string> DecryptAes256Gcm(std::string_view key, std::string_view nonce,
                                     std::string_view associated_data,
                                     std::string_view ciphertext_and_tag) {
    constexpr std::size_t kTagBytes = 16;
    if (key.size() != 32) {
        return InvalidArgument("key", "an AES-256 key is 32 bytes");
    }
    if (nonce.empty() || nonce.size() > 64) {
        return InvalidArgument("nonce", "must be 1..64 bytes");
    }
    if (ciphertext_and_tag.size() < kTagBytes) {
        return InvalidArgument("ciphertext", "shorter than its 16-byte tag");
    }
    if (ciphertext_and_tag.size() > INT_MAX / 2 || associated_data.size() > INT_MAX / 2) {
        return InvalidArgument("ciphertext", "too large");
    }
    const ClearErrorsOnExit clear;
    const std::string_view ciphertext =
        ciphertext_and_tag.substr(0, ciphertext_and_tag.size() - kTagBytes);
    std::string tag(ciphertext_and_tag.substr(ciphertext.size()));
    std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
    const auto bytes = [](std::string_view s) {
        return reinterpret_cast<const unsigned char*>(s.data());
    };
    int n = 0;
    std::string plain(ciphertext.size(), '\0');
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), Aes256Gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                            nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(associated_data),
                          static_cast<int>(associated_data.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &n,
                          bytes(ciphertext), static_cast<int>(ciphertext.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                            tag.data()) != 1) {
        return MakeError(ErrorCode::kInternal, "cannot start AES-256-GCM");
    }
    int tail = 0;
    if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + n, &tail) !=
        1) {
        return MakeError(ErrorCode::kUnauthenticated,
                         "the AEAD tag does not match (tampered, or another key)", "ciphertext");
    }
    plain.resize(static_cast<std::size_t>(n) + static_cast<std::size_t>(tail));
    return plain;
}

namespace {

std::string Hmac(const EVP_MD* digest, std::size_t size, std::string_view key,
                 std::string_view message) {
    const ClearErrorsOnExit clear;
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned length = 0;
    if (key.size() > INT_MAX ||
        HMAC(digest, key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(message.data()), message.size(), out.data(),
             &length) == nullptr ||
        length != size) {
        return {};  // never equal to a signature: callers refuse an empty one
    }
    return {reinterpret_cast<const char*>(out.data()), length};
}

}  // namespace

std::string HmacSha256(std::string_view key, std::string_view message) {
    return Hmac(Sha256(), 32, key, message);
}

std::string HmacSha1(std::string_view key, std::string_view message) {
    return Hmac(EVP_sha1(), 20, key, message);
}

std::string Sha1(std::string_view bytes) {
    std::string digest(20, '\0');
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(digest.data()),
                   &length, EVP_sha1(), nullptr) != 1 ||
        length != digest.size()) {
        return {};
    }
    return digest;
}

std::string HexOf(std::string_view bytes) {
    static constexpr std::string_view kDigits = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (const char c : bytes) {
        const auto b = static_cast<unsigned char>(c);
        out += kDigits[b >> 4];
        out += kDigits[b & 15];
    }
    return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace joule::pay
