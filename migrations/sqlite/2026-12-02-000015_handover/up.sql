-- Who collected a document at the window (ready_for_pickup -> delivered): the applicant
-- themself, or someone else named with the type of ID shown and its last four characters.
-- One per document (the primary key makes a second handover impossible). Append-only.
CREATE TABLE document_handovers (
    document_id    BIGINT PRIMARY KEY NOT NULL REFERENCES documents (id),
    event_id       BIGINT NOT NULL REFERENCES document_events (id),
    collector      TEXT NOT NULL CHECK (collector IN ('applicant', 'someone_else')),
    collector_name TEXT,
    id_type        TEXT CHECK (id_type IN ('passport', 'voter_card', 'driving_licence', 'other')),
    id_last4       TEXT,
    handed_at      TIMESTAMP NOT NULL,
    staff_id       BIGINT NOT NULL REFERENCES staff (id)
);
-- The post's documents by state, newest change first.
CREATE INDEX documents_post_status ON documents (post_code, status, updated_at);
CREATE TRIGGER document_handovers_no_update BEFORE UPDATE ON document_handovers
BEGIN
    SELECT RAISE(ABORT, 'document_handovers is append-only');
END;
CREATE TRIGGER document_handovers_no_delete BEFORE DELETE ON document_handovers
BEGIN
    SELECT RAISE(ABORT, 'document_handovers is append-only');
END;
