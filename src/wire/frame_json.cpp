// Frames <-> JSON for `joule frame` (docs/frame-tool.md). Three parts:
//   1. Text helpers and a field reader that records which JSON paths the encoder consumed.
//   2. Per protocol: frame -> JSON (decode) and JSON -> bytes (encode), sharing one vocabulary.
//   3. Capture scanning: checksummed frames through the StreamScanner, then damaged frames,
//      Modbus TCP ADUs and skipped bytes in the gaps between them.
// Round trips are guaranteed by construction: every frame object decode prints is encoded again
// before it is printed, and a typed form that would not give back the same bytes is replaced by
// the raw bytes (with a note), so `decode | encode` reproduces every frame it printed.
#include "wire/frame_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <iterator>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "codec/cjt188.hpp"
#include "codec/dlt645.hpp"
#include "codec/modbus.hpp"
#include "codec/stream_scanner.hpp"
#include "codec/values.hpp"
#include "wire/json.hpp"

namespace joule::wire {
namespace {

using codec::Bytes;
using codec::ByteView;
using codec::Decimal;
using codec::MeterDateTime;
namespace dlt = codec::dlt645;
namespace mb = codec::modbus;
namespace cjt = codec::cjt188;

// Feeding the scanner in chunks this size, draining after each, keeps it below its buffer limit.
constexpr std::size_t kScanChunkBytes = 1024;
constexpr std::size_t kMaxJsonArrayItems = 2000;  // values, registers, bits of one frame
constexpr std::uint8_t kStartByte = 0x68;

// ============================================================================ text helpers

std::string HexDigits(std::uint64_t value, std::size_t digits) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out(digits, '0');
    for (std::size_t i = digits; i-- > 0;) {
        out[i] = kDigits[value & 0x0FU];
        value >>= 4;
    }
    return out;
}

std::string Hex2(std::uint8_t b) { return HexDigits(b, 2); }

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

// Exactly `digits` hex digits -> value; nullopt otherwise.
std::optional<std::uint64_t> HexText(const std::string& text, std::size_t digits) {
    if (text.size() != digits) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (char c : text) {
        const int d = HexValue(c);
        if (d < 0) {
            return std::nullopt;
        }
        value = value << 4 | static_cast<std::uint64_t>(d);
    }
    return value;
}

Json ErrorJson(const Error& e) {
    return Json{
        {"code", std::string(ErrorCodeName(e.code))}, {"field", e.field}, {"message", e.message}};
}

// The codec's error with `field` replaced by the JSON path the user wrote.
Error At(const Error& e, const std::string& path) {
    return Error{e.code,
                 e.field.empty() || e.field == path ? e.message : e.field + ": " + e.message, path};
}

std::string Pad2(int value) {
    std::string out = std::to_string(value);
    return out.size() < 2 ? "0" + out : out;
}

std::string DateText(int year, int month, int day) {
    return std::to_string(year) + "-" + Pad2(month) + "-" + Pad2(day);
}
std::string TimeText(int hour, int minute, int second) {
    return Pad2(hour) + ":" + Pad2(minute) + ":" + Pad2(second);
}
std::string MinutesText(const MeterDateTime& t) {
    return DateText(t.year, t.month, t.day) + " " + Pad2(t.hour) + ":" + Pad2(t.minute);
}

// Forms of a meter time in JSON, as templates: d = a digit, anything else literal.
constexpr std::string_view kDateForm = "dddd-dd-dd";
constexpr std::string_view kTimeForm = "dd:dd:dd";
constexpr std::string_view kMinutesForm = "dddd-dd-dd dd:dd";
constexpr std::string_view kSecondsForm = "dddd-dd-dd dd:dd:dd";

// "2026-11-21 20:45:00" and its parts (by `form`) -> a valid MeterDateTime.
Result<MeterDateTime> ParseTimeText(const std::string& text, std::string_view form,
                                    const std::string& field) {
    auto bad = [&]() {
        return InvalidArgument(field, "must be a real date/time written \"" +
                                          std::string(form == kDateForm      ? "YYYY-MM-DD"
                                                      : form == kTimeForm    ? "hh:mm:ss"
                                                      : form == kMinutesForm ? "YYYY-MM-DD hh:mm"
                                                                             : "YYYY-MM-DD "
                                                                               "hh:mm:ss") +
                                          "\", got \"" + text + "\"");
    };
    if (text.size() != form.size()) {
        return bad();
    }
    std::array<int, 6> parts{};
    std::size_t part = 0;
    bool in_number = false;
    for (std::size_t i = 0; i < form.size(); ++i) {
        if (form[i] == 'd') {
            if (text[i] < '0' || text[i] > '9') {
                return bad();
            }
            if (!in_number && i > 0) {
                ++part;
            }
            in_number = true;
            parts[part] = parts[part] * 10 + (text[i] - '0');
        } else {
            if (text[i] != form[i]) {
                return bad();
            }
            in_number = false;
        }
    }
    MeterDateTime t;
    if (form == kTimeForm) {
        t.hour = parts[0];
        t.minute = parts[1];
        t.second = parts[2];
    } else {
        t.year = parts[0];
        t.month = parts[1];
        t.day = parts[2];
        t.hour = form.size() > kDateForm.size() ? parts[3] : 0;
        t.minute = form.size() > kDateForm.size() ? parts[4] : 0;
        t.second = form == kSecondsForm ? parts[5] : 0;
    }
    if (!codec::IsValid(t)) {
        return bad();
    }
    return t;
}

// "-12.345" -> {-12345, 3}. At most 18 digits; no exponent, no '+'.
Result<Decimal> ParseDecimalText(const std::string& text, const std::string& field) {
    auto bad = [&]() {
        return InvalidArgument(field,
                               "must be a decimal string such as \"12.34\", got \"" + text + "\"");
    };
    std::size_t i = 0;
    bool negative = false;
    if (i < text.size() && text[i] == '-') {
        negative = true;
        ++i;
    }
    std::int64_t mantissa = 0;
    int decimals = -1;
    int digits = 0;
    for (; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '.') {
            if (decimals >= 0 || digits == 0) {
                return bad();
            }
            decimals = 0;
            continue;
        }
        if (c < '0' || c > '9' || ++digits > 18) {
            return bad();
        }
        mantissa = mantissa * 10 + (c - '0');
        if (decimals >= 0) {
            ++decimals;
        }
    }
    if (digits == 0 || decimals == 0) {
        return bad();
    }
    return Decimal{negative ? -mantissa : mantissa, std::max(decimals, 0)};
}

// ============================================================================ field reader

// ObjectReader plus the set of paths the encoder used: whatever the input holds beyond them is an
// annotation, checked against a fresh decode of the bytes (VerifyAnnotations).
class Fields {
public:
    Fields(const Json& object, std::string path, std::set<std::string>* used)
        : reader_(object, std::move(path)), used_(used) {}

    [[nodiscard]] Status Check() const { return reader_.Check(); }
    [[nodiscard]] bool Has(std::string_view key) const { return reader_.Has(key); }
    [[nodiscard]] std::string PathOf(std::string_view key) const { return reader_.PathOf(key); }
    // The codec's error with this object's path in front of its field.
    [[nodiscard]] Error Prefixed(const Error& e) const {
        return reader_.path().empty() ? e : e.WithFieldPrefix(reader_.path());
    }

    Result<std::string> Str(std::string_view key, std::size_t max_bytes = 64) {
        Mark(key);
        return reader_.String(key, max_bytes);
    }
    Result<std::string> OptStr(std::string_view key, std::string fallback) {
        if (!Has(key)) {
            return fallback;
        }
        return Str(key);
    }
    Result<std::int64_t> Int(std::string_view key, std::int64_t min, std::int64_t max) {
        Mark(key);
        return reader_.Integer(key, min, max);
    }
    Result<std::int64_t> OptInt(std::string_view key, std::int64_t fallback, std::int64_t min,
                                std::int64_t max) {
        if (!Has(key)) {
            return fallback;
        }
        return Int(key, min, max);
    }
    Result<bool> OptBool(std::string_view key, bool fallback) {
        if (Has(key)) {
            Mark(key);
        }
        return reader_.OptBool(key, fallback);
    }
    Result<bool> Bool(std::string_view key) {
        if (!Has(key)) {
            return InvalidArgument(PathOf(key), "is required");
        }
        return OptBool(key, false);
    }
    // Any value (null included); the caller checks the type.
    Result<const Json*> Value(std::string_view key) {
        Mark(key);
        return reader_.Value(key);
    }
    // An object whose own keys are read (and marked) by a child Fields.
    Result<Fields> Child(std::string_view key) {
        JOULE_ASSIGN_OR_RETURN(const Json* object, reader_.Object(key));
        return Fields(*object, PathOf(key), used_);
    }
    Result<const Json*> Array(std::string_view key, std::size_t max_items = kMaxJsonArrayItems) {
        Mark(key);
        return reader_.Array(key, max_items);
    }
    // Hex bytes, "" allowed.
    Result<Bytes> HexBytes(std::string_view key, std::size_t max_bytes) {
        JOULE_ASSIGN_OR_RETURN(const Json* v, Value(key));
        if (!v->is_string()) {
            return InvalidArgument(PathOf(key), "must be a hex string such as \"68 AA 01\"");
        }
        auto bytes = codec::ParseHex(v->get_ref<const std::string&>());
        if (!bytes) {
            return std::unexpected(At(bytes.error(), PathOf(key)));
        }
        if (bytes->size() > max_bytes) {
            return InvalidArgument(PathOf(key), "holds " + std::to_string(bytes->size()) +
                                                    " bytes, at most " + std::to_string(max_bytes));
        }
        return std::move(*bytes);
    }
    // Exactly `digits` hex digits, as written (high digit first).
    Result<std::uint64_t> HexNumber(std::string_view key, std::size_t digits) {
        JOULE_ASSIGN_OR_RETURN(std::string text, Str(key, 32));
        auto value = HexText(text, digits);
        if (!value) {
            return InvalidArgument(PathOf(key), "must be " + std::to_string(digits) +
                                                    " hex digits, got \"" + text + "\"");
        }
        return *value;
    }
    Result<std::uint8_t> HexByte(std::string_view key) {
        JOULE_ASSIGN_OR_RETURN(std::uint64_t v, HexNumber(key, 2));
        return static_cast<std::uint8_t>(v);
    }
    Result<Decimal> DecimalField(std::string_view key) {
        JOULE_ASSIGN_OR_RETURN(std::string text, Str(key, 40));
        return ParseDecimalText(text, PathOf(key));
    }
    Result<MeterDateTime> TimeField(std::string_view key, std::string_view form) {
        JOULE_ASSIGN_OR_RETURN(std::string text, Str(key, 40));
        return ParseTimeText(text, form, PathOf(key));
    }
    // One of `names` (index returned), or an error listing them.
    template <std::size_t N>
    Result<std::size_t> Choice(std::string_view key, const std::array<std::string_view, N>& names) {
        JOULE_ASSIGN_OR_RETURN(std::string text, Str(key));
        for (std::size_t i = 0; i < N; ++i) {
            if (names[i] == text) {
                return i;
            }
        }
        std::string list;
        for (std::string_view name : names) {
            list += list.empty() ? "" : ", ";
            list += name;
        }
        return InvalidArgument(PathOf(key), "must be one of " + list + ", got \"" + text + "\"");
    }

private:
    void Mark(std::string_view key) { used_->insert(reader_.PathOf(key)); }

    ObjectReader reader_;
    std::set<std::string>* used_;
};

// Every key of `input` that the encoder did not use must be in `decoded` with the same value.
Status VerifyAnnotations(const Json& input, const Json& decoded, const std::string& path,
                         const std::set<std::string>& used) {
    for (const auto& [key, value] : input.items()) {
        const std::string at = path.empty() ? key : path + "." + key;
        if (used.contains(at) || (path.empty() && key == "offset")) {
            continue;
        }
        if (!decoded.is_object() || !decoded.contains(key)) {
            return InvalidArgument(at, "is not a known field of this frame");
        }
        const Json& expected = decoded[key];
        if (value.is_object() && expected.is_object()) {
            JOULE_TRY(VerifyAnnotations(value, expected, at, used));
            continue;
        }
        if (value != expected) {
            return InvalidArgument(at, "is " + value.dump() + ", but the frame the other fields " +
                                           "encode has " + expected.dump() +
                                           " (correct it or remove it)");
        }
    }
    return {};
}

// ============================================================================ DL/T 645

struct Dlt645FunctionInfo {
    std::uint8_t code;
    dlt::Edition edition;
    std::string_view name;
};

constexpr Dlt645FunctionInfo kDlt645Functions[] = {
    {0x08, dlt::Edition::k2007, "broadcast_time"},
    {0x03, dlt::Edition::k2007, "security_authentication"},
    {0x11, dlt::Edition::k2007, "read_data"},
    {0x12, dlt::Edition::k2007, "read_follow_up"},
    {0x13, dlt::Edition::k2007, "read_address"},
    {0x14, dlt::Edition::k2007, "write_data"},
    {0x15, dlt::Edition::k2007, "write_address"},
    {0x16, dlt::Edition::k2007, "freeze"},
    {0x17, dlt::Edition::k2007, "change_baud"},
    {0x18, dlt::Edition::k2007, "change_password"},
    {0x19, dlt::Edition::k2007, "clear_max_demand"},
    {0x1A, dlt::Edition::k2007, "meter_clear"},
    {0x1B, dlt::Edition::k2007, "event_clear"},
    {0x1C, dlt::Edition::k2007, "remote_control"},
    {0x1D, dlt::Edition::k2007, "multi_function_output"},
    {0x01, dlt::Edition::k1997, "read_data"},
    {0x02, dlt::Edition::k1997, "read_follow_up"},
    {0x04, dlt::Edition::k1997, "write_data"},
    {0x0A, dlt::Edition::k1997, "write_address"},
    {0x0C, dlt::Edition::k1997, "change_baud"},
    {0x0F, dlt::Edition::k1997, "change_password"},
    {0x10, dlt::Edition::k1997, "clear_max_demand"},
};

