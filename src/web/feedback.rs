//! "Tell us what you think": the public feedback form and its thank-you page. The form runs
//! `feedback::submit`, the operation `POST /api/v1/feedback` runs (the same rules, the same
//! throttle per client address); a refusal comes back with each error beside its field. The
//! routes sit in the `/feedback` scope that `web::routes` gives its own form limit.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use maud::html;
use serde::Deserialize;

use crate::error::{AppError, Code};
use crate::feedback::{self, rules::one_line_end, FeedbackRequest, MAX_TEXT_CHARS};
use crate::http::{client_address, HttpError};
use crate::reference::{self, Post, Service};
use crate::state::AppState;
use crate::web::extract::{carries_csrf, CsrfForm};
use crate::web::field_errors::Shown;
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::layout::frame;
use crate::web::{form_page, page, redirect};

/// The form's longest body: a 4,000-character text in any script, every byte of it
/// percent-encoded (a four-byte character is twelve), with the other fields.
pub const MAX_FORM_BYTES: usize = 56 * 1024;

const TITLE: Text = ("Tell us what you think", "Díganos qué opina");

/// What the form sends.
#[derive(Deserialize, Default)]
pub struct FeedbackForm {
    csrf: String,
    post: Option<String>,
    service: Option<String>,
    text: Option<String>,
    email: Option<String>,
}

carries_csrf!(FeedbackForm);

/// `?post=`: the office to start with.
#[derive(Deserialize)]
pub struct FeedbackQuery {
    post: Option<String>,
}

/// What a refused form shows again.
#[derive(Default)]
struct Typed {
    post: String,
    service: String,
    text: String,
    email: String,
}

fn feedback_page(
    req: &HttpRequest,
    lang: Lang,
    status: StatusCode,
    (posts, services): &(Vec<Post>, Vec<Service>),
    typed: &Typed,
    shown: &Shown,
) -> HttpResponse {
    let limit = match lang {
        Lang::En => {
            format!("Up to {MAX_TEXT_CHARS} characters. Please don't write passport or ID numbers here.")
        }
        Lang::Es => {
            format!("Hasta {MAX_TEXT_CHARS} caracteres. Por favor no escriba aquí números de pasaporte ni de identificación.")
        }
    };
    let text_described = match shown.described_by("text", "text") {
        Some(error) => format!("text-hint {error}"),
        None => "text-hint".to_string(),
    };
    form_page(req, status, lang, lang.t(TITLE), "/feedback", |csrf| {
        html! {
            p { (lang.t(("Tell us about your visit or our services: what went well and what we could do better. We read every message, and answer when you leave an address.",
                         "Cuéntenos de su visita o de nuestros servicios: qué salió bien y qué podemos mejorar. Leemos cada mensaje y respondemos si nos deja un correo."))) }
            p { (lang.t(("This form is not for emergencies: call the number at the foot of the page.",
                         "Este formulario no es para emergencias: llame al número que aparece al pie de la página."))) }
            form #feedback method="post" action="/feedback" novalidate {
                (shown.general(&["post", "service", "text", "email"]))
                input type="hidden" name="csrf" value=(csrf);
                label for="post" { (lang.t(("Office", "Oficina"))) }
                select #post name="post" required
                    aria-invalid=[shown.invalid("post")] aria-describedby=[shown.described_by("post", "post")] {
                    @for p in posts { option value=(p.code) selected[p.code == typed.post] { (p.name) } }
                }
                (shown.beside("post", "post"))
                label for="service" { (lang.t(("Service (optional)", "Servicio (opcional)"))) }
                select #service name="service"
                    aria-invalid=[shown.invalid("service")] aria-describedby=[shown.described_by("service", "service")] {
                    option value="" selected[typed.service.is_empty()] { (lang.t(("None in particular", "Ninguno en particular"))) }
                    @for s in services {
                        option value=(s.code) selected[s.code == typed.service] { (crate::web::public::service_name(lang, &s.code, &s.name)) }
                    }
                }
                (shown.beside("service", "service"))
                label for="text" { (lang.t(("What do you think?", "¿Qué opina?"))) }
                p.hint #text-hint { (limit) }
                textarea #text name="text" rows="8" maxlength=(MAX_TEXT_CHARS) required
                    aria-invalid=[shown.invalid("text")] aria-describedby=(text_described) { (typed.text) }
                (shown.beside("text", "text"))
                label for="email" { (lang.t(("E-mail address (optional: only if you want an answer)", "Correo electrónico (opcional: solo si quiere una respuesta)"))) }
                input.wide #email name="email" type="email" autocomplete="email" maxlength="254" value=(typed.email)
                    aria-invalid=[shown.invalid("email")] aria-describedby=[shown.described_by("email", "email")];
                (shown.beside("email", "email"))
                button type="submit" { (lang.t(("Send", "Enviar"))) }
            }
        }
    })
}

