-- "Tell us what you think" (docs/API.md, Feedback): what the public writes about a post, and
-- optionally one of its services, from the /feedback page or POST /api/v1/feedback. The text is
-- kept as written (trimmed, NFC); the address only when the person gave one to be answered.
-- Staff of the post read it by date; auditors export it. Nothing updates a row.
CREATE TABLE feedback (
    id           INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    post_code    TEXT NOT NULL REFERENCES posts (code),
    service_code TEXT REFERENCES services (code),
    text         TEXT NOT NULL,
    email        TEXT,
    language     TEXT NOT NULL CHECK (language IN ('en', 'es')),
    created_at   TIMESTAMP NOT NULL
);
-- A post's feedback by date, the staff list and the export.
CREATE INDEX feedback_post_created ON feedback (post_code, created_at);
