//! The notarial register: one entry per notarial act, numbered per post and US fiscal year
//! from the gapless counter (`MEX-2027-000123`). Entries are never edited (a trigger refuses it
//! on both backends): a mistake is corrected by a new entry that names the one it corrects.

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::audit::{self, sealed, Action, Event};
use crate::auth::Actor;
use crate::calendar;
use crate::counters;
use crate::db::schema::{appointments, documents, notarial_register, staff};
use crate::db::{write_transaction, DbConn};
use crate::documents::identity::MatchingKey;
use crate::documents::intake::{
    self, Act, CheckedItem, IdKind, IdentityInput, IntakeItem, NotarialJob, RecordedIdentity, RecordedSigner,
    SignerInput, Stage,
};
use crate::error::{AppError, FieldError};
use crate::reports::csv::cell;
use crate::rule::Rule;

/// The longest range one listing covers: a fiscal year and a little.
pub const MAX_RANGE_DAYS: i64 = 400;

/// One register entry as staff and auditors read it. Times carry the post's offset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterEntry {
    /// `MEX-2027-000123`: post, fiscal year, number.
    pub entry_number: String,
    /// When the entry was written.
    pub recorded_at: String,
    /// When the act was performed (a correction keeps its original's).
    pub performed_at: String,
    pub venue: String,
    pub act: Act,
    pub document_title: String,
    pub pages: u32,
    /// Certificates (seals) given: one fee each.
    pub certificates: u32,
    /// The signers and how each proved who they are (document numbers masked).
    pub signers: Vec<RecordedSigner>,
    /// The officer's username.
    pub officer: String,
    /// The visit.
    pub reference: String,
    pub tracking_number: String,
    /// The entry this one corrects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correction_note: Option<String>,
    /// Later entries that correct this one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub corrected_by: Vec<String>,
}

/// A post's register over a range of its local dates.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterPage {
    pub post: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// In number order.
    pub entries: Vec<RegisterEntry>,
}

/// A corrected entry: every field of the act again, and why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CorrectionRequest {
    pub act: Act,
    #[schema(schema_with = crate::field_schemas::required_title)]
    pub document_title: String,
    #[serde(deserialize_with = "crate::wire::u32_whole")]
    #[schema(minimum = 1, maximum = 500)]
    pub pages: u32,
    #[serde(deserialize_with = "crate::wire::u32_whole")]
    #[schema(minimum = 1, maximum = 50)]
    pub certificates: u32,
    /// A signer's document number may be left out to keep the one recorded for the signer in
    /// the same place with the same kind of proof.
    #[schema(min_items = 1, max_items = 10)]
    pub signers: Vec<SignerInput>,
    /// Where the act was performed; the corrected entry's venue when absent.
    #[schema(schema_with = crate::field_schemas::title)]
    pub venue: Option<String>,
    /// What was wrong (1 to 500 characters).
    #[schema(schema_with = crate::field_schemas::window_reason)]
    pub reason: String,
}

/// What a new entry is about.
pub struct NewEntry<'a> {
    pub post: &'a str,
    pub tz: Tz,
    pub performed_at: NaiveDateTime,
    pub venue: &'a str,
    pub job: &'a CheckedItem,
    pub appointment_id: i64,
    pub document_id: i64,
    /// The entry corrected, and why.
    pub corrects: Option<(i64, &'a str)>,
}

/// The counter scope of a post's register in a fiscal year.
pub fn counter_scope(post: &str, fiscal_year: i32) -> String {
    format!("register:{post}:{fiscal_year}")
}

