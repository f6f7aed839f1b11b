//! Reports for auditors: the fee report, read from receipts, voids and cash closes.

pub mod csv;
pub mod export;
pub mod fee_report;
pub mod json;
pub mod pdf;
pub mod xlsx;
