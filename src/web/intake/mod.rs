//! Intake on the pages, for every form a service takes (DS-11 with a minor's consent, DS-82,
//! DS-5504, DS-2029, notarial jobs with their signers). The applicant pre-fills it before the
//! appointment, one application per person the booking names (`records::prefill`); the clerk
//! records one at a time at the window, starting from what was pre-filled or from a person
//! the booking names (`records::record`). The rules are the API's (`documents::intake::check`).

pub mod correction;
mod fields;

pub use fields::code;

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use crate::auth::roles::ClerkPlus;
use crate::booking::online;
use crate::booking::party::PersonInput;
use crate::booking::reference_code::Reference;
use crate::booking::status::AppointmentStatus;
use crate::documents::intake::{Act, CheckedItem, Form, IdKind, MinorConsent, MAX_ITEMS, MAX_SIGNERS};
use crate::documents::records::{self, IntakeRequest};
use crate::error::{AppError, Code};
use crate::http::HttpError;
use crate::state::AppState;
use crate::web::extract::ApplicantPage;
use crate::web::field_errors::{worded, PageError};
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::staff::{member, refusal};
use crate::web::typed::renumber;
use crate::web::{form_page, once, redirect, session, FORM_EXPIRED as EXPIRED};
use crate::window::visits::{self, VisitView};
use fields::Typed;

fn title(form: Form) -> Text {
    match form {
        Form::Ds11 => ("Passport application (DS-11)", "Solicitud de pasaporte (DS-11)"),
        Form::Ds82 => ("Passport renewal (DS-82)", "Renovación de pasaporte (DS-82)"),
        Form::Ds5504 => ("Passport correction (DS-5504)", "Corrección de pasaporte (DS-5504)"),
        Form::Ds2029 => (
            "Consular Report of Birth Abroad (DS-2029)",
            "Informe Consular de Nacimiento en el Extranjero (DS-2029)",
        ),
        Form::Notarial => ("Notarial service", "Servicio notarial"),
    }
}

// --- the inputs of one section ----------------------------------------------------------------

enum Control {
    Text {
        autocomplete: &'static str,
        numeric: bool,
    },
    /// The options' codes and words; the empty code first.
    Choice(Vec<(String, Text)>),
    Check,
}

/// One input: its name is the rules' field name, so errors find it.
struct Input {
    name: String,
    label: String,
    control: Control,
    required: bool,
    /// What is on file for a number that is kept masked.
    hint: Option<String>,
    /// The group (a signer) it belongs to, shown as a fieldset.
    group: Option<String>,
}

/// A choice's options: `none` first (the empty value), then every value of the type.
fn options<T: Copy + serde::Serialize>(none: Text, all: &[T], label: fn(T) -> Text) -> Vec<(String, Text)> {
    let mut list = vec![(String::new(), none)];
    list.extend(all.iter().map(|v| (fields::code(v), label(*v))));
    list
}

fn consent_label(consent: MinorConsent) -> Text {
    match consent {
        MinorConsent::BothParentsPresent => {
            ("Both parents come to the appointment", "Ambos padres acuden a la cita")
        }
        MinorConsent::Ds3053 => {
            ("The absent parent's notarized DS-3053", "DS-3053 notariado del padre o madre ausente")
        }
        MinorConsent::SoleCustodyEvidence => (
            "Evidence of sole custody (a court order, for example)",
            "Prueba de custodia exclusiva (una orden judicial, por ejemplo)",
        ),
    }
}

fn id_kind_label(kind: IdKind) -> Text {
    match kind {
        IdKind::UsPassport => ("U.S. passport", "Pasaporte estadounidense"),
        IdKind::ForeignPassport => ("Foreign passport", "Pasaporte extranjero"),
        IdKind::NationalId => ("National identity card", "Identificación oficial"),
        IdKind::DriversLicense => ("Driver's license", "Licencia de conducir"),
        IdKind::PersonallyKnown => ("Known to the officer", "Conocido por el funcionario"),
        IdKind::CredibleWitness => ("A credible witness vouches", "Lo avala un testigo creíble"),
    }
}

