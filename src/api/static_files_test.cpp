// The web console's files: content types, the SPA fallback, 404s that never read outside the root
// (traversal, hidden files, symlinks leading out), gzip beside the file, caching and 304, HEAD, the
// "not built" message, and the API answering them through Api::Handle without losing its own paths.
#include "api/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "api/api_test_support.hpp"

namespace joule::api {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr std::string_view kIndex = "<!doctype html><title>Joule</title><div id=app></div>";
constexpr std::string_view kScript = "console.log('joule');";
constexpr std::string_view kScriptGzip = "\x1f\x8b\x08 pretend-gzip";
constexpr std::string_view kSecret = "root:x:0:0:secret";
constexpr std::string_view kNotBuilt = "the web console is not built: run `make web`";
constexpr std::string_view kCsp =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'";

void WriteFile(const fs::path& path, std::string_view text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

// A fresh directory under the system's temporary directory, removed at the end.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> next{0};
        path_ = fs::temp_directory_path() /
                ("joule-static-" + std::to_string(getpid()) + "-" + std::to_string(next++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    [[nodiscard]] const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

// A built console in dist/ and a secret beside it in outside/, with symlinks in dist/ that lead
// out (a file with and without an extension, a directory) and one that stays inside.
void BuildSite(const fs::path& dir) {
    const fs::path root = dir / "dist";
    WriteFile(root / "index.html", kIndex);
    WriteFile(root / "assets/app-abc123.js", kScript);
    WriteFile(root / "assets/app-abc123.js.gz", kScriptGzip);
    WriteFile(root / "assets/style-def456.css", "body{}");
    WriteFile(root / "robots.txt", "User-agent: *");
    WriteFile(root / ".env", kSecret);
    WriteFile(dir / "outside/secret.txt", kSecret);
    fs::create_symlink("../outside/secret.txt", root / "escape.txt");
    fs::create_symlink(dir / "outside/secret.txt", root / "leak");
    fs::create_symlink("../outside", root / "escape-dir");
    fs::create_symlink("assets/app-abc123.js", root / "alias.js");
}

HttpRequest Request(std::string method, std::string path, Headers headers = {}) {
    HttpRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.headers = std::move(headers);
    r.remote = "127.0.0.1";
    return r;
}

std::string HeaderOf(const HttpResponse& r, std::string_view name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) {
            return v;
        }
    }
    return "(none)";
}

std::size_t CountOf(const HttpResponse& r, std::string_view name) {
    return static_cast<std::size_t>(std::count_if(
        r.headers.begin(), r.headers.end(), [name](const auto& h) { return h.first == name; }));
}

void ExpectNotFound(const HttpResponse& r, std::string_view message, const std::string& what) {
    EXPECT_EQ(r.status, 404) << what;
    EXPECT_EQ(r.content_type, "application/json") << what;
    const Json body = Json::parse(r.body, nullptr, false);
    EXPECT_EQ(body, (Json{{"code", "not_found"}, {"message", message}, {"field", "path"}})) << what;
    EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff") << what;
    EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "same-origin") << what;
}

class StaticFilesTest : public ::testing::Test {
protected:
    StaticFilesTest() { BuildSite(dir_.path()); }

    HttpResponse Get(std::string path, Headers headers = {}) const {
        return files_.Serve(Request("GET", std::move(path), std::move(headers)));
    }

    TempDir dir_;
    StaticFiles files_{(dir_.path() / "dist").string()};
};

TEST_F(StaticFilesTest, TheRootIsIndexHtmlWithTheHtmlSecurityHeaders) {
    const HttpResponse r = Get("/");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, kIndex);
    EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
    EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "same-origin");
    EXPECT_EQ(HeaderOf(r, "X-Frame-Options"), "DENY");
    EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"), kCsp);
    EXPECT_TRUE(HeaderOf(r, "ETag").starts_with('"')) << HeaderOf(r, "ETag");
    EXPECT_EQ(CountOf(r, "Content-Encoding"), 0U);
    EXPECT_EQ(CountOf(r, "Vary"), 0U);  // no index.html.gz

    const HttpResponse direct = Get("/index.html");
    EXPECT_EQ(direct.status, 200);
    EXPECT_EQ(direct.body, kIndex);
    EXPECT_EQ(HeaderOf(direct, "ETag"), HeaderOf(r, "ETag"));
    EXPECT_TRUE(files_.Built());
}

