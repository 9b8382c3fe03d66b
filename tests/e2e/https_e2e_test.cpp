// `joule serve --config` with [tls], the real binary on loopback, checked with curl and openssl as
// independent peers: a throwaway self-signed certificate made with the openssl command line, an
// HTTPS request trusted with --cacert gets the answer and a Secure session cookie, plain HTTP and
// an untrusted certificate are refused, flags override the file, a reverse proxy's
// X-Forwarded-For is believed only from a trusted proxy, and a bad config or key stops serve
// before anything starts.
#include <gtest/gtest.h>

#include "e2e_support.hpp"

namespace {

using namespace joule::e2e;  // NOLINT(google-build-using-namespace): test support

// The exit code of a shell command, its stdout and stderr in `out`.
int RunShell(const std::string& command, const fs::path& out) {
    const int status = Shell(command + " > " + out.string() + " 2>&1");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class HttpsE2eTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("joule-https-" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        // A throwaway self-signed certificate for 127.0.0.1 (curl checks the IP SAN).
        ASSERT_EQ(
            RunShell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                     "-days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
                         (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string(),
                     dir_ / "openssl.log"),
            0)
            << ReadFile(dir_ / "openssl.log");
        port_ = FreePort();
    }
    void TearDown() override {
        server_.reset();
        if (!HasFailure()) {
            fs::remove_all(dir_);
        }
    }

    // The config file every test starts from: HTTPS on a free port, the store in the temp dir.
    std::string Config(const std::string& extra_http = "") const {
        return "[store]\ndb = \"" + (dir_ / "serve.db").string() + "\"\n" +
               "[http]\nlisten = \"127.0.0.1:" + std::to_string(port_) + "\"\n" + extra_http +
               "[tls]\ncert = \"" + (dir_ / "cert.pem").string() + "\"\nkey = \"" +
               (dir_ / "key.pem").string() + "\"\n" +
               "[acquisition]\ndtu_listen = \"127.0.0.1:" + std::to_string(FreePort()) + "\"\n";
    }

    // Starts `joule serve --config <text> <flags>` and waits for its HTTP API line.
    void Start(const std::string& config, std::vector<std::string> flags = {}) {
        std::ofstream(dir_ / "joule.toml") << config;
        flags.insert(flags.begin(), {"serve", "--config", (dir_ / "joule.toml").string()});
        server_ = std::make_unique<Process>(flags, dir_ / "serve.log");
        ASSERT_TRUE(WaitForHttpApi(dir_ / "serve.log")) << ReadFile(dir_ / "serve.log");
        // The first start on a new store creates "admin" and prints its password.
        const std::string log = ReadFile(dir_ / "serve.log");
        if (const std::string password = FirstAdminPassword(log); !password.empty()) {
            admin_password_ = password;
        }
        ASSERT_FALSE(admin_password_.empty()) << log;
    }

    std::string Url(const std::string& scheme, const std::string& path) const {
        return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
    }

    // curl with this test's CA; the exit code, the reply (headers with -i) in `reply_`.
    int Curl(const std::string& args) {
        const int code = RunShell("curl -sS --max-time 10 " + args, dir_ / "curl.out");
        reply_ = ReadFile(dir_ / "curl.out");
        return code;
    }
    int Login(const std::string& extra_args) {
        std::ofstream(dir_ / "login.json")
            << R"({"username":"admin","password":")" + admin_password_ + "\"}";
        return Curl("-i --cacert " + (dir_ / "cert.pem").string() +
                    " -H 'Content-Type: application/json' --data-binary @" +
                    (dir_ / "login.json").string() + " " + extra_args + " " +
                    Url("https", "/api/v1/auth/login"));
    }

    fs::path dir_;
    int port_ = 0;
    std::unique_ptr<Process> server_;
    std::string admin_password_;
    std::string reply_;
};

TEST_F(HttpsE2eTest, HttpsAnswersAndTheSessionCookieIsSecure) {
    Start(Config());
    EXPECT_NE(ReadFile(dir_ / "serve.log").find("HTTP API on https://127.0.0.1:"),
              std::string::npos);
    ASSERT_EQ(Curl("--cacert " + (dir_ / "cert.pem").string() + " " + Url("https", "/healthz")), 0)
        << reply_;
    EXPECT_EQ(reply_, R"({"status":"ok"})");
    // TLS 1.2 is enough, TLS 1.3 is the default.
    EXPECT_EQ(Curl("--tlsv1.2 --tls-max 1.2 --cacert " + (dir_ / "cert.pem").string() + " " +
                   Url("https", "/healthz")),
              0)
        << reply_;

    // No --secure-cookies anywhere: TLS implies it.
    ASSERT_EQ(Login(""), 0) << reply_;
    EXPECT_NE(reply_.find("HTTP/1.1 200"), std::string::npos) << reply_;
    const auto cookie = reply_.find("Set-Cookie: joule_session=");
    ASSERT_NE(cookie, std::string::npos) << reply_;
    const std::string line = reply_.substr(cookie, reply_.find('\n', cookie) - cookie);
    EXPECT_NE(line.find("; Secure"), std::string::npos) << line;
    EXPECT_NE(line.find("HttpOnly"), std::string::npos) << line;
}

