#include "service/acquisition_service.hpp"
#include "service/project_lookup.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace joule {

namespace {

constexpr std::size_t kMaxSamples = 100'000;
constexpr int kMaxCommandsPerTake = 1'000;

AlarmRecord MeterAlarm(const MeterRecord& meter, AlarmKind kind, Instant at, std::string detail) {
    AlarmRecord a;
    a.project = meter.project;
    a.meter = meter.id;
    a.kind = kind;
    a.raised_at = at;
    a.detail = std::move(detail);
    return a;
}

// What the last acknowledged relay or valve command says the state must be, if anything.
struct Expectation {
    std::optional<RelayState> relay;
    std::optional<ValveState> valve;
    int64_t command = 0;
};

// The commands that set a relay or valve: the newest of them says what the state must be.
constexpr std::string_view kSwitchKinds[] = {"trip", "close", "valve_close", "valve_open"};

Expectation ExpectedState(const std::optional<CommandRecord>& last) {
    Expectation e;
    if (!last || last->state != CommandState::kAcknowledged)
        return e;
    e.command = last->id;
    if (last->kind == "trip")
        e.relay = RelayState::kOpen;
    if (last->kind == "close")
        e.relay = RelayState::kClosed;
    if (last->kind == "valve_close")
        e.valve = ValveState::kClosed;
    if (last->kind == "valve_open")
        e.valve = ValveState::kOpen;
    return e;
}

// Saves the live state of one sampled meter and raises or clears the alarms it implies. `live`
// is the meter's state as loaded for the batch and is kept current here, so a second sample of
// the same meter in the batch sees the first one's effects; an alarm that is not open is not
// cleared (no statement).
Status UpdateLiveState(Tx& tx, const MeterRecord& meter, const MeterSample& s, Instant now,
                       Seconds drift_limit, MeterLiveContext& live, RecordResult& result) {
    auto is_open = [&](AlarmKind kind) {
        return std::find(live.open_alarms.begin(), live.open_alarms.end(), kind) !=
               live.open_alarms.end();
    };
    auto raise = [&](AlarmKind kind, std::string detail) -> Status {
        JOULE_TRY(tx.RaiseAlarm(MeterAlarm(meter, kind, now, std::move(detail))));
        if (!is_open(kind))
            live.open_alarms.push_back(kind);
        return {};
    };
    auto clear = [&](AlarmKind kind) -> Status {
        if (!is_open(kind))
            return {};
        JOULE_TRY(tx.ClearAlarm(AccountId{}, meter.id, kind, now));
        std::erase(live.open_alarms, kind);
        return {};
    };
    MeterStatusRecord status = live.status.value_or(MeterStatusRecord{});
    status.meter = meter.id;
    const bool was_offline = live.status && !live.status->online;
    status.online = true;
    status.failures = 0;
    status.last_seen = s.received;
    if (!s.backfill) {
        status.meter_time = s.meter_time;
        status.relay = s.relay;
        status.valve = s.valve;
        status.hold = s.hold;
        status.values_json = s.values_json;
    }
    JOULE_TRY(tx.SaveMeterStatus(status));
    live.status = std::move(status);
    if (was_offline)
        JOULE_TRY(clear(AlarmKind::kMeterOffline));
    if (s.battery_low) {
        JOULE_TRY(raise(AlarmKind::kBatteryLow, "battery low"));
    } else {
        JOULE_TRY(clear(AlarmKind::kBatteryLow));
    }
    if (s.backfill)
        return {};
    if (s.meter_clock) {
        const Seconds drift =
            s.meter_time > s.received ? s.meter_time - s.received : s.received - s.meter_time;
        if (drift > drift_limit) {
            JOULE_TRY(
                raise(AlarmKind::kClockDrift,
                      "meter clock is " + std::to_string(drift.count()) + " s off the server"));
        } else {
            JOULE_TRY(clear(AlarmKind::kClockDrift));
        }
    }
    const Expectation expected = ExpectedState(live.last_switch);
    std::string mismatch;
    if (expected.relay && s.relay != RelayState::kUnknown && s.relay != *expected.relay) {
        mismatch = "relay is " + std::string(RelayStateName(s.relay)) + ", command " +
                   std::to_string(expected.command) + " set it " +
                   std::string(RelayStateName(*expected.relay));
    }
    if (expected.valve && s.valve != ValveState::kUnknown && s.valve != *expected.valve) {
        mismatch = "valve is " + std::string(ValveStateName(s.valve)) + ", command " +
                   std::to_string(expected.command) + " set it " +
                   std::string(ValveStateName(*expected.valve));
    }
    if (!mismatch.empty()) {
        ++result.mismatches;
        JOULE_TRY(raise(AlarmKind::kRelayMismatch, std::move(mismatch)));
    } else if (expected.relay || expected.valve) {
        JOULE_TRY(clear(AlarmKind::kRelayMismatch));
    }
    return {};
}

}  // namespace

