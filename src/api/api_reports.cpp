// Reports [RPT-1]: day and month energy and sales totals of a project, by building, account or
// meter (from the store's day totals), and the printable receipt of a top-up, refund or subsidy.
#include <date/date.h>
#include <date/tz.h>

#include <algorithm>
#include <unordered_map>

#include "api/api_internal.hpp"
#include "wire/json.hpp"
#include "wire/money_words.hpp"

namespace joule::api {

namespace {

constexpr int64_t kMaxDays = 366;         // ?period=day: at most a year of days
constexpr int64_t kMaxMonthDays = 3'660;  // ?period=month: at most ten years

struct SummaryQuery {
    DayRange days;
    SummaryPeriod period = SummaryPeriod::kDay;
    SummaryGroup group = SummaryGroup::kProject;
    QueryParams rest;  // the list's own parameters (page, sort, filters)
};

// ?from=YYYY-MM-DD&to=YYYY-MM-DD (local dates, inclusive; default: this month so far),
// ?period=day|month (default day), ?group=... (default project).
Result<SummaryQuery> ParseSummaryQuery(const Call& c,
                                       std::initializer_list<std::string_view> groups) {
    SummaryQuery out;
    out.rest = c.query;
    JOULE_ASSIGN_OR_RETURN(const Zone zone, Zone::Load(c.project->time_zone));
    const CivilDate today{date::floor<date::days>(zone.ToLocal(c.now))};
    CivilDate from = today.year() / today.month() / 1;
    CivilDate to = today;
    if (const auto it = c.query.find("from"); it != c.query.end()) {
        JOULE_ASSIGN_OR_RETURN(from, ParseDate(it->second, "from"));
        out.rest.erase("from");
    }
    if (const auto it = c.query.find("to"); it != c.query.end()) {
        JOULE_ASSIGN_OR_RETURN(to, ParseDate(it->second, "to"));
        out.rest.erase("to");
    }
    if (const auto it = c.query.find("period"); it != c.query.end()) {
        if (it->second != "day" && it->second != "month") {
            return InvalidArgument("period", "must be day or month");
        }
        out.period = it->second == "day" ? SummaryPeriod::kDay : SummaryPeriod::kMonth;
        out.rest.erase("period");
    }
    if (const auto it = c.query.find("group"); it != c.query.end()) {
        if (std::find(groups.begin(), groups.end(), it->second) == groups.end()) {
            std::string names;
            for (const std::string_view g : groups) {
                names += (names.empty() ? "" : ", ") + std::string(g);
            }
            return InvalidArgument("group", "must be one of " + names);
        }
        const std::string& g = it->second;
        out.group = g == "building"  ? SummaryGroup::kBuilding
                    : g == "account" ? SummaryGroup::kAccount
                    : g == "meter"   ? SummaryGroup::kMeter
                                     : SummaryGroup::kProject;
        out.rest.erase("group");
    }
    out.days = {DayNumber(from), DayNumber(to)};
    if (out.days.last < out.days.first) {
        return InvalidArgument("to", "must not be before from");
    }
    const int64_t limit = out.period == SummaryPeriod::kDay ? kMaxDays : kMaxMonthDays;
    if (out.days.last - out.days.first + 1 > limit) {
        return InvalidArgument(
            "to", "the range may cover at most " + std::to_string(limit) +
                      " days for period=" + (out.period == SummaryPeriod::kDay ? "day" : "month"));
    }
    return out;
}

std::string_view GroupField(SummaryGroup group) {
    switch (group) {
        case SummaryGroup::kBuilding:
            return "building";
        case SummaryGroup::kAccount:
            return "account";
        case SummaryGroup::kMeter:
            return "meter";
        case SummaryGroup::kProject:
            break;
    }
    return "";
}

std::string Html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        switch (ch) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += ch;
        }
    }
    return out;
}

