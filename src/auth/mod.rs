//! Authentication: password hashing, signed tokens, roles and the request extractors.

pub mod actor;
pub mod extractors;
pub mod hash_pool;
pub mod passwords;
pub mod roles;
pub mod tokens;

pub use actor::{Actor, StaffMember};
pub use extractors::{Applicant, Guarded, Staff};
pub use roles::Role;
