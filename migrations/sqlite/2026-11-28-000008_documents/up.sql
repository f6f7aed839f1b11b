-- Intake, tracked documents and the notarial register. Twin in the other backend.
--
-- intakes: what an applicant pre-filled for their appointment (JSON items), replaced until the
-- appointment starts. Identity-document and passport numbers in it are masked (last 4) with a
-- keyed hash, never whole.
CREATE TABLE intakes (
    appointment_id BIGINT PRIMARY KEY NOT NULL REFERENCES appointments (id),
    items          TEXT NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);

-- documents: one per application or notarial job recorded at the window. The tracking number
-- is random (not enumerable); surname_key is a keyed hash of the folded surname the public
-- lookup compares against; number_hash the keyed hash of the main document number, for
-- matching. The status follows documents::tracking's state machines.
CREATE TABLE documents (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    tracking_number TEXT NOT NULL UNIQUE,
    appointment_id  BIGINT NOT NULL REFERENCES appointments (id),
    post_code       TEXT NOT NULL REFERENCES posts (code),
    kind            TEXT NOT NULL CHECK (kind IN ('passport', 'crba', 'notarial')),
    form            TEXT NOT NULL CHECK (form IN ('DS-11', 'DS-82', 'DS-5504', 'DS-2029', 'notarial')),
    status          TEXT NOT NULL CHECK (status IN ('received', 'sent_for_adjudication',
                        'more_information_needed', 'approved', 'printed', 'received_at_post',
                        'ready_for_pickup', 'delivered', 'denied', 'withdrawn', 'pending',
                        'completed')),
    surname_key     TEXT NOT NULL,
    number_hash     TEXT,
    details         TEXT NOT NULL,
    recorded_at     TIMESTAMP NOT NULL,
    recorded_by     BIGINT NOT NULL REFERENCES staff (id),
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX documents_visit ON documents (appointment_id);
CREATE INDEX documents_number ON documents (number_hash);

-- Every state a document has been in, the first included: when, by which staff member
-- (none for a change the system makes), and the note. Append-only.
CREATE TABLE document_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id BIGINT NOT NULL REFERENCES documents (id),
    status      TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    staff_id    BIGINT REFERENCES staff (id),
    note        TEXT
);
CREATE INDEX document_events_document ON document_events (document_id, id);

-- The notarial register: one entry per notarial act, numbered per post and US fiscal year from
-- the gapless counter (`MEX-2027-000123`) when it is written (recorded_at); performed_at is
-- when the act was (a correction keeps its original's). Append-only: a mistake is corrected by
-- a new entry whose `corrects` names the old one.
CREATE TABLE notarial_register (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_number    TEXT NOT NULL UNIQUE,
    post_code       TEXT NOT NULL REFERENCES posts (code),
    fiscal_year     INTEGER NOT NULL,
    seq             BIGINT NOT NULL CHECK (seq > 0),
    recorded_at     TIMESTAMP NOT NULL,
    performed_at    TIMESTAMP NOT NULL,
    venue           TEXT NOT NULL,
    act             TEXT NOT NULL,
    document_title  TEXT NOT NULL,
    pages           INTEGER NOT NULL CHECK (pages > 0),
    signers         TEXT NOT NULL,
    certificates    INTEGER NOT NULL CHECK (certificates > 0),
    officer_id      BIGINT NOT NULL REFERENCES staff (id),
    appointment_id  BIGINT NOT NULL REFERENCES appointments (id),
    document_id     BIGINT NOT NULL REFERENCES documents (id),
    corrects        BIGINT REFERENCES notarial_register (id),
    correction_note TEXT,
    UNIQUE (post_code, fiscal_year, seq),
    CHECK ((corrects IS NULL) = (correction_note IS NULL))
);
CREATE INDEX notarial_register_time ON notarial_register (post_code, recorded_at);

-- Append-only, whoever connects.
CREATE TRIGGER document_events_no_update BEFORE UPDATE ON document_events
BEGIN
    SELECT RAISE(ABORT, 'document_events is append-only');
END;
CREATE TRIGGER document_events_no_delete BEFORE DELETE ON document_events
BEGIN
    SELECT RAISE(ABORT, 'document_events is append-only');
END;
CREATE TRIGGER notarial_register_no_update BEFORE UPDATE ON notarial_register
BEGIN
    SELECT RAISE(ABORT, 'notarial_register is append-only');
END;
CREATE TRIGGER notarial_register_no_delete BEFORE DELETE ON notarial_register
BEGIN
    SELECT RAISE(ABORT, 'notarial_register is append-only');
END;
