-- Refunds of paid orders through their provider (issue 6) [PAY-2]: the account is debited when
-- the refund is asked for, the provider asked with our refund number (idempotent at the
-- provider), and a refusal returns the money to the account.
CREATE TABLE payment_refunds (
    id INTEGER PRIMARY KEY,
    refund_no TEXT NOT NULL UNIQUE,
    client_key TEXT NOT NULL,
    order_id INTEGER NOT NULL REFERENCES payment_orders(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    provider TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    state INTEGER NOT NULL,          -- RefundState: 0 requested, 1 processing, 2 succeeded,
                                     -- 3 failed, 4 abnormal
    provider_refund_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    finished_at INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    tried_at INTEGER,
    tries INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, client_key)
);
CREATE INDEX payment_refunds_order ON payment_refunds(order_id);
CREATE INDEX payment_refunds_open ON payment_refunds(requested_at) WHERE state IN (0, 1);
