-- The audit trail. Twin: migrations/sqlite.
--
-- audit_log: one row per state change, written in the transaction of the change, with its
-- chain (the post's code, or `*` for events of no post); a trigger queues it in audit_pending.
-- audit_seals: each instance's sealer takes queued entries in batches and appends them to
-- their chain: seq 1, 2, 3... per chain, hash = SHA-256(prev_hash || canonical content).
-- audit_chains: each chain's head (last seq and hash); its row lock keeps a chain linear
-- across sealers and instances, and it pins the chain's end.
-- audit_log and audit_seals are append-only (triggers below); audit_pending is a queue.
CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
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

CREATE TABLE audit_pending (
    entry_id BIGINT PRIMARY KEY NOT NULL REFERENCES audit_log (id),
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
CREATE FUNCTION audit_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO audit_pending (entry_id, chain) VALUES (NEW.id, NEW.chain);
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_queue AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_queue();

-- Refuses the change: for tables that are never updated or deleted (the audit trail now;
-- fee records, receipts and register entries later).
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_seals_append_only BEFORE UPDATE OR DELETE ON audit_seals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_seals_no_truncate BEFORE TRUNCATE ON audit_seals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
