//! The page a receipt's QR code opens: `/receipts/verify/{number}?sig=CODE` says, in the
//! visitor's language, whether the receipt is valid, voided (and when) or not valid, with the
//! post, the time it was issued and the total, to compare with the paper. It checks through
//! the same operation, under the same per-address limit, as `GET /api/v1/receipts/verify/…`
//! ([`receipts::check`]). Not valid says nothing more whatever the reason (a wrong code, no
//! such receipt, a malformed number). Without a code, it asks for the one printed on the
//! receipt.

use actix_web::http::{header, StatusCode};
use actix_web::{get, web, HttpRequest, HttpResponse};
use maud::{html, Markup};
use serde::Deserialize;

use crate::calendar;
use crate::error::AppError;
use crate::fees::receipts::{self, Verified};
use crate::http::{client_address, HttpError};
use crate::state::AppState;
use crate::web::i18n::{Lang, PageLang, Text};
use crate::web::layout::{encode, frame};
use crate::web::page;

#[derive(Deserialize)]
pub struct CheckQuery {
    sig: Option<String>,
}

const TITLE: Text = ("Check a receipt", "Verificar un recibo");
const CODE: Text = ("Verification code", "Código de verificación");
const CODE_HINT: Text = (
    "The ten letters and digits printed beside the QR code, such as K7QM4-XPT9A.",
    "Las diez letras y cifras impresas junto al código QR, por ejemplo K7QM4-XPT9A.",
);
const REQUIRED: Text = ("Enter the code printed on the receipt.", "Escriba el código impreso en el recibo.");
/// Longer than any code, dashes and spaces included: not checked, just not valid.
const MAX_CODE_CHARS: usize = 40;

#[get("/receipts/verify/{number}")]
pub async fn check(
    state: web::Data<AppState>,
    req: HttpRequest,
    number: web::Path<String>,
    query: web::Query<CheckQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = Lang::of(&req);
    let number = number.into_inner();
    let sig = query.into_inner().sig;
    let path = match &sig {
        Some(sig) => format!("/receipts/verify/{number}?sig={}", encode(sig)),
        None => format!("/receipts/verify/{number}"),
    };
    // Never cached: a receipt voided later must not show as valid from a cache.
    let shown = |status: StatusCode, content: Markup| {
        let mut response = page(status, lang, frame(lang, lang.t(TITLE), &path, content));
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        response
    };
    let sig = match sig {
        None => return Ok(shown(StatusCode::OK, ask(lang, &number, None))),
        Some(sig) if sig.trim().is_empty() => {
            return Ok(shown(StatusCode::UNPROCESSABLE_ENTITY, ask(lang, &number, Some(REQUIRED))))
        }
        Some(sig) => sig,
    };
    let sig: String = sig.chars().take(MAX_CODE_CHARS + 1).collect();
    let found = receipts::check(
        &state.pool,
        &state.receipts,
        state.settings.tracking,
        state.clock.naive(),
        client_address(&req),
        number.clone(),
        sig,
    )
    .await;
    match found {
        Ok(verification) => match &verification.found {
            Some(receipt) => Ok(shown(StatusCode::OK, verified(lang, &number, receipt))),
            None => Ok(shown(StatusCode::NOT_FOUND, not_valid(lang, &number))),
        },
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let mut response = shown(StatusCode::TOO_MANY_REQUESTS, throttled(lang));
            if let Ok(value) = header::HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

/// The receipt's number as a line of its own.
fn receipt_line(lang: Lang, number: &str) -> Markup {
    html! { p { (lang.t(("Receipt", "Recibo"))) " " strong { (number) } } }
}

/// The form asking for the code (again, after one that didn't match).
fn code_form(lang: Lang, number: &str, error: Option<Text>) -> Markup {
    html! {
        form method="get" action={ "/receipts/verify/" (number) } novalidate {
            label for="sig" { (lang.t(CODE)) }
            p #sig-hint { (lang.t(CODE_HINT)) }
            @if let Some(error) = error {
                p.error #sig-error { (lang.t(error)) }
                input #sig name="sig" type="text" autocomplete="off" spellcheck="false"
                    aria-invalid="true" aria-describedby="sig-error sig-hint" required;
            } @else {
                input #sig name="sig" type="text" autocomplete="off" spellcheck="false"
                    aria-describedby="sig-hint" required;
            }
            button type="submit" { (lang.t(("Check", "Verificar"))) }
        }
    }
}

fn ask(lang: Lang, number: &str, error: Option<Text>) -> Markup {
    html! {
        (receipt_line(lang, number))
        p { (lang.t(("Enter the verification code printed on the receipt to check that this office issued it.",
                     "Escriba el código de verificación impreso en el recibo para comprobar que lo emitió esta oficina."))) }
        (code_form(lang, number, error))
    }
}

fn verified(lang: Lang, number: &str, receipt: &Verified) -> Markup {
    html! {
        @if let Some(voided) = receipt.voided_at {
            p.notice role="status" {
                strong { (lang.t(("Voided.", "Anulado."))) } " "
                (lang.t(("This receipt was issued by the office below and voided on",
                         "Este recibo lo emitió la oficina indicada abajo y se anuló el")))
                " " (calendar::printed(voided)) ". "
                (lang.t(("It is no longer proof of payment.", "Ya no es comprobante de pago.")))
            }
        } @else {
            p.notice role="status" {
                strong { (lang.t(("Valid.", "Válido."))) } " "
                (lang.t(("This receipt was issued by the office below. Check that the paper shows the same.",
                         "Este recibo lo emitió la oficina indicada abajo. Compruebe que el papel diga lo mismo.")))
            }
        }
        dl {
            dt { (lang.t(("Receipt", "Recibo"))) } dd { (number) }
            dt { (lang.t(("Office", "Oficina"))) } dd { (receipt.post_name) }
            dt { (lang.t(("Issued", "Emitido"))) } dd { (calendar::printed(receipt.issued_at)) }
            dt { (lang.t(("Total", "Total"))) } dd { (lang.money(receipt.total.amount_cents, receipt.total.currency.as_str())) }
            @if let Some(voided) = receipt.voided_at {
                dt { (lang.t(("Voided", "Anulado"))) } dd { (calendar::printed(voided)) }
            }
        }
    }
}

/// The same words whatever made the receipt not valid.
fn not_valid(lang: Lang, number: &str) -> Markup {
    html! {
        p.error role="alert" {
            strong { (lang.t(("Not valid.", "No válido."))) } " "
            (lang.t(("This number and code do not match a receipt issued by this service. Check both against the paper and type the code again; if they still don't match, the receipt is not one of ours.",
                     "Este número y código no corresponden a un recibo emitido por este servicio. Compárelos con el papel y escriba el código de nuevo; si siguen sin coincidir, el recibo no es nuestro.")))
        }
        (receipt_line(lang, number))
        (code_form(lang, number, None))
    }
}

fn throttled(lang: Lang) -> Markup {
    html! {
        p.notice role="status" { (lang.t((
            "Too many checks from here. Please wait a few minutes and try again.",
            "Demasiadas verificaciones desde aquí. Espere unos minutos e intente de nuevo."))) }
    }
}
