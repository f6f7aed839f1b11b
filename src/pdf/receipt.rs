//! The receipt the payer takes home: post and address, number, date and time in the post's
//! zone, payer, lines with fee codes, total, payment (with the amount in pesos and the rate),
//! clerk, and the verification code with its QR code; marked VOID once voided. Every label is
//! in English and Spanish (`pdf_templates/receipt.json`).

use crate::error::AppError;
use crate::fees::money::format_cents;
use crate::fees::receipts::ReceiptView;
use crate::pdf::page::{Page, Weight};
use crate::pdf::Templates;

/// The labels `receipt.json` must give.
pub const LABELS: &[&str] = &[
    "title",
    "receipt_number",
    "issued_at",
    "payer",
    "reference",
    "tracking_number",
    "clerk",
    "fee_code",
    "description",
    "quantity",
    "unit",
    "amount",
    "total",
    "method",
    "local_amount",
    "rate",
    "external_reference",
    "no_fee_basis",
    "verify",
    "void",
    "voided",
    "footer",
    "method_cash_usd",
    "method_cash_local",
    "method_card",
    "method_prepaid_online",
    "method_no_fee",
    "basis_ds3053_parental_consent",
    "basis_federal_benefits",
    "basis_us_government_business",
    "basis_passport_correction_within_one_year",
];

/// `2026-12-01 09:15 (UTC-06:00)` from an RFC 3339 time with the post's offset.
pub fn local_time(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16), rfc3339.get(19..)) {
        (Some(date), Some(time), Some(offset)) => format!("{date} {time} (UTC{offset})"),
        _ => rfc3339.to_string(),
    }
}

/// The URL the QR code holds: the public page that checks this receipt's code and shows, in
/// the visitor's language, whether it is valid, with its post, time and total
/// (`GET /receipts/verify/{number}?sig=`; the JSON check stays at `/api/v1/receipts/verify/`).
pub fn verify_url(base: &str, receipt: &ReceiptView) -> String {
    format!(
        "{}/receipts/verify/{}?sig={}",
        base.trim_end_matches('/'),
        receipt.receipt_number,
        receipt.verification_code
    )
}

