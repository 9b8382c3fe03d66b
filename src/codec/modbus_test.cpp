#include "codec/modbus.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace joule::codec::modbus {
namespace {

Bytes Hex(std::string_view text) {
    auto bytes = ParseHex(text);
    EXPECT_TRUE(bytes.has_value()) << text;
    return bytes.value_or(Bytes{});
}

// Appends the CRC computed here (low byte first), so no test trusts a hand-typed checksum.
Bytes WithCrc(Bytes frame) {
    std::uint16_t crc = Crc16(frame);
    frame.push_back(static_cast<std::uint8_t>(crc & 0xFF));
    frame.push_back(static_cast<std::uint8_t>(crc >> 8));
    return frame;
}

// ---- CRC ------------------------------------------------------------------------------------

TEST(Crc16, MatchesTheCatalogueCheckValue) {
    std::string_view check = "123456789";
    Bytes bytes(check.begin(), check.end());
    EXPECT_EQ(Crc16(bytes), 0x4B37);
}

TEST(Crc16, ReadHoldingRequestGoesOnTheWireLowByteFirst) {
    EXPECT_EQ(Crc16(Hex("01 03 00 00 00 0A")), 0xCDC5);
    auto wire = EncodeRtu(
        RtuAdu{1, *EncodeRequest(ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 10))});
    ASSERT_TRUE(wire.has_value());
    EXPECT_EQ(ToHex(*wire), "01 03 00 00 00 0A C5 CD");
}

TEST(Crc16, ExceptionVectorFromTheFieldVerifies) {
    // [VEC] 03 83 04 E1 33: the CRC bytes E1 33 are 0x33E1 low byte first.
    EXPECT_EQ(Crc16(Hex("03 83 04")), 0x33E1);
}

TEST(Crc16, EmptyInputIsTheInitialValue) { EXPECT_EQ(Crc16(ByteView{}), 0xFFFF); }

// ---- Frame lengths for the stream scanner ---------------------------------------------------

TEST(RtuResponseLength, SizesReadsWritesAndExceptions) {
    EXPECT_EQ(*RtuResponseLength(Hex("01 03 04")), 9U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 01 01")), 6U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 04 FA")), 255U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 05")), 8U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 06")), 8U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 0F")), 8U);
    EXPECT_EQ(*RtuResponseLength(Hex("01 10")), 8U);
    EXPECT_EQ(*RtuResponseLength(Hex("03 83")), 5U);
    EXPECT_EQ(*RtuResponseLength(Hex("F7 90")), 5U);
}

