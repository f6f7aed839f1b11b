DROP TABLE audit_chains;
DROP TABLE audit_seals;
DROP TABLE audit_pending;
DROP TABLE audit_log;
DROP FUNCTION refuse_change();
DROP FUNCTION audit_queue();
