#include "pay/crypto.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pay/test_keys.hpp"

namespace joule::pay {
namespace {

TEST(Base64, RoundTripsTheRfc4648Vectors) {
    const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                           {"f", "Zg=="},
                                                           {"fo", "Zm8="},
                                                           {"foo", "Zm9v"},
                                                           {"foob", "Zm9vYg=="},
                                                           {"fooba", "Zm9vYmE="},
                                                           {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : vectors) {
        EXPECT_EQ(Base64Encode(plain), encoded);
        auto decoded = Base64Decode(encoded, "x");
        ASSERT_TRUE(decoded.has_value()) << encoded;
        EXPECT_EQ(*decoded, plain);
    }
    const std::string bytes("\x00\xff\xfe\x80", 4);
    EXPECT_EQ(Base64Decode(Base64Encode(bytes), "x").value(), bytes);
}

TEST(Base64, RefusesWhatIsNotBase64NamingTheField) {
    // "QR==" and "Zm9=" carry bits their padding leaves unused: not canonical.
    for (const char* bad : {"Zg=", "Zm9v\n", "Zg==Zg==", "Z===", "Zm9*", "=Zm9", "QR==", "Zm9="}) {
        auto decoded = Base64Decode(bad, "sign");
        ASSERT_FALSE(decoded.has_value()) << bad;
        EXPECT_EQ(decoded.error().field, "sign");
    }
}

TEST(HmacSha256, MatchesRfc4231TestCase2) {
    EXPECT_EQ(HexOf(HmacSha256("Jefe", "what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(ConstantTimeEqual, ComparesWholeStrings) {
    EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
    EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
    EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
    EXPECT_TRUE(ConstantTimeEqual("", ""));
}

TEST(Keys, ThatDoNotLoadAreNamed) {
    auto verified = VerifyRsaSha256("not a key", "m", "s");
    ASSERT_FALSE(verified.has_value());
    EXPECT_EQ(verified.error().field, "key");
    auto signed_ =
        SignRsaSha256("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "m");
    ASSERT_FALSE(signed_.has_value());
    EXPECT_EQ(signed_.error().field, "key");
}

// Keys are loaded once and kept (OpenSSL 3's PEM decoding is slow): a kept key must still be the
// key its text says, and usable from several threads at once.
TEST(Keys, AKeptKeyIsItsOwnAndServesSeveralThreads) {
    const testing::RsaKeyPair a = testing::MakeRsaKeyPair();
    const testing::RsaKeyPair b = testing::MakeRsaKeyPair();
    const std::string signed_by_a = SignRsaSha256(a.private_pem, "message").value();
    ASSERT_TRUE(VerifyRsaSha256(a.public_pem, "message", signed_by_a).has_value());
    // b's key, asked for after a's was kept, does not verify a's signature.
    auto by_b = VerifyRsaSha256(b.public_pem, "message", signed_by_a);
    ASSERT_FALSE(by_b.has_value());
    EXPECT_EQ(by_b.error().code, ErrorCode::kUnauthenticated);
    EXPECT_FALSE(VerifyRsaSha256(a.public_pem, "messagE", signed_by_a).has_value());

    std::atomic<int> verified{0};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            const testing::RsaKeyPair& own = t % 2 == 0 ? a : b;
            for (int i = 0; i < 25; ++i) {
                const std::string message = "m" + std::to_string(t * 100 + i);
                auto signature = SignRsaSha256(own.private_pem, message);
                if (signature && VerifyRsaSha256(own.public_pem, message, *signature)) {
                    ++verified;
                }
                const testing::RsaKeyPair& other = t % 2 == 0 ? b : a;
                if (signature && VerifyRsaSha256(other.public_pem, message, *signature)) {
                    ++wrong;
                }
            }
        });
    }
    for (std::thread& t : threads) {
        t.join();
    }
    EXPECT_EQ(verified.load(), 100);
    EXPECT_EQ(wrong.load(), 0);
}

TEST(Keys, ThatFailToLoadAreNotKept) {
    const std::string broken = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    for (int i = 0; i < 2; ++i) {
        auto verified = VerifyRsaSha256(broken, "m", "s");
        ASSERT_FALSE(verified.has_value());
        EXPECT_EQ(verified.error().field, "key");
    }
}

TEST(Keys, OtherThanRsaOfAtLeast2048BitsAreRefused) {
    // A P-256 key would verify ECDSA, a 1024-bit RSA key is too weak: neither is RSA2.
    const char* ec =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYIQB5AEE9h0/oysS0Vel0zpKpVcQ\n"
        "Ludbp2QjeAMdBirBOWC7S+6PQxpoj+inVE9hNABfocHxBZvZdudm/B0uzA==\n"
        "-----END PUBLIC KEY-----\n";
    const char* rsa1024 =
        "-----BEGIN PUBLIC KEY-----\n"
        "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDKIIK0ueNiNXBvsD84SxrSWAbj\n"
        "RsXyEGiG6bZ3P2+//0ssSXjilU1eK1W8oHjJ3EvxVP+nV2vQjSCLMd+QUKjWLxPY\n"
        "yPbtAu9ijIDtf744OToW46leO8rlkm+PZr8OZmUPYN0K/uFswPtHFPI9XCTwugsg\n"
        "a7SpiptCv+/5IZ8pdQIDAQAB\n"
        "-----END PUBLIC KEY-----\n";
    for (const char* key : {ec, rsa1024}) {
        auto verified = VerifyRsaSha256(key, "m", std::string(256, 'x'));
        ASSERT_FALSE(verified.has_value());
        EXPECT_EQ(verified.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(verified.error().field, "key");
    }
}

TEST(Aes256Gcm, RefusesAWrongKeyLengthAndAShortCiphertext) {
    EXPECT_EQ(DecryptAes256Gcm("short", "nonce", "", std::string(20, 'x')).error().field, "key");
    EXPECT_EQ(DecryptAes256Gcm(std::string(32, 'k'), "nonce", "", "tiny").error().field,
              "ciphertext");
    // A tag that does not match: tampered, or another key.
    auto tampered =
        DecryptAes256Gcm(std::string(32, 'k'), "0123456789ab", "transaction", std::string(40, 'x'));
    ASSERT_FALSE(tampered.has_value());
    EXPECT_EQ(tampered.error().code, ErrorCode::kUnauthenticated);
}

TEST(Crypto, HmacSha1MatchesRfc2202) {
    EXPECT_EQ(HexOf(Sha1("abc")), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180-2
    EXPECT_EQ(HexOf(Sha1("")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    EXPECT_EQ(HexOf(HmacSha1("Jefe", "what do ya want for nothing?")),
              "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

}  // namespace
}  // namespace joule::pay
