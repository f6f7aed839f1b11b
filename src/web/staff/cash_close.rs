//! The day's cash: the exchange rate, each clerk's count against their receipts, the
//! supervisors' signature, and the close sheet to keep with the cash. A form that is refused
//! comes back with what was typed and the error beside the field (or the line) it is about.

use super::*;
use crate::fees::closeouts::{CloseoutView, Difference};
use crate::http::HttpError;
use crate::rule::Rule;
use crate::web::extract::{carries_csrf, CsrfForm, StaffPage};

/// What the cash page's count form asks for: each method in the currency it is counted in.
const COUNTED: [(Method, Currency, &str); 4] = [
    (Method::CashUsd, Currency::Usd, "cash_usd"),
    (Method::CashLocal, Currency::Mxn, "cash_local"),
    (Method::Card, Currency::Usd, "card"),
    (Method::PrepaidOnline, Currency::Usd, "prepaid_online"),
];

/// A method and its currency as a person names them, never the API's codes.
pub(crate) fn method_name(lang: Lang, method: Method, currency: Currency) -> &'static str {
    lang.t(match (method, currency) {
        (Method::CashUsd, _) => ("Cash, US dollars", "Efectivo, dólares"),
        (Method::CashLocal, _) => ("Cash, pesos", "Efectivo, pesos"),
        (Method::Card, _) => ("Card (US dollars)", "Tarjeta (dólares)"),
        (Method::PrepaidOnline, _) => ("Paid online (US dollars)", "Pagado en línea (dólares)"),
        (Method::NoFee, _) => ("No fee", "Sin costo"),
    })
}

/// What a refused form brings back to the page: what was typed, and the errors by field
/// (`rate`, `cash_usd`…, `explanation`) or for the page (`form`).
#[derive(Default)]
struct Typed {
    rate: String,
    counted: [String; 4],
    explanation: String,
    errors: Vec<(&'static str, String)>,
    /// The lines of the count that differ, when an explanation was missing.
    differing: Vec<Difference>,
}

impl Typed {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, e)| e.as_str())
    }
}

/// Everything the cash page shows about one post's day.
struct Day {
    post: String,
    today: NaiveDate,
    rate: Option<i64>,
    closes: Vec<CloseoutView>,
    /// What the member's own receipts of the day say they hold.
    mine: Vec<Tally>,
    /// Every post (code, name), for a member bound to none to pick from.
    posts: Vec<(String, String)>,
}

async fn load_day(
    state: &AppState,
    staff: &crate::auth::StaffMember,
    asked: Option<String>,
) -> Result<Day, AppError> {
    let post = post_of(staff, asked);
    let (actor, me, bound, now) =
        (Actor::Staff(staff.clone()), staff.id, staff.post.is_some(), state.clock.naive());
    state
        .db(move |conn| {
            use crate::db::schema::posts;
            use diesel::prelude::*;
            let posts: Vec<(String, String)> = if bound {
                Vec::new()
            } else {
                posts::table.order(posts::code).select((posts::code, posts::name)).load(conn)?
            };
            let today = calendar::local_date(now, calendar::post_zone(conn, &post)?);
            let rate = match rates::show(conn, &actor, &post, today) {
                Ok(rate) => Some(rate.rate_micros),
                Err(e) if e.code() == Code::NotFound => None,
                Err(e) => return Err(e),
            };
            let closes = closeouts::list(conn, &actor, &post, today)?;
            let mine = closeouts::expected(conn, &post, today, me)?;
            Ok(Day { post, today, rate, closes, mine, posts })
        })
        .await
}

fn amount(lang: Lang, cents: i64, currency: Currency) -> String {
    lang.money(cents, currency.as_str())
}

fn of(tallies: &[Tally], method: Method, currency: Currency) -> i64 {
    tallies.iter().filter(|t| t.method == method && t.currency == currency).map(|t| t.amount_cents).sum()
}

