//! The citizen registry's public pages (docs/REGISTRY.md), no account needed: registering a
//! stay; the page behind the signed link in every message, where the holder confirms the
//! address (a button: a mail scanner that follows the link confirms nothing), changes the
//! registration or deletes it; and the newsletter's unsubscribe address, a page with a button
//! for a person and RFC 8058's one-click POST for a mail program. Each runs the API's own
//! operation in `registry::stays`.

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use maud::{html, Markup};
use serde::Deserialize;

use crate::booking::party::PersonInput;
use crate::error::{AppError, Code, FieldError};
use crate::http::{client_address, HttpError};
use crate::reference::{self, Post};
use crate::registry::links::Purpose;
use crate::registry::states::{self, MexicanState};
use crate::registry::stays::{self, Places, StayInput, StayView, MAX_TRAVELLERS, UNCONFIRMED_DAYS};
use crate::rule::Rule;
use crate::state::AppState;
use crate::web::extract::CsrfForm;
use crate::web::field_errors::Shown;
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::layout::{encode, frame};
use crate::web::typed::{renumber, Typed};
use crate::web::{form_page, names, page, redirect, session, FORM_EXPIRED};

/// Traveller rows the form starts with; "Add a traveller" sends it back one row longer.
const FIRST_ROWS: usize = 3;
/// The hidden input that carries how many traveller rows the form shows.
const ROWS: &str = "traveller_rows";
/// The button that asks for one more row.
const ADD: &str = "add_traveller";

const REGISTER: Text = ("Register your stay", "Registre su estancia");
const MANAGE: Text = ("Your registration", "Su registro");
const TOO_MANY: Text = (
    "Too many registrations from here or for this address. Please wait a while and try again.",
    "Demasiados registros desde aquí o para esta dirección. Espere un rato e intente de nuevo.",
);

/// What the form offers: the posts (the consular districts) and Mexico's states.
struct Choices {
    posts: Vec<Post>,
    states: Vec<MexicanState>,
}

fn load_choices(conn: &mut crate::db::DbConn) -> Result<Choices, AppError> {
    Ok(Choices { posts: reference::list_posts(conn)?, states: states::list(conn)? })
}

/// The district's name as the page says it: "Guadalajara".
fn district_name(lang: Lang, choices: &Choices, code: &str) -> String {
    choices
        .posts
        .iter()
        .find(|p| p.code == code)
        .map_or(code.to_string(), |p| names::city(lang, &p.code, &p.city))
}

fn state_name<'a>(choices: &'a Choices, code: &'a str) -> &'a str {
    choices.states.iter().find(|s| s.code == code).map_or(code, |s| s.name.as_str())
}

/// What the registry keeps and who sees it.
fn confidentiality(lang: Lang, retention_days: u32) -> Markup {
    html! {
        p {
            (lang.t(("Your registration is confidential: only the staff of the consular district where you stay can see it, and each time they do it is recorded. It is kept until",
                     "Su registro es confidencial: solo lo ve el personal del distrito consular donde se hospeda, y cada consulta queda registrada. Se conserva hasta")))
            " " (retention_days) " "
            (lang.t(("days after your stay ends, then deleted. A registration whose address is not confirmed within",
                     "días después del fin de su estancia y luego se borra. Un registro cuya dirección no se confirma en")))
            " " (UNCONFIRMED_DAYS) " "
            (lang.t(("days is deleted.", "días se borra.")))
        }
    }
}

// --- the form ----------------------------------------------------------------------------------

/// An input of the stay form, named by the rules' own field, with its error beside it.
fn input(shown: &Shown, name: &str, label: &str, kind: &str, value: &str, autocomplete: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        input id=(name) name=(name) type=(kind) value=(value) autocomplete=(autocomplete)
            aria-invalid=[shown.invalid(name)] aria-describedby=[shown.described_by(name, name)];
        (shown.beside(name, name))
    }
}

fn traveller_field(row: usize, field: &str) -> String {
    format!("travellers[{row}].{field}")
}

/// The fields the form shows, for the line at its top that names errors of none of them.
fn shown_fields(rows: usize) -> Vec<String> {
    let mut fields: Vec<String> = [
        "email",
        "phone",
        "arrives",
        "departs",
        "district",
        "state",
        "emergency_messages",
        "newsletter",
        "language",
    ]
    .iter()
    .map(|f| f.to_string())
    .collect();
    for row in 0..rows {
        for field in ["given_names", "surname", "date_of_birth"] {
            fields.push(traveller_field(row, field));
        }
    }
    fields
}

