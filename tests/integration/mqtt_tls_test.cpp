// MQTT over TLS [DEV-3a]. The fixture makes a throwaway CA and a server certificate for 127.0.0.1
// with the openssl command line, plus a second CA nobody trusts, and starts mosquitto with a TLS
// listener on loopback (app/mosquitto_broker.hpp) and the generated password and ACL files.
// MqttIngest and MqttSimGateway connect over TLS and readings are recorded; a client that does not
// trust the CA, and one with a wrong password, are turned away and nothing is recorded.
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

using test::Count;
using test::T;
using test::WaitFor;

class MqttTlsTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = test::MakeTempDir("joule-mqtt-tls");
        ca_ = dir_ + "/ca.crt";
        MakeCertificates();
        if (HasFatalFailure()) {
            return;
        }
        CreateTestSite();

        app::BrokerOptions broker;
        broker.dir = dir_;
        broker.tls = app::BrokerTls{ca_, dir_ + "/server.crt", dir_ + "/server.key"};
        ASSERT_NO_FATAL_FAILURE(test::StartBroker(broker_, *store_, broker, "platform-secret",
                                                  {{"gw1", "gw1-secret"}}));
    }

    void TearDown() override {
        ingest_.reset();
        broker_.Stop();
        std::filesystem::remove_all(dir_);
    }

    void OpenSsl(std::vector<std::string> args) {
        args.insert(args.begin(), "/usr/bin/openssl");
        auto run = app::RunProcess(args);
        ASSERT_TRUE(run.has_value()) << run.error().ToString();
        ASSERT_EQ(run->exit_code, 0) << run->output;
    }

    // A CA, a server certificate it signs for 127.0.0.1 (an IP SAN: clients verify the host),
    // and another CA that signed nothing here. EC P-256 keys: quick to make.
    void MakeCertificates() {
        const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                                 "ec_paramgen_curve:prime256v1", "-nodes"};
        for (const std::string name : {"ca", "other-ca"}) {
            std::vector<std::string> args = {"req", "-x509"};
            args.insert(args.end(), ec_key.begin(), ec_key.end());
            args.insert(args.end(),
                        {"-keyout", dir_ + "/" + name + ".key", "-out", dir_ + "/" + name + ".crt",
                         "-days", "2", "-subj", "/CN=Joule test " + name});
            OpenSsl(args);
        }
        std::vector<std::string> csr = {"req"};
        csr.insert(csr.end(), ec_key.begin(), ec_key.end());
        csr.insert(csr.end(), {"-keyout", dir_ + "/server.key", "-out", dir_ + "/server.csr",
                               "-subj", "/CN=127.0.0.1"});
        OpenSsl(csr);
        std::ofstream(dir_ + "/server.ext") << "basicConstraints=CA:FALSE\n"
                                            << "keyUsage=digitalSignature,keyEncipherment\n"
                                            << "extendedKeyUsage=serverAuth\n"
                                            << "subjectAltName=IP:127.0.0.1\n";
        OpenSsl({"x509", "-req", "-in", dir_ + "/server.csr", "-CA", ca_, "-CAkey",
                 dir_ + "/ca.key", "-set_serial", "1", "-days", "2", "-extfile",
                 dir_ + "/server.ext", "-out", dir_ + "/server.crt"});
    }

    void CreateTestSite() {
        SiteSpec site;
        site.project = {{}, "mall", "Test Mall", "Asia/Shanghai"};
        site.gateways.push_back(test::MqttGateway("gw1"));
        MeterModelRecord model;
        model.code = "dds";
        model.name = "single-phase";
        model.spec.max_rate_per_hour = 20'000;
        site.models.push_back(model);
        SiteSpec::Meter m;
        m.meter.code = "m1";
        m.meter.bus_address = "000000000001";
        m.model_code = "dds";
        m.gateway_code = "gw1";
        site.meters.push_back(m);
        ASSERT_TRUE(CreateSite(*store_, site, Actor{"tester"}, now_).has_value());
    }

    void StartIngest(const std::string& cafile) {
        MqttOptions options;
        options.port = broker_.port();
        options.password = "platform-secret";
        options.client_id = "joule-platform-tls-test";
        options.tls_cafile = cafile;
        ASSERT_NO_FATAL_FAILURE(test::StartIngest(
            ingest_, *store_, acquisition_, options, [this] { return now_; }, /*wait=*/false));
    }

    std::unique_ptr<sim::MqttSimGateway> Gateway(const std::string& cafile,
                                                 const std::string& password) {
        sim::MqttSimOptions o;
        o.port = broker_.port();
        o.username = "gw1";
        o.password = password;
        o.project = "mall";
        o.gateway = "gw1";
        o.interval = std::chrono::hours(1);  // sampled by hand
        o.tls_cafile = cafile;
        std::vector<sim::SimMqttMeter> meters;
        meters.push_back({"m1", "000000000001", "dds", [this] {
                              sim::SimMeterReading r;
                              r.total = Quantity{wh_.load()};
                              r.relay = "closed";
                              return std::optional<sim::SimMeterReading>(r);
                          }});
        return std::make_unique<sim::MqttSimGateway>(
            o, meters, [](const sim::SimCommand&) { return sim::SimCommandResult{}; },
            [this] { return Instant{std::chrono::seconds(sim_time_.fetch_add(60))}; });
    }

    std::size_t Readings() { return test::ReadingCount(*store_, "m1"); }

    // mosquitto_pub over TLS: the independent peer.
    app::ProcessOutput Pub(const std::string& cafile, const std::string& password) {
        auto out = app::RunProcess({"/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p",
                                    std::to_string(broker_.port()), "--cafile", cafile, "-u", "gw1",
                                    "-P", password, "-q", "1", "-t", "joule/mall/gw1/up/event",
                                    "-m", R"({"kind": "probe"})"});
        EXPECT_TRUE(out.has_value()) << out.error().ToString();
        return out.value_or(app::ProcessOutput{});
    }

    std::string dir_;
    std::string ca_;
    app::MosquittoBroker broker_;
    std::unique_ptr<storage::SqliteStore> store_ =
        std::move(storage::SqliteStore::Open(":memory:", {}).value());
    BillingService billing_{*store_};
    AcquisitionService acquisition_{*store_, billing_};
    Instant now_ = T("2026-11-30T00:00:00Z");
    std::atomic<int64_t> wh_{101'000};
    std::atomic<int64_t> sim_time_{T("2026-11-29T00:00:00Z").time_since_epoch().count()};
    std::unique_ptr<MqttIngest> ingest_;
};

