//! Recording a fee: the form (every method with what it needs, the payer), its review (lines,
//! total, and for pesos the amount to collect at today's rate) and, for a fee the visit was
//! charged before, the confirmation; then the receipt page with its PDF, and voiding it
//! (a supervisor who did not collect it).

use super::*;
use crate::fees::money::Money;
use crate::fees::pricing::NoFeeBasis;
use crate::fees::receipts::{Charged, Preview};
use crate::http::HttpError;
use crate::rule::Rule;
use crate::web::extract::{CsrfForm, StaffPage};
use crate::web::typed::Typed;

/// The methods as the pages name them, in the order the form offers them.
pub(crate) const METHODS: [(Method, Text); 5] = [
    (Method::CashUsd, ("Cash, US dollars", "Efectivo, dólares")),
    (Method::CashLocal, ("Cash, Mexican pesos", "Efectivo, pesos mexicanos")),
    (Method::Card, ("Card", "Tarjeta")),
    (Method::PrepaidOnline, ("Paid online in advance", "Pagado en línea por adelantado")),
    (Method::NoFee, ("No fee", "Sin costo")),
];

/// The fixed list of no-fee bases, as the pages name them.
pub(crate) const BASES: [(NoFeeBasis, Text); 4] = [
    (
        NoFeeBasis::Ds3053ParentalConsent,
        ("DS-3053 statement of parental consent", "Consentimiento de los padres DS-3053"),
    ),
    (
        NoFeeBasis::FederalBenefits,
        ("Documents for US federal benefits", "Documentos para beneficios federales de EE. UU."),
    ),
    (
        NoFeeBasis::UsGovernmentBusiness,
        ("Official US government business", "Asunto oficial del gobierno de EE. UU."),
    ),
    (
        NoFeeBasis::PassportCorrectionWithinOneYear,
        (
            "Passport correction within one year of issue",
            "Corrección de pasaporte dentro del año de expedición",
        ),
    ),
];

/// A method's name in `lang`.
pub(crate) fn method_name(lang: Lang, method: Method) -> &'static str {
    METHODS.iter().find(|(m, _)| *m == method).map_or(method.as_str(), |(_, text)| lang.t(*text))
}

/// A no-fee basis's name in `lang`.
pub(crate) fn basis_name(lang: Lang, basis: NoFeeBasis) -> &'static str {
    BASES.iter().find(|(b, _)| *b == basis).map_or(basis.as_str(), |(_, text)| lang.t(*text))
}

/// `US$165.00` / `165.00 USD`.
pub(crate) fn amount(lang: Lang, money: Money) -> String {
    lang.money(money.amount_cents, money.currency.as_str())
}

/// The way back to the member's start page: the day board for the window's roles.
pub(crate) fn back_link(lang: Lang, role: Role) -> Markup {
    let start = crate::web::layout::start_page(role);
    let words = if start == "/staff" {
        ("Back to the day board", "Volver al tablero del día")
    } else {
        ("Back to your start page", "Volver a su página de inicio")
    };
    html! { a href=(start) { (lang.t(words)) } }
}

/// How many fee lines the form offers.
const LINES: usize = 3;