/// A heading of the form's parts: `h2` on the registration page, `h3` under the manage
/// page's "Change the registration".
fn part(nested: bool, text: &str) -> Markup {
    html! { @if nested { h3 { (text) } } @else { h2 { (text) } } }
}

/// The stay's fields, as typed (or as stored), with each rule's error beside its input.
fn stay_fields(lang: Lang, choices: &Choices, typed: &Typed, shown: &Shown, nested: bool) -> Markup {
    let rows = typed.rows(ROWS, MAX_TRAVELLERS);
    let fields = shown_fields(rows);
    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
    let checked = |name: &str| !typed.get(name).is_empty();
    let marked = fields.iter().any(|f| shown.invalid(f).is_some());
    // The selects are described by the hint above them, and by their error when they have one.
    let described = |name: &str| {
        let mut ids = "where-hint".to_string();
        if let Some(error) = shown.described_by(name, name) {
            ids = format!("{ids} {error}");
        }
        ids
    };
    html! {
        @if marked {
            p.error role="alert" { (lang.t(("Please check the fields marked below.", "Revise los datos señalados abajo."))) }
        }
        (shown.general(&fields))
        input type="hidden" name=(ROWS) value=(rows);
        (part(nested, lang.t(("Who travels", "Quién viaja"))))
        @for row in 0..rows {
            fieldset.person {
                legend {
                    (lang.t(("Traveller", "Viajero"))) " " (row + 1)
                    @if row > 0 { " " (lang.t(("(optional)", "(opcional)"))) }
                }
                div.trio {
                    @let given = traveller_field(row, "given_names");
                    @let surname = traveller_field(row, "surname");
                    @let born = traveller_field(row, "date_of_birth");
                    div { (input(shown, &given, lang.t(("Given names", "Nombre(s)")), "text", typed.get(&given), "off")) }
                    div { (input(shown, &surname, lang.t(("Surnames", "Apellidos")), "text", typed.get(&surname), "off")) }
                    div { (input(shown, &born, lang.t(("Date of birth (optional, YYYY-MM-DD)", "Fecha de nacimiento (opcional, AAAA-MM-DD)")), "text", typed.get(&born), "off")) }
                }
            }
        }
        @if rows < MAX_TRAVELLERS {
            p.hint { (lang.t(("Up to 10 travellers; rows left empty are skipped.", "Hasta 10 viajeros; las filas vacías se omiten."))) }
            button.secondary type="submit" name=(ADD) value="1" formnovalidate { (lang.t(("Add a traveller", "Agregar un viajero"))) }
        }
        (part(nested, lang.t(("When and where", "Cuándo y dónde"))))
        div.pair {
            div { (input(shown, "arrives", lang.t(("Arrival in Mexico", "Llegada a México")), "date", typed.get("arrives"), "off")) }
            div { (input(shown, "departs", lang.t(("Departure from Mexico", "Salida de México")), "date", typed.get("departs"), "off")) }
        }
        p.hint id="where-hint" {
            (lang.t(("Choose the state where you stay; or, if you know it, the consular district (in northern Sonora, Nogales; in northern Tamaulipas, Nuevo Laredo).",
                     "Elija el estado donde se hospeda o, si lo conoce, el distrito consular (en el norte de Sonora, Nogales; en el norte de Tamaulipas, Nuevo Laredo).")))
        }
        div.pair {
            div {
                label for="state" { (lang.t(("State", "Estado"))) }
                select #state name="state" aria-invalid=[shown.invalid("state")]
                    aria-describedby=(described("state")) {
                    option value="" { (lang.t(("— Choose a state —", "— Elija un estado —"))) }
                    @for s in &choices.states {
                        option value=(s.code) selected[typed.get("state") == s.code] { (s.name) }
                    }
                }
                (shown.beside("state", "state"))
            }
            div {
                label for="district" { (lang.t(("Consular district (optional)", "Distrito consular (opcional)"))) }
                select #district name="district" aria-invalid=[shown.invalid("district")]
                    aria-describedby=(described("district")) {
                    option value="" { (lang.t(("— The state's —", "— El del estado —"))) }
                    @for p in &choices.posts {
                        option value=(p.code) selected[typed.get("district") == p.code] { (names::city(lang, &p.code, &p.city)) }
                    }
                }
                (shown.beside("district", "district"))
            }
        }
        (part(nested, lang.t(("How to reach you", "Cómo comunicarnos con usted"))))
        (input(shown, "email", lang.t(("E-mail address", "Correo electrónico")), "email", typed.get("email"), "email"))
        (input(shown, "phone", lang.t(("Phone (optional, with the country code)", "Teléfono (opcional, con la clave del país)")), "tel", typed.get("phone"), "tel"))
        fieldset {
            legend { (lang.t(("What we may send you", "Qué podemos enviarle"))) }
            (shown.beside("emergency_messages", "emergency_messages"))
            div {
                input #emergency_messages type="checkbox" name="emergency_messages" value="yes" checked[checked("emergency_messages")]
                    aria-invalid=[shown.invalid("emergency_messages")] aria-describedby=[shown.described_by("emergency_messages", "emergency_messages")];
                label.inline for="emergency_messages" { (lang.t(("Emergency messages for the district where I stay", "Mensajes de emergencia del distrito donde me hospedo"))) }
            }
            div {
                input #newsletter type="checkbox" name="newsletter" value="yes" checked[checked("newsletter")];
                label.inline for="newsletter" { (lang.t(("The embassy's newsletter", "El boletín de la embajada"))) }
            }
        }
        fieldset {
            legend { (lang.t(("Language of the messages", "Idioma de los mensajes"))) }
            (shown.beside("language", "language"))
            div {
                input #language-en type="radio" name="language" value="en" checked[typed.get("language") == "en"];
                label.inline for="language-en" lang="en" { "English" }
            }
            div {
                input #language-es type="radio" name="language" value="es" checked[typed.get("language") == "es"];
                label.inline for="language-es" lang="es" { "Español" }
            }
        }
    }
}