LiveStatus MakeLiveStatus(const MeterStatusRecord& status, Seconds read_interval, Instant now) {
    LiveStatus out;
    out.status = status;
    if (!status.last_seen) {
        out.stale = true;
        return out;
    }
    out.age = std::max(Seconds{0}, std::chrono::floor<Seconds>(now - *status.last_seen));
    out.stale = !status.online || out.age > read_interval * kStaleAfterReads;
    return out;
}

Result<CatchUpState> AcquisitionService::CatchUp(MeterId meter) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_TRY(tx->GetMeter(meter));
    CatchUpState out;
    JOULE_ASSIGN_OR_RETURN(auto status, tx->LoadMeterStatus(meter));
    if (status)
        out.last_seen = status->last_seen;
    JOULE_ASSIGN_OR_RETURN(auto billing, tx->LoadBilling(meter));
    if (billing && billing->cursor.valid)
        out.cursor = billing->cursor.time;
    return out;
}

Result<std::optional<LiveStatus>> AcquisitionService::GetLiveStatus(MeterId meter_id, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(meter_id));
    JOULE_ASSIGN_OR_RETURN(auto status, tx->LoadMeterStatus(meter_id));
    if (!status)
        return std::optional<LiveStatus>{};
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, tx->GetProject(meter.project));
    return std::optional<LiveStatus>(
        MakeLiveStatus(*status, Seconds{std::max<int64_t>(1, project.read_interval_s)}, now));
}

