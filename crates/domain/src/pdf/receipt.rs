//! The receipt the payer takes home: post and address, number, date and time in the post's
//! zone, payer, lines with fee codes, total, payment (with the amount in pesos and the rate),
//! clerk, and the verification code with its QR code; marked VOID once voided. Every label is
//! in English and Spanish (`pdf_templates/receipt.json`).

use std::sync::Arc;

use crate::auth::Actor;
use crate::calendar;
use crate::error::AppError;
use crate::fees::money::format_cents;
use crate::fees::receipts::{ReceiptView, VoidView};
use crate::pdf::page::{leading, Align, Cell, Fields, Flow, Page, Weight};
use crate::pdf::{Template, Templates};

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
    let mut page = Page::new(t, &format!("{} {}", t.label("title"), receipt.receipt_number), "en-US");
    let (left, right) = (page.margin, page.width - page.margin);
    let width = right - left;
    let gap = 8.0;

    // The footer is the same on every page; the flow stops above it.
    let footer = t.label("footer");
    let footer_lines = page.break_lines(Weight::Regular, small, width, &footer).len() as f32;
    let footer_top = page.height - page.margin - footer_lines * leading(small);
    let top = page.margin + title;
    let mut flow = Flow { y: top, bottom: footer_top - gap, top };

    let heading = t.label("title");
    let heading_width = page.width_of(Weight::Bold, title, &heading).min(width * 0.45);
    let name_width = width - heading_width - 2.0 * gap;
    let mut y = page.row(
        flow.y,
        &[
            Cell {
                x: left,
                width: name_width,
                align: Align::Left,
                weight: Weight::Bold,
                size: title,
                text: &receipt.post_name,
            },
            Cell {
                x: right - heading_width,
                width: heading_width,
                align: Align::Right,
                weight: Weight::Bold,
                size: title,
                text: &heading,
            },
        ],
    );
    y = page.wrapped(Weight::Regular, small, left, y, width, &receipt.post_address);
    page.rule(y - small * 0.5, 0.8);
    flow.y = y + text;

    if let Some(void) = &receipt.voided {
        flow.y = void_band(&mut page, t, flow.y, void);
    }

    // Who, when, for what: a label column and a value column.
    let label_width = 140.0;
    let value_x = left + label_width + gap;
    let fields =
        Fields { left, label_width, value_x, right, label_size: small, value_size: text, after: text * 0.15 };
    let field =
        |page: &mut Page, flow: &mut Flow, label: &str, value: &str| fields.row(page, flow, label, value);
    field(&mut page, &mut flow, &t.label("receipt_number"), &receipt.receipt_number);
    field(&mut page, &mut flow, &t.label("issued_at"), &calendar::printed(receipt.issued));
    field(&mut page, &mut flow, &t.label("payer"), &receipt.payer);
    field(&mut page, &mut flow, &t.label("reference"), &receipt.reference);
    if !receipt.tracking_numbers.is_empty() {
        field(&mut page, &mut flow, &t.label("tracking_number"), &receipt.tracking_numbers.join(", "));
    }
    field(&mut page, &mut flow, &t.label("clerk"), &receipt.clerk);
    page.rule(flow.y - text * 0.4, 0.5);
    flow.y += text * 0.6;

    // The lines: code, description, quantity, unit price, amount; the header again on a new page.
    let (amount_w, unit_w, qty_w, code_w) = (78.0, 72.0, 40.0, 124.0);
    let amount_x = right - amount_w;
    let unit_x = amount_x - gap - unit_w;
    let qty_x = unit_x - gap - qty_w;
    let desc_x = left + code_w + gap;
    let desc_w = qty_x - gap - desc_x;
    let at = [
        (left, code_w, Align::Left),
        (desc_x, desc_w, Align::Left),
        (qty_x, qty_w, Align::Right),
        (unit_x, unit_w, Align::Right),
        (amount_x, amount_w, Align::Right),
    ];
    let labels = ["fee_code", "description", "quantity", "unit", "amount"].map(|k| t.label(k));
    let header =
        columns(&at, [&labels[0], &labels[1], &labels[2], &labels[3], &labels[4]], Weight::Bold, small);
    let height = page.row_height(&header);
    flow.room(&mut page, height * 2.0);
    flow.y = page.row(flow.y, &header) + small * 0.3;
    for item in &receipt.items {
        let (qty, unit, amount) = (
            item.quantity.to_string(),
            format_cents(item.unit.amount_cents),
            format_cents(item.amount.amount_cents),
        );
        let mut cells =
            columns(&at, [&item.fee_code, &item.description, &qty, &unit, &amount], Weight::Regular, text);
        cells[0].size = small;
        let height = page.row_height(&cells);
        if flow.room(&mut page, height) {
            flow.y = page.row(flow.y, &header) + small * 0.3;
        }
        flow.y = page.row(flow.y, &cells) + text * 0.25;
    }
    page.rule(flow.y - text * 0.5, 0.5);
    flow.y += text * 0.7;
    let total = format!("{} {}", receipt.total.currency.as_str(), format_cents(receipt.total.amount_cents));
    let total_label = if receipt.voided.is_some() {
        format!("{} ({})", t.label("total"), t.label("void"))
    } else {
        t.label("total")
    };
    let total_row = [
        Cell {
            x: left,
            width: width / 2.0,
            align: Align::Left,
            weight: Weight::Bold,
            size: text,
            text: &total_label,
        },
        Cell {
            x: left + width / 2.0,
            width: width / 2.0,
            align: Align::Right,
            weight: Weight::Bold,
            size: title * 0.85,
            text: &total,
        },
    ];
    flow.row(&mut page, &total_row, text * 0.6);

    let payment = &receipt.payment;
    field(&mut page, &mut flow, &t.label("method"), &t.label(&format!("method_{}", payment.method.as_str())));
    if let (Some(local), Some(rate)) = (payment.local_amount, payment.rate_micros) {
        let amount = format!("{} {}", local.currency.as_str(), format_cents(local.amount_cents));
        field(&mut page, &mut flow, &t.label("local_amount"), &amount);
        let rate = format!("{} MXN = 1 USD", crate::fees::money::format_rate(rate));
        field(&mut page, &mut flow, &t.label("rate"), &rate);
    }
    if let Some(reference) = &payment.external_reference {
        field(&mut page, &mut flow, &t.label("external_reference"), reference);
    }
    if let Some(basis) = payment.no_fee_basis {
        field(&mut page, &mut flow, &t.label("no_fee_basis"), &t.label(&format!("basis_{}", basis.as_str())));
    }

    // The check: the QR code (with its quiet zone clear) and the code in words, above the footer.
    let module = 2.4;
    let url = verify_url(public_url, receipt);
    let side = crate::pdf::page::qr_modules(&url).map_or(0.0, |(n, _)| n as f32 * module);
    let quiet = 4.0 * module;
    let words_x = left + side + quiet + gap;
    let words_w = right - words_x;
    let url_lines = page.break_lines(Weight::Regular, small, words_w, &url).len() as f32;
    let words_h = leading(small) * 2.0 + leading(title) + url_lines * leading(small);
    let block = side.max(words_h);
    flow.room(&mut page, block + quiet * 2.0);
    let qr_top = (flow.bottom - block).max(flow.y + quiet);
    page.qr(left, qr_top, module, &url);
    let mut words_y = page.wrapped(Weight::Bold, small, words_x, qr_top + small, words_w, &t.label("verify"));
    words_y = page.row(
        words_y + title * 0.4,
        &[Cell {
            x: words_x,
            width: words_w,
            align: Align::Left,
            weight: Weight::Bold,
            size: title,
            text: &receipt.verification_code,
        }],
    );
    page.wrapped(Weight::Regular, small, words_x, words_y, words_w, &url);
    page.on_every_page(|page, _, _| {
        page.wrapped(Weight::Regular, small, left, footer_top + small, width, &footer);
    });
    Ok(page.finish())
}

