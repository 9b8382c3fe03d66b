// Site editing and imports at the service and the store: what the API tests cannot easily reach
// (the store's own version guard, a meter read with its billing state, loops of parents within a
// file, a building named twice). The API's tests cover the rest (api/api_site_edit_test.cpp).
#include "service/site_edit.hpp"

#include <gtest/gtest.h>

#include <span>
#include <string_view>

#include "service/service_test_support.hpp"
#include "service/site_import.hpp"
#include "service/site_service.hpp"

namespace joule {
namespace {

using service_test::T;

class SiteEditTest : public service_test::ServiceTest {
protected:
    void SetUp() override {
        SiteSpec site = service_test::FlatSite("mall");
        SiteSpec::Building b;
        b.building.code = "B1";
        b.building.name = "Tower";
        site.buildings.push_back(b);
        b.building.code = "B2";  // the same name
        site.buildings.push_back(b);
        GatewayRecord gw;
        gw.code = "GW1";
        gw.name = "GW1";
        gw.transport = "dtu";
        gw.endpoint = "REG-1";
        site.gateways.push_back(gw);
        SiteSpec::Meter m;
        m.meter.code = "m1";
        m.meter.bus_address = "000000000001";
        m.meter.circuit = 2;
        m.model_code = "dds";
        m.gateway_code = "GW1";
        site.meters.push_back(m);
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
    }

    ImportResult Import(ImportRequest request) {
        request.project_code = "mall";
        auto result = ImportSite(*store_, billing_, request, actor_, now_);
        EXPECT_TRUE(result.has_value()) << result.error().ToString();
        return result.value_or(ImportResult{});
    }

