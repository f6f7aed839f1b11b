DROP INDEX documents_post_status;
DROP TABLE document_handovers;
