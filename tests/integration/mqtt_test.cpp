// MQTT gateways through a real mosquitto broker [DEV-3a]. The fixture starts /usr/sbin/mosquitto
// on 127.0.0.1 (a free port, app/mosquitto_broker.hpp) with the password and ACL files our code
// generates, a SQLite store with a project, two MQTT gateways and three meters, and MqttIngest.
// The gateways are played by mosquitto_pub / mosquitto_sub: independent peers, not our code.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "app/mosquitto_broker.hpp"
#include "ingest/mqtt_auth.hpp"
#include "ingest/mqtt_gateway.hpp"
#include "integration_support.hpp"
#include "mqtt_support.hpp"
#include "service/site_service.hpp"
#include "sim/mqtt_sim_gateway.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::ingest {
namespace {

using test::T;
using test::WaitFor;

// Starts argv; stdout and stderr go to `out_fd` (or /dev/null when negative).
pid_t Spawn(std::vector<std::string> argv, int out_fd) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int sink = out_fd >= 0 ? out_fd : ::open("/dev/null", O_WRONLY);
        ::dup2(sink, STDOUT_FILENO);
        ::dup2(sink, STDERR_FILENO);
        std::vector<char*> args;
        for (std::string& a : argv) {
            args.push_back(a.data());
        }
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

// Runs argv to completion, capturing stdout and stderr.
app::ProcessOutput RunProcess(std::vector<std::string> argv) {
    auto out = app::RunProcess(std::move(argv));
    EXPECT_TRUE(out.has_value()) << out.error().ToString();
    return out.value_or(app::ProcessOutput{});
}

class MqttTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::MakeTempDir("joule-mqtt");
        CreateSiteAndAccount();
        app::BrokerOptions broker;
        broker.dir = dir_;
        broker.persistence = true;  // the outage test restarts it with the sessions kept
        ASSERT_NO_FATAL_FAILURE(test::StartBroker(broker_, *store_, broker, "platform-secret",
                                                  {{"gw1", "gw1-secret"}, {"gw2", "gw2-secret"}}));
        port_ = broker_.port();
        MqttOptions options;
        options.port = port_;
        options.password = "platform-secret";
        options.client_id = "joule-platform-test";
        ASSERT_NO_FATAL_FAILURE(test::StartIngest(
            ingest_, *store_, acquisition_, options, [this] { return now_; },
            /*wait=*/true, &bus_));
        // The subscription is in place once a probe comes through. It is retained, so it arrives
        // exactly once whether it was published before or after the subscription.
        ASSERT_EQ(Pub("gw1", "gw1-secret", "joule/mall/gw1/up/event", R"({"kind": "probe"})",
                      /*retain=*/true),
                  0);
        ASSERT_TRUE(WaitFor([&] { return ingest_->stats().handled.load() == 1; }));
    }

    void StartBroker() {
        auto restarted = broker_.Restart();
        ASSERT_TRUE(restarted.has_value()) << restarted.error().ToString();
    }

    // SIGTERM saves the sessions (persistence) like a broker restart.
    void StopBroker() { broker_.Stop(); }

    void TearDown() override {
        ingest_.reset();
        broker_.Stop();
        std::filesystem::remove_all(dir_);
    }

    void CreateSiteAndAccount() {
        SiteSpec site;
        site.project = {{}, "mall", "Test Mall", "Asia/Shanghai"};
        for (const char* code : {"gw1", "gw2"}) {
            site.gateways.push_back(test::MqttGateway(code));
        }
        MeterModelRecord model;
        model.code = "dds";
        model.name = "single-phase prepaid";
        model.spec.max_rate_per_hour = 20'000;
        site.models.push_back(model);
        site.tariffs.push_back(test::FlatTariff(T("2026-01-01T00:00:00Z")));
        const std::vector<std::pair<const char*, const char*>> meters = {
            {"m1", "gw1"}, {"m2", "gw1"}, {"m3", "gw2"}};
        int bus = 1;
        for (const auto& [code, gateway] : meters) {
            SiteSpec::Meter m;
            m.meter.code = code;
            m.meter.bus_address = "00000000000" + std::to_string(bus++);
            m.model_code = "dds";
            m.gateway_code = gateway;
            site.meters.push_back(m);
        }
        ASSERT_TRUE(CreateSite(*store_, site, actor_, now_).has_value());
        OpenAccountRequest open;
        open.project_code = "mall";
        open.number = "A001";
        open.tenant_name = "Tea shop";
        open.tariff_code = "flat";
        open.meters.push_back({"m1", Quantity{100'000}, std::nullopt});
        open.opened_at = T("2026-11-01T00:00:00Z");
        open.first_top_up = Money{10000};  // 100 yuan
        auto opened = billing_.OpenAccount(open, actor_, now_);
        ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    }

    int Pub(const std::string& user, const std::string& password, const std::string& topic,
            const std::string& payload, bool retain = false, const std::string& client_id = "") {
        std::vector<std::string> argv = {"/usr/bin/mosquitto_pub",
                                         "-h",
                                         "127.0.0.1",
                                         "-p",
                                         std::to_string(port_),
                                         "-u",
                                         user,
                                         "-P",
                                         password,
                                         "-q",
                                         "1",
                                         "-t",
                                         topic};
        if (payload.size() > 64 * 1024) {  // over what one exec argument may hold
            const std::string file = dir_ + "/payload";
            std::ofstream(file, std::ios::binary) << payload;
            argv.insert(argv.end(), {"-f", file});
        } else {
            argv.insert(argv.end(), {"-m", payload});
        }
        if (retain) {
            argv.emplace_back("-r");
        }
        if (!client_id.empty()) {
            argv.insert(argv.end(), {"-i", client_id});
        }
        return RunProcess(argv).exit_code;
    }

    // Publishes and waits until MqttIngest has handled one more message.
    void PubAndWait(const std::string& user, const std::string& topic, const std::string& payload) {
        const int64_t before = ingest_->stats().handled.load();
        ASSERT_EQ(Pub(user, user + "-secret", topic, payload), 0);
        ASSERT_TRUE(WaitFor([&] { return ingest_->stats().handled.load() > before; }));
    }

    Money Paid() { return billing_.ViewAccount("mall", "A001").value().paid; }

    std::vector<DeviceEventRecord> Events(std::string_view kind) {
        auto tx = store_->Begin().value();
        std::vector<DeviceEventRecord> out;
        auto events = tx->ListDeviceEvents(0, 1000);
        EXPECT_TRUE(events.has_value());
        for (DeviceEventRecord& e : *events) {
            if (e.kind == kind) {
                out.push_back(e);
            }
        }
        return out;
    }

    std::size_t ReadingsOf(std::string_view meter) { return test::ReadingCount(*store_, meter); }

    std::string dir_;
    uint16_t port_ = 0;
    app::MosquittoBroker broker_;
    std::unique_ptr<storage::SqliteStore> store_ =
        std::move(storage::SqliteStore::Open(":memory:", {}).value());
    BillingService billing_{*store_};
    AcquisitionService acquisition_{*store_, billing_};
    Actor actor_{"tester"};
    Instant now_ = T("2026-11-30T00:00:00Z");
    BusStatistics bus_;  // outlives ingest_
    std::unique_ptr<MqttIngest> ingest_;
};

const std::string kBatch = R"({"batch_id": "b1", "readings": [
    {"meter": "m1", "time": "2026-11-29T08:00:00+08:00", "total": "110.00", "relay": "closed",
     "values": {"voltage": "220.1"}},
    {"meter": "000000000001", "time": "2026-11-29T09:00:00+08:00", "total": "120.5"}]})";

