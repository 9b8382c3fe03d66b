// Notifications [ALM-3, ALM-4]: who hears of what, in which words, and when. Pure: the event
// kinds and their audience, the built-in templates in zh-CN and en, quiet hours and the retry
// schedule. The service plans deliveries with these; the channels (src/notify) send them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "core/time.hpp"

namespace joule {

// stored: never renumber.
enum class NotifyChannel : uint8_t { kEmail = 1, kSms = 2, kWechat = 3, kWebhook = 4 };
[[nodiscard]] std::string_view NotifyChannelName(NotifyChannel channel);  // "email", ...
[[nodiscard]] Result<NotifyChannel> ParseNotifyChannel(std::string_view name,
                                                       std::string_view field);

// Who an event is for by default: the tenant (balance, top-ups, power cut), engineering (devices
// and wiring) or finance (payments).
enum class Audience : uint8_t { kTenant, kEngineering, kFinance };

struct EventKindInfo {
    std::string_view kind;  // an alarm kind name (core/prepaid.hpp) or a notice: "top_up"
    Audience audience;
    // Told at once even in quiet hours: the tenant's power is cut now, or a payment went wrong.
    bool urgent;
};
[[nodiscard]] std::span<const EventKindInfo> EventKinds();
[[nodiscard]] const EventKindInfo* FindEventKind(std::string_view kind);

// A staff recipient's role decides the kinds it hears of when it lists none of its own:
// engineering, finance, or management (both). Tenants are told through their account.
[[nodiscard]] Status ValidateRecipientRole(std::string_view role, std::string_view field);
[[nodiscard]] bool RoleHears(std::string_view role, std::span<const std::string> kinds,
                             std::string_view kind);

// "zh-CN" or "en"; errors name `field`.
[[nodiscard]] Status ValidateLanguage(std::string_view language, std::string_view field);

// The values a template may name as {name}: project, account, tenant, balance, amount, meter,
// gateway, days, at. A name without a value renders as nothing.
using TemplateVars = std::vector<std::pair<std::string, std::string>>;

struct NotificationText {
    std::string title;
    std::string body;
};

// The built-in words of `kind` in `language` ("zh-CN" unless "en"), with `vars` filled in. A kind
// without a template of its own gets a generic one naming the kind.
[[nodiscard]] NotificationText RenderNotification(std::string_view kind, std::string_view language,
                                                  const TemplateVars& vars);

// The kind of a sign-in or binding code's SMS [PAY-1]: its words hold the tenant's secret, kept
// only until the message is done with, and never shown to staff.
inline constexpr std::string_view kVerificationCodeKind = "verification_code";
// `text` with every run of exactly six digits (a code) turned into "******".
[[nodiscard]] std::string RedactCodes(std::string_view text);

// Quiet hours in a project's local time, [begin, end) minutes after midnight; begin > end spans
// midnight (22:00-07:00). Equal begin and end: no quiet hours.
struct QuietHours {
    int32_t begin_minute = 0;
    int32_t end_minute = 0;
};
// "22:00-07:00" or "" (none); errors name `field`.
[[nodiscard]] Result<QuietHours> ParseQuietHours(std::string_view text, std::string_view field);
// When a delivery due at `now` may go: nullopt when now is outside the quiet hours, else the
// instant they end in `zone`.
[[nodiscard]] std::optional<Instant> QuietUntil(const QuietHours& quiet, const Zone& zone,
                                                Instant now);

// Retries: a failed attempt is tried again after 30 s, 2 min, 10 min, 30 min, then hourly, and
// given up after kMaxDeliveryAttempts attempts in all.
inline constexpr int32_t kMaxDeliveryAttempts = 8;
[[nodiscard]] Seconds RetryDelay(int32_t attempts_made);

}  // namespace joule
