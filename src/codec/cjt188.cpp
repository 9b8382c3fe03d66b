#include "codec/cjt188.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "base/checked.hpp"

namespace joule::codec::cjt188 {

namespace {

std::unexpected<Error> NeedMore(std::string field, std::size_t need, std::size_t have) {
    return MakeError(ErrorCode::kOutOfRange,
                     "need " + std::to_string(need) + " byte(s), have " + std::to_string(have),
                     std::move(field));
}

std::string Hex2(unsigned value) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out;
    out.push_back(kDigits[(value >> 4) & 0xF]);
    out.push_back(kDigits[value & 0xF]);
    return out;
}

std::string DiName(std::uint16_t di) { return Hex2(di >> 8U) + Hex2(di & 0xFFU); }

void PutDi(Bytes& out, std::uint16_t di, DiOrder order) {
    auto high = static_cast<std::uint8_t>(di >> 8);
    auto low = static_cast<std::uint8_t>(di & 0xFF);
    if (order == DiOrder::kBigEndian) {
        out.push_back(high);
        out.push_back(low);
    } else {
        out.push_back(low);
        out.push_back(high);
    }
}

void PutSt(Bytes& out, std::uint16_t st) {
    out.push_back(static_cast<std::uint8_t>(st & 0xFF));
    out.push_back(static_cast<std::uint8_t>(st >> 8));
}

bool AllBytes(const Address& address, std::uint8_t value) {
    return std::all_of(address.begin(), address.end(),
                       [value](std::uint8_t b) { return b == value; });
}

}  // namespace

// ---- Basics ---------------------------------------------------------------------------------

MeterFamily FamilyOf(MeterType type) {
    auto t = static_cast<unsigned>(type);
    if (t >= 0x10 && t <= 0x19)
        return MeterFamily::kWater;
    if (t >= 0x20 && t <= 0x29)
        return MeterFamily::kHeat;
    if (t >= 0x30 && t <= 0x39)
        return MeterFamily::kGas;
    if (t >= 0x40 && t <= 0x49)
        return MeterFamily::kUserDefined;
    return MeterFamily::kUnknown;
}