Result<RecordResult> AcquisitionService::Record(std::span<const MeterSample> samples, Instant now) {
    if (samples.size() > kMaxSamples) {
        return InvalidArgument("samples", "a batch holds at most 100000 samples");
    }
    RecordResult result;
    result.samples = samples.size();
    std::unordered_map<int64_t, MeterRecord> meters;
    std::unordered_map<int64_t, ProjectRecord> projects;
    std::unordered_map<int64_t, std::optional<Instant>> cursors;  // meters with backfill samples
    std::vector<ReadingItem> readings;
    // One transaction: the bill, the ledger, the alarms and commands and the live state commit
    // together (one durable commit per batch, and no bill without its live state).
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    // The batch's meters, once each, in one statement.
    std::vector<MeterId> ids;
    {
        std::unordered_set<int64_t> seen;
        for (const MeterSample& s : samples) {
            if (seen.insert(s.meter.value).second)
                ids.push_back(s.meter);
        }
        JOULE_ASSIGN_OR_RETURN(std::vector<MeterRecord> found, tx->GetMeters(ids));
        for (MeterRecord& m : found) {
            const int64_t id = m.id.value;
            meters.emplace(id, std::move(m));
        }
    }
    {
        for (std::size_t i = 0; i < samples.size(); ++i) {
            const MeterSample& s = samples[i];
            auto it = meters.find(s.meter.value);
            if (it == meters.end()) {
                return NotFound("no meter " + std::to_string(s.meter.value),
                                "samples[" + std::to_string(i) + "].meter");
            }
            auto project = projects.find(it->second.project.value);
            if (project == projects.end()) {
                JOULE_ASSIGN_OR_RETURN(ProjectRecord record, tx->GetProject(it->second.project));
                project = projects.emplace(record.id.value, std::move(record)).first;
            }
            if (s.backfill) {
                auto cursor = cursors.find(s.meter.value);
                if (cursor == cursors.end()) {
                    JOULE_ASSIGN_OR_RETURN(auto billing, tx->LoadBilling(s.meter));
                    std::optional<Instant> at;
                    if (billing && billing->cursor.valid)
                        at = billing->cursor.time;
                    cursor = cursors.emplace(s.meter.value, at).first;
                }
                if (cursor->second && s.meter_time <= *cursor->second) {
                    ++result.backfill_skipped;  // already billed up to a later reading
                    continue;
                }
            }
            if (s.total) {
                ReadingInput input{s.meter_time, s.received, *s.total, s.has_per_rate, s.per_rate};
                input.source = s.backfill ? ReadingSource::kFrozen : ReadingSource::kLive;
                readings.push_back(ReadingItem{project->second.code, it->second.code, input});
            }
        }
    }
    if (!readings.empty()) {
        JOULE_ASSIGN_OR_RETURN(result.billing, billing_.ApplyReadingsInTx(*tx, readings, now));
    }
    // Live state after billing, so the commands billing just queued count as the newest.
    std::unordered_map<int64_t, MeterLiveContext> live;
    {
        JOULE_ASSIGN_OR_RETURN(auto contexts, tx->LoadLiveContexts(ids, kSwitchKinds));
        for (auto& [id, context] : contexts) {
            live.emplace(id.value, std::move(context));
        }
    }
    // Models by id, read once per batch: whether a meter can hold money at all.
    std::unordered_map<int64_t, bool> in_meter_prepaid;
    for (const MeterSample& s : samples) {
        const MeterRecord& meter = meters.at(s.meter.value);
        MeterLiveContext& meter_live = live[s.meter.value];
        JOULE_TRY(
            UpdateLiveState(*tx, meter, s, now, policy_.clock_drift_limit, meter_live, result));
        if (!s.in_meter_remaining || s.backfill) {
            continue;
        }
        auto model = in_meter_prepaid.find(meter.model.value);
        if (model == in_meter_prepaid.end()) {
            JOULE_ASSIGN_OR_RETURN(MeterModelRecord record, tx->GetModel(meter.model));
            model = in_meter_prepaid.emplace(record.id.value, record.in_meter_prepaid).first;
        }
        // Only a meter whose model holds money can be a meter-billing account's meter (checked
        // when the account opens; such an account never changes meters, a meter never its model),
        // so other meters skip the binding and account reads.
        if (model->second) {
            JOULE_TRY(billing_.MirrorMeterRemainingInTx(*tx, projects.at(meter.project.value),
                                                        s.meter, *s.in_meter_remaining,
                                                        s.purchase_count, now));
            // The mirror may have queued a trip or close: the newest switch command again.
            JOULE_ASSIGN_OR_RETURN(meter_live.last_switch, tx->LastCommand(s.meter, kSwitchKinds));
        }
    }
    JOULE_TRY(tx->Commit());
    return result;
}

Status AcquisitionService::RecordReadFailure(MeterId meter_id, std::string_view why, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(meter_id));
    JOULE_ASSIGN_OR_RETURN(auto previous, tx->LoadMeterStatus(meter_id));
    MeterStatusRecord status = previous.value_or(MeterStatusRecord{});
    status.meter = meter_id;
    status.failures += 1;
    status.last_failure = now;
    // At and after the threshold: offline, with one alarm (RaiseAlarm de-duplicates open ones).
    if (status.failures >= policy_.offline_after_failures) {
        status.online = false;
        JOULE_TRY(tx->RaiseAlarm(MeterAlarm(
            meter, AlarmKind::kMeterOffline, now,
            std::to_string(status.failures) + " reads failed, last: " + std::string(why))));
    }
    JOULE_TRY(tx->SaveMeterStatus(status));
    return tx->Commit();
}

