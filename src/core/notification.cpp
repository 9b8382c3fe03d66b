#include "core/notification.hpp"

#include "core/notification_ports.hpp"

#include <algorithm>
#include <array>

namespace joule {

namespace {

constexpr std::array kEventKinds{
    EventKindInfo{"low_balance_1", Audience::kTenant, false},
    EventKindInfo{"low_balance_2", Audience::kTenant, false},
    EventKindInfo{"low_balance_3", Audience::kTenant, false},
    EventKindInfo{"arrears_trip", Audience::kTenant, true},
    EventKindInfo{"trip_held", Audience::kTenant, false},
    EventKindInfo{"keep_power", Audience::kTenant, false},
    EventKindInfo{"forced_trip", Audience::kTenant, true},
    EventKindInfo{"top_up", Audience::kTenant, false},
    EventKindInfo{"days_left", Audience::kTenant, false},
    // Sent to a phone, not raised for an account: a sign-in or binding code [PAY-1].
    EventKindInfo{"verification_code", Audience::kTenant, true},
    EventKindInfo{"reading_quarantined", Audience::kEngineering, false},
    EventKindInfo{"meter_reset_suspected", Audience::kEngineering, false},
    EventKindInfo{"meter_offline", Audience::kEngineering, false},
    EventKindInfo{"gateway_offline", Audience::kEngineering, false},
    EventKindInfo{"relay_mismatch", Audience::kEngineering, false},
    EventKindInfo{"command_failed", Audience::kEngineering, false},
    EventKindInfo{"clock_drift", Audience::kEngineering, false},
    EventKindInfo{"battery_low", Audience::kEngineering, false},
    EventKindInfo{"purchase_count_mismatch", Audience::kFinance, false},
    EventKindInfo{"payment_mismatch", Audience::kFinance, false},
};

struct Template {
    std::string_view kind;
    std::string_view zh_title;
    std::string_view zh_body;
    std::string_view en_title;
    std::string_view en_body;
};

// The words tenants and staff read. Tenants: what happened, the balance, what to do. Staff: the
// place and the device, and when.
constexpr std::array kTemplates{
    Template{"low_balance_1", "余额不足提醒",
             "尊敬的{tenant}，您的户号{account}（{project}）当前余额{balance}元，已低于提醒金额，"
             "请及时充值。",
             "Low balance",
             "Dear {tenant}, account {account} ({project}) has {balance} yuan left, below the "
             "reminder amount. Please top up."},
    Template{"low_balance_2", "余额不足二级提醒",
             "尊敬的{tenant}，您的户号{account}（{project}）当前余额{balance}元，即将用完，"
             "请尽快充值。",
             "Balance running out",
             "Dear {tenant}, account {account} ({project}) has only {balance} yuan left. Please "
             "top up soon."},
    Template{"low_balance_3", "余额不足三级提醒",
             "尊敬的{tenant}，您的户号{account}（{project}）当前余额{balance}元，"
             "余额用完后将自动停止供应，请立即充值。",
             "Balance almost gone",
             "Dear {tenant}, account {account} ({project}) has {balance} yuan left. Supply stops "
             "when it runs out: please top up now."},
    Template{"arrears_trip", "欠费停止供应通知",
             "户号{account}（{project}）已欠费，当前余额{balance}元，已停止供应。"
             "充值后自动恢复。",
             "Supply cut for arrears",
             "Account {account} ({project}) is in arrears ({balance} yuan) and its supply has "
             "been cut. It is restored automatically once you top up."},
    Template{"trip_held", "欠费提醒",
             "户号{account}（{project}）已欠费（余额{balance}元），当前为保供时段暂不停止供应，"
             "时段结束后将停止，请尽快充值。",
             "In arrears",
             "Account {account} ({project}) is in arrears ({balance} yuan). Supply is held on "
             "for now and stops when the protected period ends: please top up."},
    Template{"keep_power", "保电通知",
             "户号{account}（{project}）已设置保电，欠费期间不会停止供应。", "Supply kept on",
             "Account {account} ({project}) is set to keep its supply on while in arrears."},
    Template{"forced_trip", "停止供应通知",
             "户号{account}（{project}）已由物业停止供应，如有疑问请联系物业。", "Supply cut",
             "The property office has cut the supply of account {account} ({project}). Please "
             "contact them with any question."},
    Template{"top_up", "充值到账提醒",
             "户号{account}（{project}）充值{amount}元已到账，当前余额{balance}元。",
             "Top-up received",
             "Account {account} ({project}): your top-up of {amount} yuan has arrived. Balance: "
             "{balance} yuan."},
    Template{"days_left", "余额可用天数提醒",
             "户号{account}（{project}）按近期用量，当前余额{balance}元约可用{days}天，"
             "请及时充值。",
             "Days left",
             "Account {account} ({project}): at recent usage, {balance} yuan lasts about {days} "
             "days. Please top up in time."},
    Template{"verification_code", "验证码",
             "{project}：您的验证码为{code}，{minutes}分钟内有效。{purpose}如非本人操作，"
             "请忽略本短信。",
             "Verification code",
             "{project}: your verification code is {code}, valid for {minutes} minutes. "
             "{purpose_en}If you did not ask for it, ignore this message."},
    Template{"reading_quarantined", "读数异常",
             "{project}：表计{meter}的读数异常，已隔离待核查（{at}）。", "Reading quarantined",
             "{project}: a reading of meter {meter} was quarantined for review ({at})."},
    Template{"meter_reset_suspected", "疑似表计清零",
             "{project}：表计{meter}读数回退，疑似清零或换表，请核查（{at}）。",
             "Meter reset suspected",
             "{project}: meter {meter} went backwards, a reset or a replacement is suspected "
             "({at})."},
    Template{"meter_offline", "表计离线", "{project}：表计{meter}通讯中断，请检查（{at}）。",
             "Meter offline", "{project}: meter {meter} stopped answering ({at})."},
    Template{"gateway_offline", "网关离线",
             "{project}：网关{gateway}已离线，其下表计无法抄读，请检查（{at}）。",
             "Gateway offline",
             "{project}: gateway {gateway} is offline; its meters cannot be read ({at})."},
    Template{"relay_mismatch", "通断状态不符",
             "{project}：表计{meter}的通断状态与最后一条指令不符，请检查（{at}）。",
             "Relay mismatch",
             "{project}: the relay or valve of meter {meter} differs from its last command "
             "({at})."},
    Template{"command_failed", "指令执行失败", "{project}：表计{meter}的控制指令执行失败（{at}）。",
             "Command failed", "{project}: a command to meter {meter} failed ({at})."},
    Template{"clock_drift", "表计时钟偏差", "{project}：表计{meter}时钟偏差过大，请校时（{at}）。",
             "Clock drift", "{project}: the clock of meter {meter} has drifted ({at})."},
    Template{"battery_low", "表计电池欠压", "{project}：表计{meter}电池电压低，请更换（{at}）。",
             "Battery low", "{project}: the battery of meter {meter} is low ({at})."},
    Template{"purchase_count_mismatch", "购电次数不符",
             "{project}：表计{meter}（户号{account}）的购电次数与平台不符，购电未下发，"
             "请核查（{at}）。",
             "Purchase count mismatch",
             "{project}: the purchase count of meter {meter} (account {account}) differs from "
             "the platform's; the purchase was not sent ({at})."},
    Template{"payment_mismatch", "支付异常",
             "{project}：户号{account}收到一笔与订单不符的支付，未入账，请财务核查（{at}）。",
             "Payment mismatch",
             "{project}: account {account} received a payment that does not fit its order; "
             "nothing was credited ({at})."},
};

const Template* FindTemplate(std::string_view kind) {
    for (const Template& t : kTemplates) {
        if (t.kind == kind) {
            return &t;
        }
    }
    return nullptr;
}

std::string Fill(std::string_view text, const TemplateVars& vars) {
    std::string out;
    out.reserve(text.size() + 32);
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t open = text.find('{', i);
        if (open == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        const std::size_t close = text.find('}', open);
        if (close == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        out.append(text.substr(i, open - i));
        const std::string_view name = text.substr(open + 1, close - open - 1);
        for (const auto& [key, value] : vars) {
            if (key == name) {
                out.append(value);
                break;
            }
        }
        i = close + 1;
    }
    return out;
}

Result<int32_t> ParseClock(std::string_view text, std::string_view field) {
    // HH:MM, 00:00 .. 24:00
    if (text.size() != 5 || text[2] != ':') {
        return InvalidArgument(std::string(field), "must be HH:MM-HH:MM, e.g. 22:00-07:00");
    }
    const auto digit = [&](std::size_t i) -> int32_t {
        return text[i] >= '0' && text[i] <= '9' ? text[i] - '0' : -1;
    };
    const int32_t h1 = digit(0);
    const int32_t h2 = digit(1);
    const int32_t m1 = digit(3);
    const int32_t m2 = digit(4);
    if (h1 < 0 || h2 < 0 || m1 < 0 || m2 < 0) {
        return InvalidArgument(std::string(field), "must be HH:MM-HH:MM, e.g. 22:00-07:00");
    }
    const int32_t hours = h1 * 10 + h2;
    const int32_t minutes = m1 * 10 + m2;
    if (minutes > 59 || hours > 24 || (hours == 24 && minutes != 0)) {
        return InvalidArgument(std::string(field), "is not a time of day");
    }
    return hours * 60 + minutes;
}

}  // namespace

std::string_view NotifyChannelName(NotifyChannel channel) {
    switch (channel) {
        case NotifyChannel::kEmail:
            return "email";
        case NotifyChannel::kSms:
            return "sms";
        case NotifyChannel::kWechat:
            return "wechat";
        case NotifyChannel::kWebhook:
            return "webhook";
    }
    return "unknown";
}

Result<NotifyChannel> ParseNotifyChannel(std::string_view name, std::string_view field) {
    for (NotifyChannel c : {NotifyChannel::kEmail, NotifyChannel::kSms, NotifyChannel::kWechat,
                            NotifyChannel::kWebhook}) {
        if (NotifyChannelName(c) == name) {
            return c;
        }
    }
    return InvalidArgument(std::string(field), "must be email, sms, wechat or webhook");
}

std::string RedactCodes(std::string_view text) {
    std::string out(text);
    std::size_t run = 0;
    for (std::size_t i = 0; i <= out.size(); ++i) {
        if (i < out.size() && out[i] >= '0' && out[i] <= '9') {
            ++run;
            continue;
        }
        if (run == 6) {
            out.replace(i - run, run, run, '*');
        }
        run = 0;
    }
    return out;
}

std::span<const EventKindInfo> EventKinds() { return kEventKinds; }

const EventKindInfo* FindEventKind(std::string_view kind) {
    for (const EventKindInfo& k : kEventKinds) {
        if (k.kind == kind) {
            return &k;
        }
    }
    return nullptr;
}

Status ValidateRecipientRole(std::string_view role, std::string_view field) {
    if (role == "engineering" || role == "finance" || role == "management") {
        return {};
    }
    return MakeError(ErrorCode::kInvalidArgument, "must be engineering, finance or management",
                     std::string(field));
}

bool RoleHears(std::string_view role, std::span<const std::string> kinds, std::string_view kind) {
    if (!kinds.empty()) {
        return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
    }
    const EventKindInfo* info = FindEventKind(kind);
    const Audience audience = info != nullptr ? info->audience : Audience::kEngineering;
    if (audience == Audience::kTenant) {
        return false;  // staff hear of tenants' balances only when they list the kinds
    }
    if (role == "management") {
        return true;
    }
    return (role == "engineering" && audience == Audience::kEngineering) ||
           (role == "finance" && audience == Audience::kFinance);
}

Status ValidateLanguage(std::string_view language, std::string_view field) {
    if (language == "zh-CN" || language == "en") {
        return {};
    }
    return MakeError(ErrorCode::kInvalidArgument, "must be zh-CN or en", std::string(field));
}

NotificationText RenderNotification(std::string_view kind, std::string_view language,
                                    const TemplateVars& vars) {
    const bool english = language == "en";
    if (const Template* t = FindTemplate(kind)) {
        return english ? NotificationText{std::string(t->en_title), Fill(t->en_body, vars)}
                       : NotificationText{std::string(t->zh_title), Fill(t->zh_body, vars)};
    }
    TemplateVars with_kind = vars;
    with_kind.emplace_back("kind", std::string(kind));
    return english ? NotificationText{"Alarm", Fill("{project}: {kind} ({at}).", with_kind)}
                   : NotificationText{"告警通知", Fill("{project}：{kind}（{at}）。", with_kind)};
}

Result<QuietHours> ParseQuietHours(std::string_view text, std::string_view field) {
    if (text.empty()) {
        return QuietHours{};
    }
    if (text.size() != 11 || text[5] != '-') {
        return InvalidArgument(std::string(field), "must be HH:MM-HH:MM, e.g. 22:00-07:00");
    }
    JOULE_ASSIGN_OR_RETURN(int32_t begin, ParseClock(text.substr(0, 5), field));
    JOULE_ASSIGN_OR_RETURN(int32_t end, ParseClock(text.substr(6), field));
    return QuietHours{begin % (24 * 60), end % (24 * 60)};
}

std::optional<Instant> QuietUntil(const QuietHours& quiet, const Zone& zone, Instant now) {
    if (quiet.begin_minute == quiet.end_minute) {
        return std::nullopt;
    }
    const LocalTime local = zone.ToLocal(now);
    const auto midnight = date::floor<date::days>(local);
    const auto minute =
        static_cast<int32_t>(date::floor<std::chrono::minutes>(local - midnight).count());
    const bool spans_midnight = quiet.begin_minute > quiet.end_minute;
    const bool inside = spans_midnight
                            ? (minute >= quiet.begin_minute || minute < quiet.end_minute)
                            : (minute >= quiet.begin_minute && minute < quiet.end_minute);
    if (!inside) {
        return std::nullopt;
    }
    // The end is today, or tomorrow when the quiet hours began before midnight tonight.
    const bool ends_tomorrow = spans_midnight && minute >= quiet.begin_minute;
    const LocalTime end =
        midnight + date::days{ends_tomorrow ? 1 : 0} + std::chrono::minutes{quiet.end_minute};
    return zone.ToInstant(end);
}

std::string_view DeliveryStateName(DeliveryState state) {
    switch (state) {
        case DeliveryState::kQueued:
            return "queued";
        case DeliveryState::kSent:
            return "sent";
        case DeliveryState::kFailed:
            return "failed";
        case DeliveryState::kSuppressed:
            return "suppressed";
    }
    return "unknown";
}

Result<DeliveryState> ParseDeliveryState(std::string_view name, std::string_view field) {
    for (DeliveryState s : {DeliveryState::kQueued, DeliveryState::kSent, DeliveryState::kFailed,
                            DeliveryState::kSuppressed}) {
        if (DeliveryStateName(s) == name) {
            return s;
        }
    }
    return InvalidArgument(std::string(field), "must be queued, sent, failed or suppressed");
}

Seconds RetryDelay(int32_t attempts_made) {
    switch (attempts_made) {
        case 0:
        case 1:
            return Seconds{30};
        case 2:
            return Seconds{120};
        case 3:
            return Seconds{600};
        case 4:
            return Seconds{1800};
        default:
            return Seconds{3600};
    }
}

}  // namespace joule
