//! What the domain's codes are called on the pages, in each language: services, appointment
//! and document states, and kinds of document. The API keeps the codes; only pages say names.

use crate::booking::status::AppointmentStatus;
use crate::documents::tracking::{Kind, Status};
use crate::web::i18n::{Lang, Text};

/// A service's name; an unknown code is shown as it is.
pub fn service(lang: Lang, code: &str) -> String {
    let name: Option<Text> = match code {
        "notarial" => Some(("Notarial services", "Servicios notariales")),
        "passport-new" => Some(("New passport (adults and minors)", "Pasaporte nuevo (adultos y menores)")),
        "passport-renewal" => Some(("Passport renewal", "Renovación de pasaporte")),
        "passport-correction" => {
            Some(("Passport correction or replacement", "Corrección o reposición de pasaporte"))
        }
        "crba" => Some((
            "Consular Report of Birth Abroad (CRBA)",
            "Registro Consular de Nacimiento en el Extranjero (CRBA)",
        )),
        _ => None,
    };
    name.map_or_else(|| code.to_string(), |n| lang.t(n).to_string())
}

/// An appointment's state; an unknown code is shown as it is.
pub fn appointment_status(lang: Lang, code: &str) -> String {
    let Some(status) = AppointmentStatus::parse(code) else { return code.to_string() };
    lang.t(match status {
        AppointmentStatus::Booked => ("Booked", "Reservada"),
        AppointmentStatus::Cancelled => ("Cancelled", "Cancelada"),
        AppointmentStatus::CheckedIn => ("Checked in", "Llegada registrada"),
        AppointmentStatus::Called => ("Called to a window", "Llamada a ventanilla"),
        AppointmentStatus::InService => ("At the window", "En ventanilla"),
        AppointmentStatus::Completed => ("Completed", "Concluida"),
        AppointmentStatus::NoShow => ("Did not come", "No se presentó"),
    })
    .to_string()
}

pub fn document_kind(lang: Lang, kind: Kind) -> &'static str {
    lang.t(match kind {
        Kind::Passport => ("Passport", "Pasaporte"),
        Kind::Crba => ("Consular Report of Birth Abroad", "Registro Consular de Nacimiento en el Extranjero"),
        Kind::Notarial => ("Notarial service", "Servicio notarial"),
    })
}

pub fn document_status(lang: Lang, status: Status) -> &'static str {
    lang.t(match status {
        Status::Received => ("Received", "Recibido"),
        Status::SentForAdjudication => ("Sent for adjudication", "Enviado para resolución"),
        Status::MoreInformationNeeded => ("More information needed", "Se necesita más información"),
        Status::Approved => ("Approved", "Aprobado"),
        Status::Printed => ("Printed", "Impreso"),
        Status::ReceivedAtPost => ("Received at the consulate", "Recibido en el consulado"),
        Status::ReadyForPickup => ("Ready for pickup", "Listo para recoger"),
        Status::Delivered => ("Delivered", "Entregado"),
        Status::Denied => ("Denied", "Denegado"),
        Status::Withdrawn => ("Withdrawn", "Retirado"),
        Status::Pending => ("Pending", "Pendiente"),
        Status::Completed => ("Completed", "Concluido"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_and_service_has_a_name_in_both_languages() {
        for status in AppointmentStatus::ALL {
            assert_ne!(appointment_status(Lang::Es, status.as_str()), status.as_str());
        }
        for code in ["notarial", "passport-new", "passport-renewal", "passport-correction", "crba"] {
            assert_ne!(service(Lang::Es, code), service(Lang::En, code));
        }
        assert_eq!(service(Lang::Es, "visa-interview"), "visa-interview", "an unknown code as it is");
    }
}