/// Writes an entry with the next number of its post's current fiscal year, and its audit
/// entry. Call it inside the transaction that records the act.
pub fn append(
    conn: &mut DbConn,
    actor: &Actor,
    entry: NewEntry,
    now: NaiveDateTime,
) -> Result<String, AppError> {
    let officer = actor.staff()?.id;
    let fiscal_year = calendar::fiscal_year(calendar::local_date(now, entry.tz));
    let seq = counters::next(conn, &counter_scope(entry.post, fiscal_year))?;
    let number = counters::post_year_number(entry.post, fiscal_year, seq);
    let job = entry.job;
    let signers = serde_json::to_string(job.signers.as_deref().unwrap_or_default())
        .map_err(|e| AppError::internal(anyhow::Error::from(e)))?;
    let act =
        job.act.ok_or_else(|| AppError::internal(anyhow::anyhow!("a notarial entry without an act")))?;
    diesel::insert_into(notarial_register::table)
        .values((
            notarial_register::entry_number.eq(&number),
            notarial_register::post_code.eq(entry.post),
            notarial_register::fiscal_year.eq(fiscal_year),
            notarial_register::seq.eq(seq),
            notarial_register::recorded_at.eq(now),
            notarial_register::performed_at.eq(entry.performed_at),
            notarial_register::venue.eq(entry.venue),
            notarial_register::act.eq(act.as_str()),
            notarial_register::document_title.eq(job.document_title.as_deref().unwrap_or_default()),
            notarial_register::pages.eq(job.pages.unwrap_or(1) as i32),
            notarial_register::signers.eq(&signers),
            notarial_register::certificates.eq(job.certificates.unwrap_or(1) as i32),
            notarial_register::officer_id.eq(officer),
            notarial_register::appointment_id.eq(entry.appointment_id),
            notarial_register::document_id.eq(entry.document_id),
            notarial_register::corrects.eq(entry.corrects.map(|(id, _)| id)),
            notarial_register::correction_note.eq(entry.corrects.map(|(_, note)| note)),
        ))
        .execute(conn)?;
    let action = match entry.corrects {
        Some(_) => Action::RegisterEntryCorrected,
        None => Action::RegisterEntryRecorded,
    };
    // The entry seals the row as written, read back: `audit verify` holds it to it.
    let written: sealed::RegisterEntry = notarial_register::table
        .filter(notarial_register::entry_number.eq(&number))
        .select(sealed::RegisterEntry::as_select())
        .first(conn)?;
    let event = Event::new(action, &number)
        .at_post(Some(entry.post))
        .with(sealed::with_fields(json!({}), written.fields()));
    audit::record(conn, actor, event, now)?;
    Ok(number)
}

type Row = (
    i64,
    String,
    NaiveDateTime,
    NaiveDateTime,
    String,
    String,
    String,
    i32,
    i32,
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<String>,
);

fn rows(conn: &mut DbConn, post: &str, from: NaiveDateTime, to: NaiveDateTime) -> QueryResult<Vec<Row>> {
    notarial_register::table
        .inner_join(staff::table.on(staff::id.eq(notarial_register::officer_id)))
        .inner_join(appointments::table.on(appointments::id.eq(notarial_register::appointment_id)))
        .inner_join(documents::table.on(documents::id.eq(notarial_register::document_id)))
        .filter(notarial_register::post_code.eq(post))
        .filter(notarial_register::recorded_at.ge(from))
        .filter(notarial_register::recorded_at.lt(to))
        .order((notarial_register::fiscal_year, notarial_register::seq))
        .select((
            notarial_register::id,
            notarial_register::entry_number,
            notarial_register::recorded_at,
            notarial_register::performed_at,
            notarial_register::venue,
            notarial_register::act,
            notarial_register::document_title,
            notarial_register::pages,
            notarial_register::certificates,
            notarial_register::signers,
            staff::username,
            appointments::reference,
            documents::tracking_number,
            notarial_register::corrects,
            notarial_register::correction_note,
        ))
        .load(conn)
}

/// Entry numbers by id, for the entries `ids` name (corrections point at ids).
fn numbers_of(conn: &mut DbConn, ids: Vec<i64>) -> QueryResult<Vec<(i64, String)>> {
    notarial_register::table
        .filter(notarial_register::id.eq_any(ids))
        .select((notarial_register::id, notarial_register::entry_number))
        .load(conn)
}

