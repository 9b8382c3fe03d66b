// The meter driver (codec/meter_driver.hpp) against the simulated meter: every shipped model file
// is read through ReadPlan in both Modbus framings and the reading must equal what the meter
// holds; commands must change the meter and be acknowledged; replies that answer something else,
// come from someone else or arrive corrupted must be rejected.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "codec/cjt188.hpp"
#include "codec/meter_driver.hpp"
#include "sim/sim_meter.hpp"
#include "wire/model_json.hpp"

namespace joule::sim {
namespace {

using codec::DeviceCommand;
using codec::DeviceCommandKind;
using codec::DeviceModel;
using codec::DeviceReading;
using codec::ModbusFraming;
using codec::Point;
using codec::ReadPlan;

constexpr ModbusFraming kFramings[] = {ModbusFraming::kRtu, ModbusFraming::kMbap};

DeviceModel LoadModel(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = wire::MeterModelFromJson(wire::Json::parse(text.str()), path.filename());
    EXPECT_TRUE(parsed.has_value()) << path << ": " << parsed.error().ToString();
    if (!parsed || !parsed->device)
        return DeviceModel{};
    return *parsed->device;
}

DeviceModel Model(std::string_view code) {
    return LoadModel(std::filesystem::path(JOULE_MODELS_DIR) / (std::string(code) + ".json"));
}

std::vector<std::filesystem::path> ModelFiles() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(JOULE_MODELS_DIR)) {
        if (entry.path().extension() == ".json")
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string AddressFor(const DeviceModel& model) {
    switch (model.protocol) {
        case codec::Protocol::kDlt645_2007:
        case codec::Protocol::kDlt645_1997:
            return "123456789012";
        case codec::Protocol::kCjt188:
            return "78330011223344";
        case codec::Protocol::kModbusRtu:
            return "7";
    }
    return "";
}

std::string OtherAddressFor(const DeviceModel& model) {
    switch (model.protocol) {
        case codec::Protocol::kDlt645_2007:
        case codec::Protocol::kDlt645_1997:
            return "123456789013";
        case codec::Protocol::kCjt188:
            return "78330011223345";
        case codec::Protocol::kModbusRtu:
            return "8";
    }
    return "";
}

// Numeric equality of two decimals at any places: 12.34 == 12.340.
::testing::AssertionResult SameValue(std::optional<Decimal> got, std::optional<Decimal> want) {
    if (!got || !want) {
        return ::testing::AssertionFailure()
               << "got " << (got ? codec::FormatDecimal(*got) : "nothing") << ", want "
               << (want ? codec::FormatDecimal(*want) : "nothing");
    }
    const int places = std::max(got->decimals, want->decimals);
    std::int64_t a = 0;
    std::int64_t b = 0;
    if (codec::Rescale(*got, places, &a) && codec::Rescale(*want, places, &b) && a == b)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "got " << codec::FormatDecimal(*got) << ", want " << codec::FormatDecimal(*want);
}

// Values every wire format of the shipped models carries exactly (energy in 10 Wh steps, volume
// in 10 L, 1997 voltage in whole volts), distinct per circuit so a stride error shows.
void LoadKnownValues(SimMeter& sim) {
    sim.SetClock({2026, 11, 21, 20, 45, 30});
    for (int c = 0; c < sim.circuits(); ++c) {
        const std::int64_t forward = 12'345'670 + c * 1'111'110;
        ASSERT_TRUE(sim.SetEnergyRegisters(
            c, forward, {1'000'000, 2'000'000, 3'000'000, forward - 6'000'000}, 12'340 + c * 10));
        ASSERT_TRUE(sim.SetInstantaneous(c, Decimal{2300 + 10 * c, 1}, Decimal{512 + 25 * c, 2},
                                         Decimal{1178 + c, 3}));
        ASSERT_TRUE(sim.SetPowerFactor(c, Decimal{950, 3}));
        ASSERT_TRUE(sim.SetFrequency(c, Decimal{5000, 2}));
    }
    if (sim.model().in_meter_prepaid) {
        ASSERT_TRUE(sim.SetBalance(8'588));
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(sim.TopUp(100));
    }
    ASSERT_TRUE(sim.SetVolumeRegister(123'450));
    ASSERT_TRUE(sim.SetHeatRegister(4'567'890));
    sim.SetHeatInstantaneous(Decimal{1234, 2}, Decimal{5678, 4}, Decimal{6543, 2},
                             Decimal{4321, 2});
}

SimMeter MustMake(const DeviceModel& model, std::string_view address, SimOptions options = {}) {
    auto sim = SimMeter::Make(model, address, options);
    EXPECT_TRUE(sim.has_value()) << sim.error().ToString();
    return std::move(sim).value();
}

// Sends every request of `plan` to `sim` and folds the replies.
Result<DeviceReading> ReadAll(const ReadPlan& plan, SimMeter& sim, std::uint16_t sequence = 40) {
    DeviceReading reading;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        const auto seq = static_cast<std::uint16_t>(sequence + i);
        JOULE_ASSIGN_OR_RETURN(codec::Exchange exchange, plan.Request(i, seq));
        std::optional<Bytes> reply = sim.HandleFrame(exchange.request);
        if (!reply)
            return MakeError(ErrorCode::kUnavailable, "no reply to request " + std::to_string(i));
        JOULE_TRY(plan.Apply(i, seq, *reply, reading));
    }
    return reading;
}

Result<DeviceReading> Read(const DeviceModel& model, SimMeter& sim, ModbusFraming framing,
                           bool frozen = false) {
    JOULE_ASSIGN_OR_RETURN(ReadPlan plan,
                           ReadPlan::Make(model, sim.bus_address(), framing, frozen));
    return ReadAll(plan, sim);
}

// Sends one command and checks the meter's answer.
Status Command(const DeviceModel& model, SimMeter& sim, ModbusFraming framing,
               DeviceCommandKind kind, int circuit = 0, std::optional<Decimal> value = {}) {
    DeviceCommand command{kind, circuit, sim.MeterClock(), value};
    JOULE_ASSIGN_OR_RETURN(codec::Exchange exchange,
                           codec::EncodeCommand(model, sim.bus_address(), framing, command, 77));
    std::optional<Bytes> reply = sim.HandleFrame(exchange.request);
    if (!exchange.expects_reply) {
        if (reply)
            return MakeError(ErrorCode::kInternal, "a broadcast was answered");
        return {};
    }
    if (!reply)
        return MakeError(ErrorCode::kUnavailable, "no reply");
    return codec::CheckCommandReply(model, exchange, *reply);
}

// ----------------------------------------------------------------------------- every model

TEST(MeterDriverAgainstSim, EveryModelReadsWhatTheMeterHolds) {
    int models = 0;
    for (const auto& path : ModelFiles()) {
        SCOPED_TRACE(path.filename().string());
        const DeviceModel model = LoadModel(path);
        SimMeter sim = MustMake(model, AddressFor(model));
        LoadKnownValues(sim);
        for (ModbusFraming framing : kFramings) {
            SCOPED_TRACE(framing == ModbusFraming::kRtu ? "rtu" : "mbap");
            auto reading = Read(model, sim, framing);
            ASSERT_TRUE(reading.has_value()) << reading.error().ToString();
            ASSERT_EQ(reading->circuits.size(), static_cast<std::size_t>(model.circuits));
            for (const codec::PointSpec& p : model.points) {
                SCOPED_TRACE(std::string(codec::PointName(p.point)));
                if (p.point == Point::kMeterDate || p.point == Point::kMeterTime) {
                    // The clock is not a value: it comes back as the reading's meter time.
                    ASSERT_TRUE(reading->meter_clock.has_value());
                    EXPECT_EQ(*reading->meter_clock, sim.MeterClock());
                    continue;
                }
                for (int c = 0; c < model.circuits; ++c) {
                    const int holder = p.per_circuit ? c : 0;
                    EXPECT_TRUE(SameValue(reading->Find(c, p.point), sim.Value(holder, p.point)))
                        << "circuit " << c;
                }
            }
            if (model.protocol == codec::Protocol::kCjt188) {
                for (Point p : {Point::kVolumeTotal, Point::kValveState, Point::kBatteryLow})
                    EXPECT_TRUE(SameValue(reading->Find(0, p), sim.Value(0, p)))
                        << codec::PointName(p);
                EXPECT_EQ(reading->meter_clock, sim.MeterClock());
            }
        }
        ++models;
    }
    EXPECT_GE(models, 9);
}

TEST(MeterDriverAgainstSim, EveryModelRejectsRepliesFromAnotherMeter) {
    for (const auto& path : ModelFiles()) {
        SCOPED_TRACE(path.filename().string());
        const DeviceModel model = LoadModel(path);
        SimMeter other = MustMake(model, OtherAddressFor(model));
        for (ModbusFraming framing : kFramings) {
            auto plan = ReadPlan::Make(model, AddressFor(model), framing);
            ASSERT_TRUE(plan.has_value());
            auto other_plan = ReadPlan::Make(model, OtherAddressFor(model), framing);
            ASSERT_TRUE(other_plan.has_value());
            // The other meter answers its own request; that reply must not fold into ours.
            auto exchange = other_plan->Request(0, 5);
            ASSERT_TRUE(exchange.has_value());
            auto reply = other.HandleFrame(exchange->request);
            ASSERT_TRUE(reply.has_value());
            DeviceReading reading;
            auto applied = plan->Apply(0, 5, *reply, reading);
            ASSERT_FALSE(applied.has_value());
            EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument)
                << applied.error().ToString();
            EXPECT_TRUE(reading.circuits.empty());  // unchanged on error
        }
    }
}

TEST(MeterDriverAgainstSim, EveryModelRejectsCorruptedReplies) {
    for (const auto& path : ModelFiles()) {
        SCOPED_TRACE(path.filename().string());
        const DeviceModel model = LoadModel(path);
        SimMeter sim = MustMake(model, AddressFor(model));
        sim.SetReplyCorruption(true);
        for (ModbusFraming framing : kFramings) {
            auto reading = Read(model, sim, framing);
            ASSERT_FALSE(reading.has_value());
            // Checksums catch it; MBAP has none, so the sim breaks its protocol id instead.
            const bool mbap =
                model.protocol == codec::Protocol::kModbusRtu && framing == ModbusFraming::kMbap;
            EXPECT_EQ(reading.error().code,
                      mbap ? ErrorCode::kInvalidArgument : ErrorCode::kDataLoss)
                << reading.error().ToString();
        }
    }
}

TEST(MeterDriverAgainstSim, EveryModelGetsNoReplyFromASilentMeter) {
    for (const auto& path : ModelFiles()) {
        SCOPED_TRACE(path.filename().string());
        const DeviceModel model = LoadModel(path);
        SimMeter sim = MustMake(model, AddressFor(model));
        sim.SetSilent(true);
        auto reading = Read(model, sim, ModbusFraming::kRtu);
        ASSERT_FALSE(reading.has_value());
        EXPECT_EQ(reading.error().code, ErrorCode::kUnavailable);
        sim.SetSilent(false);
        EXPECT_TRUE(Read(model, sim, ModbusFraming::kRtu).has_value());
    }
}

// ----------------------------------------------------------------------------- wrong replies

TEST(MeterDriverAgainstSim, Dlt645ReplyToAnotherRequestIsRejected) {
    const DeviceModel model = Model("dlt645-2007-3p-tou");
    SimMeter sim = MustMake(model, AddressFor(model));
    auto plan = ReadPlan::Make(model, sim.bus_address(), ModbusFraming::kRtu);
    ASSERT_TRUE(plan.has_value());
    ASSERT_GE(plan->size(), 2U);
    auto second = plan->Request(1, 1);
    ASSERT_TRUE(second.has_value());
    auto reply = sim.HandleFrame(second->request);
    ASSERT_TRUE(reply.has_value());
    DeviceReading reading;
    auto applied = plan->Apply(0, 1, *reply, reading);
    ASSERT_FALSE(applied.has_value());
    EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(applied.error().field, "di");
}

TEST(MeterDriverAgainstSim, ModbusReplyToAnotherRequestOrTransactionIsRejected) {
    const DeviceModel model = Model("dorm-3-circuit");  // one coil read, one register read
    SimMeter sim = MustMake(model, "7");
    for (ModbusFraming framing : kFramings) {
        auto plan = ReadPlan::Make(model, "7", framing);
        ASSERT_TRUE(plan.has_value());
        ASSERT_EQ(plan->size(), 2U);
        auto coils = plan->Request(0, 9);
        ASSERT_TRUE(coils.has_value());
        auto reply = sim.HandleFrame(coils->request);
        ASSERT_TRUE(reply.has_value());
        DeviceReading reading;
        auto wrong_step = plan->Apply(1, 9, *reply, reading);
        ASSERT_FALSE(wrong_step.has_value());
        EXPECT_EQ(wrong_step.error().code, ErrorCode::kInvalidArgument);
        if (framing == ModbusFraming::kMbap) {
            auto wrong_tid = plan->Apply(0, 10, *reply, reading);
            ASSERT_FALSE(wrong_tid.has_value());
            EXPECT_EQ(wrong_tid.error().code, ErrorCode::kInvalidArgument);
        }
        EXPECT_TRUE(plan->Apply(0, 9, *reply, reading).has_value());
    }
}

TEST(MeterDriverAgainstSim, Cjt188ReplyWithAnotherSerIsRejected) {
    const DeviceModel model = Model("cjt188-cold-water-valve");
    SimMeter sim = MustMake(model, AddressFor(model));
    auto plan = ReadPlan::Make(model, sim.bus_address(), ModbusFraming::kRtu);
    ASSERT_TRUE(plan.has_value());
    auto exchange = plan->Request(0, 3);
    ASSERT_TRUE(exchange.has_value());
    auto reply = sim.HandleFrame(exchange->request);
    ASSERT_TRUE(reply.has_value());
    DeviceReading reading;
    auto applied = plan->Apply(0, 4, *reply, reading);
    ASSERT_FALSE(applied.has_value());
    EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(applied.error().field, "ser");
}

TEST(MeterDriverAgainstSim, Dlt645NoDataErrorIsAFailedPrecondition) {
    DeviceModel model = Model("dlt645-2007-3p-tou");
    model.points.push_back({Point::kEnergyTotal, true, 0x00010001, 0, {}, 0, {}});  // settlement
    SimMeter sim = MustMake(model, AddressFor(model));
    auto reading = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_FALSE(reading.has_value());
    EXPECT_EQ(reading.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(reading.error().message.find("no requested data"), std::string::npos)
        << reading.error().message;
}

// ----------------------------------------------------------------------------- relays

TEST(MeterDriverAgainstSim, RelayCommandsSwitchEveryRelayModel) {
    for (std::string_view code : {"dlt645-2007-1p-prepaid", "box-12-circuit", "dorm-3-circuit"}) {
        SCOPED_TRACE(std::string(code));
        const DeviceModel model = Model(code);
        for (ModbusFraming framing : kFramings) {
            SimMeter sim = MustMake(model, AddressFor(model));
            LoadKnownValues(sim);  // the prepaid meter needs money to close
            const int target = model.circuits - 1;
            auto before = Read(model, sim, framing);
            ASSERT_TRUE(before.has_value()) << before.error().ToString();
            EXPECT_EQ(codec::RelayClosed(*before, target), true);

            ASSERT_TRUE(Command(model, sim, framing, DeviceCommandKind::kTrip, target));
            EXPECT_FALSE(sim.circuit(target).relay_closed());
            auto tripped = Read(model, sim, framing);
            ASSERT_TRUE(tripped.has_value()) << tripped.error().ToString();
            for (int c = 0; c < model.circuits; ++c)
                EXPECT_EQ(codec::RelayClosed(*tripped, c), c != target) << "circuit " << c;
            auto metered = sim.Advance(target, 1000);
            ASSERT_TRUE(metered.has_value());
            EXPECT_EQ(*metered, 0);  // a cut-off circuit does not meter

            ASSERT_TRUE(Command(model, sim, framing, DeviceCommandKind::kClose, target));
            EXPECT_TRUE(sim.circuit(target).relay_closed());
            auto closed = Read(model, sim, framing);
            ASSERT_TRUE(closed.has_value());
            EXPECT_EQ(codec::RelayClosed(*closed, target), true);
        }
    }
}

TEST(MeterDriverAgainstSim, ModbusRelayCommandToAnotherUnitGetsNoReply) {
    const DeviceModel model = Model("box-12-circuit");
    SimMeter sim = MustMake(model, "7");
    DeviceCommand command{DeviceCommandKind::kTrip, 0, sim.MeterClock(), std::nullopt};
    auto exchange = codec::EncodeCommand(model, "8", ModbusFraming::kRtu, command, 1);
    ASSERT_TRUE(exchange.has_value());
    EXPECT_FALSE(sim.HandleFrame(exchange->request).has_value());
    EXPECT_TRUE(sim.circuit(0).relay_closed());
}

TEST(MeterDriverAgainstSim, Dlt645CommandPastItsDeadlineIsRefused) {
    const DeviceModel model = Model("dlt645-2007-1p-prepaid");
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    // The server thinks it is 20:45:30; the meter's clock runs 2 hours ahead, past the 600 s
    // validity the model gives the command.
    DeviceCommand command{DeviceCommandKind::kTrip, 0, sim.MeterClock(), std::nullopt};
    sim.SetClockDrift(7200);
    auto exchange = codec::EncodeCommand(model, sim.bus_address(), ModbusFraming::kRtu, command, 1);
    ASSERT_TRUE(exchange.has_value());
    auto reply = sim.HandleFrame(exchange->request);
    ASSERT_TRUE(reply.has_value());
    auto checked = codec::CheckCommandReply(model, *exchange, *reply);
    ASSERT_FALSE(checked.has_value());
    EXPECT_EQ(checked.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_TRUE(sim.circuit(0).relay_closed());
}

TEST(MeterDriverAgainstSim, Dlt645HoldPowerShowsInTheStatusWordAndBlocksTrips) {
    const DeviceModel model = Model("dlt645-2007-1p-prepaid");
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kHoldPower));
    auto held = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(held.has_value());
    EXPECT_EQ(codec::HoldPower(*held, 0), true);
    auto trip = Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kTrip);
    ASSERT_FALSE(trip.has_value());
    EXPECT_EQ(trip.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_TRUE(sim.circuit(0).relay_closed());
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kReleaseHold));
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kTrip));
    auto tripped = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(tripped.has_value());
    EXPECT_EQ(codec::HoldPower(*tripped, 0), false);
    EXPECT_EQ(codec::RelayClosed(*tripped, 0), false);
}

TEST(MeterDriverAgainstSim, Dlt645CloseAllowedWaitsForTheButton) {
    DeviceModel model = Model("dlt645-2007-1p-prepaid");
    model.close_command = codec::dlt645::RemoteCommand::kCloseAllowed;
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kTrip));
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kClose));
    auto waiting = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(waiting.has_value());
    EXPECT_EQ(codec::RelayClosed(*waiting, 0), false);
    const auto status = codec::dlt645::DecodeRunStatus3(
        static_cast<std::uint16_t>(waiting->Find(0, Point::kRunStatus3)->mantissa));
    EXPECT_FALSE(status.relay_command_trip);  // the command is "close"; the user has not pressed
    ASSERT_TRUE(sim.PressButton(0));
    auto closed = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(codec::RelayClosed(*closed, 0), true);
}

