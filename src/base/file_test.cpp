#include "base/file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace joule {
namespace {

TEST(ReadFileText, ReadsAWholeFileAndRefusesMissingOrOversizedOnes) {
    const auto path = std::filesystem::temp_directory_path() / "joule-read-file-test.txt";
    const std::string text(100'000, 'x');
    std::ofstream(path, std::ios::binary) << text;
    EXPECT_EQ(ReadFileText(path.string(), "file").value(), text);
    auto big = ReadFileText(path.string(), "config", 99'999);
    ASSERT_FALSE(big.has_value());
    EXPECT_EQ(big.error().code, ErrorCode::kResourceExhausted);
    EXPECT_EQ(big.error().field, "config");
    std::filesystem::remove(path);
    auto missing = ReadFileText(path.string(), "config");
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
    EXPECT_EQ(missing.error().field, "config");
}

TEST(ReadAll, ReadsAStreamUpToItsBound) {
    std::istringstream in("hello");
    EXPECT_EQ(ReadAll(in, 5, "input", "input").value(), "hello");
    std::istringstream more("hello!");
    EXPECT_EQ(ReadAll(more, 5, "input", "input").error().code, ErrorCode::kResourceExhausted);
}

}  // namespace
}  // namespace joule