Result<Address> ParseAddress(std::string_view digits) {
    if (digits.size() != 2 * kAddressBytes)
        return InvalidArgument("address", "must be 14 hex digits, A6 first");
    JOULE_ASSIGN_OR_RETURN(Bytes bytes, ParseHex(digits));
    if (bytes.size() != kAddressBytes)
        return InvalidArgument("address", "must be 14 hex digits, A6 first");
    Address out{};
    std::reverse_copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

std::string FormatAddress(const Address& address) {
    std::string out;
    for (auto it = address.rbegin(); it != address.rend(); ++it)
        out += Hex2(*it);
    return out;
}

Control DecodeControl(std::uint8_t c) {
    return Control{(c & 0x80U) != 0, (c & 0x40U) != 0, (c & 0x20U) != 0,
                   static_cast<std::uint8_t>(c & 0x1FU)};
}

std::uint8_t EncodeControl(const Control& control) {
    unsigned c = control.function & 0x1FU;
    if (control.from_meter)
        c |= 0x80U;
    if (control.abnormal)
        c |= 0x40U;
    if (control.follow_up)
        c |= 0x20U;
    return static_cast<std::uint8_t>(c);
}

bool IsKnownDi(std::uint16_t di) {
    if (di == 0x901F || di == 0x911F || di == kDiReadAddress)
        return true;
    if (di >= 0x903F && di <= 0x907F && (di & 0x0F) == 0x0F)
        return true;
    if (di >= 0x8102 && di <= 0x8105)
        return true;
    if (di >= kDiHistoryFirst && di <= kDiHistoryLast)
        return true;
    if (di >= 0xA010 && di <= 0xA019)
        return true;
    return di >= 0xA101 && di <= 0xA107;
}

DiDetection DetectDi(std::uint8_t first, std::uint8_t second, DiOrder fallback) {
    auto big = static_cast<std::uint16_t>(first << 8 | second);
    auto little = static_cast<std::uint16_t>(second << 8 | first);
    bool big_known = IsKnownDi(big);
    bool little_known = IsKnownDi(little);
    if (big_known && !little_known)
        return {big, DiOrder::kBigEndian, true};
    if (little_known && !big_known)
        return {little, DiOrder::kLittleEndian, true};
    DiOrder order = fallback;
    return {order == DiOrder::kBigEndian ? big : little, order, big_known};
}

DiOrder OrderFor(const Dialect& dialect, std::uint16_t di) {
    for (const DiOrderOverride& o : dialect.di_overrides) {
        if (o.di == di)
            return o.order;
    }
    return dialect.di_order;
}

// ---- Frames ---------------------------------------------------------------------------------

Result<Bytes> EncodeFrame(const Frame& frame, std::size_t preamble_bytes) {
    if (preamble_bytes > kMaxPreambleBytes)
        return InvalidArgument("preamble", "at most 4 FE bytes");
    std::size_t length = (frame.has_di ? kDiSerBytes : 0) + frame.data.size();
    if (length > 0xFF)
        return InvalidArgument("data", "L = " + std::to_string(length) + " exceeds 255");
    Bytes out(preamble_bytes, kPreambleByte);
    out.reserve(preamble_bytes + kMinFrameBytes + length);
    out.push_back(kStartByte);
    out.push_back(static_cast<std::uint8_t>(frame.meter_type));
    out.insert(out.end(), frame.address.begin(), frame.address.end());
    out.push_back(frame.control);
    out.push_back(static_cast<std::uint8_t>(length));
    if (frame.has_di) {
        PutDi(out, frame.di, frame.di_order);
        out.push_back(frame.ser);
    }
    out.insert(out.end(), frame.data.begin(), frame.data.end());
    out.push_back(Sum8(ByteView(out).subspan(preamble_bytes)));
    out.push_back(kEndByte);
    return out;
}

Result<std::size_t> FrameLength(ByteView bytes) {
    if (!bytes.empty() && bytes[0] != kStartByte)
        return InvalidArgument("start", "frame must start with 68H, got " + Hex2(bytes[0]) + "H");
    if (bytes.size() < kHeaderBytes)
        return NeedMore("length", kHeaderBytes, bytes.size());
    return kMinFrameBytes + bytes[kHeaderBytes - 1];
}

Result<DecodedFrame> DecodeFrame(ByteView bytes, DiOrder unknown_di_order) {
    std::size_t skip = 0;
    while (skip < bytes.size() && bytes[skip] == kPreambleByte)
        ++skip;
    if (skip == bytes.size())
        return NeedMore("start", skip + 1, bytes.size());
    ByteView rest = bytes.subspan(skip);
    JOULE_ASSIGN_OR_RETURN(std::size_t length, FrameLength(rest));
    if (rest.size() < length)
        return NeedMore("frame", length, rest.size());
    ByteView wire = rest.first(length);
    if (wire[length - 1] != kEndByte)
        return InvalidArgument("end",
                               "frame must end with 16H, got " + Hex2(wire[length - 1]) + "H");
    std::uint8_t computed = Sum8(wire.first(length - 2));
    if (computed != wire[length - 2]) {
        return MakeError(ErrorCode::kDataLoss,
                         "checksum mismatch: frame carries " + Hex2(wire[length - 2]) +
                             "H, bytes sum to " + Hex2(computed) + "H",
                         "cs");
    }
    DecodedFrame out;
    Frame& frame = out.frame;
    frame.meter_type = static_cast<MeterType>(wire[1]);
    std::copy_n(wire.begin() + 2, kAddressBytes, frame.address.begin());
    frame.control = wire[9];
    ByteView data = wire.subspan(kHeaderBytes, wire[10]);
    if (data.size() >= kDiSerBytes) {
        DiDetection di = DetectDi(data[0], data[1], unknown_di_order);
        frame.has_di = true;
        frame.di = di.di;
        frame.di_order = di.order;
        frame.ser = data[2];
        frame.data.assign(data.begin() + kDiSerBytes, data.end());
        out.di_known = di.known;
    } else {
        frame.has_di = false;
        frame.data.assign(data.begin(), data.end());
    }
    out.consumed = skip + length;
    return out;
}

// ---- Requests -------------------------------------------------------------------------------

namespace {

Frame MakeRequest(MeterType type, const Address& address, Function function, std::uint16_t di,
                  std::uint8_t ser, Bytes data, const Dialect& dialect) {
    Frame frame;
    frame.meter_type = type;
    frame.address = address;
    frame.control =
        EncodeControl(Control{false, false, false, static_cast<std::uint8_t>(function)});
    frame.has_di = true;
    frame.di = di;
    frame.di_order = OrderFor(dialect, di);
    frame.ser = ser;
    frame.data = std::move(data);
    return frame;
}

}  // namespace

Frame ReadDataRequest(MeterType type, const Address& address, std::uint16_t di, std::uint8_t ser,
                      const Dialect& dialect) {
    return MakeRequest(type, address, Function::kReadData, di, ser, {}, dialect);
}

Frame ReadAddressRequest(MeterType type, std::uint8_t ser, const Dialect& dialect) {
    return MakeRequest(type, kWildcardAddress, Function::kReadAddress, kDiReadAddress, ser, {},
                       dialect);
}

Frame WriteDataRequest(MeterType type, const Address& address, std::uint16_t di, std::uint8_t ser,
                       Bytes data, const Dialect& dialect) {
    return MakeRequest(type, address, Function::kWriteData, di, ser, std::move(data), dialect);
}

Frame ValveControlRequest(MeterType type, const Address& address, ValveCommand command,
                          std::uint8_t ser, const Dialect& dialect) {
    return WriteDataRequest(type, address, kDiValveControl, ser,
                            Bytes{static_cast<std::uint8_t>(command)}, dialect);
}

Frame WriteAddressRequest(MeterType type, const Address& address, const Address& new_address,
                          std::uint8_t ser, const Dialect& dialect) {
    return MakeRequest(type, address, Function::kWriteAddress, kDiWriteAddress, ser,
                       Bytes(new_address.begin(), new_address.end()), dialect);
}

Result<ValveCommand> ParseValveControlRequest(const Frame& request) {
    if (!request.has_di || request.di != kDiValveControl)
        return InvalidArgument("di", "not a valve control (A017) request");
    if (request.data.empty())
        return NeedMore("valve", 1, 0);
    std::uint8_t code = request.data[0];
    if (code != static_cast<std::uint8_t>(ValveCommand::kOpen) &&
        code != static_cast<std::uint8_t>(ValveCommand::kClose)) {
        return InvalidArgument("valve",
                               "valve command must be 55H or 99H, got " + Hex2(code) + "H");
    }
    if (request.data.size() > 1)
        return InvalidArgument("valve", "valve command carries one byte");
    return static_cast<ValveCommand>(code);
}

// ---- Replies --------------------------------------------------------------------------------

Frame MakeReply(const Frame& request, const MeterIdentity& self, Bytes data) {
    Frame reply;
    reply.meter_type = self.type;
    reply.address = self.address;
    reply.control = static_cast<std::uint8_t>(0x80U | (request.control & 0x1FU));
    reply.has_di = true;
    reply.di = request.di;
    reply.di_order = request.di_order;
    reply.ser = request.ser;
    reply.data = std::move(data);
    return reply;
}

Frame MakeAbnormalReply(const Frame& request, const MeterIdentity& self, std::uint16_t st) {
    Frame reply = MakeReply(request, self, {});
    reply.control = static_cast<std::uint8_t>(0xC0U | (request.control & 0x1FU));
    reply.has_di = false;
    reply.di = 0;
    reply.ser = 0;
    reply.di_order = DiOrder::kBigEndian;
    PutSt(reply.data, st);
    return reply;
}

Frame MakeWriteReply(const Frame& request, const MeterIdentity& self, std::uint16_t st) {
    Bytes data;
    PutSt(data, st);
    return MakeReply(request, self, std::move(data));
}

Frame MakeReadAddressReply(const Frame& request, const MeterIdentity& self,
                           const Dialect& dialect) {
    Bytes data;
    if (dialect.read_address_reply_carries_address)
        data.assign(self.address.begin(), self.address.end());
    return MakeReply(request, self, std::move(data));
}

Status CheckReplyMatches(const Frame& request, const Frame& reply) {
    Control asked = DecodeControl(request.control);
    Control got = DecodeControl(reply.control);
    if (!got.from_meter)
        return InvalidArgument("direction", "reply does not come from a meter (C bit D7 clear)");
    if (got.function != asked.function) {
        return InvalidArgument("function", "reply function " + Hex2(got.function) +
                                               "H does not answer " + Hex2(asked.function) + "H");
    }
    if (request.meter_type != MeterType::kWildcard && reply.meter_type != request.meter_type) {
        return InvalidArgument(
            "meter_type", "reply type " + Hex2(static_cast<unsigned>(reply.meter_type)) +
                              "H, request type " + Hex2(static_cast<unsigned>(request.meter_type)) +
                              "H");
    }
    if (!AllBytes(request.address, 0xAA) && !AllBytes(request.address, 0x99)) {
        for (std::size_t i = 0; i < kAddressBytes; ++i) {
            if (request.address[i] != 0xAA && request.address[i] != reply.address[i]) {
                return InvalidArgument("address", "reply from " + FormatAddress(reply.address) +
                                                      ", request to " +
                                                      FormatAddress(request.address));
            }
        }
    }
    if (reply.has_di && request.has_di) {
        if (reply.di != request.di) {
            return InvalidArgument(
                "di", "reply DI " + DiName(reply.di) + ", request DI " + DiName(request.di));
        }
        if (reply.ser != request.ser) {
            return InvalidArgument("ser", "reply SER " + Hex2(reply.ser) + "H, request SER " +
                                              Hex2(request.ser) + "H");
        }
    }
    return {};
}

namespace {

Result<std::uint16_t> ReadSt(const Bytes& data) {
    if (data.empty())
        return NeedMore("st", 1, 0);
    if (data.size() > 2)
        return InvalidArgument("st", "ST is 1 or 2 bytes, got " + std::to_string(data.size()));
    unsigned st = data[0];
    if (data.size() == 2)
        st |= static_cast<unsigned>(data[1]) << 8;
    return static_cast<std::uint16_t>(st);
}

}  // namespace

Result<std::uint16_t> ParseAbnormalReply(const Frame& reply) {
    if (!DecodeControl(reply.control).abnormal)
        return InvalidArgument("control", "not an abnormal reply (C bit D6 clear)");
    return ReadSt(reply.data);
}

Result<std::uint16_t> ParseWriteReply(const Frame& reply) {
    Control control = DecodeControl(reply.control);
    if (control.abnormal)
        return InvalidArgument("control", "abnormal reply: use ParseAbnormalReply");
    if (!reply.has_di)
        return NeedMore("di", kDiSerBytes, reply.data.size());
    return ReadSt(reply.data);
}

Result<Address> ParseReadAddressReply(const Frame& reply) {
    Control control = DecodeControl(reply.control);
    if (control.function != static_cast<std::uint8_t>(Function::kReadAddress))
        return InvalidArgument("function", "not a read-address reply");
    if (control.abnormal)
        return InvalidArgument("control", "abnormal reply: use ParseAbnormalReply");
    if (reply.data.empty())
        return reply.address;
    if (reply.data.size() < kAddressBytes)
        return NeedMore("address", kAddressBytes, reply.data.size());
    if (reply.data.size() > kAddressBytes)
        return InvalidArgument("address", "read-address reply carries 7 address bytes");
    Address out{};
    std::copy_n(reply.data.begin(), kAddressBytes, out.begin());
    return out;
}

// ---- Units and status -----------------------------------------------------------------------

std::optional<UnitInfo> DescribeUnit(std::uint8_t code) {
    struct Base {
        std::uint8_t code;
        std::string_view symbol;
        int variants;  // 1 + the number of ×10, ×100 codes after it
    };
    static constexpr Base kBases[] = {
        {0x01, "J", 1},  {0x02, "Wh", 3}, {0x05, "kWh", 3}, {0x08, "MWh", 3},  {0x0B, "kJ", 3},
        {0x0E, "MJ", 3}, {0x11, "GJ", 3}, {0x14, "W", 3},   {0x17, "kW", 3},   {0x1A, "MW", 3},
        {0x29, "L", 3},  {0x2C, "m3", 3}, {0x32, "L/h", 3}, {0x35, "m3/h", 3},
    };
    for (const Base& base : kBases) {
        if (code >= base.code && code < base.code + base.variants)
            return UnitInfo{base.symbol, code - base.code};
    }
    return std::nullopt;
}

Result<Decimal> ToBaseUnit(Decimal value, std::uint8_t unit_code) {
    std::optional<UnitInfo> info = DescribeUnit(unit_code);
    if (!info)
        return InvalidArgument("unit", "unknown unit code " + Hex2(unit_code) + "H");
    int decimals = value.decimals - info->exponent;
    std::int64_t mantissa = value.mantissa;
    for (; decimals < 0; ++decimals) {
        std::optional<std::int64_t> scaled = CheckedMul(mantissa, 10);
        if (!scaled)
            return InvalidArgument("value", "overflows int64 in the base unit");
        mantissa = *scaled;
    }
    return Decimal{mantissa, decimals};
}

MeterStatus DecodeStatus(std::uint16_t st, StatusLayout layout) {
    unsigned first = st & 0xFFU;
    if (layout == StatusLayout::kSdqr)
        return MeterStatus{static_cast<ValveState>((first >> 6) & 3U), (first & 0x20U) != 0};
    return MeterStatus{static_cast<ValveState>(first & 3U), (first & 0x04U) != 0};
}

std::uint16_t EncodeStatus(const MeterStatus& status, StatusLayout layout,
                           std::uint8_t vendor_byte) {
    unsigned valve = static_cast<unsigned>(status.valve) & 3U;
    unsigned first = layout == StatusLayout::kSdqr
                         ? (valve << 6) | (status.battery_low ? 0x20U : 0U)
                         : valve | (status.battery_low ? 0x04U : 0U);
    return static_cast<std::uint16_t>(first | static_cast<unsigned>(vendor_byte) << 8);
}

// ---- Value fields ---------------------------------------------------------------------------

namespace {

Result<Decimal> ReadBcd(ByteReader& reader, std::size_t n, int decimals, const std::string& field) {
    JOULE_ASSIGN_OR_RETURN(ByteView bytes, reader.Take(n, field));
    JOULE_ASSIGN_OR_RETURN(std::uint64_t digits, DecodeBcdLe(bytes, field));
    return Decimal{static_cast<std::int64_t>(digits), decimals};
}

Result<UnitValue> ReadUnitValue(ByteReader& reader, std::size_t n, int decimals,
                                UnitPosition position, const std::string& field) {
    UnitValue out;
    if (position == UnitPosition::kBeforeValue) {
        JOULE_ASSIGN_OR_RETURN(out.unit, reader.U8(field + ".unit"));
    }
    JOULE_ASSIGN_OR_RETURN(out.value, ReadBcd(reader, n, decimals, field));
    if (position == UnitPosition::kAfterValue) {
        JOULE_ASSIGN_OR_RETURN(out.unit, reader.U8(field + ".unit"));
    }
    return out;
}

Status WriteBcd(Bytes& out, Decimal value, std::size_t n, int decimals, const std::string& field) {
    std::int64_t mantissa = 0;
    if (!Rescale(value, decimals, &mantissa))
        return InvalidArgument(field,
                               "does not fit int64 at " + std::to_string(decimals) + " places");
    if (mantissa < 0)
        return InvalidArgument(field, "BCD cannot carry a negative value");
    auto bytes = EncodeBcdLe(static_cast<std::uint64_t>(mantissa), n, field);
    if (!bytes) {
        return InvalidArgument(field, FormatDecimal(value) + " needs more than " +
                                          std::to_string(2 * n) + " BCD digits");
    }
    out.insert(out.end(), bytes->begin(), bytes->end());
    return {};
}

Status WriteUnitValue(Bytes& out, const UnitValue& value, std::size_t n, int decimals,
                      UnitPosition position, const std::string& field) {
    if (position == UnitPosition::kBeforeValue)
        out.push_back(value.unit);
    JOULE_TRY(WriteBcd(out, value.value, n, decimals, field));
    if (position == UnitPosition::kAfterValue)
        out.push_back(value.unit);
    return {};
}

Status CheckConsumed(const ByteReader& reader, std::string_view what) {
    if (!reader.empty()) {
        return InvalidArgument(std::string(what), std::to_string(reader.remaining()) +
                                                      " byte(s) after the last field");
    }
    return {};
}

Result<std::optional<MeterDateTime>> ReadClock(ByteReader& reader, const std::string& field) {
    JOULE_ASSIGN_OR_RETURN(ByteView bytes, reader.Take(7, field));
    auto clock = DecodeClock(bytes);
    if (!clock)
        return std::unexpected(clock.error().WithFieldPrefix(field.substr(0, field.find('.'))));
    return *clock;
}

// Field sizes and places of one heat layout.
struct HeatSpec {
    std::size_t power_bytes;
    int power_decimals;
    std::size_t flow_bytes;
    int flow_decimals;
    std::size_t temperature_bytes;
    std::size_t hours_bytes;
    UnitPosition position;
};

HeatSpec SpecOf(HeatLayout layout) {
    switch (layout) {
        case HeatLayout::kUnitFirst46:
            return {4, 2, 4, 4, 3, 3, UnitPosition::kBeforeValue};
        case HeatLayout::kNgGateway43:
            return {3, 2, 3, 3, 2, 4, UnitPosition::kAfterValue};
        case HeatLayout::kStandard46:
            break;
    }
    return {4, 2, 4, 4, 3, 3, UnitPosition::kAfterValue};
}

}  // namespace

Result<std::optional<MeterDateTime>> DecodeClock(ByteView bytes) {
    if (bytes.size() < 7)
        return NeedMore("clock", 7, bytes.size());
    bytes = bytes.first(7);
    if (std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; }))
        return std::optional<MeterDateTime>{};
    JOULE_ASSIGN_OR_RETURN(std::uint64_t n, DecodeBcdLe(bytes, "clock"));
    MeterDateTime t;
    t.second = static_cast<int>(n % 100);
    t.minute = static_cast<int>(n / 100 % 100);
    t.hour = static_cast<int>(n / 10000 % 100);
    t.day = static_cast<int>(n / 1000000 % 100);
    t.month = static_cast<int>(n / 100000000 % 100);
    t.year = static_cast<int>(n / 10000000000);
    if (!IsValid(t))
        return InvalidArgument("clock", "not a real date and time: " + ToHex(bytes));
    return std::optional<MeterDateTime>{t};
}

