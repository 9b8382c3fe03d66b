// The API against the real SQLite store (in memory), called through Api::Handle exactly as the
// HTTP server calls it: routes, sign-in, CSRF, roles, project isolation, bad input, idempotency.
#include "api/api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "api/api_internal.hpp"
#include "api/api_test_support.hpp"
#include "api/export.hpp"
#include "api/http_util.hpp"
#include "service/acquisition_service.hpp"
#include "service/billing_service.hpp"
#include "service/notification_service.hpp"
#include "service/service_test_support.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::api {
namespace {

using Json = nlohmann::json;

using service_test::T;

using test::kPassword;

// The live stream polls every 10 ms here, and at most 4 streams may be open.
ApiOptions LiveTestOptions() {
    ApiOptions options;
    options.live_poll_interval = std::chrono::milliseconds(10);
    options.max_live_streams = 4;
    return options;
}

class ApiTest : public test::ApiHarness {
protected:
    ApiTest() : ApiHarness(LiveTestOptions()) {}

    void SetUp() override {
        for (const char* code : {"mall", "park"}) {
            SiteSpec site = service_test::FlatSite(code, std::string("dds-") + code);
            site.models.front().has_relay = true;
            site.meters.push_back(service_test::SiteMeter(site, "m1"));
            ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
            OpenAccountRequest open = FlatAccount(code, "A001", "Tea shop", Money{10000});
            open.meters.push_back({"m1", Quantity{100'000}, std::nullopt});
            ASSERT_TRUE(billing_.OpenAccount(open, Actor{}, now_).has_value());
        }
        for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
                 {"boss", "admin"}, {"fin", "finance"}, {"eng", "engineering"}}) {
            const bool group = role == "admin";
            auto created = api_.CreateUser(
                name, kPassword, role, group,
                group ? std::vector<std::string>{} : std::vector<std::string>{"mall"});
            ASSERT_TRUE(created.has_value()) << created.error().ToString();
        }
    }

    // An account on the flat tariff with the alarm scheme every test here uses, opened now; the
    // caller adds its meters.
    OpenAccountRequest FlatAccount(const std::string& project, const std::string& number,
                                   const std::string& tenant, Money first_top_up) const {
        OpenAccountRequest open;
        open.project_code = project;
        open.number = number;
        open.tenant_name = tenant;
        open.tariff_code = "flat";
        open.scheme.alarm1 = Money{5000};
        open.scheme.alarm2 = Money{2000};
        open.scheme.alarm3 = Money{500};
        open.opened_at = now_;
        open.first_top_up = first_top_up;
        return open;
    }

    std::string Balance(const Session& s, const std::string& project = "mall") {
        auto r = As(s, "GET", "/api/v1/projects/" + project + "/accounts/A001");
        EXPECT_EQ(r.status, 200) << r.body;
        return Body(r)["balance"]["paid"].get<std::string>();
    }
};

TEST_F(ApiTest, HealthAndOpenApiArePublic) {
    EXPECT_EQ(Call("GET", "/healthz").status, 200);
    EXPECT_EQ(Call("GET", "/readyz").status, 200);
    auto doc = Call("GET", "/api/v1/openapi.json");
    ASSERT_EQ(doc.status, 200);
    EXPECT_EQ(Body(doc)["openapi"], "3.0.3");
}

// What a live stream has written by the time `until` appears (or 10 s have passed).
std::string ReadStream(ResponseStream& stream, std::string_view until) {
    std::string seen;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (seen.find(until) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
        bool closed = false;
        seen += stream.Take(closed);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return seen;
}

std::size_t Count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) {
        ++n;
    }
    return n;
}

TEST_F(ApiTest, LiveEventsStreamTheChangesTheCallerMaySee) {
    const Session boss = Login("boss");
    const Session eng = Login("eng");
    auto boss_events = As(boss, "GET", "/api/v1/projects/mall/events");
    ASSERT_EQ(boss_events.status, 200) << boss_events.body;
    EXPECT_EQ(boss_events.content_type, "text/event-stream; charset=utf-8");
    ASSERT_NE(boss_events.stream, nullptr);
    const std::string hello = ReadStream(*boss_events.stream, "event: ready\n");
    EXPECT_NE(hello.find("retry: 3000\n\n"), std::string::npos) << hello;
    const auto ready = Json::parse(hello.substr(hello.find("data: ") + 6));
    const int64_t start = ready["seq"].get<int64_t>();
    auto key = As(boss, "POST", "/api/v1/api-keys",
                  Json{{"name", "erp"}, {"scopes", {"accounts.view", "projects.view"}}}.dump());
    ASSERT_EQ(key.status, 201) << key.body;
    auto fin_events = Call("GET", "/api/v1/projects/mall/events", "",
                           {{"authorization", "Bearer " + Body(key)["key"].get<std::string>()}});
    ASSERT_EQ(fin_events.status, 200) << fin_events.body;
    // A foreign project's stream is as absent as any of its objects.
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/park/events").status, 404);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects/mall/events?since=3").status, 400);

    // The park trips first, then the mall: only the mall's changes reach the mall's streams.
    auto park = As(boss, "POST", "/api/v1/projects/park/accounts/A001/control",
                   Json{{"action", "trip"}, {"reason", "inspection"}}.dump());
    ASSERT_EQ(park.status, 200) << park.body;
    auto mall = As(boss, "POST", "/api/v1/projects/mall/accounts/A001/control",
                   Json{{"action", "trip"}, {"reason", "inspection"}}.dump());
    ASSERT_EQ(mall.status, 200) << mall.body;
    const std::string seen = ReadStream(*boss_events.stream, "event: command\n");
    EXPECT_EQ(Count(seen, "event: account\n"), 1U) << seen;
    EXPECT_EQ(Count(seen, "event: command\n"), 1U) << seen;
    EXPECT_NE(seen.find(R"("number":"A001")"), std::string::npos) << seen;
    EXPECT_NE(seen.find(R"("relay":"open")"), std::string::npos) << seen;
    EXPECT_NE(seen.find(R"("kind":"trip")"), std::string::npos) << seen;
    EXPECT_NE(seen.find(R"("reason":"inspection")"), std::string::npos) << seen;
    // An integration key that may read accounts but not devices: account events, no commands.
    const std::string fin_seen = ReadStream(*fin_events.stream, "event: account\n");
    EXPECT_EQ(Count(fin_seen, "event: account\n"), 1U) << fin_seen;
    EXPECT_EQ(fin_seen.find("event: command"), std::string::npos) << fin_seen;

    // A client that reconnects with the last id it saw gets what it missed, and only that.
    auto resumed = As(boss, "GET", "/api/v1/projects/mall/events", "",
                      {{"last-event-id", std::to_string(start)}});
    ASSERT_EQ(resumed.status, 200) << resumed.body;
    const std::string replay = ReadStream(*resumed.stream, "event: ready\n");
    EXPECT_EQ(Count(replay, "event: account\n"), 1U) << replay;
    EXPECT_EQ(Count(replay, "event: command\n"), 1U) << replay;
    EXPECT_LT(replay.find("event: command"), replay.find("event: ready")) << replay;
    // An id this store never gave means "reload everything"; a malformed one is refused.
    auto future =
        As(boss, "GET", "/api/v1/projects/mall/events", "", {{"last-event-id", "999999999"}});
    ASSERT_EQ(future.status, 200) << future.body;
    EXPECT_NE(ReadStream(*future.stream, "event: reset\n").find("event: reset"), std::string::npos);
    auto bad = As(boss, "GET", "/api/v1/projects/mall/events", "", {{"last-event-id", "x1"}});
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Body(bad)["field"], "Last-Event-ID");

    // At most max_live_streams (4 here) are open; a stream whose client left frees its place.
    auto full = As(boss, "GET", "/api/v1/projects/mall/events");
    EXPECT_EQ(full.status, 429) << full.body;
    future.stream->MarkGone();
    std::string retry_body;
    for (int i = 0; i < 1000; ++i) {
        auto again = As(boss, "GET", "/api/v1/projects/mall/events");
        if (again.status == 200) {
            retry_body = "ok";
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(retry_body, "ok");
}

// Day and month totals come from the store's day totals: local days (Asia/Shanghai), a reading at
// local midnight counted for the day it closes, other projects apart.
TEST_F(ApiTest, EnergyAndSalesSummariesByDayMonthAndGroup) {
    now_ = T("2026-11-21T00:00:00Z");
    const Session fin = Login("fin");
    const auto read = [&](const char* project, const char* at, int64_t kwh) {
        ReadingItem item{project, "m1",
                         ReadingInput{T(at), T(at), Quantity{kwh * 1000}, false, {}}};
        auto applied = billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), T(at));
        ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
        EXPECT_EQ(applied->accepted, 1U) << at;
    };
    read("mall", "2026-11-20T02:00:00Z", 110);  // 10:00 local, 10 kWh
    // One batch across local midnight, with a re-sent reading: the day totals are added up per
    // batch, the duplicate not at all.
    std::vector<ReadingItem> batch;
    for (const auto& [at, kwh] : std::vector<std::pair<const char*, int64_t>>{
             {"2026-11-20T16:00:00Z", 115},     // midnight local: still the 20th, 5 kWh
             {"2026-11-20T16:30:00Z", 117},     // the 21st, 2 kWh
             {"2026-11-20T16:30:00Z", 117}}) {  // the same again
        batch.push_back(
            {"mall", "m1", ReadingInput{T(at), T(at), Quantity{kwh * 1000}, false, {}}});
    }
    auto applied = billing_.ApplyReadings(batch, T("2026-11-20T16:30:00Z"));
    ASSERT_TRUE(applied.has_value()) << applied.error().ToString();
    EXPECT_EQ(applied->accepted, 2U);
    read("park", "2026-11-20T02:00:00Z", 130);  // another project's 30 kWh
    const std::string base = "/api/v1/projects/mall/summaries/";
    auto days = As(fin, "GET", base + "energy?from=2026-11-20&to=2026-11-21");
    ASSERT_EQ(days.status, 200) << days.body;
    std::map<std::string, Json> by_day;
    const Json day_page = Body(days);
    for (const Json& item : day_page["items"]) {
        by_day[item["period"].get<std::string>()] = item;
    }
    ASSERT_EQ(by_day.size(), 2U) << days.body;
    EXPECT_EQ(by_day["2026-11-20"]["energy"], "15.000");
    EXPECT_EQ(by_day["2026-11-20"]["charged"], "15.00");
    EXPECT_EQ(by_day["2026-11-20"]["readings"], 2);
    EXPECT_EQ(by_day["2026-11-20"]["utility"], "electricity");
    EXPECT_EQ(by_day["2026-11-21"]["energy"], "2.000");
    auto month = As(fin, "GET", base + "energy?period=month&group=account");
    ASSERT_EQ(month.status, 200) << month.body;  // default range: this month so far
    ASSERT_EQ(Body(month)["total"], 1) << month.body;
    const Json m = Body(month)["items"][0];
    EXPECT_EQ(m["period"], "2026-11");
    EXPECT_EQ(m["account"], "A001");
    EXPECT_EQ(m["energy"], "17.000");
    EXPECT_EQ(m["charged"], "17.00");
    auto by_meter = As(fin, "GET", base + "energy?period=month&group=meter&format=csv");
    ASSERT_EQ(by_meter.status, 200) << by_meter.body;
    EXPECT_NE(by_meter.body.find("17.000"), std::string::npos) << by_meter.body;
    // The opening top-up of 100.00 and a counter top-up of 50.00, on the 20th and the 21st.
    ASSERT_EQ(As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups",
                 Json{{"amount", "50.00"}}.dump(), {{"idempotency-key", "sum-1"}})
                  .status,
              201);
    auto sales = As(fin, "GET", base + "sales?from=2026-11-01&to=2026-11-30&group=account");
    ASSERT_EQ(sales.status, 200) << sales.body;
    int64_t top_up_fen = 0;
    int64_t count = 0;
    const Json sales_page = Body(sales);
    for (const Json& item : sales_page["items"]) {
        EXPECT_EQ(item["kind"], "top_up") << sales.body;
        EXPECT_EQ(item["account"], "A001");
        EXPECT_FALSE(item["channel"].get<std::string>().empty());
        const std::string amount = item["amount"];
        top_up_fen += std::stoll(amount.substr(0, amount.find('.'))) * 100 +
                      std::stoll(amount.substr(amount.find('.') + 1));
        count += item["count"].get<int64_t>();
    }
    EXPECT_EQ(top_up_fen, 15000);
    EXPECT_EQ(count, 2);
    auto by_day_sales = As(fin, "GET", base + "sales?from=2026-11-21&to=2026-11-21");
    ASSERT_EQ(by_day_sales.status, 200) << by_day_sales.body;
    ASSERT_EQ(Body(by_day_sales)["total"], 1) << by_day_sales.body;
    EXPECT_EQ(Body(by_day_sales)["items"][0]["amount"], "50.00");

    // Bad parameters name themselves; nothing is summed.
    for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
             {"energy?period=week", "period"},
             {"energy?from=2026-02-30", "from"},
             {"energy?from=2026-11-21&to=2026-11-20", "to"},
             {"energy?from=2025-01-01&to=2026-11-20", "to"},
             {"energy?group=floor", "group"},
             {"sales?group=building", "group"},
             {"energy?colour=red", "colour"}}) {
        auto bad = As(fin, "GET", base + query);
        EXPECT_EQ(bad.status, 400) << query << " " << bad.body;
        EXPECT_EQ(Body(bad)["field"], field) << query;
    }
    // An integration key without reports.view gets none.
    auto key = As(Login("boss"), "POST", "/api/v1/api-keys",
                  Json{{"name", "erp"}, {"scopes", {"accounts.view", "projects.view"}}}.dump());
    ASSERT_EQ(key.status, 201) << key.body;
    EXPECT_EQ(Call("GET", base + "energy", "",
                   {{"authorization", "Bearer " + Body(key)["key"].get<std::string>()}})
                  .status,
              403);
}

