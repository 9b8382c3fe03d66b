-- Payments (issue 6) [PAY-2]: the orders made for WeChat Pay, Alipay or the sandbox provider, and
-- every notification received. An order turns paid in the same transaction as its credit; the
-- provider's transaction id is unique per provider, so no payment can be credited twice even if
-- two notifications race (the ledger transfer's id, "pay:<provider>:<transaction>", is a second
-- guard). Amounts are integer fen.
CREATE TABLE payment_orders (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    order_no TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    channel TEXT NOT NULL,
    amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
    state INTEGER NOT NULL DEFAULT 0,  -- PaymentOrderState: 0 created, 1 paid, 2 closed
    created_at INTEGER NOT NULL,
    paid_at INTEGER,
    transaction_id TEXT,
    payer TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    UNIQUE (provider, transaction_id)
);
CREATE INDEX payment_orders_by_account ON payment_orders(project_id, account_id, id);

-- What each notification said and what became of it, verified or not: the trail finance and
-- reconciliation read [PAY-3].
CREATE TABLE payment_notifications (
    id INTEGER PRIMARY KEY,
    received_at INTEGER NOT NULL,
    provider TEXT NOT NULL,
    order_no TEXT NOT NULL DEFAULT '',
    transaction_id TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payment_notifications_by_order ON payment_notifications(order_no, id);