TEST_F(MqttTest, ReadingsFlowAndTheBalanceFalls) {
    PubAndWait("gw1", "joule/mall/gw1/up/readings", kBatch);
    EXPECT_EQ(ingest_->stats().readings.load(), 2);
    for (const char* kind : {"batch_failed", "payload_rejected"}) {
        for (const auto& e : Events(kind)) {
            ADD_FAILURE() << e.kind << ": " << e.detail;
        }
    }
    EXPECT_EQ(ReadingsOf("m1"), 2U);
    EXPECT_EQ(Paid().fen, 10000 - 2050);  // 20.5 kWh at 1 yuan
    test::ExpectLedgerBalanced(*store_);
}

TEST_F(MqttTest, BadClientOptionsAreRefusedByName) {
    const std::vector<std::pair<std::function<void(MqttOptions&)>, std::string>> cases = {
        {[](MqttOptions& o) { o.qos = 3; }, "mqtt.qos"},
        {[](MqttOptions& o) { o.keepalive_s = 1; }, "mqtt.keepalive_s"},
        {[](MqttOptions& o) { o.topic_prefix = "a/#"; }, "mqtt.topic_prefix"},
        {[](MqttOptions& o) { o.commit_gather_ms = -1; }, "mqtt.commit_gather_ms"},
        {[](MqttOptions& o) { o.commit_gather_ms = 1001; }, "mqtt.commit_gather_ms"}};
    for (const auto& [spoil, field] : cases) {
        MqttOptions options;
        options.port = port_;
        options.password = "platform-secret";
        options.client_id = "joule-platform-refused";
        spoil(options);
        MqttIngest refused(*store_, acquisition_, options, [this] { return now_; });
        const Status started = refused.Start();
        ASSERT_FALSE(started.has_value()) << field;
        EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument) << field;
        EXPECT_EQ(started.error().field, field);
    }
}

