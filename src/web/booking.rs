//! Booking from the pages, signed in: choose the post and service, then a week's free slots
//! and the people, then the appointment with its reference, its PDF confirmation and a
//! calendar file. Availability, the booking itself (throttles, rules, the last seat) and the
//! PDF are the API's own operations.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{Duration, NaiveDate};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::Actor;
use crate::booking::appointments::{AppointmentView, Booked, BookingRequest, Rules};
use crate::booking::party::{PersonInput, MAX_PARTY};
use crate::booking::reference_code::Reference;
use crate::booking::status::AppointmentStatus;
use crate::booking::{self, online, AvailabilityQuery};
use crate::documents::records::{self, OwnDocument};
use crate::error::{AppError, Code, FieldError};
use crate::http::{client_address, HttpError};
use crate::reference;
use crate::rule::Rule;
use crate::state::AppState;
use crate::web::account_mail::{confirm_first_page, unconfirmed_address};
use crate::web::extract::{ApplicantPage, OwnAppointment};
use crate::web::field_errors::{worded, PageError};
use crate::web::i18n::{Lang, PageLang};
use crate::web::names;
use crate::web::{form_page, redirect, session};

/// The signed-in applicant, or the way to the sign-in page.

#[get("/book")]
pub async fn choose(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    if let Some(address) = unconfirmed_address(&state, visitor.applicant.id).await? {
        return Ok(confirm_first_page(&req, lang, &address));
    }
    let (posts, services) =
        state.db(|conn| Ok((reference::list_posts(conn)?, reference::list_services(conn)?))).await?;
    let title = lang.t(("Book an appointment", "Reservar una cita"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/book", |_| {
        html! {
            form method="get" action="/book/slots" {
                label for="post" { (lang.t(("Office", "Oficina"))) }
                select #post name="post" required {
                    @for p in &posts { option value=(p.code) selected[p.code == "MEX"] { (p.name) } }
                }
                label for="service" { (lang.t(("Service", "Servicio"))) }
                select #service name="service" required {
                    @for s in &services { option value=(s.code) { (crate::web::public::service_name(lang, &s.code, &s.name)) } }
                }
                button type="submit" { (lang.t(("See free times", "Ver horarios disponibles"))) }
            }
        }
    }))
}

#[derive(Deserialize)]
pub struct SlotsQuery {
    post: String,
    service: String,
    from: Option<NaiveDate>,
}

/// The people fields as a form sends them: up to four, each optional but the first.
#[derive(Deserialize, Default)]
pub struct BookForm {
    csrf: String,
    post: String,
    service: String,
    slot_id: Option<String>,
    phone: Option<String>,
    given_1: Option<String>,
    surname_1: Option<String>,
    born_1: Option<String>,
    given_2: Option<String>,
    surname_2: Option<String>,
    born_2: Option<String>,
    given_3: Option<String>,
    surname_3: Option<String>,
    born_3: Option<String>,
    given_4: Option<String>,
    surname_4: Option<String>,
    born_4: Option<String>,
}

impl BookForm {
    fn person(&self, n: usize) -> [&str; 3] {
        let (g, s, b) = match n {
            1 => (&self.given_1, &self.surname_1, &self.born_1),
            2 => (&self.given_2, &self.surname_2, &self.born_2),
            3 => (&self.given_3, &self.surname_3, &self.born_3),
            _ => (&self.given_4, &self.surname_4, &self.born_4),
        };
        [g, s, b].map(|v| v.as_deref().unwrap_or(""))
    }

    /// The booking the form asks for: the people whose names were filled in (a date of birth
    /// that isn't a date is the field's error).
    fn request(&self) -> Result<BookingRequest, Vec<FieldError>> {
        let mut errors = Vec::new();
        let slot_id = self.slot_id.as_deref().and_then(|s| s.parse::<i64>().ok());
        if slot_id.is_none() {
            errors.push(FieldError::new("slot_id", Rule::ChooseATime));
        }
        let mut applicants = Vec::new();
        for n in 1..=MAX_PARTY {
            let [given, surname, born] = self.person(n);
            if n > 1 && given.trim().is_empty() && surname.trim().is_empty() && born.trim().is_empty() {
                continue;
            }
            let date_of_birth = match born.trim() {
                "" => None,
                text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                    Ok(date) => Some(date),
                    Err(_) => {
                        errors.push(FieldError::new(format!("born_{n}"), Rule::NotADate));
                        None
                    }
                },
            };
            applicants.push(PersonInput {
                given_names: given.into(),
                surname: surname.into(),
                date_of_birth,
            });
        }
        let phone = self.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(String::from);
        match (slot_id, errors.is_empty()) {
            (Some(slot_id), true) => Ok(BookingRequest { slot_id, applicants, phone }),
            _ => Err(errors),
        }
    }
}