TEST_F(ApiTest, ReceiptsArePrintablePagesOfTheAccountsOwnMoneyMovements) {
    const Session fin = Login("fin");
    const std::string base = "/api/v1/projects/mall/accounts/A001";
    ASSERT_EQ(As(fin, "POST", base + "/top-ups", Json{{"amount", "1005.30"}}.dump(),
                 {{"idempotency-key", "receipt-1"}})
                  .status,
              201);
    auto ledger = As(fin, "GET", base + "/ledger?code=top_up&sort=-at");
    ASSERT_EQ(ledger.status, 200) << ledger.body;
    std::string id;
    const Json ledger_page = Body(ledger);
    for (const Json& t : ledger_page["items"]) {
        if (t["gross"] == "1005.30") {
            id = t["id"];
        }
    }
    ASSERT_FALSE(id.empty()) << ledger.body;
    auto receipt = As(fin, "GET", base + "/receipt?transfer=" + id);
    ASSERT_EQ(receipt.status, 200) << receipt.body;
    EXPECT_EQ(receipt.content_type, "text/html; charset=utf-8");
    for (const char* text : {"预付费充值收据", "¥1005.30", "壹仟零伍元叁角整", "A001", "Tea shop",
                             "m1", "fin", "window.print()"}) {
        EXPECT_NE(receipt.body.find(text), std::string::npos) << text << "\n" << receipt.body;
    }
    // The park's account A001 has transfers too: none of them is a receipt of the mall's.
    auto park_ledger = As(Login("boss"), "GET", "/api/v1/projects/park/accounts/A001/ledger");
    ASSERT_EQ(park_ledger.status, 200);
    const std::string foreign = Body(park_ledger)["items"][0]["id"];
    auto other = As(fin, "GET", base + "/receipt?transfer=" + foreign);
    EXPECT_EQ(other.status, 404) << other.body;
    EXPECT_EQ(Body(other)["field"], "transfer");
    auto missing = As(fin, "GET", base + "/receipt");
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(Body(missing)["field"], "transfer");
    EXPECT_EQ(As(fin, "GET", base + "/receipt?transfer=nope").status, 404);
}

TEST_F(ApiTest, OpenApiDocumentsEveryRouteAndNothingElse) {
    const Json doc = Json::parse(api_.OpenApiJson());
    std::set<std::pair<std::string, std::string>> documented;
    for (const auto& [path, item] : doc["paths"].items()) {
        for (const auto& [method, op] : item.items()) {
            std::string upper = method;
            for (char& c : upper) {
                c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            }
            documented.emplace(upper, path);
            EXPECT_TRUE(op.contains("operationId")) << path;
        }
    }
    std::set<std::pair<std::string, std::string>> routed;
    for (const RouteInfo& r : api_.routes()) {
        EXPECT_TRUE(routed.emplace(r.method, r.pattern).second) << "duplicate " << r.pattern;
    }
    EXPECT_EQ(documented, routed);
    // And each documented route answers something other than "no such resource".
    const Session boss = Login("boss");
    for (const auto& [method, path] : routed) {
        std::string concrete = path;
        for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
                 {"{project}", "mall"}, {"{account}", "A001"}, {"{user}", "1"}, {"{key}", "1"}}) {
            if (auto at = concrete.find(from); at != std::string::npos) {
                concrete.replace(at, from.size(), to);
            }
        }
        auto r = As(boss, method, concrete);
        if (r.status == 404) {
            EXPECT_NE(Body(r)["field"], "path") << method << " " << concrete;
        }
    }
}

TEST_F(ApiTest, SignInSetsAStrictHttpOnlyCookie) {
    auto r = Call("POST", "/api/v1/auth/login",
                  Json{{"username", "fin"}, {"password", kPassword}}.dump());
    ASSERT_EQ(r.status, 200) << r.body;
    std::string cookie;
    for (const auto& [name, value] : r.headers) {
        if (name == "Set-Cookie") {
            cookie = value;
        }
    }
    EXPECT_NE(cookie.find("joule_session="), std::string::npos);
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    EXPECT_NE(cookie.find("Path=/"), std::string::npos);
    EXPECT_FALSE(Body(r)["csrf_token"].get<std::string>().empty());
}

TEST_F(ApiTest, WithoutSignInEverythingElseIs401) {
    auto r = Call("GET", "/api/v1/projects");
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(Body(r)["code"], "unauthenticated");
    EXPECT_EQ(Call("GET", "/api/v1/projects", "", {{"cookie", "joule_session=forged"}}).status,
              401);
    EXPECT_EQ(Call("GET", "/api/v1/projects", "", {{"authorization", "Bearer jk_1_2"}}).status,
              401);
}

TEST_F(ApiTest, WrongPasswordLocksOutAfterFiveFailures) {
    for (int i = 0; i < 5; ++i) {
        auto r = Call("POST", "/api/v1/auth/login",
                      Json{{"username", "fin"}, {"password", "Wrong123456"}}.dump());
        EXPECT_EQ(r.status, 401);
        EXPECT_EQ(Body(r)["message"], "wrong user name or password");
    }
    auto locked = Call("POST", "/api/v1/auth/login",
                       Json{{"username", "fin"}, {"password", kPassword}}.dump());
    EXPECT_EQ(locked.status, 429) << locked.body;
    now_ += std::chrono::minutes(16);
    Login("fin");
    // An unknown user gets the same answer as a wrong password.
    auto unknown = Call("POST", "/api/v1/auth/login",
                        Json{{"username", "nobody"}, {"password", kPassword}}.dump());
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(Body(unknown)["message"], "wrong user name or password");
}

TEST_F(ApiTest, WritesWithACookieNeedTheCsrfToken) {
    const Session fin = Login("fin");
    const std::string body = Json{{"amount", "10.00"}}.dump();
    auto r = Call("POST", "/api/v1/projects/mall/accounts/A001/top-ups", body,
                  {{"cookie", fin.cookie}, {"idempotency-key", "k1"}});
    EXPECT_EQ(r.status, 403);
    EXPECT_EQ(Body(r)["field"], "X-CSRF-Token");
    EXPECT_EQ(Balance(fin), "100.00");  // nothing changed
    auto ok = As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups", body,
                 {{"idempotency-key", "k1"}});
    EXPECT_EQ(ok.status, 201) << ok.body;
    EXPECT_EQ(Balance(fin), "110.00");
}