/// What the form sent, read into a fee request; or each input's error, in `lang`.
fn read(lang: Lang, typed: &Typed, reference: &str) -> Result<FeeRequest, Vec<(String, String)>> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let mut items = Vec::new();
    for n in 1..=LINES {
        let Some(code) = typed.given(&format!("fee_{n}")) else {
            if n == 1 {
                errors.push(("fee_1".into(), lang.t(("Choose a fee.", "Elija un concepto.")).into()));
            }
            continue;
        };
        let raw = typed.get(&format!("quantity_{n}")).trim().to_string();
        let quantity = if raw.is_empty() { Some(1) } else { raw.parse::<u32>().ok() };
        match quantity {
            Some(quantity) => items.push(ItemInput { fee_code: code.trim().to_string(), quantity }),
            None => errors.push((format!("quantity_{n}"), lang.rule(&Rule::NotAWholeNumber))),
        }
    }
    let method = Method::parse(typed.get("method"));
    if method.is_none() {
        errors.push(("method".into(), lang.t(("Choose how it is paid.", "Elija la forma de pago.")).into()));
    }
    let basis_text = typed.get("no_fee_basis");
    let basis = BASES.iter().map(|(b, _)| *b).find(|b| b.as_str() == basis_text);
    if method == Some(Method::NoFee) && !basis_text.is_empty() && basis.is_none() {
        errors.push(("no_fee_basis".into(), lang.rule(&Rule::NotAChoice)));
    }
    let (Some(method), true) = (method, errors.is_empty()) else {
        return Err(errors);
    };
    Ok(FeeRequest {
        appointment_reference: Some(reference.to_string()),
        tracking_number: None,
        items,
        payment: PaymentInput {
            method,
            // Each method reads only what it needs: a reference typed before the method was
            // changed to card is not held against it.
            external_reference: typed
                .given("external_reference")
                .map(|r| r.trim().to_string())
                .filter(|_| method == Method::PrepaidOnline),
            no_fee_basis: basis.filter(|_| method == Method::NoFee),
        },
        payer: typed.given("payer").map(|p| p.trim().to_string()),
        confirm_repeat: typed.get("confirm_repeat") == "1",
    })
}

/// The input a rule's field belongs on (`items[1].quantity` is `quantity_2`: `rows` are the
/// line numbers of the items sent, in order).
fn input_of(field: &str, rows: &[usize]) -> String {
    if let Some(rest) = field.strip_prefix("items[") {
        if let Some((index, tail)) = rest.split_once(']') {
            let row = index.parse::<usize>().ok().and_then(|i| rows.get(i).copied()).unwrap_or(1);
            let name = if tail.ends_with("quantity") { "quantity" } else { "fee" };
            return format!("{name}_{row}");
        }
    }
    match field {
        "items" => "fee_1",
        "payment.method" => "method",
        "payment.external_reference" => "external_reference",
        "payment.no_fee_basis" => "no_fee_basis",
        "payer" => "payer",
        _ => "form",
    }
    .to_string()
}

/// A rule's words as the clerk reads them, in `lang`, without the API's names.
fn said_by_rule(lang: Lang, rule: &Rule) -> String {
    let text: Option<Text> = match rule {
        Rule::NoFeeInForce => Some(("Is not a fee in force today.", "No es un concepto vigente hoy.")),
        Rule::FeeListedTwice => Some((
            "This fee is listed twice: give it once, with its quantity.",
            "Este concepto aparece dos veces: indíquelo una vez, con su cantidad.",
        )),
        Rule::NoFeeNeedsBasis => Some(("Choose why no fee is charged.", "Elija por qué no se cobra.")),
        Rule::OnlinePaymentNeedsReference => {
            Some(("Type the online payment's reference.", "Escriba la referencia del pago en línea."))
        }
        Rule::PaymentReference => Some((
            "Must be 4 to 64 letters, digits, dots, dashes or underscores.",
            "Debe tener de 4 a 64 letras, dígitos, puntos, guiones o guiones bajos.",
        )),
        Rule::NothingToPay => Some((
            "Nothing to pay: choose No fee, and why.",
            "No hay nada que cobrar: elija Sin costo, y por qué.",
        )),
        Rule::FeeCount { .. } => Some(("Choose a fee.", "Elija un concepto.")),
        _ => None,
    };
    text.map_or_else(|| lang.rule(rule), |t| lang.t(t).to_string())
}

