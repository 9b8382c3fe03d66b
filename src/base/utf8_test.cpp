#include "base/utf8.hpp"

#include <gtest/gtest.h>

namespace joule {
namespace {

TEST(Utf8Prefix, CutsBetweenCharactersNeverInside) {
    const std::string_view text = "a电费";  // 1 + 3 + 3 bytes
    EXPECT_EQ(Utf8Prefix(text, 100), text);
    EXPECT_EQ(Utf8Prefix(text, 7), text);
    EXPECT_EQ(Utf8Prefix(text, 6), "a电");
    EXPECT_EQ(Utf8Prefix(text, 5), "a电");
    EXPECT_EQ(Utf8Prefix(text, 4), "a电");
    EXPECT_EQ(Utf8Prefix(text, 3), "a");
    EXPECT_EQ(Utf8Prefix(text, 1), "a");
    EXPECT_EQ(Utf8Prefix(text, 0), "");
    EXPECT_EQ(Utf8Prefix("", 3), "");
}

}  // namespace
}  // namespace joule
