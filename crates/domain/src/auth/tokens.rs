//! Signed tokens: two audiences, two secrets, one pinned algorithm.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::{JwtSettings, Secret};

/// Who a token is for. Each audience has its own secret, so a token of one can never be
/// verified as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    Public,
    Staff,
}

impl Audience {
    pub fn aud(self) -> &'static str {
        match self {
            Audience::Public => "consular-desk/public",
            Audience::Staff => "consular-desk/staff",
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub aud: String,
    pub iss: String,
    pub exp: i64,
    pub iat: i64,
    /// The account's credential version when the token was issued. A password change or
    /// reset, disabling, or a role or post change increments the account's version, and the
    /// extractors refuse tokens of any other version. Required: tokens without it are refused.
    pub ver: i32,
    /// The session this token belongs to: random, new at every sign-in. Signing out records
    /// it as ended (`accounts::sessions`), which ends this token and no other. Required.
    pub sid: String,
}

/// Who a verified token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub subject: String,
    pub credential_version: i32,
    pub session: Session,
}

/// A signed-in session as its token names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The token's `sid`.
    pub id: String,
    /// When the token expires: an ended session need not be remembered past it.
    pub expires_at: DateTime<Utc>,
}

/// A new session id: 128 random bits, URL-safe base64 (22 characters).
fn new_session_id() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>())
}

/// Why a token was refused; the extractors turn this into a 401 or 403.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Expired,
    Invalid,
}

struct AudienceKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The secret before the last rotation, still accepted for verification.
    previous: Option<DecodingKey>,
    validation: Validation,
    ttl: Duration,
}

/// How far past its expiry a token is still taken: clocks of two instances differ a little.
const EXPIRY_LEEWAY_SECONDS: i64 = 5;

/// Issues and verifies tokens for both audiences.
pub struct Keys {
    algorithm: Algorithm,
    issuer: String,
    public: AudienceKeys,
    staff: AudienceKeys,
}

