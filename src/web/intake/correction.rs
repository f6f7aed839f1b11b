//! Correcting a notarial register entry from the pages: the entry's act again, with the same
//! inputs as a notarial job at the window, and why. The original is never changed; the
//! correction is a new entry naming it (`register::correct`, as for the API).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use maud::html;

use super::fields::{self, Typed};
use super::{add_signer, general, inputs, section, Posted, Use, EXPIRED};
use crate::auth::roles::ClerkPlus;
use crate::auth::Staff;
use crate::calendar;
use crate::documents::intake::{CheckedItem, Form};
use crate::documents::register::{self, RegisterEntry};
use crate::error::AppError;
use crate::http::HttpError;
use crate::state::AppState;
use crate::web::field_errors::{worded, PageError};
use crate::web::i18n::{Lang, PageLang};
use crate::web::staff::{member, refusal, said};
use crate::web::{form_page, once, redirect, session};

const TITLE: (&str, &str) = ("Correct a register entry", "Corregir un asiento del registro");

/// The entry as the job it records, so the form starts from it (numbers stay masked).
fn as_job(entry: &RegisterEntry) -> CheckedItem {
    CheckedItem {
        form: Form::Notarial,
        applicant: None,
        minor_consent: None,
        previous_passport: None,
        identity_document: None,
        act: Some(entry.act),
        document_title: Some(entry.document_title.clone()),
        pages: Some(entry.pages),
        certificates: Some(entry.certificates),
        signers: Some(entry.signers.clone()),
        venue: Some(entry.venue.clone()),
        pending: None,
    }
}

fn page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    entry: &RegisterEntry,
    post: &str,
    typed: &Typed,
    errors: &[PageError],
) -> HttpResponse {
    let action = format!("/staff/register/{post}/{}/correct", entry.entry_number);
    let job = as_job(entry);
    let list = inputs(lang, Form::Notarial, "", fields::signer_rows(typed, ""), Use::Correction, Some(&job));
    let act_errors: Vec<PageError> = errors.iter().filter(|e| e.field != "reason").cloned().collect();
    let reason_error = errors.iter().find(|e| e.field == "reason").map(|e| e.text.clone());
    let title = format!("{} · {}", lang.t(TITLE), entry.entry_number);
    form_page(req, status, lang, &title, "/staff/register", |csrf| {
        html! {
            p { (lang.t(("The entry stays as it is; the correction is a new entry that names it.",
                         "El asiento queda como está; la corrección es un asiento nuevo que lo cita."))) }
            dl {
                dt { (lang.t(("Performed", "Realizado"))) } dd { (lang.date_time(&entry.performed_at)) }
                dt { (lang.t(("Officer", "Funcionario"))) } dd { (entry.officer) }
                dt { (lang.t(("Visit", "Visita"))) } dd { (entry.reference) " · " (entry.tracking_number) }
            }
            form method="post" action=(action) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name=(once::FIELD) value=(once::token());
                (general(lang, errors))
                (section(lang, lang.t(("The act as it should read", "El acto como debe constar")), &list, typed, &act_errors, ""))
                label for="reason" { (lang.t(("What was wrong", "Qué estaba mal"))) }
                @if let Some(error) = &reason_error {
                    p.error id="reason-error" { (error) }
                    input #reason name="reason" type="text" maxlength="500" value=(typed.get("reason")) aria-invalid="true" aria-describedby="reason-error" required;
                } @else {
                    input #reason name="reason" type="text" maxlength="500" value=(typed.get("reason")) required;
                }
                button type="submit" { (lang.t(("Record the correction", "Registrar la corrección"))) }
                (add_signer(lang, Form::Notarial, typed, ""))
            }
            p { a href={ "/staff/register?post=" (post) } { (lang.t(("Back to the register", "Volver al registro"))) } }
        }
    })
}

/// The entry, for a clerk (or above) of its post; else the page saying why.
async fn entry_of(
    state: &AppState,
    req: &HttpRequest,
    post: &str,
    number: &str,
) -> Result<(RegisterEntry, Staff<ClerkPlus>), HttpResponse> {
    let lang = Lang::of(req);
    let clerk = member::<ClerkPlus>(state, req).await?;
    let (actor, post, number) = (clerk.actor(), post.to_string(), number.to_string());
    match state.db(move |conn| register::entry(conn, &actor, &post, &number)).await {
        Ok(entry) => Ok((entry, clerk)),
        Err(e) => {
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::NOT_FOUND);
            Err(said(req, status, lang, &refusal(lang, &e)))
        }
    }
}

#[get("/staff/register/{post}/{number}/correct")]
pub async fn correction_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (post, number) = path.into_inner();
    let post = crate::reference::normalise_post(&post);
    match entry_of(&state, &req, &post, &number).await {
        Ok((entry, _)) => {
            let mut typed = Typed::default();
            fields::from_checked(&mut typed, "", &as_job(&entry));
            page(&req, Lang::of(&req), StatusCode::OK, &entry, &post, &typed, &[])
        }
        Err(refused) => refused,
    }
}

#[post("/staff/register/{post}/{number}/correct")]
pub async fn correct(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let (post, number) = path.into_inner();
    let post = crate::reference::normalise_post(&post);
    let (entry, clerk) = match entry_of(&state, &req, &post, &number).await {
        Ok(found) => found,
        Err(refused) => return Ok(refused),
    };
    let posted = Posted::new(form.into_inner());
    let typed = &posted.typed;
    let again = |status, errors: &[PageError]| page(&req, lang, status, &entry, &post, typed, errors);
    let token = typed.get(once::FIELD).to_string();
    if !session::csrf_holds(&req, &posted.csrf) || !once::well_formed(&token) {
        return Ok(again(StatusCode::FORBIDDEN, &[PageError::new("form", lang.t(EXPIRED))]));
    }
    if posted.add_signer.is_some() {
        return Ok(again(StatusCode::OK, &[]));
    }
    let job = match fields::notarial_job(typed, "", false) {
        Ok(job) => job,
        Err(errors) => return Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &worded(lang, &errors))),
    };
    // Every rule is `register::correct`'s, which answers all its errors at once.
    let correction = register::Correction { job, reason: typed.get("reason").to_string() };
    let (key, actor, at) = (state.matching.clone(), clerk.actor(), post.clone());
    // Once per rendering of the form: a double click writes one correction.
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                register::correct(c, &key, &actor, &at, &number, &correction, now)?;
                let day = calendar::local_date(now, calendar::post_zone(c, &at)?);
                Ok(format!("/staff/register?post={at}&to={day}"))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(AppError::Validation { errors, .. }) => {
            Ok(again(StatusCode::UNPROCESSABLE_ENTITY, &worded(lang, &errors)))
        }
        Err(e) if e.code().status() >= 500 => Err(e.into()),
        Err(e) => {
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::CONFLICT);
            Ok(again(status, &[PageError::new("form", refusal(lang, &e))]))
        }
    }
}
