//! Accounts: applicants, staff, and signing in.

pub mod applicants;
pub mod email;
pub mod fields;
pub mod links;
pub mod login;
pub mod recovery;
pub mod sessions;
pub mod staff;
pub mod token_check;

use crate::auth::hash_pool::HashPool;
use crate::clock::Clock;
use crate::config::LoginThrottle;
use crate::db::Pool;

/// What the account use-cases that check or set a password use of the server, lent by the
/// handler: the pool, the password-hashing threads, the sign-in throttle's limits and the
/// clock.
pub struct Tools<'a> {
    pub pool: &'a Pool,
    pub hasher: &'a HashPool,
    pub limits: &'a LoginThrottle,
    pub clock: &'a Clock,
    /// Where the public reaches the service: the links in messages point here.
    pub public_url: &'a str,
}