TEST_F(ApiTest, TheSameTopUpTwiceWithOneKeyCreditsOnce) {
    const Session fin = Login("fin");
    const std::string body = Json{{"amount", "25.50"}, {"channel", "pos"}}.dump();
    auto first = As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups", body,
                    {{"idempotency-key", "order-7"}});
    ASSERT_EQ(first.status, 201) << first.body;
    auto again = As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups", body,
                    {{"idempotency-key", "order-7"}});
    EXPECT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(Body(again)["outcome"], "already_credited");
    EXPECT_EQ(Balance(fin), "125.50");
    auto missing = As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups", body);
    EXPECT_EQ(missing.status, 400);
    EXPECT_EQ(Body(missing)["field"], "Idempotency-Key");
}

TEST_F(ApiTest, BadInputIsRejectedNamingTheFieldAndChangesNothing) {
    const Session fin = Login("fin");
    const std::string path = "/api/v1/projects/mall/accounts/A001/top-ups";
    struct Case {
        std::string body;
        std::string field;
    };
    const std::vector<Case> cases = {
        {"{not json", "body"},
        {"[1,2]", "body"},
        {"{\"amount\":\"\xff\xfe\"}", "body"},  // invalid UTF-8
        {Json{{"amount", 10}}.dump(), "amount"},
        {Json{{"amount", "-5.00"}}.dump(), "amount"},
        {Json{{"amount", "0.00"}}.dump(), "amount"},
        {Json{{"amount", "99999999999.00"}}.dump(), "amount"},
        {Json{{"amount", "1.001"}}.dump(), "amount"},
        {Json{{"amount", "1' OR 1=1 --"}}.dump(), "amount"},
        {Json{{"amount", "5.00"}, {"colour", "red"}}.dump(), "colour"},
        {Json{{"amount", "5.00"}, {"channel", std::string(40, 'x')}}.dump(), "channel"},
    };
    int n = 0;
    for (const Case& c : cases) {
        auto r = As(fin, "POST", path, c.body, {{"idempotency-key", "bad" + std::to_string(n++)}});
        EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
        const Json body = Body(r);
        EXPECT_EQ(body["code"], "invalid_argument") << c.body;
        EXPECT_EQ(body["field"], c.field) << c.body << " -> " << r.body;
    }
    EXPECT_EQ(Balance(fin), "100.00");
    // SQL meta-characters in path and query parameters are data, never SQL.
    EXPECT_EQ(As(fin, "GET", "/api/v1/projects/mall'--/accounts").status, 404);
    EXPECT_EQ(As(fin, "GET", "/api/v1/projects/mall/accounts/A001'%20OR%20'1'='1").status, 404);
    auto q = As(fin, "GET", "/api/v1/projects/mall/accounts?q=%27%3B%20DROP%20TABLE%20accounts");
    EXPECT_EQ(q.status, 200);
    EXPECT_EQ(Body(q)["total"], 0);
    EXPECT_EQ(Balance(fin), "100.00");
    auto unknown = As(fin, "GET", "/api/v1/projects/mall/accounts?colour=red");
    EXPECT_EQ(unknown.status, 400);
    EXPECT_EQ(Body(unknown)["field"], "colour");
}

TEST_F(ApiTest, RolesDecideWhatEachUserMayDo) {
    const Session fin = Login("fin");
    const Session eng = Login("eng");
    const std::string body = Json{{"amount", "1.00"}}.dump();
    EXPECT_EQ(As(eng, "POST", "/api/v1/projects/mall/accounts/A001/top-ups", body,
                 {{"idempotency-key", "e1"}})
                  .status,
              403);
    EXPECT_EQ(As(fin, "GET", "/api/v1/projects/mall/meters").status, 200);
    EXPECT_EQ(As(fin, "GET", "/api/v1/users").status, 403);
    EXPECT_EQ(As(eng, "GET", "/api/v1/operations").status, 403);
}

TEST_F(ApiTest, AForeignProjectLooksLikeNoProject) {
    const Session fin = Login("fin");  // mall only
    auto own = As(fin, "GET", "/api/v1/projects");
    ASSERT_EQ(own.status, 200);
    EXPECT_EQ(Body(own)["total"], 1);
    EXPECT_EQ(Body(own)["items"][0]["code"], "mall");
    for (const std::string path :
         {"/api/v1/projects/park/accounts", "/api/v1/projects/park/accounts/A001",
          "/api/v1/projects/park/meters", "/api/v1/projects/park/alarms"}) {
        auto foreign = As(fin, "GET", path);
        auto missing = As(fin, "GET", "/api/v1/projects/nowhere" + path.substr(21));
        EXPECT_EQ(foreign.status, 404) << path;
        EXPECT_EQ(Body(foreign)["code"], "not_found");
        // Same answer as a project that does not exist, apart from the name echoed back.
        EXPECT_EQ(Body(missing)["field"], Body(foreign)["field"]);
    }
    auto write = As(fin, "POST", "/api/v1/projects/park/accounts/A001/top-ups",
                    Json{{"amount", "1.00"}}.dump(), {{"idempotency-key", "x1"}});
    EXPECT_EQ(write.status, 404);
    const Session boss = Login("boss");
    EXPECT_EQ(Balance(boss, "park"), "100.00");
}

TEST_F(ApiTest, ChangingThePasswordEndsEverySession) {
    const Session first = Login("fin");
    const Session second = Login("fin");
    auto changed = As(first, "POST", "/api/v1/auth/password",
                      Json{{"old_password", kPassword}, {"new_password", "NewSecret999"}}.dump());
    ASSERT_EQ(changed.status, 204) << changed.body;
    EXPECT_EQ(As(first, "GET", "/api/v1/auth/me").status, 401);
    EXPECT_EQ(As(second, "GET", "/api/v1/auth/me").status, 401);
    const Session fresh = Login("fin", "NewSecret999");
    EXPECT_EQ(As(fresh, "GET", "/api/v1/auth/me").status, 200);
}

TEST_F(ApiTest, LogoutRevokesTheSession) {
    const Session s = Login("eng");
    EXPECT_EQ(As(s, "POST", "/api/v1/auth/logout").status, 204);
    EXPECT_EQ(As(s, "GET", "/api/v1/auth/me").status, 401);
}

TEST_F(ApiTest, ApiKeysAreScopedAndRevocable) {
    const Session boss = Login("boss");
    auto created = As(boss, "POST", "/api/v1/api-keys",
                      Json{{"name", "erp"}, {"scopes", {"accounts.view", "projects.view"}}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    const std::string key = Body(created)["key"];
    const int64_t id = Body(created)["id"];
    const std::vector<std::pair<std::string, std::string>> bearer = {
        {"authorization", "Bearer " + key}};
    EXPECT_EQ(Call("GET", "/api/v1/projects/park/accounts/A001", "", bearer).status, 200);
    // Beyond its scopes, even though its user is an admin.
    EXPECT_EQ(
        Call("POST", "/api/v1/projects/park/accounts/A001/top-ups", Json{{"amount", "1.00"}}.dump(),
             {{"authorization", "Bearer " + key}, {"idempotency-key", "b1"}})
            .status,
        403);
    // A wrong secret with the right prefix is refused.
    std::string forged = key;
    forged.back() = forged.back() == 'a' ? 'b' : 'a';
    EXPECT_EQ(Call("GET", "/api/v1/projects", "", {{"authorization", "Bearer " + forged}}).status,
              401);
    EXPECT_EQ(As(boss, "DELETE", "/api/v1/api-keys/" + std::to_string(id)).status, 204);
    EXPECT_EQ(Call("GET", "/api/v1/projects", "", bearer).status, 401);
}

TEST_F(ApiTest, ListsPageFilterAndSort) {
    const Session boss = Login("boss");
    auto r = As(boss, "GET", "/api/v1/projects?page_size=1&sort=-code");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Body(r)["total"], 2);
    EXPECT_EQ(Body(r)["items"].size(), 1u);
    EXPECT_EQ(Body(r)["items"][0]["code"], "park");
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects?sort=phone").status, 400);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects?page=0").status, 400);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects?page_size=501").status, 400);
    auto filtered = As(boss, "GET", "/api/v1/projects/mall/accounts?status=open&q=Tea");
    EXPECT_EQ(Body(filtered)["total"], 1);
    // Accounts are paged by the store: filters name one value of their set, or are refused.
    auto bogus = As(boss, "GET", "/api/v1/projects/mall/accounts?state=bogus");
    EXPECT_EQ(bogus.status, 400);
    EXPECT_EQ(Body(bogus)["field"], "state");
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/mall/accounts?relay=open"))["total"], 0);
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/mall/accounts?q=Coffee"))["total"], 0);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects/mall/accounts?sort=-opened_at").status, 200);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects/mall/accounts?sort=balance").status, 400);
}

