//! The cash close sheet kept with the cash (A4): the post, the local day, the clerk and when
//! they counted, the receipts the count covers (how many, first and last number), each method
//! and currency's expected, counted and difference, the explanation, who signed and when (in
//! the post's zone), and lines for both signatures. A replaced count says so across the top.
//! Every label in English and Spanish, as the other papers (`pdf_templates/close_sheet.json`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;
use diesel::prelude::*;

use crate::auth::Actor;
use crate::calendar;
use crate::db::schema::{closeouts, posts};
use crate::db::DbConn;
use crate::error::AppError;
use crate::fees::closeouts::{view as close_view, CloseoutView, Tally};
use crate::fees::money::{format_cents, Currency};
use crate::pdf::page::{leading, Align, Cell, Fields, Flow, Page, Weight};
use crate::pdf::Templates;

/// The labels `close_sheet.json` must give.
pub const LABELS: &[&str] = &[
    "title",
    "post",
    "date",
    "clerk",
    "counted_at",
    "receipts",
    "receipts_range",
    "receipts_none",
    "method",
    "expected",
    "counted",
    "difference",
    "nothing",
    "explanation",
    "no_explanation",
    "signed",
    "signed_by",
    "not_signed",
    "replaced",
    "sign_clerk",
    "sign_supervisor",
    "method_cash_usd",
    "method_cash_local",
    "method_card",
    "method_prepaid_online",
    "method_no_fee",
    "footer",
];

/// What the sheet prints: the close and its post's name.
#[derive(Debug, Clone)]
pub struct CloseSheet {
    pub post_name: String,
    pub close: CloseoutView,
}

/// A close of `post` for its staff: another post's, or none, is the same 404 (a member bound
/// elsewhere is refused by the post check first).
pub fn find(conn: &mut DbConn, actor: &Actor, post: &str, id: i64) -> Result<CloseSheet, AppError> {
    actor.ensure_post(post)?;
    let post_name: Option<String> = closeouts::table
        .inner_join(posts::table.on(posts::code.eq(closeouts::post_code)))
        .filter(closeouts::id.eq(id))
        .filter(closeouts::post_code.eq(post))
        .select(posts::name)
        .first(conn)
        .optional()?;
    let post_name = post_name.ok_or_else(|| AppError::not_found("no such cash close"))?;
    Ok(CloseSheet { post_name, close: close_view(conn, id)? })
}

/// The sheet as printed and its file name; the API and the cash page both print through here.
pub async fn printed(
    pool: &crate::db::Pool,
    templates: &Arc<Templates>,
    actor: Actor,
    post: String,
    id: i64,
) -> Result<(Vec<u8>, String), AppError> {
    let sheet = crate::db::run(pool, move |conn| find(conn, &actor, &post, id)).await?;
    let templates = templates.clone();
    let name =
        format!("cash-close-{}-{}-{}-{}.pdf", sheet.close.post, sheet.close.date, sheet.close.clerk, id);
    let pdf = crate::blocking::run(move || render(&templates, &sheet)).await??;
    Ok((pdf, name))
}

fn amount(cents: i64, currency: Currency) -> String {
    format!("{} {}", format_cents(cents), currency.as_str())
}

fn of(tallies: &[Tally], method: crate::fees::receipts::Method, currency: Currency) -> i64 {
    tallies.iter().filter(|t| t.method == method && t.currency == currency).map(|t| t.amount_cents).sum()
}

fn local_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn at(time: DateTime<Tz>) -> String {
    calendar::printed(time)
}

