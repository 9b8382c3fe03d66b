// The simulated meter on its own: frames built with the codecs go in, the reply frames are decoded
// with the codecs, and the meter's decisions (addressing, refusals, faults, in-meter money) are
// checked one by one.
#include "sim/sim_meter.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "codec/cjt188.hpp"
#include "codec/dlt645.hpp"
#include "codec/modbus.hpp"

namespace joule::sim {
namespace {

namespace dlt = codec::dlt645;
namespace mb = codec::modbus;
namespace cj = codec::cjt188;
using codec::Point;

constexpr std::string_view kDltAddress = "123456789012";
constexpr std::string_view kCjtAddress = "78330011223344";

// ----------------------------------------------------------------------------- models

codec::DeviceModel Dlt2007(bool prepaid = true) {
    codec::DeviceModel m;
    m.code = "dlt";
    m.protocol = codec::Protocol::kDlt645_2007;
    m.has_relay = true;
    m.in_meter_prepaid = prepaid;
    m.points = {{Point::kEnergyTotal, true, 0x00010000, 0, {}, 0, {}},
                {Point::kRunStatus3, true, 0x04000503, 0, {}, 0, {}}};
    return m;
}

codec::DeviceModel Dlt1997() {
    codec::DeviceModel m;
    m.code = "dlt97";
    m.protocol = codec::Protocol::kDlt645_1997;
    m.points = {{Point::kEnergyTotal, true, 0x9010, 0, {}, 0, {}}};
    return m;
}

codec::DeviceModel ModbusBox() {
    codec::DeviceModel m;
    m.code = "box";
    m.protocol = codec::Protocol::kModbusRtu;
    m.circuits = 2;
    m.circuit_stride = 0x10;
    m.has_relay = true;
    m.relay_coil = 0x20;
    m.relay_coil_stride = 1;
    const mb::RegisterFormat u32{mb::ValueType::kU32, mb::WordOrder::kAbcd, -2, 2};
    const mb::RegisterFormat i16{mb::ValueType::kI16, mb::WordOrder::kAbcd, -2, 2};
    m.points = {{Point::kEnergyTotal, true, 0, 0, mb::FunctionCode::kReadHoldingRegisters, 0, u32},
                {Point::kCurrent, true, 0, 0, mb::FunctionCode::kReadHoldingRegisters, 4, i16},
                {Point::kRelayClosed, true, 0, 0, mb::FunctionCode::kReadCoils, 0x20, {}}};
    return m;
}

codec::DeviceModel Water() {
    codec::DeviceModel m;
    m.code = "water";
    m.protocol = codec::Protocol::kCjt188;
    m.has_valve = true;
    m.meter_type = cj::MeterType::kColdWater;
    m.dialect.preamble_bytes = 2;
    m.points = {{Point::kVolumeTotal, true, cj::kDiCurrentData, 0, {}, 0, {}}};
    return m;
}

SimMeter MustMake(const codec::DeviceModel& model, std::string_view address,
                  SimOptions options = {}) {
    auto sim = SimMeter::Make(model, address, options);
    EXPECT_TRUE(sim.has_value()) << sim.error().ToString();
    return std::move(sim).value();
}

// ----------------------------------------------------------------------------- DL/T 645 helpers

dlt::Address DltAddress(std::string_view text) { return dlt::ParseAddress(text).value(); }

Bytes DltRequest(const dlt::Request& request, std::string_view to = kDltAddress) {
    auto frame = dlt::BuildRequest(DltAddress(to), request);
    EXPECT_TRUE(frame.has_value()) << frame.error().ToString();
    return dlt::EncodeFrame(*frame).value();
}

dlt::Frame DltFrame(const std::optional<Bytes>& wire) {
    EXPECT_TRUE(wire.has_value());
    auto decoded = dlt::DecodeFrame(wire.value_or(Bytes{}));
    EXPECT_TRUE(decoded.has_value()) << decoded.error().ToString();
    return decoded.has_value() ? decoded->frame : dlt::Frame{};
}

dlt::Reply DltReply(const std::optional<Bytes>& wire) {
    auto reply = dlt::ParseReply(DltFrame(wire));
    EXPECT_TRUE(reply.has_value()) << reply.error().ToString();
    return reply.value_or(dlt::Reply{});
}

std::optional<Bytes> DltRead(SimMeter& sim, dlt::DataId di,
                             dlt::Edition edition = dlt::Edition::k2007,
                             std::string_view to = kDltAddress) {
    return sim.HandleFrame(DltRequest(dlt::ReadDataRequest{edition, di, std::nullopt}, to));
}

std::vector<Decimal> DltValues(SimMeter& sim, dlt::DataId di,
                               dlt::Edition edition = dlt::Edition::k2007) {
    dlt::Reply reply = DltReply(DltRead(sim, di, edition));
    const auto* read = std::get_if<dlt::ReadReply>(&reply);
    EXPECT_NE(read, nullptr) << dlt::FormatDataId(di, edition);
    if (read == nullptr)
        return {};
    auto values = dlt::DecodeValues(di, read->payload, edition);
    EXPECT_TRUE(values.has_value()) << values.error().ToString();
    return values.value_or(std::vector<Decimal>{});
}

std::uint8_t DltError(const std::optional<Bytes>& wire) {
    dlt::Reply reply = DltReply(wire);
    const auto* error = std::get_if<dlt::ErrorReply>(&reply);
    EXPECT_NE(error, nullptr);
    return error != nullptr ? error->error.raw : 0;
}

bool IsAck(const std::optional<Bytes>& wire) {
    dlt::Reply reply = DltReply(wire);
    return std::holds_alternative<dlt::AckReply>(reply);
}

dlt::RemoteControlRequest Control(dlt::RemoteCommand command, const MeterDateTime& until,
                                  dlt::Password password = {0x02, 0}) {
    return dlt::RemoteControlRequest{password, 0, command, 0, until};
}

constexpr auto kNoData = static_cast<std::uint8_t>(dlt::ErrorBit::kNoRequestedData);
constexpr auto kPasswordBit = static_cast<std::uint8_t>(dlt::ErrorBit::kPasswordOrUnauthorized);
constexpr auto kOtherBit = static_cast<std::uint8_t>(dlt::ErrorBit::kOther);

// ----------------------------------------------------------------------------- construction

TEST(SimMeterMake, RejectsAddressesThatDoNotFitTheProtocol) {
    EXPECT_EQ(SimMeter::Make(Dlt2007(), "AAAAAAAA0123").error().field, "bus_address");
    EXPECT_EQ(SimMeter::Make(Dlt2007(), "999999999999").error().field, "bus_address");
    EXPECT_EQ(SimMeter::Make(ModbusBox(), "0").error().field, "bus_address");
    EXPECT_EQ(SimMeter::Make(ModbusBox(), "248").error().field, "bus_address");
    EXPECT_EQ(SimMeter::Make(Water(), "1234").error().field, "bus_address");
    EXPECT_TRUE(SimMeter::Make(ModbusBox(), "247").has_value());
    EXPECT_TRUE(SimMeter::Make(Dlt2007(), "123").has_value());  // padded with zeros
}

TEST(SimMeterMake, RejectsAnInvalidModelOrUnit) {
    codec::DeviceModel no_points = Dlt2007();
    no_points.points.clear();
    auto made = SimMeter::Make(no_points, kDltAddress);
    ASSERT_FALSE(made.has_value());
    EXPECT_EQ(made.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(made.error().field.rfind("model", 0), 0U) << made.error().field;
    EXPECT_EQ(SimMeter::Make(Water(), kCjtAddress, SimOptions{0, 0x0E, 0x05}).error().field,
              "volume_unit");  // MJ is no volume
    EXPECT_EQ(SimMeter::Make(Water(), kCjtAddress, SimOptions{0, 0x2C, 0x11}).error().field,
              "heat_unit");  // GJ has no exact kWh value
}

TEST(SimMeterMake, DerivesTheRegisterModulusFromTheWireFormat) {
    EXPECT_EQ(MustMake(Dlt2007(), kDltAddress).register_modulus(), 1'000'000'000);
    EXPECT_EQ(MustMake(Water(), kCjtAddress).register_modulus(), 1'000'000'000);
    EXPECT_EQ(MustMake(ModbusBox(), "1").register_modulus(), 42'949'672'960);
    EXPECT_EQ(MustMake(ModbusBox(), "1", SimOptions{5'000}).register_modulus(), 5'000);
}

// ----------------------------------------------------------------------------- DL/T 645 reads

TEST(SimMeterDlt645, ReadsTruncateRegistersLikeAMeterDisplay) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    ASSERT_TRUE(sim.SetEnergyRegisters(0, 12'349, {1'000, 2'000, 3'000, 6'349}, 7));
    auto total = DltValues(sim, 0x00010000);
    ASSERT_EQ(total.size(), 1U);
    EXPECT_EQ(total[0], (Decimal{1234, 2}));  // 12.349 kWh shows 12.34
    auto block = DltValues(sim, 0x0001FF00);
    ASSERT_EQ(block.size(), 5U);
    EXPECT_EQ(block[4], (Decimal{634, 2}));
    auto combined = DltValues(sim, 0x00000000);  // forward + reverse
    ASSERT_EQ(combined.size(), 1U);
    EXPECT_EQ(combined[0], (Decimal{1235, 2}));
    EXPECT_EQ(DltError(DltRead(sim, 0x00010500)), kNoData);  // tariff 5: a 4-rate meter
    EXPECT_EQ(DltError(DltRead(sim, 0x00010001)), kNoData);  // settlement history
}

TEST(SimMeterDlt645, InstantaneousValuesRoundAndCarryTheirSign) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    ASSERT_TRUE(sim.SetInstantaneous(0, Decimal{23016, 2}, Decimal{51234, 4}, Decimal{11785, 4}));
    EXPECT_EQ(DltValues(sim, 0x02010100)[0], (Decimal{2302, 1}));  // 230.16 -> 230.2 V
    EXPECT_EQ(DltValues(sim, 0x02020100)[0], (Decimal{5123, 3}));  // 5.1234 -> 5.123 A
    EXPECT_EQ(DltValues(sim, 0x0201FF00).size(), 3U);              // balanced three phases
    ASSERT_TRUE(sim.SetReverseFlow(0, true));
    EXPECT_EQ(DltValues(sim, 0x02020100)[0], (Decimal{-5123, 3}));
    EXPECT_EQ(DltValues(sim, 0x02030000)[0], (Decimal{-11785, 4}));
}

TEST(SimMeterDlt645, UnknownIdentifierGetsTheNoDataError) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    EXPECT_EQ(DltError(DltRead(sim, 0x04000C01)), kNoData);  // passwords are not readable
    EXPECT_EQ(DltError(DltRead(sim, 0x00900200)), kNoData);  // no account on this meter
    EXPECT_EQ(DltError(DltRead(sim, 0x7F7F7F7F)), kNoData);
    EXPECT_EQ(sim.stats().errors, 3);
}

TEST(SimMeterDlt645, AnswersOnlyItsOwnAddressAndShortAddressedReads) {
    SimMeter sim = MustMake(Dlt2007(), kDltAddress);
    EXPECT_FALSE(DltRead(sim, 0x00010000, dlt::Edition::k2007, "123456789013").has_value());
    // Short addressing: AAH high bytes are wildcards; the meter answers with its real address.
    dlt::Frame reply = DltFrame(DltRead(sim, 0x00010000, dlt::Edition::k2007, "AAAAAAAA9012"));
    EXPECT_EQ(reply.address, DltAddress(kDltAddress));
    // ... but only for reads.
    const MeterDateTime until{2026, 1, 2, 0, 0, 0};
    EXPECT_FALSE(
        sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kTrip, until), "AAAAAAAAAAAA"))
            .has_value());
    EXPECT_TRUE(sim.circuit(0).relay_closed() || sim.circuit(0).local_tripped);
    EXPECT_FALSE(sim.circuit(0).remote_tripped);
    // Read address (13H) to the wildcard.
    dlt::Reply address =
        DltReply(sim.HandleFrame(DltRequest(dlt::ReadAddressRequest{}, "AAAAAAAAAAAA")));
    ASSERT_TRUE(std::holds_alternative<dlt::AddressReply>(address));
    EXPECT_EQ(std::get<dlt::AddressReply>(address).address, DltAddress(kDltAddress));
}

TEST(SimMeterDlt645, RepliesCarryTheModelsPreamble) {
    codec::DeviceModel model = Dlt2007(false);
    model.preamble_bytes = 2;
    SimMeter sim = MustMake(model, kDltAddress);
    auto reply = DltRead(sim, 0x00010000);
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ((*reply)[0], 0xFE);
    EXPECT_EQ((*reply)[1], 0xFE);
    EXPECT_EQ((*reply)[2], 0x68);
}

TEST(SimMeterDlt645, ClockReadsAndBroadcastTimeSync) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    sim.SetClock({2026, 3, 1, 23, 59, 50});
    sim.SetClockDrift(15);  // 15 s fast: it is already 2 March on the meter
    EXPECT_EQ(sim.MeterClock(), (MeterDateTime{2026, 3, 2, 0, 0, 5}));
    dlt::Reply date = DltReply(DltRead(sim, 0x04000101));
    auto decoded = dlt::DecodeMeterDate(std::get<dlt::ReadReply>(date).payload);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->day, 2);
    EXPECT_EQ(decoded->weekday, 1);  // Monday

    const MeterDateTime synced{2026, 3, 1, 23, 59, 51};
    EXPECT_FALSE(
        sim.HandleFrame(DltRequest(dlt::BroadcastTimeRequest{synced}, "999999999999")).has_value());
    EXPECT_EQ(sim.MeterClock(), synced);
    sim.SetClock({2026, 3, 1, 23, 59, 59});
    EXPECT_EQ(sim.MeterClock(), (MeterDateTime{2026, 3, 2, 0, 0, 0}));
}

TEST(SimMeterDlt645, BroadcastsOtherThanTimeAndFreezeAreIgnored) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    EXPECT_FALSE(DltRead(sim, 0x00010000, dlt::Edition::k2007, "999999999999").has_value());
    EXPECT_EQ(sim.stats().ignored, 1);
}

TEST(SimMeterDlt645, FreezeKeepsTheLastSevenWithTheirTimes) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    for (int day = 1; day <= 9; ++day) {
        ASSERT_TRUE(sim.Advance(0, 1'000).has_value());
        sim.Freeze({2026, 5, day, 0, 0, 17});
    }
    ASSERT_EQ(sim.freezes().size(), kDailyFreezesKept);
    EXPECT_EQ(DltValues(sim, 0x05060101)[0], (Decimal{900, 2}));
    EXPECT_EQ(DltValues(sim, 0x05060107)[0], (Decimal{300, 2}));
    EXPECT_EQ(DltError(DltRead(sim, 0x05060108)), kNoData);
    dlt::Reply time = DltReply(DltRead(sim, 0x05060002));
    auto at = dlt::DecodeDateTimeMinutes(std::get<dlt::ReadReply>(time).payload);
    ASSERT_TRUE(at.has_value());
    EXPECT_EQ(*at, (MeterDateTime{2026, 5, 8, 0, 0, 0}));  // seconds dropped
    // 16H freeze-now on the broadcast address: frozen, never answered.
    ASSERT_TRUE(sim.Advance(0, 1'000).has_value());
    EXPECT_FALSE(sim.HandleFrame(DltRequest(dlt::FreezeRequest{}, "999999999999")).has_value());
    EXPECT_EQ(DltValues(sim, 0x05060101)[0], (Decimal{1000, 2}));
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(dlt::FreezeRequest{}))));
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(dlt::FreezeRequest{5, 1, 0, 0}))), kOtherBit);
}

