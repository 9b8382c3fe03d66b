// POST /projects/{project}/tariffs/{tariff}/quote: the tariff quote (试算) over the API.
#include <cstdio>

#include "api/api_test_support.hpp"
#include "service/site_service.hpp"

namespace joule::api {
namespace {

using service_test::Kwh;
using service_test::T;

// Projects "mall" and "park", each with tariff "flat" (1 yuan/kWh) and A001 on m1, which uses
// 5 kWh a day from 2026-11-01 (local midnights); fin is a finance user of mall only.
class ApiQuoteTest : public test::ApiHarness {
protected:
    void SetUp() override {
        now_ = T("2026-10-31T16:00:00Z");
        for (const char* code : {"mall", "park"}) {
            SiteSpec site = service_test::FlatSite(code);
            site.meters.push_back(service_test::SiteMeter(site, "m1"));
            ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
            OpenAccountRequest open;
            open.project_code = code;
            open.number = "A001";
            open.tenant_name = "Tea shop";
            open.tariff_code = "flat";
            open.meters.push_back({"m1", Kwh(100), std::nullopt});
            open.opened_at = now_;
            open.first_top_up = Money{100'000};
            ASSERT_TRUE(billing_.OpenAccount(open, Actor{}, now_).has_value());
            for (int day = 1; day <= 10; ++day) {
                char at[32];
                std::snprintf(at, sizeof at, "2026-11-%02dT16:00:00Z", day);
                ReadingItem item{code, "m1",
                                 ReadingInput{T(at), T(at), Kwh(100 + 5 * day), false, {}}};
                ASSERT_TRUE(billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), T(at))
                                .has_value());
            }
        }
        now_ = T("2026-11-20T00:00:00Z");
        AddUser("fin", "finance", {"mall"});
        AddUser("eng", "engineering", {"mall"});
    }

    HttpResponse Quote(const Session& s, const Json& body, const std::string& project = "mall",
                       const std::string& tariff = "flat") {
        return As(s, "POST", "/api/v1/projects/" + project + "/tariffs/" + tariff + "/quote",
                  body.dump());
    }
    static Json Period() {
        return Json{{"from", "2026-11-05T00:00:00+08:00"}, {"to", "2026-11-11T00:00:00+08:00"}};
    }
};

TEST_F(ApiQuoteTest, ACandidateIsPricedBesideWhatWasCharged) {
    const Session fin = Login("fin");
    Json body = Period();
    body["version"] = Json{{"price", "1.5000"}};
    auto r = Quote(fin, body);
    ASSERT_EQ(r.status, 200) << r.body;
    const Json quote = Body(r);
    EXPECT_EQ(quote["tariff"], "flat");
    EXPECT_EQ(quote["total"]["readings"], 6);
    EXPECT_EQ(quote["total"]["energy"], "30.000");
    EXPECT_EQ(quote["total"]["charged"], "30.00");
    EXPECT_EQ(quote["total"]["quoted"], "45.00");
    EXPECT_EQ(quote["total"]["difference"], "15.00");
    EXPECT_EQ(quote["total"]["energy_by_period"]["flat"], "30.000");
    EXPECT_EQ(quote["version"]["price"], "1.5000");
    const Json lines = quote["lines"];
    ASSERT_EQ(lines.size(), 1U);
    EXPECT_EQ(lines[0]["meter"], "m1");
    EXPECT_EQ(lines[0]["account"], "A001");
    EXPECT_EQ(lines[0]["unpriced_readings"], 0);
    // Without a candidate the tariff re-prices its own readings: nothing differs.
    auto same = Quote(fin, Period());
    ASSERT_EQ(same.status, 200) << same.body;
    EXPECT_EQ(Body(same)["total"]["difference"], "0.00");
    EXPECT_TRUE(Body(same)["version"].is_null());
    // Quoting added no version.
    EXPECT_EQ(Body(As(fin, "GET", "/api/v1/projects/mall/tariffs/flat"))["versions"].size(), 1U);
}

TEST_F(ApiQuoteTest, BadInputNamesTheFieldAndForeignProjectsAreNotFound) {
    const Session fin = Login("fin");
    const auto field_of = [&](const HttpResponse& r, int status) {
        EXPECT_EQ(r.status, status) << r.body;
        return Body(r).value("field", "");
    };
    Json unknown = Period();
    unknown["tariff_code"] = "flat";
    EXPECT_EQ(field_of(Quote(fin, unknown), 400), "tariff_code");
    Json backwards = Period();
    backwards["to"] = "2026-11-01T00:00:00+08:00";
    EXPECT_EQ(field_of(Quote(fin, backwards), 400), "to");
    Json no_from = Period();
    no_from.erase("from");
    EXPECT_EQ(field_of(Quote(fin, no_from), 400), "from");
    Json both = Period();
    both["version"] = Json{{"price", "1.0000"}, {"tou", Json::object()}};
    EXPECT_EQ(field_of(Quote(fin, both), 400), "version.price");
    Json negative = Period();
    negative["version"] = Json{{"price", "-1.0000"}};
    EXPECT_TRUE(field_of(Quote(fin, negative), 400).starts_with("version"));
    Json meters = Period();
    meters["meters"] = Json::array({"m1", "m9"});
    EXPECT_EQ(field_of(Quote(fin, meters), 404), "meters[1]");
    meters["meters"] = Json::array({"m1", 7});
    EXPECT_EQ(field_of(Quote(fin, meters), 400), "meters[1]");
    EXPECT_EQ(field_of(Quote(fin, Period(), "mall", "nope"), 404), "tariff");
    EXPECT_EQ(field_of(Quote(fin, Period(), "park"), 404), "project");
    // Engineering may view tariffs, so it may quote; nobody signed out may.
    EXPECT_EQ(Quote(Login("eng"), Period()).status, 200);
    EXPECT_EQ(Call("POST", "/api/v1/projects/mall/tariffs/flat/quote", Period().dump()).status,
              401);
}

}  // namespace
}  // namespace joule::api
