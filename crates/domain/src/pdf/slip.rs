//! The tracking slip (`pdf_templates/slip.json`, Letter, English and Spanish on one paper):
//! the post, the person's name, the service, when the window recorded it, the tracking number
//! large, and the public tracking address with its QR code, which opens the tracking page with
//! the number filled in; the surname is asked there too.

use std::sync::Arc;

use crate::auth::Actor;
use crate::documents::intake::Form;
use crate::documents::slips::Slip;
use crate::documents::tracking::TrackingNumber;
use crate::error::AppError;
use crate::pdf::page::{Page, Weight};
use crate::pdf::sheet::{size_to_fit, Sheet};
use crate::pdf::Templates;
use crate::wording::{self, Words};

/// The labels `slip.json` must give.
pub const LABELS: &[&str] =
    &["title", "name", "service", "recorded_at", "tracking_number", "track_at", "surname", "footer"];

/// The address the QR code holds: the public tracking page with the number filled in.
pub fn track_url(base: &str, tracking_number: &str) -> String {
    format!("{}/track?number={}", base.trim_end_matches('/'), tracking_number)
}

/// `English / Español`, or one text when both are the same.
fn both((en, es): Words) -> String {
    if en == es {
        en.to_string()
    } else {
        format!("{en} / {es}")
    }
}

/// The service in words, with the form's number for an application (`Passport (DS-82)`).
fn service(slip: &Slip) -> String {
    let (en, es) = wording::document_kind(slip.kind);
    match slip.form {
        Form::Notarial => both((en, es)),
        form => {
            let code = form.as_str();
            if en == es {
                format!("{en} ({code})")
            } else {
                format!("{en} ({code}) / {es} ({code})")
            }
        }
    }
}

pub fn render(templates: &Templates, slip: &Slip, public_url: &str) -> Result<Vec<u8>, AppError> {
    Ok(draw(templates, slip, public_url).page.finish())
}

/// The slip drawn, with where each text went.
fn draw<'t>(templates: &'t Templates, slip: &Slip, public_url: &str) -> Sheet<'t> {
    let t = &templates.slip;
    let (title, text, small) = (t.sizes.title, t.sizes.text, t.sizes.small);
    let mut s = Sheet::new(Page::new(t, &format!("{} {}", t.label("title"), slip.tracking_number), "en-US"));
    let (left, right) = (s.page.margin, s.page.width - s.page.margin);
    let full = right - left;
    // After lines of size `was`, the next baseline for lines of size `next`, a gap between.
    let step = |y: f32, was: f32, next: f32| y + (next * 0.9 - was * 1.05).max(0.0) + text * 0.35;

    let mut y = s.page.margin + title;
    y = s.lines(Weight::Bold, title, left, y, full, &t.label("title"));
    y = s.lines(Weight::Regular, text, left, y, full, &slip.post_name);
    s.page.rule(y - text * 0.6, 0.8);
    y = step(y, text, text) + text * 0.6;

    let name_size = text * 1.3;
    let fields = [
        ("name", name_size, slip.person.clone()),
        ("service", text, service(slip)),
        ("recorded_at", text, crate::calendar::printed(slip.recorded_at)),
    ];
    for (key, size, value) in fields {
        y = s.lines(Weight::Bold, small, left, y, full, &t.label(key));
        y = step(y, small, size);
        y = s.lines(Weight::Regular, size, left, y, full, &value);
        y = step(y, size, small) + text * 0.3;
    }

    y = s.lines(Weight::Bold, small, left, y, full, &t.label("tracking_number"));
    let big = title * 1.8;
    let big = size_to_fit(s.width_of(Weight::Bold, big, &slip.tracking_number), big, text, full);
    y = step(y, small, big);
    y = s.lines(Weight::Bold, big, left, y, full, &slip.tracking_number);
    s.page.rule(y - big * 0.5, 0.5);
    y = step(y, big, small) + text * 0.6;

    // The QR code, and beside it where it leads and what else the page asks.
    let url = track_url(public_url, &slip.tracking_number);
    let qr_top = y - small;
    let side = s.page.qr(left, qr_top, 3.0, &url);
    let beside_x = left + side + 18.0;
    let beside = right - beside_x;
    let mut by = qr_top + small;
    by = s.lines(Weight::Bold, small, beside_x, by, beside, &t.label("track_at"));
    by = step(by, small, text);
    by = s.lines(Weight::Regular, text, beside_x, by, beside, &url);
    by = step(by, text, text);
    s.lines(Weight::Regular, text, beside_x, by, beside, &t.label("surname"));

    let footer = t.label("footer");
    let count = s.page.break_lines(Weight::Regular, small, full, &footer).len() as f32;
    let footer_y = s.page.height - s.page.margin - small * 0.25 - (count - 1.0) * small * 1.3;
    s.lines(Weight::Regular, small, left, footer_y, full, &footer);
    s
}