fn act_label(act: Act) -> Text {
    match act {
        Act::Acknowledgment => ("Acknowledgment of a signature", "Reconocimiento de firma"),
        Act::Jurat => ("Jurat (a sworn statement)", "Declaración jurada (jurat)"),
        Act::Oath => ("Oath", "Juramento"),
        Act::Affirmation => ("Affirmation", "Afirmación"),
        Act::CertifiedTrueCopy => ("Certified true copy", "Copia certificada"),
        Act::Attestation => ("Attestation", "Atestación"),
        Act::Authentication => ("Authentication", "Autenticación"),
    }
}

/// Which page the inputs are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// The applicant's own, before the appointment.
    Prefill,
    /// The clerk's, on a window's shared computer.
    Window,
    /// A register entry corrected: a signer's number left empty keeps the recorded one.
    Correction,
}

/// The inputs of one application or job, named under `prefix`.
fn inputs(
    lang: Lang,
    form: Form,
    prefix: &str,
    rows: usize,
    page: Use,
    on_file: Option<&CheckedItem>,
) -> Vec<Input> {
    let window = page == Use::Window;
    let mut list = Vec::new();
    let mut add = |field: &str, label: Text, control: Control, required: bool, hint: Option<String>| {
        list.push(Input {
            name: format!("{prefix}{field}"),
            label: lang.t(label).to_string(),
            control,
            required,
            hint,
            group: None,
        })
    };
    let text = |autocomplete| Control::Text { autocomplete, numeric: false };
    let on_file_number = |number: Option<&str>| {
        let keep = match page {
            Use::Correction => lang.t((" (leave it empty to keep it)", " (déjelo vacío para conservarlo)")),
            _ => "",
        };
        number.map(|n| format!("{} {n}{keep}", lang.t(("On file:", "Registrado:"))))
    };
    let application = match form {
        Form::Ds11 | Form::Ds82 | Form::Ds5504 | Form::Ds2029 => true,
        Form::Notarial => false,
    };
    if !application {
        add(
            "act",
            ("Notarial act", "Acto notarial"),
            Control::Choice(options(("Choose", "Elija"), &Act::ALL, act_label)),
            true,
            None,
        );
        add("document_title", ("Document title", "Título del documento"), text("off"), true, None);
        add("pages", ("Pages", "Páginas"), Control::Text { autocomplete: "off", numeric: true }, true, None);
        add(
            "certificates",
            ("Certificates (seals), one fee each", "Certificados (sellos), una tarifa cada uno"),
            Control::Text { autocomplete: "off", numeric: true },
            true,
            None,
        );
        add(
            "venue",
            ("Where, if not at the office (optional)", "Lugar, si no es en la oficina (opcional)"),
            text("off"),
            false,
            None,
        );
        if window {
            add(
                "pending",
                ("Pending: it waits for a document", "Pendiente: espera un documento"),
                Control::Check,
                false,
                None,
            );
        }
        let signers = on_file.and_then(|item| item.signers.as_ref());
        for row in 0..rows {
            let group = format!("{} {}", lang.t(("Signer", "Firmante")), row + 1);
            let at = |field: &str| format!("{prefix}signers[{row}].{field}");
            let masked = signers.and_then(|s| s.get(row)).and_then(|s| s.id_proof.number.as_ref());
            let required = row == 0;
            for (field, label, control, hint) in [
                ("given_names", ("Given names", "Nombre(s)"), text("off"), None),
                ("surname", ("Surnames", "Apellidos"), text("off"), None),
                (
                    "id_proof.kind",
                    ("How identity was proved", "Cómo acreditó su identidad"),
                    Control::Choice(options(("Choose", "Elija"), &IdKind::ALL, id_kind_label)),
                    None,
                ),
                (
                    "id_proof.number",
                    ("Document number", "Número del documento"),
                    text("off"),
                    on_file_number(masked.map(|m| m.masked.as_str())),
                ),
            ] {
                list.push(Input {
                    name: at(field),
                    label: lang.t(label).to_string(),
                    control,
                    required: required && field != "id_proof.number",
                    hint,
                    group: Some(group.clone()),
                });
            }
        }
        return list;
    }
    // Autofill offers the browser's owner: right for the first person on the applicant's own
    // page, wrong for the others and on a window's shared computer.
    let child = form == Form::Ds2029;
    let own = page == Use::Prefill && !child && (prefix.is_empty() || prefix == "items[0].");
    let (given, surname): (Text, Text) = if child {
        (("Child's given names", "Nombre(s) del menor"), ("Child's surnames", "Apellidos del menor"))
    } else {
        (("Given names", "Nombre(s)"), ("Surnames", "Apellidos"))
    };
    let autofill = |token: &'static str| if own { token } else { "off" };
    add("applicant.given_names", given, text(autofill("given-name")), true, None);
    add("applicant.surname", surname, text(autofill("family-name")), true, None);
    add(
        "applicant.date_of_birth",
        ("Date of birth (YYYY-MM-DD)", "Fecha de nacimiento (AAAA-MM-DD)"),
        text(autofill("bday")),
        true,
        None,
    );
    match form {
        Form::Ds11 => add(
            "minor_consent",
            ("Under 16: how both parents consent", "Menor de 16: cómo consienten ambos padres"),
            Control::Choice(options(
                ("16 or older: not needed", "16 años o más: no aplica"),
                &MinorConsent::ALL,
                consent_label,
            )),
            false,
            None,
        ),
        Form::Ds82 | Form::Ds5504 => {
            let label = if form == Form::Ds82 {
                ("Number of the passport being renewed", "Número del pasaporte que se renueva")
            } else {
                ("Number of the passport to correct", "Número del pasaporte que se corrige")
            };
            let masked = on_file.and_then(|i| i.previous_passport.as_ref()).map(|p| p.number.masked.as_str());
            add("previous_passport.number", label, text("off"), true, on_file_number(masked));
            add(
                "previous_passport.issued_on",
                ("Its date of issue (YYYY-MM-DD)", "Su fecha de expedición (AAAA-MM-DD)"),
                text("off"),
                true,
                None,
            );
        }
        Form::Ds2029 | Form::Notarial => {}
    }
    if fields::shows_identity(form) {
        let masked = on_file.and_then(|i| i.identity_document.as_ref()).and_then(|d| d.number.as_ref());
        add(
            "identity_document.kind",
            ("Identity document shown", "Documento de identidad que presenta"),
            Control::Choice(options(("None yet", "Ninguno aún"), &IdKind::ALL, id_kind_label)),
            false,
            None,
        );
        add(
            "identity_document.number",
            ("Its number", "Su número"),
            text("off"),
            false,
            on_file_number(masked.map(|m| m.masked.as_str())),
        );
    }
    list
}