Result<Bytes> EncodeClock(const std::optional<MeterDateTime>& clock) {
    if (!clock)
        return Bytes(7, 0);
    const MeterDateTime& t = *clock;
    if (!IsValid(t) || t.year > 9999)
        return InvalidArgument("clock", "not a real date and time");
    std::int64_t n = std::int64_t{t.year};
    for (int part : {t.month, t.day, t.hour, t.minute, t.second})
        n = n * 100 + part;
    return EncodeBcdLe(static_cast<std::uint64_t>(n), 7, "clock");
}

Result<WaterGasData> DecodeWaterGasData(ByteView data, UnitPosition position) {
    ByteReader reader(data);
    WaterGasData out;
    JOULE_ASSIGN_OR_RETURN(out.current, ReadUnitValue(reader, 4, 2, position, "901F.current"));
    JOULE_ASSIGN_OR_RETURN(out.settlement,
                           ReadUnitValue(reader, 4, 2, position, "901F.settlement"));
    JOULE_ASSIGN_OR_RETURN(out.clock, ReadClock(reader, "901F.clock"));
    JOULE_ASSIGN_OR_RETURN(out.st, reader.U16Le("901F.st"));
    JOULE_TRY(CheckConsumed(reader, "901F"));
    return out;
}

Result<Bytes> EncodeWaterGasData(const WaterGasData& value, UnitPosition position) {
    Bytes out;
    JOULE_TRY(WriteUnitValue(out, value.current, 4, 2, position, "901F.current"));
    JOULE_TRY(WriteUnitValue(out, value.settlement, 4, 2, position, "901F.settlement"));
    JOULE_ASSIGN_OR_RETURN(Bytes clock, EncodeClock(value.clock));
    out.insert(out.end(), clock.begin(), clock.end());
    PutSt(out, value.st);
    return out;
}

