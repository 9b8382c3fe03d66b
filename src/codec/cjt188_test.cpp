#include "codec/cjt188.hpp"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

namespace joule::codec::cjt188 {
namespace {

Bytes Hex(std::string_view text) {
    auto bytes = ParseHex(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or(Bytes{});
}

// Appends CS (sum from the first 68H) and 16H: no test trusts a hand-typed checksum.
Bytes WithCs(Bytes frame) {
    std::size_t start = 0;
    while (start < frame.size() && frame[start] == 0xFE)
        ++start;
    frame.push_back(Sum8(ByteView(frame).subspan(start)));
    frame.push_back(0x16);
    return frame;
}

Address Addr(std::string_view digits) { return ParseAddress(digits).value(); }

Dialect LittleEndianDi() {
    Dialect dialect;
    dialect.di_order = DiOrder::kLittleEndian;
    return dialect;
}

// [VEC] hftangyu, SC water meter 0011223344, manufacturer 7833: read 901F with DI sent 1F 90.
constexpr std::string_view kWaterRead =
    "FE FE FE FE 68 10 44 33 22 11 00 33 78 01 03 1F 90 00 80 16";
// Its reply as printed: CS 08, but the bytes sum to 13H (PROTOCOLS.md §6.9).
constexpr std::string_view kWaterReplyPrinted =
    "FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C "
    "31 01 22 11 05 15 20 21 84 08 16";
constexpr std::string_view kWaterReplyBody =
    "FE FE FE FE 68 10 44 33 22 11 00 33 78 81 16 1F 90 00 00 77 66 55 2C 00 77 66 55 2C "
    "31 01 22 11 05 15 20 21 84";
// [VEC] JY heat meter 0040314132: read with DI sent 90 1F, SER 01; reply L = 2EH, unit first.
constexpr std::string_view kHeatRead =
    "FE FE FE FE 68 20 32 41 31 40 00 00 00 01 03 90 1F 01 20 16";
constexpr std::string_view kHeatReply =
    "FE FE FE FE 68 20 32 41 31 40 00 00 00 81 2E 90 1F 01 08 02 00 00 00 08 02 00 00 00 "
    "17 00 00 00 00 35 00 00 00 00 2C 34 10 00 00 35 25 00 66 25 00 00 00 00 "
    "53 00 12 10 07 15 20 00 00 31 16";
// [VEC] SC water meter 1505900569: valve open / close with DI sent A0 17, and the open reply.
constexpr std::string_view kValveOpen =
    "FE FE FE FE 68 10 69 05 90 05 15 33 78 04 04 A0 17 01 55 50 16";
constexpr std::string_view kValveClose =
    "FE FE FE FE 68 10 69 05 90 05 15 33 78 04 04 A0 17 01 99 94 16";
constexpr std::string_view kValveOpenReply =
    "FE FE FE FE 68 10 69 05 90 05 15 33 78 84 05 A0 17 01 00 00 7C 16";
// [VEC] read-address reply with DI 81 0A and the address only in the header (L = 03).
constexpr std::string_view kReadAddressReply =
    "FE FE FE 68 10 12 00 00 00 00 00 00 83 03 81 0A 00 9B 16";

std::vector<Bytes> VectorFrames() {
    return {Hex(kWaterRead),      WithCs(Hex(kWaterReplyBody)),
            Hex(kHeatRead),       Hex(kHeatReply),
            Hex(kValveOpen),      Hex(kValveClose),
            Hex(kValveOpenReply), Hex(kReadAddressReply)};
}

// ---- Basics ---------------------------------------------------------------------------------

TEST(Cjt188Control, SplitsDirectionAbnormalFollowUpAndFunction) {
    EXPECT_EQ(DecodeControl(0x81), (Control{true, false, false, 0x01}));
    EXPECT_EQ(DecodeControl(0xC4), (Control{true, true, false, 0x04}));
    EXPECT_EQ(DecodeControl(0xA1), (Control{true, false, true, 0x01}));
    EXPECT_EQ(DecodeControl(0x16), (Control{false, false, false, 0x16}));
    for (unsigned c = 0; c < 256; ++c)
        EXPECT_EQ(EncodeControl(DecodeControl(static_cast<std::uint8_t>(c))), c);
}

TEST(Cjt188Address, PrintsHighByteFirstAndAcceptsWildcards) {
    Address address = Addr("78330011223344");
    EXPECT_EQ(address, (Address{0x44, 0x33, 0x22, 0x11, 0x00, 0x33, 0x78}));
    EXPECT_EQ(FormatAddress(address), "78330011223344");
    EXPECT_EQ(*ParseAddress("AAAAAAAAAAAAAA"), kWildcardAddress);
    EXPECT_EQ(FormatAddress(kBroadcastAddress), "99999999999999");
    EXPECT_EQ(ParseAddress("7833001122334").error().field, "address");
    EXPECT_EQ(ParseAddress("7833001122334G").error().code, ErrorCode::kInvalidArgument);
}

TEST(Cjt188MeterType, GroupsTypesIntoFamilies) {
    EXPECT_EQ(FamilyOf(MeterType::kColdWater), MeterFamily::kWater);
    EXPECT_EQ(FamilyOf(MeterType::kReclaimedWater), MeterFamily::kWater);
    EXPECT_EQ(FamilyOf(MeterType::kHeatAndCooling), MeterFamily::kHeat);
    EXPECT_EQ(FamilyOf(MeterType::kGas), MeterFamily::kGas);
    EXPECT_EQ(FamilyOf(MeterType::kElectricity), MeterFamily::kUserDefined);
    EXPECT_EQ(FamilyOf(MeterType::kWildcard), MeterFamily::kUnknown);
}

TEST(Cjt188Di, DetectsBothByteOrdersOfEveryKnownIdentifier) {
    std::vector<std::uint16_t> known{0x901F, 0x903F, 0x904F, 0x905F, 0x906F, 0x907F, 0x810A};
    for (std::uint16_t di = 0xD120; di <= 0xD12B; ++di)
        known.push_back(di);
    for (std::uint16_t di = 0xA010; di <= 0xA019; ++di)
        known.push_back(di);
    for (std::uint16_t di = 0xA101; di <= 0xA107; ++di)
        known.push_back(di);
    for (std::uint16_t di : known) {
        ASSERT_TRUE(IsKnownDi(di)) << std::hex << di;
        auto high = static_cast<std::uint8_t>(di >> 8);
        auto low = static_cast<std::uint8_t>(di & 0xFF);
        for (DiOrder fallback : {DiOrder::kBigEndian, DiOrder::kLittleEndian}) {
            DiDetection big = DetectDi(high, low, fallback);
            EXPECT_EQ(big.di, di);
            EXPECT_EQ(big.order, DiOrder::kBigEndian);
            EXPECT_TRUE(big.known);
            DiDetection little = DetectDi(low, high, fallback);
            EXPECT_EQ(little.di, di);
            EXPECT_EQ(little.order, DiOrder::kLittleEndian);
            EXPECT_TRUE(little.known);
        }
    }
}

TEST(Cjt188Di, UnknownIdentifiersUseTheFallbackOrder) {
    DiDetection big = DetectDi(0x12, 0x34, DiOrder::kBigEndian);
    EXPECT_EQ(big.di, 0x1234);
    EXPECT_FALSE(big.known);
    DiDetection little = DetectDi(0x12, 0x34, DiOrder::kLittleEndian);
    EXPECT_EQ(little.di, 0x3412);
    EXPECT_EQ(little.order, DiOrder::kLittleEndian);
    EXPECT_FALSE(IsKnownDi(0x902F));
    EXPECT_FALSE(IsKnownDi(0x1F90));
}

TEST(Cjt188Di, DialectOverridesOnePerIdentifier) {
    // SC water meter: reads 1F 90, but the valve command goes A0 17.
    Dialect sc = LittleEndianDi();
    sc.di_overrides.push_back({kDiValveControl, DiOrder::kBigEndian});
    EXPECT_EQ(OrderFor(sc, kDiCurrentData), DiOrder::kLittleEndian);
    EXPECT_EQ(OrderFor(sc, kDiValveControl), DiOrder::kBigEndian);
}

// ---- Field vectors --------------------------------------------------------------------------

TEST(Cjt188Vectors, WaterReadRequestDecodesWithLittleEndianDi) {
    auto decoded = DecodeFrame(Hex(kWaterRead));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    const Frame& frame = decoded->frame;
    EXPECT_EQ(frame.meter_type, MeterType::kColdWater);
    EXPECT_EQ(FormatAddress(frame.address), "78330011223344");
    EXPECT_EQ(ControlOf(frame), (Control{false, false, false, 0x01}));
    EXPECT_EQ(frame.di, kDiCurrentData);
    EXPECT_EQ(frame.di_order, DiOrder::kLittleEndian);
    EXPECT_TRUE(decoded->di_known);
    EXPECT_EQ(frame.ser, 0x00);
    EXPECT_TRUE(frame.data.empty());
    EXPECT_EQ(decoded->consumed, 20U);
    // The builder reproduces the capture byte for byte.
    Frame built = ReadDataRequest(MeterType::kColdWater, Addr("78330011223344"), kDiCurrentData,
                                  0x00, LittleEndianDi());
    EXPECT_EQ(built, frame);
    EXPECT_EQ(ToHex(*EncodeFrame(built, 4)), kWaterRead);
}

TEST(Cjt188Vectors, PublishedWaterReplyWithAWrongChecksumIsDataLoss) {
    auto decoded = DecodeFrame(Hex(kWaterReplyPrinted));
    ASSERT_FALSE(decoded.has_value());
    EXPECT_EQ(decoded.error().code, ErrorCode::kDataLoss);
    EXPECT_EQ(decoded.error().field, "cs");
    Bytes corrected = WithCs(Hex(kWaterReplyBody));
    EXPECT_EQ(corrected[corrected.size() - 2], 0x13);  // the true sum, not the printed 08
}

TEST(Cjt188Vectors, CorrectedWaterReplyDecodesToReadingsAndClock) {
    auto decoded = DecodeFrame(WithCs(Hex(kWaterReplyBody)));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    const Frame& frame = decoded->frame;
    EXPECT_EQ(frame.control, 0x81);
    EXPECT_EQ(frame.di, kDiCurrentData);
    EXPECT_EQ(frame.di_order, DiOrder::kLittleEndian);
    ASSERT_EQ(frame.data.size(), 19U);
    auto water = DecodeWaterGasData(frame.data, UnitPosition::kAfterValue);
    ASSERT_TRUE(water.has_value()) << water.error().ToString();
    EXPECT_EQ(water->current, (UnitValue{Decimal{55667700, 2}, 0x2C}));
    EXPECT_EQ(water->settlement, (UnitValue{Decimal{55667700, 2}, 0x2C}));
    ASSERT_TRUE(water->clock.has_value());
    EXPECT_EQ(*water->clock, (MeterDateTime{2015, 5, 11, 22, 1, 31}));
    EXPECT_EQ(water->st, 0x8421);
    EXPECT_EQ(*DescribeUnit(water->current.unit)->symbol.data(), 'm');
    // It answers the request that was sent.
    Frame request = DecodeFrame(Hex(kWaterRead))->frame;
    EXPECT_TRUE(CheckReplyMatches(request, frame).has_value());
}

TEST(Cjt188Vectors, StatusByteReadsDifferentlyUnderEachLayout) {
    // ST 21 84: standard D0-D1 = 01 (closed), D2 = 0; sdqr bits 7-6 = 00 (open), 20H set.
    EXPECT_EQ(DecodeStatus(0x8421, StatusLayout::kStandard),
              (MeterStatus{ValveState::kClosed, false}));
    EXPECT_EQ(DecodeStatus(0x8421, StatusLayout::kSdqr), (MeterStatus{ValveState::kOpen, true}));
}

TEST(Cjt188Vectors, JyHeatReplyDecodesWithTheUnitFirstLayout) {
    Bytes wire = Hex(kHeatReply);
    auto decoded = DecodeFrame(wire);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(wire[4 + 10], 0x2E);  // L = 46
    const Frame& frame = decoded->frame;
    EXPECT_EQ(frame.meter_type, MeterType::kHeat);
    EXPECT_EQ(frame.di, kDiCurrentData);
    EXPECT_EQ(frame.di_order, DiOrder::kBigEndian);
    EXPECT_EQ(frame.ser, 0x01);
    ASSERT_EQ(frame.data.size(), 43U);
    auto heat = DecodeHeatData(frame.data, HeatLayout::kUnitFirst46);
    ASSERT_TRUE(heat.has_value()) << heat.error().ToString();
    EXPECT_EQ(heat->settlement_heat, (UnitValue{Decimal{2, 2}, 0x08}));  // 0.02 MWh
    EXPECT_EQ(heat->current_heat, (UnitValue{Decimal{2, 2}, 0x08}));
    EXPECT_EQ(heat->heat_power, (UnitValue{Decimal{0, 2}, 0x17}));
    EXPECT_EQ(heat->flow_rate, (UnitValue{Decimal{0, 4}, 0x35}));
    EXPECT_EQ(heat->cumulative_flow, (UnitValue{Decimal{1034, 2}, 0x2C}));  // 10.34 m3
    EXPECT_EQ(heat->supply_temperature, (Decimal{2535, 2}));
    EXPECT_EQ(heat->return_temperature, (Decimal{2566, 2}));
    EXPECT_EQ(heat->working_hours, 0);
    EXPECT_EQ(*heat->clock, (MeterDateTime{2015, 7, 10, 12, 0, 53}));
    EXPECT_EQ(heat->st, 0);
    // The simulator reproduces the capture from the decoded values.
    Frame request = DecodeFrame(Hex(kHeatRead))->frame;
    EXPECT_TRUE(CheckReplyMatches(request, frame).has_value());
    Frame rebuilt = MakeReply(request, MeterIdentity{frame.meter_type, frame.address},
                              *EncodeHeatData(*heat, HeatLayout::kUnitFirst46));
    EXPECT_EQ(*EncodeFrame(rebuilt, 4), wire);
}

TEST(Cjt188Vectors, JyHeatReplyIsRejectedByTheWrongLengthLayout) {
    Frame frame = DecodeFrame(Hex(kHeatReply))->frame;
    EXPECT_EQ(DecodeHeatData(frame.data, HeatLayout::kNgGateway43).error().code,
              ErrorCode::kInvalidArgument);
}

TEST(Cjt188Vectors, ValveFramesDecodeAndRebuild) {
    Address sc = Addr("78331505900569");
    Dialect sc_dialect = LittleEndianDi();
    sc_dialect.di_overrides.push_back({kDiValveControl, DiOrder::kBigEndian});

    auto open = DecodeFrame(Hex(kValveOpen));
    ASSERT_TRUE(open.has_value()) << open.error().ToString();
    EXPECT_EQ(open->frame.di, kDiValveControl);
    EXPECT_EQ(open->frame.di_order, DiOrder::kBigEndian);
    EXPECT_EQ(*ParseValveControlRequest(open->frame), ValveCommand::kOpen);
    Frame built_open =
        ValveControlRequest(MeterType::kColdWater, sc, ValveCommand::kOpen, 0x01, sc_dialect);
    EXPECT_EQ(ToHex(*EncodeFrame(built_open, 4)), kValveOpen);

    auto close = DecodeFrame(Hex(kValveClose));
    ASSERT_TRUE(close.has_value()) << close.error().ToString();
    EXPECT_EQ(*ParseValveControlRequest(close->frame), ValveCommand::kClose);
    Frame built_close =
        ValveControlRequest(MeterType::kColdWater, sc, ValveCommand::kClose, 0x01, sc_dialect);
    EXPECT_EQ(ToHex(*EncodeFrame(built_close, 4)), kValveClose);

    auto reply = DecodeFrame(Hex(kValveOpenReply));
    ASSERT_TRUE(reply.has_value()) << reply.error().ToString();
    EXPECT_EQ(reply->frame.control, 0x84);
    EXPECT_TRUE(CheckReplyMatches(open->frame, reply->frame).has_value());
    auto st = ParseWriteReply(reply->frame);
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
    EXPECT_EQ(DecodeStatus(*st, StatusLayout::kStandard).valve, ValveState::kOpen);
    Frame built_reply =
        MakeWriteReply(open->frame, MeterIdentity{MeterType::kColdWater, sc},
                       EncodeStatus({ValveState::kOpen, false}, StatusLayout::kStandard));
    EXPECT_EQ(ToHex(*EncodeFrame(built_reply, 4)), kValveOpenReply);
}

TEST(Cjt188Vectors, ReadAddressReplyWithTheAddressOnlyInTheHeader) {
    auto decoded = DecodeFrame(Hex(kReadAddressReply));
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->consumed, 19U);
    EXPECT_EQ(decoded->frame.di, kDiReadAddress);
    EXPECT_EQ(decoded->frame.di_order, DiOrder::kBigEndian);
    EXPECT_EQ(FormatAddress(*ParseReadAddressReply(decoded->frame)), "00000000000012");
    Frame request = ReadAddressRequest(MeterType::kColdWater, 0x00, Dialect{});
    EXPECT_TRUE(CheckReplyMatches(request, decoded->frame).has_value());
    Dialect header_only;
    header_only.read_address_reply_carries_address = false;
    Frame rebuilt = MakeReadAddressReply(
        request, MeterIdentity{MeterType::kColdWater, Addr("00000000000012")}, header_only);
    EXPECT_EQ(ToHex(*EncodeFrame(rebuilt, 3)), kReadAddressReply);
}

TEST(Cjt188Vectors, ReadAddressAcceptsBothDiOrders) {
    for (std::string_view di : {"81 0A", "0A 81"}) {
        Bytes frame =
            WithCs(Hex(std::string("68 10 AA AA AA AA AA AA AA 03 03 ") + std::string(di) + " 07"));
        auto decoded = DecodeFrame(frame);
        ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
        EXPECT_EQ(decoded->frame.di, kDiReadAddress);
        EXPECT_TRUE(decoded->di_known);
    }
}

TEST(Cjt188Vectors, NgGatewayClockInBothDiOrders) {
    // ng-gateway's unit test clock: 00 30 14 08 01 26 20 = 2026-01-08 14:30:00.
    for (std::string_view di : {"90 1F", "1F 90"}) {
        Bytes frame =
            WithCs(Hex(std::string("FE FE 68 10 01 00 00 00 00 00 00 81 16 ") + std::string(di) +
                       " 05 12 34 00 00 2C 00 30 00 00 2C 00 30 14 08 01 26 20 00 00"));
        auto decoded = DecodeFrame(frame);
        ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
        EXPECT_EQ(decoded->frame.di, kDiCurrentData);
        EXPECT_EQ(decoded->frame.di_order,
                  di == "90 1F" ? DiOrder::kBigEndian : DiOrder::kLittleEndian);
        auto water = DecodeWaterGasData(decoded->frame.data, UnitPosition::kAfterValue);
        ASSERT_TRUE(water.has_value()) << water.error().ToString();
        EXPECT_EQ(water->current.value, (Decimal{3412, 2}));
        EXPECT_EQ(water->settlement.value, (Decimal{3000, 2}));
        EXPECT_EQ(*water->clock, (MeterDateTime{2026, 1, 8, 14, 30, 0}));
        EXPECT_EQ(ToHex(*EncodeClock(*water->clock)), "00 30 14 08 01 26 20");
    }
}

// ---- Frame decoding robustness --------------------------------------------------------------

TEST(Cjt188Frame, EveryTruncationIsOutOfRange) {
    for (const Bytes& frame : VectorFrames()) {
        ASSERT_TRUE(DecodeFrame(frame).has_value()) << ToHex(frame);
        for (std::size_t n = 0; n < frame.size(); ++n) {
            auto cut = DecodeFrame(ByteView(frame).first(n));
            ASSERT_FALSE(cut.has_value()) << ToHex(frame) << " at " << n;
            EXPECT_EQ(cut.error().code, ErrorCode::kOutOfRange) << ToHex(frame) << " at " << n;
        }
    }
}

TEST(Cjt188Frame, EverySingleByteCorruptionIsCaughtOrHarmless) {
    for (const Bytes& frame : VectorFrames()) {
        for (std::size_t i = 0; i < frame.size(); ++i) {
            for (unsigned v = 0; v < 256; ++v) {
                Bytes bad = frame;
                bad[i] = static_cast<std::uint8_t>(v);
                auto decoded = DecodeFrame(bad);
                if (!decoded.has_value() || v == frame[i])
                    continue;
                // Only a changed preamble byte (FE <-> 68 start shift is caught) may still decode.
                EXPECT_LT(i, 4U) << ToHex(bad);
            }
        }
    }
}

TEST(Cjt188Frame, SkipsAnyNumberOfPreambleBytes) {
    Bytes frame = Hex(kHeatRead);
    frame.insert(frame.begin(), 3, 0xFE);  // 7 FE in all
    auto decoded = DecodeFrame(frame);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->consumed, frame.size());
    Bytes bare(frame.begin() + 7, frame.end());
    EXPECT_EQ(DecodeFrame(bare)->frame, decoded->frame);
}

TEST(Cjt188Frame, DecodesTheFirstOfSeveralFrames) {
    Bytes two = Hex(kValveOpen);
    Bytes second = Hex(kValveOpenReply);
    two.insert(two.end(), second.begin(), second.end());
    auto first = DecodeFrame(two);
    ASSERT_TRUE(first.has_value());
    auto next = DecodeFrame(ByteView(two).subspan(first->consumed));
    ASSERT_TRUE(next.has_value());
    EXPECT_EQ(next->frame.control, 0x84);
    EXPECT_EQ(first->consumed + next->consumed, two.size());
}

TEST(Cjt188Frame, RejectsBadStartAndEnd) {
    auto bad_start = DecodeFrame(Hex("FE FE 69 10"));
    EXPECT_EQ(bad_start.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(bad_start.error().field, "start");
    Bytes bad_end = Hex(kWaterRead);
    bad_end.back() = 0x17;
    EXPECT_EQ(DecodeFrame(bad_end).error().field, "end");
    EXPECT_EQ(DecodeFrame(Hex("FE FE")).error().code, ErrorCode::kOutOfRange);
}

TEST(Cjt188Frame, LengthForTheStreamScanner) {
    Bytes frame = Hex(kHeatReply);
    ByteView from_start = ByteView(frame).subspan(4);
    EXPECT_EQ(*FrameLength(from_start), from_start.size());
    EXPECT_EQ(*FrameLength(from_start), 13U + 0x2E);
    EXPECT_EQ(FrameLength(from_start.first(10)).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(FrameLength(frame).error().code, ErrorCode::kInvalidArgument);
}

TEST(Cjt188Frame, ShortFramesCarryNoDi) {
    Bytes frame = WithCs(Hex("68 10 44 33 22 11 00 33 78 C1 01 04"));
    auto decoded = DecodeFrame(frame);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_FALSE(decoded->frame.has_di);
    EXPECT_EQ(decoded->frame.data, (Bytes{0x04}));
    EXPECT_EQ(*ParseAbnormalReply(decoded->frame), 0x04);
    EXPECT_EQ(*EncodeFrame(decoded->frame, 0), frame);
}

TEST(Cjt188Frame, EncoderRejectsOversizeDataAndPreamble) {
    Frame frame =
        ReadDataRequest(MeterType::kColdWater, kWildcardAddress, kDiCurrentData, 0, Dialect{});
    EXPECT_EQ(EncodeFrame(frame, 5).error().field, "preamble");
    frame.data.assign(253, 0);
    EXPECT_EQ(EncodeFrame(frame, 0).error().field, "data");
    frame.data.assign(252, 0);
    EXPECT_TRUE(EncodeFrame(frame, 0).has_value());
}

// ---- Builders round trip --------------------------------------------------------------------

const Address kMeter = {0x44, 0x33, 0x22, 0x11, 0x00, 0x33, 0x78};

void ExpectRoundTrip(const Frame& frame, std::size_t preamble = 2) {
    auto wire = EncodeFrame(frame, preamble);
    ASSERT_TRUE(wire.has_value()) << wire.error().ToString();
    auto decoded = DecodeFrame(*wire, frame.di_order);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->frame, frame) << ToHex(*wire);
    EXPECT_EQ(decoded->consumed, wire->size());
}

TEST(Cjt188Builders, RequestsRoundTripInBothDiOrders) {
    for (DiOrder order : {DiOrder::kBigEndian, DiOrder::kLittleEndian}) {
        Dialect dialect;
        dialect.di_order = order;
        ExpectRoundTrip(ReadDataRequest(MeterType::kColdWater, kMeter, kDiCurrentData, 7, dialect));
        for (std::uint16_t di = kDiHistoryFirst; di <= kDiHistoryLast; ++di)
            ExpectRoundTrip(ReadDataRequest(MeterType::kHeat, kMeter, di, 8, dialect));
        ExpectRoundTrip(ReadAddressRequest(MeterType::kColdWater, 9, dialect));
        ExpectRoundTrip(
            ValveControlRequest(MeterType::kColdWater, kMeter, ValveCommand::kClose, 10, dialect));
        ExpectRoundTrip(
            WriteDataRequest(MeterType::kGas, kMeter, 0xA011, 11, Bytes{0x15}, dialect));
        ExpectRoundTrip(WriteAddressRequest(MeterType::kColdWater, kWildcardAddress,
                                            Addr("78330011223345"), 12, dialect));
        ExpectRoundTrip(
            WriteDataRequest(MeterType::kColdWater, kMeter, 0x1234, 13, Bytes{1, 2, 3}, dialect));
    }
}

TEST(Cjt188Builders, RequestsCarryTheSpecControlCodesAndLengths) {
    Dialect dialect;
    Frame read = ReadDataRequest(MeterType::kColdWater, kMeter, kDiCurrentData, 0, dialect);
    EXPECT_EQ(read.control, 0x01);
    EXPECT_EQ(EncodeFrame(read, 0)->at(10), 0x03);
    Frame address = ReadAddressRequest(MeterType::kColdWater, 0, dialect);
    EXPECT_EQ(address.control, 0x03);
    EXPECT_EQ(address.address, kWildcardAddress);
    Frame valve =
        ValveControlRequest(MeterType::kColdWater, kMeter, ValveCommand::kOpen, 0, dialect);
    EXPECT_EQ(valve.control, 0x04);
    EXPECT_EQ(EncodeFrame(valve, 0)->at(10), 0x04);
    Frame write_address = WriteAddressRequest(MeterType::kColdWater, kMeter, kMeter, 0, dialect);
    EXPECT_EQ(write_address.control, 0x15);
    EXPECT_EQ(write_address.di, kDiWriteAddress);
}

TEST(Cjt188Builders, WaterReplyRoundTripsThroughTheFrame) {
    Dialect dialect = LittleEndianDi();
    Frame request =
        ReadDataRequest(MeterType::kColdWater, kWildcardAddress, kDiCurrentData, 0x42, dialect);
    WaterGasData value{UnitValue{Decimal{12345678, 2}, 0x2C}, UnitValue{Decimal{100, 2}, 0x2C},
                       MeterDateTime{2026, 11, 21, 20, 45, 0},
                       EncodeStatus({ValveState::kClosed, true}, StatusLayout::kStandard)};
    for (UnitPosition position : {UnitPosition::kAfterValue, UnitPosition::kBeforeValue}) {
        auto data = EncodeWaterGasData(value, position);
        ASSERT_TRUE(data.has_value()) << data.error().ToString();
        ASSERT_EQ(data->size(), 19U);
        Frame reply = MakeReply(request, MeterIdentity{MeterType::kColdWater, kMeter}, *data);
        EXPECT_EQ(reply.control, 0x81);
        ExpectRoundTrip(reply);
        auto wire = EncodeFrame(reply, 4);
        EXPECT_EQ(wire->at(4 + 10), 0x16);  // L = 22
        auto decoded = DecodeFrame(*wire);
        EXPECT_TRUE(CheckReplyMatches(request, decoded->frame).has_value());
        EXPECT_EQ(*DecodeWaterGasData(decoded->frame.data, position), value);
    }
}

HeatData SampleHeat() {
    HeatData heat;
    heat.settlement_heat = {Decimal{12345678, 2}, static_cast<std::uint8_t>(Unit::kKilowattHour)};
    heat.current_heat = {Decimal{12349999, 2}, static_cast<std::uint8_t>(Unit::kKilowattHour)};
    heat.heat_power = {Decimal{123456, 2}, static_cast<std::uint8_t>(Unit::kKilowatt)};
    heat.flow_rate = {Decimal{123456, 4}, static_cast<std::uint8_t>(Unit::kCubicMetrePerHour)};
    heat.cumulative_flow = {Decimal{8765432, 2}, static_cast<std::uint8_t>(Unit::kCubicMetre)};
    heat.supply_temperature = Decimal{6543, 2};
    heat.return_temperature = Decimal{4321, 2};
    heat.working_hours = 1234;
    heat.clock = MeterDateTime{2026, 1, 8, 14, 30, 0};
    heat.st = 0x0004;
    return heat;
}

TEST(Cjt188Builders, HeatReplyRoundTripsInEveryLayout) {
    Frame request = ReadDataRequest(MeterType::kHeat, kMeter, kDiCurrentData, 1, Dialect{});
    struct Case {
        HeatLayout layout;
        std::size_t data_bytes;
    };
    for (Case c : {Case{HeatLayout::kStandard46, 43}, Case{HeatLayout::kUnitFirst46, 43},
                   Case{HeatLayout::kNgGateway43, 40}}) {
        HeatData heat = SampleHeat();
        if (c.layout == HeatLayout::kNgGateway43) {
            heat.heat_power.value = Decimal{1234, 2};  // 3 BCD: XXXX.XX
            heat.flow_rate.value = Decimal{123456, 3};
        }
        auto data = EncodeHeatData(heat, c.layout);
        ASSERT_TRUE(data.has_value()) << data.error().ToString();
        EXPECT_EQ(data->size(), c.data_bytes);
        Frame reply = MakeReply(request, MeterIdentity{MeterType::kHeat, kMeter}, *data);
        auto wire = EncodeFrame(reply, 2);
        EXPECT_EQ(wire->at(2 + 10), c.data_bytes + 3);  // L = 2EH or 2BH
        ExpectRoundTrip(reply);
        EXPECT_EQ(*DecodeHeatData(*data, c.layout), heat);
    }
    // The ng-gateway layout cannot carry 100.00 °C in its 2-byte temperature.
    HeatData hot = SampleHeat();
    hot.supply_temperature = Decimal{10000, 2};
    EXPECT_TRUE(EncodeHeatData(hot, HeatLayout::kStandard46).has_value());
    EXPECT_EQ(EncodeHeatData(hot, HeatLayout::kNgGateway43).error().field,
              "901F.supply_temperature");
}

TEST(Cjt188Builders, HistoryReplyRoundTrips) {
    Frame request = ReadDataRequest(MeterType::kColdWater, kMeter, 0xD123, 3, Dialect{});
    UnitValue value{Decimal{4321, 2}, 0x2C};
    auto data = EncodeHistoryData(value, UnitPosition::kAfterValue);
    ASSERT_TRUE(data.has_value());
    EXPECT_EQ(ToHex(*data), "21 43 00 00 2C");
    Frame reply = MakeReply(request, MeterIdentity{MeterType::kColdWater, kMeter}, *data);
    ExpectRoundTrip(reply);
    EXPECT_EQ(*DecodeHistoryData(*data, UnitPosition::kAfterValue), value);
    EXPECT_EQ(*DecodeHistoryData(Hex("2C 21 43 00 00"), UnitPosition::kBeforeValue), value);
}

TEST(Cjt188Builders, AbnormalReplyCarriesOnlySt) {
    Frame request =
        ValveControlRequest(MeterType::kColdWater, kMeter, ValveCommand::kOpen, 5, Dialect{});
    Frame reply = MakeAbnormalReply(request, MeterIdentity{MeterType::kColdWater, kMeter}, 0x0003);
    EXPECT_EQ(reply.control, 0xC4);
    auto wire = EncodeFrame(reply, 0);
    EXPECT_EQ(wire->at(10), 0x02);  // L = 2: ST only
    ExpectRoundTrip(reply);
    EXPECT_TRUE(CheckReplyMatches(request, reply).has_value());
    EXPECT_EQ(*ParseAbnormalReply(reply), 0x0003);
    EXPECT_EQ(DecodeStatus(*ParseAbnormalReply(reply), StatusLayout::kStandard).valve,
              ValveState::kAbnormal);
    EXPECT_EQ(ParseWriteReply(reply).error().field, "control");
    EXPECT_EQ(ParseAbnormalReply(MakeWriteReply(request, {}, 0)).error().field, "control");
}

TEST(Cjt188Builders, WriteReplyAcceptsOneOrTwoStatusBytes) {
    Frame request = WriteDataRequest(MeterType::kColdWater, kMeter, 0xA011, 1, {0x15}, Dialect{});
    Frame reply = MakeWriteReply(request, MeterIdentity{MeterType::kColdWater, kMeter}, 0x1234);
    ExpectRoundTrip(reply);
    EXPECT_EQ(*ParseWriteReply(reply), 0x1234);
    reply.data = {0x01};  // ng-gateway sends ST as one byte
    EXPECT_EQ(*ParseWriteReply(reply), 0x0001);
    reply.data = {};
    EXPECT_EQ(ParseWriteReply(reply).error().code, ErrorCode::kOutOfRange);
    reply.data = {1, 2, 3};
    EXPECT_EQ(ParseWriteReply(reply).error().code, ErrorCode::kInvalidArgument);
}

TEST(Cjt188Builders, ReadAddressReplyCarriesTheAddressInData) {
    Frame request = ReadAddressRequest(MeterType::kColdWater, 2, Dialect{});
    MeterIdentity self{MeterType::kColdWater, kMeter};
    Frame reply = MakeReadAddressReply(request, self, Dialect{});
    EXPECT_EQ(reply.control, 0x83);
    EXPECT_EQ(EncodeFrame(reply, 0)->at(10), 0x0A);
    ExpectRoundTrip(reply);
    EXPECT_EQ(*ParseReadAddressReply(reply), kMeter);
    EXPECT_TRUE(CheckReplyMatches(request, reply).has_value());
}

TEST(Cjt188Builders, ValveRequestParserRejectsOtherCommands) {
    Frame request =
        WriteDataRequest(MeterType::kColdWater, kMeter, kDiValveControl, 1, {0x11}, Dialect{});
    EXPECT_EQ(ParseValveControlRequest(request).error().field, "valve");
    request.data.clear();
    EXPECT_EQ(ParseValveControlRequest(request).error().code, ErrorCode::kOutOfRange);
    request.di = 0xA011;
    EXPECT_EQ(ParseValveControlRequest(request).error().field, "di");
}

// ---- Reply matching -------------------------------------------------------------------------

TEST(Cjt188Match, DetectsRepliesToRequestsNeverSent) {
    Dialect dialect;
    Frame request = ReadDataRequest(MeterType::kColdWater, kMeter, kDiCurrentData, 0x10, dialect);
    MeterIdentity self{MeterType::kColdWater, kMeter};
    Frame good = MakeReply(request, self, {});
    EXPECT_TRUE(CheckReplyMatches(request, good).has_value());

    Frame wrong_ser = good;
    wrong_ser.ser = 0x11;
    EXPECT_EQ(CheckReplyMatches(request, wrong_ser).error().field, "ser");
    Frame wrong_di = good;
    wrong_di.di = 0xD120;
    EXPECT_EQ(CheckReplyMatches(request, wrong_di).error().field, "di");
    Frame wrong_address = good;
    wrong_address.address[0] = 0x45;
    EXPECT_EQ(CheckReplyMatches(request, wrong_address).error().field, "address");
    Frame wrong_function = good;
    wrong_function.control = 0x84;
    EXPECT_EQ(CheckReplyMatches(request, wrong_function).error().field, "function");
    Frame wrong_type = good;
    wrong_type.meter_type = MeterType::kGas;
    EXPECT_EQ(CheckReplyMatches(request, wrong_type).error().field, "meter_type");
    EXPECT_EQ(CheckReplyMatches(request, request).error().field, "direction");
}

TEST(Cjt188Match, WildcardRequestsMatchAnyAddressedReply) {
    Frame request =
        ReadDataRequest(MeterType::kWildcard, Addr("7833AAAAAAAAAA"), kDiCurrentData, 1, Dialect{});
    Frame reply = MakeReply(request, MeterIdentity{MeterType::kHeat, kMeter}, {});
    EXPECT_TRUE(CheckReplyMatches(request, reply).has_value());
    Frame other_maker = reply;
    other_maker.address[6] = 0x79;
    EXPECT_EQ(CheckReplyMatches(request, other_maker).error().field, "address");
    Frame broadcast =
        ReadDataRequest(MeterType::kColdWater, kBroadcastAddress, kDiCurrentData, 1, Dialect{});
    EXPECT_TRUE(
        CheckReplyMatches(broadcast, MakeReply(broadcast, {MeterType::kColdWater, kMeter}, {}))
            .has_value());
}

// ---- Values ---------------------------------------------------------------------------------

TEST(Cjt188Units, DescribesBaseCodesAndTheirTenfoldVariants) {
    struct Case {
        std::uint8_t code;
        std::string_view symbol;
        int exponent;
    };
    for (Case c : {Case{0x01, "J", 0},    Case{0x02, "Wh", 0},  Case{0x05, "kWh", 0},
                   Case{0x06, "kWh", 1},  Case{0x07, "kWh", 2}, Case{0x08, "MWh", 0},
                   Case{0x0A, "MWh", 2},  Case{0x0B, "kJ", 0},  Case{0x0E, "MJ", 0},
                   Case{0x11, "GJ", 0},   Case{0x13, "GJ", 2},  Case{0x14, "W", 0},
                   Case{0x17, "kW", 0},   Case{0x1A, "MW", 0},  Case{0x29, "L", 0},
                   Case{0x2C, "m3", 0},   Case{0x2E, "m3", 2},  Case{0x32, "L/h", 0},
                   Case{0x35, "m3/h", 0}, Case{0x37, "m3/h", 2}}) {
        auto info = DescribeUnit(c.code);
        ASSERT_TRUE(info.has_value()) << int{c.code};
        EXPECT_EQ(info->symbol, c.symbol) << int{c.code};
        EXPECT_EQ(info->exponent, c.exponent) << int{c.code};
    }
    for (unsigned code : {0x00U, 0x1DU, 0x28U, 0x2FU, 0x38U, 0xFFU})
        EXPECT_FALSE(DescribeUnit(static_cast<std::uint8_t>(code)).has_value()) << code;
}

TEST(Cjt188Units, ConvertsToTheBaseUnitExactly) {
    EXPECT_EQ(*ToBaseUnit(Decimal{1234, 2}, 0x07), (Decimal{1234, 0}));  // 12.34 kWh×100
    EXPECT_EQ(*ToBaseUnit(Decimal{5, 0}, 0x2E), (Decimal{500, 0}));      // 5 m3×100
    EXPECT_EQ(*ToBaseUnit(Decimal{1234, 2}, 0x2C), (Decimal{1234, 2}));
    EXPECT_EQ(ToBaseUnit(Decimal{1, 0}, 0x00).error().field, "unit");
}

TEST(Cjt188Status, LayoutsRoundTrip) {
    for (StatusLayout layout : {StatusLayout::kStandard, StatusLayout::kSdqr}) {
        for (ValveState valve : {ValveState::kOpen, ValveState::kClosed, ValveState::kUndefined,
                                 ValveState::kAbnormal}) {
            for (bool battery : {false, true}) {
                MeterStatus status{valve, battery};
                std::uint16_t st = EncodeStatus(status, layout, 0x5A);
                EXPECT_EQ(st >> 8, 0x5A);
                EXPECT_EQ(DecodeStatus(st, layout), status);
            }
        }
    }
    EXPECT_EQ(EncodeStatus({ValveState::kClosed, true}, StatusLayout::kStandard), 0x0005);
    EXPECT_EQ(EncodeStatus({ValveState::kClosed, true}, StatusLayout::kSdqr), 0x0060);
    EXPECT_EQ(EncodeStatus({ValveState::kAbnormal, false}, StatusLayout::kSdqr), 0x00C0);
}

TEST(Cjt188Clock, RejectsImpossibleDatesAndNonBcd) {
    EXPECT_EQ(*DecodeClock(Hex("31 01 22 11 05 15 20")),
              (std::optional<MeterDateTime>{MeterDateTime{2015, 5, 11, 22, 1, 31}}));
    EXPECT_FALSE(DecodeClock(Hex("00 00 00 00 00 00 00"))->has_value());
    EXPECT_EQ(DecodeClock(Hex("00 00 00 30 02 24 20")).error().field, "clock");  // 30 February
    EXPECT_EQ(DecodeClock(Hex("00 00 00 01 13 24 20")).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(DecodeClock(Hex("00 00 00 01 1A 24 20")).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(DecodeClock(Hex("00 00 00 01 01 24")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(*EncodeClock(std::nullopt), Bytes(7, 0));
    EXPECT_EQ(EncodeClock(MeterDateTime{2024, 2, 30, 0, 0, 0}).error().field, "clock");
}

TEST(Cjt188Data, ShortDataIsOutOfRangeAndTrailingBytesAreInvalid) {
    Bytes water = WithCs(Hex(kWaterReplyBody));
    Frame frame = DecodeFrame(water)->frame;
    for (std::size_t n = 0; n < frame.data.size(); ++n) {
        auto cut = DecodeWaterGasData(ByteView(frame.data).first(n), UnitPosition::kAfterValue);
        ASSERT_FALSE(cut.has_value());
        EXPECT_EQ(cut.error().code, ErrorCode::kOutOfRange) << n;
    }
    Bytes longer = frame.data;
    longer.push_back(0);
    EXPECT_EQ(DecodeWaterGasData(longer, UnitPosition::kAfterValue).error().field, "901F");

    Frame heat = DecodeFrame(Hex(kHeatReply))->frame;
    for (std::size_t n = 0; n < heat.data.size(); ++n) {
        auto cut = DecodeHeatData(ByteView(heat.data).first(n), HeatLayout::kUnitFirst46);
        ASSERT_FALSE(cut.has_value());
        EXPECT_EQ(cut.error().code, ErrorCode::kOutOfRange) << n;
    }
    EXPECT_EQ(DecodeHistoryData(Hex("21 43 00"), UnitPosition::kAfterValue).error().code,
              ErrorCode::kOutOfRange);
}

TEST(Cjt188Data, NamesTheFieldWithBadDigits) {
    Bytes data = DecodeFrame(WithCs(Hex(kWaterReplyBody)))->frame.data;
    data[1] = 0x7A;  // current cumulative flow
    EXPECT_EQ(DecodeWaterGasData(data, UnitPosition::kAfterValue).error().field, "901F.current");
    data[1] = 0x77;
    data[14] = 0x13;  // clock month 13
    EXPECT_EQ(DecodeWaterGasData(data, UnitPosition::kAfterValue).error().field, "901F.clock");
}

TEST(Cjt188Data, EncoderRejectsValuesBcdCannotCarry) {
    WaterGasData value;
    value.current = {Decimal{-1, 2}, 0x2C};
    EXPECT_EQ(EncodeWaterGasData(value, UnitPosition::kAfterValue).error().field, "901F.current");
    value.current = {Decimal{1000000, 0}, 0x2C};  // 1,000,000.00 needs 9 digits
    EXPECT_EQ(EncodeWaterGasData(value, UnitPosition::kAfterValue).error().code,
              ErrorCode::kInvalidArgument);
    value.current = {Decimal{12345, 3}, 0x2C};  // 12.345 rounds half away to 12.35
    auto data = EncodeWaterGasData(value, UnitPosition::kAfterValue);
    ASSERT_TRUE(data.has_value());
    EXPECT_EQ(DecodeWaterGasData(*data, UnitPosition::kAfterValue)->current.value,
              (Decimal{1235, 2}));
}

}  // namespace
}  // namespace joule::codec::cjt188
