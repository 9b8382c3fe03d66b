// JSON forms of core types, shared by the store (tariffs are kept as JSON documents), the CLI's
// site and scenario files, and later the HTTP API. Amounts, prices and quantities are decimal
// strings, never JSON numbers; instants are RFC 3339 strings. Unknown fields are rejected and
// every error names the field path ("versions[0].tou.prices.peak").
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "core/prepaid.hpp"
#include "core/tariff.hpp"
#include "core/units.hpp"

namespace joule::wire {

using Json = nlohmann::json;

// Walks one JSON object: typed getters that record which keys were read, then Finish() rejects
// any key that was not. Errors carry the full path.
class ObjectReader {
public:
    ObjectReader(const Json& object, std::string path);
    [[nodiscard]] Status Check() const;  // the value is an object

    [[nodiscard]] bool Has(std::string_view key) const;
    [[nodiscard]] Result<std::string> String(std::string_view key, std::size_t max_bytes = 256);
    [[nodiscard]] Result<std::string> OptString(std::string_view key, std::string fallback,
                                                std::size_t max_bytes = 256);
    [[nodiscard]] Result<int64_t> Integer(std::string_view key, int64_t min, int64_t max);
    [[nodiscard]] Result<int64_t> OptInteger(std::string_view key, int64_t fallback, int64_t min,
                                             int64_t max);
    [[nodiscard]] Result<bool> OptBool(std::string_view key, bool fallback);
    [[nodiscard]] Result<Money> MoneyField(std::string_view key);
    [[nodiscard]] Result<Money> OptMoney(std::string_view key, Money fallback);
    [[nodiscard]] Result<UnitPrice> Price(std::string_view key);
    [[nodiscard]] Result<Quantity> QuantityField(std::string_view key);
    [[nodiscard]] Result<Instant> InstantField(std::string_view key);
    [[nodiscard]] Result<const Json*> Array(std::string_view key, std::size_t max_items);
    [[nodiscard]] Result<const Json*> OptArray(std::string_view key, std::size_t max_items);
    [[nodiscard]] Result<const Json*> Object(std::string_view key);
    [[nodiscard]] Result<const Json*> OptObject(std::string_view key);
    // Any JSON value (the caller checks its type); kInvalidArgument when missing.
    [[nodiscard]] Result<const Json*> Value(std::string_view key) { return Get(key); }
    [[nodiscard]] std::string PathOf(std::string_view key) const;
    [[nodiscard]] const std::string& path() const { return path_; }
    // Fails naming the first key that no getter asked for.
    [[nodiscard]] Status Finish() const;

private:
    [[nodiscard]] Result<const Json*> Get(std::string_view key);
    const Json& object_;
    std::string path_;
    std::set<std::string, std::less<>> seen_;
};

[[nodiscard]] Result<Tariff> TariffFromJson(const Json& j, const std::string& path);
[[nodiscard]] Json TariffToJson(const Tariff& tariff);
[[nodiscard]] Result<TariffVersion> TariffVersionFromJson(const Json& j, const std::string& path);
[[nodiscard]] Json TariffVersionToJson(const TariffVersion& v);

[[nodiscard]] Result<ControlScheme> ControlSchemeFromJson(const Json& j, const std::string& path);
[[nodiscard]] Json ControlSchemeToJson(const ControlScheme& scheme);

[[nodiscard]] std::string MoneyText(Money m);        // "12.34"
[[nodiscard]] std::string PriceText(UnitPrice p);    // "0.8000"
[[nodiscard]] std::string QuantityText(Quantity q);  // "12.345"
[[nodiscard]] Result<Utility> UtilityFromText(std::string_view text, std::string_view field);
[[nodiscard]] std::string_view UtilityText(Utility u);

}  // namespace joule::wire
