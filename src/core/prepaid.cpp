#include "core/prepaid.hpp"

#include <array>
#include <utility>

namespace joule {

std::string_view RelayName(Relay relay) { return relay == Relay::kOpen ? "open" : "closed"; }

std::string_view PrepaidStateName(PrepaidState state) {
    switch (state) {
        case PrepaidState::kNormal:
            return "normal";
        case PrepaidState::kAlarm1:
            return "alarm1";
        case PrepaidState::kAlarm2:
            return "alarm2";
        case PrepaidState::kAlarm3:
            return "alarm3";
        case PrepaidState::kTripHeld:
            return "trip_held";
        case PrepaidState::kTripped:
            return "tripped";
        case PrepaidState::kKeepPower:
            return "keep_power";
        case PrepaidState::kForcedTrip:
            return "forced_trip";
    }
    return "unknown";
}

std::string_view AlarmKindName(AlarmKind kind) {
    switch (kind) {
        case AlarmKind::kLowBalance1:
            return "low_balance_1";
        case AlarmKind::kLowBalance2:
            return "low_balance_2";
        case AlarmKind::kLowBalance3:
            return "low_balance_3";
        case AlarmKind::kArrearsTrip:
            return "arrears_trip";
        case AlarmKind::kTripHeld:
            return "trip_held";
        case AlarmKind::kKeepPower:
            return "keep_power";
        case AlarmKind::kForcedTrip:
            return "forced_trip";
        case AlarmKind::kReadingQuarantined:
            return "reading_quarantined";
        case AlarmKind::kMeterResetSuspected:
            return "meter_reset_suspected";
        case AlarmKind::kMeterOffline:
            return "meter_offline";
        case AlarmKind::kGatewayOffline:
            return "gateway_offline";
        case AlarmKind::kRelayMismatch:
            return "relay_mismatch";
        case AlarmKind::kCommandFailed:
            return "command_failed";
        case AlarmKind::kClockDrift:
            return "clock_drift";
        case AlarmKind::kBatteryLow:
            return "battery_low";
        case AlarmKind::kPurchaseCountMismatch:
            return "purchase_count_mismatch";
        case AlarmKind::kPaymentMismatch:
            return "payment_mismatch";
    }
    return "unknown";
}

std::string_view CommandKindName(CommandKind kind) {
    switch (kind) {
        case CommandKind::kTrip:
            return "trip";
        case CommandKind::kClose:
            return "close";
    }
    return "unknown";
}

Status ValidateControlScheme(const ControlScheme& s) {
    if (!(s.alarm1 >= s.alarm2 && s.alarm2 >= s.alarm3)) {
        return InvalidArgument("alarm2", "alarm levels must satisfy alarm1 >= alarm2 >= alarm3");
    }
    constexpr int64_t kMaxFen = 1'000'000;  // 10000.00 yuan
    for (auto [name, m] : {std::pair{"overdraft", s.overdraft}, std::pair{"restore", s.restore},
                           std::pair{"emergency", s.emergency}}) {
        if (m.fen < 0 || m.fen > kMaxFen) {
            return InvalidArgument(name, "must be between 0 and 10000.00");
        }
    }
    if (s.friendly.night_start_minute >= 1440 || s.friendly.night_end_minute >= 1440) {
        return InvalidArgument("friendly", "night times must be within the day");
    }
    return {};
}

bool InFriendlyPeriod(const FriendlyPolicy& policy, LocalTime local, bool weekend, bool holiday) {
    if ((policy.weekends && weekend) || (policy.holidays && holiday)) {
        return true;
    }
    if (!policy.nights) {
        return false;
    }
    const auto day = date::floor<date::days>(local);
    const auto minute = static_cast<uint16_t>(
        std::chrono::duration_cast<std::chrono::minutes>(local - day).count());
    if (policy.night_start_minute <= policy.night_end_minute) {
        return minute >= policy.night_start_minute && minute < policy.night_end_minute;
    }
    return minute >= policy.night_start_minute || minute < policy.night_end_minute;
}

bool EmergencyAllowed(const ControlScheme& scheme, const PrepaidStatus& status, Money available) {
    return scheme.emergency.fen > 0 && !status.emergency_taken && !status.forced_trip &&
           !status.keep_power && available <= scheme.restore;
}

namespace {

// The alarms active in a status, as a bit set over AlarmKind values < 16.
uint32_t ActiveAlarms(const PrepaidStatus& status) {
    auto bit = [](AlarmKind k) { return 1U << static_cast<unsigned>(k); };
    switch (status.state) {
        case PrepaidState::kAlarm1:
            return bit(AlarmKind::kLowBalance1);
        case PrepaidState::kAlarm2:
            return bit(AlarmKind::kLowBalance2);
        case PrepaidState::kAlarm3:
            return bit(AlarmKind::kLowBalance3);
        case PrepaidState::kTripHeld:
            return bit(AlarmKind::kTripHeld);
        case PrepaidState::kTripped:
            return bit(AlarmKind::kArrearsTrip);
        case PrepaidState::kForcedTrip:
            return bit(AlarmKind::kForcedTrip);
        case PrepaidState::kNormal:
            return 0;
        case PrepaidState::kKeepPower: {
            // Under keep power the tenant is still warned of the balance level.
            static constexpr AlarmKind kByBand[] = {
                AlarmKind::kKeepPower, AlarmKind::kLowBalance1, AlarmKind::kLowBalance2,
                AlarmKind::kLowBalance3, AlarmKind::kLowBalance3};
            return bit(AlarmKind::kKeepPower) | bit(kByBand[status.band]);
        }
    }
    return 0;
}

uint8_t BandOf(const ControlScheme& scheme, Money available, Money trip_level) {
    if (available <= trip_level) {
        return 4;
    }
    if (available <= scheme.alarm3) {
        return 3;
    }
    if (available <= scheme.alarm2) {
        return 2;
    }
    return available <= scheme.alarm1 ? 1 : 0;
}

PrepaidState BalanceState(const ControlScheme& scheme, Money available) {
    if (available <= scheme.alarm3) {
        return PrepaidState::kAlarm3;
    }
    if (available <= scheme.alarm2) {
        return PrepaidState::kAlarm2;
    }
    if (available <= scheme.alarm1) {
        return PrepaidState::kAlarm1;
    }
    return PrepaidState::kNormal;
}

}  // namespace

PrepaidStatus StepPrepaid(const ControlScheme& scheme, const PrepaidStatus& prev,
                          ControlEvent event, Money available, bool friendly_now,
                          ControlEffects& effects) {
    PrepaidStatus next = prev;
    switch (event) {
        case ControlEvent::kBalanceChanged:
            break;
        case ControlEvent::kManualTrip:
            next.forced_trip = true;
            break;
        case ControlEvent::kManualClose:
            next.forced_trip = false;
            break;
        case ControlEvent::kKeepPowerOn:
            next.keep_power = true;
            break;
        case ControlEvent::kKeepPowerOff:
            next.keep_power = false;
            break;
        case ControlEvent::kTakeEmergency:
            if (!EmergencyAllowed(scheme, prev, available)) {
                return prev;
            }
            next.emergency_taken = true;
            break;
    }

    const Money trip_level =
        -(scheme.overdraft + (next.emergency_taken ? scheme.emergency : Money{0}));
    next.band = BandOf(scheme, available, trip_level);
    if (next.forced_trip) {
        next.state = PrepaidState::kForcedTrip;
        next.relay = Relay::kOpen;
    } else if (next.keep_power) {
        next.state = PrepaidState::kKeepPower;
        next.relay = Relay::kClosed;
    } else if (available <= trip_level) {
        if (prev.relay == Relay::kClosed && friendly_now) {
            next.state = PrepaidState::kTripHeld;
            next.relay = Relay::kClosed;
        } else {
            next.state = PrepaidState::kTripped;
            next.relay = Relay::kOpen;
        }
    } else if (prev.state == PrepaidState::kTripped && available <= scheme.restore &&
               event != ControlEvent::kTakeEmergency) {
        next.state = PrepaidState::kTripped;  // hysteresis: wait for the restore level
        next.relay = Relay::kOpen;
    } else {
        next.state = BalanceState(scheme, available);
        next.relay = Relay::kClosed;
    }
    if (!next.forced_trip && !next.keep_power && available > scheme.restore &&
        available > trip_level) {
        next.emergency_taken = false;  // the arrears episode is over
    }

    if (next.relay != prev.relay) {
        effects.commands.push_back(
            {next.relay == Relay::kOpen ? CommandKind::kTrip : CommandKind::kClose, next.state});
    }
    const uint32_t before = ActiveAlarms(prev);
    const uint32_t after = ActiveAlarms(next);
    for (unsigned k = 0; k < 16; ++k) {
        const uint32_t bit = 1U << k;
        if ((after & bit) && !(before & bit)) {
            effects.alarms.push_back({static_cast<AlarmKind>(k), AlarmAction::kRaise});
        } else if (!(after & bit) && (before & bit)) {
            effects.alarms.push_back({static_cast<AlarmKind>(k), AlarmAction::kClear});
        }
    }
    return next;
}

}  // namespace joule
