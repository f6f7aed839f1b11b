-- Fees and receipts: the cash register. Twin in the other backend.
--
-- A receipt is numbered per post and US fiscal year from the gapless counter
-- (`MEX-2027-000123`) in the transaction that writes it, with its lines priced from the fee
-- schedule in force on its local date. Receipts, their lines, voids, daily closes and their
-- signatures are never updated or deleted (triggers below): a void is a record of its own
-- that points at the receipt, and a signature is a record that points at the close.

-- Where a post is, for its receipts.
ALTER TABLE posts ADD COLUMN address TEXT NOT NULL DEFAULT '';

-- Local currency per US dollar for a post's local day, in micro-units (17.25 = 17250000), set by
-- a supervisor; cash in local currency needs it.
CREATE TABLE exchange_rates (
    post_code   TEXT NOT NULL REFERENCES posts (code),
    local_date  DATE NOT NULL,
    currency    TEXT NOT NULL,
    rate_micros BIGINT NOT NULL CHECK (rate_micros > 0),
    set_by      BIGINT NOT NULL REFERENCES staff (id),
    set_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (post_code, local_date, currency)
);

CREATE TABLE receipts (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_number     TEXT NOT NULL UNIQUE,
    post_code          TEXT NOT NULL REFERENCES posts (code),
    fiscal_year        INTEGER NOT NULL,
    seq                BIGINT NOT NULL CHECK (seq > 0),
    local_date         DATE NOT NULL,
    issued_at          TIMESTAMP NOT NULL,
    appointment_id     BIGINT NOT NULL REFERENCES appointments (id),
    document_id        BIGINT REFERENCES documents (id),
    payer              TEXT NOT NULL,
    clerk_id           BIGINT NOT NULL REFERENCES staff (id),
    method             TEXT NOT NULL CHECK (method IN ('cash_usd', 'cash_local', 'card', 'prepaid_online', 'no_fee')),
    total_cents        BIGINT NOT NULL CHECK (total_cents >= 0),
    currency           TEXT NOT NULL,
    local_total_cents  BIGINT,
    local_currency     TEXT,
    rate_micros        BIGINT,
    external_reference TEXT UNIQUE,
    no_fee_basis       TEXT,
    UNIQUE (post_code, fiscal_year, seq),
    CHECK ((method = 'cash_local') = (rate_micros IS NOT NULL)),
    CHECK ((method = 'prepaid_online') = (external_reference IS NOT NULL)),
    CHECK ((method = 'no_fee') = (no_fee_basis IS NOT NULL))
);
CREATE INDEX receipts_day ON receipts (post_code, local_date, clerk_id);
CREATE INDEX receipts_visit ON receipts (appointment_id);

CREATE TABLE receipt_lines (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_id     BIGINT NOT NULL REFERENCES receipts (id),
    line_no        INTEGER NOT NULL,
    fee_version_id BIGINT NOT NULL REFERENCES fee_schedule (id),
    fee_code       TEXT NOT NULL,
    description    TEXT NOT NULL,
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unit_cents     BIGINT NOT NULL CHECK (unit_cents >= 0),
    amount_cents   BIGINT NOT NULL CHECK (amount_cents >= 0),
    UNIQUE (receipt_id, line_no)
);

-- A void: the receipt stays as it was; this row says it no longer stands, who said so, and why.
CREATE TABLE receipt_voids (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    receipt_id BIGINT NOT NULL UNIQUE REFERENCES receipts (id),
    post_code  TEXT NOT NULL REFERENCES posts (code),
    local_date DATE NOT NULL,
    voided_at  TIMESTAMP NOT NULL,
    voided_by  BIGINT NOT NULL REFERENCES staff (id),
    reason     TEXT NOT NULL
);
CREATE INDEX receipt_voids_day ON receipt_voids (post_code, local_date);

-- A clerk's cash close of one local day at one post: what the receipts say, what was counted
-- (JSON lists of {method, currency, amount_cents}), and why they differ. A clerk may count
-- again before it is signed; the latest count is the one a supervisor signs.
CREATE TABLE closeouts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    post_code    TEXT NOT NULL REFERENCES posts (code),
    local_date   DATE NOT NULL,
    clerk_id     BIGINT NOT NULL REFERENCES staff (id),
    submitted_at TIMESTAMP NOT NULL,
    expected     TEXT NOT NULL,
    counted      TEXT NOT NULL,
    explanation  TEXT
);
CREATE INDEX closeouts_day ON closeouts (post_code, local_date, clerk_id);

-- A supervisor's signature on a close; from then on the clerk's day is locked.
CREATE TABLE closeout_signatures (
    closeout_id BIGINT PRIMARY KEY NOT NULL REFERENCES closeouts (id),
    signed_by   BIGINT NOT NULL REFERENCES staff (id),
    signed_at   TIMESTAMP NOT NULL
);

-- Append-only, whoever connects; fee versions too (a new price is a new version).
CREATE TRIGGER fee_schedule_no_update BEFORE UPDATE ON fee_schedule
BEGIN
    SELECT RAISE(ABORT, 'fee_schedule is append-only');
END;
CREATE TRIGGER fee_schedule_no_delete BEFORE DELETE ON fee_schedule
BEGIN
    SELECT RAISE(ABORT, 'fee_schedule is append-only');
END;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
BEGIN
    SELECT RAISE(ABORT, 'receipts is append-only');
END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
BEGIN
    SELECT RAISE(ABORT, 'receipts is append-only');
END;
CREATE TRIGGER receipt_lines_no_update BEFORE UPDATE ON receipt_lines
BEGIN
    SELECT RAISE(ABORT, 'receipt_lines is append-only');
END;
CREATE TRIGGER receipt_lines_no_delete BEFORE DELETE ON receipt_lines
BEGIN
    SELECT RAISE(ABORT, 'receipt_lines is append-only');
END;
CREATE TRIGGER receipt_voids_no_update BEFORE UPDATE ON receipt_voids
BEGIN
    SELECT RAISE(ABORT, 'receipt_voids is append-only');
END;
CREATE TRIGGER receipt_voids_no_delete BEFORE DELETE ON receipt_voids
BEGIN
    SELECT RAISE(ABORT, 'receipt_voids is append-only');
END;
CREATE TRIGGER closeouts_no_update BEFORE UPDATE ON closeouts
BEGIN
    SELECT RAISE(ABORT, 'closeouts is append-only');
END;
CREATE TRIGGER closeouts_no_delete BEFORE DELETE ON closeouts
BEGIN
    SELECT RAISE(ABORT, 'closeouts is append-only');
END;
CREATE TRIGGER closeout_signatures_no_update BEFORE UPDATE ON closeout_signatures
BEGIN
    SELECT RAISE(ABORT, 'closeout_signatures is append-only');
END;
CREATE TRIGGER closeout_signatures_no_delete BEFORE DELETE ON closeout_signatures
BEGIN
    SELECT RAISE(ABORT, 'closeout_signatures is append-only');
END;
