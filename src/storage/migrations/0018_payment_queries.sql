-- Orders asked about at their provider when their notification does not come (issue 6)
-- [PAY-4]: when last asked and how often, so a question waits its turn and a crash asks again.
ALTER TABLE payment_orders ADD COLUMN queried_at INTEGER;
ALTER TABLE payment_orders ADD COLUMN queries INTEGER NOT NULL DEFAULT 0;
CREATE INDEX payment_orders_open ON payment_orders(created_at) WHERE state = 0;
