#include "service/notification_service.hpp"
#include "service/project_lookup.hpp"

#include <date/date.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/decimal.hpp"
#include "base/json_quote.hpp"
#include "core/tenant.hpp"

namespace joule {

namespace {

constexpr Seconds kRateWindow{3600};
constexpr std::size_t kMaxNameBytes = 64;
constexpr std::size_t kMaxAddressBytes = 2048;
constexpr std::size_t kMaxKinds = 32;

bool HasControl(std::string_view text) {
    return std::any_of(text.begin(), text.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x20 || b == 0x7F;
    });
}

bool AllOf(std::string_view text, bool (*ok)(char)) {
    return std::all_of(text.begin(), text.end(), ok);
}

Status CheckAddress(NotifyChannel channel, std::string_view address) {
    constexpr std::string_view kField = "address";
    if (address.empty() || address.size() > kMaxAddressBytes || HasControl(address) ||
        address.find(' ') != std::string_view::npos) {
        return InvalidArgument(std::string(kField),
                               "must be 1 to 2048 bytes without spaces or control characters");
    }
    switch (channel) {
        case NotifyChannel::kEmail: {
            const std::size_t at = address.find('@');
            if (at == 0 || at == std::string_view::npos || at + 1 >= address.size() ||
                address.find('@', at + 1) != std::string_view::npos || address.size() > 254 ||
                address.find_first_of("<>,;\"") != std::string_view::npos) {
                return InvalidArgument(std::string(kField), "must be an email address");
            }
            return {};
        }
        case NotifyChannel::kSms: {
            std::string_view digits = address;
            if (digits.front() == '+') {
                digits.remove_prefix(1);
            }
            if (digits.size() < 5 || digits.size() > 20 ||
                !AllOf(digits, [](char c) { return c >= '0' && c <= '9'; })) {
                return InvalidArgument(std::string(kField),
                                       "must be a phone number: 5 to 20 digits, '+' first");
            }
            return {};
        }
        case NotifyChannel::kWechat:
            if (address.size() < 6 || address.size() > 64 || !AllOf(address, [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                           (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
                })) {
                return InvalidArgument(std::string(kField),
                                       "must be a WeChat openid: 6 to 64 of A-Z a-z 0-9 _ -");
            }
            return {};
        case NotifyChannel::kWebhook:
            if (!(address.starts_with("https://") || address.starts_with("http://")) ||
                address.size() <= 8) {
                return InvalidArgument(std::string(kField), "must be an http:// or https:// URL");
            }
            return {};
    }
    return InvalidArgument(std::string(kField), "unknown channel");
}

// A recipient as asked for, checked field by field. `old_secret`: kept when an update sends none.
Result<NotificationRecipient> RecipientOf(const RecipientRequest& r, std::string_view old_secret) {
    NotificationRecipient out;
    if (r.name.empty() || r.name.size() > kMaxNameBytes || HasControl(r.name)) {
        return InvalidArgument("name", "must be 1 to 64 bytes without control characters");
    }
    out.name = r.name;
    JOULE_TRY(ValidateRecipientRole(r.role, "role"));
    out.role = r.role;
    JOULE_ASSIGN_OR_RETURN(out.channel, ParseNotifyChannel(r.channel, "channel"));
    JOULE_TRY(CheckAddress(out.channel, r.address));
    out.address = r.address;
    JOULE_TRY(ValidateLanguage(r.language, "language"));
    out.language = r.language;
    if (r.kinds.size() > kMaxKinds) {
        return InvalidArgument("kinds", "must list at most 32 kinds");
    }
    for (std::size_t i = 0; i < r.kinds.size(); ++i) {
        const std::string field = "kinds[" + std::to_string(i) + "]";
        if (FindEventKind(r.kinds[i]) == nullptr) {
            return InvalidArgument(field, "is not an event kind");
        }
        if (std::find(r.kinds.begin(), r.kinds.begin() + static_cast<std::ptrdiff_t>(i),
                      r.kinds[i]) != r.kinds.begin() + static_cast<std::ptrdiff_t>(i)) {
            return InvalidArgument(field, "is listed twice");
        }
    }
    out.kinds = r.kinds;
    out.secret = r.secret.empty() ? std::string(old_secret) : r.secret;
    if (out.channel == NotifyChannel::kWebhook) {
        if (out.secret.size() < 16 || out.secret.size() > 256 || HasControl(out.secret)) {
            return InvalidArgument("secret", "a webhook needs a signing secret of 16 to 256 bytes");
        }
    } else if (!r.secret.empty()) {
        return InvalidArgument("secret", "only a webhook has a secret");
    } else {
        out.secret.clear();
    }
    out.enabled = r.enabled;
    return out;
}

std::string RecipientLog(const NotificationRecipient& r) {
    std::string kinds;
    for (const std::string& k : r.kinds) {
        kinds += (kinds.empty() ? "" : ",") + JsonQuote(k);
    }
    return "{\"name\":" + JsonQuote(r.name) + ",\"role\":" + JsonQuote(r.role) +
           ",\"channel\":" + JsonQuote(NotifyChannelName(r.channel)) +
           ",\"address\":" + JsonQuote(r.address) + ",\"language\":" + JsonQuote(r.language) +
           ",\"kinds\":[" + kinds + "],\"enabled\":" + (r.enabled ? "true" : "false") + "}";
}

Status Log(Tx& tx, const Actor& actor, ProjectId project, std::string_view action,
           std::string_view target, std::string detail, Instant now) {
    return tx.InsertOperation(OperationBy(actor, now, project, std::string(action),
                                          std::string(target), std::move(detail)));
}

// The values the templates name, and the same as a JSON object for template-based channels.
struct EventVars {
    TemplateVars vars;
    std::string json;
};

EventVars VarsOf(const NotificationEvent& e, const Zone& zone) {
    EventVars out;
    const auto add = [&](std::string name, std::string value) {
        if (value.empty()) {
            return;
        }
        out.json += (out.json.empty() ? "{" : ",") + JsonQuote(name) + ":" + JsonQuote(value);
        out.vars.emplace_back(std::move(name), std::move(value));
    };
    add("project", e.project_name);
    add("account", e.account_number);
    add("tenant", e.tenant_name);
    if (e.balance_fen) {
        add("balance", FormatScaled(*e.balance_fen, 2));
    }
    if (e.amount_fen) {
        add("amount", FormatScaled(*e.amount_fen, 2));
    }
    add("meter", e.meter_code);
    add("gateway", e.gateway_code);
    add("at",
        date::format("%Y-%m-%d %H:%M", date::floor<std::chrono::minutes>(zone.ToLocal(e.at))));
    out.json += out.json.empty() ? "{}" : "}";
    return out;
}

// The digits of a phone as staff typed it (a leading '+' kept; spaces, dashes, dots and
// brackets dropped).
std::string PhoneDigits(std::string_view phone) {
    std::string out;
    for (const char c : phone) {
        if ((c >= '0' && c <= '9') || (c == '+' && out.empty())) {
            out += c;
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return std::string(phone);  // not a phone: CheckAddress says so
        }
    }
    return out;
}

struct Target {
    int64_t recipient_id = 0;
    std::string name;
    NotifyChannel channel = NotifyChannel::kSms;
    std::string address;
    std::string language;
};

}  // namespace

Result<ExpandResult> NotificationService::ExpandEvents(Instant now) {
    ExpandResult result;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        result = {};
        NotificationTx& n = tx.Notifications();
        JOULE_ASSIGN_OR_RETURN(auto events, n.PendingEvents(options_.expand_batch));
        std::map<int64_t, std::vector<NotificationRecipient>> recipients;
        std::map<std::string, Zone, std::less<>> zones;
        for (const NotificationEvent& e : events) {
            ++result.events;
            if (!e.current) {
                continue;
            }
            auto zone_it = zones.find(e.time_zone);
            if (zone_it == zones.end()) {
                auto loaded = Zone::Load(e.time_zone);
                if (!loaded) {
                    loaded = Zone::Load(kDefaultTimeZone);
                }
                if (!loaded) {
                    return std::unexpected(loaded.error());
                }
                zone_it = zones.emplace(e.time_zone, *loaded).first;
            }
            const Zone& zone = zone_it->second;
            auto rec_it = recipients.find(e.project.value);
            if (rec_it == recipients.end()) {
                JOULE_ASSIGN_OR_RETURN(auto list, n.ListRecipients(e.project));
                rec_it = recipients.emplace(e.project.value, std::move(list)).first;
            }
            const EventKindInfo* info = FindEventKind(e.kind);
            const bool urgent = info != nullptr && info->urgent;
            std::vector<Target> targets;
            if (info != nullptr && info->audience == Audience::kTenant && e.account.value != 0 &&
                !e.phone.empty() && options_.configured.contains(NotifyChannel::kSms)) {
                // Phones are typed by staff: "138 0013 8000" and "138-0013-8000" are numbers too.
                // One that is still no number is logged as failed, saying so.
                targets.push_back(
                    Target{0, e.tenant_name, NotifyChannel::kSms, PhoneDigits(e.phone), "zh-CN"});
            }
            for (const NotificationRecipient& r : rec_it->second) {
                if (r.enabled && RoleHears(r.role, r.kinds, e.kind)) {
                    targets.push_back(Target{r.id, r.name, r.channel, r.address, r.language});
                }
            }
            if (targets.empty()) {
                continue;
            }
            const EventVars vars = VarsOf(e, zone);
            const std::string event_key = e.source + ":" + std::to_string(e.source_id);
            const std::string subject = !e.account_number.empty() ? e.account_number
                                        : !e.meter_code.empty()   ? e.meter_code
                                                                  : e.gateway_code;
            for (const Target& t : targets) {
                DeliveryRecord d;
                d.project = e.project;
                d.event = event_key;
                d.kind = e.kind;
                d.subject = subject;
                d.recipient_id = t.recipient_id;
                d.recipient_name = t.name;
                d.channel = t.channel;
                d.address = t.address;
                d.language = t.language;
                NotificationText text = RenderNotification(e.kind, t.language, vars.vars);
                d.title = std::move(text.title);
                d.body = std::move(text.body);
                d.vars = vars.json;
                d.created_at = now;
                d.next_attempt_at = now;
                if (!options_.configured.contains(t.channel)) {
                    d.state = DeliveryState::kFailed;
                    d.error = std::string(NotifyChannelName(t.channel)) +
                              " is not configured on this server";
                    d.finished_at = now;
                } else if (t.recipient_id == 0 && !CheckAddress(t.channel, t.address)) {
                    d.state = DeliveryState::kFailed;
                    d.error = "the account's phone is not a number: " + e.phone;
                    d.finished_at = now;
                } else if (t.channel != NotifyChannel::kWebhook) {
                    // Limits and quiet hours spare people; a webhook is a system, told at once.
                    JOULE_ASSIGN_OR_RETURN(
                        int64_t recent,
                        n.CountDeliveriesSince(t.channel, t.address, now - kRateWindow,
                                               options_.per_address_per_hour));
                    if (recent >= options_.per_address_per_hour) {
                        d.state = DeliveryState::kSuppressed;
                        d.error = "rate limit: " + std::to_string(options_.per_address_per_hour) +
                                  " an hour to one address";
                        d.finished_at = now;
                    } else if (!urgent) {
                        if (auto until = QuietUntil(options_.quiet, zone, now)) {
                            d.next_attempt_at = *until;
                        }
                    }
                }
                JOULE_ASSIGN_OR_RETURN(bool inserted, n.InsertDelivery(d));
                if (inserted) {
                    ++result.deliveries;
                    if (d.state == DeliveryState::kSuppressed) {
                        ++result.suppressed;
                    }
                }
            }
        }
        return n.MarkEventsNotified(events, now);
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    return result;
}

Result<DeliverResult> NotificationService::DeliverDue(NotifyChannel channel,
                                                      NotificationSender& sender, Instant now,
                                                      int limit) {
    std::vector<DeliveryRecord> due;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(
            due, tx.Notifications().ClaimDueDeliveries(channel, now, now + options_.lease, limit));
        return {};
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    DeliverResult result;
    if (due.empty()) {
        return result;
    }  // An unreachable provider ends the round; an unreachable webhook only its own address's.
    bool unreachable = false;
    std::set<std::string, std::less<>> dead_addresses;
    for (DeliveryRecord& d : due) {
        if (unreachable || dead_addresses.contains(d.address)) {
            // Untried: the claim's attempt is given back, and the provider gets a pause.
            --d.attempts;
            d.next_attempt_at = now + RetryDelay(0);
            ++result.released;
            continue;
        }
        if (d.attempts > kMaxDeliveryAttempts) {
            // Claimed again and again without a result: the sender died on it each time.
            d.state = DeliveryState::kFailed;
            d.error = "given up: the sender stopped while sending it, " +
                      std::to_string(kMaxDeliveryAttempts) + " times";
            d.finished_at = now;
            ++result.failed;
            continue;
        }
        if (d.kind == kVerificationCodeKind && now >= d.created_at + kCodeLifetime) {
            // Useless once the code has expired: the tenant asks for a new one.
            d.state = DeliveryState::kFailed;
            d.error = "the code expired before it could be sent";
            d.finished_at = now;
            ++result.failed;
            continue;
        }
        const Status sent = sender.Send(d);  // the claim counted the attempt
        if (sent) {
            d.state = DeliveryState::kSent;
            d.error.clear();
            d.finished_at = now;
            ++result.sent;
            continue;
        }
        d.error = sent.error().message;
        // The provider refused this message for good (a number it rejects, no template for the
        // kind): trying again would only fail again.
        const bool refused = sent.error().code == ErrorCode::kInvalidArgument ||
                             sent.error().code == ErrorCode::kFailedPrecondition;
        if (refused || d.attempts >= kMaxDeliveryAttempts) {
            d.state = DeliveryState::kFailed;
            d.finished_at = now;
            ++result.failed;
        } else {
            d.next_attempt_at = now + RetryDelay(d.attempts);
            ++result.retried;
        }
        if (sent.error().code == ErrorCode::kUnavailable) {
            if (channel == NotifyChannel::kWebhook) {
                dead_addresses.insert(d.address);
            } else {
                unreachable = true;
            }
        }
    }
    for (DeliveryRecord& d : due) {
        // A code is kept only while it may still be sent [PAY-1].
        if (d.kind == kVerificationCodeKind && d.state != DeliveryState::kQueued) {
            d.body = RedactCodes(d.body);
            d.vars = RedactCodes(d.vars);
        }
    }
    const Status recorded = store_.RunCommitted([&](Tx& tx) -> Status {
        for (const DeliveryRecord& d : due) {
            JOULE_TRY(tx.Notifications().UpdateDelivery(d));
        }
        return {};
    });
    if (!recorded) {
        return std::unexpected(recorded.error());
    }
    return result;
}

Result<std::vector<NotificationRecipient>> NotificationService::ListRecipients(
    std::string_view project_code) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    return tx->Notifications().ListRecipients(project.id);
}