/// The input an error belongs on: the one it names, or the first one under it (an error on
/// `previous_passport` goes on its number); none for the item as a whole.
fn owner<'i>(inputs: &'i [Input], field: &str) -> Option<&'i Input> {
    inputs.iter().find(|i| i.name == field).or_else(|| {
        inputs
            .iter()
            .find(|i| i.name.starts_with(&format!("{field}.")) || i.name.starts_with(&format!("{field}[")))
    })
}

fn control(lang: Lang, input: &Input, typed: &Typed, error: Option<&str>) -> Markup {
    let id = &input.name;
    let value = typed.get(id);
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described = match (error.is_some(), input.hint.is_some()) {
        (true, true) => Some(format!("{error_id} {hint_id}")),
        (true, false) => Some(error_id.clone()),
        (false, true) => Some(hint_id.clone()),
        (false, false) => None,
    };
    let invalid = error.map(|_| "true");
    html! {
        div {
            @if let Control::Check = input.control {
                input id=(id) name=(id) type="checkbox" value="on" checked[!value.is_empty()] aria-invalid=[invalid] aria-describedby=[described.as_deref()];
                label.inline for=(id) { (input.label) }
            } @else {
                label for=(id) { (input.label) }
            }
            @if let Some(error) = error { p.error id=(error_id) { (error) } }
            @if let Some(hint) = &input.hint { p id=(hint_id) { (hint) } }
            @match &input.control {
                Control::Text { autocomplete, numeric } => {
                    input.wide[!numeric] id=(id) name=(id) type="text" value=(value) autocomplete=(autocomplete)
                        inputmode=[numeric.then_some("numeric")] required[input.required]
                        aria-invalid=[invalid] aria-describedby=[described.as_deref()];
                }
                Control::Choice(options) => {
                    select id=(id) name=(id) required[input.required] aria-invalid=[invalid] aria-describedby=[described.as_deref()] {
                        @for (code, label) in options.iter() {
                            option value=(code) selected[code == value] { (lang.t(*label)) }
                        }
                    }
                }
                Control::Check => {}
            }
        }
    }
}

