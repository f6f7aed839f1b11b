-- The citizen registry (docs/REGISTRY.md): stays registered by citizens in Mexico, the
-- emergency messages and newsletters sent to them, and what the mail needs for bulk sending.
-- Twin: migrations/postgres. SQLite can't change a CHECK constraint, so staff and outbox are
-- rebuilt as in 000005 (foreign keys are off on the migrations' connection, see db::run_migrations).

-- A new staff role: duty officers write emergency messages and read their district's registry.
CREATE TABLE staff_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    username           TEXT NOT NULL UNIQUE,
    password_hash      TEXT NOT NULL,
    role               TEXT NOT NULL
                       CHECK (role IN ('clerk', 'supervisor', 'auditor', 'admin', 'duty_officer')),
    post_code          TEXT REFERENCES posts (code),
    disabled_at        TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    credential_version INTEGER NOT NULL DEFAULT 1,
    email              TEXT
);
INSERT INTO staff_new (id, username, password_hash, role, post_code, disabled_at, created_at, credential_version, email)
    SELECT id, username, password_hash, role, post_code, disabled_at, created_at, credential_version, email FROM staff;
-- AUTOINCREMENT's counter goes with the old table; keep it, so no id is ever handed out twice.
CREATE TEMP TABLE staff_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'staff';
DROP TABLE staff;
ALTER TABLE staff_new RENAME TO staff;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM staff_sequence))
    WHERE name = 'staff';
DROP TABLE staff_sequence;

-- Mexico's states and the consular district (post) each belongs to: reference data an admin can
-- correct. Sonora and Tamaulipas are split between two districts; the state names the larger
-- part's post (HMO, MAM) and a traveller in the north names the district instead (NOG, NLD).
CREATE TABLE mexican_states (
    code      TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL,
    post_code TEXT NOT NULL REFERENCES posts (code)
);
-- Seeded with the other reference data at start (reference::seed), after the posts.
-- A registered stay or trip. Kept until CONSULAR_DESK_REGISTRY_RETENTION_DAYS after `departs`
-- (unconfirmed ones a week), then deleted by the maintenance timer. `district` is the post
-- whose district the stay is in (named, or the state's); `confirmed_at` is set by the link in
-- the confirmation message, and nothing else is sent before it (double opt-in).
CREATE TABLE stays (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    email              TEXT NOT NULL,
    phone              TEXT,
    language           TEXT NOT NULL CHECK (language IN ('en', 'es')),
    arrives            DATE NOT NULL,
    departs            DATE NOT NULL,
    district           TEXT NOT NULL REFERENCES posts (code),
    state_code         TEXT REFERENCES mexican_states (code),
    emergency_messages BOOLEAN NOT NULL,
    newsletter         BOOLEAN NOT NULL,
    confirmed_at       TIMESTAMP,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CHECK (departs >= arrives)
);
CREATE INDEX stays_district ON stays (district, departs, arrives);
CREATE INDEX stays_departs ON stays (departs);
CREATE INDEX stays_email ON stays (email);

CREATE TABLE stay_travellers (
    stay_id       BIGINT NOT NULL REFERENCES stays (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    given_names   TEXT NOT NULL,
    surname       TEXT NOT NULL,
    date_of_birth DATE,
    PRIMARY KEY (stay_id, position)
);

-- An emergency message or a newsletter, in both languages. `districts` is a comma-separated
-- list of post codes, or '*' for all of Mexico. An emergency message names the days people must
-- be present; it is queued at once, or waits for a second officer (awaiting_approval) when
-- CONSULAR_DESK_EMERGENCY_APPROVAL is on. Queuing writes one outbox row per recipient in one
-- statement and records how many.
CREATE TABLE bulletins (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL CHECK (kind IN ('emergency', 'newsletter')),
    districts   TEXT NOT NULL,
    present_from DATE,
    present_to   DATE,
    subject_en  TEXT NOT NULL,
    body_en     TEXT NOT NULL,
    subject_es  TEXT NOT NULL,
    body_es     TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('awaiting_approval', 'queued')),
    written_by  BIGINT NOT NULL REFERENCES staff (id),
    written_at  TIMESTAMP NOT NULL,
    approved_by BIGINT REFERENCES staff (id),
    queued_at   TIMESTAMP,
    recipients  INTEGER
);

-- Bulk mail waits behind the single messages people are waiting for (a link to confirm, a
-- password reset): 0 single, 1 emergency, 2 newsletter. A message whose registration was deleted
-- before it went is `withdrawn`, not sent.
CREATE TABLE outbox_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    kind          TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    language      TEXT NOT NULL CHECK (language IN ('en', 'es')),
    payload       TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('waiting', 'sending', 'sent', 'failed', 'withdrawn')),
    tries         INTEGER NOT NULL DEFAULT 0,
    due_at        TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error    TEXT,
    created_at    TIMESTAMP NOT NULL,
    sent_at       TIMESTAMP,
    priority      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO outbox_new (id, kind, recipient, language, payload, state, tries, due_at, claimed_until, last_error, created_at, sent_at)
    SELECT id, kind, recipient, language, payload, state, tries, due_at, claimed_until, last_error, created_at, sent_at FROM outbox;
-- AUTOINCREMENT's counter goes with the old table; keep it, so no id is ever handed out twice.
CREATE TEMP TABLE outbox_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'outbox';
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM outbox_sequence))
    WHERE name = 'outbox';
DROP TABLE outbox_sequence;
CREATE INDEX outbox_due ON outbox (state, priority, due_at, id);
CREATE INDEX outbox_created ON outbox (created_at);

-- The sending pace shared by every instance (CONSULAR_DESK_SMTP_RATE_PER_SECOND): a claim
-- takes its messages' share of time from here, so all instances together keep to the rate.
CREATE TABLE mail_pace (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    next_at TIMESTAMP NOT NULL
);
INSERT INTO mail_pace (id, next_at) VALUES (1, '2000-01-01 00:00:00');
