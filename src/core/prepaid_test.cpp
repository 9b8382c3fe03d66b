#include "core/prepaid.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string_view>
#include <vector>

namespace joule {

// Readable failure messages.
void PrintTo(const AlarmEffect& e, std::ostream* os) {
    *os << (e.action == AlarmAction::kRaise ? "raise " : "clear ") << AlarmKindName(e.kind);
}
void PrintTo(const CommandEffect& e, std::ostream* os) {
    *os << CommandKindName(e.kind) << " because " << PrepaidStateName(e.because);
}

namespace {

using Alarms = std::vector<AlarmEffect>;
using Commands = std::vector<CommandEffect>;

constexpr AlarmEffect Raise(AlarmKind k) { return {k, AlarmAction::kRaise}; }
constexpr AlarmEffect Clear(AlarmKind k) { return {k, AlarmAction::kClear}; }

// One account's prepaid control, stepped event by event. Default scheme: alarm 1/2/3 at
// 50.00 / 20.00 / 5.00 yuan, trip at 0, restore above 0, no emergency credit.
struct Account {
    ControlScheme scheme;
    PrepaidStatus status;
    ControlEffects effects;

    PrepaidStatus Step(ControlEvent event, int64_t balance_fen, bool friendly = false) {
        effects = {};
        status = StepPrepaid(scheme, status, event, Money{balance_fen}, friendly, effects);
        return status;
    }
    PrepaidStatus Balance(int64_t fen, bool friendly = false) {
        return Step(ControlEvent::kBalanceChanged, fen, friendly);
    }
    [[nodiscard]] bool Quiet() const { return effects.alarms.empty() && effects.commands.empty(); }
};

TEST(StepPrepaid, EachAlarmLevelIsRaisedOnceOnDescent) {
    Account a;
    a.Balance(10'000);
    EXPECT_EQ(a.status.state, PrepaidState::kNormal);
    EXPECT_TRUE(a.Quiet());

    a.Balance(5000);  // at level 1 (50.00)
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm1);
    EXPECT_EQ(a.effects.alarms, (Alarms{Raise(AlarmKind::kLowBalance1)}));
    a.Balance(3000);
    EXPECT_TRUE(a.Quiet());

    a.Balance(2000);  // level 2 replaces level 1
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm2);
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Clear(AlarmKind::kLowBalance1), Raise(AlarmKind::kLowBalance2)}));
    a.Balance(1999);
    EXPECT_TRUE(a.Quiet());

    a.Balance(500);
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm3);
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Clear(AlarmKind::kLowBalance2), Raise(AlarmKind::kLowBalance3)}));
    a.Balance(1);
    EXPECT_TRUE(a.Quiet());
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    EXPECT_EQ(a.status.band, 3);
}

TEST(StepPrepaid, AlarmClearsOnRecovery) {
    Account a;
    a.Balance(400);  // straight to level 3
    EXPECT_EQ(a.effects.alarms, (Alarms{Raise(AlarmKind::kLowBalance3)}));
    a.Balance(10'000);
    EXPECT_EQ(a.status.state, PrepaidState::kNormal);
    EXPECT_EQ(a.effects.alarms, (Alarms{Clear(AlarmKind::kLowBalance3)}));
    EXPECT_TRUE(a.effects.commands.empty());
    EXPECT_EQ(a.status.band, 0);
}

TEST(StepPrepaid, TripsAtZeroAndClosesOnTopUp) {
    Account a;
    a.Balance(100);
    a.Balance(0);  // at the trip level -(0)
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_EQ(a.status.relay, Relay::kOpen);
    EXPECT_EQ(a.status.band, 4);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kTrip, PrepaidState::kTripped}}));
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Clear(AlarmKind::kLowBalance3), Raise(AlarmKind::kArrearsTrip)}));

    a.Balance(-50);  // still tripped: nothing new
    EXPECT_TRUE(a.Quiet());

    a.Balance(600);  // top-up to 6.00: above restore (0), level 2
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm2);
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kClose, PrepaidState::kAlarm2}}));
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Raise(AlarmKind::kLowBalance2), Clear(AlarmKind::kArrearsTrip)}));
}

