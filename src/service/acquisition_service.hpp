// The acquisition use cases [DEV-3..DEV-7, CTRL-5, CTRL-6, HIER-4]: what every transport (MQTT
// gateways, polled Modbus-TCP/serial servers, dial-in DTUs) reports comes in here as typed
// samples and events, whatever the bytes looked like. Readings go through billing (validate ->
// bill -> prepaid state -> ledger -> alarms and commands), live state is kept per meter, links
// per gateway, unknown devices wait as pending, commands are handed out and their results kept.
//
// Every call is one or two units of work on the store and reads no clock: `now` is an argument.
// Thread-safety: as BillingService (calls are serialized by the store's writer lock).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "service/billing_service.hpp"

namespace joule {

// One meter (or one circuit of a box) read once.
struct MeterSample {
    MeterId meter;
    Instant meter_time;             // the meter's clock in UTC, or the poll time when it has none
    Instant received;               // server time
    bool meter_clock = false;       // meter_time came from the meter's own clock
    std::optional<Quantity> total;  // the billing register (Wh, L); nullopt: status only
    bool has_per_rate = false;
    PerPeriod<Quantity> per_rate{};
    RelayState relay = RelayState::kUnknown;
    ValveState valve = ValveState::kUnknown;
    bool hold = false;
    bool battery_low = false;
    // A frozen register read after an outage [DEV-7]: meter_time is the freeze time (never the
    // arrival time), the reading is stored with ReadingSource::kFrozen, it does not overwrite the
    // live state, and it is skipped when it is not newer than the meter's last accepted reading.
    bool backfill = false;
    std::string values_json = "{}";  // the other points as decimal strings
    // In-meter prepaid models: the meter's remaining amount and purchase count (as on the
    // wire). Mirrored on a meter-billing account [ACCT-1].
    std::optional<Money> in_meter_remaining;
    std::optional<int64_t> purchase_count;
};

struct RecordResult {
    ApplyReadingsResult billing;
    std::size_t samples = 0;
    std::size_t mismatches = 0;  // relay/valve states that contradict the last command
    // Backfill samples not newer than the meter's last accepted reading: already covered, so
    // neither billed nor stored (a repeated backfill adds nothing).
    std::size_t backfill_skipped = 0;
};

// What the runtime needs to decide whether a meter missed readings [DEV-7].
struct CatchUpState {
    std::optional<Instant> last_seen;  // server time of the last good read
    std::optional<Instant> cursor;     // meter time of the last accepted (billed) reading
};

// Live state older than this many read intervals is shown as stale [DEV-7].
inline constexpr int kStaleAfterReads = 3;

// A meter's live state as it should be shown: `stale` when the values are not current, i.e. the
// meter is offline, was never read, or its last good read is older than kStaleAfterReads read
// intervals. The values stay as last read; only the flag says they are old.
struct LiveStatus {
    MeterStatusRecord status;
    bool stale = true;
    Seconds age{0};  // now - last_seen (0 when never seen)
};
[[nodiscard]] LiveStatus MakeLiveStatus(const MeterStatusRecord& status, Seconds read_interval,
                                        Instant now);

// Retry policy of the command dispatcher (TigerStyle: every retry has a named bound).
struct CommandPolicy {
    Seconds clock_drift_limit{300};  // a meter clock further off raises kClockDrift
    int max_attempts = 5;
    Seconds first_backoff{5};  // doubled per attempt
    Seconds max_backoff{300};
    Seconds default_ttl{3600};       // a command not delivered by then expires
    int offline_after_failures = 3;  // consecutive failed reads before a meter is offline
    // Meter billing: a purchase is retried longer (it is money); each attempt reads the count
    // first, so retrying never credits twice.
    int max_purchase_attempts = 20;
};

class AcquisitionService {
public:
    AcquisitionService(Store& store, BillingService& billing, CommandPolicy policy = {})
        : store_(store), billing_(billing), policy_(policy) {}

    // Bills the samples' registers, then saves each meter's live state, checks relay/valve
    // states against the last acknowledged command (a mismatch raises kRelayMismatch), marks
    // the meters online (clearing kMeterOffline) and clears kBatteryLow/raises it.
    // Unknown meter ids fail with kNotFound and change nothing.
    [[nodiscard]] Result<RecordResult> Record(std::span<const MeterSample> samples, Instant now);