Status AcquisitionService::SetGatewayLink(GatewayId gateway_id, bool online, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(GatewayRecord gateway, tx->GetGateway(gateway_id));
    JOULE_TRY(tx->SetGatewayLink(gateway_id, online, now));
    if (online) {
        JOULE_TRY(tx->ClearGatewayAlarm(gateway_id, AlarmKind::kGatewayOffline, now));
    } else {
        AlarmRecord a;
        a.project = gateway.project;
        a.gateway = gateway_id;
        a.kind = AlarmKind::kGatewayOffline;
        a.raised_at = now;
        a.detail = "gateway " + gateway.code + " (" + gateway.transport + ") lost";
        JOULE_TRY(tx->RaiseAlarm(a));
    }
    return tx->Commit();
}

Status AcquisitionService::RecordPendingDevice(const PendingDeviceRecord& device) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_TRY(tx->UpsertPendingDevice(device));
    return tx->Commit();
}

Result<MeterId> AcquisitionService::BindPendingDevice(const BindRequest& r, const Actor& actor,
                                                      Instant now) {
    if (r.meter_code.empty() || r.meter_code.size() > 64) {
        return InvalidArgument("meter_code", "must be 1..64 characters");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(const ProjectRecord project, RequireProject(*tx, r.project_code));
    JOULE_ASSIGN_OR_RETURN(auto pending, tx->ListPendingDevices(project.id));
    auto device = std::find_if(pending.begin(), pending.end(),
                               [&](const PendingDeviceRecord& d) { return d.id == r.pending_id; });
    if (device == pending.end()) {
        return NotFound("no pending device " + std::to_string(r.pending_id), "pending_id");
    }
    const std::string model_code = r.model_code.empty() ? device->model_code : r.model_code;
    JOULE_ASSIGN_OR_RETURN(auto model, tx->FindModel(model_code));
    if (!model)
        return NotFound("no meter model " + model_code, "model_code");
    MeterRecord meter;
    meter.project = project.id;
    meter.code = r.meter_code;
    meter.model = model->id;
    meter.gateway = device->gateway;
    meter.bus_address = device->bus_address;
    meter.public_area = r.public_area;
    if (!r.room_code.empty()) {
        JOULE_ASSIGN_OR_RETURN(auto room, tx->FindRoom(project.id, r.room_code));
        if (!room)
            return NotFound("no room " + r.room_code, "room_code");
        meter.room = room->id;
    }
    JOULE_ASSIGN_OR_RETURN(auto existing, tx->FindMeter(project.id, r.meter_code));
    if (existing) {
        return MakeError(ErrorCode::kAlreadyExists, "meter " + r.meter_code + " exists",
                         "meter_code");
    }
    JOULE_ASSIGN_OR_RETURN(MeterId id, tx->InsertMeter(meter));
    // Billing state as site creation makes it: the first reading becomes the baseline.
    MeterBilling billing;
    billing.meter = id;
    billing.utility = model->utility;
    billing.spec = model->spec;
    JOULE_TRY(tx->SaveBilling(billing));
    JOULE_TRY(tx->DeletePendingDevice(device->id));
    JOULE_TRY(tx->InsertOperation(OperationBy(actor, now, project.id, "device.bind",
                                              "meter:" + r.meter_code,
                                              "{\"bus_address\":\"" + device->bus_address +
                                                  "\",\"serial\":\"" + device->serial + "\"}")));
    JOULE_TRY(tx->Commit());
    return id;
}

Status AcquisitionService::LogDeviceEvent(const DeviceEventRecord& event) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_TRY(tx->InsertDeviceEvent(event));
    return tx->Commit();
}

