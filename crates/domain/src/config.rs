//! Settings from the environment, parsed and validated once at start.
//!
//! Every value is read through [`Settings::from_lookup`], so the process, the tests and the
//! unit tests below share one parser. A bad value is a [`ConfigError`] naming the variable.

use std::fmt;
use std::net::SocketAddr;

use chrono::Duration;
use jsonwebtoken::Algorithm;

use crate::proxies::{ProxyHeader, TrustedProxies};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://consular-desk.db";
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// HMAC keys shorter than the hash output weaken HS256; refuse them.
pub const MIN_SECRET_BYTES: usize = 32;

/// Where the data lives; the scheme decides the backend.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path, as given after `sqlite://`.
    Sqlite(String),
    /// The full `postgres://` URL, handed to libpq as is.
    Postgres(String),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(path) = raw.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://consular-desk.db".into());
            }
            if path.contains(":memory:") || path.contains("mode=memory") {
                return Err("an in-memory SQLite database would differ per pooled connection; \
                            use a file"
                    .into());
            }
            Ok(DatabaseUrl::Sqlite(path.to_string()))
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            Ok(DatabaseUrl::Postgres(raw.to_string()))
        } else {
            Err("must start with sqlite:// or postgres://".into())
        }
    }
}

/// Never prints the PostgreSQL URL, which may carry a password.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{path}"),
            DatabaseUrl::Postgres(_) => write!(f, "postgres://…"),
        }
    }
}

