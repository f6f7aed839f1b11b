//! Signing in, for both doors (applicants by e-mail, staff by username), and checking a
//! password again (an applicant changing theirs).
//!
//! Unknown account and wrong password give the same answer in the same time. Each attempt is
//! counted *before* its password is checked, in three buckets: the account from this client
//! address, the client address, and the account from everywhere. The counts decide
//! ([`verdict`]); an attempt that is refused, or whose password turns out right, is taken back,
//! so the buckets hold exactly the password checks that failed or are still running. Parallel
//! guesses therefore get no more checks than the limit, and a guesser elsewhere can't lock the
//! owner out: the owner's own address has no failures.

use chrono::NaiveDateTime;

use serde_json::json;

use crate::accounts::{applicants, staff, Tools};
use crate::audit::{self, Action, Event};
use crate::auth::tokens::Audience;
use crate::auth::Actor;
use crate::config::LoginThrottle;
use crate::db::{write_transaction, DbConn};
use crate::error::{AppError, Code};
use crate::throttle::{self, Limit};

/// Who signed in: the token subject, the credential version the token carries and, for
/// staff, the role name.
#[derive(Debug)]
pub struct SignedIn {
    pub subject: i64,
    pub credential_version: i32,
    pub role: Option<String>,
}

/// The three counts of one attempt, this attempt included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Password checks for this account from this address.
    pub pair: i32,
    /// Password checks from this address, any account.
    pub address: i32,
    /// Password checks for this account, any address.
    pub account: i32,
}

/// Which bucket refuses an attempt, if any. Pure rule.
///
/// Past the account-wide ceiling an address still gets its *first* attempt of the window, so
/// distributed guessing gets one guess per address while the owner, whose address has not
/// failed, still signs in.
pub fn verdict(counts: Counts, limits: &LoginThrottle) -> Option<Bucket> {
    let over = |count: i32, max: u32| count > 0 && count as u32 > max;
    if over(counts.pair, limits.max_failures_per_account) {
        Some(Bucket::Pair)
    } else if over(counts.address, limits.max_failures_per_address) {
        Some(Bucket::Address)
    } else if over(counts.account, limits.account_ceiling) && counts.pair > 1 {
        Some(Bucket::Account)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Pair,
    Address,
    Account,
}

/// An attempt counted in its buckets, to be settled once the password has been checked.
struct Counted {
    buckets: [(String, NaiveDateTime); 3],
}

impl Counted {
    /// Takes the attempt back from the buckets named (refused, or not a failure after all).
    fn take_back(&self, conn: &mut DbConn, which: &[Bucket]) -> Result<(), AppError> {
        for bucket in which {
            let (name, started) = &self.buckets[*bucket as usize];
            throttle::uncount(conn, name, *started)?;
        }
        Ok(())
    }
}

/// The account a sign-in names: `(id, password hash, credential version, role, post)`.
type Account = (i64, String, i32, Option<String>, Option<String>);

/// The audit entry of a sign-in that failed or was refused: on the account's post's chain,
/// naming the account by id when the name is one (never the name typed).
fn sign_in_event(action: Action, door: Audience, account: Option<&Account>) -> Event {
    let door_name = door_name(door);
    let event = match account {
        Some((id, ..)) => Event::new(action, format!("{door_name}:{id}")),
        None => Event::unnamed(action),
    };
    event.at_post(account.and_then(|a| a.4.as_deref())).with(json!({"door": door_name}))
}

/// The door's name in audit entries and throttle buckets.
pub(crate) fn door_name(door: Audience) -> &'static str {
    match door {
        Audience::Public => "applicant",
        Audience::Staff => "staff",
    }
}

/// Counts the attempt, reads the account, and refuses the attempt (429, recorded) when a
/// bucket is over its limit.
fn begin(
    conn: &mut DbConn,
    limits: &LoginThrottle,
    actor: &Actor,
    door: Audience,
    identifier: &str,
    client_address: &str,
    now: NaiveDateTime,
) -> Result<(Counted, Option<Account>), AppError> {
    let door_name = door_name(door);
    // Each kind has its own prefix, and what the client typed comes last: no identifier can
    // spell another bucket's name (the address is a parsed IP, it holds no `|`).
    let names = [
        format!("login:pair:{door_name}:{client_address}|{identifier}"),
        format!("login:address:{client_address}"),
        format!("login:account:{door_name}|{identifier}"),
    ];
    let counts = throttle::count_all(conn, &names, limits.window, now)?;
    let [pair, address, account] = [counts[0], counts[1], counts[2]];
    let [pair_name, address_name, account_name] = names;
    let counted =
        Counted { buckets: [(pair_name, pair.0), (address_name, address.0), (account_name, account.0)] };
    let found = match door {
        Audience::Public => {
            applicants::credentials(conn, identifier)?.map(|(id, hash, v)| (id, hash, v, None, None))
        }
        Audience::Staff => staff::credentials(conn, identifier)?
            .map(|(id, hash, role, v, post)| (id, hash, v, Some(role), post)),
    };
    if let Some(refused) = verdict(Counts { pair: pair.1, address: address.1, account: account.1 }, limits) {
        // Recorded once per refusing bucket and window: a flood of refused attempts is one
        // entry, not a way to fill the audit log.
        let bucket = &counted.buckets[refused as usize].0;
        let limit = Limit { max: 1, window: limits.window };
        let first_refusal = throttle::take(conn, &format!("audited|{bucket}"), limit, now)?.is_none();
        counted.take_back(conn, &[Bucket::Pair, Bucket::Address, Bucket::Account])?;
        // Its own transaction: the throttle's bookkeeping commits without waiting for the
        // disk, and the audit entry must not.
        if first_refusal {
            let event = sign_in_event(Action::SignInThrottled, door, found.as_ref());
            write_transaction(conn, |c| audit::record(c, actor, event, now))?;
        }
        let started = counted.buckets[refused as usize].1;
        return Err(AppError::too_many_requests(started + limits.window - now));
    }
    Ok((counted, found))
}