TEST_F(MqttTest, AResentBatchIsBilledOnce) {
    PubAndWait("gw1", "joule/mall/gw1/up/readings", kBatch);
    const Money after_first = Paid();
    // 断点续传: the gateway re-sends its buffer after an outage, plus one new reading.
    PubAndWait("gw1", "joule/mall/gw1/up/readings", kBatch);
    EXPECT_EQ(Paid(), after_first);
    EXPECT_EQ(ReadingsOf("m1"), 2U);
    PubAndWait("gw1", "joule/mall/gw1/up/readings",
               R"({"batch_id": "b2", "readings": [
                   {"meter": "m1", "time": "2026-11-29T08:00:00+08:00", "total": "110.00"},
                   {"meter": "m1", "time": "2026-11-29T10:00:00+08:00", "total": "121.5"}]})");
    EXPECT_EQ(Paid().fen, 10000 - 2150);
    EXPECT_EQ(ReadingsOf("m1"), 3U);
    test::ExpectLedgerBalanced(*store_);
}

TEST_F(MqttTest, BadPayloadsAreRejectedLoggedAndChangeNothing) {
    const std::string topic = "joule/mall/gw1/up/readings";
    PubAndWait("gw1", topic, "{not json");
    PubAndWait("gw1", topic, R"({"batch_id": "b", "readings": [{"meter": "m1",
        "time": "2026-11-29T08:00:00Z", "total": 110.5}]})");  // a number, not a string
    PubAndWait("gw1", topic, R"({"batch_id": "b", "readings": [{"meter": "m1",
        "time": "2026-11-29T08:00:00Z", "total": "110", "colour": "red"}]})");
    PubAndWait("gw1", topic, R"({"batch_id": "b", "readings": [
        {"meter": "m1", "time": "2026-11-29T08:00:00Z", "total": "110"},
        {"meter": "m1", "time": "yesterday", "total": "111"}]})");  // one bad: all rejected
    // Oversized: over 256 KiB.
    std::string big = R"({"batch_id": "big", "readings": [], "pad": ")";
    big.append(300 * 1024, 'x');
    big += "\"}";
    PubAndWait("gw1", topic, big);

    const auto rejected = Events("payload_rejected");
    ASSERT_EQ(rejected.size(), 5U);
    EXPECT_NE(rejected[0].detail.find("not JSON"), std::string::npos) << rejected[0].detail;
    EXPECT_NE(rejected[1].detail.find("readings[0].total"), std::string::npos)
        << rejected[1].detail;
    EXPECT_NE(rejected[2].detail.find("readings[0].colour"), std::string::npos)
        << rejected[2].detail;
    EXPECT_NE(rejected[3].detail.find("readings[1].time"), std::string::npos) << rejected[3].detail;
    EXPECT_NE(rejected[4].detail.find("resource_exhausted"), std::string::npos)
        << rejected[4].detail;
    EXPECT_EQ(ReadingsOf("m1"), 0U);
    EXPECT_EQ(Paid().fen, 10000);
    // The connection is kept: a good batch still goes through.
    PubAndWait("gw1", topic, kBatch);
    EXPECT_EQ(ReadingsOf("m1"), 2U);
    test::ExpectLedgerBalanced(*store_);
}

