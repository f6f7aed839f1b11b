//! Authentication: password hashing, signed tokens, roles and who a token signs in.

pub mod actor;
pub mod hash_pool;
pub mod passwords;
pub mod roles;
pub mod signed_in;
pub mod tokens;

pub use actor::{Actor, StaffMember};
pub use roles::Role;
pub use signed_in::{Applicant, Staff};
