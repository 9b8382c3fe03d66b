#include "storage/sqlite_notifications.hpp"

#include <string>

#include "core/prepaid.hpp"

namespace joule::storage::sqlite {

namespace {

std::string JoinKinds(const std::vector<std::string>& kinds) {
    std::string out;
    for (const std::string& k : kinds) {
        if (!out.empty()) {
            out += ',';
        }
        out += k;
    }
    return out;
}

std::vector<std::string> SplitKinds(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        out.emplace_back(text.substr(0, comma));
        if (comma == std::string_view::npos) {
            break;
        }
        text.remove_prefix(comma + 1);
    }
    return out;
}

constexpr const char* kRecipientColumns =
    "SELECT id, project_id, name, role, channel, address, language, kinds, secret, enabled, "
    "created_at FROM notification_recipients ";

NotificationRecipient RecipientRow(const Query& q) {
    NotificationRecipient r;
    r.id = q.ColInt(0);
    r.project = {q.ColInt(1)};
    r.name = q.ColText(2);
    r.role = q.ColText(3);
    r.channel = static_cast<NotifyChannel>(q.ColInt(4));
    r.address = q.ColText(5);
    r.language = q.ColText(6);
    r.kinds = SplitKinds(q.ColText(7));
    r.secret = q.ColText(8);
    r.enabled = q.ColInt(9) != 0;
    r.created_at = At(q.ColInt(10));
    return r;
}

// The recipient's secret comes last, for the webhook channel.
constexpr const char* kDeliveryColumns =
    "SELECT d.id, d.project_id, d.event, d.kind, d.subject, d.recipient_id, d.recipient_name, "
    "d.channel, d.address, d.language, d.title, d.body, d.vars, d.state, d.attempts, "
    "d.next_attempt_at, d.error, d.created_at, d.finished_at, COALESCE(r.secret, '') "
    "FROM notification_deliveries d LEFT JOIN notification_recipients r ON r.id = "
    "d.recipient_id ";

DeliveryRecord DeliveryRow(const Query& q) {
    DeliveryRecord d;
    d.id = q.ColInt(0);
    d.project = {q.ColInt(1)};
    d.event = q.ColText(2);
    d.kind = q.ColText(3);
    d.subject = q.ColText(4);
    d.recipient_id = q.ColInt(5);
    d.recipient_name = q.ColText(6);
    d.channel = static_cast<NotifyChannel>(q.ColInt(7));
    d.address = q.ColText(8);
    d.language = q.ColText(9);
    d.title = q.ColText(10);
    d.body = q.ColText(11);
    d.vars = q.ColText(12);
    d.state = static_cast<DeliveryState>(q.ColInt(13));
    d.attempts = static_cast<int32_t>(q.ColInt(14));
    d.next_attempt_at = At(q.ColInt(15));
    d.error = q.ColText(16);
    d.created_at = At(q.ColInt(17));
    if (auto f = q.ColOptInt(18)) {
        d.finished_at = At(*f);
    }
    d.secret = q.ColText(19);
    return d;
}

}  // namespace