/// `applicants[1].surname` (the rules' name for a field) as the form's `surname_2`.
fn form_field(rule_field: &str) -> String {
    let Some(rest) = rule_field.strip_prefix("applicants[") else {
        return rule_field.to_string();
    };
    let (index, name) = rest.split_once("].").unwrap_or((rest, ""));
    let n = index.trim_end_matches(']').parse::<usize>().map_or(1, |i| i + 1);
    let name = match name {
        "given_names" => "given",
        "surname" => "surname",
        "date_of_birth" => "born",
        _ => return "applicants".into(),
    };
    format!("{name}_{n}")
}

/// A week's free slots as radio buttons, a fieldset a day (`chosen` checked).
fn slot_choices(lang: Lang, free: &booking::Availability, chosen: &str) -> Markup {
    let mut days: Vec<NaiveDate> =
        free.slots.iter().filter_map(|s| s.starts_at.get(..10)?.parse().ok()).collect();
    days.dedup();
    html! {
        @if days.is_empty() {
            p.notice role="status" { (lang.t(("No free times this week: try a later week.", "No hay horarios libres esta semana: pruebe la siguiente."))) }
        }
                @for day in &days {
                    fieldset {
                        legend { (lang.date(*day)) }
                        @for slot in free.slots.iter().filter(|s| s.starts_at.starts_with(&day.to_string())) {
                            @let id = format!("slot-{}", slot.slot_id);
                            div {
                                input type="radio" name="slot_id" id=(id) value=(slot.slot_id) checked[chosen == slot.slot_id.to_string()];
                                label.inline for=(id) {
                                    (slot.starts_at.get(11..16).unwrap_or("")) " "
                                    "(" (slot.remaining) " " (lang.t(("places", "lugares"))) ")"
                                }
                            }
                        }
                    }
                }
    }
}