// ----------------------------------------------------------------------------- water, valve

TEST(MeterDriverAgainstSim, ValveCommandsOpenAndCloseTheWaterMeter) {
    const DeviceModel model = Model("cjt188-cold-water-valve");
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kValveClose));
    EXPECT_FALSE(sim.fluid().valve_open);
    auto closed = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(closed.has_value());
    EXPECT_TRUE(SameValue(closed->Find(0, Point::kValveState), Decimal{1, 0}));
    auto metered = sim.AdvanceVolume(500);
    ASSERT_TRUE(metered.has_value());
    EXPECT_EQ(*metered, 0);

    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kValveOpen));
    ASSERT_TRUE(sim.AdvanceVolume(500).has_value());
    auto open = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(open.has_value());
    EXPECT_TRUE(SameValue(open->Find(0, Point::kValveState), Decimal{0, 0}));
    EXPECT_TRUE(SameValue(open->Find(0, Point::kVolumeTotal), Decimal{12395, 2}));  // 123.95 m3
}

TEST(MeterDriverAgainstSim, StuckValveIsReportedAndRefusesCommands) {
    const DeviceModel model = Model("cjt188-cold-water-valve");
    SimMeter sim = MustMake(model, AddressFor(model));
    sim.SetValveStuck(true);
    sim.SetBatteryLow(true);
    auto close = Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kValveClose);
    ASSERT_FALSE(close.has_value());
    EXPECT_EQ(close.error().code, ErrorCode::kFailedPrecondition);
    auto reading = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(reading.has_value());
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kValveState), Decimal{3, 0}));  // abnormal
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kBatteryLow), Decimal{1, 0}));
}

