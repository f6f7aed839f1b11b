//! Emergency messages (duty officers and admins) and the newsletter (admins): one compose form
//! in English and Spanish for some districts or all of Mexico, a preview that counts who it
//! will reach (`bulletins::preview`), sending (`bulletins::send`, once per rendering of the
//! form: a double click queues one message), and the recent messages with the second
//! officer's approval when `CONSULAR_DESK_EMERGENCY_APPROVAL` asks for it (`bulletins::approve`).

use super::*;
use crate::auth::roles::DutyOfficerOrAdmin;
use crate::auth::StaffMember;
use crate::http::HttpError;
use crate::registry::bulletins::{self, BulletinInput, BulletinKind, BulletinView, ALL_OF_MEXICO};
use crate::rule::Rule;
use crate::web::extract::{CsrfForm, StaffPage};
use crate::web::field_errors::Shown;
use crate::web::typed::Typed;

/// Which of the two pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Desk {
    Emergency,
    Newsletter,
}

impl Desk {
    fn path(self) -> &'static str {
        match self {
            Desk::Emergency => "/staff/emergency",
            Desk::Newsletter => "/staff/newsletter",
        }
    }

    fn kind(self) -> BulletinKind {
        match self {
            Desk::Emergency => BulletinKind::Emergency,
            Desk::Newsletter => BulletinKind::Newsletter,
        }
    }

    fn title(self) -> Text {
        match self {
            Desk::Emergency => ("Emergency messages", "Mensajes de emergencia"),
            Desk::Newsletter => ("Newsletter", "Boletín"),
        }
    }
}

/// What the page says at the top after a send or an approval.
#[derive(Deserialize)]
pub struct ComposeQuery {
    sent: Option<i64>,
    approved: Option<i64>,
}

/// The form as written: its fields by name, and the districts ticked (a name the form repeats).
struct Draft {
    typed: Typed,
    districts: Vec<String>,
}

impl Draft {
    /// An empty form: a member bound to a post writes to their own district, ticked already.
    fn empty(member: &StaffMember) -> Draft {
        Draft { typed: Typed::default(), districts: member.post.iter().cloned().collect() }
    }

    fn posted(pairs: Vec<(String, String)>) -> Draft {
        let districts = pairs.iter().filter(|(k, _)| k == "districts").map(|(_, v)| v.clone()).collect();
        Draft { typed: Typed::new(pairs), districts }
    }

    /// The bulletin the form asks for, or what the page itself finds wrong (a date that is not
    /// one).
    fn input(&self, desk: Desk) -> Result<BulletinInput, Vec<crate::error::FieldError>> {
        let mut errors = Vec::new();
        let mut date = |field: &str| match self.typed.get(field).trim() {
            "" => None,
            text => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| errors.push(crate::error::FieldError::new(field, Rule::NotADate)))
                .ok(),
        };
        let (from, to) = match desk {
            Desk::Emergency => (date("from"), date("to")),
            Desk::Newsletter => (None, None),
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        let text = |field: &str| self.typed.get(field).to_string();
        Ok(BulletinInput {
            districts: self.districts.clone(),
            from,
            to,
            subject_en: text("subject_en"),
            body_en: text("body_en"),
            subject_es: text("subject_es"),
            body_es: text("body_es"),
        })
    }
}

/// A refusal as the form shows it: the rules' errors by field (every `districts[i]` on the
/// districts' group), anything else on the line at the top with its status.
fn shown_of(lang: Lang, e: &AppError) -> Shown {
    let mut shown = Shown::of(lang, e);
    for i in 0..20 {
        shown = shown.renamed(&format!("districts[{i}]"), "districts");
    }
    shown
}

/// What the page says at the top.
enum Said {
    Nothing,
    /// The preview: how many addresses it would reach now.
    Reach(i64),
    Sent(i64),
    Approved(i64),
}

/// "1 address", "3 addresses".
fn addresses(lang: Lang, n: i64) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 address".to_string(),
        (Lang::En, n) => format!("{n} addresses"),
        (Lang::Es, 1) => "1 dirección".to_string(),
        (Lang::Es, n) => format!("{n} direcciones"),
    }
}

