-- The providers' daily statements the server fetches itself (issue 6) [PAY-3]: one row per
-- provider and day, done once reconciled for every project, else asked for again; a day that
-- keeps failing is alarmed once.
CREATE TABLE statement_downloads (
    provider TEXT NOT NULL,
    bill_date TEXT NOT NULL,        -- Beijing time: 2026-11-22
    done INTEGER NOT NULL,          -- 1: reconciled for every project
    attempts INTEGER NOT NULL,
    last_attempt_at INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,      -- '' when the provider had no statement (no trade that day)
    lines INTEGER NOT NULL,
    alarmed INTEGER NOT NULL,
    PRIMARY KEY (provider, bill_date)
);

-- The first order at a provider: statements of days before it are not fetched.
CREATE INDEX payment_orders_provider_created ON payment_orders(provider, created_at);
