// A meter's civil clock (codec::MeterDateTime, no zone) to and from UTC instants in the project's
// time zone. Shared by the acquisition runtime (stamping readings, command deadlines, time sync)
// and the simulator (setting meter clocks).
#pragma once

#include "codec/values.hpp"
#include "core/time.hpp"

namespace joule::wire {

[[nodiscard]] codec::MeterDateTime ToMeterTime(const Zone& zone, Instant at);
// Precondition: codec::IsValid(t).
[[nodiscard]] Instant FromMeterTime(const Zone& zone, const codec::MeterDateTime& t);

}  // namespace joule::wire
