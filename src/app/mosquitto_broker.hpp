// A mosquitto broker as a child process on loopback, for the MQTT tests and `joule bench mqtt`:
// it writes a config file (password file, ACL file, optional TLS listener, persistence), starts
// /usr/sbin/mosquitto on 127.0.0.1 only, waits until the port accepts connections, and stops the
// broker again. It is a process helper, not part of the platform: `joule serve` connects to a
// broker someone else runs. Nothing under core, codec, service or ingest may use it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace joule::app {

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0 and released).
// kUnavailable when no socket can be bound.
[[nodiscard]] Result<std::uint16_t> FreeLoopbackPort();
// Whether something accepts TCP connections on 127.0.0.1:port.
[[nodiscard]] bool LoopbackPortOpen(std::uint16_t port);

// What a finished command printed (stdout and stderr together) and its exit code (-1: killed).
struct ProcessOutput {
    int exit_code = -1;
    std::string output;
};
// Runs argv[0] (a path, no shell, no PATH search) with its arguments to completion: the
// mosquitto_pub/mosquitto_sub peers and openssl of the tests. kUnavailable when it cannot start.
[[nodiscard]] Result<ProcessOutput> RunProcess(std::vector<std::string> argv);

struct BrokerTls {
    std::string cafile;    // the CA that signed certfile (sent to clients that ask)
    std::string certfile;  // the server certificate, for 127.0.0.1
    std::string keyfile;
};

struct BrokerOptions {
    std::string dir;  // holds mosquitto.conf (and the persistence files and log); must exist
    std::string password_file;
    std::string acl_file;
    std::uint16_t port = 0;  // 0: a free port
    bool persistence = false;
    bool log = false;  // true: everything to <dir>/mosquitto.log (tests read it); false: none
    // Unbounded queues: the bench measures our ingest, not the broker's limits.
    bool unlimited_queues = false;
    std::optional<BrokerTls> tls;  // set: the listener speaks TLS only
    std::string mosquitto = "/usr/sbin/mosquitto";
    int start_timeout_s = 10;
};

// Owns the broker process: the destructor stops it (SIGTERM, then waits).
// Not thread-safe: one owner.
class MosquittoBroker {
public:
    MosquittoBroker() = default;
    ~MosquittoBroker();
    MosquittoBroker(const MosquittoBroker&) = delete;
    MosquittoBroker& operator=(const MosquittoBroker&) = delete;

    // Writes <dir>/mosquitto.conf and starts the broker. kInvalidArgument when dir or the auth
    // files are missing from the options; kUnavailable when no port is free, the process cannot
    // start or the port does not open within start_timeout_s; kFailedPrecondition when running.
    [[nodiscard]] Status Start(const BrokerOptions& options);
    // SIGTERM and wait: mosquitto saves its sessions first when persistence is on, like a restart.
    void Stop();
    // Starts it again with the same config and port (sessions come back when persistence is on).
    [[nodiscard]] Status Restart();

    [[nodiscard]] std::uint16_t port() const { return port_; }
    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] std::string log_path() const { return options_.dir + "/mosquitto.log"; }
    // The log so far ("" when logging is off or nothing was written yet).
    [[nodiscard]] std::string ReadLog() const;

private:
    [[nodiscard]] Status Launch();

    BrokerOptions options_;
    std::uint16_t port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace joule::app
