// The web console's files (the single-page app Vite builds into web/dist): GET and HEAD of every
// path that is not the API's (/api, /healthz, /readyz, /metrics) answered from one directory.
//
// - Never outside the root: a path with a "." or ".." segment, a segment starting with '.', a
//   backslash or a NUL is 404, and a file whose canonical path (symlinks resolved) leaves the
//   canonical root is 404.
// - "/" is index.html; so is a missing path whose last segment has no extension (an SPA route such
//   as /rooms/A101), outside /assets/. A missing file with an extension is 404. A folder with an
//   index.html of its own is a second app: "/m/" and "/m/anything" are m/index.html.
// - /assets/ holds content-hashed names: cached for a year, immutable. Everything else is
//   "no-cache" with an ETag (size and mtime), and If-None-Match answers 304.
// - With "gzip" in Accept-Encoding and `<file>.gz` beside the file, that is sent with
//   Content-Encoding: gzip (Vary: Accept-Encoding whenever a .gz exists).
// - Errors are the API's JSON body; a missing index.html says how to build the console.
//
// Files are read on every request (they are few and small; a rebuilt console shows at once).
// Thread-safety: Serve() is const and keeps no state, so it may be called concurrently.
#pragma once

#include <string>

#include "api/http_server.hpp"

namespace joule::api {

class StaticFiles {
public:
    // `root`: the directory of index.html and assets/; it need not exist yet.
    explicit StaticFiles(std::string root);

    // Whether `request` is the console's: GET or HEAD of a path other than /api, /api/...,
    // /healthz, /readyz and /metrics.
    [[nodiscard]] static bool Serves(const HttpRequest& request);
    // Answers a request Serves() accepts; never throws.
    [[nodiscard]] HttpResponse Serve(const HttpRequest& request) const;
    // Whether root/index.html is a file (the console has been built).
    [[nodiscard]] bool Built() const;
    [[nodiscard]] const std::string& root() const { return root_; }

private:
    std::string root_;
};

}  // namespace joule::api