std::string_view Dlt645FunctionName(std::uint8_t code) {
    for (const auto& f : kDlt645Functions) {
        if (f.code == code) {
            return f.name;
        }
    }
    return "unknown";
}

Result<dlt::Function> Dlt645FunctionByName(const std::string& name, dlt::Edition edition,
                                           const std::string& field) {
    for (const auto& f : kDlt645Functions) {
        if (f.name == name && (f.edition == edition || f.code == 0x08)) {
            return static_cast<dlt::Function>(f.code);
        }
    }
    return InvalidArgument(field, "\"" + name + "\" is not a DL/T 645-" +
                                      (edition == dlt::Edition::k1997 ? "1997" : "2007") +
                                      " function");
}

std::string EditionText(dlt::Edition edition) {
    return edition == dlt::Edition::k1997 ? "1997" : "2007";
}

Json Dlt645ControlJson(dlt::Control c) {
    const auto code = static_cast<std::uint8_t>(c.raw & 0x1FU);
    return Json{{"raw", Hex2(c.raw)},
                {"code", Hex2(code)},
                {"function", std::string(Dlt645FunctionName(code))},
                {"direction", c.is_reply() ? "reply" : "request"},
                {"abnormal", c.is_abnormal()},
                {"more_frames_follow", c.more_frames_follow()}};
}

Json PasswordJson(const dlt::Password& p) {
    return Json{{"level", Hex2(p.level)}, {"code", HexDigits(p.code, 6)}};
}

Result<dlt::Password> PasswordFrom(Fields& m, std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(Fields p, m.Child(key));
    dlt::Password out;
    JOULE_ASSIGN_OR_RETURN(out.level, p.HexByte("level"));
    JOULE_ASSIGN_OR_RETURN(std::uint64_t code, p.HexNumber("code", 6));
    out.code = static_cast<std::uint32_t>(code);
    return out;
}

Result<std::uint32_t> OperatorFrom(Fields& m) {
    JOULE_ASSIGN_OR_RETURN(std::uint64_t code, m.HexNumber("operator", 8));
    return static_cast<std::uint32_t>(code);
}

Result<dlt::DataId> DiFrom(Fields& m, std::string_view key, dlt::Edition edition) {
    JOULE_ASSIGN_OR_RETURN(std::uint64_t di,
                           m.HexNumber(key, edition == dlt::Edition::k1997 ? 4 : 8));
    return static_cast<dlt::DataId>(di);
}

Result<dlt::Address> Dlt645AddressFrom(Fields& f, std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(std::string text, f.Str(key, 12));
    auto address = dlt::ParseAddress(text);
    if (!address) {
        return std::unexpected(At(address.error(), f.PathOf(key)));
    }
    return *address;
}

// Name, unit and evidence of a DI from the table, as annotations.
void PutDataItem(Json& m, dlt::DataId di, dlt::Edition edition) {
    auto item = dlt::FindDataItem(di, edition);
    if (!item) {
        return;
    }
    m["name"] = item->name;
    if (!item->unit.empty()) {
        m["unit"] = std::string(item->unit);
    }
    if (item->from_memory) {
        m["unconfirmed"] = true;
    }
    if (item->equivalent_2007.has_value()) {
        m["di_2007"] = dlt::FormatDataId(*item->equivalent_2007);
    }
}

Json RunStatus3Json(const dlt::RunStatus3& s) {
    static constexpr std::array<std::string_view, 4> kSupply = {"main", "auxiliary", "battery",
                                                                "reserved"};
    static constexpr std::array<std::string_view, 4> kType = {"not_prepaid", "energy_prepaid",
                                                              "money_prepaid", "reserved"};
    return Json{{"second_time_slot_table", s.second_time_slot_table},
                {"supply", std::string(kSupply[static_cast<std::size_t>(s.supply) & 3U])},
                {"programming_allowed", s.programming_allowed},
                {"relay_open", s.relay_open},
                {"second_time_zone_set", s.second_time_zone_set},
                {"relay_command_trip", s.relay_command_trip},
                {"pre_trip_alarm", s.pre_trip_alarm},
                {"meter_type", std::string(kType[static_cast<std::size_t>(s.meter_type) & 3U])},
                {"second_tariff_price_set", s.second_tariff_price_set},
                {"second_step_set", s.second_step_set},
                {"hold_power", s.hold_power},
                {"identity_authenticated", s.identity_authenticated},
                {"local_account_not_opened", s.local_account_not_opened},
                {"remote_account_not_opened", s.remote_account_not_opened}};
}

// The payload bytes from whichever form `m` carries (values, status_word, date, time, datetime,
// payload). `item` is the table entry of the DI, nullptr when it has none.
Result<Bytes> PayloadFrom(Fields& m, const dlt::DataItem* item) {
    static constexpr std::array<std::string_view, 6> kForms = {"values", "status_word", "date",
                                                               "time",   "datetime",    "payload"};
    std::size_t present = 0;
    std::string_view form;
    for (std::string_view f : kForms) {
        if (m.Has(f)) {
            ++present;
            form = f;
        }
    }
    if (present != 1) {
        return InvalidArgument(m.PathOf(present == 0 ? "values" : form),
                               "give exactly one of values, status_word, date, time, datetime "
                               "or payload (hex)");
    }
    if (form == "payload") {
        return m.HexBytes("payload", dlt::kMaxDataBytes);
    }
    const std::string path = m.PathOf(form);
    if (item == nullptr) {
        return InvalidArgument(path,
                               "the DI is not in the DL/T 645 table: give the bytes as "
                               "payload (hex)");
    }
    auto wrong_form = [&]() {
        return InvalidArgument(path, item->name + " is not written as " + std::string(form));
    };
    if (form == "values") {
        JOULE_ASSIGN_OR_RETURN(const Json* array, m.Array("values", dlt::kMaxDataBytes));
        std::vector<Decimal> values;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const std::string at = path + "[" + std::to_string(i) + "]";
            const Json& v = (*array)[i];
            if (!v.is_string()) {
                return InvalidArgument(at, "must be a decimal string such as \"12.34\"");
            }
            JOULE_ASSIGN_OR_RETURN(Decimal d, ParseDecimalText(v.get<std::string>(), at));
            values.push_back(d);
        }
        if (item->format != dlt::ValueFormat::kBcd) {
            return wrong_form();
        }
        auto bytes = dlt::EncodeValues(*item, values);
        if (!bytes) {
            return std::unexpected(At(bytes.error(), path));
        }
        return std::move(*bytes);
    }
    if (form == "status_word") {
        if (item->format != dlt::ValueFormat::kStatusWord) {
            return wrong_form();
        }
        JOULE_ASSIGN_OR_RETURN(std::uint64_t word, m.HexNumber("status_word", 4));
        return dlt::EncodeStatusWord(static_cast<std::uint16_t>(word));
    }
    Result<Bytes> bytes = Bytes{};
    if (form == "date") {
        if (item->format != dlt::ValueFormat::kDateWeek) {
            return wrong_form();
        }
        JOULE_ASSIGN_OR_RETURN(MeterDateTime t, m.TimeField("date", kDateForm));
        bytes = dlt::EncodeMeterDate(t);
    } else if (form == "time") {
        if (item->format != dlt::ValueFormat::kTime) {
            return wrong_form();
        }
        JOULE_ASSIGN_OR_RETURN(MeterDateTime t, m.TimeField("time", kTimeForm));
        bytes = dlt::EncodeMeterTime(t);
    } else {
        if (item->format != dlt::ValueFormat::kDateTimeMinutes) {
            return wrong_form();
        }
        JOULE_ASSIGN_OR_RETURN(MeterDateTime t, m.TimeField("datetime", kMinutesForm));
        bytes = dlt::EncodeDateTimeMinutes(t);
    }
    if (!bytes) {
        return std::unexpected(At(bytes.error(), path));
    }
    return std::move(*bytes);
}

// The typed form of a payload (values, status_word, date, ...), or an error saying why not.
Result<Json> TypedPayload(const dlt::DataItem& item, ByteView payload) {
    Json out;
    switch (item.format) {
        case dlt::ValueFormat::kBcd: {
            JOULE_ASSIGN_OR_RETURN(std::vector<Decimal> values, dlt::DecodeValues(item, payload));
            out["values"] = Json::array();
            for (const Decimal& v : values) {
                out["values"].push_back(codec::FormatDecimal(v));
            }
            return out;
        }
        case dlt::ValueFormat::kStatusWord: {
            JOULE_ASSIGN_OR_RETURN(std::uint16_t word, dlt::DecodeStatusWord(payload));
            out["status_word"] = HexDigits(word, 4);
            if (item.di == 0x04000503 && item.edition == dlt::Edition::k2007) {
                out["status_bits"] = RunStatus3Json(dlt::DecodeRunStatus3(word));
            }
            return out;
        }
        case dlt::ValueFormat::kDateWeek: {
            JOULE_ASSIGN_OR_RETURN(dlt::MeterDate d, dlt::DecodeMeterDate(payload));
            out["date"] = DateText(d.year, d.month, d.day);
            out["weekday"] = d.weekday;
            return out;
        }
        case dlt::ValueFormat::kTime: {
            JOULE_ASSIGN_OR_RETURN(dlt::MeterTime t, dlt::DecodeMeterTime(payload));
            out["time"] = TimeText(t.hour, t.minute, t.second);
            return out;
        }
        case dlt::ValueFormat::kDateTimeMinutes: {
            JOULE_ASSIGN_OR_RETURN(MeterDateTime t, dlt::DecodeDateTimeMinutes(payload));
            out["datetime"] = MinutesText(t);
            return out;
        }
        case dlt::ValueFormat::kRaw:
            break;
    }
    return out;  // no typed form: the payload is shown as hex
}

// The payload of a read reply or write request: its typed form when it encodes back to the same
// bytes, else the hex, with "value_error" when the bytes do not fit the DI's format.
void PutPayload(Json& m, dlt::DataId di, dlt::Edition edition, ByteView payload) {
    auto item = dlt::FindDataItem(di, edition);
    if (item) {
        auto typed = TypedPayload(*item, payload);
        if (!typed) {
            m["value_error"] = ErrorJson(typed.error());
        } else if (!typed->empty()) {
            std::set<std::string> used;
            Fields check(*typed, "", &used);
            auto back = PayloadFrom(check, &*item);
            if (back && std::equal(back->begin(), back->end(), payload.begin(), payload.end())) {
                m.update(*typed);
                return;
            }
            m["value_note"] = "the decoded value does not encode back to the same bytes";
        }
    }
    m["payload"] = codec::ToHex(payload);
}

Result<Bytes> PayloadFromMessage(Fields& m, dlt::DataId di, dlt::Edition edition) {
    auto item = dlt::FindDataItem(di, edition);
    return PayloadFrom(m, item ? &*item : nullptr);
}

Json BaudRatesJson(std::uint8_t z) {
    static constexpr std::pair<dlt::BaudTable, std::string_view> kTables[] = {
        {dlt::BaudTable::kBitmapD1Is600, "bitmap_d1_is_600"},
        {dlt::BaudTable::kBitmapD0Is600, "bitmap_d0_is_600"},
        {dlt::BaudTable::kBitmapD2Is600, "bitmap_d2_is_600"},
        {dlt::BaudTable::kRateDiv300Bcd, "rate_div_300_bcd"},
    };
    Json rates = Json::object();
    for (const auto& [table, name] : kTables) {
        if (auto rate = dlt::ZToBaudRate(z, table)) {
            rates[std::string(name)] = *rate;
        }
    }
    return rates;
}

constexpr std::array<std::string_view, 7> kRemoteCommandNames = {
    "trip",          "close_allowed", "direct_close", "alarm",
    "alarm_release", "hold_power",    "hold_release"};
constexpr std::array<dlt::RemoteCommand, 7> kRemoteCommands = {
    dlt::RemoteCommand::kTrip,         dlt::RemoteCommand::kCloseAllowed,
    dlt::RemoteCommand::kDirectClose,  dlt::RemoteCommand::kAlarm,
    dlt::RemoteCommand::kAlarmRelease, dlt::RemoteCommand::kHoldPower,
    dlt::RemoteCommand::kHoldRelease};
constexpr std::array<std::string_view, 3> kTerminalOutputNames = {"clock_pulse", "demand_period",
                                                                  "time_slot_switch"};
constexpr std::array<std::string_view, 7> kErrorBitNames = {"other",
                                                            "no_requested_data",
                                                            "password_error_or_unauthorized",
                                                            "baud_rate_unchangeable",
                                                            "year_zones_exceeded",
                                                            "day_slots_exceeded",
                                                            "tariffs_exceeded"};

std::string_view RemoteCommandName(dlt::RemoteCommand command) {
    for (std::size_t i = 0; i < kRemoteCommands.size(); ++i) {
        if (kRemoteCommands[i] == command) {
            return kRemoteCommandNames[i];
        }
    }
    return "unknown";
}

Json ErrorWordJson(dlt::ErrorWord word) {
    Json bits = Json::array();
    for (std::size_t i = 0; i < kErrorBitNames.size(); ++i) {
        if ((static_cast<unsigned>(word.raw) >> i & 1U) != 0) {
            bits.push_back(std::string(kErrorBitNames[i]));
        }
    }
    if ((word.raw & 0x80U) != 0) {
        bits.push_back("reserved_bit_7");
    }
    return Json{
        {"raw", Hex2(word.raw)}, {"bits", bits}, {"description", dlt::DescribeErrorWord(word)}};
}

Json FreezeFieldJson(const std::optional<int>& v) { return v ? Json(*v) : Json(nullptr); }

// --- DL/T 645 messages to JSON