Result<std::vector<NotificationEvent>> SqliteNotifications::PendingEvents(int limit) {
    auto alarms =
        Q("SELECT a.id, a.project_id, p.name, p.time_zone, a.kind, a.account_id, "
          "COALESCE(ac.number, ''), COALESCE(ac.tenant_name, ''), COALESCE(ac.phone, ''), "
          "COALESCE(m.code, ''), COALESCE(g.code, ''), a.raised_at, a.detail, a.open, "
          "CASE WHEN json_valid(a.detail) THEN CAST(json_extract(a.detail, '$.balance') AS "
          "INTEGER) END "
          "FROM alarms a JOIN projects p ON p.id = a.project_id "
          "LEFT JOIN accounts ac ON ac.id = a.account_id "
          "LEFT JOIN meters m ON m.id = a.meter_id "
          "LEFT JOIN gateways g ON g.id = a.gateway_id "
          "WHERE a.notified_at IS NULL ORDER BY a.id LIMIT ?");
    alarms.Int(limit);
    JOULE_ASSIGN_OR_RETURN(auto events, CollectRows(alarms, [](const Query& q) {
                               NotificationEvent e;
                               e.source = "alarm";
                               e.source_id = q.ColInt(0);
                               e.project = {q.ColInt(1)};
                               e.project_name = q.ColText(2);
                               e.time_zone = q.ColText(3);
                               e.kind =
                                   std::string(AlarmKindName(static_cast<AlarmKind>(q.ColInt(4))));
                               e.account = {q.ColInt(5)};
                               e.account_number = q.ColText(6);
                               e.tenant_name = q.ColText(7);
                               e.phone = q.ColText(8);
                               e.meter_code = q.ColText(9);
                               e.gateway_code = q.ColText(10);
                               e.at = At(q.ColInt(11));
                               e.detail = q.ColText(12);
                               e.current = q.ColInt(13) != 0;
                               e.balance_fen = q.ColOptInt(14);
                               return e;
                           }));
    const int left = limit - static_cast<int>(events.size());
    if (left <= 0) {
        return events;
    }
    // Notices name their account by id; anything else in the outbox is no one's news.
    auto notices =
        Q("SELECT o.seq, o.topic, o.payload, o.created_at, COALESCE(ac.id, 0), "
          "COALESCE(ac.project_id, 0), COALESCE(p.name, ''), COALESCE(p.time_zone, ''), "
          "COALESCE(ac.number, ''), COALESCE(ac.tenant_name, ''), COALESCE(ac.phone, ''), "
          "COALESCE(CASE WHEN json_valid(o.payload) THEN json_extract(o.payload, '$.kind') END, "
          "''), "
          "CASE WHEN json_valid(o.payload) THEN json_extract(o.payload, '$.balance_fen') END, "
          "CASE WHEN json_valid(o.payload) THEN json_extract(o.payload, '$.amount_fen') END "
          "FROM outbox o "
          "LEFT JOIN accounts ac ON o.topic = 'notice' AND "
          "ac.id = CASE WHEN json_valid(o.payload) THEN json_extract(o.payload, '$.account_id') "
          "END "
          "LEFT JOIN projects p ON p.id = ac.project_id "
          "WHERE o.delivered_at IS NULL ORDER BY o.seq LIMIT ?");
    notices.Int(left);
    while (true) {
        JOULE_ASSIGN_OR_RETURN(bool more, notices.Step());
        if (!more) {
            break;
        }
        NotificationEvent e;
        e.source = "notice";
        e.source_id = notices.ColInt(0);
        e.detail = notices.ColText(2);
        e.at = At(notices.ColInt(3));
        e.account = {notices.ColInt(4)};
        e.project = {notices.ColInt(5)};
        e.project_name = notices.ColText(6);
        e.time_zone = notices.ColText(7);
        e.account_number = notices.ColText(8);
        e.tenant_name = notices.ColText(9);
        e.phone = notices.ColText(10);
        e.kind = notices.ColText(11);
        e.balance_fen = notices.ColOptInt(12);
        e.amount_fen = notices.ColOptInt(13);
        e.current = notices.ColText(1) == "notice" && e.account.value != 0 && !e.kind.empty();
        events.push_back(std::move(e));
    }
    return events;
}

Status SqliteNotifications::MarkEventsNotified(const std::vector<NotificationEvent>& events,
                                               Instant at) {
    for (const NotificationEvent& e : events) {
        if (e.source == "alarm") {
            auto q = Q("UPDATE alarms SET notified_at = ? WHERE id = ?");
            JOULE_TRY(q.Int(Secs(at)).Int(e.source_id).Run());
        } else {
            auto q = Q("UPDATE outbox SET delivered_at = ? WHERE seq = ?");
            JOULE_TRY(q.Int(Secs(at)).Int(e.source_id).Run());
        }
    }
    return {};
}

