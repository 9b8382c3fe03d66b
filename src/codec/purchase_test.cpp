// Purchase frames [ACCT-1]: the DL/T 645 vendor 14H write and the CJ/T 188 A013 write, byte for
// byte from the layouts documented in meter_driver.hpp / cjt188.hpp, and their data round trips.
#include <gtest/gtest.h>

#include "codec/meter_driver.hpp"

namespace joule::codec {
namespace {

DeviceModel PrepaidDlt645() {
    DeviceModel m;
    m.code = "ddsy";
    m.protocol = Protocol::kDlt645_2007;
    m.has_relay = true;
    m.in_meter_prepaid = true;
    m.preamble_bytes = 0;
    return m;
}

DeviceModel PrepaidWater() {
    DeviceModel m;
    m.code = "water";
    m.protocol = Protocol::kCjt188;
    m.in_meter_prepaid = true;
    m.meter_type = cjt188::MeterType::kColdWater;
    m.dialect.preamble_bytes = 0;
    return m;
}

DeviceCommand Purchase(std::int64_t fen, std::int64_t count) {
    DeviceCommand c;
    c.kind = DeviceCommandKind::kPurchase;
    c.value = Decimal{fen, 2};
    c.count = count;
    return c;
}

TEST(Dlt645Purchase, FrameIsTheVendorWriteOfAmountThenCount) {
    // 14H, DI 070102FF, PA 02 + password 000000, operator 00000000, then 100.00 yuan as
    // 00 00 01 00 and count 8 as 08 00, every data byte +33H.
    auto exchange =
        EncodeCommand(PrepaidDlt645(), "000000000101", ModbusFraming::kRtu, Purchase(10000, 8), 1);
    ASSERT_TRUE(exchange.has_value()) << exchange.error().ToString();
    EXPECT_EQ(ToHex(exchange->request),
              "68 01 01 00 00 00 00 68 14 12 32 35 34 3A 35 33 33 33 33 33 33 33 33 33 34 33 3B "
              "33 A2 16");
    EXPECT_TRUE(exchange->expects_reply);
    EXPECT_EQ(DeviceCommandName(DeviceCommandKind::kPurchase), "purchase");
    EXPECT_EQ(ParseDeviceCommand("purchase").value(), DeviceCommandKind::kPurchase);
}

TEST(Dlt645Purchase, DiAndLayoutAreModelSettings) {
    DeviceModel m = PrepaidDlt645();
    m.purchase_di = 0x0400F101;
    m.purchase_layout = PurchaseLayout::kCountAmount;
    auto exchange = EncodeCommand(m, "000000000101", ModbusFraming::kRtu, Purchase(10000, 8), 1);
    ASSERT_TRUE(exchange.has_value());
    auto decoded = dlt645::DecodeFrame(exchange->request);
    ASSERT_TRUE(decoded.has_value());
    auto request = dlt645::ParseRequest(decoded->frame);
    ASSERT_TRUE(request.has_value());
    const auto* write = std::get_if<dlt645::WriteDataRequest>(&*request);
    ASSERT_NE(write, nullptr);
    EXPECT_EQ(write->di, 0x0400F101U);
    EXPECT_EQ(ToHex(write->value), "08 00 00 00 01 00");
    EXPECT_EQ(DecodeDlt645Purchase(PurchaseLayout::kCountAmount, write->value).value(),
              (Dlt645Purchase{10000, 8}));
}

TEST(Dlt645Purchase, DataRoundTripsAndRefusesWhatDoesNotFit) {
    for (PurchaseLayout layout : {PurchaseLayout::kAmountCount, PurchaseLayout::kCountAmount}) {
        for (Dlt645Purchase p : {Dlt645Purchase{1, 0}, Dlt645Purchase{99'999'999, 9999},
                                 Dlt645Purchase{123'456, 42}}) {
            auto bytes = EncodeDlt645Purchase(layout, p);
            ASSERT_TRUE(bytes.has_value());
            EXPECT_EQ(bytes->size(), 6U);
            EXPECT_EQ(DecodeDlt645Purchase(layout, *bytes).value(), p);
        }
    }
    EXPECT_FALSE(EncodeDlt645Purchase(PurchaseLayout::kAmountCount, {0, 1}).has_value());
    EXPECT_FALSE(EncodeDlt645Purchase(PurchaseLayout::kAmountCount, {100'000'000, 1}));
    EXPECT_FALSE(EncodeDlt645Purchase(PurchaseLayout::kAmountCount, {1, 10000}));
    const Bytes not_bcd{0x0A, 0, 0, 0, 0, 0};
    EXPECT_FALSE(DecodeDlt645Purchase(PurchaseLayout::kAmountCount, not_bcd).has_value());
    // The count wraps at the wire's four digits: count 10008 goes out as 0008.
    auto wrapped = EncodeCommand(PrepaidDlt645(), "000000000101", ModbusFraming::kRtu,
                                 Purchase(10000, 10008), 1);
    auto plain =
        EncodeCommand(PrepaidDlt645(), "000000000101", ModbusFraming::kRtu, Purchase(10000, 8), 1);
    EXPECT_EQ(wrapped->request, plain->request);
}

TEST(Dlt645Purchase, OnlyMetersThatHoldMoneyTakePurchases) {
    DeviceModel m = PrepaidDlt645();
    m.in_meter_prepaid = false;
    auto refused = EncodeCommand(m, "000000000101", ModbusFraming::kRtu, Purchase(100, 1), 1);
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_EQ(refused.error().field, "kind");
    DeviceCommand no_count = Purchase(100, 1);
    no_count.count.reset();
    auto missing = EncodeCommand(PrepaidDlt645(), "000000000101", ModbusFraming::kRtu, no_count, 1);
    ASSERT_FALSE(missing.has_value());
    EXPECT_EQ(missing.error().field, "count");
    EXPECT_FALSE(EncodePurchaseCountRead(m, "000000000101", 1).has_value());
}

TEST(Cjt188Purchase, FrameIsA013WithSequenceThenAmount) {
    auto exchange =
        EncodeCommand(PrepaidWater(), "12345678901234", ModbusFraming::kRtu, Purchase(10000, 8), 5);
    ASSERT_TRUE(exchange.has_value()) << exchange.error().ToString();
    EXPECT_EQ(ToHex(exchange->request),
              "68 10 34 12 90 78 56 34 12 04 08 A0 13 05 08 00 00 01 00 2F 16");
    // The one-byte sequence wraps at 256.
    auto wrapped = EncodeCommand(PrepaidWater(), "12345678901234", ModbusFraming::kRtu,
                                 Purchase(10000, 264), 5);
    EXPECT_EQ(wrapped->request, exchange->request);
}

TEST(Cjt188Purchase, DataAndStatusRoundTrip) {
    const cjt188::PurchaseData p{200, 99'999'999};
    EXPECT_EQ(cjt188::DecodePurchaseData(cjt188::EncodePurchaseData(p).value()).value(), p);
    EXPECT_FALSE(cjt188::EncodePurchaseData({1, 0}).has_value());
    EXPECT_EQ(cjt188::DecodePurchaseData(Bytes{1, 0, 0}).error().code, ErrorCode::kOutOfRange);
    const cjt188::PurchaseStatus s{7, 5000, 123'400, 2'050, 0x0001};
    auto bytes = cjt188::EncodePurchaseStatus(s);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_EQ(ToHex(*bytes), "07 00 50 00 00 00 34 12 00 50 20 00 00 01 00");
    EXPECT_EQ(cjt188::DecodePurchaseStatus(*bytes).value(), s);
}

TEST(PurchaseCount, WrapsAtTheWireWidthOfEachProtocol) {
    EXPECT_EQ(PurchaseCountModulus(PrepaidDlt645()), 10000);
    EXPECT_EQ(PurchaseCountModulus(PrepaidWater()), 256);
}

TEST(Purchase, AmountsAreOneFenToTheWidthOfXXXXXXdotXX) {
    EXPECT_FALSE(IsPurchaseAmount(0));
    EXPECT_FALSE(IsPurchaseAmount(-1));
    EXPECT_TRUE(IsPurchaseAmount(1));
    EXPECT_TRUE(IsPurchaseAmount(kMaxPurchaseFen));
    EXPECT_FALSE(IsPurchaseAmount(kMaxPurchaseFen + 1));
    EXPECT_FALSE(cjt188::EncodePurchaseData({1, kMaxPurchaseFen + 1}).has_value());
}

TEST(Purchase, OnlyDlt6452007AndCjt188ModelsTakePurchases) {
    EXPECT_TRUE(TakesPurchases(PrepaidDlt645()));
    EXPECT_TRUE(TakesPurchases(PrepaidWater()));
    DeviceModel plain = PrepaidDlt645();
    plain.in_meter_prepaid = false;
    EXPECT_FALSE(TakesPurchases(plain));
    for (Protocol protocol : {Protocol::kDlt645_1997, Protocol::kModbusRtu}) {
        DeviceModel m = PrepaidDlt645();
        m.protocol = protocol;
        EXPECT_FALSE(TakesPurchases(m));
        EXPECT_FALSE(EncodePurchaseCountRead(m, "000000000101", 1).has_value());
        // A model claiming to hold money on such a protocol is refused, naming the claim.
        m.points = {{Point::kEnergyTotal, true, 0x9010, 0, {}, 0, {}}};
        auto refused = ValidateDeviceModel(m);
        ASSERT_FALSE(refused.has_value());
        EXPECT_EQ(refused.error().field, "capabilities.in_meter_prepaid");
    }
}

// A purchase count read with the other points is a wire value below the modulus.
TEST(PurchaseCount, AReadingWithACountBeyondTheWireWidthIsRefused) {
    DeviceModel m;
    m.code = "box";
    m.protocol = Protocol::kModbusRtu;
    m.points = {
        {Point::kEnergyTotal, true, 0, 0, modbus::FunctionCode::kReadHoldingRegisters, 0, {}},
        {Point::kPurchaseCount, true, 0, 0, modbus::FunctionCode::kReadHoldingRegisters, 1, {}}};
    auto plan = ReadPlan::Make(m, "1", ModbusFraming::kRtu);
    ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
    ASSERT_EQ(plan->size(), 1U);
    auto reply = [](std::uint16_t count) {
        const auto hi = static_cast<std::uint8_t>(count >> 8);
        const auto lo = static_cast<std::uint8_t>(count & 0xFF);
        return modbus::EncodeRtu({1, {3, Bytes{4, 0x00, 0x64, hi, lo}}}).value();
    };
    DeviceReading reading;
    ASSERT_TRUE(plan->Apply(0, 1, reply(9999), reading).has_value());
    EXPECT_EQ(reading.Find(0, Point::kPurchaseCount), (Decimal{9999, 0}));
    DeviceReading refused;
    auto beyond = plan->Apply(0, 1, reply(10000), refused);
    ASSERT_FALSE(beyond.has_value());
    EXPECT_EQ(beyond.error().field, "purchase_count");
    EXPECT_FALSE(refused.Find(0, Point::kPurchaseCount).has_value());
}

}  // namespace
}  // namespace joule::codec