/// One application or job as a fieldset: its own errors at the top, each field's at its field.
fn section(
    lang: Lang,
    legend: &str,
    inputs: &[Input],
    typed: &Typed,
    errors: &[PageError],
    prefix: &str,
) -> Markup {
    let mine = |e: &&PageError| !page_level(e) && (prefix.is_empty() || e.field.starts_with(prefix));
    let whole: Vec<String> = errors
        .iter()
        .filter(mine)
        .filter(|e| owner(inputs, &e.field).is_none())
        .map(|e| e.text.clone())
        .collect();
    let error_of = |input: &Input| {
        errors
            .iter()
            .filter(mine)
            .find(|e| owner(inputs, &e.field).is_some_and(|o| o.name == input.name))
            .map(|e| e.text.clone())
    };
    let mut groups: Vec<(Option<&str>, Vec<&Input>)> = Vec::new();
    for input in inputs {
        match groups.last_mut() {
            Some((group, members)) if *group == input.group.as_deref() => members.push(input),
            _ => groups.push((input.group.as_deref(), vec![input])),
        }
    }
    html! {
        fieldset {
            legend { (legend) }
            @for message in &whole { p.error role="alert" { (message) } }
            @for (group, members) in &groups {
                @if let Some(group) = group {
                    fieldset {
                        legend { (group) }
                        @for input in members { (control(lang, input, typed, error_of(input).as_deref())) }
                    }
                } @else {
                    @for input in members { (control(lang, input, typed, error_of(input).as_deref())) }
                }
            }
            @if inputs.iter().any(|i| i.group.is_some()) {
                input type="hidden" name={ (prefix) "signer_rows" } value=(fields::signer_rows(typed, prefix));
            }
        }
    }
}

/// "Add a signer" for a notarial section still short of the most signers: it sends the form
/// back one row longer. It comes after the form's main button, which stays the one that Enter
/// presses.
fn add_signer(lang: Lang, form: Form, typed: &Typed, prefix: &str) -> Markup {
    html! {
        @if form == Form::Notarial && fields::signer_rows(typed, prefix) < MAX_SIGNERS {
            button type="submit" name="add_signer" value=(prefix) { (lang.t(("Add a signer", "Agregar un firmante"))) }
        }
    }
}

/// An error about the whole form (expired, refused) or the list of items (how many), not
/// about one section.
fn page_level(e: &PageError) -> bool {
    e.field == "form" || e.field == "items"
}

/// The form's own errors, and a pointer to the fields' when there are any.
fn general(lang: Lang, errors: &[PageError]) -> Markup {
    html! {
        @if errors.iter().any(|e| !page_level(e)) {
            p.error role="alert" { (lang.t(("Please check the fields marked below.", "Revise los datos señalados abajo."))) }
        }
        @for e in errors.iter().filter(|e| page_level(e)) { p.error role="alert" { (e.text) } }
    }
}

/// The form's fields as posted, the CSRF token and the section asking for one more signer row.
struct Posted {
    typed: Typed,
    csrf: String,
    add_signer: Option<String>,
}

impl Posted {
    fn new(pairs: Vec<(String, String)>) -> Posted {
        let mut typed = Typed::new(pairs);
        let csrf = typed.get("csrf").to_string();
        let add_signer = typed.has("add_signer").then(|| typed.get("add_signer").to_string());
        if let Some(prefix) = &add_signer {
            let rows = fields::signer_rows(&typed, prefix);
            typed.set(format!("{prefix}signer_rows"), (rows + 1).min(MAX_SIGNERS).to_string());
        }
        Posted { typed, csrf, add_signer }
    }
}

// --- the applicant's pre-fill -----------------------------------------------------------------

/// The pre-fill page of one appointment: one section per person, at most [`MAX_ITEMS`].
struct Prefill {
    form: Form,
    reference: String,
    sections: usize,
    /// Per section: what was saved for it, and the person the booking names there.
    on_file: Vec<Option<CheckedItem>>,
    booked: Vec<Option<PersonInput>>,
}

impl Prefill {
    fn prefix(&self, i: usize) -> String {
        format!("items[{i}].")
    }