Result<NotificationRecipient> NotificationService::AddRecipient(const RecipientRequest& r,
                                                                const Actor& actor, Instant now) {
    JOULE_ASSIGN_OR_RETURN(NotificationRecipient recipient, RecipientOf(r, ""));
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(tx, r.project_code));
        recipient.project = project.id;
        recipient.created_at = now;
        JOULE_ASSIGN_OR_RETURN(recipient.id, tx.Notifications().InsertRecipient(recipient));
        return Log(tx, actor, project.id, "notify.recipient_add", std::to_string(recipient.id),
                   RecipientLog(recipient), now);
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    return recipient;
}

Result<NotificationRecipient> NotificationService::UpdateRecipient(int64_t id,
                                                                   const RecipientRequest& r,
                                                                   const Actor& actor,
                                                                   Instant now) {
    NotificationRecipient recipient;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(tx, r.project_code));
        JOULE_ASSIGN_OR_RETURN(auto old, tx.Notifications().GetRecipient(id));
        if (!old || old->project != project.id) {
            return MakeError(ErrorCode::kNotFound, "no such recipient in this project", "id");
        }
        JOULE_ASSIGN_OR_RETURN(recipient, RecipientOf(r, old->secret));
        recipient.id = id;
        recipient.project = project.id;
        recipient.created_at = old->created_at;
        JOULE_TRY(tx.Notifications().UpdateRecipient(recipient));
        return Log(
            tx, actor, project.id, "notify.recipient_update", std::to_string(id),
            "{\"before\":" + RecipientLog(*old) + ",\"after\":" + RecipientLog(recipient) + "}",
            now);
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    return recipient;
}

