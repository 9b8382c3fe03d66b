-- The operation log says from where and under which request a change was made, and in which
-- project, so project staff can read their own project's log [ADM-2]. Rows before this
-- migration have no project (visible to group users only).
ALTER TABLE operation_log ADD COLUMN project_id INTEGER NOT NULL DEFAULT 0;  -- 0: none
ALTER TABLE operation_log ADD COLUMN remote TEXT NOT NULL DEFAULT '';
ALTER TABLE operation_log ADD COLUMN request_id TEXT NOT NULL DEFAULT '';
CREATE INDEX operation_log_project ON operation_log(project_id, seq);

-- Staff acknowledge an alarm (seen, being handled) before it clears [ALM-2].
ALTER TABLE alarms ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE alarms ADD COLUMN acknowledged_by TEXT NOT NULL DEFAULT '';
