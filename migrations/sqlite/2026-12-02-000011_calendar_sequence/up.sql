-- The version of an appointment's calendar event (iCalendar SEQUENCE, RFC 5545 3.8.7.4): 0 when
-- booked, one more with every reschedule and with the cancellation, so a calendar that imports
-- the newer file replaces the event (same UID) instead of keeping both. Incremented in the same
-- UPDATE that moves or cancels the appointment, so concurrent changes never lose a step.
ALTER TABLE appointments ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