/// A post's entries written from local `from` to `to` (both included), in number order.
pub fn list(
    conn: &mut DbConn,
    actor: &Actor,
    post: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<RegisterPage, AppError> {
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    if to < from || (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(AppError::invalid(vec![FieldError::new(
            "to",
            Rule::RangeTooLong { max_days: MAX_RANGE_DAYS },
        )]));
    }
    let (start, _) = calendar::day_bounds(from, tz);
    let (_, end) = calendar::day_bounds(to, tz);
    let rows = rows(conn, post, start, end)?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let corrections: Vec<(i64, String, Option<i64>)> = notarial_register::table
        .filter(notarial_register::corrects.eq_any(&ids))
        .order(notarial_register::id)
        .select((notarial_register::id, notarial_register::entry_number, notarial_register::corrects))
        .load(conn)?;
    let corrected: Vec<i64> = rows.iter().filter_map(|r| r.13).collect();
    let originals = numbers_of(conn, corrected)?;
    let entries = rows
        .into_iter()
        .map(|row| {
            let (
                id,
                number,
                recorded,
                performed,
                venue,
                act,
                title,
                pages,
                certificates,
                signers,
                officer,
                reference,
                tracking,
                corrects,
                note,
            ) = row;
            let signers: Vec<RecordedSigner> = serde_json::from_str(&signers).unwrap_or_default();
            // The column is only written from the enum: anything else is a damaged register,
            // which an auditor must hear about rather than see as an acknowledgment.
            let act: Act = serde_json::from_value(json!(act)).map_err(|_| {
                AppError::internal(anyhow::anyhow!("register entry {number} has an unknown act {act:?}"))
            })?;
            Ok(RegisterEntry {
                entry_number: number,
                recorded_at: calendar::rfc3339(recorded, tz),
                performed_at: calendar::rfc3339(performed, tz),
                venue,
                act,
                document_title: title,
                pages: pages.max(0) as u32,
                certificates: certificates.max(0) as u32,
                signers,
                officer,
                reference,
                tracking_number: tracking,
                corrects: corrects
                    .and_then(|c| originals.iter().find(|(i, _)| *i == c).map(|(_, n)| n.clone())),
                correction_note: note,
                corrected_by: corrections
                    .iter()
                    .filter(|(_, _, of)| *of == Some(id))
                    .map(|(_, n, _)| n.clone())
                    .collect(),
            })
        })
        .collect::<Result<_, AppError>>()?;
    Ok(RegisterPage { post: post.to_string(), from, to, entries })
}

/// Entry `number` at `post`, as the register lists it (404 when the post has no such entry).
pub fn entry(conn: &mut DbConn, actor: &Actor, post: &str, number: &str) -> Result<RegisterEntry, AppError> {
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let recorded: NaiveDateTime = notarial_register::table
        .filter(notarial_register::entry_number.eq(number))
        .filter(notarial_register::post_code.eq(post))
        .select(notarial_register::recorded_at)
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no register entry {number} at {post}")))?;
    let day = calendar::local_date(recorded, tz);
    list(conn, actor, post, day, day)?
        .entries
        .into_iter()
        .find(|e| e.entry_number == number)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("entry {number} is not listed on its day")))
}

