#include "wire/model_json.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <utility>

#include "core/purchase.hpp"

namespace joule::wire {

// The service refuses a top-up the meter's purchase frame cannot carry; core cannot see codec.
static_assert(kMaxPurchase.fen == codec::kMaxPurchaseFen, "one purchase limit");

namespace {

constexpr std::size_t kMaxPoints = 256;

template <class E, std::size_t N>
Result<E> Enum(std::string_view text, const std::array<std::pair<std::string_view, E>, N>& table,
               const std::string& path) {
    std::string names;
    for (const auto& [name, value] : table) {
        if (name == text)
            return value;
        names += names.empty() ? "" : ", ";
        names += name;
    }
    return InvalidArgument(path, "unknown value \"" + std::string(text) + "\" (" + names + ")");
}

// "0x401E", "401EH" or "16414".
Result<std::uint32_t> ParseNumber(const Json& j, const std::string& path, std::uint32_t max) {
    std::uint64_t value = 0;
    if (j.is_number_unsigned()) {
        value = j.get<std::uint64_t>();
    } else if (j.is_string()) {
        std::string text = j.get<std::string>();
        int base = 10;
        if (text.starts_with("0x") || text.starts_with("0X")) {
            text = text.substr(2);
            base = 16;
        } else if (text.ends_with('H') || text.ends_with('h')) {
            text.pop_back();
            base = 16;
        }
        if (text.empty() || text.size() > 10)
            return InvalidArgument(path, "not a number");
        for (char c : text) {
            int digit = (c >= '0' && c <= '9')   ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                 : 99;
            if (digit >= base)
                return InvalidArgument(path, "not a number");
            value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
        }
    } else {
        return InvalidArgument(path, "must be a number or a hex string");
    }
    if (value > max)
        return InvalidArgument(path, "above " + std::to_string(max));
    return static_cast<std::uint32_t>(value);
}

// A data identifier: hex digits as written in the standard ("00010000", "901F").
Result<std::uint32_t> ParseDi(const Json& j, const std::string& path) {
    if (!j.is_string())
        return InvalidArgument(path, "must be a hex string like \"00010000\"");
    std::string text = j.get<std::string>();
    if (text.size() != 4 && text.size() != 8) {
        return InvalidArgument(path, "must be 4 or 8 hex digits");
    }
    return ParseNumber(Json("0x" + text), path, 0xFFFFFFFF);
}

constexpr std::array<std::pair<std::string_view, codec::modbus::ValueType>, 7> kValueTypes{{
    {"u16", codec::modbus::ValueType::kU16},
    {"i16", codec::modbus::ValueType::kI16},
    {"u32", codec::modbus::ValueType::kU32},
    {"i32", codec::modbus::ValueType::kI32},
    {"u64", codec::modbus::ValueType::kU64},
    {"i64", codec::modbus::ValueType::kI64},
    {"f32", codec::modbus::ValueType::kF32},
}};
constexpr std::array<std::pair<std::string_view, codec::modbus::WordOrder>, 4> kWordOrders{{
    {"ABCD", codec::modbus::WordOrder::kAbcd},
    {"CDAB", codec::modbus::WordOrder::kCdab},
    {"BADC", codec::modbus::WordOrder::kBadc},
    {"DCBA", codec::modbus::WordOrder::kDcba},
}};
constexpr std::array<std::pair<std::string_view, codec::cjt188::DiOrder>, 2> kDiOrders{{
    {"big", codec::cjt188::DiOrder::kBigEndian},
    {"little", codec::cjt188::DiOrder::kLittleEndian},
}};
constexpr std::array<std::pair<std::string_view, codec::cjt188::HeatLayout>, 3> kHeatLayouts{{
    {"standard46", codec::cjt188::HeatLayout::kStandard46},
    {"unit_first46", codec::cjt188::HeatLayout::kUnitFirst46},
    {"ng_gateway43", codec::cjt188::HeatLayout::kNgGateway43},
}};
constexpr std::array<std::pair<std::string_view, codec::cjt188::StatusLayout>, 2> kStatusLayouts{{
    {"standard", codec::cjt188::StatusLayout::kStandard},
    {"sdqr", codec::cjt188::StatusLayout::kSdqr},
}};
constexpr std::array<std::pair<std::string_view, codec::cjt188::UnitPosition>, 2> kUnitPositions{{
    {"after", codec::cjt188::UnitPosition::kAfterValue},
    {"before", codec::cjt188::UnitPosition::kBeforeValue},
}};
constexpr std::array<std::pair<std::string_view, codec::cjt188::MeterType>, 8> kMeterTypes{{
    {"cold_water", codec::cjt188::MeterType::kColdWater},
    {"hot_water", codec::cjt188::MeterType::kHotWater},
    {"drinking_water", codec::cjt188::MeterType::kDrinkingWater},
    {"reclaimed_water", codec::cjt188::MeterType::kReclaimedWater},
    {"heat", codec::cjt188::MeterType::kHeat},
    {"cooling", codec::cjt188::MeterType::kCooling},
    {"heat_and_cooling", codec::cjt188::MeterType::kHeatAndCooling},
    {"gas", codec::cjt188::MeterType::kGas},
}};
constexpr std::array<std::pair<std::string_view, codec::dlt645::RemoteCommand>, 3> kRelayCodes{{
    {"1A", codec::dlt645::RemoteCommand::kTrip},
    {"1B", codec::dlt645::RemoteCommand::kCloseAllowed},
    {"1C", codec::dlt645::RemoteCommand::kDirectClose},
}};
constexpr std::array<std::pair<std::string_view, codec::dlt645::AddressPadding>, 2> kPaddings{{
    {"zero", codec::dlt645::AddressPadding::kZero},
    {"AA", codec::dlt645::AddressPadding::kAA},
}};
constexpr std::array<std::pair<std::string_view, codec::dlt645::TimeSyncForm>, 2> kTimeForms{{
    {"plus33", codec::dlt645::TimeSyncForm::kPlus33},
    {"plain", codec::dlt645::TimeSyncForm::kPlain},
}};
constexpr std::array<std::pair<std::string_view, codec::PurchaseLayout>, 2> kPurchaseLayouts{{
    {"amount_count", codec::PurchaseLayout::kAmountCount},
    {"count_amount", codec::PurchaseLayout::kCountAmount},
}};
constexpr std::array<std::pair<std::string_view, codec::dlt645::Read1997Code>, 2> kRead1997{{
    {"01", codec::dlt645::Read1997Code::k01},
    {"11", codec::dlt645::Read1997Code::k11},
}};

Result<codec::PointSpec> ParsePoint(const Json& j, const std::string& path,
                                    codec::Protocol protocol) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    codec::PointSpec p;
    JOULE_ASSIGN_OR_RETURN(std::string name, r.String("point", 64));
    auto point = codec::ParsePoint(name);
    if (!point)
        return InvalidArgument(r.PathOf("point"), point.error().message);
    p.point = *point;
    JOULE_ASSIGN_OR_RETURN(p.per_circuit, r.OptBool("per_circuit", true));
    if (protocol == codec::Protocol::kModbusRtu) {
        JOULE_ASSIGN_OR_RETURN(int64_t function, r.Integer("function", 1, 4));
        p.function = static_cast<codec::modbus::FunctionCode>(function);
        JOULE_ASSIGN_OR_RETURN(const Json* address, r.Value("address"));
        JOULE_ASSIGN_OR_RETURN(std::uint32_t a, ParseNumber(*address, r.PathOf("address"), 0xFFFF));
        p.address = static_cast<std::uint16_t>(a);
        JOULE_ASSIGN_OR_RETURN(std::string type, r.OptString("type", "u16", 8));
        JOULE_ASSIGN_OR_RETURN(p.format.type, Enum(type, kValueTypes, r.PathOf("type")));
        JOULE_ASSIGN_OR_RETURN(std::string order, r.OptString("word_order", "ABCD", 8));
        JOULE_ASSIGN_OR_RETURN(p.format.word_order,
                               Enum(order, kWordOrders, r.PathOf("word_order")));
        JOULE_ASSIGN_OR_RETURN(int64_t scale, r.OptInteger("scale", 0, -18, 18));
        p.format.scale_exponent = static_cast<int>(scale);
        JOULE_ASSIGN_OR_RETURN(int64_t decimals,
                               r.OptInteger("decimals", scale < 0 ? -scale : 0, 0, 18));
        p.format.decimals = static_cast<int>(decimals);
    } else {
        JOULE_ASSIGN_OR_RETURN(const Json* di, r.Value("di"));
        JOULE_ASSIGN_OR_RETURN(p.di, ParseDi(*di, r.PathOf("di")));
        JOULE_ASSIGN_OR_RETURN(int64_t index, r.OptInteger("block_index", 0, 0, 63));
        p.block_index = static_cast<int>(index);
    }
    JOULE_TRY(r.Finish());
    return p;
}

Result<std::vector<codec::PointSpec>> ParsePoints(const Json* list, const std::string& path,
                                                  codec::Protocol protocol) {
    std::vector<codec::PointSpec> out;
    if (list == nullptr)
        return out;
    for (std::size_t i = 0; i < list->size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(
            codec::PointSpec p,
            ParsePoint((*list)[i], path + "[" + std::to_string(i) + "]", protocol));
        out.push_back(p);
    }
    return out;
}

Status ParseDlt645Settings(const Json& j, const std::string& path, codec::DeviceModel& m) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    JOULE_ASSIGN_OR_RETURN(int64_t preamble, r.OptInteger("preamble", 4, 0, 4));
    m.preamble_bytes = static_cast<std::size_t>(preamble);
    JOULE_ASSIGN_OR_RETURN(std::string padding, r.OptString("address_padding", "zero", 8));
    JOULE_ASSIGN_OR_RETURN(m.address_padding,
                           Enum(padding, kPaddings, r.PathOf("address_padding")));
    JOULE_ASSIGN_OR_RETURN(int64_t level, r.OptInteger("password_level", 2, 0, 0x97));
    m.password.level = static_cast<std::uint8_t>(level);
    JOULE_ASSIGN_OR_RETURN(std::string password, r.OptString("password", "000000", 6));
    JOULE_ASSIGN_OR_RETURN(m.password.code,
                           ParseNumber(Json("0x" + password), r.PathOf("password"), 0xFFFFFF));
    JOULE_ASSIGN_OR_RETURN(std::string op, r.OptString("operator", "00000000", 8));
    JOULE_ASSIGN_OR_RETURN(m.operator_code,
                           ParseNumber(Json("0x" + op), r.PathOf("operator"), 0xFFFFFFFF));
    JOULE_ASSIGN_OR_RETURN(std::string trip, r.OptString("trip", "1A", 2));
    JOULE_ASSIGN_OR_RETURN(m.trip_command, Enum(trip, kRelayCodes, r.PathOf("trip")));
    JOULE_ASSIGN_OR_RETURN(std::string close, r.OptString("close", "1C", 2));
    JOULE_ASSIGN_OR_RETURN(m.close_command, Enum(close, kRelayCodes, r.PathOf("close")));
    JOULE_ASSIGN_OR_RETURN(std::string form, r.OptString("time_sync", "plus33", 8));
    JOULE_ASSIGN_OR_RETURN(m.dlt645_options.time_sync_form,
                           Enum(form, kTimeForms, r.PathOf("time_sync")));
    JOULE_ASSIGN_OR_RETURN(std::string read97, r.OptString("read_1997", "01", 2));
    JOULE_ASSIGN_OR_RETURN(m.dlt645_options.read_1997_code,
                           Enum(read97, kRead1997, r.PathOf("read_1997")));
    JOULE_ASSIGN_OR_RETURN(m.command_validity_s,
                           r.OptInteger("command_validity_s", 600, 60, 7 * 86400));
    if (r.Has("purchase_di")) {
        // The purchase write is always a DL/T 645-2007 frame: a 4-byte identifier.
        JOULE_ASSIGN_OR_RETURN(const Json* di, r.Value("purchase_di"));
        if (!di->is_string() || di->get<std::string>().size() != 8) {
            return InvalidArgument(r.PathOf("purchase_di"),
                                   "must be 8 hex digits (a DL/T 645-2007 identifier)");
        }
        JOULE_ASSIGN_OR_RETURN(m.purchase_di, ParseDi(*di, r.PathOf("purchase_di")));
    }
    JOULE_ASSIGN_OR_RETURN(std::string layout, r.OptString("purchase_layout", "amount_count", 16));
    JOULE_ASSIGN_OR_RETURN(m.purchase_layout,
                           Enum(layout, kPurchaseLayouts, r.PathOf("purchase_layout")));
    return r.Finish();
}

