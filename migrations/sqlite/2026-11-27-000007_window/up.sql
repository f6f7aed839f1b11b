-- The window: a visit's queue ticket (a letter and a number per post, local day and letter,
-- from the gapless counter), its check-in (by which clerk, with the reason for a late one),
-- the call to a window, and when it ended (completed or no-show); and the reason staff gave
-- for cancelling or moving someone's appointment. Twin in the other backend.
ALTER TABLE appointments ADD COLUMN ticket TEXT;
ALTER TABLE appointments ADD COLUMN ticket_day DATE;
ALTER TABLE appointments ADD COLUMN checked_in_at TIMESTAMP;
ALTER TABLE appointments ADD COLUMN checked_in_by BIGINT REFERENCES staff (id);
ALTER TABLE appointments ADD COLUMN late_check_in_reason TEXT;
ALTER TABLE appointments ADD COLUMN called_at TIMESTAMP;
ALTER TABLE appointments ADD COLUMN called_to TEXT;
ALTER TABLE appointments ADD COLUMN finished_at TIMESTAMP;
ALTER TABLE appointments ADD COLUMN staff_change_reason TEXT;
CREATE UNIQUE INDEX appointments_ticket ON appointments (post_code, ticket_day, ticket)
    WHERE ticket IS NOT NULL;
-- The queue: a post's checked-in visits of one day.
CREATE INDEX appointments_queue ON appointments (post_code, ticket_day, status);