// Codes of the group ids a summary names: buildings, accounts or meters of the project.
Result<std::unordered_map<int64_t, std::string>> GroupCodes(Store& store, ProjectId project,
                                                            SummaryGroup group) {
    std::unordered_map<int64_t, std::string> codes;
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    switch (group) {
        case SummaryGroup::kProject:
            break;
        case SummaryGroup::kBuilding: {
            JOULE_ASSIGN_OR_RETURN(auto buildings, tx->ListBuildings(project));
            for (const BuildingRecord& b : buildings) {
                codes.emplace(b.id.value, b.code);
            }
            break;
        }
        case SummaryGroup::kAccount: {
            JOULE_ASSIGN_OR_RETURN(auto accounts, tx->ListAccounts(project));
            for (const AccountRecord& a : accounts) {
                codes.emplace(a.id.value, a.number);
            }
            break;
        }
        case SummaryGroup::kMeter: {
            JOULE_ASSIGN_OR_RETURN(auto meters, tx->ListMeters(project));
            for (const MeterRecord& m : meters) {
                codes.emplace(m.id.value, m.code);
            }
            break;
        }
    }
    return codes;
}

}  // namespace

Result<Reply> Api::Impl::EnergySummary(Call& c) {
    JOULE_ASSIGN_OR_RETURN(SummaryQuery q,
                           ParseSummaryQuery(c, {"project", "building", "account", "meter"}));
    JOULE_ASSIGN_OR_RETURN(auto codes, GroupCodes(store, c.project->id, q.group));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto totals, tx->SumEnergy(c.project->id, q.days, q.period, q.group));
    tx.reset();
    const std::string_view field = GroupField(q.group);
    std::vector<Json> items;
    items.reserve(totals.size());
    for (const EnergyTotal& t : totals) {
        Json item{{"period", t.period},
                  {"utility", wire::UtilityText(t.utility)},
                  {"energy", wire::QuantityText(t.energy)},
                  {"charged", wire::MoneyText(t.deducted)},
                  {"readings", t.readings}};
        if (!field.empty()) {
            const auto code = codes.find(t.group);
            item[std::string(field)] = code == codes.end() ? "" : code->second;
        }
        items.push_back(std::move(item));
    }
    JOULE_ASSIGN_OR_RETURN(Json page,
                           Page(std::move(items), q.rest, {"period", "energy", "charged"},
                                {"utility", "building", "account", "meter"}, {}));
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::SalesSummary(Call& c) {
    JOULE_ASSIGN_OR_RETURN(SummaryQuery q, ParseSummaryQuery(c, {"project", "account"}));
    JOULE_ASSIGN_OR_RETURN(auto codes, GroupCodes(store, c.project->id, q.group));
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(auto totals, tx->SumSales(c.project->id, q.days, q.period, q.group));
    tx.reset();
    std::vector<Json> items;
    items.reserve(totals.size());
    for (const SalesTotal& t : totals) {
        Json item{{"period", t.period},
                  {"kind", TransferCodeName(t.code)},
                  {"channel", t.channel},
                  {"amount", wire::MoneyText(t.amount)},
                  {"count", t.transfers}};
        if (q.group == SummaryGroup::kAccount) {
            const auto code = codes.find(t.group);
            item["account"] = code == codes.end() ? "" : code->second;
        }
        items.push_back(std::move(item));
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), q.rest, {"period", "amount"},
                                           {"kind", "channel", "account"}, {}));
    return Reply{200, std::move(page), {}};
}