Result<HeatData> DecodeHeatData(ByteView data, HeatLayout layout) {
    HeatSpec spec = SpecOf(layout);
    ByteReader reader(data);
    HeatData out;
    UnitPosition p = spec.position;
    JOULE_ASSIGN_OR_RETURN(out.settlement_heat,
                           ReadUnitValue(reader, 4, 2, p, "901F.settlement_heat"));
    JOULE_ASSIGN_OR_RETURN(out.current_heat, ReadUnitValue(reader, 4, 2, p, "901F.current_heat"));
    JOULE_ASSIGN_OR_RETURN(
        out.heat_power,
        ReadUnitValue(reader, spec.power_bytes, spec.power_decimals, p, "901F.heat_power"));
    JOULE_ASSIGN_OR_RETURN(out.flow_rate, ReadUnitValue(reader, spec.flow_bytes, spec.flow_decimals,
                                                        p, "901F.flow_rate"));
    JOULE_ASSIGN_OR_RETURN(out.cumulative_flow,
                           ReadUnitValue(reader, 4, 2, p, "901F.cumulative_flow"));
    JOULE_ASSIGN_OR_RETURN(out.supply_temperature,
                           ReadBcd(reader, spec.temperature_bytes, 2, "901F.supply_temperature"));
    JOULE_ASSIGN_OR_RETURN(out.return_temperature,
                           ReadBcd(reader, spec.temperature_bytes, 2, "901F.return_temperature"));
    JOULE_ASSIGN_OR_RETURN(Decimal hours,
                           ReadBcd(reader, spec.hours_bytes, 0, "901F.working_hours"));
    out.working_hours = hours.mantissa;
    JOULE_ASSIGN_OR_RETURN(out.clock, ReadClock(reader, "901F.clock"));
    JOULE_ASSIGN_OR_RETURN(out.st, reader.U16Le("901F.st"));
    JOULE_TRY(CheckConsumed(reader, "901F"));
    return out;
}