Json MessageJson(const dlt::ReadDataRequest& r, const dlt::Frame& frame) {
    Json m{{"type", "read_data"}, {"di", dlt::FormatDataId(r.di, r.edition)}};
    PutDataItem(m, r.di, r.edition);
    if (r.load_record) {
        m["load_record"] = Json{{"blocks", r.load_record->block_count}};
        if (r.load_record->from) {
            m["load_record"]["from"] = MinutesText(*r.load_record->from);
        }
    }
    if (r.edition == dlt::Edition::k1997 && frame.control.function() == dlt::Function::kReadData) {
        m["sent_with_11h"] = true;
    }
    return m;
}
Json MessageJson(const dlt::ReadFollowUpRequest& r, const dlt::Frame&) {
    Json m{{"type", "read_follow_up"}, {"di", dlt::FormatDataId(r.di, r.edition)}};
    PutDataItem(m, r.di, r.edition);
    if (r.edition == dlt::Edition::k2007) {
        m["seq"] = r.seq;
    }
    return m;
}
Json MessageJson(const dlt::ReadAddressRequest&, const dlt::Frame&) {
    return Json{{"type", "read_address"}};
}
Json MessageJson(const dlt::WriteDataRequest& r, const dlt::Frame&) {
    Json m{{"type", "write_data"},
           {"di", dlt::FormatDataId(r.di, r.edition)},
           {"password", PasswordJson(r.password)}};
    PutDataItem(m, r.di, r.edition);
    if (r.edition == dlt::Edition::k2007) {
        m["operator"] = HexDigits(r.operator_code, 8);
    }
    PutPayload(m, r.di, r.edition, r.value);
    return m;
}
Json MessageJson(const dlt::WriteAddressRequest& r, const dlt::Frame&) {
    return Json{{"type", "write_address"}, {"new_address", dlt::FormatAddress(r.new_address)}};
}
Json MessageJson(const dlt::BroadcastTimeRequest& r, const dlt::Frame& frame) {
    auto sync = dlt::DecodeTimeSyncData(frame.data);
    const bool plain = sync && sync->form == dlt::TimeSyncForm::kPlain;
    return Json{{"type", "broadcast_time"},
                {"time", codec::FormatMeterDateTime(r.time)},
                {"form", plain ? "plain" : "plus33"}};
}
Json MessageJson(const dlt::FreezeRequest& r, const dlt::Frame&) {
    return Json{{"type", "freeze"},
                {"month", FreezeFieldJson(r.month)},
                {"day", FreezeFieldJson(r.day)},
                {"hour", FreezeFieldJson(r.hour)},
                {"minute", FreezeFieldJson(r.minute)}};
}
Json MessageJson(const dlt::ChangeBaudRequest& r, const dlt::Frame&) {
    return Json{{"type", "change_baud"}, {"z", Hex2(r.z)}, {"rates", BaudRatesJson(r.z)}};
}
Json MessageJson(const dlt::ChangePasswordRequest& r, const dlt::Frame&) {
    Json m{{"type", "change_password"},
           {"old_password", PasswordJson(r.old_password)},
           {"new_password", PasswordJson(r.new_password)}};
    if (r.edition == dlt::Edition::k2007) {
        m["di"] = dlt::FormatDataId(r.di);
    }
    return m;
}
Json MessageJson(const dlt::ClearMaxDemandRequest& r, const dlt::Frame&) {
    Json m{{"type", "clear_max_demand"}, {"password", PasswordJson(r.password)}};
    if (r.edition == dlt::Edition::k2007) {
        m["operator"] = HexDigits(r.operator_code, 8);
    }
    return m;
}
Json MessageJson(const dlt::MeterClearRequest& r, const dlt::Frame&) {
    return Json{{"type", "meter_clear"},
                {"password", PasswordJson(r.password)},
                {"operator", HexDigits(r.operator_code, 8)}};
}
Json MessageJson(const dlt::EventClearRequest& r, const dlt::Frame&) {
    return Json{{"type", "event_clear"},
                {"password", PasswordJson(r.password)},
                {"operator", HexDigits(r.operator_code, 8)},
                {"event_di", dlt::FormatDataId(r.event_di)}};
}
Json MessageJson(const dlt::RemoteControlRequest& r, const dlt::Frame&) {
    return Json{{"type", "remote_control"},
                {"password", PasswordJson(r.password)},
                {"operator", HexDigits(r.operator_code, 8)},
                {"command", std::string(RemoteCommandName(r.command))},
                {"command_code", Hex2(static_cast<std::uint8_t>(r.command))},
                {"reserved", Hex2(r.reserved)},
                {"valid_until", codec::FormatMeterDateTime(r.valid_until)}};
}
Json MessageJson(const dlt::MultiFunctionOutputRequest& r, const dlt::Frame&) {
    const auto code = static_cast<std::uint8_t>(r.output);
    return Json{
        {"type", "multi_function_output"},
        {"output", std::string(code < kTerminalOutputNames.size() ? kTerminalOutputNames[code]
                                                                  : std::string_view("unknown"))},
        {"output_code", Hex2(code)}};
}

Json MessageJson(const dlt::ReadReply& r, const dlt::Frame&) {
    Json m{{"type", "read_reply"}, {"di", dlt::FormatDataId(r.di, r.edition)}};
    PutDataItem(m, r.di, r.edition);
    PutPayload(m, r.di, r.edition, r.payload);
    if (r.answers_follow_up_read) {
        m["follow_up"] = true;
    }
    if (r.more_frames_follow) {
        m["more_frames_follow"] = true;
    }
    if (r.seq) {
        m["seq"] = *r.seq;
    }
    return m;
}
Json MessageJson(const dlt::AddressReply& r, const dlt::Frame&) {
    return Json{{"type", "address_reply"}, {"meter_address", dlt::FormatAddress(r.address)}};
}
Json MessageJson(const dlt::AckReply& r, const dlt::Frame&) {
    return Json{
        {"type", "ack"},
        {"function", std::string(Dlt645FunctionName(static_cast<std::uint8_t>(r.function)))}};
}
Json MessageJson(const dlt::BaudReply& r, const dlt::Frame&) {
    return Json{{"type", "baud_reply"}, {"z", Hex2(r.z)}, {"rates", BaudRatesJson(r.z)}};
}
Json MessageJson(const dlt::PasswordReply& r, const dlt::Frame&) {
    return Json{{"type", "password_reply"}, {"new_password", PasswordJson(r.new_password)}};
}
Json MessageJson(const dlt::ErrorReply& r, const dlt::Frame&) {
    return Json{
        {"type", "error_reply"},
        {"function", std::string(Dlt645FunctionName(static_cast<std::uint8_t>(r.function)))},
        {"error_word", ErrorWordJson(r.error)}};
}

Result<Json> Dlt645Message(const dlt::Frame& frame) {
    if (frame.control.is_reply()) {
        JOULE_ASSIGN_OR_RETURN(dlt::Reply reply, dlt::ParseReply(frame));
        return std::visit([&](const auto& r) { return MessageJson(r, frame); }, reply);
    }
    JOULE_ASSIGN_OR_RETURN(dlt::Request request, dlt::ParseRequest(frame));
    return std::visit([&](const auto& r) { return MessageJson(r, frame); }, request);
}

Json Dlt645Json(const dlt::Frame& frame, ByteView wire) {
    Json j{{"protocol", "dlt645"},
           {"address", dlt::FormatAddress(frame.address)},
           {"control", Dlt645ControlJson(frame.control)},
           {"checksum",
            {{"stated", Hex2(wire[wire.size() - 2])},
             {"computed", Hex2(codec::Sum8(wire.first(wire.size() - 2)))}}}};
    if (dlt::IsBroadcast(frame.address)) {
        j["address_kind"] = "broadcast";
    } else if (dlt::HasWildcard(frame.address)) {
        j["address_kind"] = "wildcard";
    }
    if (auto edition = dlt::DetectEdition(frame)) {
        j["edition"] = EditionText(*edition);
    }
    auto message = Dlt645Message(frame);
    if (message) {
        j["message"] = std::move(*message);
    } else {
        j["error"] = ErrorJson(message.error());
        j["data"] = codec::ToHex(frame.data);
    }
    return j;
}

// --- DL/T 645 JSON to frames

Result<dlt::Edition> EditionFrom(Fields& top) {
    JOULE_ASSIGN_OR_RETURN(std::string text, top.OptStr("edition", "2007"));
    if (text == "2007") {
        return dlt::Edition::k2007;
    }
    if (text == "1997") {
        return dlt::Edition::k1997;
    }
    return InvalidArgument(top.PathOf("edition"), "must be \"2007\" or \"1997\"");
}

Result<std::optional<int>> FreezeFieldFrom(Fields& m, std::string_view key, int min, int max) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, m.Value(key));
    if (v->is_null()) {
        return std::optional<int>{};
    }
    if (!v->is_number_integer() || v->get<std::int64_t>() < min || v->get<std::int64_t>() > max) {
        return InvalidArgument(m.PathOf(key), "must be null (any) or an integer " +
                                                  std::to_string(min) + ".." + std::to_string(max));
    }
    return std::optional<int>{static_cast<int>(v->get<std::int64_t>())};
}

struct Dlt645Build {
    dlt::Frame frame;
    dlt::RequestOptions options;
};

// nullopt when `type` names no request (it may name a reply).
Result<std::optional<dlt::Request>> Dlt645RequestFrom(const std::string& type, Fields& top,
                                                      Fields& m, dlt::RequestOptions& options) {
    if (type == "read_data") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::ReadDataRequest r{edition, 0, std::nullopt};
        JOULE_ASSIGN_OR_RETURN(r.di, DiFrom(m, "di", edition));
        if (m.Has("load_record")) {
            JOULE_ASSIGN_OR_RETURN(Fields lr, m.Child("load_record"));
            dlt::LoadRecordQuery query;
            JOULE_ASSIGN_OR_RETURN(std::int64_t blocks, lr.Int("blocks", 0, 255));
            query.block_count = static_cast<std::uint8_t>(blocks);
            if (lr.Has("from")) {
                JOULE_ASSIGN_OR_RETURN(query.from, lr.TimeField("from", kMinutesForm));
            }
            r.load_record = query;
        }
        JOULE_ASSIGN_OR_RETURN(bool as_11h, m.OptBool("sent_with_11h", false));
        options.read_1997_code = as_11h ? dlt::Read1997Code::k11 : dlt::Read1997Code::k01;
        return r;
    }
    if (type == "read_follow_up") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::ReadFollowUpRequest r{edition, 0, 0};
        JOULE_ASSIGN_OR_RETURN(r.di, DiFrom(m, "di", edition));
        if (edition == dlt::Edition::k2007) {
            JOULE_ASSIGN_OR_RETURN(std::int64_t seq, m.Int("seq", 0, 255));
            r.seq = static_cast<std::uint8_t>(seq);
        }
        return r;
    }
    if (type == "read_address") {
        return dlt::ReadAddressRequest{};
    }
    if (type == "write_data") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::WriteDataRequest r;
        r.edition = edition;
        JOULE_ASSIGN_OR_RETURN(r.di, DiFrom(m, "di", edition));
        JOULE_ASSIGN_OR_RETURN(r.password, PasswordFrom(m, "password"));
        if (edition == dlt::Edition::k2007) {
            JOULE_ASSIGN_OR_RETURN(r.operator_code, OperatorFrom(m));
        }
        JOULE_ASSIGN_OR_RETURN(r.value, PayloadFromMessage(m, r.di, edition));
        return r;
    }
    if (type == "write_address") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::WriteAddressRequest r{edition, {}};
        JOULE_ASSIGN_OR_RETURN(r.new_address, Dlt645AddressFrom(m, "new_address"));
        return r;
    }
    if (type == "broadcast_time") {
        dlt::BroadcastTimeRequest r;
        JOULE_ASSIGN_OR_RETURN(r.time, m.TimeField("time", kSecondsForm));
        JOULE_ASSIGN_OR_RETURN(std::string form, m.OptStr("form", "plus33"));
        if (form != "plus33" && form != "plain") {
            return InvalidArgument(m.PathOf("form"), "must be \"plus33\" or \"plain\"");
        }
        options.time_sync_form =
            form == "plain" ? dlt::TimeSyncForm::kPlain : dlt::TimeSyncForm::kPlus33;
        return r;
    }
    if (type == "freeze") {
        dlt::FreezeRequest r;
        JOULE_ASSIGN_OR_RETURN(r.month, FreezeFieldFrom(m, "month", 1, 12));
        JOULE_ASSIGN_OR_RETURN(r.day, FreezeFieldFrom(m, "day", 1, 31));
        JOULE_ASSIGN_OR_RETURN(r.hour, FreezeFieldFrom(m, "hour", 0, 23));
        JOULE_ASSIGN_OR_RETURN(r.minute, FreezeFieldFrom(m, "minute", 0, 59));
        return r;
    }
    if (type == "change_baud") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::ChangeBaudRequest r{edition, 0};
        JOULE_ASSIGN_OR_RETURN(r.z, m.HexByte("z"));
        return r;
    }
    if (type == "change_password") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::ChangePasswordRequest r;
        r.edition = edition;
        if (edition == dlt::Edition::k2007) {
            JOULE_ASSIGN_OR_RETURN(r.di, DiFrom(m, "di", edition));
        }
        JOULE_ASSIGN_OR_RETURN(r.old_password, PasswordFrom(m, "old_password"));
        JOULE_ASSIGN_OR_RETURN(r.new_password, PasswordFrom(m, "new_password"));
        return r;
    }
    if (type == "clear_max_demand") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::ClearMaxDemandRequest r;
        r.edition = edition;
        JOULE_ASSIGN_OR_RETURN(r.password, PasswordFrom(m, "password"));
        if (edition == dlt::Edition::k2007) {
            JOULE_ASSIGN_OR_RETURN(r.operator_code, OperatorFrom(m));
        }
        return r;
    }
    if (type == "meter_clear") {
        dlt::MeterClearRequest r;
        JOULE_ASSIGN_OR_RETURN(r.password, PasswordFrom(m, "password"));
        JOULE_ASSIGN_OR_RETURN(r.operator_code, OperatorFrom(m));
        return r;
    }
    if (type == "event_clear") {
        dlt::EventClearRequest r;
        JOULE_ASSIGN_OR_RETURN(r.password, PasswordFrom(m, "password"));
        JOULE_ASSIGN_OR_RETURN(r.operator_code, OperatorFrom(m));
        JOULE_ASSIGN_OR_RETURN(r.event_di, DiFrom(m, "event_di", dlt::Edition::k2007));
        return r;
    }
    if (type == "remote_control") {
        dlt::RemoteControlRequest r;
        JOULE_ASSIGN_OR_RETURN(r.password, PasswordFrom(m, "password"));
        JOULE_ASSIGN_OR_RETURN(r.operator_code, OperatorFrom(m));
        JOULE_ASSIGN_OR_RETURN(std::size_t command, m.Choice("command", kRemoteCommandNames));
        r.command = kRemoteCommands[command];
        if (m.Has("reserved")) {
            JOULE_ASSIGN_OR_RETURN(r.reserved, m.HexByte("reserved"));
        }
        JOULE_ASSIGN_OR_RETURN(r.valid_until, m.TimeField("valid_until", kSecondsForm));
        return r;
    }
    if (type == "multi_function_output") {
        JOULE_ASSIGN_OR_RETURN(std::size_t output, m.Choice("output", kTerminalOutputNames));
        return dlt::MultiFunctionOutputRequest{static_cast<dlt::TerminalOutput>(output)};
    }
    return std::optional<dlt::Request>{};
}