// A gateway's credentials reach its own meters only: gw1 naming gw2's meter by its code is an
// unknown meter, nothing recorded.
TEST_F(MqttTest, AGatewayCannotReportAnotherGatewaysMeterByCode) {
    PubAndWait("gw1", "joule/mall/gw1/up/readings", R"({"batch_id": "b", "readings": [
        {"meter": "m3", "time": "2026-11-29T08:00:00Z", "total": "5"}]})");
    EXPECT_EQ(Events("unknown_meter").size(), 1U);
    EXPECT_EQ(ReadingsOf("m3"), 0U);
    // gw2 reports its own meter by code.
    PubAndWait("gw2", "joule/mall/gw2/up/readings", R"({"batch_id": "c", "readings": [
        {"meter": "m3", "time": "2026-11-29T08:00:00Z", "total": "5"}]})");
    EXPECT_EQ(ReadingsOf("m3"), 1U);
}

TEST_F(MqttTest, AnUnknownMeterIsLoggedAndSkipped) {
    PubAndWait("gw1", "joule/mall/gw1/up/readings", R"({"batch_id": "b", "readings": [
        {"meter": "nope", "time": "2026-11-29T08:00:00Z", "total": "5"},
        {"meter": "000000000003", "time": "2026-11-29T08:00:00Z", "total": "5"}]})");
    // "000000000003" is m3's bus address, but m3 hangs on gw2: unknown on gw1.
    EXPECT_EQ(Events("unknown_meter").size(), 2U);
    EXPECT_EQ(ingest_->stats().readings.load(), 0);
    EXPECT_EQ(ReadingsOf("m3"), 0U);
    EXPECT_EQ(Paid().fen, 10000);
}

TEST_F(MqttTest, AnUnknownGatewayIsLogged) {
    // Through the broker the ACL already stops this (gw1 may only use its own topics), so a
    // gateway the store does not know is fed to the handler directly, as the network thread would.
    EXPECT_FALSE(ingest_->HandleMessage("joule/mall/gw9/up/status", R"({"state":"online"})"));
    EXPECT_EQ(Events("unknown_gateway").size(), 1U);
}

TEST_F(MqttTest, TheBrokerRefusesAWrongPassword) {
    const app::ProcessOutput r = RunProcess(
        {"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", std::to_string(port_), "-u", "gw1",
         "-P", "wrong", "-q", "1", "-t", "joule/mall/gw1/up/readings", "-m", kBatch});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.output.find("not authorised"), std::string::npos) << r.output;
    EXPECT_EQ(ReadingsOf("m1"), 0U);
}

TEST_F(MqttTest, TheAclKeepsAGatewayToItsOwnTopics) {
    // gw2 publishes a reading for gw1's meter under gw1's topic: the broker drops it.
    EXPECT_EQ(Pub("gw2", "gw2-secret", "joule/mall/gw1/up/readings", kBatch, false, "gw2-client"),
              0);
    // A later message from gw2 on its own topic arrives; the foreign one never did.
    const int64_t before = ingest_->stats().handled.load();
    PubAndWait("gw2", "joule/mall/gw2/up/status", R"({"state": "online"})");
    EXPECT_EQ(ingest_->stats().handled.load(), before + 1);
    EXPECT_EQ(ReadingsOf("m1"), 0U);
    EXPECT_EQ(Paid().fen, 10000);
    const std::string log = broker_.ReadLog();
    EXPECT_NE(log.find("Denied PUBLISH from gw2-client (d0, q1, r0, m1, "
                       "'joule/mall/gw1/up/readings'"),
              std::string::npos)
        << log;
}

