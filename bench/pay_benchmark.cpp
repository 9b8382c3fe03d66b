// Payment cryptography on the notification path (docs/performance.md "Payment notifications"):
// a SHA256withRSA verification with the provider's public key (every WeChat Pay and Alipay
// notification and answer), a signature with the merchant key (every request to a provider) and
// an AEAD_AES_256_GCM resource opened. The keys are made here, 2048-bit RSA as the providers use.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

#include "pay/crypto.hpp"

namespace {

using namespace joule;

struct KeyPair {
    std::string private_pem;
    std::string public_pem;
};

std::string PemOf(EVP_PKEY* key, bool private_key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    const int ok = private_key ? PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                                          nullptr, nullptr)
                               : PEM_write_bio_PUBKEY(bio.get(), key);
    if (ok != 1) {
        return {};
    }
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return {data, static_cast<std::size_t>(size)};
}

const KeyPair& Keys() {
    static const KeyPair keys = [] {
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
        return KeyPair{PemOf(key.get(), true), PemOf(key.get(), false)};
    }();
    return keys;
}

// WeChat Pay's signed message: timestamp, nonce and a notification body of the usual size.
const std::string kMessage = "1795000000\nfG7x2kQp9sLm3VbN\n" + std::string(900, 'x') + "\n";

void BM_VerifyRsaSha256(benchmark::State& state) {
    const std::string signature = pay::SignRsaSha256(Keys().private_pem, kMessage).value();
    for (auto _ : state) {
        auto ok = pay::VerifyRsaSha256(Keys().public_pem, kMessage, signature);
        if (!ok) {
            state.SkipWithError("did not verify");
        }
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VerifyRsaSha256)->ThreadRange(1, 2)->UseRealTime();

void BM_SignRsaSha256(benchmark::State& state) {
    for (auto _ : state) {
        auto signature = pay::SignRsaSha256(Keys().private_pem, kMessage);
        benchmark::DoNotOptimize(signature);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SignRsaSha256)->ThreadRange(1, 2)->UseRealTime();

void BM_DecryptAes256Gcm(benchmark::State& state) {
    const std::string key(32, 'k');
    // Any bytes: a wrong tag is found after the same work as a right one.
    const std::string sealed(600, 's');
    for (auto _ : state) {
        auto plain = pay::DecryptAes256Gcm(key, "nonce1234567", "transaction", sealed);
        benchmark::DoNotOptimize(plain);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecryptAes256Gcm);

}  // namespace

BENCHMARK_MAIN();
