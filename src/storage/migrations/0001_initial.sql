-- 0001: the foundation schema. Instants are INTEGER seconds since the Unix epoch, UTC.
-- Money is INTEGER fen; quantities INTEGER thousandths of kWh or m^3 (Wh, litres);
-- FineMoney INTEGER 1e-11 yuan. Absent references are NULL.

CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    group_id INTEGER REFERENCES groups(id),
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL
);

CREATE TABLE buildings (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (project_id, code)
);

CREATE TABLE floors (
    id INTEGER PRIMARY KEY,
    building_id INTEGER NOT NULL REFERENCES buildings(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    UNIQUE (building_id, code)
);

CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    floor_id INTEGER REFERENCES floors(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    area_dm2 INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, code)
);

CREATE TABLE gateways (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    transport TEXT NOT NULL,
    UNIQUE (project_id, code)
);

CREATE TABLE meter_models (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    utility INTEGER NOT NULL,
    register_modulus INTEGER NOT NULL,
    max_rate_per_hour INTEGER NOT NULL,
    future_tolerance_s INTEGER NOT NULL,
    gap_threshold_s INTEGER NOT NULL,
    has_relay INTEGER NOT NULL,
    per_rate INTEGER NOT NULL
);

CREATE TABLE tariffs (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    utility INTEGER NOT NULL,
    UNIQUE (project_id, code)
);

-- Versions are appended, never updated: history is never rewritten [TAR-3].
CREATE TABLE tariff_versions (
    tariff_id INTEGER NOT NULL REFERENCES tariffs(id),
    effective_from INTEGER NOT NULL,
    body TEXT NOT NULL,              -- the version as JSON (wire/json.hpp)
    PRIMARY KEY (tariff_id, effective_from)
);

CREATE TABLE meters (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    code TEXT NOT NULL,
    model_id INTEGER NOT NULL REFERENCES meter_models(id),
    gateway_id INTEGER REFERENCES gateways(id),
    room_id INTEGER REFERENCES rooms(id),
    tariff_id INTEGER REFERENCES tariffs(id),
    parent_id INTEGER REFERENCES meters(id),
    public_area INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, code)
);

CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY,
    kind INTEGER NOT NULL,
    code TEXT,                        -- system accounts: channel or purpose; NULL for tenants
    owner_account_id INTEGER,         -- tenant accounts: the account (户)
    priority INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER,
    balance INTEGER NOT NULL DEFAULT 0,  -- credits - debits; checked against transfers by audit
    UNIQUE (kind, code)
);
CREATE INDEX ledger_accounts_owner ON ledger_accounts(owner_account_id);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    number TEXT NOT NULL,
    tenant_name TEXT NOT NULL,
    phone TEXT NOT NULL,
    tariff_id INTEGER NOT NULL REFERENCES tariffs(id),
    -- the control scheme (报警方案), fen and local minutes
    alarm1 INTEGER NOT NULL,
    alarm2 INTEGER NOT NULL,
    alarm3 INTEGER NOT NULL,
    overdraft INTEGER NOT NULL,
    restore_level INTEGER NOT NULL,
    emergency INTEGER NOT NULL,
    friendly_nights INTEGER NOT NULL,
    night_start_minute INTEGER NOT NULL,
    night_end_minute INTEGER NOT NULL,
    friendly_weekends INTEGER NOT NULL,
    friendly_holidays INTEGER NOT NULL,
    debt_share_bp INTEGER NOT NULL,
    status INTEGER NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    prepaid_state INTEGER NOT NULL,
    relay INTEGER NOT NULL,
    keep_power INTEGER NOT NULL,
    forced_trip INTEGER NOT NULL,
    emergency_taken INTEGER NOT NULL,
    band INTEGER NOT NULL,
    paid_ledger_id INTEGER NOT NULL REFERENCES ledger_accounts(id),
    debt_ledger_id INTEGER NOT NULL REFERENCES ledger_accounts(id),
    version INTEGER NOT NULL,
    UNIQUE (project_id, number)
);

-- Account <-> meter bindings with history [ACCT-10].
CREATE TABLE account_meters (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    meter_id INTEGER NOT NULL REFERENCES meters(id),
    bound_from INTEGER NOT NULL,
    bound_to INTEGER,
    opening_total INTEGER NOT NULL,
    closing_total INTEGER,
    PRIMARY KEY (meter_id, bound_from)
);
CREATE INDEX account_meters_account ON account_meters(account_id);

-- Each meter's billing state (core/billing.hpp MeterBilling).
CREATE TABLE meter_billing (
    meter_id INTEGER PRIMARY KEY REFERENCES meters(id),
    account_id INTEGER,
    cursor_valid INTEGER NOT NULL,
    cursor_time INTEGER NOT NULL,
    cursor_total INTEGER NOT NULL,
    has_per_rate INTEGER NOT NULL,
    rate_sharp INTEGER NOT NULL, rate_peak INTEGER NOT NULL,
    rate_flat INTEGER NOT NULL, rate_valley INTEGER NOT NULL,
    cycle_key INTEGER NOT NULL,
    cycle_used INTEGER NOT NULL,
    carry INTEGER NOT NULL,
    billed_total INTEGER NOT NULL,
    charged_total INTEGER NOT NULL,
    deducted_total INTEGER NOT NULL
);

-- Every raw reading with its verdict; quarantined ones are kept [DEV-5, ACCT-6]. A reading is
-- identified by (meter, meter time, value): an exact re-send is stored once, while a different
-- value at the same time (a corrupted frame, then the true reading) keeps both rows.
CREATE TABLE readings (
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
    PRIMARY KEY (meter_id, meter_time, total)
) WITHOUT ROWID;

-- The ledger: append-only, double-entry [ACCT-5].
CREATE TABLE transfers (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,          -- the idempotency key
    debit_id INTEGER NOT NULL REFERENCES ledger_accounts(id),
    credit_id INTEGER NOT NULL REFERENCES ledger_accounts(id),
    amount INTEGER NOT NULL CHECK (amount > 0),
    code INTEGER NOT NULL,
    ref TEXT NOT NULL,
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    debit_balance_after INTEGER NOT NULL,
    credit_balance_after INTEGER NOT NULL
);
CREATE INDEX transfers_debit ON transfers(debit_id);
CREATE INDEX transfers_credit ON transfers(credit_id);
CREATE TRIGGER transfers_append_only_update BEFORE UPDATE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END;
CREATE TRIGGER transfers_append_only_delete BEFORE DELETE ON transfers
BEGIN SELECT RAISE(ABORT, 'transfers are append-only'); END;

CREATE TABLE alarms (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL DEFAULT 0,   -- 0: none
    meter_id INTEGER NOT NULL DEFAULT 0,     -- 0: none
    kind INTEGER NOT NULL,
    open INTEGER NOT NULL,
    raised_at INTEGER NOT NULL,
    cleared_at INTEGER,
    detail TEXT NOT NULL
);
CREATE UNIQUE INDEX alarms_one_open ON alarms(account_id, meter_id, kind) WHERE open = 1;
CREATE INDEX alarms_project ON alarms(project_id, open);

CREATE TABLE commands (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL,
    meter_id INTEGER NOT NULL,
    account_id INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    state INTEGER NOT NULL,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX commands_project ON commands(project_id, id);

-- Delivered at least once by dispatchers (later issues); receivers are idempotent.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    delivered_at INTEGER
);

CREATE TABLE operation_log (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
