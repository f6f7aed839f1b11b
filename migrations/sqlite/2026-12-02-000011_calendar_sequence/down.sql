ALTER TABLE appointments DROP COLUMN sequence;
