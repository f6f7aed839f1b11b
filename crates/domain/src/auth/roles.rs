//! Staff roles and which role may do what. Pure rules, no I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Supervisor,
    Auditor,
    Admin,
    /// Writes emergency messages and reads the citizen registry of its district.
    DutyOfficer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Clerk, Role::Supervisor, Role::Auditor, Role::Admin, Role::DutyOfficer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::DutyOfficer => "duty_officer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A set of roles an endpoint admits. Not a ladder: an auditor reads everything but works no
/// window, so "clerk+" means clerk, supervisor or admin.
pub trait Requirement {
    /// Shown in the 403 detail.
    const DESCRIPTION: &'static str;
    fn admits(role: Role) -> bool;
}

/// Window work: clerk, supervisor, admin.
pub struct ClerkPlus;
/// Voids, exchange rates, signing the close: supervisor, admin.
pub struct SupervisorPlus;
/// Reports and the audit trail: auditor, admin.
pub struct AuditorOrAdmin;
/// Accounts and reference data.
pub struct AdminOnly;
/// Any active staff member.
pub struct AnyStaff;
/// Emergency messages: duty officer, admin.
pub struct DutyOfficerOrAdmin;
/// The citizen registry: the staff who may have to reach citizens (duty officer, supervisor,
/// admin); each read is audited.
pub struct RegistryReaders;

impl Requirement for ClerkPlus {
    const DESCRIPTION: &'static str = "clerk, supervisor or admin";
    fn admits(role: Role) -> bool {
        matches!(role, Role::Clerk | Role::Supervisor | Role::Admin)
    }
}

impl Requirement for SupervisorPlus {
    const DESCRIPTION: &'static str = "supervisor or admin";
    fn admits(role: Role) -> bool {
        matches!(role, Role::Supervisor | Role::Admin)
    }
}

impl Requirement for AuditorOrAdmin {
    const DESCRIPTION: &'static str = "auditor or admin";
    fn admits(role: Role) -> bool {
        matches!(role, Role::Auditor | Role::Admin)
    }
}

impl Requirement for AdminOnly {
    const DESCRIPTION: &'static str = "admin";
    fn admits(role: Role) -> bool {
        role == Role::Admin
    }
}

impl Requirement for DutyOfficerOrAdmin {
    const DESCRIPTION: &'static str = "duty officer or admin";
    fn admits(role: Role) -> bool {
        matches!(role, Role::DutyOfficer | Role::Admin)
    }
}

impl Requirement for RegistryReaders {
    const DESCRIPTION: &'static str = "duty officer, supervisor or admin";
    fn admits(role: Role) -> bool {
        matches!(role, Role::DutyOfficer | Role::Supervisor | Role::Admin)
    }
}

impl Requirement for AnyStaff {
    const DESCRIPTION: &'static str = "staff";
    fn admits(_: Role) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_round_trips() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn auditor_is_not_clerk_plus_and_clerk_is_not_auditor() {
        assert!(!ClerkPlus::admits(Role::Auditor));
        assert!(ClerkPlus::admits(Role::Supervisor));
        assert!(!AuditorOrAdmin::admits(Role::Clerk));
        assert!(!SupervisorPlus::admits(Role::Clerk));
        assert!(AdminOnly::admits(Role::Admin));
        assert!(!AdminOnly::admits(Role::Supervisor));
        assert!(!ClerkPlus::admits(Role::DutyOfficer));
        assert!(DutyOfficerOrAdmin::admits(Role::DutyOfficer));
        assert!(!DutyOfficerOrAdmin::admits(Role::Supervisor));
        assert!(!RegistryReaders::admits(Role::Clerk));
    }
}