Result<dlt::Reply> Dlt645ReplyFrom(const std::string& type, Fields& top, Fields& m) {
    if (type == "read_reply") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::ReadReply r;
        r.edition = edition;
        JOULE_ASSIGN_OR_RETURN(r.di, DiFrom(m, "di", edition));
        JOULE_ASSIGN_OR_RETURN(r.payload, PayloadFromMessage(m, r.di, edition));
        JOULE_ASSIGN_OR_RETURN(r.answers_follow_up_read, m.OptBool("follow_up", false));
        JOULE_ASSIGN_OR_RETURN(r.more_frames_follow, m.OptBool("more_frames_follow", false));
        if (m.Has("seq")) {
            JOULE_ASSIGN_OR_RETURN(std::int64_t seq, m.Int("seq", 0, 255));
            r.seq = static_cast<std::uint8_t>(seq);
        }
        return r;
    }
    if (type == "address_reply") {
        dlt::AddressReply r;
        JOULE_ASSIGN_OR_RETURN(r.address, Dlt645AddressFrom(m, "meter_address"));
        return r;
    }
    if (type == "ack" || type == "error_reply") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        JOULE_ASSIGN_OR_RETURN(std::string name, m.Str("function"));
        JOULE_ASSIGN_OR_RETURN(dlt::Function function,
                               Dlt645FunctionByName(name, edition, m.PathOf("function")));
        if (type == "ack") {
            return dlt::AckReply{function};
        }
        JOULE_ASSIGN_OR_RETURN(Fields word, m.Child("error_word"));
        JOULE_ASSIGN_OR_RETURN(std::uint8_t raw, word.HexByte("raw"));
        return dlt::ErrorReply{function, dlt::ErrorWord{raw}};
    }
    if (type == "baud_reply") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::BaudReply r{edition, 0};
        JOULE_ASSIGN_OR_RETURN(r.z, m.HexByte("z"));
        return r;
    }
    if (type == "password_reply") {
        JOULE_ASSIGN_OR_RETURN(dlt::Edition edition, EditionFrom(top));
        dlt::PasswordReply r{edition, {}};
        JOULE_ASSIGN_OR_RETURN(r.new_password, PasswordFrom(m, "new_password"));
        return r;
    }
    return InvalidArgument(m.PathOf("type"),
                           "\"" + type + "\" is not a DL/T 645 message type (docs/frame-tool.md)");
}

Result<dlt::Frame> Dlt645FrameFrom(Fields& top) {
    JOULE_ASSIGN_OR_RETURN(dlt::Address address, Dlt645AddressFrom(top, "address"));
    if (!top.Has("message")) {
        // The raw form printed for a frame whose message did not parse: control byte and data.
        JOULE_ASSIGN_OR_RETURN(Fields control, top.Child("control"));
        dlt::Frame frame{address, {}, {}};
        JOULE_ASSIGN_OR_RETURN(frame.control.raw, control.HexByte("raw"));
        JOULE_ASSIGN_OR_RETURN(frame.data, top.HexBytes("data", dlt::kMaxDataBytes));
        return frame;
    }
    JOULE_ASSIGN_OR_RETURN(Fields m, top.Child("message"));
    JOULE_ASSIGN_OR_RETURN(std::string type, m.Str("type"));
    dlt::RequestOptions options;
    JOULE_ASSIGN_OR_RETURN(std::optional<dlt::Request> request,
                           Dlt645RequestFrom(type, top, m, options));
    Result<dlt::Frame> frame = dlt::Frame{};
    if (request) {
        frame = dlt::BuildRequest(address, *request, options);
    } else {
        JOULE_ASSIGN_OR_RETURN(dlt::Reply reply, Dlt645ReplyFrom(type, top, m));
        frame = dlt::BuildReply(address, reply);
    }
    if (!frame) {
        return std::unexpected(frame.error().WithFieldPrefix("message"));
    }
    return std::move(*frame);
}

// ============================================================================ Modbus

constexpr std::array<std::pair<std::uint8_t, std::string_view>, 8> kModbusFunctions = {{
    {0x01, "read_coils"},
    {0x02, "read_discrete_inputs"},
    {0x03, "read_holding_registers"},
    {0x04, "read_input_registers"},
    {0x05, "write_single_coil"},
    {0x06, "write_single_register"},
    {0x0F, "write_multiple_coils"},
    {0x10, "write_multiple_registers"},
}};

Json ModbusFunctionJson(std::uint8_t raw) {
    std::string_view name = "unknown";
    for (const auto& [code, text] : kModbusFunctions) {
        if (code == (raw & 0x7FU)) {
            name = text;
        }
    }
    return Json{{"code", Hex2(raw)},
                {"name", std::string(name)},
                {"exception", (raw & mb::kExceptionFlag) != 0}};
}

std::uint16_t U16At(const Bytes& data, std::size_t at) {
    return static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
}

Json RegistersJson(const std::vector<std::uint16_t>& registers) {
    Json out = Json::array();
    for (std::uint16_t r : registers) {
        out.push_back(HexDigits(r, 4));
    }
    return out;
}

Result<Json> ModbusRequestJson(const mb::Pdu& pdu) {
    JOULE_ASSIGN_OR_RETURN(mb::Request r, mb::DecodeRequest(pdu));
    Json m{{"address", r.address}};
    switch (r.function) {
        case mb::FunctionCode::kReadCoils:
        case mb::FunctionCode::kReadDiscreteInputs:
        case mb::FunctionCode::kReadHoldingRegisters:
        case mb::FunctionCode::kReadInputRegisters:
            m["quantity"] = r.quantity;
            break;
        case mb::FunctionCode::kWriteSingleCoil:
            m["coil"] = static_cast<bool>(r.coils.at(0));
            break;
        case mb::FunctionCode::kWriteSingleRegister:
            m["value"] = HexDigits(r.registers.at(0), 4);
            break;
        case mb::FunctionCode::kWriteMultipleCoils: {
            m["quantity"] = r.quantity;
            Json coils = Json::array();
            for (bool c : r.coils) {
                coils.push_back(c);
            }
            m["coils"] = coils;
            break;
        }
        case mb::FunctionCode::kWriteMultipleRegisters:
            m["quantity"] = r.quantity;
            m["registers"] = RegistersJson(r.registers);
            break;
    }
    return m;
}

// A response PDU on its own (without the request it answers): shapes by function code.
Result<Json> ModbusResponseJson(const mb::Pdu& pdu) {
    const Bytes& d = pdu.data;
    auto need = [&](bool ok, const std::string& what) -> Status {
        if (!ok) {
            return InvalidArgument("data", what + " (" + std::to_string(d.size()) + " data bytes)");
        }
        return {};
    };
    if ((pdu.function & mb::kExceptionFlag) != 0) {
        JOULE_TRY(need(d.size() == 1, "an exception reply carries 1 code byte"));
        return Json{{"exception_code", Hex2(d[0])},
                    {"exception", std::string(mb::ExceptionName(d[0]))}};
    }
    if (!mb::IsSupportedFunction(pdu.function)) {
        return InvalidArgument("function", "unsupported function " + Hex2(pdu.function) + "H");
    }
    switch (static_cast<mb::FunctionCode>(pdu.function)) {
        case mb::FunctionCode::kReadCoils:
        case mb::FunctionCode::kReadDiscreteInputs: {
            JOULE_TRY(need(!d.empty() && d[0] > 0 && d.size() == 1U + d[0],
                           "a bit read reply is byte count + that many bytes"));
            Json bits = Json::array();
            for (std::size_t i = 1; i < d.size(); ++i) {
                for (unsigned bit = 0; bit < 8; ++bit) {
                    bits.push_back((static_cast<unsigned>(d[i]) >> bit & 1U) != 0);
                }
            }
            return Json{{"byte_count", d[0]}, {"bits", bits}};
        }
        case mb::FunctionCode::kReadHoldingRegisters:
        case mb::FunctionCode::kReadInputRegisters: {
            JOULE_TRY(need(!d.empty() && d[0] > 0 && d[0] % 2 == 0 && d.size() == 1U + d[0],
                           "a register read reply is an even byte count + that many bytes"));
            std::vector<std::uint16_t> registers;
            for (std::size_t i = 1; i + 1 < d.size(); i += 2) {
                registers.push_back(U16At(d, i));
            }
            return Json{{"byte_count", d[0]}, {"registers", RegistersJson(registers)}};
        }
        case mb::FunctionCode::kWriteSingleCoil: {
            JOULE_TRY(need(d.size() == 4, "a write-coil reply echoes address and value"));
            const std::uint16_t value = U16At(d, 2);
            if (value != 0xFF00 && value != 0x0000) {
                return InvalidArgument(
                    "value", "coil value must be FF00 or 0000, got " + HexDigits(value, 4));
            }
            return Json{{"address", U16At(d, 0)}, {"coil", value == 0xFF00}};
        }
        case mb::FunctionCode::kWriteSingleRegister:
            JOULE_TRY(need(d.size() == 4, "a write-register reply echoes address and value"));
            return Json{{"address", U16At(d, 0)}, {"value", HexDigits(U16At(d, 2), 4)}};
        case mb::FunctionCode::kWriteMultipleCoils:
        case mb::FunctionCode::kWriteMultipleRegisters:
            JOULE_TRY(need(d.size() == 4, "a multiple-write reply echoes address and quantity"));
            return Json{{"address", U16At(d, 0)}, {"quantity", U16At(d, 2)}};
    }
    return InvalidArgument("function", "unsupported function");
}

struct PduDecoding {
    FrameDirection direction = FrameDirection::kRequest;
    Result<Json> message = Json{};
};

// The PDU as the hinted direction, or without a hint as a request first and then a response.
PduDecoding DecodePdu(const mb::Pdu& pdu, std::optional<FrameDirection> hint) {
    const bool exception = (pdu.function & mb::kExceptionFlag) != 0;
    if (hint == FrameDirection::kResponse || (!hint && exception)) {
        return {FrameDirection::kResponse, ModbusResponseJson(pdu)};
    }
    auto request = ModbusRequestJson(pdu);
    if (request || hint == FrameDirection::kRequest) {
        return {FrameDirection::kRequest, std::move(request)};
    }
    auto response = ModbusResponseJson(pdu);
    if (response) {
        return {FrameDirection::kResponse, std::move(response)};
    }
    return {FrameDirection::kRequest, std::move(request)};
}

void PutPdu(Json& j, const mb::Pdu& pdu, std::optional<FrameDirection> hint) {
    PduDecoding decoded = DecodePdu(pdu, hint);
    j["direction"] = decoded.direction == FrameDirection::kRequest ? "request" : "response";
    j["function"] = ModbusFunctionJson(pdu.function);
    if (decoded.message) {
        j["message"] = std::move(*decoded.message);
    } else {
        Bytes raw{pdu.function};
        raw.insert(raw.end(), pdu.data.begin(), pdu.data.end());
        j["error"] = ErrorJson(decoded.message.error());
        j["pdu"] = codec::ToHex(raw);
    }
}

Json RtuJson(const mb::RtuAdu& adu, ByteView wire, std::optional<FrameDirection> hint) {
    const std::uint16_t crc = mb::Crc16(wire.first(wire.size() - 2));
    const Bytes computed{static_cast<std::uint8_t>(crc & 0xFFU),
                         static_cast<std::uint8_t>(crc >> 8)};
    Json j{{"protocol", "modbus_rtu"},
           {"unit", adu.unit},
           {"crc", {{"stated", codec::ToHex(wire.last(2))}, {"computed", codec::ToHex(computed)}}}};
    if (adu.unit == mb::kBroadcastUnit) {
        j["broadcast"] = true;
    }
    PutPdu(j, adu.pdu, hint);
    return j;
}

Json TcpJson(const mb::TcpAdu& adu, ByteView wire, std::optional<FrameDirection> hint) {
    Json j{{"protocol", "modbus_tcp"},
           {"transaction_id", adu.transaction_id},
           {"unit", adu.unit},
           {"mbap", {{"protocol_id", 0}, {"length", wire[4] << 8 | wire[5]}}}};
    PutPdu(j, adu.pdu, hint);
    return j;
}

