//! The passport renewal (DS-82) on the pages: the applicant pre-fills it before the
//! appointment (`records::prefill`), and the clerk records it at the window
//! (`records::record`), with the same fields and the same rules as the API (an adult's
//! passport, issued at 16 or older, less than 15 years ago).

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{NaiveDate, Utc};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::roles::ClerkPlus;
use crate::booking::party::PersonInput;
use crate::booking::reference_code::Reference;
use crate::documents::intake::{Form, IntakeItem, PreviousPassportInput};
use crate::documents::records::{self, IntakeRequest};
use crate::error::{AppError, Code, FieldError};
use crate::state::AppState;
use crate::web::i18n::{Lang, Text};
use crate::web::staff::member;
use crate::web::{form_page, redirect, session};

const FIELDS: [(&str, Text, &str); 5] = [
    ("given_names", ("Given names", "Nombre(s)"), "given-name"),
    ("surname", ("Surnames", "Apellidos"), "family-name"),
    ("date_of_birth", ("Date of birth (YYYY-MM-DD)", "Fecha de nacimiento (AAAA-MM-DD)"), "bday"),
    (
        "passport_number",
        ("Number of the passport being renewed", "Número del pasaporte que se renueva"),
        "off",
    ),
    ("passport_issued_on", ("Its date of issue (YYYY-MM-DD)", "Su fecha de expedición (AAAA-MM-DD)"), "off"),
];

#[derive(Deserialize, Default)]
pub struct RenewalForm {
    csrf: String,
    given_names: String,
    surname: String,
    date_of_birth: String,
    passport_number: String,
    passport_issued_on: String,
}

impl RenewalForm {
    fn value(&self, field: &str) -> &str {
        match field {
            "given_names" => &self.given_names,
            "surname" => &self.surname,
            "date_of_birth" => &self.date_of_birth,
            "passport_number" => "",
            _ => &self.passport_issued_on,
        }
    }

    /// The DS-82 item the form describes; a date that isn't one is its field's error.
    fn item(&self) -> Result<IntakeItem, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut date = |field: &str, text: &str| match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                errors.push(FieldError::new(field, "is not a date (YYYY-MM-DD)"));
                None
            }
        };
        let born = date("date_of_birth", &self.date_of_birth);
        let issued = date("passport_issued_on", &self.passport_issued_on);
        let (Some(born), Some(issued)) = (born, issued) else { return Err(errors) };
        Ok(IntakeItem {
            form: Form::Ds82,
            applicant: Some(PersonInput {
                given_names: self.given_names.clone(),
                surname: self.surname.clone(),
                date_of_birth: Some(born),
            }),
            minor_consent: None,
            previous_passport: Some(PreviousPassportInput {
                number: self.passport_number.clone(),
                issued_on: issued,
            }),
            identity_document: None,
            act: None,
            document_title: None,
            pages: None,
            certificates: None,
            signers: None,
            venue: None,
            pending: None,
        })
    }
}

/// `items[0].previous_passport.issued_on` (the rules' name) as the form's field.
fn form_field(rule_field: &str) -> &'static str {
    let last = rule_field.rsplit('.').next().unwrap_or(rule_field);
    let in_passport = rule_field.contains("previous_passport");
    match last {
        "given_names" => "given_names",
        "surname" => "surname",
        "date_of_birth" => "date_of_birth",
        "number" if in_passport => "passport_number",
        "issued_on" => "passport_issued_on",
        "passport_number" => "passport_number",
        "passport_issued_on" => "passport_issued_on",
        _ => "form",
    }
}

fn fields(lang: Lang, form: &RenewalForm, errors: &[FieldError], csrf: &str) -> Markup {
    let error =
        |field: &str| errors.iter().find(|e| form_field(&e.field) == field).map(|e| e.message.clone());
    let general: Vec<&FieldError> = errors.iter().filter(|e| form_field(&e.field) == "form").collect();
    html! {
        @for e in &general { p.error role="alert" { (e.message) } }
        input type="hidden" name="csrf" value=(csrf);
        @for (id, label, autocomplete) in &FIELDS {
            @let hint = format!("{id}-error");
            label for=(id) { (lang.t(*label)) }
            @if let Some(message) = error(id) {
                p.error id=(hint) { (message) }
                input id=(id) name=(id) type="text" value=(form.value(id)) autocomplete=(autocomplete) aria-invalid="true" aria-describedby=(hint) required;
            } @else {
                input id=(id) name=(id) type="text" value=(form.value(id)) autocomplete=(autocomplete) required;
            }
        }
    }
}

const TITLE: Text = ("Passport renewal (DS-82)", "Renovación de pasaporte (DS-82)");