// ----------------------------------------------------------------------------- DL/T 645 control

TEST(SimMeterDlt645, RemoteControlChecksPasswordAndDeadline) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    sim.SetClock({2026, 6, 1, 12, 0, 0});
    const MeterDateTime until{2026, 6, 1, 12, 10, 0};
    EXPECT_EQ(DltError(sim.HandleFrame(
                  DltRequest(Control(dlt::RemoteCommand::kTrip, until, {0x02, 0x111111})))),
              kPasswordBit);
    EXPECT_TRUE(sim.circuit(0).relay_closed());
    sim.SetClockDrift(601);  // the meter thinks the deadline has passed
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kTrip, until)))),
              kOtherBit);
    EXPECT_TRUE(sim.circuit(0).relay_closed());
    sim.SetClockDrift(600);  // exactly at the deadline: still valid
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kTrip, until)))));
    EXPECT_FALSE(sim.circuit(0).relay_closed());
    EXPECT_EQ(sim.RunStatus3Word(0), 0x0050);  // the captured word after a trip
    EXPECT_TRUE(
        IsAck(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kDirectClose, until)))));
    EXPECT_EQ(sim.RunStatus3Word(0), 0x0000);  // ... and after a close
}

TEST(SimMeterDlt645, HoldRefusesTripsAndAlarmSetsBit7) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    const MeterDateTime until{2099, 12, 30, 0, 0, 0};
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kHoldPower, until)))));
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kTrip, until)))),
              kOtherBit);
    EXPECT_TRUE(sim.circuit(0).relay_closed());
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kAlarm, until)))));
    const auto status = dlt::DecodeRunStatus3(sim.RunStatus3Word(0));
    EXPECT_TRUE(status.hold_power);
    EXPECT_TRUE(status.pre_trip_alarm);
    EXPECT_FALSE(status.relay_open);
}