/// A refusal of the fee as the form shows it: each error beside its input (`form` for the
/// form as a whole), and the page's status. `None` for what is no form's error (404, 403).
fn placed(lang: Lang, e: &AppError, rows: &[usize]) -> Option<(StatusCode, Vec<(String, String)>)> {
    let one = |input: &str, text: Text| vec![(input.to_string(), lang.t(text).to_string())];
    let errors = match e {
        AppError::Validation { errors, .. } => {
            errors.iter().map(|f| (input_of(&f.field, rows), said_by_rule(lang, &f.rule))).collect()
        }
        e => match e.code() {
            Code::NoExchangeRate => one(
                "method",
                (
                    "No exchange rate is set for today: a supervisor sets it on the Cash page before pesos are taken.",
                    "No hay tipo de cambio para hoy: un supervisor lo fija en la página de Caja antes de cobrar en pesos.",
                ),
            ),
            Code::PaymentReferenceUsed => one(
                "external_reference",
                ("That payment reference is on another receipt already.", "Esa referencia de pago ya está en otro recibo."),
            ),
            Code::VisitPassed => one(
                "form",
                ("The visit's day is over: its fees can't be recorded now.", "El día de la visita ya pasó: ya no se registran sus pagos."),
            ),
            Code::NotActive => {
                one("form", ("A cancelled visit takes no fees.", "Una visita cancelada no lleva pagos."))
            }
            Code::DayClosed => one(
                "form",
                ("Your cash close for today is signed: no more receipts today.", "Su corte de caja de hoy está firmado: ya no se emiten recibos hoy."),
            ),
            _ => return None,
        },
    };
    let status = if matches!(e, AppError::Validation { .. }) {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CONFLICT
    };
    Some((status, errors))
}

/// The line numbers the form's items came from, in order.
fn sent_rows(typed: &Typed) -> Vec<usize> {
    (1..=LINES).filter(|n| typed.given(&format!("fee_{n}")).is_some()).collect()
}

/// The fee form's state: what was typed and each input's error.
struct Filled<'a> {
    typed: &'a Typed,
    errors: &'a [(String, String)],
}

impl Filled<'_> {
    fn error(&self, input: &str) -> Option<&str> {
        self.errors.iter().find(|(i, _)| i == input).map(|(_, e)| e.as_str())
    }

    /// `aria-describedby` and `aria-invalid` for `input`, with its error above it.
    fn described(&self, input: &str, hint: Option<&str>) -> (Option<String>, Option<&'static str>, Markup) {
        let error = self.error(input);
        let ids: Vec<String> =
            error.map(|_| format!("{input}-error")).into_iter().chain(hint.map(String::from)).collect();
        let described = (!ids.is_empty()).then(|| ids.join(" "));
        let shown = html! { @if let Some(e) = error { p.error id={ (input) "-error" } { (e) } } };
        (described, error.map(|_| "true"), shown)
    }
}

