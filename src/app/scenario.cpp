#include "app/scenario.hpp"

#include <nlohmann/json.hpp>

#include <functional>

#include "app/report.hpp"
#include "app/site_file.hpp"
#include "base/decimal.hpp"
#include "service/billing_service.hpp"
#include "service/site_service.hpp"
#include "storage/sqlite_store.hpp"

namespace joule::app {

using wire::Json;
using wire::ObjectReader;

namespace {

constexpr std::size_t kMaxEvents = 1'000'000;

struct Step {
    Instant at;
    std::string type;
    std::function<Result<Json>(Instant)> run;
};

struct Services {
    Store* store = nullptr;
    BillingService* billing = nullptr;
    std::string project;
    Actor actor{"scenario"};
};

Json ErrorJson(const Error& e) {
    return Json{
        {"code", std::string(ErrorCodeName(e.code))}, {"message", e.message}, {"field", e.field}};
}

Result<ControlEvent> ControlAction(std::string_view action, const std::string& field) {
    if (action == "trip")
        return ControlEvent::kManualTrip;
    if (action == "close")
        return ControlEvent::kManualClose;
    if (action == "keep_power")
        return ControlEvent::kKeepPowerOn;
    if (action == "restore_prepaid")
        return ControlEvent::kKeepPowerOff;
    if (action == "emergency")
        return ControlEvent::kTakeEmergency;
    return InvalidArgument(field, "must be trip, close, keep_power, restore_prepaid or emergency");
}

Result<Step> ParseEvent(const Json& j, const std::string& path, Services& s) {
    ObjectReader r(j, path);
    JOULE_TRY(r.Check());
    Step step;
    JOULE_ASSIGN_OR_RETURN(step.at, r.InstantField("at"));
    JOULE_ASSIGN_OR_RETURN(step.type, r.String("type", 32));
    const std::string& type = step.type;
    if (type == "readings") {
        JOULE_ASSIGN_OR_RETURN(const Json* list, r.Array("readings", kMaxBatchReadings));
        std::vector<ReadingItem> items;
        for (std::size_t i = 0; i < list->size(); ++i) {
            ObjectReader m((*list)[i], r.PathOf("readings") + "[" + std::to_string(i) + "]");
            JOULE_TRY(m.Check());
            ReadingItem item;
            item.project_code = s.project;
            JOULE_ASSIGN_OR_RETURN(item.meter_code, m.String("meter", 64));
            item.reading.meter_time = step.at;
            if (m.Has("time")) {
                JOULE_ASSIGN_OR_RETURN(item.reading.meter_time, m.InstantField("time"));
            }
            item.reading.received = step.at;
            JOULE_ASSIGN_OR_RETURN(item.reading.total, m.QuantityField("total"));
            if (item.reading.total.milli < 0) {
                return InvalidArgument(m.PathOf("total"), "a register is never negative");
            }
            if (m.Has("sharp")) {
                item.reading.has_per_rate = true;
                static constexpr const char* kNames[] = {"sharp", "peak", "flat", "valley"};
                for (std::size_t p = 0; p < kPeriodCount; ++p) {
                    JOULE_ASSIGN_OR_RETURN(item.reading.per_rate[p], m.QuantityField(kNames[p]));
                    if (item.reading.per_rate[p].milli < 0) {
                        return InvalidArgument(m.PathOf(kNames[p]), "a register is never negative");
                    }
                }
            }
            JOULE_TRY(m.Finish());
            items.push_back(std::move(item));
        }
        step.run = [&s, items = std::move(items)](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(ApplyReadingsResult r2, s.billing->ApplyReadings(items, now));
            return Json{{"accepted", r2.accepted},       {"duplicates", r2.duplicates},
                        {"quarantined", r2.quarantined}, {"deducted", wire::MoneyText(r2.deducted)},
                        {"commands", r2.commands},       {"alarms_raised", r2.alarms_raised}};
        };
    } else if (type == "top_up") {
        TopUpRequest req;
        req.project_code = s.project;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_ASSIGN_OR_RETURN(req.amount, r.MoneyField("amount"));
        JOULE_ASSIGN_OR_RETURN(req.idempotency_key, r.String("key", 100));
        JOULE_ASSIGN_OR_RETURN(req.channel, r.OptString("channel", "cash", 32));
        JOULE_ASSIGN_OR_RETURN(req.ref, r.OptString("ref", "", 128));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(TopUpResult t, s.billing->TopUp(req, s.actor, now));
            return Json{
                {"outcome", t.outcome == TopUpOutcome::kCredited ? "credited" : "already_credited"},
                {"credited", wire::MoneyText(t.credited)},
                {"debt_recovered", wire::MoneyText(t.debt_recovered)},
                {"balance", wire::MoneyText(t.balance_after)},
                {"state", std::string(PrepaidStateName(t.state))}};
        };
    } else if (type == "refund") {
        RefundRequest req;
        req.project_code = s.project;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_ASSIGN_OR_RETURN(req.amount, r.MoneyField("amount"));
        JOULE_ASSIGN_OR_RETURN(req.idempotency_key, r.String("key", 128));
        JOULE_ASSIGN_OR_RETURN(req.channel, r.OptString("channel", "cash", 32));
        JOULE_ASSIGN_OR_RETURN(req.reason, r.OptString("reason", "", 256));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(Money m, s.billing->Refund(req, s.actor, now));
            return Json{{"refunded", wire::MoneyText(m)}};
        };
    } else if (type == "subsidy") {
        SubsidyRequest req;
        req.project_code = s.project;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_ASSIGN_OR_RETURN(req.amount, r.MoneyField("amount"));
        JOULE_ASSIGN_OR_RETURN(req.idempotency_key, r.String("key", 128));
        JOULE_ASSIGN_OR_RETURN(int64_t priority, r.OptInteger("priority", 0, -1000, 1000));
        req.priority = static_cast<int32_t>(priority);
        if (r.Has("expires_at")) {
            JOULE_ASSIGN_OR_RETURN(req.expires_at, r.InstantField("expires_at"));
        }
        JOULE_ASSIGN_OR_RETURN(req.reason, r.OptString("reason", "", 256));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(LedgerAccountId id, s.billing->GrantSubsidy(req, s.actor, now));
            return Json{{"grant", id.value}};
        };
    } else if (type == "debt") {
        DebtRequest req;
        req.project_code = s.project;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_ASSIGN_OR_RETURN(req.amount, r.MoneyField("amount"));
        JOULE_ASSIGN_OR_RETURN(req.idempotency_key, r.String("key", 128));
        JOULE_ASSIGN_OR_RETURN(req.reason, r.OptString("reason", "", 256));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_TRY(s.billing->RecordDebt(req, s.actor, now));
            return Json::object();
        };
    } else if (type == "control") {
        ControlRequest req;
        req.project_code = s.project;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_ASSIGN_OR_RETURN(std::string action, r.String("action", 32));
        JOULE_ASSIGN_OR_RETURN(req.event, ControlAction(action, r.PathOf("action")));
        JOULE_ASSIGN_OR_RETURN(req.reason, r.OptString("reason", "", 256));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(PrepaidStatus st, s.billing->Control(req, s.actor, now));
            return Json{{"state", std::string(PrepaidStateName(st.state))},
                        {"relay", RelayName(st.relay)}};
        };
    } else if (type == "tariff_version") {
        JOULE_ASSIGN_OR_RETURN(std::string tariff, r.String("tariff", 64));
        JOULE_ASSIGN_OR_RETURN(const Json* body, r.Object("version"));
        JOULE_ASSIGN_OR_RETURN(TariffVersion version,
                               wire::TariffVersionFromJson(*body, r.PathOf("version")));
        step.run = [&s, tariff, version](Instant now) -> Result<Json> {
            JOULE_TRY(AddTariffVersion(*s.store, s.project, tariff, version, s.actor, now));
            return Json::object();
        };
    } else if (type == "tick") {
        step.run = [&s](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(ApplyReadingsResult t, s.billing->Tick(s.project, now));
            return Json{{"commands", t.commands}, {"alarms_raised", t.alarms_raised}};
        };
    } else if (type == "open_account") {
        JOULE_ASSIGN_OR_RETURN(const Json* body, r.Object("account"));
        JOULE_ASSIGN_OR_RETURN(OpenAccountRequest req,
                               ParseOpenAccount(*body, r.PathOf("account"), s.project));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(AccountId id, s.billing->OpenAccount(req, s.actor, now));
            return Json{{"account", id.value}};
        };
    } else if (type == "replace_meter") {
        ReplaceMeterRequest req;
        req.project_code = s.project;
        req.at = step.at;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_TRY(api::ReadReplaceMeter(r, req));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_TRY(s.billing->ReplaceMeter(req, s.actor, now));
            return Json::object();
        };
    } else if (type == "close_account") {
        CloseAccountRequest req;
        req.project_code = s.project;
        req.at = step.at;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_TRY(api::ReadCloseAccount(r, req));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(CloseAccountResult c,
                                   s.billing->CloseAccount(req, s.actor, now));
            return Json{{"refunded", wire::MoneyText(c.refunded)},
                        {"grants_forfeited", wire::MoneyText(c.grants_forfeited)}};
        };
    } else if (type == "transfer_tenant") {
        TransferTenantRequest req;
        req.project_code = s.project;
        req.at = step.at;
        JOULE_ASSIGN_OR_RETURN(req.account_number, r.String("account", 64));
        JOULE_TRY(api::ReadTransferTenant(r, req));
        step.run = [&s, req](Instant now) -> Result<Json> {
            JOULE_ASSIGN_OR_RETURN(AccountId id, s.billing->TransferTenant(req, s.actor, now));
            return Json{{"account", id.value}};
        };
    } else {
        return InvalidArgument(r.PathOf("type"), "unknown event type '" + type + "'");
    }
    JOULE_TRY(r.Finish());
    return step;
}

}  // namespace

