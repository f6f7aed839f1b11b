//! One error type for every operation, rendered as `application/problem+json` (RFC 9457) with a
//! stable snake_case `code` that clients can switch on. The HTTP answer itself (headers, body)
//! is the server's `http::problem::HttpError`: the domain knows no web framework.

use serde::Serialize;
use utoipa::ToSchema;

pub use crate::rule::{FieldError, Rule};

/// The body of every 4xx/5xx answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    pub code: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Declares every problem `code`: its HTTP status and what it means. The error table in
/// docs/API.md and the OpenAPI descriptions are produced from this list, so a code can't exist
/// without being documented (`cargo test` checks the table; see `error_table`).
macro_rules! codes {
    ($($variant:ident = $status:literal $name:literal $meaning:literal;)*) => {
        /// A problem `code`: the stable identifier clients switch on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in the order of the table.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $name,)* }
            }

            /// The HTTP status a problem with this code has.
            pub fn status(self) -> u16 {
                match self { $(Code::$variant => $status,)* }
            }

            /// What the code means, for docs/API.md and the OpenAPI document.
            pub fn meaning(self) -> &'static str {
                match self { $(Code::$variant => $meaning,)* }
            }
        }
    };
}

codes! {
    MalformedJson = 400 "malformed_json" "the body is not valid JSON";
    UnreadableBody = 400 "unreadable_body" "the body could not be read (cut short, or not UTF-8)";
    InvalidQuery = 400 "invalid_query" "a query parameter is missing or of the wrong type";
    InvalidPath = 400 "invalid_path" "a path segment is of the wrong type, or the URL holds a NUL";
    InvalidIdempotencyKey = 400 "invalid_idempotency_key" "`Idempotency-Key` is not 1 to 255 visible ASCII characters";
    MissingToken = 401 "missing_token" "no bearer token";
    InvalidToken = 401 "invalid_token" "the token does not verify, or its account's credentials changed since (password, disabling, role or post)";
    TokenExpired = 401 "token_expired" "the token has expired: sign in again";
    InvalidCredentials = 401 "invalid_credentials" "unknown account or wrong password (the same answer for both)";
    InsufficientRole = 403 "insufficient_role" "the staff role does not allow this";
    PublicTokenNotStaff = 403 "public_token_not_staff" "an applicant's token on a staff endpoint";
    StaffTokenNotApplicant = 403 "staff_token_not_applicant" "a staff token on an applicant's endpoint";
    WrongPost = 403 "wrong_post" "the staff account is bound to another post";
    OwnReceipt = 403 "own_receipt" "the clerk who collected a fee can't void it: a supervisor does";
    OwnClose = 403 "own_close" "a cash close is signed by a supervisor other than the clerk who counted";
    OwnBulletin = 403 "own_bulletin" "an emergency message is approved by an officer other than the one who wrote it";
    WrongCurrentPassword = 403 "wrong_current_password" "the current password given with a password change is not right";
    EmailNotConfirmed = 403 "email_not_confirmed" "the account's e-mail address is not confirmed yet: open the link sent to it (or ask for another) before booking";
    LinkNotValid = 400 "link_not_valid" "the link from the e-mail was used already, has expired, or a newer one was sent";
    NotFound = 404 "not_found" "nothing of that name, or not the caller's (another applicant's appointment)";
    MethodNotAllowed = 405 "method_not_allowed" "the path exists, the method does not (`Allow` lists those that do)";
    SlotFull = 409 "slot_full" "the slot has no seats left";
    SlotClosed = 409 "slot_closed" "the post is closed at the slot's time";
    AlreadyBooked = 409 "already_booked" "the applicant already has an active appointment for this service";
    IdempotencyRace = 409 "idempotency_race" "a request with the same `Idempotency-Key` is still in progress";
    NotActive = 409 "not_active" "the appointment is no longer booked (cancelled, completed...)";
    AlreadyStarted = 409 "already_started" "the appointment time has passed";
    SameSlot = 409 "same_slot" "a reschedule to the slot the appointment already has";
    AppointmentChanged = 409 "appointment_changed" "the appointment changed meanwhile: look again and retry";
    EmailTaken = 409 "email_taken" "an applicant account with this e-mail exists";
    AlreadyConfirmed = 409 "already_confirmed" "the account's e-mail address is confirmed already";
    AlreadyQueued = 409 "already_queued" "the emergency message was approved and queued already";
    NotFailed = 409 "not_failed" "only a message that was given up can be sent again";
    UsernameTaken = 409 "username_taken" "a staff account with this username exists";
    CannotDisableSelf = 409 "cannot_disable_self" "an account cannot disable itself";
    CannotReassignSelf = 409 "cannot_reassign_self" "an account cannot change its own role or post";
    AccountChanged = 409 "account_changed" "the staff account was changed meanwhile: look again and retry";
    TooEarly = 409 "too_early" "check-in for this appointment has not opened yet";
    TooLate = 409 "too_late" "the check-in grace period is over: a clerk may override it with a reason";
    AlreadyCheckedIn = 409 "already_checked_in" "the visit is checked in already (it has its ticket)";
    QueueEmpty = 409 "queue_empty" "nobody is waiting to be called at this post today";
    WindowBusy = 409 "window_busy" "the window still has a called visit (the detail names it): complete it, mark it a no-show or recall it first";
    NoFreeSlot = 409 "no_free_slot" "no slot of the service has room for the party within the booking horizon";
    AlreadyRebooked = 409 "already_rebooked" "the visit not served was booked again already (the detail names the new reference)";
    InvalidTransition = 409 "invalid_transition" "the visit's or document's current state doesn't allow this step";
    DocumentChanged = 409 "document_changed" "the document moved on meanwhile: look again and retry";
    VisitPassed = 409 "visit_passed" "the visit's day is over: fees are recorded before or on it";
    DayClosed = 409 "day_closed" "the clerk's cash close for that day is signed: nothing more is dated in it";
    NoExchangeRate = 409 "no_exchange_rate" "no exchange rate is set for the post and day: a supervisor sets it first";
    PaymentReferenceUsed = 409 "payment_reference_used" "that online payment reference is on another receipt already";
    AlreadyVoided = 409 "already_voided" "the receipt is voided already";
    FeeAlreadyCharged = 409 "fee_already_charged" "a receipt of the visit already charged that fee: send `confirm_repeat` to charge it again";
    RateInUse = 409 "rate_in_use" "receipts in local currency were issued at that day's rate: it stays";
    CloseOutdated = 409 "close_outdated" "receipts or voids changed since the close was counted: count again";
    CloseReplaced = 409 "close_replaced" "a later count of the same clerk and day replaced this one: sign the latest";
    AlreadySigned = 409 "already_signed" "the cash close is signed already";
    FeeVersionExists = 409 "fee_version_exists" "that fee already has a version from that date";
    FeeVersionInForce = 409 "fee_version_in_force" "the fee version has taken effect at a post or a receipt used it";
    FeeVersionWithdrawn = 409 "fee_version_withdrawn" "the fee version is withdrawn already";
    PayloadTooLarge = 413 "payload_too_large" "the body is over the server's limit";
    UnsupportedMediaType = 415 "unsupported_media_type" "the body must be `application/json`";
    ValidationFailed = 422 "validation_failed" "well-formed but invalid: `errors` names each field";
    TooManyRequests = 429 "too_many_requests" "throttled: `Retry-After` says when to try again";
    InternalError = 500 "internal_error" "a fault on the server; details only in its log";
    Unavailable = 503 "unavailable" "the database is not answering, or the password-hashing queue is full (`Retry-After`)";
}

