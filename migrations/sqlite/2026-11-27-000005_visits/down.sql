-- Walk-ins have no slot and can't go back into the old table.
DELETE FROM seat_holds WHERE appointment_id IN (SELECT id FROM appointments WHERE kind = 'walk_in');
CREATE TABLE appointments_old (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    reference          TEXT NOT NULL UNIQUE,
    slot_id            BIGINT NOT NULL REFERENCES slots (id),
    post_code          TEXT NOT NULL REFERENCES posts (code),
    service_code       TEXT NOT NULL REFERENCES services (code),
    starts_at          TIMESTAMP NOT NULL,
    applicant_id       BIGINT REFERENCES applicants (id),
    booked_by_staff_id BIGINT REFERENCES staff (id),
    party_size         INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 4),
    party              TEXT NOT NULL,
    phone              TEXT,
    status             TEXT NOT NULL
                       CHECK (status IN ('booked', 'cancelled', 'checked_in', 'completed', 'no_show')),
    active_key         TEXT UNIQUE,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    cancelled_at       TIMESTAMP,
    CHECK (applicant_id IS NOT NULL OR booked_by_staff_id IS NOT NULL)
);
INSERT INTO appointments_old
    SELECT id, reference, slot_id, post_code, service_code, starts_at, applicant_id,
        booked_by_staff_id, party_size, party, phone,
        CASE WHEN status IN ('called', 'in_service') THEN 'checked_in' ELSE status END,
        active_key, created_at, updated_at, cancelled_at
    FROM appointments WHERE kind = 'booked';
DROP TABLE appointments;
ALTER TABLE appointments_old RENAME TO appointments;
CREATE INDEX appointments_applicant ON appointments (applicant_id);
CREATE INDEX appointments_slot ON appointments (slot_id);
