// `joule sim --fault` parsing: checked numbers and one list of kinds.
#include "sim/sim_site.hpp"

#include <gtest/gtest.h>

namespace joule::sim {
namespace {

TEST(ParseFault, ReadsAddressKindValueAndStart) {
    auto f = ParseFault("000000000101:clock_drift:-900@10");
    ASSERT_TRUE(f.has_value()) << f.error().ToString();
    EXPECT_EQ(f->address, "000000000101");
    EXPECT_EQ(f->kind, "clock_drift");
    EXPECT_EQ(f->value, -900);
    EXPECT_EQ(f->after_s, 10);
    auto plain = ParseFault("000000000102:reset");
    ASSERT_TRUE(plain.has_value()) << plain.error().ToString();
    EXPECT_EQ(plain->value, 0);
    EXPECT_EQ(plain->after_s, 0);
}

TEST(ParseFault, EveryListedKindIsAccepted) {
    for (std::string_view kind : kFaultKinds) {
        EXPECT_TRUE(ParseFault("1:" + std::string(kind)).has_value()) << kind;
        EXPECT_NE(FaultKindNames().find(kind), std::string::npos) << kind;
    }
    EXPECT_NE(FaultKindNames().find("drop_write_reply"), std::string::npos);
}

TEST(ParseFault, RefusesGarbageNamingTheOptionAndThePart) {
    struct Case {
        const char* text;
        const char* says;
    };
    for (const Case& c :
         {Case{"1:overload:3kW", "the value must be a whole number"},
          Case{"1:overload:", "the value must be a whole number"},
          Case{"1:clock_drift:1.5", "the value must be a whole number"},
          Case{"1:reset@soon", "after_s must be a whole number"},
          Case{"1:reset@", "after_s must be a whole number"},
          Case{"1:reset@-5", "after_s must be >= 0"},
          Case{"1:meltdown", "unknown kind \"meltdown\""},
          Case{"reset", "must be bus_address:kind"}, Case{":reset", "must be bus_address:kind"}}) {
        auto refused = ParseFault(c.text);
        ASSERT_FALSE(refused.has_value()) << c.text;
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << c.text;
        EXPECT_EQ(refused.error().field, "fault") << c.text;
        EXPECT_NE(refused.error().message.find(c.says), std::string::npos)
            << c.text << ": " << refused.error().message;
        EXPECT_NE(refused.error().message.find(c.text), std::string::npos)
            << c.text << ": " << refused.error().message;
    }
}

}  // namespace
}  // namespace joule::sim
