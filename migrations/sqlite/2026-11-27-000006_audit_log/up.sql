-- The audit trail. Twin: migrations/postgres.
--
-- audit_log: one row per state change, written in the transaction of the change, with its
-- chain (the post's code, or `*` for events of no post); a trigger queues it in audit_pending.
-- audit_seals: each instance's sealer takes queued entries in batches and appends them to
-- their chain: seq 1, 2, 3... per chain, hash = SHA-256(prev_hash || canonical content).
-- audit_chains: each chain's head (last seq and hash); its row lock keeps a chain linear
-- across sealers and instances, and it pins the chain's end.
-- audit_log and audit_seals are append-only (triggers below); audit_pending is a queue.
-- No AUTOINCREMENT: it rewrites sqlite_sequence on every insert, and ids can't be reused
-- anyway, since rows are never deleted.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    chain       TEXT NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('applicant', 'staff', 'system', 'anonymous')),
    actor_id    BIGINT,
    actor_role  TEXT,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    post_code   TEXT,
    change      TEXT NOT NULL
);
CREATE INDEX audit_log_time ON audit_log (recorded_at);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- INTEGER PRIMARY KEY: the rowid itself, one b-tree instead of a table and an index.
CREATE TABLE audit_pending (
    entry_id INTEGER PRIMARY KEY NOT NULL REFERENCES audit_log (id),
    chain    TEXT NOT NULL
);

CREATE TABLE audit_seals (
    chain     TEXT NOT NULL,
    seq       BIGINT NOT NULL CHECK (seq > 0),
    entry_id  BIGINT NOT NULL UNIQUE REFERENCES audit_log (id),
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);

CREATE TABLE audit_chains (
    chain     TEXT PRIMARY KEY NOT NULL,
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

-- The queue is filled by the database itself: one statement writes an entry and queues it.
CREATE TRIGGER audit_log_queue AFTER INSERT ON audit_log
BEGIN
    INSERT INTO audit_pending (entry_id, chain) VALUES (NEW.id, NEW.chain);
END;

-- Append-only, whoever connects: the application never updates or deletes either.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_seals_no_update BEFORE UPDATE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit_seals is append-only');
END;
CREATE TRIGGER audit_seals_no_delete BEFORE DELETE ON audit_seals
BEGIN
    SELECT RAISE(ABORT, 'audit_seals is append-only');
END;