    Instant now_ = T("2026-11-20T00:00:00Z");
};

TEST_F(SiteEditTest, TheStoreRefusesAnUpdateOfARowThatMovedOn) {
    auto tx = store_->Begin().value();
    const ProjectRecord mall = tx->FindProject("mall").value().value();
    BuildingRecord b = tx->FindBuilding(mall.id, "B1").value().value();
    ASSERT_EQ(b.version, 1);
    b.name = "first";
    ASSERT_TRUE(tx->UpdateBuilding(b).has_value());
    EXPECT_EQ(tx->FindBuilding(mall.id, "B1").value()->version, 2);
    b.name = "stale";  // still says version 1
    const auto stale = tx->UpdateBuilding(b);
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().code, ErrorCode::kAborted);
    EXPECT_EQ(tx->FindBuilding(mall.id, "B1").value()->name, "first");
}

// The billing hot path reads a meter with its billing state in one query: the meter's own
// columns (address, circuit, version) are read as the meter's.
TEST_F(SiteEditTest, AMeterReadWithItsBillingStateHasItsOwnAddressAndVersion) {
    auto tx = store_->Begin().value();
    const ProjectRecord mall = tx->FindProject("mall").value().value();
    const std::string_view code = "m1";
    const auto found = tx->LoadMetersBilling(mall.id, std::span(&code, 1)).value();
    ASSERT_EQ(found.size(), 1U);
    const auto& loaded = found.front();
    EXPECT_EQ(loaded.meter.bus_address, "000000000001");
    EXPECT_EQ(loaded.meter.circuit, 2);
    EXPECT_EQ(loaded.meter.version, 1);
    ASSERT_TRUE(loaded.billing.has_value());
}

TEST_F(SiteEditTest, MetersWhoseParentsGoRoundInALoopAreRefused) {
    ImportRequest request;
    request.kind = ImportKind::kMeters;
    const auto meter = [](int64_t row, std::string code, std::string parent) {
        MeterRow r;
        r.row = row;
        r.spec.code = std::move(code);
        r.spec.model = "dds";
        r.spec.parent = std::move(parent);
        return r;
    };
    request.meters = {meter(2, "a", "b"), meter(3, "b", "c"), meter(4, "c", "a"),
                      meter(5, "d", "a"), meter(6, "e", "m1")};
    const ImportResult result = Import(request);
    ASSERT_EQ(result.errors.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(result.errors[i].column, "parent");
        EXPECT_NE(result.errors[i].message.find("loop"), std::string::npos);
    }
    EXPECT_FALSE(result.written);
    // Without the loop, a chain of parents in any order is written parents first.
    request.meters = {meter(2, "a", "b"), meter(3, "b", "c"), meter(4, "c", "m1")};
    const ImportResult written = Import(request);
    ASSERT_TRUE(written.errors.empty()) << written.errors[0].message;
    auto tx = store_->Begin().value();
    const ProjectRecord mall = tx->FindProject("mall").value().value();
    const MeterRecord a = tx->FindMeter(mall.id, "a").value().value();
    const MeterRecord b = tx->FindMeter(mall.id, "b").value().value();
    EXPECT_EQ(a.parent, b.id);
}

TEST_F(SiteEditTest, ABuildingNamedTwiceIsNamedByItsCodeOnly) {
    ImportRequest request;
    request.kind = ImportKind::kRooms;
    RoomRow row;
    row.row = 2;
    row.spec.code = "101";
    row.spec.building = "Tower";  // the name of B1 and of B2
    row.spec.floor = "1F";
    request.rooms = {row};
    ImportResult result = Import(request);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_EQ(result.errors[0].column, "building");
    EXPECT_NE(result.errors[0].message.find("use the building's code"), std::string::npos);
    request.rooms[0].spec.building = "B2";
    request.dry_run = true;
    result = Import(request);
    ASSERT_TRUE(result.errors.empty());
    EXPECT_FALSE(result.written);  // a dry run rolls back what it wrote
    ASSERT_EQ(result.created.size(), 3u);
    EXPECT_EQ(result.created[1].second, std::vector<std::string>{"B2/1F"});
    auto tx = store_->Begin().value();
    const ProjectRecord mall = tx->FindProject("mall").value().value();
    EXPECT_FALSE(tx->FindRoom(mall.id, "101").value().has_value());
    EXPECT_EQ(tx->ListFloors(mall.id).value().size(), 0u);
}

TEST_F(SiteEditTest, DeletingAGatewayTakesItsPendingDevicesAndKeepsItsAlarms) {
    SiteEditor editor(*store_);
    GatewayRecord spec;
    spec.code = "GW2";
    spec.transport = "dtu";
    spec.endpoint = "REG-2";
    auto gw = editor.CreateGateway("mall", spec, actor_, now_);
    ASSERT_TRUE(gw.has_value()) << gw.error().ToString();
    {
        auto tx = store_->Begin().value();
        PendingDeviceRecord d;
        d.project = gw->project;
        d.gateway = gw->id;
        d.bus_address = "7";
        d.first_seen = d.last_seen = now_;
        ASSERT_TRUE(tx->UpsertPendingDevice(d).has_value());
        AlarmRecord a;
        a.project = gw->project;
        a.gateway = gw->id;
        a.kind = AlarmKind::kGatewayOffline;
        a.raised_at = now_;
        ASSERT_TRUE(tx->RaiseAlarm(a).has_value());
        ASSERT_TRUE(tx->Commit().has_value());
    }
    EXPECT_EQ(editor.DeleteGateway("mall", "GW2", 2, actor_, now_).error().code,
              ErrorCode::kAborted);
    ASSERT_TRUE(editor.DeleteGateway("mall", "GW2", 1, actor_, now_).has_value());
    auto tx = store_->Begin().value();
    EXPECT_TRUE(tx->ListPendingDevices(gw->project).value().empty());
    const auto alarms = tx->ListAlarms(gw->project, false).value();
    ASSERT_EQ(alarms.size(), 1u);  // history kept, no longer open
    EXPECT_FALSE(alarms[0].open);
}

}  // namespace
}  // namespace joule