Result<mb::Pdu> ModbusPduFrom(Fields& top, FrameDirection direction) {
    if (!top.Has("message")) {
        JOULE_ASSIGN_OR_RETURN(Bytes raw, top.HexBytes("pdu", mb::kMaxPduBytes));
        if (raw.empty()) {
            return InvalidArgument(top.PathOf("pdu"), "must hold at least the function code");
        }
        return mb::Pdu{raw[0], Bytes(raw.begin() + 1, raw.end())};
    }
    JOULE_ASSIGN_OR_RETURN(Fields fn, top.Child("function"));
    JOULE_ASSIGN_OR_RETURN(std::uint8_t code, fn.HexByte("code"));
    JOULE_ASSIGN_OR_RETURN(Fields m, top.Child("message"));
    const std::string code_path = fn.PathOf("code");
    if ((code & mb::kExceptionFlag) != 0) {
        if (direction != FrameDirection::kResponse) {
            return InvalidArgument(code_path, "an exception function code is a response");
        }
        JOULE_ASSIGN_OR_RETURN(std::uint8_t exception, m.HexByte("exception_code"));
        return mb::BuildExceptionResponse(static_cast<std::uint8_t>(code & 0x7FU),
                                          static_cast<mb::ExceptionCode>(exception));
    }
    if (!mb::IsSupportedFunction(code)) {
        return InvalidArgument(
            code_path, "function " + Hex2(code) + "H is not supported: give the bytes as \"pdu\"");
    }
    const auto function = static_cast<mb::FunctionCode>(code);
    auto read_registers = [&](std::string_view key) -> Result<std::vector<std::uint16_t>> {
        JOULE_ASSIGN_OR_RETURN(const Json* array, m.Array(key));
        std::vector<std::uint16_t> out;
        for (std::size_t i = 0; i < array->size(); ++i) {
            const Json& v = (*array)[i];
            const std::string at = m.PathOf(key) + "[" + std::to_string(i) + "]";
            auto value = v.is_string() ? HexText(v.get<std::string>(), 4) : std::nullopt;
            if (!value) {
                return InvalidArgument(at, "must be 4 hex digits such as \"00FF\"");
            }
            out.push_back(static_cast<std::uint16_t>(*value));
        }
        return out;
    };
    auto read_bits = [&](std::string_view key) -> Result<std::vector<bool>> {
        JOULE_ASSIGN_OR_RETURN(const Json* array, m.Array(key));
        std::vector<bool> out;
        for (std::size_t i = 0; i < array->size(); ++i) {
            if (!(*array)[i].is_boolean()) {
                return InvalidArgument(m.PathOf(key) + "[" + std::to_string(i) + "]",
                                       "must be true or false");
            }
            out.push_back((*array)[i].get<bool>());
        }
        return out;
    };
    auto address_of = [&]() -> Result<std::uint16_t> {
        JOULE_ASSIGN_OR_RETURN(std::int64_t address, m.Int("address", 0, 0xFFFF));
        return static_cast<std::uint16_t>(address);
    };
    auto value_of = [&]() -> Result<std::uint16_t> {
        JOULE_ASSIGN_OR_RETURN(std::uint64_t value, m.HexNumber("value", 4));
        return static_cast<std::uint16_t>(value);
    };
    Result<mb::Pdu> pdu = mb::Pdu{};
    if (direction == FrameDirection::kRequest) {
        mb::Request r;
        JOULE_ASSIGN_OR_RETURN(std::uint16_t address, address_of());
        switch (function) {
            case mb::FunctionCode::kReadCoils:
            case mb::FunctionCode::kReadDiscreteInputs:
            case mb::FunctionCode::kReadHoldingRegisters:
            case mb::FunctionCode::kReadInputRegisters: {
                JOULE_ASSIGN_OR_RETURN(std::int64_t quantity, m.Int("quantity", 0, 0xFFFF));
                r = mb::ReadRequest(function, address, static_cast<std::uint16_t>(quantity));
                break;
            }
            case mb::FunctionCode::kWriteSingleCoil: {
                JOULE_ASSIGN_OR_RETURN(bool on, m.Bool("coil"));
                r = mb::WriteSingleCoil(address, on);
                break;
            }
            case mb::FunctionCode::kWriteSingleRegister: {
                JOULE_ASSIGN_OR_RETURN(std::uint16_t value, value_of());
                r = mb::WriteSingleRegister(address, value);
                break;
            }
            case mb::FunctionCode::kWriteMultipleCoils: {
                JOULE_ASSIGN_OR_RETURN(std::vector<bool> coils, read_bits("coils"));
                r = mb::WriteMultipleCoils(address, std::move(coils));
                break;
            }
            case mb::FunctionCode::kWriteMultipleRegisters: {
                JOULE_ASSIGN_OR_RETURN(std::vector<std::uint16_t> registers,
                                       read_registers("registers"));
                r = mb::WriteMultipleRegisters(address, std::move(registers));
                break;
            }
        }
        pdu = mb::EncodeRequest(r);
    } else {
        switch (function) {
            case mb::FunctionCode::kReadCoils:
            case mb::FunctionCode::kReadDiscreteInputs: {
                JOULE_ASSIGN_OR_RETURN(std::vector<bool> bits, read_bits("bits"));
                const auto n =
                    static_cast<std::uint16_t>(std::min<std::size_t>(bits.size(), 0xFFFF));
                pdu = mb::BuildResponse(mb::ReadRequest(function, 0, n), {}, bits);
                break;
            }
            case mb::FunctionCode::kReadHoldingRegisters:
            case mb::FunctionCode::kReadInputRegisters: {
                JOULE_ASSIGN_OR_RETURN(std::vector<std::uint16_t> registers,
                                       read_registers("registers"));
                const auto n =
                    static_cast<std::uint16_t>(std::min<std::size_t>(registers.size(), 0xFFFF));
                pdu = mb::BuildResponse(mb::ReadRequest(function, 0, n), registers);
                break;
            }
            case mb::FunctionCode::kWriteSingleCoil: {
                JOULE_ASSIGN_OR_RETURN(std::uint16_t address, address_of());
                JOULE_ASSIGN_OR_RETURN(bool on, m.Bool("coil"));
                pdu = mb::BuildResponse(mb::WriteSingleCoil(address, on));
                break;
            }
            case mb::FunctionCode::kWriteSingleRegister: {
                JOULE_ASSIGN_OR_RETURN(std::uint16_t address, address_of());
                JOULE_ASSIGN_OR_RETURN(std::uint16_t value, value_of());
                pdu = mb::BuildResponse(mb::WriteSingleRegister(address, value));
                break;
            }
            case mb::FunctionCode::kWriteMultipleCoils:
            case mb::FunctionCode::kWriteMultipleRegisters: {
                JOULE_ASSIGN_OR_RETURN(std::uint16_t address, address_of());
                JOULE_ASSIGN_OR_RETURN(std::int64_t quantity, m.Int("quantity", 1, 0xFFFF));
                const auto n = static_cast<std::size_t>(quantity);
                pdu = function == mb::FunctionCode::kWriteMultipleCoils
                          ? mb::BuildResponse(
                                mb::WriteMultipleCoils(address, std::vector<bool>(n, false)))
                          : mb::BuildResponse(mb::WriteMultipleRegisters(
                                address, std::vector<std::uint16_t>(n, 0)));
                break;
            }
        }
    }
    if (!pdu) {
        return std::unexpected(pdu.error().WithFieldPrefix("message"));
    }
    return std::move(*pdu);
}

Result<FrameDirection> ModbusDirectionFrom(Fields& top) {
    JOULE_ASSIGN_OR_RETURN(std::string direction, top.Str("direction"));
    if (direction == "request") {
        return FrameDirection::kRequest;
    }
    if (direction == "response") {
        return FrameDirection::kResponse;
    }
    return InvalidArgument(top.PathOf("direction"), "must be \"request\" or \"response\"");
}

// ============================================================================ CJ/T 188

constexpr std::array<std::pair<cjt::MeterType, std::string_view>, 10> kMeterTypes = {{
    {cjt::MeterType::kColdWater, "cold_water"},
    {cjt::MeterType::kHotWater, "hot_water"},
    {cjt::MeterType::kDrinkingWater, "drinking_water"},
    {cjt::MeterType::kReclaimedWater, "reclaimed_water"},
    {cjt::MeterType::kHeat, "heat"},
    {cjt::MeterType::kCooling, "cooling"},
    {cjt::MeterType::kHeatAndCooling, "heat_and_cooling"},
    {cjt::MeterType::kGas, "gas"},
    {cjt::MeterType::kElectricity, "electricity"},
    {cjt::MeterType::kWildcard, "wildcard"},
}};

constexpr std::array<std::pair<std::uint8_t, std::string_view>, 6> kCjt188Functions = {{
    {0x01, "read_data"},
    {0x03, "read_address"},
    {0x04, "write_data"},
    {0x09, "read_key_version"},
    {0x15, "write_address"},
    {0x16, "motor_sync"},
}};

std::string MeterTypeText(cjt::MeterType type) {
    for (const auto& [t, name] : kMeterTypes) {
        if (t == type) {
            return std::string(name);
        }
    }
    return Hex2(static_cast<std::uint8_t>(type));
}

std::string_view FamilyText(cjt::MeterFamily family) {
    switch (family) {
        case cjt::MeterFamily::kWater:
            return "water";
        case cjt::MeterFamily::kHeat:
            return "heat";
        case cjt::MeterFamily::kGas:
            return "gas";
        case cjt::MeterFamily::kUserDefined:
            return "user_defined";
        case cjt::MeterFamily::kUnknown:
            break;
    }
    return "unknown";
}

bool IsCjt188Function(std::uint8_t code) {
    return std::any_of(kCjt188Functions.begin(), kCjt188Functions.end(),
                       [code](const auto& f) { return f.first == code; });
}

std::string_view Cjt188FunctionName(std::uint8_t code) {
    for (const auto& [c, name] : kCjt188Functions) {
        if (c == code) {
            return name;
        }
    }
    return "unknown";
}

std::string Cjt188DiName(std::uint16_t di) {
    if (di == cjt::kDiCurrentData) {
        return "current metering data";
    }
    if (di >= cjt::kDiHistoryFirst && di <= cjt::kDiHistoryLast) {
        return "settlement history, month " + std::to_string(di - cjt::kDiHistoryFirst + 1) +
               " back";
    }
    static constexpr std::array<std::pair<std::uint16_t, std::string_view>, 11> kNames = {{
        {0x810A, "read address"},
        {0xA010, "write price table"},
        {0xA011, "write settlement day"},
        {0xA012, "write reading day"},
        {0xA013, "write purchase amount"},
        {0xA014, "write new key"},
        {0xA015, "write standard time"},
        {0xA016, "motor sync"},
        {0xA017, "valve control"},
        {0xA018, "write address"},
        {0xA019, "factory enable"},
    }};
    for (const auto& [code, name] : kNames) {
        if (code == di) {
            return std::string(name);
        }
    }
    if (di >= 0x903F && di <= 0x907F) {
        return "heat meter sub-item";
    }
    if (di >= 0xA101 && di <= 0xA107) {
        return "2018 parameter";
    }
    return "";
}

Json Cjt188ControlJson(std::uint8_t raw) {
    const cjt::Control c = cjt::DecodeControl(raw);
    return Json{{"raw", Hex2(raw)},
                {"code", Hex2(c.function)},
                {"function", std::string(Cjt188FunctionName(c.function))},
                {"direction", c.from_meter ? "reply" : "request"},
                {"abnormal", c.abnormal},
                {"follow_up", c.follow_up}};
}

Json UnitValueJson(const cjt::UnitValue& v) {
    Json j{{"value", codec::FormatDecimal(v.value)}, {"unit_code", Hex2(v.unit)}};
    if (auto info = cjt::DescribeUnit(v.unit)) {
        std::string unit(info->symbol);
        if (info->exponent == 1) {
            unit += " x10";
        } else if (info->exponent == 2) {
            unit += " x100";
        }
        j["unit"] = unit;
    }
    return j;
}

bool UnitKnown(const cjt::UnitValue& v) { return cjt::DescribeUnit(v.unit).has_value(); }

Json StatusJson(ByteView st) {
    constexpr std::array<std::string_view, 4> kValve = {"open", "closed", "undefined", "abnormal"};
    const cjt::MeterStatus s = cjt::DecodeStatus(
        static_cast<std::uint16_t>(st.empty() ? 0U : st[0]), cjt::StatusLayout::kStandard);
    return Json{{"raw", codec::ToHex(st)},
                {"valve", std::string(kValve[static_cast<std::size_t>(s.valve) & 3U])},
                {"battery_low", s.battery_low}};
}

Json StatusWordJson(std::uint16_t st) {
    const Bytes bytes{static_cast<std::uint8_t>(st & 0xFFU), static_cast<std::uint8_t>(st >> 8)};
    return StatusJson(bytes);
}

Json ClockJson(const std::optional<MeterDateTime>& clock) {
    return clock ? Json(codec::FormatMeterDateTime(*clock)) : Json(nullptr);
}

constexpr std::array<std::string_view, 2> kUnitPositions = {"unit_after", "unit_before"};
constexpr std::array<std::string_view, 3> kHeatLayouts = {"standard46", "unit_first46",
                                                          "ng_gateway43"};

Json WaterJson(const cjt::WaterGasData& w, cjt::UnitPosition position) {
    return Json{{"type", "water_data"},
                {"layout", std::string(kUnitPositions[static_cast<std::size_t>(position)])},
                {"current", UnitValueJson(w.current)},
                {"settlement", UnitValueJson(w.settlement)},
                {"clock", ClockJson(w.clock)},
                {"st", StatusWordJson(w.st)}};
}

Json HeatJson(const cjt::HeatData& h, cjt::HeatLayout layout) {
    return Json{{"type", "heat_data"},
                {"layout", std::string(kHeatLayouts[static_cast<std::size_t>(layout)])},
                {"settlement_heat", UnitValueJson(h.settlement_heat)},
                {"current_heat", UnitValueJson(h.current_heat)},
                {"heat_power", UnitValueJson(h.heat_power)},
                {"flow_rate", UnitValueJson(h.flow_rate)},
                {"cumulative_flow", UnitValueJson(h.cumulative_flow)},
                {"supply_temperature", codec::FormatDecimal(h.supply_temperature)},
                {"return_temperature", codec::FormatDecimal(h.return_temperature)},
                {"working_hours", std::to_string(h.working_hours)},
                {"clock", ClockJson(h.clock)},
                {"st", StatusWordJson(h.st)}};
}