TEST_F(StaticFilesTest, ContentTypesFollowTheExtension) {
    const fs::path root = dir_.path() / "dist";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/assets/app-abc123.js", "text/javascript; charset=utf-8"},
        {"/assets/worker-1.mjs", "text/javascript; charset=utf-8"},
        {"/assets/style-def456.css", "text/css; charset=utf-8"},
        {"/assets/logo-2.svg", "image/svg+xml"},
        {"/assets/photo-3.png", "image/png"},
        {"/favicon.ico", "image/x-icon"},
        {"/assets/strings-4.json", "application/json"},
        {"/assets/app-abc123.js.map", "application/json"},
        {"/assets/font-5.woff2", "font/woff2"},
        {"/assets/font-6.woff", "font/woff"},
        {"/assets/font-7.ttf", "font/ttf"},
        {"/robots.txt", "text/plain; charset=utf-8"},
        {"/assets/UPPER-8.CSS", "text/css; charset=utf-8"},
        {"/assets/data-9.bin", "application/octet-stream"},
        {"/LICENSE.unknown", "application/octet-stream"},
    };
    for (const auto& [path, type] : cases) {
        if (!fs::exists(root / path.substr(1))) {
            WriteFile(root / path.substr(1), "x");
        }
        const HttpResponse r = Get(path);
        EXPECT_EQ(r.status, 200) << path << ": " << r.body;
        EXPECT_EQ(r.content_type, type) << path;
        EXPECT_EQ(CountOf(r, "Content-Security-Policy"), 0U) << path;  // HTML only
        EXPECT_EQ(CountOf(r, "X-Frame-Options"), 0U) << path;
        EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff") << path;
    }
}

TEST_F(StaticFilesTest, ARouteOfTheAppWithoutAFileIsIndexHtml) {
    for (const char* path :
         {"/rooms/A101", "/rooms/A101/", "/settings", "/rooms//A101", "/assets"}) {
        const HttpResponse r = Get(path);
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.body, kIndex) << path;
        EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
        EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache") << path;
        EXPECT_EQ(HeaderOf(r, "Content-Security-Policy"), kCsp) << path;
    }
}

TEST_F(StaticFilesTest, AFolderWithItsOwnIndexIsAnAppOfItsOwn) {
    constexpr std::string_view kTenantPage = "<!doctype html><title>tenant</title>";
    WriteFile(dir_.path() / "dist/m/index.html", kTenantPage);
    for (const char* path : {"/m", "/m/", "/m/bind", "/m/accounts/3/records"}) {
        const HttpResponse r = Get(path);
        EXPECT_EQ(r.status, 200) << path;
        EXPECT_EQ(r.body, kTenantPage) << path;
        EXPECT_EQ(r.content_type, "text/html; charset=utf-8") << path;
    }
    // Other routes are still the console's, and a folder leading out of the root is no app.
    EXPECT_EQ(Get("/mall/A101").body, kIndex);
    EXPECT_EQ(Get("/escape-dir/x").body, kIndex);
}

TEST_F(StaticFilesTest, AMissingFileWithAnExtensionOrUnderAssetsIs404) {
    for (const char* path : {"/assets/app-000000.js", "/favicon.png", "/rooms/A101.json",
                             "/assets/no-extension", "/assets/sub/dir/"}) {
        const HttpResponse r = Get(path);
        ExpectNotFound(r, "no such file: " + std::string(path), path);
        EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store") << path;
    }
}

