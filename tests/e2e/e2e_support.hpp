// Shared by the end-to-end tests: the real `joule` binary as a child process, a free loopback
// port, polling with a deadline, and reading what the platform committed to its store.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

extern char** environ;

namespace joule::e2e {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
}

// A child process of the real binary, killed when the test ends.
class Process {
public:
    // `program` found on PATH unless it is a path (joule itself by default).
    Process(std::vector<std::string> args, const fs::path& log,
            const std::string& program = JOULE_BINARY) {
        args.insert(args.begin(), program);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                         0644);
        posix_spawn_file_actions_adddup2(&actions, 1, 2);
        EXPECT_EQ(posix_spawnp(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ), 0);
        posix_spawn_file_actions_destroy(&actions);
    }
    ~Process() { Stop(); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;
    // SIGKILL: the process ends wherever it is, as on a power cut (nothing flushed, no cleanup).
    void Kill() {
        if (pid_ <= 0)
            return;
        kill(pid_, SIGKILL);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = 0;
    }
    void Stop() {
        if (pid_ <= 0)
            return;
        kill(pid_, SIGTERM);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = 0;
    }

private:
    pid_t pid_ = 0;
};

inline int Shell(const std::string& command) { return std::system(command.c_str()); }

inline std::string ReadFile(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// One integer from the store (the test reads what the platform committed, WAL mode).
inline int64_t Query(const fs::path& db, const std::string& sql) {
    sqlite3* handle = nullptr;
    sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_busy_timeout(handle, 2000);
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(handle, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
        value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return value;
}

inline bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds limit) {
    const auto end = Clock::now() + limit;
    while (Clock::now() < end) {
        if (condition())
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return condition();
}

// Waits up to 30 s for `joule serve` to say in its log that the HTTP API is up.
inline bool WaitForHttpApi(const fs::path& log) {
    return WaitFor([&] { return ReadFile(log).find("HTTP API on") != std::string::npos; },
                   std::chrono::seconds(30));
}

// The password `joule serve` printed for the admin it created on a new store ("" when none).
inline std::string FirstAdminPassword(const std::string& log) {
    const auto at = log.find("with password ");
    if (at == std::string::npos) {
        return "";
    }
    const auto start = at + std::string_view("with password ").size();
    return log.substr(start, log.find(' ', start) - start);
}

// Nothing billed twice and the ledger balances: every balance equals its transfers, and the
// balances sum to zero.
inline void ExpectLedgerBalanced(const fs::path& db) {
    EXPECT_EQ(Query(db, "SELECT SUM(balance) FROM ledger_accounts"), 0);
    EXPECT_EQ(Query(db,
                    "SELECT COUNT(*) FROM ledger_accounts a WHERE a.balance <> "
                    "IFNULL((SELECT SUM(amount) FROM transfers WHERE credit_id = a.id), 0) - "
                    "IFNULL((SELECT SUM(amount) FROM transfers WHERE debit_id = a.id), 0)"),
              0);
}

}  // namespace joule::e2e
