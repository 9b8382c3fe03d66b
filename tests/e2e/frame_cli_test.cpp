// End to end through the real binary: `joule frame decode|encode` output and exit codes
// (docs/frame-tool.md): 0 every frame decoded, 1 any error (what decoded is still printed),
// 2 bad usage.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct CliRun {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

fs::path TempPath(const std::string& name) {
    return fs::temp_directory_path() / ("joule-frame-" + std::to_string(getpid()) + "-" + name);
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs `joule <args>` with `stdin_text` on standard input (none when empty).
CliRun Joule(const std::string& args, const std::string& stdin_text = "") {
    const fs::path in = TempPath("stdin");
    const fs::path err = TempPath("stderr");
    std::ofstream(in) << stdin_text;
    const std::string command =
        std::string(JOULE_BINARY) + " " + args + " < " + in.string() + " 2> " + err.string();
    CliRun run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) {
        return run;
    }
    std::array<char, 4096> buffer{};
    std::size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
        run.out.append(buffer.data(), n);
    }
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.err = ReadFile(err);
    fs::remove(in);
    fs::remove(err);
    return run;
}

constexpr std::string_view kErrorReply = "68 12 90 78 56 34 12 68 D1 01 35 8D 16";
constexpr std::string_view kForwardBlockReply =
    "68 00 36 19 00 00 00 68 91 18 33 32 34 33 63 69 33 33 89 35 33 33 4C 33 33 33 6B 33 33 33 "
    "4A 66 33 33 E9 16";

TEST(FrameCli, DecodesHexArgumentsToJson) {
    const CliRun run = Joule("frame decode " + std::string(kForwardBlockReply));
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const Json document = Json::parse(run.out);
    ASSERT_EQ(document["frames"].size(), 1U);
    EXPECT_EQ(document["frames"][0]["message"]["values"][0], "36.30");
    EXPECT_EQ(document["frames"][0]["message"]["unit"], "kWh");
    EXPECT_TRUE(run.err.empty()) << run.err;
}

TEST(FrameCli, DecodesAWholeCaptureFromStandardInput) {
    // Line breaks, colons and 0x prefixes as capture tools write them.
    const std::string capture =
        "0xFE 0xFE\n68:12:90:78:56:34:12:68:D1:01:35:8D:16\r\n49 4D 45 49\n" +
        std::string(kForwardBlockReply) + "\n";
    const CliRun run = Joule("frame decode", capture);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    const Json document = Json::parse(run.out);
    ASSERT_EQ(document["frames"].size(), 2U);
    EXPECT_EQ(document["frames"][0]["offset"], 2);
    EXPECT_EQ(document["frames"][1]["offset"], 19);
    EXPECT_EQ(document["skipped"][1]["ascii"], "IMEI");
}

TEST(FrameCli, AnyErrorExitsOneAndStillPrintsWhatDecoded) {
    const CliRun run = Joule("frame decode " + std::string(kErrorReply) +
                             " 68 12 90 78 56 34 12 68 D1 01 35 C2 16");
    EXPECT_EQ(run.exit_code, 1);
    const Json document = Json::parse(run.out);
    EXPECT_EQ(document["frames"].size(), 1U);
    ASSERT_EQ(document["errors"].size(), 1U);
    EXPECT_EQ(document["errors"][0]["offset"], 13);
    EXPECT_EQ(document["errors"][0]["error"]["field"], "checksum");
    EXPECT_EQ(run.err, "joule: 1 frame(s) decoded, 1 error(s)\n");

    const CliRun nothing = Joule("frame decode 01 03 00 00 00 0A C5 CD");
    EXPECT_EQ(nothing.exit_code, 1);
    EXPECT_NE(nothing.err.find("no frame found"), std::string::npos) << nothing.err;

    const CliRun bad_hex = Joule("frame decode 68 1G");
    EXPECT_EQ(bad_hex.exit_code, 1);
    EXPECT_TRUE(bad_hex.err.starts_with("joule: invalid_argument: hex: ")) << bad_hex.err;
}

TEST(FrameCli, ModbusRtuWithProtocolAndDirection) {
    const CliRun request = Joule("frame decode --protocol modbus-rtu 01 03 00 00 00 0A C5 CD");
    ASSERT_EQ(request.exit_code, 0) << request.err;
    const Json frame = Json::parse(request.out)["frames"][0];
    EXPECT_EQ(frame["direction"], "request");
    EXPECT_EQ(frame["message"]["quantity"], 10);

    const CliRun response =
        Joule("frame decode --protocol modbus-rtu --direction response 03 83 04 E1 33");
    ASSERT_EQ(response.exit_code, 0) << response.err;
    EXPECT_EQ(Json::parse(response.out)["frames"][0]["message"]["exception"],
              "server device failure");
}

TEST(FrameCli, BadUsageExitsTwo) {
    for (const std::string args :
         {"frame", "frame decode --protocol iec104 68", "frame decode --bogus 68",
          "frame decode --direction request 68", "frame encode --preamble 9", "frame nonsense"}) {
        SCOPED_TRACE(args);
        const CliRun run = Joule(args);
        EXPECT_EQ(run.exit_code, 2) << run.out << run.err;
        EXPECT_FALSE(run.err.empty());
    }
    EXPECT_EQ(Joule("frame decode", "  \n").exit_code, 2);  // no hex at all
    EXPECT_EQ(Joule("frame decode --help").exit_code, 0);
}

TEST(FrameCli, DecodePipedToEncodeGivesTheFramesBack) {
    const fs::path json = TempPath("decoded.json");
    const CliRun decoded = Joule("frame decode FE FE FE FE " + std::string(kForwardBlockReply) +
                                 " " + std::string(kErrorReply));
    ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
    std::ofstream(json) << decoded.out;

    const CliRun from_file = Joule("frame encode " + json.string());
    ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
    EXPECT_EQ(from_file.out,
              std::string(kForwardBlockReply) + "\n" + std::string(kErrorReply) + "\n");

    const CliRun from_stdin = Joule("frame encode --preamble 2", decoded.out);
    ASSERT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
    EXPECT_TRUE(from_stdin.out.starts_with("FE FE 68 00 36")) << from_stdin.out;
    fs::remove(json);
}

TEST(FrameCli, EncodeErrorsNameTheField) {
    const CliRun unknown = Joule("frame encode", R"({"protocol": "dlt645", "address": "1",
        "message": {"type": "read_data", "di": "00010000", "colour": "red"}})");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_EQ(unknown.err,
              "joule: invalid_argument: message.colour: is not a known field of this frame\n");
    EXPECT_TRUE(unknown.out.empty());

    const CliRun invalid = Joule("frame encode", "{\"protocol\": ");
    EXPECT_EQ(invalid.exit_code, 1);
    EXPECT_NE(invalid.err.find("not valid JSON"), std::string::npos) << invalid.err;

    const CliRun missing = Joule("frame encode /nonexistent/frames.json");
    EXPECT_EQ(missing.exit_code, 1);
    EXPECT_TRUE(missing.err.starts_with("joule: not_found: file: ")) << missing.err;

    const CliRun ok = Joule("frame encode", R"({"protocol": "modbus_rtu", "unit": 1,
        "direction": "request", "function": {"code": "03"},
        "message": {"address": 0, "quantity": 10}})");
    EXPECT_EQ(ok.exit_code, 0) << ok.err;
    EXPECT_EQ(ok.out, "01 03 00 00 00 0A C5 CD\n");
}

}  // namespace