/// The form as the registration page starts: three empty rows, emergency messages asked for,
/// messages in the page's language.
fn fresh(lang: Lang) -> Typed {
    let mut typed = Typed::default();
    typed.set(ROWS.into(), FIRST_ROWS.to_string());
    typed.set("emergency_messages".into(), "yes");
    typed.set("language".into(), lang.code());
    typed
}

/// The form filled in from a stored stay: its travellers, one row each; the state it names
/// and the district only when it was named (not the state's own).
fn typed_of(view: &StayView, choices: &Choices) -> Typed {
    let mut typed = Typed::default();
    typed.set(ROWS.into(), view.travellers.len().max(1).to_string());
    for (row, t) in view.travellers.iter().enumerate() {
        typed.set(traveller_field(row, "given_names"), t.given_names.clone());
        typed.set(traveller_field(row, "surname"), t.surname.clone());
        if let Some(born) = t.date_of_birth {
            typed.set(traveller_field(row, "date_of_birth"), born.to_string());
        }
    }
    typed.set("email".into(), view.email.clone());
    typed.set("phone".into(), view.phone.clone().unwrap_or_default());
    typed.set("arrives".into(), view.arrives.to_string());
    typed.set("departs".into(), view.departs.to_string());
    let states_district = view
        .state
        .as_deref()
        .and_then(|code| choices.states.iter().find(|s| s.code == code))
        .map(|s| s.district.as_str());
    if let Some(state) = &view.state {
        typed.set("state".into(), state.clone());
    }
    if states_district != Some(view.district.as_str()) {
        typed.set("district".into(), view.district.clone());
    }
    if view.emergency_messages {
        typed.set("emergency_messages".into(), "yes");
    }
    if view.newsletter {
        typed.set("newsletter".into(), "yes");
    }
    typed.set("language".into(), view.language.clone());
    typed
}

/// "Add a traveller": the same form, one row longer.
fn one_more_row(typed: &mut Typed) {
    let rows = typed.rows(ROWS, MAX_TRAVELLERS);
    typed.set(ROWS.into(), (rows + 1).min(MAX_TRAVELLERS).to_string());
}

/// A date typed in `field`: `None` when empty (`required` says whether that is an error).
fn date_in(typed: &Typed, field: &str, required: bool, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    match typed.get(field).trim() {
        "" => {
            if required {
                errors.push(FieldError::new(field, Rule::Empty));
            }
            None
        }
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| errors.push(FieldError::new(field, Rule::NotADate)))
            .ok(),
    }
}