// GET .../accounts/{account}/receipt?transfer=ID: a page to print (zh-CN first, English under
// it), with the amount in figures and in Chinese capitals.
Result<Reply> Api::Impl::Receipt(Call& c) {
    JOULE_TRY(OnlyParams(c.query, {"transfer"}));
    const auto wanted = c.query.find("transfer");
    if (wanted == c.query.end() || wanted->second.empty() ||
        wanted->second.size() > kMaxTransferIdBytes) {
        return InvalidArgument("transfer", "required: the id of a ledger transfer (at most " +
                                               std::to_string(kMaxTransferIdBytes) + " bytes)");
    }
    JOULE_ASSIGN_OR_RETURN(auto tx, store.BeginRead());
    JOULE_ASSIGN_OR_RETURN(AccountRecord account, FindAccountOf(*tx, c));
    JOULE_ASSIGN_OR_RETURN(auto transfer, tx->FindTransfer(wanted->second));
    JOULE_ASSIGN_OR_RETURN(auto ledgers, tx->LedgerAccountsOf(account.id));
    JOULE_ASSIGN_OR_RETURN(auto bindings, tx->BindingsOfAccount(account.id));
    std::vector<std::string> meters;
    for (const MeterBinding& b : bindings) {
        if (!b.bound_to) {
            JOULE_ASSIGN_OR_RETURN(MeterRecord m, tx->GetMeter(b.meter));
            meters.push_back(m.code);
        }
    }
    const auto owns = [&](LedgerAccountId id) {
        return std::any_of(ledgers.begin(), ledgers.end(),
                           [&](const LedgerAccount& l) { return l.id == id; });
    };
    // Another account's transfer is as absent as a missing one.
    if (!transfer || (!owns(transfer->debit) && !owns(transfer->credit))) {
        return NotFound("no transfer '" + wanted->second.substr(0, 64) + "' of this account",
                        "transfer");
    }
    const Transfer& t = *transfer;
    std::string title;
    std::string title_en;
    switch (t.code) {
        case TransferCode::kTopUp:
            title = "预付费充值收据";
            title_en = "Prepaid top-up receipt";
            break;
        case TransferCode::kRefund:
            title = "退款凭证";
            title_en = "Refund voucher";
            break;
        case TransferCode::kSubsidy:
            title = "补贴发放凭证";
            title_en = "Subsidy voucher";
            break;
        default:
            return FailedPrecondition(
                "only top-ups, refunds and subsidies have receipts; this is a " +
                    std::string(TransferCodeName(t.code)),
                "transfer");
    }
    // The channel is the system side of the transfer: the cash drawer, WeChat Pay ...
    const LedgerAccountId channel_id = owns(t.credit) ? t.debit : t.credit;
    JOULE_ASSIGN_OR_RETURN(LedgerAccount channel, tx->GetLedgerAccount(channel_id));
    tx.reset();
    JOULE_ASSIGN_OR_RETURN(const Zone zone, Zone::Load(c.project->time_zone));
    const std::string local_time = date::format("%Y-%m-%d %H:%M:%S", zone.ToLocal(t.at));
    std::string meter_list;
    for (const std::string& m : meters) {
        meter_list += (meter_list.empty() ? "" : ", ") + m;
    }
    const auto row = [](std::string_view zh, std::string_view en, const std::string& value) {
        return "<tr><th>" + std::string(zh) + "<small>" + std::string(en) + "</small></th><td>" +
               Html(value) + "</td></tr>\n";
    };
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
        "<title>" +
        Html(title) + " " + Html(t.id) +
        "</title><style>"
        "body{font-family:'PingFang SC','Microsoft YaHei',sans-serif;max-width:640px;margin:2em "
        "auto;color:#222}h1{text-align:center;font-size:1.5em;margin-bottom:0}"
        "h2{text-align:center;font-size:.9em;font-weight:normal;color:#666;margin-top:.2em}"
        "table{width:100%;border-collapse:collapse}th,td{border:1px solid #999;padding:.5em;"
        "text-align:left;vertical-align:top}th{width:32%;background:#f5f5f5}"
        "small{display:block;font-weight:normal;color:#777;font-size:.75em}"
        ".amount{font-size:1.3em;font-weight:bold}.sign{margin-top:3em;display:flex;"
        "justify-content:space-between}@media print{button{display:none}}"
        "</style></head><body>\n<h1>" +
        Html(title) + "</h1><h2>" + Html(title_en) + "</h2>\n<table>\n" +
        row("项目", "Project", c.project->name) + row("收据编号", "Receipt no.", t.id) +
        row("户号", "Account", account.number) + row("户名", "Tenant", account.tenant_name) +
        row("表计", "Meters", meter_list) +
        row("时间", "Time", local_time + " (" + std::string(zone.name()) + ")") +
        "<tr><th>金额<small>Amount</small></th><td class=\"amount\">¥" + wire::MoneyText(t.amount) +
        "</td></tr>\n" + row("大写", "In words", wire::MoneyInChineseCapitals(t.amount)) +
        row("渠道", "Channel", channel.code.empty() ? "-" : channel.code) +
        row("经办人", "Operator", t.actor) + row("备注", "Reference", t.ref) +
        "</table>\n<div class=\"sign\"><span>收款单位（盖章）</span><span>经办人签字</span></div>\n"
        "<p><button onclick=\"window.print()\">打印 Print</button></p>\n</body></html>\n";
    Reply reply{200, Json(), {}};
    reply.content_type = "text/html; charset=utf-8";
    reply.text = std::move(html);
    return reply;
}

}  // namespace joule::api
