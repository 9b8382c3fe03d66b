-- Acquisition (issue 3): meter models carry their protocol map, gateways and meters their bus
-- addresses and online state, unknown devices wait as pending, commands carry their delivery state.

-- The whole model file as JSON (models/*.json): protocol, points, scaling, capabilities [DEV-2].
ALTER TABLE meter_models ADD COLUMN definition TEXT NOT NULL DEFAULT '{}';

-- How the platform reaches a gateway: "host:port" it polls (modbus_tcp, serial servers), the
-- registration id a 4G DTU sends when it dials in (dtu), or the MQTT client id (mqtt).
ALTER TABLE gateways ADD COLUMN endpoint TEXT NOT NULL DEFAULT '';
-- modbus_tcp gateways: "mbap" (Modbus-TCP with unit ids) or "transparent" (raw RS-485 frames).
ALTER TABLE gateways ADD COLUMN framing TEXT NOT NULL DEFAULT 'transparent';
ALTER TABLE gateways ADD COLUMN online INTEGER NOT NULL DEFAULT 0;
ALTER TABLE gateways ADD COLUMN last_seen INTEGER;
-- Hex SHA-256 of the MQTT password; the broker's password file is generated from it.
ALTER TABLE gateways ADD COLUMN secret_hash TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX gateways_endpoint ON gateways(transport, endpoint) WHERE endpoint <> '';

-- The address the meter answers to on its bus (DL/T 645 12 digits, CJ/T 188 14 digits, a Modbus
-- unit id), and the circuit of a multi-circuit box (0 for a single meter).
ALTER TABLE meters ADD COLUMN bus_address TEXT NOT NULL DEFAULT '';
ALTER TABLE meters ADD COLUMN circuit INTEGER NOT NULL DEFAULT 0;
CREATE INDEX meters_gateway ON meters(gateway_id);

-- Polling schedule per project [DEV-4]: default 30 minutes, down to 1 minute (the demo: faster).
ALTER TABLE projects ADD COLUMN read_interval_s INTEGER NOT NULL DEFAULT 1800;

-- The latest live state of each meter, overwritten by every successful read.
CREATE TABLE meter_status (
    meter_id INTEGER PRIMARY KEY REFERENCES meters(id),
    online INTEGER NOT NULL,
    last_seen INTEGER,               -- server time of the last reply
    last_failure INTEGER,            -- server time of the last failed read
    failures INTEGER NOT NULL DEFAULT 0,  -- consecutive failed reads
    meter_time INTEGER,              -- the meter's clock at the last read
    relay INTEGER NOT NULL DEFAULT 0,     -- 0 unknown, 1 closed, 2 open
    valve INTEGER NOT NULL DEFAULT 0,     -- 0 unknown, 1 open, 2 closed, 3 abnormal
    hold INTEGER NOT NULL DEFAULT 0,      -- 保电 reported by the meter
    values_json TEXT NOT NULL DEFAULT '{}'  -- voltage, current, power, balance ... as decimals
);

-- Devices that answered or registered but are not configured [HIER-4]: binding makes them live.
CREATE TABLE pending_devices (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    gateway_id INTEGER NOT NULL,
    bus_address TEXT NOT NULL,
    model_code TEXT NOT NULL,
    serial TEXT NOT NULL,
    params TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    UNIQUE (gateway_id, bus_address)
);

-- Command delivery [CTRL-5]: retried with backoff until acknowledged, failed or expired.
ALTER TABLE commands ADD COLUMN params TEXT NOT NULL DEFAULT '{}';
ALTER TABLE commands ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN expires_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE commands ADD COLUMN finished_at INTEGER;
ALTER TABLE commands ADD COLUMN error TEXT NOT NULL DEFAULT '';
CREATE INDEX commands_due ON commands(state, next_attempt_at);
CREATE INDEX commands_meter ON commands(meter_id, id);

-- The device log: rejected frames, unknown senders, timeouts, mismatches [DEV-6].
CREATE TABLE device_events (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    gateway_id INTEGER NOT NULL DEFAULT 0,
    meter_id INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- Gateway alarms (offline) are per gateway: the one-open-alarm rule includes it.
ALTER TABLE alarms ADD COLUMN gateway_id INTEGER NOT NULL DEFAULT 0;
DROP INDEX alarms_one_open;
CREATE UNIQUE INDEX alarms_one_open ON alarms(account_id, meter_id, gateway_id, kind) WHERE open = 1;