/// The state of a bulletin in words.
fn state_words(lang: Lang, b: &BulletinView) -> String {
    match (b.state.as_str(), b.recipients) {
        ("queued", Some(n)) => match lang {
            Lang::En => format!("Queued for {}", addresses(lang, i64::from(n))),
            Lang::Es => format!("En cola para {}", addresses(lang, i64::from(n))),
        },
        ("queued", None) => lang.t(("Queued", "En cola")).to_string(),
        _ => lang
            .t(("Awaiting a second officer's approval", "Espera la aprobación de otro oficial"))
            .to_string(),
    }
}

fn districts_words(lang: Lang, districts: &[String]) -> String {
    if districts.iter().any(|d| d == ALL_OF_MEXICO) {
        return lang.t(("All of Mexico", "Todo México")).to_string();
    }
    districts.join(", ")
}

/// When a bulletin was written, in UTC.
fn written(lang: Lang, at: chrono::NaiveDateTime) -> String {
    format!("{} {} UTC", lang.date(at.date()), at.format("%H:%M"))
}

fn field_input(shown: &Shown, name: &str, label: &str, kind: &str, value: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        input.wide id=(name) name=(name) type=(kind) value=(value)
            aria-invalid=[shown.invalid(name)] aria-describedby=[shown.described_by(name, name)];
        (shown.beside(name, name))
    }
}

fn body_input(shown: &Shown, name: &str, label: &str, value: &str) -> Markup {
    html! {
        label for=(name) { (label) }
        textarea id=(name) name=(name) rows="8"
            aria-invalid=[shown.invalid(name)] aria-describedby=[shown.described_by(name, name)] { (value) }
        (shown.beside(name, name))
    }
}

