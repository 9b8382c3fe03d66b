// Strong ids: distinct types per entity, zero is invalid (STYLE.md "Ids").
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace joule {

template <class Tag>
struct Id {
    int64_t value = 0;
    [[nodiscard]] constexpr bool valid() const { return value > 0; }
    friend constexpr auto operator<=>(Id, Id) = default;  // NOLINT(modernize-use-nullptr)
};

using ProjectId = Id<struct ProjectTag>;
using BuildingId = Id<struct BuildingTag>;
using FloorId = Id<struct FloorTag>;
using RoomId = Id<struct RoomTag>;
using GatewayId = Id<struct GatewayTag>;
using MeterId = Id<struct MeterTag>;
using ModelId = Id<struct ModelTag>;
using AccountId = Id<struct AccountTag>;
using TariffId = Id<struct TariffTag>;
using LedgerAccountId = Id<struct LedgerAccountTag>;

}  // namespace joule

template <class Tag>
struct std::hash<joule::Id<Tag>> {
    std::size_t operator()(joule::Id<Tag> id) const noexcept {
        return std::hash<int64_t>{}(id.value);
    }
};
