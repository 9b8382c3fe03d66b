#include "app/site_file.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace joule::app {
namespace {

using wire::Json;

Json MinimalSite() {
    return Json::parse(R"({
      "project": {"code": "p", "name": "P"},
      "models": [{"code": "m", "max_rate_per_hour": "20"}],
      "buildings": [{"code": "A", "floors": [{"code": "1F", "rooms": [{"code": "101", "area": "35.5"}]}]}],
      "gateways": [{"code": "g", "transport": "dtu"}],
      "tariffs": [{"code": "flat", "name": "Flat", "versions": [
          {"effective_from": "2026-01-01T00:00:00Z", "price": "0.8"}]}],
      "meters": [{"code": "E101", "model": "m", "gateway": "g", "room": "101"}]
    })");
}

TEST(SiteFile, ParsesAMinimalSite) {
    auto site = ParseSite(MinimalSite());
    ASSERT_TRUE(site.has_value()) << site.error().ToString();
    EXPECT_EQ(site->project.time_zone, "Asia/Shanghai");
    EXPECT_EQ(site->models[0].spec.max_rate_per_hour, 20'000);
    EXPECT_EQ(site->buildings[0].floors[0].rooms[0].area_dm2, 3550);
    EXPECT_EQ(site->meters[0].room_code, "101");
}

TEST(SiteFile, ErrorsNameTheFieldPath) {
    struct Case {
        const char* pointer;
        Json value;
        const char* field;
    };
    const Case cases[] = {
        {"/project/time_zone", "Mars/Olympus", "project.time_zone"},
        {"/models/0/max_rate_per_hour", "-1", "models[0].max_rate_per_hour"},
        {"/gateways/0/transport", "carrier-pigeon", "gateways[0].transport"},
        {"/tariffs/0/versions/0/price", "cheap", "tariffs[0].versions[0].price"},
        {"/meters/0/colour", "red", "meters[0].colour"},
        {"/buildings/0/floors/0/rooms/0/area", "big", "buildings[0].floors[0].rooms[0].area"},
    };
    for (const Case& c : cases) {
        Json site = MinimalSite();
        site[Json::json_pointer(c.pointer)] = c.value;
        auto r = ParseSite(site);
        ASSERT_FALSE(r.has_value()) << c.pointer;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(r.error().field, c.field) << r.error().ToString();
    }
}

// A Modbus-TCP gateway's endpoint is where the platform connects: checked when the site is read.
TEST(SiteFile, AModbusTcpEndpointIsAHostAndPort) {
    Json site = MinimalSite();
    site["gateways"][0]["transport"] = "modbus_tcp";
    site["gateways"][0]["endpoint"] = "10.0.0.7";  // the Modbus port 502 by default
    EXPECT_TRUE(ParseSite(site).has_value());
    for (const char* bad : {"10.0.0.7:abc", ":502", "10.0.0.7:0", ""}) {
        site["gateways"][0]["endpoint"] = bad;
        auto r = ParseSite(site);
        ASSERT_FALSE(r.has_value()) << bad;
        EXPECT_EQ(r.error().field, "gateways[0].endpoint") << bad;
    }
}

TEST(AccountFile, RequiresOpeningReadingsAndTime) {
    Json account = Json::parse(R"({"number": "A1", "tenant": "T", "tariff": "flat",
        "meters": [{"meter": "E101", "reading": "12.30"}], "top_up": "100.00",
        "opened_at": "2026-11-01T00:00:00+08:00", "scheme": {"alarm1": "30"}})");
    auto ok = ParseOpenAccount(account, "", "p");
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_EQ(ok->meters[0].opening_total.milli, 12'300);
    EXPECT_EQ(ok->first_top_up.fen, 10'000);
    account["top_up"] = 100;
    auto bad = ParseOpenAccount(account, "", "p");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().field, "top_up");
}

TEST(SiteFile, AccountBillingModeAndPurchaseCount) {
    Json account = Json::parse(R"({"number": "A1", "tenant": "T", "tariff": "flat",
        "meters": [{"meter": "E101", "reading": "0"}], "billing_mode": "meter",
        "purchase_count": 12, "opened_at": "2026-11-01T00:00:00+08:00"})");
    auto ok = ParseOpenAccount(account, "", "p");
    ASSERT_TRUE(ok.has_value()) << ok.error().ToString();
    EXPECT_EQ(ok->billing_mode, BillingMode::kMeter);
    EXPECT_EQ(ok->purchase_count, 12);
    account["billing_mode"] = "prepaid";
    auto bad = ParseOpenAccount(account, "", "p");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().field, "billing_mode");
    account["billing_mode"] = "platform";
    auto stray = ParseOpenAccount(account, "", "p");
    ASSERT_FALSE(stray.has_value());
    EXPECT_EQ(stray.error().field, "purchase_count");
    account.erase("purchase_count");
    EXPECT_EQ(ParseOpenAccount(account, "", "p")->billing_mode, BillingMode::kPlatform);
}

}  // namespace
}  // namespace joule::app