Result<std::vector<NotificationRecipient>> SqliteNotifications::ListRecipients(ProjectId project) {
    static const std::string kSql =
        std::string(kRecipientColumns) + "WHERE project_id = ? ORDER BY id";
    auto q = Q(kSql.c_str());
    q.Int(project.value);
    return CollectRows(q, RecipientRow);
}

Result<std::optional<NotificationRecipient>> SqliteNotifications::GetRecipient(int64_t id) {
    static const std::string kSql = std::string(kRecipientColumns) + "WHERE id = ?";
    auto q = Q(kSql.c_str());
    q.Int(id);
    return FirstRow(q, RecipientRow);
}

Result<int64_t> SqliteNotifications::InsertRecipient(const NotificationRecipient& r) {
    auto q =
        Q("INSERT INTO notification_recipients(project_id, name, role, channel, address, language, "
          "kinds, secret, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    JOULE_TRY(q.Int(r.project.value)
                  .Text(r.name)
                  .Text(r.role)
                  .Int(static_cast<int64_t>(r.channel))
                  .Text(r.address)
                  .Text(r.language)
                  .Text(JoinKinds(r.kinds))
                  .Text(r.secret)
                  .Int(r.enabled ? 1 : 0)
                  .Int(Secs(r.created_at))
                  .Run());
    return sqlite3_last_insert_rowid(db_);
}

Status SqliteNotifications::UpdateRecipient(const NotificationRecipient& r) {
    auto q =
        Q("UPDATE notification_recipients SET name = ?, role = ?, channel = ?, address = ?, "
          "language = ?, kinds = ?, secret = ?, enabled = ? WHERE id = ?");
    return q.Text(r.name)
        .Text(r.role)
        .Int(static_cast<int64_t>(r.channel))
        .Text(r.address)
        .Text(r.language)
        .Text(JoinKinds(r.kinds))
        .Text(r.secret)
        .Int(r.enabled ? 1 : 0)
        .Int(r.id)
        .Run();
}

Status SqliteNotifications::DeleteRecipient(int64_t id) {
    auto q = Q("DELETE FROM notification_recipients WHERE id = ?");
    return q.Int(id).Run();
}

Result<int64_t> SqliteNotifications::CountDeliveriesSince(NotifyChannel channel,
                                                          std::string_view address, Instant since,
                                                          int64_t at_most) {
    auto q =
        Q("SELECT COUNT(*) FROM (SELECT 1 FROM notification_deliveries WHERE address = ? AND "
          "created_at >= ? AND channel = ? AND state IN (0, 1) "
          "AND kind != 'verification_code' LIMIT ?)");
    q.Text(address).Int(Secs(since)).Int(static_cast<int64_t>(channel)).Int(at_most);
    JOULE_ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? q.ColInt(0) : 0;
}

Result<bool> SqliteNotifications::InsertDelivery(const DeliveryRecord& d) {
    auto q =
        Q("INSERT INTO notification_deliveries(project_id, event, kind, subject, recipient_id, "
          "recipient_name, channel, address, language, title, body, vars, state, attempts, "
          "next_attempt_at, error, created_at, finished_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (event, channel, address) DO NOTHING");
    JOULE_TRY(
        q.Int(d.project.value)
            .Text(d.event)
            .Text(d.kind)
            .Text(d.subject)
            .Int(d.recipient_id)
            .Text(d.recipient_name)
            .Int(static_cast<int64_t>(d.channel))
            .Text(d.address)
            .Text(d.language)
            .Text(d.title)
            .Text(d.body)
            .Text(d.vars)
            .Int(static_cast<int64_t>(d.state))
            .Int(d.attempts)
            .Int(Secs(d.next_attempt_at))
            .Text(d.error)
            .Int(Secs(d.created_at))
            .OptInt(d.finished_at ? std::optional<int64_t>(Secs(*d.finished_at)) : std::nullopt)
            .Run());
    return sqlite3_changes(db_) > 0;
}

