//! The tracking slip a person takes from the window for each application or notarial job:
//! what it prints, read for staff of the document's post, and the PDF
//! ([`crate::pdf::slip`]).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::auth::Actor;
use crate::db::schema::{documents, posts};
use crate::db::DbConn;
use crate::documents::intake::{CheckedItem, Form};
use crate::documents::records::{no_such_document, sees_post};
use crate::documents::tracking::{Kind, TrackingNumber};
use crate::error::AppError;

/// What a tracking slip prints.
#[derive(Debug, Clone)]
pub struct Slip {
    pub tracking_number: String,
    pub post_name: String,
    /// The person whose surname the public lookup asks for: the applicant, or a notarial
    /// job's first signer.
    pub person: String,
    pub kind: Kind,
    pub form: Form,
    /// When the window recorded it, in the post's zone.
    pub recorded_at: DateTime<Tz>,
}

/// The person a document is tracked by: the applicant, else the first signer.
pub(crate) fn person(item: &CheckedItem) -> String {
    let named = match (&item.applicant, &item.signers) {
        (Some(p), _) => Some((p.given_names.as_str(), p.surname.as_str())),
        (None, Some(signers)) => signers.first().map(|s| (s.given_names.as_str(), s.surname.as_str())),
        (None, None) => None,
    };
    named.map(|(given, surname)| format!("{given} {surname}")).unwrap_or_default()
}

type Row = (String, String, String, String, NaiveDateTime, String, String);

/// The slip of a document, for staff of its post (and staff bound to no post); anyone else
/// gets the 404 of a number never issued, as [`crate::documents::records::show`] answers.
pub fn find(conn: &mut DbConn, actor: &Actor, tracking: &TrackingNumber) -> Result<Slip, AppError> {
    let row: Option<Row> = documents::table
        .inner_join(posts::table.on(posts::code.eq(documents::post_code)))
        .filter(documents::tracking_number.eq(tracking.as_str()))
        .select((
            documents::post_code,
            documents::form,
            documents::details,
            posts::name,
            documents::recorded_at,
            posts::timezone,
            documents::tracking_number,
        ))
        .first(conn)
        .optional()?;
    let (_, form, details, post_name, recorded, zone, number) =
        row.filter(|r| sees_post(actor, &r.0)).ok_or_else(no_such_document)?;
    let bad = |what: &str| AppError::internal(anyhow::anyhow!("document {number} has {what}"));
    let tz: Tz = zone.parse().map_err(|_| bad("a post with a bad zone"))?;
    let form: Form = serde_json::from_value(serde_json::json!(form)).map_err(|_| bad("an unknown form"))?;
    let details: CheckedItem = serde_json::from_str(&details).map_err(|_| bad("unreadable details"))?;
    Ok(Slip {
        person: person(&details),
        post_name,
        kind: form.kind(),
        form,
        recorded_at: Utc.from_utc_datetime(&recorded).with_timezone(&tz),
        tracking_number: number,
    })
}
