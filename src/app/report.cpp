#include "app/report.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>

namespace joule::app {

using wire::Json;
using wire::MoneyText;

namespace {

Json TransferJson(const Transfer& t, const std::map<int64_t, std::string>& names) {
    auto name = [&](LedgerAccountId id) {
        auto it = names.find(id.value);
        return it == names.end() ? std::to_string(id.value) : it->second;
    };
    return Json{{"id", t.id},
                {"code", std::string(TransferCodeName(t.code))},
                {"debit", name(t.debit)},
                {"credit", name(t.credit)},
                {"amount", MoneyText(t.amount)},
                {"ref", t.ref},
                {"actor", t.actor},
                {"at", FormatInstant(t.at)}};
}

Json StatusJson(const PrepaidStatus& s) {
    return Json{{"state", std::string(PrepaidStateName(s.state))},
                {"relay", RelayName(s.relay)},
                {"keep_power", s.keep_power},
                {"forced_trip", s.forced_trip},
                {"emergency_taken", s.emergency_taken}};
}

}  // namespace

Result<Json> ProjectReport(Store& store, std::string_view project_code,
                           const ReportOptions& options) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    JOULE_ASSIGN_OR_RETURN(auto project, tx->FindProject(project_code));
    if (!project) {
        return NotFound("no project '" + std::string(project_code) + "'", "project");
    }
    Json out;
    out["project"] = project->code;
    std::map<int64_t, std::string> ledger_names;  // ledger account id -> readable name
    std::map<int64_t, std::string> account_numbers;
    Json accounts = Json::array();
    Money total_available;
    std::map<std::string, int> by_state;
    JOULE_ASSIGN_OR_RETURN(auto records, tx->ListAccounts(project->id));
    for (const AccountRecord& a : records) {
        account_numbers[a.id.value] = a.number;
        JOULE_ASSIGN_OR_RETURN(auto ledgers, tx->LedgerAccountsOf(a.id));
        for (const LedgerAccount& l : ledgers) {
            // "A001:paid", "A001:meter_pending", "A001:grant:17" (an account may have many grants)
            std::string_view kind = LedgerAccountKindName(l.kind);
            if (kind.starts_with("tenant_")) {
                kind.remove_prefix(7);
            }
            ledger_names[l.id.value] =
                a.number + ":" + std::string(kind) +
                (l.kind == LedgerAccountKind::kTenantGrant ? ":" + std::to_string(l.id.value) : "");
        }
        const TenantBalances b = BalancesOf(ledgers);
        const Money available = AvailableBalance(a.billing_mode, a.purse, b);
        Json account{{"number", a.number},
                     {"tenant", a.tenant_name},
                     {"status", AccountStatusName(a.status)},
                     {"paid", MoneyText(b.paid)},
                     {"granted", MoneyText(b.granted)},
                     {"debt", MoneyText(b.debt)},
                     // meter billing: what the meter showed last (before any read, what was sent)
                     {"available", MoneyText(available)}};
        if (a.billing_mode == BillingMode::kMeter) {
            account["billing_mode"] = "meter";
        }
        account.update(StatusJson(a.prepaid));
        accounts.push_back(account);
        if (a.status == AccountStatus::kOpen) {
            total_available += available;
            ++by_state[std::string(PrepaidStateName(a.prepaid.state))];
        }
    }
    out["accounts"] = accounts;
    out["accounts_by_state"] = by_state;
    out["total_available"] = MoneyText(total_available);

    JOULE_ASSIGN_OR_RETURN(LedgerSummary summary, tx->SummarizeLedger());
    Json ledger{{"transfers", summary.transfers},
                {"sum_of_balances", MoneyText(summary.sum_of_balances)}};
    Json kinds = Json::object();
    for (const auto& [kind, money] : summary.by_kind) {
        kinds[std::string(LedgerAccountKindName(kind))] = MoneyText(money);
    }
    ledger["balance_by_kind"] = kinds;
    JOULE_ASSIGN_OR_RETURN(int64_t mismatches, tx->CountBalanceMismatches());
    ledger["balance_mismatches"] = mismatches;
    if (options.transfers) {
        Json list = Json::array();
        int64_t after = 0;
        JOULE_ASSIGN_OR_RETURN(auto transfers, tx->ListTransfers(after, options.max_transfers));
        for (const Transfer& t : transfers) {
            for (LedgerAccountId id : {t.debit, t.credit}) {
                if (!ledger_names.contains(id.value)) {
                    JOULE_ASSIGN_OR_RETURN(LedgerAccount l, tx->GetLedgerAccount(id));
                    ledger_names[id.value] =
                        std::string(LedgerAccountKindName(l.kind)) + ":" + std::to_string(id.value);
                }
            }
            list.push_back(TransferJson(t, ledger_names));
        }
        ledger["entries"] = list;
    }
    out["ledger"] = ledger;