// The room grid: every room once, with its meters' links and the account open on them, filtered
// by building and floor and searched by tenant; a room without an account or meters is there too.
TEST_F(ApiTest, TheRoomMonitorShowsEveryRoomWithItsMetersAndAccount) {
    SiteSpec site = service_test::FlatSite("tower", "dds-tower");
    service_test::AddFloor(site, "T", "Tower", "T-1F", "1F",
                           {{"T101", "Room T101"}, {"T102", "Room T102"}, {"T103", "Room T103"}});
    for (const auto& [meter, room] : std::vector<std::pair<std::string, std::string>>{
             {"e-101", "T101"}, {"w-101", "T101"}, {"e-102", "T102"}}) {
        SiteSpec::Meter m = service_test::SiteMeter(site, meter);
        m.room_code = room;
        site.meters.push_back(m);
    }
    ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
    OpenAccountRequest open = FlatAccount("tower", "TA101", "Noodle bar", Money{12345});
    open.meters.push_back({"e-101", Quantity{0}, std::nullopt});
    open.meters.push_back({"w-101", Quantity{0}, std::nullopt});
    ASSERT_TRUE(billing_.OpenAccount(open, Actor{}, now_).has_value());
    {
        auto tx = store_->Begin().value();
        const ProjectId project = tx->FindProject("tower").value()->id;
        MeterStatusRecord status;
        status.meter = tx->FindMeter(project, "w-101").value()->id;
        status.online = true;
        ASSERT_TRUE(tx->SaveMeterStatus(status).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    const Session boss = Login("boss");
    auto r = As(boss, "GET", "/api/v1/projects/tower/room-monitor");
    ASSERT_EQ(r.status, 200) << r.body;
    const Json items = Body(r)["items"];
    ASSERT_EQ(items.size(), 3U);
    EXPECT_EQ(items[0]["room"], "T101");
    EXPECT_EQ(items[0]["building"], "T");
    EXPECT_EQ(items[0]["floor"], "T-1F");
    EXPECT_EQ(items[0]["account"], "TA101");
    EXPECT_EQ(items[0]["tenant"], "Noodle bar");
    EXPECT_EQ(items[0]["state"], "normal");
    EXPECT_EQ(items[0]["relay"], "closed");
    EXPECT_EQ(items[0]["available"], "123.45");
    EXPECT_EQ(items[0]["meters"],
              Json::parse(R"([{"code":"e-101","online":false},{"code":"w-101","online":true}])"));
    EXPECT_EQ(items[1]["room"], "T102");
    EXPECT_EQ(items[1]["account"], "");  // a meter, no account
    EXPECT_EQ(items[1]["meters"].size(), 1U);
    EXPECT_EQ(items[2]["room"], "T103");
    EXPECT_EQ(items[2]["meters"].size(), 0U);  // no meter at all
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/tower/room-monitor?q=Noodle"))["total"], 1);
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/tower/room-monitor?building=T"))["total"], 3);
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/tower/room-monitor?floor=X"))["total"], 0);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects/tower/room-monitor?colour=red").status, 400);
    // The mall's rooms are not the tower's: the mall has none.
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/mall/room-monitor"))["total"], 0);
}

// Paging over many accounts: every account on exactly one page, in order, in both directions.
TEST_F(ApiTest, AccountPagesCoverEveryAccountOnce) {
    for (int i = 0; i < 23; ++i) {
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        AccountRecord a = tx->FindAccount(mall.id, "A001").value().value();
        a.number = "P" + std::to_string(100 + i);
        a.tenant_name = i % 2 == 0 ? "Even" : "Odd";
        ASSERT_TRUE(tx->InsertAccount(a).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    const Session boss = Login("boss");
    for (const char* sort : {"number", "-number", "tenant_name", "-opened_at"}) {
        std::vector<std::string> seen;
        for (int page = 1; page <= 5; ++page) {
            auto r = As(boss, "GET",
                        "/api/v1/projects/mall/accounts?page_size=5&page=" + std::to_string(page) +
                            "&sort=" + sort);
            ASSERT_EQ(r.status, 200) << r.body;
            const Json body = Body(r);
            EXPECT_EQ(body["total"], 24);
            for (const Json& item : body["items"]) {
                seen.push_back(item["number"].get<std::string>());
            }
        }
        EXPECT_EQ(seen.size(), 24U) << sort;
        EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 24U) << sort;
        if (std::string(sort) == "number") {
            EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
        }
        if (std::string(sort) == "-number") {
            EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
        }
    }
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/mall/accounts?q=Odd"))["total"], 11);
}

TEST_F(ApiTest, TheOperationLogRecordsWhoDidWhatFromWhere) {
    const Session fin = Login("fin");
    ASSERT_EQ(As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups",
                 Json{{"amount", "3.00"}}.dump(), {{"idempotency-key", "op-1"}})
                  .status,
              201);
    (void)Call("POST", "/api/v1/auth/login",
               Json{{"username", "eng"}, {"password", "Wrong123456"}}.dump());
    const Session boss = Login("boss");
    auto all = As(boss, "GET", "/api/v1/operations?page_size=100");
    ASSERT_EQ(all.status, 200) << all.body;
    std::set<std::string> actions;
    const Json listed = Body(all);  // the loop must not range over a temporary's member
    for (const Json& item : listed["items"]) {
        actions.insert(item["action"].get<std::string>());
    }
    EXPECT_TRUE(actions.count("auth.login"));
    EXPECT_TRUE(actions.count("auth.login_failed"));
    auto failed = As(boss, "GET", "/api/v1/operations?action=auth.login_failed");
    ASSERT_EQ(Body(failed)["total"], 1);
    const Json entry = Body(failed)["items"][0];
    EXPECT_EQ(entry["target"], "user:eng");
    EXPECT_EQ(entry["remote"], "127.0.0.1");
    EXPECT_FALSE(entry["request_id"].get<std::string>().empty());
    // Users made from the command line (the fixture's three) are logged too.
    auto from_cli = As(boss, "GET", "/api/v1/operations?actor=cli&action=user.create");
    EXPECT_EQ(Body(from_cli)["total"], 3);
    auto by_fin = As(boss, "GET", "/api/v1/operations?actor=fin");
    EXPECT_GE(Body(by_fin)["total"].get<int>(), 2);  // the sign-in and the top-up
    EXPECT_EQ(As(boss, "GET", "/api/v1/operations?from=yesterday").status, 400);
    EXPECT_EQ(As(boss, "GET", "/api/v1/operations?colour=red").status, 400);
    // A project user reads the changes of its projects only: the top-up, not the sign-ins
    // (which belong to no project), and it carries who, from where and under which request.
    auto mine = As(fin, "GET", "/api/v1/operations");
    ASSERT_EQ(mine.status, 200) << mine.body;
    const Json seen = Body(mine);
    ASSERT_GE(seen["total"].get<int>(), 1) << mine.body;
    for (const Json& item : seen["items"]) {
        EXPECT_EQ(item["project"], "mall") << mine.body;
        EXPECT_FALSE(item["action"].get<std::string>().starts_with("auth.")) << mine.body;
    }
    // Newest first: fin's top-up, with who, from where and the request.
    EXPECT_EQ(seen["items"][0]["action"], "account.top_up");
    EXPECT_EQ(seen["items"][0]["actor"], "fin");
    EXPECT_EQ(seen["items"][0]["remote"], "127.0.0.1");
    EXPECT_FALSE(seen["items"][0]["request_id"].get<std::string>().empty());
    EXPECT_EQ(As(fin, "GET", "/api/v1/operations?project=park").status, 404);
}

// The authorization matrix, generated from the route table and the built-in roles: every route ×
// every role × the user's own project and a foreign one. A role without the route's permission
// gets 403; with it, its own project is reached (whatever the empty request then earns) and a
// foreign project answers 404 exactly like a missing one.
TEST_F(ApiTest, AuthorizationMatrixOfEveryRouteRoleAndProject) {
    const std::vector<std::pair<std::string, std::string>> objects = {
        {"{account}", "A001"},
        {"{meter}", "m1"},
        {"{tariff}", "flat"},
        {"{alarm}", "999999"},
        {"{device}", "999999"},
        {"{user}", "999999"},
        {"{key}", "999999"},
        {"{role}", "role-none"},
        // Site editing: objects that do not exist (a delete or an edit never reaches a row).
        {"{building}", "B-none"},
        {"{floor}", "F-none"},
        {"{room}", "R-none"},
        {"{gateway}", "G-none"}};
    int checked = 0;
    for (const RoleDefinition& role : BuiltinRoles()) {
        const std::string name = "matrix-" + role.code;
        ASSERT_TRUE(api_.CreateUser(name, kPassword, role.code, false, {"mall"}).has_value());
        const Session session = Login(name);
        std::vector<RouteInfo> routes = api_.routes();
        // Signing out ends the session the rest of the matrix uses: last.
        std::stable_partition(routes.begin(), routes.end(),
                              [](const RouteInfo& r) { return r.operation_id != "logout"; });
        for (const RouteInfo& route : routes) {
            if (route.access == RouteAccess::kPublic || route.access == RouteAccess::kTenant) {
                continue;  // tenants' routes take a tenant's session (TenantApiTest)
            }
            const bool scoped = route.pattern.find("{project}") != std::string::npos;
            for (const char* project : {"mall", "park"}) {
                if (!scoped && std::string(project) == "park") {
                    continue;
                }
                std::string path = route.pattern;
                std::vector<std::pair<std::string, std::string>> fill = objects;
                fill.emplace_back("{project}", project);
                for (const auto& [from, to] : fill) {
                    if (auto at = path.find(from); at != std::string::npos) {
                        path.replace(at, from.size(), to);
                    }
                }
                const auto r = As(session, route.method, path);
                if (r.stream) {
                    r.stream->MarkGone();  // the live events: nobody reads it here
                }
                // A file route (an import's template) answers a file, not JSON.
                const Json body = r.content_type == "application/json" && !r.body.empty()
                                      ? Body(r)
                                      : Json::object();
                const std::string what = role.code + " " + route.method + " " + path;
                const bool permitted =
                    route.access == RouteAccess::kSignedIn ||
                    role.permissions.test(static_cast<std::size_t>(route.permission));
                ++checked;
                EXPECT_NE(r.status, 401) << what;
                if (!permitted) {
                    EXPECT_EQ(r.status, 403) << what << " " << r.body;
                } else if (std::string(project) == "park") {
                    EXPECT_EQ(r.status, 404) << what << " " << r.body;
                    EXPECT_EQ(body.value("field", ""), "project") << what;
                    // Nothing of the foreign project is named in the answer.
                    EXPECT_EQ(r.body.find("A001"), std::string::npos) << what;
                } else {
                    EXPECT_NE(r.status, 403) << what << " " << r.body;
                    EXPECT_FALSE(r.status == 404 && body.value("field", "") == "project") << what;
                }
                if (!route.paged) {
                    continue;
                }
                // The list's export: the same permission and the same project scope, and of a
                // foreign project not one byte (the CSV would name A001).
                const auto e = As(session, route.method, path + "?format=csv");
                const std::string exported = what + "?format=csv";
                ++checked;
                if (!permitted) {
                    EXPECT_EQ(e.status, 403) << exported << " " << e.body;
                } else if (std::string(project) == "park") {
                    EXPECT_EQ(e.status, 404) << exported << " " << e.body;
                    EXPECT_EQ(Body(e).value("field", ""), "project") << exported;
                    EXPECT_EQ(e.body.find("A001"), std::string::npos) << exported;
                } else if (e.status == 200) {
                    EXPECT_EQ(e.content_type, "text/csv; charset=utf-8") << exported;
                } else {
                    EXPECT_NE(e.status, 403) << exported << " " << e.body;
                    EXPECT_FALSE(e.status == 404 && Body(e).value("field", "") == "project")
                        << exported;
                }
            }
        }
    }
    EXPECT_GT(checked, 5 * 40);
    // No request of the matrix changed money: the one top-up of each project is all there is.
    EXPECT_EQ(billing_.ViewAccount("mall", "A001")->paid, Money{10000});
    EXPECT_EQ(billing_.ViewAccount("park", "A001")->paid, Money{10000});
}

