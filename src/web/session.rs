//! The pages' sessions and forms: the applicant's session is their public token in an
//! HttpOnly, SameSite=Lax cookie (Secure when the request came over TLS), checked exactly as a
//! bearer token is (so a password change or a sign-out ends it); every form carries a CSRF
//! token bound to the session it belongs to (before sign-in, to a `csrf` cookie), compared in
//! constant time.

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::HttpRequest;
use base64::Engine;

use crate::auth::Applicant;
use crate::state::AppState;

/// The applicant's session cookie.
pub const SESSION: &str = "session";
/// The forms' CSRF cookie (visitors who are not signed in).
pub const CSRF: &str = "csrf";
/// The staff session cookie (path `/staff`).
pub const STAFF_SESSION: &str = "staff_session";

/// Whether the request came over HTTPS: this server's own TLS, or a trusted proxy saying so
/// ([`crate::proxies::TrustedProxies::client_over_tls`]); a client's own `X-Forwarded-Proto`
/// or `Forwarded` counts for nothing. The one place that decides it: Secure cookies and HSTS
/// follow it.
pub fn over_tls(req: &HttpRequest) -> bool {
    if req.app_config().secure() {
        return true;
    }
    match (crate::http::client::trusted_proxies(req), req.peer_addr()) {
        (Some(proxies), Some(peer)) => proxies.client_over_tls(
            peer.ip(),
            crate::http::client::header_lines(req, proxies.header.proto_name()).as_deref(),
        ),
        _ => false,
    }
}

/// The signed-in applicant, if the session cookie holds a token that is still good.
pub async fn applicant(state: &AppState, req: &HttpRequest) -> Option<Applicant> {
    let token = req.cookie(SESSION)?.value().to_string();
    crate::accounts::token_check::applicant(&state.pool, &state.keys, &state.clock, &token).await.ok()
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

/// The session a form on this request's page belongs to: the staff session under `/staff`
/// (its cookie is sent nowhere else), the applicant's elsewhere; `None` for a visitor who is
/// not signed in.
fn form_session(req: &HttpRequest) -> Option<String> {
    let name = if req.path().starts_with("/staff") { STAFF_SESSION } else { SESSION };
    req.cookie(name).map(|c| c.value().to_string()).filter(|v| !v.is_empty())
}

/// The CSRF token of a session: a hash of its token. Bound to the session, so it is new at
/// every sign-in and a cookie planted by someone else is worth nothing; a hash, so a page that
/// leaks does not leak the session. Nobody without the session cookie (HttpOnly) can compute it.
fn bound_to(session_token: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new().chain_update(b"consular-desk csrf\0").chain_update(session_token).finalize();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// The CSRF token for the forms of this page, and the cookie to set when a visitor who is not
/// signed in had none yet. A signed-in visitor's token is bound to the session; before
/// sign-in (the sign-in and registration forms) it is a random value in a `csrf` cookie
/// (HttpOnly, SameSite=Strict), renewed at sign-in and sign-out.
pub fn csrf_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(session) = form_session(req) {
        return (bound_to(&session), None);
    }
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

/// Whether a form's `sent` token is the one [`csrf_token`] gave this visitor's page, compared
/// in constant time.
pub fn csrf_holds(req: &HttpRequest, sent: &str) -> bool {
    use subtle::ConstantTimeEq;
    let expected = match form_session(req) {
        Some(session) => bound_to(&session),
        None => match req.cookie(CSRF) {
            Some(cookie) => cookie.value().to_string(),
            None => return false,
        },
    };
    !sent.is_empty() && bool::from(expected.as_bytes().ct_eq(sent.as_bytes()))
}

/// A cookie that drops the visitor's pre-sign-in CSRF token: set at sign-in and sign-out, so
/// the token of one session is never the next one's.
pub fn renewed_csrf(req: &HttpRequest) -> Cookie<'static> {
    let mut cookie = Cookie::build(CSRF, "").path("/").http_only(true).secure(over_tls(req)).finish();
    cookie.make_removal();
    cookie
}