/// Corrects entry `number` at `post` with a new entry: the act's time, visit and document stay;
/// everything else is as given, checked like a notarial job at the window.
pub fn correct(
    conn: &mut DbConn,
    key: &MatchingKey,
    actor: &Actor,
    post: &str,
    number: &str,
    correction: &Correction,
    now: NaiveDateTime,
) -> Result<RegisterEntry, AppError> {
    actor.ensure_post(post)?;
    let tz = calendar::post_zone(conn, post)?;
    let original: (i64, NaiveDateTime, String, i64, i64, String) = notarial_register::table
        .filter(notarial_register::entry_number.eq(number))
        .filter(notarial_register::post_code.eq(post))
        .select((
            notarial_register::id,
            notarial_register::performed_at,
            notarial_register::venue,
            notarial_register::appointment_id,
            notarial_register::document_id,
            notarial_register::signers,
        ))
        .first(conn)
        .optional()?
        .ok_or_else(|| AppError::not_found(format!("no register entry {number} at {post}")))?;
    let recorded: Vec<RecordedSigner> = serde_json::from_str(&original.5).unwrap_or_default();
    let today = calendar::local_date(now, tz);
    let (job, reason) = check_correction(correction, &recorded, today, key).map_err(AppError::invalid)?;
    let venue = job.venue.clone().unwrap_or(original.2);
    let written = write_transaction(conn, |c| {
        let entry = NewEntry {
            post,
            tz,
            performed_at: original.1,
            venue: &venue,
            job: &job,
            appointment_id: original.3,
            document_id: original.4,
            corrects: Some((original.0, &reason)),
        };
        append(c, actor, entry, now)
    })?;
    let date = calendar::local_date(now, tz);
    let page = list(conn, actor, post, date, date)?;
    page.entries
        .into_iter()
        .find(|e| e.entry_number == written)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("entry {written} vanished")))
}

/// A correction as the rules take it: the act again, as a notarial job (its signers' left-out
/// numbers keeping the recorded ones), and why.
pub struct Correction {
    pub job: NotarialJob,
    pub reason: String,
}

impl From<&CorrectionRequest> for Correction {
    fn from(request: &CorrectionRequest) -> Correction {
        let job = NotarialJob {
            act: Some(request.act),
            document_title: Some(request.document_title.clone()),
            pages: Some(request.pages),
            certificates: Some(request.certificates),
            signers: Some(request.signers.clone()),
            venue: request.venue.clone(),
            pending: None,
        };
        Correction { job, reason: request.reason.clone() }
    }
}

/// Checks a correction against the entry's `recorded` signers: the act by the notarial job's
/// rules, and the reason; every error at once.
fn check_correction(
    correction: &Correction,
    recorded: &[RecordedSigner],
    today: NaiveDate,
    key: &MatchingKey,
) -> Result<(CheckedItem, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let reason =
        crate::booking::free_text("reason", &correction.reason, crate::window::rules::MAX_REASON_CHARS)
            .map_err(|e| errors.push(e))
            .ok();
    let (signers, kept) = keeping_recorded(correction.job.signers.as_deref().unwrap_or_default(), recorded);
    let job = NotarialJob { signers: Some(signers), pending: None, ..correction.job.clone() };
    let checked = intake::check(&IntakeItem::Notarial(job), "notarial", today, Stage::Prefill, key, "")
        .map_err(|mut e| errors.append(&mut e))
        .ok();
    match (checked, reason) {
        (Some(mut job), Some(reason)) if errors.is_empty() => {
            for (signer, kept) in job.signers.iter_mut().flatten().zip(kept) {
                if let Some(proof) = kept {
                    signer.id_proof = proof;
                }
            }
            Ok((job, reason))
        }
        _ => Err(errors),
    }
}

/// A correction may leave out a signer's document number to keep the one recorded for the
/// signer in the same place with the same kind of proof: the officer can't ask someone who has
/// left to show the document again, and must not be pushed to record "personally known"
/// instead. Returns the signers to check (a kept proof stands in as one without a number) and,
/// per signer, the recorded proof to put back once they pass.
fn keeping_recorded(
    signers: &[SignerInput],
    recorded: &[RecordedSigner],
) -> (Vec<SignerInput>, Vec<Option<RecordedIdentity>>) {
    signers
        .iter()
        .enumerate()
        .map(|(i, signer)| {
            let proof = &signer.id_proof;
            let on_file = recorded
                .get(i)
                .map(|r| &r.id_proof)
                .filter(|r| proof.number.is_none() && r.kind == proof.kind && r.number.is_some());
            match on_file {
                Some(kept) => {
                    let stand_in = IdentityInput { kind: IdKind::PersonallyKnown, number: None };
                    (SignerInput { id_proof: stand_in, ..signer.clone() }, Some(kept.clone()))
                }
                None => (signer.clone(), None),
            }
        })
        .unzip()
}

