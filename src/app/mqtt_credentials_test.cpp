// The credentials file of `joule mqtt-auth`: every entry is checked against the broker's rules
// when it is read, the error naming the file, the line and the field.
#include "app/mqtt_credentials.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace joule::app {
namespace {

class CredentialsFile : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = (std::filesystem::temp_directory_path() /
                 ("joule-credentials-" + std::to_string(getpid())))
                    .string();
    }
    void TearDown() override { std::filesystem::remove(path_); }
    void Write(const std::string& text) { std::ofstream(path_, std::ios::binary) << text; }
    std::string path_;
};

TEST_F(CredentialsFile, ReadsUserPasswordLinesSkippingCommentsAndBlanks) {
    Write("# generated\njoule-platform:Abc123\n\ngw-1:xyz\n");
    auto read = ReadCredentialsFile(path_);
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(read->size(), 2U);
    EXPECT_EQ(read->at("joule-platform"), "Abc123");
    EXPECT_EQ(read->at("gw-1"), "xyz");
}

TEST_F(CredentialsFile, AMissingFileIsNotFound) {
    auto read = ReadCredentialsFile(path_);
    ASSERT_FALSE(read.has_value());
    EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
}

TEST_F(CredentialsFile, EachEntryIsCheckedNamingFileLineAndField) {
    struct Case {
        const char* line;
        const char* field;  // after "<path>:2"
    };
    for (const Case& c : {Case{"no-colon", ""}, Case{":secret", ": user"},
                          Case{"gw 1:secret", ": user"}, Case{"gw/1:secret", ": user"},
                          Case{"gw-1:", ": password"}, Case{"gw-1:se:cret", ": password"},
                          Case{"gw-1:secret\r", ": password"}, Case{"ok:1", ": user"}}) {
        Write(std::string("ok:1\n") + c.line + "\n");
        auto read = ReadCredentialsFile(path_);
        ASSERT_FALSE(read.has_value()) << c.line;
        EXPECT_EQ(read.error().code, ErrorCode::kInvalidArgument) << c.line;
        EXPECT_EQ(read.error().field, path_ + ":2" + c.field) << c.line;
    }
}

}  // namespace
}  // namespace joule::app
