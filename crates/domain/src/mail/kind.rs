//! What a message is about. Each kind has one template per language in `mail_templates/` and
//! a fixed set of values the template may use.

use serde::Serialize;

macro_rules! kinds {
    ($($variant:ident = $code:literal { $($value:literal),* };)*) => {
        /// Every kind of message the service sends.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[schema(as = MailKind)]
        pub enum Kind {
            $($variant,)*
        }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The stable code stored in the outbox and used in file names and logs.
            pub fn code(self) -> &'static str {
                match self {
                    $(Kind::$variant => $code,)*
                }
            }

            pub fn parse(code: &str) -> Option<Kind> {
                match code {
                    $($code => Some(Kind::$variant),)*
                    _ => None,
                }
            }

            /// The values its template may name as `{value}`: a template naming another one
            /// stops the server at start-up.
            pub fn values(self) -> &'static [&'static str] {
                match self {
                    $(Kind::$variant => &[$($value),*],)*
                }
            }
        }
    };
}

// Appointment messages also get `reference`, `service`, `post`, `when`, `address`, `manage_url`
// and `bring` from the appointment itself when they are sent (see `compose`).
kinds! {
    ConfirmEmail = "confirm_email" { "name", "link" };
    PasswordReset = "password_reset" { "name", "link", "minutes" };
    PasswordChanged = "password_changed" { "name" };
    EmailChanged = "email_changed" { "name", "new_email" };
    AppointmentBooked = "appointment_booked" { "name", "reference", "service", "post", "when", "address", "manage_url", "bring" };
    AppointmentRescheduled = "appointment_rescheduled" { "name", "reference", "service", "post", "when", "address", "manage_url", "bring" };
    AppointmentCancelled = "appointment_cancelled" { "name", "reference", "service", "post", "when", "book_url" };
    AppointmentReminder = "appointment_reminder" { "name", "reference", "service", "post", "when", "address", "manage_url", "bring" };
    AppointmentDisplaced = "appointment_displaced" { "name", "reference", "service", "post", "when", "manage_url" };
    DocumentReady = "document_ready" { "name", "tracking_number", "post", "address", "track_url", "settings_url" };
    StaffPasswordReset = "staff_password_reset" { "username" };
    StaffAssignmentChanged = "staff_assignment_changed" { "username", "role", "post" };
    RegistryConfirm = "registry_confirm" { "manage_url", "travellers", "arrives", "departs", "district" };
    Emergency = "emergency" { "subject", "body", "manage_url" };
    Newsletter = "newsletter" { "subject", "body", "manage_url", "unsubscribe_url" };
}

impl Kind {
    /// Messages about a registered stay: they name it, and are withdrawn if it is deleted (or
    /// no longer wants them) before they go.
    pub fn is_registry(self) -> bool {
        matches!(self, Kind::RegistryConfirm | Kind::Emergency | Kind::Newsletter)
    }

    /// Messages about an appointment carry its calendar file; those about a kept appointment
    /// also its confirmation PDF.
    pub fn is_appointment(self) -> bool {
        matches!(
            self,
            Kind::AppointmentBooked
                | Kind::AppointmentRescheduled
                | Kind::AppointmentCancelled
                | Kind::AppointmentReminder
                | Kind::AppointmentDisplaced
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.code()), Some(*kind));
            assert!(seen.insert(kind.code()), "{} twice", kind.code());
        }
        assert_eq!(Kind::parse("nope"), None);
    }
}