/// The fee form, filled with what was typed and its errors.
fn fee_form_markup(
    lang: Lang,
    csrf: &str,
    reference: &str,
    fees: &[crate::reference::Fee],
    filled: &Filled,
) -> Markup {
    let typed = filled.typed;
    html! {
        @if let Some(e) = filled.error("form") { p.error role="alert" id="form-error" { (e) } }
        @else if !filled.errors.is_empty() {
            p.error role="alert" { (lang.t(("Please correct the fields marked below.", "Corrija los datos señalados abajo."))) }
        }
        form method="post" action={ "/staff/visits/" (reference) "/fee" } novalidate {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name=(once::FIELD) value=(typed.get(once::FIELD));
            @for n in 1..=LINES {
                @let fee = format!("fee_{n}");
                @let quantity = format!("quantity_{n}");
                @let chosen = typed.get(&fee);
                fieldset {
                    legend { (lang.t(("Fee", "Concepto"))) " " (n) @if n > 1 { " " (lang.t(("(optional)", "(opcional)"))) } }
                    div {
                        @let (described, invalid, shown) = filled.described(&fee, None);
                        label for=(fee) { (lang.t(("Fee", "Concepto"))) }
                        (shown)
                        select id=(fee) name=(fee) aria-invalid=[invalid] aria-describedby=[described] {
                            @if n > 1 { option value="" { "—" } }
                            @for f in fees {
                                option value=(f.code) selected[f.code == chosen] { (f.description) " · " (lang.money(f.amount_cents, &f.currency)) }
                            }
                        }
                    }
                    div {
                        @let (described, invalid, shown) = filled.described(&quantity, None);
                        label for=(quantity) { (lang.t(("Quantity", "Cantidad"))) }
                        (shown)
                        @let value = if typed.get(&quantity).is_empty() { "1" } else { typed.get(&quantity) };
                        input id=(quantity) name=(quantity) type="text" inputmode="numeric" maxlength="3" value=(value)
                            aria-invalid=[invalid] aria-describedby=[described];
                    }
                }
            }
            fieldset {
                legend { (lang.t(("Payment", "Pago"))) }
                div {
                    @let (described, invalid, shown) = filled.described("method", None);
                    label for="method" { (lang.t(("How it is paid", "Forma de pago"))) }
                    (shown)
                    select #method name="method" aria-invalid=[invalid] aria-describedby=[described] {
                        @for (method, text) in &METHODS {
                            option value=(method.as_str()) selected[method.as_str() == typed.get("method")] { (lang.t(*text)) }
                        }
                    }
                }
                div {
                    @let (described, invalid, shown) = filled.described("external_reference", Some("external_reference-hint"));
                    label for="external_reference" { (lang.t(("Online payment reference", "Referencia del pago en línea"))) }
                    p #external_reference-hint { (lang.t(("Only for a fee paid online in advance.", "Solo para un pago hecho en línea por adelantado."))) }
                    (shown)
                    input #external_reference name="external_reference" type="text" maxlength="64" autocomplete="off"
                        value=(typed.get("external_reference")) aria-invalid=[invalid] aria-describedby=[described];
                }
                div {
                    @let (described, invalid, shown) = filled.described("no_fee_basis", Some("no_fee_basis-hint"));
                    label for="no_fee_basis" { (lang.t(("Why no fee is charged", "Por qué no se cobra"))) }
                    p #no_fee_basis-hint { (lang.t(("Only for No fee.", "Solo para Sin costo."))) }
                    (shown)
                    select #no_fee_basis name="no_fee_basis" aria-invalid=[invalid] aria-describedby=[described] {
                        option value="" { "—" }
                        @for (basis, text) in &BASES {
                            option value=(basis.as_str()) selected[basis.as_str() == typed.get("no_fee_basis")] { (lang.t(*text)) }
                        }
                    }
                }
            }
            div {
                @let (described, invalid, shown) = filled.described("payer", Some("payer-hint"));
                label for="payer" { (lang.t(("Payer", "Pagador"))) }
                p #payer-hint { (lang.t(("As printed on the receipt; the visit's first person when left blank.", "Como se imprime en el recibo; la primera persona de la visita si se deja en blanco."))) }
                (shown)
                input.wide #payer name="payer" type="text" maxlength="200" autocomplete="off"
                    value=(typed.get("payer")) aria-invalid=[invalid] aria-describedby=[described];
            }
            button type="submit" name="step" value="review" { (lang.t(("Review the fee", "Revisar el pago"))) }
        }
        p { a href={ "/staff/visits/" (reference) } { (lang.t(("Back to the visit", "Volver a la visita"))) } }
    }
}

/// The fees in force at the visit's post today, the visit's first person, or the refusal.
async fn form_context(
    state: &AppState,
    actor: Actor,
    reference: Reference,
) -> Result<(Vec<crate::reference::Fee>, String), AppError> {
    let now = state.clock.naive();
    state
        .db(move |conn| {
            let visit = crate::window::visits::show(conn, &actor, &reference)?;
            let today = calendar::local_date(now, calendar::post_zone(conn, &visit.post)?);
            let first = visit
                .applicants
                .first()
                .map(|p| format!("{} {}", p.given_names, p.surname))
                .unwrap_or_default();
            Ok((crate::reference::fees_on(conn, today)?, first))
        })
        .await
}