TEST_F(MqttTest, ACommandReachesTheGatewayAndItsAckIsKept) {
    auto meter = [&] {
        auto tx = store_->Begin().value();
        return *tx->FindMeter(ProjectId{1}, "m1").value();
    }();
    auto gateway = [&] {
        auto tx = store_->Begin().value();
        return tx->GetGateway(meter.gateway).value();
    }();
    auto id = acquisition_.QueueCommand(meter.id, "trip", "{}", "test", actor_, now_);
    ASSERT_TRUE(id.has_value()) << id.error().ToString();
    auto due = acquisition_.TakeDueCommands(now_, 10);
    ASSERT_TRUE(due.has_value());
    ASSERT_EQ(due->size(), 1U);

    // The gateway's persistent session exists before the command is sent (as in the field).
    const std::string topic = "joule/mall/gw1/down/command";
    const std::vector<std::string> sub = {"/usr/bin/mosquitto_sub",
                                          "-h",
                                          "127.0.0.1",
                                          "-p",
                                          std::to_string(port_),
                                          "-u",
                                          "gw1",
                                          "-P",
                                          "gw1-secret",
                                          "-q",
                                          "1",
                                          "-c",
                                          "-i",
                                          "gw1",
                                          "-t",
                                          topic};
    auto subscribe_only = sub;
    subscribe_only.emplace_back("-E");
    ASSERT_EQ(RunProcess(subscribe_only).exit_code, 0);
    auto sent = ingest_->SendCommand(due->front(), meter, gateway);
    ASSERT_TRUE(sent.has_value()) << sent.error().ToString();
    auto receive = sub;
    for (const char* a : {"-C", "1", "-W", "10"}) {
        receive.emplace_back(a);
    }
    const app::ProcessOutput got = RunProcess(receive);
    ASSERT_EQ(got.exit_code, 0) << got.output;
    EXPECT_NE(got.output.find("\"id\":" + std::to_string(*id)), std::string::npos) << got.output;
    EXPECT_NE(got.output.find("\"kind\":\"trip\""), std::string::npos) << got.output;
    EXPECT_NE(got.output.find("\"bus_address\":\"000000000001\""), std::string::npos);

    // gw2 cannot acknowledge gw1's command.
    PubAndWait("gw2", "joule/mall/gw2/up/ack",
               "{\"id\": " + std::to_string(*id) + ", \"ok\": true}");
    EXPECT_EQ(Events("payload_rejected").size(), 1U);
    PubAndWait("gw1", "joule/mall/gw1/up/ack",
               "{\"id\": " + std::to_string(*id) + ", \"ok\": true}");
    auto tx = store_->Begin().value();
    EXPECT_EQ(tx->GetCommand(*id).value().state, CommandState::kAcknowledged);
}

TEST_F(MqttTest, AnUnknownMeterInARegistrationBecomesPending) {
    PubAndWait("gw1", "joule/mall/gw1/up/register", R"({"model": "JGW-200", "serial": "GW1",
        "meters": [{"bus_address": "000000000001", "model": "dds", "serial": "S1"},
                   {"bus_address": "000000000099", "model": "dds", "serial": "S99"}]})");
    auto tx = store_->Begin().value();
    const auto pending = tx->ListPendingDevices(ProjectId{1}).value();
    ASSERT_EQ(pending.size(), 1U);
    EXPECT_EQ(pending[0].bus_address, "000000000099");
    EXPECT_EQ(pending[0].serial, "S99");
    EXPECT_EQ(pending[0].model_code, "dds");
}

