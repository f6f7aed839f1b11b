//! Accounts: applicants, staff, and signing in.

pub mod applicants;
pub mod fields;
pub mod login;
pub mod sessions;
pub mod staff;
