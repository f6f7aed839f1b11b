//! Signing in, for both doors (applicants by e-mail, staff by username).
//!
//! Unknown account and wrong password give the same answer in the same time; repeated
//! failures close the account's and the client address's bucket for a while (429).

use chrono::Utc;

use crate::accounts::{applicants, staff};
use crate::auth::passwords;
use crate::config::LoginThrottle;
use crate::db::Pool;
use crate::error::AppError;
use crate::throttle::{self, Limit};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    Applicant,
    Staff,
}

/// Who signed in: the token subject and, for staff, the role name.
#[derive(Debug)]
pub struct SignedIn {
    pub subject: i64,
    pub role: Option<String>,
}

pub fn login(
    pool: &Pool,
    limits: &LoginThrottle,
    door: Door,
    identifier: &str,
    password: &str,
    client_address: &str,
) -> Result<SignedIn, AppError> {
    let identifier = identifier.trim().to_lowercase();
    let account_bucket = match door {
        Door::Applicant => format!("login:applicant:{identifier}"),
        Door::Staff => format!("login:staff:{identifier}"),
    };
    let address_bucket = format!("login:address:{client_address}");
    let account_limit = Limit { max: limits.max_failures_per_account, window: limits.window };
    let address_limit = Limit { max: limits.max_failures_per_address, window: limits.window };
    let now = Utc::now().naive_utc();

    let found = {
        let mut conn = pool.get()?;
        let waits = [
            throttle::check(&mut conn, &account_bucket, account_limit, now)?,
            throttle::check(&mut conn, &address_bucket, address_limit, now)?,
        ];
        if let Some(wait) = waits.into_iter().flatten().max() {
            return Err(AppError::TooManyRequests { retry_after_secs: wait.num_seconds().max(1) as u64 });
        }
        match door {
            Door::Applicant => {
                applicants::credentials(&mut conn, &identifier)?.map(|(id, hash)| (id, hash, None))
            }
            Door::Staff => {
                staff::credentials(&mut conn, &identifier)?.map(|(id, hash, role)| (id, hash, Some(role)))
            }
        }
    };

    // No connection is held while argon2 runs.
    let verified = passwords::verify(password, found.as_ref().map(|(_, hash, _)| hash.as_str()));

    let mut conn = pool.get()?;
    match found {
        Some((subject, _, role)) if verified => {
            throttle::clear(&mut conn, &account_bucket)?;
            Ok(SignedIn { subject, role })
        }
        _ => {
            throttle::hit(&mut conn, &account_bucket, account_limit, now)?;
            throttle::hit(&mut conn, &address_bucket, address_limit, now)?;
            Err(AppError::unauthorized("invalid_credentials", "the sign-in details are not correct"))
        }
    }
}
