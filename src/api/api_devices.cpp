// Devices [DEV-1..7, HIER-4]: gateways, models, meters with live status and readings, pending
// devices and binding; manual device commands [CTRL-5] and their history; alarms with
// acknowledge and clear [ALM-2].
#include <algorithm>
#include <charconv>
#include <iterator>

#include "api/api_internal.hpp"
#include "base/decimal.hpp"
#include "service/acquisition_service.hpp"
#include "service/bus_statistics.hpp"
#include "service/site_edit.hpp"
#include "wire/json.hpp"

namespace joule::api {

namespace {

constexpr int kMaxReadingRows = 10'000;  // the newest readings of a meter, paged
constexpr int kMaxCommandRows = 10'000;  // the newest commands of a project, paged

// Commands staff send to a meter directly. Relay commands of an account's meters go through the
// account's control (POST .../accounts/{account}/control) so prepaid control stays consistent;
// purchases only come from top-ups.
constexpr std::string_view kManualCommands[] = {"valve_open",         "valve_close",
                                                "time_sync",          "set_alarm_amount_1",
                                                "set_alarm_amount_2", "set_price"};
constexpr std::string_view kValuedCommands[] = {"set_alarm_amount_1", "set_alarm_amount_2",
                                                "set_price"};

template <std::size_t N>
bool Among(const std::string_view (&list)[N], std::string_view name) {
    return std::find(std::begin(list), std::end(list), name) != std::end(list);
}

}  // namespace

std::string MeterCodeOf(Tx& tx, MeterId meter) {
    if (!meter.valid()) {
        return "";
    }
    auto record = tx.GetMeter(meter);
    return record ? record->code : "";
}

std::string AccountNumberOf(Tx& tx, AccountId account) {
    if (!account.valid()) {
        return "";
    }
    auto record = tx.GetAccount(account);
    return record ? record->number : "";
}

Json AlarmJson(const AlarmRecord& a, const std::string& meter_code,
               const std::string& account_number) {
    return Json{{"id", a.id},
                {"kind", AlarmKindName(a.kind)},
                {"open", a.open},
                {"meter", meter_code},
                {"account", account_number},
                {"raised_at", FormatInstant(a.raised_at)},
                {"cleared_at", a.cleared_at ? FormatInstant(*a.cleared_at) : ""},
                {"acknowledged", a.acknowledged_at.has_value()},
                {"acknowledged_at", a.acknowledged_at ? FormatInstant(*a.acknowledged_at) : ""},
                {"acknowledged_by", a.acknowledged_by},
                {"notified_at", a.notified_at ? FormatInstant(*a.notified_at) : ""},
                {"detail", a.detail}};
}

Json CommandJson(const CommandRecord& c, const std::string& meter_code,
                 const std::string& account_number) {
    return Json{{"id", c.id},
                {"kind", c.kind},
                {"state", CommandStateName(c.state)},
                {"meter", meter_code},
                {"account", account_number},
                {"reason", c.reason},
                {"actor", c.actor},
                {"created_at", FormatInstant(c.created_at)},
                {"attempts", c.attempts},
                {"finished_at", c.finished_at ? FormatInstant(*c.finished_at) : ""},
                {"error", c.error}};
}

namespace {

// A gateway's bus counters as the console shows them; null when nothing was counted yet.
Json BusJson(const std::optional<BusSnapshot>& bus) {
    if (!bus) {
        return nullptr;
    }
    const BusCounters& n = bus->counters;
    Json j{{"source", bus->source == BusSource::kPlatform ? "platform" : "gateway"},
           {"since", FormatInstant(bus->since)},
           {"last_activity", bus->last_activity ? FormatInstant(*bus->last_activity) : ""},
           {"requests", n.requests},
           {"answered", n.answered},
           {"timeouts", n.timeouts},
           {"retries", n.retries},
           {"bad_frames", n.bad_frames},
           {"meter_errors", n.meter_errors},
           {"link_losses", n.link_losses},
           {"noise_bytes", n.noise_bytes},
           {"max_ms", n.reply_ms_max}};
    // Answered per thousand requests, rounded down, so 999 never shows a bus that lost nothing
    // as perfect or the reverse; null before the first request.
    j["success_permille"] = n.requests > 0 ? Json(n.answered * 1000 / n.requests) : Json(nullptr);
    j["average_ms"] = n.answered > 0 && n.reply_ms_total > 0 ? Json(n.reply_ms_total / n.answered)
                                                             : Json(nullptr);
    return j;
}

}  // namespace

Result<Reply> Api::Impl::ListGateways(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto gateways, tx->ListGateways());
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(c.project->id));
    tx.reset();
    std::unordered_map<int64_t, int64_t> meters_on;  // gateway id -> meters
    for (const MeterRecord& m : meters) {
        ++meters_on[m.gateway.value];
    }
    std::vector<Json> items;
    for (const GatewayRecord& g : gateways) {
        if (g.project != c.project->id) {
            continue;
        }
        Json bus = options.bus_statistics != nullptr ? BusJson(options.bus_statistics->Get(g.id))
                                                     : Json(nullptr);
        items.push_back(Json{{"code", g.code},
                             {"name", g.name},
                             {"transport", g.transport},
                             {"endpoint", g.endpoint},
                             {"online", g.online},
                             {"last_seen", g.last_seen ? FormatInstant(*g.last_seen) : ""},
                             {"meters", meters_on[g.id.value]},
                             {"bus", std::move(bus)},
                             {"version", g.version}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "last_seen"},
                                           {"transport", "online"}, {"code", "name", "endpoint"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListModels(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto models, tx->ListModels());
    tx.reset();
    std::vector<Json> items;
    for (const MeterModelRecord& m : models) {
        Json definition = Json::parse(m.definition, nullptr, false);
        items.push_back(Json{{"code", m.code},
                             {"name", m.name},
                             {"utility", wire::UtilityText(m.utility)},
                             {"has_relay", m.has_relay},
                             {"per_rate", m.per_rate},
                             {"in_meter_prepaid", m.in_meter_prepaid},
                             {"protocol", definition.is_object() && definition.contains("protocol")
                                              ? definition["protocol"]
                                              : Json("")}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "name"},
                                           {"utility", "protocol"}, {"code", "name"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListMeters(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(c.project->id));
    JOULE_ASSIGN_OR_RETURN(auto statuses, tx->ListMeterStatuses(c.project->id));
    tx.reset();
    std::unordered_map<int64_t, const MeterStatusRecord*> status_of;
    for (const MeterStatusRecord& s : statuses) {
        status_of.emplace(s.meter.value, &s);
    }
    const Seconds read_interval{std::max<int64_t>(1, c.project->read_interval_s)};
    std::vector<Json> items;
    items.reserve(meters.size());
    for (const MeterRecord& m : meters) {
        Json item{{"code", m.code},
                  {"bus_address", m.bus_address},
                  {"online", false},
                  {"version", m.version}};
        if (const auto s = status_of.find(m.id.value); s != status_of.end()) {
            const LiveStatus live = MakeLiveStatus(*s->second, read_interval, c.now);
            item["online"] = live.status.online;
            item["stale"] = live.stale;
            item["last_seen"] = live.status.last_seen ? FormatInstant(*live.status.last_seen) : "";
            item["relay"] = std::string(RelayStateName(live.status.relay));
            item["values"] = Json::parse(live.status.values_json, nullptr, false);
        }
        items.push_back(std::move(item));
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"code", "last_seen"},
                                           {"online", "relay"}, {"code", "bus_address"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::GetMeter(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, FindMeterOf(*tx, c));
    JOULE_ASSIGN_OR_RETURN(MeterView view, ViewOf(*tx, meter));  // the codes it refers to
    JOULE_ASSIGN_OR_RETURN(auto binding, tx->CurrentBinding(meter.id));
    std::string account_number;
    if (binding) {
        JOULE_ASSIGN_OR_RETURN(AccountRecord account, tx->GetAccount(binding->account));
        account_number = account.number;
    }
    tx.reset();
    JOULE_ASSIGN_OR_RETURN(auto live, acquisition.GetLiveStatus(meter.id, c.now));
    Json body{{"code", meter.code},        {"model", view.model},
              {"gateway", view.gateway},   {"bus_address", meter.bus_address},
              {"circuit", meter.circuit},  {"public_area", meter.public_area},
              {"room", view.room},         {"tariff", view.tariff},
              {"parent", view.parent},     {"version", meter.version},
              {"account", account_number}, {"online", false}};
    if (live) {
        body["online"] = live->status.online;
        body["stale"] = live->stale;
        body["last_seen"] = live->status.last_seen ? FormatInstant(*live->status.last_seen) : "";
        body["relay"] = RelayStateName(live->status.relay);
        body["valve"] = ValveStateName(live->status.valve);
        body["keep_power"] = live->status.hold;
        body["values"] = Json::parse(live->status.values_json, nullptr, false);
    }
    return WithTag(200, std::move(body), meter.version);
}

Result<Reply> Api::Impl::ListReadings(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, FindMeterOf(*tx, c));
    const int limit = RowsToLoad(c.query, kMaxReadingRows);
    JOULE_ASSIGN_OR_RETURN(auto readings, tx->ListReadings(meter.id, limit));
    tx.reset();
    JOULE_TRY(CheckWindow(c.query, readings.size(), limit));
    std::vector<Json> items;
    items.reserve(readings.size());
    for (const StoredReading& r : readings) {
        const ReadingOutcome& o = r.outcome;
        items.push_back(
            Json{{"meter_time", FormatInstant(o.input.meter_time)},
                 {"received_at", FormatInstant(o.input.received)},
                 {"total", wire::QuantityText(o.input.total)},
                 {"verdict", VerdictName(o.validated.verdict)},
                 {"reason", ReadingReasonName(o.validated.reason)},
                 {"delta", wire::QuantityText(o.validated.delta)},
                 {"deducted", wire::MoneyText(o.deducted)},
                 {"source", o.input.source == ReadingSource::kFrozen ? "frozen" : "live"}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"meter_time"},
                                           {"verdict", "reason", "source"}, {}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::SendCommand(Call& c) {
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(std::string kind, body.String("kind", 32));
    JOULE_ASSIGN_OR_RETURN(std::string reason, body.String("reason", 256));
    JOULE_ASSIGN_OR_RETURN(std::string value, body.OptString("value", "", 16));
    JOULE_TRY(body.Finish());
    if (!Among(kManualCommands, kind)) {
        return InvalidArgument("kind",
                               "must be valve_open, valve_close, time_sync, set_alarm_amount_1, "
                               "set_alarm_amount_2 or set_price (relays: the account's control)");
    }
    Json params = Json::object();
    if (Among(kValuedCommands, kind)) {
        // Yuan (alarm amounts) or yuan per unit (price), as the meter's register holds them.
        JOULE_ASSIGN_OR_RETURN(int64_t scaled, ParseScaled(value, 4, "value"));
        if (scaled < 0 || scaled > 999'999'9999) {
            return InvalidArgument("value", "must be 0 .. 999999.9999");
        }
        params["value"] = FormatScaled(scaled, 4);
    } else if (!value.empty()) {
        return InvalidArgument("value", "only for set_alarm_amount_1/2 and set_price");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(MeterRecord meter, FindMeterOf(*tx, c));
    JOULE_ASSIGN_OR_RETURN(MeterModelRecord model, tx->GetModel(meter.model));
    JOULE_ASSIGN_OR_RETURN(auto binding, tx->CurrentBinding(meter.id));
    tx.reset();
    const bool valve = kind.starts_with("valve_");
    if (valve && model.utility == Utility::kElectricity) {
        return MakeError(ErrorCode::kFailedPrecondition, "model " + model.code + " has no valve",
                         "kind");
    }
    // A water or heat meter's valve is its account's relay: opening it by hand would undo a
    // trip for arrears behind prepaid control's back.
    if (valve && binding) {
        return MakeError(ErrorCode::kFailedPrecondition,
                         "the meter has an account: use the account's control "
                         "(POST .../accounts/{account}/control)",
                         "kind");
    }
    JOULE_ASSIGN_OR_RETURN(auto id, FromService(acquisition.QueueCommand(
                                        meter.id, kind, params.dump(), reason, c.actor(), c.now)));
    return Reply{202, Json{{"id", id}, {"kind", kind}, {"state", "queued"}}, {}};
}

Result<Reply> Api::Impl::ListPendingDevices(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto devices, tx->ListPendingDevices(c.project->id));
    JOULE_ASSIGN_OR_RETURN(auto gateways, tx->ListGateways());
    tx.reset();
    std::unordered_map<int64_t, std::string> gateway_code;
    for (const GatewayRecord& g : gateways) {
        gateway_code.emplace(g.id.value, g.code);
    }
    std::vector<Json> items;
    for (const PendingDeviceRecord& d : devices) {
        items.push_back(Json{{"id", d.id},
                             {"gateway", gateway_code[d.gateway.value]},
                             {"bus_address", d.bus_address},
                             {"model", d.model_code},
                             {"serial", d.serial},
                             {"params", Json::parse(d.params, nullptr, false)},
                             {"first_seen", FormatInstant(d.first_seen)},
                             {"last_seen", FormatInstant(d.last_seen)}});
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"id", "last_seen"},
                                           {"gateway", "model"}, {"serial", "bus_address"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::BindPendingDevice(Call& c) {
    AcquisitionService::BindRequest request;
    request.project_code = c.project->code;
    JOULE_ASSIGN_OR_RETURN(request.pending_id, PositiveId(c.params.at("device"), "device"));
    wire::ObjectReader body(c.body, "");
    JOULE_ASSIGN_OR_RETURN(request.meter_code, body.String("meter", 64));
    JOULE_ASSIGN_OR_RETURN(request.room_code, body.OptString("room", "", 64));
    JOULE_ASSIGN_OR_RETURN(request.model_code, body.OptString("model", "", 64));
    JOULE_ASSIGN_OR_RETURN(request.public_area, body.OptBool("public_area", false));
    JOULE_TRY(body.Finish());
    JOULE_TRY(FromService(acquisition.BindPendingDevice(request, c.actor(), c.now)));
    Reply r{201, Json{{"meter", request.meter_code}}, {}};
    r.headers.emplace_back("Location",
                           "/api/v1/projects/" + c.project->code + "/meters/" + request.meter_code);
    return r;
}

Result<Reply> Api::Impl::ListCommands(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    const int limit = RowsToLoad(c.query, kMaxCommandRows);
    JOULE_ASSIGN_OR_RETURN(auto commands, tx->ListCommands(c.project->id, limit));
    JOULE_TRY(CheckWindow(c.query, commands.size(), limit));
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(c.project->id));
    JOULE_ASSIGN_OR_RETURN(auto accounts, tx->ListAccounts(c.project->id));
    tx.reset();
    std::unordered_map<int64_t, const MeterRecord*> meter_of;
    for (const MeterRecord& m : meters) {
        meter_of.emplace(m.id.value, &m);
    }
    std::unordered_map<int64_t, const AccountRecord*> account_of;
    for (const AccountRecord& a : accounts) {
        account_of.emplace(a.id.value, &a);
    }
    std::vector<Json> items;
    items.reserve(commands.size());
    for (const CommandRecord& cmd : commands) {
        const auto m = meter_of.find(cmd.meter.value);
        const auto a = account_of.find(cmd.account.value);
        items.push_back(CommandJson(cmd, m == meter_of.end() ? "" : m->second->code,
                                    a == account_of.end() ? "" : a->second->number));
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), c.query, {"id", "created_at"},
                                {"meter", "account", "state", "kind"}, {"reason", "actor"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::ListAlarms(Call& c) {
    JOULE_ASSIGN_OR_RETURN(bool open_only, BoolParam(c.query, "open", true));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto alarms, tx->ListAlarms(c.project->id, open_only));
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(c.project->id));
    std::unordered_map<int64_t, std::string> meter_code;
    for (const MeterRecord& m : meters) {
        meter_code.emplace(m.id.value, m.code);
    }
    // Only the accounts the alarms name, each read once (not every account of the project).
    std::unordered_map<int64_t, std::string> account_number;
    std::vector<Json> items;
    for (const AlarmRecord& a : alarms) {
        const auto m = meter_code.find(a.meter.value);
        auto n = account_number.find(a.account.value);
        if (n == account_number.end()) {
            n = account_number.emplace(a.account.value, AccountNumberOf(*tx, a.account)).first;
        }
        items.push_back(AlarmJson(a, m == meter_code.end() ? "" : m->second, n->second));
    }
    tx.reset();
    QueryParams query = c.query;
    query.erase("open");  // read above; the rest are the list's own
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), query, {"id", "raised_at", "kind"},
                                {"kind", "meter", "account", "acknowledged"}, {"detail"}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::AcknowledgeAlarm(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t id, PositiveId(c.params.at("alarm"), "alarm"));
    JOULE_ASSIGN_OR_RETURN(AlarmRecord alarm, FromService(acquisition.AcknowledgeAlarm(
                                                  c.project->id, id, c.actor(), c.now)));
    JOULE_ASSIGN_OR_RETURN(Json body, AlarmReply(alarm));
    return Reply{200, std::move(body), {}};
}

Result<Reply> Api::Impl::ClearAlarm(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t id, PositiveId(c.params.at("alarm"), "alarm"));
    JOULE_ASSIGN_OR_RETURN(AlarmRecord alarm, FromService(acquisition.ClearAlarm(
                                                  c.project->id, id, c.actor(), c.now)));
    JOULE_ASSIGN_OR_RETURN(Json body, AlarmReply(alarm));
    return Reply{200, std::move(body), {}};
}

Result<Json> Api::Impl::AlarmReply(const AlarmRecord& alarm) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    return AlarmJson(alarm, MeterCodeOf(*tx, alarm.meter), AccountNumberOf(*tx, alarm.account));
}

Result<Reply> Api::Impl::LiveEvents(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {}));
    const Principal& who = c.principal;
    LiveFilter filter{c.project->id, who.Allows(Permission::kDevicesView),
                      who.Allows(Permission::kAccountsView), who.Allows(Permission::kAlarmsView)};
    if (!filter.devices && !filter.accounts && !filter.alarms) {
        return MakeError(ErrorCode::kPermissionDenied, "no live updates are visible to this user");
    }
    // A reconnecting EventSource sends the id of the last event it received.
    std::optional<int64_t> resume_after;
    if (const std::string_view last = c.http.Header("last-event-id"); !last.empty()) {
        int64_t seq = -1;
        const auto [end, ec] = std::from_chars(last.data(), last.data() + last.size(), seq);
        if (ec != std::errc() || end != last.data() + last.size() || seq < 0) {
            return InvalidArgument("Last-Event-ID", "must be the id of an event (a number)");
        }
        resume_after = seq;
    }
    JOULE_ASSIGN_OR_RETURN(auto stream, live_hub.Subscribe(std::move(filter), resume_after));
    Reply reply{200, Json(), {}};
    reply.content_type = "text/event-stream; charset=utf-8";
    reply.stream = std::move(stream);
    return reply;
}

}  // namespace joule::api
