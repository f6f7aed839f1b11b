//! The admins' fee schedule: a new version from a later date, and withdrawing one that has
//! taken effect nowhere yet. The schedule applies at every post, so only an admin bound to no
//! post changes it; a post's admin sees it read-only.

use super::*;
use crate::http::HttpError;
use crate::web::extract::{CsrfForm, StaffPage};
use crate::web::field_errors::Shown;
use crate::web::i18n::PageLang;

/// Why a post's admin can't change the schedule.
const EVERY_POST: Text = (
    "The fee schedule applies at every post: only an admin of every post changes it.",
    "Las tarifas rigen en todas las sedes: solo un administrador de todas las sedes las cambia.",
);

/// An operation's refusal; `wrong_post` here means the admin is bound to a post.
fn fee_refusal(req: &HttpRequest, lang: Lang, e: AppError) -> Result<HttpResponse, HttpError> {
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
) -> Result<HttpResponse, HttpError> {
    fees_page(&state, &req, &admin, &FeeVersionForm::default(), &Shown::default()).await
}

/// The fee schedule page; after a refused version, with the form as typed and its errors.
async fn fees_page(
    state: &AppState,
    req: &HttpRequest,
    admin: &StaffPage<AdminOnly>,
    typed: &FeeVersionForm,
    shown: &Shown,
) -> Result<HttpResponse, HttpError> {
    let (lang, now) = (admin.lang, state.clock.naive());
    let changes = admin.post.is_none();
    let (list, upcoming) = state
        .db(move |conn| {
            let today = calendar::today_at(conn, None, now)?;
            Ok((crate::reference::fees_on(conn, today)?, fee_versions::upcoming(conn, now)?))
        })
        .await?;
    let title = lang.t(("Fee schedule", "Tarifas"));
    let status = shown.status();
    let field = |name: &str, id: &str| {
        html! {
            (shown.beside(name, id))
        }
    };
    Ok(form_page(req, status, lang, title, "/staff/admin/fees", |csrf| {
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
            form #add method="post" action="/staff/admin/fees" {
                (shown.general(&["code", "description", "cfr_item", "amount", "effective_from"]))
                input type="hidden" name="csrf" value=(csrf);
                label for="fee_code" { (lang.t(("Code (a-z, 0-9, -)", "Código (a-z, 0-9, -)"))) }
                input #fee_code name="code" type="text" maxlength="64" required value=(typed.code)
                    aria-invalid=[shown.invalid("code")] aria-describedby=[shown.described_by("code", "fee_code")];
                (field("code", "fee_code"))
                label for="fee_description" { (lang.t(("Description", "Descripción"))) }
                input #fee_description name="description" type="text" maxlength="200" required value=(typed.description)
                    aria-invalid=[shown.invalid("description")] aria-describedby=[shown.described_by("description", "fee_description")];
                (field("description", "fee_description"))
                label for="fee_cfr" { (lang.t(("Legal basis (e.g. 22 CFR 22.1 item 1)", "Fundamento (p. ej. 22 CFR 22.1 item 1)"))) }
                input #fee_cfr name="cfr_item" type="text" maxlength="200" required value=(typed.cfr_item)
                    aria-invalid=[shown.invalid("cfr_item")] aria-describedby=[shown.described_by("cfr_item", "fee_cfr")];
                (field("cfr_item", "fee_cfr"))
                label for="fee_amount" { (lang.t(("Amount in US dollars (e.g. 130.00)", "Importe en dólares (p. ej. 130.00)"))) }
                input #fee_amount name="amount" type="text" inputmode="decimal" maxlength="16" required value=(typed.amount)
                    aria-invalid=[shown.invalid("amount")] aria-describedby=[shown.described_by("amount", "fee_amount")];
                (field("amount", "fee_amount"))
                label for="fee_from" { (lang.t(("In force from", "Vigente desde"))) }
                input #fee_from name="effective_from" type="date" required value=(typed.effective_from)
                    aria-invalid=[shown.invalid("effective_from")] aria-describedby=[shown.described_by("effective_from", "fee_from")];
                (field("effective_from", "fee_from"))
                button type="submit" { (lang.t(("Add the version", "Agregar la versión"))) }
            }
            }
            (sign_out_button(lang, csrf))
        }
    }))
}

#[derive(Deserialize, Default)]
pub struct FeeVersionForm {
    csrf: String,
    code: String,
    description: String,
    cfr_item: String,
    amount: String,
    /// As typed: an empty or unreadable date comes back beside the field.
    #[serde(default)]
    effective_from: String,
}

#[post("/staff/admin/fees")]
pub async fn add_fee_version(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    form: CsrfForm<FeeVersionForm>,
) -> Result<HttpResponse, HttpError> {
    let (lang, now) = (admin.lang, state.clock.naive());
    let form = form.into_inner();
    let from = NaiveDate::parse_from_str(form.effective_from.trim(), "%Y-%m-%d").ok();
    let (amount_cents, effective_from) = match (numbers::cents(&form.amount), from) {
        (Some(amount), Some(from)) => (amount, from),
        (None, _) => {
            let shown = Shown::on(
                "amount",
                lang.t(("Type an amount such as 130.00.", "Escriba un importe como 130.00.")),
            );
            return fees_page(&state, &req, &admin, &form, &shown).await;
        }
        (_, None) => {
            let shown = Shown::on("effective_from", lang.t(("Choose the date.", "Elija la fecha.")));
            return fees_page(&state, &req, &admin, &form, &shown).await;
        }
    };
    let request = FeeVersionRequest {
        code: form.code.clone(),
        description: form.description.clone(),
        cfr_item: form.cfr_item.clone(),
        amount_cents,
        effective_from,
    };
    let actor = admin.actor();
    match state.db(move |conn| fee_versions::add_version(conn, &actor, &request, now)).await {
        Ok(_) => Ok(redirect("/staff/admin/fees")),
        Err(e) if e.code().status() < 500 => {
            fees_page(&state, &req, &admin, &form, &Shown::of(lang, &e).renamed("amount_cents", "amount"))
                .await
        }
        Err(e) => Err(e.into()),
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
) -> Result<HttpResponse, HttpError> {
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
