ALTER TABLE appointments DROP COLUMN reminder_queued_at;
ALTER TABLE staff DROP COLUMN email;
DROP TABLE account_links;
ALTER TABLE applicants DROP COLUMN document_notices;
ALTER TABLE applicants DROP COLUMN email_confirmed_at;
ALTER TABLE applicants DROP COLUMN language;
DROP TABLE outbox;
