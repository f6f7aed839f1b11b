-- Mail (docs/MAIL.md). Every message is a row written in the transaction of the event that
-- causes it; a sender on every instance claims due rows, sends them and marks them. A row holds
-- what the message needs (its payload), not the rendered message: the body is drawn from
-- mail_templates/ when it is sent, so the event's transaction writes one small row.
CREATE TABLE outbox (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL,
    recipient     TEXT NOT NULL,
    language      TEXT NOT NULL CHECK (language IN ('en', 'es')),
    payload       TEXT NOT NULL,
    -- waiting: due at due_at; sending: claimed until claimed_until (a crash leaves it to be
    -- claimed again after that); sent; failed: gave up after the last try, last_error says why.
    state         TEXT NOT NULL CHECK (state IN ('waiting', 'sending', 'sent', 'failed')),
    tries         INTEGER NOT NULL DEFAULT 0,
    due_at        TIMESTAMP NOT NULL,
    claimed_until TIMESTAMP,
    last_error    TEXT,
    created_at    TIMESTAMP NOT NULL,
    sent_at       TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (state, due_at);
CREATE INDEX outbox_created ON outbox (created_at);

-- The account's language (its messages are written in it), whether its address is confirmed
-- (accounts made before confirmation existed count as confirmed), and whether it wants the
-- notices about its documents.
ALTER TABLE applicants ADD COLUMN language TEXT NOT NULL DEFAULT 'en' CHECK (language IN ('en', 'es'));
ALTER TABLE applicants ADD COLUMN email_confirmed_at TIMESTAMP;
ALTER TABLE applicants ADD COLUMN document_notices BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE applicants SET email_confirmed_at = created_at;

-- Single-use links sent by mail: confirming an address (a new account's, or a changed one) and
-- resetting a password. Only the token's SHA-256 is kept.
CREATE TABLE account_links (
    token_hash   TEXT PRIMARY KEY NOT NULL,
    purpose      TEXT NOT NULL CHECK (purpose IN ('confirm_email', 'reset_password')),
    applicant_id BIGINT NOT NULL REFERENCES applicants (id),
    email        TEXT NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    used_at      TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX account_links_applicant ON account_links (applicant_id, purpose);

-- Staff may have an address for the messages about their account.
ALTER TABLE staff ADD COLUMN email TEXT;

-- When the reminder of an appointment was queued: set once, by one conditional update, so
-- however many instances run, one reminder goes.
ALTER TABLE appointments ADD COLUMN reminder_queued_at TIMESTAMP;
