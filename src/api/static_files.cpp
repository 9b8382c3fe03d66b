#include "api/static_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string_view>
#include <system_error>
#include <utility>

#include <boost/beast/core/string.hpp>

#include "api/http_util.hpp"
#include "base/file.hpp"

namespace joule::api {

namespace beast = boost::beast;
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAssetsPrefix = "/assets/";
constexpr std::string_view kNotBuilt = "the web console is not built: run `make web`";
constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'";

std::string_view Trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

// Calls `each` with every comma-separated item of a header, trimmed; stops when it returns true.
template <class Each>
bool AnyItem(std::string_view header, Each each) {
    while (!header.empty()) {
        const auto comma = header.find(',');
        if (each(Trim(header.substr(0, comma)))) {
            return true;
        }
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    }
    return false;
}

// "gzip" listed in Accept-Encoding, and not refused with q=0.
bool AcceptsGzip(std::string_view accept_encoding) {
    return AnyItem(accept_encoding, [](std::string_view item) {
        const auto semicolon = item.find(';');
        if (!beast::iequals(Trim(item.substr(0, semicolon)), "gzip")) {
            return false;
        }
        if (semicolon == std::string_view::npos) {
            return true;
        }
        const std::string_view parameter = Trim(item.substr(semicolon + 1));
        if (parameter.size() < 2 || !beast::iequals(parameter.substr(0, 2), "q=")) {
            return true;
        }
        const std::string_view q = Trim(parameter.substr(2));
        return !std::all_of(q.begin(), q.end(), [](char c) { return c == '0' || c == '.'; });
    });
}

// If-None-Match compares weakly (RFC 9110 13.1.2): "W/" is ignored, "*" matches any file.
bool MatchesETag(std::string_view if_none_match, std::string_view etag) {
    return AnyItem(if_none_match, [etag](std::string_view tag) {
        if (tag.starts_with("W/")) {
            tag.remove_prefix(2);
        }
        return tag == "*" || tag == etag;
    });
}

// Only plain names below the root: no ".", ".." or hidden segment, no backslash (a separator to
// some clients), no NUL (ends the name for the kernel).
bool IsSafePath(std::string_view path) {
    if (path.empty() || path.front() != '/' || path.find('\\') != std::string_view::npos ||
        path.find('\0') != std::string_view::npos) {
        return false;
    }
    std::string_view rest = path.substr(1);
    while (!rest.empty()) {
        const auto slash = rest.find('/');
        const std::string_view segment = rest.substr(0, slash);
        if (segment.starts_with('.')) {
            return false;
        }
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    }
    return true;
}

std::string_view LastSegment(std::string_view path) { return path.substr(path.rfind('/') + 1); }

bool HasExtension(std::string_view name) { return name.find('.') != std::string_view::npos; }

std::string_view ContentTypeOf(std::string_view name) {
    struct Type {
        std::string_view extension;
        std::string_view content_type;
    };
    static constexpr std::array<Type, 14> kTypes = {{
        {"html", "text/html; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"ico", "image/x-icon"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"woff2", "font/woff2"},
        {"woff", "font/woff"},
        {"ttf", "font/ttf"},
        {"txt", "text/plain; charset=utf-8"},
        {"webmanifest", "application/manifest+json"},
    }};
    const auto dot = name.rfind('.');
    if (dot != std::string_view::npos) {
        const std::string_view extension = name.substr(dot + 1);
        for (const Type& t : kTypes) {
            if (beast::iequals(t.extension, extension)) {
                return t.content_type;
            }
        }
    }
    return "application/octet-stream";
}

bool Inside(const fs::path& root, const fs::path& path) {
    const auto [in_root, in_path] =
        std::mismatch(root.begin(), root.end(), path.begin(), path.end());
    return in_root == root.end() && in_path != path.end();
}

enum class Kind : std::uint8_t { kFile, kDirectory, kMissing, kRefused };

struct Found {
    Kind kind = Kind::kMissing;
    fs::path path;  // canonical, for a file
};

// What `candidate` (below the canonical `root`) is once every symlink is resolved. Refused when
// it leads out of the root or to something that is neither a file nor a directory.
Found Resolve(const fs::path& root, const fs::path& candidate) {
    std::error_code error;
    fs::path resolved = fs::canonical(candidate, error);
    if (error) {
        return {Kind::kMissing, {}};  // absent, a dangling or looping link, unreadable
    }
    if (!Inside(root, resolved)) {
        return {Kind::kRefused, {}};
    }
    const fs::file_status status = fs::status(resolved, error);
    if (error) {
        return {Kind::kMissing, {}};
    }
    if (fs::is_regular_file(status)) {
        return {Kind::kFile, std::move(resolved)};
    }
    return {fs::is_directory(status) ? Kind::kDirectory : Kind::kRefused, {}};
}

// A regular file held open, so that its ETag and its bytes come from the same file even when the
// console is rebuilt meanwhile.
class OpenFile {
public:
    static std::optional<OpenFile> Open(const fs::path& path) {
        // O_NOFOLLOW: `path` is canonical, so a link there now was put there since.
        OpenFile file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        if (file.fd_ < 0 || ::fstat(file.fd_, &file.stat_) != 0 || !S_ISREG(file.stat_.st_mode)) {
            return std::nullopt;
        }
        return file;
    }
    OpenFile(OpenFile&& other) noexcept : fd_(std::exchange(other.fd_, -1)), stat_(other.stat_) {}
    OpenFile& operator=(OpenFile&& other) noexcept {
        if (this != &other) {
            Close();
            fd_ = std::exchange(other.fd_, -1);
            stat_ = other.stat_;
        }
        return *this;
    }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    ~OpenFile() { Close(); }

    // "<size>-<mtime in ns>" in hex, with `suffix` for another encoding of the same file.
    [[nodiscard]] std::string ETag(std::string_view suffix) const {
        const auto size = static_cast<std::uint64_t>(stat_.st_size);
        const auto mtime_ns = static_cast<std::uint64_t>(stat_.st_mtim.tv_sec) * 1'000'000'000U +
                              static_cast<std::uint64_t>(stat_.st_mtim.tv_nsec);
        std::array<char, 48> text{};
        char* end = text.data();
        *end++ = '"';
        end = std::to_chars(end, text.data() + text.size(), size, 16).ptr;
        *end++ = '-';
        end = std::to_chars(end, text.data() + text.size(), mtime_ns, 16).ptr;
        return std::string(text.data(), end) + std::string(suffix) + '"';
    }

    // The whole file; nullopt on a read error or past kMaxFileBytes.
    [[nodiscard]] std::optional<std::string> Read() const {
        std::string bytes;
        bytes.reserve(static_cast<std::size_t>(std::max<off_t>(stat_.st_size, 0)));
        std::array<char, std::size_t{64} * 1024> chunk{};
        while (true) {
            const ssize_t n = ::read(fd_, chunk.data(), chunk.size());
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0) {
                return std::nullopt;
            }
            if (n == 0) {
                return bytes;
            }
            bytes.append(chunk.data(), static_cast<std::size_t>(n));
            if (bytes.size() > kMaxFileBytes) {
                return std::nullopt;
            }
        }
    }

private:
    explicit OpenFile(int fd) : fd_(fd) {}
    void Close() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

    int fd_ = -1;
    struct stat stat_ {};
};

void AddCommonHeaders(HttpResponse& out) {
    out.headers.emplace_back("X-Content-Type-Options", "nosniff");
    out.headers.emplace_back("Referrer-Policy", "same-origin");
}

HttpResponse ErrorResponse(ErrorCode code, std::string message) {
    HttpResponse out;
    const Error error{code, std::move(message), "path"};
    out.status = HttpStatusOf(error);
    out.body = ErrorJson(error);
    out.headers.emplace_back("Cache-Control", "no-store");
    AddCommonHeaders(out);
    return out;
}

// index.html under the (canonical) root: the console is built.
bool HasIndex(const fs::path& root) {
    return Resolve(root, root / "index.html").kind == Kind::kFile;
}

HttpResponse NoSuchFile(std::string_view path) {
    return ErrorResponse(ErrorCode::kNotFound, "no such file: " + std::string(path.substr(0, 128)));
}

}  // namespace

