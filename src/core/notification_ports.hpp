// The notification records the store keeps [ALM-3]: staff recipients, the events waiting to be
// told (alarms not yet notified, notices in the outbox) and every delivery, with its state. Part
// of a unit of work (Tx::Notifications()), so turning events into deliveries happens once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "core/ids.hpp"
#include "core/notification.hpp"
#include "core/time.hpp"

namespace joule {

// A member of staff (or a system, through a webhook) told of a project's events.
struct NotificationRecipient {
    int64_t id = 0;
    ProjectId project;
    std::string name;
    std::string role;  // engineering, finance, management (core/notification.hpp)
    NotifyChannel channel = NotifyChannel::kEmail;
    std::string address;  // an email address, a phone number, a WeChat openid or a URL
    std::string language = "zh-CN";
    std::vector<std::string> kinds;  // the event kinds it hears of; empty: those of its role
    std::string secret;              // a webhook's HMAC key; never shown back
    bool enabled = true;
    Instant created_at;
};

// Something somebody may need to hear of: an alarm newly raised (source "alarm", its id) or a
// notice from the outbox (source "notice", its sequence number), with what the words name.
struct NotificationEvent {
    std::string source;
    int64_t source_id = 0;
    ProjectId project;
    std::string project_name;
    std::string time_zone;
    std::string kind;
    AccountId account;  // invalid for a gateway's alarm
    std::string account_number;
    std::string tenant_name;
    std::string phone;
    std::string meter_code;
    std::string gateway_code;
    Instant at;
    std::string detail;                  // the alarm's detail or the notice's payload (JSON)
    std::optional<int64_t> balance_fen;  // what the balance was, when the event says
    std::optional<int64_t> amount_fen;   // a top-up's amount
    // False for an alarm cleared before it was told, or an outbox row that is no notice: it is
    // marked done and told to no one.
    bool current = true;
};

// stored: never renumber.
enum class DeliveryState : uint8_t {
    kQueued = 0,      // waiting for its time (first try, retry, or the end of quiet hours)
    kSent = 1,        // the channel took it
    kFailed = 2,      // given up: attempts exhausted, or the channel is not configured
    kSuppressed = 3,  // not sent: the recipient's rate limit
};
[[nodiscard]] std::string_view DeliveryStateName(DeliveryState state);
[[nodiscard]] Result<DeliveryState> ParseDeliveryState(std::string_view name,
                                                       std::string_view field);

struct DeliveryRecord {
    int64_t id = 0;
    ProjectId project;
    std::string event;  // "alarm:12", "notice:40": one delivery per event, channel and address
    std::string kind;
    std::string subject;       // the account number, or the meter or gateway code
    int64_t recipient_id = 0;  // 0: the account's tenant
    std::string recipient_name;
    NotifyChannel channel = NotifyChannel::kSms;
    std::string address;
    std::string language;
    std::string title;
    std::string body;
    std::string vars;    // the template's values as a JSON object (SMS and WeChat templates)
    std::string secret;  // a webhook's HMAC key (not stored with the delivery: its recipient's)
    DeliveryState state = DeliveryState::kQueued;
    int32_t attempts = 0;
    Instant next_attempt_at;
    std::string error;
    Instant created_at;
    std::optional<Instant> finished_at;
};

struct DeliveryQuery {
    ProjectId project;
    std::optional<DeliveryState> state;
    std::optional<NotifyChannel> channel;
    std::string kind;
    std::string search;     // a substring of the address, the subject or the recipient's name
    int64_t before_id = 0;  // newest first; 0: from the newest
    int64_t limit = 100;
};

class NotificationTx {
public:
    virtual ~NotificationTx() = default;
    // Alarms raised and not yet notified, then outbox notices not yet delivered, oldest first.
    virtual Result<std::vector<NotificationEvent>> PendingEvents(int limit) = 0;
    // The events were turned into deliveries (alarms: raised -> notified [ALM-2]).
    virtual Status MarkEventsNotified(const std::vector<NotificationEvent>& events, Instant at) = 0;

    virtual Result<std::vector<NotificationRecipient>> ListRecipients(ProjectId project) = 0;
    virtual Result<std::optional<NotificationRecipient>> GetRecipient(int64_t id) = 0;
    virtual Result<int64_t> InsertRecipient(const NotificationRecipient& r) = 0;
    virtual Status UpdateRecipient(const NotificationRecipient& r) = 0;
    virtual Status DeleteRecipient(int64_t id) = 0;  // Deliveries on `channel` to `address` made
                                                     // since `since`, queued or sent (rate limits),
    // counted up to `at_most` (so the count costs no more than the limit it is checked against).
    virtual Result<int64_t> CountDeliveriesSince(NotifyChannel channel, std::string_view address,
                                                 Instant since, int64_t at_most) = 0;
    // False (and nothing written) when the event already has a delivery on that channel and
    // address.
    virtual Result<bool> InsertDelivery(const DeliveryRecord& d) = 0;
    // Queued deliveries of `channel` due at `now`, oldest first, each leased until `lease_until` //
    // (its next attempt moves there) with the attempt counted, so a crash between sending and
    // recording retries it then, and a message that crashes the sender runs out of attempts.
    // The webhook secret comes with each.
    virtual Result<std::vector<DeliveryRecord>> ClaimDueDeliveries(NotifyChannel channel,
                                                                   Instant now, Instant lease_until,
                                                                   int limit) = 0;
    // Saves state, attempts, next attempt, error, finish time, and the words (body and vars: a
    // code's are redacted once it is done with).
    virtual Status UpdateDelivery(const DeliveryRecord& d) = 0;
    virtual Result<std::vector<DeliveryRecord>> ListDeliveries(const DeliveryQuery& q) = 0;
    virtual Result<std::optional<DeliveryRecord>> GetDelivery(int64_t id) = 0;
};

// A channel (src/notify): hands one message to its provider. An error is tried again later, so a
// sender must not itself retry for long; it must not block beyond its own timeout.
class NotificationSender {
public:
    virtual ~NotificationSender() = default;
    virtual Status Send(const DeliveryRecord& d) = 0;
};

}  // namespace joule