/// The page as CSV (RFC 4180, CRLF line ends), one row per entry; signers in one cell.
pub fn to_csv(page: &RegisterPage) -> String {
    let header = [
        "entry_number",
        "recorded_at",
        "performed_at",
        "venue",
        "act",
        "document_title",
        "pages",
        "certificates",
        "signers",
        "officer",
        "reference",
        "tracking_number",
        "corrects",
        "correction_note",
        "corrected_by",
    ];
    let mut out = header.join(",") + "\r\n";
    for e in &page.entries {
        let signers: Vec<String> = e
            .signers
            .iter()
            .map(|s| {
                let number = s.id_proof.number.as_ref().map(|n| format!(" {}", n.masked)).unwrap_or_default();
                let kind = serde_json::to_value(s.id_proof.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                format!("{} {} ({kind}{number})", s.given_names, s.surname)
            })
            .collect();
        let act =
            serde_json::to_value(e.act).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let row = [
            e.entry_number.clone(),
            e.recorded_at.clone(),
            e.performed_at.clone(),
            e.venue.clone(),
            act,
            e.document_title.clone(),
            e.pages.to_string(),
            e.certificates.to_string(),
            signers.join("; "),
            e.officer.clone(),
            e.reference.clone(),
            e.tracking_number.clone(),
            e.corrects.clone().unwrap_or_default(),
            e.correction_note.clone().unwrap_or_default(),
            e.corrected_by.join(" "),
        ];
        out += &row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
        out += "\r\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_numbers_name_post_fiscal_year_and_number() {
        assert_eq!(counters::post_year_number("MEX", 2027, 123), "MEX-2027-000123");
        assert_eq!(counter_scope("GDL", 2027), "register:GDL:2027");
    }

    #[test]
    fn a_left_out_number_keeps_the_recorded_one_only_for_the_same_place_and_kind() {
        let recorded: Vec<RecordedSigner> = serde_json::from_value(json!([
            {"given_names": "José", "surname": "Núñez", "id_proof": {"kind": "national_id", "number": {"masked": "****3456", "hash": "h1"}}},
            {"given_names": "Ana", "surname": "Ortega", "id_proof": {"kind": "us_passport", "number": {"masked": "****9999", "hash": "h2"}}},
        ]))
        .expect("signers");
        let sent: Vec<SignerInput> = serde_json::from_value(json!([
            {"given_names": "Josè", "surname": "Núñez", "id_proof": {"kind": "national_id"}},
            {"given_names": "Ana", "surname": "Ortega", "id_proof": {"kind": "national_id"}},
            {"given_names": "Luis", "surname": "Paz", "id_proof": {"kind": "us_passport"}},
        ]))
        .expect("signers");
        let (checked, kept) = keeping_recorded(&sent, &recorded);
        assert_eq!(
            kept[0].as_ref().and_then(|p| p.number.as_ref()).map(|n| n.masked.as_str()),
            Some("****3456")
        );
        assert_eq!(
            checked[0].id_proof.kind,
            IdKind::PersonallyKnown,
            "a stand-in while the rules check the rest"
        );
        assert!(kept[1].is_none(), "another kind of proof: its number is needed");
        assert!(kept[2].is_none(), "nobody was recorded in that place");
        assert_eq!(checked[1].id_proof.kind, IdKind::NationalId, "left for the rules to ask its number");
    }
}
