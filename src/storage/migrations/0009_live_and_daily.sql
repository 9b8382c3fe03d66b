-- What the live stream (GET /api/v1/projects/{project}/events) announces: one row per change of
-- a meter's link or switch state, an account's state, an alarm, a command's state or a
-- gateway's link. Written by triggers in the unit of work that made the change, so no writer can
-- forget one, and every process that writes the store (joule serve, the CLI) is seen. The stream
-- reads the subject's state when it sends, so a row names only what changed. seq never goes back
-- (AUTOINCREMENT): clients resume from the last seq they saw (Last-Event-ID).
CREATE TABLE live_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,        -- 1 meter, 2 account, 3 alarm, 4 command, 5 gateway
    subject_id INTEGER NOT NULL,  -- the meter, account, alarm, command or gateway id
    at INTEGER NOT NULL           -- when (unix seconds)
);

-- The newest 100,000 changes are kept (the window a reconnecting client can resume from); every
-- thousandth insert drops what fell out of it, so the table needs no job to stay small.
CREATE TRIGGER live_changes_prune AFTER INSERT ON live_changes WHEN new.seq % 1000 = 0
BEGIN
    DELETE FROM live_changes WHERE seq <= new.seq - 100000;
END;

-- Every reading rewrites meter_status; only a change of link or switch state is announced.
CREATE TRIGGER live_meter_insert AFTER INSERT ON meter_status
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    SELECT project_id, 1, id, unixepoch() FROM meters WHERE id = new.meter_id;
END;
CREATE TRIGGER live_meter_update AFTER UPDATE ON meter_status
WHEN old.online <> new.online OR old.relay <> new.relay OR old.valve <> new.valve
  OR old.hold <> new.hold
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    SELECT project_id, 1, id, unixepoch() FROM meters WHERE id = new.meter_id;
END;

-- Billing rewrites the account row on every reading; the balance band, the prepaid and relay
-- state, keep-power and the account's status are what the room tiles show.
CREATE TRIGGER live_account_insert AFTER INSERT ON accounts
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 2, new.id, unixepoch());
END;
CREATE TRIGGER live_account_update AFTER UPDATE ON accounts
WHEN old.status <> new.status OR old.prepaid_state <> new.prepaid_state
  OR old.relay <> new.relay OR old.keep_power <> new.keep_power OR old.band <> new.band
  OR old.forced_trip <> new.forced_trip
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 2, new.id, unixepoch());
END;

CREATE TRIGGER live_alarm_insert AFTER INSERT ON alarms
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 3, new.id, unixepoch());
END;
CREATE TRIGGER live_alarm_update AFTER UPDATE ON alarms
WHEN old.open <> new.open OR old.acknowledged_at IS NOT new.acknowledged_at
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 3, new.id, unixepoch());
END;

CREATE TRIGGER live_command_insert AFTER INSERT ON commands
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 4, new.id, unixepoch());
END;
CREATE TRIGGER live_command_update AFTER UPDATE ON commands WHEN old.state <> new.state
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 4, new.id, unixepoch());
END;

CREATE TRIGGER live_gateway_update AFTER UPDATE ON gateways WHEN old.online <> new.online
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    VALUES (new.project_id, 5, new.id, unixepoch());
END;

-- Day totals for the energy and sales summaries (GET .../summaries/energy and .../sales), kept
-- by triggers as readings and transfers are stored, so a month of a 10,000-meter project is a
-- sum over 300,000 small rows instead of 14 million readings, and a late (backfilled) reading
-- lands in its own day. Days are cut at the project's UTC offset (day_offset_s, set from its time
-- zone when the project is created; zones with daylight saving are cut at standard time).
ALTER TABLE projects ADD COLUMN day_offset_s INTEGER NOT NULL DEFAULT 28800;

