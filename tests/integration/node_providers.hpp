// WeChat Pay and Alipay played by Node (tests/pay/provider_http.mjs serve) for the integration
// tests: keys made per run, the APIs on a loopback port; Node's crypto — not ours — checks our
// signed calls and signs its answers.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "app/provider_clients.hpp"
#include "notify/http_client.hpp"
#include "pay/alipay.hpp"
#include "pay/wechat_pay.hpp"

extern char** environ;

namespace joule::pay_test {

namespace fs = std::filesystem;
using Json = nlohmann::json;

inline std::string ReadText(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

// Node's WeChat Pay (and Alipay): keys made per run, the APIs on a loopback port.
class FakeWechat {
public:
    FakeWechat() {
        dir_ = fs::temp_directory_path() / ("joule-wechat-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const std::string script = JOULE_SOURCE_DIR "/tests/pay/provider_http.mjs";
        EXPECT_EQ(std::system(("node " + script + " keys " + dir_.string()).c_str()), 0);
        const std::string port_file = (dir_ / "port.json").string();
        std::vector<std::string> args = {"node", script, "serve", dir_.string(), port_file};
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (posix_spawnp(&pid_, "node", nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = 0;
            return;
        }
        for (int i = 0; i < 100 && !fs::exists(port_file); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        const Json p = Json::parse(ReadText(port_file), nullptr, false);
        port = p.is_object() ? p.value("port", 0) : 0;
        config_ = Json::parse(ReadText(dir_ / "config.json"));
    }
    ~FakeWechat() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }

    std::shared_ptr<pay::WechatPayConfig> Config() const {
        auto c = std::make_shared<pay::WechatPayConfig>();
        c->app_id = config_["app_id"];
        c->mch_id = config_["mch_id"];
        c->api_v3_key = "unused-for-queries-0123456789abc";
        c->platform_keys.emplace(config_["serial"].get<std::string>(),
                                 ReadText(dir_ / "platform.pub.pem"));
        return c;
    }
    pay::WechatMerchantKey MerchantKey() const {
        return {config_["mch_id"], config_["merchant_serial"], ReadText(dir_ / "merchant.key.pem")};
    }
    std::string Base() const { return "http://127.0.0.1:" + std::to_string(port); }
    std::string MerchantPublicKey() const { return ReadText(dir_ / "merchant.pub.pem"); }
    pay::AlipayMerchant AlipayMerchant() const {
        return {config_["alipay_app_id"], ReadText(dir_ / "alipay_app.key.pem")};
    }
    // Alipay, played by the same Node server: Alipay's public key, our app's private key.
    std::shared_ptr<app::ProviderClient> Alipay() const {
        auto c = std::make_shared<pay::AlipayConfig>();
        c->app_id = config_["alipay_app_id"];
        c->alipay_public_key_pem = ReadText(dir_ / "alipay.pub.pem");
        return app::MakeAlipayClient(c, AlipayMerchant(), Base() + "/gateway.do", "");
    }
    void Set(const Json& order) {
        notify::HttpClient http;
        auto r = http.Request("POST", Base() + "/mock/orders", {"Content-Type: application/json"},
                              order.dump());
        ASSERT_TRUE(r.has_value());
        ASSERT_EQ(r->status, 204);
    }
    void RefundStatus(const std::string& status) {
        notify::HttpClient http;
        auto r = http.Request("POST", Base() + "/mock/refund-status",
                              {"Content-Type: application/json"}, Json{{"status", status}}.dump());
        ASSERT_TRUE(r.has_value());
        ASSERT_EQ(r->status, 204);
    }
    // The statements' mode (normal, creating, tamper) and the payments they list besides those
    // made at Node: [{provider, order_no, amount, transaction_id, at}].
    void Bill(const std::string& mode, const Json& payments = Json::array()) {
        notify::HttpClient http;
        auto r = http.Request("POST", Base() + "/mock/bill", {"Content-Type: application/json"},
                              Json{{"mode", mode}, {"payments", payments}}.dump());
        ASSERT_TRUE(r.has_value());
        ASSERT_EQ(r->status, 204);
    }
    Json Refunds() {
        notify::HttpClient http;
        return Json::parse(http.Request("GET", Base() + "/mock/refunds", {}, "").value().body);
    }
    Json Asked() {
        notify::HttpClient http;
        return Json::parse(http.Request("GET", Base() + "/mock/asked", {}, "").value().body);
    }

    int port = 0;

private:
    fs::path dir_;
    pid_t pid_ = 0;
    Json config_;
};

}  // namespace joule::pay_test
