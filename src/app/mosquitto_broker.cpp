// The mosquitto child process: config file, fork/exec, readiness by connecting to its port.
#include "app/mosquitto_broker.hpp"
#include "base/file.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

namespace joule::app {

namespace {

sockaddr_in Loopback(std::uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    return addr;
}

}  // namespace

Result<std::uint16_t> FreeLoopbackPort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return MakeError(ErrorCode::kUnavailable, std::string("socket: ") + std::strerror(errno));
    }
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    // NOLINTBEGIN(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    // NOLINTEND(cppcoreguidelines-pro-type-reinterpret-cast)
    const std::string why = std::strerror(errno);
    ::close(fd);
    if (!ok) {
        return MakeError(ErrorCode::kUnavailable, "no free port on 127.0.0.1: " + why);
    }
    return ntohs(addr.sin_port);
}

bool LoopbackPortOpen(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return false;
    }
    sockaddr_in addr = Loopback(port);
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

Result<ProcessOutput> RunProcess(std::vector<std::string> argv) {
    if (argv.empty()) {
        return InvalidArgument("argv", "no command");
    }
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return MakeError(ErrorCode::kUnavailable, std::string("pipe: ") + std::strerror(errno));
    }
    std::vector<char*> args;
    for (std::string& a : argv) {
        args.push_back(a.data());
    }
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return MakeError(ErrorCode::kUnavailable, std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    ProcessOutput out;
    char buf[4096];
    ssize_t n = 0;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) {
            out.output.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    out.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (out.exit_code == 127) {
        return MakeError(ErrorCode::kUnavailable, argv[0] + " could not be started");
    }
    return out;
}

MosquittoBroker::~MosquittoBroker() { Stop(); }

Status MosquittoBroker::Start(const BrokerOptions& options) {
    if (running()) {
        return FailedPrecondition("the broker is already running");
    }
    if (options.dir.empty() || options.password_file.empty() || options.acl_file.empty()) {
        return InvalidArgument("broker", "dir, password_file and acl_file are required");
    }
    options_ = options;
    port_ = options.port;
    if (port_ == 0) {
        JOULE_ASSIGN_OR_RETURN(port_, FreeLoopbackPort());
    }
    std::ofstream conf(options.dir + "/mosquitto.conf");
    // Run as ourselves: mosquitto started as root would switch to user "mosquitto", which cannot
    // read a private temporary directory.
    const passwd* user = ::getpwuid(::geteuid());
    if (user != nullptr) {
        conf << "user " << user->pw_name << "\n";
    }
    conf << "per_listener_settings false\nallow_anonymous false\n"
         << "password_file " << options.password_file << "\nacl_file " << options.acl_file << "\n";
    if (options.persistence) {
        conf << "persistence true\npersistence_location " << options.dir << "/\n";
    } else {
        conf << "persistence false\n";
    }
    if (options.unlimited_queues) {
        conf << "max_queued_messages 0\nmax_queued_bytes 0\n";
    }
    if (options.log) {
        conf << "log_dest file " << log_path() << "\nlog_type all\n";
    } else {
        conf << "log_dest none\n";
    }
    conf << "listener " << port_ << " 127.0.0.1\n";
    if (options.tls) {
        conf << "cafile " << options.tls->cafile << "\ncertfile " << options.tls->certfile
             << "\nkeyfile " << options.tls->keyfile << "\nrequire_certificate false\n";
    }
    conf.close();
    if (!conf) {
        return MakeError(ErrorCode::kUnavailable,
                         "cannot write " + options.dir + "/mosquitto.conf");
    }
    return Launch();
}

Status MosquittoBroker::Launch() {
    const std::string conf = options_.dir + "/mosquitto.conf";
    pid_ = ::fork();
    if (pid_ < 0) {
        pid_ = -1;
        return MakeError(ErrorCode::kUnavailable, std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        // A test that crashes or is killed on timeout must not leave its broker behind.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        const int devnull = ::open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            ::dup2(devnull, STDOUT_FILENO);
            ::dup2(devnull, STDERR_FILENO);
        }
        ::execl(options_.mosquitto.c_str(), options_.mosquitto.c_str(), "-c", conf.c_str(),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    // Ready when the port accepts connections; a broker that exits (bad config) fails at once.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.start_timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
        if (LoopbackPortOpen(port_)) {
            return {};
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return MakeError(ErrorCode::kUnavailable,
                             options_.mosquitto + " exited at start (status " +
                                 std::to_string(status) + "), config " + conf);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Stop();
    return MakeError(ErrorCode::kUnavailable,
                     "mosquitto did not open 127.0.0.1:" + std::to_string(port_));
}

void MosquittoBroker::Stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGTERM);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

Status MosquittoBroker::Restart() {
    if (port_ == 0) {
        return FailedPrecondition("the broker was never started");
    }
    Stop();
    return Launch();
}

std::string MosquittoBroker::ReadLog() const {
    return ReadFileText(log_path(), "log").value_or("");
}

}  // namespace joule::app