-- Accepted readings by local day, meter and account (0: none, e.g. public-area meters). A reading
-- closes the interval that ends at its meter time, so one at exactly midnight counts for the day
-- before. Keyed day first: a day's rows are together, so the rows being added to stay few pages.
CREATE TABLE meter_days (
    day INTEGER NOT NULL,         -- days since 1970-01-01, local
    meter_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    energy INTEGER NOT NULL,      -- Quantity: thousandths of kWh or m3
    deducted INTEGER NOT NULL,    -- fen taken from the prepaid balance
    readings INTEGER NOT NULL,
    PRIMARY KEY (day, meter_id, account_id)
) WITHOUT ROWID;

INSERT INTO meter_days(day, meter_id, account_id, energy, deducted, readings)
SELECT (r.meter_time + p.day_offset_s - 1) / 86400, r.meter_id, COALESCE(r.account_id, 0),
       SUM(r.delta), SUM(r.deducted), COUNT(*)
FROM readings r JOIN meters m ON m.id = r.meter_id JOIN projects p ON p.id = m.project_id
WHERE r.verdict = 1
GROUP BY 1, 2, 3;

CREATE TRIGGER meter_days_reading AFTER INSERT ON readings WHEN new.verdict = 1
BEGIN
    INSERT INTO meter_days(day, meter_id, account_id, energy, deducted, readings)
    SELECT (new.meter_time + p.day_offset_s - 1) / 86400, new.meter_id,
           COALESCE(new.account_id, 0), new.delta, new.deducted, 1
    FROM meters m JOIN projects p ON p.id = m.project_id WHERE m.id = new.meter_id
    ON CONFLICT (day, meter_id, account_id) DO UPDATE SET
        energy = energy + excluded.energy, deducted = deducted + excluded.deducted,
        readings = readings + 1;
END;

-- Money in and out by local day, account, kind (top-up, refund, subsidy) and channel (the system
-- ledger account on the other side: cash, wechat, alipay ...).
CREATE TABLE sales_days (
    project_id INTEGER NOT NULL,
    day INTEGER NOT NULL,
    account_id INTEGER NOT NULL,
    code INTEGER NOT NULL,        -- core/ledger.hpp TransferCode
    channel TEXT NOT NULL,
    amount INTEGER NOT NULL,      -- fen
    transfers INTEGER NOT NULL,
    PRIMARY KEY (project_id, day, account_id, code, channel)
) WITHOUT ROWID;

-- A refund debits the tenant and credits the channel; a top-up or a subsidy the other way round.
CREATE TRIGGER sales_days_transfer AFTER INSERT ON transfers WHEN new.code IN (1, 2, 4)
BEGIN
    INSERT INTO sales_days(project_id, day, account_id, code, channel, amount, transfers)
    SELECT a.project_id, (new.at + p.day_offset_s) / 86400, a.id, new.code,
           COALESCE(other.code, ''), new.amount, 1
    FROM ledger_accounts tenant
    JOIN accounts a ON a.id = tenant.owner_account_id
    JOIN projects p ON p.id = a.project_id
    LEFT JOIN ledger_accounts other
        ON other.id = CASE WHEN new.code = 2 THEN new.credit_id ELSE new.debit_id END
    WHERE tenant.id = CASE WHEN new.code = 2 THEN new.debit_id ELSE new.credit_id END
    ON CONFLICT (project_id, day, account_id, code, channel) DO UPDATE SET
        amount = amount + excluded.amount, transfers = transfers + 1;
END;

INSERT INTO sales_days(project_id, day, account_id, code, channel, amount, transfers)
SELECT a.project_id, (t.at + p.day_offset_s) / 86400, a.id, t.code, COALESCE(other.code, ''),
       SUM(t.amount), COUNT(*)
FROM transfers t
JOIN ledger_accounts tenant
    ON tenant.id = CASE WHEN t.code = 2 THEN t.debit_id ELSE t.credit_id END
JOIN accounts a ON a.id = tenant.owner_account_id
JOIN projects p ON p.id = a.project_id
LEFT JOIN ledger_accounts other
    ON other.id = CASE WHEN t.code = 2 THEN t.credit_id ELSE t.debit_id END
WHERE t.code IN (1, 2, 4)
GROUP BY 1, 2, 3, 4, 5;
