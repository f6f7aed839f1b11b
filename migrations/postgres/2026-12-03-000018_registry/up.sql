-- The citizen registry (docs/REGISTRY.md): stays registered by citizens in Mexico, the
-- emergency messages and newsletters sent to them, and what the mail needs for bulk sending.
-- Twin: migrations/sqlite.

-- A new staff role: duty officers write emergency messages and read their district's registry.
ALTER TABLE staff DROP CONSTRAINT staff_role_check;
ALTER TABLE staff ADD CONSTRAINT staff_role_check
    CHECK (role IN ('clerk', 'supervisor', 'auditor', 'admin', 'duty_officer'));

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
    id                 BIGSERIAL PRIMARY KEY,
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
    id          BIGSERIAL PRIMARY KEY,
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
ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox DROP CONSTRAINT outbox_state_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_state_check
    CHECK (state IN ('waiting', 'sending', 'sent', 'failed', 'withdrawn'));
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (state, priority, due_at, id);

-- The sending pace shared by every instance (CONSULAR_DESK_SMTP_RATE_PER_SECOND): a claim
-- takes its messages' share of time from here, so all instances together keep to the rate.
CREATE TABLE mail_pace (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    next_at TIMESTAMP NOT NULL
);
INSERT INTO mail_pace (id, next_at) VALUES (1, TIMESTAMP '2000-01-01 00:00:00');
