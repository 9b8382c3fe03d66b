#include "base/json_quote.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

TEST(JsonQuote, EscapesWhatJsonRequiresAndKeepsTheRest) {
    EXPECT_EQ(JsonQuote(""), "\"\"");
    EXPECT_EQ(JsonQuote("商铺 A-101"), "\"商铺 A-101\"");
    EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(JsonQuote("line\nnext\ttab"), "\"line\\nnext\\u0009tab\"");
    EXPECT_EQ(JsonQuote(std::string_view("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
}

}  // namespace
}  // namespace joule
