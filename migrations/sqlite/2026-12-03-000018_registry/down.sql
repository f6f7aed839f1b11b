-- SQLite keeps the wider CHECKs of staff and outbox on the way down (a rebuild for a down
-- migration is not worth its risk); the tables this migration made are dropped.
DROP TABLE mail_pace;
DELETE FROM outbox WHERE state = 'withdrawn';
DROP TABLE bulletins;
DROP TABLE stay_travellers;
DROP TABLE stays;
DROP TABLE mexican_states;
