//! Authentication: password hashing, signed tokens, roles and the request extractors.

pub mod extractors;
pub mod passwords;
pub mod roles;
pub mod tokens;

pub use extractors::{Applicant, Guarded, Staff};
pub use roles::Role;