impl Keys {
    /// Keys from these secrets (loaded by `server_keys`); the settings' previous secrets, if any, still verify.
    pub fn new(settings: &JwtSettings, public: &Secret, staff: &Secret) -> Keys {
        let make = |secret: &Secret, previous: &Option<Secret>, audience: Audience, ttl: Duration| {
            let mut validation = Validation::new(settings.algorithm);
            validation.set_audience(&[audience.aud()]);
            validation.set_issuer(&[&settings.issuer]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            // Expiry is checked against the application's clock in `verify`, not the machine's.
            validation.validate_exp = false;
            AudienceKeys {
                encoding: EncodingKey::from_secret(secret.expose()),
                decoding: DecodingKey::from_secret(secret.expose()),
                previous: previous.as_ref().map(|p| DecodingKey::from_secret(p.expose())),
                validation,
                ttl,
            }
        };
        Keys {
            algorithm: settings.algorithm,
            issuer: settings.issuer.clone(),
            public: make(
                public,
                &settings.public_previous_secret,
                Audience::Public,
                settings.public_token_ttl,
            ),
            staff: make(staff, &settings.staff_previous_secret, Audience::Staff, settings.staff_token_ttl),
        }
    }

    fn of(&self, audience: Audience) -> &AudienceKeys {
        match audience {
            Audience::Public => &self.public,
            Audience::Staff => &self.staff,
        }
    }

    /// A token for `subject` at `credential_version` in a new session, valid from `now` for
    /// the audience's lifetime.
    pub fn issue(
        &self,
        audience: Audience,
        subject: &str,
        credential_version: i32,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(String, DateTime<Utc>)> {
        let keys = self.of(audience);
        let expires_at = now + keys.ttl;
        let claims = Claims {
            sub: subject.to_string(),
            aud: audience.aud().to_string(),
            iss: self.issuer.clone(),
            exp: expires_at.timestamp(),
            iat: now.timestamp(),
            ver: credential_version,
            sid: new_session_id(),
        };
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &keys.encoding)?;
        Ok((token, expires_at))
    }

    /// The subject of a token of `audience`, if its signature (by the current or the previous
    /// secret), algorithm, issuer, audience and expiry (at `now`, with five seconds' leeway)
    /// all hold.
    pub fn verify(
        &self,
        audience: Audience,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Verified, TokenError> {
        let keys = self.of(audience);
        let decode = |key: &DecodingKey| match jsonwebtoken::decode::<Claims>(token, key, &keys.validation) {
            Ok(data) if data.claims.exp + EXPIRY_LEEWAY_SECONDS < now.timestamp() => Err(TokenError::Expired),
            Ok(data) => Ok(Verified {
                subject: data.claims.sub,
                credential_version: data.claims.ver,
                session: Session {
                    id: data.claims.sid,
                    expires_at: DateTime::from_timestamp(data.claims.exp, 0)
                        .unwrap_or(DateTime::<Utc>::MAX_UTC),
                },
            }),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        };
        match (decode(&keys.decoding), &keys.previous) {
            (Err(TokenError::Invalid), Some(previous)) => decode(previous),
            (outcome, _) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> JwtSettings {
        JwtSettings {
            algorithm: Algorithm::HS256,
            issuer: "consular-desk".into(),
            public_secret: None,
            staff_secret: None,
            public_previous_secret: None,
            staff_previous_secret: None,
            public_token_ttl: Duration::minutes(60),
            staff_token_ttl: Duration::minutes(600),
        }
    }

    fn keys() -> Keys {
        Keys::new(&settings(), &Secret::new("p".repeat(32)), &Secret::new("s".repeat(32)))
    }

    #[test]
    fn a_token_verifies_only_for_its_own_audience() {
        let keys = keys();
        let (token, _) = keys.issue(Audience::Public, "42", 3, Utc::now()).expect("issue");
        let verified = keys.verify(Audience::Public, &token, Utc::now()).expect("verifies");
        assert_eq!((verified.subject.as_str(), verified.credential_version), ("42", 3));
        assert_eq!(keys.verify(Audience::Staff, &token, Utc::now()), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_tokens_are_told_apart() {
        let keys = keys();
        let (token, _) = keys.issue(Audience::Staff, "7", 1, Utc::now() - Duration::days(2)).expect("issue");
        assert_eq!(keys.verify(Audience::Staff, &token, Utc::now()), Err(TokenError::Expired));
    }

    #[test]
    fn another_algorithm_is_refused() {
        let mut other = settings();
        other.algorithm = Algorithm::HS512;
        let forger = Keys::new(&other, &Secret::new("p".repeat(32)), &Secret::new("s".repeat(32)));
        let (token, _) = forger.issue(Audience::Public, "1", 1, Utc::now()).expect("issue");
        assert_eq!(keys().verify(Audience::Public, &token, Utc::now()), Err(TokenError::Invalid));
    }

    #[test]
    fn the_previous_secret_still_verifies_after_a_rotation() {
        let old = keys();
        let (token, _) = old.issue(Audience::Staff, "7", 1, Utc::now()).expect("issue");
        let mut rotated = settings();
        rotated.staff_previous_secret = Some(Secret::new("s".repeat(32)));
        let new = Keys::new(&rotated, &Secret::new("p".repeat(32)), &Secret::new("t".repeat(32)));
        assert!(new.verify(Audience::Staff, &token, Utc::now()).is_ok());
        // Without the previous secret the old token is refused; new tokens use the new secret.
        let unrotated = Keys::new(&settings(), &Secret::new("p".repeat(32)), &Secret::new("t".repeat(32)));
        assert_eq!(unrotated.verify(Audience::Staff, &token, Utc::now()), Err(TokenError::Invalid));
        let (fresh, _) = new.issue(Audience::Staff, "7", 1, Utc::now()).expect("issue");
        assert_eq!(old.verify(Audience::Staff, &fresh, Utc::now()), Err(TokenError::Invalid));
    }

    #[test]
    fn every_token_has_a_session_of_its_own() {
        let keys = keys();
        let now = Utc::now();
        let (a, expires_at) = keys.issue(Audience::Staff, "7", 1, now).expect("issue");
        let (b, _) = keys.issue(Audience::Staff, "7", 1, now).expect("issue");
        let (a, b) = (
            keys.verify(Audience::Staff, &a, Utc::now()).expect("a"),
            keys.verify(Audience::Staff, &b, Utc::now()).expect("b"),
        );
        assert_ne!(a.session.id, b.session.id);
        assert_eq!(a.session.id.len(), 22);
        assert_eq!(a.session.expires_at.timestamp(), expires_at.timestamp());
    }

    /// A token signed with the public secret whose claims lack `missing`.
    fn signed_without(missing: &str) -> String {
        let mut claims = serde_json::json!({
            "sub": "1", "aud": "consular-desk/public", "iss": "consular-desk",
            "exp": Utc::now().timestamp() + 60, "ver": 1, "sid": "AAAAAAAAAAAAAAAAAAAAAA",
        });
        claims.as_object_mut().map(|c| c.remove(missing));
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret("p".repeat(32).as_bytes()),
        )
        .expect("encode")
    }

    #[test]
    fn tokens_without_a_session_are_refused() {
        assert_eq!(
            keys().verify(Audience::Public, &signed_without("sid"), Utc::now()),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn tokens_without_a_credential_version_are_refused() {
        assert_eq!(
            keys().verify(Audience::Public, &signed_without("ver"), Utc::now()),
            Err(TokenError::Invalid)
        );
    }
}
