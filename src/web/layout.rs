//! The frame every page shares: language, title, a skip link to the content, the site's
//! header with its navigation and the language switch (a plain link, so it works without
//! JavaScript and is remembered in a cookie), and the emergency line in the footer.

use maud::{html, Markup, DOCTYPE};

use crate::auth::roles::{
    AdminOnly, AnyStaff, AuditorOrAdmin, ClerkPlus, DutyOfficerOrAdmin, RegistryReaders, Requirement,
    SupervisorPlus,
};
use crate::auth::Role;
use crate::web::i18n::{Lang, Text};

pub const SITE: Text = (
    "U.S. Embassy and Consulates in Mexico: Citizen Services",
    "Embajada y Consulados de EE. UU. en México: Servicios a Ciudadanos",
);
const SKIP: Text = ("Skip to the content", "Ir al contenido");
const HOME: Text = ("Home", "Inicio");
const TRACK: Text = ("Track a document", "Seguimiento de un documento");
const MINE: Text = ("My appointments", "Mis citas");
const REGISTRY: Text = ("Register your stay", "Registre su estancia");
const MENU: Text = ("Main menu", "Menú principal");
const EMERGENCY: Text = (
    "Emergencies involving U.S. citizens, at any hour: +52 55 5080 2000, ext. 4440 in business hours; after hours, ext. 0 for the duty officer.",
    "Emergencias de ciudadanos estadounidenses, a cualquier hora: +52 55 5080 2000, ext. 4440 en horario de oficina; fuera de horario, ext. 0 para el oficial de guardia.",
);
const SWITCH: Text = ("Español", "English");
const FEEDBACK: Text = ("Tell us what you think", "Díganos qué opina");

/// The public menu.
const PUBLIC_MENU: &[(&str, Text)] =
    &[("/", HOME), ("/track", TRACK), ("/registry", REGISTRY), ("/my", MINE)];

/// Who is signed in on a staff page, for its header: the menu follows the role, and the
/// clerk's window is shown. Put on the request by the staff page extractor.
#[derive(Debug, Clone)]
pub struct StaffHeader {
    pub username: String,
    pub role: Role,
    /// The member's post; none for those who work at every post.
    pub post: Option<String>,
    /// The window this clerk works at, as remembered for the session.
    pub window: Option<String>,
}

/// Every staff page of the menu, with the requirement its handler checks: the menu shows a
/// member only what their role opens, by the same rule that lets them in.
/// A menu entry: where, its words, and whether a role may open it.
type MenuEntry = (&'static str, Text, fn(Role) -> bool);

const STAFF_MENU: &[MenuEntry] = &[
    ("/staff", ("Day board", "Tablero del día"), ClerkPlus::admits),
    ("/staff/receipts", ("Receipts", "Recibos"), AnyStaff::admits),
    ("/staff/cash", ("Cash", "Caja"), ClerkPlus::admits),
    ("/staff/documents", ("Documents", "Documentos"), AnyStaff::admits),
    ("/staff/not-served", ("Not served", "No atendidos"), SupervisorPlus::admits),
    ("/staff/register", ("Notarial register", "Registro notarial"), AnyStaff::admits),
    ("/staff/feedback", ("Feedback", "Opiniones"), AnyStaff::admits),
    ("/staff/reports", ("Fee report", "Informe de derechos"), AuditorOrAdmin::admits),
    ("/staff/audit", ("Audit log", "Bitácora"), AuditorOrAdmin::admits),
    ("/staff/emergency", ("Emergency messages", "Mensajes de emergencia"), DutyOfficerOrAdmin::admits),
    ("/staff/registry", ("Citizen registry", "Registro de ciudadanos"), RegistryReaders::admits),
    ("/staff/newsletter", ("Newsletter", "Boletín"), AdminOnly::admits),
    ("/staff/admin/accounts", ("Accounts", "Cuentas"), AdminOnly::admits),
    ("/staff/admin/schedules", ("Schedules", "Horarios"), AdminOnly::admits),
    ("/staff/admin/closures", ("Closures", "Cierres"), AdminOnly::admits),
    ("/staff/admin/closing-time", ("Closing time", "Hora de cierre"), AdminOnly::admits),
    ("/staff/admin/fees", ("Fees", "Tarifas"), AdminOnly::admits),
    ("/staff/admin/mail", ("Mail", "Correo"), AdminOnly::admits),
];

/// The staff pages `role` may open, as the menu lists them.
pub fn staff_menu(role: Role) -> impl Iterator<Item = (&'static str, Text)> {
    STAFF_MENU.iter().filter(move |(_, _, admits)| admits(role)).map(|(href, text, _)| (*href, *text))
}

/// Whether the member signed in on this request works at every post (and so picks one).
pub fn works_everywhere(req: &actix_web::HttpRequest) -> bool {
    use actix_web::HttpMessage;
    req.extensions().get::<StaffHeader>().is_some_and(|h| h.post.is_none())
}

/// Where a member starts after signing in, and where "back" leads: the clerk and the
/// supervisor on the day board, the auditor on the fee report, the admin on the accounts.
pub fn start_page(role: Role) -> &'static str {
    match role {
        Role::Clerk | Role::Supervisor => "/staff",
        Role::Auditor => "/staff/reports",
        Role::Admin => "/staff/admin/accounts",
        Role::DutyOfficer => "/staff/emergency",
    }
}