Status ParseModbusSettings(const Json& j, const std::string& path, codec::DeviceModel& m) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    JOULE_ASSIGN_OR_RETURN(int64_t circuits, r.OptInteger("circuits", 1, 1, 64));
    m.circuits = static_cast<int>(circuits);
    JOULE_ASSIGN_OR_RETURN(int64_t stride, r.OptInteger("circuit_stride", 0, 0, 4096));
    m.circuit_stride = static_cast<std::uint16_t>(stride);
    JOULE_ASSIGN_OR_RETURN(int64_t coil, r.OptInteger("relay_coil", 0, 0, 0xFFFF));
    m.relay_coil = static_cast<std::uint16_t>(coil);
    JOULE_ASSIGN_OR_RETURN(int64_t coil_stride, r.OptInteger("relay_coil_stride", 1, 0, 4096));
    m.relay_coil_stride = static_cast<std::uint16_t>(coil_stride);
    return r.Finish();
}

Status ParseCjt188Settings(const Json& j, const std::string& path, codec::DeviceModel& m) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    JOULE_ASSIGN_OR_RETURN(std::string type, r.OptString("meter_type", "cold_water", 32));
    JOULE_ASSIGN_OR_RETURN(m.meter_type, Enum(type, kMeterTypes, r.PathOf("meter_type")));
    JOULE_ASSIGN_OR_RETURN(std::string order, r.OptString("di_order", "big", 8));
    JOULE_ASSIGN_OR_RETURN(m.dialect.di_order, Enum(order, kDiOrders, r.PathOf("di_order")));
    JOULE_ASSIGN_OR_RETURN(int64_t preamble, r.OptInteger("preamble", 2, 0, 4));
    m.dialect.preamble_bytes = static_cast<std::size_t>(preamble);
    JOULE_ASSIGN_OR_RETURN(std::string unit, r.OptString("unit_position", "after", 8));
    JOULE_ASSIGN_OR_RETURN(m.dialect.unit_position,
                           Enum(unit, kUnitPositions, r.PathOf("unit_position")));
    JOULE_ASSIGN_OR_RETURN(std::string heat, r.OptString("heat_layout", "standard46", 16));
    JOULE_ASSIGN_OR_RETURN(m.dialect.heat_layout,
                           Enum(heat, kHeatLayouts, r.PathOf("heat_layout")));
    JOULE_ASSIGN_OR_RETURN(std::string status, r.OptString("status_layout", "standard", 16));
    JOULE_ASSIGN_OR_RETURN(m.dialect.status_layout,
                           Enum(status, kStatusLayouts, r.PathOf("status_layout")));
    return r.Finish();
}

