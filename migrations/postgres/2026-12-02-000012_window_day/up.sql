-- Closing the window's day. A visit still waiting (checked in or called) at its post's closing
-- time is closed by the system as `not_served`, a status of its own: the person came and was not
-- seen, which is neither a no-show nor a completed visit, and the supervisor books them again
-- (`rebooked_as`, the new appointment's reference, set once). A walk-in's `walk_in_reason` is now
-- a code (`routine`, or an emergency's reason such as `arrest`), with the clerk's free text in
-- `walk_in_note`. Each post may set its closing time (`closes_local`, local; NULL: the end of the
-- day's last opening). Twin: migrations/sqlite (which rebuilds the table; here ALTER does it).
ALTER TABLE appointments
    ADD COLUMN walk_in_note TEXT,
    ADD COLUMN rebooked_as TEXT,
    DROP CONSTRAINT appointments_status_check,
    ADD CONSTRAINT appointments_status_check
        CHECK (status IN ('booked', 'cancelled', 'checked_in', 'called', 'in_service', 'completed',
                          'no_show', 'not_served'));
ALTER TABLE posts ADD COLUMN closes_local TIME;
-- The closing sweep reads the visits still waiting, every minute on every instance: by status,
-- not by scanning every visit ever made.
CREATE INDEX appointments_status ON appointments (status, ticket_day);
