#include "wire/meter_time.hpp"

#include <gtest/gtest.h>

namespace joule::wire {
namespace {

TEST(MeterTime, ConvertsInTheProjectZoneBothWays) {
    const Zone zone = Zone::Load("Asia/Shanghai").value();
    const Instant at = ParseInstant("2026-11-21T16:30:05Z", "at").value();
    const codec::MeterDateTime local = ToMeterTime(zone, at);
    EXPECT_EQ(local, (codec::MeterDateTime{2026, 11, 22, 0, 30, 5}));  // past local midnight
    EXPECT_EQ(FromMeterTime(zone, local), at);
}

}  // namespace
}  // namespace joule::wire
