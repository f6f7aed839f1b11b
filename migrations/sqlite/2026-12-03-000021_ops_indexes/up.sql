-- /readyz and /metrics read the given-up messages at every probe and scrape: the oldest one
-- and how many were given up over an hour ago. A given-up message's due_at is the moment it
-- was given up; this index finds both without walking the outbox (outbox_due leads with
-- priority after state, so it can't). Twin: migrations/postgres.
CREATE INDEX outbox_state_due ON outbox (state, due_at);
