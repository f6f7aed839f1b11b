//! The appointment confirmation an applicant prints or shows at the door, in their language:
//! the reference with a QR code the window scans, the service and state in words, the time in
//! the post's zone, the post's street address, the people, what to bring for that service,
//! the fees to expect from the schedule in force on the day, and where to cancel or change it
//! (`pdf_templates/confirmation.json`).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use chrono_tz::Tz;

use crate::auth::Applicant;
use crate::booking::appointments::{self, AppointmentView};
use crate::booking::reference_code::Reference;
use crate::calendar;
use crate::db::{self, DbConn, Pool};
use crate::error::AppError;
use crate::fees::expected;
use crate::fees::money::format_cents;
use crate::pdf::page::{leading, Align, Cell, Flow, Page, Weight};
use crate::pdf::{Template, Templates};
use crate::wording::{self, Lang};

/// The labels `confirmation.json` must give.
pub const LABELS: &[&str] = &[
    "title",
    "reference",
    "scan",
    "service",
    "status",
    "starts_at",
    "post",
    "people",
    "bring",
    "bring_everyone",
    "fees",
    "fees_note",
    "per_certificate",
    "total",
    "no_fees",
    "manage",
    "manage_text",
    "arrive",
    "footer",
    "fee_passport-execution",
    "fee_passport-book-adult",
    "fee_passport-book-minor",
    "fee_passport-book-security-surcharge",
    "fee_passport-correction",
    "fee_crba",
    "fee_notarial-certificate",
];

/// The lists `confirmation.json` must give: what to bring, per service.
pub const LISTS: &[&str] = &[
    "bring_passport-renewal",
    "bring_passport-new",
    "bring_passport-new_under_16",
    "bring_passport-correction",
    "bring_crba",
    "bring_notarial",
    "bring_other",
];

/// A fee to expect, priced from the schedule in force on the appointment's date.
pub struct FeeLine {
    pub fee_code: String,
    /// The schedule's description, printed when the template has no words for the code.
    pub description: String,
    pub quantity: u32,
    pub unit_cents: i64,
    pub per_certificate: bool,
}

/// Everything the confirmation prints.
pub struct Confirmation {
    pub appointment: AppointmentView,
    pub post_name: String,
    pub post_address: String,
    /// The appointment's start in the post's zone.
    pub starts: DateTime<Tz>,
    pub fees: Vec<FeeLine>,
    /// The date whose fee schedule priced `fees`.
    pub fees_date: NaiveDate,
    pub child_under_16: bool,
    /// Where the applicant cancels or reschedules.
    pub manage_url: String,
    pub lang: Lang,
}

