DROP TABLE audit_log;
DROP TABLE audit_chains;
DROP FUNCTION refuse_change();
