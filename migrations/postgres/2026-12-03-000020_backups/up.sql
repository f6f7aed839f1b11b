-- Scheduled backups (docs/OPERATIONS.md, Backups): one row that decides which instance takes
-- the period's backup. Each instance's maintenance tries one conditional update of it
-- (`last_started_at` older than the period, or never set); the one whose update changed the
-- row takes the backup, the others see no row changed and do nothing.
CREATE TABLE backup_schedule (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    last_started_at TIMESTAMP,
    -- The file the last backup went to (its name only), once it was written and checked.
    last_file       TEXT
);
INSERT INTO backup_schedule (id) VALUES (1);
