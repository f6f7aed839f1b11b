//! Recording a fee, the receipt and its PDF, voiding it (supervisors).

use super::*;

const METHODS: [(Method, Text); 4] = [
    (Method::CashUsd, ("Cash, US dollars", "Efectivo, dólares")),
    (Method::CashLocal, ("Cash, Mexican pesos", "Efectivo, pesos mexicanos")),
    (Method::Card, ("Card", "Tarjeta")),
    (Method::PrepaidOnline, ("Paid online in advance", "Pagado en línea por adelantado")),
];

#[get("/staff/visits/{reference}/fee")]
pub async fn fee_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let reference = reference.into_inner();
    let Some(parsed) = Reference::parse(&reference) else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    // The fees in force on the post's date, which is the date the receipt charges.
    let (actor, now) = (clerk.actor(), state.clock.naive());
    let found = state
        .db(move |conn| {
            let visit = crate::window::visits::show(conn, &actor, &parsed)?;
            let today = calendar::today_at(conn, Some(&visit.post), now)?;
            Ok(crate::reference::fees_on(conn, today)?)
        })
        .await;
    let fees = match found {
        Ok(fees) => fees,
        Err(e) => return refused(&req, lang, e),
    };
    let title = format!("{} · {}", lang.t(("Record a fee", "Registrar un pago")), reference);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            form method="post" action={ "/staff/visits/" (reference) "/fee" } {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name=(once::FIELD) value=(once::token());
                @for n in 1..=3 {
                    fieldset {
                        legend { (lang.t(("Fee", "Concepto"))) " " (n) @if n > 1 { " " (lang.t(("(optional)", "(opcional)"))) } }
                        label for={ "fee_" (n) } { (lang.t(("Fee code", "Código"))) }
                        select id={ "fee_" (n) } name={ "fee_" (n) } {
                            @if n > 1 { option value="" { "—" } }
                            @for fee in &fees { option value=(fee.code) { (fee.code) " · " (lang.money(fee.amount_cents, &fee.currency)) } }
                        }
                        label for={ "quantity_" (n) } { (lang.t(("Quantity", "Cantidad"))) }
                        input id={ "quantity_" (n) } name={ "quantity_" (n) } type="number" min="1" max="50" value="1";
                    }
                }
                label for="method" { (lang.t(("Payment", "Forma de pago"))) }
                select #method name="method" {
                    @for (method, text) in &METHODS { option value=(method.as_str()) { (lang.t(*text)) } }
                }
                label for="external_reference" { (lang.t(("Online payment reference (prepaid only)", "Referencia del pago en línea (solo prepago)"))) }
                input #external_reference name="external_reference" type="text" maxlength="64";
                button type="submit" { (lang.t(("Record and print the receipt", "Registrar e imprimir el recibo"))) }
            }
        }
    }))
}

#[derive(Deserialize)]
pub struct FeeForm {
    csrf: String,
    /// One receipt per rendering of the form, however often it is sent.
    #[serde(default)]
    once: String,
    fee_1: String,
    quantity_1: Option<u32>,
    fee_2: Option<String>,
    quantity_2: Option<u32>,
    fee_3: Option<String>,
    quantity_3: Option<u32>,
    method: String,
    external_reference: Option<String>,
}

#[post("/staff/visits/{reference}/fee")]
pub async fn record_fee(
    state: web::Data<AppState>,
    req: HttpRequest,
    reference: web::Path<String>,
    form: web::Form<FeeForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let clerk = match member::<ClerkPlus>(&state, &req).await {
        Ok(clerk) => clerk,
        Err(page) => return Ok(page),
    };
    let form = form.into_inner();
    if !session::csrf_holds(&req, &form.csrf) || !once::well_formed(&form.once) {
        return Ok(expired(&req, lang));
    }
    let items: Vec<ItemInput> = [
        (Some(form.fee_1.clone()), form.quantity_1),
        (form.fee_2.clone(), form.quantity_2),
        (form.fee_3.clone(), form.quantity_3),
    ]
    .into_iter()
    .filter_map(|(code, quantity)| {
        let code = code.filter(|c| !c.is_empty())?;
        Some(ItemInput { fee_code: code, quantity: quantity.unwrap_or(1) })
    })
    .collect();
    let Some(method) = Method::parse(&form.method) else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t(("Choose a payment method.", "Elija una forma de pago.")),
        ));
    };
    let request = FeeRequest {
        appointment_reference: Some(reference.into_inner()),
        tracking_number: None,
        items,
        payment: PaymentInput {
            method,
            external_reference: form.external_reference.filter(|r| !r.trim().is_empty()),
            no_fee_basis: None,
        },
        payer: None,
    };
    let (key, actor, token) = (state.receipts.clone(), clerk.actor(), form.once);
    let done = state
        .db(move |conn| {
            once::write_once(conn, &actor, &token, now, |c| {
                let view = receipts::record(c, &key, &actor, &request, now)?;
                Ok(format!("/staff/receipts/{}", view.receipt_number))
            })
        })
        .await;
    match done {
        Ok(led_to) => Ok(redirect(&led_to)),
        Err(e) => refused(&req, lang, e),
    }
}

