// Site editing and imports through the API [HIER-1..3]: buildings, floors, rooms, gateways and
// meters created, edited with If-Match and deleted only when nothing depends on them; imports of
// CSV and XLSX templates that write every row or none; templates downloaded and read back.
#include <gtest/gtest.h>

#include <set>

#include "api/api_test_support.hpp"
#include "api/export.hpp"
#include "codec/csv_reader.hpp"
#include "codec/xlsx_reader.hpp"
#include "service/site_import.hpp"
#include "service/site_service.hpp"

namespace joule::api::test {
namespace {

using Json = nlohmann::json;

class SiteApiTest : public ApiHarness {
protected:
    void SetUp() override {
        for (const char* code : {"mall", "park"}) {
            SiteSpec site = service_test::FlatSite(code, "dds-1");
            service_test::AddFloor(site, "B1", "1号楼", "1F", "一层", {{"101", "商铺101"}});
            GatewayRecord gw;
            gw.code = "GW1";
            gw.name = "GW1";
            gw.transport = "modbus_tcp";
            gw.endpoint =
                std::string("10.0.0.") + (std::string(code) == "mall" ? "1" : "2") + ":502";
            site.gateways.push_back(gw);
            SiteSpec::Meter m;
            m.meter.code = "m1";
            m.meter.bus_address = "000000000001";
            m.model_code = "dds-1";
            m.gateway_code = "GW1";
            m.room_code = "101";
            site.meters.push_back(m);
            ASSERT_TRUE(CreateSite(*store_, site, Actor{}, now_).has_value());
            OpenAccountRequest open;
            open.project_code = code;
            open.number = "A001";
            open.tenant_name = "Tea shop";
            open.tariff_code = "flat";
            open.meters.push_back({"m1", Quantity{100'000}, std::nullopt});
            open.opened_at = now_;
            ASSERT_TRUE(billing_.OpenAccount(open, Actor{}, now_).has_value());
        }
        AddUser("boss", "admin", {});
        AddUser("com", "commercial", {"mall"});
        AddUser("eng", "engineering", {"mall"});
        AddUser("fin", "finance", {"mall"});
    }

    static std::string Tag(const HttpResponse& r) { return HeaderOf(r, "ETag"); }

    // The number of rows a list has.
    int64_t Total(const Session& s, const std::string& list) {
        auto r = As(s, "GET", "/api/v1/projects/mall/" + list);
        EXPECT_EQ(r.status, 200) << r.body;
        return Body(r)["total"].get<int64_t>();
    }

    // The operation log's entries of `action` in mall, newest first.
    Json Logged(const std::string& action) {
        const Session boss = Login("boss");
        auto r = As(boss, "GET", "/api/v1/operations?project=mall&action=" + action);
        EXPECT_EQ(r.status, 200) << r.body;
        return Body(r)["items"];
    }

    HttpResponse Upload(const Session& s, const std::string& kind, const std::string& file,
                        const std::string& query = "") {
        return As(s, "POST", "/api/v1/projects/mall/imports/" + kind + query, file,
                  {{"content-type", "text/csv"}});
    }

    static std::string Xlsx(const std::vector<std::string>& header,
                            const std::vector<std::vector<std::string>>& rows) {
        ExportTable table;
        table.columns = header;
        for (const auto& row : rows) {
            std::vector<ExportCell> cells;
            for (const std::string& text : row) {
                // Whole numbers as number cells, as a spreadsheet keeps what is typed.
                const bool number = !text.empty() && text.size() < 10 &&
                                    text.find_first_not_of("0123456789") == std::string::npos &&
                                    text.front() != '0';
                cells.push_back(ExportCell{text, number});
            }
            table.rows.push_back(std::move(cells));
        }
        auto bytes = api::Xlsx(table, "data");
        EXPECT_TRUE(bytes.has_value());
        return bytes.value_or("");
    }
};

// ------------------------------------------------------------------------------------ editing

TEST_F(SiteApiTest, BuildingsFloorsAndRoomsAreCreatedEditedAndDeleted) {
    const Session com = Login("com");
    const std::string p = "/api/v1/projects/mall";
    auto created =
        As(com, "POST", p + "/buildings", Json{{"code", "B2"}, {"name", "2号楼"}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    EXPECT_EQ(Tag(created), "\"1\"");
    EXPECT_EQ(HeaderOf(created, "Location"), p + "/buildings/B2");
    EXPECT_EQ(Body(created), (Json{{"code", "B2"}, {"name", "2号楼"}, {"version", 1}}));
    EXPECT_EQ(As(com, "POST", p + "/buildings", Json{{"code", "B2"}}.dump()).status, 409);
    auto renamed = As(com, "PATCH", p + "/buildings/B2", Json{{"name", "二号楼"}}.dump(),
                      {{"if-match", "\"1\""}});
    ASSERT_EQ(renamed.status, 200) << renamed.body;
    EXPECT_EQ(Tag(renamed), "\"2\"");
    EXPECT_EQ(Body(As(com, "GET", p + "/buildings/B2"))["name"], "二号楼");
    auto floor = As(com, "POST", p + "/buildings/B2/floors", Json{{"code", "2F"}}.dump());
    ASSERT_EQ(floor.status, 201) << floor.body;
    EXPECT_EQ(Body(floor)["name"], "2F");  // the code when no name is given
    auto room =
        As(com, "POST", p + "/rooms",
           Json{{"code", "201"}, {"building", "B2"}, {"floor", "2F"}, {"area", "48.25"}}.dump());
    ASSERT_EQ(room.status, 201) << room.body;
    EXPECT_EQ(Body(room)["area"], "48.25");
    EXPECT_EQ(Body(room)["building"], "B2");
    // A room moves to another floor; a code that is taken is refused.
    auto moved = As(com, "PATCH", p + "/rooms/201",
                    Json{{"building", "B1"}, {"floor", "1F"}}.dump(), {{"if-match", "\"1\""}});
    ASSERT_EQ(moved.status, 200) << moved.body;
    EXPECT_EQ(Body(moved)["floor"], "1F");
    EXPECT_EQ(
        As(com, "PATCH", p + "/rooms/201", Json{{"code", "101"}}.dump(), {{"if-match", "\"2\""}})
            .status,
        409);
    // Deleted bottom-up, each with its ETag.
    EXPECT_EQ(As(com, "DELETE", p + "/rooms/201", "", {{"if-match", "\"2\""}}).status, 204);
    EXPECT_EQ(As(com, "DELETE", p + "/buildings/B2/floors/2F", "", {{"if-match", "\"1\""}}).status,
              204);
    EXPECT_EQ(As(com, "DELETE", p + "/buildings/B2", "", {{"if-match", "\"2\""}}).status, 204);
    EXPECT_EQ(As(com, "GET", p + "/buildings/B2").status, 404);
    // Each change is logged with what it was and what it became.
    const Json updates = Logged("building.update");
    ASSERT_EQ(updates.size(), 1u);
    EXPECT_EQ(updates[0]["actor"], "com");
    EXPECT_EQ(updates[0]["target"], "building:B2");
    EXPECT_EQ(updates[0]["detail"]["before"]["name"], "2号楼");
    EXPECT_EQ(updates[0]["detail"]["after"]["name"], "二号楼");
    EXPECT_EQ(Logged("building.create").size(), 1u);
    EXPECT_EQ(Logged("building.delete")[0]["detail"]["before"]["code"], "B2");
    EXPECT_EQ(Logged("room.update")[0]["detail"]["before"]["floor"], "2F");
    EXPECT_EQ(Logged("floor.delete").size(), 1u);
}

TEST_F(SiteApiTest, AnEditMadeAgainstAnOldVersionIsAConflictAndChangesNothing) {
    const Session com = Login("com");
    const std::string room = "/api/v1/projects/mall/rooms/101";
    auto read = As(com, "GET", room);
    ASSERT_EQ(read.status, 200) << read.body;
    const std::string etag = Tag(read);
    ASSERT_EQ(etag, "\"1\"");
    ASSERT_EQ(As(com, "PATCH", room, Json{{"name", "first"}}.dump(), {{"if-match", etag}}).status,
              200);
    // A second editor who read the same version loses: 409, naming If-Match, nothing changed.
    auto stale = As(com, "PATCH", room, Json{{"name", "second"}}.dump(), {{"if-match", etag}});
    EXPECT_EQ(stale.status, 409) << stale.body;
    EXPECT_EQ(Body(stale)["code"], "aborted");
    EXPECT_EQ(Body(stale)["field"], "If-Match");
    EXPECT_EQ(Body(As(com, "GET", room))["name"], "first");
    // The version may come in the body instead; both at once must agree.
    EXPECT_EQ(As(com, "PATCH", room, Json{{"name", "third"}, {"version", 2}}.dump()).status, 200);
    EXPECT_EQ(
        As(com, "PATCH", room, Json{{"name", "x"}, {"version", 3}}.dump(), {{"if-match", "\"2\""}})
            .status,
        400);
    // Without either, an edit or a delete is refused before anything is read.
    auto blind = As(com, "PATCH", room, Json{{"name", "blind"}}.dump());
    EXPECT_EQ(blind.status, 400);
    EXPECT_EQ(Body(blind)["field"], "If-Match");
    EXPECT_EQ(Body(As(com, "DELETE", room))["field"], "If-Match");
    EXPECT_EQ(As(com, "DELETE", room, "", {{"if-match", "\"1\""}}).status, 409);
    EXPECT_EQ(Body(As(com, "GET", room))["name"], "third");
}

TEST_F(SiteApiTest, DeletingWhatStillHasChildrenOrHistoryIsRefused) {
    const Session boss = Login("boss");
    const std::string p = "/api/v1/projects/mall";
    struct Case {
        std::string path;
        std::string field;
        std::string says;
    };
    const std::vector<Case> cases = {
        {p + "/buildings/B1", "building", "floor"},
        {p + "/buildings/B1/floors/1F", "floor", "room"},
        {p + "/rooms/101", "room", "meter"},
        {p + "/gateways/GW1", "gateway", "meter"},
        {p + "/meters/m1", "meter", "account 'A001'"},
    };
    for (const Case& c : cases) {
        auto r = As(boss, "DELETE", c.path, "", {{"if-match", "\"1\""}});
        EXPECT_EQ(r.status, 409) << c.path << " " << r.body;
        EXPECT_EQ(Body(r)["code"], "failed_precondition") << c.path;
        EXPECT_EQ(Body(r)["field"], c.field) << c.path;
        EXPECT_NE(Body(r)["message"].get<std::string>().find(c.says), std::string::npos) << r.body;
        EXPECT_EQ(As(boss, "GET", c.path).status, 200) << c.path;  // still there
    }
    // A meter with readings (its history) cannot go either, even without an account.
    auto m2 = As(boss, "POST", p + "/meters", Json{{"code", "m2"}, {"model", "dds-1"}}.dump());
    ASSERT_EQ(m2.status, 201) << m2.body;
    ReadingItem item;
    item.project_code = "mall";
    item.meter_code = "m2";
    item.reading.meter_time = now_;
    item.reading.received = now_;
    item.reading.total = Quantity{5000};
    ASSERT_TRUE(billing_.ApplyReadings(std::span<const ReadingItem>(&item, 1), now_).has_value());
    auto read = As(boss, "DELETE", p + "/meters/m2", "", {{"if-match", "\"1\""}});
    EXPECT_EQ(read.status, 409) << read.body;
    EXPECT_NE(Body(read)["message"].get<std::string>().find("readings"), std::string::npos);
    // A meter with nothing yet goes, and takes its billing state with it.
    ASSERT_EQ(
        As(boss, "POST", p + "/meters", Json{{"code", "m3"}, {"model", "dds-1"}}.dump()).status,
        201);
    EXPECT_EQ(As(boss, "DELETE", p + "/meters/m3", "", {{"if-match", "\"1\""}}).status, 204);
    EXPECT_EQ(As(boss, "GET", p + "/meters/m3").status, 404);
    EXPECT_EQ(Logged("meter.delete").size(), 1u);
}

TEST_F(SiteApiTest, BadFieldsAreRefusedNamingTheFieldAndChangeNothing) {
    const Session boss = Login("boss");
    const std::string p = "/api/v1/projects/mall";
    struct Case {
        std::string method;
        std::string path;
        Json body;
        std::string field;
    };
    const std::vector<Case> cases = {
        {"POST", p + "/buildings", Json{{"code", "B9"}, {"colour", "red"}}, "colour"},
        {"POST", p + "/buildings", Json{{"code", "a/b"}}, "code"},
        {"POST", p + "/buildings", Json{{"code", 7}}, "code"},
        {"POST", p + "/buildings", Json{{"name", "no code"}}, "code"},
        {"POST", p + "/rooms", Json{{"code", "R9"}, {"area", "1.234"}}, "area"},
        {"POST", p + "/rooms", Json{{"code", "R9"}, {"area", 12}}, "area"},
        {"POST", p + "/rooms", Json{{"code", "R9"}, {"building", "B1"}}, "floor"},
        {"POST", p + "/rooms", Json{{"code", "R9"}, {"building", "B1"}, {"floor", "9F"}}, "floor"},
        {"POST", p + "/gateways", Json{{"code", "G9"}, {"transport", "pigeon"}}, "transport"},
        {"POST", p + "/gateways",
         Json{{"code", "G9"}, {"transport", "modbus_tcp"}, {"endpoint", "10.0.0.9:99999"}},
         "endpoint"},
        {"POST", p + "/gateways", Json{{"code", "G9"}, {"transport", "dtu"}}, "endpoint"},
        {"POST", p + "/gateways",
         Json{{"code", "G9"}, {"transport", "modbus_tcp"}, {"endpoint", "10.0.0.1:502"}},
         "endpoint"},  // GW1's
        {"POST", p + "/meters", Json{{"code", "m9"}, {"model", "nope"}}, "model"},
        {"POST", p + "/meters", Json{{"code", "m9"}, {"model", "dds-1"}, {"circuit", 64}},
         "circuit"},
        {"POST", p + "/meters",
         Json{{"code", "m9"},
              {"model", "dds-1"},
              {"gateway", "GW1"},
              {"bus_address", "000000000001"}},
         "bus_address"},  // m1 answers there
        {"POST", p + "/meters", Json{{"code", "m9"}, {"model", "dds-1"}, {"room", "999"}}, "room"},
        {"POST", p + "/meters", Json{{"code", "m9"}, {"model", "dds-1"}, {"public_area", "yes"}},
         "public_area"},
        {"PATCH", p + "/buildings/B1", Json::object(), "body"},
        {"PATCH", p + "/buildings/B1", Json{{"floors", 3}, {"version", 1}}, "floors"},
        {"PATCH", p + "/meters/m1", Json{{"parent", "m1"}, {"version", 1}}, "parent"},
        {"PATCH", p + "/meters/m1", Json{{"public_area", true}, {"version", 1}}, "public_area"},
        {"PATCH", p + "/meters/m1", Json{{"model", "water-9"}, {"version", 1}}, "model"},
    };
    for (const Case& c : cases) {
        auto r = As(boss, c.method, c.path, c.body.dump());
        EXPECT_GE(r.status, 400) << c.path << " " << c.body.dump();
        EXPECT_LT(r.status, 500) << r.body;
        EXPECT_EQ(Body(r)["field"], c.field) << c.body.dump() << " -> " << r.body;
    }
    EXPECT_EQ(Total(boss, "buildings"), 1);
    EXPECT_EQ(Total(boss, "rooms"), 1);
    EXPECT_EQ(Total(boss, "gateways"), 1);
    EXPECT_EQ(Total(boss, "meters"), 1);
    // SQL meta-characters are data.
    const std::string evil = "x'); DROP TABLE rooms; --";
    auto stored = As(boss, "POST", p + "/rooms", Json{{"code", "R-evil"}, {"name", evil}}.dump());
    ASSERT_EQ(stored.status, 201) << stored.body;
    EXPECT_EQ(Body(As(boss, "GET", p + "/rooms/R-evil"))["name"], evil);
    EXPECT_EQ(Total(boss, "rooms"), 2);
}

TEST_F(SiteApiTest, AGatewayShowsHowItsBusAnswers) {
    const Session eng = Login("eng");
    const std::string p = "/api/v1/projects/mall";
    auto created =
        As(eng, "POST", p + "/gateways",
           Json{{"code", "DTU2"}, {"transport", "dtu"}, {"endpoint", "REG-0002"}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    auto find = [&](const std::string& code) {
        const Json list = Body(As(eng, "GET", p + "/gateways?page_size=500"));
        for (const Json& g : list["items"]) {
            if (g["code"] == code)
                return g;
        }
        ADD_FAILURE() << "no gateway " << code;
        return Json();
    };
    EXPECT_TRUE(find("DTU2")["bus"].is_null());  // nothing counted yet

    const GatewayId id = [&] {
        auto tx = store_->Begin().value();
        return tx->FindGateway(tx->FindProject("mall").value()->id, "DTU2").value()->id;
    }();
    using std::chrono::milliseconds;
    for (int i = 0; i < 5; ++i) {
        bus_.RecordExchange(id, ExchangeOutcome::kAnswered, milliseconds{100 + 10 * i}, 0, 0, now_);
    }
    bus_.RecordExchange(id, ExchangeOutcome::kTimedOut, milliseconds{1500}, 3, 1, now_);
    bus_.RecordRetry(id, now_);
    const Json bus = find("DTU2")["bus"];
    EXPECT_EQ(bus["source"], "platform");
    EXPECT_EQ(bus["requests"], 6);
    EXPECT_EQ(bus["answered"], 5);
    EXPECT_EQ(bus["timeouts"], 1);
    EXPECT_EQ(bus["retries"], 1);
    EXPECT_EQ(bus["bad_frames"], 1);
    EXPECT_EQ(bus["noise_bytes"], 3);
    EXPECT_EQ(bus["success_permille"], 833);  // 5 of 6, rounded down
    EXPECT_EQ(bus["average_ms"], 120);        // of the answered ones only
    EXPECT_EQ(bus["max_ms"], 140);
    EXPECT_EQ(bus["since"], "2026-11-20T00:00:00Z");
}

TEST_F(SiteApiTest, GatewaysAndMetersAreWiredAndRewiredThroughTheApi) {
    const Session eng = Login("eng");
    const std::string p = "/api/v1/projects/mall";
    auto dtu = As(eng, "POST", p + "/gateways",
                  Json{{"code", "DTU1"}, {"transport", "dtu"}, {"endpoint", "REG-0001"}}.dump());
    ASSERT_EQ(dtu.status, 201) << dtu.body;
    EXPECT_EQ(Body(dtu)["framing"], "transparent");
    // Another project's gateway with the same endpoint is not named.
    auto park = As(Login("boss"), "POST", "/api/v1/projects/park/gateways",
                   Json{{"code", "DTU9"}, {"transport", "dtu"}, {"endpoint", "REG-0001"}}.dump());
    EXPECT_EQ(park.status, 409);
    EXPECT_EQ(park.body.find("DTU1"), std::string::npos) << park.body;
    auto m5 = As(eng, "POST", p + "/meters",
                 Json{{"code", "m5"},
                      {"model", "dds-1"},
                      {"gateway", "DTU1"},
                      {"bus_address", "5"},
                      {"room", "101"},
                      {"parent", "m1"}}
                     .dump());
    ASSERT_EQ(m5.status, 201) << m5.body;
    EXPECT_EQ(Body(m5)["parent"], "m1");
    // Two meters cannot answer at one address and circuit of one gateway; another circuit can.
    EXPECT_EQ(As(eng, "POST", p + "/meters",
                 Json{{"code", "m6"}, {"model", "dds-1"}, {"gateway", "DTU1"}, {"bus_address", "5"}}
                     .dump())
                  .status,
              409);
    ASSERT_EQ(As(eng, "POST", p + "/meters",
                 Json{{"code", "m6"},
                      {"model", "dds-1"},
                      {"gateway", "DTU1"},
                      {"bus_address", "5"},
                      {"circuit", 1}}
                     .dump())
                  .status,
              201);
    // Rewired to GW1 under a new address: the registry acquisition watches sees the edit.
    std::string stamp;
    {
        auto tx = store_->BeginRead().value();
        stamp = tx->RegistryStamp().value();
    }
    auto rewired =
        As(eng, "PATCH", p + "/meters/m5",
           Json{{"gateway", "GW1"}, {"bus_address", "000000000005"}, {"parent", ""}}.dump(),
           {{"if-match", "\"1\""}});
    ASSERT_EQ(rewired.status, 200) << rewired.body;
    EXPECT_EQ(Body(rewired)["gateway"], "GW1");
    EXPECT_EQ(Body(rewired)["parent"], "");
    EXPECT_EQ(Tag(rewired), "\"2\"");
    {
        auto tx = store_->BeginRead().value();
        EXPECT_NE(tx->RegistryStamp().value(), stamp);
    }
    // A loop of parents is refused.
    ASSERT_EQ(
        As(eng, "PATCH", p + "/meters/m6", Json{{"parent", "m5"}}.dump(), {{"if-match", "\"1\""}})
            .status,
        200);
    auto loop =
        As(eng, "PATCH", p + "/meters/m5", Json{{"parent", "m6"}}.dump(), {{"if-match", "\"2\""}});
    EXPECT_EQ(loop.status, 400) << loop.body;
    EXPECT_EQ(Body(loop)["field"], "parent");
    // The meter detail shows the wiring and its ETag; a gateway with meters stays.
    auto detail = As(eng, "GET", p + "/meters/m5");
    ASSERT_EQ(detail.status, 200);
    EXPECT_EQ(Body(detail)["room"], "101");
    EXPECT_EQ(Tag(detail), "\"2\"");
    auto gw = As(eng, "GET", p + "/gateways/DTU1");
    EXPECT_EQ(Body(gw)["meters"], 1);
    EXPECT_EQ(As(eng, "DELETE", p + "/gateways/DTU1", "", {{"if-match", Tag(gw)}}).status, 409);
    // Engineering edits devices, not the building hierarchy; commercial the reverse.
    EXPECT_EQ(As(eng, "POST", p + "/buildings", Json{{"code", "B7"}}.dump()).status, 403);
    EXPECT_EQ(
        As(Login("com"), "POST", p + "/meters", Json{{"code", "m7"}, {"model", "dds-1"}}.dump())
            .status,
        403);
    EXPECT_EQ(As(eng, "POST", "/api/v1/projects/park/meters",
                 Json{{"code", "m7"}, {"model", "dds-1"}}.dump())
                  .status,
              404);
    const Json created = Logged("meter.create");
    EXPECT_EQ(created.size(), 2u);
    EXPECT_EQ(Logged("meter.update")[1]["detail"]["before"]["gateway"], "DTU1");
}

// ------------------------------------------------------------------------------------ imports

TEST_F(SiteApiTest, ACsvOfRoomsSetsUpBuildingsFloorsAndRoomsInOneGo) {
    const Session com = Login("com");
    // A BOM, CRLF, a quoted name with a comma and a newline, a building by its name, a building
    // and floors that do not exist yet.
    const std::string csv =
        "\xEF\xBB\xBF楼栋 building,楼层 floor,房间编号 code,房间名称 name,面积(m²) area\r\n"
        "1号楼,1F,102,\"Tea, coffee\r\nand cake\",20\r\n"
        "B1,2F,201,,35.50\r\n"
        "B3,1F,B3-101,商铺,\r\n"
        "B3,1F,B3-102,商铺 2,12.5\r\n";
    auto r = Upload(com, "rooms", csv);
    ASSERT_EQ(r.status, 201) << r.body;
    const Json body = Body(r);
    EXPECT_EQ(body["format"], "csv");
    EXPECT_EQ(body["rows"], 4);
    EXPECT_EQ(body["created"]["buildings"], Json::array({"B3"}));
    EXPECT_EQ(body["created"]["floors"], Json::array({"B1/2F", "B3/1F"}));
    EXPECT_EQ(body["created"]["rooms"], Json::array({"102", "201", "B3-101", "B3-102"}));
    EXPECT_EQ(body["counts"]["rooms"], 4);
    const std::string p = "/api/v1/projects/mall";
    auto tea = Body(As(com, "GET", p + "/rooms/102"));
    EXPECT_EQ(tea["name"], "Tea, coffee\r\nand cake");
    EXPECT_EQ(tea["building"], "B1");  // "1号楼" is B1's name
    EXPECT_EQ(Body(As(com, "GET", p + "/rooms/201"))["area"], "35.50");
    EXPECT_EQ(Total(com, "rooms"), 5);
    const Json logged = Logged("import.rooms");
    ASSERT_EQ(logged.size(), 1u);
    EXPECT_EQ(logged[0]["actor"], "com");
    EXPECT_EQ(logged[0]["detail"]["rows"], 4);
    EXPECT_EQ(logged[0]["detail"]["created"]["rooms"], 4);
}

TEST_F(SiteApiTest, AnXlsxOfMetersIsImported) {
    const Session eng = Login("eng");
    const std::string xlsx =
        Xlsx({"表号 code", "型号 model", "网关编号 gateway", "通讯地址 bus_address", "回路 circuit",
              "房间编号 room", "上级表号 parent", "公区表 public_area"},
             {{"000012345678", "dds-1", "GW1", "", "", "101", "", "否"},
              {"000012345679", "dds-1", "GW1", "", "2", "", "000012345678", "是"},
              {"SUB-3", "dds-1", "", "", "", "", "000012345679", "FALSE"}});
    ASSERT_TRUE(xlsx.starts_with("PK"));
    auto r =
        As(eng, "POST", "/api/v1/projects/mall/imports/meters", xlsx,
           {{"content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}});
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Body(r)["format"], "xlsx");
    EXPECT_EQ(Body(r)["created"]["meters"], Json::array({"000012345678", "000012345679", "SUB-3"}));
    auto meter = Body(As(eng, "GET", "/api/v1/projects/mall/meters/000012345679"));
    EXPECT_EQ(meter["circuit"], 2);  // a number cell
    EXPECT_EQ(meter["public_area"], true);
    EXPECT_EQ(meter["parent"], "000012345678");
    EXPECT_EQ(Body(As(eng, "GET", "/api/v1/projects/mall/meters/SUB-3"))["parent"], "000012345679");
    EXPECT_EQ(Total(eng, "meters"), 4);
}

TEST_F(SiteApiTest, ThreeBadRowsAreAllReportedAndNothingIsWritten) {
    const Session com = Login("com");
    const int64_t rooms = Total(com, "rooms");
    const int64_t buildings = Total(com, "buildings");
    const int64_t logged = static_cast<int64_t>(Logged("import.rooms").size());
    const std::string csv =
        "building,floor,code,name,area\n"
        "B1,1F,102,ok,10\n"
        "B1,1F,,missing code,10\n"  // row 3: code
        "B9,1F,103,ok,10\n"
        "B1,,104,no floor,10\n"         // row 5: floor
        "B1,1F,105,bad area,12.345\n";  // row 6: area
    auto r = Upload(com, "rooms", csv);
    ASSERT_EQ(r.status, 400) << r.body;
    const Json body = Body(r);
    EXPECT_EQ(body["code"], "invalid_argument");
    EXPECT_EQ(body["field"], "rows");
    ASSERT_EQ(body["errors"].size(), 3u) << r.body;
    EXPECT_EQ(body["errors_total"], 3);
    const std::vector<std::tuple<int, std::string, std::string>> want = {
        {3, "code", "C3"}, {5, "floor", "B5"}, {6, "area", "E6"}};
    for (std::size_t i = 0; i < want.size(); ++i) {
        const Json& e = body["errors"][i];
        EXPECT_EQ(e["row"], std::get<0>(want[i])) << e;
        EXPECT_EQ(e["column"], std::get<1>(want[i])) << e;
        EXPECT_EQ(e["cell"], std::get<2>(want[i])) << e;
        EXPECT_FALSE(e["message"].get<std::string>().empty());
    }
    // Nothing half-imported: not rows 2 and 4, not the building B9 row 4 would create.
    EXPECT_EQ(Total(com, "rooms"), rooms);
    EXPECT_EQ(Total(com, "buildings"), buildings);
    EXPECT_EQ(static_cast<int64_t>(Logged("import.rooms").size()), logged);
}

TEST_F(SiteApiTest, ADryRunChecksEverythingAndWritesNothing) {
    const Session com = Login("com");
    const std::string csv = "code,name\nB5,五号楼\nB6,六号楼\n";
    auto dry = Upload(com, "buildings", csv, "?dry_run=true");
    ASSERT_EQ(dry.status, 200) << dry.body;
    EXPECT_EQ(Body(dry)["dry_run"], true);
    EXPECT_EQ(Body(dry)["counts"]["buildings"], 2);
    EXPECT_EQ(Total(com, "buildings"), 1);
    EXPECT_TRUE(Logged("import.buildings").empty());
    // A dry run reports problems the same way.
    auto bad = Upload(com, "buildings", "code,name\nB1,dup\n", "?dry_run=true");
    EXPECT_EQ(bad.status, 400);
    EXPECT_EQ(Body(bad)["errors"][0]["code"], "already_exists");
    EXPECT_EQ(Upload(com, "buildings", csv, "?dry_run=maybe").status, 400);
    // And then for real.
    ASSERT_EQ(Upload(com, "buildings", csv).status, 201);
    EXPECT_EQ(Total(com, "buildings"), 3);
}

TEST_F(SiteApiTest, DuplicatesInTheFileAndInTheStoreAreRowErrors) {
    const Session eng = Login("eng");
    const std::string csv =
        "code,name,transport,endpoint\n"
        "GW2,two,dtu,REG-2\n"
        "GW2,again,dtu,REG-3\n"                // the code of row 2
        "GW3,three,dtu,REG-2\n"                // the endpoint of row 2
        "GW1,taken,mqtt,\n"                    // the store's GW1
        "GW4,four,modbus_tcp,10.0.0.1:502\n";  // GW1's endpoint
    auto r = Upload(eng, "gateways", csv);
    ASSERT_EQ(r.status, 400) << r.body;
    const Json errors = Body(r)["errors"];
    ASSERT_EQ(errors.size(), 4u) << r.body;
    EXPECT_EQ(errors[0]["row"], 3);
    EXPECT_EQ(errors[0]["column"], "code");
    EXPECT_NE(errors[0]["message"].get<std::string>().find("row 2"), std::string::npos);
    EXPECT_EQ(errors[1]["row"], 4);
    EXPECT_EQ(errors[1]["column"], "endpoint");
    EXPECT_EQ(errors[2]["row"], 5);
    EXPECT_EQ(errors[2]["code"], "already_exists");
    EXPECT_EQ(errors[3]["row"], 6);
    EXPECT_EQ(errors[3]["column"], "endpoint");
    EXPECT_EQ(Total(eng, "gateways"), 1);
}

TEST_F(SiteApiTest, AccountsAreOpenedWithTheirOpeningBalanceThroughTheLedger) {
    const Session boss = Login("boss");
    ASSERT_EQ(As(boss, "POST", "/api/v1/projects/mall/meters",
                 Json{{"code", "m2"}, {"model", "dds-1"}}.dump())
                  .status,
              201);
    ASSERT_EQ(As(boss, "POST", "/api/v1/projects/mall/meters",
                 Json{{"code", "m3"}, {"model", "dds-1"}}.dump())
                  .status,
              201);
    const std::string evil = "x'; DROP TABLE accounts; --";
    const std::string csv =
        "number,tenant,phone,tariff,meters,readings,balance\n"
        "B002,\"" +
        evil + "\",138,flat,m2;m3,10.5；0,88.80\n";
    const Session com = Login("com");  // accounts.manage and money.top_up
    auto r = Upload(com, "accounts", csv);
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(Body(r)["created"]["accounts"], Json::array({"B002"}));
    auto account = Body(As(com, "GET", "/api/v1/projects/mall/accounts/B002"));
    EXPECT_EQ(account["tenant_name"], evil);
    EXPECT_EQ(account["balance"]["paid"], "88.80");
    EXPECT_EQ(account["meters"].size(), 2u);
    service_test::ExpectLedgerBalanced(*store_);
    // m1 is A001's, and B002 is taken now: both rows refused, nothing opened.
    auto again =
        Upload(com, "accounts",
               "number,tenant,tariff,meters,readings\nB003,x,flat,m1,0\nB002,y,flat,m2,0\n");
    ASSERT_EQ(again.status, 400) << again.body;
    EXPECT_EQ(Body(again)["errors"].size(), 3u) << again.body;  // m1 bound; B002 and m2 taken
    // Money needs money.top_up: an API key with accounts.manage only may not bring balances.
    auto key = As(boss, "POST", "/api/v1/api-keys",
                  Json{{"name", "erp"}, {"scopes", {"accounts.manage", "projects.view"}}}.dump());
    ASSERT_EQ(key.status, 201) << key.body;
    auto refused = Call("POST", "/api/v1/projects/mall/imports/accounts",
                        "number,tenant,tariff,meters,readings,balance\nB004,z,flat,m9,0,5\n",
                        {{"authorization", "Bearer " + Body(key)["key"].get<std::string>()},
                         {"content-type", "text/csv"}});
    EXPECT_EQ(refused.status, 403) << refused.body;
    EXPECT_EQ(Body(refused)["field"], "balance");
}

TEST_F(SiteApiTest, FileAndHeaderProblemsAreRefusedSayingWhere) {
    const Session com = Login("com");
    // Unknown and missing columns are named with the header row.
    auto header = Upload(com, "rooms", "building,floor,colour\nB1,1F,red\n");
    ASSERT_EQ(header.status, 400) << header.body;
    const Json errors = Body(header)["errors"];
    ASSERT_EQ(errors.size(), 2u) << header.body;
    EXPECT_EQ(errors[0]["row"], 1);
    EXPECT_NE(errors[0]["message"].get<std::string>().find("C1: unknown column 'colour'"),
              std::string::npos);
    EXPECT_EQ(errors[1]["column"], "code");  // required and missing
    // A malformed file names the cell; a file that is not UTF-8 says so.
    auto quote = Upload(com, "buildings", "code,name\nB7,\"open\n");
    EXPECT_EQ(quote.status, 400);
    EXPECT_EQ(Body(quote)["field"], "body");
    EXPECT_NE(Body(quote)["message"].get<std::string>().find("B2"), std::string::npos);
    auto gbk = Upload(com, "buildings", "code,name\nB7,\xC2\xA5\xB6\xB0\n");
    EXPECT_NE(Body(gbk)["message"].get<std::string>().find("UTF-8"), std::string::npos);
    EXPECT_EQ(Upload(com, "buildings", "").status, 400);
    EXPECT_EQ(Upload(com, "buildings", "code,name\n").status, 400);
    auto zip = Upload(com, "buildings", std::string("PK\x03\x04garbage", 11));
    EXPECT_EQ(zip.status, 400);
    EXPECT_NE(Body(zip)["message"].get<std::string>().find("XLSX"), std::string::npos);
    // The template's example row left in is refused, not imported.
    auto example = Upload(com, "buildings", "楼栋编号 code,楼栋名称 name\nB1,1号楼\nB8,八号楼\n");
    ASSERT_EQ(example.status, 400);
    EXPECT_NE(Body(example)["errors"][0]["message"].get<std::string>().find("example row"),
              std::string::npos);
    EXPECT_EQ(Total(com, "buildings"), 1);
}

TEST_F(SiteApiTest, AnOversizedFileOrTooManyRowsIsRefused) {
    const Session com = Login("com");
    std::string big = "code,name\n";
    big.append(kMaxImportBytes, 'x');
    auto r = Upload(com, "buildings", big);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Body(r)["code"], "out_of_range");
    EXPECT_EQ(Body(r)["field"], "body");
    std::string many = "code\n";
    for (std::size_t i = 0; i <= kMaxImportRows; ++i) {
        many += "B" + std::to_string(1000 + i) + "\n";
    }
    auto rows = Upload(com, "buildings", many);
    EXPECT_EQ(rows.status, 400) << rows.body.substr(0, 300);
    EXPECT_EQ(Body(rows)["code"], "out_of_range");
    EXPECT_NE(Body(rows)["message"].get<std::string>().find("more than 20000 rows"),
              std::string::npos)
        << rows.body;
    EXPECT_EQ(Total(com, "buildings"), 1);
    // The HTTP server lets this route's body be larger than the 1 MiB of others.
    EXPECT_EQ(api_.BodyLimitOf("POST", "/api/v1/projects/mall/imports/rooms?dry_run=true"),
              kMaxImportBytes);
    EXPECT_EQ(api_.BodyLimitOf("GET", "/api/v1/projects/mall/imports/rooms/template"), 0u);
    EXPECT_EQ(api_.BodyLimitOf("POST", "/api/v1/projects/mall/rooms"), 0u);
}

TEST_F(SiteApiTest, TemplatesAreDownloadedAndReadBack) {
    const Session eng = Login("eng");
    auto csv = As(eng, "GET", "/api/v1/projects/mall/imports/meters/template?format=csv");
    ASSERT_EQ(csv.status, 200) << csv.body;
    EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
    EXPECT_EQ(HeaderOf(csv, "Content-Disposition"),
              "attachment; filename=\"mall-meters-template.csv\"");
    auto sheet = codec::ReadCsv(csv.body, {});
    ASSERT_TRUE(sheet.has_value());
    ASSERT_EQ(sheet->rows.size(), 2u);
    EXPECT_EQ(sheet->rows[0].cells[0], "表号 code");
    EXPECT_EQ(sheet->rows[1].cells[0], "000012345678");
    auto xlsx = As(eng, "GET", "/api/v1/projects/mall/imports/meters/template?format=xlsx");
    ASSERT_EQ(xlsx.status, 200) << xlsx.body;
    auto book = codec::ReadXlsx(xlsx.body, {});
    ASSERT_TRUE(book.has_value()) << book.error().ToString();
    ASSERT_EQ(book->rows.size(), 2u);
    EXPECT_EQ(book->rows[0].cells, sheet->rows[0].cells);
    EXPECT_EQ(book->rows[1].cells[0], "000012345678");  // text: the leading zeros stay
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/mall/imports/meters/template?format=pdf").status,
              400);
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/mall/imports/accounts/template").status, 200);
    EXPECT_EQ(As(eng, "GET", "/api/v1/projects/mall/imports/buildings/template").status, 200);
    // Filled in (the example replaced), the template imports as it is.
    std::string filled = csv.body.substr(0, csv.body.find("\r\n") + 2);
    filled += "M-77,dds-1,GW1,77,0,101,,,否\r\n";
    auto r = As(eng, "POST", "/api/v1/projects/mall/imports/meters", filled,
                {{"content-type", "text/csv"}});
    ASSERT_EQ(r.status, 201) << r.body;
    // Engineering reads the accounts' template (accounts.view) but may not import accounts.
    EXPECT_EQ(Upload(eng, "accounts", "number\nX\n").status, 403);
}

}  // namespace
}  // namespace joule::api::test
