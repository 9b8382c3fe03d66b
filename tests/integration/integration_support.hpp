// Shared by the integration tests: polling with a deadline (brokers, servers and the runtime work
// on their own threads), instants from text, the flat tariff most test sites bill with, temporary
// directories and the store checks every test makes.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

#include "core/ports.hpp"
#include "core/time.hpp"
#include "service/service_test_support.hpp"

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

using service_test::T;

// How often `what` occurs in `text` (lines in a broker log).
inline std::size_t Count(const std::string& text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

using service_test::FlatTariff;

// A new directory /tmp/<prefix>-XXXXXX; the test removes it.
using service_test::ExpectLedgerBalanced;
using service_test::MakeTempDir;

// How many readings meter `code` of `project` has stored.
inline std::size_t ReadingCount(Store& store, std::string_view code,
                                ProjectId project = ProjectId{1}) {
    auto tx = store.Begin().value();
    const auto meter = tx->FindMeter(project, code).value();
    return meter ? tx->ListReadings(meter->id, 100'000).value().size() : 0;
}

}  // namespace joule::test