Result<std::vector<DeliveryRecord>> SqliteNotifications::ClaimDueDeliveries(NotifyChannel channel,
                                                                            Instant now,
                                                                            Instant lease_until,
                                                                            int limit) {
    static const std::string kSql = std::string(kDeliveryColumns) +
                                    "WHERE d.state = 0 AND d.channel = ? AND d.next_attempt_at "
                                    "<= ? ORDER BY d.next_attempt_at, d.id LIMIT ?";
    auto q = Q(kSql.c_str());
    q.Int(static_cast<int64_t>(channel)).Int(Secs(now)).Int(limit);
    JOULE_ASSIGN_OR_RETURN(auto due, CollectRows(q, DeliveryRow));
    for (DeliveryRecord& d : due) {
        auto lease =
            Q("UPDATE notification_deliveries SET next_attempt_at = ?, attempts = attempts + 1 "
              "WHERE id = ?");
        JOULE_TRY(lease.Int(Secs(lease_until)).Int(d.id).Run());
        d.next_attempt_at = lease_until;
        ++d.attempts;
    }
    return due;
}

Status SqliteNotifications::UpdateDelivery(const DeliveryRecord& d) {
    auto q =
        Q("UPDATE notification_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, "
          "error = ?, finished_at = ?, body = ?, vars = ? WHERE id = ?");
    return q.Int(static_cast<int64_t>(d.state))
        .Int(d.attempts)
        .Int(Secs(d.next_attempt_at))
        .Text(d.error)
        .OptInt(d.finished_at ? std::optional<int64_t>(Secs(*d.finished_at)) : std::nullopt)
        .Text(d.body)
        .Text(d.vars)
        .Int(d.id)
        .Run();
}

Result<std::vector<DeliveryRecord>> SqliteNotifications::ListDeliveries(
    const DeliveryQuery& query) {
    static const std::string kSql =
        std::string(kDeliveryColumns) +
        "WHERE d.project_id = ? AND (? < 0 OR d.state = ?) AND (? = 0 OR d.channel = ?) "
        "AND (? = '' OR d.kind = ?) AND (? = '' OR instr(d.address, ?) > 0 OR "
        "instr(d.subject, ?) > 0 OR instr(d.recipient_name, ?) > 0) AND (? = 0 OR d.id < ?) "
        "ORDER BY d.id DESC LIMIT ?";
    auto q = Q(kSql.c_str());
    const int64_t state = query.state ? static_cast<int64_t>(*query.state) : -1;
    const int64_t channel = query.channel ? static_cast<int64_t>(*query.channel) : 0;
    q.Int(query.project.value)
        .Int(state)
        .Int(state)
        .Int(channel)
        .Int(channel)
        .Text(query.kind)
        .Text(query.kind)
        .Text(query.search)
        .Text(query.search)
        .Text(query.search)
        .Text(query.search)
        .Int(query.before_id)
        .Int(query.before_id)
        .Int(query.limit);
    JOULE_ASSIGN_OR_RETURN(auto rows, CollectRows(q, DeliveryRow));
    for (DeliveryRecord& d : rows) {
        d.secret.clear();  // never leaves the dispatcher
    }
    return rows;
}

Result<std::optional<DeliveryRecord>> SqliteNotifications::GetDelivery(int64_t id) {
    static const std::string kSql = std::string(kDeliveryColumns) + "WHERE d.id = ?";
    auto q = Q(kSql.c_str());
    q.Int(id);
    JOULE_ASSIGN_OR_RETURN(auto row, FirstRow(q, DeliveryRow));
    if (row) {
        row->secret.clear();
    }
    return row;
}

}  // namespace joule::storage::sqlite
