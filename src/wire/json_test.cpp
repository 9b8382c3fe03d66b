#include "wire/json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace joule::wire {
namespace {

const char* kTouTariff = R"({
  "name": "Mall TOU with tiers",
  "versions": [{
    "effective_from": "2026-01-01T00:00:00+08:00",
    "tou": {
      "prices": {"sharp": "1.2000", "peak": "1.0000", "flat": "0.7000", "valley": "0.3500"},
      "day_schedules": {
        "standard": [{"start": "00:00", "period": "valley"}, {"start": "08:00", "period": "flat"},
                     {"start": "10:00", "period": "peak"}, {"start": "19:00", "period": "sharp"},
                     {"start": "21:00", "period": "flat"}, {"start": "23:00", "period": "valley"}],
        "rest": [{"start": "00:00", "period": "valley"}, {"start": "08:00", "period": "flat"}]
      },
      "seasons": [{"start": "01-01", "workday": "standard", "weekend": "rest", "holiday": "rest"}],
      "holidays": ["2026-10-01", "2026-10-02"],
      "extra_workdays": ["2026-10-10"],
      "weekend": ["sat", "sun"]
    },
    "tiers": {"cycle": "monthly", "steps": [{"upto": "200", "increment": "0"},
                                             {"upto": "400", "increment": "0.0500"},
                                             {"increment": "0.3000"}]},
    "surcharges": [{"name": "service fee", "price": "0.0200"}],
    "loss_percent": "2.5"
  }]
})";

TEST(TariffJson, ParsesAndRoundTrips) {
    auto parsed = TariffFromJson(Json::parse(kTouTariff), "");
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    const TariffVersion& v = parsed->versions[0];
    EXPECT_EQ(v.base, PriceBase::kTou);
    EXPECT_EQ(v.tou.prices[static_cast<std::size_t>(Period::kValley)].ten_thousandths, 3500);
    EXPECT_EQ(v.tou.day_schedules.size(), 2U);
    EXPECT_EQ(v.tiers.size(), 3U);
    EXPECT_EQ(v.tiers[1].upto.milli, 400'000);
    EXPECT_EQ(v.loss_basis_points, 250);
    EXPECT_EQ(v.tou.holidays.size(), 2U);
    auto again = TariffFromJson(TariffToJson(*parsed), "");
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_EQ(TariffToJson(*again), TariffToJson(*parsed));
}

TEST(TariffJson, RejectsWithFieldPath) {
    struct Case {
        const char* json;
        const char* field;
    };
    const Case cases[] = {
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01T00:00:00Z","price":0.8}]})",
         "versions[0].price"},
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01","price":"0.8"}]})",
         "versions[0].effective_from"},
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01T00:00:00Z","price":"0.8","colour":1}]})",
         "versions[0].colour"},
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01T00:00:00Z","price":"0.80001"}]})",
         "versions[0].price"},
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01T00:00:00Z","price":"-1"}]})",
         "versions[0].price"},
        {R"({"name":"x","versions":[{"effective_from":"2026-02-01T00:00:00Z","price":"1"},
                                     {"effective_from":"2026-01-01T00:00:00Z","price":"1"}]})",
         "versions[1].effective_from"},
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01T00:00:00Z","price":"1",
             "tiers":{"cycle":"weekly","steps":[{"increment":"0"}]}}]})",
         "versions[0].tiers.cycle"},
        {R"({"name":"x","versions":[{"effective_from":"2026-01-01T00:00:00Z","price":"1",
             "loss_percent":"75"}]})",
         "versions[0].loss_percent"},
    };
    for (const Case& c : cases) {
        auto r = TariffFromJson(Json::parse(c.json), "");
        ASSERT_FALSE(r.has_value()) << c.json;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(r.error().field, c.field) << r.error().ToString();
    }
}

TEST(ControlSchemeJson, DefaultsAndValidation) {
    auto s = ControlSchemeFromJson(Json::parse(R"({"alarm1":"30","overdraft":"10.00"})"), "scheme");
    ASSERT_TRUE(s.has_value()) << s.error().ToString();
    EXPECT_EQ(s->alarm1.fen, 3000);
    EXPECT_EQ(s->overdraft.fen, 1000);
    auto bad = ControlSchemeFromJson(Json::parse(R"({"alarm1":"1","alarm2":"5"})"), "scheme");
    ASSERT_FALSE(bad.has_value());
    EXPECT_EQ(bad.error().field, "scheme.alarm2");
    auto again = ControlSchemeFromJson(ControlSchemeToJson(*s), "");
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(ControlSchemeToJson(*again), ControlSchemeToJson(*s));
}

}  // namespace
}  // namespace joule::wire
