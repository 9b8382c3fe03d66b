// Payment cryptography on the notification path (docs/performance.md "Payments"):
// a SHA256withRSA verification with the provider's public key (every WeChat Pay and Alipay
// notification and answer), a signature with the merchant key (every request to a provider) and
// an AEAD_AES_256_GCM resource opened. The keys are made here, 2048-bit RSA as the providers use.
#include <benchmark/benchmark.h>

#include <string>

#include "pay/crypto.hpp"
#include "pay/test_keys.hpp"

namespace {

using namespace joule;

const pay::testing::RsaKeyPair& Keys() {
    static const pay::testing::RsaKeyPair keys = pay::testing::MakeRsaKeyPair();
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