TEST(RtuResponseLength, AsksForMoreBytesUntilItCanTell) {
    EXPECT_EQ(RtuResponseLength(Hex("")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuResponseLength(Hex("01")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuResponseLength(Hex("01 03")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuResponseLength(Hex("01 03")).error().field, "byte_count");
}

TEST(RtuResponseLength, RejectsBytesThatCannotStartAResponse) {
    EXPECT_EQ(RtuResponseLength(Hex("00 03 02")).error().field, "unit");
    EXPECT_EQ(RtuResponseLength(Hex("F8 03 02")).error().field, "unit");
    EXPECT_EQ(RtuResponseLength(Hex("01 2B")).error().field, "function");
    EXPECT_EQ(RtuResponseLength(Hex("01 AB")).error().field, "function");
    EXPECT_EQ(RtuResponseLength(Hex("01 03 03")).error().field, "byte_count");
    EXPECT_EQ(RtuResponseLength(Hex("01 03 00")).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(RtuResponseLength(Hex("01 01 FB")).error().code, ErrorCode::kInvalidArgument);
}

TEST(RtuRequestLength, SizesFixedAndVariableRequests) {
    for (std::uint8_t fn = 1; fn <= 6; ++fn)
        EXPECT_EQ(*RtuRequestLength(Bytes{1, fn}), 8U) << int{fn};
    EXPECT_EQ(*RtuRequestLength(Hex("00 06")), 8U);  // broadcast write
    EXPECT_EQ(*RtuRequestLength(Hex("01 10 00 00 00 02 04")), 13U);
    EXPECT_EQ(*RtuRequestLength(Hex("01 0F 00 13 00 0A 02")), 11U);
}

TEST(RtuRequestLength, AsksForMoreOrRejects) {
    EXPECT_EQ(RtuRequestLength(Hex("01")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuRequestLength(Hex("01 10 00 00 00 02")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(RtuRequestLength(Hex("01 10 00 00 00 02 03")).error().field, "byte_count");
    EXPECT_EQ(RtuRequestLength(Hex("01 0F 00 00 00 02 F7")).error().field, "byte_count");
    EXPECT_EQ(RtuRequestLength(Hex("F8 03")).error().field, "unit");
    EXPECT_EQ(RtuRequestLength(Hex("01 07")).error().field, "function");
}

TEST(TcpAduLength, ReadsTheMbapLength) {
    EXPECT_EQ(*TcpAduLength(Hex("00 01 00 00 00 06")), 12U);
    EXPECT_EQ(TcpAduLength(Hex("00 01 00 00 00")).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(TcpAduLength(Hex("00 01 00 01 00 06")).error().field, "mbap.protocol_id");
    EXPECT_EQ(TcpAduLength(Hex("00 01 00 00 00 01")).error().field, "mbap.length");
    EXPECT_EQ(TcpAduLength(Hex("00 01 00 00 00 FF")).error().field, "mbap.length");
    EXPECT_EQ(*TcpAduLength(Hex("00 01 00 00 00 FE")), 260U);
}

// ---- RTU ADU --------------------------------------------------------------------------------

TEST(Rtu, DecodesTheFieldExceptionFrame) {
    Bytes frame = WithCrc(Hex("03 83 04"));
    EXPECT_EQ(ToHex(frame), "03 83 04 E1 33");
    auto decoded = DecodeRtu(frame, Direction::kResponse);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->consumed, 5U);
    EXPECT_EQ(decoded->adu.unit, 3);
    EXPECT_EQ(decoded->adu.pdu.function, 0x83);
    auto response =
        ParseResponse(ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 2), decoded->adu.pdu);
    ASSERT_TRUE(response.has_value()) << response.error().ToString();
    EXPECT_TRUE(response->exception);
    EXPECT_EQ(response->exception_code, 0x04);
    EXPECT_EQ(ExceptionName(response->exception_code), "server device failure");
}

TEST(Rtu, RejectsACorruptCrcAsDataLoss) {
    Bytes frame = Hex("03 83 04 E1 34");
    auto decoded = DecodeRtu(frame, Direction::kResponse);
    ASSERT_FALSE(decoded.has_value());
    EXPECT_EQ(decoded.error().code, ErrorCode::kDataLoss);
    EXPECT_EQ(decoded.error().field, "crc");
    // The byte labels some manuals print ("E133" as hi/lo) swapped on the wire also fail.
    EXPECT_EQ(DecodeRtu(Hex("03 83 04 33 E1"), Direction::kResponse).error().code,
              ErrorCode::kDataLoss);
}

TEST(Rtu, DecodesOnlyTheFirstAduAndReportsBytesConsumed) {
    Bytes two = WithCrc(Hex("01 03 04 00 0A 00 0B"));
    Bytes second = WithCrc(Hex("02 06 00 01 00 03"));
    two.insert(two.end(), second.begin(), second.end());
    auto first = DecodeRtu(two, Direction::kResponse);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->consumed, 9U);
    auto next = DecodeRtu(ByteView(two).subspan(first->consumed), Direction::kResponse);
    ASSERT_TRUE(next.has_value()) << next.error().ToString();
    EXPECT_EQ(next->adu.unit, 2);
    EXPECT_EQ(next->consumed, 8U);
}

TEST(Rtu, EncoderRejectsBadUnitsAndPdus) {
    EXPECT_EQ(EncodeRtu(RtuAdu{248, Pdu{3, {0, 0, 0, 1}}}).error().field, "unit");
    EXPECT_EQ(EncodeRtu(RtuAdu{1, Pdu{0, {}}}).error().field, "function");
    EXPECT_EQ(EncodeRtu(RtuAdu{1, Pdu{3, Bytes(253, 0)}}).error().field, "pdu");
    EXPECT_TRUE(EncodeRtu(RtuAdu{0, Pdu{6, {0, 1, 0, 1}}}).has_value());  // broadcast
}

std::vector<Bytes> SampleRtuResponses() {
    return {
        WithCrc(Hex("03 83 04")),
        WithCrc(Hex("01 03 14 00 01 00 02 00 03 00 04 00 05 00 06 00 07 00 08 00 09 00 0A")),
        WithCrc(Hex("11 01 02 CD 01")),
        WithCrc(Hex("11 05 00 AC FF 00")),
        WithCrc(Hex("11 10 00 01 00 02")),
    };
}

std::vector<Bytes> SampleRtuRequests() {
    return {
        Hex("01 03 00 00 00 0A C5 CD"),
        WithCrc(Hex("11 0F 00 13 00 0A 02 CD 01")),
        WithCrc(Hex("11 10 00 01 00 02 04 00 0A 01 02")),
        WithCrc(Hex("00 05 00 00 FF 00")),
    };
}

TEST(Rtu, EveryTruncationIsOutOfRangeNeverACrash) {
    for (const Bytes& frame : SampleRtuResponses()) {
        ASSERT_TRUE(DecodeRtu(frame, Direction::kResponse).has_value()) << ToHex(frame);
        for (std::size_t n = 0; n < frame.size(); ++n) {
            auto cut = DecodeRtu(ByteView(frame).first(n), Direction::kResponse);
            ASSERT_FALSE(cut.has_value());
            EXPECT_EQ(cut.error().code, ErrorCode::kOutOfRange) << ToHex(frame) << " at " << n;
        }
    }
    for (const Bytes& frame : SampleRtuRequests()) {
        ASSERT_TRUE(DecodeRtu(frame, Direction::kRequest).has_value()) << ToHex(frame);
        for (std::size_t n = 0; n < frame.size(); ++n) {
            auto cut = DecodeRtu(ByteView(frame).first(n), Direction::kRequest);
            ASSERT_FALSE(cut.has_value());
            EXPECT_EQ(cut.error().code, ErrorCode::kOutOfRange) << ToHex(frame) << " at " << n;
        }
    }
}

TEST(Rtu, SurvivesEverySingleByteCorruption) {
    for (const Bytes& frame : SampleRtuResponses()) {
        for (std::size_t i = 0; i < frame.size(); ++i) {
            for (unsigned v = 0; v < 256; ++v) {
                Bytes bad = frame;
                bad[i] = static_cast<std::uint8_t>(v);
                auto decoded = DecodeRtu(bad, Direction::kResponse);
                if (v != frame[i]) {
                    // A single flipped byte is always caught: as a length change or by the CRC.
                    EXPECT_FALSE(decoded.has_value() && decoded->consumed == frame.size())
                        << ToHex(bad);
                }
            }
        }
    }
}

// ---- TCP ADU --------------------------------------------------------------------------------

TEST(Tcp, EncodesTheMbapHeader) {
    TcpAdu adu{0x0001, 0x01,
               *EncodeRequest(ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 10))};
    auto wire = EncodeTcp(adu);
    ASSERT_TRUE(wire.has_value());
    EXPECT_EQ(ToHex(*wire), "00 01 00 00 00 06 01 03 00 00 00 0A");
    auto decoded = DecodeTcp(*wire);
    ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
    EXPECT_EQ(decoded->adu, adu);
    EXPECT_EQ(decoded->consumed, 12U);
}

TEST(Tcp, DecodesSeveralAdusFromOneBuffer) {
    Bytes buffer = Hex("00 07 00 00 00 07 01 03 04 00 0A 00 0B  00 08 00 00 00 03 01 83 02");
    auto first = DecodeTcp(buffer);
    ASSERT_TRUE(first.has_value()) << first.error().ToString();
    EXPECT_EQ(first->adu.transaction_id, 7);
    EXPECT_EQ(first->consumed, 13U);
    auto second = DecodeTcp(ByteView(buffer).subspan(first->consumed));
    ASSERT_TRUE(second.has_value()) << second.error().ToString();
    EXPECT_EQ(second->adu.transaction_id, 8);
    EXPECT_EQ(second->adu.pdu, (Pdu{0x83, {0x02}}));
    EXPECT_EQ(first->consumed + second->consumed, buffer.size());
}

TEST(Tcp, RejectsNonZeroProtocolAndBadLength) {
    EXPECT_EQ(DecodeTcp(Hex("00 01 00 01 00 06 01 03 00 00 00 0A")).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(DecodeTcp(Hex("00 01 00 00 01 00")).error().field, "mbap.length");
    EXPECT_EQ(DecodeTcp(Hex("00 01 00 00 00 01 01")).error().field, "mbap.length");
    EXPECT_EQ(EncodeTcp(TcpAdu{1, 1, Pdu{3, Bytes(253, 0)}}).error().field, "pdu");
}

TEST(Tcp, EveryTruncationIsOutOfRange) {
    Bytes frame = Hex("00 01 00 00 00 06 01 03 00 00 00 0A");
    for (std::size_t n = 0; n < frame.size(); ++n) {
        auto cut = DecodeTcp(ByteView(frame).first(n));
        ASSERT_FALSE(cut.has_value());
        EXPECT_EQ(cut.error().code, ErrorCode::kOutOfRange) << n;
    }
}

TEST(Tcp, AcceptsTheLargestPdu) {
    TcpAdu adu{0xFFFF, 0xFF, Pdu{0x03, Bytes(252, 0xAB)}};
    auto wire = EncodeTcp(adu);
    ASSERT_TRUE(wire.has_value());
    EXPECT_EQ(wire->size(), kMaxTcpAduBytes);
    EXPECT_EQ(DecodeTcp(*wire)->adu, adu);
}

// ---- Requests -------------------------------------------------------------------------------

std::vector<Request> SampleRequests() {
    return {
        ReadRequest(FunctionCode::kReadCoils, 0x0013, 37),
        ReadRequest(FunctionCode::kReadDiscreteInputs, 0x00C4, 22),
        ReadRequest(FunctionCode::kReadHoldingRegisters, 0x2000, 125),
        ReadRequest(FunctionCode::kReadInputRegisters, 0x0048, 2),
        WriteSingleCoil(0x00AC, true),
        WriteSingleCoil(0x00AC, false),
        WriteSingleRegister(0x0001, 0x0003),
        WriteMultipleCoils(0x0013,
                           {true, false, true, true, false, false, true, true, true, false}),
        WriteMultipleRegisters(0x0001, {0x000A, 0x0102}),
    };
}

TEST(Request, EveryFunctionRoundTripsThroughRtuAndTcp) {
    for (const Request& request : SampleRequests()) {
        auto pdu = EncodeRequest(request);
        ASSERT_TRUE(pdu.has_value()) << pdu.error().ToString();
        auto rtu = EncodeRtu(RtuAdu{0x11, *pdu});
        ASSERT_TRUE(rtu.has_value());
        auto from_rtu = DecodeRtu(*rtu, Direction::kRequest);
        ASSERT_TRUE(from_rtu.has_value()) << from_rtu.error().ToString();
        EXPECT_EQ(from_rtu->consumed, rtu->size());
        auto back = DecodeRequest(from_rtu->adu.pdu);
        ASSERT_TRUE(back.has_value()) << back.error().ToString();
        EXPECT_EQ(*back, request);

        auto tcp = EncodeTcp(TcpAdu{42, 1, *pdu});
        ASSERT_TRUE(tcp.has_value());
        auto from_tcp = DecodeTcp(*tcp);
        ASSERT_TRUE(from_tcp.has_value());
        EXPECT_EQ(*DecodeRequest(from_tcp->adu.pdu), request);
    }
}

TEST(Request, EncodesTheSpecExamples) {
    // Modbus Application Protocol V1.1b3 examples: write coils 20..29 = CD 01; write registers.
    EXPECT_EQ(ToHex(EncodeRequest(SampleRequests()[7])->data), "00 13 00 0A 02 CD 01");
    EXPECT_EQ(ToHex(EncodeRequest(SampleRequests()[8])->data), "00 01 00 02 04 00 0A 01 02");
    EXPECT_EQ(ToHex(EncodeRequest(WriteSingleCoil(0xAC, true))->data), "00 AC FF 00");
}

TEST(Request, EnforcesTheSpecQuantityLimits) {
    auto quantity_error = [](const Request& r) { return EncodeRequest(r).error().field; };
    EXPECT_EQ(quantity_error(ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 0)), "quantity");
    EXPECT_EQ(quantity_error(ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 126)), "quantity");
    EXPECT_EQ(quantity_error(ReadRequest(FunctionCode::kReadInputRegisters, 0, 126)), "quantity");
    EXPECT_EQ(quantity_error(ReadRequest(FunctionCode::kReadCoils, 0, 2001)), "quantity");
    EXPECT_EQ(quantity_error(ReadRequest(FunctionCode::kReadDiscreteInputs, 0, 2001)), "quantity");
    EXPECT_EQ(quantity_error(WriteMultipleRegisters(0, std::vector<std::uint16_t>(124))),
              "quantity");
    EXPECT_EQ(quantity_error(WriteMultipleCoils(0, std::vector<bool>(1969))), "quantity");
    EXPECT_EQ(quantity_error(ReadRequest(FunctionCode::kReadHoldingRegisters, 0xFFFF, 2)),
              "address");
    EXPECT_TRUE(EncodeRequest(ReadRequest(FunctionCode::kReadHoldingRegisters, 0xFFFF, 1)));
    EXPECT_TRUE(EncodeRequest(ReadRequest(FunctionCode::kReadCoils, 0, 2000)));
    EXPECT_TRUE(EncodeRequest(WriteMultipleRegisters(0, std::vector<std::uint16_t>(123))));
    EXPECT_TRUE(EncodeRequest(WriteMultipleCoils(0, std::vector<bool>(1968))));
}

TEST(DecodeRequest, RejectsMalformedRequests) {
    EXPECT_EQ(DecodeRequest(Pdu{0x07, {}}).error().field, "function");
    EXPECT_EQ(DecodeRequest(Pdu{0x03, Hex("00 00 00 7E")}).error().field, "quantity");
    EXPECT_EQ(DecodeRequest(Pdu{0x03, Hex("00 00 00 00")}).error().field, "quantity");
    EXPECT_EQ(DecodeRequest(Pdu{0x03, Hex("00 00 00 01 00")}).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(DecodeRequest(Pdu{0x05, Hex("00 01 12 34")}).error().field, "value");
    EXPECT_EQ(DecodeRequest(Pdu{0x10, Hex("00 01 00 02 03 00 0A 01")}).error().field, "byte_count");
    EXPECT_EQ(DecodeRequest(Pdu{0x0F, Hex("00 13 00 0A 01 CD")}).error().field, "byte_count");
    EXPECT_EQ(DecodeRequest(Pdu{0x10, Hex("00 01 00 7C F8")}).error().field, "quantity");
}

TEST(DecodeRequest, ShortDataIsOutOfRange) {
    for (const Request& request : SampleRequests()) {
        Pdu pdu = *EncodeRequest(request);
        for (std::size_t n = 0; n < pdu.data.size(); ++n) {
            Pdu cut{pdu.function,
                    Bytes(pdu.data.begin(), pdu.data.begin() + static_cast<std::ptrdiff_t>(n))};
            auto decoded = DecodeRequest(cut);
            ASSERT_FALSE(decoded.has_value());
            EXPECT_EQ(decoded.error().code, ErrorCode::kOutOfRange)
                << int{pdu.function} << " at " << n;
        }
    }
}

// ---- Responses ------------------------------------------------------------------------------

TEST(Response, ReadRegistersRoundTrip) {
    Request request = ReadRequest(FunctionCode::kReadHoldingRegisters, 0x000B, 3);
    std::vector<std::uint16_t> values{2203, 512, 0xFFFF};
    auto pdu = BuildResponse(request, values);
    ASSERT_TRUE(pdu.has_value());
    EXPECT_EQ(ToHex(pdu->data), "06 08 9B 02 00 FF FF");
    auto response = ParseResponse(request, *pdu);
    ASSERT_TRUE(response.has_value()) << response.error().ToString();
    EXPECT_FALSE(response->exception);
    EXPECT_EQ(response->registers, values);
}

TEST(Response, ReadBitsRoundTripWithExactlyTheRequestedCount) {
    Request request = ReadRequest(FunctionCode::kReadCoils, 0x0013, 19);
    // Spec example: coils 20..38 = CD 6B 05.
    auto spec = ParseResponse(request, Pdu{0x01, Hex("03 CD 6B 05")});
    ASSERT_TRUE(spec.has_value()) << spec.error().ToString();
    ASSERT_EQ(spec->bits.size(), 19U);
    EXPECT_TRUE(spec->bits[0]);
    EXPECT_FALSE(spec->bits[1]);
    EXPECT_TRUE(spec->bits[18]);
    auto rebuilt = BuildResponse(request, {}, spec->bits);
    ASSERT_TRUE(rebuilt.has_value());
    EXPECT_EQ(ToHex(rebuilt->data), "03 CD 6B 05");
}

TEST(Response, WritesEchoAndRoundTrip) {
    for (const Request& request : SampleRequests()) {
        if (static_cast<std::uint8_t>(request.function) < 0x05)
            continue;
        auto pdu = BuildResponse(request);
        ASSERT_TRUE(pdu.has_value()) << pdu.error().ToString();
        EXPECT_EQ(pdu->data.size(), 4U);
        auto response = ParseResponse(request, *pdu);
        ASSERT_TRUE(response.has_value()) << response.error().ToString();
        EXPECT_EQ(response->address, request.address);
        EXPECT_EQ(response->quantity, request.quantity);
    }
    auto coil = ParseResponse(WriteSingleCoil(0xAC, true), Pdu{0x05, Hex("00 AC FF 00")});
    EXPECT_EQ(coil->value, 0xFF00);
}

TEST(Response, EveryResponseRoundTripsThroughRtu) {
    for (const Request& request : SampleRequests()) {
        std::vector<std::uint16_t> registers(request.quantity, 0x1234);
        std::vector<bool> bits(request.quantity, true);
        auto pdu = BuildResponse(request, registers, bits);
        ASSERT_TRUE(pdu.has_value()) << pdu.error().ToString();
        auto wire = EncodeRtu(RtuAdu{9, *pdu});
        auto decoded = DecodeRtu(*wire, Direction::kResponse);
        ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
        EXPECT_EQ(decoded->consumed, wire->size());
        EXPECT_TRUE(ParseResponse(request, decoded->adu.pdu).has_value());
    }
}

TEST(Response, RejectsRepliesThatDoNotAnswerTheRequest) {
    Request read = ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 2);
    EXPECT_EQ(ParseResponse(read, Pdu{0x04, Hex("04 00 01 00 02")}).error().field, "function");
    EXPECT_EQ(ParseResponse(read, Pdu{0x03, Hex("02 00 01")}).error().field, "byte_count");
    EXPECT_EQ(ParseResponse(read, Pdu{0x03, Hex("04 00 01 00 02 00")}).error().code,
              ErrorCode::kInvalidArgument);
    EXPECT_EQ(ParseResponse(read, Pdu{0x84, Hex("02")}).error().field, "function");
    EXPECT_EQ(ParseResponse(read, Pdu{0x83, Hex("02 00")}).error().code,
              ErrorCode::kInvalidArgument);
    Request write = WriteSingleRegister(0x0001, 0x0003);
    EXPECT_EQ(ParseResponse(write, Pdu{0x06, Hex("00 02 00 03")}).error().field, "address");
    EXPECT_EQ(ParseResponse(write, Pdu{0x06, Hex("00 01 00 04")}).error().field, "value");
    Request multi = WriteMultipleRegisters(0x0001, {1, 2});
    EXPECT_EQ(ParseResponse(multi, Pdu{0x10, Hex("00 01 00 03")}).error().field, "quantity");
}

TEST(Response, ShortRepliesAreOutOfRange) {
    Request read = ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 2);
    Bytes data = Hex("04 00 01 00 02");
    for (std::size_t n = 0; n < data.size(); ++n) {
        Pdu cut{0x03, Bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n))};
        EXPECT_EQ(ParseResponse(read, cut).error().code, ErrorCode::kOutOfRange) << n;
    }
    EXPECT_EQ(ParseResponse(read, Pdu{0x83, {}}).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(ParseResponse(WriteSingleRegister(1, 3), Pdu{0x06, Hex("00 01 00")}).error().code,
              ErrorCode::kOutOfRange);
}

TEST(Response, BuildRejectsAWrongValueCount) {
    Request read = ReadRequest(FunctionCode::kReadInputRegisters, 0, 2);
    std::vector<std::uint16_t> one{1};
    EXPECT_EQ(BuildResponse(read, one).error().field, "registers");
    EXPECT_EQ(BuildResponse(ReadRequest(FunctionCode::kReadCoils, 0, 3), {}, {true}).error().field,
              "bits");
}

TEST(Exception, BuildsAndNamesEveryStandardCode) {
    struct Case {
        ExceptionCode code;
        std::string_view name;
    };
    for (Case c : {Case{ExceptionCode::kIllegalFunction, "illegal function"},
                   Case{ExceptionCode::kIllegalDataAddress, "illegal data address"},
                   Case{ExceptionCode::kIllegalDataValue, "illegal data value"},
                   Case{ExceptionCode::kServerDeviceFailure, "server device failure"},
                   Case{ExceptionCode::kAcknowledge, "acknowledge"},
                   Case{ExceptionCode::kServerDeviceBusy, "server device busy"},
                   Case{ExceptionCode::kMemoryParityError, "memory parity error"},
                   Case{ExceptionCode::kGatewayPathUnavailable, "gateway path unavailable"},
                   Case{ExceptionCode::kGatewayTargetFailedToRespond,
                        "gateway target device failed to respond"}}) {
        Pdu pdu = BuildExceptionResponse(0x03, c.code);
        EXPECT_EQ(pdu.function, 0x83);
        auto response = ParseResponse(ReadRequest(FunctionCode::kReadHoldingRegisters, 0, 1), pdu);
        ASSERT_TRUE(response.has_value());
        EXPECT_TRUE(response->exception);
        EXPECT_EQ(ExceptionName(response->exception_code), c.name);
    }
    EXPECT_EQ(ExceptionName(0x07), "unknown exception");
}

// ---- Register values ------------------------------------------------------------------------

RegisterFormat Format(ValueType type, WordOrder order = WordOrder::kAbcd, int scale = 0,
                      int decimals = 0) {
    return RegisterFormat{type, order, scale, decimals};
}

TEST(Registers, DecodesIntegersWithScale) {
    std::vector<std::uint16_t> u16{2203};
    EXPECT_EQ(*DecodeRegisters(u16, Format(ValueType::kU16, WordOrder::kAbcd, -1)),
              (Decimal{2203, 1}));
    std::vector<std::uint16_t> minus_one{0xFFFF};
    EXPECT_EQ(*DecodeRegisters(minus_one, Format(ValueType::kI16, WordOrder::kAbcd, -3)),
              (Decimal{-1, 3}));
    EXPECT_EQ(*DecodeRegisters(minus_one, Format(ValueType::kU16)), (Decimal{65535, 0}));
    // DDSY1352 total energy 0000H: UINT32 x0.01 kWh, high word first.
    std::vector<std::uint16_t> energy{0x0001, 0x86A0};
    EXPECT_EQ(*DecodeRegisters(energy, Format(ValueType::kU32, WordOrder::kAbcd, -2)),
              (Decimal{100000, 2}));
    EXPECT_EQ(*DecodeRegisters(std::vector<std::uint16_t>{0xFFFF, 0xFFFE}, Format(ValueType::kI32)),
              (Decimal{-2, 0}));
    EXPECT_EQ(*DecodeRegisters(std::vector<std::uint16_t>{0x0000, 0x0000, 0x0001, 0x0000},
                               Format(ValueType::kU64)),
              (Decimal{65536, 0}));
    EXPECT_EQ(*DecodeRegisters(std::vector<std::uint16_t>{0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF},
                               Format(ValueType::kI64)),
              (Decimal{-1, 0}));
    EXPECT_EQ(*DecodeRegisters(u16, Format(ValueType::kU16, WordOrder::kAbcd, 2)),
              (Decimal{220300, 0}));
}

TEST(Registers, AppliesEveryWordOrder) {
    // 0x11223344 as A=11 B=22 C=33 D=44.
    struct Case {
        WordOrder order;
        std::vector<std::uint16_t> wire;
    };
    for (const Case& c :
         {Case{WordOrder::kAbcd, {0x1122, 0x3344}}, Case{WordOrder::kCdab, {0x3344, 0x1122}},
          Case{WordOrder::kBadc, {0x2211, 0x4433}}, Case{WordOrder::kDcba, {0x4433, 0x2211}}}) {
        RegisterFormat format = Format(ValueType::kU32, c.order);
        EXPECT_EQ(*DecodeRegisters(c.wire, format), (Decimal{0x11223344, 0}));
        EXPECT_EQ(*EncodeRegisters(Decimal{0x11223344, 0}, format), c.wire);
    }
    RegisterFormat cdab64 = Format(ValueType::kU64, WordOrder::kCdab);
    std::vector<std::uint16_t> wire{0x7788, 0x5566, 0x3344, 0x1122};
    EXPECT_EQ(*DecodeRegisters(wire, cdab64), (Decimal{0x1122334455667788, 0}));
    EXPECT_EQ(*DecodeRegisters(std::vector<std::uint16_t>{0x0201},
                               Format(ValueType::kU16, WordOrder::kBadc)),
              (Decimal{0x0102, 0}));
}

TEST(Registers, FloatDecodesFromItsBitPattern) {
    EXPECT_EQ(*DecodeF32(0x43665C29, 0, 2), (Decimal{23036, 2}));
    EXPECT_EQ(*DecodeF32(0x43665C29, 0, 6), (Decimal{230360001, 6}));  // 230.36000061...
    EXPECT_EQ(*DecodeF32(0xC3665C29, 0, 2), (Decimal{-23036, 2}));
    EXPECT_EQ(*DecodeF32(0xC2F6E979, 0, 3), (Decimal{-123456, 3}));
    EXPECT_EQ(*DecodeF32(0x4B189680, 0, 0), (Decimal{10000000, 0}));
    EXPECT_EQ(*DecodeF32(0x3DCCCCCD, 0, 1), (Decimal{1, 1}));
    EXPECT_EQ(*DecodeF32(0x42481EB8, 0, 2), (Decimal{5003, 2}));  // 50.03 Hz
    EXPECT_EQ(*DecodeF32(0x00000000, 0, 2), (Decimal{0, 2}));
    EXPECT_EQ(*DecodeF32(0x80000000, 0, 2), (Decimal{0, 2}));
}

TEST(Registers, FloatRoundsHalfAwayFromZero) {
    EXPECT_EQ(*DecodeF32(0x3E000000, 0, 2), (Decimal{13, 2}));   // 0.125
    EXPECT_EQ(*DecodeF32(0xBE000000, 0, 2), (Decimal{-13, 2}));  // -0.125
    EXPECT_EQ(*DecodeF32(0x40200000, 0, 0), (Decimal{3, 0}));    // 2.5
    EXPECT_EQ(*DecodeF32(0xC0200000, 0, 0), (Decimal{-3, 0}));   // -2.5
    EXPECT_EQ(*DecodeF32(0x3F000000, 0, 0), (Decimal{1, 0}));    // 0.5
    EXPECT_EQ(*DecodeF32(0x3EFFFFFF, 0, 0), (Decimal{0, 0}));    // just under 0.5
}

TEST(Registers, FloatDenormalsAndExtremes) {
    EXPECT_EQ(*DecodeF32(0x00000001, 18, 18), (Decimal{0, 18}));  // 1.4e-45
    EXPECT_EQ(*DecodeF32(0x807FFFFF, 18, 18), (Decimal{0, 18}));  // largest subnormal x 1e36
    EXPECT_EQ(*EncodeF32(Decimal{1, 38}), 0x006CE3EEU);           // 1e-38 is subnormal
    EXPECT_EQ(*EncodeF32(Decimal{-1, 38}), 0x806CE3EEU);
    EXPECT_EQ(*EncodeF32(Decimal{34028235, -31}), 0x7F7FFFFFU);  // FLT_MAX
    EXPECT_EQ(EncodeF32(Decimal{34028236, -31}).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(EncodeF32(Decimal{1, -39}).error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(DecodeF32(0x7F7FFFFF, 0, 0).error().field, "value");  // 3.4e38 > int64
    EXPECT_EQ(*DecodeF32(0x5EFFFFFF, 0, 0), (Decimal{9223371487098961920, 0}));
    EXPECT_EQ(DecodeF32(0x5F000000, 0, 0).error().field, "value");  // 2^63
}

TEST(Registers, FloatRejectsNanAndInfinity) {
    for (std::uint32_t bits : {0x7FC00000U, 0x7F800001U, 0xFFC00000U, 0x7F800000U, 0xFF800000U}) {
        auto decoded = DecodeF32(bits, 0, 2);
        ASSERT_FALSE(decoded.has_value()) << std::hex << bits;
        EXPECT_EQ(decoded.error().code, ErrorCode::kInvalidArgument);
    }
    EXPECT_EQ(DecodeF32(0x43665C29, 19, 0).error().field, "scale_exponent");
}

TEST(Registers, FloatEncodesToTheNearestPattern) {
    EXPECT_EQ(*EncodeF32(Decimal{23036, 2}), 0x43665C29U);
    EXPECT_EQ(*EncodeF32(Decimal{-23036, 2}), 0xC3665C29U);
    EXPECT_EQ(*EncodeF32(Decimal{-123456, 3}), 0xC2F6E979U);
    EXPECT_EQ(*EncodeF32(Decimal{1, 1}), 0x3DCCCCCDU);
    EXPECT_EQ(*EncodeF32(Decimal{5003, 2}), 0x42481EB8U);
    EXPECT_EQ(*EncodeF32(Decimal{10000000, 0}), 0x4B189680U);
    EXPECT_EQ(*EncodeF32(Decimal{0, 3}), 0U);
    EXPECT_EQ(*EncodeF32(Decimal{16777217, 0}), 0x4B800000U);  // tie to even: 2^24
    EXPECT_EQ(*EncodeF32(Decimal{16777219, 0}), 0x4B800002U);  // tie to even: up
    EXPECT_EQ(*EncodeF32(Decimal{5, -10}), 0x513A43B7U);       // 5e10
}

// Wide mantissas and large powers of ten keep only ~100 significant bits plus a sticky bit; the
// expected patterns are the exact nearest binary32, computed with Python fractions.
TEST(Registers, FloatEncodesWideValuesExactly) {
    EXPECT_EQ(*EncodeF32(Decimal{1, -38}), 0x7E967699U);
    EXPECT_EQ(*EncodeF32(Decimal{3, -38}), 0x7F61B1E6U);
    EXPECT_EQ(*EncodeF32(Decimal{9223372036854775807, -19}), 0x7E8AC723U);
    EXPECT_EQ(*EncodeF32(Decimal{-123456789012345678, -20}), 0xFD149B0FU);
    EXPECT_EQ(*EncodeF32(Decimal{1234567891234567891, 38}), 0x1E69340AU);
    EXPECT_EQ(EncodeF32(Decimal{-9223372036854775807 - 1, -38}).error().field, "value");
}

// Nine significant digits identify every binary32 value, so decode-then-encode must return the
// same pattern for every normal binary32 in [1, 2^30) (a deterministic sample of them).
TEST(Registers, FloatDecodeEncodeRoundTripsAcrossTheRange) {
    std::uint32_t state = 12345;
    for (int i = 0; i < 20000; ++i) {
        state = state * 1664525U + 1013904223U;
        std::uint32_t exponent = 127 + (state >> 8) % 30;
        std::uint32_t bits = (state & 0x80000000U) | exponent << 23 | (state * 2654435761U) >> 9;
        auto decoded = DecodeF32(bits, 0, 9);
        ASSERT_TRUE(decoded.has_value()) << std::hex << bits;
        auto encoded = EncodeF32(*decoded);
        ASSERT_TRUE(encoded.has_value()) << std::hex << bits;
        ASSERT_EQ(*encoded, bits) << FormatDecimal(*decoded);
    }
}

TEST(Registers, Dtsu666VoltageFloatWithTenthScale) {
    // DTSU666 2006H Ua: binary32 in units of 0.1 V, high word first. 2303.6 -> 230.36 V.
    RegisterFormat format = Format(ValueType::kF32, WordOrder::kAbcd, -1, 2);
    std::vector<std::uint16_t> wire{0x450F, 0xF99A};
    EXPECT_EQ(*DecodeRegisters(wire, format), (Decimal{23036, 2}));
    EXPECT_EQ(*EncodeRegisters(Decimal{23036, 2}, format), wire);
    RegisterFormat swapped = Format(ValueType::kF32, WordOrder::kCdab, -1, 2);
    std::vector<std::uint16_t> swapped_wire{0xF99A, 0x450F};
    EXPECT_EQ(*DecodeRegisters(swapped_wire, swapped), (Decimal{23036, 2}));
}

TEST(Registers, EncodeRoundTripsEveryIntegerType) {
    struct Case {
        ValueType type;
        Decimal value;
        int scale;
    };
    for (const Case& c :
         {Case{ValueType::kU16, {2203, 1}, -1}, Case{ValueType::kI16, {-1, 3}, -3},
          Case{ValueType::kU32, {100000, 2}, -2}, Case{ValueType::kI32, {-2147483648, 0}, 0},
          Case{ValueType::kU64, {9223372036854775807, 0}, 0}, Case{ValueType::kI64, {-5, 0}, 0}}) {
        for (WordOrder order :
             {WordOrder::kAbcd, WordOrder::kCdab, WordOrder::kBadc, WordOrder::kDcba}) {
            RegisterFormat format = Format(c.type, order, c.scale);
            auto words = EncodeRegisters(c.value, format);
            ASSERT_TRUE(words.has_value()) << words.error().ToString();
            EXPECT_EQ(words->size(), RegisterCount(c.type));
            EXPECT_EQ(*DecodeRegisters(*words, format), c.value);
        }
    }
}

TEST(Registers, EncodeRoundsToTheRegisterScaleAndChecksRange) {
    // 230.36 V into a UINT16 in 0.1 V rounds half away from zero to 2304.
    EXPECT_EQ(*EncodeRegisters(Decimal{23036, 2}, Format(ValueType::kU16, WordOrder::kAbcd, -1)),
              (std::vector<std::uint16_t>{2304}));
    EXPECT_EQ(EncodeRegisters(Decimal{65536, 0}, Format(ValueType::kU16)).error().field, "value");
    EXPECT_EQ(EncodeRegisters(Decimal{-1, 0}, Format(ValueType::kU32)).error().field, "value");
    EXPECT_EQ(EncodeRegisters(Decimal{32768, 0}, Format(ValueType::kI16)).error().field, "value");
    EXPECT_EQ(*EncodeRegisters(Decimal{-32768, 0}, Format(ValueType::kI16)),
              (std::vector<std::uint16_t>{0x8000}));
}

TEST(Registers, TooFewRegistersIsOutOfRange) {
    std::vector<std::uint16_t> one{1};
    EXPECT_EQ(DecodeRegisters(one, Format(ValueType::kF32)).error().code, ErrorCode::kOutOfRange);
    EXPECT_EQ(DecodeRegisters({}, Format(ValueType::kU16)).error().code, ErrorCode::kOutOfRange);
    std::vector<std::uint16_t> three{1, 2, 3};
    EXPECT_EQ(DecodeRegisters(three, Format(ValueType::kI64)).error().field, "registers");
}

TEST(Registers, U64BeyondInt64IsRejected) {
    std::vector<std::uint16_t> big{0x8000, 0, 0, 0};
    EXPECT_EQ(DecodeRegisters(big, Format(ValueType::kU64)).error().code,
              ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace joule::codec::modbus