fn applicant_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    reference: &str,
    form: &RenewalForm,
    errors: &[FieldError],
) -> HttpResponse {
    let action = format!("/my/{reference}/intake");
    form_page(req, status, lang, lang.t(TITLE), "/my", |csrf| {
        html! {
            p { (lang.t(("Fill this in before your appointment to save time at the window. The passport number is kept masked.",
                         "Llénelo antes de su cita para ahorrar tiempo en la ventanilla. El número de pasaporte se guarda enmascarado."))) }
            form method="post" action=(action) novalidate {
                (fields(lang, form, errors, csrf))
                button type="submit" { (lang.t(("Save", "Guardar"))) }
            }
        }
    })
}

#[get("/my/{reference}/intake")]
pub async fn prefill_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    if session::applicant(&state, &req).await.is_none() {
        return redirect("/sign-in");
    }
    applicant_page(&req, lang, StatusCode::OK, &reference, &RenewalForm::default(), &[])
}

#[post("/my/{reference}/intake")]
pub async fn prefill(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    form: web::Form<RenewalForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let Some(who) = session::applicant(&state, &req).await else {
        return Ok(redirect("/sign-in"));
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        let expired = [FieldError::new(
            "form",
            lang.t((
                "This form has expired. Please send it again.",
                "Este formulario caducó. Envíelo de nuevo.",
            )),
        )];
        return Ok(applicant_page(&req, lang, StatusCode::FORBIDDEN, &reference, &form, &expired));
    }
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let item = match form.item() {
        Ok(item) => item,
        Err(errors) => {
            return Ok(applicant_page(
                &req,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &reference,
                &form,
                &errors,
            ))
        }
    };
    let key = state.matching.clone();
    let request = IntakeRequest { items: vec![item] };
    let actor = who.actor();
    let done = state
        .db(move |conn| records::prefill(conn, &key, &actor, &parsed, &request, Utc::now().naive_utc()))
        .await;
    match done {
        Ok(_) => Ok(redirect(&format!("/my/{}", reference.as_str()))),
        Err(AppError::Validation { errors, .. }) => {
            Ok(applicant_page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, &reference, &form, &errors))
        }
        Err(e) if e.code() == Code::NotFound => Ok(HttpResponse::NotFound().finish()),
        Err(e) if e.code().status() == 409 => {
            let said = [FieldError::new(
                "form",
                lang.t((
                    "This appointment can no longer be pre-filled.",
                    "Esta cita ya no se puede prellenar.",
                )),
            )];
            Ok(applicant_page(&req, lang, StatusCode::CONFLICT, &reference, &form, &said))
        }
        Err(e) => Err(e),
    }
}

fn window_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    reference: &str,
    form: &RenewalForm,
    errors: &[FieldError],
) -> HttpResponse {
    let action = format!("/staff/visits/{reference}/renewal");
    form_page(req, status, lang, lang.t(TITLE), "/staff", |csrf| {
        html! {
            form method="post" action=(action) novalidate {
                (fields(lang, form, errors, csrf))
                button type="submit" { (lang.t(("Record the application", "Registrar la solicitud"))) }
            }
        }
    })
}

#[get("/staff/visits/{reference}/renewal")]
pub async fn window_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    if let Err(page) = member::<ClerkPlus>(&state, &req).await {
        return page;
    }
    window_page(&req, lang, StatusCode::OK, &reference, &RenewalForm::default(), &[])
}

#[post("/staff/visits/{reference}/renewal")]
pub async fn record_at_window(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    form: web::Form<RenewalForm>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        let expired = [FieldError::new(
            "form",
            lang.t((
                "This form has expired. Please send it again.",
                "Este formulario caducó. Envíelo de nuevo.",
            )),
        )];
        return Ok(window_page(&req, lang, StatusCode::FORBIDDEN, &reference, &form, &expired));
    }
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let item = match form.item() {
        Ok(item) => item,
        Err(errors) => {
            return Ok(window_page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, &reference, &form, &errors))
        }
    };
    let (key, actor) = (state.matching.clone(), clerk.actor());
    let done = state
        .db(move |conn| records::record(conn, &key, &actor, &parsed, &item, Utc::now().naive_utc()))
        .await;
    match done {
        Ok(_) => Ok(redirect(&format!("/staff/visits/{}/documents", reference.as_str()))),
        Err(AppError::Validation { errors, .. }) => {
            Ok(window_page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, &reference, &form, &errors))
        }
        Err(e) => {
            let said = [FieldError::new("form", format!("{} ({})", e.code().meaning(), e.code().as_str()))];
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::CONFLICT);
            if e.code().status() >= 500 {
                return Err(e);
            }
            Ok(window_page(&req, lang, status, &reference, &form, &said))
        }
    }
}
