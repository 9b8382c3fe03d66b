// The notification sinks (tests/notify/sinks.mjs) as a child process of a test: Node's HTTP and
// SMTP servers on loopback ports the system picks, and what they received.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "notify/http_client.hpp"

extern char** environ;

namespace joule::notify::test {

namespace fs = std::filesystem;

inline constexpr const char* kSmsSecret = "sms-secret-for-tests";
inline constexpr const char* kHookSecret = "webhook-secret-0123456789";
inline constexpr const char* kWechatAppId = "wx1234567890abcdef";
inline constexpr const char* kWechatAppSecret = "mp-secret";

class Sinks {
public:
    // SINK_KEEP=count in `environment` makes the sinks count without keeping (the bench).
    explicit Sinks(bool keep = true) {
        dir_ = fs::temp_directory_path() / ("joule-sinks-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
        const std::string ports = (dir_ / "ports.json").string();
        std::vector<std::string> args = {
            "node",          JOULE_SOURCE_DIR "/tests/notify/sinks.mjs",
            ports,           kSmsSecret,
            kHookSecret,     kWechatAppId,
            kWechatAppSecret};
        if (!keep) {
            ::setenv("SINK_KEEP", "count", 1);
        }
        std::vector<char*> argv;
        for (auto& a : args) {
            argv.push_back(a.data());
        }
        argv.push_back(nullptr);
        if (posix_spawnp(&pid_, "node", nullptr, nullptr, argv.data(), environ) != 0) {
            pid_ = 0;
            return;  // http_port stays 0: the caller says so
        }
        for (int i = 0; i < 100 && !fs::exists(ports); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the file is whole
        std::ifstream in(ports);
        const nlohmann::json p = nlohmann::json::parse(in, nullptr, false);
        http_port = p.is_object() ? p.value("http", 0) : 0;
        smtp_port = p.is_object() ? p.value("smtp", 0) : 0;
    }
    ~Sinks() {
        if (pid_ > 0) {
            kill(pid_, SIGTERM);
            int status = 0;
            waitpid(pid_, &status, 0);
        }
        std::error_code ignored;
        fs::remove_all(dir_, ignored);
    }
    Sinks(const Sinks&) = delete;
    Sinks& operator=(const Sinks&) = delete;

    std::string Http(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(http_port) + path;
    }
    nlohmann::json Received() const {
        HttpClient http;
        auto r = http.Request("GET", Http("/received"), {}, "");
        return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json::array();
    }

    int http_port = 0;
    int smtp_port = 0;

private:
    fs::path dir_;
    pid_t pid_ = 0;
};

}  // namespace joule::notify::test