TEST(StepPrepaid, OverdraftMovesTheTripLevelBelowZero) {
    Account a;
    a.scheme.overdraft = Money{1000};  // trip at or below -10.00
    a.Balance(-999);
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm3);
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    a.Balance(-1000);
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kTrip, PrepaidState::kTripped}}));
}

TEST(StepPrepaid, RestoreLevelHoldsTheTripUntilExceeded) {
    Account a;
    a.scheme.restore = Money{1000};  // close only above 10.00
    a.Balance(-10);
    ASSERT_EQ(a.status.state, PrepaidState::kTripped);
    a.Balance(800);
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_EQ(a.status.relay, Relay::kOpen);
    EXPECT_TRUE(a.Quiet());
    a.Balance(1000);  // at the restore level: still open
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_TRUE(a.Quiet());
    a.Balance(1001);
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm2);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kClose, PrepaidState::kAlarm2}}));
}

TEST(InFriendlyPeriod, NightsWrapPastMidnight) {
    FriendlyPolicy p;
    p.nights = true;  // 22:00 .. 08:00
    auto at = [](std::string_view t) { return ParseLocalTime(t, "t").value(); };
    EXPECT_FALSE(InFriendlyPeriod(p, at("2026-01-05T21:59"), false, false));
    EXPECT_TRUE(InFriendlyPeriod(p, at("2026-01-05T22:00"), false, false));
    EXPECT_TRUE(InFriendlyPeriod(p, at("2026-01-05T23:59:59"), false, false));
    EXPECT_TRUE(InFriendlyPeriod(p, at("2026-01-06T00:00"), false, false));
    EXPECT_TRUE(InFriendlyPeriod(p, at("2026-01-06T07:59"), false, false));
    EXPECT_FALSE(InFriendlyPeriod(p, at("2026-01-06T08:00"), false, false));
    EXPECT_FALSE(InFriendlyPeriod(p, at("2026-01-06T12:00"), false, false));

    // A window within one day: 12:00 .. 14:00.
    p.night_start_minute = 12 * 60;
    p.night_end_minute = 14 * 60;
    EXPECT_TRUE(InFriendlyPeriod(p, at("2026-01-06T13:00"), false, false));
    EXPECT_FALSE(InFriendlyPeriod(p, at("2026-01-06T14:00"), false, false));
    EXPECT_FALSE(InFriendlyPeriod(p, at("2026-01-06T23:00"), false, false));

    // Nights off: never by time.
    p.nights = false;
    EXPECT_FALSE(InFriendlyPeriod(p, at("2026-01-06T13:00"), false, false));
}

TEST(InFriendlyPeriod, WeekendsAndHolidaysWhenEnabled) {
    FriendlyPolicy p;
    const LocalTime noon = ParseLocalTime("2026-01-03T12:00", "t").value();
    EXPECT_FALSE(InFriendlyPeriod(p, noon, true, true));
    p.weekends = true;
    EXPECT_TRUE(InFriendlyPeriod(p, noon, true, false));
    EXPECT_FALSE(InFriendlyPeriod(p, noon, false, true));
    p.holidays = true;
    EXPECT_TRUE(InFriendlyPeriod(p, noon, false, true));
}

TEST(StepPrepaid, TripIsHeldInAFriendlyPeriodAndExecutedAfter) {
    Account a;
    a.Balance(100);
    a.Balance(-10, /*friendly=*/true);
    EXPECT_EQ(a.status.state, PrepaidState::kTripHeld);
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    EXPECT_TRUE(a.effects.commands.empty());
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Clear(AlarmKind::kLowBalance3), Raise(AlarmKind::kTripHeld)}));
    a.Balance(-20, true);
    EXPECT_TRUE(a.Quiet());

    a.Balance(-20, false);  // the friendly period ends
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kTrip, PrepaidState::kTripped}}));
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Raise(AlarmKind::kArrearsTrip), Clear(AlarmKind::kTripHeld)}));

    a.Balance(-20, true);  // a new friendly period does not close an open relay
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_TRUE(a.Quiet());
}

