// Meter models: the one rule for which point a meter is billed on (used by ValidateDeviceModel,
// ingest's samples and the simulator's MQTT readings).
#include "codec/device_model.hpp"

#include <gtest/gtest.h>

namespace joule::codec {
namespace {

DeviceModel ModelOf(Protocol protocol, cjt188::MeterType type = cjt188::MeterType::kColdWater) {
    DeviceModel m;
    m.code = "m";
    m.protocol = protocol;
    m.meter_type = type;
    return m;
}

TEST(BillingRegister, EnergyOnElectricityProtocolsVolumeOrHeatOnCjt188) {
    for (Protocol p : {Protocol::kDlt645_2007, Protocol::kDlt645_1997, Protocol::kModbusRtu}) {
        // The CJ/T 188 meter type does not matter off CJ/T 188.
        EXPECT_EQ(BillingRegister(ModelOf(p, cjt188::MeterType::kHeat)), Point::kEnergyTotal);
    }
    EXPECT_EQ(BillingRegister(ModelOf(Protocol::kCjt188)), Point::kVolumeTotal);
    EXPECT_EQ(BillingRegister(ModelOf(Protocol::kCjt188, cjt188::MeterType::kGas)),
              Point::kVolumeTotal);
    EXPECT_EQ(BillingRegister(ModelOf(Protocol::kCjt188, cjt188::MeterType::kHeat)),
              Point::kHeatTotal);
    EXPECT_EQ(BillingRegister(ModelOf(Protocol::kCjt188, cjt188::MeterType::kHeatAndCooling)),
              Point::kHeatTotal);
}

TEST(BillingRegister, AModelWithoutItIsRefusedNamingThePoint) {
    DeviceModel m = ModelOf(Protocol::kCjt188, cjt188::MeterType::kHeat);
    m.points = {{Point::kVolumeTotal, true, cjt188::kDiCurrentData, 0, {}, 0, {}}};
    auto refused = ValidateDeviceModel(m);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().field, "points");
    EXPECT_NE(refused.error().message.find("heat_total"), std::string::npos)
        << refused.error().message;
}

}  // namespace
}  // namespace joule::codec
