-- Two triggers ran for every reading ingested although they almost never did anything: SQLite
-- evaluates a trigger's WHEN inside the trigger's sub-program, which it sets up per row, so a
-- trigger whose WHEN is false still costs about as much as inserting the row (issue 3's profile:
-- ~2 us per reading each, a tenth of the MQTT ingest worker at 20,000 readings/s).
--
-- sales_days is now kept by the store's AppendTransfers, the only writer of transfers, for the
-- same codes (top-up, refund, subsidy) with the same statement; deductions no longer run it.
DROP TRIGGER sales_days_transfer;

-- The meter-status change trigger only fires for updates that set one of the columns it
-- compares (UPDATE OF is decided when the statement is prepared). The store's SaveMeterStatus
-- updates last_seen and the other per-reading columns alone when those four are unchanged.
DROP TRIGGER live_meter_update;
CREATE TRIGGER live_meter_update AFTER UPDATE OF online, relay, valve, hold ON meter_status
WHEN old.online <> new.online OR old.relay <> new.relay OR old.valve <> new.valve
  OR old.hold <> new.hold
BEGIN
    INSERT INTO live_changes(project_id, kind, subject_id, at)
    SELECT project_id, 1, id, unixepoch() FROM meters WHERE id = new.meter_id;
END;