TEST(StepPrepaid, HeldTripClearsOnTopUpWithoutCommands) {
    Account a;
    a.Balance(-10, true);
    ASSERT_EQ(a.status.state, PrepaidState::kTripHeld);
    a.Balance(10'000, true);
    EXPECT_EQ(a.status.state, PrepaidState::kNormal);
    EXPECT_TRUE(a.effects.commands.empty());
    EXPECT_EQ(a.effects.alarms, (Alarms{Clear(AlarmKind::kTripHeld)}));
}

TEST(StepPrepaid, KeepPowerKeepsRelayClosedAndStillShowsBalanceAlarm) {
    Account a;
    a.Balance(-100);
    ASSERT_EQ(a.status.state, PrepaidState::kTripped);

    a.Step(ControlEvent::kKeepPowerOn, -100);
    EXPECT_EQ(a.status.state, PrepaidState::kKeepPower);
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kClose, PrepaidState::kKeepPower}}));
    // At or below the trip level the lowest balance alarm shows beside keep power.
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Raise(AlarmKind::kLowBalance3), Clear(AlarmKind::kArrearsTrip),
                      Raise(AlarmKind::kKeepPower)}));

    a.Balance(-5000);  // deeper arrears: still closed, nothing new
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    EXPECT_TRUE(a.Quiet());

    a.Balance(3000);  // a top-up to 30.00: level 1 replaces level 3
    EXPECT_EQ(a.status.state, PrepaidState::kKeepPower);
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Raise(AlarmKind::kLowBalance1), Clear(AlarmKind::kLowBalance3)}));
    EXPECT_TRUE(a.effects.commands.empty());

    a.Step(ControlEvent::kKeepPowerOff, -100);  // back to prepaid control, in arrears
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kTrip, PrepaidState::kTripped}}));
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Clear(AlarmKind::kLowBalance1), Raise(AlarmKind::kArrearsTrip),
                      Clear(AlarmKind::kKeepPower)}));
}

TEST(StepPrepaid, ForcedTripUntilManualClose) {
    Account a;
    a.Balance(10'000);
    a.Step(ControlEvent::kManualTrip, 10'000);
    EXPECT_EQ(a.status.state, PrepaidState::kForcedTrip);
    EXPECT_EQ(a.status.relay, Relay::kOpen);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kTrip, PrepaidState::kForcedTrip}}));
    EXPECT_EQ(a.effects.alarms, (Alarms{Raise(AlarmKind::kForcedTrip)}));

    a.Balance(100);  // balance changes do not matter while forced
    EXPECT_EQ(a.status.state, PrepaidState::kForcedTrip);
    EXPECT_TRUE(a.Quiet());
    a.Step(ControlEvent::kKeepPowerOn, 100);  // forced trip takes precedence over keep power
    EXPECT_EQ(a.status.state, PrepaidState::kForcedTrip);
    EXPECT_EQ(a.status.relay, Relay::kOpen);
    EXPECT_TRUE(a.Quiet());
    a.Step(ControlEvent::kKeepPowerOff, 100);
    EXPECT_TRUE(a.Quiet());

    a.Step(ControlEvent::kManualClose, 10'000);
    EXPECT_EQ(a.status.state, PrepaidState::kNormal);
    EXPECT_EQ(a.status.relay, Relay::kClosed);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kClose, PrepaidState::kNormal}}));
    EXPECT_EQ(a.effects.alarms, (Alarms{Clear(AlarmKind::kForcedTrip)}));
}

TEST(StepPrepaid, ManualCloseInArrearsLeavesTheRelayOpen) {
    Account a;
    a.Step(ControlEvent::kManualTrip, 10'000);
    a.Step(ControlEvent::kManualClose, -10);
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_TRUE(a.effects.commands.empty());  // the relay was open and stays open
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Raise(AlarmKind::kArrearsTrip), Clear(AlarmKind::kForcedTrip)}));
}

