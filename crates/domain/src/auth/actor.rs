//! Who acts: every operation that changes state takes an [`Actor`], checks what it may do
//! itself (post scope included), and records it in the audit trail.

use crate::auth::Role;
use crate::error::{AppError, Code};

/// A signed-in staff member as the operations see them.
#[derive(Debug, Clone)]
pub struct StaffMember {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The post this member is bound to; `None` acts on every post.
    pub post: Option<String>,
}

/// Who is acting on a write.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A signed-in applicant (by account id), or one registering.
    Applicant(i64),
    /// A signed-in staff member, with role and post.
    Staff(StaffMember),
    /// The server itself: the maintenance timer.
    System,
    /// Someone not signed in, as far as the server can tell: a sign-in that failed.
    Anonymous,
}

/// Whether a member bound to `own` may act on something of `target`. `None` means every post:
/// an unbound member acts anywhere, and only an unbound member may act on something unbound
/// (such as an unbound staff account), or a post-bound admin could mint itself a way out.
pub fn may_act_on(own: Option<&str>, target: Option<&str>) -> bool {
    match (own, target) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(own), Some(target)) => own == target,
    }
}

impl StaffMember {
    /// 403 `wrong_post` unless this member may act on `target` (`None`: every post).
    pub fn ensure_scope(&self, target: Option<&str>) -> Result<(), AppError> {
        if may_act_on(self.post.as_deref(), target) {
            return Ok(());
        }
        let own = self.post.as_deref().unwrap_or("");
        Err(AppError::new(
            Code::WrongPost,
            match target {
                Some(_) => format!("this account acts on post {own} only"),
                None => format!("this account acts on post {own} only, not on every post"),
            },
        ))
    }

    /// 403 `wrong_post` unless this member may act on `post`.
    pub fn ensure_post(&self, post: &str) -> Result<(), AppError> {
        self.ensure_scope(Some(post))
    }
}

impl Actor {
    /// The staff member acting; 403 for anyone else (the extractors already keep others out,
    /// so this only guards against an operation called with the wrong actor).
    pub fn staff(&self) -> Result<&StaffMember, AppError> {
        match self {
            Actor::Staff(member) => Ok(member),
            _ => Err(AppError::new(Code::InsufficientRole, "this is for staff only")),
        }
    }

    /// 403 unless this actor may act on `target` (`None`: every post): staff within their
    /// scope, and the system (and the operator's command line, which acts as it). Applicants
    /// act on their own things, which operations check by ownership instead.
    pub fn ensure_scope(&self, target: Option<&str>) -> Result<(), AppError> {
        match self {
            Actor::System => Ok(()),
            other => other.staff()?.ensure_scope(target),
        }
    }

    /// 403 unless this actor may act on `post` (see [`Actor::ensure_scope`]).
    pub fn ensure_post(&self, post: &str) -> Result<(), AppError> {
        self.ensure_scope(Some(post))
    }

    /// `applicant`, `staff`, `system` or `anonymous`: the audit trail's actor kind.
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Applicant(_) => "applicant",
            Actor::Staff(_) => "staff",
            Actor::System => "system",
            Actor::Anonymous => "anonymous",
        }
    }

    /// The account id behind the actor, if any.
    pub fn id(&self) -> Option<i64> {
        match self {
            Actor::Applicant(id) => Some(*id),
            Actor::Staff(member) => Some(member.id),
            Actor::System | Actor::Anonymous => None,
        }
    }

    /// The staff role at the time of acting.
    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::Staff(member) => Some(member.role),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posts() {
        assert!(may_act_on(None, None));
        assert!(may_act_on(None, Some("GDL")));
        assert!(may_act_on(Some("MEX"), Some("MEX")));
        assert!(!may_act_on(Some("MEX"), Some("GDL")));
        assert!(!may_act_on(Some("MEX"), None));
    }

    #[test]
    fn only_staff_and_the_system_act_on_a_post() {
        let clerk = StaffMember { id: 1, username: "c".into(), role: Role::Clerk, post: Some("MEX".into()) };
        assert!(Actor::Staff(clerk.clone()).ensure_post("MEX").is_ok());
        assert!(Actor::Staff(clerk).ensure_post("GDL").is_err());
        assert!(Actor::System.ensure_post("GDL").is_ok());
        assert!(Actor::Applicant(7).ensure_post("MEX").is_err());
        assert!(Actor::Anonymous.staff().is_err());
    }
}
