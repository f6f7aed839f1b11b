//! The staff pages under `/staff`: sign-in, the post's day board (check-in, calling the next
//! ticket, which refreshes itself), recording a fee and the receipt with its PDF, voiding it
//! (supervisors), and the fee report's downloads (auditors). The staff session is a staff
//! token in its own cookie (`staff_session`: HttpOnly, SameSite=Strict, path `/staff`), checked
//! exactly as a bearer token with the role each page needs, so disabling an account or
//! changing its role or post ends its session at once. Staff pages are never cached.
//!
//! This module holds what every staff page shares (the session, the role check, how a refusal
//! is said); each page's handlers live in the submodule named for its part of the work.

mod admin_accounts;
mod admin_closures;
mod admin_fees;
mod admin_mail;
mod audit;
mod bulletins;
mod cash_close;
mod day;
mod documents_list;
mod fee_report;
mod feedback;
mod fees;
mod not_served;
mod receipt_list;
mod registry;
mod search;
mod signing;
mod visit;
mod visit_documents;

pub use self::{
    admin_accounts::*, admin_closures::*, admin_fees::*, admin_mail::*, audit::*, bulletins::*,
    cash_close::*, day::*, documents_list::*, fee_report::*, feedback::*, fees::*, not_served::*,
    receipt_list::*, registry::*, search::*, signing::*, visit::*, visit_documents::*,
};

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;

use crate::accounts::login as login_flow;
use crate::accounts::sessions;
use crate::accounts::staff::{self as staff_accounts, NewStaff};
use crate::auth::roles::AdminOnly;
use crate::auth::roles::{AnyStaff, AuditorOrAdmin, ClerkPlus, Requirement, SupervisorPlus};
use crate::auth::tokens::Audience;
use crate::auth::{Actor, Role, Staff};
use crate::booking::closures::{self as closures_op, ClosureRequest};
use crate::booking::reference_code::Reference;
use crate::calendar;
use crate::documents::records::{self as records, TransitionRequest};
use crate::documents::tracking::{self as tracking, Status, TrackingNumber};
use crate::error::{AppError, Code};
use crate::fees::closeouts::{self, CloseoutRequest, Tally};
use crate::fees::money::format_cents;
use crate::fees::money::Currency;
use crate::fees::pricing::ItemInput;
use crate::fees::rates::{self, RateRequest};
use crate::fees::receipts::{self, FeeRequest, Method, PaymentInput, VoidRequest};
use crate::fees::schedule::{self as fee_versions, FeeVersionRequest};
use crate::http::{client_address, HttpError};
use crate::reports::export::Format;
use crate::reports::fee_report::Scope;
use crate::state::AppState;
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::names;
use crate::web::numbers;
use crate::web::{form_page, once, redirect, session};

pub use crate::web::session::STAFF_SESSION;

/// A message page: what went wrong, and the way back to the member's start page.
pub(crate) fn said(req: &HttpRequest, status: StatusCode, lang: Lang, text: &str) -> HttpResponse {
    use actix_web::HttpMessage;
    let title = lang.t(("Staff desk", "Escritorio del personal"));
    let role = req.extensions().get::<crate::web::layout::StaffHeader>().map(|h| h.role);
    let (back, words) = match role {
        Some(role) if crate::web::layout::start_page(role) != "/staff" => (
            crate::web::layout::start_page(role),
            ("Back to your start page", "Volver a su página de inicio"),
        ),
        Some(_) => ("/staff", ("Back to the day board", "Volver al tablero del día")),
        None => ("/staff/sign-in", ("Sign in", "Iniciar sesión")),
    };
    form_page(req, status, lang, title, "/staff", |_| {
        html! {
            p.error role="alert" { (text) }
            p { a href=(back) { (lang.t(words)) } }
        }
    })
}

/// A form sent with a missing or stale CSRF token: nothing was done.
pub(crate) fn expired(req: &HttpRequest, lang: Lang) -> HttpResponse {
    said(req, StatusCode::FORBIDDEN, lang, lang.t(crate::web::FORM_EXPIRED))
}

