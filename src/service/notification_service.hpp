// Notifications [ALM-2, ALM-3, ALM-4]: turns what happened (alarms newly raised, notices in the
// outbox) into deliveries for the tenant and the staff who hear of it, then hands the deliveries
// to their channels, at least once, with retries.
//
// Expanding is one unit of work per batch: the deliveries are written and the events marked told
// together, and a delivery is unique per event, channel and address, so no event is told twice
// to anyone. Sending is per channel: each channel claims its own due deliveries (leased, so a
// crash between sending and recording sends again later rather than never), so a channel that
// fails or hangs never holds up the others.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/notification.hpp"
#include "core/notification_ports.hpp"
#include "core/ports.hpp"
#include "service/requests.hpp"

namespace joule {

struct NotifyOptions {
    QuietHours quiet;                    // people's channels wait for their end; webhooks don't
    int64_t per_address_per_hour = 30;   // more to one person in an hour are suppressed
                                         // (webhooks are systems: never limited)
    std::set<NotifyChannel> configured;  // channels this server can send on
    int expand_batch = 500;              // events per unit of work
    Seconds lease{600};                  // how long a claimed delivery is held
};

struct RecipientRequest {
    std::string project_code;
    std::string name;
    std::string role;
    std::string channel;
    std::string address;
    std::string language = "zh-CN";
    std::vector<std::string> kinds;
    std::string secret;  // webhooks: 16..256 bytes; on update, empty keeps the old one
    bool enabled = true;
};

struct ExpandResult {
    int64_t events = 0;
    int64_t deliveries = 0;
    int64_t suppressed = 0;
};

struct DeliverResult {
    int64_t sent = 0;
    int64_t retried = 0;   // failed this time, tried again later
    int64_t failed = 0;    // given up
    int64_t released = 0;  // not tried: the channel's provider was unreachable
};

class NotificationService {
public:
    NotificationService(Store& store, NotifyOptions options)
        : store_(store), options_(std::move(options)) {}

    // Turns up to a batch of pending events into deliveries; call until `events` is 0.
    [[nodiscard]] Result<ExpandResult> ExpandEvents(Instant now);

    // Claims up to `limit` of `channel`'s due deliveries and sends them one by one with `sender`.
    // A sent one is done; a failed one is tried again after RetryDelay() and given up after
    // kMaxDeliveryAttempts; one the provider refuses for good (kInvalidArgument,
    // kFailedPrecondition) fails at once. The first kUnavailable (the provider cannot be reached)
    // ends the round: the rest are released untried, so a dead provider costs one timeout per
    // round.
    [[nodiscard]] Result<DeliverResult> DeliverDue(NotifyChannel channel,
                                                   NotificationSender& sender, Instant now,
                                                   int limit = 50);

    // Staff recipients of a project. Errors name the field: kInvalidArgument for the form,
    // kNotFound for the project or recipient.
    [[nodiscard]] Result<std::vector<NotificationRecipient>> ListRecipients(
        std::string_view project_code);
    [[nodiscard]] Result<NotificationRecipient> AddRecipient(const RecipientRequest& r,
                                                             const Actor& actor, Instant now);
    [[nodiscard]] Result<NotificationRecipient> UpdateRecipient(int64_t id,
                                                                const RecipientRequest& r,
                                                                const Actor& actor, Instant now);
    [[nodiscard]] Status DeleteRecipient(std::string_view project_code, int64_t id,
                                         const Actor& actor, Instant now);

    // The delivery log, newest first.
    [[nodiscard]] Result<std::vector<DeliveryRecord>> ListDeliveries(std::string_view project_code,
                                                                     DeliveryQuery query);
    // A failed or suppressed delivery queued again now, with its attempts reset (staff fixed the
    // address or the provider). kFailedPrecondition for one queued or sent, or one on a channel
    // not in `configured` (nothing would ever send it).
    [[nodiscard]] Result<DeliveryRecord> RetryDelivery(std::string_view project_code, int64_t id,
                                                       const Actor& actor, Instant now);

private:
    Store& store_;
    NotifyOptions options_;
};

}  // namespace joule