Result<Bytes> EncodeHeatData(const HeatData& value, HeatLayout layout) {
    HeatSpec spec = SpecOf(layout);
    UnitPosition p = spec.position;
    Bytes out;
    JOULE_TRY(WriteUnitValue(out, value.settlement_heat, 4, 2, p, "901F.settlement_heat"));
    JOULE_TRY(WriteUnitValue(out, value.current_heat, 4, 2, p, "901F.current_heat"));
    JOULE_TRY(WriteUnitValue(out, value.heat_power, spec.power_bytes, spec.power_decimals, p,
                             "901F.heat_power"));
    JOULE_TRY(WriteUnitValue(out, value.flow_rate, spec.flow_bytes, spec.flow_decimals, p,
                             "901F.flow_rate"));
    JOULE_TRY(WriteUnitValue(out, value.cumulative_flow, 4, 2, p, "901F.cumulative_flow"));
    JOULE_TRY(WriteBcd(out, value.supply_temperature, spec.temperature_bytes, 2,
                       "901F.supply_temperature"));
    JOULE_TRY(WriteBcd(out, value.return_temperature, spec.temperature_bytes, 2,
                       "901F.return_temperature"));
    JOULE_TRY(
        WriteBcd(out, Decimal{value.working_hours, 0}, spec.hours_bytes, 0, "901F.working_hours"));
    JOULE_ASSIGN_OR_RETURN(Bytes clock, EncodeClock(value.clock));
    out.insert(out.end(), clock.begin(), clock.end());
    PutSt(out, value.st);
    return out;
}