    std::map<int64_t, std::string> meter_codes;
    JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(project->id));
    Json meter_list = Json::array();
    for (const MeterRecord& m : meters) {
        meter_codes[m.id.value] = m.code;
        JOULE_ASSIGN_OR_RETURN(auto billing, tx->LoadBilling(m.id));
        if (!billing) {
            continue;
        }
        meter_list.push_back(Json{{"meter", m.code},
                                  {"account", account_numbers.contains(billing->account.value)
                                                  ? account_numbers[billing->account.value]
                                                  : ""},
                                  {"register", wire::QuantityText(billing->cursor.total)},
                                  {"billed", wire::QuantityText(billing->billed_total)},
                                  {"deducted", MoneyText(billing->deducted_total)}});
    }
    out["meters"] = meter_list;
    if (options.alarms) {
        Json alarms = Json::array();
        JOULE_ASSIGN_OR_RETURN(auto list, tx->ListAlarms(project->id, false));
        for (const AlarmRecord& a : list) {
            Json alarm{{"kind", std::string(AlarmKindName(a.kind))},
                       {"account", account_numbers[a.account.value]},
                       {"meter", meter_codes[a.meter.value]},
                       {"open", a.open},
                       {"raised_at", FormatInstant(a.raised_at)}};
            if (a.cleared_at) {
                alarm["cleared_at"] = FormatInstant(*a.cleared_at);
            }
            alarms.push_back(alarm);
        }
        out["alarms"] = alarms;
    }
    if (options.commands) {
        Json commands = Json::array();
        JOULE_ASSIGN_OR_RETURN(auto list, tx->ListCommands(project->id, 1'000'000));
        std::reverse(list.begin(), list.end());
        for (const CommandRecord& c : list) {
            commands.push_back(Json{{"meter", meter_codes[c.meter.value]},
                                    {"account", account_numbers[c.account.value]},
                                    {"kind", c.kind},
                                    {"reason", c.reason},
                                    {"actor", c.actor},
                                    {"at", FormatInstant(c.created_at)}});
        }
        out["commands"] = commands;
    }
    return out;
}

Result<Json> AccountReport(Store& store, BillingService& billing, std::string_view project_code,
                           std::string_view number, int ledger_entries) {
    JOULE_ASSIGN_OR_RETURN(AccountView view, billing.ViewAccount(project_code, number));
    Json out{{"number", view.account.number},
             {"tenant", view.account.tenant_name},
             {"status", AccountStatusName(view.account.status)},
             {"paid", MoneyText(view.paid)},
             {"granted", MoneyText(view.granted)},
             {"debt", MoneyText(view.debt)},
             {"available", MoneyText(view.available)},
             {"billing_mode", std::string(BillingModeName(view.account.billing_mode))}};
    if (view.account.billing_mode == BillingMode::kMeter) {
        // Meter billing [ACCT-1]: money sent but unconfirmed, confirmed in the meter, and the
        // meter's own amount as last read ("available" is that amount).
        const MeterPurse& purse = view.account.purse;
        Json meter{{"pending", MoneyText(view.meter_pending)},
                   {"held", MoneyText(view.meter_held)},
                   {"purchase_count_confirmed", purse.confirmed_count},
                   {"purchase_count_assigned", purse.assigned_count}};
        if (purse.remaining) {
            meter["remaining"] = MoneyText(*purse.remaining);
            meter["remaining_at"] = FormatInstant(*purse.remaining_at);
        }
        out["meter_purse"] = meter;
    }
    out.update(StatusJson(view.account.prepaid));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.Begin());
    Json meters = Json::array();
    for (const MeterBinding& b : view.bindings) {
        JOULE_ASSIGN_OR_RETURN(MeterRecord m, tx->GetMeter(b.meter));
        Json binding{{"meter", m.code},
                     {"from", FormatInstant(b.bound_from)},
                     {"opening", wire::QuantityText(b.opening_total)}};
        if (b.bound_to) {
            binding["to"] = FormatInstant(*b.bound_to);
            binding["closing"] = wire::QuantityText(*b.closing_total);
        }
        meters.push_back(binding);
    }
    out["meters"] = meters;
    std::map<int64_t, std::string> names;
    for (const LedgerAccount& l : view.ledger_accounts) {
        names[l.id.value] = std::string(LedgerAccountKindName(l.kind));
    }
    Json ledger = Json::array();
    JOULE_ASSIGN_OR_RETURN(auto transfers, tx->TransfersOf(view.account.id, ledger_entries));
    for (const Transfer& t : transfers) {
        for (LedgerAccountId id : {t.debit, t.credit}) {
            if (!names.contains(id.value)) {
                JOULE_ASSIGN_OR_RETURN(LedgerAccount l, tx->GetLedgerAccount(id));
                names[id.value] = std::string(LedgerAccountKindName(l.kind));
            }
        }
        ledger.push_back(TransferJson(t, names));
    }
    out["ledger"] = ledger;
    return out;
}

}  // namespace joule::app
