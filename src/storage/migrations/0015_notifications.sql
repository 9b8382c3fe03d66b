-- Notifications (issue 6) [ALM-2, ALM-3]. Events come from two places written in the same
-- transaction as what caused them: alarms (notified_at NULL until turned into deliveries) and the
-- outbox's notices (delivered_at NULL until then). Each delivery is one message on one channel to
-- one address, unique per event, so expanding an event twice sends nothing twice.

ALTER TABLE alarms ADD COLUMN notified_at INTEGER;
-- What was raised before notifications existed is history, not news.
UPDATE alarms SET notified_at = raised_at;
UPDATE outbox SET delivered_at = created_at WHERE delivered_at IS NULL;
CREATE INDEX alarms_unnotified ON alarms(id) WHERE notified_at IS NULL;
CREATE INDEX outbox_undelivered ON outbox(seq) WHERE delivered_at IS NULL;

-- Staff (or systems, by webhook) told of a project's events; tenants are told through their
-- account's phone.
CREATE TABLE notification_recipients (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    channel INTEGER NOT NULL,      -- NotifyChannel: 1 email, 2 sms, 3 wechat, 4 webhook
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    kinds TEXT NOT NULL,           -- comma-separated event kinds; '' = those of the role
    secret TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX notification_recipients_project ON notification_recipients(project_id, id);

CREATE TABLE notification_deliveries (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    event TEXT NOT NULL,           -- "alarm:<id>" or "notice:<outbox seq>"
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    recipient_id INTEGER NOT NULL, -- 0: the account's tenant
    recipient_name TEXT NOT NULL,
    channel INTEGER NOT NULL,
    address TEXT NOT NULL,
    language TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    vars TEXT NOT NULL,
    state INTEGER NOT NULL,        -- DeliveryState: 0 queued, 1 sent, 2 failed, 3 suppressed
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (event, channel, address)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(channel, next_attempt_at)
    WHERE state = 0;
CREATE INDEX notification_deliveries_project ON notification_deliveries(project_id, id);
CREATE INDEX notification_deliveries_address ON notification_deliveries(address, created_at);
