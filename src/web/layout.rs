//! The frame every page shares: language, title, a skip link to the content, the site's
//! header with its navigation and the language switch (a plain link, so it works without
//! JavaScript and is remembered in a cookie), and the emergency line in the footer.

use maud::{html, Markup, DOCTYPE};

use crate::web::i18n::{Lang, Text};

pub const SITE: Text = (
    "U.S. Embassy and Consulates in Mexico: Citizen Services",
    "Embajada y Consulados de EE. UU. en México: Servicios a Ciudadanos",
);
const SKIP: Text = ("Skip to the content", "Ir al contenido");
const HOME: Text = ("Home", "Inicio");
const TRACK: Text = ("Track a document", "Seguimiento de un documento");
const MINE: Text = ("My appointments", "Mis citas");
const MENU: Text = ("Main menu", "Menú principal");
const EMERGENCY: Text = (
    "Emergencies involving U.S. citizens, at any hour: +52 55 5080 2000, ext. 4440 in business hours; after hours, ext. 0 for the duty officer.",
    "Emergencias de ciudadanos estadounidenses, a cualquier hora: +52 55 5080 2000, ext. 4440 en horario de oficina; fuera de horario, ext. 0 para el oficial de guardia.",
);
const SWITCH: Text = ("Español", "English");

/// The menu: the staff's on staff pages, the public's elsewhere.
fn menu(path: &str) -> &'static [(&'static str, Text)] {
    if path.starts_with("/staff") {
        &[
            ("/staff", ("Day board", "Tablero del día")),
            ("/staff/cash", ("Cash", "Caja")),
            ("/staff/register", ("Notarial register", "Registro notarial")),
            ("/staff/reports", ("Fee report", "Informe de derechos")),
            ("/staff/audit", ("Audit log", "Bitácora")),
            ("/staff/admin/accounts", ("Accounts", "Cuentas")),
            ("/staff/admin/schedules", ("Schedules", "Horarios")),
            ("/staff/admin/closures", ("Closures", "Cierres")),
            ("/staff/admin/fees", ("Fees", "Tarifas")),
        ]
    } else {
        &[("/", HOME), ("/track", TRACK), ("/my", MINE)]
    }
}

/// A whole page: `title` (also the page's one `h1`), `path` (to come back to after a
/// language switch) and the content.
pub fn frame(lang: Lang, title: &str, path: &str, content: Markup) -> Markup {
    let other = lang.other();
    let switch = format!("/lang/{}?next={}", other.code(), encode(path));
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t(SITE)) }
                link rel="stylesheet" href="/static/site.css";
            }
            body {
                a.skip href="#main" { (lang.t(SKIP)) }
                header.site {
                    a href="/" { strong { (lang.t(SITE)) } }
                    nav aria-label=(lang.t(MENU)) {
                        ul {
                            @for (href, text) in menu(path) { li { a href=(href) { (lang.t(*text)) } } }
                            li { a href=(switch) lang=(other.code()) hreflang=(other.code()) { (lang.t(SWITCH)) } }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer.site { p { (lang.t(EMERGENCY)) } }
            }
        }
    }
}

/// `path` made safe to carry in a query string.
pub fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The sign-out form posting to `action`: this browser, or every device (`everywhere`).
pub fn sign_out_form(lang: Lang, csrf: &str, action: &str) -> Markup {
    html! {
        form method="post" action=(action) {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" { (lang.t(("Sign out", "Cerrar sesión"))) }
            " "
            button type="submit" name="everywhere" value="1" { (lang.t(("Sign out on every device", "Cerrar sesión en todos los dispositivos"))) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_encoded_for_the_switch_link() {
        assert_eq!(encode("/track"), "/track");
        assert_eq!(encode("/track?number=A&x=\"<"), "/track%3Fnumber%3DA%26x%3D%22%3C");
    }
}
