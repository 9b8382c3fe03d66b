#include "wire/model_json.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace joule::wire {
namespace {

Json ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return Json::parse(text.str());
}

TEST(MeterModelFiles, EveryShippedModelParsesAndValidates) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(JOULE_MODELS_DIR)) {
        if (entry.path().extension() != ".json")
            continue;
        auto parsed = MeterModelFromJson(ReadFile(entry.path()), entry.path().filename());
        ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
        ASSERT_TRUE(parsed->device.has_value()) << entry.path();
        EXPECT_EQ(parsed->record.code + ".json", entry.path().filename().string());
        auto again = DeviceModelFromDefinition(parsed->record.definition);
        ASSERT_TRUE(again.has_value()) << again.error().ToString();
        EXPECT_EQ(again->points.size(), parsed->device->points.size());
        ++count;
    }
    EXPECT_GE(count, 8);  // the models issue 3 asks to ship
}

TEST(MeterModelFiles, BoxModelsHaveTheirCircuits) {
    auto box = MeterModelFromJson(
        ReadFile(std::filesystem::path(JOULE_MODELS_DIR) / "box-12-circuit.json"), "box");
    ASSERT_TRUE(box.has_value());
    EXPECT_EQ(box->device->circuits, 12);
    EXPECT_TRUE(box->record.has_relay);
}

Json Minimal() {
    return Json::parse(R"({"code":"m","protocol":"dlt645-2007","max_rate_per_hour":"20",
        "capabilities":{"relay":true},
        "points":[{"point":"energy_total","di":"00010000"},
                  {"point":"run_status_3","di":"04000503"}]})");
}

TEST(MeterModelJson, RejectsBadFieldsNamingThem) {
    ASSERT_TRUE(MeterModelFromJson(Minimal(), "model").has_value());

    Json unknown = Minimal();
    unknown["colour"] = "red";
    EXPECT_EQ(MeterModelFromJson(unknown, "model").error().field, "model.colour");

    Json bad_protocol = Minimal();
    bad_protocol["protocol"] = "iec62056";
    EXPECT_EQ(MeterModelFromJson(bad_protocol, "model").error().field, "model.protocol");

    Json bad_di = Minimal();
    bad_di["points"][0]["di"] = "7F7F7F7F";
    EXPECT_EQ(MeterModelFromJson(bad_di, "model").error().field, "model.points[0].di");

    Json bad_point = Minimal();
    bad_point["points"][0]["point"] = "energy";
    EXPECT_EQ(MeterModelFromJson(bad_point, "model").error().field, "model.points[0].point");

    Json no_relay_state = Minimal();
    no_relay_state["points"].erase(1);
    EXPECT_EQ(MeterModelFromJson(no_relay_state, "model").error().field, "model.points");

    Json no_register = Minimal();
    no_register["points"].erase(0);
    EXPECT_EQ(MeterModelFromJson(no_register, "model").error().field, "model.points");
}

TEST(MeterModelJson, ModbusPointsNeedFunctionAndAddress) {
    Json j = Json::parse(R"({"code":"m","protocol":"modbus-rtu","max_rate_per_hour":"20",
        "points":[{"point":"energy_total","function":3,"address":"0x401E","type":"f32"}]})");
    auto parsed = MeterModelFromJson(j, "model");
    ASSERT_TRUE(parsed.has_value()) << parsed.error().ToString();
    EXPECT_EQ(parsed->device->points[0].address, 0x401E);

    j["points"][0]["function"] = 5;
    EXPECT_EQ(MeterModelFromJson(j, "model").error().field, "model.points[0].function");
    j["points"][0]["function"] = 3;
    j["points"][0]["address"] = "0x1G";
    EXPECT_EQ(MeterModelFromJson(j, "model").error().field, "model.points[0].address");
    j["points"][0]["address"] = 70000;
    EXPECT_EQ(MeterModelFromJson(j, "model").error().field, "model.points[0].address");
}

TEST(MeterModelJson, BillOnlyModelsHaveNoProtocolMap) {
    Json j = Json::parse(R"({"code":"m","max_rate_per_hour":"20"})");
    auto parsed = MeterModelFromJson(j, "model");
    ASSERT_TRUE(parsed.has_value());
    EXPECT_FALSE(parsed->device.has_value());
    EXPECT_EQ(DeviceModelFromDefinition(parsed->record.definition).error().code,
              ErrorCode::kNotFound);
}

}  // namespace
}  // namespace joule::wire