/// A table row: each text in its column (`x`, width, alignment).
fn columns<'a>(at: &[(f32, f32, Align); 5], texts: [&'a str; 5], weight: Weight, size: f32) -> Vec<Cell<'a>> {
    texts
        .iter()
        .zip(at)
        .map(|(text, &(x, width, align))| Cell { x, width, align, weight, size, text })
        .collect()
}

/// The void, in a band across the page under the heading: the word large, then when, by whom
/// and why. It covers nothing, so the amounts and the QR code stay readable on a void receipt.
fn void_band(page: &mut Page, t: &Template, y: f32, void: &VoidView) -> f32 {
    let (big, text) = (t.sizes.title * 1.6, t.sizes.text);
    let pad = 8.0;
    let (x, width) = (page.margin + pad, page.width - 2.0 * (page.margin + pad));
    let word = t.label("void");
    let said =
        format!("{}: {}, {}. {}", t.label("voided"), calendar::printed(void.at), void.voided_by, void.reason);
    let word_cell = Cell { x, width, align: Align::Left, weight: Weight::Bold, size: big, text: &word };
    let said_cell = Cell { x, width, align: Align::Left, weight: Weight::Regular, size: text, text: &said };
    let height = page.row_height(&[word_cell]) + page.row_height(&[said_cell]);
    let top = y - text;
    page.band(top, top + height + 2.0 * pad);
    let word_cell = Cell { x, width, align: Align::Left, weight: Weight::Bold, size: big, text: &word };
    let below = page.row(top + pad + big * 0.8, &[word_cell]);
    let said_cell = Cell { x, width, align: Align::Left, weight: Weight::Regular, size: text, text: &said };
    page.row(below - big * 0.2, &[said_cell]);
    top + height + 2.0 * pad + text * 1.6
}

/// The receipt as printed for the payer (the PDF, with the public check's address in its QR
/// code), and its file name; the API and the staff pages both print through here.
pub async fn printed(
    pool: &crate::db::Pool,
    key: &Arc<crate::fees::verification::ReceiptKey>,
    templates: &Arc<Templates>,
    public_url: &str,
    actor: Actor,
    number: String,
) -> Result<(Vec<u8>, String), AppError> {
    let key = key.clone();
    let view =
        crate::db::run(pool, move |conn| crate::fees::receipts::show(conn, &key, &actor, &number)).await?;
    let (templates, base) = (templates.clone(), public_url.to_string());
    let name = format!("receipt-{}.pdf", view.receipt_number);
    let pdf = crate::blocking::run(move || render(&templates, &view, &base)).await??;
    Ok((pdf, name))
}