/// The stay the form asks for; the rows it sends (a row after the first left empty is
/// skipped, so the rules number the travellers sent, not the rows); and what the page finds
/// itself (a date that is not one). A date that could not be read stands in as `today`.
fn read(typed: &Typed, today: NaiveDate) -> (StayInput, Vec<usize>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut travellers = Vec::new();
    let mut rows = Vec::new();
    for row in 0..typed.rows(ROWS, MAX_TRAVELLERS) {
        let names = ["given_names", "surname", "date_of_birth"].map(|f| traveller_field(row, f));
        if row > 0 && names.iter().all(|n| typed.get(n).trim().is_empty()) {
            continue;
        }
        let date_of_birth = date_in(typed, &names[2], false, &mut errors);
        travellers.push(PersonInput {
            given_names: typed.get(&names[0]).to_string(),
            surname: typed.get(&names[1]).to_string(),
            date_of_birth,
        });
        rows.push(row);
    }
    let arrives = date_in(typed, "arrives", true, &mut errors);
    let departs = date_in(typed, "departs", true, &mut errors);
    let input = StayInput {
        travellers,
        email: typed.get("email").to_string(),
        phone: typed.given("phone"),
        arrives: arrives.unwrap_or(today),
        departs: departs.unwrap_or_else(|| arrives.unwrap_or(today).max(today)),
        district: typed.given("district"),
        state: typed.given("state"),
        emergency_messages: typed.has("emergency_messages"),
        newsletter: typed.has("newsletter"),
        language: typed.given("language"),
    };
    // The page's own errors name rows already; the rules' are renumbered by the caller.
    (input, rows, errors)
}

/// The errors of a form the page could not read whole: its own, and the rules' on everything
/// else (not on the dates it stood in for).
async fn all_errors(
    state: &AppState,
    input: StayInput,
    rows: &[usize],
    own: Vec<FieldError>,
    today: NaiveDate,
) -> Result<Vec<FieldError>, AppError> {
    let rules = state
        .db(move |conn| {
            let places = Places::load(conn)?;
            Ok(stays::check(&input, today, &places).err().unwrap_or_default())
        })
        .await?;
    let stood_in = own.iter().any(|e| e.field == "arrives" || e.field == "departs");
    let others: Vec<FieldError> = renumber(rules, "travellers", rows)
        .into_iter()
        .filter(|e| !(stood_in && (e.field == "arrives" || e.field == "departs")))
        .filter(|e| !own.iter().any(|mine| mine.field == e.field))
        .collect();
    let mut errors = own;
    errors.extend(others);
    Ok(errors)
}

fn shown_of(lang: Lang, errors: Vec<FieldError>) -> Shown {
    Shown::of(lang, &AppError::invalid(errors))
}

// --- registering ---------------------------------------------------------------------------------

fn register_page(
    req: &HttpRequest,
    lang: Lang,
    state: &AppState,
    choices: &Choices,
    typed: &Typed,
    shown: &Shown,
) -> HttpResponse {
    let retention = state.settings.registry.retention_days;
    form_page(req, shown.status(), lang, lang.t(REGISTER), "/registry", |csrf| {
        html! {
            p {
                (lang.t(("Register so the embassy can reach you in an emergency (an earthquake, a hurricane, unrest) and, if you like, to receive its newsletter.",
                         "Regístrese para que la embajada pueda comunicarse con usted en una emergencia (un sismo, un huracán, disturbios) y, si lo desea, para recibir su boletín.")))
            }
            (confidentiality(lang, retention))
            p { (lang.t(("We send a link to the address you give; nothing else is sent to it until you open the link and confirm. The same link lets you see, change or delete the registration.",
                         "Enviaremos un enlace a la dirección que indique; no se le enviará nada más hasta que abra el enlace y confirme. El mismo enlace le permite ver, cambiar o borrar el registro."))) }
            form.stay method="post" action="/registry" novalidate {
                input type="hidden" name="csrf" value=(csrf);
                (stay_fields(lang, choices, typed, shown, false))
                button type="submit" { (lang.t(("Register", "Registrar"))) }
            }
        }
    })
}

#[get("/registry")]
pub async fn register_form(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let choices = state.db(load_choices).await?;
    Ok(register_page(&req, lang, &state, &choices, &fresh(lang), &Shown::default()))
}

