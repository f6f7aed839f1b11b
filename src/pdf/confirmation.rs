//! The appointment confirmation an applicant prints or shows at the door: reference, post,
//! service, time in the post's zone, the people, and what to bring
//! (`pdf_templates/confirmation.json`).

use crate::booking::appointments::AppointmentView;
use crate::error::AppError;
use crate::pdf::page::{Page, Weight};
use crate::pdf::receipt::local_time;
use crate::pdf::Templates;

/// The labels `confirmation.json` must give.
pub const LABELS: &[&str] =
    &["title", "reference", "post", "service", "starts_at", "people", "status", "bring", "footer"];

pub fn render(
    templates: &Templates,
    appointment: &AppointmentView,
    post_name: &str,
) -> Result<Vec<u8>, AppError> {
    let t = &templates.confirmation;
    let (title, text, small) = (t.sizes.title, t.sizes.text, t.sizes.small);
    let mut page = Page::new(t, &format!("{} {}", t.label("title"), appointment.reference));
    let (left, right) = (page.margin, page.width - page.margin);
    let line = text * 1.5;
    let mut y = page.margin + title;
    page.text(Weight::Bold, title, left, y, &t.label("title"));
    y += line * 1.2;
    page.rule(y, 0.8);
    y += line * 1.3;
    let value_x = left + 160.0;
    let people: Vec<String> =
        appointment.applicants.iter().map(|p| format!("{} {}", p.given_names, p.surname)).collect();
    let rows = [
        ("reference", appointment.reference.clone()),
        ("post", post_name.to_string()),
        ("service", appointment.service.clone()),
        ("starts_at", local_time(&appointment.starts_at)),
        ("status", appointment.status.clone()),
    ];
    for (key, value) in rows {
        page.text(Weight::Bold, small, left, y, &t.label(key));
        page.text(Weight::Regular, if key == "reference" { title } else { text }, value_x, y, &value);
        y += if key == "reference" { line * 1.3 } else { line };
    }
    page.text(Weight::Bold, small, left, y, &t.label("people"));
    for person in people {
        page.text(Weight::Regular, text, value_x, y, &person);
        y += line;
    }
    y += line * 0.5;
    page.rule(y, 0.5);
    y += line;
    y = page.wrapped(Weight::Regular, text, left, y, right - left, &t.label("bring"));
    let _ = y;
    let footer_y = page.height - page.margin;
    page.wrapped(Weight::Regular, small, left, footer_y, right - left, &t.label("footer"));
    Ok(page.finish())
}