Result<Json> WaterMessage(ByteView data) {
    std::optional<Json> fallback;
    Error first_error;
    for (cjt::UnitPosition position :
         {cjt::UnitPosition::kAfterValue, cjt::UnitPosition::kBeforeValue}) {
        auto w = cjt::DecodeWaterGasData(data, position);
        if (!w) {
            if (position == cjt::UnitPosition::kAfterValue) {
                first_error = w.error();
            }
            continue;
        }
        if (UnitKnown(w->current) && UnitKnown(w->settlement)) {
            return WaterJson(*w, position);
        }
        if (!fallback) {
            fallback = WaterJson(*w, position);
        }
    }
    if (fallback) {
        return *fallback;
    }
    return std::unexpected(first_error);
}

Result<Json> HeatMessage(ByteView data) {
    std::optional<Json> fallback;
    Error first_error{ErrorCode::kInvalidArgument,
                      "a heat 901F reply has 43 (46-byte layouts) or 40 (ng-gateway) data bytes, "
                      "got " +
                          std::to_string(data.size()),
                      "901F"};
    const std::array<cjt::HeatLayout, 2> layouts46 = {cjt::HeatLayout::kStandard46,
                                                      cjt::HeatLayout::kUnitFirst46};
    const std::array<cjt::HeatLayout, 1> layouts43 = {cjt::HeatLayout::kNgGateway43};
    std::span<const cjt::HeatLayout> layouts;
    if (data.size() == 43) {
        layouts = layouts46;
    } else if (data.size() == 40) {
        layouts = layouts43;
    }
    bool first = true;
    for (cjt::HeatLayout layout : layouts) {
        auto h = cjt::DecodeHeatData(data, layout);
        if (!h) {
            if (first) {
                first_error = h.error();
            }
            first = false;
            continue;
        }
        first = false;
        if (UnitKnown(h->settlement_heat) && UnitKnown(h->current_heat) &&
            UnitKnown(h->heat_power) && UnitKnown(h->flow_rate) && UnitKnown(h->cumulative_flow)) {
            return HeatJson(*h, layout);
        }
        if (!fallback) {
            fallback = HeatJson(*h, layout);
        }
    }
    if (fallback) {
        return *fallback;
    }
    return std::unexpected(first_error);
}

Result<Json> HistoryMessage(ByteView data, std::uint16_t di) {
    std::optional<Json> fallback;
    Error first_error;
    for (cjt::UnitPosition position :
         {cjt::UnitPosition::kAfterValue, cjt::UnitPosition::kBeforeValue}) {
        auto v = cjt::DecodeHistoryData(data, position);
        if (!v) {
            if (position == cjt::UnitPosition::kAfterValue) {
                first_error = v.error();
            }
            continue;
        }
        Json j{{"type", "history"},
               {"layout", std::string(kUnitPositions[static_cast<std::size_t>(position)])},
               {"month", di - cjt::kDiHistoryFirst + 1},
               {"settlement", UnitValueJson(*v)}};
        if (UnitKnown(*v)) {
            return j;
        }
        if (!fallback) {
            fallback = j;
        }
    }
    if (fallback) {
        return *fallback;
    }
    return std::unexpected(first_error);
}