TEST_F(MqttTlsTest, IngestAndSimulatedGatewayConnectOverTlsAndReadingsAreRecorded) {
    StartIngest(ca_);
    ASSERT_TRUE(WaitFor([&] { return ingest_->connected(); }));
    auto gateway = Gateway(ca_, "gw1-secret");
    ASSERT_TRUE(gateway->Start().has_value());
    ASSERT_TRUE(WaitFor([&] { return Readings() == 1; }));  // the first interval's read
    wh_ = 102'000;
    gateway->SampleNow();
    ASSERT_TRUE(WaitFor([&] { return Readings() == 2; }));
    EXPECT_EQ(gateway->stats().refused.load(), 0);
    // The independent client with the same CA gets through too.
    const int64_t before = ingest_->stats().handled.load();
    const app::ProcessOutput pub = Pub(ca_, "gw1-secret");
    EXPECT_EQ(pub.exit_code, 0) << pub.output;
    EXPECT_TRUE(WaitFor([&] { return ingest_->stats().handled.load() > before; }));
}

TEST_F(MqttTlsTest, AClientThatDoesNotTrustTheCaCannotConnect) {
    StartIngest(ca_);
    ASSERT_TRUE(WaitFor([&] { return ingest_->connected(); }));
    const std::string other_ca = dir_ + "/other-ca.crt";
    // The gateway refuses the broker's certificate in the handshake; the broker logs the alert.
    const std::string alert = "alert unknown ca";
    const std::size_t alerts_before = Count(broker_.ReadLog(), alert);
    auto gateway = Gateway(other_ca, "gw1-secret");
    ASSERT_TRUE(gateway->Start().has_value());
    ASSERT_TRUE(WaitFor([&] { return Count(broker_.ReadLog(), alert) > alerts_before; }))
        << broker_.ReadLog();
    gateway->SampleNow();
    EXPECT_FALSE(gateway->connected());
    EXPECT_EQ(gateway->stats().connects.load(), 0);
    EXPECT_EQ(gateway->stats().published.load(), 0);
    EXPECT_GE(gateway->buffered(), 1U);  // kept for when it can connect
    gateway.reset();

    // mosquitto_pub says why.
    const app::ProcessOutput pub = Pub(other_ca, "gw1-secret");
    EXPECT_NE(pub.exit_code, 0);
    EXPECT_NE(pub.output.find("TLS error"), std::string::npos) << pub.output;

    // The platform with the wrong CA does not connect either.
    // Counted before the platform starts: its first attempt may be refused before any line here.
    const std::size_t alerts_now = Count(broker_.ReadLog(), alert);
    StartIngest(other_ca);
    ASSERT_TRUE(WaitFor([&] { return Count(broker_.ReadLog(), alert) > alerts_now; }));
    EXPECT_FALSE(ingest_->connected());
    EXPECT_EQ(Readings(), 0U);
    EXPECT_EQ(ingest_->stats().messages.load(), 0);
}

TEST_F(MqttTlsTest, AWrongPasswordIsRefusedOverTls) {
    StartIngest(ca_);
    ASSERT_TRUE(WaitFor([&] { return ingest_->connected(); }));
    auto gateway = Gateway(ca_, "not-the-password");
    ASSERT_TRUE(gateway->Start().has_value());
    ASSERT_TRUE(WaitFor([&] { return gateway->stats().refused.load() >= 1; }));
    EXPECT_EQ(gateway->stats().connects.load(), 0);
    EXPECT_FALSE(gateway->connected());
    gateway.reset();
    const app::ProcessOutput pub = Pub(ca_, "not-the-password");
    EXPECT_NE(pub.exit_code, 0);
    EXPECT_NE(pub.output.find("not authorised"), std::string::npos) << pub.output;
    EXPECT_EQ(Readings(), 0U);
    EXPECT_EQ(ingest_->stats().messages.load(), 0);
}

}  // namespace
}  // namespace joule::ingest
