-- Foundation: secrets, reference data, accounts, throttling. Twin: migrations/sqlite.
CREATE TABLE app_secrets (
    name        TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE posts (
    code        TEXT PRIMARY KEY NOT NULL CHECK (char_length(code) = 3 AND code = upper(code)),
    name        TEXT NOT NULL,
    city        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('embassy', 'consulate_general', 'consulate')),
    timezone    TEXT NOT NULL,
    emergency_phone TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE services (
    code             TEXT PRIMARY KEY NOT NULL,
    name             TEXT NOT NULL,
    form             TEXT,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
    max_party_size   INTEGER NOT NULL CHECK (max_party_size BETWEEN 1 AND 4),
    description      TEXT NOT NULL
);

CREATE TABLE fee_schedule (
    id              BIGSERIAL PRIMARY KEY,
    code            TEXT NOT NULL,
    description     TEXT NOT NULL,
    cfr_item        TEXT NOT NULL,
    amount_cents    BIGINT NOT NULL CHECK (amount_cents >= 0),
    currency        TEXT NOT NULL CHECK (char_length(currency) = 3),
    effective_from  DATE NOT NULL,
    effective_until DATE CHECK (effective_until IS NULL OR effective_until > effective_from),
    UNIQUE (code, effective_from)
);

CREATE TABLE applicants (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE staff (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor', 'auditor', 'admin')),
    post_code     TEXT REFERENCES posts (code),
    disabled_at   TIMESTAMP,
    created_at    TIMESTAMP NOT NULL
);

CREATE TABLE throttle_buckets (
    bucket            TEXT PRIMARY KEY NOT NULL,
    window_started_at TIMESTAMP NOT NULL,
    hits              INTEGER NOT NULL CHECK (hits >= 0)
);