TEST_F(HttpsE2eTest, PlainHttpAndUntrustedCertificatesAreRefused) {
    Start(Config());
    // Plain HTTP to the HTTPS port: the handshake fails and the connection closes, no answer.
    EXPECT_NE(Curl(Url("http", "/healthz")), 0) << reply_;
    EXPECT_EQ(reply_.find("status"), std::string::npos) << reply_;
    // A client that does not trust the certificate stops (curl's exit 60).
    EXPECT_EQ(Curl(Url("https", "/healthz")), 60) << reply_;
    // An independent TLS client: TLS 1.1 is refused, TLS 1.2 is accepted.
    const std::string connect = "openssl s_client -connect 127.0.0.1:" + std::to_string(port_) +
                                " -CAfile " + (dir_ / "cert.pem").string() + " </dev/null";
    EXPECT_NE(RunShell(connect + " -tls1_1 -cipher DEFAULT@SECLEVEL=0", dir_ / "s_client.log"), 0)
        << ReadFile(dir_ / "s_client.log");
    EXPECT_EQ(RunShell(connect + " -tls1_2 -verify_return_error", dir_ / "s_client.log"), 0)
        << ReadFile(dir_ / "s_client.log");
}

TEST_F(HttpsE2eTest, FlagsOverrideTheFile) {
    // The file: access log on, a status line a minute. The flags: no access log, one a second.
    Start(Config("access_log = true\n") + "[run]\nreport_every_s = 60\n",
          {"--no-access-log", "--report-every", "1"});
    ASSERT_EQ(Curl("--cacert " + (dir_ / "cert.pem").string() + " " + Url("https", "/healthz")), 0)
        << reply_;
    EXPECT_TRUE(
        WaitFor([&] { return ReadFile(dir_ / "serve.log").find("[   2s]") != std::string::npos; },
                std::chrono::seconds(10)))
        << ReadFile(dir_ / "serve.log");
    EXPECT_EQ(ReadFile(dir_ / "serve.log").find("\"path\":\"/healthz\""), std::string::npos)
        << "the access log is off: " << ReadFile(dir_ / "serve.log");
}

TEST_F(HttpsE2eTest, XForwardedForIsBelievedOnlyFromATrustedProxy) {
    Start(Config("trusted_proxies = [\"127.0.0.1\"]\n"));
    ASSERT_EQ(Login("-H 'X-Forwarded-For: 10.9.9.9, 203.0.113.7'"), 0) << reply_;
    EXPECT_TRUE(WaitFor(
        [&] {
            return ReadFile(dir_ / "serve.log").find("\"remote\":\"203.0.113.7\"") !=
                   std::string::npos;
        },
        std::chrono::seconds(5)))
        << ReadFile(dir_ / "serve.log");
    server_.reset();
    EXPECT_EQ(
        Query(dir_ / "serve.db", "SELECT COUNT(*) FROM sessions WHERE remote = '203.0.113.7'"), 1);

    // Without the proxy trusted, the header is the client's own word and is ignored.
    Start(Config());
    ASSERT_EQ(Login("-H 'X-Forwarded-For: 203.0.113.8'"), 0) << reply_;
    server_.reset();
    EXPECT_EQ(
        Query(dir_ / "serve.db", "SELECT COUNT(*) FROM sessions WHERE remote = '203.0.113.8'"), 0);
    EXPECT_EQ(Query(dir_ / "serve.db", "SELECT COUNT(*) FROM sessions WHERE remote = '127.0.0.1'"),
              1);
    EXPECT_EQ(ReadFile(dir_ / "serve.log").find("\"remote\":\"203.0.113.8\""), std::string::npos);
}

TEST_F(HttpsE2eTest, ABadConfigOrKeyStopsServeBeforeAnythingStarts) {
    std::ofstream(dir_ / "bad.toml") << Config("threads = 0\n");
    EXPECT_EQ(
        RunShell(std::string(JOULE_BINARY) + " serve --config " + (dir_ / "bad.toml").string(),
                 dir_ / "bad.log"),
        1);
    EXPECT_NE(ReadFile(dir_ / "bad.log").find(":5: http.threads: must be 1..64, got 0"),
              std::string::npos)
        << ReadFile(dir_ / "bad.log");
    EXPECT_FALSE(fs::exists(dir_ / "serve.db"));

    // A key that is not the certificate's: refused before the store opens.
    ASSERT_EQ(RunShell("openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:prime256v1 -out " +
                           (dir_ / "other.pem").string(),
                       dir_ / "openssl.log"),
              0);
    std::ofstream(dir_ / "good.toml") << Config();
    EXPECT_EQ(
        RunShell(std::string(JOULE_BINARY) + " serve --config " + (dir_ / "good.toml").string() +
                     " --tls-key " + (dir_ / "other.pem").string(),
                 dir_ / "bad.log"),
        1);
    EXPECT_NE(
        ReadFile(dir_ / "bad.log").find("tls.key: cannot use '" + (dir_ / "other.pem").string()),
        std::string::npos)
        << ReadFile(dir_ / "bad.log");
    EXPECT_FALSE(fs::exists(dir_ / "serve.db"));
}

}  // namespace