/// Checks `password` for the account `identifier` names at `door`, throttled as above, on
/// behalf of `actor` (anonymous for a sign-in, the applicant for a password change), who is
/// recorded with a failure. 401 `invalid_credentials` for an unknown account or a wrong
/// password alike.
pub async fn check_password(
    tools: &Tools<'_>,
    actor: Actor,
    door: Audience,
    identifier: &str,
    password: String,
    client_address: String,
) -> Result<SignedIn, AppError> {
    let now = tools.clock.naive();
    let identifier = identifier.trim().to_lowercase();
    // No account has control characters in its name, and PostgreSQL refuses a NUL in a text
    // parameter: answer at once, as for any unknown account (there is no password to check).
    if identifier.chars().any(char::is_control) {
        return Err(AppError::new(Code::InvalidCredentials, "the sign-in details are not correct"));
    }
    let limits = tools.limits.clone();
    let (counted, found) = crate::db::run(tools.pool, {
        let actor = actor.clone();
        move |conn| begin(conn, &limits, &actor, door, &identifier, &client_address, now)
    })
    .await?;
    // No connection is held while argon2 runs, and argon2 runs on its own bounded pool.
    let verified = tools.hasher.verify(password, found.as_ref().map(|(_, hash, ..)| hash.clone())).await;
    let outcome = match (verified, &found) {
        (Ok(true), Some((subject, _, credential_version, role, _))) => {
            Ok(SignedIn { subject: *subject, credential_version: *credential_version, role: role.clone() })
        }
        (Ok(_), _) => Err(AppError::new(Code::InvalidCredentials, "the sign-in details are not correct")),
        (Err(shed), _) => Err(shed),
    };
    let failed = matches!(&outcome, Err(e) if e.is_unauthorized());
    let refund: &'static [Bucket] = match &outcome {
        // A failure stays counted in all three buckets.
        _ if failed => &[],
        // Right password: this address's failures for the account are forgiven.
        Ok(_) => &[Bucket::Address, Bucket::Account],
        // Shed (503) or broken: no password was checked.
        Err(_) => &[Bucket::Pair, Bucket::Address, Bucket::Account],
    };
    let forgive = outcome.is_ok();
    crate::db::run(tools.pool, move |conn| {
        counted.take_back(conn, refund)?;
        if forgive {
            throttle::clear(conn, &counted.buckets[Bucket::Pair as usize].0)?;
        }
        if failed {
            let event = sign_in_event(Action::SignInFailed, door, found.as_ref());
            write_transaction(conn, |c| audit::record(c, &actor, event, now))?;
        }
        Ok(())
    })
    .await?;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn limits() -> LoginThrottle {
        LoginThrottle {
            max_failures_per_account: 5,
            max_failures_per_address: 30,
            account_ceiling: 50,
            window: Duration::minutes(15),
            max_registrations_per_address: 10,
        }
    }

    fn counts(pair: i32, address: i32, account: i32) -> Counts {
        Counts { pair, address, account }
    }

    #[test]
    fn the_limit_counts_this_attempt() {
        assert_eq!(verdict(counts(5, 5, 5), &limits()), None);
        assert_eq!(verdict(counts(6, 6, 6), &limits()), Some(Bucket::Pair));
        assert_eq!(verdict(counts(1, 31, 1), &limits()), Some(Bucket::Address));
    }

    #[test]
    fn past_the_ceiling_only_a_first_attempt_from_an_address_is_checked() {
        assert_eq!(verdict(counts(1, 1, 500), &limits()), None);
        assert_eq!(verdict(counts(2, 2, 51), &limits()), Some(Bucket::Account));
        assert_eq!(verdict(counts(2, 2, 50), &limits()), None);
    }
}