pub fn render(templates: &Templates, receipt: &ReceiptView, public_url: &str) -> Result<Vec<u8>, AppError> {
    let t = &templates.receipt;
    let (title, text, small) = (t.sizes.title, t.sizes.text, t.sizes.small);
    let mut page = Page::new(t, &format!("{} {}", t.label("title"), receipt.receipt_number));
    let (left, right) = (page.margin, page.width - page.margin);
    let line = text * 1.45;
    let mut y = page.margin + title;

    page.text(Weight::Bold, title, left, y, &receipt.post_name);
    page.text_right(Weight::Bold, title, right, y, &t.label("title"));
    y += line;
    y = page.wrapped(Weight::Regular, small, left, y, right - left, &receipt.post_address);
    page.rule(y, 0.8);
    y += line * 1.2;

    let value_x = left + 150.0;
    let field = |page: &mut Page, y: &mut f32, key: &str, value: &str| {
        page.text(Weight::Bold, small, left, *y, &t.label(key));
        page.text(Weight::Regular, text, value_x, *y, value);
        *y += line;
    };
    field(&mut page, &mut y, "receipt_number", &receipt.receipt_number);
    field(&mut page, &mut y, "issued_at", &local_time(&receipt.issued_at));
    field(&mut page, &mut y, "payer", &receipt.payer);
    field(&mut page, &mut y, "reference", &receipt.reference);
    if let Some(tracking) = &receipt.tracking_number {
        field(&mut page, &mut y, "tracking_number", tracking);
    }
    field(&mut page, &mut y, "clerk", &receipt.clerk);
    y += line * 0.3;
    page.rule(y, 0.5);
    y += line;

    // The lines: code, description, quantity, unit price, amount.
    let (desc_x, qty_r, unit_r) = (left + 130.0, right - 150.0, right - 75.0);
    page.text(Weight::Bold, small, left, y, &t.label("fee_code"));
    page.text(Weight::Bold, small, desc_x, y, &t.label("description"));
    page.text_right(Weight::Bold, small, qty_r, y, &t.label("quantity"));
    page.text_right(Weight::Bold, small, unit_r, y, &t.label("unit"));
    page.text_right(Weight::Bold, small, right, y, &t.label("amount"));
    y += line;
    for item in &receipt.items {
        page.text(Weight::Regular, small, left, y, &item.fee_code);
        page.text_right(Weight::Regular, text, qty_r, y, &item.quantity.to_string());
        page.text_right(Weight::Regular, text, unit_r, y, &format_cents(item.unit.amount_cents));
        page.text_right(Weight::Regular, text, right, y, &format_cents(item.amount.amount_cents));
        y = page.wrapped(Weight::Regular, small, desc_x, y, qty_r - desc_x - 40.0, &item.description);
        y += line * 0.25;
    }
    page.rule(y, 0.5);
    y += line * 1.1;
    let total = format!("{} {}", receipt.total.currency.as_str(), format_cents(receipt.total.amount_cents));
    page.text(Weight::Bold, text, left, y, &t.label("total"));
    page.text_right(Weight::Bold, title * 0.85, right, y, &total);
    y += line * 1.5;

    let payment = &receipt.payment;
    let method = t.label(&format!("method_{}", payment.method.as_str()));
    let field = |page: &mut Page, y: &mut f32, key: &str, value: &str| {
        page.text(Weight::Bold, small, left, *y, &t.label(key));
        page.text(Weight::Regular, text, value_x, *y, value);
        *y += line;
    };
    field(&mut page, &mut y, "method", &method);
    if let (Some(local), Some(rate)) = (payment.local_amount, payment.rate_micros) {
        let amount = format!("{} {}", local.currency.as_str(), format_cents(local.amount_cents));
        field(&mut page, &mut y, "local_amount", &amount);
        let rate = format!("{} MXN = 1 USD", crate::fees::money::format_rate(rate));
        field(&mut page, &mut y, "rate", &rate);
    }
    if let Some(reference) = &payment.external_reference {
        field(&mut page, &mut y, "external_reference", reference);
    }
    if let Some(basis) = payment.no_fee_basis {
        field(&mut page, &mut y, "no_fee_basis", &t.label(&format!("basis_{}", basis.as_str())));
    }
    if let Some(void) = &receipt.voided {
        y += line * 0.5;
        let said = format!("{} {}: {}", local_time(&void.voided_at), void.voided_by, void.reason);
        page.text(Weight::Bold, text, left, y, &t.label("voided"));
        y += line;
        y = page.wrapped(Weight::Regular, text, left, y, right - left, &said);
    }

    // The check: QR code and the code in words, above the footer.
    let footer_y = page.height - page.margin;
    let module = 2.4;
    let url = verify_url(public_url, receipt);
    let qr_top = (footer_y - 140.0).max(y + line);
    let side = page.qr(left, qr_top, module, &url);
    let words_x = left + side + 18.0;
    page.text(Weight::Bold, small, words_x, qr_top + small * 1.5, &t.label("verify"));
    page.text(Weight::Bold, title, words_x, qr_top + small * 1.5 + title * 1.4, &receipt.verification_code);
    page.wrapped(Weight::Regular, small, words_x, qr_top + small * 1.5 + title * 2.6, right - words_x, &url);
    page.wrapped(Weight::Regular, small, left, footer_y, right - left, &t.label("footer"));
    if receipt.voided.is_some() {
        page.watermark(&t.label("void"), 120.0);
    }
    Ok(page.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_with_their_offset() {
        assert_eq!(local_time("2026-12-01T09:15:00-06:00"), "2026-12-01 09:15 (UTC-06:00)");
        assert_eq!(local_time("bad"), "bad");
    }
}
