// Internal to the SQLite adapter: the notification records of a unit of work
// (core/notification_ports.hpp), on the unit's connection and statement cache.
#pragma once

#include "core/notification_ports.hpp"
#include "storage/sqlite_query.hpp"

namespace joule::storage::sqlite {

class SqliteNotifications final : public NotificationTx {
public:
    SqliteNotifications(sqlite3* db, StatementCache& statements)
        : db_(db), statements_(statements) {}

    Result<std::vector<NotificationEvent>> PendingEvents(int limit) override;
    Status MarkEventsNotified(const std::vector<NotificationEvent>& events, Instant at) override;
    Result<std::vector<NotificationRecipient>> ListRecipients(ProjectId project) override;
    Result<std::optional<NotificationRecipient>> GetRecipient(int64_t id) override;
    Result<int64_t> InsertRecipient(const NotificationRecipient& r) override;
    Status UpdateRecipient(const NotificationRecipient& r) override;
    Status DeleteRecipient(int64_t id) override;
    Result<int64_t> CountDeliveriesSince(NotifyChannel channel, std::string_view address,
                                         Instant since, int64_t at_most) override;
    Result<bool> InsertDelivery(const DeliveryRecord& d) override;
    Result<std::vector<DeliveryRecord>> ClaimDueDeliveries(NotifyChannel channel, Instant now,
                                                           Instant lease_until, int limit) override;
    Status UpdateDelivery(const DeliveryRecord& d) override;
    Result<std::vector<DeliveryRecord>> ListDeliveries(const DeliveryQuery& q) override;
    Result<std::optional<DeliveryRecord>> GetDelivery(int64_t id) override;

private:
    Query Q(const char* sql) { return CachedQuery(db_, statements_, sql); }

    sqlite3* db_;
    StatementCache& statements_;
};

}  // namespace joule::storage::sqlite
