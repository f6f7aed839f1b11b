ALTER TABLE staff DROP COLUMN credential_version;
ALTER TABLE applicants DROP COLUMN credential_version;
