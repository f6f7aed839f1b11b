-- Gapless sequential numbers per scope (e.g. receipts of MEX in FY2027). Twin: migrations/postgres.
CREATE TABLE counters (
    scope      TEXT PRIMARY KEY NOT NULL,
    last_value BIGINT NOT NULL CHECK (last_value >= 1)
);
