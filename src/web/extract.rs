//! The one way a page handler learns who is asking and whether their form holds: extractors
//! that answer a refusal with a page in the visitor's language (the sign-in page, a 403 page,
//! the "form expired" page, a 404 page) instead of the same lines in every handler.
//!
//! A handler takes what it needs, `StaffPage<ClerkPlus>` and `CsrfForm<CallForm>`, say, and
//! never runs for a visitor the extractor refused.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use serde::de::DeserializeOwned;

use crate::auth::roles::{AnyStaff, ClerkPlus, Requirement};
use crate::auth::{Applicant, Staff, StaffMember};
use crate::booking::appointments::AppointmentView;
use crate::booking::reference_code::Reference;
use crate::error::Code;
use crate::http::HttpError;
use crate::reference::Post;
use crate::state::AppState;
use crate::web::i18n::{Lang, PageLang};
use crate::web::layout::StaffHeader;
use crate::web::{redirect, session};

type Refusal = actix_web::Error;
type Extracting<T> = Pin<Box<dyn Future<Output = Result<T, Refusal>>>>;

/// A page as the refusal: actix sends it as it is.
fn refusal(page: HttpResponse) -> Refusal {
    InternalError::from_response("refused", page).into()
}

fn app_state(req: &HttpRequest) -> Result<web::Data<AppState>, Refusal> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("AppState is not registered"))
}

/// A signed-in staff member whose role satisfies `R`, from the staff session cookie; derefs to
/// [`Staff`]. No or a stale session: the sign-in page. A role that may not: a 403 page.
pub struct StaffPage<R> {
    pub staff: Staff<R>,
    /// The visitor's language.
    pub lang: Lang,
}

impl<R> Deref for StaffPage<R> {
    type Target = Staff<R>;
    fn deref(&self) -> &Staff<R> {
        &self.staff
    }
}

impl<R: Requirement + 'static> FromRequest for StaffPage<R> {
    type Error = Refusal;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let lang = Lang::of(&req);
            let Some(token) = req.cookie(session::STAFF_SESSION).map(|c| c.value().to_string()) else {
                return Err(refusal(redirect("/staff/sign-in")));
            };
            match staff_member::<R>(&state, &req, &token).await {
                Ok(staff) => Ok(StaffPage { staff, lang }),
                Err(page) => Err(refusal(page)),
            }
        })
    }
}

/// The cookie that remembers, for the staff session, the window a clerk works at.
pub const WINDOW_COOKIE: &str = "staff_window";

/// The window remembered in the session: at most 20 characters, nothing invisible.
pub fn remembered_window(req: &HttpRequest) -> Option<String> {
    let cookie = req.cookie(WINDOW_COOKIE)?;
    crate::booking::free_text("window", cookie.value(), 20).ok()
}

/// Puts who is signed in on the request, so the page's frame shows their menu and window.
pub(crate) fn remember_for_the_header(req: &HttpRequest, member: &StaffMember) {
    use actix_web::HttpMessage;
    // Read before borrowing the extensions: the cookies are kept there too.
    let header = StaffHeader {
        username: member.username.clone(),
        role: member.role,
        post: member.post.clone(),
        // Only those who work at a window have one.
        window: ClerkPlus::admits(member.role).then(|| remembered_window(req)).flatten(),
    };
    req.extensions_mut().insert(header);
}

/// The member `token` names, put on the request for the page's header, if their role satisfies
/// `R`; else the page that refuses them: the sign-in page (no valid session) or a 403 page
/// that still shows their own menu and start page.
pub(crate) async fn staff_member<R: Requirement>(
    state: &AppState,
    req: &HttpRequest,
    token: &str,
) -> Result<Staff<R>, HttpResponse> {
    let Ok(member) =
        crate::accounts::token_check::staff::<AnyStaff>(&state.pool, &state.keys, &state.clock, token).await
    else {
        return Err(redirect("/staff/sign-in"));
    };
    remember_for_the_header(req, &member.member);
    member.narrow::<R>().ok_or_else(|| {
        let lang = Lang::of(req);
        let text = lang.t(("Your role can't open this page.", "Su función no permite abrir esta página."));
        crate::web::staff::said(req, StatusCode::FORBIDDEN, lang, text)
    })
}

/// A signed-in applicant, from the session cookie; otherwise the sign-in page.
pub struct ApplicantPage {
    pub applicant: Applicant,
    pub lang: Lang,
}

impl Deref for ApplicantPage {
    type Target = Applicant;
    fn deref(&self) -> &Applicant {
        &self.applicant
    }
}

impl FromRequest for ApplicantPage {
    type Error = Refusal;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            match session::applicant(&state, &req).await {
                Some(applicant) => Ok(ApplicantPage { applicant, lang: Lang::of(&req) }),
                None => Err(refusal(redirect("/sign-in"))),
            }
        })
    }
}

/// The appointment named by the path's `{reference}`, when it is the signed-in applicant's
/// own, with its post: anyone else's, or a reference that can't be one, is the same 404 page
/// (it says nothing about whether the reference exists).
pub struct OwnAppointment {
    pub applicant: Applicant,
    pub reference: Reference,
    pub view: AppointmentView,
    pub post: Option<Post>,
    pub lang: Lang,
}

impl FromRequest for OwnAppointment {
    type Error = Refusal;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = app_state(&req)?;
            let lang = Lang::of(&req);
            let Some(applicant) = session::applicant(&state, &req).await else {
                return Err(refusal(redirect("/sign-in")));
            };
            let not_found = || refusal(crate::web::booking::not_found(&req, lang));
            let reference =
                req.match_info().get("reference").and_then(Reference::parse).ok_or_else(not_found)?;
            match crate::booking::online::own_with_post(&state.pool, applicant.clone(), reference.clone())
                .await
            {
                Ok((view, post)) => Ok(OwnAppointment { applicant, reference, view, post, lang }),
                Err(e) if e.code() == Code::NotFound => Err(not_found()),
                Err(e) => Err(HttpError(e).into()),
            }
        })
    }
}

/// A form that carries the CSRF token it was rendered with.
pub trait CarriesCsrf {
    fn csrf(&self) -> &str;
}

/// A urlencoded form whose CSRF token holds; otherwise the "form expired" page (403) and
/// nothing is done. A form too long or unreadable gets the form config's page.
pub struct CsrfForm<T>(pub T);

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for CsrfForm<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + CarriesCsrf + 'static> FromRequest for CsrfForm<T> {
    type Error = Refusal;
    type Future = Extracting<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<T>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let web::Form(form) = form.await?;
            if !session::csrf_holds(&req, form.csrf()) {
                return Err(refusal(form_expired(&req)));
            }
            Ok(CsrfForm(form))
        })
    }
}

/// The "form expired" page (403): on a staff page with the way back to the board, elsewhere
/// with the way home.
fn form_expired(req: &HttpRequest) -> HttpResponse {
    let lang = Lang::of(req);
    if req.path().starts_with("/staff") {
        return crate::web::staff::expired(req, lang);
    }
    let title = lang.t(("Form not accepted", "Formulario no aceptado"));
    crate::web::form_page(req, StatusCode::FORBIDDEN, lang, title, "/", |_| {
        maud::html! {
            p.error role="alert" { (lang.t(crate::web::FORM_EXPIRED)) }
            p { a href="/" { (lang.t(("Back to the home page", "Volver a la página de inicio"))) } }
        }
    })
}

/// Forms whose only field that matters here is `csrf`.
macro_rules! carries_csrf {
    ($($form:ty),* $(,)?) => {
        $(impl $crate::web::extract::CarriesCsrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })*
    };
}
pub(crate) use carries_csrf;
