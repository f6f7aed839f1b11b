//! The day's cash: the exchange rate, each clerk's count, the supervisors' signature.

use super::*;

/// What the cash page's count form asks for: each method in the currency it is counted in.
const COUNTED: [(Method, Currency, &str, Text); 4] = [
    (Method::CashUsd, Currency::Usd, "cash_usd", ("Cash, US dollars (USD)", "Efectivo, dólares (USD)")),
    (Method::CashLocal, Currency::Mxn, "cash_local", ("Cash, Mexican pesos (MXN)", "Efectivo, pesos (MXN)")),
    (Method::Card, Currency::Usd, "card", ("Card (USD)", "Tarjeta (USD)")),
    (Method::PrepaidOnline, Currency::Usd, "prepaid_online", ("Paid online (USD)", "Pagado en línea (USD)")),
];

/// The post's local today, its rate and its closes; a staff member bound to a post sees it.
#[get("/staff/cash")]
pub async fn cash(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<BoardQuery>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let staff = match member::<ClerkPlus>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    let post = post_of(&staff, query.into_inner().post);
    let actor = staff.actor();
    let (post_code, found) = (post.clone(), {
        let post = post.clone();
        state
            .db(move |conn| {
                let today = calendar::local_date(now, calendar::post_zone(conn, &post)?);
                let rate = match rates::show(conn, &actor, &post, today) {
                    Ok(rate) => Some(rate),
                    Err(e) if e.code() == Code::NotFound => None,
                    Err(e) => return Err(e),
                };
                Ok((today, rate, closeouts::list(conn, &actor, &post, today)?))
            })
            .await
    });
    let (today, rate, closes) = match found {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    let supervisor = SupervisorPlus::admits(staff.role);
    let title = format!("{} · {} · {}", lang.t(("Cash", "Caja")), post_code, lang.date(today));
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff/cash", |csrf| {
        html! {
            h2 { (lang.t(("Exchange rate", "Tipo de cambio"))) }
            @if let Some(rate) = &rate {
                p #rate { (crate::fees::money::format_rate(rate.rate_micros)) " MXN = 1 USD" }
            } @else {
                p #rate { (lang.t(("No rate for today yet: payments in pesos wait for one.", "Aún no hay tipo de cambio de hoy: los pagos en pesos lo esperan."))) }
            }
            @if supervisor {
                form method="post" action="/staff/cash/rate" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="post" value=(post_code);
                    label for="rate_value" { (lang.t(("Pesos per US dollar (e.g. 17.25)", "Pesos por dólar (p. ej. 17.25)"))) }
                    input #rate_value name="rate" type="text" inputmode="decimal" maxlength="16" required;
                    button type="submit" { (lang.t(("Set today's rate", "Fijar el tipo de cambio de hoy"))) }
                }
            }
            h2 { (lang.t(("Today's cash closes", "Cortes de caja de hoy"))) }
            @if closes.is_empty() { p { (lang.t(("No count yet.", "Aún no hay conteos."))) } }
            @for close in &closes {
                section.notice {
                    p { strong { (close.clerk) } " · " (close.submitted_at.get(11..16).unwrap_or("")) }
                    ul {
                        @for d in &close.differences {
                            li { (d.method.as_str()) " " (d.currency.as_str()) ": " (format_cents(d.amount_cents)) }
                        }
                    }
                    @if let Some(explanation) = &close.explanation { p { (explanation) } }
                    @if let Some(by) = &close.signed_by {
                        p { (lang.t(("Signed by", "Firmado por"))) " " (by) }
                    } @else if supervisor {
                        form method="post" action={ "/staff/cash/closes/" (close.id) "/sign" } {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="post" value=(post_code);
                            button type="submit" { (lang.t(("Sign this close", "Firmar este corte"))) " (" (close.clerk) ")" }
                        }
                    }
                }
            }
            h2 { (lang.t(("My count", "Mi conteo"))) }
            form method="post" action="/staff/cash/count" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="post" value=(post_code);
                @for (_, _, name, label) in &COUNTED {
                    label for=(name) { (lang.t(*label)) }
                    input id=(name) name=(name) type="text" inputmode="decimal" maxlength="16" value="0";
                }
                label for="explanation" { (lang.t(("Explanation, if the count differs", "Explicación, si el conteo difiere"))) }
                input #explanation name="explanation" type="text" maxlength="500";
                button type="submit" { (lang.t(("Submit my count", "Enviar mi conteo"))) }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct RateForm {
    csrf: String,
    post: String,
    rate: String,
}

#[post("/staff/cash/rate")]
pub async fn set_rate(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<RateForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let supervisor = match member::<SupervisorPlus>(&state, &req).await {
        Ok(supervisor) => supervisor,
        Err(page) => return Ok(page),
    };
    let RateForm { csrf, post, rate } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let Some(rate_micros) = numbers::rate_micros(&rate) else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t(("The rate is a number such as 17.25.", "El tipo de cambio es un número como 17.25.")),
        ));
    };
    let (actor, post) = (supervisor.actor(), crate::reference::normalise_post(&post));
    let request = RateRequest { currency: Currency::Mxn, rate_micros };
    let done = state
        .db(move |conn| {
            let today = calendar::local_date(now, calendar::post_zone(conn, &post)?);
            rates::set(conn, &actor, &post, today, &request, now)
        })
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/cash")),
        Err(e) => refused(&req, lang, e),
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

#[post("/staff/cash/count")]
pub async fn count(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<CountForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) {
        return Ok(expired(&req, lang));
    }
    let typed = [&form.cash_usd, &form.cash_local, &form.card, &form.prepaid_online];
    let mut counted = Vec::new();
    for ((method, currency, _, label), text) in COUNTED.iter().zip(typed) {
        let Some(amount_cents) = numbers::cents(text) else {
            let said_text = format!(
                "{}: {}",
                lang.t(*label),
                lang.t(("an amount such as 1,234.50", "un importe como 1,234.50"))
            );
            return Ok(said(&req, StatusCode::UNPROCESSABLE_ENTITY, lang, &said_text));
        };
        if amount_cents > 0 {
            counted.push(Tally { method: *method, currency: *currency, amount_cents });
        }
    }
    let request = CloseoutRequest {
        date: None,
        counted,
        explanation: form.explanation.filter(|e| !e.trim().is_empty()),
    };
    let (actor, post) = (clerk.actor(), crate::reference::normalise_post(&form.post));
    let done = state.db(move |conn| closeouts::submit(conn, &actor, &post, &request, now)).await;
    match done {
        Ok(_) => Ok(redirect("/staff/cash")),
        Err(e) => refused(&req, lang, e),
    }
}

#[post("/staff/cash/closes/{id}/sign")]
pub async fn sign_close(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    form: web::Form<PostForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let supervisor = match member::<SupervisorPlus>(&state, &req).await {
        Ok(supervisor) => supervisor,
        Err(page) => return Ok(page),
    };
    let PostForm { csrf, post } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let (actor, post) = (supervisor.actor(), crate::reference::normalise_post(&post));
    let done = state.db(move |conn| closeouts::sign(conn, &actor, &post, id, now)).await;
    match done {
        Ok(_) => Ok(redirect("/staff/cash")),
        Err(e) => refused(&req, lang, e),
    }
}
