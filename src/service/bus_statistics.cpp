#include "service/bus_statistics.hpp"

#include <algorithm>

namespace joule {

BusSnapshot& BusStatistics::EntryOf(GatewayId gateway, BusSource source, Instant now) {
    auto [it, inserted] = by_gateway_.try_emplace(gateway.value);
    BusSnapshot& entry = it->second;
    if (inserted || entry.source != source) {
        // A gateway moved to another transport starts counting again: the old figures described
        // another bus.
        entry = BusSnapshot{source, {}, now, std::nullopt};
    }
    entry.last_activity = now;
    return entry;
}

void BusStatistics::RecordExchange(GatewayId gateway, ExchangeOutcome outcome,
                                   std::chrono::milliseconds reply_time, int64_t noise_bytes,
                                   int64_t bad_frames, Instant now) {
    std::lock_guard lock(mutex_);
    BusCounters& c = EntryOf(gateway, BusSource::kPlatform, now).counters;
    ++c.requests;
    switch (outcome) {
        case ExchangeOutcome::kAnswered: {
            ++c.answered;
            const int64_t ms = std::max<int64_t>(0, reply_time.count());
            c.reply_ms_total += ms;
            c.reply_ms_max = std::max(c.reply_ms_max, ms);
            break;
        }
        case ExchangeOutcome::kTimedOut:
            ++c.timeouts;
            break;
        case ExchangeOutcome::kLinkLost:
            ++c.link_losses;
            break;
    }
    c.noise_bytes += std::max<int64_t>(0, noise_bytes);
    c.bad_frames += std::max<int64_t>(0, bad_frames);
}

void BusStatistics::RecordRetry(GatewayId gateway, Instant now) {
    std::lock_guard lock(mutex_);
    ++EntryOf(gateway, BusSource::kPlatform, now).counters.retries;
}

void BusStatistics::RecordBadFrame(GatewayId gateway, Instant now) {
    std::lock_guard lock(mutex_);
    ++EntryOf(gateway, BusSource::kPlatform, now).counters.bad_frames;
}

void BusStatistics::RecordMeterError(GatewayId gateway, Instant now) {
    std::lock_guard lock(mutex_);
    ++EntryOf(gateway, BusSource::kPlatform, now).counters.meter_errors;
}

void BusStatistics::RecordReport(GatewayId gateway, const BusCounters& reported, Instant now) {
    std::lock_guard lock(mutex_);
    EntryOf(gateway, BusSource::kGateway, now).counters = reported;
}

std::optional<BusSnapshot> BusStatistics::Get(GatewayId gateway) const {
    std::lock_guard lock(mutex_);
    auto it = by_gateway_.find(gateway.value);
    if (it == by_gateway_.end())
        return std::nullopt;
    return it->second;
}

}  // namespace joule