    fn page(
        &self,
        req: &HttpRequest,
        lang: Lang,
        status: StatusCode,
        typed: &Typed,
        errors: &[PageError],
    ) -> HttpResponse {
        let action = format!("/my/{}/intake", self.reference);
        let prefixes: Vec<String> = (0..self.sections).map(|i| self.prefix(i)).collect();
        form_page(req, status, lang, lang.t(title(self.form)), "/my", |csrf| {
            html! {
                p { (lang.t(("Fill this in before your appointment to save time at the window. Document numbers are kept masked, so type them again each time you save.",
                             "Llénelo antes de su cita para ahorrar tiempo en la ventanilla. Los números de documento se guardan enmascarados: escríbalos de nuevo cada vez que guarde."))) }
                @if self.sections > 1 {
                    p { (lang.t(("A person's section with nothing but their name is skipped.", "Se omite la sección de una persona que solo tenga su nombre."))) }
                }
                form method="post" action=(action) novalidate {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="sections" value=(self.sections);
                    (general(lang, errors))
                    @for (i, prefix) in prefixes.iter().enumerate() {
                        @let rows = fields::signer_rows(typed, prefix);
                        @let list = inputs(lang, self.form, prefix, rows, Use::Prefill, self.on_file.get(i).and_then(Option::as_ref));
                        @let name = [typed.get(&format!("{prefix}applicant.given_names")), typed.get(&format!("{prefix}applicant.surname"))].join(" ");
                        @let legend = if self.form == Form::Notarial { lang.t(("The document", "El documento")).to_string() } else { format!("{} {}: {}", lang.t(("Application", "Solicitud")), i + 1, name.trim()) };
                        (section(lang, &legend, &list, typed, errors, prefix))
                    }
                    button type="submit" { (lang.t(("Save", "Guardar"))) }
                    @for prefix in &prefixes { (add_signer(lang, self.form, typed, prefix)) }
                }
                p { a href={ "/my/" (self.reference) } { (lang.t(("Back to the appointment", "Volver a la cita"))) } }
            }
        })
    }
}

/// The appointment's form and what the page starts from: what was saved, else its people.
async fn prefill_of(
    state: &AppState,
    req: &HttpRequest,
    reference: &str,
) -> Result<(Prefill, Typed), HttpResponse> {
    let lang = Lang::of(req);
    let Some(who) = session::applicant(state, req).await else { return Err(redirect("/sign-in")) };
    let not_found = || crate::web::booking::not_found(req, lang);
    let Some(parsed) = Reference::parse(reference) else { return Err(not_found()) };
    let actor = who.actor();
    let saved = {
        let parsed = parsed.clone();
        state.db(move |conn| match records::intake_for_applicant(conn, &actor, &parsed) {
            Ok(view) => Ok(view.items),
            Err(e) if e.code() == Code::NotFound => Ok(Vec::new()),
            Err(e) => Err(e),
        })
    };
    let (view, saved) = match (online::own_with_post(&state.pool, who, parsed).await, saved.await) {
        (Ok((view, _)), Ok(saved)) => (view, saved),
        _ => return Err(not_found()),
    };
    let Some(form) = Form::for_service(&view.service) else { return Err(not_found()) };
    let started =
        chrono::DateTime::parse_from_rfc3339(&view.starts_at).map_or(true, |at| at <= state.clock.now());
    if view.status != AppointmentStatus::Booked || started {
        return Err(no_longer(req, lang, &view.reference));
    }
    let pairs = if form == Form::Notarial {
        match saved.is_empty() {
            true => vec![(None, None)],
            false => saved.into_iter().map(|item| (Some(item), None)).collect(),
        }
    } else {
        by_person(saved, &view.applicants)
    };
    let pairs: Vec<_> = pairs.into_iter().take(MAX_ITEMS).collect();
    let mut typed = Typed::default();
    for (i, (item, person)) in pairs.iter().enumerate() {
        let prefix = format!("items[{i}].");
        match (item, person) {
            (Some(item), _) => fields::from_checked(&mut typed, &prefix, item),
            (None, Some(person)) => fields::from_person(&mut typed, &prefix, form, person),
            (None, None) => signers_from_party(&mut typed, &prefix, &view.applicants),
        }
    }
    let sections = pairs.len();
    let (on_file, booked) = pairs.into_iter().unzip();
    Ok((Prefill { form, reference: view.reference, sections, on_file, booked }, typed))
}

