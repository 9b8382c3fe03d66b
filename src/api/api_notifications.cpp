// Notifications [ALM-3]: a project's staff recipients, and the delivery log with a resend for
// what failed. Sending is the notifier's (src/app/notifier.cpp); this is what staff see and set.
#include "api/api_internal.hpp"
#include "core/notification.hpp"
#include "core/notification_ports.hpp"
#include "wire/json.hpp"

namespace joule::api {
namespace {

// A webhook's URL often carries a token in its query (a chat robot's access_token): only those
// who may manage recipients see it.
std::string ShownAddress(NotifyChannel channel, const std::string& address, bool manager) {
    if (channel != NotifyChannel::kWebhook || manager) {
        return address;
    }
    const std::size_t query = address.find('?');
    return query == std::string::npos ? address : address.substr(0, query) + "?…";
}

Json RecipientJson(const NotificationRecipient& r, bool manager) {
    return Json{{"id", r.id},
                {"name", r.name},
                {"role", r.role},
                {"channel", NotifyChannelName(r.channel)},
                {"address", ShownAddress(r.channel, r.address, manager)},
                {"language", r.language},
                {"kinds", r.kinds},
                {"has_secret", !r.secret.empty()},  // the secret itself is never shown
                {"enabled", r.enabled},
                {"created_at", FormatInstant(r.created_at)}};
}

Json DeliveryJson(const DeliveryRecord& d, bool manager) {
    return Json{{"id", d.id},
                {"event", d.event},
                {"kind", d.kind},
                {"subject", d.subject},
                {"recipient_id", d.recipient_id},
                {"recipient", d.recipient_id == 0 ? "tenant" : "staff"},
                {"recipient_name", d.recipient_name},
                {"channel", NotifyChannelName(d.channel)},
                {"address", ShownAddress(d.channel, d.address, manager)},
                {"language", d.language},
                {"title", d.title},
                // A code is the tenant's secret: staff see that it went, never the code (it would
                // let them sign in as the tenant).
                {"body", d.kind == kVerificationCodeKind ? RedactCodes(d.body) : d.body},
                {"state", DeliveryStateName(d.state)},
                {"attempts", d.attempts},
                {"next_attempt_at",
                 d.state == DeliveryState::kQueued ? FormatInstant(d.next_attempt_at) : ""},
                {"error", d.error},
                {"created_at", FormatInstant(d.created_at)},
                {"finished_at", d.finished_at ? FormatInstant(*d.finished_at) : ""}};
}

Result<RecipientRequest> RecipientOfBody(const Json& json, std::string project_code) {
    wire::ObjectReader body(json, "");
    RecipientRequest r;
    r.project_code = std::move(project_code);
    JOULE_ASSIGN_OR_RETURN(r.name, body.String("name", 64));
    JOULE_ASSIGN_OR_RETURN(r.role, body.String("role", 32));
    JOULE_ASSIGN_OR_RETURN(r.channel, body.String("channel", 16));
    JOULE_ASSIGN_OR_RETURN(r.address, body.String("address", 2048));
    JOULE_ASSIGN_OR_RETURN(r.language, body.OptString("language", "zh-CN", 8));
    JOULE_ASSIGN_OR_RETURN(const Json* kinds, body.OptArray("kinds", 32));
    if (kinds != nullptr) {
        JOULE_ASSIGN_OR_RETURN(r.kinds, StringList(*kinds, "kinds"));
    }
    JOULE_ASSIGN_OR_RETURN(r.secret, body.OptString("secret", "", 256));
    JOULE_ASSIGN_OR_RETURN(r.enabled, body.OptBool("enabled", true));
    JOULE_TRY(body.Finish());
    return r;
}

}  // namespace

Result<Reply> Api::Impl::ListRecipients(Call& c) {
    JOULE_ASSIGN_OR_RETURN(auto recipients,
                           FromService(notifications.ListRecipients(c.project->code)));
    const bool manager = c.principal.Allows(Permission::kAlarmsManage);
    std::vector<Json> items;
    items.reserve(recipients.size());
    for (const NotificationRecipient& r : recipients) {
        items.push_back(RecipientJson(r, manager));
    }
    JOULE_ASSIGN_OR_RETURN(Json page, Page(std::move(items), c.query, {"name", "created_at"},
                                           {"role", "channel", "enabled"}, {"name", "address"}));
    page["channels"] = options.notify_channels;  // what this server can send on
    return Reply{200, std::move(page), {}};
}

Result<Reply> Api::Impl::CreateRecipient(Call& c) {
    JOULE_ASSIGN_OR_RETURN(RecipientRequest request, RecipientOfBody(c.body, c.project->code));
    JOULE_ASSIGN_OR_RETURN(NotificationRecipient added,
                           FromService(notifications.AddRecipient(request, c.actor(), c.now)));
    return Reply{201, RecipientJson(added, true), {}};
}

Result<Reply> Api::Impl::UpdateRecipient(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t id, PositiveId(c.params.at("recipient"), "recipient"));
    JOULE_ASSIGN_OR_RETURN(RecipientRequest request, RecipientOfBody(c.body, c.project->code));
    JOULE_ASSIGN_OR_RETURN(NotificationRecipient updated, FromService(notifications.UpdateRecipient(
                                                              id, request, c.actor(), c.now)));
    return Reply{200, RecipientJson(updated, true), {}};
}

