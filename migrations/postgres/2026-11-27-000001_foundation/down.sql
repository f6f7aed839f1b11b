DROP TABLE throttle_buckets;
DROP TABLE staff;
DROP TABLE applicants;
DROP TABLE fee_schedule;
DROP TABLE services;
DROP TABLE posts;
DROP TABLE app_secrets;