TEST_F(MqttTest, StatusAndTheLastWillSetTheGatewayLink) {
    auto online = [&] {
        auto tx = store_->Begin().value();
        return tx->FindGateway(ProjectId{1}, "gw1").value()->online;
    };
    const std::string topic = "joule/mall/gw1/up/status";
    // The gateway's connection carries its Last Will; killing it is a lost link.
    const pid_t gateway = Spawn({"/usr/bin/mosquitto_sub",
                                 "-h",
                                 "127.0.0.1",
                                 "-p",
                                 std::to_string(port_),
                                 "-u",
                                 "gw1",
                                 "-P",
                                 "gw1-secret",
                                 "-q",
                                 "1",
                                 "-i",
                                 "gw1-lwt",
                                 "-t",
                                 "joule/mall/gw1/down/command",
                                 "--will-topic",
                                 topic,
                                 "--will-payload",
                                 R"({"state": "offline"})",
                                 "--will-qos",
                                 "1",
                                 "--will-retain"},
                                -1);
    ASSERT_TRUE(WaitFor([&] { return broker_.ReadLog().find("as gw1-lwt") != std::string::npos; }));
    PubAndWait("gw1", topic, R"({"state": "online"})");
    EXPECT_TRUE(online());
    ::kill(gateway, SIGKILL);
    ::waitpid(gateway, nullptr, 0);
    EXPECT_TRUE(WaitFor([&] { return !online(); }));
}

TEST_F(MqttTest, AGatewaysBusCountersComeWithItsStatus) {
    const std::string topic = "joule/mall/gw1/up/status";
    const GatewayId gw1 = [&] {
        auto tx = store_->Begin().value();
        return tx->FindGateway(ProjectId{1}, "gw1").value()->id;
    }();
    PubAndWait("gw1", topic,
               R"({"state": "online", "bus": {"requests": 200, "answered": 190, "timeouts": 8,
                   "retries": 6, "bad_frames": 2, "average_ms": 90, "max_ms": 1400}})");
    auto bus = bus_.Get(gw1);
    ASSERT_TRUE(bus.has_value());
    EXPECT_EQ(bus->source, BusSource::kGateway);
    EXPECT_EQ(bus->counters.requests, 200);
    EXPECT_EQ(bus->counters.answered, 190);
    EXPECT_EQ(bus->counters.timeouts, 8);
    EXPECT_EQ(bus->counters.retries, 6);
    EXPECT_EQ(bus->counters.bad_frames, 2);
    EXPECT_EQ(bus->counters.reply_ms_total, 90 * 190);
    EXPECT_EQ(bus->counters.reply_ms_max, 1400);
    EXPECT_EQ(bus->last_activity, now_);

    // Counters the platform cannot read are refused (and logged), but never cost the gateway its
    // link state: the state is applied first.
    const auto online = [&] {
        auto tx = store_->Begin().value();
        return tx->FindGateway(ProjectId{1}, "gw1").value()->online;
    };
    for (const auto& [bad, state] :
         {std::pair{R"({"state": "offline", "bus": {"requests": 10, "answered": 11}})", false},
          std::pair{R"({"state": "online", "bus": {"requests": -1, "answered": 0}})", true},
          std::pair{R"({"state": "offline", "bus": {"answered": 0}})", false},
          std::pair{R"({"state": "online", "bus": {"requests": 1099511627777, "answered": 0}})",
                    true},
          std::pair{R"({"state": "offline", "bus": [1, 2]})", false}}) {
        const Status handled = ingest_->HandleMessage(topic, bad);
        EXPECT_FALSE(handled.has_value()) << bad;
        if (!handled) {
            EXPECT_TRUE(handled.error().field.starts_with("bus")) << handled.error().ToString();
        }
        EXPECT_EQ(online(), state) << bad;
    }
    bus = bus_.Get(gw1);
    ASSERT_TRUE(bus.has_value());
    EXPECT_EQ(bus->counters.requests, 200);  // the last good report stands
    // A counter the platform does not know (newer firmware) is ignored, the rest is taken.
    ASSERT_TRUE(ingest_
                    ->HandleMessage(topic, R"({"state": "online", "bus": {"requests": 300,
                                              "answered": 290, "crc_errors": 4}})")
                    .has_value());
    EXPECT_EQ(bus_.Get(gw1)->counters.requests, 300);
    EXPECT_TRUE(online());
}

