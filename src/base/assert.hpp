// Programmer-error checks. JOULE_ASSERT stays on in release builds: a broken ledger or billing
// invariant must stop the process, never write wrong money (TigerBeetle, Envoy RELEASE_ASSERT).
// Never use it on external input; that gets an Error.
#pragma once

namespace joule::detail {
[[noreturn]] void AssertFailed(const char* expr, const char* file, int line, const char* msg);
}  // namespace joule::detail

#define JOULE_ASSERT(cond, msg)                                              \
    do {                                                                     \
        if (!(cond)) [[unlikely]] {                                          \
            ::joule::detail::AssertFailed(#cond, __FILE__, __LINE__, (msg)); \
        }                                                                    \
    } while (false)
