//! The queue ticket (`pdf_templates/ticket.json`) for an 80 mm receipt printer: the post, the
//! ticket number large, the service in words, the check-in time, and "watch the screen for
//! your number", in English and Spanish, centred. The page is as long as what it prints: the
//! template's `height_mm` is only the most it may take.

use std::sync::Arc;

use printpdf::Mm;

use crate::auth::Actor;
use crate::booking::reference_code::Reference;
use crate::error::AppError;
use crate::pdf::page::{break_lines, text_width};
use crate::pdf::page::{Page, Weight};
use crate::pdf::sheet::{size_to_fit, Sheet};
use crate::pdf::{PageSpec, Template, Templates};
use crate::window::tickets::Ticket;
use crate::wording;

/// The labels `ticket.json` must give.
pub const LABELS: &[&str] = &["title", "number", "checked_in", "watch"];

/// One line, placed: its baseline is `y` points below the top.
struct Line {
    weight: Weight,
    size: f32,
    y: f32,
    text: String,
}

/// The ticket's lines and rules, top to bottom, and the page length they need.
struct Plan {
    lines: Vec<Line>,
    rules: Vec<f32>,
    height: f32,
}

fn points(mm: f32) -> f32 {
    Mm(mm).into_pt().0
}

/// Lays the ticket out by the template's font metrics, before the page (whose length it
/// decides) exists.
fn plan(t: &Template, ticket: &Ticket) -> Plan {
    let (title, text, small) = (t.sizes.title, t.sizes.text, t.sizes.small);
    let margin = points(t.page.margin_mm);
    let full = points(t.page.width_mm) - 2.0 * margin;
    let font = |weight| match weight {
        Weight::Bold => t.bold.as_ref().unwrap_or(&t.regular),
        Weight::Regular => &t.regular,
    };
    let mut plan = Plan { lines: Vec::new(), rules: Vec::new(), height: 0.0 };
    // The bottom of what is placed so far.
    let mut y = margin;
    let add = |plan: &mut Plan, y: &mut f32, weight: Weight, size: f32, text: &str| {
        for line in break_lines(|l| text_width(font(weight), size, l), text, full) {
            let baseline = *y + size * 0.95;
            plan.lines.push(Line { weight, size, y: baseline, text: line });
            *y = baseline + size * 0.3;
        }
    };
    let rule = |plan: &mut Plan, y: &mut f32| {
        *y += small * 0.7;
        plan.rules.push(*y);
        *y += small * 0.7;
    };

    add(&mut plan, &mut y, Weight::Bold, text, &ticket.post_name);
    rule(&mut plan, &mut y);
    add(&mut plan, &mut y, Weight::Regular, small, &t.label("number"));
    let big = size_to_fit(text_width(font(Weight::Bold), title, &ticket.ticket), title, text, full);
    add(&mut plan, &mut y, Weight::Bold, big, &ticket.ticket);
    // English, then Spanish, each on lines of its own: a narrow ticket reads better so.
    match wording::service(&ticket.service) {
        Some((en, es)) => {
            add(&mut plan, &mut y, Weight::Regular, text, en);
            if es != en {
                add(&mut plan, &mut y, Weight::Regular, text, es);
            }
        }
        None => add(&mut plan, &mut y, Weight::Regular, text, &ticket.service),
    }
    y += small * 0.6;
    add(&mut plan, &mut y, Weight::Regular, small, &t.label("checked_in"));
    add(&mut plan, &mut y, Weight::Regular, text, &crate::calendar::printed(ticket.checked_in_at));
    rule(&mut plan, &mut y);
    match t.labels.get("watch") {
        Some([en, es]) => {
            add(&mut plan, &mut y, Weight::Bold, text, en);
            y += small * 0.3;
            add(&mut plan, &mut y, Weight::Bold, text, es);
        }
        None => add(&mut plan, &mut y, Weight::Bold, text, &t.label("watch")),
    }
    plan.height = y + margin;
    plan
}

/// The template with the page cut to the plan's length.
fn cut(t: &Template, height: f32) -> Template {
    Template {
        page: PageSpec { height_mm: height * 25.4 / 72.0, ..t.page },
        sizes: t.sizes,
        regular: t.regular.clone(),
        bold: t.bold.clone(),
        labels: t.labels.clone(),
        lists: t.lists.clone(),
    }
}

