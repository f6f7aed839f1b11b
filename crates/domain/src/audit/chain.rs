//! The hash chain, as pure rules: an entry's canonical content and its hash.
//!
//! hash = hex(SHA-256(previous entry's hash ‖ "\n" ‖ canonical content)); the first entry of a
//! chain follows [`GENESIS`]. The canonical content is a JSON array of every recorded field in
//! a fixed order, so changing, dropping or moving any entry changes a hash that the next entry
//! (or the chain's head, for the last one) pins.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

/// What the first entry of every chain follows.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The chain of events that belong to no post (sign-ins, registrations, unbound staff).
pub const GLOBAL_CHAIN: &str = "*";

/// One entry's recorded fields and its place in its chain, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub chain: String,
    pub seq: i64,
    /// The audit_log row the seal is of.
    pub entry_id: i64,
    pub recorded_at: NaiveDateTime,
    pub actor_kind: String,
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub post: Option<String>,
    /// The change as stored: a JSON object of ids and codes.
    pub change: String,
}

impl Content {
    /// The fields in their fixed order; timestamps to the microsecond, as both backends keep them.
    pub fn canonical(&self) -> String {
        let fields = serde_json::json!([
            self.chain,
            self.seq,
            self.entry_id,
            self.recorded_at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
            self.actor_kind,
            self.actor_id,
            self.actor_role,
            self.action,
            self.entity,
            self.entity_id,
            self.post,
            self.change,
        ]);
        fields.to_string()
    }

    /// This entry's hash when it follows `prev_hash`.
    pub fn hash(&self, prev_hash: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(self.canonical().as_bytes());
        hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// `now` cut to whole microseconds: what PostgreSQL stores, so the hash is of what is kept.
pub fn to_micros(now: NaiveDateTime) -> NaiveDateTime {
    use chrono::SubsecRound;
    now.trunc_subsecs(6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").expect("timestamp")
    }

    fn entry() -> Content {
        Content {
            chain: "MEX".into(),
            seq: 1,
            entry_id: 17,
            recorded_at: t("2026-11-27 18:00:00.123456"),
            actor_kind: "staff".into(),
            actor_id: Some(3),
            actor_role: Some("admin".into()),
            action: "closure.created".into(),
            entity: "closure".into(),
            entity_id: Some("9".into()),
            post: Some("MEX".into()),
            change: r#"{"date":"2026-12-24"}"#.into(),
        }
    }

    #[test]
    fn the_hash_covers_every_field_and_the_previous_hash() {
        let base = entry();
        let h = base.hash(GENESIS);
        assert_eq!(h.len(), 64);
        assert_eq!(h, entry().hash(GENESIS), "deterministic");
        assert_ne!(h, base.hash(&h), "depends on the previous hash");
        let variants = [
            Content { seq: 2, ..entry() },
            Content { entry_id: 18, ..entry() },
            Content { actor_id: Some(4), ..entry() },
            Content { actor_role: None, ..entry() },
            Content { entity_id: None, ..entry() },
            Content { post: None, ..entry() },
            Content { change: r#"{"date":"2026-12-25"}"#.into(), ..entry() },
            Content { recorded_at: t("2026-11-27 18:00:00.123457"), ..entry() },
        ];
        for changed in variants {
            assert_ne!(changed.hash(GENESIS), h, "{changed:?}");
        }
    }

    #[test]
    fn fields_cannot_be_shifted_into_each_other() {
        // Without structure, "ab" + "c" and "a" + "bc" would hash alike.
        let a = Content { entity: "ab".into(), entity_id: Some("c".into()), ..entry() };
        let b = Content { entity: "a".into(), entity_id: Some("bc".into()), ..entry() };
        assert_ne!(a.hash(GENESIS), b.hash(GENESIS));
    }

    #[test]
    fn micros() {
        assert_eq!(to_micros(t("2026-11-27 18:00:00.1234567")), t("2026-11-27 18:00:00.123456"));
    }
}