/// Registers the stay; the answer says where the link went and shows none.
#[post("/registry")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let mut typed = Typed::new(form.into_inner());
    let choices = state.db(load_choices).await?;
    let again = |typed: &Typed, shown: Shown| register_page(&req, lang, &state, &choices, typed, &shown);
    if !session::csrf_holds(&req, typed.get("csrf")) {
        return Ok(again(&typed, Shown::said(lang.t(FORM_EXPIRED), 403)));
    }
    if typed.has(ADD) {
        one_more_row(&mut typed);
        return Ok(again(&typed, Shown::default()));
    }
    let now = state.clock.naive();
    let (input, rows, own) = read(&typed, now.date());
    if !own.is_empty() {
        let errors = all_errors(&state, input, &rows, own, now.date()).await?;
        return Ok(again(&typed, shown_of(lang, errors)));
    }
    let (limits, client, email) = (state.settings.registry, client_address(&req), input.email.clone());
    match state.db(move |conn| stays::register(conn, &limits, &input, &client, now)).await {
        Ok(()) => {
            let title = lang.t(("Check your mail", "Revise su correo"));
            Ok(form_page(&req, StatusCode::OK, lang, title, "/registry", |_| {
                html! {
                    p.notice role="status" {
                        (lang.t(("We sent a link to", "Enviamos un enlace a"))) " " strong { (email.trim()) } ". "
                        (lang.t(("Open it to confirm your address: until then your registration waits, and nothing else is sent to you.",
                                 "Ábralo para confirmar su dirección: mientras tanto su registro queda en espera y no se le envía nada más.")))
                    }
                    p { (lang.t(("Keep the message: its link lets you see, change or delete your registration at any time.",
                                 "Conserve el mensaje: su enlace le permite ver, cambiar o borrar su registro cuando quiera."))) }
                    p { (lang.t(("No message? Look in the spam folder, or register again with the right address.",
                                 "¿No le llegó? Busque en la carpeta de correo no deseado, o regístrese de nuevo con la dirección correcta."))) }
                    p { a href="/" { (lang.t(("Back to the home page", "Volver a la página de inicio"))) } }
                }
            }))
        }
        Err(AppError::Validation { errors, .. }) => {
            Ok(again(&typed, shown_of(lang, renumber(errors, "travellers", &rows))))
        }
        Err(e) if e.code() == Code::TooManyRequests => Ok(again(&typed, Shown::said(lang.t(TOO_MANY), 429))),
        Err(e) => Err(e.into()),
    }
}

// --- the signed link ------------------------------------------------------------------------------

/// The link's query: its `sig`, and what was just done (said at the top).
#[derive(Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    sig: String,
    done: Option<String>,
}

/// A form behind the link: the link's `sig` and the CSRF token.
#[derive(Deserialize)]
pub struct SigForm {
    csrf: String,
    sig: String,
}

crate::web::extract::carries_csrf!(SigForm);

/// A page of the registry with nothing to keep: never cached (it may name the stay).
fn plain(status: StatusCode, lang: Lang, title: &str, path: &str, content: Markup) -> HttpResponse {
    let mut response = page(status, lang, frame(lang, title, path, content));
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    response
}

/// The one answer for an unknown stay, a wrong or missing `sig` and a stay deleted: 404,
/// saying nothing of which.
fn not_found(lang: Lang) -> HttpResponse {
    let title = lang.t(("Registration not found", "Registro no encontrado"));
    plain(
        StatusCode::NOT_FOUND,
        lang,
        title,
        "/registry",
        html! {
            p.error role="alert" {
                (lang.t(("This link opens no registration: the registration was deleted, or the link is not whole (copy it again from the message, whole). A changed address ends the links sent to the old one.",
                         "Este enlace no abre ningún registro: el registro se borró o el enlace no está completo (cópielo de nuevo del mensaje, completo). Cambiar la dirección anula los enlaces enviados a la anterior.")))
            }
            p { a href="/registry" { (lang.t(REGISTER)) } }
        },
    )
}

/// The stay `id` for the holder of `sig`; `Err` with the 404 page for anyone else.
async fn held(
    state: &AppState,
    lang: Lang,
    id: &str,
    sig: &str,
) -> Result<(i64, StayView, Choices), HttpResponse> {
    let Ok(id) = id.parse::<i64>() else { return Err(not_found(lang)) };
    let (key, sig) = (state.stay_links.clone(), sig.to_string());
    let found = state.db(move |conn| Ok((stays::view(conn, &key, id, &sig)?, load_choices(conn)?))).await;
    match found {
        Ok((view, choices)) => Ok((id, view, choices)),
        Err(e) if e.code() == Code::NotFound => Err(not_found(lang)),
        Err(e) => Err(actix_web::ResponseError::error_response(&HttpError(e))),
    }
}

