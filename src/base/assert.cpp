#include "base/assert.hpp"

#include <cstdio>
#include <cstdlib>

namespace joule::detail {

void AssertFailed(const char* expr, const char* file, int line, const char* msg) {
    std::fprintf(stderr, "joule: invariant violated at %s:%d: %s (%s)\n", file, line, msg, expr);
    std::fflush(stderr);
    std::abort();
}

}  // namespace joule::detail