/// The cash page, with what a refused form typed (if any).
fn cash_page(
    req: &HttpRequest,
    status: StatusCode,
    lang: Lang,
    staff: &crate::auth::StaffMember,
    day: &Day,
    typed: &Typed,
) -> HttpResponse {
    let supervisor = SupervisorPlus::admits(staff.role);
    let title = format!("{} · {} · {}", lang.t(("Cash", "Caja")), day.post, lang.date(day.today));
    let post = day.post.as_str();
    form_page(req, status, lang, &title, "/staff/cash", |csrf| {
        html! {
            @if let Some(general) = typed.error("form") { p.error role="alert" { (general) } }
            @if !day.posts.is_empty() {
                form method="get" action="/staff/cash" {
                    label for="post" { (lang.t(("Post", "Sede"))) }
                    select #post name="post" {
                        @for (code, name) in &day.posts {
                            option value=(code) selected[code == post] { (name) " (" (code) ")" }
                        }
                    }
                    button type="submit" { (lang.t(("Show this post", "Mostrar esta sede"))) }
                }
            }
            h2 { (lang.t(("Exchange rate", "Tipo de cambio"))) }
            @if let Some(rate) = day.rate {
                p #rate { (crate::fees::money::format_rate(rate)) " MXN = 1 USD" }
            } @else {
                p #rate { (lang.t(("No rate for today yet: payments in pesos wait for one.", "Aún no hay tipo de cambio de hoy: los pagos en pesos lo esperan."))) }
            }
            @if supervisor {
                form method="post" action="/staff/cash/rate" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="post" value=(post);
                    label for="rate_value" { (lang.t(("Pesos per US dollar (e.g. 17.25 or 17,25)", "Pesos por dólar (p. ej. 17.25 o 17,25)"))) }
                    @if let Some(error) = typed.error("rate") {
                        p.error #rate-error { (error) }
                        input #rate_value name="rate" type="text" inputmode="decimal" maxlength="16" value=(typed.rate) aria-invalid="true" aria-describedby="rate-error" required;
                    } @else {
                        input #rate_value name="rate" type="text" inputmode="decimal" maxlength="16" value=(typed.rate) required;
                    }
                    button type="submit" { (lang.t(("Set today's rate", "Fijar el tipo de cambio de hoy"))) }
                }
            }
            h2 { (lang.t(("Today's cash closes", "Cortes de caja de hoy"))) }
            @if day.closes.is_empty() { p { (lang.t(("No count yet.", "Aún no hay conteos."))) } }
            @for close in &day.closes {
                (close_section(lang, csrf, post, close, supervisor && close.clerk != staff.username))
            }
            h2 { (lang.t(("My count", "Mi conteo"))) }
            form method="post" action="/staff/cash/count" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(post);
                table {
                    caption.visually-hidden { (lang.t(("My count", "Mi conteo"))) }
                    thead { tr {
                        th scope="col" { (lang.t(("Method", "Forma de pago"))) }
                        th.amount scope="col" { (lang.t(("Expected", "Esperado"))) }
                        th scope="col" { (lang.t(("Counted", "Contado"))) }
                    } }
                    tbody {
                        @for (i, (method, currency, name)) in COUNTED.iter().enumerate() {
                            @let error = typed.error(name).map(str::to_string).or_else(|| {
                                typed.differing.iter().find(|d| d.method == *method && d.amount_cents != 0).map(|d| {
                                    format!("{} {}", lang.t(("Differs from the receipts by", "Difiere de los recibos en")), amount(lang, d.amount_cents, *currency)) + lang.t((": explain it below.", ": explíquelo abajo."))
                                })
                            });
                            @let error_id = format!("{name}-error");
                            tr {
                                th scope="row" { label for=(name) { (method_name(lang, *method, *currency)) } }
                                td.amount { (amount(lang, of(&day.mine, *method, *currency), *currency)) }
                                td {
                                    @let value = if typed.counted[i].is_empty() { "0" } else { typed.counted[i].as_str() };
                                    @if let Some(error) = &error {
                                        input id=(name) name=(name) type="text" inputmode="decimal" maxlength="16" value=(value) aria-invalid="true" aria-describedby=(error_id);
                                        p.error id=(error_id) { (error) }
                                    } @else {
                                        input id=(name) name=(name) type="text" inputmode="decimal" maxlength="16" value=(value);
                                    }
                                }
                            }
                        }
                    }
                }
                label for="explanation" { (lang.t(("Explanation, if the count differs", "Explicación, si el conteo difiere"))) }
                @if let Some(error) = typed.error("explanation") {
                    p.error #explanation-error { (error) }
                    input #explanation.wide name="explanation" type="text" maxlength="500" value=(typed.explanation) aria-invalid="true" aria-describedby="explanation-error";
                } @else {
                    input #explanation.wide name="explanation" type="text" maxlength="500" value=(typed.explanation);
                }
                button type="submit" { (lang.t(("Submit my count", "Enviar mi conteo"))) }
            }
            (sign_out_button(lang, csrf))
        }
    })
}