TEST(StepPrepaid, EmergencyCreditOncePerEpisode) {
    Account a;
    a.scheme.emergency = Money{1000};                                   // 10.00 of emergency credit
    EXPECT_FALSE(EmergencyAllowed(a.scheme, a.status, Money{10'000}));  // normal: nothing to rescue
    a.Balance(-50);
    ASSERT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_TRUE(EmergencyAllowed(a.scheme, a.status, Money{-50}));

    // Taking it lowers the trip level to -10.00: -0.50 is now only level 3, the relay closes.
    a.Step(ControlEvent::kTakeEmergency, -50);
    EXPECT_TRUE(a.status.emergency_taken);
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm3);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kClose, PrepaidState::kAlarm3}}));
    EXPECT_EQ(a.effects.alarms,
              (Alarms{Raise(AlarmKind::kLowBalance3), Clear(AlarmKind::kArrearsTrip)}));
    EXPECT_FALSE(EmergencyAllowed(a.scheme, a.status, Money{-50}));

    a.Balance(-999);
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm3);
    EXPECT_TRUE(a.Quiet());
    a.Balance(-1000);  // the emergency credit is used up
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kTrip, PrepaidState::kTripped}}));

    // Not a second time in the same episode: the status is unchanged and nothing happens.
    const PrepaidStatus before = a.status;
    a.Step(ControlEvent::kTakeEmergency, -1000);
    EXPECT_EQ(a.status, before);
    EXPECT_TRUE(a.Quiet());

    // A top-up above the restore level ends the episode and restores the normal trip level.
    a.Balance(2000);
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm2);
    EXPECT_FALSE(a.status.emergency_taken);
    EXPECT_EQ(a.effects.commands, (Commands{{CommandKind::kClose, PrepaidState::kAlarm2}}));
    a.Balance(0);
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);  // trip level is 0 again
    EXPECT_TRUE(EmergencyAllowed(a.scheme, a.status, Money{0}));
}

TEST(StepPrepaid, EmergencyWithinTheOverdraftKeepsTheEpisodeOpen) {
    Account a;
    a.scheme.overdraft = Money{1000};
    a.scheme.emergency = Money{500};
    a.Balance(-600);  // within the overdraft: level 3
    ASSERT_EQ(a.status.state, PrepaidState::kAlarm3);
    ASSERT_TRUE(EmergencyAllowed(a.scheme, a.status, Money{-600}));
    a.Step(ControlEvent::kTakeEmergency, -600);
    EXPECT_TRUE(a.status.emergency_taken);
    EXPECT_TRUE(a.Quiet());  // still level 3, relay closed
    a.Balance(-1400);        // trip level is now -(10.00 + 5.00)
    EXPECT_EQ(a.status.state, PrepaidState::kAlarm3);
    a.Balance(-1500);
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
}

TEST(EmergencyAllowed, NeverUnderKeepPowerOrForcedTripOrWithoutCreditOrAboveRestore) {
    ControlScheme scheme;
    PrepaidStatus tripped;
    tripped.state = PrepaidState::kTripped;
    tripped.relay = Relay::kOpen;
    EXPECT_FALSE(EmergencyAllowed(scheme, tripped, Money{-100}));  // scheme offers none
    scheme.emergency = Money{1000};
    EXPECT_TRUE(EmergencyAllowed(scheme, tripped, Money{-100}));
    PrepaidStatus s = tripped;
    s.forced_trip = true;
    EXPECT_FALSE(EmergencyAllowed(scheme, s, Money{-100}));
    s = tripped;
    s.keep_power = true;
    EXPECT_FALSE(EmergencyAllowed(scheme, s, Money{-100}));
    s = tripped;
    s.state = PrepaidState::kAlarm2;
    EXPECT_FALSE(EmergencyAllowed(scheme, s, Money{1500}));  // above the restore level: no use
}

TEST(StepPrepaid, CommandsOnlyOnRelayChange) {
    Account a;
    int commands = 0;
    // Down through every level to arrears, back up, and down again: exactly trip, close, trip.
    for (int64_t fen : {10'000, 4000, 1500, 400, 0, -100, -200, 100, 3000, 10'000, 0, -5}) {
        a.Balance(fen);
        commands += static_cast<int>(a.effects.commands.size());
    }
    EXPECT_EQ(commands, 3);
    EXPECT_EQ(a.status.state, PrepaidState::kTripped);
}

}  // namespace
}  // namespace joule