Result<std::vector<CommandRecord>> AcquisitionService::TakeDueCommands(Instant now, int limit) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(auto due,
                           tx->ListDueCommands(now, std::clamp(limit, 1, kMaxCommandsPerTake)));
    std::vector<CommandRecord> out;
    for (CommandRecord& c : due) {
        if (c.kind == "purchase") {
            JOULE_ASSIGN_OR_RETURN(auto first, tx->FirstOpenCommand(c.meter, "purchase"));
            if (first && first->id != c.id) {
                continue;  // an older purchase of this meter goes first (counts N+1, N+2 ...)
            }
        }
        const Instant expires =
            c.expires_at > Instant{} ? c.expires_at : c.created_at + policy_.default_ttl;
        if (now >= expires) {
            c.state = CommandState::kExpired;
            c.finished_at = now;
            c.error = c.error.empty() ? "expired before delivery" : c.error;
            JOULE_TRY(tx->UpdateCommandDelivery(c));
            JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(c.meter));
            JOULE_TRY(tx->RaiseAlarm(
                MeterAlarm(meter, AlarmKind::kCommandFailed, now,
                           c.kind + " command " + std::to_string(c.id) + " expired: " + c.error)));
            continue;
        }
        c.state = CommandState::kSent;
        c.attempts += 1;
        // If this process dies mid-attempt, the command comes due again after the backoff.
        c.next_attempt_at =
            now +
            std::min(policy_.max_backoff,
                     policy_.first_backoff * (int64_t{1} << std::min<int64_t>(c.attempts - 1, 16)));
        JOULE_TRY(tx->UpdateCommandDelivery(c));
        out.push_back(c);
    }
    JOULE_TRY(tx->Commit());
    return out;
}

Status AcquisitionService::RecordCommandResult(int64_t command_id, bool acknowledged,
                                               std::string_view error, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(CommandRecord c, tx->GetCommand(command_id));
    if (c.state != CommandState::kSent && c.state != CommandState::kQueued) {
        return {};  // already finished: a late or repeated result changes nothing
    }
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(c.meter));
    if (acknowledged) {
        c.state = CommandState::kAcknowledged;
        c.finished_at = now;
        c.error.clear();
        JOULE_TRY(tx->ClearAlarm(AccountId{}, meter.id, AlarmKind::kCommandFailed, now));
    } else {
        c.error = std::string(error.substr(0, 512));
        const Instant expires =
            c.expires_at > Instant{} ? c.expires_at : c.created_at + policy_.default_ttl;
        const int max_attempts =
            c.kind == "purchase" ? policy_.max_purchase_attempts : policy_.max_attempts;
        if (c.attempts >= max_attempts || now >= expires) {
            c.state = c.attempts >= max_attempts ? CommandState::kFailed : CommandState::kExpired;
            c.finished_at = now;
            JOULE_TRY(tx->RaiseAlarm(MeterAlarm(meter, AlarmKind::kCommandFailed, now,
                                                c.kind + " command " + std::to_string(c.id) +
                                                    " failed after " + std::to_string(c.attempts) +
                                                    " attempt(s): " + c.error)));
        } else {
            c.state = CommandState::kQueued;  // due again at next_attempt_at (set when taken)
        }
    }
    JOULE_TRY(tx->UpdateCommandDelivery(c));
    return tx->Commit();
}

Result<PurchaseCheck> AcquisitionService::CheckPurchase(int64_t command_id, int64_t observed,
                                                        int64_t count_modulus, Instant now) {
    if (count_modulus <= 0) {
        return InvalidArgument("count_modulus", "must be positive");
    }
    PurchaseCheck check = PurchaseCheck::kMismatch;
    {
        JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
        JOULE_ASSIGN_OR_RETURN(CommandRecord c, tx->GetCommand(command_id));
        const std::optional<int64_t> expected = PurchaseCountOf(c);
        if (!expected) {
            return InvalidArgument("command",
                                   "command " + std::to_string(command_id) + " is not a purchase");
        }
        if (c.state == CommandState::kAcknowledged) {
            return PurchaseCheck::kAlreadyApplied;  // confirmed before: nothing to send
        }
        check = CheckPurchaseCount(*expected, observed, count_modulus);
        if (check == PurchaseCheck::kSend) {
            return check;
        }
        if (check == PurchaseCheck::kMismatch) {
            JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(c.meter));
            c.state = CommandState::kFailed;
            c.finished_at = now;
            c.error = "meter purchase count is " + std::to_string(observed) + "; purchase " +
                      std::to_string(c.id) + " needs " +
                      std::to_string(WireCount(*expected - 1, count_modulus)) + " (to send) or " +
                      std::to_string(WireCount(*expected, count_modulus)) + " (applied); not sent";
            JOULE_TRY(tx->UpdateCommandDelivery(c));
            JOULE_TRY(
                tx->RaiseAlarm(MeterAlarm(meter, AlarmKind::kPurchaseCountMismatch, now, c.error)));
            JOULE_TRY(tx->Commit());
            return check;
        }
    }
    JOULE_TRY(billing_.ConfirmPurchase(command_id, count_modulus, "count read back", now));
    return check;
}