Result<Reply> Api::Impl::DeleteRecipient(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t id, PositiveId(c.params.at("recipient"), "recipient"));
    JOULE_TRY(FromService(notifications.DeleteRecipient(c.project->code, id, c.actor(), c.now)));
    return Reply{204, nullptr, {}};
}

Result<Reply> Api::Impl::ListDeliveries(Call& c) {
    DeliveryQuery query;
    for (const auto& [key, value] : c.query) {
        if (key == "state") {
            JOULE_ASSIGN_OR_RETURN(query.state, ParseDeliveryState(value, "state"));
        } else if (key == "channel") {
            JOULE_ASSIGN_OR_RETURN(query.channel, ParseNotifyChannel(value, "channel"));
        } else if (key == "kind") {
            if (FindEventKind(value) == nullptr) {
                return InvalidArgument("kind", "is not an event kind");
            }
            query.kind = value;
        } else if (key == "q") {
            if (value.size() > 128) {
                return InvalidArgument("q", "must be at most 128 bytes");
            }
            query.search = value;
        } else if (key == "before") {
            JOULE_ASSIGN_OR_RETURN(query.before_id, PositiveId(value, "before"));
        } else if (key == "limit") {
            JOULE_ASSIGN_OR_RETURN(query.limit, PositiveId(value, "limit"));
            if (query.limit > 500) {
                return InvalidArgument("limit", "must be 1 to 500");
            }
        } else {
            return InvalidArgument(key, "is not a parameter of this list");
        }
    }
    JOULE_ASSIGN_OR_RETURN(auto deliveries,
                           FromService(notifications.ListDeliveries(c.project->code, query)));
    const bool manager = c.principal.Allows(Permission::kAlarmsManage);
    Json items = Json::array();
    for (const DeliveryRecord& d : deliveries) {
        items.push_back(DeliveryJson(d, manager));
    }
    Json out{{"items", std::move(items)}};
    // The next (older) page starts before the last one here; none when this page was not full.
    out["next_before"] =
        static_cast<int64_t>(deliveries.size()) == query.limit && !deliveries.empty()
            ? deliveries.back().id
            : 0;
    return Reply{200, std::move(out), {}};
}

Result<Reply> Api::Impl::RetryDelivery(Call& c) {
    JOULE_ASSIGN_OR_RETURN(int64_t id, PositiveId(c.params.at("delivery"), "delivery"));
    JOULE_ASSIGN_OR_RETURN(DeliveryRecord d, FromService(notifications.RetryDelivery(
                                                 c.project->code, id, c.actor(), c.now)));
    return Reply{200, DeliveryJson(d, true), {}};
}

Result<Reply> Api::Impl::ListEventKinds(Call& /*c*/) {
    Json items = Json::array();
    for (const EventKindInfo& k : EventKinds()) {
        const TemplateVars none;
        items.push_back(Json{{"kind", k.kind},
                             {"audience", k.audience == Audience::kTenant        ? "tenant"
                                          : k.audience == Audience::kEngineering ? "engineering"
                                                                                 : "finance"},
                             {"urgent", k.urgent},
                             {"title_zh", RenderNotification(k.kind, "zh-CN", none).title},
                             {"title_en", RenderNotification(k.kind, "en", none).title}});
    }
    return Reply{200, Json{{"items", std::move(items)}}, {}};
}

}  // namespace joule::api
