// End to end through the real binary: every tests/scenarios/NAME.json is replayed with
// `joule simulate` and its output must contain NAME.expected.json (objects by subset, arrays
// element by element). Every bad_NAME.json must fail with exit code 1 and an error naming the
// field in bad_NAME.error. Adding a case is adding files, not code.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CommandRun {
    int exit_code;
    std::string output;
};

CommandRun RunCommand(const std::string& command) {
    CommandRun run{-1, ""};
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return run;
    }
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        run.output.append(buffer.data(), n);
    }
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every value in `expected` appears at the same place in `actual`.
void ExpectSubset(const Json& expected, const Json& actual, const std::string& path) {
    if (expected.is_object()) {
        ASSERT_TRUE(actual.is_object()) << path << " is not an object in " << actual.dump();
        for (const auto& [key, value] : expected.items()) {
            ASSERT_TRUE(actual.contains(key)) << path << "." << key << " is missing";
            std::string child = path;
            child += '.';
            child += key;
            ExpectSubset(value, actual[key], child);
        }
    } else if (expected.is_array()) {
        ASSERT_TRUE(actual.is_array()) << path << " is not an array";
        ASSERT_EQ(expected.size(), actual.size()) << path << " has " << actual.dump(1);
        for (std::size_t i = 0; i < expected.size(); ++i) {
            ExpectSubset(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
        }
    } else {
        EXPECT_EQ(expected, actual) << "at " << path;
    }
}

std::vector<fs::path> Files(std::string_view prefix, bool bad) {
    std::vector<fs::path> out;
    for (const auto& entry : fs::directory_iterator(JOULE_SCENARIO_DIR)) {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".json" && name.find(".expected.") == std::string::npos &&
            name.starts_with(prefix) == bad) {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(Scenarios, EachScenarioProducesItsExpectedOutcome) {
    const auto files = Files("bad_", false);
    ASSERT_GE(files.size(), 5U);
    for (const fs::path& file : files) {
        SCOPED_TRACE(file.filename().string());
        const CommandRun run = RunCommand(std::string(JOULE_BINARY) + " simulate " + file.string());
        ASSERT_EQ(run.exit_code, 0) << run.output;
        const Json actual = Json::parse(run.output);
        fs::path expected_path = file;
        expected_path.replace_extension(".expected.json");
        ExpectSubset(Json::parse(ReadFile(expected_path)), actual, "");
        EXPECT_EQ(actual["ledger"]["sum_of_balances"], "0.00");
        EXPECT_EQ(actual["ledger"]["balance_mismatches"], 0);
    }
}

TEST(Scenarios, BadFilesFailNamingTheField) {
    const auto files = Files("bad_", true);
    ASSERT_GE(files.size(), 5U);
    for (const fs::path& file : files) {
        SCOPED_TRACE(file.filename().string());
        const CommandRun run =
            RunCommand(std::string(JOULE_BINARY) + " simulate " + file.string() + " 2>&1");
        EXPECT_EQ(run.exit_code, 1) << run.output;
        fs::path error_path = file;
        error_path.replace_extension(".error");
        std::string field = ReadFile(error_path);
        field.erase(field.find_last_not_of('\n') + 1);
        EXPECT_NE(run.output.find(": " + field + ": "), std::string::npos)
            << "expected the error to name " << field << ", got: " << run.output;
        EXPECT_TRUE(run.output.starts_with("joule: ")) << run.output;
    }
}

TEST(Cli, DemoRunsAndItsLedgerBalances) {
    const fs::path db =
        fs::temp_directory_path() / ("joule-demo-" + std::to_string(getpid()) + ".db");
    const CommandRun run =
        RunCommand(std::string(JOULE_BINARY) + " demo --days 3 --db " + db.string() + " 2>&1");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("sum of all balances 0.00 (must be 0.00), 0 balance mismatches"),
              std::string::npos)
        << run.output;
    EXPECT_NE(run.output.find("counter top-ups"), std::string::npos) << run.output;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        fs::remove(db.string() + suffix);
    }
}

TEST(Cli, SiteAccountTopUpImportAndShowOnAFileStore) {
    const fs::path dir = fs::temp_directory_path() / ("joule-e2e-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string joule = std::string(JOULE_BINARY) + " ";
    const std::string db = " --db " + (dir / "j.db").string();
    std::ofstream(dir / "site.json") << R"({
      "project": {"code": "p", "name": "P"},
      "models": [{"code": "m", "max_rate_per_hour": "20"}],
      "tariffs": [{"code": "t", "name": "Flat", "versions": [
          {"effective_from": "2020-01-01T00:00:00Z", "price": "1.0000"}]}],
      "meters": [{"code": "E1", "model": "m"}]})";
    std::ofstream(dir / "account.json") << R"({"number": "A1", "tenant": "T", "tariff": "t",
        "meters": [{"meter": "E1", "reading": "10"}], "opened_at": "2026-01-01T00:00:00Z"})";
    std::ofstream(dir / "readings.csv") << "meter,time,total\nE1,2026-01-01T01:00:00Z,15.5\n";
    std::ofstream(dir / "bad.csv") << "meter,time,total\nE1,2026-01-01T02:00:00Z,16\nE1,noon,17\n";

    ASSERT_EQ(RunCommand(joule + "migrate" + db).exit_code, 0);
    CommandRun r = RunCommand(joule + "site create " + (dir / "site.json").string() + db);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunCommand(joule + "account open --project p " + (dir / "account.json").string() + db);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunCommand(joule + "topup --project p --account A1 --amount 20.00 --key rcpt-1" + db);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunCommand(joule + "topup --project p --account A1 --amount 20.00 --key rcpt-1" + db);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("already credited"), std::string::npos) << r.output;
    r = RunCommand(joule + "import readings --project p " + (dir / "readings.csv").string() + db);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = RunCommand(joule + "import readings --project p " + (dir / "bad.csv").string() + db +
                   " 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("line 3: time"), std::string::npos) << r.output;
    r = RunCommand(joule + "topup --project p --account A1 --amount -5 --key x" + db + " 2>&1");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("amount"), std::string::npos) << r.output;
    r = RunCommand(joule + "account show --project p --account A1" + db);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Json shown = Json::parse(r.output);
    EXPECT_EQ(shown["paid"], "14.50");  // 20.00 once, minus 5.5 kWh x 1.00; bad.csv applied nothing
    EXPECT_EQ(shown["state"], "alarm2");
    fs::remove_all(dir);
}

}  // namespace
