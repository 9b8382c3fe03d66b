-- meter_days is kept by the billing service, one upsert per meter and day per batch of readings
-- (Tx::AddMeterDays), instead of by a trigger that ran a join and an upsert for every reading:
-- on the MQTT ingest path that trigger halved the readings committed per second.
DROP TRIGGER meter_days_reading;