// The account life cycle through the API: open, top up, refund, subsidy, trip and close by hand
// with the account's ETag, the ledger, a stale ETag refused, and every step in the log.
TEST_F(ApiTest, AccountsAreOpenedChargedControlledAndClosedThroughTheApi) {
    const Session boss = Login("boss");
    const auto site_before = As(boss, "GET", "/api/v1/projects/mall/rooms");
    ASSERT_EQ(site_before.status, 200) << site_before.body;
    // Open B001 on a second meter made for the test.
    {
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        MeterRecord m2;
        m2.project = mall.id;
        m2.code = "m2";
        m2.model = tx->FindModel("dds-mall").value()->id;
        ASSERT_TRUE(tx->InsertMeter(m2).has_value());
        MeterBilling b;
        b.meter = tx->FindMeter(mall.id, "m2").value()->id;
        ASSERT_TRUE(tx->SaveBilling(b).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    const Json open{{"number", "B001"},
                    {"tenant", "Noodle bar"},
                    {"tariff", "flat"},
                    {"meters", {{{"meter", "m2"}, {"reading", "10"}}}}};
    auto opened = As(boss, "POST", "/api/v1/projects/mall/accounts", open.dump());
    ASSERT_EQ(opened.status, 201) << opened.body;
    EXPECT_EQ(Body(opened)["number"], "B001");
    EXPECT_EQ(As(boss, "POST", "/api/v1/projects/mall/accounts", open.dump()).status, 409);
    const std::string base = "/api/v1/projects/mall/accounts/B001";
    ASSERT_EQ(As(boss, "POST", base + "/top-ups", Json{{"amount", "50.00"}}.dump(),
                 {{"idempotency-key", "b-1"}})
                  .status,
              201);
    // A refund needs a reason and cannot exceed what was paid; nothing changes when refused.
    EXPECT_EQ(
        As(boss, "POST", base + "/refunds", Json{{"amount", "60.00"}, {"reason", "leaving"}}.dump(),
           {{"idempotency-key", "r-1"}})
            .status,
        409);
    auto refund =
        As(boss, "POST", base + "/refunds",
           Json{{"amount", "20.00"}, {"reason", "overpaid"}}.dump(), {{"idempotency-key", "r-2"}});
    ASSERT_EQ(refund.status, 201) << refund.body;
    auto subsidy =
        As(boss, "POST", base + "/subsidies",
           Json{{"amount", "5.00"}, {"reason", "welcome"}}.dump(), {{"idempotency-key", "s-1"}});
    ASSERT_EQ(subsidy.status, 201) << subsidy.body;
    EXPECT_EQ(Balance(boss, "mall"), "100.00");  // A001 untouched
    auto detail = As(boss, "GET", base);
    ASSERT_EQ(detail.status, 200);
    EXPECT_EQ(Body(detail)["balance"]["paid"], "30.00");
    EXPECT_EQ(Body(detail)["balance"]["granted"], "5.00");
    std::string etag;
    for (const auto& [k, v] : detail.headers) {
        if (k == "ETag") {
            etag = v;
        }
    }
    ASSERT_FALSE(etag.empty());
    // Trip by hand against the current ETag; the same ETag again is stale.
    auto trip = As(boss, "POST", base + "/control",
                   Json{{"action", "trip"}, {"reason", "inspection"}}.dump(), {{"if-match", etag}});
    ASSERT_EQ(trip.status, 200) << trip.body;
    EXPECT_EQ(Body(trip)["relay"], "open");
    auto stale = As(boss, "POST", base + "/control",
                    Json{{"action", "close"}, {"reason", "done"}}.dump(), {{"if-match", etag}});
    EXPECT_EQ(stale.status, 409) << stale.body;
    EXPECT_EQ(Body(stale)["field"], "If-Match");
    EXPECT_EQ(As(boss, "POST", base + "/control", Json{{"action", "explode"}}.dump()).status, 400);
    auto commands = As(boss, "GET", "/api/v1/projects/mall/commands?account=B001");
    ASSERT_EQ(commands.status, 200) << commands.body;
    ASSERT_GE(Body(commands)["total"].get<int>(), 1);
    EXPECT_EQ(Body(commands)["items"][0]["kind"], "trip");
    // The ledger shows each movement signed from the account's side.
    auto ledger = As(boss, "GET", base + "/ledger?sort=at");
    ASSERT_EQ(ledger.status, 200) << ledger.body;
    std::map<std::string, std::string> by_code;
    const Json transfers = Body(ledger);
    for (const Json& t : transfers["items"]) {
        by_code[t["code"].get<std::string>()] = t["amount"].get<std::string>();
    }
    EXPECT_EQ(by_code["top_up"], "50.00");
    EXPECT_EQ(by_code["refund"], "-20.00");
    EXPECT_EQ(by_code["subsidy"], "5.00");
    // An hour later, close: the final 2 kWh at 1.00 are drawn from the subsidy first (grants
    // before paid money), the paid 30.00 is refunded and the grant's rest forfeited.
    now_ += Seconds{3600};
    auto closed = As(boss, "POST", base + "/close",
                     Json{{"final_readings", {{{"meter", "m2"}, {"reading", "12"}}}}}.dump());
    ASSERT_EQ(closed.status, 200) << closed.body;
    EXPECT_EQ(Body(closed)["refunded"], "30.00");
    EXPECT_EQ(Body(closed)["grants_forfeited"], "3.00");
    EXPECT_EQ(Body(As(boss, "GET", base))["status"], "closed");
    auto log = As(boss, "GET", "/api/v1/operations?project=mall&target=B001");
    std::set<std::string> actions;
    const Json logged = Body(log);
    for (const Json& item : logged["items"]) {
        actions.insert(item["action"].get<std::string>());
    }
    for (const char* a : {"account.open", "account.top_up", "account.refund", "account.subsidy",
                          "account.control", "account.close"}) {
        EXPECT_TRUE(actions.count(a)) << a << " " << log.body;
    }
    service_test::ExpectLedgerBalanced(*store_);
}

// The account detail shows today's usage by meter and the days left [ALM-4]; its terms (tenant,
// scheme) change with its ETag, a new scheme alarms at once, and the alarm names the account.
TEST_F(ApiTest, AnAccountsUsageIsShownAndItsTermsChangeWithItsETag) {
    const auto read = [&](const char* at, int64_t kwh) {
        ReadingItem item{"mall", "m1", ReadingInput{T(at), T(at), Quantity{kwh * 1000}, false, {}}};
        ASSERT_TRUE(billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), T(at)));
    };
    read("2026-11-20T10:00:00Z", 110);  // Nov 20 (Shanghai): 10.00
    read("2026-11-21T03:00:00Z", 113);  // Nov 21: 3.00
    now_ = T("2026-11-21T04:00:00Z");   // noon on Nov 21
    const Session boss = Login("boss");
    const std::string base = "/api/v1/projects/mall/accounts/A001";
    auto detail = As(boss, "GET", base);
    ASSERT_EQ(detail.status, 200) << detail.body;
    Json account = Body(detail);
    EXPECT_EQ(account["tariff"], "flat");
    EXPECT_EQ(account["usage"]["charged_today"], "3.00");
    EXPECT_EQ(account["usage"]["forecast_days"], 1);
    EXPECT_EQ(account["usage"]["daily_average"], "10.00");
    EXPECT_EQ(account["usage"]["days_left"], 8);  // 87.00 at 10.00 a day
    EXPECT_EQ(account["meters"][0]["today"]["energy"], "3.000");
    EXPECT_EQ(account["meters"][0]["today"]["charged"], "3.00");
    const std::string etag = HeaderOf(detail, "ETag");

    // Without the ETag, with nothing to change, with a field unknown or a foreign role: refused.
    const Json rename{{"tenant", "Tea house"}, {"scheme", {{"alarm1", "95.00"}}}};
    auto untagged = As(boss, "PATCH", base, rename.dump());
    EXPECT_EQ(untagged.status, 400) << untagged.body;
    EXPECT_EQ(Body(untagged)["field"], "If-Match");
    EXPECT_EQ(As(boss, "PATCH", base, "{}", {{"if-match", etag}}).status, 400);
    auto unknown = As(boss, "PATCH", base, Json{{"color", "red"}}.dump(), {{"if-match", etag}});
    EXPECT_EQ(unknown.status, 400) << unknown.body;
    EXPECT_EQ(Body(unknown)["field"], "color");
    auto upside_down = As(boss, "PATCH", base, Json{{"scheme", {{"alarm2", "99.00"}}}}.dump(),
                          {{"if-match", etag}});
    EXPECT_EQ(upside_down.status, 400) << upside_down.body;
    EXPECT_EQ(Body(upside_down)["field"], "scheme.alarm2");
    EXPECT_EQ(As(Login("fin"), "PATCH", base, rename.dump(), {{"if-match", etag}}).status, 403);
    EXPECT_EQ(HeaderOf(As(boss, "GET", base), "ETag"), etag);  // nothing changed

    auto changed = As(boss, "PATCH", base, rename.dump(), {{"if-match", etag}});
    ASSERT_EQ(changed.status, 200) << changed.body;
    EXPECT_EQ(Body(changed)["tenant_name"], "Tea house");
    EXPECT_EQ(Body(changed)["state"], "alarm1");  // 87.00 <= 95.00, at once
    EXPECT_EQ(Body(changed)["scheme"]["alarm1"], "95.00");
    EXPECT_EQ(Body(changed)["scheme"]["alarm2"], "20.00");  // the rest of the scheme stays
    EXPECT_NE(HeaderOf(changed, "ETag"), etag);
    EXPECT_EQ(As(boss, "PATCH", base, rename.dump(), {{"if-match", etag}}).status, 409);
    // A phone is set, then cleared with "".
    auto phoned = As(boss, "PATCH", base, Json{{"phone", "13800000000"}}.dump(),
                     {{"if-match", HeaderOf(changed, "ETag")}});
    ASSERT_EQ(phoned.status, 200) << phoned.body;
    EXPECT_EQ(Body(phoned)["phone"], "13800000000");
    auto cleared = As(boss, "PATCH", base, Json{{"phone", ""}}.dump(),
                      {{"if-match", HeaderOf(phoned, "ETag")}});
    ASSERT_EQ(cleared.status, 200) << cleared.body;
    EXPECT_EQ(Body(cleared)["phone"], "");

    auto alarms = As(boss, "GET", "/api/v1/projects/mall/alarms?account=A001");
    ASSERT_EQ(alarms.status, 200) << alarms.body;
    ASSERT_EQ(Body(alarms)["total"], 1) << alarms.body;
    EXPECT_EQ(Body(alarms)["items"][0]["kind"], "low_balance_1");
    EXPECT_EQ(Body(alarms)["items"][0]["account"], "A001");
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/mall/alarms?account=B001"))["total"], 0);
    auto log = As(boss, "GET", "/api/v1/operations?project=mall&target=A001&action=account.terms");
    ASSERT_EQ(log.status, 200) << log.body;
    ASSERT_EQ(Body(log)["total"], 3) << log.body;  // the rename, the phone set and cleared
    int renames = 0;
    const Json logged_items = Body(log)["items"];
    for (const Json& item : logged_items) {
        const Json& logged = item["detail"];
        if (logged["before"]["tenant_name"] == "Tea shop") {
            ++renames;
            EXPECT_EQ(logged["after"]["tenant_name"], "Tea house");
            EXPECT_EQ(logged["after"]["scheme"]["alarm1"], 9500);
        }
    }
    EXPECT_EQ(renames, 1);
}

