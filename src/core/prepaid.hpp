// The prepaid control state machine [CTRL-1, CTRL-2, CTRL-7]. Pure: given the previous status,
// the control scheme, the available balance, whether a friendly period is in force, and one
// event, it returns the new status and appends the alarms to raise or clear and the device
// commands to issue, as data. The service persists them in the outbox.
//
// Rules, in order of precedence:
//   forced trip (manual 拉闸)  relay open until a manual close;
//   keep power (保电)          relay closed whatever the balance; balance alarms still shown;
//   balance <= trip level     trip, unless a friendly period holds the trip back (then held);
//                             trip level = -(overdraft + emergency credit once taken);
//   tripped for arrears       stays tripped until the balance rises above the restore level;
//   balance <= level 3/2/1    alarm 3/2/1 (lowest level wins), relay closed;
//   otherwise                 normal.
// Emergency credit can be taken once per arrears episode, once the balance is at or below the
// restore level; the episode ends when the balance
// rises above the restore level again.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/time.hpp"
#include "core/units.hpp"

namespace joule {

// stored: never renumber.
enum class PrepaidState : uint8_t {
    kNormal = 0,
    kAlarm1 = 1,
    kAlarm2 = 2,
    kAlarm3 = 3,
    kTripHeld = 4,  // in arrears, trip held back by a friendly period
    kTripped = 5,   // tripped for arrears
    kKeepPower = 6,
    kForcedTrip = 7,
};
std::string_view PrepaidStateName(PrepaidState state);

// stored: never renumber.
enum class Relay : uint8_t { kClosed = 0, kOpen = 1 };
std::string_view RelayName(Relay relay);  // "closed", "open"

// Friendly periods (友好时段): arrears trips are held back during these.
struct FriendlyPolicy {
    bool nights = false;
    uint16_t night_start_minute = 22 * 60;  // local minute of day the night starts
    uint16_t night_end_minute = 8 * 60;     // ... and ends (may wrap past midnight)
    bool weekends = false;
    bool holidays = false;
};

// The alarm scheme (报警方案) of an account. Levels are balances: alarm at or below.
struct ControlScheme {
    Money alarm1{5000};  // 50.00 yuan
    Money alarm2{2000};  // 20.00
    Money alarm3{500};   //  5.00
    Money overdraft{0};  // permitted overdraft: trip at or below -overdraft
    Money restore{0};    // after a trip, close only once the balance is above this
    Money emergency{0};  // emergency credit the tenant can take once per episode; 0 = none
    FriendlyPolicy friendly;
};

struct PrepaidStatus {
    PrepaidState state = PrepaidState::kNormal;
    Relay relay = Relay::kClosed;
    bool keep_power = false;
    bool forced_trip = false;
    bool emergency_taken = false;
    uint8_t band = 0;  // balance band: 0 normal, 1..3 alarm level, 4 at or below the trip level
    friend bool operator==(const PrepaidStatus&, const PrepaidStatus&) = default;
};

// stored: never renumber.
enum class ControlEvent : uint8_t {
    kBalanceChanged = 0,  // any re-evaluation (readings, top-ups, time passing)
    kManualTrip = 1,      // forced trip
    kManualClose = 2,     // ends a forced trip; prepaid control still applies
    kKeepPowerOn = 3,     // 保电
    kKeepPowerOff = 4,    // 恢复预付费
    kTakeEmergency = 5,   // tenant takes the emergency credit
};

// stored: never renumber.
enum class AlarmKind : uint16_t {
    kLowBalance1 = 1,
    kLowBalance2 = 2,
    kLowBalance3 = 3,
    kArrearsTrip = 4,
    kTripHeld = 5,
    kKeepPower = 6,
    kForcedTrip = 7,
    kReadingQuarantined = 20,
    kMeterResetSuspected = 21,
    // Acquisition [DEV-4, CTRL-6]
    kMeterOffline = 22,
    kGatewayOffline = 23,
    kRelayMismatch = 24,  // the relay or valve state differs from the last acknowledged command
    kCommandFailed = 25,
    kClockDrift = 26,
    kBatteryLow = 27,
    // Meter billing [ACCT-1]: the meter's purchase count is neither the count before a purchase
    // nor after it, so the purchase is not sent (a replay or a lost purchase would be a guess).
    kPurchaseCountMismatch = 28,
    // Payments [PAY-2, PAY-3]: a paid notification that does not fit its order (another amount,
    // or a second payment of an order already paid). Nothing is credited; finance decides.
    kPaymentMismatch = 40,
};
std::string_view AlarmKindName(AlarmKind kind);

// stored: never renumber.
enum class AlarmAction : uint8_t { kRaise = 1, kClear = 2 };

struct AlarmEffect {
    AlarmKind kind;
    AlarmAction action;
    friend bool operator==(const AlarmEffect&, const AlarmEffect&) = default;
};

// stored: never renumber. Relay commands; for a water meter the service sends the valve form.
enum class CommandKind : uint16_t { kTrip = 1, kClose = 2 };
std::string_view CommandKindName(CommandKind kind);

struct CommandEffect {
    CommandKind kind;
    PrepaidState because;  // the state that asked for it
    friend bool operator==(const CommandEffect&, const CommandEffect&) = default;
};

struct ControlEffects {
    std::vector<AlarmEffect> alarms;
    std::vector<CommandEffect> commands;
};

// Checks a scheme's own consistency: alarm1 >= alarm2 >= alarm3, overdraft, restore and
// emergency within 0..10000.00, night times within the day. Fields are named as in the scheme.
[[nodiscard]] Status ValidateControlScheme(const ControlScheme& scheme);

// Whether arrears trips are held back at local time `local` (day type from the tariff calendar).
[[nodiscard]] bool InFriendlyPeriod(const FriendlyPolicy& policy, LocalTime local, bool weekend,
                                    bool holiday);

// One step. `available` is the balance prepaid control acts on. Returns the new status and
// appends effects. kTakeEmergency when not allowed leaves the status unchanged.
[[nodiscard]] PrepaidStatus StepPrepaid(const ControlScheme& scheme, const PrepaidStatus& prev,
                                        ControlEvent event, Money available, bool friendly_now,
                                        ControlEffects& effects);

// Whether the tenant may take the emergency credit now: the scheme offers it, it was not taken in
// this episode, no manual override is in force, and the balance is at or below the restore level
// (above it, taking it would change nothing).
[[nodiscard]] bool EmergencyAllowed(const ControlScheme& scheme, const PrepaidStatus& status,
                                    Money available);

}  // namespace joule
