// Payment notifications signed by an implementation that is not ours [PAY-2]: Node's crypto
// (tests/pay/sign_notifications.mjs) makes the keys and WeChat Pay v3 and Alipay notifications
// per run — paid, unpaid, and every way one must be refused (tampered body, another key, a stale
// or future timestamp, WeChat's signature-test probe, an unknown platform serial, another app,
// merchant or seller, a resource sealed with another APIv3 key) — and our verification must
// agree with each. The calls we sign are checked by the openssl command line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "app/mosquitto_broker.hpp"
#include "pay/alipay.hpp"
#include "pay/crypto.hpp"
#include "pay/sandbox.hpp"
#include "pay/wechat_pay.hpp"

namespace joule::pay {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class PaymentSignaturesTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        dir_ = std::filesystem::temp_directory_path() / ("joule-pay-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir_);
        const std::string out = (dir_ / "notifications.json").string();
        auto made = app::RunProcess(
            {"/usr/bin/node", std::string(JOULE_SOURCE_DIR) + "/tests/pay/sign_notifications.mjs",
             out});
        ASSERT_TRUE(made.has_value()) << made.error().ToString();
        ASSERT_EQ(made->exit_code, 0) << made->output;
        fixture_ = json::parse(ReadFile(out));
    }
    static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

    static Instant Now() { return Instant{std::chrono::seconds{fixture_["now"].get<int64_t>()}}; }

    static WechatPayConfig Wechat() {
        const json& w = fixture_["wechat"];
        WechatPayConfig c;
        c.app_id = w["app_id"];
        c.mch_id = w["mch_id"];
        c.api_v3_key = w["api_v3_key"];
        c.platform_keys.emplace(w["serial"].get<std::string>(),
                                w["platform_public_pem"].get<std::string>());
        return c;
    }

    // `message`, when given, is a word the refusal's message must hold (where the field alone
    // cannot tell which check refused).
    static void Expect(const json& c, const Result<PaymentNotification>& got) {
        const std::string name = c["name"];
        const std::string expect = c["expect"];
        if (expect == "paid" || expect == "unpaid") {
            ASSERT_TRUE(got.has_value()) << name << ": " << got.error().ToString();
            EXPECT_EQ(got->paid, expect == "paid") << name;
        } else {
            ASSERT_FALSE(got.has_value()) << name << " was accepted";
            EXPECT_EQ(got.error().field, expect) << name << ": " << got.error().ToString();
            if (c.contains("message")) {
                EXPECT_NE(got.error().message.find(c["message"].get<std::string>()),
                          std::string::npos)
                    << name << ": " << got.error().ToString();
            }
        }
    }

    static inline std::filesystem::path dir_;
    static inline json fixture_;
};

TEST_F(PaymentSignaturesTest, WechatNotificationsAreVerifiedAsTheProviderSignsThem) {
    const WechatPayConfig config = Wechat();
    ASSERT_GE(fixture_["wechat"]["cases"].size(), 15U);
    for (const json& c : fixture_["wechat"]["cases"]) {
        const json& headers = c["headers"];
        auto header = [&](std::string_view name) {
            auto it = headers.find(std::string(name));
            return it == headers.end() ? std::string() : it->get<std::string>();
        };
        Expect(c, VerifyWechatNotification(config, header, c["body"].get<std::string>(), Now()));
    }
}

TEST_F(PaymentSignaturesTest, AWechatPaymentCarriesItsOrderTransactionAndExactAmount) {
    const json& c = fixture_["wechat"]["cases"][0];
    ASSERT_EQ(c["expect"], "paid");
    auto header = [&](std::string_view name) {
        return c["headers"].value(std::string(name), std::string());
    };
    auto n = VerifyWechatNotification(Wechat(), header, c["body"].get<std::string>(), Now());
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    EXPECT_EQ(n->provider, "wechat");
    EXPECT_EQ(n->order_no, "P20261121000001");
    EXPECT_EQ(n->transaction_id, "4200000000202611210000000001");
    EXPECT_EQ(n->amount, Money{5000});
    EXPECT_EQ(n->state, "SUCCESS");
    EXPECT_EQ(n->payer, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
    ASSERT_TRUE(n->paid_at.has_value());
    EXPECT_EQ(FormatInstant(*n->paid_at), "2026-11-21T02:04:05Z");
    EXPECT_TRUE(n->event_id.starts_with("EV-"));
    // A missing header is named, and nothing is verified without it.
    auto without = [&](std::string_view name) {
        return name == "Wechatpay-Nonce" ? std::string() : header(name);
    };
    auto refused = VerifyWechatNotification(Wechat(), without, c["body"].get<std::string>(), Now());
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().field, "Wechatpay-Nonce");
}