TEST_F(ApiTest, TariffsDevicesAndAlarmsAreReachable) {
    const Session boss = Login("boss");
    const Session eng = Login("eng");
    auto tariff = As(boss, "GET", "/api/v1/projects/mall/tariffs/flat");
    ASSERT_EQ(tariff.status, 200) << tariff.body;
    EXPECT_EQ(Body(tariff)["versions"].size(), 1U);
    const Json next{{"effective_from", "2027-01-01T00:00:00Z"}, {"price", "1.2000"}};
    auto added = As(boss, "POST", "/api/v1/projects/mall/tariffs/flat/versions", next.dump());
    ASSERT_EQ(added.status, 201) << added.body;
    // History is never rewritten: a version before the last is refused, naming the field.
    const Json past{{"effective_from", "2026-06-01T00:00:00Z"}, {"price", "0.5000"}};
    auto refused = As(boss, "POST", "/api/v1/projects/mall/tariffs/flat/versions", past.dump());
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/projects/mall/tariffs"))["items"][0]["versions"], 2);
    EXPECT_EQ(As(eng, "POST", "/api/v1/projects/mall/tariffs/flat/versions", next.dump()).status,
              403);
    auto meter = As(eng, "GET", "/api/v1/projects/mall/meters/m1");
    ASSERT_EQ(meter.status, 200) << meter.body;
    EXPECT_EQ(Body(meter)["account"], "A001");
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/mall/meters/nope").status, 404);
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/mall/meters/m1/readings").status, 200);
    // A valve command on an electricity meter is refused; a time sync is queued with its reason.
    EXPECT_EQ(As(eng, "POST", "/api/v1/projects/mall/meters/m1/commands",
                 Json{{"kind", "valve_close"}, {"reason", "leak"}}.dump())
                  .status,
              409);
    EXPECT_EQ(As(eng, "POST", "/api/v1/projects/mall/meters/m1/commands",
                 Json{{"kind", "purchase"}, {"reason", "x"}}.dump())
                  .status,
              400);
    auto sync = As(eng, "POST", "/api/v1/projects/mall/meters/m1/commands",
                   Json{{"kind", "time_sync"}, {"reason", "clock drift"}}.dump());
    ASSERT_EQ(sync.status, 202) << sync.body;
    // Alarms: raise one, acknowledge it (once), clear it; the foreign project's alarm is 404.
    int64_t alarm_id = 0;
    {
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        AlarmRecord a;
        a.project = mall.id;
        a.meter = tx->FindMeter(mall.id, "m1").value()->id;
        a.kind = AlarmKind::kMeterOffline;
        a.raised_at = now_;
        a.detail = "no reply";
        ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
        alarm_id = tx->ListAlarms(mall.id, true).value().back().id;
        ASSERT_TRUE(tx->Commit().has_value());
    }
    const std::string alarm = "/api/v1/projects/mall/alarms/" + std::to_string(alarm_id);
    EXPECT_EQ(
        As(eng, "POST", "/api/v1/projects/park/alarms/" + std::to_string(alarm_id) + "/acknowledge")
            .status,
        404);
    auto ack = As(eng, "POST", alarm + "/acknowledge");
    ASSERT_EQ(ack.status, 200) << ack.body;
    EXPECT_EQ(Body(ack)["acknowledged_by"], "eng");
    auto listed = As(eng, "GET", "/api/v1/projects/mall/alarms?kind=meter_offline");
    ASSERT_EQ(Body(listed)["total"], 1) << listed.body;
    EXPECT_EQ(Body(listed)["items"][0]["acknowledged"], true);
    EXPECT_EQ(Body(listed)["items"][0]["meter"], "m1");
    ASSERT_EQ(As(eng, "POST", alarm + "/clear").status, 200);
    EXPECT_EQ(Body(As(eng, "GET", "/api/v1/projects/mall/alarms?kind=meter_offline"))["total"], 0);
    EXPECT_EQ(As(eng, "POST", alarm + "/acknowledge").status, 409);
}

// A project admin manages the users of its projects only: no user of another project, no group
// user and no user of no project is listed or reachable.
TEST_F(ApiTest, ProjectAdminsSeeOnlyTheirProjectsUsers) {
    ASSERT_TRUE(api_.CreateUser("padmin", kPassword, "admin", false, {"mall"}).has_value());
    ASSERT_TRUE(api_.CreateUser("parker", kPassword, "finance", false, {"park"}).has_value());
    auto loose = api_.CreateUser("loose", kPassword, "finance", false, {});
    ASSERT_TRUE(loose.has_value());
    const Session padmin = Login("padmin");
    auto listed = As(padmin, "GET", "/api/v1/users?page_size=100");
    ASSERT_EQ(listed.status, 200) << listed.body;
    std::set<std::string> names;
    const Json users = Body(listed);
    for (const Json& u : users["items"]) {
        names.insert(u["username"].get<std::string>());
    }
    EXPECT_EQ(names, (std::set<std::string>{"fin", "eng", "padmin"})) << listed.body;
    EXPECT_EQ(listed.body.find("park"), std::string::npos);
    const Json reset{{"password", "Another12345"}};
    EXPECT_EQ(
        As(padmin, "POST", "/api/v1/users/" + std::to_string(*loose) + "/password", reset.dump())
            .status,
        404);
    const Session boss = Login("boss");
    EXPECT_EQ(
        As(boss, "POST", "/api/v1/users/" + std::to_string(*loose) + "/password", reset.dump())
            .status,
        204);
}

