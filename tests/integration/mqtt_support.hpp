// Shared by the MQTT integration tests: gateways on the test site, a mosquitto broker with the
// platform's and the gateways' passwords, and the platform's ingest connected to it.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "app/mosquitto_broker.hpp"
#include "core/ports.hpp"
#include "ingest/mqtt_auth.hpp"
#include "ingest/mqtt_gateway.hpp"
#include "integration_support.hpp"

namespace joule::test {

// An MQTT gateway whose code, name and client id are `code`.
inline GatewayRecord MqttGateway(const std::string& code) {
    GatewayRecord g;
    g.code = code;
    g.name = code;
    g.transport = "mqtt";
    g.endpoint = code;
    return g;
}

// Writes mosquitto's password file and ACL for the platform ("joule-platform",
// `platform_password`) and `gateway_passwords` into `options.dir`, and starts `broker` with them
// and the rest of `options` (persistence, TLS), logging to <dir>/mosquitto.log.
inline void StartBroker(app::MosquittoBroker& broker, Store& store, app::BrokerOptions options,
                        const std::string& platform_password,
                        std::map<std::string, std::string, std::less<>> gateway_passwords) {
    ingest::BrokerAuthOptions auth;
    auth.password_file = options.dir + "/passwd";
    auth.acl_file = options.dir + "/acl";
    auth.platform_password = platform_password;
    auth.gateway_passwords = std::move(gateway_passwords);
    auth.mosquitto_passwd = "/usr/bin/mosquitto_passwd";
    auto written = ingest::WriteMosquittoAuth(store, auth);
    ASSERT_TRUE(written.has_value()) << written.error().ToString();
    options.password_file = auth.password_file;
    options.acl_file = auth.acl_file;
    options.log = true;
    auto started = broker.Start(options);
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
}

// Starts the platform's ingest as "joule-platform" with `options` (port, password, client id,
// TLS) on `clock`, counting gateways' bus reports into `bus` when given; when `wait` it returns
// once connected.
inline void StartIngest(std::unique_ptr<ingest::MqttIngest>& ingest, Store& store,
                        AcquisitionService& acquisition, ingest::MqttOptions options,
                        std::function<Instant()> clock, bool wait = true,
                        BusStatistics* bus = nullptr) {
    options.username = "joule-platform";
    ingest = std::make_unique<ingest::MqttIngest>(store, acquisition, options, std::move(clock));
    ingest->set_bus_statistics(bus);
    auto started = ingest->Start();
    ASSERT_TRUE(started.has_value()) << started.error().ToString();
    if (wait) {
        ASSERT_TRUE(WaitFor([&] { return ingest->connected(); }));
    }
}

}  // namespace joule::test
