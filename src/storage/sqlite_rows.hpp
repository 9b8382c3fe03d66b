// Internal to the SQLite adapter: rows read the same way by more than one unit of work's part
// (the billing store and the tenants' reads of one account), each with the columns it expects.
#pragma once

#include "core/ledger.hpp"
#include "core/ports.hpp"
#include "storage/sqlite_query.hpp"

namespace joule::storage::sqlite {

// A transfer from "id, debit_id, credit_id, amount, code, ref, actor, at".
inline Transfer TransferRow(const Query& q) {
    return Transfer{q.ColText(0),
                    {q.ColInt(1)},
                    {q.ColInt(2)},
                    {q.ColInt(3)},
                    static_cast<TransferCode>(q.ColInt(4)),
                    q.ColText(5),
                    q.ColText(6),
                    At(q.ColInt(7))};
}

// An alarm from kAlarmColumns (followed by the WHERE clause).
inline constexpr const char* kAlarmColumns =
    "SELECT id, project_id, account_id, meter_id, kind, open, raised_at, cleared_at, detail, "
    "gateway_id, acknowledged_at, acknowledged_by, notified_at FROM alarms ";
inline AlarmRecord AlarmRow(const Query& q) {
    AlarmRecord a;
    a.id = q.ColInt(0);
    a.project = {q.ColInt(1)};
    a.account = {q.ColInt(2)};
    a.meter = {q.ColInt(3)};
    a.kind = static_cast<AlarmKind>(q.ColInt(4));
    a.open = q.ColInt(5) != 0;
    a.raised_at = At(q.ColInt(6));
    if (auto c = q.ColOptInt(7)) {
        a.cleared_at = At(*c);
    }
    a.detail = q.ColText(8);
    a.gateway = {q.ColInt(9)};
    if (auto ack = q.ColOptInt(10)) {
        a.acknowledged_at = At(*ack);
    }
    a.acknowledged_by = q.ColText(11);
    if (auto notified = q.ColOptInt(12)) {
        a.notified_at = At(*notified);
    }
    return a;
}

}  // namespace joule::storage::sqlite