TEST(SimMeterDlt645, MeterWithoutARelayRefusesRemoteControl) {
    codec::DeviceModel model = Dlt2007(false);
    model.has_relay = false;
    model.points.pop_back();
    SimMeter sim = MustMake(model, kDltAddress);
    const MeterDateTime until{2099, 12, 30, 0, 0, 0};
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kTrip, until)))),
              kOtherBit);
}

TEST(SimMeterDlt645, WritesNeedThePasswordAndAnAccount) {
    SimMeter sim = MustMake(Dlt2007(), kDltAddress);
    auto price =
        dlt::EncodeValues(dlt::FindDataItem(0x04050101).value(), std::vector{Decimal{6789, 4}});
    ASSERT_TRUE(price.has_value());
    dlt::WriteDataRequest write{dlt::Edition::k2007, 0x04050101, {0x02, 0x000001}, 0, *price};
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(write))), kPasswordBit);
    write.password = {0x02, 0};
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(write))));
    EXPECT_EQ(sim.prepaid().price_e4, 6789);
    EXPECT_EQ(DltValues(sim, 0x04050101)[0], (Decimal{6789, 4}));
    EXPECT_EQ(DltValues(sim, 0x02800020)[0], (Decimal{6789, 4}));
    write.di = 0x04000401;  // not writable here
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(write))), kOtherBit);

    SimMeter plain = MustMake(Dlt2007(false), kDltAddress);
    write.di = 0x04050101;
    EXPECT_EQ(DltError(plain.HandleFrame(DltRequest(write))), kOtherBit);
}