/// The signed-in staff member with role `R`; else the sign-in page (no or stale session) or
/// a 403 page (a role that may not). [`crate::web::extract::StaffPage`] is the same as an
/// extractor.
pub(crate) async fn member<R: Requirement>(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Staff<R>, HttpResponse> {
    let Some(token) = req.cookie(STAFF_SESSION).map(|c| c.value().to_string()) else {
        return Err(redirect("/staff/sign-in"));
    };
    crate::web::extract::staff_member(state, req, &token).await
}

/// What an operation's refusal tells the clerk, in the page's language (the code's meaning
/// for the ones without their own words).
pub(crate) fn refusal(lang: Lang, e: &AppError) -> String {
    let text: Option<Text> = match e.code() {
        Code::WrongPost => Some(("That belongs to another post.", "Eso pertenece a otra sede.")),
        Code::TooEarly => Some((
            "It is too early to check this appointment in.",
            "Aún es temprano para registrar la llegada de esta cita.",
        )),
        Code::TooLate => Some((
            "Too late to check in without a reason.",
            "Demasiado tarde para registrar la llegada sin un motivo.",
        )),
        Code::AlreadyCheckedIn => Some(("Already checked in.", "Ya se registró su llegada.")),
        Code::QueueEmpty => Some(("Nobody is waiting.", "No hay nadie esperando.")),
        Code::AlreadyVoided => Some(("This receipt is already void.", "Este recibo ya está anulado.")),
        Code::OwnReceipt => Some((
            "A receipt is voided by a supervisor who did not collect it.",
            "Un recibo lo anula un supervisor que no lo cobró.",
        )),
        Code::DayClosed => {
            Some(("That day's cash close is signed.", "El corte de caja de ese día está firmado."))
        }
        Code::NotFound => Some(("Not found.", "No se encontró.")),
        Code::NotFailed => Some((
            "That message was not given up: it went, or is still being tried.",
            "Ese mensaje no se abandonó: ya se envió o todavía se está intentando.",
        )),
        Code::FeeVersionInForce => Some((
            "That version has taken effect at a post or was charged on a receipt: add a new version instead.",
            "Esa versión ya rige en alguna sede o se cobró en un recibo: agregue una versión nueva.",
        )),
        Code::FeeVersionWithdrawn => {
            Some(("That version is withdrawn already.", "Esa versión ya fue retirada."))
        }
        Code::OwnBulletin => Some((
            "You wrote this message: another officer must approve it.",
            "Usted escribió este mensaje: debe aprobarlo otro oficial.",
        )),
        Code::AlreadyQueued => Some((
            "This message was approved and queued already.",
            "Este mensaje ya fue aprobado y puesto en cola.",
        )),
        _ => None,
    };
    match (text, e) {
        // A post code typed into an address: say which, and where to pick one.
        (_, AppError::NotFound { detail }) if detail.starts_with("no post ") => {
            let code = detail.trim_start_matches("no post ");
            match lang {
                Lang::En => format!("No post has the code {code}. Pick the post from the list on the page."),
                Lang::Es => {
                    format!("Ninguna sede tiene el código {code}. Elija la sede de la lista de la página.")
                }
            }
        }
        (Some(text), _) => lang.t(text).to_string(),
        (None, AppError::Validation { errors, .. }) => {
            // In the page's language, never an internal field name; forms that can point at
            // the field say it beside the field instead.
            errors.iter().map(|f| lang.rule(&f.rule)).collect::<Vec<_>>().join(" ")
        }
        (None, e) => format!("{} ({})", e.code().meaning(), e.code().as_str()),
    }
}

/// An operation's refusal (4xx) as a page saying why; a failure (5xx) goes on as the error.
pub(crate) fn refused(req: &HttpRequest, lang: Lang, e: AppError) -> Result<HttpResponse, HttpError> {
    let status = e.code().status();
    if status >= 500 {
        return Err(e.into());
    }
    Ok(said(req, StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT), lang, &refusal(lang, &e)))
}

// --- what several pages' requests share ------------------------------------------------------

/// A page about one post on one day: `?post=` (for staff bound to none) and `?date=`.
#[derive(Deserialize)]
pub struct BoardQuery {
    pub(super) post: Option<String>,
    /// The board's local date: today by default.
    pub(super) date: Option<NaiveDate>,
}

/// The post a page is about: the member's own, or (for one bound to none) the one asked for,
/// Mexico City by default.
pub(crate) fn post_of(member: &crate::auth::StaffMember, asked: Option<String>) -> String {
    member.post.clone().unwrap_or_else(|| {
        asked.map(|p| crate::reference::normalise_post(&p)).unwrap_or_else(|| calendar::EMBASSY.into())
    })
}

/// A form that only carries its CSRF token (sign-out, check-in, calling the next ticket).
#[derive(Deserialize)]
pub struct CsrfOnly {
    pub(super) csrf: String,
}

crate::web::extract::carries_csrf!(CsrfOnly, PostForm);

/// A form about one post (signing a close, removing a closure).
#[derive(Deserialize)]
pub struct PostForm {
    pub(super) csrf: String,
    pub(super) post: String,
}
