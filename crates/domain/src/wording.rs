//! What the domain's codes are called for people, in English and Spanish: services,
//! appointment and document states, and kinds of document. The API keeps the codes; pages and
//! papers print these words, so both say the same thing.

use crate::booking::status::AppointmentStatus;
use crate::documents::tracking::{Kind, Status};

/// A text in English and in Spanish.
pub type Words = (&'static str, &'static str);

/// The service's two languages, for pages and for papers printed in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// The other language, which the switch offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::En => Lang::Es,
            Lang::Es => Lang::En,
        }
    }

    /// `text`'s words in this language.
    pub fn t(self, text: Words) -> &'static str {
        let (en, es) = text;
        match self {
            Lang::En => en,
            Lang::Es => es,
        }
    }

    /// The language tag a PDF declares (`/Lang`): Mexico's Spanish, the United States' English.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en-US",
            Lang::Es => "es-MX",
        }
    }
}

/// A service's name, for the codes the service knows.
pub fn service(code: &str) -> Option<Words> {
    match code {
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
    }
}

pub fn appointment_status(status: AppointmentStatus) -> Words {
    match status {
        AppointmentStatus::Booked => ("Booked", "Reservada"),
        AppointmentStatus::Cancelled => ("Cancelled", "Cancelada"),
        AppointmentStatus::CheckedIn => ("Checked in", "Llegada registrada"),
        AppointmentStatus::Called => ("Called to a window", "Llamada a ventanilla"),
        AppointmentStatus::InService => ("At the window", "En ventanilla"),
        AppointmentStatus::Completed => ("Completed", "Concluida"),
        AppointmentStatus::NoShow => ("Did not come", "No se presentó"),
        AppointmentStatus::NotServed => ("Not served by closing time", "No atendida al cierre"),
    }
}

/// A staff role's name.
pub fn role(role: crate::auth::Role) -> Words {
    use crate::auth::Role;
    match role {
        Role::Clerk => ("clerk", "auxiliar"),
        Role::Supervisor => ("supervisor", "supervisor"),
        Role::Auditor => ("auditor", "auditor"),
        Role::Admin => ("administrator", "administrador"),
        Role::DutyOfficer => ("duty officer", "oficial de guardia"),
    }
}

pub fn document_kind(kind: Kind) -> Words {
    match kind {
        Kind::Passport => ("Passport", "Pasaporte"),
        Kind::Crba => ("Consular Report of Birth Abroad", "Registro Consular de Nacimiento en el Extranjero"),
        Kind::Notarial => ("Notarial service", "Servicio notarial"),
    }
}

pub fn document_status(status: Status) -> Words {
    match status {
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
    }
}