async fn choices(state: &AppState) -> Result<(Vec<Post>, Vec<Service>), AppError> {
    state.db(|conn| Ok((reference::list_posts(conn)?, reference::list_services(conn)?))).await
}

#[get("")]
pub async fn feedback_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<FeedbackQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let post = query.into_inner().post.map(|p| reference::normalise_post(&p));
    let typed = Typed { post: post.unwrap_or_else(|| crate::calendar::EMBASSY.into()), ..Typed::default() };
    let choices = choices(&state).await?;
    Ok(feedback_page(&req, lang, StatusCode::OK, &choices, &typed, &Shown::default()))
}

#[post("")]
pub async fn send_feedback(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: CsrfForm<FeedbackForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let form = form.into_inner();
    let typed = Typed {
        post: form.post.unwrap_or_default(),
        service: form.service.unwrap_or_default(),
        // Browsers send a text area's line breaks as CRLF, where its `maxlength` counted one
        // character for each.
        text: one_line_end(&form.text.unwrap_or_default()),
        email: form.email.unwrap_or_default().trim().to_string(),
    };
    let request = FeedbackRequest {
        post: typed.post.clone(),
        service: Some(typed.service.clone()),
        text: typed.text.clone(),
        email: Some(typed.email.clone()),
        language: Some(lang.code().to_string()),
    };
    let (now, address, limits) = (state.clock.naive(), client_address(&req), state.settings.feedback);
    let sent = state.db(move |conn| feedback::submit(conn, &limits, &request, &address, now)).await;
    let (status, shown) = match sent {
        Ok(_) => return Ok(redirect("/feedback/thanks")),
        Err(e) if e.code() == Code::TooManyRequests => {
            let text = lang.t((
                "We have had several messages from here within the hour. Please try again later.",
                "Recibimos varios mensajes desde aquí en la última hora. Intente de nuevo más tarde.",
            ));
            (StatusCode::TOO_MANY_REQUESTS, Shown::on("form", text))
        }
        Err(e) if e.code().status() < 500 => {
            let shown = Shown::of(lang, &e);
            (shown.status(), shown)
        }
        Err(e) => return Err(e.into()),
    };
    let choices = choices(&state).await?;
    Ok(feedback_page(&req, lang, status, &choices, &typed, &shown))
}

#[get("/thanks")]
pub async fn thanks(req: HttpRequest) -> HttpResponse {
    let lang = Lang::of(&req);
    let title = lang.t(("Thank you", "Gracias"));
    let content = html! {
        p.notice role="status" { (lang.t(("We have your message; the office's staff will read it. If you left an address, they may write to you there.",
                                          "Recibimos su mensaje; el personal de la oficina lo leerá. Si dejó un correo, es posible que le escriban ahí."))) }
        p { a href="/" { (lang.t(("Back to the home page", "Volver a la página de inicio"))) } }
    };
    page(StatusCode::OK, lang, frame(lang, title, "/feedback/thanks", content))
}