/// The link's page, with `sig` kept in the query (the language switch comes back to it).
fn link_path(id: i64, sig: &str) -> String {
    format!("/registry/{id}?sig={}", encode(sig))
}

fn yes_no(lang: Lang, yes: bool) -> &'static str {
    lang.t(if yes { ("yes", "sí") } else { ("no", "no") })
}

/// What is registered, as a list of terms.
fn summary(lang: Lang, view: &StayView, choices: &Choices) -> Markup {
    html! {
        dl {
            dt { (lang.t(("Travellers", "Viajeros"))) }
            dd {
                @for (i, t) in view.travellers.iter().enumerate() {
                    @if i > 0 { br; }
                    (t.given_names) " " (t.surname)
                    @if let Some(born) = t.date_of_birth { " (" (lang.t(("born", "nacimiento:"))) " " (lang.date(born)) ")" }
                }
            }
            dt { (lang.t(("Stay", "Estancia"))) }
            dd { (lang.date(view.arrives)) " – " (lang.date(view.departs)) }
            dt { (lang.t(("Where", "Dónde"))) }
            dd {
                @if let Some(code) = &view.state { (state_name(choices, code)) ", " }
                (lang.t(("consular district of", "distrito consular de"))) " " (district_name(lang, choices, &view.district))
            }
            dt { (lang.t(("E-mail", "Correo"))) }
            dd {
                (view.email) " — "
                @if view.confirmed { (lang.t(("confirmed", "confirmado"))) } @else { strong { (lang.t(("not confirmed yet", "sin confirmar"))) } }
            }
            dt { (lang.t(("Phone", "Teléfono"))) }
            dd { (view.phone.as_deref().unwrap_or("—")) }
            dt { (lang.t(("Emergency messages", "Mensajes de emergencia"))) }
            dd { (yes_no(lang, view.emergency_messages)) }
            dt { (lang.t(("Newsletter", "Boletín"))) }
            dd { (yes_no(lang, view.newsletter)) }
            dt { (lang.t(("Language of the messages", "Idioma de los mensajes"))) }
            dd { (if view.language == "es" { "Español" } else { "English" }) }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn manage_page(
    req: &HttpRequest,
    lang: Lang,
    state: &AppState,
    id: i64,
    sig: &str,
    view: &StayView,
    choices: &Choices,
    typed: &Typed,
    shown: &Shown,
    done: Option<&str>,
) -> HttpResponse {
    let retention = state.settings.registry.retention_days;
    let path = link_path(id, sig);
    form_page(req, shown.status(), lang, lang.t(MANAGE), &path, |csrf| {
        html! {
            @match done {
                Some("confirmed") => {
                    p.notice role="status" { (lang.t(("Your address is confirmed. Thank you: the embassy can now reach you.", "Su dirección está confirmada. Gracias: la embajada ya puede comunicarse con usted."))) }
                }
                Some("saved") => {
                    p.notice role="status" { (lang.t(("Your changes are saved.", "Sus cambios están guardados."))) }
                }
                _ => {}
            }
            @if !view.confirmed {
                section.notice aria-labelledby="confirm-heading" {
                    h2 #confirm-heading { (lang.t(("Confirm your address", "Confirme su dirección"))) }
                    p { (lang.t(("Until you confirm it, nothing is sent to this address, emergency messages included.",
                                 "Mientras no la confirme, no se envía nada a esta dirección, ni siquiera los mensajes de emergencia."))) }
                    form method="post" action={ "/registry/" (id) "/confirm" } {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="sig" value=(sig);
                        button type="submit" { (lang.t(("Confirm my address", "Confirmar mi dirección"))) }
                    }
                }
            }
            (summary(lang, view, choices))
            (confidentiality(lang, retention))
            h2 { (lang.t(("Change the registration", "Cambiar el registro"))) }
            p { (lang.t(("A new e-mail address must be confirmed again: we send a link to it, and the links sent to the old one stop working.",
                         "Una dirección de correo nueva se confirma de nuevo: le enviamos un enlace y dejan de funcionar los enviados a la anterior."))) }
            form.stay method="post" action={ "/registry/" (id) } novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="sig" value=(sig);
                (stay_fields(lang, choices, typed, shown, true))
                button type="submit" { (lang.t(("Save the changes", "Guardar los cambios"))) }
            }
            h2 { (lang.t(("Delete the registration", "Borrar el registro"))) }
            p { (lang.t(("Deleting it stops every message, emergency messages included.", "Al borrarlo dejan de llegar todos los mensajes, incluidos los de emergencia."))) }
            form method="get" action={ "/registry/" (id) "/delete" } {
                input type="hidden" name="sig" value=(sig);
                button.danger type="submit" { (lang.t(("Delete my registration…", "Borrar mi registro…"))) }
            }
        }
    })
}

/// The page behind the link in every registry message.
#[get("/registry/{id}")]
pub async fn manage(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let LinkQuery { sig, done } = query.into_inner();
    match held(&state, lang, &id, &sig).await {
        Ok((id, view, choices)) => {
            let typed = typed_of(&view, &choices);
            manage_page(
                &req,
                lang,
                &state,
                id,
                &sig,
                &view,
                &choices,
                &typed,
                &Shown::default(),
                done.as_deref(),
            )
        }
        Err(page) => page,
    }
}

/// Confirms the address (double opt-in): a button on the page, never the link itself.
#[post("/registry/{id}/confirm")]
pub async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: CsrfForm<SigForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let sig = form.into_inner().sig;
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found(lang)) };
    let (key, now, s) = (state.stay_links.clone(), state.clock.naive(), sig.clone());
    match state.db(move |conn| stays::confirm(conn, &key, id, &s, now)).await {
        Ok(_) => Ok(redirect(&format!("{}&done=confirmed", link_path(id, &sig)))),
        Err(e) if e.code() == Code::NotFound => Ok(not_found(lang)),
        Err(e) => Err(e.into()),
    }
}