Result<codec::DeviceModel> ParseDevice(ObjectReader& r, const Json& j, const std::string& code,
                                       const std::string& protocol_name) {
    codec::DeviceModel m;
    m.code = code;
    auto protocol = codec::ParseProtocol(protocol_name);
    if (!protocol)
        return InvalidArgument(r.PathOf("protocol"), protocol.error().message);
    m.protocol = *protocol;
    if (j.contains("capabilities")) {
        JOULE_ASSIGN_OR_RETURN(const Json* caps, r.Object("capabilities"));
        ObjectReader c(*caps, r.PathOf("capabilities"));
        JOULE_TRY(c.Check());
        JOULE_ASSIGN_OR_RETURN(m.has_relay, c.OptBool("relay", false));
        JOULE_ASSIGN_OR_RETURN(m.has_valve, c.OptBool("valve", false));
        JOULE_ASSIGN_OR_RETURN(m.in_meter_prepaid, c.OptBool("in_meter_prepaid", false));
        JOULE_ASSIGN_OR_RETURN(m.per_rate, c.OptBool("per_rate", false));
        JOULE_TRY(c.Finish());
    }
    if (j.contains("dlt645")) {
        JOULE_ASSIGN_OR_RETURN(const Json* s, r.Object("dlt645"));
        JOULE_TRY(ParseDlt645Settings(*s, r.PathOf("dlt645"), m));
    }
    if (j.contains("modbus")) {
        JOULE_ASSIGN_OR_RETURN(const Json* s, r.Object("modbus"));
        JOULE_TRY(ParseModbusSettings(*s, r.PathOf("modbus"), m));
    }
    if (j.contains("cjt188")) {
        JOULE_ASSIGN_OR_RETURN(const Json* s, r.Object("cjt188"));
        JOULE_TRY(ParseCjt188Settings(*s, r.PathOf("cjt188"), m));
    }
    JOULE_ASSIGN_OR_RETURN(const Json* points, r.Array("points", kMaxPoints));
    JOULE_ASSIGN_OR_RETURN(m.points, ParsePoints(points, r.PathOf("points"), m.protocol));
    JOULE_ASSIGN_OR_RETURN(const Json* frozen, r.OptArray("frozen_points", kMaxPoints));
    JOULE_ASSIGN_OR_RETURN(m.frozen_points,
                           ParsePoints(frozen, r.PathOf("frozen_points"), m.protocol));
    auto valid = codec::ValidateDeviceModel(m);
    if (!valid)
        return std::unexpected(valid.error().WithFieldPrefix(r.path()));
    return m;
}

}  // namespace