pub fn render(templates: &Templates, c: &Confirmation) -> Vec<u8> {
    let t = &templates.confirmation;
    let lang = c.lang;
    let (title, text, small) = (t.sizes.title, t.sizes.text, t.sizes.small);
    let view = &c.appointment;
    let mut page = Page::new(t, &format!("{} {}", t.say("title", lang), view.reference), lang.tag());
    let (left, right) = (page.margin, page.width - page.margin);
    let width = right - left;
    let gap = 8.0;
    let footer = t.say("footer", lang).to_string();
    let footer_lines = page.break_lines(Weight::Regular, small, width, &footer).len() as f32;
    let footer_top = page.height - page.margin - footer_lines * leading(small);
    let top = page.margin + title;
    let mut flow = Flow { y: top, bottom: footer_top - gap, top };

    // The reference and its QR code, which the window scans, at the top right.
    let module = 3.0;
    let qr_side = crate::pdf::page::qr_modules(&view.reference).map_or(0.0, |(n, _)| n as f32 * module);
    let head_w = width - qr_side - 4.0 * module - gap;
    page.qr(right - qr_side, page.margin, module, &view.reference);
    let mut y = page.row(flow.y, &[cell(left, head_w, Weight::Bold, title, t.say("title", lang))]);
    y = page.row(y + small * 0.5, &[cell(left, head_w, Weight::Bold, small, t.say("reference", lang))]);
    // The reference is large: its capitals need their height above the baseline.
    let big = title * 1.4;
    y = page.row(
        y - leading(small) + small * 0.3 + big,
        &[cell(left, head_w, Weight::Bold, big, &view.reference)],
    );
    y = page.wrapped(Weight::Regular, small, left, y, head_w, t.say("scan", lang));
    flow.y = y.max(page.margin + qr_side + 4.0 * module) + text * 0.2;
    page.rule(flow.y - text * 0.6, 0.8);
    flow.y += text * 0.8;

    // The appointment: a label column and a value column.
    let label_w = 110.0;
    let value_x = left + label_w + gap;
    let status = lang.t(wording::appointment_status(view.status));
    let service = wording::service(&view.service).map_or(view.service.as_str(), |w| lang.t(w));
    let starts = calendar::printed(c.starts);
    let place = format!("{}\n{}", c.post_name, c.post_address);
    let people: Vec<String> =
        view.applicants.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect();
    let people = people.join("\n");
    for (key, value) in [
        ("service", service),
        ("status", status),
        ("starts_at", &starts),
        ("post", &place),
        ("people", &people),
    ] {
        let label = cell(left, label_w, Weight::Bold, small, t.say(key, lang));
        let mut y_value = flow.y;
        // A value of several lines (an address, a family) keeps each on its own line.
        let lines: Vec<&str> = value.lines().collect();
        let height: f32 = lines
            .iter()
            .map(|l| page.row_height(&[cell(value_x, right - value_x, Weight::Regular, text, l)]))
            .sum();
        flow.room(&mut page, height);
        y_value = y_value.max(flow.y);
        page.row(y_value, &[label]);
        for line in lines {
            y_value = page.row(y_value, &[cell(value_x, right - value_x, Weight::Regular, text, line)]);
        }
        flow.y = y_value + text * 0.3;
    }

    // What to bring: for everyone, then for the service (and for a child's first passport).
    heading(&mut page, &mut flow, t.say("bring", lang), text);
    for item in to_bring(t, c) {
        bullet(&mut page, &mut flow, left, width, text, item);
    }

    // The fees to expect.
    heading(&mut page, &mut flow, t.say("fees", lang), text);
    if c.fees.is_empty() {
        bullet(&mut page, &mut flow, left, width, text, t.say("no_fees", lang));
    }
    let (amount_w, qty_w) = (90.0, 110.0);
    let amount_x = right - amount_w;
    let qty_x = amount_x - gap - qty_w;
    let mut total = 0;
    for fee in &c.fees {
        let key = format!("fee_{}", fee.fee_code);
        let mut name =
            if t.has_label(&key) { t.say(&key, lang).to_string() } else { fee.description.clone() };
        if fee.per_certificate {
            name = format!("{name} ({})", t.say("per_certificate", lang));
        }
        let amount = fee.unit_cents * i64::from(fee.quantity);
        total += amount;
        let times = format!("{} × {}", fee.quantity, format_cents(fee.unit_cents));
        let amount = format!("USD {}", format_cents(amount));
        let cells = [
            cell(left, qty_x - gap - left, Weight::Regular, text, &name),
            Cell {
                x: qty_x,
                width: qty_w,
                align: Align::Right,
                weight: Weight::Regular,
                size: text,
                text: &times,
            },
            Cell {
                x: amount_x,
                width: amount_w,
                align: Align::Right,
                weight: Weight::Regular,
                size: text,
                text: &amount,
            },
        ];
        flow.row(&mut page, &cells, text * 0.15);
    }
    if !c.fees.is_empty() {
        let total = format!("USD {}", format_cents(total));
        let cells = [
            cell(left, qty_x - gap - left, Weight::Bold, text, t.say("total", lang)),
            Cell {
                x: amount_x - 40.0,
                width: amount_w + 40.0,
                align: Align::Right,
                weight: Weight::Bold,
                size: text,
                text: &total,
            },
        ];
        flow.row(&mut page, &cells, text * 0.3);
        let date = c.fees_date.to_string();
        let note = t.say_with("fees_note", lang, &[("date", &date)]);
        paragraph(&mut page, &mut flow, left, width, small, &note);
    }

    // Cancel or change, and the door's rules.
    heading(&mut page, &mut flow, t.say("manage", lang), text);
    paragraph(&mut page, &mut flow, left, width, text, t.say("manage_text", lang));
    paragraph(&mut page, &mut flow, left, width, text, &c.manage_url);
    flow.y += text * 0.5;
    paragraph(&mut page, &mut flow, left, width, small, t.say("arrive", lang));

    page.on_every_page(|page, _, _| {
        page.wrapped(Weight::Regular, small, left, footer_top + small, width, &footer);
    });
    page.finish()
}

fn cell(x: f32, width: f32, weight: Weight, size: f32, text: &str) -> Cell<'_> {
    Cell { x, width, align: Align::Left, weight, size, text }
}

