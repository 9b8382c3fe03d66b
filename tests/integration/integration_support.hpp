// Shared by the integration tests: polling with a deadline (brokers, servers and the runtime work
// on their own threads), instants from text, and the flat tariff most test sites bill with.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "core/ports.hpp"
#include "core/time.hpp"

namespace joule::test {

// Polls `done` every 20 ms for up to `seconds`; the last answer of `done` decides.
inline bool WaitFor(const std::function<bool()>& done, int seconds = 30) {
    for (int i = 0; i < seconds * 50; ++i) {
        if (done()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

inline Instant T(std::string_view text) { return ParseInstant(text, "t").value(); }

// How often `what` occurs in `text` (lines in a broker log).
inline std::size_t Count(const std::string& text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

// Tariff "flat": 1 yuan per kWh from `from` on.
inline TariffRecord FlatTariff(Instant from) {
    TariffRecord flat;
    flat.code = "flat";
    flat.tariff.name = "Flat 1.0000";
    TariffVersion v;
    v.effective_from = from;
    v.flat_price = UnitPrice{10'000};
    flat.tariff.versions.push_back(v);
    return flat;
}

}  // namespace joule::test