/// One clerk's count: each line's expected, counted and difference, and what may be done.
fn close_section(lang: Lang, csrf: &str, post: &str, close: &CloseoutView, may_sign: bool) -> Markup {
    let time = close.submitted.format("%H:%M").to_string();
    html! {
        section.notice id={ "close-" (close.id) } {
            h3 { (close.clerk) " · " (time)
                @if close.replaced_by.is_some() { " · " (lang.t(("Replaced by a recount", "Reemplazado por un nuevo conteo"))) }
            }
            table {
                caption.visually-hidden { (lang.t(("Count of", "Conteo de"))) " " (close.clerk) " " (time) }
                thead { tr {
                    th scope="col" { (lang.t(("Method", "Forma de pago"))) }
                    th.amount scope="col" { (lang.t(("Expected", "Esperado"))) }
                    th.amount scope="col" { (lang.t(("Counted", "Contado"))) }
                    th.amount scope="col" { (lang.t(("Difference", "Diferencia"))) }
                } }
                tbody {
                    @for d in &close.differences {
                        tr {
                            th scope="row" { (method_name(lang, d.method, d.currency)) }
                            td.amount { (amount(lang, of(&close.expected, d.method, d.currency), d.currency)) }
                            td.amount { (amount(lang, of(&close.counted, d.method, d.currency), d.currency)) }
                            td.amount { (amount(lang, d.amount_cents, d.currency)) }
                        }
                    }
                }
            }
            @if close.differences.is_empty() { p { (lang.t(("No receipts and nothing counted.", "Sin recibos y nada contado."))) } }
            @if let Some(explanation) = &close.explanation {
                p { strong { (lang.t(("Explanation", "Explicación"))) ": " } (explanation) }
            }
            @if let Some(by) = &close.signed_by {
                p { (lang.t(("Signed by", "Firmado por"))) " " (by)
                    @if let Some(at) = &close.signed { " · " (at.format("%H:%M")) } }
            } @else if close.replaced_by.is_some() {
                p { (lang.t(("A later count replaced this one: it is kept, not signed.", "Un conteo posterior reemplazó a este: se conserva, no se firma."))) }
            } @else if may_sign {
                form method="post" action={ "/staff/cash/closes/" (close.id) "/sign" } {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="post" value=(post);
                    button type="submit" { (lang.t(("Sign this close", "Firmar este corte"))) " (" (close.clerk) ")" }
                }
            }
            p { a href={ "/staff/cash/closes/" (close.id) "/sheet.pdf?post=" (post) } {
                (lang.t(("Print the close sheet (PDF)", "Imprimir la hoja de corte (PDF)")))
                span.visually-hidden { " " (close.clerk) " " (time) }
            } }
        }
    }
}

/// The post's local today, its rate and its closes; a staff member bound to a post sees it,
/// one bound to none picks the post.
#[get("/staff/cash")]
pub async fn cash(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<ClerkPlus>,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    match load_day(&state, &staff.member, query.into_inner().post).await {
        Ok(day) => Ok(cash_page(&req, StatusCode::OK, lang, &staff.member, &day, &Typed::default())),
        Err(e) => refused(&req, lang, e),
    }
}

