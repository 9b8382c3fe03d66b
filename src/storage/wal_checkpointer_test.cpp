#include "storage/wal_checkpointer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "storage/sqlite_query.hpp"

namespace joule::storage {
namespace {

// A WAL database in a fresh directory, with a table of 4 KiB rows (a WAL page or more each).
class WalCheckpointerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = (std::filesystem::temp_directory_path() / "joule-wal-XXXXXX").string();
        ASSERT_NE(::mkdtemp(dir_.data()), nullptr);
        path_ = dir_ + "/wal.db";
        ASSERT_EQ(sqlite3_open(path_.c_str(), &writer_), SQLITE_OK);
        ASSERT_TRUE(sqlite::Exec(writer_, "PRAGMA journal_mode = WAL").has_value());
        ASSERT_TRUE(
            sqlite::Exec(writer_, "CREATE TABLE t(id INTEGER PRIMARY KEY, b BLOB)").has_value());
    }
    void TearDown() override {
        sqlite3_close(writer_);
        std::filesystem::remove_all(dir_);
    }
    void WriteRows(int count) {
        for (int i = 0; i < count; ++i) {
            ASSERT_TRUE(
                sqlite::Exec(writer_, "INSERT INTO t(b) VALUES (randomblob(4096))").has_value());
        }
    }
    int64_t Rows(const std::string& path) {
        sqlite3* db = nullptr;
        EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
        sqlite3_stmt* q = nullptr;
        sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM t", -1, &q, nullptr);
        EXPECT_EQ(sqlite3_step(q), SQLITE_ROW);
        const int64_t n = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        sqlite3_close(db);
        return n;
    }

    std::string dir_;
    std::string path_;
    sqlite3* writer_ = nullptr;
};

TEST_F(WalCheckpointerTest, CheckpointsOnItsOwnThreadNotInTheWritersCommit) {
    CheckpointOptions options;
    options.threshold_pages = 20;
    auto checkpointer = WalCheckpointer::Start(writer_, path_, options);
    ASSERT_TRUE(checkpointer.has_value()) << checkpointer.error().ToString();
    WriteRows(200);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while ((*checkpointer)->background_checkpoints() == 0 &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GT((*checkpointer)->background_checkpoints(), 0);
    EXPECT_EQ((*checkpointer)->inline_checkpoints(), 0);
    checkpointer->reset();
    EXPECT_EQ(Rows(path_), 200);
}

TEST_F(WalCheckpointerTest, TheWriterCheckpointsItselfBeyondTheHardLimit) {
    CheckpointOptions options;
    options.threshold_pages = 1'000'000;  // the thread is never woken
    options.hard_limit_pages = 30;
    auto checkpointer = WalCheckpointer::Start(writer_, path_, options);
    ASSERT_TRUE(checkpointer.has_value()) << checkpointer.error().ToString();
    WriteRows(100);
    EXPECT_GT((*checkpointer)->inline_checkpoints(), 0);
    EXPECT_EQ((*checkpointer)->background_checkpoints(), 0);
    // The WAL restarts after an inline checkpoint, so it never held all 100 rows' pages.
    EXPECT_LT(std::filesystem::file_size(path_ + "-wal"), 60U * 4096U);
    checkpointer->reset();
    EXPECT_EQ(Rows(path_), 100);
}

TEST_F(WalCheckpointerTest, AMissingDatabaseIsAClearError) {
    auto checkpointer = WalCheckpointer::Start(writer_, dir_ + "/absent/x.db", {});
    ASSERT_FALSE(checkpointer.has_value());
    EXPECT_EQ(checkpointer.error().code, ErrorCode::kUnavailable);
}

}  // namespace
}  // namespace joule::storage
