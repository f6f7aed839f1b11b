//! The pages' sessions and forms: the applicant's session is their public token in an
//! HttpOnly, SameSite=Lax cookie (Secure when the request came over TLS), checked exactly as a
//! bearer token is (so a password change ends every session); every form carries a CSRF token
//! that must match the visitor's `csrf` cookie (HttpOnly, SameSite=Strict), compared in
//! constant time.

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::HttpRequest;
use base64::Engine;

use crate::auth::Applicant;
use crate::state::AppState;

/// The applicant's session cookie.
pub const SESSION: &str = "session";
/// The forms' CSRF cookie.
pub const CSRF: &str = "csrf";

/// Whether the request came over HTTPS: this server's own TLS, or a trusted proxy saying so
/// ([`crate::proxies::TrustedProxies::client_over_tls`]); a client's own `X-Forwarded-Proto`
/// or `Forwarded` counts for nothing. The one place that decides it: Secure cookies and HSTS
/// follow it.
pub fn over_tls(req: &HttpRequest) -> bool {
    if req.app_config().secure() {
        return true;
    }
    match (crate::api::trusted_proxies(req), req.peer_addr()) {
        (Some(proxies), Some(peer)) => proxies.client_over_tls(
            peer.ip(),
            crate::api::header_lines(req, proxies.header.proto_name()).as_deref(),
        ),
        _ => false,
    }
}

/// The signed-in applicant, if the session cookie holds a token that is still good.
pub async fn applicant(state: &AppState, req: &HttpRequest) -> Option<Applicant> {
    let token = req.cookie(SESSION)?.value().to_string();
    Applicant::from_token(state, &token).await.ok()
}

/// The session cookie for `token`, lasting as long as the token.
pub fn session_cookie(req: &HttpRequest, token: &str, lifetime_secs: i64) -> Cookie<'static> {
    Cookie::build(SESSION, token.to_string())
        .path("/")
        .http_only(true)
        .secure(over_tls(req))
        .same_site(SameSite::Lax)
        .max_age(Duration::seconds(lifetime_secs))
        .finish()
}

/// A cookie that removes the session.
pub fn ended_session(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = session_cookie(req, "", 0);
    cookie.make_removal();
    cookie
}

/// The visitor's CSRF token, and the cookie to set when they had none yet.
pub fn csrf_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = req.cookie(CSRF).filter(|c| c.value().len() == 43) {
        return (existing.value().to_string(), None);
    }
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let cookie = Cookie::build(CSRF, token.clone())
        .path("/")
        .http_only(true)
        .secure(over_tls(req))
        .same_site(SameSite::Strict)
        .finish();
    (token, Some(cookie))
}

/// Whether a form's `sent` token is the visitor's own.
pub fn csrf_holds(req: &HttpRequest, sent: &str) -> bool {
    use subtle::ConstantTimeEq;
    match req.cookie(CSRF) {
        Some(cookie) if !sent.is_empty() => cookie.value().as_bytes().ct_eq(sent.as_bytes()).into(),
        _ => false,
    }
}