// The simulated gateway through a broker outage: readings taken while the broker is down are
// buffered and arrive later with their own meter times (断点续传), billed once.
TEST_F(MqttTest, TheSimulatedGatewayBuffersThroughABrokerOutage) {
    std::atomic<int64_t> m1_wh{101'000};
    std::atomic<int64_t> sim_time{T("2026-11-29T00:00:00Z").time_since_epoch().count()};
    std::vector<sim::SimCommand> executed;
    std::mutex executed_mutex;
    sim::MqttSimOptions o;
    o.port = port_;
    o.username = "gw1";
    o.password = "gw1-secret";
    o.project = "mall";
    o.gateway = "gw1";
    o.interval = std::chrono::hours(1);  // the test samples by hand
    std::vector<sim::SimMqttMeter> meters;
    meters.push_back({"m1", "000000000001", "dds", [&] {
                          sim::SimMeterReading r;
                          r.total = Quantity{m1_wh.load()};
                          r.relay = "closed";
                          return r;
                      }});
    sim::MqttSimGateway gateway(
        o, meters,
        [&](const sim::SimCommand& c) {
            std::lock_guard lock(executed_mutex);
            executed.push_back(c);
            return sim::SimCommandResult{};
        },
        [&] { return Instant{std::chrono::seconds(sim_time.load())}; });
    ASSERT_TRUE(gateway.Start().has_value());
    ASSERT_TRUE(WaitFor([&] { return ReadingsOf("m1") == 1; }));  // the first interval's read
    ASSERT_TRUE(WaitFor([&] { return Events("gateway_registered").size() == 1; }));

    StopBroker();
    ASSERT_TRUE(WaitFor([&] { return !gateway.connected(); }));
    for (int64_t wh : {110'000, 115'000}) {
        sim_time += 3600;
        m1_wh = wh;
        gateway.SampleNow();
    }
    EXPECT_EQ(gateway.buffered(), 2U);
    StartBroker();
    ASSERT_TRUE(WaitFor([&] { return ReadingsOf("m1") == 3; }, 60));
    // The gateway drops its buffer when the broker's PUBACK reaches its own network thread, which
    // races with our commit: wait for it rather than expect it at once.
    EXPECT_TRUE(WaitFor([&] { return gateway.buffered() == 0U; }));
    EXPECT_EQ(Paid().fen, 10000 - 1500);
    test::ExpectLedgerBalanced(*store_);
    {
        auto tx = store_->Begin().value();
        auto m1 = tx->FindMeter(ProjectId{1}, "m1").value();
        auto readings = tx->ListReadings(m1->id, 10).value();
        ASSERT_EQ(readings.size(), 3U);
    }

    // A command reaches the simulated gateway and its ack is kept.
    ASSERT_TRUE(WaitFor([&] { return ingest_->connected(); }, 60));
    auto tx = store_->Begin().value();
    const MeterRecord meter = *tx->FindMeter(ProjectId{1}, "m1").value();
    const GatewayRecord gw = tx->GetGateway(meter.gateway).value();
    tx.reset();
    auto id = acquisition_.QueueCommand(meter.id, "trip", "{}", "test", actor_, now_);
    ASSERT_TRUE(id.has_value());
    auto due = acquisition_.TakeDueCommands(now_, 10).value();
    ASSERT_EQ(due.size(), 1U);
    ASSERT_TRUE(ingest_->SendCommand(due[0], meter, gw).has_value());
    ASSERT_TRUE(WaitFor([&] {
        auto t = store_->Begin().value();
        return t->GetCommand(*id).value().state == CommandState::kAcknowledged;
    }));
    std::lock_guard lock(executed_mutex);
    ASSERT_EQ(executed.size(), 1U);
    EXPECT_EQ(executed[0].kind, "trip");
    EXPECT_EQ(executed[0].bus_address, "000000000001");
}

}  // namespace
}  // namespace joule::ingest