/// A whole page: `title` (also the page's one `h1`), `path` (to come back to after a
/// language switch) and the content.
pub fn frame(lang: Lang, title: &str, path: &str, content: Markup) -> Markup {
    frame_for(lang, title, path, None, content)
}

/// [`frame`] for a signed-in staff member: their menu, the search box, who and which window.
pub fn frame_for(
    lang: Lang,
    title: &str,
    path: &str,
    staff: Option<&StaffHeader>,
    content: Markup,
) -> Markup {
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
                            @match staff {
                                Some(staff) => {
                                    @for (href, text) in staff_menu(staff.role) { li { a href=(href) { (lang.t(text)) } } }
                                }
                                None if path.starts_with("/staff") => {}
                                None => {
                                    @for (href, text) in PUBLIC_MENU { li { a href=(href) { (lang.t(*text)) } } }
                                }
                            }
                            li { a href=(switch) lang=(other.code()) hreflang=(other.code()) { (lang.t(SWITCH)) } }
                        }
                    }
                    @if let Some(staff) = staff {
                        p.who {
                            (lang.t(("Signed in as", "Sesión de"))) " " strong { (staff.username) }
                            @if let Some(window) = &staff.window {
                                " · " (lang.t(("Window", "Ventanilla"))) " " strong.window { (window) }
                            }
                        }
                        form.search role="search" method="get" action="/staff/search" {
                            label for="site-search" { (lang.t(("Find", "Buscar"))) }
                            " "
                            input #site-search type="search" name="q" maxlength="100" autocomplete="off"
                                placeholder=(lang.t(("Name, reference, receipt, tracking number…", "Nombre, referencia, recibo, número de seguimiento…")));
                            " "
                            button type="submit" { (lang.t(("Search", "Buscar"))) }
                        }
                    }
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (content)
                }
                footer.site {
                    p { (lang.t(EMERGENCY)) }
                    @if staff.is_none() && !path.starts_with("/staff") {
                        p { a href="/feedback" { (lang.t(FEEDBACK)) } }
                    }
                }
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

    fn menu(role: Role) -> Vec<&'static str> {
        staff_menu(role).map(|(href, _)| href).collect()
    }

    #[test]
    fn each_role_sees_only_the_pages_it_may_open_and_starts_on_one_of_them() {
        assert_eq!(
            menu(Role::Clerk),
            [
                "/staff",
                "/staff/receipts",
                "/staff/cash",
                "/staff/documents",
                "/staff/register",
                "/staff/feedback"
            ]
        );
        assert_eq!(
            menu(Role::Auditor),
            [
                "/staff/receipts",
                "/staff/documents",
                "/staff/register",
                "/staff/feedback",
                "/staff/reports",
                "/staff/audit"
            ]
        );
        assert!(
            menu(Role::Supervisor).contains(&"/staff/cash")
                && !menu(Role::Supervisor).contains(&"/staff/audit")
        );
        assert_eq!(menu(Role::Admin).len(), STAFF_MENU.len());
        for role in Role::ALL {
            assert!(menu(role).contains(&start_page(role)), "{role:?} starts on a page it may open");
        }
    }

    #[test]
    fn paths_are_encoded_for_the_switch_link() {
        assert_eq!(encode("/track"), "/track");
        assert_eq!(encode("/track?number=A&x=\"<"), "/track%3Fnumber%3DA%26x%3D%22%3C");
    }
}
