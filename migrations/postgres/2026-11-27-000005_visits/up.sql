-- Visits. A walk-in is a visit like any other, so it is an appointments row with no slot:
-- one reference space, one status machine and one day board for booked and walk-in visits
-- alike; documents and fees hang off the reference. `kind` says which, and only a booked
-- visit has a slot. The statuses the window will use (called, in_service) are allowed now.
-- Twin: migrations/sqlite (which rebuilds the table; here ALTER does it).
ALTER TABLE appointments
    ADD COLUMN kind TEXT NOT NULL DEFAULT 'booked' CHECK (kind IN ('booked', 'walk_in')),
    ADD COLUMN walk_in_reason TEXT,
    ALTER COLUMN slot_id DROP NOT NULL,
    DROP CONSTRAINT appointments_status_check,
    ADD CONSTRAINT appointments_status_check
        CHECK (status IN ('booked', 'cancelled', 'checked_in', 'called', 'in_service', 'completed',
                          'no_show')),
    ADD CONSTRAINT appointments_kind_slot CHECK ((kind = 'booked') = (slot_id IS NOT NULL)),
    ADD CONSTRAINT appointments_kind_reason CHECK ((kind = 'walk_in') = (walk_in_reason IS NOT NULL));
-- The day board: a post's visits of one local day, by time.
CREATE INDEX appointments_post_time ON appointments (post_code, starts_at);
