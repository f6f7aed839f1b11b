//! Fees and receipts: the cash register.
//!
//! - [`expected`]: the fees a visit should expect, printed on its confirmation.
//! - [`money`]: integer cents, the local-currency rounding rule.
//! - [`pricing`]: items priced from the schedule in force, one fee per notarial certificate.
//! - [`schedule`]: new versions of the fee schedule (never edits).
//! - [`receipts`]: recording fees, receipts, voids, the public verification.
//! - [`verification`]: the code printed on each receipt.
//! - [`rates`]: the posts' daily exchange rates.
//! - [`closeouts`]: the daily cash close and its signature.

pub mod closeouts;
pub mod expected;
pub mod money;
pub mod pricing;
pub mod rates;
pub mod receipts;
pub mod schedule;
pub mod verification;
