#include "service/bus_statistics.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

using std::chrono::milliseconds;

const Instant kStart = Instant{std::chrono::seconds{1'800'000'000}};

TEST(BusStatistics, NothingIsKnownOfAGatewayNeverCounted) {
    BusStatistics bus;
    EXPECT_FALSE(bus.Get(GatewayId{1}).has_value());
}

TEST(BusStatistics, EachRequestIsCountedByItsOutcome) {
    BusStatistics bus;
    const GatewayId g{7};
    bus.RecordExchange(g, ExchangeOutcome::kAnswered, milliseconds{80}, 0, 0, kStart);
    bus.RecordExchange(g, ExchangeOutcome::kAnswered, milliseconds{120}, 5, 1,
                       kStart + std::chrono::seconds{1});
    bus.RecordExchange(g, ExchangeOutcome::kTimedOut, milliseconds{1500}, 0, 0,
                       kStart + std::chrono::seconds{3});
    bus.RecordRetry(g, kStart + std::chrono::seconds{3});
    bus.RecordExchange(g, ExchangeOutcome::kLinkLost, milliseconds{3}, 0, 0,
                       kStart + std::chrono::seconds{4});
    bus.RecordMeterError(g, kStart + std::chrono::seconds{5});
    bus.RecordBadFrame(g, kStart + std::chrono::seconds{6});

    const auto s = bus.Get(g);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->source, BusSource::kPlatform);
    EXPECT_EQ(s->since, kStart);
    EXPECT_EQ(s->last_activity, kStart + std::chrono::seconds{6});
    const BusCounters& c = s->counters;
    EXPECT_EQ(c.requests, 4);
    EXPECT_EQ(c.answered, 2);
    EXPECT_EQ(c.timeouts, 1);
    EXPECT_EQ(c.link_losses, 1);
    EXPECT_EQ(c.retries, 1);
    EXPECT_EQ(c.meter_errors, 1);
    EXPECT_EQ(c.bad_frames, 2);  // one seen on the line, one refused after decoding
    EXPECT_EQ(c.noise_bytes, 5);
    // Reply times are those of answered requests only: a timeout's wait is not a reply time.
    EXPECT_EQ(c.reply_ms_total, 200);
    EXPECT_EQ(c.reply_ms_max, 120);
    EXPECT_FALSE(bus.Get(GatewayId{8}).has_value());  // gateways are counted apart
}

TEST(BusStatistics, AGatewaysReportReplacesItsLastOne) {
    BusStatistics bus;
    const GatewayId g{3};
    bus.RecordReport(g, BusCounters{.requests = 100, .answered = 90}, kStart);
    bus.RecordReport(g, BusCounters{.requests = 150, .answered = 141},
                     kStart + std::chrono::seconds{60});
    const auto s = bus.Get(g);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->source, BusSource::kGateway);
    EXPECT_EQ(s->counters.requests, 150);  // cumulative on the gateway: replaced, not added
    EXPECT_EQ(s->counters.answered, 141);
    EXPECT_EQ(s->since, kStart);
    EXPECT_EQ(s->last_activity, kStart + std::chrono::seconds{60});
}

TEST(BusStatistics, AGatewayMovedToAnotherTransportStartsAgain) {
    BusStatistics bus;
    const GatewayId g{4};
    bus.RecordExchange(g, ExchangeOutcome::kTimedOut, milliseconds{1500}, 0, 0, kStart);
    bus.RecordReport(g, BusCounters{.requests = 10, .answered = 10},
                     kStart + std::chrono::seconds{9});
    const auto s = bus.Get(g);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->source, BusSource::kGateway);
    EXPECT_EQ(s->since, kStart + std::chrono::seconds{9});
    EXPECT_EQ(s->counters.timeouts, 0);
}

}  // namespace
}  // namespace joule