Result<Json> RunScenario(const Json& scenario) {
    ObjectReader r(scenario, "");
    JOULE_TRY(r.Check());
    JOULE_ASSIGN_OR_RETURN(const Json* site_json, r.Object("site"));
    auto site = ParseSite(*site_json);
    if (!site) {
        return std::unexpected(site.error().WithFieldPrefix("site"));
    }
    JOULE_ASSIGN_OR_RETURN(auto store, storage::SqliteStore::Open(":memory:", {}));
    BillingService billing(*store);
    Services s{store.get(), &billing, site->project.code, Actor{"scenario"}};

    std::vector<OpenAccountRequest> accounts;
    JOULE_ASSIGN_OR_RETURN(const Json* account_list, r.OptArray("accounts", 100'000));
    for (std::size_t i = 0; account_list != nullptr && i < account_list->size(); ++i) {
        JOULE_ASSIGN_OR_RETURN(
            OpenAccountRequest a,
            ParseOpenAccount((*account_list)[i], "accounts[" + std::to_string(i) + "]", s.project));
        accounts.push_back(std::move(a));
    }
    std::vector<Step> steps;
    JOULE_ASSIGN_OR_RETURN(const Json* events, r.OptArray("events", kMaxEvents));
    for (std::size_t i = 0; events != nullptr && i < events->size(); ++i) {
        const std::string path = "events[" + std::to_string(i) + "]";
        JOULE_ASSIGN_OR_RETURN(Step step, ParseEvent((*events)[i], path, s));
        if (!steps.empty() && step.at < steps.back().at) {
            return InvalidArgument(path + ".at", "events must be in time order");
        }
        steps.push_back(std::move(step));
    }
    JOULE_TRY(r.Finish());

    // Everything is valid: run.
    const Instant start = accounts.empty() ? (steps.empty() ? Instant{} : steps.front().at)
                                           : accounts.front().opened_at;
    auto created = CreateSite(*store, *site, s.actor, start);
    if (!created) {
        return std::unexpected(created.error().WithFieldPrefix("site"));
    }
    for (std::size_t i = 0; i < accounts.size(); ++i) {
        auto opened = billing.OpenAccount(accounts[i], s.actor, accounts[i].opened_at);
        if (!opened) {
            return std::unexpected(
                opened.error().WithFieldPrefix("accounts[" + std::to_string(i) + "]"));
        }
    }
    Json results = Json::array();
    for (std::size_t i = 0; i < steps.size(); ++i) {
        Json result{{"index", i}, {"type", steps[i].type}, {"at", FormatInstant(steps[i].at)}};
        auto outcome = steps[i].run(steps[i].at);
        if (outcome) {
            result["ok"] = true;
            result["result"] = *outcome;
        } else {
            result["ok"] = false;
            result["error"] = ErrorJson(outcome.error());
        }
        results.push_back(result);
    }
    JOULE_ASSIGN_OR_RETURN(Json report, ProjectReport(*store, s.project, {}));
    report["events"] = results;
    return report;
}

}  // namespace joule::app
