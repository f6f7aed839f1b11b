//! Signed tokens: two audiences, two secrets, one pinned algorithm.

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::{JwtSettings, Secret};
use crate::db::schema::app_secrets;
use crate::db::{is_unique_violation, DbConn};

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

    /// Name of the row in `app_secrets` that keeps a generated secret.
    fn secret_name(self) -> &'static str {
        match self {
            Audience::Public => "jwt_public",
            Audience::Staff => "jwt_staff",
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
    validation: Validation,
    ttl: Duration,
}

/// Issues and verifies tokens for both audiences.
pub struct Keys {
    algorithm: Algorithm,
    issuer: String,
    public: AudienceKeys,
    staff: AudienceKeys,
}

impl Keys {
    /// Takes the secrets from the settings, or else from the database, generating and storing
    /// them on first start so that restarts and other instances agree.
    pub fn load(settings: &JwtSettings, conn: &mut DbConn) -> anyhow::Result<Keys> {
        let public = match &settings.public_secret {
            Some(s) => s.clone(),
            None => stored_secret(conn, Audience::Public)?,
        };
        let staff = match &settings.staff_secret {
            Some(s) => s.clone(),
            None => stored_secret(conn, Audience::Staff)?,
        };
        Ok(Keys::new(settings, &public, &staff))
    }

    pub fn new(settings: &JwtSettings, public: &Secret, staff: &Secret) -> Keys {
        let make = |secret: &Secret, audience: Audience, ttl: Duration| {
            let mut validation = Validation::new(settings.algorithm);
            validation.set_audience(&[audience.aud()]);
            validation.set_issuer(&[&settings.issuer]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
            validation.leeway = 5;
            AudienceKeys {
                encoding: EncodingKey::from_secret(secret.expose()),
                decoding: DecodingKey::from_secret(secret.expose()),
                validation,
                ttl,
            }
        };
        Keys {
            algorithm: settings.algorithm,
            issuer: settings.issuer.clone(),
            public: make(public, Audience::Public, settings.public_token_ttl),
            staff: make(staff, Audience::Staff, settings.staff_token_ttl),
        }
    }

    fn of(&self, audience: Audience) -> &AudienceKeys {
        match audience {
            Audience::Public => &self.public,
            Audience::Staff => &self.staff,
        }
    }

    /// A token for `subject`, valid from `now` for the audience's lifetime.
    pub fn issue(
        &self,
        audience: Audience,
        subject: &str,
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
        };
        let token = jsonwebtoken::encode(&Header::new(self.algorithm), &claims, &keys.encoding)?;
        Ok((token, expires_at))
    }

    /// The subject of a token of `audience`, if its signature, algorithm, issuer, audience and
    /// expiry all hold.
    pub fn verify(&self, audience: Audience, token: &str) -> Result<String, TokenError> {
        let keys = self.of(audience);
        match jsonwebtoken::decode::<Claims>(token, &keys.decoding, &keys.validation) {
            Ok(data) => Ok(data.claims.sub),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(TokenError::Expired),
            Err(_) => Err(TokenError::Invalid),
        }
    }
}

fn stored_secret(conn: &mut DbConn, audience: Audience) -> anyhow::Result<Secret> {
    let name = audience.secret_name();
    let find = |conn: &mut DbConn| {
        app_secrets::table.find(name).select(app_secrets::value).first::<String>(conn).optional()
    };
    if let Some(value) = find(conn)? {
        return Ok(Secret::new(value));
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let generated = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let inserted = diesel::insert_into(app_secrets::table)
        .values((
            app_secrets::name.eq(name),
            app_secrets::value.eq(&generated),
            app_secrets::created_at.eq(Utc::now().naive_utc()),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => Ok(Secret::new(generated)),
        // Another instance stored its secret first: use that one.
        Err(e) if is_unique_violation(&e) => find(conn)?
            .map(Secret::new)
            .ok_or_else(|| anyhow::anyhow!("secret {name} vanished after a conflict")),
        Err(e) => Err(e.into()),
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
        let (token, _) = keys.issue(Audience::Public, "42", Utc::now()).expect("issue");
        assert_eq!(keys.verify(Audience::Public, &token), Ok("42".into()));
        assert_eq!(keys.verify(Audience::Staff, &token), Err(TokenError::Invalid));
    }

    #[test]
    fn expired_tokens_are_told_apart() {
        let keys = keys();
        let (token, _) = keys.issue(Audience::Staff, "7", Utc::now() - Duration::days(2)).expect("issue");
        assert_eq!(keys.verify(Audience::Staff, &token), Err(TokenError::Expired));
    }

    #[test]
    fn another_algorithm_is_refused() {
        let mut other = settings();
        other.algorithm = Algorithm::HS512;
        let forger = Keys::new(&other, &Secret::new("p".repeat(32)), &Secret::new("s".repeat(32)));
        let (token, _) = forger.issue(Audience::Public, "1", Utc::now()).expect("issue");
        assert_eq!(keys().verify(Audience::Public, &token), Err(TokenError::Invalid));
    }
}