#[allow(clippy::too_many_arguments)]
async fn slots_page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    post: String,
    service: String,
    from: Option<NaiveDate>,
    form: &BookForm,
    errors: &[PageError],
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let rules = Rules::from(&state.settings.booking);
    let query = AvailabilityQuery { service: service.clone(), from, to: from.map(|f| f + Duration::days(6)) };
    let (post_code, service_code) = (post.clone(), service.clone());
    let found = state
        .db(move |conn| {
            let query = match query.from {
                Some(_) => query,
                None => {
                    let today =
                        crate::calendar::local_date(now, crate::calendar::post_zone(conn, &post_code)?);
                    AvailabilityQuery { to: Some(today + Duration::days(6)), from: Some(today), ..query }
                }
            };
            let free = booking::availability(conn, &rules, &Actor::Anonymous, &post_code, &query, now)?;
            let max = reference::list_services(conn)?
                .into_iter()
                .find(|s| s.code == service_code)
                .map_or(1, |s| s.max_party_size.clamp(1, MAX_PARTY as i32) as usize);
            Ok((free, max))
        })
        .await;
    let (free, max) = match found {
        Ok(found) => found,
        Err(e) if matches!(e.code(), Code::NotFound | Code::ValidationFailed) => {
            let title = lang.t(("Book an appointment", "Reservar una cita"));
            return Ok(form_page(req, StatusCode::NOT_FOUND, lang, title, "/book", |_| {
                html! {
                    p.error role="alert" { (lang.t(("There is no such office or service.", "No existe esa oficina o servicio."))) }
                    p { a href="/book" { (lang.t(("Start again", "Empezar de nuevo"))) } }
                }
            }));
        }
        Err(e) => return Err(e.into()),
    };
    let error = |field: &str| errors.iter().find(|e| form_field(&e.field) == field).map(|e| e.text.clone());
    let general: Vec<&PageError> =
        errors.iter().filter(|e| e.field == "form" || e.field == "applicants").collect();
    let (earlier, later) = (free.from - Duration::days(7), free.from + Duration::days(7));
    let week =
        |from: NaiveDate| format!("/book/slots?post={}&service={}&from={from}", free.post, free.service);
    let title = lang.t(("Choose a time", "Elija un horario"));
    let chosen = form.slot_id.clone().unwrap_or_default();
    Ok(form_page(req, status, lang, title, "/book", |csrf| {
        html! {
            @for e in &general {
                p.error role="alert" { (e.text) }
            }
            p { (lang.date(free.from)) " – " (lang.date(free.to)) ". "
                (lang.t(("Times are the office's local time.", "Los horarios son la hora local de la oficina."))) }
            nav aria-label=(lang.t(("Weeks", "Semanas"))) {
                @if free.from > now.date() {
                    a href=(week(earlier)) { (lang.t(("Earlier week", "Semana anterior"))) } " · "
                }
                a href=(week(later)) { (lang.t(("Later week", "Semana siguiente"))) }
            }
            form method="post" action="/book" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(free.post);
                input type="hidden" name="service" value=(free.service);
                @if let Some(e) = error("slot_id") { p.error id="slot-error" { (e) } }
                (slot_choices(lang, &free, &chosen))
                @for n in 1..=max {
                    @let [given, surname, born] = form.person(n);
                    fieldset {
                        legend { (lang.t(("Person", "Persona"))) " " (n) @if n > 1 { " " (lang.t(("(optional)", "(opcional)"))) } }
                        (person_field(lang, &format!("given_{n}"), lang.t(("Given names", "Nombre(s)")), given, "given-name", error(&format!("given_{n}"))))
                        (person_field(lang, &format!("surname_{n}"), lang.t(("Surnames", "Apellidos")), surname, "family-name", error(&format!("surname_{n}"))))
                        (person_field(lang, &format!("born_{n}"), lang.t(("Date of birth (YYYY-MM-DD)", "Fecha de nacimiento (AAAA-MM-DD)")), born, "bday", error(&format!("born_{n}"))))
                    }
                }
                (person_field(lang, "phone", lang.t(("Phone (optional)", "Teléfono (opcional)")), form.phone.as_deref().unwrap_or(""), "tel", error("phone")))
                button type="submit" { (lang.t(("Book", "Reservar"))) }
            }
        }
    }))
}

fn person_field(
    _lang: Lang,
    id: &str,
    label: &str,
    value: &str,
    autocomplete: &str,
    error: Option<String>,
) -> Markup {
    let hint = format!("{id}-error");
    html! {
        label for=(id) { (label) }
        @if let Some(error) = error {
            p.error id=(hint) { (error) }
            input #(id) name=(id) type="text" value=(value) autocomplete=(autocomplete) aria-invalid="true" aria-describedby=(hint);
        } @else {
            input #(id) name=(id) type="text" value=(value) autocomplete=(autocomplete);
        }
    }
}

#[get("/book/slots")]
pub async fn slots(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    query: web::Query<SlotsQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    if let Some(address) = unconfirmed_address(&state, visitor.applicant.id).await? {
        return Ok(confirm_first_page(&req, lang, &address));
    }
    let SlotsQuery { post, service, from } = query.into_inner();
    let post = crate::reference::normalise_post(&post);
    slots_page(&state, &req, lang, StatusCode::OK, post, service, from, &BookForm::default(), &[]).await
}