impl Code {
    /// The Markdown table of every code, as docs/API.md shows it.
    pub fn markdown_table() -> String {
        let mut table = String::from("| status | code | meaning |\n|---|---|---|\n");
        for code in Code::ALL {
            table.push_str(&format!("| {} | `{}` | {} |\n", code.status(), code.as_str(), code.meaning()));
        }
        table
    }

    /// The code named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    /// 400, 401, 403 and 409: a code with its status (see [`Code`]) and a detail for people.
    #[error("{detail}")]
    Coded { code: Code, detail: String },
    /// 404: unknown, or not the caller's.
    #[error("{detail}")]
    NotFound { detail: String },
    /// 405: the path exists, the method doesn't (`Allow` lists the ones that do).
    #[error("{method} is not allowed here")]
    MethodNotAllowed { method: String },
    /// 413: the body is larger than the configured limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 415: not JSON.
    #[error("expected a JSON body (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// 422: well-formed but invalid.
    #[error("{detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    /// 429: throttled; try again after this many seconds.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// 503: a dependency (the database) is not answering, or the server is shedding load
    /// (the password-hashing queue is full); `Retry-After` when it knows how long.
    #[error("{detail}")]
    Unavailable { detail: String, retry_after_secs: Option<u64> },
    /// 500: logged in full, shown to nobody. Shared so that one failure can answer several
    /// waiting requests (the availability cache).
    #[error("internal error")]
    Internal(std::sync::Arc<anyhow::Error>),
}

