#include "wire/meter_time.hpp"

namespace joule::wire {

codec::MeterDateTime ToMeterTime(const Zone& zone, Instant at) {
    const LocalTime local = zone.ToLocal(at);
    const auto day = date::floor<date::days>(local);
    const date::year_month_day ymd{day};
    const date::hh_mm_ss hms{local - day};
    return codec::MeterDateTime{static_cast<int>(ymd.year()),
                                static_cast<int>(static_cast<unsigned>(ymd.month())),
                                static_cast<int>(static_cast<unsigned>(ymd.day())),
                                static_cast<int>(hms.hours().count()),
                                static_cast<int>(hms.minutes().count()),
                                static_cast<int>(hms.seconds().count())};
}

Instant FromMeterTime(const Zone& zone, const codec::MeterDateTime& t) {
    const date::local_days day{date::year{t.year} / t.month / t.day};
    return zone.ToInstant(LocalTime{day} + std::chrono::hours{t.hour} +
                          std::chrono::minutes{t.minute} + Seconds{t.second});
}

}  // namespace joule::wire
