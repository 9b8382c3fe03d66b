-- Reconciliation (issue 6) [PAY-3]: each import of a provider's daily statement for a project,
-- with its totals, and every mismatch it found. Amounts are integer fen; NULL where a side has no
-- amount (a line the platform lacks, a payment the statement lacks).

CREATE TABLE reconciliations (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    provider TEXT NOT NULL,
    bill_date TEXT NOT NULL,
    imported_at INTEGER NOT NULL,
    imported_by TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    lines INTEGER NOT NULL,
    other_projects INTEGER NOT NULL,
    matched INTEGER NOT NULL,
    mismatches INTEGER NOT NULL,
    statement_paid_fen INTEGER NOT NULL,
    statement_refunded_fen INTEGER NOT NULL,
    credited_fen INTEGER NOT NULL
);
CREATE INDEX reconciliations_project ON reconciliations(project_id, id);

CREATE TABLE reconciliation_mismatches (
    id INTEGER PRIMARY KEY,
    reconciliation_id INTEGER NOT NULL REFERENCES reconciliations(id),
    kind TEXT NOT NULL,            -- MismatchKindName: not_credited, unknown_order, ...
    order_no TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    account_id INTEGER NOT NULL,   -- 0: no order of ours
    statement_amount_fen INTEGER,
    our_amount_fen INTEGER,
    statement_status TEXT NOT NULL,
    our_status TEXT NOT NULL,
    row INTEGER NOT NULL,          -- the statement's line; 0: not in it
    detail TEXT NOT NULL
);
CREATE INDEX reconciliation_mismatches_run ON reconciliation_mismatches(reconciliation_id, id);

-- The day's paid orders of a provider, for matching against its statement.
CREATE INDEX payment_orders_paid ON payment_orders(project_id, provider, paid_at) WHERE state = 1;