/// The compose page: what was just done, the form (as written, with its errors), and the
/// recent messages of this kind with their approval buttons.
#[allow(clippy::too_many_arguments)]
async fn compose_page(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    member: &StaffMember,
    desk: Desk,
    draft: &Draft,
    shown: &Shown,
    said: Said,
) -> Result<HttpResponse, HttpError> {
    let actor = Actor::Staff(member.clone());
    let recent = match state.db(move |conn| bulletins::recent(conn, &actor)).await {
        Ok(list) => list.into_iter().filter(|b| b.kind == desk.kind()).collect::<Vec<_>>(),
        Err(e) => return refused(req, lang, e),
    };
    let posts = crate::reference::seed::POSTS;
    let offered: Vec<(&str, String)> = posts
        .iter()
        .filter(|p| member.post.as_deref().is_none_or(|own| own == p.code))
        .map(|p| (p.code, format!("{} ({})", names::city(lang, p.code, p.city), p.code)))
        .collect();
    let typed = &draft.typed;
    let ticked = |code: &str| draft.districts.iter().any(|d| d == code);
    let districts_error = shown.described_by("districts", "districts");
    let fields = ["districts", "from", "to", "subject_en", "body_en", "subject_es", "body_es"];
    let about = |id: i64| recent.iter().find(|b| b.id == id);
    let status = shown.status();
    Ok(form_page(req, status, lang, lang.t(desk.title()), desk.path(), |csrf| {
        html! {
            @match said {
                Said::Reach(n) => {
                    p.notice #reach role="status" {
                        (match lang {
                            Lang::En => format!("This message would reach {} now. Nothing has been sent.", addresses(lang, n)),
                            Lang::Es => format!("Este mensaje llegaría ahora a {}. No se ha enviado nada.", addresses(lang, n)),
                        })
                    }
                }
                Said::Sent(id) | Said::Approved(id) => {
                    @if let Some(b) = about(id) {
                        p.notice #outcome role="status" {
                            @if b.state == "queued" {
                                (lang.t(("Sent.", "Enviado."))) " " (state_words(lang, b)) "."
                            } @else {
                                (lang.t(("Written. It is not sent until a second officer approves it below.", "Escrito. No se envía hasta que otro oficial lo apruebe abajo.")))
                            }
                        }
                    }
                }
                Said::Nothing => {}
            }
            (shown.general(&fields))
            form.compose method="post" action=(desk.path()) novalidate {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name=(once::FIELD) value=(once::token());
                fieldset {
                    legend { (lang.t(("To the registrants of", "Para los registrados en"))) }
                    (shown.beside("districts", "districts"))
                    @if member.post.is_none() {
                        div {
                            input #district-all type="checkbox" name="districts" value=(ALL_OF_MEXICO) checked[ticked(ALL_OF_MEXICO)]
                                aria-describedby=[districts_error.clone()];
                            label.inline for="district-all" { strong { (lang.t(("All of Mexico", "Todo México"))) } }
                        }
                    }
                    @for (code, name) in &offered {
                        div {
                            input id={ "district-" (code) } type="checkbox" name="districts" value=(code) checked[ticked(code)]
                                aria-describedby=[districts_error.clone()];
                            label.inline for={ "district-" (code) } { (name) }
                        }
                    }
                }
                @if desk == Desk::Emergency {
                    fieldset {
                        legend { (lang.t(("Present in Mexico on any day", "Presentes en México algún día"))) }
                        div.pair {
                            div { (field_input(shown, "from", lang.t(("From", "Desde")), "date", typed.get("from"))) }
                            div { (field_input(shown, "to", lang.t(("To", "Hasta")), "date", typed.get("to"))) }
                        }
                    }
                }
                fieldset {
                    legend { (lang.t(("In English", "En inglés"))) }
                    (field_input(shown, "subject_en", lang.t(("Subject", "Asunto")), "text", typed.get("subject_en")))
                    (body_input(shown, "body_en", lang.t(("Message", "Mensaje")), typed.get("body_en")))
                }
                fieldset {
                    legend { (lang.t(("In Spanish", "En español"))) }
                    (field_input(shown, "subject_es", lang.t(("Subject", "Asunto")), "text", typed.get("subject_es")))
                    (body_input(shown, "body_es", lang.t(("Message", "Mensaje")), typed.get("body_es")))
                }
                div.buttons {
                    button type="submit" name="action" value="preview" { (lang.t(("Preview", "Vista previa"))) }
                    button.danger type="submit" name="action" value="send" { (lang.t(("Send", "Enviar"))) }
                }
            }
            h2 { (lang.t(("Recent messages", "Mensajes recientes"))) }
            @if recent.is_empty() {
                p { (lang.t(("None yet.", "Ninguno todavía."))) }
            } @else {
                table #recent {
                    thead { tr {
                        th scope="col" { (lang.t(("Subject", "Asunto"))) }
                        th scope="col" { (lang.t(("Districts", "Distritos"))) }
                        @if desk == Desk::Emergency { th scope="col" { (lang.t(("Present", "Presentes"))) } }
                        th scope="col" { (lang.t(("Written", "Escrito"))) }
                        th scope="col" { (lang.t(("State", "Estado"))) }
                    } }
                    tbody {
                        @for b in &recent {
                            tr {
                                td { (if lang == Lang::Es { &b.subject_es } else { &b.subject_en }) }
                                td { (districts_words(lang, &b.districts)) }
                                @if desk == Desk::Emergency {
                                    td {
                                        @if let (Some(from), Some(to)) = (b.from, b.to) { (lang.date(from)) " – " (lang.date(to)) }
                                    }
                                }
                                td {
                                    (written(lang, b.written_at)) ", "
                                    @if b.written_by == member.id { (lang.t(("by you", "por usted"))) } @else { (lang.t(("by another officer", "por otro oficial"))) }
                                }
                                td {
                                    (state_words(lang, b))
                                    @if b.state == "awaiting_approval" && desk == Desk::Emergency {
                                        @if b.written_by == member.id {
                                            br; (lang.t(("Another officer approves it.", "Lo aprueba otro oficial.")))
                                        } @else {
                                            form method="post" action={ "/staff/emergency/" (b.id) "/approve" } {
                                                input type="hidden" name="csrf" value=(csrf);
                                                button type="submit" aria-label={ (lang.t(("Approve and send", "Aprobar y enviar"))) ": " (if lang == Lang::Es { &b.subject_es } else { &b.subject_en }) } {
                                                    (lang.t(("Approve and send", "Aprobar y enviar")))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

/// What the page says after a redirect.
fn said_of(query: ComposeQuery) -> Said {
    match (query.sent, query.approved) {
        (Some(id), _) => Said::Sent(id),
        (None, Some(id)) => Said::Approved(id),
        _ => Said::Nothing,
    }
}

/// Preview or send, as the button pressed says.
async fn compose(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    member: &StaffMember,
    desk: Desk,
    pairs: Vec<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    let draft = Draft::posted(pairs);
    if !session::csrf_holds(req, draft.typed.get("csrf")) {
        return Ok(expired(req, lang));
    }
    let written = &draft;
    let again = |shown: Shown, said: Said| async move {
        compose_page(state, req, lang, member, desk, written, &shown, said).await
    };
    let input = match draft.input(desk) {
        Ok(input) => input,
        Err(errors) => return again(shown_of(lang, &AppError::invalid(errors)), Said::Nothing).await,
    };
    let (actor, kind, now) = (Actor::Staff(member.clone()), desk.kind(), state.clock.naive());
    if draft.typed.get("action") != "send" {
        let today = now.date();
        return match state.db(move |conn| bulletins::preview(conn, &actor, kind, &input, today)).await {
            Ok(n) => again(Shown::default(), Said::Reach(n)).await,
            Err(e) if e.code().status() < 500 => again(shown_of(lang, &e), Said::Nothing).await,
            Err(e) => Err(e.into()),
        };
    }
    let token = draft.typed.get(once::FIELD).to_string();
    if !once::well_formed(&token) {
        return Ok(expired(req, lang));
    }
    let approval = desk == Desk::Emergency && state.settings.registry.emergency_approval;
    let path = desk.path();
    // Once per rendering of the form: sending it again lands on what the first send did.
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                let sent = bulletins::send(c, &actor, kind, &input, approval, now)?;
                Ok(format!("{path}?sent={}", sent.id))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(e) if e.code().status() < 500 => again(shown_of(lang, &e), Said::Nothing).await,
        Err(e) => Err(e.into()),
    }
}

#[get("/staff/emergency")]
pub async fn emergency_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    officer: StaffPage<DutyOfficerOrAdmin>,
    query: web::Query<ComposeQuery>,
) -> Result<HttpResponse, HttpError> {
    let member = &officer.staff.member;
    let draft = Draft::empty(member);
    let said = said_of(query.into_inner());
    compose_page(&state, &req, officer.lang, member, Desk::Emergency, &draft, &Shown::default(), said).await
}

#[post("/staff/emergency")]
pub async fn emergency_compose(
    state: web::Data<AppState>,
    req: HttpRequest,
    officer: StaffPage<DutyOfficerOrAdmin>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    compose(&state, &req, officer.lang, &officer.staff.member, Desk::Emergency, form.into_inner()).await
}

/// A second officer approves an emergency message, which queues it.
#[post("/staff/emergency/{id}/approve")]
pub async fn approve_emergency(
    state: web::Data<AppState>,
    req: HttpRequest,
    officer: StaffPage<DutyOfficerOrAdmin>,
    id: web::Path<String>,
    _form: CsrfForm<CsrfOnly>,
) -> Result<HttpResponse, HttpError> {
    let (lang, member) = (officer.lang, &officer.staff.member);
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let (actor, now) = (officer.actor(), state.clock.naive());
    match state.db(move |conn| bulletins::approve(conn, &actor, id, now)).await {
        Ok(_) => Ok(redirect(&format!("/staff/emergency?approved={id}"))),
        Err(e) if e.code().status() < 500 => {
            let draft = Draft::empty(member);
            let shown = Shown::said(&refusal(lang, &e), e.code().status());
            compose_page(&state, &req, lang, member, Desk::Emergency, &draft, &shown, Said::Nothing).await
        }
        Err(e) => Err(e.into()),
    }
}

#[get("/staff/newsletter")]
pub async fn newsletter_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    query: web::Query<ComposeQuery>,
) -> Result<HttpResponse, HttpError> {
    let member = &admin.staff.member;
    let draft = Draft::empty(member);
    let said = said_of(query.into_inner());
    compose_page(&state, &req, admin.lang, member, Desk::Newsletter, &draft, &Shown::default(), said).await
}

#[post("/staff/newsletter")]
pub async fn newsletter_compose(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, HttpError> {
    compose(&state, &req, admin.lang, &admin.staff.member, Desk::Newsletter, form.into_inner()).await
}