/// Changes the registration ("Add a traveller" sends the form back one row longer).
#[post("/registry/{id}")]
pub async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let mut typed = Typed::new(form.into_inner());
    let sig = typed.get("sig").to_string();
    let (id, view, choices) = match held(&state, lang, &id, &sig).await {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let again = |typed: &Typed, shown: Shown| {
        manage_page(&req, lang, &state, id, &sig, &view, &choices, typed, &shown, None)
    };
    if !session::csrf_holds(&req, typed.get("csrf")) {
        return Ok(again(&typed, Shown::said(lang.t(FORM_EXPIRED), 403)));
    }
    if typed.has(ADD) {
        one_more_row(&mut typed);
        return Ok(again(&typed, Shown::default()));
    }
    let now = state.clock.naive();
    let (input, rows, own) = read(&typed, now.date());
    if !own.is_empty() {
        let errors = all_errors(&state, input, &rows, own, now.date()).await?;
        return Ok(again(&typed, shown_of(lang, errors)));
    }
    let (key, s) = (state.stay_links.clone(), sig.clone());
    match state.db(move |conn| stays::update(conn, &key, id, &s, &input, now)).await {
        // The same address: the link still holds, and the page says the change is saved.
        Ok(changed) if state.stay_links.holds(Purpose::Manage, id, &changed.email, &sig) => {
            Ok(redirect(&format!("{}&done=saved", link_path(id, &sig))))
        }
        Ok(changed) => {
            let title = lang.t(("Confirm your new address", "Confirme su nueva dirección"));
            Ok(form_page(&req, StatusCode::OK, lang, title, "/registry", |_| {
                html! {
                    p.notice role="status" {
                        (lang.t(("Your changes are saved. We sent a link to", "Sus cambios están guardados. Enviamos un enlace a"))) " "
                        strong { (changed.email) } ". "
                        (lang.t(("Open it to confirm the new address; until then nothing is sent to it. The link you used to come here no longer works.",
                                 "Ábralo para confirmar la nueva dirección; mientras tanto no se le envía nada. El enlace con el que llegó aquí ya no funciona.")))
                    }
                }
            }))
        }
        Err(AppError::Validation { errors, .. }) => {
            Ok(again(&typed, shown_of(lang, renumber(errors, "travellers", &rows))))
        }
        Err(e) if e.code() == Code::NotFound => Ok(not_found(lang)),
        Err(e) => Err(e.into()),
    }
}

/// The confirmation step before deleting.
#[get("/registry/{id}/delete")]
pub async fn delete_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> HttpResponse {
    let lang = Lang::of(&req);
    let sig = query.into_inner().sig;
    let (id, view, choices) = match held(&state, lang, &id, &sig).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let title = lang.t(("Delete your registration?", "¿Borrar su registro?"));
    let path = format!("/registry/{id}/delete?sig={}", encode(&sig));
    form_page(&req, StatusCode::OK, lang, title, &path, |csrf| {
        html! {
            p { (lang.t(("This deletes the registration below at once and for good. The embassy will not be able to reach you in an emergency through it.",
                         "Esto borra el registro de abajo de inmediato y para siempre. La embajada no podrá comunicarse con usted por este medio en una emergencia."))) }
            (summary(lang, &view, &choices))
            form method="post" action={ "/registry/" (id) "/delete" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="sig" value=(sig);
                button.danger type="submit" { (lang.t(("Yes, delete my registration", "Sí, borrar mi registro"))) }
            }
            p { a href=(link_path(id, &sig)) { (lang.t(("No, keep it", "No, conservarlo"))) } }
        }
    })
}