/// A section's heading, kept on the page with at least two lines after it.
fn heading(page: &mut Page, flow: &mut Flow, text: &str, size: f32) {
    flow.y += size * 0.8;
    flow.room(page, leading(size) * 3.5);
    let width = page.width - 2.0 * page.margin;
    flow.y = page.row(flow.y, &[cell(page.margin, width, Weight::Bold, size * 1.15, text)]) + size * 0.2;
}

/// Text wrapped margin to margin, on a new page if it doesn't fit on this one.
fn paragraph(page: &mut Page, flow: &mut Flow, x: f32, width: f32, size: f32, text: &str) {
    let lines = page.break_lines(Weight::Regular, size, width, text).len() as f32;
    flow.room(page, lines * leading(size));
    flow.y = page.wrapped(Weight::Regular, size, x, flow.y, width, text) + size * 0.2;
}

/// One item of a list, after a bullet, its lines indented.
fn bullet(page: &mut Page, flow: &mut Flow, x: f32, width: f32, size: f32, text: &str) {
    let indent = size * 1.4;
    let lines = page.break_lines(Weight::Regular, size, width - indent, text).len() as f32;
    flow.room(page, lines * leading(size));
    page.text(Weight::Regular, size, x + size * 0.2, flow.y, "•");
    flow.y = page.wrapped(Weight::Regular, size, x + indent, flow.y, width - indent, text) + size * 0.25;
}

/// What to bring, in the confirmation's language: for everyone, then for the service (or the
/// general list), and for a child's first passport. The PDF and the mail print the same list.
pub fn to_bring<'t>(t: &'t Template, c: &Confirmation) -> Vec<&'t str> {
    let lang = c.lang;
    let service = c.appointment.service.as_str();
    let mut items = vec![t.say("bring_everyone", lang)];
    let service_items = t.list(&format!("bring_{service}"), lang);
    items.extend(if service_items.is_empty() { t.list("bring_other", lang) } else { service_items });
    if service == "passport-new" && c.child_under_16 {
        items.extend(t.list("bring_passport-new_under_16", lang));
    }
    items
}

/// What the confirmation of `appointment` prints in `lang`: the fees it lists are priced from
/// the schedule in force on the appointment's local date. Shared by the download and the mail.
pub fn of(
    conn: &mut DbConn,
    appointment: AppointmentView,
    lang: Lang,
    public_url: &str,
) -> Result<Confirmation, AppError> {
    let manage_base = public_url.trim_end_matches('/');
    let post = crate::reference::list_posts(conn)?.into_iter().find(|p| p.code == appointment.post);
    let zone = calendar::post_zone(conn, &appointment.post)?;
    let starts = chrono::DateTime::parse_from_rfc3339(&appointment.starts_at)
        .map_err(|e| AppError::internal(anyhow::anyhow!("appointment start: {e}")))?
        .with_timezone(&zone);
    let date = starts.date_naive();
    let schedule = crate::reference::fees_on(conn, date)?;
    let fees = expected::for_visit(&appointment.service, &appointment.applicants, date)
        .into_iter()
        .filter_map(|e| {
            let fee = schedule.iter().find(|f| f.code == e.fee_code)?;
            Some(FeeLine {
                fee_code: fee.code.clone(),
                description: fee.description.clone(),
                quantity: e.quantity,
                unit_cents: fee.amount_cents,
                per_certificate: e.per_certificate,
            })
        })
        .collect();
    let (post_name, post_address) =
        post.map_or_else(|| (appointment.post.clone(), String::new()), |p| (p.name, p.address));
    Ok(Confirmation {
        child_under_16: expected::has_child_under_16(&appointment.applicants, date),
        manage_url: format!("{manage_base}/my/{}", appointment.reference),
        appointment,
        post_name,
        post_address,
        starts,
        fees,
        fees_date: date,
        lang,
    })
}

/// The confirmation PDF of the applicant's own appointment in `lang`, and its file name: the
/// fees it lists are priced from the schedule in force on the appointment's local date.
pub async fn printed(
    pool: &Pool,
    templates: &Arc<Templates>,
    public_url: &str,
    who: Applicant,
    reference: Reference,
    lang: Lang,
) -> Result<(Vec<u8>, String), AppError> {
    let public_url = public_url.to_string();
    let confirmation = db::run(pool, move |conn| {
        let appointment = appointments::view_own(conn, &reference, who.id)?;
        of(conn, appointment, lang, &public_url)
    })
    .await?;
    let templates = templates.clone();
    let name = format!("appointment-{}.pdf", confirmation.appointment.reference);
    let pdf = crate::blocking::run(move || render(&templates, &confirmation)).await?;
    Ok((pdf, name))
}