TEST_F(PaymentSignaturesTest, AlipayNotificationsAreVerifiedAsTheProviderSignsThem) {
    const json& a = fixture_["alipay"];
    const AlipayConfig config{a["app_id"], a["seller_id"], a["alipay_public_pem"]};
    ASSERT_GE(a["cases"].size(), 9U);
    for (const json& c : a["cases"]) {
        Expect(c, VerifyAlipayNotification(config, c["body"].get<std::string>()));
    }
    auto n = VerifyAlipayNotification(config, a["cases"][0]["body"].get<std::string>());
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(n->provider, "alipay");
    EXPECT_EQ(n->order_no, "P20261121000002");
    EXPECT_EQ(n->transaction_id, "2026112122001414760000000001");
    EXPECT_EQ(n->amount, Money{8888});  // "88.88" read exactly
    EXPECT_EQ(FormatInstant(n->paid_at.value()), "2026-11-21T02:04:05Z");
}

TEST_F(PaymentSignaturesTest, OurSignedCallsVerifyWithTheOpensslCommandLine) {
    const WechatMerchantKey key{"1900000109", "3775B6A45ACD588826D15E583A95F5DD",
                                fixture_["merchant"]["private_pem"]};
    const std::string body = R"({"appid":"wx8888888888888888","out_trade_no":"P1"})";
    auto header = WechatAuthorization(key, "POST", "/v3/pay/transactions/jsapi", 1'700'000'000,
                                      "593BEC0C930BF1AFEB40B4A08C8FB242", body);
    ASSERT_TRUE(header.has_value()) << header.error().ToString();
    EXPECT_TRUE(header->starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\""));
    const std::string marker = "signature=\"";
    const auto from = header->find(marker) + marker.size();
    const std::string signature = header->substr(from, header->find('"', from) - from);

    const std::string message =
        "POST\n/v3/pay/transactions/jsapi\n1700000000\n"
        "593BEC0C930BF1AFEB40B4A08C8FB242\n" +
        body + "\n";
    const auto write = [&](const std::string& name, const std::string& bytes) {
        std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
        return (dir_ / name).string();
    };
    const std::string pub = write("merchant.pub.pem", fixture_["merchant"]["public_pem"]);
    auto verify = [&](const std::string& text, const std::string& sig_b64) {
        const std::string msg = write("message.txt", text);
        const std::string sig = write("signature.bin", Base64Decode(sig_b64, "s").value());
        auto run = app::RunProcess(
            {"/usr/bin/openssl", "dgst", "-sha256", "-verify", pub, "-signature", sig, msg});
        return run.has_value() && run->exit_code == 0;
    };
    EXPECT_TRUE(verify(message, signature));
    EXPECT_FALSE(verify(message + "x", signature));  // the check can fail

    auto pay_sign = WechatJsapiPaySign(key, "wx8888888888888888", 1'700'000'000, "nonce1",
                                       "prepay_id=wx201410272009395522657a690389285100");
    ASSERT_TRUE(pay_sign.has_value());
    EXPECT_TRUE(
        verify("wx8888888888888888\n1700000000\nnonce1\n"
               "prepay_id=wx201410272009395522657a690389285100\n",
               *pay_sign));
}

TEST(SandboxNotification, VerifiesItsOwnAndRefusesATamperedOneOrAStaleOne) {
    const SandboxConfig config{"sandbox-secret-0123456789", std::chrono::seconds{300}};
    const Instant now{std::chrono::seconds{1'800'000'000}};
    PaymentNotification paid;
    paid.order_no = "P1";
    paid.transaction_id = "SBX-1";
    paid.amount = Money{1234};
    paid.paid = true;
    const SandboxNotification sent = MakeSandboxNotification(config, paid, now);
    auto header = [&](std::string_view) { return sent.signature; };
    auto n = VerifySandboxNotification(config, header, sent.body, now + std::chrono::seconds{5});
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    EXPECT_TRUE(n->paid);
    EXPECT_EQ(n->amount, Money{1234});
    EXPECT_EQ(n->transaction_id, "SBX-1");

    const auto refused = [&](const SandboxConfig& c, const HeaderLookup& h, const std::string& b,
                             Instant at) {
        auto got = VerifySandboxNotification(c, h, b, at);
        EXPECT_FALSE(got.has_value()) << b;
        return got.has_value() ? std::string("accepted") : got.error().field;
    };
    std::string tampered = sent.body;
    tampered.replace(tampered.find("1234"), 4, "9234");
    EXPECT_EQ(refused(config, header, tampered, now), "X-Sandbox-Signature");
    EXPECT_EQ(refused(config, header, sent.body, now + std::chrono::hours(1)), "timestamp");
    const SandboxConfig other{"another-secret-0123456789", std::chrono::seconds{300}};
    EXPECT_EQ(refused(other, header, sent.body, now), "X-Sandbox-Signature");
    const auto no_header = [](std::string_view) { return std::string(); };
    EXPECT_EQ(refused(config, no_header, sent.body, now), "X-Sandbox-Signature");
}

}  // namespace
}  // namespace joule::pay