fn draw<'t>(t: &'t Template, plan: &Plan, title: &str) -> Sheet<'t> {
    let mut s = Sheet::new(Page::new(t, title, "en-US"));
    for line in &plan.lines {
        let x = (s.page.width - s.width_of(line.weight, line.size, &line.text)) / 2.0;
        s.text(line.weight, line.size, x, line.y, &line.text);
    }
    for y in &plan.rules {
        s.page.rule(*y, 0.6);
    }
    s
}

pub fn render(templates: &Templates, ticket: &Ticket) -> Result<Vec<u8>, AppError> {
    let t = &templates.ticket;
    let plan = plan(t, ticket);
    let page = cut(t, plan.height);
    let title = format!("{} {}", t.label("title"), ticket.ticket);
    Ok(draw(&page, &plan, &title).page.finish())
}

/// The ticket as printed (the PDF, 80 mm wide) and its file name; the API and the staff
/// pages both print through here.
pub async fn printed(
    pool: &crate::db::Pool,
    templates: &Arc<Templates>,
    actor: Actor,
    reference: Reference,
) -> Result<(Vec<u8>, String), AppError> {
    let ticket =
        crate::db::run(pool, move |conn| crate::window::tickets::find(conn, &actor, &reference)).await?;
    let templates = templates.clone();
    let name = format!("ticket-{}.pdf", ticket.ticket);
    let pdf = crate::blocking::run(move || render(&templates, &ticket)).await??;
    Ok((pdf, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn templates() -> Templates {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pdf_templates");
        Templates::load(&dir).expect("templates")
    }

    fn ticket(number: &str, service: &str, post: &str) -> Ticket {
        let tz: chrono_tz::Tz = "America/Mexico_City".parse().expect("zone");
        Ticket {
            ticket: number.into(),
            service: service.into(),
            post_name: post.into(),
            checked_in_at: tz.with_ymd_and_hms(2026, 12, 1, 18, 45, 0).single().expect("time"),
        }
    }

    fn drawn(t: &Templates, ticket: &Ticket, check: impl Fn(&Sheet)) {
        let plan = plan(&t.ticket, ticket);
        let page = cut(&t.ticket, plan.height);
        let sheet = draw(&page, &plan, "test");
        sheet.check().expect("fits");
        check(&sheet);
    }

    #[test]
    fn a_ticket_is_80_mm_wide_as_long_as_its_content_and_fits() {
        let t = templates();
        drawn(&t, &ticket("P-014", "passport-renewal", "U.S. Embassy Mexico City"), |s| {
            assert!((s.page.width - points(80.0)).abs() < 0.01);
            assert!(s.page.height < points(120.0), "{} pt", s.page.height);
            let texts: Vec<&str> = s.placed.iter().map(|p| p.text.as_str()).collect();
            assert!(texts.contains(&"P-014"), "{texts:?}");
            assert!(texts.contains(&"2026-12-01 18:45 (UTC\u{2212}06:00)"));
            assert!(texts.iter().any(|t| t.contains("Watch the screen")), "{texts:?}");
        });
        // The longest service and post, and a ticket number past a thousand, still fit.
        let long = ticket("E-1234", "crba", "U.S. Consulate General Ciudad Juárez, Chihuahua, México");
        drawn(&t, &long, |s| assert!(s.placed.len() > 8));
    }

    #[test]
    fn the_pdf_is_titled_and_cut_to_its_content() {
        let t = templates();
        let pdf = render(&t, &ticket("N-007", "notarial", "U.S. Consulate General Monterrey")).expect("pdf");
        let doc = lopdf::Document::load_mem(&pdf).expect("loads");
        let info = doc.trailer.get(b"Info").and_then(|i| i.as_reference()).expect("info");
        let title = doc.get_dictionary(info).and_then(|d| d.get(b"Title")).expect("title");
        assert_eq!(lopdf::decode_text_string(title).expect("text"), "Queue ticket / Turno N-007");
        let page = doc.get_pages().into_values().next().expect("a page");
        let media = doc.get_dictionary(page).and_then(|p| p.get(b"MediaBox")).expect("media box");
        let media = media.as_array().expect("array");
        let height = media[3].as_float().or_else(|_| media[3].as_i64().map(|v| v as f32)).expect("height");
        assert!(height < 340.0, "{height} pt");
    }
}
