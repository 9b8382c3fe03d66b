// DL/T 645 data identifiers: the DI table (PROTOCOLS.md §1.5, §1.6), exact decoding and encoding
// of values, dates and times, and the run status words. Entries marked from_memory are [MEM] in
// PROTOCOLS.md: the DI or its format is background knowledge to confirm on a real meter.
#include <algorithm>
#include <cstdint>
#include <iterator>
#include <string>

#include "base/checked.hpp"
#include "codec/dlt645.hpp"

namespace joule::codec::dlt645 {

namespace {

constexpr std::uint8_t kSigned = 0x01;  // sign bit in the top bit of the most significant byte
constexpr std::uint8_t kBlock = 0x02;   // a block: 1..n values of value_bytes each
constexpr std::uint8_t kMem = 0x04;     // [MEM]

struct Entry {
    DataId di;
    std::string_view name;
    ValueFormat format;
    std::uint8_t value_bytes;
    std::uint8_t decimals;
    std::string_view unit;
    std::uint8_t flags;
    DataId equivalent_2007;  // 1997 table only
};

constexpr ValueFormat kBcd = ValueFormat::kBcd;

// Explicit 2007 identifiers. Energy (00 kk tt pp), tariff prices (040501NN, 040502NN) and earlier
// purchase records are derived in FindDataItem.
constexpr Entry k2007Items[] = {
    // Instantaneous values (DI3 = 02).
    {0x02010100, "phase A voltage", kBcd, 2, 1, "V", 0, 0},
    {0x02010200, "phase B voltage", kBcd, 2, 1, "V", 0, 0},
    {0x02010300, "phase C voltage", kBcd, 2, 1, "V", 0, 0},
    {0x0201FF00, "voltage block (A, B, C)", kBcd, 2, 1, "V", kBlock, 0},
    {0x02020100, "phase A current", kBcd, 3, 3, "A", kSigned, 0},
    {0x02020200, "phase B current", kBcd, 3, 3, "A", kSigned, 0},
    {0x02020300, "phase C current", kBcd, 3, 3, "A", kSigned, 0},
    {0x0202FF00, "current block (A, B, C)", kBcd, 3, 3, "A", kSigned | kBlock, 0},
    {0x02030000, "total active power", kBcd, 3, 4, "kW", kSigned, 0},
    {0x02030100, "phase A active power", kBcd, 3, 4, "kW", kSigned, 0},
    {0x02030200, "phase B active power", kBcd, 3, 4, "kW", kSigned, 0},
    {0x02030300, "phase C active power", kBcd, 3, 4, "kW", kSigned, 0},
    {0x0203FF00, "active power block (total, A, B, C)", kBcd, 3, 4, "kW", kSigned | kBlock, 0},
    {0x02040000, "total reactive power", kBcd, 3, 4, "kvar", kSigned, 0},
    {0x02040100, "phase A reactive power", kBcd, 3, 4, "kvar", kSigned, 0},
    {0x02040200, "phase B reactive power", kBcd, 3, 4, "kvar", kSigned, 0},
    {0x02040300, "phase C reactive power", kBcd, 3, 4, "kvar", kSigned, 0},
    {0x0204FF00, "reactive power block (total, A, B, C)", kBcd, 3, 4, "kvar", kSigned | kBlock, 0},
    {0x02050000, "total apparent power", kBcd, 3, 4, "kVA", kSigned, 0},
    {0x02050100, "phase A apparent power", kBcd, 3, 4, "kVA", kSigned, 0},
    {0x02050200, "phase B apparent power", kBcd, 3, 4, "kVA", kSigned, 0},
    {0x02050300, "phase C apparent power", kBcd, 3, 4, "kVA", kSigned, 0},
    {0x0205FF00, "apparent power block (total, A, B, C)", kBcd, 3, 4, "kVA", kSigned | kBlock, 0},
    {0x02060000, "total power factor", kBcd, 2, 3, "", kSigned, 0},
    {0x02060100, "phase A power factor", kBcd, 2, 3, "", kSigned, 0},
    {0x02060200, "phase B power factor", kBcd, 2, 3, "", kSigned, 0},
    {0x02060300, "phase C power factor", kBcd, 2, 3, "", kSigned, 0},
    {0x0206FF00, "power factor block (total, A, B, C)", kBcd, 2, 3, "", kSigned | kBlock, 0},
    {0x02070100, "phase A angle", kBcd, 2, 1, "degree", 0, 0},
    {0x02070200, "phase B angle", kBcd, 2, 1, "degree", 0, 0},
    {0x02070300, "phase C angle", kBcd, 2, 1, "degree", 0, 0},
    {0x0207FF00, "phase angle block (A, B, C)", kBcd, 2, 1, "degree", kBlock, 0},
    {0x02800001, "neutral current", kBcd, 3, 3, "A", kSigned, 0},
    {0x02800002, "grid frequency", kBcd, 2, 2, "Hz", 0, 0},
    {0x02800007, "meter temperature", kBcd, 2, 1, "degC", kSigned | kMem, 0},
    {0x02800008, "clock battery voltage", kBcd, 2, 2, "V", 0, 0},
    {0x02800009, "meter-reading battery voltage", kBcd, 2, 2, "V", 0, 0},
    {0x0280000A, "internal battery working time", kBcd, 4, 0, "min", 0, 0},
    {0x02800020, "current electricity price", kBcd, 4, 4, "yuan/kWh", 0, 0},
    // Prepaid balances (2013 amendment).
    {0x00900100, "remaining energy", kBcd, 4, 2, "kWh", 0, 0},
    {0x00900101, "overdraft energy", kBcd, 4, 2, "kWh", 0, 0},
    {0x00900200, "remaining amount", kBcd, 4, 2, "yuan", 0, 0},
    {0x00900201, "overdraft amount", kBcd, 4, 2, "yuan", 0, 0},
    {0x0090FF00, "remaining energy and amount block", kBcd, 4, 2, "", kBlock | kMem, 0},
    {0x0090FF01, "overdraft energy and amount block", kBcd, 4, 2, "", kBlock | kMem, 0},
    // Purchase records, last purchase (DI0 = 01; 02..0A are earlier ones, derived).
    {0x03330101, "purchase date", ValueFormat::kDateTimeMinutes, 5, 0, "", kMem, 0},
    {0x03330201, "total purchase count after purchase", kBcd, 2, 0, "times", 0, 0},
    {0x03330301, "purchase amount", kBcd, 4, 2, "yuan", kMem, 0},
    {0x03330401, "remaining amount before purchase", kBcd, 4, 2, "yuan", kMem, 0},
    {0x03330501, "remaining amount after purchase", kBcd, 4, 2, "yuan", kMem, 0},
    {0x03330601, "cumulative purchase amount after purchase", kBcd, 4, 2, "yuan", 0, 0},
    {0x03320201, "total purchase count after purchase (energy-type)", kBcd, 2, 0, "times", 0, 0},
    {0x03320601, "cumulative purchased energy after purchase", kBcd, 4, 2, "kWh", 0, 0},
    // Parameters (DI3 = 04).
    {0x04000101, "date and weekday", ValueFormat::kDateWeek, 4, 0, "", 0, 0},
    {0x04000102, "time", ValueFormat::kTime, 3, 0, "", 0, 0},
    {0x04000306, "CT ratio", kBcd, 3, 0, "", kMem, 0},
    {0x04000307, "PT ratio", kBcd, 3, 0, "", kMem, 0},
    {0x04000401, "communication address", kBcd, 6, 0, "", 0, 0},
    {0x04000402, "meter number", kBcd, 6, 0, "", 0, 0},
    {0x04000409, "active constant", kBcd, 3, 0, "imp/kWh", 0, 0},
    {0x0400040A, "reactive constant", kBcd, 3, 0, "imp/kvarh", kMem, 0},
    {0x0400040E, "customer number", kBcd, 6, 0, "", kMem, 0},
    {0x04000501, "run status word 1", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000502, "run status word 2", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000503, "run status word 3", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000504, "run status word 4", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000505, "run status word 5", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000506, "run status word 6", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000507, "run status word 7", ValueFormat::kStatusWord, 2, 0, "", 0, 0},
    {0x04000C01, "password level 0", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C02, "password level 1", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C03, "password level 2", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C04, "password level 3", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C05, "password level 4", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C06, "password level 5", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C07, "password level 6", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C08, "password level 7", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C09, "password level 8", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000C0A, "password level 9", ValueFormat::kRaw, 4, 0, "", 0, 0},
    {0x04000F01, "alarm energy 1 limit", kBcd, 4, 2, "kWh", 0, 0},
    {0x04000F02, "alarm energy 2 limit", kBcd, 4, 2, "kWh", 0, 0},
    {0x04000F03, "hoarding energy limit", kBcd, 4, 2, "kWh", kMem, 0},
    {0x04000F04, "overdraft energy limit", kBcd, 4, 2, "kWh", 0, 0},
    {0x04001001, "alarm amount 1 limit", kBcd, 4, 2, "yuan", 0, 0},
    {0x04001002, "alarm amount 2 limit", kBcd, 4, 2, "yuan", 0, 0},
    {0x04001003, "overdraft amount limit", kBcd, 4, 2, "yuan", kMem, 0},
    {0x04001004, "hoarding amount limit", kBcd, 4, 2, "yuan", kMem, 0},
    {0x04001005, "close-allowed amount limit", kBcd, 4, 2, "yuan", kMem, 0},
};

// DL/T 645-1997 identifiers with their 2007 equivalents (coyool mapping table; the rest [MEM]).
constexpr Entry k1997Items[] = {
    {0x9010, "forward active energy total", kBcd, 4, 2, "kWh", 0, 0x00010000},
    {0x9011, "forward active energy tariff 1", kBcd, 4, 2, "kWh", 0, 0x00010100},
    {0x9012, "forward active energy tariff 2", kBcd, 4, 2, "kWh", 0, 0x00010200},
    {0x9013, "forward active energy tariff 3", kBcd, 4, 2, "kWh", 0, 0x00010300},
    {0x9014, "forward active energy tariff 4", kBcd, 4, 2, "kWh", 0, 0x00010400},
    {0x901F, "forward active energy block", kBcd, 4, 2, "kWh", kBlock, 0x0001FF00},
    {0x9020, "reverse active energy total", kBcd, 4, 2, "kWh", kMem, 0x00020000},
    {0x9021, "reverse active energy tariff 1", kBcd, 4, 2, "kWh", kMem, 0x00020100},
    {0x9022, "reverse active energy tariff 2", kBcd, 4, 2, "kWh", kMem, 0x00020200},
    {0x9023, "reverse active energy tariff 3", kBcd, 4, 2, "kWh", kMem, 0x00020300},
    {0x9024, "reverse active energy tariff 4", kBcd, 4, 2, "kWh", kMem, 0x00020400},
    {0x902F, "reverse active energy block", kBcd, 4, 2, "kWh", kBlock | kMem, 0x0002FF00},
    {0x9110, "forward reactive energy total", kBcd, 4, 2, "kvarh", kMem, 0x00030000},
    {0x9120, "reverse reactive energy total", kBcd, 4, 2, "kvarh", kMem, 0x00040000},
    {0xB611, "phase A voltage", kBcd, 2, 0, "V", 0, 0x02010100},
    {0xB612, "phase B voltage", kBcd, 2, 0, "V", 0, 0x02010200},
    {0xB613, "phase C voltage", kBcd, 2, 0, "V", 0, 0x02010300},
    {0xB61F, "voltage block (A, B, C)", kBcd, 2, 0, "V", kBlock | kMem, 0x0201FF00},
    {0xB621, "phase A current", kBcd, 2, 2, "A", 0, 0x02020100},
    {0xB622, "phase B current", kBcd, 2, 2, "A", 0, 0x02020200},
    {0xB623, "phase C current", kBcd, 2, 2, "A", 0, 0x02020300},
    {0xB62F, "current block (A, B, C)", kBcd, 2, 2, "A", kBlock | kMem, 0x0202FF00},
    {0xB630, "total active power", kBcd, 3, 4, "kW", 0, 0x02030000},
    {0xB631, "phase A active power", kBcd, 3, 4, "kW", kMem, 0x02030100},
    {0xB632, "phase B active power", kBcd, 3, 4, "kW", kMem, 0x02030200},
    {0xB633, "phase C active power", kBcd, 3, 4, "kW", kMem, 0x02030300},
    {0xB640, "total reactive power", kBcd, 2, 2, "kvar", kMem, 0x02040000},
    {0xB650, "total power factor", kBcd, 2, 3, "", kMem, 0x02060000},
    {0xC010, "date and weekday", ValueFormat::kDateWeek, 4, 0, "", 0, 0x04000101},
    {0xC011, "time", ValueFormat::kTime, 3, 0, "", 0, 0x04000102},
    {0xC030, "active constant", kBcd, 3, 0, "imp/kWh", kMem, 0x04000409},
    {0xC032, "meter number", kBcd, 6, 0, "", 0, 0x04000402},
    {0xC033, "customer number", kBcd, 6, 0, "", kMem, 0x0400040E},
};

// Energy kinds of DL/T 645-2007 (DI2 of 00 kk tt pp). Combined energies carry a sign bit [MEM].
struct EnergyKind {
    std::uint8_t di2;
    std::string_view name;
    std::string_view unit;
    bool sign_bit;
    bool has_tariffs;  // tt = 01..3F and the FF block exist; per-phase kinds have the total only
    bool from_memory;
};

constexpr EnergyKind kEnergyKinds[] = {
    {0x00, "combined active energy", "kWh", true, true, false},
    {0x01, "forward active energy", "kWh", false, true, false},
    {0x02, "reverse active energy", "kWh", false, true, false},
    {0x03, "combined reactive 1 energy", "kvarh", true, true, false},
    {0x04, "combined reactive 2 energy", "kvarh", true, true, false},
    {0x05, "quadrant I reactive energy", "kvarh", false, true, false},
    {0x06, "quadrant II reactive energy", "kvarh", false, true, false},
    {0x07, "quadrant III reactive energy", "kvarh", false, true, false},
    {0x08, "quadrant IV reactive energy", "kvarh", false, true, false},
    {0x15, "phase A forward active energy", "kWh", false, false, false},
    {0x16, "phase A reverse active energy", "kWh", false, false, true},
    {0x29, "phase B forward active energy", "kWh", false, false, false},
    {0x2A, "phase B reverse active energy", "kWh", false, false, true},
    {0x3D, "phase C forward active energy", "kWh", false, false, false},
    {0x3E, "phase C reverse active energy", "kWh", false, false, true},
};

constexpr std::uint8_t kMaxSettlementPeriod = 12;
constexpr std::uint8_t kMaxTariff = 0x3F;
constexpr std::uint8_t kMaxPurchaseRecord = 10;

std::uint8_t Byte(DataId di, int index) { return static_cast<std::uint8_t>(di >> (8 * index)); }

DataItem FromEntry(const Entry& e, Edition edition) {
    DataItem item;
    item.di = e.di;
    item.edition = edition;
    item.name = std::string(e.name);
    item.format = e.format;
    item.value_bytes = e.value_bytes;
    item.decimals = e.decimals;
    item.sign_bit = (e.flags & kSigned) != 0;
    item.block = (e.flags & kBlock) != 0;
    item.unit = e.unit;
    item.from_memory = (e.flags & kMem) != 0;
    if (edition == Edition::k1997)
        item.equivalent_2007 = e.equivalent_2007;
    return item;
}

template <std::size_t N>
const Entry* FindEntry(const Entry (&table)[N], DataId di) {
    const Entry* end = table + N;
    const Entry* it = std::find_if(table, end, [di](const Entry& e) { return e.di == di; });
    return it == end ? nullptr : it;
}

std::optional<DataItem> FindEnergyItem(DataId di) {
    if (Byte(di, 3) != 0x00)
        return std::nullopt;
    std::uint8_t kind_code = Byte(di, 2);
    std::uint8_t tariff = Byte(di, 1);
    std::uint8_t period = Byte(di, 0);
    const EnergyKind* kind =
        std::find_if(std::begin(kEnergyKinds), std::end(kEnergyKinds),
                     [kind_code](const EnergyKind& k) { return k.di2 == kind_code; });
    if (kind == std::end(kEnergyKinds) || period > kMaxSettlementPeriod)
        return std::nullopt;
    bool block = tariff == 0xFF;
    if (kind->has_tariffs ? (!block && tariff > kMaxTariff) : tariff != 0)
        return std::nullopt;
    DataItem item;
    item.di = di;
    item.edition = Edition::k2007;
    item.name = std::string(kind->name);
    if (block)
        item.name += " block (total, tariff 1..n)";
    else if (tariff == 0)
        item.name += " total";
    else
        item.name += " tariff " + std::to_string(tariff);
    if (period > 0)
        item.name += ", settlement day " + std::to_string(period) + " back";
    item.format = ValueFormat::kBcd;
    item.value_bytes = 4;
    item.decimals = 2;
    item.sign_bit = kind->sign_bit;
    item.block = block;
    item.unit = kind->unit;
    item.history_index = period;
    item.from_memory = kind->from_memory;
    return item;
}

std::optional<DataItem> FindPriceItem(DataId di) {
    DataId set = di & 0xFFFFFF00;
    std::uint8_t tariff = Byte(di, 0);
    if ((set != 0x04050100 && set != 0x04050200) || tariff == 0 || tariff > kMaxTariff)
        return std::nullopt;
    DataItem item;
    item.di = di;
    item.name = "tariff " + std::to_string(tariff) + " price, " +
                (set == 0x04050100 ? "first" : "second") + " set";
    item.format = ValueFormat::kBcd;
    item.value_bytes = 4;
    item.decimals = 4;
    item.unit = "yuan/kWh";
    item.from_memory = true;
    return item;
}

// Daily freeze records (日冻结, DL/T 645-2007 Table A.5) [MEM]: 0506 kk NN, NN = 01..3E the Nth
// last daily freeze; kk 00 = its time (YYMMDDhhmm), 01 = forward active energy block (total +
// T1..T4), 02 = reverse active energy block. Backfill reads them after an outage [DEV-7].
std::optional<DataItem> FindDailyFreezeItem(DataId di) {
    const std::uint8_t kind = Byte(di, 1);
    const std::uint8_t back = Byte(di, 0);
    if ((di >> 16) != 0x0506 || back < 1 || back > 0x3E || kind > 2)
        return std::nullopt;
    DataItem item;
    item.di = di;
    item.edition = Edition::k2007;
    item.history_index = back;
    item.from_memory = true;
    if (kind == 0) {
        item.name = "daily freeze time";
        item.format = ValueFormat::kDateTimeMinutes;
        item.value_bytes = 5;
    } else {
        item.name = kind == 1 ? "daily frozen forward active energy block"
                              : "daily frozen reverse active energy block";
        item.format = ValueFormat::kBcd;
        item.value_bytes = 4;
        item.decimals = 2;
        item.block = true;
        item.unit = "kWh";
    }
    item.name += ", " + std::to_string(back) + " back";
    return item;
}

bool IsPurchaseRecord(DataId di) {
    DataId family = di >> 16;
    return family == 0x0333 || family == 0x0332;
}

Result<DataItem> Find2007(DataId di) {
    if (const Entry* e = FindEntry(k2007Items, di))
        return FromEntry(*e, Edition::k2007);
    if (auto energy = FindEnergyItem(di))
        return *energy;
    if (auto price = FindPriceItem(di))
        return *price;
    if (auto freeze = FindDailyFreezeItem(di))
        return *freeze;
    std::uint8_t record = Byte(di, 0);
    if (IsPurchaseRecord(di) && record >= 2 && record <= kMaxPurchaseRecord) {
        if (const Entry* e = FindEntry(k2007Items, (di & 0xFFFFFF00) | 0x01)) {
            DataItem item = FromEntry(*e, Edition::k2007);
            item.di = di;
            return item;
        }
    }
    return NotFound("no DL/T 645-2007 data identifier " + FormatDataId(di), "di");
}

// --- BCD values -----------------------------------------------------------------------------

Result<Decimal> DecodeBcdValue(ByteView bytes, const DataItem& item) {
    Bytes digits(bytes.begin(), bytes.end());
    bool negative = false;
    if (item.sign_bit && (digits.back() & 0x80) != 0) {
        negative = true;
        digits.back() = static_cast<std::uint8_t>(digits.back() & 0x7F);
    }
    JOULE_ASSIGN_OR_RETURN(std::uint64_t magnitude, DecodeBcdLe(digits, "data"));
    auto mantissa = static_cast<std::int64_t>(magnitude);  // at most 12 digits
    return Decimal{negative ? -mantissa : mantissa, item.decimals};
}

// value as a mantissa at `decimals` places, only when no digit is lost.
std::optional<std::int64_t> ExactMantissa(Decimal value, int decimals) {
    std::int64_t out = 0;
    if (!Rescale(value, decimals, &out))
        return std::nullopt;
    std::int64_t back = 0;
    if (!Rescale(Decimal{out, decimals}, value.decimals, &back) || back != value.mantissa)
        return std::nullopt;
    return out;
}

Result<Bytes> EncodeBcdValue(Decimal value, const DataItem& item) {
    auto mantissa = ExactMantissa(value, item.decimals);
    if (!mantissa.has_value()) {
        return InvalidArgument("value", FormatDecimal(value) + " does not fit " +
                                            std::to_string(item.decimals) +
                                            " decimal places exactly");
    }
    bool negative = *mantissa < 0;
    if (negative && !item.sign_bit)
        return InvalidArgument("value", item.name + " cannot be negative");
    std::uint64_t magnitude = negative ? 0 - static_cast<std::uint64_t>(*mantissa)
                                       : static_cast<std::uint64_t>(*mantissa);
    JOULE_ASSIGN_OR_RETURN(Bytes bytes, EncodeBcdLe(magnitude, item.value_bytes, "value"));
    if (item.sign_bit) {
        if ((bytes.back() & 0x80) != 0) {
            return MakeError(ErrorCode::kOutOfRange,
                             FormatDecimal(value) + " needs the digit that holds the sign bit",
                             "value");
        }
        if (negative)
            bytes.back() = static_cast<std::uint8_t>(bytes.back() | 0x80);
    }
    return bytes;
}

// --- dates and times ------------------------------------------------------------------------

// Two-digit BCD fields of `bytes` in order, or kInvalidArgument ("data").
Result<std::vector<int>> BcdFields(ByteView bytes, std::size_t expected, std::string_view what) {
    if (bytes.size() != expected) {
        return InvalidArgument("length", std::string(what) + " needs " + std::to_string(expected) +
                                             " bytes, got " + std::to_string(bytes.size()));
    }
    std::vector<int> fields;
    fields.reserve(bytes.size());
    for (std::uint8_t b : bytes) {
        if (!IsBcdByte(b))
            return InvalidArgument("data", std::string(what) + " is not BCD: " + ToHex(bytes));
        fields.push_back(BcdByteValue(b));
    }
    return fields;
}

Result<MeterDateTime> Checked(const MeterDateTime& t, std::string_view what) {
    if (!IsValid(t)) {
        return InvalidArgument("time", std::string(what) + " " + FormatMeterDateTime(t) +
                                           " is not a real date and time");
    }
    return t;
}

Status CheckEncodable(const MeterDateTime& t) {
    if (!IsValid(t) || t.year < 2000 || t.year > 2099) {
        return InvalidArgument("time",
                               FormatMeterDateTime(t) + " is not a valid time in 2000..2099");
    }
    return {};
}

std::uint8_t Bcd(int value) { return ToBcdByte(static_cast<unsigned>(value)); }

// 0 = Sunday (Sakamoto's method).
int Weekday(int year, int month, int day) {
    static constexpr int kOffsets[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
    if (month < 3)
        year -= 1;
    return (year + year / 4 - year / 100 + year / 400 + kOffsets[month - 1] + day) % 7;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Result<DataItem> FindDataItem(DataId di, Edition edition) {
    if (edition == Edition::k1997) {
        if (const Entry* e = FindEntry(k1997Items, di))
            return FromEntry(*e, Edition::k1997);
        return NotFound("no DL/T 645-1997 data identifier " + FormatDataId(di, edition), "di");
    }
    JOULE_ASSIGN_OR_RETURN(DataItem item, Find2007(di));
    if (IsPurchaseRecord(di)) {
        item.history_index = Byte(di, 0);
        item.name += ", purchase " + std::to_string(item.history_index) + " back";
    }
    return item;
}

Result<std::vector<Decimal>> DecodeValues(const DataItem& item, ByteView payload) {
    std::vector<Decimal> values;
    switch (item.format) {
        case ValueFormat::kBcd: {
            std::size_t n = item.value_bytes;
            bool fits = n > 0 && !payload.empty() && payload.size() % n == 0 &&
                        (item.block || payload.size() == n);
            if (!fits) {
                return InvalidArgument("length", item.name + " takes " +
                                                     (item.block ? "a multiple of " : "") +
                                                     std::to_string(n) + " bytes, got " +
                                                     std::to_string(payload.size()));
            }
            for (std::size_t at = 0; at < payload.size(); at += n) {
                JOULE_ASSIGN_OR_RETURN(Decimal value, DecodeBcdValue(payload.subspan(at, n), item));
                values.push_back(value);
            }
            return values;
        }
        case ValueFormat::kStatusWord: {
            JOULE_ASSIGN_OR_RETURN(std::uint16_t word, DecodeStatusWord(payload));
            values.push_back(Decimal{word, 0});
            return values;
        }
        case ValueFormat::kDateWeek:
        case ValueFormat::kTime:
        case ValueFormat::kDateTimeMinutes:
        case ValueFormat::kRaw:
            break;
    }
    return InvalidArgument("di", item.name + " is not a number: use its date, time or raw form");
}

Result<std::vector<Decimal>> DecodeValues(DataId di, ByteView payload, Edition edition) {
    JOULE_ASSIGN_OR_RETURN(DataItem item, FindDataItem(di, edition));
    return DecodeValues(item, payload);
}

Result<Bytes> EncodeValues(const DataItem& item, std::span<const Decimal> values) {
    std::size_t max_values =
        item.block ? kMaxDataBytes / std::max<std::size_t>(1, item.value_bytes) : 1;
    if (values.empty() || values.size() > max_values) {
        return InvalidArgument("value", item.name + " takes " +
                                            (item.block ? "1.." + std::to_string(max_values)
                                                        : std::string("exactly 1")) +
                                            " value(s), got " + std::to_string(values.size()));
    }
    Bytes out;
    switch (item.format) {
        case ValueFormat::kBcd:
            for (const Decimal& value : values) {
                JOULE_ASSIGN_OR_RETURN(Bytes bytes, EncodeBcdValue(value, item));
                out.insert(out.end(), bytes.begin(), bytes.end());
            }
            return out;
        case ValueFormat::kStatusWord: {
            auto word = ExactMantissa(values[0], 0);
            if (!word.has_value() || *word < 0 || *word > 0xFFFF)
                return InvalidArgument("value", "a status word is an integer 0..65535");
            return EncodeStatusWord(static_cast<std::uint16_t>(*word));
        }
        case ValueFormat::kDateWeek:
        case ValueFormat::kTime:
        case ValueFormat::kDateTimeMinutes:
        case ValueFormat::kRaw:
            break;
    }
    return InvalidArgument("di", item.name + " is not a number: use its date, time or raw form");
}

Result<DataId> Map1997To2007(DataId di_1997) {
    if (const Entry* e = FindEntry(k1997Items, di_1997))
        return e->equivalent_2007;
    return NotFound("no 2007 equivalent for 1997 DI " + FormatDataId(di_1997, Edition::k1997),
                    "di");
}

Result<DataId> Map2007To1997(DataId di_2007) {
    const Entry* end = std::end(k1997Items);
    const Entry* it = std::find_if(std::begin(k1997Items), end, [di_2007](const Entry& e) {
        return e.equivalent_2007 == di_2007;
    });
    if (it == end)
        return NotFound("no 1997 equivalent for 2007 DI " + FormatDataId(di_2007), "di");
    return it->di;
}

// --- dates and times ------------------------------------------------------------------------

Result<MeterDate> DecodeMeterDate(ByteView payload) {
    JOULE_ASSIGN_OR_RETURN(std::vector<int> f, BcdFields(payload, 4, "YYMMDDWW"));
    MeterDate date{2000 + f[3], f[2], f[1], f[0]};
    JOULE_TRY(Checked(MeterDateTime{date.year, date.month, date.day, 0, 0, 0}, "date"));
    if (date.weekday > 6)
        return InvalidArgument("time", "weekday " + std::to_string(date.weekday) + " is not 0..6");
    return date;
}

Result<MeterTime> DecodeMeterTime(ByteView payload) {
    JOULE_ASSIGN_OR_RETURN(std::vector<int> f, BcdFields(payload, 3, "hhmmss"));
    MeterTime time{f[2], f[1], f[0]};
    JOULE_TRY(Checked(MeterDateTime{2000, 1, 1, time.hour, time.minute, time.second}, "time"));
    return time;
}

Result<MeterDateTime> DecodeDateTimeMinutes(ByteView payload) {
    JOULE_ASSIGN_OR_RETURN(std::vector<int> f, BcdFields(payload, 5, "YYMMDDhhmm"));
    return Checked(MeterDateTime{2000 + f[4], f[3], f[2], f[1], f[0], 0}, "YYMMDDhhmm");
}

Result<MeterDateTime> DecodeDateTimeSeconds(ByteView payload) {
    JOULE_ASSIGN_OR_RETURN(std::vector<int> f, BcdFields(payload, 6, "YYMMDDhhmmss"));
    return Checked(MeterDateTime{2000 + f[5], f[4], f[3], f[2], f[1], f[0]}, "YYMMDDhhmmss");
}

MeterDateTime CombineDateTime(const MeterDate& date, const MeterTime& time) {
    return MeterDateTime{date.year, date.month, date.day, time.hour, time.minute, time.second};
}

Result<Bytes> EncodeMeterDate(const MeterDateTime& t) {
    JOULE_TRY(CheckEncodable(t));
    return Bytes{Bcd(Weekday(t.year, t.month, t.day)), Bcd(t.day), Bcd(t.month),
                 Bcd(t.year - 2000)};
}

Result<Bytes> EncodeMeterTime(const MeterDateTime& t) {
    JOULE_TRY(CheckEncodable(t));
    return Bytes{Bcd(t.second), Bcd(t.minute), Bcd(t.hour)};
}

Result<Bytes> EncodeDateTimeMinutes(const MeterDateTime& t) {
    JOULE_TRY(CheckEncodable(t));
    if (t.second != 0)
        return InvalidArgument("time", "YYMMDDhhmm has no seconds; got " + FormatMeterDateTime(t));
    return Bytes{Bcd(t.minute), Bcd(t.hour), Bcd(t.day), Bcd(t.month), Bcd(t.year - 2000)};
}

Result<Bytes> EncodeDateTimeSeconds(const MeterDateTime& t) {
    JOULE_TRY(CheckEncodable(t));
    return Bytes{Bcd(t.second), Bcd(t.minute), Bcd(t.hour),
                 Bcd(t.day),    Bcd(t.month),  Bcd(t.year - 2000)};
}

// --- status words ---------------------------------------------------------------------------

Result<std::uint16_t> DecodeStatusWord(ByteView payload) {
    if (payload.size() != 2) {
        return InvalidArgument("length",
                               "a status word has 2 bytes, got " + std::to_string(payload.size()));
    }
    return static_cast<std::uint16_t>(payload[1] << 8 | payload[0]);
}

Bytes EncodeStatusWord(std::uint16_t word) {
    return Bytes{static_cast<std::uint8_t>(word & 0xFF), static_cast<std::uint8_t>(word >> 8)};
}

RunStatus3 DecodeRunStatus3(std::uint16_t word) {
    auto bit = [word](int n) { return ((word >> n) & 1) != 0; };
    RunStatus3 s;
    s.second_time_slot_table = bit(0);
    s.supply = static_cast<PowerSupply>((word >> 1) & 0x3);
    s.programming_allowed = bit(3);
    s.relay_open = bit(4);
    s.second_time_zone_set = bit(5);
    s.relay_command_trip = bit(6);
    s.pre_trip_alarm = bit(7);
    s.meter_type = static_cast<PrepaidType>((word >> 8) & 0x3);
    s.second_tariff_price_set = bit(10);
    s.second_step_set = bit(11);
    s.hold_power = bit(12);
    s.identity_authenticated = bit(13);
    s.local_account_not_opened = bit(14);
    s.remote_account_not_opened = bit(15);
    return s;
}

std::uint16_t EncodeRunStatus3(const RunStatus3& s) {
    unsigned word = 0;
    auto set = [&word](bool on, int n) {
        if (on)
            word |= 1U << n;
    };
    set(s.second_time_slot_table, 0);
    word |= (static_cast<unsigned>(s.supply) & 0x3U) << 1;
    set(s.programming_allowed, 3);
    set(s.relay_open, 4);
    set(s.second_time_zone_set, 5);
    set(s.relay_command_trip, 6);
    set(s.pre_trip_alarm, 7);
    word |= (static_cast<unsigned>(s.meter_type) & 0x3U) << 8;
    set(s.second_tariff_price_set, 10);
    set(s.second_step_set, 11);
    set(s.hold_power, 12);
    set(s.identity_authenticated, 13);
    set(s.local_account_not_opened, 14);
    set(s.remote_account_not_opened, 15);
    return static_cast<std::uint16_t>(word);
}

Result<DataId> PurchaseCountDi(PrepaidType meter_type) {
    if (meter_type == PrepaidType::kMoney)
        return DataId{0x03330201};
    if (meter_type == PrepaidType::kEnergy)
        return DataId{0x03320201};
    return FailedPrecondition("the meter is not prepaid (status word 3 bits 8-9)", "meter_type");
}

Result<DataId> CumulativePurchaseDi(PrepaidType meter_type) {
    if (meter_type == PrepaidType::kMoney)
        return DataId{0x03330601};
    if (meter_type == PrepaidType::kEnergy)
        return DataId{0x03320601};
    return FailedPrecondition("the meter is not prepaid (status word 3 bits 8-9)", "meter_type");
}

}  // namespace joule::codec::dlt645
