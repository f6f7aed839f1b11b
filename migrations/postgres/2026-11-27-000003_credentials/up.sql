-- Tokens die with the credential: every token carries the account's credential_version, and
-- a password change or reset, disabling, or a role or post change increments it.
ALTER TABLE applicants ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE staff ADD COLUMN credential_version INTEGER NOT NULL DEFAULT 1;
