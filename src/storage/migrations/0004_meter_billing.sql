-- Meter billing [ACCT-1]: the account says who holds the balance (0 platform, 1 meter:
-- BillingMode). A meter-billing account keeps its meter's purse as the platform knows it: the
-- purchase count after the last confirmed purchase, the count given to the newest queued one,
-- and the meter's remaining amount (fen) with the purchase count and server time of that read.
-- Its two extra ledger accounts (meter_pending, meter_held) are ordinary ledger_accounts rows.
ALTER TABLE accounts ADD COLUMN billing_mode INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN purchase_confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN purchase_assigned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN meter_remaining INTEGER;
ALTER TABLE accounts ADD COLUMN meter_remaining_count INTEGER;
ALTER TABLE accounts ADD COLUMN meter_remaining_at INTEGER;
CREATE INDEX commands_meter_kind ON commands(meter_id, kind, state, id);
-- Whether a model's meter can hold the money (capabilities.in_meter_prepaid of its file).
ALTER TABLE meter_models ADD COLUMN in_meter_prepaid INTEGER NOT NULL DEFAULT 0;
UPDATE meter_models SET in_meter_prepaid =
    IFNULL(json_extract(definition, '$.capabilities.in_meter_prepaid'), 0) = 1;
