// Decoded measurement values shared by the codecs. Meters report decimals (BCD with an implied
// point, Modbus registers with a scale, IEEE-754 floats); codecs turn each into an exact decimal so
// no floating-point type ever carries energy, volume or money.
#pragma once

#include <cstdint>
#include <string>

namespace joule::codec {

// mantissa × 10^-decimals: 123.45 kWh is {12345, 2}; -0.123 kW is {-123, 3}.
struct Decimal {
    std::int64_t mantissa = 0;
    int decimals = 0;

    friend bool operator==(const Decimal&, const Decimal&) = default;
};

// "123.45", "-0.123", "7" (decimals 0). Exact; no rounding.
[[nodiscard]] std::string FormatDecimal(Decimal value);

// The same value at `decimals` places: more places multiply exactly; fewer places round half away
// from zero. Returns false on int64 overflow.
[[nodiscard]] bool Rescale(Decimal value, int decimals, std::int64_t* out);

// A meter's civil clock as it reports it (no zone: the project's zone applies later).
// Fields are range-checked by the codec that decodes them.
struct MeterDateTime {
    int year = 2000;  // full year, e.g. 2026
    int month = 1;
    int day = 1;
    int hour = 0;
    int minute = 0;
    int second = 0;

    friend bool operator==(const MeterDateTime&, const MeterDateTime&) = default;
};

// True when the fields form a real date and time (leap years included).
[[nodiscard]] bool IsValid(const MeterDateTime& t);
// "2026-11-21 20:45:00"
[[nodiscard]] std::string FormatMeterDateTime(const MeterDateTime& t);

}  // namespace joule::codec