    // The last good read and the billing cursor of a meter. kNotFound for an unknown meter.
    [[nodiscard]] Result<CatchUpState> CatchUp(MeterId meter);

    // The live state of a meter with its stale flag (see LiveStatus), using the project's read
    // interval. nullopt when the meter was never polled; kNotFound for an unknown meter.
    [[nodiscard]] Result<std::optional<LiveStatus>> GetLiveStatus(MeterId meter, Instant now);

    // A read that got no valid answer. After policy.offline_after_failures in a row the meter is
    // offline and kMeterOffline is raised.
    [[nodiscard]] Status RecordReadFailure(MeterId meter, std::string_view why, Instant now);

    // A gateway connected or was lost: kGatewayOffline is raised or cleared.
    [[nodiscard]] Status SetGatewayLink(GatewayId gateway, bool online, Instant now);

    // A device answered or registered that is not configured [HIER-4].
    [[nodiscard]] Status RecordPendingDevice(const PendingDeviceRecord& device);
    // Binds a pending device: creates the meter (code, room, model as detected) on its gateway
    // and bus address, then removes it from the pending list. kNotFound / kAlreadyExists.
    struct BindRequest {
        std::string project_code;
        int64_t pending_id = 0;
        std::string meter_code;
        std::string room_code;   // empty: not in a room
        std::string model_code;  // empty: the detected model
        bool public_area = false;
    };
    [[nodiscard]] Result<MeterId> BindPendingDevice(const BindRequest& r, const Actor& actor,
                                                    Instant now);

    // The device log: rejected frames, unknown senders, timeouts.
    [[nodiscard]] Status LogDeviceEvent(const DeviceEventRecord& event);

    // Commands whose next attempt is due, marked as sent (attempts + 1) in the same unit of work
    // so two dispatchers never send the same attempt. A meter's purchases go out one at a time
    // in the order they were queued: a purchase waits while an older one is unfinished.
    [[nodiscard]] Result<std::vector<CommandRecord>> TakeDueCommands(Instant now, int limit);
    // The result of one attempt: acknowledged; or failed, retried with exponential backoff until
    // max_attempts or the command's expiry, then kFailed/kExpired with kCommandFailed raised.
    [[nodiscard]] Status RecordCommandResult(int64_t command_id, bool acknowledged,
                                             std::string_view error, Instant now);
    // Meter billing [ACCT-1], before each attempt of purchase `command_id`: the meter's purchase
    // count was read as `observed` (a wire value; the count wraps at `count_modulus`).
    //   kSend:           the meter is at count - 1: send the purchase now;
    //   kAlreadyApplied: the meter is at the command's count (the acknowledgement was lost, or
    //                    the command was confirmed already): confirmed without resending;
    //   kMismatch:       anything else: the command fails with the counts in its error and
    //                    kPurchaseCountMismatch is raised; the money stays in meter_pending.
    // kInvalidArgument ("command") for a command that is not a purchase.
    [[nodiscard]] Result<PurchaseCheck> CheckPurchase(int64_t command_id, int64_t observed,
                                                      int64_t count_modulus, Instant now);
    // The meter acknowledged purchase `command_id`: BillingService::ConfirmPurchase.
    [[nodiscard]] Status ConfirmPurchase(int64_t command_id, int64_t count_modulus, Instant now);

    // Staff handle an alarm of `project` [ALM-2]: acknowledge it while open (once; later calls
    // change nothing), or clear it by hand (a cleared alarm stays cleared). Each change is
    // logged. kNotFound ("alarm") for no such alarm in the project; acknowledging a cleared
    // alarm is kFailedPrecondition. The alarm as it is afterwards.
    [[nodiscard]] Result<AlarmRecord> AcknowledgeAlarm(ProjectId project, int64_t alarm_id,
                                                       const Actor& actor, Instant now);
    [[nodiscard]] Result<AlarmRecord> ClearAlarm(ProjectId project, int64_t alarm_id,
                                                 const Actor& actor, Instant now);

    // Queues a manual device command (time sync, settings, valve) [CTRL-5].
    [[nodiscard]] Result<int64_t> QueueCommand(MeterId meter, std::string_view kind,
                                               std::string_view params_json,
                                               std::string_view reason, const Actor& actor,
                                               Instant now);

    [[nodiscard]] const CommandPolicy& policy() const { return policy_; }

private:
    Store& store_;
    BillingService& billing_;
    CommandPolicy policy_;
};

}  // namespace joule
