DROP TABLE notarial_register;
DROP TABLE document_events;
DROP TABLE documents;
DROP TABLE intakes;
