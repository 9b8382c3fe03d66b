#include "wire/command_params.hpp"

#include <gtest/gtest.h>

namespace joule::wire {
namespace {

TEST(CommandValue, ReadsTheValueAsAnExactDecimal) {
    EXPECT_EQ(CommandValue(R"({"value":"12.50"})").value(), (codec::Decimal{1250, 2}));
    EXPECT_EQ(CommandValue(R"({"value":"7","count":3})").value(), (codec::Decimal{7, 0}));
    EXPECT_EQ(CommandValue(R"({"value":".5"})").value(), (codec::Decimal{5, 1}));
    EXPECT_EQ(CommandValue(R"({"value":"999999999999999999"})").value(),
              (codec::Decimal{999'999'999'999'999'999, 0}));
}

TEST(CommandValue, NoValueIsNotAnError) {
    EXPECT_EQ(CommandValue("").value(), std::nullopt);
    EXPECT_EQ(CommandValue("{}").value(), std::nullopt);
    EXPECT_EQ(CommandValue(R"({"count":3})").value(), std::nullopt);
}

TEST(CommandValue, RefusesParamsThatAreNotAnObject) {
    for (const char* params : {"not json", "[1]", "\"12.50\"", "null"}) {
        auto refused = CommandValue(params);
        ASSERT_FALSE(refused.has_value()) << params;
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(refused.error().field, "params");
    }
}

TEST(CommandValue, RefusesAValueThatIsNotAnUnsignedDecimalString) {
    for (const char* params :
         {R"({"value":12.5})", R"({"value":""})", R"({"value":"."})", R"({"value":"-1"})",
          R"({"value":"+1"})", R"({"value":"1.2.3"})", R"({"value":"1e3"})", R"({"value":" 1"})",
          R"({"value":"1234567890123456789"})"}) {
        auto refused = CommandValue(params);
        ASSERT_FALSE(refused.has_value()) << params;
        EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(refused.error().field, "params.value");
    }
}

}  // namespace
}  // namespace joule::wire