/// Each person booked with the application saved for them (matched by name, whatever the
/// order it was saved in), then any saved application naming nobody booked.
fn by_person(
    saved: Vec<CheckedItem>,
    people: &[PersonInput],
) -> Vec<(Option<CheckedItem>, Option<PersonInput>)> {
    let same = |item: &CheckedItem, p: &PersonInput| {
        item.applicant.as_ref().is_some_and(|a| {
            a.given_names.to_lowercase() == p.given_names.to_lowercase()
                && a.surname.to_lowercase() == p.surname.to_lowercase()
        })
    };
    let mut unmatched = saved;
    let mut pairs: Vec<_> = people
        .iter()
        .map(|person| {
            let found = unmatched.iter().position(|item| same(item, person));
            (found.map(|k| unmatched.remove(k)), Some(person.clone()))
        })
        .collect();
    pairs.extend(unmatched.into_iter().map(|item| (Some(item), None)));
    if pairs.is_empty() {
        pairs.push((None, None));
    }
    pairs
}

/// An appointment that is no longer booked, or has begun: the clerk takes the intake now.
fn no_longer(req: &HttpRequest, lang: Lang, reference: &str) -> HttpResponse {
    let title = lang.t(("Pre-filling is closed", "El prellenado está cerrado"));
    form_page(req, StatusCode::CONFLICT, lang, title, "/my", |_| {
        html! {
            p.notice role="status" { (lang.t(("This appointment can no longer be pre-filled: it was cancelled or has begun. The clerk takes the forms at the window.",
                                              "Esta cita ya no se puede prellenar: se canceló o ya comenzó. El personal toma los formularios en la ventanilla."))) }
            p { a href={ "/my/" (reference) } { (lang.t(("Back to the appointment", "Volver a la cita"))) } }
        }
    })
}

/// A notarial job's signer rows start with the people the booking names, and one row spare.
fn signers_from_party(typed: &mut Typed, prefix: &str, people: &[PersonInput]) {
    for (row, person) in people.iter().enumerate().take(MAX_SIGNERS) {
        typed.set(format!("{prefix}signers[{row}].given_names"), person.given_names.clone());
        typed.set(format!("{prefix}signers[{row}].surname"), person.surname.clone());
    }
    typed.set(format!("{prefix}signer_rows"), (people.len() + 1).clamp(1, MAX_SIGNERS).to_string());
}

#[get("/my/{reference}/intake")]
pub async fn prefill_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> HttpResponse {
    match prefill_of(&state, &req, &reference).await {
        Ok((draft, typed)) => draft.page(&req, Lang::of(&req), StatusCode::OK, &typed, &[]),
        Err(page) => page,
    }
}