Result<UnitValue> DecodeHistoryData(ByteView data, UnitPosition position) {
    ByteReader reader(data);
    JOULE_ASSIGN_OR_RETURN(UnitValue out, ReadUnitValue(reader, 4, 2, position, "D12x.settlement"));
    JOULE_TRY(CheckConsumed(reader, "D12x"));
    return out;
}

Result<Bytes> EncodeHistoryData(const UnitValue& value, UnitPosition position) {
    Bytes out;
    JOULE_TRY(WriteUnitValue(out, value, 4, 2, position, "D12x.settlement"));
    return out;
}

// ---- Purchases [ACCT-1] ---------------------------------------------------------------------

namespace {

// An amount field, 4 bytes BCD XXXXXX.XX yuan: 0 .. kMaxPurchaseFen fen.
Status AppendAmount(Bytes& out, std::int64_t fen, std::string_view what) {
    if (fen < 0 || fen > kMaxPurchaseFen)
        return InvalidArgument(std::string(what), "must be 0 .. 999999.99 yuan");
    JOULE_ASSIGN_OR_RETURN(Bytes bcd, EncodeBcdLe(static_cast<std::uint64_t>(fen), 4, what));
    out.insert(out.end(), bcd.begin(), bcd.end());
    return {};
}

Result<std::int64_t> ReadAmount(ByteView data, std::size_t at, std::string_view what) {
    JOULE_ASSIGN_OR_RETURN(std::uint64_t fen, DecodeBcdLe(data.subspan(at, 4), what));
    return static_cast<std::int64_t>(fen);
}

}  // namespace