/// The slip as printed (the PDF, with the public tracking address in its QR code) and its
/// file name; the API and the staff pages both print through here.
pub async fn printed(
    pool: &crate::db::Pool,
    templates: &Arc<Templates>,
    public_url: &str,
    actor: Actor,
    tracking: TrackingNumber,
) -> Result<(Vec<u8>, String), AppError> {
    let slip =
        crate::db::run(pool, move |conn| crate::documents::slips::find(conn, &actor, &tracking)).await?;
    let (templates, base) = (templates.clone(), public_url.to_string());
    let name = format!("tracking-slip-{}.pdf", slip.tracking_number);
    let pdf = crate::blocking::run(move || render(&templates, &slip, &base)).await??;
    Ok((pdf, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::tracking::Kind;
    use chrono::TimeZone;

    fn templates() -> Templates {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pdf_templates");
        Templates::load(&dir).expect("templates")
    }

    fn slip(person: &str, kind: Kind, form: Form) -> Slip {
        let tz: chrono_tz::Tz = "America/Tijuana".parse().expect("zone");
        Slip {
            tracking_number: "7KQM-4XPT-9ABCD".into(),
            post_name: "U.S. Consulate General Tijuana".into(),
            person: person.into(),
            kind,
            form,
            recorded_at: tz.with_ymd_and_hms(2026, 12, 1, 9, 15, 0).single().expect("time"),
        }
    }

    #[test]
    fn a_slip_prints_within_its_page_without_overlaps() {
        let t = templates();
        let sheet = draw(&t, &slip("Seán O'Brien", Kind::Passport, Form::Ds82), "https://citas.example.gov");
        sheet.check().expect("fits");
        let texts: Vec<&str> = sheet.placed.iter().map(|p| p.text.as_str()).collect();
        assert!(texts.contains(&"7KQM-4XPT-9ABCD"), "{texts:?}");
        assert!(texts.contains(&"Seán O'Brien"));
        assert!(texts.contains(&"2026-12-01 09:15 (UTC\u{2212}08:00)"));
        assert!(texts.contains(&"Passport (DS-82) / Pasaporte (DS-82)"));
        assert!(texts.iter().any(|t| t.contains("/track?number=7KQM-4XPT-9ABCD")), "{texts:?}");
    }

    #[test]
    fn long_names_and_addresses_wrap_within_the_page() {
        let t = templates();
        let surname = "WWWWWWWWWWMMMMMMMMMMWWWWWWWWWWMMMMMMMMMMWWWWWWWWWWMMMMMMMMMM";
        assert_eq!(surname.chars().count(), 60);
        let given = "María de los Ángeles Guadalupe Concepción Esperanza del Carmen";
        let person = format!("{given} {surname}");
        let base = "https://citas-y-servicios-consulares.embajada-de-los-estados-unidos.example.gov/mexico";
        for (kind, form) in [(Kind::Crba, Form::Ds2029), (Kind::Notarial, Form::Notarial)] {
            let sheet = draw(&t, &slip(&person, kind, form), base);
            sheet.check().expect("fits");
            let printed: String = sheet.placed.iter().map(|p| p.text.as_str()).collect();
            assert!(printed.contains(surname), "the surname is all there, if cut");
        }
    }

    #[test]
    fn the_pdf_is_titled() {
        let t = templates();
        let pdf =
            render(&t, &slip("Ana Ruiz", Kind::Passport, Form::Ds11), "http://127.0.0.1:8080").expect("pdf");
        assert!(pdf.starts_with(b"%PDF-"));
        let doc = lopdf::Document::load_mem(&pdf).expect("loads");
        let info = doc.trailer.get(b"Info").and_then(|i| i.as_reference()).expect("info");
        let title = doc.get_dictionary(info).and_then(|d| d.get(b"Title")).expect("title");
        let title = lopdf::decode_text_string(title).expect("text");
        assert_eq!(title, "Tracking slip / Comprobante de seguimiento 7KQM-4XPT-9ABCD");
    }
}
