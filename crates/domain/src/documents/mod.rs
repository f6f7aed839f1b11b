//! Intake, tracked documents and the notarial register: what a visit produces at the window.
//!
//! - [`intake`]: the forms' rules (DS-11 minors, DS-82 eligibility, notarial jobs), pure.
//! - [`identity`]: document numbers masked with a keyed hash; the surname fold of lookups.
//! - [`tracking`]: the tracking state machines and the non-enumerable tracking numbers.
//! - [`records`]: the operations: pre-fill, recording at the window, transitions, lookups.
//! - [`register`]: the append-only notarial register, its corrections and its CSV.
//! - [`slips`]: the tracking slip handed over for each document recorded.

pub mod identity;
pub mod intake;
pub mod records;
pub mod register;
pub mod slips;
pub mod tracking;