pub fn render(templates: &Templates, sheet: &CloseSheet) -> Result<Vec<u8>, AppError> {
    let t = &templates.close_sheet;
    let close = &sheet.close;
    let (title, text, small) = (t.sizes.title, t.sizes.text, t.sizes.small);
    let number = close.id.to_string();
    let mut page = Page::new(
        t,
        &format!("{} {} {} {}", t.label("title"), close.post, local_date(close.date), close.clerk),
        "en-US",
    );
    let (left, right) = (page.margin, page.width - page.margin);
    let width = right - left;
    let gap = 8.0;
    let footer_top = page.height - page.margin;
    let top = page.margin + title;
    let mut flow = Flow { y: top, bottom: footer_top - gap - small, top };

    // Heading: the post's name on the left, the paper's name on the right.
    let heading = t.label("title");
    let heading_width = page.width_of(Weight::Bold, title, &heading).min(width * 0.5);
    let heading_row = [
        Cell {
            x: left,
            width: width - heading_width - gap,
            align: Align::Left,
            weight: Weight::Bold,
            size: title,
            text: &sheet.post_name,
        },
        Cell {
            x: right - heading_width,
            width: heading_width,
            align: Align::Right,
            weight: Weight::Bold,
            size: title,
            text: &heading,
        },
    ];
    flow.row(&mut page, &heading_row, text * 0.2);
    page.rule(flow.y - text * 0.4, 0.8);
    flow.y += text * 0.8;

    if close.replaced_by.is_some() {
        let words = t.label("replaced");
        let pad = 6.0;
        let cell = Cell {
            x: left + pad,
            width: width - 2.0 * pad,
            align: Align::Left,
            weight: Weight::Bold,
            size: text,
            text: &words,
        };
        let height = page.row_height(&[cell]);
        flow.room(&mut page, height + 2.0 * pad + text);
        let band_top = flow.y - text;
        page.band(band_top, band_top + height + 2.0 * pad);
        let cell = Cell {
            x: left + pad,
            width: width - 2.0 * pad,
            align: Align::Left,
            weight: Weight::Bold,
            size: text,
            text: &words,
        };
        page.row(band_top + pad + text * 0.9, &[cell]);
        flow.y = band_top + height + 2.0 * pad + text * 1.6;
    }

    // Who, where, when: a label column and a value column.
    let label_width = 150.0;
    let value_x = left + label_width + gap;
    let fields =
        Fields { left, label_width, value_x, right, label_size: small, value_size: text, after: text * 0.25 };
    let field =
        |page: &mut Page, flow: &mut Flow, label: &str, value: &str| fields.row(page, flow, label, value);
    field(&mut page, &mut flow, &t.label("post"), &format!("{} ({})", sheet.post_name, close.post));
    field(&mut page, &mut flow, &t.label("date"), &local_date(close.date));
    field(&mut page, &mut flow, &t.label("clerk"), &close.clerk);
    field(&mut page, &mut flow, &t.label("counted_at"), &at(close.submitted));
    let receipts = match (&close.receipts.first, &close.receipts.last) {
        (Some(first), Some(last)) => {
            let count = close.receipts.count.to_string();
            t.label_with("receipts_range", &[("count", &count), ("first", first), ("last", last)])
        }
        _ => t.label("receipts_none"),
    };
    field(&mut page, &mut flow, &t.label("receipts"), &receipts);
    page.rule(flow.y - text * 0.4, 0.5);
    flow.y += text * 0.8;

    // The lines: method, expected, counted, difference; the header again on a new page.
    let amount_w = 88.0;
    let diff_x = right - amount_w;
    let counted_x = diff_x - gap - amount_w;
    let expected_x = counted_x - gap - amount_w;
    let method_w = expected_x - gap - left;
    let at_x = [
        (left, method_w, Align::Left),
        (expected_x, amount_w, Align::Right),
        (counted_x, amount_w, Align::Right),
        (diff_x, amount_w, Align::Right),
    ];
    fn columns(
        at_x: [(f32, f32, Align); 4],
        texts: &[String; 4],
        weight: Weight,
        size: f32,
    ) -> Vec<Cell<'_>> {
        texts
            .iter()
            .zip(at_x)
            .map(|(text, (x, width, align))| Cell { x, width, align, weight, size, text })
            .collect()
    }
    let header_texts = [t.label("method"), t.label("expected"), t.label("counted"), t.label("difference")];
    let header = columns(at_x, &header_texts, Weight::Bold, small);
    flow.row(&mut page, &header, small * 0.4);
    if close.differences.is_empty() {
        field(&mut page, &mut flow, "", &t.label("nothing"));
    }
    for d in &close.differences {
        let texts = [
            t.label(&format!("method_{}", d.method.as_str())),
            amount(of(&close.expected, d.method, d.currency), d.currency),
            amount(of(&close.counted, d.method, d.currency), d.currency),
            amount(d.amount_cents, d.currency),
        ];
        let row = columns(at_x, &texts, Weight::Regular, text);
        let height = page.row_height(&row);
        if flow.room(&mut page, height) {
            flow.row(&mut page, &header, small * 0.4);
        }
        flow.row(&mut page, &row, text * 0.3);
    }
    page.rule(flow.y - text * 0.4, 0.5);
    flow.y += text * 0.8;

    let explanation = close.explanation.clone().unwrap_or_else(|| t.label("no_explanation"));
    field(&mut page, &mut flow, &t.label("explanation"), &explanation);
    let signed = match (&close.signed_by, close.signed) {
        (Some(name), Some(when)) => t.label_with("signed_by", &[("name", name), ("at", &at(when))]),
        _ => t.label("not_signed"),
    };
    field(&mut page, &mut flow, &t.label("signed"), &signed);

    // Two signature lines side by side: a line to sign on, the role and name below it.
    let column = (width - 2.0 * gap) / 2.0;
    let sign_height = 48.0 + leading(small) * 3.0 + leading(text);
    flow.room(&mut page, sign_height + text * 2.0);
    let line_y = flow.y + 48.0;
    for (i, (label, name)) in [
        (t.label("sign_clerk"), close.clerk.clone()),
        (t.label("sign_supervisor"), close.signed_by.clone().unwrap_or_default()),
    ]
    .iter()
    .enumerate()
    {
        let x = left + i as f32 * (column + 2.0 * gap);
        page.segment(x, x + column, line_y, 0.8);
        let below = page.wrapped(Weight::Regular, small, x, line_y + small * 1.6, column, label);
        if !name.is_empty() {
            page.row(
                below,
                &[Cell {
                    x,
                    width: column,
                    align: Align::Left,
                    weight: Weight::Bold,
                    size: text,
                    text: name,
                }],
            );
        }
    }

    page.on_every_page(|page, n, count| {
        let words = t.label_with(
            "footer",
            &[("number", &number), ("page", &n.to_string()), ("pages", &count.to_string())],
        );
        page.wrapped(Weight::Regular, small, left, footer_top - small * 0.3, width, &words);
    });
    Ok(page.finish())
}
