// frame_json: published frames (PROTOCOLS.md) decode to the fields engineers read, captures with
// noise report every frame and skipped byte with offsets, damaged frames carry the codec's error,
// and decode | encode gives back the bytes for every seed frame in tests/fuzz/corpus.
#include "wire/frame_json.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace joule::wire {
namespace {

namespace fs = std::filesystem;
using codec::Bytes;

Bytes Hex(std::string_view text) {
    auto bytes = codec::ParseHex(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or(Bytes{});
}

Json Decode(std::string_view hex, DecodeOptions options = {}) {
    auto document = DecodeFrameToJson(Hex(hex), options);
    EXPECT_TRUE(document.has_value()) << (document ? "" : document.error().ToString());
    return document.value_or(Json{});
}

// The only frame of a capture that must hold exactly one.
Json OnlyFrame(std::string_view hex, DecodeOptions options = {}) {
    Json document = Decode(hex, options);
    EXPECT_EQ(document["frames"].size(), 1U) << document.dump(1);
    EXPECT_TRUE(document["summary"]["ok"].get<bool>()) << document.dump(1);
    return document["frames"].empty() ? Json{} : document["frames"][0];
}

// Published DL/T 645 frames (PROTOCOLS.md §1, VEC)
constexpr std::string_view kForwardBlockReply =
    "68 00 36 19 00 00 00 68 91 18 33 32 34 33 63 69 33 33 89 35 33 33 4C 33 33 33 6B 33 33 33 "
    "4A 66 33 33 E9 16";
constexpr std::string_view kNoDataErrorReply = "68 12 90 78 56 34 12 68 D1 01 35 8D 16";
constexpr std::string_view kTripRequest =
    "68 61 10 01 30 12 15 68 1C 10 35 6A 39 35 34 33 33 33 4D 33 33 33 33 63 45 CC 2C 16";
// CJ/T 188 (PROTOCOLS.md §3.3, §3.4)
constexpr std::string_view kWaterReply =
    "FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 "
    "22 11 05 15 20 21 84 13 16";
constexpr std::string_view kValveClose =
    "FE FE FE FE 68 10 69 05 90 05 15 33 78 04 04 A0 17 01 99 94 16";

TEST(FrameDecode, Dlt645ForwardActiveBlockGivesNamedDecimalStrings) {
    const Json frame = OnlyFrame(kForwardBlockReply);
    EXPECT_EQ(frame["protocol"], "dlt645");
    EXPECT_EQ(frame["edition"], "2007");
    EXPECT_EQ(frame["address"], "000000193600");
    EXPECT_EQ(frame["control"]["raw"], "91");
    EXPECT_EQ(frame["control"]["function"], "read_data");
    EXPECT_EQ(frame["control"]["direction"], "reply");
    EXPECT_EQ(frame["checksum"], (Json{{"stated", "E9"}, {"computed", "E9"}}));
    const Json& m = frame["message"];
    EXPECT_EQ(m["type"], "read_reply");
    EXPECT_EQ(m["di"], "0001FF00");
    EXPECT_EQ(m["unit"], "kWh");
    EXPECT_NE(m["name"].get<std::string>().find("forward active energy block"), std::string::npos);
    // Total 36.30 = 2.56 + 0.19 + 0.38 + 33.17, as strings: never JSON numbers.
    EXPECT_EQ(m["values"], (Json{"36.30", "2.56", "0.19", "0.38", "33.17"}));
}

TEST(FrameDecode, Dlt645ErrorReplyNamesTheErrorBits) {
    const Json frame = OnlyFrame(kNoDataErrorReply);
    EXPECT_TRUE(frame["control"]["abnormal"].get<bool>());
    const Json& m = frame["message"];
    EXPECT_EQ(m["type"], "error_reply");
    EXPECT_EQ(m["function"], "read_data");
    EXPECT_EQ(m["error_word"]["raw"], "02");
    EXPECT_EQ(m["error_word"]["bits"], (Json{"no_requested_data"}));
    EXPECT_EQ(m["error_word"]["description"], "no requested data");
}

TEST(FrameDecode, Dlt645TripRequest) {
    const Json frame = OnlyFrame(kTripRequest);
    EXPECT_EQ(frame["control"]["direction"], "request");
    const Json& m = frame["message"];
    EXPECT_EQ(m["type"], "remote_control");
    EXPECT_EQ(m["command"], "trip");
    EXPECT_EQ(m["command_code"], "1A");
    EXPECT_EQ(m["password"], (Json{{"level", "02"}, {"code", "020637"}}));
    EXPECT_EQ(m["operator"], "00000001");
    EXPECT_EQ(m["valid_until"], "2099-12-30 00:00:00");
}

TEST(FrameDecode, Dlt645StatusWord3NamesTheRelayBits) {
    // After a trip the word is 0050H: relay open (bit 4) and trip commanded (bit 6).
    const Json m = OnlyFrame("68 61 10 01 30 12 15 68 91 06 36 38 33 37 83 33 BE 16")["message"];
    EXPECT_EQ(m["status_word"], "0050");
    EXPECT_TRUE(m["status_bits"]["relay_open"].get<bool>());
    EXPECT_TRUE(m["status_bits"]["relay_command_trip"].get<bool>());
    EXPECT_FALSE(m["status_bits"]["hold_power"].get<bool>());
}

TEST(FrameDecode, ModbusRtuNeedsToBeNamedAndThenDecodesAsRequest) {
    constexpr std::string_view kRead = "01 03 00 00 00 0A C5 CD";
    // Auto mode never guesses RTU: it has no start byte.
    const Json auto_document = Decode(kRead);
    EXPECT_TRUE(auto_document["frames"].empty());
    EXPECT_FALSE(auto_document["summary"]["ok"].get<bool>());
    EXPECT_EQ(auto_document["summary"]["skipped_bytes"], 8);

    const Json frame = OnlyFrame(kRead, {FrameProtocol::kModbusRtu, std::nullopt});
    EXPECT_EQ(frame["protocol"], "modbus_rtu");
    EXPECT_EQ(frame["direction"], "request");
    EXPECT_EQ(frame["unit"], 1);
    EXPECT_EQ(frame["function"]["name"], "read_holding_registers");
    EXPECT_EQ(frame["message"], (Json{{"address", 0}, {"quantity", 10}}));
    EXPECT_EQ(frame["crc"], (Json{{"stated", "C5 CD"}, {"computed", "C5 CD"}}));
}

TEST(FrameDecode, ModbusExceptionIsNamed) {
    // PROTOCOLS.md §2.1: 03 83 04 E1 33, unit 3, exception 04 on a read holding registers.
    const Json frame = OnlyFrame("03 83 04 E1 33", {FrameProtocol::kModbusRtu, std::nullopt});
    EXPECT_EQ(frame["direction"], "response");
    EXPECT_TRUE(frame["function"]["exception"].get<bool>());
    EXPECT_EQ(frame["message"]["exception_code"], "04");
    EXPECT_EQ(frame["message"]["exception"], "server device failure");
}

TEST(FrameDecode, ModbusRtuResponseRegisters) {
    const Json registers = OnlyFrame("01 03 04 12 34 AB CD 00 20",
                                     {FrameProtocol::kModbusRtu, FrameDirection::kResponse});
    EXPECT_EQ(registers["message"]["registers"], (Json{"1234", "ABCD"}));
    EXPECT_EQ(registers["message"]["byte_count"], 4);
}

TEST(FrameDecode, ModbusTcpIsFoundInAutoMode) {
    const Json frame = OnlyFrame("00 07 00 00 00 06 01 03 00 00 00 0A");
    EXPECT_EQ(frame["protocol"], "modbus_tcp");
    EXPECT_EQ(frame["transaction_id"], 7);
    EXPECT_EQ(frame["direction"], "request");
    EXPECT_EQ(frame["message"]["quantity"], 10);
    const Json reply = OnlyFrame("00 07 00 00 00 07 01 03 04 00 01 00 02");
    EXPECT_EQ(reply["direction"], "response");
    EXPECT_EQ(reply["message"]["registers"], (Json{"0001", "0002"}));
}

TEST(FrameDecode, Cjt188WaterReplyWithBothDiOrdersAndStatus) {
    Json document = Decode(kWaterReply);
    ASSERT_EQ(document["frames"].size(), 1U);
    const Json& frame = document["frames"][0];
    EXPECT_EQ(frame["protocol"], "cjt188");
    EXPECT_EQ(frame["offset"], 4);  // after the FE preamble
    EXPECT_EQ(frame["meter_type"], "cold_water");
    EXPECT_EQ(frame["address"], "78330011223344");
    EXPECT_EQ(frame["di"], "901F");
    EXPECT_EQ(frame["di_order"], "little");  // sent 1F 90
    const Json& m = frame["message"];
    EXPECT_EQ(m["type"], "water_data");
    EXPECT_EQ(m["current"], (Json{{"value", "556677.00"}, {"unit_code", "2C"}, {"unit", "m3"}}));
    EXPECT_EQ(m["clock"], "2015-05-11 22:01:31");
    EXPECT_EQ(m["st"]["raw"], "21 84");
    EXPECT_EQ(m["st"]["valve"], "closed");
    EXPECT_EQ(document["skipped"],
              (Json::array({Json{
                  {"offset", 0}, {"length", 4}, {"kind", "preamble"}, {"hex", "FE FE FE FE"}}})));
    EXPECT_EQ(document["summary"]["preamble_bytes"], 4);

    // The same frame with the DI sent big-endian.
    const Json big = OnlyFrame(
        "68 10 44 33 22 11 00 33 78 81 16 90 1F 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 "
        "20 21 84 13 16");
    EXPECT_EQ(big["di"], "901F");
    EXPECT_EQ(big["di_order"], "big");
}

TEST(FrameDecode, Cjt188ValveCommand) {
    const Json frame = OnlyFrame(kValveClose);
    EXPECT_EQ(frame["control"]["function"], "write_data");
    EXPECT_EQ(frame["di"], "A017");
    EXPECT_EQ(frame["di_name"], "valve control");
    EXPECT_EQ(frame["ser"], 1);
    EXPECT_EQ(frame["message"],
              (Json{{"type", "valve_control"}, {"command", "close"}, {"command_code", "99"}}));
}

TEST(FrameDecode, CaptureWithPreamblesAndGarbageBetweenTwoFrames) {
    // FE FE | frame at 2 (13 bytes) | "IMEI" heartbeat + 00 | FE FE FE FE | frame at 24
    const std::string capture = "FE FE " + std::string(kNoDataErrorReply) +
                                " 49 4D 45 49 00 FE FE FE FE " + std::string(kTripRequest);
    const Json document = Decode(capture);
    ASSERT_EQ(document["frames"].size(), 2U) << document.dump(1);
    EXPECT_EQ(document["frames"][0]["offset"], 2);
    EXPECT_EQ(document["frames"][0]["message"]["type"], "error_reply");
    EXPECT_EQ(document["frames"][1]["offset"], 24);
    EXPECT_EQ(document["frames"][1]["message"]["type"], "remote_control");
    const Json& skipped = document["skipped"];
    ASSERT_EQ(skipped.size(), 3U);
    EXPECT_EQ(skipped[0]["offset"], 0);
    EXPECT_EQ(skipped[0]["kind"], "preamble");
    EXPECT_EQ(skipped[1]["offset"], 15);
    EXPECT_EQ(skipped[1]["length"], 5);
    EXPECT_EQ(skipped[1]["kind"], "garbage");
    EXPECT_EQ(skipped[1]["hex"], "49 4D 45 49 00");
    EXPECT_EQ(skipped[2]["offset"], 20);
    EXPECT_EQ(skipped[2]["kind"], "preamble");
    EXPECT_EQ(document["summary"]["skipped_bytes"], 5);
    EXPECT_EQ(document["summary"]["preamble_bytes"], 6);
    EXPECT_TRUE(document["summary"]["ok"].get<bool>());
}

TEST(FrameDecode, WrongChecksumIsAnErrorWithFieldOffsetAndBytes) {
    // haomeiwen's printed CS C2 (true 8D), between good frames.
    const std::string capture = std::string(kNoDataErrorReply) +
                                " 00 68 12 90 78 56 34 12 68 D1 01 35 C2 16 " +
                                std::string(kNoDataErrorReply);
    const Json document = Decode(capture);
    EXPECT_EQ(document["frames"].size(), 2U);
    ASSERT_EQ(document["errors"].size(), 1U);
    const Json& error = document["errors"][0];
    EXPECT_EQ(error["protocol"], "dlt645");
    EXPECT_EQ(error["offset"], 14);
    EXPECT_EQ(error["length"], 13);
    EXPECT_EQ(error["error"]["code"], "data_loss");
    EXPECT_EQ(error["error"]["field"], "checksum");
    EXPECT_EQ(error["error"]["message"], "CS is C2H, the bytes sum to 8DH");
    EXPECT_EQ(document["summary"]["errors"], 1);
    EXPECT_FALSE(document["summary"]["ok"].get<bool>());
}

TEST(FrameDecode, Cjt188PublishedChecksumErrorIsReported) {
    // hftangyu's reply printed with CS 08 (true 13), PROTOCOLS.md §6.9.
    const Json document = Decode(
        "68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C 31 01 22 11 05 15 "
        "20 21 84 08 16");
    ASSERT_EQ(document["errors"].size(), 1U);
    EXPECT_EQ(document["errors"][0]["protocol"], "cjt188");
    EXPECT_EQ(document["errors"][0]["error"]["field"], "cs");
}

TEST(FrameDecode, FrameCutShortByTheNextFrameOrTheEnd) {
    // L says 8 data bytes but the next frame starts after 2 of them.
    const std::string capture =
        "68 12 90 78 56 34 12 68 91 08 33 33 " + std::string(kNoDataErrorReply) + " 68 12 90 78";
    const Json document = Decode(capture);
    ASSERT_EQ(document["frames"].size(), 1U);
    EXPECT_EQ(document["frames"][0]["offset"], 12);
    ASSERT_EQ(document["errors"].size(), 1U);
    EXPECT_EQ(document["errors"][0]["error"]["code"], "out_of_range");
    EXPECT_EQ(document["errors"][0]["note"], "cut short: the next frame starts at offset 12");
    // The 4 trailing bytes are too few to be called a frame: garbage.
    EXPECT_EQ(document["skipped"].back()["offset"], 25);

    const Json tail = Decode(std::string(kNoDataErrorReply) + " 68 12 90 78 56 34 12 68 91");
    ASSERT_EQ(tail["errors"].size(), 1U);
    EXPECT_EQ(tail["errors"][0]["note"], "the capture ends inside this frame");
}

TEST(FrameDecode, MessageErrorsKeepTheRawFrame) {
    // 1CH with 12 data bytes: the frame checks out, the message does not (not L = 16).
    Bytes data{0x02, 0, 0, 0, 0, 0, 0, 0, 0x1A, 0, 0, 0};
    Bytes wire = Hex("68 61 10 01 30 12 15 68 1C 0C");
    for (std::uint8_t b : data) {
        wire.push_back(static_cast<std::uint8_t>(b + 0x33));
    }
    wire.push_back(codec::Sum8(wire));
    wire.push_back(0x16);
    auto document = DecodeFrameToJson(wire, {});
    ASSERT_TRUE(document.has_value());
    const Json& frame = (*document)["frames"][0];
    EXPECT_EQ(frame["error"]["field"], "length");
    EXPECT_EQ(frame["data"], "02 00 00 00 00 00 00 00 1A 00 00 00");
    EXPECT_FALSE((*document)["summary"]["ok"].get<bool>());
    auto again = EncodeFrameFromJson(frame);
    ASSERT_TRUE(again.has_value()) << again.error().ToString();
    EXPECT_EQ(*again, wire);
}

TEST(FrameDecode, Dlt645FrameWhoseAddressLooksLikeAnMbapHeaderStaysDlt645) {
    // Address 000500000001: bytes 01 00 00 00 05 00 read as an MBAP header (PID 0, LEN 5) would
    // make an 11-byte Modbus TCP ADU, shorter than the frame. Checksummed frames win.
    const Json frame = OnlyFrame("68 01 00 00 00 05 00 68 13 00 E9 16");
    EXPECT_EQ(frame["protocol"], "dlt645");
    EXPECT_EQ(frame["message"]["type"], "read_address");
}

TEST(FrameDecode, RefusesOversizedCapturesAndDirectionsForOtherProtocols) {
    Bytes huge(kMaxCaptureBytes + 1, 0x00);
    auto too_big = DecodeFrameToJson(huge, {});
    ASSERT_FALSE(too_big.has_value());
    EXPECT_EQ(too_big.error().code, ErrorCode::kResourceExhausted);

    auto direction = DecodeFrameToJson(Hex(kNoDataErrorReply),
                                       {FrameProtocol::kDlt645, FrameDirection::kRequest});
    ASSERT_FALSE(direction.has_value());
    EXPECT_EQ(direction.error().field, "direction");
}

TEST(FrameDecode, GarbageOnlyCaptureIsNotOk) {
    const Json document = Decode("00 01 02 68 68 68");
    EXPECT_TRUE(document["frames"].empty());
    EXPECT_FALSE(document["summary"]["ok"].get<bool>());
    EXPECT_EQ(document["summary"]["skipped_bytes"], 6);
}

// ----------------------------------------------------------------------------- round trips

struct CorpusFile {
    fs::path path;
    FrameProtocol protocol;
};

std::vector<CorpusFile> CorpusFiles() {
    std::vector<CorpusFile> out;
    const std::pair<std::string_view, FrameProtocol> kDirs[] = {
        {"dlt645", FrameProtocol::kAuto},          {"cjt188", FrameProtocol::kAuto},
        {"stream_scanner", FrameProtocol::kAuto},  {"modbus_tcp", FrameProtocol::kModbusTcp},
        {"modbus_rtu", FrameProtocol::kModbusRtu},
    };
    for (const auto& [dir, protocol] : kDirs) {
        for (const auto& entry : fs::directory_iterator(fs::path(JOULE_CORPUS_DIR) / dir)) {
            out.push_back({entry.path(), protocol});
        }
    }
    std::sort(out.begin(), out.end(),
              [](const CorpusFile& a, const CorpusFile& b) { return a.path < b.path; });
    return out;
}

TEST(FrameRoundTrip, EverySeedFrameEncodesBackToItsBytes) {
    std::size_t frames = 0;
    for (const CorpusFile& file : CorpusFiles()) {
        SCOPED_TRACE(file.path.string());
        std::ifstream in(file.path, std::ios::binary);
        const Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        auto document = DecodeFrameToJson(bytes, {file.protocol, std::nullopt});
        ASSERT_TRUE(document.has_value()) << document.error().ToString();
        for (const Json& frame : (*document)["frames"]) {
            const auto offset = frame["offset"].get<std::size_t>();
            const auto length = frame["length"].get<std::size_t>();
            ASSERT_LE(offset + length, bytes.size());
            const Bytes expected(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                                 bytes.begin() + static_cast<std::ptrdiff_t>(offset + length));
            auto encoded = EncodeFrameFromJson(frame);
            ASSERT_TRUE(encoded.has_value()) << encoded.error().ToString() << "\n" << frame.dump(1);
            EXPECT_EQ(codec::ToHex(*encoded), codec::ToHex(expected));
            EXPECT_FALSE(frame.contains("note")) << frame.dump(1);
            ++frames;
        }
        // The whole document is accepted too (decode | encode).
        auto all = EncodeFramesFromJson(*document);
        ASSERT_TRUE(all.has_value()) << all.error().ToString();
        EXPECT_EQ(all->size(), (*document)["frames"].size());
    }
    EXPECT_GE(frames, 120U);
}

TEST(FrameRoundTrip, PublishedFramesAndPreamble) {
    for (std::string_view hex : {kForwardBlockReply, kNoDataErrorReply, kTripRequest}) {
        const Json frame = OnlyFrame(hex);
        auto encoded = EncodeFrameFromJson(frame);
        ASSERT_TRUE(encoded.has_value()) << encoded.error().ToString();
        EXPECT_EQ(codec::ToHex(*encoded), codec::ToHex(Hex(hex)));
    }
    Json valve = OnlyFrame(kValveClose);
    valve["preamble"] = 4;
    auto encoded = EncodeFrameFromJson(valve);
    ASSERT_TRUE(encoded.has_value()) << encoded.error().ToString();
    EXPECT_EQ(codec::ToHex(*encoded), codec::ToHex(Hex(kValveClose)));
}

TEST(FrameEncode, HandWrittenFramesNeedNoAnnotations) {
    auto read = EncodeFrameFromJson(Json::parse(R"({"protocol": "dlt645",
        "address": "000000193600",
        "message": {"type": "read_data", "di": "0001FF00"}})"));
    ASSERT_TRUE(read.has_value()) << read.error().ToString();
    EXPECT_EQ(codec::ToHex(*read), "68 00 36 19 00 00 00 68 11 04 33 32 34 33 00 16");

    auto valve = EncodeFrameFromJson(Json::parse(R"({"protocol": "cjt188",
        "meter_type": "cold_water", "address": "78331505900569", "control": {"raw": "04"},
        "di": "A017", "ser": 1, "message": {"type": "valve_control", "command": "close"}})"));
    ASSERT_TRUE(valve.has_value()) << valve.error().ToString();
    EXPECT_EQ(codec::ToHex(*valve), "68 10 69 05 90 05 15 33 78 04 04 A0 17 01 99 94 16");

    auto rtu = EncodeFrameFromJson(Json::parse(R"({"protocol": "modbus_rtu", "unit": 1,
        "direction": "request", "function": {"code": "03"},
        "message": {"address": 0, "quantity": 10}})"));
    ASSERT_TRUE(rtu.has_value()) << rtu.error().ToString();
    EXPECT_EQ(codec::ToHex(*rtu), "01 03 00 00 00 0A C5 CD");

    auto tcp = EncodeFrameFromJson(Json::parse(R"({"protocol": "modbus_tcp", "unit": 1,
        "transaction_id": 7, "direction": "response", "function": {"code": "83"},
        "message": {"exception_code": "02"}})"));
    ASSERT_TRUE(tcp.has_value()) << tcp.error().ToString();
    EXPECT_EQ(codec::ToHex(*tcp), "00 07 00 00 00 03 01 83 02");
}

TEST(FrameEncode, EditedValueReencodesOnceStaleAnnotationsAreRemoved) {
    Json frame = OnlyFrame(kForwardBlockReply);
    frame["message"]["values"][0] = "36.31";
    auto stale = EncodeFrameFromJson(frame);
    ASSERT_FALSE(stale.has_value());
    EXPECT_EQ(stale.error().field, "checksum.computed");  // the first stale annotation, by key

    frame.erase("checksum");
    frame.erase("hex");
    auto edited = EncodeFrameFromJson(frame);
    ASSERT_TRUE(edited.has_value()) << edited.error().ToString();
    const Json again = OnlyFrame(codec::ToHex(*edited));
    EXPECT_EQ(again["message"]["values"][0], "36.31");
}

struct BadJson {
    std::string_view json;
    std::string_view field;
};

TEST(FrameEncode, BadJsonNamesTheField) {
    const BadJson kCases[] = {
        {R"({"address": "1"})", "protocol"},
        {R"({"protocol": "iec104"})", "protocol"},
        {R"({"protocol": "dlt645", "address": "12345678901G",
             "message": {"type": "read_address"}})",
         "address"},
        {R"({"protocol": "dlt645", "address": "1", "message": {"type": "dance"}})", "message.type"},
        {R"({"protocol": "dlt645", "address": "1", "message": {"type": "read_data"}})",
         "message.di"},
        {R"({"protocol": "dlt645", "address": "1",
             "message": {"type": "read_data", "di": "00010000", "colour": "red"}})",
         "message.colour"},
        {R"({"protocol": "dlt645", "address": "1", "extra": true,
             "message": {"type": "read_address"}})",
         "extra"},
        {R"({"protocol": "dlt645", "address": "1", "message": {"type": "read_reply",
             "di": "00010000", "values": ["1.5", 2]}})",
         "message.values[1]"},
        {R"({"protocol": "dlt645", "address": "1", "message": {"type": "read_reply",
             "di": "00010000", "values": ["1.234"]}})",
         "message.values"},
        {R"({"protocol": "dlt645", "address": "1", "message": {"type": "remote_control",
             "password": {"level": "02", "code": "000000"}, "operator": "00000000",
             "command": "explode", "valid_until": "2099-12-30 00:00:00"}})",
         "message.command"},
        {R"({"protocol": "dlt645", "address": "1", "message": {"type": "remote_control",
             "password": {"level": "02", "code": "000000"}, "operator": "00000000",
             "command": "trip", "valid_until": "2099-02-30 00:00:00"}})",
         "message.valid_until"},
        {R"({"protocol": "dlt645", "address": "1", "edition": "1997",
             "message": {"type": "read_address"}})",
         "edition"},
        {R"({"protocol": "modbus_rtu", "unit": 1, "direction": "request",
             "function": {"code": "03"}, "message": {"address": 0, "quantity": 200}})",
         "message.quantity"},
        {R"({"protocol": "modbus_rtu", "unit": 1, "direction": "sideways",
             "function": {"code": "03"}, "message": {"address": 0, "quantity": 1}})",
         "direction"},
        {R"({"protocol": "modbus_tcp", "unit": 1, "direction": "response", "transaction_id": 1,
             "function": {"code": "03"}, "message": {"registers": ["12345"]}})",
         "message.registers[0]"},
        {R"({"protocol": "modbus_rtu", "unit": 1, "direction": "request", "preamble": 2,
             "function": {"code": "03"}, "message": {"address": 0, "quantity": 1}})",
         "preamble"},
        {R"({"protocol": "cjt188", "meter_type": "lava", "address": "78331505900569",
             "control": {"raw": "04"}, "message": {"type": "empty"}})",
         "meter_type"},
        {R"({"protocol": "cjt188", "meter_type": "cold_water", "address": "78331505900569",
             "control": {"raw": "81"}, "di": "901F", "ser": 0, "message": {"type": "water_data",
             "layout": "unit_after", "current": {"value": "1.00", "unit_code": "2C"},
             "settlement": {"value": "x", "unit_code": "2C"}, "clock": null,
             "st": {"raw": "00 00"}}})",
         "message.settlement.value"},
    };
    for (const BadJson& c : kCases) {
        SCOPED_TRACE(c.json);
        auto encoded = EncodeFrameFromJson(Json::parse(c.json));
        ASSERT_FALSE(encoded.has_value());
        EXPECT_EQ(encoded.error().code, ErrorCode::kInvalidArgument);
        EXPECT_EQ(encoded.error().field, c.field) << encoded.error().ToString();
    }
}

TEST(FrameEncode, DocumentErrorsNameTheFrame) {
    Json document = Decode(std::string(kNoDataErrorReply) + " " + std::string(kTripRequest));
    document["frames"][1]["message"]["command"] = "teleport";
    auto encoded = EncodeFramesFromJson(document);
    ASSERT_FALSE(encoded.has_value());
    EXPECT_EQ(encoded.error().field, "frames[1].message.command");

    auto array = EncodeFramesFromJson(Json::array({Json::object()}));
    ASSERT_FALSE(array.has_value());
    EXPECT_EQ(array.error().field, "[0].protocol");

    auto unknown = EncodeFramesFromJson(Json{{"frames", Json::array()}, {"frame", 1}});
    ASSERT_FALSE(unknown.has_value());
    EXPECT_EQ(unknown.error().field, "frame");
}

}  // namespace
}  // namespace joule::wire