#[post("/registry/{id}/delete")]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: CsrfForm<SigForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let sig = form.into_inner().sig;
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found(lang)) };
    let key = state.stay_links.clone();
    match state.db(move |conn| stays::delete(conn, &key, id, &sig)).await {
        Ok(()) => {
            let title = lang.t(("Registration deleted", "Registro borrado"));
            Ok(plain(
                StatusCode::OK,
                lang,
                title,
                "/registry",
                html! {
                    p.notice role="status" { (lang.t(("Your registration is deleted. No more messages will be sent to you.", "Su registro está borrado. No se le enviarán más mensajes."))) }
                    p { a href="/registry" { (lang.t(("Register a new stay", "Registrar otra estancia"))) } }
                },
            ))
        }
        Err(e) if e.code() == Code::NotFound => Ok(not_found(lang)),
        Err(e) => Err(e.into()),
    }
}

// --- the newsletter's unsubscribe address ----------------------------------------------------

const STOP: Text = ("Stop the newsletter", "Dejar de recibir el boletín");

fn stopped(lang: Lang, path: &str) -> HttpResponse {
    plain(
        StatusCode::OK,
        lang,
        lang.t(("Newsletter stopped", "Boletín cancelado")),
        path,
        html! {
            p.notice role="status" {
                (lang.t(("You will not receive the newsletter any more. Emergency messages go on; the link at the end of each message lets you change or delete your registration.",
                         "Ya no recibirá el boletín. Los mensajes de emergencia siguen llegando; el enlace al final de cada mensaje le permite cambiar o borrar su registro.")))
            }
        },
    )
}

/// The newsletter's `List-Unsubscribe` address opened in a browser: a page with the button.
#[get("/registry/{id}/unsubscribe")]
pub async fn unsubscribe_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let sig = query.into_inner().sig;
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found(lang)) };
    let (key, s) = (state.stay_links.clone(), sig.clone());
    let wanted = match state.db(move |conn| stays::gets_newsletter(conn, &key, id, &s)).await {
        Ok(wanted) => wanted,
        Err(e) if e.code() == Code::NotFound => return Ok(not_found(lang)),
        Err(e) => return Err(e.into()),
    };
    let path = format!("/registry/{id}/unsubscribe?sig={}", encode(&sig));
    if !wanted {
        return Ok(stopped(lang, &path));
    }
    Ok(plain(
        StatusCode::OK,
        lang,
        lang.t(STOP),
        &path,
        html! {
            p { (lang.t(("Press the button to stop the embassy's newsletter. Emergency messages go on.",
                         "Pulse el botón para dejar de recibir el boletín de la embajada. Los mensajes de emergencia siguen llegando."))) }
            // The same POST a mail program sends (RFC 8058); the link's signature authorises it.
            form method="post" action=(path) {
                input type="hidden" name="List-Unsubscribe" value="One-Click";
                button type="submit" { (lang.t(STOP)) }
            }
        },
    ))
}

/// RFC 8058 one-click: a mail program POSTs `List-Unsubscribe=One-Click` to the address, with
/// no cookie and no page before it, so no CSRF token: the link's signature (for unsubscribing
/// only) is the authority. The page's own button posts the same. Answers 200 with a short page.
#[post("/registry/{id}/unsubscribe")]
pub async fn unsubscribe(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let sig = query.into_inner().sig;
    let Ok(id) = id.parse::<i64>() else { return Ok(not_found(lang)) };
    let (key, now, s) = (state.stay_links.clone(), state.clock.naive(), sig.clone());
    match state.db(move |conn| stays::unsubscribe(conn, &key, id, &s, now)).await {
        Ok(()) => Ok(stopped(lang, &format!("/registry/{id}/unsubscribe?sig={}", encode(&sig)))),
        Err(e) if e.code() == Code::NotFound => Ok(not_found(lang)),
        Err(e) => Err(e.into()),
    }
}
