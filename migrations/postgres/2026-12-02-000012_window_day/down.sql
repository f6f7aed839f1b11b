DROP INDEX appointments_status;
UPDATE appointments SET status = 'no_show' WHERE status = 'not_served';
ALTER TABLE appointments
    DROP COLUMN walk_in_note,
    DROP COLUMN rebooked_as,
    DROP CONSTRAINT appointments_status_check,
    ADD CONSTRAINT appointments_status_check
        CHECK (status IN ('booked', 'cancelled', 'checked_in', 'called', 'in_service', 'completed',
                          'no_show'));
ALTER TABLE posts DROP COLUMN closes_local;