Status NotificationService::DeleteRecipient(std::string_view project_code, int64_t id,
                                            const Actor& actor, Instant now) {
    return store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(tx, project_code));
        JOULE_ASSIGN_OR_RETURN(auto old, tx.Notifications().GetRecipient(id));
        if (!old || old->project != project.id) {
            return MakeError(ErrorCode::kNotFound, "no such recipient in this project", "id");
        }
        JOULE_TRY(tx.Notifications().DeleteRecipient(id));
        return Log(tx, actor, project.id, "notify.recipient_delete", std::to_string(id),
                   RecipientLog(*old), now);
    });
}

Result<std::vector<DeliveryRecord>> NotificationService::ListDeliveries(
    std::string_view project_code, DeliveryQuery query) {
    JOULE_ASSIGN_OR_RETURN(auto tx, store_.BeginRead());
    JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(*tx, project_code));
    query.project = project.id;
    query.limit = std::clamp<int64_t>(query.limit, 1, 500);
    return tx->Notifications().ListDeliveries(query);
}

Result<DeliveryRecord> NotificationService::RetryDelivery(std::string_view project_code, int64_t id,
                                                          const Actor& actor, Instant now) {
    DeliveryRecord delivery;
    const Status committed = store_.RunCommitted([&](Tx& tx) -> Status {
        JOULE_ASSIGN_OR_RETURN(ProjectRecord project, RequireProject(tx, project_code));
        JOULE_ASSIGN_OR_RETURN(auto found, tx.Notifications().GetDelivery(id));
        if (!found || found->project != project.id) {
            return MakeError(ErrorCode::kNotFound, "no such delivery in this project", "id");
        }
        if (found->state != DeliveryState::kFailed && found->state != DeliveryState::kSuppressed) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             "only a failed or suppressed delivery can be sent again", "id");
        }
        if (found->kind == kVerificationCodeKind) {
            return MakeError(ErrorCode::kFailedPrecondition,
                             "a code is never sent again: the tenant asks for a new one", "id");
        }
        if (!options_.configured.contains(found->channel)) {
            // Queued on a channel no thread sends, it would wait for ever.
            return MakeError(ErrorCode::kFailedPrecondition,
                             std::string(NotifyChannelName(found->channel)) +
                                 " is not configured on this server",
                             "delivery");
        }
        delivery = *found;
        delivery.state = DeliveryState::kQueued;
        delivery.attempts = 0;
        delivery.next_attempt_at = now;
        delivery.error.clear();
        delivery.finished_at.reset();
        JOULE_TRY(tx.Notifications().UpdateDelivery(delivery));
        return Log(tx, actor, project.id, "notify.delivery_retry", std::to_string(id),
                   "{\"channel\":" + JsonQuote(NotifyChannelName(delivery.channel)) +
                       ",\"address\":" + JsonQuote(delivery.address) + "}",
                   now);
    });
    if (!committed) {
        return std::unexpected(committed.error());
    }
    return delivery;
}

}  // namespace joule
