// Money and quantities as exact integers of fixed sub-units (ARCHITECTURE.md "Money").
//
//   Money      fen (0.01 yuan): what is paid, shown and kept in the ledger.
//   Quantity   thousandths of the billing unit: Wh for kWh, litres for m^3.
//   UnitPrice  0.0001 yuan per billing unit (prices have up to 4 decimals).
//   FineMoney  1e-11 yuan = 1e-9 fen: the exact product Quantity x UnitPrice x loss factor
//              (1e-3 unit x 1e-4 yuan/unit x 1e-4) with nothing lost. Charges are computed in
//              FineMoney and turned into fen only by RoundFineToFen (core/rounding.hpp).
#pragma once

#include <compare>
#include <cstdint>

namespace joule {

struct Money {
    int64_t fen = 0;
    friend constexpr auto operator<=>(Money, Money) = default;  // NOLINT(modernize-use-nullptr)
    constexpr Money operator+(Money o) const { return {fen + o.fen}; }
    constexpr Money operator-(Money o) const { return {fen - o.fen}; }
    constexpr Money operator-() const { return {-fen}; }
    constexpr Money& operator+=(Money o) {
        fen += o.fen;
        return *this;
    }
    constexpr Money& operator-=(Money o) {
        fen -= o.fen;
        return *this;
    }
};

struct Quantity {
    int64_t milli = 0;  // Wh for electricity, litres for water
    friend constexpr auto operator<=>(Quantity,
                                      Quantity) = default;  // NOLINT(modernize-use-nullptr)
    constexpr Quantity operator+(Quantity o) const { return {milli + o.milli}; }
    constexpr Quantity operator-(Quantity o) const { return {milli - o.milli}; }
    constexpr Quantity& operator+=(Quantity o) {
        milli += o.milli;
        return *this;
    }
    constexpr Quantity& operator-=(Quantity o) {
        milli -= o.milli;
        return *this;
    }
};

struct UnitPrice {
    int64_t ten_thousandths = 0;  // 0.0001 yuan per kWh or per m^3
    friend constexpr auto operator<=>(UnitPrice,
                                      UnitPrice) = default;  // NOLINT(modernize-use-nullptr)
    constexpr UnitPrice operator+(UnitPrice o) const {
        return {ten_thousandths + o.ten_thousandths};
    }
};

struct FineMoney {
    int64_t value = 0;  // 1e-11 yuan
    friend constexpr auto operator<=>(FineMoney,
                                      FineMoney) = default;  // NOLINT(modernize-use-nullptr)
    constexpr FineMoney operator+(FineMoney o) const { return {value + o.value}; }
    constexpr FineMoney operator-(FineMoney o) const { return {value - o.value}; }
    constexpr FineMoney& operator+=(FineMoney o) {
        value += o.value;
        return *this;
    }
};

inline constexpr int64_t kFinePerFen = 1'000'000'000;
inline constexpr int kMoneyScale = 2;     // decimal places of yuan in text
inline constexpr int kPriceScale = 4;     // decimal places of a unit price in text
inline constexpr int kQuantityScale = 3;  // decimal places of kWh / m^3 in text
inline constexpr int32_t kBasisPointsOne = 10'000;

// stored: never renumber.
// stored: never renumber. Heat is metered in kWh like electricity and controlled by a valve.
enum class Utility : uint8_t { kElectricity = 1, kWater = 2, kHeat = 3 };

}  // namespace joule