/// The page again after a refused form: what was typed, the errors beside their fields.
async fn again(
    state: &AppState,
    req: &HttpRequest,
    lang: Lang,
    staff: &crate::auth::StaffMember,
    post: String,
    status: StatusCode,
    typed: Typed,
) -> Result<HttpResponse, HttpError> {
    match load_day(state, staff, Some(post)).await {
        Ok(day) => Ok(cash_page(req, status, lang, staff, &day, &typed)),
        Err(e) => refused(req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct RateForm {
    csrf: String,
    post: String,
    rate: String,
}

const RATE_WORDS: Text = (
    "The rate is a number of pesos per dollar, such as 17.25 or 17,2538.",
    "El tipo de cambio es un número de pesos por dólar, como 17.25 o 17,2538.",
);
const RATE_RANGE: Text =
    ("The rate must be between 0.000001 and 1000.", "El tipo de cambio debe estar entre 0.000001 y 1000.");

#[post("/staff/cash/rate")]
pub async fn set_rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: StaffPage<SupervisorPlus>,
    form: CsrfForm<RateForm>,
) -> Result<HttpResponse, HttpError> {
    let (lang, supervisor) = (page.lang, &page.member);
    let RateForm { post, rate, .. } = form.into_inner();
    let post = crate::reference::normalise_post(&post);
    let said_back = |words: Text| Typed {
        rate: rate.clone(),
        errors: vec![("rate", lang.t(words).to_string())],
        ..Typed::default()
    };
    let Some(rate_micros) = numbers::rate_micros(&rate) else {
        return again(
            &state,
            &req,
            lang,
            supervisor,
            post,
            StatusCode::UNPROCESSABLE_ENTITY,
            said_back(RATE_WORDS),
        )
        .await;
    };
    if !(1..=crate::fees::rates::MAX_RATE_MICROS).contains(&rate_micros) {
        return again(
            &state,
            &req,
            lang,
            supervisor,
            post,
            StatusCode::UNPROCESSABLE_ENTITY,
            said_back(RATE_RANGE),
        )
        .await;
    }
    let (actor, at) = (Actor::Staff(supervisor.clone()), post.clone());
    let request = RateRequest { currency: Currency::Mxn, rate_micros };
    let now = state.clock.naive();
    let done = state
        .db(move |conn| {
            let today = calendar::local_date(now, calendar::post_zone(conn, &at)?);
            rates::set(conn, &actor, &at, today, &request, now)
        })
        .await;
    match done {
        Ok(_) => Ok(redirect(&cash_path(supervisor, &post))),
        Err(e) if e.code() == Code::RateInUse => {
            let words = (
                "Receipts in pesos were issued at today's rate already: it stays.",
                "Ya se emitieron recibos en pesos con el tipo de cambio de hoy: se mantiene.",
            );
            again(&state, &req, lang, supervisor, post, StatusCode::CONFLICT, said_back(words)).await
        }
        Err(AppError::Validation { .. }) => {
            again(
                &state,
                &req,
                lang,
                supervisor,
                post,
                StatusCode::UNPROCESSABLE_ENTITY,
                said_back(RATE_RANGE),
            )
            .await
        }
        Err(e) => refused(&req, lang, e),
    }
}

/// Where the cash page of `post` is for this member (`?post=` only for one bound to none).
fn cash_path(staff: &crate::auth::StaffMember, post: &str) -> String {
    if staff.post.is_some() {
        "/staff/cash".into()
    } else {
        format!("/staff/cash?post={post}")
    }
}

#[derive(Deserialize)]
pub struct CountForm {
    csrf: String,
    post: String,
    cash_usd: String,
    cash_local: String,
    card: String,
    prepaid_online: String,
    explanation: Option<String>,
}

carries_csrf!(RateForm, CountForm);

#[post("/staff/cash/count")]
pub async fn count(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: StaffPage<ClerkPlus>,
    form: CsrfForm<CountForm>,
) -> Result<HttpResponse, HttpError> {
    let (lang, clerk) = (page.lang, &page.member);
    let form = form.into_inner();
    let post = crate::reference::normalise_post(&form.post);
    let mut typed = Typed {
        counted: [form.cash_usd, form.cash_local, form.card, form.prepaid_online],
        explanation: form.explanation.unwrap_or_default(),
        ..Typed::default()
    };
    let mut counted = Vec::new();
    for ((method, currency, name), text) in COUNTED.iter().zip(&typed.counted) {
        let text = if text.trim().is_empty() { "0" } else { text.as_str() };
        match numbers::cents(text) {
            Some(amount_cents) if amount_cents <= 100_000_000_000 => {
                if amount_cents > 0 {
                    counted.push(Tally { method: *method, currency: *currency, amount_cents });
                }
            }
            _ => typed.errors.push((
                name,
                lang.t(("An amount such as 1,234.50 or 1234,50.", "Un importe como 1,234.50 o 1234,50."))
                    .to_string(),
            )),
        }
    }
    if !typed.errors.is_empty() {
        return again(&state, &req, lang, clerk, post, StatusCode::UNPROCESSABLE_ENTITY, typed).await;
    }
    let explanation = Some(typed.explanation.trim().to_string()).filter(|e| !e.is_empty());
    let request = CloseoutRequest { date: None, counted: counted.clone(), explanation };
    let (actor, at, now) = (Actor::Staff(clerk.clone()), post.clone(), state.clock.naive());
    let done = state.db(move |conn| closeouts::submit(conn, &actor, &at, &request, now)).await;
    let errors = match done {
        Ok(_) => return Ok(redirect(&cash_path(clerk, &post))),
        Err(AppError::Validation { errors, .. }) => errors,
        Err(e) => return refused(&req, lang, e),
    };
    for e in errors {
        if e.field == "explanation" && e.rule == Rule::ExplainDifference {
            typed.errors.push((
                "explanation",
                lang.t((
                    "The count differs from the receipts: say why here.",
                    "El conteo difiere de los recibos: explique aquí por qué.",
                ))
                .to_string(),
            ));
        } else if e.field == "explanation" {
            typed.errors.push((
                "explanation",
                lang.t((
                    "Write the explanation in 1 to 500 characters.",
                    "Escriba la explicación en 1 a 500 caracteres.",
                ))
                .to_string(),
            ));
        } else {
            typed.errors.push(("form", lang.rule(&e.rule)));
        }
    }
    // Which lines differ: the day's expected amounts of this clerk against what was typed.
    if let Ok(day) = load_day(&state, clerk, Some(post.clone())).await {
        typed.differing = closeouts::differences(&day.mine, &counted);
        return Ok(cash_page(&req, StatusCode::UNPROCESSABLE_ENTITY, lang, clerk, &day, &typed));
    }
    again(&state, &req, lang, clerk, post, StatusCode::UNPROCESSABLE_ENTITY, typed).await
}

#[post("/staff/cash/closes/{id}/sign")]
pub async fn sign_close(
    state: web::Data<AppState>,
    req: HttpRequest,
    page: StaffPage<SupervisorPlus>,
    id: web::Path<String>,
    form: CsrfForm<PostForm>,
) -> Result<HttpResponse, HttpError> {
    let (lang, supervisor) = (page.lang, &page.member);
    let PostForm { post, .. } = form.into_inner();
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let post = crate::reference::normalise_post(&post);
    let (actor, at, now) = (Actor::Staff(supervisor.clone()), post.clone(), state.clock.naive());
    let done = state.db(move |conn| closeouts::sign(conn, &actor, &at, id, now)).await;
    let words: Text = match done {
        Ok(_) => return Ok(redirect(&cash_path(supervisor, &post))),
        Err(e) => match e.code() {
            Code::CloseReplaced => (
                "A later count replaced that one: sign the latest count.",
                "Un conteo posterior reemplazó a ese: firme el conteo más reciente.",
            ),
            Code::CloseOutdated => (
                "Receipts or voids changed since that count: the clerk counts again.",
                "Cambiaron recibos o anulaciones desde ese conteo: el empleado cuenta de nuevo.",
            ),
            Code::AlreadySigned => ("That day is signed already.", "Ese día ya está firmado."),
            Code::OwnClose => (
                "A supervisor other than the clerk signs the count.",
                "Firma el conteo un supervisor distinto del empleado.",
            ),
            _ => return refused(&req, lang, e),
        },
    };
    let typed = Typed { errors: vec![("form", lang.t(words).to_string())], ..Typed::default() };
    again(&state, &req, lang, supervisor, post, StatusCode::CONFLICT, typed).await
}

#[derive(Deserialize)]
pub struct SheetQuery {
    post: Option<String>,
}

/// A close's sheet (PDF), to keep with the cash; for staff of its post.
#[get("/staff/cash/closes/{id}/sheet.pdf")]
pub async fn close_sheet_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<ClerkPlus>,
    id: web::Path<String>,
    query: web::Query<SheetQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let post = post_of(&staff, query.into_inner().post);
    match crate::pdf::close_sheet::printed(&state.pool, &state.templates, staff.actor(), post, id).await {
        Ok((pdf, name)) => Ok(crate::http::pdf_response(pdf, &name)),
        Err(e) => refused(&req, lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_named_in_each_language() {
        assert_eq!(method_name(Lang::Es, Method::CashLocal, Currency::Mxn), "Efectivo, pesos");
        assert_eq!(method_name(Lang::En, Method::CashUsd, Currency::Usd), "Cash, US dollars");
    }
}