Result<ParsedModel> MeterModelFromJson(const Json& j, const std::string& path) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    ParsedModel out;
    MeterModelRecord& m = out.record;
    JOULE_ASSIGN_OR_RETURN(m.code, r.String("code", 64));
    JOULE_ASSIGN_OR_RETURN(m.name, r.OptString("name", m.code, 256));
    JOULE_ASSIGN_OR_RETURN(std::string utility, r.OptString("utility", "electricity", 16));
    JOULE_ASSIGN_OR_RETURN(m.utility, UtilityFromText(utility, r.PathOf("utility")));
    if (r.Has("register_modulus")) {
        JOULE_ASSIGN_OR_RETURN(m.spec.register_modulus, r.QuantityField("register_modulus"));
        if (m.spec.register_modulus.milli <= 0) {
            return InvalidArgument(r.PathOf("register_modulus"), "must be positive");
        }
    }
    JOULE_ASSIGN_OR_RETURN(Quantity rate, r.QuantityField("max_rate_per_hour"));
    if (rate.milli <= 0)
        return InvalidArgument(r.PathOf("max_rate_per_hour"), "must be positive");
    m.spec.max_rate_per_hour = rate.milli;
    JOULE_ASSIGN_OR_RETURN(int64_t gap_minutes, r.OptInteger("gap_minutes", 180, 1, 60 * 24 * 31));
    m.spec.gap_threshold = Seconds{gap_minutes * 60};
    JOULE_ASSIGN_OR_RETURN(std::string protocol, r.OptString("protocol", "", 32));
    // The two flags billing needs: explicit for bill-only models, from capabilities otherwise.
    JOULE_ASSIGN_OR_RETURN(m.has_relay, r.OptBool("relay", true));
    JOULE_ASSIGN_OR_RETURN(m.per_rate, r.OptBool("per_rate", false));
    if (!protocol.empty()) {
        JOULE_ASSIGN_OR_RETURN(codec::DeviceModel device, ParseDevice(r, j, m.code, protocol));
        m.has_relay = device.has_relay || device.has_valve;
        m.per_rate = device.per_rate;
        m.in_meter_prepaid = device.in_meter_prepaid;
        m.definition = j.dump();
        out.device = std::move(device);
    }
    JOULE_ASSIGN_OR_RETURN(std::string vendor, r.OptString("vendor", "", 128));
    JOULE_ASSIGN_OR_RETURN(std::string notes, r.OptString("notes", "", 2048));
    (void)vendor;
    (void)notes;
    JOULE_TRY(r.Finish());
    return out;
}

Result<codec::DeviceModel> DeviceModelFromDefinition(std::string_view definition) {
    Json j = Json::parse(definition, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        return MakeError(ErrorCode::kDataLoss, "stored model definition is not JSON");
    }
    if (!j.contains("protocol"))
        return NotFound("the model is bill-only (no protocol)");
    JOULE_ASSIGN_OR_RETURN(ParsedModel parsed, MeterModelFromJson(j, "model"));
    return *parsed.device;
}

}  // namespace joule::wire
