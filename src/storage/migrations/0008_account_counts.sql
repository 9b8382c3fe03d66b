-- How many accounts of a project are in each combination of the states the account list filters
-- on, kept by triggers as accounts change. The list's total (and the room-monitoring counts by
-- state) is then a sum over a few dozen rows instead of a count over every account of the
-- project. Rows that fall to zero stay (harmless; at most one per combination).
CREATE TABLE account_counts (
    project_id INTEGER NOT NULL,
    status INTEGER NOT NULL,
    prepaid_state INTEGER NOT NULL,
    relay INTEGER NOT NULL,
    billing_mode INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (project_id, status, prepaid_state, relay, billing_mode)
) WITHOUT ROWID;

INSERT INTO account_counts(project_id, status, prepaid_state, relay, billing_mode, n)
SELECT project_id, status, prepaid_state, relay, billing_mode, COUNT(*)
FROM accounts GROUP BY project_id, status, prepaid_state, relay, billing_mode;

CREATE TRIGGER account_counts_insert AFTER INSERT ON accounts
BEGIN
    INSERT INTO account_counts(project_id, status, prepaid_state, relay, billing_mode, n)
    VALUES (new.project_id, new.status, new.prepaid_state, new.relay, new.billing_mode, 1)
    ON CONFLICT (project_id, status, prepaid_state, relay, billing_mode) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER account_counts_delete AFTER DELETE ON accounts
BEGIN
    UPDATE account_counts SET n = n - 1
    WHERE project_id = old.project_id AND status = old.status
      AND prepaid_state = old.prepaid_state AND relay = old.relay
      AND billing_mode = old.billing_mode;
END;

-- Billing updates every account row on every reading; only a change of a counted column costs.
CREATE TRIGGER account_counts_update
AFTER UPDATE OF project_id, status, prepaid_state, relay, billing_mode ON accounts
WHEN old.project_id <> new.project_id OR old.status <> new.status
  OR old.prepaid_state <> new.prepaid_state OR old.relay <> new.relay
  OR old.billing_mode <> new.billing_mode
BEGIN
    UPDATE account_counts SET n = n - 1
    WHERE project_id = old.project_id AND status = old.status
      AND prepaid_state = old.prepaid_state AND relay = old.relay
      AND billing_mode = old.billing_mode;
    INSERT INTO account_counts(project_id, status, prepaid_state, relay, billing_mode, n)
    VALUES (new.project_id, new.status, new.prepaid_state, new.relay, new.billing_mode, 1)
    ON CONFLICT (project_id, status, prepaid_state, relay, billing_mode) DO UPDATE SET n = n + 1;
END;