impl AppError {
    /// A problem with `code`, whose status the code decides.
    pub fn new(code: Code, detail: impl Into<String>) -> Self {
        AppError::Coded { code, detail: detail.into() }
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        AppError::NotFound { detail: detail.into() }
    }
    pub fn invalid(errors: Vec<FieldError>) -> Self {
        AppError::Validation { detail: "the request has invalid fields".into(), errors }
    }
    pub fn invalid_field(field: &str, rule: Rule) -> Self {
        Self::invalid(vec![FieldError::new(field, rule)])
    }
    /// 429 with `Retry-After` for a throttle that stays closed `wait` longer (at least 1 s).
    pub fn too_many_requests(wait: chrono::Duration) -> Self {
        AppError::TooManyRequests { retry_after_secs: wait.num_seconds().max(1) as u64 }
    }
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(std::sync::Arc::new(err.into()))
    }

    pub fn code(&self) -> Code {
        match self {
            AppError::Coded { code, .. } => *code,
            AppError::NotFound { .. } => Code::NotFound,
            AppError::MethodNotAllowed { .. } => Code::MethodNotAllowed,
            AppError::PayloadTooLarge { .. } => Code::PayloadTooLarge,
            AppError::UnsupportedMediaType => Code::UnsupportedMediaType,
            AppError::Validation { .. } => Code::ValidationFailed,
            AppError::TooManyRequests { .. } => Code::TooManyRequests,
            AppError::Unavailable { .. } => Code::Unavailable,
            AppError::Internal(_) => Code::InternalError,
        }
    }

    /// True for a 401 (the sign-in and password-change flows tell failures from faults).
    pub fn is_unauthorized(&self) -> bool {
        self.code().status() == 401
    }

    /// The HTTP status of this error's answer.
    pub fn status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.code().status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    pub fn problem(&self) -> Problem {
        let status = self.status();
        let errors = match self {
            AppError::Validation { errors, .. } => errors.clone(),
            _ => Vec::new(),
        };
        let code = self.code().as_str();
        Problem {
            type_: format!("urn:consular-desk:problem:{code}"),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.to_string(),
            code: code.to_string(),
            errors,
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(err: diesel::result::Error) -> Self {
        AppError::internal(err)
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(err: diesel::r2d2::PoolError) -> Self {
        tracing::error!(error = %err, "database pool exhausted or unreachable");
        AppError::Unavailable {
            detail: "the database is not answering; try again shortly".into(),
            retry_after_secs: Some(1),
        }
    }
}

/// Checks (or, with `UPDATE_DOCS=1`, rewrites) the part of docs/API.md between
/// `<!-- {name}:start -->` and `<!-- {name}:end -->`, which is generated from the code.
#[cfg(test)]
pub(crate) fn generated_section(name: &str, content: &str) {
    let (start, end) = (format!("<!-- {name}:start -->\n"), format!("<!-- {name}:end -->"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/API.md");
    let doc = std::fs::read_to_string(path).expect("docs/API.md");
    let (Some(a), Some(b)) = (doc.find(&start), doc.find(&end)) else {
        panic!("docs/API.md lacks the {name} markers");
    };
    assert!(a < b, "docs/API.md has the {name} markers in the wrong order");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{start}{content}{}", &doc[..a], &doc[b..]);
        std::fs::write(path, updated).expect("write docs/API.md");
        return;
    }
    assert_eq!(
        &doc[a + start.len()..b],
        content,
        "the {name} section of docs/API.md is stale: UPDATE_DOCS=1 cargo test --lib"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert_eq!(problem.code, "internal_error");
        assert!(!problem.detail.contains("hunter2"));
    }

    #[test]
    fn validation_lists_fields() {
        let problem = AppError::invalid_field("email", Rule::NotAnEmail).problem();
        assert_eq!(problem.status, 422);
        assert_eq!(problem.errors[0].field, "email");
        assert_eq!(problem.type_, "urn:consular-desk:problem:validation_failed");
    }

    #[test]
    fn codes_are_unique_snake_case_and_match_their_status_class() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(code.as_str().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            assert!((400..600).contains(&code.status()));
            assert_eq!(Code::parse(code.as_str()), Some(*code));
        }
    }

    /// The error table in docs/API.md is this enum's table. Run with `UPDATE_DOCS=1` to rewrite it.
    #[test]
    fn error_table() {
        generated_section("error-codes", &Code::markdown_table());
    }
}
