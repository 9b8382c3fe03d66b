// `joule sim` playing an MQTT gateway [DEV-3a]: SimSite runs MqttSimGateway over a real mosquitto
// broker (app/mosquitto_broker.hpp) with the credentials the platform generates
// (app::WriteMqttAuth, what `joule mqtt-auth` runs), and MqttIngest records what arrives. The
// gateway reads its DL/T 645 meters over the simulated bus with our codecs, stamps readings with
// the meters' clocks, announces an unconfigured meter in `register`, executes a trip on the meter
// and acks it, and rides out an outage of its link: the Last Will marks it offline, and the
// readings taken meanwhile arrive after it returns with their own times (断点续传), billed once.
#include <unistd.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "app/mosquitto_broker.hpp"
#include "app/mqtt_credentials.hpp"
#include "ingest/mqtt_gateway.hpp"
#include "integration_support.hpp"
#include "mqtt_support.hpp"
#include "service/site_service.hpp"
#include "sim/sim_site.hpp"
#include "storage/sqlite_store.hpp"
#include "wire/model_json.hpp"

namespace joule {
namespace {

using test::WaitFor;

Instant WallNow() {
    return std::chrono::time_point_cast<Seconds>(std::chrono::system_clock::now());
}

MeterModelRecord LoadModel(const std::string& code) {
    std::ifstream in(std::string(JOULE_MODELS_DIR) + "/" + code + ".json");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = wire::MeterModelFromJson(nlohmann::json::parse(text.str()), code);
    EXPECT_TRUE(parsed.has_value()) << parsed.error().ToString();
    return parsed->record;
}

constexpr const char* kModel = "dlt645-2007-1p-prepaid";

class MqttSimSiteTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::MakeTempDir("joule-mqtt-sim");
        CreateTestSite();

        app::MqttAuthOptions auth;
        auth.dir = dir_ + "/auth";
        auth.mosquitto_passwd = "/usr/bin/mosquitto_passwd";
        auto files = app::WriteMqttAuth(*store_, auth);
        ASSERT_TRUE(files.has_value()) << files.error().ToString();
        EXPECT_EQ(files->gateways, 1);
        EXPECT_EQ(files->generated, 2);  // the platform and gw-m
        auto credentials = app::ReadCredentialsFile(files->credentials_file);
        ASSERT_TRUE(credentials.has_value()) << credentials.error().ToString();
        credentials_ = *credentials;
        EXPECT_EQ(std::filesystem::status(files->credentials_file).permissions() &
                      std::filesystem::perms::others_all,
                  std::filesystem::perms::none);

        app::BrokerOptions broker;
        broker.dir = dir_;
        broker.password_file = files->password_file;
        broker.acl_file = files->acl_file;
        broker.log = true;
        auto started = broker_.Start(broker);
        ASSERT_TRUE(started.has_value()) << started.error().ToString();

        ingest::MqttOptions options;
        options.port = broker_.port();
        options.password = credentials_.at("joule-platform");
        options.client_id = "joule-platform-sim-test";
        ASSERT_NO_FATAL_FAILURE(
            test::StartIngest(ingest_, *store_, acquisition_, options, WallNow));
    }

    void TearDown() override {
        site_.reset();
        ingest_.reset();
        broker_.Stop();
        std::filesystem::remove_all(dir_);
    }