fn not_found(req: &HttpRequest, lang: Lang) -> HttpResponse {
    said(req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró.")))
}

/// The form page, as first shown or sent back with `errors`.
fn fee_page(
    req: &HttpRequest,
    status: StatusCode,
    lang: Lang,
    reference: &str,
    fees: &[crate::reference::Fee],
    typed: &Typed,
    errors: &[(String, String)],
) -> HttpResponse {
    let title = format!("{} · {}", lang.t(("Record a fee", "Registrar un pago")), reference);
    let path = format!("/staff/visits/{reference}/fee");
    form_page(req, status, lang, &title, &path, |csrf| {
        fee_form_markup(lang, csrf, reference, fees, &Filled { typed, errors })
    })
}

#[get("/staff/visits/{reference}/fee")]
pub async fn fee_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(not_found(&req, lang));
    };
    let (fees, first) = match form_context(&state, clerk.actor(), parsed.clone()).await {
        Ok(found) => found,
        Err(e) => return refused(&req, lang, e),
    };
    let mut typed = Typed::default();
    typed.set(once::FIELD.into(), once::token());
    typed.set("payer".into(), first);
    Ok(fee_page(&req, StatusCode::OK, lang, parsed.as_str(), &fees, &typed, &[]))
}

/// The review: what the receipt will say, and the form carried on in hidden inputs.
fn review_page(
    req: &HttpRequest,
    lang: Lang,
    typed: &Typed,
    preview: &Preview,
    method: Method,
) -> HttpResponse {
    let reference = &preview.reference;
    let title = format!("{} · {}", lang.t(("Review the fee", "Revisar el pago")), reference);
    let path = format!("/staff/visits/{reference}/fee");
    let repeat = !preview.charged.is_empty();
    let carried: Vec<&str> = [
        "once",
        "fee_1",
        "quantity_1",
        "fee_2",
        "quantity_2",
        "fee_3",
        "quantity_3",
        "method",
        "external_reference",
        "no_fee_basis",
        "payer",
    ]
    .to_vec();
    form_page(req, StatusCode::OK, lang, &title, &path, |csrf| {
        html! {
            @if repeat {
                div.notice role="alert" #repeat {
                    p { strong { (lang.t(("Already charged to this visit:", "Ya se cobró a esta visita:"))) } }
                    ul { @for Charged { fee_code, receipt_number } in &preview.charged {
                        li { (description(preview, fee_code)) " · " a href={ "/staff/receipts/" (receipt_number) } { (receipt_number) } }
                    } }
                    p { (lang.t(("Confirm only if it is charged again on purpose.", "Confirme solo si se cobra otra vez a propósito."))) }
                }
            }
            table #review {
                caption { (lang.t(("What the receipt will charge", "Lo que cobrará el recibo"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Fee", "Concepto"))) }
                    th scope="col" { (lang.t(("Quantity", "Cantidad"))) }
                    th scope="col" { (lang.t(("Unit", "Unitario"))) }
                    th scope="col" { (lang.t(("Amount", "Importe"))) }
                } }
                tbody { @for line in &preview.items { tr {
                    td { (line.description) }
                    td { (line.quantity) }
                    td { (amount(lang, line.unit)) }
                    td { (amount(lang, line.amount)) }
                } } }
                tfoot { tr {
                    th scope="row" colspan="3" { (lang.t(("Total", "Total"))) }
                    td #review-total { (amount(lang, preview.total)) }
                } }
            }
            dl {
                dt { (lang.t(("Payment", "Pago"))) } dd #review-method { (method_name(lang, method)) }
                @if let (Some(local), Some(rate)) = (preview.local_amount, preview.rate_micros) {
                    dt { (lang.t(("To collect in pesos", "A cobrar en pesos"))) }
                    dd #pesos { strong { (amount(lang, local)) } " (" (format_rate_short(rate)) " " (lang.t(("pesos per US dollar, today's rate", "pesos por dólar, tipo de cambio de hoy"))) ")" }
                }
                @if let Some(r) = typed.given("external_reference").filter(|_| method == Method::PrepaidOnline) {
                    dt { (lang.t(("Online payment reference", "Referencia del pago en línea"))) } dd { (r) }
                }
                @if let Some(basis) = BASES.iter().find(|(b, _)| b.as_str() == typed.get("no_fee_basis")).filter(|_| method == Method::NoFee) {
                    dt { (lang.t(("Why no fee is charged", "Por qué no se cobra"))) } dd { (lang.t(basis.1)) }
                }
                dt { (lang.t(("Payer", "Pagador"))) } dd #review-payer { (preview.payer) }
            }
            form method="post" action=(path) {
                input type="hidden" name="csrf" value=(csrf);
                @for name in &carried { input type="hidden" name=(name) value=(typed.get(name)); }
                @if repeat { input type="hidden" name="confirm_repeat" value="1"; }
                button type="submit" name="step" value="confirm" {
                    @if repeat { (lang.t(("Charge it again and issue the receipt", "Cobrarlo otra vez y emitir el recibo"))) }
                    @else { (lang.t(("Confirm and issue the receipt", "Confirmar y emitir el recibo"))) }
                }
                " "
                button type="submit" name="step" value="change" { (lang.t(("Change", "Cambiar"))) }
            }
        }
    })
}