Status AcquisitionService::ConfirmPurchase(int64_t command_id, int64_t count_modulus, Instant now) {
    JOULE_TRY(billing_.ConfirmPurchase(command_id, count_modulus, "acknowledged", now));
    return {};
}

namespace {

// Alarm `id` of `project`, or kNotFound: an alarm of another project does not exist here.
Result<AlarmRecord> AlarmIn(Tx& tx, ProjectId project, int64_t id) {
    JOULE_ASSIGN_OR_RETURN(auto alarm, tx.GetAlarm(id));
    if (!alarm || alarm->project != project) {
        return NotFound("no alarm " + std::to_string(id), "alarm");
    }
    return *alarm;
}

std::string AlarmDetail(const AlarmRecord& alarm) {
    return "{\"kind\":\"" + std::string(AlarmKindName(alarm.kind)) + "\"}";
}

}  // namespace

Result<AlarmRecord> AcquisitionService::AcknowledgeAlarm(ProjectId project, int64_t alarm_id,
                                                         const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AlarmRecord alarm, AlarmIn(*tx, project, alarm_id));
    if (!alarm.open) {
        return FailedPrecondition("alarm " + std::to_string(alarm_id) + " is cleared", "alarm");
    }
    if (alarm.acknowledged_at) {
        return alarm;
    }
    JOULE_TRY(tx->AcknowledgeAlarm(alarm.id, actor.name, now));
    JOULE_TRY(
        tx->InsertOperation(OperationBy(actor, now, project, "alarm.acknowledge",
                                        "alarm:" + std::to_string(alarm.id), AlarmDetail(alarm))));
    JOULE_TRY(tx->Commit());
    alarm.acknowledged_at = now;
    alarm.acknowledged_by = actor.name;
    return alarm;
}

Result<AlarmRecord> AcquisitionService::ClearAlarm(ProjectId project, int64_t alarm_id,
                                                   const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(AlarmRecord alarm, AlarmIn(*tx, project, alarm_id));
    if (!alarm.open) {
        return alarm;
    }
    JOULE_TRY(tx->ClearAlarmById(alarm.id, now));
    JOULE_TRY(
        tx->InsertOperation(OperationBy(actor, now, project, "alarm.clear",
                                        "alarm:" + std::to_string(alarm.id), AlarmDetail(alarm))));
    JOULE_TRY(tx->Commit());
    alarm.open = false;
    alarm.cleared_at = now;
    return alarm;
}

Result<int64_t> AcquisitionService::QueueCommand(MeterId meter_id, std::string_view kind,
                                                 std::string_view params_json,
                                                 std::string_view reason, const Actor& actor,
                                                 Instant now) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.Begin());
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, tx->GetMeter(meter_id));
    CommandRecord c;
    c.meter = meter.id;
    c.kind = std::string(kind);
    c.reason = std::string(reason);
    c.actor = actor.name;
    c.created_at = now;
    c.next_attempt_at = now;
    c.expires_at = now + policy_.default_ttl;
    c.params = std::string(params_json);
    JOULE_ASSIGN_OR_RETURN(int64_t id, tx->InsertCommand(c));
    JOULE_TRY(
        tx->InsertOperation(OperationBy(actor, now, meter.project, "meter.command",
                                        "meter:" + meter.code, "{\"kind\":\"" + c.kind + "\"}")));
    JOULE_TRY(tx->Commit());
    return id;
}

}  // namespace joule