Result<Bytes> EncodePurchaseData(const PurchaseData& purchase) {
    if (!IsPurchaseAmount(purchase.amount_fen))
        return InvalidArgument("amount", "a purchase is 0.01 .. 999999.99 yuan");
    Bytes out{purchase.sequence};
    JOULE_TRY(AppendAmount(out, purchase.amount_fen, "amount"));
    return out;
}

Result<PurchaseData> DecodePurchaseData(ByteView data) {
    if (data.size() < 5)
        return MakeError(ErrorCode::kOutOfRange, "A013 data is 5 bytes", "data");
    if (data.size() > 5)
        return InvalidArgument("data", "A013 data is 5 bytes");
    PurchaseData out;
    out.sequence = data[0];
    JOULE_ASSIGN_OR_RETURN(out.amount_fen, ReadAmount(data, 1, "amount"));
    return out;
}

Result<Bytes> EncodePurchaseStatus(const PurchaseStatus& status) {
    Bytes out{status.sequence};
    JOULE_TRY(AppendAmount(out, status.last_fen, "last"));
    JOULE_TRY(AppendAmount(out, status.cumulative_fen, "cumulative"));
    JOULE_TRY(AppendAmount(out, status.remaining_fen, "remaining"));
    out.push_back(static_cast<std::uint8_t>(status.st & 0xFF));
    out.push_back(static_cast<std::uint8_t>(status.st >> 8));
    return out;
}

Result<PurchaseStatus> DecodePurchaseStatus(ByteView data) {
    if (data.size() < 13)
        return MakeError(ErrorCode::kOutOfRange, "8105 data is at least 13 bytes", "data");
    if (data.size() > 15)
        return InvalidArgument("data", "8105 data is 13 bytes and ST");
    PurchaseStatus out;
    out.sequence = data[0];
    JOULE_ASSIGN_OR_RETURN(out.last_fen, ReadAmount(data, 1, "last"));
    JOULE_ASSIGN_OR_RETURN(out.cumulative_fen, ReadAmount(data, 5, "cumulative"));
    JOULE_ASSIGN_OR_RETURN(out.remaining_fen, ReadAmount(data, 9, "remaining"));
    if (data.size() >= 14)
        out.st = data[13];
    if (data.size() == 15)
        out.st = static_cast<std::uint16_t>(out.st | (data[14] << 8));
    return out;
}

}  // namespace joule::codec::cjt188