// The typed message of a CJ/T 188 frame's data; nullopt when it has no typed form.
std::optional<Result<Json>> Cjt188Typed(const cjt::Frame& f) {
    const cjt::Control c = cjt::DecodeControl(f.control);
    const Bytes& d = f.data;
    if (d.empty()) {
        return Result<Json>(Json{{"type", "empty"}});
    }
    if (!f.has_di || (c.from_meter && c.abnormal)) {
        if (c.abnormal && d.size() <= 2) {
            return Result<Json>(Json{{"type", "status"}, {"st", StatusJson(d)}});
        }
        return std::nullopt;
    }
    if (!c.from_meter) {
        if (f.di == cjt::kDiValveControl) {
            auto command = cjt::ParseValveControlRequest(f);
            if (!command) {
                return Result<Json>(std::unexpected(command.error()));
            }
            return Result<Json>(
                Json{{"type", "valve_control"},
                     {"command", *command == cjt::ValveCommand::kOpen ? "open" : "close"},
                     {"command_code", Hex2(d[0])}});
        }
        if (f.di == cjt::kDiWriteAddress && d.size() == cjt::kAddressBytes) {
            cjt::Address a{};
            std::copy_n(d.begin(), cjt::kAddressBytes, a.begin());
            return Result<Json>(
                Json{{"type", "write_address"}, {"new_address", cjt::FormatAddress(a)}});
        }
        return std::nullopt;
    }
    switch (c.function) {
        case 0x01:
            if (f.di == cjt::kDiCurrentData) {
                return d.size() == 19 ? WaterMessage(d) : HeatMessage(d);
            }
            if (f.di >= cjt::kDiHistoryFirst && f.di <= cjt::kDiHistoryLast) {
                return HistoryMessage(d, f.di);
            }
            return std::nullopt;
        case 0x03:
            if (d.size() == cjt::kAddressBytes) {
                cjt::Address a{};
                std::copy_n(d.begin(), cjt::kAddressBytes, a.begin());
                return Result<Json>(
                    Json{{"type", "address_reply"}, {"meter_address", cjt::FormatAddress(a)}});
            }
            return std::nullopt;
        case 0x04:
        case 0x15:
        case 0x16:
            if (d.size() <= 2) {
                return Result<Json>(Json{{"type", "status"}, {"st", StatusJson(d)}});
            }
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

Result<cjt::UnitValue> UnitValueFrom(Fields& m, std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(Fields v, m.Child(key));
    cjt::UnitValue out;
    JOULE_ASSIGN_OR_RETURN(out.value, v.DecimalField("value"));
    JOULE_ASSIGN_OR_RETURN(out.unit, v.HexByte("unit_code"));
    return out;
}

Result<Bytes> StatusBytesFrom(Fields& m, std::size_t min_bytes) {
    JOULE_ASSIGN_OR_RETURN(Fields st, m.Child("st"));
    JOULE_ASSIGN_OR_RETURN(Bytes raw, st.HexBytes("raw", 2));
    if (raw.size() < min_bytes) {
        return InvalidArgument(st.PathOf("raw"), "ST is " + std::to_string(min_bytes) +
                                                     (min_bytes == 2 ? "" : "..2") +
                                                     " bytes, e.g. \"00 00\"");
    }
    return raw;
}

Result<std::uint16_t> StatusWordFrom(Fields& m) {
    JOULE_ASSIGN_OR_RETURN(Bytes raw, StatusBytesFrom(m, 2));
    return static_cast<std::uint16_t>(raw[0] | raw[1] << 8);
}

Result<std::optional<MeterDateTime>> ClockFrom(Fields& m) {
    JOULE_ASSIGN_OR_RETURN(const Json* v, m.Value("clock"));
    if (v->is_null()) {
        return std::optional<MeterDateTime>{};
    }
    if (!v->is_string()) {
        return InvalidArgument(m.PathOf("clock"), "must be null or \"YYYY-MM-DD hh:mm:ss\"");
    }
    JOULE_ASSIGN_OR_RETURN(MeterDateTime t,
                           ParseTimeText(v->get<std::string>(), kSecondsForm, m.PathOf("clock")));
    return std::optional<MeterDateTime>{t};
}

Result<cjt::Address> Cjt188AddressFrom(Fields& f, std::string_view key) {
    JOULE_ASSIGN_OR_RETURN(std::string text, f.Str(key, 14));
    auto address = cjt::ParseAddress(text);
    if (!address) {
        return std::unexpected(At(address.error(), f.PathOf(key)));
    }
    return *address;
}

// The DATA bytes after SER (all of DATA without a DI) from a CJ/T 188 message object.
Result<Bytes> Cjt188DataFrom(Fields& m) {
    static constexpr std::array<std::string_view, 9> kTypes = {
        "empty",  "raw",        "valve_control", "write_address", "address_reply",
        "status", "water_data", "heat_data",     "history"};
    JOULE_ASSIGN_OR_RETURN(std::size_t type, m.Choice("type", kTypes));
    switch (type) {
        case 0:
            return Bytes{};
        case 1:
            return m.HexBytes("data", 255);
        case 2: {
            static constexpr std::array<std::string_view, 2> kCommands = {"open", "close"};
            JOULE_ASSIGN_OR_RETURN(std::size_t command, m.Choice("command", kCommands));
            return Bytes{static_cast<std::uint8_t>(command == 0 ? cjt::ValveCommand::kOpen
                                                                : cjt::ValveCommand::kClose)};
        }
        case 3:
        case 4: {
            JOULE_ASSIGN_OR_RETURN(
                cjt::Address a, Cjt188AddressFrom(m, type == 3 ? "new_address" : "meter_address"));
            return Bytes(a.begin(), a.end());
        }
        case 5:
            return StatusBytesFrom(m, 1);
        case 6: {
            JOULE_ASSIGN_OR_RETURN(std::size_t position, m.Choice("layout", kUnitPositions));
            cjt::WaterGasData w;
            JOULE_ASSIGN_OR_RETURN(w.current, UnitValueFrom(m, "current"));
            JOULE_ASSIGN_OR_RETURN(w.settlement, UnitValueFrom(m, "settlement"));
            JOULE_ASSIGN_OR_RETURN(w.clock, ClockFrom(m));
            JOULE_ASSIGN_OR_RETURN(w.st, StatusWordFrom(m));
            auto bytes = cjt::EncodeWaterGasData(w, static_cast<cjt::UnitPosition>(position));
            if (!bytes) {
                return std::unexpected(m.Prefixed(bytes.error()));
            }
            return bytes;
        }
        case 7: {
            JOULE_ASSIGN_OR_RETURN(std::size_t layout, m.Choice("layout", kHeatLayouts));
            cjt::HeatData h;
            JOULE_ASSIGN_OR_RETURN(h.settlement_heat, UnitValueFrom(m, "settlement_heat"));
            JOULE_ASSIGN_OR_RETURN(h.current_heat, UnitValueFrom(m, "current_heat"));
            JOULE_ASSIGN_OR_RETURN(h.heat_power, UnitValueFrom(m, "heat_power"));
            JOULE_ASSIGN_OR_RETURN(h.flow_rate, UnitValueFrom(m, "flow_rate"));
            JOULE_ASSIGN_OR_RETURN(h.cumulative_flow, UnitValueFrom(m, "cumulative_flow"));
            JOULE_ASSIGN_OR_RETURN(h.supply_temperature, m.DecimalField("supply_temperature"));
            JOULE_ASSIGN_OR_RETURN(h.return_temperature, m.DecimalField("return_temperature"));
            JOULE_ASSIGN_OR_RETURN(Decimal hours, m.DecimalField("working_hours"));
            if (hours.decimals != 0 || hours.mantissa < 0) {
                return InvalidArgument(m.PathOf("working_hours"),
                                       "must be a whole number of hours such as \"1234\"");
            }
            h.working_hours = hours.mantissa;
            JOULE_ASSIGN_OR_RETURN(h.clock, ClockFrom(m));
            JOULE_ASSIGN_OR_RETURN(h.st, StatusWordFrom(m));
            auto bytes = cjt::EncodeHeatData(h, static_cast<cjt::HeatLayout>(layout));
            if (!bytes) {
                return std::unexpected(m.Prefixed(bytes.error()));
            }
            return bytes;
        }
        case 8: {
            JOULE_ASSIGN_OR_RETURN(std::size_t position, m.Choice("layout", kUnitPositions));
            JOULE_ASSIGN_OR_RETURN(cjt::UnitValue v, UnitValueFrom(m, "settlement"));
            auto bytes = cjt::EncodeHistoryData(v, static_cast<cjt::UnitPosition>(position));
            if (!bytes) {
                return std::unexpected(m.Prefixed(bytes.error()));
            }
            return bytes;
        }
        default:
            break;
    }
    return Bytes{};
}

// The message of a CJ/T 188 frame: typed when it encodes back to the same data, else raw.
Json Cjt188Message(const cjt::Frame& f) {
    const Json raw{{"type", "raw"}, {"data", codec::ToHex(f.data)}};
    std::optional<Result<Json>> typed = Cjt188Typed(f);
    if (!typed) {
        return raw;
    }
    if (!*typed) {
        Json out = raw;
        out["value_error"] = ErrorJson(typed->error());
        return out;
    }
    std::set<std::string> used;
    Fields check(**typed, "", &used);
    auto back = Cjt188DataFrom(check);
    if (back && *back == f.data) {
        return **typed;
    }
    Json out = raw;
    out["value_note"] = "the decoded value does not encode back to the same bytes";
    return out;
}

Json Cjt188Json(const cjt::Frame& f, ByteView wire) {
    Json j{{"protocol", "cjt188"},
           {"meter_type", MeterTypeText(f.meter_type)},
           {"meter_family", std::string(FamilyText(cjt::FamilyOf(f.meter_type)))},
           {"address", cjt::FormatAddress(f.address)},
           {"control", Cjt188ControlJson(f.control)},
           {"checksum",
            {{"stated", Hex2(wire[wire.size() - 2])},
             {"computed", Hex2(codec::Sum8(wire.first(wire.size() - 2)))}}},
           {"message", Cjt188Message(f)}};
    if (f.has_di) {
        j["di"] = HexDigits(f.di, 4);
        j["di_order"] = f.di_order == cjt::DiOrder::kBigEndian ? "big" : "little";
        j["ser"] = f.ser;
        if (std::string name = Cjt188DiName(f.di); !name.empty()) {
            j["di_name"] = name;
        }
    }
    return j;
}

Result<cjt::Frame> Cjt188FrameFrom(Fields& top) {
    cjt::Frame f;
    JOULE_ASSIGN_OR_RETURN(std::string type, top.Str("meter_type", 32));
    bool found = false;
    for (const auto& [t, name] : kMeterTypes) {
        if (name == type) {
            f.meter_type = t;
            found = true;
        }
    }
    if (!found) {
        if (type.size() != 2 || HexValue(type[0]) < 0 || HexValue(type[1]) < 0) {
            return InvalidArgument(top.PathOf("meter_type"),
                                   "must be cold_water, hot_water, drinking_water, "
                                   "reclaimed_water, heat, cooling, heat_and_cooling, gas, "
                                   "electricity, wildcard or 2 hex digits, got \"" +
                                       type + "\"");
        }
        f.meter_type = static_cast<cjt::MeterType>(HexValue(type[0]) << 4 | HexValue(type[1]));
    }
    JOULE_ASSIGN_OR_RETURN(f.address, Cjt188AddressFrom(top, "address"));
    JOULE_ASSIGN_OR_RETURN(Fields control, top.Child("control"));
    JOULE_ASSIGN_OR_RETURN(f.control, control.HexByte("raw"));
    f.has_di = top.Has("di");
    if (f.has_di) {
        JOULE_ASSIGN_OR_RETURN(std::uint64_t di, top.HexNumber("di", 4));
        f.di = static_cast<std::uint16_t>(di);
        JOULE_ASSIGN_OR_RETURN(std::string order, top.OptStr("di_order", "big"));
        if (order != "big" && order != "little") {
            return InvalidArgument(top.PathOf("di_order"), "must be \"big\" or \"little\"");
        }
        f.di_order = order == "big" ? cjt::DiOrder::kBigEndian : cjt::DiOrder::kLittleEndian;
        JOULE_ASSIGN_OR_RETURN(std::int64_t ser, top.Int("ser", 0, 255));
        f.ser = static_cast<std::uint8_t>(ser);
    }
    JOULE_ASSIGN_OR_RETURN(Fields m, top.Child("message"));
    JOULE_ASSIGN_OR_RETURN(f.data, Cjt188DataFrom(m));
    return f;
}

// ============================================================================ one frame

struct EncodedFrame {
    Bytes bytes;               // preamble + frame
    std::size_t preamble = 0;  // FEH bytes at the front
    FrameProtocol protocol = FrameProtocol::kDlt645;
    std::optional<FrameDirection> direction;  // Modbus
};

Result<FrameProtocol> ProtocolFrom(Fields& top) {
    JOULE_ASSIGN_OR_RETURN(std::string protocol, top.Str("protocol", 32));
    if (protocol == "dlt645") {
        return FrameProtocol::kDlt645;
    }
    if (protocol == "cjt188") {
        return FrameProtocol::kCjt188;
    }
    if (protocol == "modbus_rtu") {
        return FrameProtocol::kModbusRtu;
    }
    if (protocol == "modbus_tcp") {
        return FrameProtocol::kModbusTcp;
    }
    return InvalidArgument(
        top.PathOf("protocol"),
        "must be dlt645, cjt188, modbus_rtu or modbus_tcp, got \"" + protocol + "\"");
}

// The bytes the fields of `frame` describe; `used` receives the paths read.
Result<EncodedFrame> EncodeCore(const Json& frame, std::set<std::string>& used) {
    Fields top(frame, "", &used);
    JOULE_TRY(top.Check());
    EncodedFrame out;
    JOULE_ASSIGN_OR_RETURN(out.protocol, ProtocolFrom(top));
    const bool sum_framed =
        out.protocol == FrameProtocol::kDlt645 || out.protocol == FrameProtocol::kCjt188;
    if (top.Has("preamble") && !sum_framed) {
        return InvalidArgument("preamble", "only DL/T 645 and CJ/T 188 frames take a preamble");
    }
    JOULE_ASSIGN_OR_RETURN(std::int64_t preamble, top.OptInt("preamble", 0, 0, 4));
    out.preamble = static_cast<std::size_t>(preamble);
    Result<Bytes> bytes = Bytes{};
    switch (out.protocol) {
        case FrameProtocol::kDlt645: {
            JOULE_ASSIGN_OR_RETURN(dlt::Frame f, Dlt645FrameFrom(top));
            bytes = dlt::EncodeFrame(f, dlt::FrameOptions{out.preamble});
            break;
        }
        case FrameProtocol::kCjt188: {
            JOULE_ASSIGN_OR_RETURN(cjt::Frame f, Cjt188FrameFrom(top));
            bytes = cjt::EncodeFrame(f, out.preamble);
            break;
        }
        case FrameProtocol::kModbusRtu: {
            JOULE_ASSIGN_OR_RETURN(FrameDirection direction, ModbusDirectionFrom(top));
            out.direction = direction;
            mb::RtuAdu adu;
            JOULE_ASSIGN_OR_RETURN(std::int64_t unit, top.Int("unit", 0, mb::kMaxUnit));
            adu.unit = static_cast<std::uint8_t>(unit);
            JOULE_ASSIGN_OR_RETURN(adu.pdu, ModbusPduFrom(top, direction));
            bytes = mb::EncodeRtu(adu);
            break;
        }
        case FrameProtocol::kModbusTcp: {
            JOULE_ASSIGN_OR_RETURN(FrameDirection direction, ModbusDirectionFrom(top));
            out.direction = direction;
            mb::TcpAdu adu;
            JOULE_ASSIGN_OR_RETURN(std::int64_t tid, top.Int("transaction_id", 0, 0xFFFF));
            adu.transaction_id = static_cast<std::uint16_t>(tid);
            JOULE_ASSIGN_OR_RETURN(std::int64_t unit, top.Int("unit", 0, 0xFF));
            adu.unit = static_cast<std::uint8_t>(unit);
            JOULE_ASSIGN_OR_RETURN(adu.pdu, ModbusPduFrom(top, direction));
            bytes = mb::EncodeTcp(adu);
            break;
        }
        case FrameProtocol::kAuto:
            break;
    }
    if (!bytes) {
        return std::unexpected(bytes.error());
    }
    out.bytes = std::move(*bytes);
    return out;
}

void PutWire(Json& j, std::size_t offset, ByteView wire) {
    j["offset"] = offset;
    j["length"] = wire.size();
    j["hex"] = codec::ToHex(wire);
}

bool EncodesTo(const Json& frame, ByteView wire) {
    std::set<std::string> used;
    auto encoded = EncodeCore(frame, used);
    return encoded &&
           std::equal(encoded->bytes.begin(), encoded->bytes.end(), wire.begin(), wire.end());
}

// `j` must encode back to `wire`. If it does not, its raw form (made by `to_raw`, which always
// round-trips for a frame the codec decoded) replaces it, with a note.
template <class ToRaw>
void EnsureRoundTrip(Json& j, ByteView wire, ToRaw to_raw) {
    if (EncodesTo(j, wire)) {
        return;
    }
    Json raw = j;
    to_raw(raw);
    if (EncodesTo(raw, wire)) {
        j = std::move(raw);
    }
    j["note"] = "the typed fields do not encode back to these bytes; shown raw";
}

mb::Direction ToCodec(FrameDirection d) {
    return d == FrameDirection::kRequest ? mb::Direction::kRequest : mb::Direction::kResponse;
}

constexpr std::array<FrameDirection, 2> kBothDirections = {FrameDirection::kRequest,
                                                           FrameDirection::kResponse};

// One frame of `protocol` that starts at wire[0] and fills `wire`, as JSON. Errors are the codec's
// frame-level errors (the frame is damaged, not just its message).
Result<Json> DecodeOne(FrameProtocol protocol, ByteView wire, std::optional<FrameDirection> hint,
                       std::size_t offset) {
    Json j;
    switch (protocol) {
        case FrameProtocol::kDlt645: {
            JOULE_ASSIGN_OR_RETURN(dlt::DecodedFrame d, dlt::DecodeFrame(wire));
            j = Dlt645Json(d.frame, wire);
            EnsureRoundTrip(j, wire, [&](Json& raw) {
                raw.erase("message");
                raw["data"] = codec::ToHex(d.frame.data);
            });
            break;
        }
        case FrameProtocol::kCjt188: {
            JOULE_ASSIGN_OR_RETURN(cjt::DecodedFrame d, cjt::DecodeFrame(wire));
            j = Cjt188Json(d.frame, wire);
            EnsureRoundTrip(j, wire, [&](Json& raw) {
                raw["message"] = Json{{"type", "raw"}, {"data", codec::ToHex(d.frame.data)}};
            });
            break;
        }
        case FrameProtocol::kModbusRtu: {
            std::optional<mb::RtuDecoded> chosen;
            std::optional<FrameDirection> chosen_direction;
            std::optional<Error> first_error;
            for (FrameDirection as : kBothDirections) {
                if (hint && *hint != as) {
                    continue;
                }
                auto attempt = mb::DecodeRtu(wire, ToCodec(as));
                if (!attempt || attempt->consumed != wire.size()) {
                    if (!first_error) {
                        first_error = attempt ? Error{ErrorCode::kInvalidArgument,
                                                      "the ADU ends before the bytes given", "adu"}
                                              : attempt.error();
                    }
                    continue;
                }
                const bool parses = DecodePdu(attempt->adu.pdu, as).message.has_value();
                if (!chosen || parses) {
                    chosen = std::move(*attempt);
                    chosen_direction = as;
                }
                if (parses) {
                    break;
                }
            }
            if (!chosen) {
                return std::unexpected(first_error.value_or(Error{}));
            }
            j = RtuJson(chosen->adu, wire, chosen_direction);
            EnsureRoundTrip(j, wire, [&](Json& raw) {
                Bytes pdu{chosen->adu.pdu.function};
                pdu.insert(pdu.end(), chosen->adu.pdu.data.begin(), chosen->adu.pdu.data.end());
                raw.erase("message");
                raw["pdu"] = codec::ToHex(pdu);
            });
            break;
        }
        case FrameProtocol::kModbusTcp: {
            JOULE_ASSIGN_OR_RETURN(mb::TcpDecoded d, mb::DecodeTcp(wire));
            if (d.consumed != wire.size()) {
                return InvalidArgument("mbap.length", "the ADU ends before the bytes given");
            }
            j = TcpJson(d.adu, wire, hint);
            EnsureRoundTrip(j, wire, [&](Json& raw) {
                Bytes pdu{d.adu.pdu.function};
                pdu.insert(pdu.end(), d.adu.pdu.data.begin(), d.adu.pdu.data.end());
                raw.erase("message");
                raw["pdu"] = codec::ToHex(pdu);
            });
            break;
        }
        case FrameProtocol::kAuto:
            return MakeError(ErrorCode::kInternal, "no protocol to decode with");
    }
    PutWire(j, offset, wire);
    return j;
}

// ============================================================================ capture scanning

enum class RegionKind : std::uint8_t { kFrame, kDamaged };

// A claimed stretch of the capture: a frame, or a damaged frame.
struct Region {
    std::size_t offset = 0;
    std::size_t length = 0;
    RegionKind kind = RegionKind::kFrame;
    Json json;
};

using Gap = std::pair<std::size_t, std::size_t>;  // [begin, end)

// Sorts `regions` and returns the unclaimed stretches between them.
std::vector<Gap> GapsBetween(std::vector<Region>& regions, std::size_t total) {
    std::sort(regions.begin(), regions.end(),
              [](const Region& a, const Region& b) { return a.offset < b.offset; });
    std::vector<Gap> gaps;
    std::size_t at = 0;
    for (const Region& r : regions) {
        if (r.offset > at) {
            gaps.emplace_back(at, r.offset);
        }
        at = std::max(at, r.offset + r.length);
    }
    if (at < total) {
        gaps.emplace_back(at, total);
    }
    return gaps;
}

std::string ProtocolText(FrameProtocol protocol) {
    switch (protocol) {
        case FrameProtocol::kDlt645:
            return "dlt645";
        case FrameProtocol::kCjt188:
            return "cjt188";
        case FrameProtocol::kModbusRtu:
            return "modbus_rtu";
        case FrameProtocol::kModbusTcp:
            return "modbus_tcp";
        case FrameProtocol::kAuto:
            break;
    }
    return "auto";
}

Region Damaged(FrameProtocol protocol, ByteView all, std::size_t offset, std::size_t length,
               const Error& error, const std::string& note) {
    Json j{{"protocol", ProtocolText(protocol)},
           {"offset", offset},
           {"length", length},
           {"hex", codec::ToHex(all.subspan(offset, length))},
           {"error", ErrorJson(error)}};
    if (!note.empty()) {
        j["note"] = note;
    }
    return Region{offset, length, RegionKind::kDamaged, std::move(j)};
}

std::string CutShortNote(std::size_t end, std::size_t total) {
    return end >= total ? "the capture ends inside this frame"
                        : "cut short: the next frame starts at offset " + std::to_string(end);
}

// Checksummed frames (DL/T 645, CJ/T 188) found by the StreamScanner, with their offsets. A frame
// the scanner accepts but the codec refuses (L > 200, a non-BCD address) is a damaged region.
void ScanChecksummed(ByteView all, bool dlt645, bool cjt188, std::vector<Region>& regions) {
    codec::StreamScannerOptions options;
    options.dlt645 = dlt645;
    options.cjt188 = cjt188;
    codec::StreamScanner scanner(options);
    auto drain = [&]() {
        while (auto frame = scanner.Next()) {
            const std::size_t end =
                static_cast<std::size_t>(scanner.counters().bytes_fed) - scanner.buffered();
            const std::size_t offset = end - frame->bytes.size();
            const FrameProtocol protocol = frame->kind == codec::FrameKind::kDlt645
                                               ? FrameProtocol::kDlt645
                                               : FrameProtocol::kCjt188;
            const ByteView wire = all.subspan(offset, frame->bytes.size());
            auto json = DecodeOne(protocol, wire, std::nullopt, offset);
            if (json) {
                regions.push_back(
                    Region{offset, wire.size(), RegionKind::kFrame, std::move(*json)});
            } else {
                regions.push_back(Damaged(protocol, all, offset, wire.size(), json.error(), ""));
            }
        }
    };
    for (std::size_t at = 0; at < all.size(); at += kScanChunkBytes) {
        scanner.Feed(all.subspan(at, std::min(kScanChunkBytes, all.size() - at)));
        drain();
    }
    scanner.MarkIdle();
    drain();
}

bool IsAddressByte(std::uint8_t b) { return b == 0xAA || codec::IsBcdByte(b); }

// A DL/T 645 frame at `p` that the scanner rejected: both 68H and a valid address, then a wrong
// checksum, a wrong end byte, an impossible L, or the bytes end (next frame or end of capture).
std::optional<Region> DamagedDlt645(ByteView all, std::size_t p, std::size_t end) {
    const ByteView rest = all.subspan(p, end - p);
    if (rest.size() < 8 || rest[0] != kStartByte || rest[7] != kStartByte) {
        return std::nullopt;
    }
    for (std::size_t i = 1; i <= dlt::kAddressBytes; ++i) {
        if (!IsAddressByte(rest[i])) {
            return std::nullopt;
        }
    }
    auto decoded = dlt::DecodeFrame(rest);
    if (decoded) {
        return std::nullopt;
    }
    std::size_t length = rest.size();
    if (rest.size() > 9) {
        length = std::min(rest.size(), dlt::kFrameOverheadBytes + rest[9]);
    }
    const std::string note =
        decoded.error().code == ErrorCode::kOutOfRange ? CutShortNote(end, all.size()) : "";
    return Damaged(FrameProtocol::kDlt645, all, p, length, decoded.error(), note);
}

// The same for CJ/T 188, whose only fixed byte is 68H: the meter type must be in a known family,
// the address BCD or AAH and the function one the protocol defines before it counts as a frame.
std::optional<Region> DamagedCjt188(ByteView all, std::size_t p, std::size_t end) {
    const ByteView rest = all.subspan(p, end - p);
    if (rest.size() < cjt::kHeaderBytes || rest[0] != kStartByte) {
        return std::nullopt;
    }
    const auto type = static_cast<cjt::MeterType>(rest[1]);
    if (cjt::FamilyOf(type) == cjt::MeterFamily::kUnknown && type != cjt::MeterType::kWildcard) {
        return std::nullopt;
    }
    for (std::size_t i = 2; i < 2 + cjt::kAddressBytes; ++i) {
        if (!IsAddressByte(rest[i])) {
            return std::nullopt;
        }
    }
    if (!IsCjt188Function(static_cast<std::uint8_t>(rest[9] & 0x1FU))) {
        return std::nullopt;
    }
    auto decoded = cjt::DecodeFrame(rest);
    if (decoded) {
        return std::nullopt;
    }
    const std::size_t length = std::min(rest.size(), cjt::kMinFrameBytes + rest[10]);
    const std::string note =
        decoded.error().code == ErrorCode::kOutOfRange ? CutShortNote(end, all.size()) : "";
    return Damaged(FrameProtocol::kCjt188, all, p, length, decoded.error(), note);
}

void FindDamaged(ByteView all, Gap gap, bool dlt645, bool cjt188, std::vector<Region>& found) {
    std::size_t p = gap.first;
    while (p < gap.second) {
        std::optional<Region> damaged;
        if (all[p] == kStartByte && dlt645) {
            damaged = DamagedDlt645(all, p, gap.second);
        }
        if (all[p] == kStartByte && cjt188 && !damaged) {
            damaged = DamagedCjt188(all, p, gap.second);
        }
        if (damaged) {
            p += damaged->length;
            found.push_back(std::move(*damaged));
        } else {
            ++p;
        }
    }
}

// Modbus TCP ADUs in a gap. Without a checksum an MBAP header is weak evidence, so in auto mode
// (`require_message`) only ADUs whose PDU is a well-formed request or response count.
void FindTcp(ByteView all, Gap gap, std::optional<FrameDirection> hint, bool require_message,
             std::vector<Region>& found) {
    std::size_t p = gap.first;
    while (p < gap.second) {
        const ByteView rest = all.subspan(p, gap.second - p);
        auto length = mb::TcpAduLength(rest);
        if (length && *length <= rest.size() && (rest[7] & 0x7FU) != 0) {
            const ByteView wire = rest.first(*length);
            auto json = DecodeOne(FrameProtocol::kModbusTcp, wire, hint, p);
            if (json && !(require_message && json->contains("error"))) {
                found.push_back(Region{p, wire.size(), RegionKind::kFrame, std::move(*json)});
                p += wire.size();
                continue;
            }
        }
        ++p;
    }
}

std::optional<Region> RtuFrameAt(ByteView all, std::size_t p, std::optional<FrameDirection> hint) {
    const ByteView rest = all.subspan(p);
    for (FrameDirection as : kBothDirections) {
        if (hint && *hint != as) {
            continue;
        }
        auto decoded = mb::DecodeRtu(rest, ToCodec(as));
        if (!decoded) {
            continue;
        }
        auto json = DecodeOne(FrameProtocol::kModbusRtu, rest.first(decoded->consumed), hint, p);
        if (json) {
            return Region{p, decoded->consumed, RegionKind::kFrame, std::move(*json)};
        }
    }
    return std::nullopt;
}

// An RTU ADU at `p` whose CRC fails, reported only when a valid ADU (or the end of the capture)
// follows it, so that noise is not reported as frames; or, right after a frame, an ADU that the
// capture cuts short.
std::optional<Region> RtuDamagedAt(ByteView all, std::size_t p, std::optional<FrameDirection> hint,
                                   bool after_frame) {
    const ByteView rest = all.subspan(p);
    for (FrameDirection as : kBothDirections) {
        if (hint && *hint != as) {
            continue;
        }
        auto length = as == FrameDirection::kRequest ? mb::RtuRequestLength(rest)
                                                     : mb::RtuResponseLength(rest);
        if (!length) {
            continue;
        }
        auto decoded = mb::DecodeRtu(rest, ToCodec(as));
        if (decoded) {
            continue;
        }
        if (decoded.error().code == ErrorCode::kDataLoss) {
            const std::size_t end = p + *length;
            if (end == all.size() || RtuFrameAt(all, end, hint)) {
                return Damaged(FrameProtocol::kModbusRtu, all, p, *length, decoded.error(), "");
            }
        } else if (decoded.error().code == ErrorCode::kOutOfRange && after_frame) {
            return Damaged(FrameProtocol::kModbusRtu, all, p, rest.size(), decoded.error(),
                           "the capture ends inside this ADU");
        }
    }
    return std::nullopt;
}

void ScanRtu(ByteView all, std::optional<FrameDirection> hint, std::vector<Region>& regions) {
    std::size_t p = 0;
    std::size_t last_end = 0;
    while (p < all.size()) {
        std::optional<Region> region = RtuFrameAt(all, p, hint);
        if (!region) {
            region = RtuDamagedAt(all, p, hint, p == last_end);
        }
        if (region) {
            p += region->length;
            last_end = p;
            regions.push_back(std::move(*region));
        } else {
            ++p;
        }
    }
}

bool IsPreambleByte(std::uint8_t b) { return b == 0xFE || b == 0xFF; }

Json SkippedJson(ByteView all, Gap run, bool preamble) {
    const ByteView bytes = all.subspan(run.first, run.second - run.first);
    const ByteView shown = bytes.first(std::min(bytes.size(), kMaxSkippedHexBytes));
    Json j{{"offset", run.first},
           {"length", bytes.size()},
           {"kind", preamble ? "preamble" : "garbage"},
           {"hex", codec::ToHex(shown)}};
    if (shown.size() < bytes.size()) {
        j["hex_truncated"] = true;
    }
    const bool printable = std::all_of(shown.begin(), shown.end(),
                                       [](std::uint8_t b) { return b >= 0x20 && b <= 0x7E; });
    if (!preamble && printable && shown.size() >= 4) {
        j["ascii"] = std::string(shown.begin(), shown.end());
    }
    return j;
}

bool HasWarning(const Json& frame) {
    if (frame.contains("note")) {
        return true;
    }
    auto message = frame.find("message");
    return message != frame.end() && message->is_object() &&
           (message->contains("value_error") || message->contains("value_note"));
}

}  // namespace

// ============================================================================ public API

Result<Json> DecodeFrameToJson(codec::ByteView bytes, const DecodeOptions& options) {
    if (bytes.size() > kMaxCaptureBytes) {
        return MakeError(ErrorCode::kResourceExhausted,
                         "the capture has " + std::to_string(bytes.size()) + " bytes, at most " +
                             std::to_string(kMaxCaptureBytes) + " are decoded at once",
                         "input");
    }
    const bool modbus = options.protocol == FrameProtocol::kModbusRtu ||
                        options.protocol == FrameProtocol::kModbusTcp;
    if (options.direction && !modbus) {
        return InvalidArgument("direction",
                               "only Modbus needs a direction: the other protocols carry it in "
                               "the control byte");
    }
    try {
        std::vector<Region> regions;
        switch (options.protocol) {
            case FrameProtocol::kAuto:
            case FrameProtocol::kDlt645:
            case FrameProtocol::kCjt188: {
                const bool dlt645 = options.protocol != FrameProtocol::kCjt188;
                const bool cjt188 = options.protocol != FrameProtocol::kDlt645;
                ScanChecksummed(bytes, dlt645, cjt188, regions);
                std::vector<Region> found;
                for (Gap gap : GapsBetween(regions, bytes.size())) {
                    FindDamaged(bytes, gap, dlt645, cjt188, found);
                }
                std::move(found.begin(), found.end(), std::back_inserter(regions));
                if (options.protocol == FrameProtocol::kAuto) {
                    found.clear();
                    for (Gap gap : GapsBetween(regions, bytes.size())) {
                        FindTcp(bytes, gap, std::nullopt, true, found);
                    }
                    std::move(found.begin(), found.end(), std::back_inserter(regions));
                }
                break;
            }
            case FrameProtocol::kModbusTcp:
                FindTcp(bytes, Gap{0, bytes.size()}, options.direction, false, regions);
                break;
            case FrameProtocol::kModbusRtu:
                ScanRtu(bytes, options.direction, regions);
                break;
        }

        Json skipped = Json::array();
        std::size_t skipped_bytes = 0;
        std::size_t preamble_bytes = 0;
        for (Gap gap : GapsBetween(regions, bytes.size())) {
            std::size_t i = gap.first;
            while (i < gap.second) {
                const bool preamble = !modbus && IsPreambleByte(bytes[i]);
                std::size_t j = i;
                while (j < gap.second && (!modbus && IsPreambleByte(bytes[j])) == preamble) {
                    ++j;
                }
                skipped.push_back(SkippedJson(bytes, Gap{i, j}, preamble));
                (preamble ? preamble_bytes : skipped_bytes) += j - i;
                i = j;
            }
        }
        Json frames = Json::array();
        Json errors = Json::array();
        std::size_t error_count = 0;
        std::size_t warnings = 0;
        for (Region& r : regions) {
            if (r.kind == RegionKind::kDamaged) {
                errors.push_back(std::move(r.json));
                ++error_count;
                continue;
            }
            error_count += r.json.contains("error") ? 1U : 0U;
            warnings += HasWarning(r.json) ? 1U : 0U;
            frames.push_back(std::move(r.json));
        }
        const bool ok = !frames.empty() && error_count == 0;
        Json summary{{"frames", frames.size()},
                     {"errors", error_count},
                     {"warnings", warnings},
                     {"skipped_bytes", skipped_bytes},
                     {"preamble_bytes", preamble_bytes},
                     {"ok", ok}};
        return Json{{"input_bytes", bytes.size()},
                    {"frames", std::move(frames)},
                    {"errors", std::move(errors)},
                    {"skipped", std::move(skipped)},
                    {"summary", std::move(summary)}};
    } catch (const Json::exception& e) {
        return MakeError(ErrorCode::kInternal, e.what());
    }
}

Result<codec::Bytes> EncodeFrameFromJson(const Json& frame) {
    try {
        std::set<std::string> used;
        JOULE_ASSIGN_OR_RETURN(EncodedFrame encoded, EncodeCore(frame, used));
        const ByteView wire = ByteView(encoded.bytes).subspan(encoded.preamble);
        auto again = DecodeOne(encoded.protocol, wire, encoded.direction, 0);
        if (!again) {
            return MakeError(ErrorCode::kInternal,
                             "the encoded frame does not decode: " + again.error().ToString());
        }
        JOULE_TRY(VerifyAnnotations(frame, *again, "", used));
        return std::move(encoded.bytes);
    } catch (const Json::exception& e) {
        return InvalidArgument("json", e.what());
    }
}

Result<std::vector<codec::Bytes>> EncodeFramesFromJson(const Json& document) {
    const Json* frames = &document;
    std::string prefix;
    if (document.is_object() && document.contains("frames")) {
        // A decode document: frames are encoded, the rest of it is what decode reported.
        for (const auto& [key, value] : document.items()) {
            if (key != "frames" && key != "errors" && key != "skipped" && key != "summary" &&
                key != "input_bytes") {
                return InvalidArgument(key, "is not a known field of a decode document");
            }
        }
        frames = &document["frames"];
        prefix = "frames";
        if (!frames->is_array()) {
            return InvalidArgument("frames", "must be an array of frame objects");
        }
    }
    std::vector<codec::Bytes> out;
    if (!frames->is_array()) {
        JOULE_ASSIGN_OR_RETURN(codec::Bytes bytes, EncodeFrameFromJson(*frames));
        out.push_back(std::move(bytes));
        return out;
    }
    if (frames->size() > kMaxEncodeFrames) {
        return InvalidArgument(prefix.empty() ? "(root)" : prefix,
                               "more than " + std::to_string(kMaxEncodeFrames) + " frames");
    }
    for (std::size_t i = 0; i < frames->size(); ++i) {
        auto bytes = EncodeFrameFromJson((*frames)[i]);
        if (!bytes) {
            return std::unexpected(
                bytes.error().WithFieldPrefix(prefix + "[" + std::to_string(i) + "]"));
        }
        out.push_back(std::move(*bytes));
    }
    return out;
}

}  // namespace joule::wire
