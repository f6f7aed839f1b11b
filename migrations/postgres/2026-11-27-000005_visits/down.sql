-- Walk-ins have no slot and can't stay in the old table.
DELETE FROM seat_holds WHERE appointment_id IN (SELECT id FROM appointments WHERE kind = 'walk_in');
DELETE FROM appointments WHERE kind = 'walk_in';
UPDATE appointments SET status = 'checked_in' WHERE status IN ('called', 'in_service');
DROP INDEX appointments_post_time;
ALTER TABLE appointments
    DROP CONSTRAINT appointments_kind_slot,
    DROP CONSTRAINT appointments_kind_reason,
    DROP CONSTRAINT appointments_status_check,
    ADD CONSTRAINT appointments_status_check
        CHECK (status IN ('booked', 'cancelled', 'checked_in', 'completed', 'no_show')),
    ALTER COLUMN slot_id SET NOT NULL,
    DROP COLUMN walk_in_reason,
    DROP COLUMN kind;
