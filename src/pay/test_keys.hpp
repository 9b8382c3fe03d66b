// For tests and benchmarks: a fresh 2048-bit RSA key pair as PEM text (PKCS#8 private key and
// SubjectPublicKeyInfo public key), the kind the payment providers use.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace joule::pay::testing {

struct RsaKeyPair {
    std::string private_pem;
    std::string public_pem;
};

inline RsaKeyPair MakeRsaKeyPair() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
    const auto pem = [&](bool private_key) {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
        const int written = private_key ? PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr,
                                                                   nullptr, 0, nullptr, nullptr)
                                        : PEM_write_bio_PUBKEY(bio.get(), key.get());
        if (written != 1) {
            return std::string();  // loads as no key: the caller's test fails, naming "key"
        }
        char* data = nullptr;
        const long size = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(size));
    };
    return {pem(true), pem(false)};
}

}  // namespace joule::pay::testing
