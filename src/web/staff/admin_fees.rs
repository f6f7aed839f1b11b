//! The admins' fee schedule: a new version from a later date, and withdrawing one that has
//! taken effect nowhere yet. The schedule applies at every post, so only an admin bound to no
//! post changes it; a post's admin sees it read-only.

use super::*;
use crate::web::extract::{CsrfForm, StaffPage};

/// Why a post's admin can't change the schedule.
const EVERY_POST: Text = (
    "The fee schedule applies at every post: only an admin of every post changes it.",
    "Las tarifas rigen en todas las sedes: solo un administrador de todas las sedes las cambia.",
);

/// An operation's refusal; `wrong_post` here means the admin is bound to a post.
fn fee_refusal(req: &HttpRequest, lang: Lang, e: AppError) -> Result<HttpResponse, AppError> {
    match e.code() {
        Code::WrongPost => Ok(said(req, StatusCode::FORBIDDEN, lang, lang.t(EVERY_POST))),
        _ => refused(req, lang, e),
    }
}

/// The fees in force today, and a form to add a version of a fee from a later date (versions
/// in force are never edited).
#[get("/staff/admin/fees")]
pub async fn fee_schedule_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let changes = admin.post.is_none();
    let (list, upcoming) = state
        .db(move |conn| {
            let today = calendar::today_at(conn, None, now)?;
            Ok((crate::reference::fees_on(conn, today)?, fee_versions::upcoming(conn, now)?))
        })
        .await?;
    let title = lang.t(("Fee schedule", "Tarifas"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/admin/fees", |csrf| {
        html! {
            table {
                caption { (lang.t(("In force today", "Vigentes hoy"))) }
                thead { tr {
                    th scope="col" { (lang.t(("Code", "Código"))) }
                    th scope="col" { (lang.t(("Description", "Descripción"))) }
                    th scope="col" { (lang.t(("Legal basis", "Fundamento"))) }
                    th.amount scope="col" { (lang.t(("Amount", "Importe"))) }
                    th scope="col" { (lang.t(("Since", "Desde"))) }
                } }
                tbody {
                    @for f in &list {
                        tr {
                            td { (f.code) } td { (f.description) } td { (f.cfr_item) }
                            td.amount { (lang.money(f.amount_cents, &f.currency)) } td { (f.effective_from) }
                        }
                    }
                }
            }
            @if !upcoming.is_empty() {
                h2 { (lang.t(("Not yet in force", "Aún no vigentes"))) }
                table {
                    thead { tr {
                        th scope="col" { (lang.t(("Code", "Código"))) }
                        th scope="col" { (lang.t(("Description", "Descripción"))) }
                        th.amount scope="col" { (lang.t(("Amount", "Importe"))) }
                        th scope="col" { (lang.t(("From", "Desde"))) }
                        @if changes { th scope="col" { (lang.t(("Withdraw", "Retirar"))) } }
                    } }
                    tbody {
                        @for (i, f) in upcoming.iter().enumerate() {
                            tr {
                                td { (f.code) } td { (f.description) }
                                td.amount { (lang.money(f.amount_cents, f.currency.as_str())) } td { (f.effective_from) }
                                @if changes {
                                    td {
                                        form method="post" action="/staff/admin/fees/withdraw" {
                                            input type="hidden" name="csrf" value=(csrf);
                                            input type="hidden" name="code" value=(f.code);
                                            input type="hidden" name="effective_from" value=(f.effective_from);
                                            label for={ "withdraw-reason-" (i) } { (lang.t(("Reason", "Motivo"))) }
                                            input id={ "withdraw-reason-" (i) } name="reason" type="text" maxlength="200" required;
                                            button type="submit" { (lang.t(("Withdraw this version", "Retirar esta versión"))) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if !changes {
                p { (lang.t(EVERY_POST)) }
            } @else {
            h2 { (lang.t(("Add a version from a later date", "Agregar una versión a partir de una fecha posterior"))) }
            form method="post" action="/staff/admin/fees" {
                input type="hidden" name="csrf" value=(csrf);
                label for="fee_code" { (lang.t(("Code (a-z, 0-9, -)", "Código (a-z, 0-9, -)"))) }
                input #fee_code name="code" type="text" maxlength="64" required;
                label for="fee_description" { (lang.t(("Description", "Descripción"))) }
                input #fee_description name="description" type="text" maxlength="200" required;
                label for="fee_cfr" { (lang.t(("Legal basis (e.g. 22 CFR 22.1 item 1)", "Fundamento (p. ej. 22 CFR 22.1 item 1)"))) }
                input #fee_cfr name="cfr_item" type="text" maxlength="200" required;
                label for="fee_amount" { (lang.t(("Amount in US dollars (e.g. 130.00)", "Importe en dólares (p. ej. 130.00)"))) }
                input #fee_amount name="amount" type="text" inputmode="decimal" maxlength="16" required;
                label for="fee_from" { (lang.t(("In force from", "Vigente desde"))) }
                input #fee_from name="effective_from" type="date" required;
                button type="submit" { (lang.t(("Add the version", "Agregar la versión"))) }
            }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize)]
pub struct FeeVersionForm {
    csrf: String,
    code: String,
    description: String,
    cfr_item: String,
    amount: String,
    effective_from: Option<NaiveDate>,
}

#[post("/staff/admin/fees")]
pub async fn add_fee_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: CsrfForm<FeeVersionForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let form = form.into_inner();
    let (Some(amount_cents), Some(effective_from)) = (numbers::cents(&form.amount), form.effective_from)
    else {
        return Ok(said(
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            lang.t((
                "The amount is a number such as 130.00, and the date is needed.",
                "El importe es un número como 130.00, y la fecha es necesaria.",
            )),
        ));
    };
    let request = FeeVersionRequest {
        code: form.code,
        description: form.description,
        cfr_item: form.cfr_item,
        amount_cents,
        effective_from,
    };
    let actor = admin.actor();
    match state.db(move |conn| fee_versions::add_version(conn, &actor, &request, now)).await {
        Ok(_) => Ok(redirect("/staff/admin/fees")),
        Err(e) => fee_refusal(&req, lang, e),
    }
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    csrf: String,
    code: String,
    effective_from: Option<NaiveDate>,
    reason: String,
}

#[post("/staff/admin/fees/withdraw")]
pub async fn withdraw_fee_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: CsrfForm<WithdrawForm>,
) -> Result<HttpResponse, AppError> {
    let now = state.clock.naive();
    let lang = Lang::of(&req);
    let WithdrawForm { code, effective_from, reason, .. } = form.into_inner();
    let Some(effective_from) = effective_from else {
        return fee_refusal(&req, lang, AppError::not_found("that fee has no version from that date"));
    };
    let (actor, request) = (admin.actor(), fee_versions::WithdrawRequest { reason });
    let done = state
        .db(move |conn| fee_versions::withdraw_version(conn, &actor, &code, effective_from, &request, now))
        .await;
    match done {
        Ok(_) => Ok(redirect("/staff/admin/fees")),
        Err(e) => fee_refusal(&req, lang, e),
    }
}

crate::web::extract::carries_csrf!(FeeVersionForm, WithdrawForm);