    void CreateTestSite() {
        SiteSpec site;
        site.project = {{}, "mall", "Test Mall", "Asia/Shanghai"};
        site.gateways.push_back(test::MqttGateway("gw-m"));
        site.models.push_back(LoadModel(kModel));
        site.tariffs.push_back(test::FlatTariff(WallNow() - Seconds{86400}));
        for (int i = 1; i <= 2; ++i) {
            SiteSpec::Meter m;
            m.meter.code = "E" + std::to_string(i);
            m.meter.bus_address = "00000000000" + std::to_string(i);
            m.model_code = kModel;
            m.gateway_code = "gw-m";
            site.meters.push_back(m);
        }
        ASSERT_TRUE(CreateSite(*store_, site, actor_, WallNow()).has_value());
        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = "A001";
        open.tenant_name = "Tea shop";
        open.tariff_code = "flat";
        open.meters.push_back({"E1", Quantity{0}, std::nullopt});
        open.opened_at = WallNow() - Seconds{60};
        open.first_top_up = Money{100'000};  // 1000 yuan: never trips by itself
        auto opened = billing_.OpenAccount(open, actor_, WallNow());
        ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    }

    sim::SiteOptions SiteOptions() {
        sim::SiteOptions o;
        o.mqtt = "127.0.0.1:" + std::to_string(broker_.port());
        o.mqtt_passwords = credentials_;
        o.mqtt_read_interval_s = 1;
        o.load_watts = 36'000;  // 10 Wh a second: every read sees the register move
        return o;
    }

    MeterRecord Meter(std::string_view code) {
        auto tx = store_->Begin().value();
        return *tx->FindMeter(ProjectId{1}, code).value();
    }

    std::vector<StoredReading> Readings(std::string_view code) {
        const MeterId meter = Meter(code).id;  // one transaction at a time: the store serializes
        auto tx = store_->Begin().value();
        return tx->ListReadings(meter, 1000).value();
    }

    std::vector<AlarmRecord> GatewayOfflineAlarms() {
        auto tx = store_->Begin().value();
        std::vector<AlarmRecord> out;
        std::vector<AlarmRecord> alarms = tx->ListAlarms(ProjectId{1}, false).value();
        for (AlarmRecord& a : alarms) {
            if (a.kind == AlarmKind::kGatewayOffline) {
                out.push_back(a);
            }
        }
        return out;
    }

    bool GatewayOnline() {
        auto tx = store_->Begin().value();
        return tx->FindGateway(ProjectId{1}, "gw-m").value()->online;
    }

    std::string dir_;
    app::Credentials credentials_;
    app::MosquittoBroker broker_;
    std::unique_ptr<storage::SqliteStore> store_ =
        std::move(storage::SqliteStore::Open(":memory:", {}).value());
    BillingService billing_{*store_};
    AcquisitionService acquisition_{*store_, billing_};
    Actor actor_{"tester"};
    std::unique_ptr<ingest::MqttIngest> ingest_;
    std::unique_ptr<sim::SimSite> site_;
};

TEST_F(MqttSimSiteTest, ReadingsRegistrationAndACommandGoThroughTheBroker) {
    sim::SiteOptions o = SiteOptions();
    o.extra_meters = {"gw-m:000000000099:" + std::string(kModel)};
    site_ = std::make_unique<sim::SimSite>(*store_, o);
    ASSERT_TRUE(site_->Start().has_value());
    EXPECT_EQ(site_->device_count(), 3U);

    // Readings of both meters, stamped by the meters' clocks, billed for E1.
    ASSERT_TRUE(WaitFor([&] { return Readings("E1").size() >= 3 && !Readings("E2").empty(); }));
    EXPECT_TRUE(WaitFor([&] { return GatewayOnline(); }));
    {
        const MeterId e1 = Meter("E1").id;
        auto tx = store_->Begin().value();
        auto status = tx->LoadMeterStatus(e1).value();
        ASSERT_TRUE(status.has_value());
        EXPECT_EQ(status->relay, RelayState::kClosed);
        EXPECT_NE(status->values_json.find("\"voltage\""), std::string::npos)
            << status->values_json;
    }
    EXPECT_LT(billing_.ViewAccount("mall", "A001").value().paid.fen, 100'000);
    // The meter it announced but the platform does not know is pending, to be bound by staff.
    ASSERT_TRUE(WaitFor([&] {
        auto tx = store_->Begin().value();
        return tx->ListPendingDevices(ProjectId{1}).value().size() == 1;
    }));
    {
        auto tx = store_->Begin().value();
        const auto pending = tx->ListPendingDevices(ProjectId{1}).value();
        EXPECT_EQ(pending[0].bus_address, "000000000099");
        EXPECT_EQ(pending[0].model_code, kModel);
    }

    // A trip reaches the simulated meter as a DL/T 645 1CH frame; the gateway acks it and later
    // readings show the relay open.
    const MeterRecord e1 = Meter("E1");
    const GatewayRecord gateway = [&] {
        auto tx = store_->Begin().value();
        return tx->GetGateway(e1.gateway).value();
    }();
    auto id = acquisition_.QueueCommand(e1.id, "trip", "{}", "test", actor_, WallNow());
    ASSERT_TRUE(id.has_value()) << id.error().ToString();
    auto due = acquisition_.TakeDueCommands(WallNow(), 10).value();
    ASSERT_EQ(due.size(), 1U);
    ASSERT_TRUE(ingest_->SendCommand(due[0], e1, gateway).has_value());
    ASSERT_TRUE(WaitFor([&] {
        auto tx = store_->Begin().value();
        return tx->GetCommand(*id).value().state == CommandState::kAcknowledged;
    }));
    EXPECT_EQ(site_->stats().mqtt_commands.load(), 1);
    EXPECT_TRUE(WaitFor([&] {
        auto tx = store_->Begin().value();
        return tx->LoadMeterStatus(e1.id).value()->relay == RelayState::kOpen;
    }));
    test::ExpectLedgerBalanced(*store_);

    // A clean stop says offline (no Last Will on a clean disconnect).
    site_->Stop();
    EXPECT_TRUE(WaitFor([&] { return !GatewayOnline(); }));
}

TEST_F(MqttSimSiteTest, AnOutageIsBridgedWithTheGatewaysOwnTimes) {
    sim::SiteOptions o = SiteOptions();
    o.offline_gateway = "gw-m";
    o.offline_after_s = 4;
    o.offline_for_s = 6;
    site_ = std::make_unique<sim::SimSite>(*store_, o);
    ASSERT_TRUE(site_->Start().has_value());

    // The link is cut without a DISCONNECT: the broker publishes the Last Will, the platform
    // raises gateway_offline; when the link returns the alarm clears.
    ASSERT_TRUE(WaitFor([&] {
        const auto alarms = GatewayOfflineAlarms();
        return !alarms.empty() && alarms[0].cleared_at.has_value();
    }));
    const AlarmRecord outage = GatewayOfflineAlarms()[0];
    EXPECT_NE(broker_.ReadLog().find("Client gw-m closed its connection"), std::string::npos)
        << broker_.ReadLog();
    // Readings taken while the link was down arrive afterwards with the meter's times of the
    // outage, not their arrival times.
    auto bridged = [&] {
        std::vector<StoredReading> out;
        for (const StoredReading& r : Readings("E1")) {
            const Instant at = r.outcome.input.meter_time;
            if (at > outage.raised_at && at < *outage.cleared_at) {
                out.push_back(r);
            }
        }
        return out;
    };
    ASSERT_TRUE(WaitFor([&] { return bridged().size() >= 2; }));
    for (const StoredReading& r : bridged()) {
        EXPECT_GE(r.outcome.input.received, *outage.cleared_at);
    }
    // Each reading is stored once (by meter time) and billed once.
    const auto readings = Readings("E1");
    std::set<Instant> times;
    for (const StoredReading& r : readings) {
        EXPECT_TRUE(times.insert(r.outcome.input.meter_time).second);
    }
    test::ExpectLedgerBalanced(*store_);
}

}  // namespace
}  // namespace joule
