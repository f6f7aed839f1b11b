DROP TRIGGER fee_schedule_append_only ON fee_schedule;
DROP TRIGGER fee_schedule_no_truncate ON fee_schedule;
DROP TABLE closeout_signatures;
DROP TABLE closeouts;
DROP TABLE receipt_voids;
DROP TABLE receipt_lines;
DROP TABLE receipts;
DROP TABLE exchange_rates;
ALTER TABLE posts DROP COLUMN address;
