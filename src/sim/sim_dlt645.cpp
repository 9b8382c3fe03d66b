// SimMeter's DL/T 645 front end (2007 and 1997): reads of every DI the shipped models use and the
// usual neighbours, 1CH remote control, 14H prepaid settings, 13H read address, 08H time sync,
// 16H freeze and 1AH meter clear. A meter speaks its model's edition only; 08H is common to both.
#include <algorithm>

#include "codec/dlt645.hpp"
#include "codec/meter_driver.hpp"
#include "sim/sim_meter.hpp"
#include "sim/sim_values.hpp"

namespace joule::sim {

namespace dlt = codec::dlt645;

namespace {

constexpr auto kOther = static_cast<std::uint8_t>(dlt::ErrorBit::kOther);
constexpr auto kNoData = static_cast<std::uint8_t>(dlt::ErrorBit::kNoRequestedData);
constexpr auto kPassword = static_cast<std::uint8_t>(dlt::ErrorBit::kPasswordOrUnauthorized);

std::uint8_t Byte(std::uint32_t di, int index) {
    return static_cast<std::uint8_t>(di >> (8 * index));
}

Decimal Kwh(std::int64_t wh) { return Decimal{wh, 3}; }

std::unexpected<Error> NoData(std::uint32_t di) {
    return NotFound("the meter has no " + dlt::FormatDataId(di), "di");
}

// The address as the meter's own: the first 6 stored bytes.
dlt::Address SelfAddress(const std::array<std::uint8_t, 7>& bytes) {
    dlt::Address a;
    std::copy_n(bytes.begin(), dlt::kAddressBytes, a.bytes.begin());
    return a;
}

bool IsReadLike(const dlt::Request& request) {
    return std::holds_alternative<dlt::ReadDataRequest>(request) ||
           std::holds_alternative<dlt::ReadAddressRequest>(request);
}

}  // namespace

// The values of a 2007 DI (1997 DIs are mapped to their 2007 equivalents first), and whether
// they are cumulative registers.
Result<std::vector<Decimal>> SimMeter::Dlt645Values(std::uint32_t di, bool* registers) const {
    const CircuitState& c = circuits_.front();
    const bool prepaid = model_.in_meter_prepaid;
    *registers = false;
    switch (di) {
        case 0x02030000:
        case 0x02030100:
            return std::vector{*Value(0, codec::Point::kPower)};
        case 0x02060000:
        case 0x02060100:
            return std::vector{*Value(0, codec::Point::kPowerFactor)};
        case 0x02800002:
            return std::vector{*Value(0, codec::Point::kFrequency)};
        case 0x04000501:
        case 0x04000502:
        case 0x04000504:
        case 0x04000505:
        case 0x04000506:
        case 0x04000507:
            return std::vector{Decimal{0, 0}};
        case 0x04000503:
            return std::vector{Decimal{RunStatus3Word(0), 0}};
        case 0x04000401:
        case 0x04000402: {
            std::int64_t number = 0;
            for (int i = static_cast<int>(dlt::kAddressBytes) - 1; i >= 0; --i)
                number =
                    number * 100 + codec::BcdByteValue(address_bytes_[static_cast<std::size_t>(i)]);
            return std::vector{Decimal{number, 0}};
        }
        default:
            break;
    }
    if (prepaid) {
        switch (di) {
            case 0x00900200:
                return std::vector{*Value(0, codec::Point::kBalance)};
            case 0x00900201:
                return std::vector{*Value(0, codec::Point::kOverdraft)};
            case 0x03330201:
                // XXXX wraps
                return std::vector{
                    Decimal{prepaid_.purchase_count % codec::PurchaseCountModulus(model_), 0}};
            case 0x03330601:
                return std::vector{Decimal{prepaid_.cumulative_purchase_fen, 2}};
            case 0x04001001:
                return std::vector{Decimal{prepaid_.alarm_1_fen, 2}};
            case 0x04001002:
                return std::vector{Decimal{prepaid_.alarm_2_fen, 2}};
            case 0x04050101:
            case 0x02800020:
                return std::vector{Decimal{prepaid_.price_e4, 4}};
            default:
                break;
        }
    }
    // Instantaneous per-phase values: a three-phase meter is modelled as balanced, so every
    // phase reports the circuit's voltage and current.
    const std::uint32_t family = di & 0xFFFF0000;
    if (family == 0x02010000 || family == 0x02020000) {
        const auto point = family == 0x02010000 ? codec::Point::kVoltage : codec::Point::kCurrent;
        const std::uint8_t phase = Byte(di, 1);
        if (Byte(di, 0) != 0)
            return NoData(di);
        if (phase >= 1 && phase <= 3)
            return std::vector{*Value(0, point)};
        if (phase == 0xFF)
            return std::vector(3, *Value(0, point));
        return NoData(di);
    }
    // Daily freezes 0506 kk NN: kk 01 forward block, 02 reverse block of the NN-th last freeze.
    if ((di >> 16) == 0x0506) {
        const std::uint8_t kind = Byte(di, 1);
        const std::size_t back = Byte(di, 0);
        if (back < 1 || back > freezes_.size() || (kind != 1 && kind != 2))
            return NoData(di);
        const CircuitState& f = freezes_[back - 1].circuits.front();
        *registers = true;
        if (kind == 1) {
            return std::vector{Kwh(f.forward_wh), Kwh(f.rate_wh[0]), Kwh(f.rate_wh[1]),
                               Kwh(f.rate_wh[2]), Kwh(f.rate_wh[3])};
        }
        return std::vector{Kwh(f.reverse_wh), Kwh(f.reverse_rate_wh[0]), Kwh(f.reverse_rate_wh[1]),
                           Kwh(f.reverse_rate_wh[2]), Kwh(f.reverse_rate_wh[3])};
    }
    // Energy 00 kk tt pp: combined (forward + reverse), forward, reverse; current period only.
    if (Byte(di, 3) == 0x00 && Byte(di, 2) <= 0x02 && Byte(di, 0) == 0x00) {
        const std::uint8_t kind = Byte(di, 2);
        const std::uint8_t tariff = Byte(di, 1);
        std::array<std::int64_t, kRates + 1> wh{};  // total, T1..T4
        for (std::size_t i = 0; i <= kRates; ++i) {
            const std::int64_t forward = i == 0 ? c.forward_wh : c.rate_wh[i - 1];
            const std::int64_t reverse = i == 0 ? c.reverse_wh : c.reverse_rate_wh[i - 1];
            wh[i] = kind == 1 ? forward : kind == 2 ? reverse : Wrap(forward + reverse);
        }
        *registers = true;
        if (tariff == 0xFF)
            return std::vector{Kwh(wh[0]), Kwh(wh[1]), Kwh(wh[2]), Kwh(wh[3]), Kwh(wh[4])};
        if (tariff <= kRates)
            return std::vector{Kwh(wh[tariff])};
    }
    return NoData(di);
}

Result<Bytes> SimMeter::Dlt645ReadPayload(std::uint32_t di, dlt::Edition edition) const {
    auto found = dlt::FindDataItem(di, edition);
    if (!found)
        return NoData(di);
    const dlt::DataItem& item = *found;
    switch (item.format) {
        case dlt::ValueFormat::kDateWeek:
            return dlt::EncodeMeterDate(MeterClock());
        case dlt::ValueFormat::kTime:
            return dlt::EncodeMeterTime(MeterClock());
        case dlt::ValueFormat::kDateTimeMinutes: {
            // 0506 00 NN: the NN-th last daily freeze time. Purchase dates are not modelled.
            const std::size_t back = Byte(di, 0);
            if ((di >> 16) != 0x0506 || back < 1 || back > freezes_.size())
                return NoData(di);
            return dlt::EncodeDateTimeMinutes(freezes_[back - 1].at);
        }
        case dlt::ValueFormat::kRaw:
            return NoData(di);  // passwords are never readable
        case dlt::ValueFormat::kBcd:
        case dlt::ValueFormat::kStatusWord:
            break;
    }
    std::uint32_t di_2007 = di;
    if (edition == dlt::Edition::k1997) {
        auto mapped = dlt::Map1997To2007(di);
        if (!mapped)
            return NoData(di);
        di_2007 = *mapped;
    }
    bool registers = false;
    JOULE_ASSIGN_OR_RETURN(std::vector<Decimal> values, Dlt645Values(di_2007, &registers));
    for (Decimal& v : values) {
        if (v.mantissa < 0 && !item.sign_bit)
            v.mantissa = -v.mantissa;  // an unsigned item shows the magnitude
        auto at = AtPlaces(v, item.decimals, registers);
        if (!at)
            return InvalidArgument("value", "does not fit");
        v = *at;
    }
    return dlt::EncodeValues(item, values);
}

std::uint8_t SimMeter::Dlt645Write(const dlt::WriteDataRequest& write) {
    if (write.edition != dlt::Edition::k2007)
        return kOther;
    if (write.password != model_.password)
        return kPassword;
    if (!model_.in_meter_prepaid)
        return kOther;
    if (write.di == model_.purchase_di) {
        auto purchase = codec::DecodeDlt645Purchase(model_.purchase_layout, write.value);
        if (!purchase)
            return kOther;
        // A replay or a wrong count: "other error" (the 2013 amendment's 'repeated top-up' bit
        // lives in the ESAM 03H error word, which plaintext 14H meters do not send).
        return ApplyPurchase(purchase->amount_fen, purchase->count) == PurchaseOutcome::kApplied
                   ? 0
                   : kOther;
    }
    if (write.di != 0x04001001 && write.di != 0x04001002 && write.di != 0x04050101)
        return kOther;
    auto values = dlt::DecodeValues(write.di, write.value);
    if (!values || values->size() != 1)
        return kOther;
    std::int64_t amount = 0;
    if (!codec::Rescale(values->front(), write.di == 0x04050101 ? 4 : 2, &amount) || amount < 0)
        return kOther;
    if (write.di == 0x04001001)
        prepaid_.alarm_1_fen = amount;
    else if (write.di == 0x04001002)
        prepaid_.alarm_2_fen = amount;
    else
        SetPrice(amount);
    ++stats_.commands;
    return 0;
}

std::uint8_t SimMeter::Dlt645RemoteControl(const dlt::RemoteControlRequest& control) {
    if (!model_.has_relay)
        return kOther;
    if (control.password != model_.password)
        return kPassword;
    if (ToSeconds(MeterClock()) > ToSeconds(control.valid_until))
        return kOther;  // the command's deadline has passed by the meter's clock
    CircuitState& c = mutable_circuit(0);
    bool done = true;
    switch (control.command) {
        case dlt::RemoteCommand::kTrip:
            done = Trip(0);
            break;
        case dlt::RemoteCommand::kCloseAllowed:
            done = Close(0, false);
            break;
        case dlt::RemoteCommand::kDirectClose:
            done = Close(0, true);
            break;
        case dlt::RemoteCommand::kAlarm:
            c.alarm = true;
            break;
        case dlt::RemoteCommand::kAlarmRelease:
            c.alarm = false;
            break;
        case dlt::RemoteCommand::kHoldPower:
            c.hold = true;
            c.local_tripped = false;  // a held meter keeps the power on
            break;
        case dlt::RemoteCommand::kHoldRelease:
            c.hold = false;
            UpdateLocalTrip();
            break;
    }
    if (!done)
        return kOther;
    ++stats_.commands;
    return 0;
}

std::optional<Bytes> SimMeter::HandleDlt645(ByteView bytes) {
    auto decoded = dlt::DecodeFrame(bytes);
    if (!decoded || decoded->frame.control.is_reply())
        return std::nullopt;  // line noise or another meter's reply
    const dlt::Frame& frame = decoded->frame;
    const dlt::Address self = SelfAddress(address_bytes_);
    const bool broadcast = dlt::IsBroadcast(frame.address);
    const bool exact = frame.address == self;
    if (!exact && !broadcast && !dlt::AddressMatches(frame.address, self))
        return std::nullopt;
    const dlt::Function function = frame.control.function();
    const auto edition = dlt::DetectEdition(frame);
    const dlt::Edition mine = model_.protocol == codec::Protocol::kDlt645_1997
                                  ? dlt::Edition::k1997
                                  : dlt::Edition::k2007;
    if (!edition || (*edition != mine && function != dlt::Function::kBroadcastTime))
        return std::nullopt;  // a request this meter's edition does not speak

    auto send = [&](const dlt::Reply& reply) -> std::optional<Bytes> {
        auto built = dlt::BuildReply(self, reply);
        if (!built)
            return std::nullopt;
        auto wire = dlt::EncodeFrame(*built, {model_.preamble_bytes});
        if (!wire)
            return std::nullopt;
        return *wire;
    };
    auto refuse = [&](std::uint8_t bits) {
        ++stats_.errors;
        return send(dlt::ErrorReply{function, dlt::ErrorWord{bits}});
    };

    auto request = dlt::ParseRequest(frame);
    if (!request)
        return broadcast ? std::nullopt : refuse(kOther);
    if (const auto* sync = std::get_if<dlt::BroadcastTimeRequest>(&*request)) {
        drift_s_ = ToSeconds(sync->time) - ToSeconds(now_);
        ++stats_.commands;
        return std::nullopt;  // time sync is never answered
    }
    if (const auto* freeze = std::get_if<dlt::FreezeRequest>(&*request)) {
        const bool now = !freeze->month && !freeze->day && !freeze->hour && !freeze->minute;
        if (now && (broadcast || exact)) {
            Freeze(MeterClock());
            ++stats_.commands;
        }
        if (broadcast || !exact)
            return std::nullopt;
        return now ? send(dlt::AckReply{dlt::Function::kFreeze}) : refuse(kOther);
    }
    if (broadcast || (!exact && !IsReadLike(*request)))
        return std::nullopt;  // short addressing is for reads only

    if (const auto* read = std::get_if<dlt::ReadDataRequest>(&*request)) {
        if (read->load_record)
            return refuse(kNoData);
        auto payload = Dlt645ReadPayload(read->di, read->edition);
        if (!payload)
            return refuse(payload.error().code == ErrorCode::kNotFound ? kNoData : kOther);
        return send(dlt::ReadReply{read->edition, read->di, std::move(*payload), false, false,
                                   std::nullopt});
    }
    if (std::holds_alternative<dlt::ReadAddressRequest>(*request))
        return send(dlt::AddressReply{self});
    if (const auto* write = std::get_if<dlt::WriteDataRequest>(&*request)) {
        const std::uint8_t error = Dlt645Write(*write);
        return WriteReply(error != 0 ? refuse(error) : send(dlt::AckReply{function}));
    }
    if (const auto* control = std::get_if<dlt::RemoteControlRequest>(&*request)) {
        const std::uint8_t error = Dlt645RemoteControl(*control);
        return error != 0 ? refuse(error) : send(dlt::AckReply{function});
    }
    if (const auto* clear = std::get_if<dlt::MeterClearRequest>(&*request)) {
        if (clear->password != model_.password)
            return refuse(kPassword);
        ResetRegisters();
        ++stats_.commands;
        return send(dlt::AckReply{function});
    }
    return refuse(kOther);  // understood but not modelled (baud, password, demand, events, ...)
}

}  // namespace joule::sim