#[post("/my/{reference}/intake")]
pub async fn prefill(
    state: web::Data<AppState>,
    req: HttpRequest,
    visitor: ApplicantPage,
    reference: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let (mut draft, _) = match prefill_of(&state, &req, &reference).await {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let posted = Posted::new(form.into_inner());
    let typed = &posted.typed;
    draft.sections = typed.get("sections").parse::<usize>().unwrap_or(1).clamp(1, MAX_ITEMS);
    if !session::csrf_holds(&req, &posted.csrf) {
        let expired = [PageError::new("form", lang.t(EXPIRED))];
        return Ok(draft.page(&req, lang, StatusCode::FORBIDDEN, typed, &expired));
    }
    if posted.add_signer.is_some() {
        return Ok(draft.page(&req, lang, StatusCode::OK, typed, &[]));
    }
    let (mut items, mut sections_sent, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..draft.sections {
        let prefix = draft.prefix(i);
        let booked = draft.booked.get(i).and_then(Option::as_ref);
        if draft.sections > 1 && fields::left_blank(typed, &prefix, booked) {
            continue;
        }
        match fields::item(draft.form, typed, &prefix, false) {
            Ok(item) => {
                items.push(item);
                sections_sent.push(i);
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if !errors.is_empty() {
        return Ok(draft.page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, typed, &worded(lang, &errors)));
    }
    let who = visitor.applicant;
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(crate::web::booking::not_found(&req, lang));
    };
    let (key, actor) = (state.matching.clone(), who.actor());
    let request = IntakeRequest { items };
    let done = state.db(move |conn| records::prefill(conn, &key, &actor, &parsed, &request, now)).await;
    match done {
        Ok(_) => Ok(redirect(&format!("/my/{}", draft.reference))),
        Err(AppError::Validation { errors, .. }) => {
            // The rules number the items sent; a skipped section shifts them off the page's.
            let errors = worded(lang, &renumber(errors, "items", &sections_sent));
            Ok(draft.page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, typed, &errors))
        }
        Err(e) if e.code() == Code::NotFound => Ok(crate::web::booking::not_found(&req, lang)),
        Err(e) if e.code().status() == 409 => {
            let said = [PageError::new(
                "form",
                lang.t((
                    "This appointment can no longer be pre-filled.",
                    "Esta cita ya no se puede prellenar.",
                )),
            )];
            Ok(draft.page(&req, lang, StatusCode::CONFLICT, typed, &said))
        }
        Err(e) => Err(e.into()),
    }
}

// --- at the window ------------------------------------------------------------------------------

/// What the clerk can start the form from: each pre-filled item, then each person booked.
fn sources(lang: Lang, intake: &[CheckedItem], visit: &VisitView) -> Vec<String> {
    let named = |p: &PersonInput| format!("{} {}", p.given_names, p.surname);
    let prefilled = intake.iter().map(|item| {
        let who = item
            .applicant
            .as_ref()
            .map(named)
            .or_else(|| {
                item.signers
                    .as_ref()
                    .and_then(|s| s.first())
                    .map(|s| format!("{} {}", s.given_names, s.surname))
            })
            .unwrap_or_default();
        format!("{} · {} ({})", item.form.as_str(), who, lang.t(("pre-filled", "prellenado")))
    });
    prefilled.chain(visit.applicants.iter().map(named)).collect()
}

#[derive(Deserialize)]
pub struct Start {
    /// Read leniently: a link someone typed wrong starts from the first source.
    from: Option<String>,
}

struct Window {
    form: Form,
    reference: String,
    visit: VisitView,
    intake: Vec<CheckedItem>,
    from: usize,
}

impl Window {
    fn page(
        &self,
        req: &HttpRequest,
        lang: Lang,
        status: StatusCode,
        typed: &Typed,
        errors: &[PageError],
    ) -> HttpResponse {
        let action = format!("/staff/visits/{}/intake", self.reference);
        let on_file = self.intake.get(self.from);
        let list = inputs(lang, self.form, "", fields::signer_rows(typed, ""), Use::Window, on_file);
        let heading = format!("{} · {}", lang.t(title(self.form)), self.reference);
        let sources = sources(lang, &self.intake, &self.visit);
        form_page(req, status, lang, &heading, "/staff", |csrf| {
            html! {
                @if !matches!(self.visit.status, AppointmentStatus::Called | AppointmentStatus::InService) {
                    p.notice role="status" { (lang.t(("Call this ticket to a window before recording what it brings.",
                                                       "Llame este turno a una ventanilla antes de registrar lo que trae."))) }
                }
                @if sources.len() > 1 {
                    nav aria-label=(lang.t(("Start from", "Empezar desde"))) {
                        p { (lang.t(("Start from:", "Empezar desde:"))) }
                        ul {
                            @for (i, source) in sources.iter().enumerate() {
                                li {
                                    @if i == self.from { strong aria-current="true" { (source) } }
                                    @else { a href={ "/staff/visits/" (self.reference) "/intake?from=" (i) } { (source) } }
                                }
                            }
                        }
                    }
                }
                form method="post" action=(action) novalidate {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="from" value=(self.from);
                    input type="hidden" name=(once::FIELD) value=(once::token());
                    (general(lang, errors))
                    (section(lang, lang.t(title(self.form)), &list, typed, errors, ""))
                    button type="submit" { (lang.t(("Record", "Registrar"))) }
                    (add_signer(lang, self.form, typed, ""))
                }
                p { a href={ "/staff/visits/" (self.reference) "/documents" } { (lang.t(("The visit's documents", "Los documentos de la visita"))) } }
            }
        })
    }
}

/// The visit, its pre-filled intake and its form, for a clerk of its post.
async fn window_of(
    state: &AppState,
    req: &HttpRequest,
    reference: &str,
    from: usize,
) -> Result<(Window, crate::auth::Staff<ClerkPlus>), HttpResponse> {
    let lang = Lang::of(req);
    let clerk = member::<ClerkPlus>(state, req).await?;
    let Some(parsed) = Reference::parse(reference) else {
        return Err(crate::web::staff::said(
            req,
            StatusCode::NOT_FOUND,
            lang,
            lang.t(("Not found.", "No se encontró.")),
        ));
    };
    let actor = clerk.actor();
    let found = state
        .db(move |conn| {
            let visit = visits::show(conn, &actor, &parsed)?;
            let intake = match records::intake_for_staff(conn, &actor, &parsed) {
                Ok(view) => view.items,
                Err(e) if e.code() == Code::NotFound => Vec::new(),
                Err(e) => return Err(e),
            };
            Ok((visit, intake))
        })
        .await;
    let (visit, intake) = match found {
        Ok(found) => found,
        Err(e) => {
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::NOT_FOUND);
            return Err(crate::web::staff::said(req, status, lang, &refusal(lang, &e)));
        }
    };
    let Some(form) = Form::for_service(&visit.service) else {
        return Err(crate::web::staff::said(
            req,
            StatusCode::NOT_FOUND,
            lang,
            lang.t(("Not found.", "No se encontró.")),
        ));
    };
    let from = from.min((intake.len() + visit.applicants.len()).saturating_sub(1));
    Ok((Window { form, reference: visit.reference.clone(), visit, intake, from }, clerk))
}

impl Window {
    /// The form as it starts: from the chosen pre-filled item or booked person.
    fn start(&self) -> Typed {
        let mut typed = Typed::default();
        match self.intake.get(self.from) {
            Some(item) => fields::from_checked(&mut typed, "", item),
            None => {
                let people = &self.visit.applicants;
                if self.form == Form::Notarial {
                    signers_from_party(&mut typed, "", people);
                } else if let Some(person) = people.get(self.from - self.intake.len()) {
                    fields::from_person(&mut typed, "", self.form, person);
                }
            }
        }
        typed
    }
}

#[get("/staff/visits/{reference}/intake")]
pub async fn window_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    start: web::Query<Start>,
) -> HttpResponse {
    match window_of(&state, &req, &reference, start.from.as_deref().and_then(|f| f.parse().ok()).unwrap_or(0))
        .await
    {
        Ok((window, _)) => window.page(&req, Lang::of(&req), StatusCode::OK, &window.start(), &[]),
        Err(page) => page,
    }
}

