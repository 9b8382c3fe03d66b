#include "base/host_port.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

TEST(ParseHostPort, SplitsHostAndPort) {
    auto a = ParseHostPort("127.0.0.1:9510", "dtu_listen", PortUse::kListen);
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    EXPECT_EQ(a->host, "127.0.0.1");
    EXPECT_EQ(a->port, 9510);
    auto b = ParseHostPort("broker.example:8883", "mqtt", PortUse::kConnect);
    ASSERT_TRUE(b.has_value()) << b.error().ToString();
    EXPECT_EQ(b->host, "broker.example");
    EXPECT_EQ(b->port, 8883);
    auto v6 = ParseHostPort("[::1]:1883", "mqtt", PortUse::kConnect);
    ASSERT_TRUE(v6.has_value()) << v6.error().ToString();
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 1883);
}

TEST(ParseHostPort, PortZeroIsAnyFreePortForAListenerOnly) {
    EXPECT_EQ(ParseHostPort("127.0.0.1:0", "dtu_listen", PortUse::kListen).value().port, 0);
    auto refused = ParseHostPort("127.0.0.1:0", "mqtt", PortUse::kConnect);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().field, "mqtt");
}

TEST(ParseHostPort, WithoutAPortTheDefaultIfAny) {
    auto a = ParseHostPort("localhost", "mqtt", PortUse::kConnect, 1883);
    ASSERT_TRUE(a.has_value()) << a.error().ToString();
    EXPECT_EQ(a->host, "localhost");
    EXPECT_EQ(a->port, 1883);
    auto v6 = ParseHostPort("[::1]", "mqtt", PortUse::kConnect, 1883);
    ASSERT_TRUE(v6.has_value()) << v6.error().ToString();
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, 1883);
    EXPECT_FALSE(ParseHostPort("localhost", "dtu_listen", PortUse::kListen).has_value());
}

TEST(ParseHostPort, RefusesBadTextNamingTheFieldAndQuotingIt) {
    for (const char* text :
         {"host:", "host:abc", "host:80x", "host:-1", "host:65536", ":80", "[]:80", ""}) {
        auto refused = ParseHostPort(text, "endpoint", PortUse::kConnect);
        ASSERT_FALSE(refused.has_value()) << text;
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << text;
        EXPECT_EQ(refused.error().field, "endpoint") << text;
        EXPECT_NE(refused.error().message.find('"' + std::string(text) + '"'), std::string::npos)
            << refused.error().message;
    }
}

TEST(ParseHostPort, AnIpv6AddressNeedsItsBrackets) {
    EXPECT_EQ(ParseHostPort("[::1]:8080", "http", PortUse::kListen)->host, "::1");
    for (const char* text : {"::1:8080", "::1", "fe80::1:502", "[::1:80"}) {
        auto refused = ParseHostPort(text, "http", PortUse::kListen, 80);
        ASSERT_FALSE(refused.has_value()) << text;
        EXPECT_EQ(refused.error().field, "http") << text;
    }
}

}  // namespace
}  // namespace joule