// A water meter's valve is its account's relay: by hand only through the account's control.
TEST_F(ApiTest, AValveOfAMeterWithAnAccountIsNotOpenedBehindPrepaidControl) {
    {
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        MeterModelRecord water;
        water.code = "water-mall";
        water.name = "cold water";
        water.utility = Utility::kWater;
        water.has_relay = false;
        const ModelId model = tx->InsertModel(water).value();
        for (const char* code : {"w1", "w2"}) {
            MeterRecord m;
            m.project = mall.id;
            m.code = code;
            m.model = model;
            ASSERT_TRUE(tx->InsertMeter(m).has_value());
        }
        const AccountRecord a001 = tx->FindAccount(mall.id, "A001").value().value();
        ASSERT_TRUE(tx->InsertBinding({a001.id, tx->FindMeter(mall.id, "w1").value()->id, now_,
                                       std::nullopt, Quantity{0}, std::nullopt})
                        .has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    const Session eng = Login("eng");
    const Json open{{"kind", "valve_open"}, {"reason", "tenant asked"}};
    auto refused = As(eng, "POST", "/api/v1/projects/mall/meters/w1/commands", open.dump());
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_EQ(Body(refused)["field"], "kind");
    EXPECT_EQ(As(eng, "POST", "/api/v1/projects/mall/meters/w2/commands", open.dump()).status, 202);
}

// Errors name what the caller sent: the method, the body's own field names, and only the
// parameters a list takes.
TEST_F(ApiTest, ErrorsNameTheCallersOwnFieldsAndMethods) {
    const Session boss = Login("boss");
    auto wrong_method = As(boss, "DELETE", "/api/v1/projects/mall/accounts");
    EXPECT_EQ(wrong_method.status, 405) << wrong_method.body;
    EXPECT_EQ(Body(wrong_method)["field"], "method");
    bool allow = false;
    for (const auto& [k, v] : wrong_method.headers) {
        allow = allow || (k == "Allow" && v == "GET, POST");
    }
    EXPECT_TRUE(allow);
    const std::string base = "/api/v1/projects/mall/accounts/A001";
    auto negative =
        As(boss, "POST", base + "/meter-replacements",
           Json{{"old_meter", "m1"}, {"old_final", "-1"}, {"new_meter", "m2"}, {"new_opening", "0"}}
               .dump());
    EXPECT_EQ(negative.status, 400);
    EXPECT_EQ(Body(negative)["field"], "old_final");
    now_ += Seconds{3600};  // later than the opening registers: the meters need final readings
    auto no_readings =
        As(boss, "POST", base + "/close", Json{{"final_readings", Json::array()}}.dump());
    EXPECT_EQ(no_readings.status, 409) << no_readings.body;
    EXPECT_EQ(Body(no_readings)["field"], "final_readings") << no_readings.body;
    EXPECT_EQ(Body(As(boss, "GET", base))["status"], "open");
    // "open" belongs to the alarm list only.
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects/mall/alarms?open=false").status, 200);
    EXPECT_EQ(As(boss, "GET", "/api/v1/projects/mall/accounts?open=true").status, 400);
}

// ------------------------------------------------------------------------------------ exports

// The records of a CSV export without its BOM, split on CRLF (the fields here hold no CRLF).
std::vector<std::string> CsvLines(const std::string& csv) {
    std::vector<std::string> lines;
    std::size_t start = csv.starts_with("\xEF\xBB\xBF") ? 3 : 0;
    while (start < csv.size()) {
        const auto end = csv.find("\r\n", start);
        lines.push_back(csv.substr(start, end - start));
        start = end == std::string::npos ? csv.size() : end + 2;
    }
    return lines;
}

// An export has every matching row, not a page: 60 accounts in one file, filters applied, the
// file named after the project, the list and the day, and the columns as the list writes them.
TEST_F(ApiTest, AnExportHasEveryMatchingRowOfTheList) {
    {
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        AccountRecord a = tx->FindAccount(mall.id, "A001").value().value();
        for (int i = 0; i < 59; ++i) {
            a.number = "P" + std::to_string(100 + i);
            a.tenant_name = i % 2 == 0 ? "偶数 商户" : "=Odd,tenant";
            a.phone = "+86 138 0000 " + std::to_string(1000 + i);
            ASSERT_TRUE(tx->InsertAccount(a).has_value());
        }
        ASSERT_TRUE(tx->Commit().has_value());
    }
    const Session boss = Login("boss");
    auto r = As(boss, "GET", "/api/v1/projects/mall/accounts?format=csv&sort=number");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
    EXPECT_EQ(HeaderOf(r, "Content-Disposition"),
              "attachment; filename=\"mall-accounts-2026-11-20.csv\"");
    ASSERT_TRUE(r.body.starts_with("\xEF\xBB\xBF"));
    const std::vector<std::string> lines = CsvLines(r.body);
    ASSERT_EQ(lines.size(), 61u) << r.body.substr(0, 500);  // the header and all 60, not 50
    // The account list's own key order, not sorted.
    EXPECT_TRUE(lines[0].starts_with("number,tenant_name,phone,status,state,relay")) << lines[0];
    EXPECT_TRUE(lines[1].starts_with("A001,Tea shop,")) << lines[1];
    EXPECT_TRUE(lines[60].starts_with("P158,")) << lines[60];
    // Formula-like text is guarded, Chinese kept as UTF-8.
    EXPECT_NE(r.body.find("\"'=Odd,tenant\",'+86 138 0000 1001"), std::string::npos);
    EXPECT_NE(r.body.find("P100,偶数 商户,'+86 138 0000 1000"), std::string::npos);
    // The list's filters and search apply; page and page_size do not cut an export.
    auto odd =
        As(boss, "GET", "/api/v1/projects/mall/accounts?q=Odd&page=3&page_size=5&format=csv");
    ASSERT_EQ(odd.status, 200) << odd.body;
    EXPECT_EQ(CsvLines(odd.body).size(), 1u + 29u);
    auto none = As(boss, "GET", "/api/v1/projects/mall/accounts?relay=open&format=csv");
    ASSERT_EQ(none.status, 200) << none.body;
    EXPECT_EQ(CsvLines(none.body).size(), 1u);  // an empty header: no item, no columns
    // The list's own checks still answer for it.
    auto bad_state = As(boss, "GET", "/api/v1/projects/mall/accounts?state=bogus&format=csv");
    EXPECT_EQ(bad_state.status, 400);
    EXPECT_EQ(Body(bad_state)["field"], "state");
    // format=json is the list as always.
    auto json = As(boss, "GET", "/api/v1/projects/mall/accounts?format=json");
    ASSERT_EQ(json.status, 200) << json.body;
    EXPECT_EQ(json.content_type, "application/json");
    EXPECT_EQ(Body(json)["items"].size(), 50u);
    EXPECT_EQ(Body(json)["total"], 60);
    // XLSX: a zip, with its own type and name.
    auto xlsx = As(boss, "GET", "/api/v1/projects/mall/accounts?format=xlsx");
    ASSERT_EQ(xlsx.status, 200) << xlsx.body;
    EXPECT_EQ(xlsx.content_type,
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
    EXPECT_EQ(HeaderOf(xlsx, "Content-Disposition"),
              "attachment; filename=\"mall-accounts-2026-11-20.xlsx\"");
}

// Plain JSON callers keep the 500-row page; a bad or misplaced format names "format"; a foreign
// or missing project is 404 whatever the format.
TEST_F(ApiTest, ExportsAreRefusedNamingFormatAndNeverReachAForeignProject) {
    const Session boss = Login("boss");
    auto big_page = As(boss, "GET", "/api/v1/projects/mall/accounts?page_size=100000");
    EXPECT_EQ(big_page.status, 400);
    EXPECT_EQ(Body(big_page)["field"], "page_size");
    EXPECT_EQ(As(boss, "GET", "/api/v1/operations?page_size=501").status, 400);
    for (const char* path :
         {"/api/v1/projects/mall/accounts?format=pdf",
          "/api/v1/projects/mall/accounts/A001?format=csv", "/api/v1/operations?format=CSV"}) {
        auto r = As(boss, "GET", path);
        EXPECT_EQ(r.status, 400) << path;
        EXPECT_EQ(Body(r)["field"], "format") << path << " " << r.body;
    }
    const Session fin = Login("fin");  // a project user of mall only
    for (const char* path :
         {"/api/v1/projects/park/accounts?format=csv", "/api/v1/projects/park/accounts?format=pdf",
          "/api/v1/projects/park/accounts/A001/ledger?format=xlsx",
          "/api/v1/projects/nowhere/accounts?format=csv"}) {
        auto r = As(fin, "GET", path);
        EXPECT_EQ(r.status, 404) << path;
        EXPECT_EQ(Body(r)["field"], "project") << path;
        EXPECT_EQ(r.body.find("A001"), std::string::npos) << path;
    }
    EXPECT_EQ(As(fin, "GET", "/api/v1/operations?project=park&format=csv").status, 404);
    const Session eng = Login("eng");  // no operations.view
    EXPECT_EQ(As(eng, "GET", "/api/v1/operations?format=csv").status, 403);
    EXPECT_EQ(Call("GET", "/api/v1/projects/mall/accounts?format=csv").status, 401);
}

// Each export is in the operation log — who, which list, which filters, how many rows — and the
// operation log itself exports, its details flattened into columns.
TEST_F(ApiTest, ExportsAreLoggedAndTheOperationLogExports) {
    const Session fin = Login("fin");
    ASSERT_EQ(As(fin, "GET", "/api/v1/projects/mall/accounts?format=csv&status=open&q=Tea").status,
              200);
    const Session boss = Login("boss");
    auto logged = As(boss, "GET", "/api/v1/operations?action=list.export");
    ASSERT_EQ(logged.status, 200) << logged.body;
    const Json log = Body(logged);
    ASSERT_EQ(log["total"], 1) << logged.body;
    const Json entry = log["items"][0];
    EXPECT_EQ(entry["actor"], "fin");
    EXPECT_EQ(entry["project"], "mall");
    EXPECT_EQ(entry["target"], "list:accounts");
    EXPECT_EQ(entry["detail"]["format"], "csv");
    EXPECT_EQ(entry["detail"]["rows"], 1);
    EXPECT_EQ(entry["detail"]["filters"], (Json{{"status", "open"}, {"q", "Tea"}}));
    // The project user sees its own export in its project's log.
    auto mine = As(fin, "GET", "/api/v1/operations?action=list.export&format=csv");
    ASSERT_EQ(mine.status, 200) << mine.body;
    EXPECT_EQ(CsvLines(mine.body).size(), 2u) << mine.body;
    // The whole log as CSV: every entry (more than one page of 50 here), detail flattened.
    auto top_up = [&](int i) {
        return As(fin, "POST", "/api/v1/projects/mall/accounts/A001/top-ups",
                  Json{{"amount", "1.00"}}.dump(),
                  {{"idempotency-key", "exp-" + std::to_string(i)}});
    };
    for (int i = 0; i < 55; ++i) {
        ASSERT_EQ(top_up(i).status, 201);
    }
    const int64_t total = Body(As(boss, "GET", "/api/v1/operations"))["total"].get<int64_t>();
    ASSERT_GT(total, 55);
    auto all = As(boss, "GET", "/api/v1/operations?format=csv");
    ASSERT_EQ(all.status, 200) << all.body;
    EXPECT_EQ(HeaderOf(all, "Content-Disposition"),
              "attachment; filename=\"joule-operations-2026-11-20.csv\"");
    const auto lines = CsvLines(all.body);
    EXPECT_EQ(static_cast<int64_t>(lines.size()), 1 + total);
    EXPECT_NE(lines[0].find("detail.format"), std::string::npos) << lines[0];
    auto xlsx = As(boss, "GET", "/api/v1/operations?actor=fin&format=xlsx");
    ASSERT_EQ(xlsx.status, 200) << xlsx.body;
    EXPECT_EQ(xlsx.body.substr(0, 2), "PK");
    EXPECT_EQ(Body(As(boss, "GET", "/api/v1/operations?action=list.export"))["total"], 4);
}

// Above the cap the export is refused, naming format, rather than cut short; narrowed by the
// list's filters it goes. (An API with a cap of 500 rows, so the test needs no 100,000 rows.)
TEST_F(ApiTest, AnExportAboveTheCapIsRefusedNotTruncated) {
    {
        auto tx = store_->Begin().value();
        const ProjectRecord mall = tx->FindProject("mall").value().value();
        AccountRecord a = tx->FindAccount(mall.id, "A001").value().value();
        for (int i = 0; i < kMaxPageSize; ++i) {  // 501 accounts with A001
            a.number = "Q" + std::to_string(1000 + i);
            a.tenant_name = i < 10 ? "Few" : "Many";
            ASSERT_TRUE(tx->InsertAccount(a).has_value());
        }
        ASSERT_TRUE(tx->Commit().has_value());
    }
    ApiOptions options{false, std::chrono::hours(12),  5,           std::chrono::minutes(15),
                       false, [this] { return now_; }, kMaxPageSize};
    Api capped(*store_, *store_, billing_, acquisition_, std::move(options));
    const Session boss = Login("boss");  // sessions live in the store: good for both APIs
    auto get = [&](const std::string& path_and_query) {
        HttpRequest r;
        r.method = "GET";
        const auto q = path_and_query.find('?');
        r.path = path_and_query.substr(0, q);
        r.query = path_and_query.substr(q + 1);
        r.remote = "127.0.0.1";
        r.headers = {{"cookie", boss.cookie}};
        return capped.Handle(r);
    };
    auto over = get("/api/v1/projects/mall/accounts?format=csv");
    EXPECT_EQ(over.status, 400) << over.body.substr(0, 300);
    EXPECT_EQ(over.content_type, "application/json");
    EXPECT_EQ(Body(over)["code"], "out_of_range");
    EXPECT_EQ(Body(over)["field"], "format");
    EXPECT_NE(Body(over)["message"].get<std::string>().find("501"), std::string::npos);
    auto narrowed = get("/api/v1/projects/mall/accounts?q=Few&format=csv");
    ASSERT_EQ(narrowed.status, 200) << narrowed.body;
    EXPECT_EQ(CsvLines(narrowed.body).size(), 1u + 10u);
    // The default cap takes all 501 at once, where a JSON page stops at 500.
    auto all = As(boss, "GET", "/api/v1/projects/mall/accounts?format=csv");
    ASSERT_EQ(all.status, 200) << all.body.substr(0, 300);
    EXPECT_EQ(CsvLines(all.body).size(), 1u + 501u);
    // A refused export is not logged as one; the two that went are.
    auto log = As(boss, "GET", "/api/v1/operations?action=list.export");
    EXPECT_EQ(Body(log)["total"], 2) << log.body;
}

// Lists that load a window of the newest rows (ledger, readings, commands): an export loads one
// more row than it may have, and refuses when the window is full rather than leave rows out.
TEST(ExportWindow, AFullWindowRefusesTheExportButNeverAPage) {
    const QueryParams page;
    EXPECT_EQ(RowsToLoad(page, 10'000), 10'000);
    EXPECT_TRUE(CheckWindow(page, 10'000, 10'000).has_value());
    QueryParams exported;
    exported.max_page_size = kDefaultMaxExportRows;
    const int limit = RowsToLoad(exported, 10'000);
    EXPECT_EQ(limit, kDefaultMaxExportRows + 1);
    EXPECT_TRUE(CheckWindow(exported, kDefaultMaxExportRows, limit).has_value());
    const auto full = CheckWindow(exported, static_cast<std::size_t>(limit), limit);
    ASSERT_FALSE(full.has_value());
    EXPECT_EQ(full.error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(full.error().field, "format");
}

// A nested list's file is named after its path; amounts are the ledger's exact text.
TEST_F(ApiTest, TheLedgerExportsWithItsAmountsAsText) {
    const Session fin = Login("fin");
    ASSERT_EQ(As(fin, "POST", "/api/v1/projects/mall/accounts/A001/refunds",
                 Json{{"amount", "12.50"}, {"reason", "overpaid"}}.dump(),
                 {{"idempotency-key", "ledger-exp-1"}})
                  .status,
              201);
    auto r = As(fin, "GET", "/api/v1/projects/mall/accounts/A001/ledger?format=csv&sort=at");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(HeaderOf(r, "Content-Disposition"),
              "attachment; filename=\"mall-accounts-A001-ledger-2026-11-20.csv\"");
    EXPECT_NE(r.body.find(",-12.50,"), std::string::npos) << r.body;  // not '-12.50
    EXPECT_NE(r.body.find(",100.00,"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.find("'-12.50"), std::string::npos) << r.body;
}

TEST_F(ApiTest, FirstAdminIsCreatedOnlyOnce) {
    auto store = std::move(storage::SqliteStore::Open(":memory:", {}).value());
    BillingService billing(*store);
    AcquisitionService acquisition(*store, billing);
    Api api(*store, *store, billing, acquisition, ApiOptions{});
    auto first = api.EnsureFirstAdmin();
    ASSERT_TRUE(first.has_value() && first->has_value());
    EXPECT_GE((*first)->size(), 10u);
    auto second = api.EnsureFirstAdmin();
    ASSERT_TRUE(second.has_value());
    EXPECT_FALSE(second->has_value());
}

}  // namespace
}  // namespace joule::api

namespace joule::api {
namespace {

// A channel that refuses every message for good.
class RefusingSender final : public NotificationSender {
public:
    Status Send(const DeliveryRecord& /*d*/) override {
        return MakeError(ErrorCode::kInvalidArgument, "the receiver said 404", "");
    }
};

TEST_F(ApiTest, NotificationRecipientsAndTheDeliveryLog) {
    const Session boss = Login("boss");
    const Session fin = Login("fin");  // alarms.view, not alarms.manage
    const std::string base = "/api/v1/projects/mall/notifications";
    const std::string url = "https://oapi.dingtalk.com/robot/send?access_token=TOKEN";
    const Json robot = {{"name", "Robot"}, {"role", "management"}, {"channel", "webhook"},
                        {"address", url},  {"kinds", {"top_up"}},  {"secret", "0123456789abcdef"}};
    const auto added = As(boss, "POST", base + "/recipients", robot.dump());
    ASSERT_EQ(added.status, 201) << added.body;
    EXPECT_EQ(Body(added)["address"], url);
    EXPECT_EQ(Body(added)["has_secret"], true);
    EXPECT_FALSE(Body(added).contains("secret"));
    // Finance may look, not change; and the URL's token is not for its eyes.
    const auto seen = As(fin, "GET", base + "/recipients");
    ASSERT_EQ(seen.status, 200) << seen.body;
    EXPECT_EQ(Body(seen)["items"][0]["address"], "https://oapi.dingtalk.com/robot/send?…");
    EXPECT_EQ(Body(seen)["channels"], Json::array());  // this server sends on nothing
    EXPECT_EQ(As(fin, "POST", base + "/recipients", robot.dump()).status, 403);
    Json bad = robot;
    bad["kinds"] = {"top_up", "top_up"};
    const auto twice = As(boss, "POST", base + "/recipients", bad.dump());
    EXPECT_EQ(twice.status, 400);
    EXPECT_EQ(Body(twice)["field"], "kinds[1]");

    // A top-up told to the robot, refused by it for good.
    TopUpRequest top_up{"mall", "A001", Money{500}, "cash", "notify-1", ""};
    ASSERT_TRUE(billing_.TopUp(top_up, Actor{"boss"}, now_).has_value());
    NotifyOptions options;
    options.configured = {NotifyChannel::kWebhook};
    NotificationService notifier(*store_, options);
    ASSERT_TRUE(notifier.ExpandEvents(now_).has_value());
    RefusingSender receiver;
    // Two top-ups: the account's first one at its opening, and this one.
    ASSERT_EQ(notifier.DeliverDue(NotifyChannel::kWebhook, receiver, now_).value().failed, 2);

    const auto log = As(boss, "GET", base + "/deliveries?channel=webhook&state=failed");
    ASSERT_EQ(log.status, 200) << log.body;
    ASSERT_EQ(Body(log)["items"].size(), 2U);
    const Json d = Body(log)["items"][0];
    EXPECT_EQ(d["kind"], "top_up");
    EXPECT_EQ(d["address"], url);
    EXPECT_EQ(d["error"], "the receiver said 404");
    EXPECT_EQ(d["title"], "充值到账提醒");
    EXPECT_EQ(Body(log)["next_before"], 0);
    EXPECT_EQ(Body(As(fin, "GET", base + "/deliveries"))["items"][0]["address"],
              "https://oapi.dingtalk.com/robot/send?…");
    // Resending on a channel this server does not send on would wait for ever: refused.
    const auto resend =
        As(boss, "POST", base + "/deliveries/" + std::to_string(d["id"].get<int64_t>()) + "/retry");
    EXPECT_EQ(resend.status, 409) << resend.body;
    EXPECT_EQ(As(fin, "POST", base + "/deliveries/1/retry").status, 403);
    // The list's parameters are checked.
    EXPECT_EQ(As(boss, "GET", base + "/deliveries?state=lost").status, 400);
    EXPECT_EQ(As(boss, "GET", base + "/deliveries?limit=0").status, 400);
    EXPECT_EQ(As(boss, "GET", base + "/deliveries?colour=red").status, 400);
    const auto kinds = As(fin, "GET", base + "/kinds");
    ASSERT_EQ(kinds.status, 200);
    EXPECT_EQ(Body(kinds)["items"].size(), EventKinds().size());
    // The robot is removed; another project's cannot be reached from this one.
    const int64_t id = Body(added)["id"].get<int64_t>();
    EXPECT_EQ(
        As(boss, "DELETE", "/api/v1/projects/park/notifications/recipients/" + std::to_string(id))
            .status,
        404);
    EXPECT_EQ(As(boss, "DELETE", base + "/recipients/" + std::to_string(id)).status, 204);
    EXPECT_EQ(Body(As(boss, "GET", base + "/recipients"))["total"], 0);
}

}  // namespace
}  // namespace joule::api
