//! A signed-in staff member as the operations see them, and the one rule for posts.

use crate::auth::Role;
use crate::error::AppError;

/// Who acts: operations take this and check the post themselves.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The post this member is bound to; `None` acts on every post.
    pub post: Option<String>,
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

impl Actor {
    /// 403 `wrong_post` unless this member may act on `target` (`None`: every post).
    pub fn ensure_scope(&self, target: Option<&str>) -> Result<(), AppError> {
        if may_act_on(self.post.as_deref(), target) {
            return Ok(());
        }
        let own = self.post.as_deref().unwrap_or("");
        Err(AppError::forbidden(
            "wrong_post",
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
}