#[get("/staff/receipts/{number}")]
pub async fn receipt(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let staff = match member::<AnyStaff>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    let (key, actor, wanted) = (state.receipts.clone(), staff.actor(), number.into_inner());
    let view = match state.db(move |conn| receipts::show(conn, &key, &actor, &wanted)).await {
        Ok(view) => view,
        Err(e) => return refused(&req, lang, e),
    };
    let may_void = SupervisorPlus::admits(staff.role) && view.voided.is_none();
    let title = format!("{} {}", lang.t(("Receipt", "Recibo")), view.receipt_number);
    Ok(form_page(&req, StatusCode::OK, lang, &title, "/staff", |csrf| {
        html! {
            @if let Some(voided) = &view.voided {
                p.notice role="status" { strong { (lang.t(("Void", "Anulado"))) } ": " (voided.reason) " (" (voided.voided_by) ")" }
            }
            dl {
                dt { (lang.t(("Payer", "Pagador"))) } dd { (view.payer) }
                dt { (lang.t(("Visit", "Cita"))) } dd { (view.reference) }
                dt { (lang.t(("Total", "Total"))) } dd #total { (view.total.currency.as_str()) " " (format_cents(view.total.amount_cents)) }
                dt { (lang.t(("Collected by", "Cobrado por"))) } dd { (view.clerk) }
            }
            p { a href={ "/staff/receipts/" (view.receipt_number) "/receipt.pdf" } { (lang.t(("Print the receipt (PDF)", "Imprimir el recibo (PDF)"))) } }
            @if may_void {
                form method="post" action={ "/staff/receipts/" (view.receipt_number) "/void" } {
                    input type="hidden" name="csrf" value=(csrf);
                    label for="reason" { (lang.t(("Reason for voiding", "Motivo de la anulación"))) }
                    input #reason name="reason" type="text" maxlength="500" required;
                    button type="submit" { (lang.t(("Void this receipt", "Anular este recibo"))) }
                }
            }
            p { a href="/staff" { (lang.t(("Back to the day board", "Volver al tablero del día"))) } }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[get("/staff/receipts/{number}/receipt.pdf")]
pub async fn receipt_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let lang = Lang::of(&req);
    let staff = match member::<AnyStaff>(&state, &req).await {
        Ok(staff) => staff,
        Err(page) => return Ok(page),
    };
    match receipts::printed(&state, staff.actor(), number.into_inner()).await {
        Ok((pdf, name)) => Ok(crate::api::fees::pdf_response(pdf, &name)),
        Err(e) => refused(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct VoidForm {
    csrf: String,
    reason: String,
}

#[post("/staff/receipts/{number}/void")]
pub async fn void(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    form: web::Form<VoidForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let supervisor = match member::<SupervisorPlus>(&state, &req).await {
        Ok(supervisor) => supervisor,
        Err(page) => return Ok(page),
    };
    let VoidForm { csrf, reason } = form.into_inner();
    if !session::csrf_holds(&req, &csrf) {
        return Ok(expired(&req, lang));
    }
    let (key, actor, number) = (state.receipts.clone(), supervisor.actor(), number.into_inner());
    let back = format!("/staff/receipts/{number}");
    let request = VoidRequest { reason };
    let done = state.db(move |conn| receipts::void(conn, &key, &actor, &number, &request, now)).await;
    match done {
        Ok(_) => Ok(redirect(&back)),
        Err(e) => refused(&req, lang, e),
    }
}
