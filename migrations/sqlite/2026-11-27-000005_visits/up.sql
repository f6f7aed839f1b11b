-- Visits. A walk-in is a visit like any other, so it is an appointments row with no slot:
-- one reference space, one status machine and one day board for booked and walk-in visits
-- alike; documents and fees hang off the reference. `kind` says which, and only a booked
-- visit has a slot. The statuses the window will use (called, in_service) are allowed now so
-- that it needs no second table rebuild.
--
-- SQLite can't drop NOT NULL, so the table is rebuilt (https://sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"). The migrations run on a connection of their own with
-- foreign keys off (see db::run_migrations), so seat_holds' references survive the swap.
CREATE TABLE appointments_new (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    reference          TEXT NOT NULL UNIQUE,
    kind               TEXT NOT NULL DEFAULT 'booked' CHECK (kind IN ('booked', 'walk_in')),
    slot_id            BIGINT REFERENCES slots (id),
    post_code          TEXT NOT NULL REFERENCES posts (code),
    service_code       TEXT NOT NULL REFERENCES services (code),
    starts_at          TIMESTAMP NOT NULL,
    applicant_id       BIGINT REFERENCES applicants (id),
    booked_by_staff_id BIGINT REFERENCES staff (id),
    party_size         INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 4),
    party              TEXT NOT NULL,
    phone              TEXT,
    walk_in_reason     TEXT,
    status             TEXT NOT NULL
                       CHECK (status IN ('booked', 'cancelled', 'checked_in', 'called', 'in_service',
                                         'completed', 'no_show')),
    active_key         TEXT UNIQUE,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    cancelled_at       TIMESTAMP,
    CHECK (applicant_id IS NOT NULL OR booked_by_staff_id IS NOT NULL),
    CHECK ((kind = 'booked') = (slot_id IS NOT NULL)),
    CHECK ((kind = 'walk_in') = (walk_in_reason IS NOT NULL))
);
INSERT INTO appointments_new (id, reference, kind, slot_id, post_code, service_code, starts_at,
        applicant_id, booked_by_staff_id, party_size, party, phone, status, active_key,
        created_at, updated_at, cancelled_at)
    SELECT id, reference, 'booked', slot_id, post_code, service_code, starts_at,
        applicant_id, booked_by_staff_id, party_size, party, phone, status, active_key,
        created_at, updated_at, cancelled_at
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
-- The day board: a post's visits of one local day, by time.
CREATE INDEX appointments_post_time ON appointments (post_code, starts_at);
