-- The audit trail: one append-only row per state change, written in the transaction of the
-- change. Entries form hash chains, one per post plus `*` for events of no post (sign-ins,
-- registrations, unbound staff): hash = SHA-256(prev_hash || canonical content), seq counts
-- 1, 2, 3... per chain. audit_chains holds each chain's head; taking it is the row lock that
-- keeps a chain linear with concurrent writers and several instances. Twin: migrations/postgres.
CREATE TABLE audit_chains (
    chain     TEXT PRIMARY KEY NOT NULL,
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chain       TEXT NOT NULL,
    seq         BIGINT NOT NULL CHECK (seq > 0),
    recorded_at TIMESTAMP NOT NULL,
    actor_kind  TEXT NOT NULL CHECK (actor_kind IN ('applicant', 'staff', 'system', 'anonymous')),
    actor_id    BIGINT,
    actor_role  TEXT,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    post_code   TEXT,
    change      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL,
    UNIQUE (chain, seq)
);
CREATE INDEX audit_log_time ON audit_log (recorded_at);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- Append-only, whoever connects: the application never updates or deletes an entry.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
