-- Booking: weekly schedules, closures, materialized slots, appointments, seat holds and
-- idempotency records. Twin: migrations/sqlite. Times are UTC unless named local.

-- Weekly opening hours per post and service, in the post's local time.
CREATE TABLE schedules (
    id            BIGSERIAL PRIMARY KEY,
    post_code     TEXT NOT NULL REFERENCES posts (code),
    service_code  TEXT NOT NULL REFERENCES services (code),
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7), -- ISO 8601: 1 = Monday
    opens_local   TIME NOT NULL,
    closes_local  TIME NOT NULL,
    slot_minutes  INTEGER NOT NULL CHECK (slot_minutes BETWEEN 5 AND 240),
    capacity      INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 50),
    CHECK (opens_local < closes_local)
);
CREATE INDEX schedules_post_service ON schedules (post_code, service_code);

-- Holidays and ad-hoc closures: a whole local day, or part of one.
CREATE TABLE closures (
    id                  BIGSERIAL PRIMARY KEY,
    post_code           TEXT NOT NULL REFERENCES posts (code),
    local_date          DATE NOT NULL,
    from_local          TIME,
    to_local            TIME,
    starts_at           TIMESTAMP NOT NULL,
    ends_at             TIMESTAMP NOT NULL,
    reason              TEXT NOT NULL,
    created_by_staff_id BIGINT REFERENCES staff (id),
    created_at          TIMESTAMP NOT NULL,
    CHECK (starts_at < ends_at),
    CHECK ((from_local IS NULL) = (to_local IS NULL))
);
CREATE INDEX closures_post_time ON closures (post_code, starts_at);

-- How far slots have been generated per post and service; moved forward with a conditional
-- update so two instances never generate the same days.
CREATE TABLE slot_horizons (
    post_code         TEXT NOT NULL REFERENCES posts (code),
    service_code      TEXT NOT NULL REFERENCES services (code),
    generated_through DATE NOT NULL,
    PRIMARY KEY (post_code, service_code)
);

CREATE TABLE slots (
    id           BIGSERIAL PRIMARY KEY,
    post_code    TEXT NOT NULL REFERENCES posts (code),
    service_code TEXT NOT NULL REFERENCES services (code),
    starts_at    TIMESTAMP NOT NULL,
    ends_at      TIMESTAMP NOT NULL,
    local_date   DATE NOT NULL,
    capacity     INTEGER NOT NULL CHECK (capacity >= 0),
    booked       INTEGER NOT NULL DEFAULT 0,
    -- Seats the current week offers: below capacity when a schedule change shrank or retired
    -- the slot while it had bookings (capacity can't drop below booked).
    offered      INTEGER NOT NULL CHECK (offered >= 0),
    -- The backstop for the conditional update that takes seats.
    CHECK (booked >= 0 AND booked <= capacity),
    UNIQUE (post_code, service_code, starts_at)
);
CREATE INDEX slots_post_date ON slots (post_code, local_date);

CREATE TABLE appointments (
    id                 BIGSERIAL PRIMARY KEY,
    reference          TEXT NOT NULL UNIQUE,
    slot_id            BIGINT NOT NULL REFERENCES slots (id),
    post_code          TEXT NOT NULL REFERENCES posts (code),
    service_code       TEXT NOT NULL REFERENCES services (code),
    starts_at          TIMESTAMP NOT NULL,
    applicant_id       BIGINT REFERENCES applicants (id),
    booked_by_staff_id BIGINT REFERENCES staff (id),
    party_size         INTEGER NOT NULL CHECK (party_size BETWEEN 1 AND 4),
    party              TEXT NOT NULL,
    phone              TEXT,
    status             TEXT NOT NULL
                       CHECK (status IN ('booked', 'cancelled', 'checked_in', 'completed', 'no_show')),
    -- "applicant:service" while the appointment is active, NULL otherwise: the unique index
    -- enforces one active appointment per applicant and service.
    active_key         TEXT UNIQUE,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    cancelled_at       TIMESTAMP,
    CHECK (applicant_id IS NOT NULL OR booked_by_staff_id IS NOT NULL)
);
CREATE INDEX appointments_applicant ON appointments (applicant_id);
CREATE INDEX appointments_slot ON appointments (slot_id);

-- Seats given up by a cancel or reschedule, kept off the market until release_at so they
-- can't be handed from one account to another.
CREATE TABLE seat_holds (
    id             BIGSERIAL PRIMARY KEY,
    slot_id        BIGINT NOT NULL REFERENCES slots (id),
    appointment_id BIGINT NOT NULL REFERENCES appointments (id),
    seats          INTEGER NOT NULL CHECK (seats > 0),
    release_at     TIMESTAMP NOT NULL,
    released_at    TIMESTAMP
);
CREATE INDEX seat_holds_due ON seat_holds (release_at) WHERE released_at IS NULL;

-- The first successful answer to a request with an Idempotency-Key, replayed for repeats.
CREATE TABLE idempotency_keys (
    scope       TEXT NOT NULL,
    idem_key    TEXT NOT NULL,
    request     TEXT NOT NULL,
    status      INTEGER NOT NULL,
    response    TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (scope, idem_key)
);