StaticFiles::StaticFiles(std::string root) : root_(std::move(root)) {}

bool StaticFiles::Serves(const HttpRequest& request) {
    if (request.method != "GET" && request.method != "HEAD") {
        return false;
    }
    const std::string_view path = request.path;
    return path != "/api" && !path.starts_with("/api/") && path != "/healthz" &&
           path != "/readyz" && path != "/metrics";
}

bool StaticFiles::Built() const {
    std::error_code error;
    const fs::path root = fs::canonical(root_, error);
    return !error && HasIndex(root);
}

HttpResponse StaticFiles::Serve(const HttpRequest& request) const {
    try {
        const std::string_view path = request.path;
        if (!IsSafePath(path)) {
            return NoSuchFile(path);
        }
        std::error_code error;
        const fs::path root = fs::canonical(root_, error);
        if (error) {
            return ErrorResponse(ErrorCode::kNotFound, std::string(kNotBuilt));
        }
        const bool asset = path.starts_with(kAssetsPrefix);
        // Relative, or "//etc/passwd" would replace the root when appended to it.
        const std::string_view relative =
            path.substr(std::min(path.find_first_not_of('/'), path.size()));
        Found found;
        if (!relative.empty()) {
            found = Resolve(root, root / relative);
        }
        if (found.kind == Kind::kRefused) {
            return NoSuchFile(path);
        }
        if (found.kind != Kind::kFile) {
            // A missing asset is 404, never the page: a script tag must not get HTML.
            if (asset || HasExtension(LastSegment(path))) {
                return HasIndex(root) ? NoSuchFile(path)
                                      : ErrorResponse(ErrorCode::kNotFound, std::string(kNotBuilt));
            }
            // A folder with its own index.html is an app of its own (the tenants' pages at /m/):
            // its routes get its page, everything else the console's.
            const std::string_view first = relative.substr(0, relative.find('/'));
            if (!first.empty()) {
                found = Resolve(root, root / first / "index.html");
            }
            if (found.kind != Kind::kFile) {
                found = Resolve(root, root / "index.html");
            }
            if (found.kind != Kind::kFile) {
                return ErrorResponse(ErrorCode::kNotFound, std::string(kNotBuilt));
            }
        }

        // The .gz beside it decides Vary even when this client does not take it.
        const Found gzip = Resolve(root, fs::path(found.path.string() + ".gz"));
        const bool has_gzip = gzip.kind == Kind::kFile;
        std::optional<OpenFile> file;
        bool gzipped = false;
        if (has_gzip && AcceptsGzip(request.Header("accept-encoding"))) {
            file = OpenFile::Open(gzip.path);
            gzipped = file.has_value();
        }
        if (!file) {
            file = OpenFile::Open(found.path);
        }
        if (!file) {
            return NoSuchFile(path);  // removed since it was resolved
        }

        HttpResponse out;
        out.content_type = std::string(ContentTypeOf(found.path.filename().string()));
        const std::string etag = file->ETag(gzipped ? "-gz" : "");
        out.headers.emplace_back("ETag", etag);
        // Hashed names change with their content; anything else must be revalidated.
        out.headers.emplace_back("Cache-Control",
                                 asset ? "public, max-age=31536000, immutable" : "no-cache");
        if (gzipped) {
            out.headers.emplace_back("Content-Encoding", "gzip");
        }
        if (has_gzip) {
            out.headers.emplace_back("Vary", "Accept-Encoding");
        }
        AddCommonHeaders(out);
        if (out.content_type.starts_with("text/html")) {
            out.headers.emplace_back("X-Frame-Options", "DENY");
            out.headers.emplace_back("Content-Security-Policy",
                                     std::string(kContentSecurityPolicy));
        }
        if (MatchesETag(request.Header("if-none-match"), etag)) {
            out.status = 304;
            return out;
        }
        // HEAD reads the file too: the server sends its length and drops the body.
        std::optional<std::string> bytes = file->Read();
        if (!bytes) {
            return ErrorResponse(ErrorCode::kInternal, "cannot read " + found.path.string());
        }
        out.body = std::move(*bytes);
        return out;
    } catch (const std::exception&) {
        // std::filesystem allocates paths; an exception here is memory running out.
        return ErrorResponse(ErrorCode::kInternal, "internal error");
    }
}

}  // namespace joule::api