/// A signing secret; `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
    /// The text, to write it to the key file.
    pub fn expose_text(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

#[derive(Debug, Clone)]
pub struct JwtSettings {
    pub algorithm: Algorithm,
    pub issuer: String,
    /// From the environment; when `None` the secret is generated and kept in the database.
    pub public_secret: Option<Secret>,
    pub staff_secret: Option<Secret>,
    /// The secrets before a rotation: still accepted for verification, never used to sign, so
    /// keys can be rotated without signing everybody out.
    pub public_previous_secret: Option<Secret>,
    pub staff_previous_secret: Option<Secret>,
    pub public_token_ttl: Duration,
    pub staff_token_ttl: Duration,
}

/// Where the server keys come from when not from the database (see `server_keys`).
#[derive(Debug, Clone, Default)]
pub struct KeySettings {
    /// `CONSULAR_DESK_KEY_FILE`: a file of `name = value` lines, mode 0600, owned by us.
    pub file: Option<std::path::PathBuf>,
    pub document_matching_secret: Option<Secret>,
    pub receipt_signing_secret: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct LoginThrottle {
    /// Failed sign-ins for one account from one client address before that address is refused
    /// for that account for `window`. Other addresses can still sign in to it.
    pub max_failures_per_account: u32,
    /// Failed sign-ins from one client address (any account) before it is refused.
    pub max_failures_per_address: u32,
    /// Failed sign-ins for one account from all addresses before every address that has
    /// already failed for it is refused: distributed guessing. An address with no failure for
    /// the account still gets its attempt, so the owner is never locked out from elsewhere.
    pub account_ceiling: u32,
    pub window: Duration,
    /// Registrations per client address per hour.
    pub max_registrations_per_address: u32,
}

/// The argon2 hashing pool: threads of its own and a bounded queue.
#[derive(Debug, Clone)]
pub struct HashingSettings {
    pub threads: usize,
    /// Requests waiting for a hashing thread; beyond this they get 503 with `Retry-After`.
    pub queue: usize,
}

/// Booking rules and the upkeep of slots.
#[derive(Debug, Clone)]
pub struct BookingSettings {
    /// Slots exist, and may be booked, this far ahead.
    pub horizon_days: u32,
    /// Applicants book at least this long before the slot starts.
    pub min_notice: Duration,
    /// A cancelled or vacated seat returns to the pool after this delay, so seats can't be
    /// handed from one account to another.
    pub release_delay: Duration,
    /// Booking attempts (book and reschedule) per applicant per hour.
    pub max_attempts_per_applicant: u32,
    /// Booking attempts per client address per hour.
    pub max_attempts_per_address: u32,
    /// How often each instance releases due seats and extends the slot horizon.
    pub maintenance_every: std::time::Duration,
    /// An applicant's account must have confirmed its address before it books
    /// (`CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL`, default true).
    pub require_confirmed_email: bool,
}

/// The window: when an arriving applicant may check in.
#[derive(Debug, Clone)]
pub struct WindowSettings {
    /// Check-in opens this long before the appointment.
    pub check_in_early: Duration,
    /// Check-in stays open this long after the appointment's start; later needs a clerk's
    /// override with a reason, and the appointment becomes a no-show once it has passed.
    pub check_in_grace: Duration,
}

/// The public lookups' throttles (tracking a document, checking a receipt), each over 15
/// minutes.
#[derive(Debug, Clone, Copy)]
pub struct TrackingSettings {
    /// Lookups per client address, whatever their outcome.
    pub lookups_per_address: u32,
    /// Failed lookups of one tracking number (from anywhere) before it is refused to everyone.
    pub failures_per_number: u32,
    /// Receipt checks (the JSON check and the page alike) per client address, whatever their
    /// outcome.
    pub receipt_checks_per_address: u32,
}

/// The public feedback form's throttle (`crate::feedback`).
#[derive(Debug, Clone, Copy)]
pub struct FeedbackSettings {
    /// Feedback submissions accepted from one client address in an hour
    /// (`CONSULAR_DESK_FEEDBACK_PER_HOUR_PER_ADDRESS`, default 5).
    pub per_address_per_hour: u32,
}

/// Mail (`crate::mail`): where it goes, how hard the sender tries, and the rules that depend on
/// it.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `CONSULAR_DESK_SMTP_URL` (may carry a password, so kept as a secret); without it
    /// messages are written as `.eml` files into `folder`.
    pub smtp_url: Option<Secret>,
    /// `CONSULAR_DESK_MAIL_DIR`, default `mail`.
    pub folder: std::path::PathBuf,
    /// `CONSULAR_DESK_MAIL_FROM`: the `From:` of every message.
    pub from: String,
    /// `CONSULAR_DESK_MAIL_TEMPLATES`, default `mail_templates`.
    pub templates: std::path::PathBuf,
    /// Tries before a message is given up (`CONSULAR_DESK_MAIL_MAX_TRIES`).
    pub max_tries: u32,
    /// The wait after the first failed try, doubling with each (`CONSULAR_DESK_MAIL_RETRY_SECONDS`).
    pub retry_base: Duration,
    /// How long a claim lasts before another sender may take the message
    /// (`CONSULAR_DESK_MAIL_LEASE_SECONDS`).
    pub lease: Duration,
    /// How often each instance looks for due messages (`CONSULAR_DESK_MAIL_POLL_MS`).
    pub poll: std::time::Duration,
    /// Messages claimed at once (`CONSULAR_DESK_MAIL_BATCH`).
    pub batch: u32,
    /// The reminder goes this many hours before the appointment (`CONSULAR_DESK_REMINDER_HOURS`).
    pub reminder_hours: u32,
    /// Messages per second all instances together send at most
    /// (`CONSULAR_DESK_SMTP_RATE_PER_SECOND`; unset or 0: as fast as the server takes them).
    pub rate_per_second: u32,
}

/// The citizen registry (`crate::registry`).
#[derive(Debug, Clone, Copy)]
pub struct RegistrySettings {
    /// A stay is deleted this many days after it ends (`CONSULAR_DESK_REGISTRY_RETENTION_DAYS`).
    pub retention_days: u32,
    /// An emergency message waits for a second officer's approval
    /// (`CONSULAR_DESK_EMERGENCY_APPROVAL`, default false).
    pub emergency_approval: bool,
    /// Registrations per client address per hour (`CONSULAR_DESK_REGISTRY_PER_ADDRESS`).
    pub registrations_per_address: u32,
    /// Confirmation messages to one e-mail address per day, however many registrations name it
    /// (`CONSULAR_DESK_REGISTRY_PER_EMAIL`).
    pub registrations_per_email: u32,
}

/// Scheduled backups (`crate::backup::schedule`).
#[derive(Debug, Clone)]
pub struct BackupSettings {
    /// `CONSULAR_DESK_BACKUP_DIR`; unset: no scheduled backups.
    pub dir: Option<std::path::PathBuf>,
    /// One backup per this period, whatever the number of instances
    /// (`CONSULAR_DESK_BACKUP_EVERY_HOURS`, default 24).
    pub every: Duration,
    /// Our backups kept in `dir`; older ones are deleted (`CONSULAR_DESK_BACKUP_KEEP`, default 7).
    pub keep: u32,
}

/// Who may read `/metrics` (docs/OPERATIONS.md, "Metrics and readiness").
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// `CONSULAR_DESK_METRICS_TOKEN`: the bearer token that opens `/metrics` on the main
    /// listener; without it `/metrics` is not there (404).
    pub token: Option<Secret>,
    /// `CONSULAR_DESK_METRICS_BIND`: a listener of its own that serves `/metrics` alone, with
    /// no token (for a scraper on a private network).
    pub bind: Option<SocketAddr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Pretty,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    pub bind: SocketAddr,
    pub jwt: JwtSettings,
    pub keys: KeySettings,
    pub login_throttle: LoginThrottle,
    pub booking: BookingSettings,
    pub window: WindowSettings,
    pub tracking: TrackingSettings,
    pub feedback: FeedbackSettings,
    pub hashing: HashingSettings,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` name the client address.
    pub trusted_proxies: TrustedProxies,
    pub pool_size: u32,
    pub max_body_bytes: usize,
    /// On SIGTERM, how long requests in flight get to finish before the server stops anyway
    /// (`CONSULAR_DESK_SHUTDOWN_SECONDS`, default 30).
    pub shutdown_timeout: std::time::Duration,
    pub log_format: LogFormat,
    /// Where the public reaches the service: receipts' QR codes point here.
    pub public_url: String,
    /// The directory of the PDF templates (loaded and checked at start-up).
    pub pdf_templates: std::path::PathBuf,
    pub mail: MailSettings,
    pub registry: RegistrySettings,
    pub backup: BackupSettings,
    pub metrics: MetricsSettings,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub reason: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.variable, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests). Empty values count
    /// as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

        let database_url = {
            let raw = get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
            DatabaseUrl::parse(&raw).map_err(|reason| err("DATABASE_URL", reason))?
        };
        let bind = get("CONSULAR_DESK_BIND")
            .unwrap_or_else(|| DEFAULT_BIND.to_string())
            .parse::<SocketAddr>()
            .map_err(|e| err("CONSULAR_DESK_BIND", format!("{e} (expected e.g. 127.0.0.1:8080)")))?;

        let algorithm = match get("CONSULAR_DESK_JWT_ALGORITHM").as_deref() {
            None | Some("HS256") => Algorithm::HS256,
            Some("HS384") => Algorithm::HS384,
            Some("HS512") => Algorithm::HS512,
            Some(other) => {
                return Err(err(
                    "CONSULAR_DESK_JWT_ALGORITHM",
                    format!("{other:?} is not one of HS256, HS384, HS512"),
                ))
            }
        };
        let public_secret = secret(&get, "CONSULAR_DESK_PUBLIC_JWT_SECRET")?;
        let staff_secret = secret(&get, "CONSULAR_DESK_STAFF_JWT_SECRET")?;
        let public_previous_secret = secret(&get, "CONSULAR_DESK_PUBLIC_JWT_SECRET_PREVIOUS")?;
        let staff_previous_secret = secret(&get, "CONSULAR_DESK_STAFF_JWT_SECRET_PREVIOUS")?;
        let publics = [&public_secret, &public_previous_secret];
        if [&staff_secret, &staff_previous_secret].iter().any(|s| s.is_some() && publics.contains(s)) {
            return Err(err(
                "CONSULAR_DESK_STAFF_JWT_SECRET",
                "must differ from CONSULAR_DESK_PUBLIC_JWT_SECRET (and the staff and public \
                 previous secrets from each other), or a public token would open staff endpoints"
                    .into(),
            ));
        }

        let proxy_header = match get("CONSULAR_DESK_PROXY_HEADER") {
            None => ProxyHeader::default(),
            Some(raw) => ProxyHeader::parse(&raw).map_err(|r| err("CONSULAR_DESK_PROXY_HEADER", r))?,
        };

        Ok(Settings {
            database_url,
            bind,
            jwt: JwtSettings {
                algorithm,
                issuer: get("CONSULAR_DESK_JWT_ISSUER").unwrap_or_else(|| "consular-desk".into()),
                public_secret,
                staff_secret,
                public_previous_secret,
                staff_previous_secret,
                public_token_ttl: minutes(&get, "CONSULAR_DESK_PUBLIC_TOKEN_MINUTES", 60, 1, 1440)?,
                staff_token_ttl: minutes(&get, "CONSULAR_DESK_STAFF_TOKEN_MINUTES", 600, 1, 1440)?,
            },
            keys: KeySettings {
                file: get("CONSULAR_DESK_KEY_FILE").map(Into::into),
                document_matching_secret: secret(&get, "CONSULAR_DESK_DOCUMENT_MATCHING_SECRET")?,
                receipt_signing_secret: secret(&get, "CONSULAR_DESK_RECEIPT_SIGNING_SECRET")?,
            },
            login_throttle: LoginThrottle {
                max_failures_per_account: number(&get, "CONSULAR_DESK_LOGIN_MAX_FAILURES", 5, 1, 1000)?,
                max_failures_per_address: number(
                    &get,
                    "CONSULAR_DESK_LOGIN_MAX_FAILURES_PER_ADDRESS",
                    30,
                    1,
                    100_000,
                )?,
                account_ceiling: number(&get, "CONSULAR_DESK_LOGIN_ACCOUNT_CEILING", 50, 1, 1_000_000)?,
                window: minutes(&get, "CONSULAR_DESK_LOGIN_LOCKOUT_MINUTES", 15, 1, 1440)?,
                max_registrations_per_address: number(
                    &get,
                    "CONSULAR_DESK_REGISTRATIONS_PER_HOUR_PER_ADDRESS",
                    10,
                    1,
                    1_000_000,
                )?,
            },
            booking: BookingSettings {
                horizon_days: number(&get, "CONSULAR_DESK_BOOKING_HORIZON_DAYS", 90, 1, 366)?,
                min_notice: number(&get, "CONSULAR_DESK_MIN_NOTICE_HOURS", 24, 0, 720)
                    .map(|h| Duration::hours(i64::from(h)))?,
                release_delay: minutes(&get, "CONSULAR_DESK_RELEASE_DELAY_MINUTES", 10, 0, 1440)?,
                max_attempts_per_applicant: number(
                    &get,
                    "CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR",
                    20,
                    1,
                    1_000_000,
                )?,
                max_attempts_per_address: number(
                    &get,
                    "CONSULAR_DESK_BOOKING_ATTEMPTS_PER_HOUR_PER_ADDRESS",
                    300,
                    1,
                    1_000_000,
                )?,
                maintenance_every: number(&get, "CONSULAR_DESK_MAINTENANCE_SECONDS", 60, 1, 3600)
                    .map(|s| std::time::Duration::from_secs(u64::from(s)))?,
                require_confirmed_email: flag(&get, "CONSULAR_DESK_REQUIRE_CONFIRMED_EMAIL", true)?,
            },
            window: WindowSettings {
                check_in_early: minutes(&get, "CONSULAR_DESK_CHECKIN_EARLY_MINUTES", 60, 0, 720)?,
                check_in_grace: minutes(&get, "CONSULAR_DESK_CHECKIN_GRACE_MINUTES", 15, 0, 240)?,
            },
            tracking: TrackingSettings {
                lookups_per_address: number(
                    &get,
                    "CONSULAR_DESK_TRACKING_LOOKUPS_PER_ADDRESS",
                    30,
                    1,
                    1_000_000,
                )?,
                failures_per_number: number(
                    &get,
                    "CONSULAR_DESK_TRACKING_FAILURES_PER_NUMBER",
                    5,
                    1,
                    1_000_000,
                )?,
                receipt_checks_per_address: number(
                    &get,
                    "CONSULAR_DESK_RECEIPT_CHECKS_PER_ADDRESS",
                    30,
                    1,
                    1_000_000,
                )?,
            },
            feedback: FeedbackSettings {
                per_address_per_hour: number(
                    &get,
                    "CONSULAR_DESK_FEEDBACK_PER_HOUR_PER_ADDRESS",
                    5,
                    1,
                    1_000_000,
                )?,
            },
            hashing: HashingSettings {
                threads: number(&get, "CONSULAR_DESK_HASH_THREADS", default_hash_threads(), 1, 64)? as usize,
                queue: number(&get, "CONSULAR_DESK_HASH_QUEUE", 64, 0, 100_000)? as usize,
            },
            trusted_proxies: TrustedProxies::parse(
                &get("CONSULAR_DESK_TRUSTED_PROXIES").unwrap_or_default(),
                proxy_header,
            )
            .map_err(|reason| err("CONSULAR_DESK_TRUSTED_PROXIES", reason))?,
            pool_size: number(&get, "CONSULAR_DESK_DB_POOL_SIZE", 10, 1, 200)?,
            max_body_bytes: number(&get, "CONSULAR_DESK_MAX_BODY_BYTES", 64 * 1024, 1024, 16 << 20)? as usize,
            shutdown_timeout: std::time::Duration::from_secs(
                number(&get, "CONSULAR_DESK_SHUTDOWN_SECONDS", 30, 1, 600)?.into(),
            ),
            public_url: public_url(get("CONSULAR_DESK_PUBLIC_URL"))?,
            pdf_templates: get("CONSULAR_DESK_PDF_TEMPLATES")
                .unwrap_or_else(|| "pdf_templates".into())
                .into(),
            mail: MailSettings {
                smtp_url: match get("CONSULAR_DESK_SMTP_URL") {
                    None => None,
                    Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
                        Some(Secret(url))
                    }
                    Some(_) => {
                        return Err(err(
                            "CONSULAR_DESK_SMTP_URL",
                            "must start with smtp:// (STARTTLS) or smtps:// (TLS)".into(),
                        ))
                    }
                },
                folder: get("CONSULAR_DESK_MAIL_DIR").unwrap_or_else(|| "mail".into()).into(),
                from: get("CONSULAR_DESK_MAIL_FROM")
                    .unwrap_or_else(|| "U.S. Embassy Mexico City <no-reply@consular-desk.invalid>".into()),
                templates: get("CONSULAR_DESK_MAIL_TEMPLATES")
                    .unwrap_or_else(|| "mail_templates".into())
                    .into(),
                max_tries: number(&get, "CONSULAR_DESK_MAIL_MAX_TRIES", 8, 1, 100)?,
                retry_base: number(&get, "CONSULAR_DESK_MAIL_RETRY_SECONDS", 30, 1, 3600)
                    .map(|s| Duration::seconds(i64::from(s)))?,
                lease: number(&get, "CONSULAR_DESK_MAIL_LEASE_SECONDS", 120, 1, 3600)
                    .map(|s| Duration::seconds(i64::from(s)))?,
                poll: number(&get, "CONSULAR_DESK_MAIL_POLL_MS", 1000, 10, 60_000)
                    .map(|ms| std::time::Duration::from_millis(u64::from(ms)))?,
                batch: number(&get, "CONSULAR_DESK_MAIL_BATCH", 50, 1, 1000)?,
                reminder_hours: number(&get, "CONSULAR_DESK_REMINDER_HOURS", 48, 1, 720)?,
                rate_per_second: number(&get, "CONSULAR_DESK_SMTP_RATE_PER_SECOND", 0, 0, 100_000)?,
            },
            registry: RegistrySettings {
                retention_days: number(&get, "CONSULAR_DESK_REGISTRY_RETENTION_DAYS", 30, 0, 3650)?,
                emergency_approval: flag(&get, "CONSULAR_DESK_EMERGENCY_APPROVAL", false)?,
                registrations_per_address: number(
                    &get,
                    "CONSULAR_DESK_REGISTRY_PER_ADDRESS",
                    20,
                    1,
                    1_000_000,
                )?,
                registrations_per_email: number(&get, "CONSULAR_DESK_REGISTRY_PER_EMAIL", 5, 1, 1_000_000)?,
            },
            backup: BackupSettings {
                dir: get("CONSULAR_DESK_BACKUP_DIR").map(Into::into),
                every: number(&get, "CONSULAR_DESK_BACKUP_EVERY_HOURS", 24, 1, 8760)
                    .map(|h| Duration::hours(i64::from(h)))?,
                keep: number(&get, "CONSULAR_DESK_BACKUP_KEEP", 7, 1, 1000)?,
            },
            metrics: MetricsSettings {
                token: secret(&get, "CONSULAR_DESK_METRICS_TOKEN")?,
                bind: get("CONSULAR_DESK_METRICS_BIND")
                    .map(|raw| raw.trim().parse::<SocketAddr>())
                    .transpose()
                    .map_err(|e| {
                        err("CONSULAR_DESK_METRICS_BIND", format!("{e} (expected e.g. 127.0.0.1:9464)"))
                    })?,
            },
            log_format: match get("CONSULAR_DESK_LOG_FORMAT").as_deref() {
                None | Some("pretty") => LogFormat::Pretty,
                Some("json") => LogFormat::Json,
                Some(other) => {
                    return Err(err(
                        "CONSULAR_DESK_LOG_FORMAT",
                        format!("{other:?} is not one of json, pretty"),
                    ))
                }
            },
        })
    }
}

/// One hashing thread per core: argon2 is CPU-bound, more threads only queue inside the kernel.
fn default_hash_threads() -> u32 {
    std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(2).min(64)
}

/// An `http://` or `https://` base URL without spaces; a trailing `/` is dropped.
fn public_url(raw: Option<String>) -> Result<String, ConfigError> {
    let url = raw.unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let shaped = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if !shaped {
        return Err(err("CONSULAR_DESK_PUBLIC_URL", "must be an http:// or https:// URL".into()));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// `true` or `false`.
fn flag(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(variable).as_deref().map(str::trim) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(err(variable, format!("{other:?} is neither true nor false"))),
    }
}

fn err(variable: &'static str, reason: String) -> ConfigError {
    ConfigError { variable, reason }
}

fn secret(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<Option<Secret>, ConfigError> {
    match get(variable) {
        None => Ok(None),
        Some(v) if v.len() < MIN_SECRET_BYTES => {
            Err(err(variable, format!("must be at least {MIN_SECRET_BYTES} bytes, got {}", v.len())))
        }
        Some(v) => Ok(Some(Secret(v))),
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<u32, ConfigError> {
    let Some(raw) = get(variable) else {
        return Ok(default);
    };
    match raw.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(err(variable, format!("{raw:?} is not a whole number from {min} to {max}"))),
    }
}

fn minutes(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: u32,
    min: u32,
    max: u32,
) -> Result<Duration, ConfigError> {
    number(get, variable, default, min, max).map(|m| Duration::minutes(i64::from(m)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_need_no_environment() {
        let s = parse(&[]).expect("defaults are valid");
        assert_eq!(s.database_url, DatabaseUrl::Sqlite("consular-desk.db".into()));
        assert_eq!(s.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(s.jwt.algorithm, Algorithm::HS256);
        assert!(s.jwt.public_secret.is_none());
    }

    #[test]
    fn database_scheme_picks_the_backend() {
        assert!(matches!(DatabaseUrl::parse("postgres://u@localhost/db"), Ok(DatabaseUrl::Postgres(_))));
        assert!(matches!(DatabaseUrl::parse("postgresql://u@localhost/db"), Ok(DatabaseUrl::Postgres(_))));
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/cd.db"),
            Ok(DatabaseUrl::Sqlite("/var/lib/cd.db".into()))
        );
        assert!(DatabaseUrl::parse("mysql://x").is_err());
        assert!(DatabaseUrl::parse("consular.db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
        assert!(DatabaseUrl::parse("sqlite://:memory:").is_err());
    }

    #[test]
    fn bad_values_name_the_variable() {
        let e = parse(&[("CONSULAR_DESK_BIND", "localhost")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_BIND");
        let e = parse(&[("CONSULAR_DESK_JWT_ALGORITHM", "none")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_JWT_ALGORITHM");
        let e = parse(&[("CONSULAR_DESK_PUBLIC_TOKEN_MINUTES", "0")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_PUBLIC_TOKEN_MINUTES");
        let e = parse(&[("CONSULAR_DESK_LOGIN_MAX_FAILURES", "-3")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_LOGIN_MAX_FAILURES");
    }

    #[test]
    fn secrets_must_be_long_and_distinct() {
        let e = parse(&[("CONSULAR_DESK_PUBLIC_JWT_SECRET", "short")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_PUBLIC_JWT_SECRET");
        let same = "x".repeat(40);
        let e =
            parse(&[("CONSULAR_DESK_PUBLIC_JWT_SECRET", &same), ("CONSULAR_DESK_STAFF_JWT_SECRET", &same)])
                .unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_STAFF_JWT_SECRET");
        assert!(!format!("{:?}", Secret::new(same.clone())).contains("xxx"));
        let other = "y".repeat(40);
        let e = parse(&[
            ("CONSULAR_DESK_PUBLIC_JWT_SECRET", &other),
            ("CONSULAR_DESK_STAFF_JWT_SECRET_PREVIOUS", &other),
        ])
        .unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_STAFF_JWT_SECRET");
    }

    #[test]
    fn key_variables_are_refused_when_short_and_the_key_file_is_a_path() {
        for variable in ["CONSULAR_DESK_DOCUMENT_MATCHING_SECRET", "CONSULAR_DESK_RECEIPT_SIGNING_SECRET"] {
            assert_eq!(parse(&[(variable, "short")]).unwrap_err().variable, variable);
        }
        let s = parse(&[("CONSULAR_DESK_KEY_FILE", "/etc/consular-desk/keys")]).expect("valid");
        assert_eq!(s.keys.file, Some("/etc/consular-desk/keys".into()));
        assert!(parse(&[]).expect("defaults").keys.file.is_none());
    }

    #[test]
    fn scheduled_backups_are_off_unless_a_directory_is_set() {
        let s = parse(&[]).expect("defaults");
        assert_eq!((s.backup.dir, s.backup.every, s.backup.keep), (None, Duration::hours(24), 7));
        let s =
            parse(&[("CONSULAR_DESK_BACKUP_DIR", "/var/backups/cd"), ("CONSULAR_DESK_BACKUP_KEEP", "30")])
                .expect("valid");
        assert_eq!((s.backup.dir, s.backup.keep), (Some("/var/backups/cd".into()), 30));
        for (variable, bad) in
            [("CONSULAR_DESK_BACKUP_EVERY_HOURS", "0"), ("CONSULAR_DESK_BACKUP_KEEP", "all")]
        {
            assert_eq!(parse(&[(variable, bad)]).unwrap_err().variable, variable);
        }
    }

    #[test]
    fn the_metrics_token_is_long_and_the_bind_an_address() {
        let s = parse(&[]).expect("defaults");
        assert!(s.metrics.token.is_none() && s.metrics.bind.is_none());
        let e = parse(&[("CONSULAR_DESK_METRICS_TOKEN", "short")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_METRICS_TOKEN");
        let e = parse(&[("CONSULAR_DESK_METRICS_BIND", "localhost")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_METRICS_BIND");
        let s = parse(&[
            ("CONSULAR_DESK_METRICS_TOKEN", &"m".repeat(32)),
            ("CONSULAR_DESK_METRICS_BIND", "127.0.0.1:9464"),
        ])
        .expect("valid");
        assert_eq!(s.metrics.token.map(|t| t.expose().len()), Some(32));
        assert_eq!(s.metrics.bind.map(|b| b.port()), Some(9464));
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        assert!(parse(&[]).expect("defaults").trusted_proxies.is_empty());
        assert!(parse(&[("CONSULAR_DESK_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")]).is_ok());
        let e = parse(&[("CONSULAR_DESK_TRUSTED_PROXIES", "lb.internal")]).unwrap_err();
        assert_eq!(e.variable, "CONSULAR_DESK_TRUSTED_PROXIES");
    }
}
