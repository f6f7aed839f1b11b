DROP INDEX outbox_state_due;