/// A fee code's description on the review, else the code.
fn description<'p>(preview: &'p Preview, code: &'p str) -> &'p str {
    preview.items.iter().find(|l| l.fee_code == code).map_or(code, |l| l.description.as_str())
}

/// `17.25` for 17 250 000 millionths: the rate as people write it.
fn format_rate_short(rate_micros: i64) -> String {
    let full = crate::fees::money::format_rate(rate_micros);
    let trimmed = full.trim_end_matches('0');
    let trimmed = trimmed.strip_suffix('.').map_or(trimmed.to_string(), |t| format!("{t}.00"));
    if trimmed.split_once('.').is_some_and(|(_, f)| f.len() == 1) {
        format!("{trimmed}0")
    } else {
        trimmed
    }
}

/// A fee form as sent, for the page that answers it.
struct Sent<'a> {
    req: &'a HttpRequest,
    lang: Lang,
    reference: Reference,
    typed: &'a Typed,
}

/// The form again with what was typed and `errors` beside their inputs.
async fn back_to_form(
    state: &AppState,
    actor: Actor,
    sent: &Sent<'_>,
    status: StatusCode,
    errors: Vec<(String, String)>,
) -> Result<HttpResponse, HttpError> {
    match form_context(state, actor, sent.reference.clone()).await {
        Ok((fees, _)) => {
            Ok(fee_page(sent.req, status, sent.lang, sent.reference.as_str(), &fees, sent.typed, &errors))
        }
        Err(e) => refused(sent.req, sent.lang, e),
    }
}

