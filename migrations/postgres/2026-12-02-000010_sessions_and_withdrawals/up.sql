-- Sessions that ended before their token expired (sign-out). Every token carries its session id
-- (`sid`); a token whose session is here signs nobody in, on every instance at once, because the
-- lookup is part of the query that already reads the account on each request. Rows are dropped
-- by the maintenance timer once the token they name would have expired anyway.
-- "Sign out everywhere" needs no row: it increments the account's credential_version.
CREATE TABLE ended_sessions (
    sid        TEXT PRIMARY KEY NOT NULL,
    ended_at   TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX ended_sessions_expiry ON ended_sessions (expires_at);

-- A fee version withdrawn before it took effect at any post. fee_schedule stays append-only;
-- the withdrawal is a record of its own, and every price lookup skips withdrawn versions.
-- A withdrawal is never undone: add a new version instead.
CREATE TABLE fee_withdrawals (
    fee_version_id BIGINT PRIMARY KEY NOT NULL REFERENCES fee_schedule (id),
    reason         TEXT NOT NULL,
    withdrawn_by   BIGINT NOT NULL REFERENCES staff (id),
    withdrawn_at   TIMESTAMP NOT NULL
);
CREATE TRIGGER fee_withdrawals_append_only BEFORE UPDATE OR DELETE ON fee_withdrawals
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER fee_withdrawals_no_truncate BEFORE TRUNCATE ON fee_withdrawals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