#[post("/book")]
pub async fn book(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    form: web::Form<BookForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let who = visitor.applicant;
    let who_id = who.id;
    let form = form.into_inner();
    let post = crate::reference::normalise_post(&form.post);
    let again = |status: StatusCode, errors: Vec<PageError>| {
        let (state, req, post, service) = (state.clone(), req.clone(), post.clone(), form.service.clone());
        let form = &form;
        async move { slots_page(&state, &req, lang, status, post, service, None, form, &errors).await }
    };
    if !session::csrf_holds(&req, &form.csrf) {
        let expired = lang
            .t(("This form has expired. Please choose again.", "Este formulario caducó. Elija de nuevo."));
        return again(StatusCode::FORBIDDEN, vec![PageError::new("form", expired)]).await;
    }
    let request = match form.request() {
        Ok(request) => request,
        Err(errors) => return again(StatusCode::UNPROCESSABLE_ENTITY, worded(lang, &errors)).await,
    };
    match online::book(
        &state.pool,
        &state.availability,
        &state.settings.booking,
        state.clock.naive(),
        who,
        request,
        None,
        client_address(&req),
    )
    .await
    {
        Ok(Booked::Created(view)) => Ok(redirect(&format!("/my/{}", view.reference))),
        Ok(Booked::Replayed { .. }) => Ok(redirect("/my")),
        Err(AppError::Validation { errors, .. }) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, worded(lang, &errors)).await
        }
        Err(e) if e.code() == Code::EmailNotConfirmed => {
            let address = unconfirmed_address(&state, who_id).await?.unwrap_or_default();
            Ok(confirm_first_page(&req, lang, &address))
        }
        Err(e)
            if matches!(
                e.code(),
                Code::SlotFull
                    | Code::SlotClosed
                    | Code::AlreadyBooked
                    | Code::NotFound
                    | Code::TooManyRequests
            ) =>
        {
            let said = match e.code() {
                Code::SlotFull => lang.t((
                    "That time was just taken. Please choose another.",
                    "Ese horario se acaba de ocupar. Elija otro, por favor.",
                )),
                Code::AlreadyBooked => lang.t((
                    "You already have an appointment for this service.",
                    "Ya tiene una cita para este servicio.",
                )),
                Code::TooManyRequests => lang.t((
                    "Too many attempts. Please wait a few minutes.",
                    "Demasiados intentos. Espere unos minutos.",
                )),
                _ => lang.t((
                    "That time can no longer be booked. Please choose another.",
                    "Ese horario ya no se puede reservar. Elija otro.",
                )),
            };
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::CONFLICT);
            again(status, vec![PageError::new("form", said)]).await
        }
        Err(e) => Err(e.into()),
    }
}

fn parse_reference(raw: &str) -> Option<Reference> {
    Reference::parse(raw)
}

pub(crate) fn not_found(req: &HttpRequest, lang: Lang) -> HttpResponse {
    let title = lang.t(("Appointment not found", "Cita no encontrada"));
    form_page(req, StatusCode::NOT_FOUND, lang, title, "/my", |_| {
        html! {
            p { a href="/my" { (lang.t(("Back to my appointments", "Volver a mis citas"))) } }
        }
    })
}

#[get("/my/{reference}")]
pub async fn appointment(
    state: web::Data<AppState>,
    req: HttpRequest,
    own: OwnAppointment,
) -> Result<HttpResponse, HttpError> {
    let OwnAppointment { applicant, reference, view, post, lang } = own;
    let actor = applicant.actor();
    let documents = match state.db(move |conn| records::own_documents(conn, &actor, &reference)).await {
        Ok(documents) => documents,
        Err(e) if e.code() == Code::NotFound => return Ok(not_found(&req, lang)),
        Err(e) => return Err(e.into()),
    };
    let title = lang.t(("Your appointment", "Su cita"));
    let address =
        post.as_ref().map(|p| format!("{}, {}", p.name, p.address)).unwrap_or_else(|| view.post.clone());
    Ok(form_page(&req, StatusCode::OK, lang, title, "/my", |csrf| {
        html! {
            p.notice role="status" { (lang.t(("Reference", "Referencia"))) ": " strong { (view.reference) } }
            dl {
                dt { (lang.t(("When", "Cuándo"))) } dd { (lang.date_time(&view.starts_at)) }
                dt { (lang.t(("Where", "Dónde"))) } dd { (address) }
                dt { (lang.t(("Service", "Servicio"))) } dd { (names::service(lang, &view.service)) }
                dt { (lang.t(("People", "Personas"))) }
                dd { @for p in &view.applicants { (p.given_names) " " (p.surname) br; } }
                dt { (lang.t(("Status", "Estado"))) } dd { (names::appointment_status(lang, view.status)) }
            }
            @if !documents.is_empty() {
                (documents_table(lang, &documents))
            }
            @if view.status == AppointmentStatus::Booked {
                p { a href={ "/my/" (view.reference) "/reschedule" } { (lang.t(("Change the time", "Cambiar el horario"))) } }
                p { a href={ "/my/" (view.reference) "/intake" } { (lang.t(("Pre-fill your forms before you come", "Prellene sus formularios antes de venir"))) } }
                form method="post" action={ "/my/" (view.reference) "/cancel" } {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { (lang.t(("Cancel this appointment", "Cancelar esta cita"))) }
                }
            }
            ul {
                li { a href={ "/my/" (view.reference) "/confirmation.pdf" } download { (lang.t(("Download the confirmation (PDF)", "Descargar la confirmación (PDF)"))) } }
                @if view.status == AppointmentStatus::Cancelled {
                    li { a href={ "/my/" (view.reference) "/appointment.ics" } download { (lang.t(("Remove from your calendar (.ics)", "Quitar de su calendario (.ics)"))) } }
                } @else {
                    li { a href={ "/my/" (view.reference) "/appointment.ics" } download { (lang.t(("Add to my calendar (.ics)", "Agregar a mi calendario (.ics)"))) } }
                }
            }
        }
    }))
}

