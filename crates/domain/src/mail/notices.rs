//! The messages events send to applicants, queued in the event's own transaction: about an
//! appointment (to the account that booked it; a visit booked by staff for someone who phoned
//! has no account and gets none) and about a document (to the account whose appointment it
//! came from, unless the account turned these notices off).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{applicants, appointments, documents};
use crate::db::DbConn;
use crate::mail::{self, Kind, Letter};
use crate::wording::Lang;

/// Queues `kind` about the appointment `reference` to its account, if it has one. Its details
/// are read when the message is sent.
pub fn appointment(conn: &mut DbConn, kind: Kind, reference: &str, now: NaiveDateTime) -> QueryResult<()> {
    let account: Option<(String, String, String)> = appointments::table
        .inner_join(applicants::table)
        .filter(appointments::reference.eq(reference))
        .select((applicants::email, applicants::language, applicants::full_name))
        .first(conn)
        .optional()?;
    if let Some((email, language, name)) = account {
        let letter = Letter::new(kind, &email, Lang::parse(&language).unwrap_or(Lang::En))
            .with("name", name)
            .with("reference", reference);
        mail::enqueue(conn, &letter, now)?;
    }
    Ok(())
}

/// Queues `kind` about the document `document_id` to the account its appointment was booked
/// by, if there is one and it wants these notices.
pub fn document(conn: &mut DbConn, kind: Kind, document_id: i64, now: NaiveDateTime) -> QueryResult<()> {
    let account: Option<(String, String, String, String, String)> = documents::table
        .inner_join(appointments::table.inner_join(applicants::table))
        .filter(documents::id.eq(document_id))
        .filter(applicants::document_notices.eq(true))
        .select((
            applicants::email,
            applicants::language,
            applicants::full_name,
            documents::tracking_number,
            documents::post_code,
        ))
        .first(conn)
        .optional()?;
    if let Some((email, language, name, tracking_number, post)) = account {
        let letter = Letter::new(kind, &email, Lang::parse(&language).unwrap_or(Lang::En))
            .with("name", name)
            .with("tracking_number", tracking_number)
            .with("post_code", post);
        mail::enqueue(conn, &letter, now)?;
    }
    Ok(())
}
