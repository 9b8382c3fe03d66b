-- Backfill after an outage [DEV-7]: a reading says where it came from, so frozen-register values
-- read after an outage stay distinguishable from live reads (0 live, 1 frozen: ReadingSource).
ALTER TABLE readings ADD COLUMN source INTEGER NOT NULL DEFAULT 0;
