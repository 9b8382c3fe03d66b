// Exact rescaling of the simulated meter's values to a wire format's places. Registers truncate
// (a meter shows what it has counted so far: 12.349 kWh reads 12.34), instantaneous values round
// half away from zero as the codecs do. Internal to src/sim.
#pragma once

#include <cstdint>
#include <optional>

#include "codec/device_model.hpp"
#include "codec/values.hpp"

namespace joule::sim {

// `value` at `places` (>= 0) decimal places: truncated toward zero when `truncate`, else rounded
// half away from zero. nullopt on int64 overflow.
[[nodiscard]] inline std::optional<codec::Decimal> AtPlaces(codec::Decimal value, int places,
                                                            bool truncate) {
    if (!truncate || places >= value.decimals) {
        std::int64_t out = 0;
        if (!codec::Rescale(value, places, &out))
            return std::nullopt;
        return codec::Decimal{out, places};
    }
    std::int64_t mantissa = value.mantissa;
    for (int d = value.decimals; d > places; --d)
        mantissa /= 10;  // C++ division truncates toward zero
    return codec::Decimal{mantissa, places};
}

// Cumulative registers (truncated on the wire) versus instantaneous values (rounded).
[[nodiscard]] inline bool IsRegisterPoint(codec::Point point) {
    switch (point) {
        case codec::Point::kEnergyTotal:
        case codec::Point::kEnergySharp:
        case codec::Point::kEnergyPeak:
        case codec::Point::kEnergyFlat:
        case codec::Point::kEnergyValley:
        case codec::Point::kEnergyReverse:
        case codec::Point::kVolumeTotal:
        case codec::Point::kHeatTotal:
        case codec::Point::kDailyFrozenEnergy:
            return true;
        default:
            return false;
    }
}

// CJ/T 188: litres (volume) or Wh (heat) in one unit of `code`, or nullopt when the code is not
// an exact volume (L, m3 and their ×10/×100 forms) or heat (Wh, kWh, MWh and theirs) unit.
[[nodiscard]] std::optional<std::int64_t> Cjt188BasePerUnit(std::uint8_t code, bool volume);

}  // namespace joule::sim
