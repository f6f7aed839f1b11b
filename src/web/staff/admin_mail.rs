//! The admins' mail: one UTC day's messages counted by kind and state, and the ones given up
//! with their reasons, each with a button that puts it back in the queue. No address and no
//! body, as in the API.

use super::*;
use crate::http::HttpError;
use crate::mail::admin::{self as mail_admin, MailDay};
use crate::mail::Kind;
use crate::web::extract::{CsrfForm, StaffPage};

#[derive(Deserialize)]
pub struct MailPageQuery {
    /// The UTC day: today by default.
    date: Option<NaiveDate>,
    /// The message just put back in the queue, said at the top.
    again: Option<i64>,
}

/// The form of the "Send again" button: the day to come back to.
#[derive(Deserialize)]
pub struct AgainForm {
    csrf: String,
    date: Option<NaiveDate>,
}

crate::web::extract::carries_csrf!(AgainForm);

/// What each kind of message is, in the page's language.
fn kind_words(kind: Kind) -> Text {
    match kind {
        Kind::ConfirmEmail => ("Address confirmation", "Confirmación de correo"),
        Kind::PasswordReset => ("Password reset link", "Enlace para restablecer la contraseña"),
        Kind::PasswordChanged => ("Password changed", "Contraseña cambiada"),
        Kind::EmailChanged => ("Address changed", "Correo cambiado"),
        Kind::AppointmentBooked => ("Appointment booked", "Cita reservada"),
        Kind::AppointmentRescheduled => ("Appointment rescheduled", "Cita reprogramada"),
        Kind::AppointmentCancelled => ("Appointment cancelled", "Cita cancelada"),
        Kind::AppointmentReminder => ("Appointment reminder", "Recordatorio de cita"),
        Kind::AppointmentDisplaced => ("Appointment to move", "Cita por reprogramar"),
        Kind::DocumentReady => ("Document ready", "Documento listo"),
        Kind::StaffPasswordReset => ("Staff password reset", "Contraseña del personal restablecida"),
        Kind::StaffAssignmentChanged => {
            ("Staff role or post changed", "Función o sede del personal cambiada")
        }
        Kind::RegistryConfirm => ("Registry: confirm the address", "Registro: confirmar el correo"),
        Kind::Emergency => ("Emergency message", "Mensaje de emergencia"),
        Kind::Newsletter => ("Newsletter", "Boletín"),
    }
}

/// One UTC day of mail: the counts, the failed messages and their buttons.
#[get("/staff/admin/mail")]
pub async fn mail_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    query: web::Query<MailPageQuery>,
) -> Result<HttpResponse, HttpError> {
    let lang = admin.lang;
    let MailPageQuery { date, again } = query.into_inner();
    let date = date.unwrap_or_else(|| state.clock.naive().date());
    let day = match state.db(move |conn| mail_admin::day(conn, date)).await {
        Ok(day) => day,
        Err(e) => return refused(&req, lang, e),
    };
    let title = lang.t(("Mail", "Correo"));
    Ok(form_page(&req, StatusCode::OK, lang, title, "/staff/admin/mail", |csrf| {
        mail_body(lang, csrf, &day, again)
    }))
}

fn mail_body(lang: Lang, csrf: &str, day: &MailDay, again: Option<i64>) -> Markup {
    html! {
        @if let Some(id) = again {
            p.notice role="status" #again {
                (lang.t(("Message", "El mensaje"))) " " (id) " " (lang.t(("is in the queue again.", "está de nuevo en la cola.")))
            }
        }
        form method="get" action="/staff/admin/mail" {
            label for="mail_date" { (lang.t(("Day the messages were queued (UTC)", "Día en que se pusieron en cola los mensajes (UTC)"))) }
            input #mail_date name="date" type="date" required value=(day.date);
            button type="submit" { (lang.t(("Show", "Mostrar"))) }
        }
        h2 { (lang.t(("Messages by kind", "Mensajes por tipo"))) " · " (lang.date(day.date)) }
        @if day.kinds.is_empty() {
            p { (lang.t(("No messages were queued that day.", "Ese día no se puso ningún mensaje en cola."))) }
        } @else {
            table #counts {
                thead { tr {
                    th scope="col" { (lang.t(("Kind", "Tipo"))) }
                    th scope="col" { (lang.t(("Sent", "Enviados"))) }
                    th scope="col" { (lang.t(("Waiting", "En espera"))) }
                    th scope="col" { (lang.t(("Failed", "Fallidos"))) }
                    th scope="col" { (lang.t(("Withdrawn", "Retirados"))) }
                } }
                tbody {
                    @for k in &day.kinds {
                        tr {
                            th scope="row" { (lang.t(kind_words(k.kind))) }
                            td { (k.sent) }
                            td { (k.waiting) }
                            td { (k.failed) }
                            td { (k.withdrawn) }
                        }
                    }
                }
            }
        }
        h2 { (lang.t(("Given up", "Abandonados"))) }
        @if day.failed.is_empty() {
            p { (lang.t(("No message was given up.", "No se abandonó ningún mensaje."))) }
        } @else {
            table #failed {
                thead { tr {
                    th scope="col" { (lang.t(("Message", "Mensaje"))) }
                    th scope="col" { (lang.t(("Kind", "Tipo"))) }
                    th scope="col" { (lang.t(("Queued (UTC)", "En cola (UTC)"))) }
                    th scope="col" { (lang.t(("Tries", "Intentos"))) }
                    th scope="col" { (lang.t(("Last reason", "Último motivo"))) }
                    th scope="col" { (lang.t(("Action", "Acción"))) }
                } }
                tbody {
                    @for m in &day.failed {
                        tr {
                            td { (m.id) }
                            td { (lang.t(kind_words(m.kind))) }
                            td { (m.queued_at.format("%H:%M")) }
                            td { (m.tries) }
                            td { (m.reason) }
                            td {
                                form method="post" action={ "/staff/admin/mail/" (m.id) "/send-again" } {
                                    input type="hidden" name="csrf" value=(csrf);
                                    input type="hidden" name="date" value=(day.date);
                                    button type="submit" aria-label={ (lang.t(("Send message", "Enviar de nuevo el mensaje"))) " " (m.id) (lang.t((" again", ""))) } {
                                        (lang.t(("Send again", "Enviar de nuevo")))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (sign_out_button(lang, csrf))
    }
}

/// Puts a failed message back in the queue and comes back to its day with a notice.
#[post("/staff/admin/mail/{id}/send-again")]
pub async fn send_mail_again(
    state: web::Data<AppState>,
    req: HttpRequest,
    admin: StaffPage<AdminOnly>,
    id: web::Path<String>,
    form: CsrfForm<AgainForm>,
) -> Result<HttpResponse, HttpError> {
    let lang = admin.lang;
    let Ok(id) = id.parse::<i64>() else {
        return Ok(said(&req, StatusCode::NOT_FOUND, lang, lang.t(("Not found.", "No se encontró."))));
    };
    let now = state.clock.naive();
    let date = form.into_inner().date.unwrap_or_else(|| now.date());
    let actor = admin.actor();
    match state.db(move |conn| mail_admin::send_again(conn, &actor, id, now)).await {
        Ok(()) => Ok(redirect(&format!("/staff/admin/mail?date={date}&again={id}"))),
        Err(e) => refused(&req, lang, e),
    }
}
