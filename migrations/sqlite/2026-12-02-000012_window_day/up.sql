-- Closing the window's day. A visit still waiting (checked in or called) at its post's closing
-- time is closed by the system as `not_served`, a status of its own: the person came and was not
-- seen, which is neither a no-show nor a completed visit, and the supervisor books them again
-- (`rebooked_as`, the new appointment's reference, set once). A walk-in's `walk_in_reason` is now
-- a code (`routine`, or an emergency's reason such as `arrest`), with the clerk's free text in
-- `walk_in_note`. Each post may set its closing time (`closes_local`, local; NULL: the end of the
-- day's last opening). Twin: migrations/postgres.
--
-- SQLite can't change a CHECK constraint, so the table is rebuilt as in 000005 (foreign keys are
-- off on the migrations' connection, see db::run_migrations).
CREATE TABLE appointments_new (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    reference            TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL DEFAULT 'booked' CHECK (kind IN ('booked', 'walk_in')),
    slot_id              BIGINT REFERENCES slots (id),
    post_code            TEXT NOT NULL REFERENCES posts (code),
    service_code         TEXT NOT NULL REFERENCES services (code),
    starts_at            TIMESTAMP NOT NULL,
    applicant_id         BIGINT REFERENCES applicants (id),
    booked_by_staff_id   BIGINT REFERENCES staff (id),
    party_size           INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 4),
    party                TEXT NOT NULL,
    phone                TEXT,
    walk_in_reason       TEXT,
    status               TEXT NOT NULL
                         CHECK (status IN ('booked', 'cancelled', 'checked_in', 'called', 'in_service',
                                           'completed', 'no_show', 'not_served')),
    active_key           TEXT UNIQUE,
    created_at           TIMESTAMP NOT NULL,
    updated_at           TIMESTAMP NOT NULL,
    cancelled_at         TIMESTAMP,
    ticket               TEXT,
    ticket_day           DATE,
    checked_in_at        TIMESTAMP,
    checked_in_by        BIGINT REFERENCES staff (id),
    late_check_in_reason TEXT,
    called_at            TIMESTAMP,
    called_to            TEXT,
    finished_at          TIMESTAMP,
    staff_change_reason  TEXT,
    sequence             INTEGER NOT NULL DEFAULT 0,
    walk_in_note         TEXT,
    rebooked_as          TEXT,
    CHECK (applicant_id IS NOT NULL OR booked_by_staff_id IS NOT NULL),
    CHECK ((kind = 'booked') = (slot_id IS NOT NULL)),
    CHECK ((kind = 'walk_in') = (walk_in_reason IS NOT NULL))
);
INSERT INTO appointments_new (id, reference, kind, slot_id, post_code, service_code, starts_at, applicant_id,
        booked_by_staff_id, party_size, party, phone, walk_in_reason, status, active_key, created_at,
        updated_at, cancelled_at, ticket, ticket_day, checked_in_at, checked_in_by,
        late_check_in_reason, called_at, called_to, finished_at, staff_change_reason, sequence)
    SELECT id, reference, kind, slot_id, post_code, service_code, starts_at, applicant_id,
        booked_by_staff_id, party_size, party, phone, walk_in_reason, status, active_key, created_at,
        updated_at, cancelled_at, ticket, ticket_day, checked_in_at, checked_in_by,
        late_check_in_reason, called_at, called_to, finished_at, staff_change_reason, sequence
    FROM appointments;
-- AUTOINCREMENT's counter goes with the old table; keep it, so no id is ever handed out twice.
CREATE TEMP TABLE appointments_sequence AS SELECT seq FROM sqlite_sequence WHERE name = 'appointments';
DROP TABLE appointments;
ALTER TABLE appointments_new RENAME TO appointments;
UPDATE sqlite_sequence SET seq = max(seq, (SELECT coalesce(max(seq), 0) FROM appointments_sequence))
    WHERE name = 'appointments';
DROP TABLE appointments_sequence;
CREATE INDEX appointments_applicant ON appointments (applicant_id);
CREATE INDEX appointments_slot ON appointments (slot_id);
CREATE INDEX appointments_post_time ON appointments (post_code, starts_at);
CREATE UNIQUE INDEX appointments_ticket ON appointments (post_code, ticket_day, ticket)
    WHERE ticket IS NOT NULL;
CREATE INDEX appointments_queue ON appointments (post_code, ticket_day, status);

ALTER TABLE posts ADD COLUMN closes_local TIME;
-- The closing sweep reads the visits still waiting, every minute on every instance: by status,
-- not by scanning every visit ever made.
CREATE INDEX appointments_status ON appointments (status, ticket_day);
