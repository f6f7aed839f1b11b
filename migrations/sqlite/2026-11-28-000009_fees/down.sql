DROP TRIGGER fee_schedule_no_update;
DROP TRIGGER fee_schedule_no_delete;
DROP TABLE closeout_signatures;
DROP TABLE closeouts;
DROP TABLE receipt_voids;
DROP TABLE receipt_lines;
DROP TABLE receipts;
DROP TABLE exchange_rates;
ALTER TABLE posts DROP COLUMN address;