/// Each document taken at the visit: whose, what, its tracking number (linked to its public
/// tracking page) and its state.
fn documents_table(lang: Lang, documents: &[OwnDocument]) -> Markup {
    html! {
        h2 { (lang.t(("Your documents", "Sus documentos"))) }
        p { (lang.t(("Follow each one with its tracking number and the surname on it.",
                     "Dé seguimiento a cada uno con su número de seguimiento y el apellido que aparece en él."))) }
        table {
            thead { tr {
                th scope="col" { (lang.t(("Person", "Persona"))) }
                th scope="col" { (lang.t(("Document", "Documento"))) }
                th scope="col" { (lang.t(("Tracking number", "Número de seguimiento"))) }
                th scope="col" { (lang.t(("Status", "Estado"))) }
            } }
            tbody {
                @for document in documents {
                    tr {
                        td { (document.person) }
                        td { (names::document_kind(lang, document.kind)) }
                        td { a href={ "/track?number=" (document.tracking_number) } { (document.tracking_number) } }
                        td { (names::document_status(lang, document.status)) }
                    }
                }
            }
        }
    }
}

#[get("/my/{reference}/confirmation.pdf")]
pub async fn confirmation(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let who = visitor.applicant;
    let Some(reference) = parse_reference(&reference) else { return Ok(not_found(&req, lang)) };
    match crate::pdf::confirmation::printed(
        &state.pool,
        &state.templates,
        &state.settings.public_url,
        who,
        reference,
        lang,
    )
    .await
    {
        Ok((pdf, name)) => Ok(crate::http::pdf_response(pdf, &name)),
        Err(e) if e.code() == Code::NotFound => Ok(not_found(&req, lang)),
        Err(e) => Err(e.into()),
    }
}

