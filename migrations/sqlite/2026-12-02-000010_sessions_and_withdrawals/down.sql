DROP TABLE fee_withdrawals;
DROP TABLE ended_sessions;