TEST(SimMeterDlt645, MeterClearResetsRegistersWithThePassword) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    ASSERT_TRUE(sim.SetEnergyRegisters(0, 5'000'000));
    EXPECT_EQ(DltError(sim.HandleFrame(DltRequest(dlt::MeterClearRequest{{0x02, 9}, 0}))),
              kPasswordBit);
    EXPECT_EQ(sim.circuit(0).forward_wh, 5'000'000);
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(dlt::MeterClearRequest{{0x02, 0}, 0}))));
    EXPECT_EQ(DltValues(sim, 0x00010000)[0], (Decimal{0, 2}));
}

TEST(SimMeterDlt645, EachEditionAnswersOnlyItsOwnRequests) {
    SimMeter v2007 = MustMake(Dlt2007(false), kDltAddress);
    EXPECT_FALSE(DltRead(v2007, 0x9010, dlt::Edition::k1997).has_value());
    SimMeter v1997 = MustMake(Dlt1997(), kDltAddress);
    EXPECT_FALSE(DltRead(v1997, 0x00010000).has_value());
    ASSERT_TRUE(v1997.SetEnergyRegisters(0, 4'560));
    dlt::Frame reply = DltFrame(DltRead(v1997, 0x9010, dlt::Edition::k1997));
    EXPECT_EQ(reply.control.raw, 0x81);
    EXPECT_EQ(DltValues(v1997, 0x9010, dlt::Edition::k1997)[0], (Decimal{456, 2}));
    EXPECT_EQ(DltError(DltRead(v1997, 0x9110, dlt::Edition::k1997)), kNoData);  // reactive
}

// ----------------------------------------------------------------------------- load and money

TEST(SimMeterLoad, AdvanceMetersPerRateAndRejectsBadArguments) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    EXPECT_EQ(sim.Advance(0, 700, 3).value(), 700);
    EXPECT_EQ(sim.Advance(0, 300, 0).value(), 300);
    EXPECT_EQ(sim.circuit(0).forward_wh, 1'000);
    EXPECT_EQ(sim.circuit(0).rate_wh[3], 700);
    EXPECT_EQ(sim.Advance(1, 1, 0).error().field, "circuit");
    EXPECT_EQ(sim.Advance(0, -1, 0).error().field, "energy_wh");
    EXPECT_EQ(sim.Advance(0, 1, 4).error().field, "rate_index");
}

TEST(SimMeterLoad, RegistersWrapAtTheModulus) {
    SimMeter sim = MustMake(Dlt2007(false), kDltAddress);
    ASSERT_TRUE(sim.SetEnergyRegisters(0, sim.register_modulus() - 5));
    EXPECT_EQ(DltValues(sim, 0x00010000)[0], (Decimal{99999999, 2}));
    ASSERT_TRUE(sim.Advance(0, 25).has_value());
    EXPECT_EQ(sim.circuit(0).forward_wh, 20);
    EXPECT_EQ(DltValues(sim, 0x00010000)[0], (Decimal{2, 2}));
}

TEST(SimMeterPrepaid, ChargesRoundHalfUpOnTheSegmentNotPerStep) {
    SimMeter sim = MustMake(Dlt2007(), kDltAddress);
    ASSERT_TRUE(sim.TopUp(100'000));  // 1000.00 yuan
    // 1 Wh at 1.0000 yuan/kWh is 0.1 fen: per-step rounding would charge nothing at all.
    for (int i = 0; i < 1'000; ++i)
        ASSERT_TRUE(sim.Advance(0, 1).has_value());
    EXPECT_EQ(sim.prepaid().balance_fen, 100'000 - 100);
    // 0.6789 yuan/kWh: 3 × 7 Wh = 21 Wh costs 1.42569 fen -> 1 fen over the segment.
    sim = MustMake(Dlt2007(), kDltAddress);
    ASSERT_TRUE(sim.TopUp(100'000));
    auto price =
        dlt::EncodeValues(dlt::FindDataItem(0x04050101).value(), std::vector{Decimal{6789, 4}});
    ASSERT_TRUE(IsAck(sim.HandleFrame(
        DltRequest(dlt::WriteDataRequest{dlt::Edition::k2007, 0x04050101, {0x02, 0}, 0, *price}))));
    std::int64_t total_wh = 0;
    for (std::int64_t step : {7, 7, 7, 1'234, 99'999}) {
        ASSERT_TRUE(sim.Advance(0, step).has_value());
        total_wh += step;
        // The balance always equals one half-up rounding of the whole energy.
        const std::int64_t expected = (total_wh * 6789 + 50'000) / 100'000;
        EXPECT_EQ(100'000 - sim.prepaid().balance_fen, expected) << total_wh;
    }
}

TEST(SimMeterPrepaid, ReverseFlowIsChargedToo) {
    SimMeter sim = MustMake(Dlt2007(), kDltAddress);
    ASSERT_TRUE(sim.TopUp(1'000));
    ASSERT_TRUE(sim.SetReverseFlow(0, true));
    ASSERT_TRUE(sim.Advance(0, 2'000).has_value());
    EXPECT_EQ(sim.circuit(0).reverse_wh, 2'000);
    EXPECT_EQ(sim.prepaid().balance_fen, 800);
}

TEST(SimMeterPrepaid, FreshMeterWithoutMoneyIsTrippedAndHoldKeepsPowerOn) {
    SimMeter sim = MustMake(Dlt2007(), kDltAddress);
    EXPECT_FALSE(sim.circuit(0).relay_closed());
    EXPECT_EQ(sim.Advance(0, 10).value(), 0);
    const MeterDateTime until{2099, 12, 30, 0, 0, 0};
    EXPECT_TRUE(IsAck(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kHoldPower, until)))));
    EXPECT_TRUE(sim.circuit(0).relay_closed());
    EXPECT_EQ(sim.Advance(0, 10'000).value(), 10'000);  // held: metered into overdraft
    EXPECT_EQ(sim.prepaid().balance_fen, -1'000);
    EXPECT_EQ(DltValues(sim, 0x00900201)[0], (Decimal{1000, 2}));
    EXPECT_TRUE(
        IsAck(sim.HandleFrame(DltRequest(Control(dlt::RemoteCommand::kHoldRelease, until)))));
    EXPECT_FALSE(sim.circuit(0).relay_closed());
    EXPECT_EQ(sim.TopUp(0).error().field, "amount_fen");
    SimMeter plain = MustMake(Dlt2007(false), kDltAddress);
    EXPECT_EQ(plain.TopUp(100).error().code, ErrorCode::kFailedPrecondition);
}

// ----------------------------------------------------------------------------- Modbus

Bytes Rtu(std::uint8_t unit, const mb::Pdu& pdu) { return mb::EncodeRtu({unit, pdu}).value(); }

mb::Pdu RtuReply(const std::optional<Bytes>& wire) {
    EXPECT_TRUE(wire.has_value());
    auto decoded = mb::DecodeRtu(wire.value_or(Bytes{}), mb::Direction::kResponse);
    EXPECT_TRUE(decoded.has_value()) << decoded.error().ToString();
    return decoded.has_value() ? decoded->adu.pdu : mb::Pdu{};
}

TEST(SimMeterModbus, RegistersFollowTheMapAndTheRestReadZero) {
    SimMeter sim = MustMake(ModbusBox(), "9");
    ASSERT_TRUE(sim.SetEnergyRegisters(1, 1'234'567));  // 1234.567 kWh -> 123456 × 0.01
    ASSERT_TRUE(sim.SetInstantaneous(1, Decimal{2200, 1}, Decimal{-1234, 3}, Decimal{0, 0}));
    const mb::Request read = mb::ReadRequest(mb::FunctionCode::kReadHoldingRegisters, 0x10, 6);
    mb::Pdu pdu = RtuReply(sim.HandleFrame(Rtu(9, mb::EncodeRequest(read).value())));
    auto response = mb::ParseResponse(read, pdu);
    ASSERT_TRUE(response.has_value());
    ASSERT_FALSE(response->exception);
    EXPECT_EQ(response->registers,
              (std::vector<std::uint16_t>{0x0001, 0xE240, 0, 0,
                                          static_cast<std::uint16_t>(-123 & 0xFFFF), 0}));
}

TEST(SimMeterModbus, ExceptionsForBadFunctionsAndAddresses) {
    SimMeter sim = MustMake(ModbusBox(), "9");
    auto exception = [&](const mb::Pdu& request) {
        mb::Pdu reply = RtuReply(sim.HandleFrame(Rtu(9, request)));
        EXPECT_EQ(reply.function, request.function | mb::kExceptionFlag);
        return reply.data.empty() ? 0 : reply.data[0];
    };
    // Device identification (2BH): the codec's response decoder knows only its eight functions,
    // so check the raw ADU: unit, ABH, code 01, CRC.
    auto identification = sim.HandleFrame(Rtu(9, {0x2B, {0x0E, 0x01, 0x00}}));
    ASSERT_TRUE(identification.has_value());
    ASSERT_EQ(identification->size(), 5U);
    EXPECT_EQ((*identification)[1], 0xAB);
    EXPECT_EQ((*identification)[2], 0x01);
    EXPECT_EQ(mb::Crc16(ByteView(*identification).first(3)),
              (*identification)[3] | (*identification)[4] << 8);
    EXPECT_EQ(exception(mb::EncodeRequest(mb::WriteSingleRegister(0, 1)).value()), 0x01);
    EXPECT_EQ(exception({0x03, {0xFF, 0xFF, 0x00, 0x02}}), 0x02);  // passes 0xFFFF
    EXPECT_EQ(exception({0x03, {0x00, 0x00, 0x00, 0x00}}), 0x03);  // quantity 0
    EXPECT_EQ(exception(mb::EncodeRequest(mb::WriteSingleCoil(0x05, false)).value()), 0x02);
    EXPECT_EQ(sim.stats().errors, 5);
}

TEST(SimMeterModbus, OtherUnitsAreIgnoredAndBroadcastWritesAreSilent) {
    SimMeter sim = MustMake(ModbusBox(), "9");
    const mb::Pdu trip = mb::EncodeRequest(mb::WriteSingleCoil(0x21, false)).value();
    EXPECT_FALSE(sim.HandleFrame(Rtu(10, trip)).has_value());
    EXPECT_TRUE(sim.circuit(1).relay_closed());
    EXPECT_FALSE(sim.HandleFrame(Rtu(0, trip)).has_value());
    EXPECT_FALSE(sim.circuit(1).relay_closed());
    EXPECT_TRUE(sim.circuit(0).relay_closed());
    Bytes corrupted = Rtu(9, trip);
    corrupted.back() ^= 0x01;
    EXPECT_FALSE(sim.HandleFrame(corrupted).has_value());
}

TEST(SimMeterModbus, MbapRepliesEchoTheTransaction) {
    SimMeter sim = MustMake(ModbusBox(), "9");
    const mb::Request read = mb::ReadRequest(mb::FunctionCode::kReadCoils, 0x20, 2);
    auto request = mb::EncodeTcp({0x1234, 9, mb::EncodeRequest(read).value()});
    ASSERT_TRUE(request.has_value());
    auto reply = sim.HandleFrame(*request);
    ASSERT_TRUE(reply.has_value());
    auto decoded = mb::DecodeTcp(*reply);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->adu.transaction_id, 0x1234);
    EXPECT_EQ(decoded->adu.unit, 9);
    auto response = mb::ParseResponse(read, decoded->adu.pdu);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->bits, (std::vector<bool>{true, true}));
    sim.SetReplyCorruption(true);
    auto broken = sim.HandleFrame(*request);
    ASSERT_TRUE(broken.has_value());
    EXPECT_EQ(mb::DecodeTcp(*broken).error().field, "mbap.protocol_id");
}

// ----------------------------------------------------------------------------- CJ/T 188

Bytes CjtRequest(const cj::Frame& frame) { return cj::EncodeFrame(frame, 2).value(); }

cj::Frame CjtReply(const std::optional<Bytes>& wire) {
    EXPECT_TRUE(wire.has_value());
    auto decoded = cj::DecodeFrame(wire.value_or(Bytes{}));
    EXPECT_TRUE(decoded.has_value()) << decoded.error().ToString();
    return decoded.has_value() ? decoded->frame : cj::Frame{};
}

TEST(SimMeterCjt188, ReadsCurrentDataWithTheMeterClockAndStatus) {
    SimMeter sim = MustMake(Water(), kCjtAddress);
    const cj::Address address = cj::ParseAddress(kCjtAddress).value();
    sim.SetClock({2026, 1, 8, 14, 30, 0});
    ASSERT_TRUE(sim.SetVolumeRegister(1'234'567));  // 1234.567 m3 -> 1234.56
    sim.SetBatteryLow(true);
    cj::Frame reply = CjtReply(sim.HandleFrame(CjtRequest(
        cj::ReadDataRequest(cj::MeterType::kColdWater, address, cj::kDiCurrentData, 7, {}))));
    EXPECT_EQ(reply.ser, 7);
    auto data = cj::DecodeWaterGasData(reply.data, cj::UnitPosition::kAfterValue);
    ASSERT_TRUE(data.has_value()) << data.error().ToString();
    EXPECT_EQ(data->current.value, (Decimal{123456, 2}));
    EXPECT_EQ(data->current.unit, 0x2C);
    EXPECT_EQ(data->clock, (MeterDateTime{2026, 1, 8, 14, 30, 0}));
    EXPECT_TRUE(cj::DecodeStatus(data->st, cj::StatusLayout::kStandard).battery_low);
}

TEST(SimMeterCjt188, AddressTypeAndFunctionChecks) {
    SimMeter sim = MustMake(Water(), kCjtAddress);
    const cj::Address other = cj::ParseAddress("78330011223345").value();
    EXPECT_FALSE(sim.HandleFrame(CjtRequest(cj::ReadDataRequest(cj::MeterType::kColdWater, other,
                                                                cj::kDiCurrentData, 1, {})))
                     .has_value());
    const cj::Address self = cj::ParseAddress(kCjtAddress).value();
    EXPECT_FALSE(sim.HandleFrame(CjtRequest(cj::ReadDataRequest(cj::MeterType::kHeat, self,
                                                                cj::kDiCurrentData, 1, {})))
                     .has_value());
    // Read address to the wildcard.
    cj::Frame address = CjtReply(
        sim.HandleFrame(CjtRequest(cj::ReadAddressRequest(cj::MeterType::kColdWater, 2, {}))));
    EXPECT_EQ(cj::ParseReadAddressReply(address).value(), self);
    // A write to the wildcard is not obeyed.
    EXPECT_FALSE(sim.HandleFrame(CjtRequest(cj::ValveControlRequest(
                                     cj::MeterType::kColdWater, cj::kWildcardAddress,
                                     cj::ValveCommand::kClose, 3, {})))
                     .has_value());
    EXPECT_TRUE(sim.fluid().valve_open);
    // An unknown read is an abnormal reply carrying ST.
    cj::Frame abnormal = CjtReply(sim.HandleFrame(
        CjtRequest(cj::ReadDataRequest(cj::MeterType::kColdWater, self, 0x903F, 4, {}))));
    EXPECT_TRUE(cj::ControlOf(abnormal).abnormal);
}

TEST(SimMeterCjt188, HistoryReadsTheDailyFreezes) {
    SimMeter sim = MustMake(Water(), kCjtAddress);
    const cj::Address self = cj::ParseAddress(kCjtAddress).value();
    ASSERT_TRUE(sim.SetVolumeRegister(10'000));
    sim.Freeze({2026, 2, 1, 0, 0, 0});
    ASSERT_TRUE(sim.AdvanceVolume(5'000).has_value());
    sim.Freeze({2026, 2, 2, 0, 0, 0});
    cj::Frame older = CjtReply(sim.HandleFrame(
        CjtRequest(cj::ReadDataRequest(cj::MeterType::kColdWater, self, 0xD121, 1, {}))));
    EXPECT_EQ(cj::DecodeHistoryData(older.data, cj::UnitPosition::kAfterValue)->value,
              (Decimal{1000, 2}));
    cj::Frame current = CjtReply(sim.HandleFrame(CjtRequest(
        cj::ReadDataRequest(cj::MeterType::kColdWater, self, cj::kDiCurrentData, 1, {}))));
    auto data = cj::DecodeWaterGasData(current.data, cj::UnitPosition::kAfterValue);
    ASSERT_TRUE(data.has_value());
    EXPECT_EQ(data->settlement.value, (Decimal{1500, 2}));
}

// ----------------------------------------------------------------------------- civil time

TEST(SimCivilTime, RoundTripsAcrossLeapDaysAndYears) {
    EXPECT_EQ(ToSeconds({2000, 1, 1, 0, 0, 0}), 0);
    EXPECT_EQ(AddSeconds({2024, 2, 28, 23, 59, 59}, 1), (MeterDateTime{2024, 2, 29, 0, 0, 0}));
    EXPECT_EQ(AddSeconds({2100, 2, 28, 23, 0, 0}, 3600), (MeterDateTime{2100, 3, 1, 0, 0, 0}));
    EXPECT_EQ(AddSeconds({2026, 12, 31, 23, 59, 30}, 45), (MeterDateTime{2027, 1, 1, 0, 0, 15}));
    EXPECT_EQ(AddSeconds({2000, 1, 1, 0, 0, 10}, -20), (MeterDateTime{1999, 12, 31, 23, 59, 50}));
    for (std::int64_t s = -400 * 86400; s < 3 * 366 * 86400; s += 86399)
        EXPECT_EQ(ToSeconds(FromSeconds(s)), s);
}

}  // namespace
}  // namespace joule::sim
