//! The queue ticket a person takes from check-in or a walk-in: what it prints, read for staff
//! of the visit's post, and the PDF ([`crate::pdf::ticket`]). No names: like the waiting-room
//! screen, a ticket says only the number, the service, the post and the time.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::auth::Actor;
use crate::booking::reference_code::Reference;
use crate::db::schema::{appointments, posts};
use crate::db::DbConn;
use crate::error::{AppError, Code};

/// What a queue ticket prints.
#[derive(Debug, Clone)]
pub struct Ticket {
    /// `P-014`.
    pub ticket: String,
    /// The service's code (`passport-renewal`); printed in words.
    pub service: String,
    pub post_name: String,
    /// When the visit was checked in (or the walk-in arrived), in the post's zone.
    pub checked_in_at: DateTime<Tz>,
}

type Row = (String, String, Option<String>, Option<NaiveDateTime>, String, String);

/// The ticket of a visit, for staff of its post (and staff bound to no post). Another post's
/// visit is the 404 of a reference never issued, so a ticket tells nobody what another post
/// has; a visit not checked in has no ticket yet: 409 `invalid_transition`.
pub fn find(conn: &mut DbConn, actor: &Actor, reference: &Reference) -> Result<Ticket, AppError> {
    let row: Option<Row> = appointments::table
        .inner_join(posts::table.on(posts::code.eq(appointments::post_code)))
        .filter(appointments::reference.eq(reference.as_str()))
        .select((
            appointments::post_code,
            appointments::service_code,
            appointments::ticket,
            appointments::checked_in_at,
            posts::name,
            posts::timezone,
        ))
        .first(conn)
        .optional()?;
    let (post, service, ticket, checked_in, post_name, zone) = row
        .filter(|r| actor.ensure_post(&r.0).is_ok())
        .ok_or_else(|| AppError::not_found("no such appointment"))?;
    let (Some(ticket), Some(checked_in)) = (ticket, checked_in) else {
        return Err(AppError::new(Code::InvalidTransition, "the visit has no ticket yet: check it in first"));
    };
    let tz: Tz =
        zone.parse().map_err(|_| AppError::internal(anyhow::anyhow!("post {post} has a bad zone")))?;
    Ok(Ticket {
        ticket,
        service,
        post_name,
        checked_in_at: Utc.from_utc_datetime(&checked_in).with_timezone(&tz),
    })
}
