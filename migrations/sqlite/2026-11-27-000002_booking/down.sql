DROP TABLE idempotency_keys;
DROP TABLE seat_holds;
DROP TABLE appointments;
DROP TABLE slots;
DROP TABLE slot_horizons;
DROP TABLE closures;
DROP TABLE schedules;