TEST(MeterDriverAgainstSim, HeatMeterReadsHeatVolumeAndTemperatures) {
    const DeviceModel model = Model("cjt188-heat");
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    ASSERT_TRUE(sim.AdvanceHeat(10'000).has_value());
    auto reading = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(reading.has_value()) << reading.error().ToString();
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kHeatTotal), Decimal{457789, 2}));
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kVolumeTotal), Decimal{12345, 2}));
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kFlowRate), Decimal{5678, 4}));
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kSupplyTemperature), Decimal{6543, 2}));
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kReturnTemperature), Decimal{4321, 2}));
}

TEST(MeterDriverAgainstSim, Cjt188UnitsOtherThanM3AndKwhAreConverted) {
    // Field meters also send litres and MWh (PROTOCOLS.md §3.3); the reading's unit stays m3 and
    // kWh whatever the meter sent.
    const DeviceModel water = Model("cjt188-cold-water-valve");
    SimMeter litres = MustMake(water, AddressFor(water), SimOptions{0, 0x29, 0x05});
    ASSERT_TRUE(litres.SetVolumeRegister(123'450));
    auto w = Read(water, litres, ModbusFraming::kRtu);
    ASSERT_TRUE(w.has_value()) << w.error().ToString();
    EXPECT_TRUE(SameValue(w->Find(0, Point::kVolumeTotal), Decimal{123450, 3}));

    const DeviceModel heat = Model("cjt188-heat");
    SimMeter mwh = MustMake(heat, AddressFor(heat), SimOptions{0, 0x2C, 0x08});
    ASSERT_TRUE(mwh.SetHeatRegister(45'670'000));  // 45.67 MWh
    auto h = Read(heat, mwh, ModbusFraming::kRtu);
    ASSERT_TRUE(h.has_value()) << h.error().ToString();
    EXPECT_TRUE(SameValue(h->Find(0, Point::kHeatTotal), Decimal{45670, 0}));
}

TEST(MeterDriverAgainstSim, Cjt188HeatInGigajoulesIsRefusedNotMislabelled) {
    // 1 GJ = 277.77... kWh has no exact decimal: the driver must refuse it, not call it kWh.
    const DeviceModel model = Model("cjt188-heat");
    auto plan = ReadPlan::Make(model, AddressFor(model), ModbusFraming::kRtu);
    ASSERT_TRUE(plan.has_value());
    auto exchange = plan->Request(0, 6);
    ASSERT_TRUE(exchange.has_value());
    auto request = codec::cjt188::DecodeFrame(exchange->request);
    ASSERT_TRUE(request.has_value());
    codec::cjt188::HeatData data;
    data.settlement_heat = {Decimal{100, 2}, 0x11};  // GJ
    data.current_heat = {Decimal{200, 2}, 0x11};
    data.heat_power = {Decimal{0, 2}, 0x17};
    data.flow_rate = {Decimal{0, 4}, 0x35};
    data.cumulative_flow = {Decimal{0, 2}, 0x2C};
    auto bytes = codec::cjt188::EncodeHeatData(data, model.dialect.heat_layout);
    ASSERT_TRUE(bytes.has_value());
    const codec::cjt188::MeterIdentity self{model.meter_type, request->frame.address};
    auto reply = codec::cjt188::EncodeFrame(
        codec::cjt188::MakeReply(request->frame, self, std::move(*bytes)), 0);
    ASSERT_TRUE(reply.has_value());
    DeviceReading reading;
    auto applied = plan->Apply(0, 6, *reply, reading);
    ASSERT_FALSE(applied.has_value());
    EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(applied.error().field, "unit");
}

// ----------------------------------------------------------------------------- frozen, 1997

TEST(MeterDriverAgainstSim, DailyFrozenReadsReturnTheFrozenValueNotTheCurrentOne) {
    for (std::string_view code : {"dlt645-2007-1p-prepaid", "dlt645-2007-3p-tou"}) {
        SCOPED_TRACE(std::string(code));
        const DeviceModel model = Model(code);
        SimMeter sim = MustMake(model, AddressFor(model));
        LoadKnownValues(sim);
        sim.Freeze({2026, 11, 21, 0, 0, 0});
        ASSERT_TRUE(sim.Advance(0, 5'000, 2).has_value());
        auto frozen = Read(model, sim, ModbusFraming::kRtu, /*frozen=*/true);
        ASSERT_TRUE(frozen.has_value()) << frozen.error().ToString();
        EXPECT_TRUE(SameValue(frozen->Find(0, Point::kDailyFrozenEnergy), Decimal{1234567, 2}));
        auto current = Read(model, sim, ModbusFraming::kRtu);
        ASSERT_TRUE(current.has_value());
        EXPECT_TRUE(SameValue(current->Find(0, Point::kEnergyTotal), Decimal{1235067, 2}));
    }
}

TEST(MeterDriverAgainstSim, DailyFrozenReadWithoutAFreezeIsANoDataError) {
    const DeviceModel model = Model("dlt645-2007-3p-tou");
    SimMeter sim = MustMake(model, AddressFor(model));
    auto frozen = Read(model, sim, ModbusFraming::kRtu, /*frozen=*/true);
    ASSERT_FALSE(frozen.has_value());
    EXPECT_EQ(frozen.error().code, ErrorCode::kFailedPrecondition);
}

// ----------------------------------------------------------------------------- backfill [DEV-7]

// Reads every request of a freeze plan; stops at the first failed one as a caller would.
std::vector<std::optional<codec::FrozenRecord>> ReadFreezes(const codec::FreezeReadPlan& plan,
                                                            SimMeter& sim, Status* last = nullptr) {
    std::vector<std::optional<codec::FrozenRecord>> out;
    for (std::size_t i = 0; i < plan.size(); ++i) {
        auto exchange = plan.Request(i);
        EXPECT_TRUE(exchange.has_value());
        std::optional<Bytes> reply = sim.HandleFrame(exchange->request);
        EXPECT_TRUE(reply.has_value());
        Status applied = plan.Apply(i, *reply, out);
        if (!applied) {
            if (last != nullptr)
                *last = applied;
            break;
        }
    }
    return out;
}

TEST(FreezeReadPlan, ReadsEachDailyFreezeWithItsFreezeTimeNewestFirst) {
    const DeviceModel model = Model("dlt645-2007-3p-tou");
    SimMeter sim = MustMake(model, AddressFor(model));
    ASSERT_TRUE(sim.SetEnergyRegisters(0, 1'000'000, {100'000, 200'000, 300'000, 400'000}));
    sim.Freeze({2026, 3, 1, 0, 0, 0});
    ASSERT_TRUE(sim.Advance(0, 5'000, 1).has_value());  // peak
    sim.Freeze({2026, 3, 2, 0, 0, 30});                 // seconds are not kept
    ASSERT_TRUE(sim.Advance(0, 7'000, 3).has_value());  // valley, after the last freeze
    auto plan = codec::FreezeReadPlan::Make(model, sim.bus_address(), 2);
    ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
    ASSERT_EQ(plan->size(), 4U);
    const auto records = ReadFreezes(*plan, sim);
    ASSERT_EQ(records.size(), 2U);
    ASSERT_TRUE(records[0] && records[1]);
    EXPECT_EQ(records[0]->at, (codec::MeterDateTime{2026, 3, 2, 0, 0, 0}));
    EXPECT_TRUE(SameValue(records[0]->total, Decimal{100500, 2}));
    ASSERT_TRUE(records[0]->per_rate.has_value());
    EXPECT_TRUE(SameValue((*records[0]->per_rate)[1], Decimal{20500, 2}));
    EXPECT_TRUE(SameValue((*records[0]->per_rate)[3], Decimal{40000, 2}));
    EXPECT_EQ(records[1]->at, (codec::MeterDateTime{2026, 3, 1, 0, 0, 0}));
    EXPECT_TRUE(SameValue(records[1]->total, Decimal{100000, 2}));
}

TEST(FreezeReadPlan, AMeterWithFewerFreezesAnswersAnErrorForTheMissingOnes) {
    const DeviceModel model = Model("dlt645-2007-1p-prepaid");
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    sim.Freeze({2026, 11, 21, 0, 0, 0});
    auto plan = codec::FreezeReadPlan::Make(model, sim.bus_address(), 3);
    ASSERT_TRUE(plan.has_value()) << plan.error().ToString();
    Status last;
    const auto records = ReadFreezes(*plan, sim, &last);
    ASSERT_FALSE(last.has_value());
    EXPECT_EQ(last.error().code, ErrorCode::kFailedPrecondition);
    ASSERT_GE(records.size(), 1U);
    ASSERT_TRUE(records[0].has_value());
    EXPECT_EQ(records[0]->at, (codec::MeterDateTime{2026, 11, 21, 0, 0, 0}));
    EXPECT_TRUE(SameValue(records[0]->total, Decimal{1234567, 2}));
}

TEST(FreezeReadPlan, KeepsOnlySevenFreezesLikeTheMeter) {
    const DeviceModel model = Model("dlt645-2007-3p-tou");
    SimMeter sim = MustMake(model, AddressFor(model));
    for (int day = 1; day <= 9; ++day) {
        ASSERT_TRUE(sim.Advance(0, 1'000, 2).has_value());
        sim.Freeze({2026, 4, day, 0, 0, 0});
    }
    auto plan = codec::FreezeReadPlan::Make(model, sim.bus_address(), 9);
    ASSERT_TRUE(plan.has_value());
    Status last;
    const auto records = ReadFreezes(*plan, sim, &last);
    EXPECT_FALSE(last.has_value());
    ASSERT_TRUE(records[6].has_value());
    EXPECT_EQ(records[6]->at, (codec::MeterDateTime{2026, 4, 3, 0, 0, 0}));
    EXPECT_TRUE(SameValue(records[6]->total, Decimal{300, 2}));
    EXPECT_FALSE(records[7].has_value());
}

TEST(FreezeReadPlan, ModelsWithoutADailyFreezeAreRefused) {
    for (std::string_view code : {"dlt645-1997-1p", "eastron-sdm630", "cjt188-cold-water-valve"}) {
        SCOPED_TRACE(std::string(code));
        const DeviceModel model = Model(code);
        EXPECT_FALSE(codec::FreezeReadPlan::Supports(model));
        auto plan = codec::FreezeReadPlan::Make(model, AddressFor(model), 1);
        ASSERT_FALSE(plan.has_value());
        EXPECT_EQ(plan.error().code, ErrorCode::kFailedPrecondition);
        EXPECT_EQ(plan.error().field, "frozen_points");
    }
    const DeviceModel tou = Model("dlt645-2007-3p-tou");
    EXPECT_TRUE(codec::FreezeReadPlan::Supports(tou));
    auto zero = codec::FreezeReadPlan::Make(tou, AddressFor(tou), 0);
    ASSERT_FALSE(zero.has_value());
    EXPECT_EQ(zero.error().field, "count");
}

TEST(FreezeReadPlan, AReplyFromAnotherMeterIsRejected) {
    const DeviceModel model = Model("dlt645-2007-3p-tou");
    SimMeter other = MustMake(model, OtherAddressFor(model));
    other.Freeze({2026, 3, 1, 0, 0, 0});
    auto mine = codec::FreezeReadPlan::Make(model, AddressFor(model), 1);
    auto theirs = codec::FreezeReadPlan::Make(model, OtherAddressFor(model), 1);
    ASSERT_TRUE(mine && theirs);
    auto reply = other.HandleFrame(theirs->Request(0)->request);
    ASSERT_TRUE(reply.has_value());
    std::vector<std::optional<codec::FrozenRecord>> out;
    auto applied = mine->Apply(0, *reply, out);
    ASSERT_FALSE(applied.has_value());
    EXPECT_EQ(applied.error().code, ErrorCode::kInvalidArgument);
}

TEST(MeterDriverAgainstSim, Dlt645_1997ModelReadsEnergyAndWholeVolts) {
    const DeviceModel model = Model("dlt645-1997-1p");
    SimMeter sim = MustMake(model, AddressFor(model));
    ASSERT_TRUE(sim.SetEnergyRegisters(0, 98'765'439));  // 98765.439 kWh: shows 98765.43
    ASSERT_TRUE(sim.SetInstantaneous(0, Decimal{2316, 1}, Decimal{0, 0}, Decimal{0, 0}));
    auto reading = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(reading.has_value()) << reading.error().ToString();
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kEnergyTotal), Decimal{9876543, 2}));
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kVoltage), Decimal{232, 0}));  // 231.6 V
    // A 1997 meter has no remote control.
    auto trip = codec::EncodeCommand(model, sim.bus_address(), ModbusFraming::kRtu,
                                     DeviceCommand{DeviceCommandKind::kTrip, 0, {}, {}}, 1);
    EXPECT_FALSE(trip.has_value());
}

TEST(MeterDriverAgainstSim, Dlt645_1997ReadSentAs11HIsAnswered) {
    DeviceModel model = Model("dlt645-1997-1p");
    model.dlt645_options.read_1997_code = codec::dlt645::Read1997Code::k11;
    SimMeter sim = MustMake(model, AddressFor(model));
    ASSERT_TRUE(sim.SetEnergyRegisters(0, 1'000));
    auto reading = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(reading.has_value()) << reading.error().ToString();
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kEnergyTotal), Decimal{100, 2}));
}

// ----------------------------------------------------------------------------- clock, faults

TEST(MeterDriverAgainstSim, Dlt645ClockReadAndBroadcastTimeSync) {
    DeviceModel model = Model("dlt645-2007-1p-prepaid");
    model.points.push_back({Point::kEnergyTotal, true, 0x04000101, 0, {}, 0, {}});
    model.points.push_back({Point::kEnergyTotal, true, 0x04000102, 0, {}, 0, {}});
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    sim.SetClockDrift(-95);  // 95 s slow
    auto slow = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(slow.has_value()) << slow.error().ToString();
    EXPECT_EQ(slow->meter_clock, (MeterDateTime{2026, 11, 21, 20, 43, 55}));

    DeviceCommand sync{DeviceCommandKind::kTimeSync, 0, {2026, 11, 21, 20, 45, 31}, {}};
    auto exchange = codec::EncodeCommand(model, sim.bus_address(), ModbusFraming::kRtu, sync, 1);
    ASSERT_TRUE(exchange.has_value());
    EXPECT_FALSE(exchange->expects_reply);
    EXPECT_FALSE(sim.HandleFrame(exchange->request).has_value());
    auto synced = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(synced.has_value());
    EXPECT_EQ(synced->meter_clock, (MeterDateTime{2026, 11, 21, 20, 45, 31}));
}

TEST(MeterDriverAgainstSim, ReverseFlowAndVoltageLossShowInTheReading) {
    const DeviceModel model = Model("dlt645-2007-3p-tou");
    SimMeter sim = MustMake(model, AddressFor(model));
    LoadKnownValues(sim);
    ASSERT_TRUE(sim.SetReverseFlow(0, true));
    ASSERT_TRUE(sim.Advance(0, 1'000, 1).has_value());
    auto reversed = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(reversed.has_value()) << reversed.error().ToString();
    EXPECT_TRUE(SameValue(reversed->Find(0, Point::kEnergyReverse), Decimal{1334, 2}));
    EXPECT_TRUE(SameValue(reversed->Find(0, Point::kEnergyTotal), Decimal{1234567, 2}));
    EXPECT_TRUE(SameValue(reversed->Find(0, Point::kCurrent), Decimal{-5120, 3}));
    EXPECT_TRUE(SameValue(reversed->Find(0, Point::kPower), Decimal{-11780, 4}));

    ASSERT_TRUE(sim.SetReverseFlow(0, false));
    ASSERT_TRUE(sim.SetVoltageLoss(0, true));
    auto metered = sim.Advance(0, 1'000);
    ASSERT_TRUE(metered.has_value());
    EXPECT_EQ(*metered, 0);
    auto lost = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(lost.has_value());
    EXPECT_TRUE(SameValue(lost->Find(0, Point::kVoltage), Decimal{0, 0}));
    EXPECT_TRUE(SameValue(lost->Find(0, Point::kCurrent), Decimal{0, 0}));
}

TEST(MeterDriverAgainstSim, RegisterRolloverAndResetReadThrough) {
    const DeviceModel model = Model("box-12-circuit");
    SimMeter sim = MustMake(model, "7");
    // u32 × 0.01 kWh: the register holds 2^32 steps of 10 Wh.
    EXPECT_EQ(sim.register_modulus(), 42'949'672'960);
    ASSERT_TRUE(sim.SetEnergyRegisters(3, sim.register_modulus() - 20));
    auto high = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(high.has_value());
    EXPECT_TRUE(SameValue(high->Find(3, Point::kEnergyTotal), Decimal{4294967294, 2}));
    ASSERT_TRUE(sim.Advance(3, 50).has_value());
    auto wrapped = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(wrapped.has_value());
    EXPECT_TRUE(SameValue(wrapped->Find(3, Point::kEnergyTotal), Decimal{3, 2}));
    sim.ResetRegisters();
    auto reset = Read(model, sim, ModbusFraming::kMbap);
    ASSERT_TRUE(reset.has_value());
    EXPECT_TRUE(SameValue(reset->Find(3, Point::kEnergyTotal), Decimal{0, 0}));
}

// ----------------------------------------------------------------------------- in-meter money

TEST(MeterDriverAgainstSim, InMeterPrepaidChargesAtTheWrittenPriceAndTripsAtZero) {
    const DeviceModel model = Model("dlt645-2007-1p-prepaid");
    SimMeter sim = MustMake(model, AddressFor(model));
    ASSERT_TRUE(sim.TopUp(1'000));  // 10.00 yuan
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kSetPrice, 0,
                        Decimal{5000, 4}));  // 0.5000 yuan/kWh
    ASSERT_TRUE(Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kSetAlarmAmount1, 0,
                        Decimal{500, 2}));
    EXPECT_EQ(sim.prepaid().price_e4, 5000);
    EXPECT_EQ(sim.prepaid().alarm_1_fen, 500);

    ASSERT_TRUE(sim.Advance(0, 12'345).has_value());  // 6.1725 yuan -> 6.17
    auto reading = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(reading.has_value());
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kBalance), Decimal{383, 2}));
    EXPECT_TRUE(SameValue(reading->Find(0, Point::kPurchaseCount), Decimal{1, 0}));
    const auto status = codec::dlt645::DecodeRunStatus3(
        static_cast<std::uint16_t>(reading->Find(0, Point::kRunStatus3)->mantissa));
    EXPECT_TRUE(status.pre_trip_alarm);  // 3.83 < 5.00
    EXPECT_EQ(status.meter_type, codec::dlt645::PrepaidType::kMoney);
    EXPECT_EQ(codec::RelayClosed(*reading, 0), true);

    ASSERT_TRUE(sim.Advance(0, 8'000).has_value());  // 4.00 yuan more: 0.17 overdrawn
    auto empty = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(SameValue(empty->Find(0, Point::kBalance), Decimal{0, 0}));
    EXPECT_EQ(codec::RelayClosed(*empty, 0), false);  // 本地费控: the meter tripped itself
    auto close = Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kClose);
    ASSERT_FALSE(close.has_value());  // no money, no close
    EXPECT_EQ(close.error().code, ErrorCode::kFailedPrecondition);

    ASSERT_TRUE(sim.TopUp(2'000));
    auto topped = Read(model, sim, ModbusFraming::kRtu);
    ASSERT_TRUE(topped.has_value());
    EXPECT_TRUE(SameValue(topped->Find(0, Point::kBalance), Decimal{1983, 2}));
    EXPECT_TRUE(SameValue(topped->Find(0, Point::kPurchaseCount), Decimal{2, 0}));
    EXPECT_EQ(codec::RelayClosed(*topped, 0), true);
}

TEST(MeterDriverAgainstSim, SettingsWithAWrongPasswordAreRefused) {
    DeviceModel model = Model("dlt645-2007-1p-prepaid");
    SimMeter sim = MustMake(model, AddressFor(model));
    model.password.code = 0x123456;  // the driver's idea of the password differs from the meter's
    auto set =
        Command(model, sim, ModbusFraming::kRtu, DeviceCommandKind::kSetPrice, 0, Decimal{5000, 4});
    ASSERT_FALSE(set.has_value());
    EXPECT_EQ(set.error().code, ErrorCode::kFailedPrecondition);
    EXPECT_NE(set.error().message.find("password"), std::string::npos) << set.error().message;
    EXPECT_EQ(sim.prepaid().price_e4, kDefaultPriceE4);
}

// ------------------------------------------------------------------ purchases [ACCT-1]

// One purchase over the bus: kUnavailable when the reply is lost, the meter's refusal as
// CheckCommandReply reports it.
Status Purchase(const DeviceModel& model, SimMeter& sim, std::int64_t fen, std::int64_t count) {
    DeviceCommand command{DeviceCommandKind::kPurchase, 0, sim.MeterClock(), Decimal{fen, 2}};
    command.count = count;
    JOULE_ASSIGN_OR_RETURN(
        codec::Exchange exchange,
        codec::EncodeCommand(model, sim.bus_address(), ModbusFraming::kRtu, command, 9));
    std::optional<Bytes> reply = sim.HandleFrame(exchange.request);
    if (!reply)
        return MakeError(ErrorCode::kUnavailable, "no reply");
    return codec::CheckCommandReply(model, exchange, *reply);
}

Result<std::int64_t> ReadPurchaseCount(const DeviceModel& model, SimMeter& sim) {
    JOULE_ASSIGN_OR_RETURN(codec::Exchange exchange,
                           codec::EncodePurchaseCountRead(model, sim.bus_address(), 3));
    std::optional<Bytes> reply = sim.HandleFrame(exchange.request);
    if (!reply)
        return MakeError(ErrorCode::kUnavailable, "no reply");
    return codec::DecodePurchaseCount(model, exchange, *reply);
}

DeviceModel PrepaidWater() {
    DeviceModel model = Model("cjt188-cold-water-valve");
    model.in_meter_prepaid = true;
    return model;
}

TEST(MeterDriverAgainstSim, APurchaseIsAppliedOnlyAtTheMetersCountPlusOne) {
    for (const DeviceModel& model : {Model("dlt645-2007-1p-prepaid"), PrepaidWater()}) {
        SCOPED_TRACE(model.code);
        SimMeter sim = MustMake(model, AddressFor(model));
        ASSERT_EQ(ReadPurchaseCount(model, sim).value(), 0);
        ASSERT_TRUE(Purchase(model, sim, 5000, 1)) << "count 0 + 1";
        EXPECT_EQ(sim.prepaid().balance_fen, 5000);
        EXPECT_EQ(sim.prepaid().purchase_count, 1);
        EXPECT_EQ(ReadPurchaseCount(model, sim).value(), 1);
        // The same purchase again (a replay): the error reply, and no credit.
        auto replay = Purchase(model, sim, 5000, 1);
        ASSERT_FALSE(replay.has_value());
        EXPECT_EQ(replay.error().code, ErrorCode::kFailedPrecondition);
        EXPECT_EQ(sim.prepaid().balance_fen, 5000);
        EXPECT_EQ(sim.stats().purchases_replayed, 1);
        // A count ahead of the meter (one purchase missing) is refused too.
        auto ahead = Purchase(model, sim, 700, 3);
        ASSERT_FALSE(ahead.has_value());
        EXPECT_EQ(ahead.error().code, ErrorCode::kFailedPrecondition);
        EXPECT_EQ(sim.stats().purchases_refused, 1);
        ASSERT_TRUE(Purchase(model, sim, 700, 2));
        EXPECT_EQ(sim.prepaid().balance_fen, 5700);
        EXPECT_EQ(sim.prepaid().cumulative_purchase_fen, 5700);
        EXPECT_EQ(sim.stats().purchases_applied, 2);
    }
}

TEST(MeterDriverAgainstSim, ALostPurchaseReplyStillCreditedOnceAndTheCountShowsIt) {
    for (const DeviceModel& model : {Model("dlt645-2007-1p-prepaid"), PrepaidWater()}) {
        SCOPED_TRACE(model.code);
        SimMeter sim = MustMake(model, AddressFor(model));
        sim.SetDropWriteReplies(1);
        auto lost = Purchase(model, sim, 1234, 1);
        ASSERT_FALSE(lost.has_value());
        EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
        EXPECT_EQ(sim.prepaid().balance_fen, 1234);  // applied all the same
        EXPECT_EQ(sim.stats().replies_dropped, 1);
        // The master reads the count before retrying: it already is 1, so it resends nothing.
        EXPECT_EQ(ReadPurchaseCount(model, sim).value(), 1);
        // A blind resend would not credit again either.
        EXPECT_FALSE(Purchase(model, sim, 1234, 1).has_value());
        EXPECT_EQ(sim.prepaid().balance_fen, 1234);
    }
}

TEST(MeterDriverAgainstSim, PurchaseCountsWrapAtTheWireWidth) {
    const DeviceModel model = Model("dlt645-2007-1p-prepaid");
    SimMeter sim = MustMake(model, AddressFor(model));
    for (int i = 0; i < 9999; ++i)
        ASSERT_TRUE(sim.TopUp(1));
    EXPECT_EQ(ReadPurchaseCount(model, sim).value(), 9999);
    ASSERT_TRUE(Purchase(model, sim, 100, 10000));  // goes out as 0000
    EXPECT_EQ(ReadPurchaseCount(model, sim).value(), 0);
    EXPECT_EQ(sim.prepaid().purchase_count, 10000);
}

}  // namespace
}  // namespace joule::sim
