-- readings becomes a rowid table, appended in arrival order, with its key (meter, meter time,
-- value) as a unique index. As a WITHOUT ROWID table it kept each whole row (~50 bytes) in the
-- meter-ordered b-tree: once every meter had a page of history, each reading of a commit dirtied
-- a leaf page of its own, written to the WAL and again by the checkpoint, so MQTT ingest of
-- 100,000 meters slowed as the store grew (issue 3). An index entry is ~20 bytes, so a leaf holds
-- the newest readings of about three times as many meters; the rows themselves are appended.
CREATE TABLE readings_appended (
    meter_id INTEGER NOT NULL,
    meter_time INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    total INTEGER NOT NULL,
    rate_sharp INTEGER, rate_peak INTEGER, rate_flat INTEGER, rate_valley INTEGER,
    verdict INTEGER NOT NULL,
    reason INTEGER NOT NULL,
    delta INTEGER NOT NULL,
    charge_fine INTEGER NOT NULL,
    deducted INTEGER NOT NULL,
    account_id INTEGER,
    source INTEGER NOT NULL DEFAULT 0
);
INSERT INTO readings_appended(meter_id, meter_time, received_at, total, rate_sharp, rate_peak,
                              rate_flat, rate_valley, verdict, reason, delta, charge_fine,
                              deducted, account_id, source)
SELECT meter_id, meter_time, received_at, total, rate_sharp, rate_peak, rate_flat, rate_valley,
       verdict, reason, delta, charge_fine, deducted, account_id, source
FROM readings ORDER BY received_at, meter_id, meter_time, total;
DROP TABLE readings;
ALTER TABLE readings_appended RENAME TO readings;
CREATE UNIQUE INDEX readings_key ON readings(meter_id, meter_time, total);