/// The calendar file, in the page's language: the event as booked or moved, or, once the
/// appointment is cancelled, the file that removes it from the calendar.
#[get("/my/{reference}/appointment.ics")]
pub async fn calendar_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let who = visitor.applicant;
    let Some(reference) = parse_reference(&reference) else { return Ok(not_found(&req, lang)) };
    match online::calendar_file(&state.pool, &state.clock, who, reference, lang).await {
        Ok((text, name)) => Ok(crate::http::ics_response(text, &name)),
        Err(e) if e.code() == Code::NotFound => Ok(not_found(&req, lang)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    csrf: String,
}

#[post("/my/{reference}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    reference: web::Path<String>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let who = visitor.applicant;
    let Some(parsed) = parse_reference(&reference) else { return Ok(not_found(&req, lang)) };
    let back = format!("/my/{}", parsed.as_str());
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(redirect(&back));
    }
    match online::cancel(
        &state.pool,
        &state.availability,
        Rules::from(&state.settings.booking),
        state.clock.naive(),
        who,
        parsed,
    )
    .await
    {
        Ok(_) => Ok(redirect(&back)),
        Err(e) if e.code() == Code::NotFound => Ok(not_found(&req, lang)),
        Err(e) if matches!(e.code(), Code::NotActive | Code::AlreadyStarted) => {
            let title = lang.t(("Your appointment", "Su cita"));
            let text = lang
                .t(("This appointment can no longer be cancelled.", "Esta cita ya no se puede cancelar."));
            Ok(form_page(&req, StatusCode::CONFLICT, lang, title, "/my", |_| {
                html! {
                    p.error role="alert" { (text) }
                    p { a href=(back) { (lang.t(("Back to the appointment", "Volver a la cita"))) } }
                }
            }))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct WeekQuery {
    from: Option<NaiveDate>,
}

/// Free times of the appointment's own post and service, to move it to.
#[get("/my/{reference}/reschedule")]
pub async fn reschedule_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    own: OwnAppointment,
    query: web::Query<WeekQuery>,
) -> Result<HttpResponse, HttpError> {
    let OwnAppointment { view, lang, .. } = own;
    reschedule_page(&state, &req, lang, StatusCode::OK, &view, query.into_inner().from, None).await
}

async fn reschedule_page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    view: &AppointmentView,
    from: Option<NaiveDate>,
    problem: Option<&str>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let rules = Rules::from(&state.settings.booking);
    let (post, service) = (view.post.clone(), view.service.clone());
    let free = state
        .db(move |conn| {
            let from = match from {
                Some(from) => from,
                None => crate::calendar::local_date(now, crate::calendar::post_zone(conn, &post)?),
            };
            let query = AvailabilityQuery { service, from: Some(from), to: Some(from + Duration::days(6)) };
            booking::availability(conn, &rules, &Actor::Anonymous, &post, &query, now)
        })
        .await?;
    let title = lang.t(("Change the time", "Cambiar el horario"));
    let here = format!("/my/{}/reschedule", view.reference);
    let later = format!("{here}?from={}", free.from + Duration::days(7));
    Ok(form_page(req, status, lang, title, "/my", |csrf| {
        html! {
            @if let Some(problem) = problem { p.error role="alert" { (problem) } }
            p { (lang.t(("Now", "Ahora"))) ": " (lang.date_time(&view.starts_at)) }
            p { a href=(later) { (lang.t(("Later week", "Semana siguiente"))) } }
            form method="post" action=(here) {
                input type="hidden" name="csrf" value=(csrf);
                (slot_choices(lang, &free, ""))
                button type="submit" { (lang.t(("Move my appointment", "Mover mi cita"))) }
            }
        }
    }))
}

#[derive(Deserialize)]
pub struct RescheduleForm {
    csrf: String,
    slot_id: Option<String>,
}

#[post("/my/{reference}/reschedule")]
pub async fn reschedule(
    state: web::Data<AppState>,
    req: HttpRequest,
    own: OwnAppointment,
    form: web::Form<RescheduleForm>,
) -> Result<HttpResponse, HttpError> {
    let OwnAppointment { applicant: who, reference: parsed, view, lang, .. } = own;
    let RescheduleForm { csrf, slot_id } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        let expired = lang
            .t(("This form has expired. Please choose again.", "Este formulario caducó. Elija de nuevo."));
        return reschedule_page(&state, &req, lang, StatusCode::FORBIDDEN, &view, None, Some(expired)).await;
    }
    let Some(slot_id) = slot_id.and_then(|s| s.parse::<i64>().ok()) else {
        let pick = lang.t(("Choose a time.", "Elija un horario."));
        return reschedule_page(
            &state,
            &req,
            lang,
            StatusCode::UNPROCESSABLE_ENTITY,
            &view,
            None,
            Some(pick),
        )
        .await;
    };
    match online::reschedule(
        &state.pool,
        &state.availability,
        &state.settings.booking,
        state.clock.naive(),
        who,
        parsed,
        slot_id,
        client_address(&req),
    )
    .await
    {
        Ok(moved) => Ok(redirect(&format!("/my/{}", moved.reference))),
        Err(e)
            if e.code().status() == 409 || e.code().status() == 422 || e.code() == Code::TooManyRequests =>
        {
            let said = lang.t((
                "That time can't be taken. Please choose another.",
                "Ese horario no se puede tomar. Elija otro.",
            ));
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::CONFLICT);
            reschedule_page(&state, &req, lang, status, &view, None, Some(said)).await
        }
        Err(e) => Err(e.into()),
    }
}