#[post("/staff/visits/{reference}/intake")]
pub async fn record_at_window(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let posted = Posted::new(form.into_inner());
    let typed = &posted.typed;
    let from = typed.get("from").parse().unwrap_or(0);
    let (window, clerk) = match window_of(&state, &req, &reference, from).await {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let token = typed.get(once::FIELD).to_string();
    if !session::csrf_holds(&req, &posted.csrf) || !once::well_formed(&token) {
        let expired = [PageError::new("form", lang.t(EXPIRED))];
        return Ok(window.page(&req, lang, StatusCode::FORBIDDEN, typed, &expired));
    }
    if posted.add_signer.is_some() {
        return Ok(window.page(&req, lang, StatusCode::OK, typed, &[]));
    }
    let item = match fields::item(window.form, typed, "", true) {
        Ok(item) => item,
        Err(errors) => {
            return Ok(window.page(
                &req,
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                typed,
                &worded(lang, &errors),
            ))
        }
    };
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(HttpResponse::NotFound().finish());
    };
    let (key, actor) = (state.matching.clone(), clerk.actor());
    let documents = format!("/staff/visits/{}/documents", window.reference);
    // Once per rendering of the form: a double click records one document, one register entry.
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                let recorded = records::record(c, &key, &actor, &parsed, &item, now)?;
                Ok(format!("{documents}?recorded={}", recorded.tracking_number))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(AppError::Validation { errors, .. }) => {
            Ok(window.page(&req, lang, StatusCode::UNPROCESSABLE_ENTITY, typed, &worded(lang, &errors)))
        }
        Err(e) if e.code().status() >= 500 => Err(e.into()),
        Err(e) => {
            let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::CONFLICT);
            let said = [PageError::new("form", refusal(lang, &e))];
            Ok(window.page(&req, lang, status, typed, &said))
        }
    }
}