TEST_F(StaticFilesTest, TraversalAndHiddenNamesAre404AndNeverReadOutside) {
    const std::string outside = (dir_.path() / "outside/secret.txt").string();
    const std::vector<std::string> paths = {
        "/../outside/secret.txt",
        "/../x",
        "/assets/../../etc/passwd",
        "/assets/../../outside/secret.txt",
        "/assets/..",
        "/..",
        "/./index.html",
        "/.env",
        "/assets/.hidden.js",
        "/..\\outside\\secret.txt",
        "/assets\\app-abc123.js",
        std::string("/index.html\0.js", 15),
        "index.html",
        "",
        "/" + outside,  // "//tmp/...": relative to the root, never the absolute path
    };
    for (const std::string& path : paths) {
        const HttpResponse r = Get(path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(r.body.find(kSecret), std::string::npos) << path;
        EXPECT_EQ(Json::parse(r.body, nullptr, false).value("field", ""), "path") << path;
    }
}

TEST_F(StaticFilesTest, ASymlinkLeadingOutOfTheRootIs404AndOneInsideIsServed) {
    for (const char* path : {"/escape.txt", "/leak", "/escape-dir/secret.txt", "/escape-dir"}) {
        const HttpResponse r = Get(path);
        ExpectNotFound(r, "no such file: " + std::string(path), path);
        EXPECT_EQ(r.body.find(kSecret), std::string::npos) << path;
    }
    const HttpResponse inside = Get("/alias.js");
    EXPECT_EQ(inside.status, 200);
    EXPECT_EQ(inside.body, kScript);
    EXPECT_EQ(inside.content_type, "text/javascript; charset=utf-8");
}

TEST_F(StaticFilesTest, TheGzipBesideTheFileIsSentToClientsThatTakeIt) {
    const std::string js = "/assets/app-abc123.js";
    const HttpResponse gzipped = Get(js, {{"accept-encoding", "br, gzip, deflate"}});
    EXPECT_EQ(gzipped.status, 200);
    EXPECT_EQ(gzipped.body, kScriptGzip);
    EXPECT_EQ(gzipped.content_type, "text/javascript; charset=utf-8");
    EXPECT_EQ(HeaderOf(gzipped, "Content-Encoding"), "gzip");
    EXPECT_EQ(HeaderOf(gzipped, "Vary"), "Accept-Encoding");

    for (const char* accept : {"", "deflate, br", "gzip;q=0", "gzip; q=0.000, br", "gzipx"}) {
        const HttpResponse plain = Get(js, {{"accept-encoding", accept}});
        EXPECT_EQ(plain.status, 200) << accept;
        EXPECT_EQ(plain.body, kScript) << accept;
        EXPECT_EQ(CountOf(plain, "Content-Encoding"), 0U) << accept;
        // Caches must still key on Accept-Encoding: another client gets the gzip.
        EXPECT_EQ(HeaderOf(plain, "Vary"), "Accept-Encoding") << accept;
        EXPECT_NE(HeaderOf(plain, "ETag"), HeaderOf(gzipped, "ETag")) << accept;
    }
    for (const char* accept : {"GZIP", "gzip;q=0.5", "deflate,gzip"}) {
        EXPECT_EQ(Get(js, {{"accept-encoding", accept}}).body, kScriptGzip) << accept;
    }

    const HttpResponse index = Get("/", {{"accept-encoding", "gzip"}});
    EXPECT_EQ(index.body, kIndex);
    EXPECT_EQ(CountOf(index, "Content-Encoding"), 0U);
}

TEST_F(StaticFilesTest, HashedAssetsAreImmutableAndTheRestIsRevalidated) {
    for (const char* path : {"/assets/app-abc123.js", "/assets/style-def456.css"}) {
        EXPECT_EQ(HeaderOf(Get(path), "Cache-Control"), "public, max-age=31536000, immutable")
            << path;
    }
    for (const char* path : {"/", "/index.html", "/robots.txt", "/rooms/A101"}) {
        EXPECT_EQ(HeaderOf(Get(path), "Cache-Control"), "no-cache") << path;
    }
}

TEST_F(StaticFilesTest, IfNoneMatchWithTheCurrentETagIs304) {
    const std::string etag = HeaderOf(Get("/"), "ETag");
    for (const std::string& tag : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
        const HttpResponse r = Get("/", {{"if-none-match", tag}});
        EXPECT_EQ(r.status, 304) << tag;
        EXPECT_TRUE(r.body.empty()) << tag;
        EXPECT_EQ(HeaderOf(r, "ETag"), etag) << tag;
        EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache") << tag;
    }
    const HttpResponse stale = Get("/", {{"if-none-match", "\"1-1\""}});
    EXPECT_EQ(stale.status, 200);
    EXPECT_EQ(stale.body, kIndex);

    // A rebuilt page has another ETag, so the old one gets the new page.
    WriteFile(dir_.path() / "dist/index.html", "<!doctype html><title>Joule 2</title>");
    const HttpResponse rebuilt = Get("/", {{"if-none-match", etag}});
    EXPECT_EQ(rebuilt.status, 200);
    EXPECT_EQ(rebuilt.body, "<!doctype html><title>Joule 2</title>");
    EXPECT_NE(HeaderOf(rebuilt, "ETag"), etag);
}

// HEAD is answered as GET; the HTTP server sends its length and drops the body
// (HttpServerFraming.HeadAndNotModifiedCarryNoBody).
TEST_F(StaticFilesTest, HeadIsAnsweredAsGet) {
    for (const char* path : {"/", "/assets/app-abc123.js", "/rooms/A101"}) {
        const Headers headers = {{"accept-encoding", "gzip"}};
        const HttpResponse get = Get(path, headers);
        const HttpResponse head = files_.Serve(Request("HEAD", path, headers));
        EXPECT_EQ(head.status, 200) << path;
        EXPECT_EQ(head.body, get.body) << path;
        EXPECT_FALSE(get.body.empty()) << path;
        EXPECT_EQ(head.content_type, get.content_type) << path;
        EXPECT_EQ(head.headers, get.headers) << path;
    }
    ExpectNotFound(files_.Serve(Request("HEAD", "/assets/gone-1.js")),
                   "no such file: /assets/gone-1.js", "HEAD");
}

TEST(StaticFiles, WithoutIndexHtmlThePageSaysHowToBuildIt) {
    TempDir dir;
    const fs::path root = dir.path() / "dist";
    for (const fs::path& missing_or_empty : {root, dir.path() / "never-created"}) {
        fs::create_directories(root);
        const StaticFiles files(missing_or_empty.string());
        EXPECT_FALSE(files.Built());
        for (const char* path : {"/", "/rooms/A101", "/index.html", "/assets/app-abc123.js"}) {
            ExpectNotFound(files.Serve(Request("GET", path)), kNotBuilt, path);
        }
    }
    WriteFile(root / "index.html", kIndex);
    const StaticFiles built(root.string());
    EXPECT_TRUE(built.Built());
    EXPECT_EQ(built.Serve(Request("GET", "/")).body, kIndex);
}

TEST(StaticFiles, ServesGetAndHeadOfEveryPathButTheApis) {
    for (const char* path : {"/", "/index.html", "/rooms/A101", "/assets/app-abc123.js", "/apiary",
                             "/api-docs", "/healthz/x", "/metrics.txt"}) {
        EXPECT_TRUE(StaticFiles::Serves(Request("GET", path))) << path;
        EXPECT_TRUE(StaticFiles::Serves(Request("HEAD", path))) << path;
    }
    for (const char* path : {"/api", "/api/", "/api/v1/openapi.json", "/api/v1/nope", "/healthz",
                             "/readyz", "/metrics"}) {
        EXPECT_FALSE(StaticFiles::Serves(Request("GET", path))) << path;
    }
    for (const char* method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
        EXPECT_FALSE(StaticFiles::Serves(Request(method, "/"))) << method;
    }
}

// Through Api::Handle, as `joule serve` answers: the console at /, the API's own paths untouched,
// one Cache-Control and one nosniff per response.
class StaticFilesInApiTest : public test::ApiHarness {
protected:
    StaticFilesInApiTest() : ApiHarness(WithWebRoot()) {}
    ~StaticFilesInApiTest() override { fs::remove_all(Dir()); }

    static fs::path Dir() {
        return fs::temp_directory_path() / ("joule-static-api-" + std::to_string(getpid()));
    }
    static ApiOptions WithWebRoot() {
        fs::remove_all(Dir());
        BuildSite(Dir());
        ApiOptions options;
        options.web_root = (Dir() / "dist").string();
        return options;
    }
};

TEST_F(StaticFilesInApiTest, TheConsoleIsServedBesideTheApi) {
    const HttpResponse page = Call("GET", "/rooms/A101");
    EXPECT_EQ(page.status, 200);
    EXPECT_EQ(page.body, kIndex);
    EXPECT_EQ(HeaderOf(page, "Cache-Control"), "no-cache");
    EXPECT_EQ(CountOf(page, "Cache-Control"), 1U);
    EXPECT_EQ(CountOf(page, "X-Content-Type-Options"), 1U);
    EXPECT_EQ(CountOf(page, "X-Request-Id"), 1U);

    const HttpResponse asset = Call("GET", "/assets/app-abc123.js");
    EXPECT_EQ(asset.body, kScript);
    EXPECT_EQ(HeaderOf(asset, "Cache-Control"), "public, max-age=31536000, immutable");
    EXPECT_EQ(CountOf(asset, "Cache-Control"), 1U);

    const HttpResponse traversal = Call("GET", "/assets/../../outside/secret.txt");
    EXPECT_EQ(traversal.status, 404);
    EXPECT_EQ(traversal.body.find(kSecret), std::string::npos);

    // The API's paths are the API's.
    EXPECT_EQ(Call("GET", "/healthz").body, R"({"status":"ok"})");
    const HttpResponse unknown = Call("GET", "/api/v1/nope");
    EXPECT_EQ(unknown.status, 404);
    EXPECT_EQ(Body(unknown).value("message", ""), "no such resource");
    EXPECT_EQ(HeaderOf(unknown, "Cache-Control"), "no-store");
    EXPECT_EQ(CountOf(unknown, "X-Content-Type-Options"), 1U);
    EXPECT_EQ(Call("GET", "/api").status, 404);
    EXPECT_EQ(Body(Call("GET", "/api")).value("message", ""), "no such resource");
    // Only GET and HEAD reach the files.
    const HttpResponse post = Call("POST", "/", "{}");
    EXPECT_EQ(post.status, 404);
    EXPECT_EQ(Body(post).value("message", ""), "no such resource");
}

class StaticFilesOffInApiTest : public test::ApiHarness {};

TEST_F(StaticFilesOffInApiTest, WithoutAWebRootEveryOtherPathStays404) {
    const HttpResponse r = Call("GET", "/");
    EXPECT_EQ(r.status, 404);
    EXPECT_EQ(Body(r).value("message", ""), "no such resource");
    EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
}

}  // namespace
}  // namespace joule::api