/// The fee form sent: `step` is `review` (the default: nothing is issued unseen), `change`
/// (back to the form with what was typed) or `confirm` (the receipt, once per rendering of
/// the form however often it is sent; a fee charged before asks again unless confirmed).
#[post("/staff/visits/{reference}/fee")]
pub async fn record_fee(
    state: web::Data<AppState>,
    req: HttpRequest,
    clerk: StaffPage<ClerkPlus>,
    reference: web::Path<String>,
    form: CsrfForm<FeeSent>,
) -> Result<HttpResponse, HttpError> {
    let lang = clerk.lang;
    let typed = Typed::new(form.into_inner().0);
    if !once::well_formed(typed.get(once::FIELD)) {
        return Ok(expired(&req, lang));
    }
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(not_found(&req, lang));
    };
    let reference = parsed.as_str().to_string();
    let actor = clerk.actor();
    let sent = Sent { req: &req, lang, reference: parsed, typed: &typed };
    let step = typed.get("step").to_string();
    if step == "change" {
        return back_to_form(&state, actor, &sent, StatusCode::OK, Vec::new()).await;
    }
    let request = match read(lang, &typed, &reference) {
        Ok(request) => request,
        Err(errors) => {
            return back_to_form(&state, actor, &sent, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
    };
    let rows = sent_rows(&typed);
    let method = request.payment.method;
    if step == "confirm" {
        let (key, writer, token) =
            (state.receipts.clone(), actor.clone(), typed.get(once::FIELD).to_string());
        let (request, now) = (request.clone(), state.clock.naive());
        let done = state
            .db(move |conn| {
                once::write_once(conn, &writer, &token, now, |c| {
                    let view = receipts::record(c, &key, &writer, &request, now)?;
                    Ok(format!("/staff/receipts/{}", view.receipt_number))
                })
            })
            .await;
        match done {
            Ok(led_to) => return Ok(redirect(&led_to)),
            // Charged meanwhile: the review says so, and asks.
            Err(e) if e.code() == Code::FeeAlreadyCharged => {}
            Err(e) => {
                return match placed(lang, &e, &rows) {
                    Some((status, errors)) => back_to_form(&state, actor, &sent, status, errors).await,
                    None => refused(&req, lang, e),
                }
            }
        }
    }
    let (reader, now) = (actor.clone(), state.clock.naive());
    let previewed = state.db(move |conn| receipts::preview(conn, &reader, &request, now)).await;
    match previewed {
        Ok(preview) => Ok(review_page(&req, lang, &typed, &preview, method)),
        Err(e) => match placed(lang, &e, &rows) {
            Some((status, errors)) => back_to_form(&state, actor, &sent, status, errors).await,
            None => refused(&req, lang, e),
        },
    }
}

#[get("/staff/receipts/{number}")]
pub async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    let (key, actor, wanted) = (state.receipts.clone(), staff.actor(), number.into_inner());
    let found = state
        .db(move |conn| {
            let view = receipts::show(conn, &key, &actor, &wanted)?;
            let may_void = receipts::void_offered(conn, &actor, &wanted)?;
            Ok((view, may_void))
        })
        .await;
    let (view, may_void) = match found {
        Ok(found) => found,
        Err(e) if e.code() == Code::WrongPost => return Ok(not_found(&req, lang)),
        Err(e) => return refused(&req, lang, e),
    };
    let title = format!("{} {}", lang.t(("Receipt", "Recibo")), view.receipt_number);
    let path = format!("/staff/receipts/{}", view.receipt_number);
    let payment = &view.payment;
    Ok(form_page(&req, StatusCode::OK, lang, &title, &path, |csrf| {
        html! {
            @if let Some(voided) = &view.voided {
                p.notice role="status" { strong { (lang.t(("Void", "Anulado"))) } ": " (voided.reason) " (" (voided.voided_by) ")" }
            }
            p { a.button href={ "/staff/receipts/" (view.receipt_number) "/receipt.pdf" } { (lang.t(("Print the receipt (PDF)", "Imprimir el recibo (PDF)"))) } }
            dl {
                dt { (lang.t(("Issued", "Emitido"))) } dd { (lang.date_time(&view.issued_at)) }
                dt { (lang.t(("Visit", "Visita"))) } dd { a href={ "/staff/visits/" (view.reference) } { (view.reference) } }
                dt { (lang.t(("Payer", "Pagador"))) } dd { (view.payer) }
                dt { (lang.t(("Payment", "Pago"))) } dd #method { (method_name(lang, payment.method)) }
                @if let (Some(local), Some(rate)) = (payment.local_amount, payment.rate_micros) {
                    dt { (lang.t(("Paid in pesos", "Pagado en pesos"))) }
                    dd #pesos { (amount(lang, local)) " (" (format_rate_short(rate)) " " (lang.t(("pesos per US dollar", "pesos por dólar"))) ")" }
                }
                @if let Some(r) = &payment.external_reference {
                    dt { (lang.t(("Online payment reference", "Referencia del pago en línea"))) } dd { (r) }
                }
                @if let Some(basis) = payment.no_fee_basis {
                    dt { (lang.t(("Why no fee is charged", "Por qué no se cobra"))) } dd { (basis_name(lang, basis)) }
                }
                dt { (lang.t(("Total", "Total"))) } dd #total { (view.total.currency.as_str()) " " (format_cents(view.total.amount_cents)) }
                dt { (lang.t(("Collected by", "Cobrado por"))) } dd { (view.clerk) }
            }
            table #lines {
                caption { (lang.t(("Fees charged", "Conceptos cobrados"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Fee", "Concepto"))) }
                    th scope="col" { (lang.t(("Quantity", "Cantidad"))) }
                    th scope="col" { (lang.t(("Unit", "Unitario"))) }
                    th scope="col" { (lang.t(("Amount", "Importe"))) }
                } }
                tbody { @for line in &view.items { tr {
                    td { (line.description) }
                    td { (line.quantity) }
                    td { (amount(lang, line.unit)) }
                    td { (amount(lang, line.amount)) }
                } } }
            }
            @if may_void {
                form #void method="post" action={ "/staff/receipts/" (view.receipt_number) "/void" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="reason" { (lang.t(("Reason for voiding", "Motivo de la anulación"))) }
                    input #reason name="reason" type="text" maxlength="500" required;
                    button type="submit" { (lang.t(("Void this receipt", "Anular este recibo"))) }
                }
            }
            p {
                a href={ "/staff/receipts?date=" (view.local_date) } { (lang.t(("The day's receipts", "Los recibos del día"))) }
                " · "
                (back_link(lang, staff.role))
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[get("/staff/receipts/{number}/receipt.pdf")]
pub async fn receipt_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    staff: StaffPage<AnyStaff>,
    number: web::Path<String>,
) -> Result<HttpResponse, HttpError> {
    let lang = staff.lang;
    match crate::pdf::receipt::printed(
        &state.pool,
        &state.receipts,
        &state.templates,
        &state.settings.public_url,
        staff.actor(),
        number.into_inner(),
    )
    .await
    {
        Ok((pdf, name)) => Ok(crate::http::pdf_response(pdf, &name)),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct VoidForm {
    csrf: String,
    reason: String,
}

crate::web::extract::carries_csrf!(VoidForm);

/// The fee form as sent, every input by name (see [`Typed`]).
#[derive(Deserialize)]
#[serde(transparent)]
pub struct FeeSent(Vec<(String, String)>);

impl crate::web::extract::CarriesCsrf for FeeSent {
    fn csrf(&self) -> &str {
        self.0.iter().rev().find(|(name, _)| name == "csrf").map_or("", |(_, value)| value.as_str())
    }
}

#[post("/staff/receipts/{number}/void")]
pub async fn void(
    state: web::Data<AppState>,
    req: HttpRequest,
    supervisor: StaffPage<SupervisorPlus>,
    number: web::Path<String>,
    form: CsrfForm<VoidForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = supervisor.lang;
    let VoidForm { reason, .. } = form.into_inner();
    let (key, actor, number) = (state.receipts.clone(), supervisor.actor(), number.into_inner());
    let back = format!("/staff/receipts/{number}");
    let request = VoidRequest { reason };
    let now = state.clock.naive();
    let done = state.db(move |conn| receipts::void(conn, &key, &actor, &number, &request, now)).await;
    match done {
        Ok(_) => Ok(redirect(&back)),
        Err(e) => refused(&req, lang, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_fields_find_their_inputs_and_rates_read_as_written() {
        assert_eq!(input_of("items[1].quantity", &[1, 3]), "quantity_3");
        assert_eq!(input_of("items[0].fee_code", &[2]), "fee_2");
        assert_eq!(input_of("payment.external_reference", &[1]), "external_reference");
        assert_eq!(input_of("appointment_reference", &[1]), "form");
        assert_eq!(format_rate_short(17_250_000), "17.25");
        assert_eq!(format_rate_short(17_000_000), "17.00");
        assert_eq!(format_rate_short(17_253_800), "17.2538");
    }

    #[test]
    fn each_method_reads_only_what_it_needs() {
        let typed = |pairs: &[(&str, &str)]| {
            Typed::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
        };
        let card = read(
            Lang::En,
            &typed(&[
                ("fee_1", "passport-execution"),
                ("method", "card"),
                ("external_reference", "ABC123"),
                ("no_fee_basis", "federal_benefits"),
            ]),
            "ABC",
        )
        .expect("read");
        assert_eq!((card.payment.external_reference, card.payment.no_fee_basis), (None, None));
        let errors = read(Lang::Es, &typed(&[("quantity_1", "dos"), ("method", "cheque")]), "ABC")
            .expect_err("refused");
        let inputs: Vec<&str> = errors.iter().map(|(i, _)| i.as_str()).collect();
        assert_eq!(inputs, ["fee_1", "method"]);
        let quantity =
            read(Lang::En, &typed(&[("fee_1", "x"), ("quantity_1", "dos"), ("method", "card")]), "A")
                .expect_err("refused");
        assert_eq!(quantity[0].0, "quantity_1");
    }
}
