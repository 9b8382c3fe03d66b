// `joule demo-site` options out of range are refused, not clamped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "app/live.hpp"

namespace joule::app {
namespace {

TEST(InitLiveSite, RefusesMoreMqttShopsThanTheFloorHasRooms) {
    LiveSiteOptions o;
    o.db_path = (std::filesystem::temp_directory_path() /
                 ("joule-live-site-" + std::to_string(getpid()) + ".db"))
                    .string();
    for (int n : {-1, kMaxMqttMeters + 1}) {
        o.mqtt_meters = n;
        auto refused = InitLiveSite(o);
        ASSERT_FALSE(refused.has_value()) << n;
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(refused.error().field, "mqtt_meters");
        EXPECT_FALSE(std::filesystem::exists(o.db_path)) << "refused before touching the store";
    }
}

}  // namespace
}  // namespace joule::app
