//! Who is asking: the client's address behind the trusted proxies, for throttles and logs.
//! The API, the pages and the request log read it alike.

use actix_web::{web, HttpRequest};

/// The address throttles and logs count against: the TCP peer, or, when the peer is a trusted
/// proxy (`CONSULAR_DESK_TRUSTED_PROXIES`), the client it names; IPv6 by its /64
/// ([`crate::proxies`]).
pub fn client_address(req: &HttpRequest) -> String {
    let Some(peer) = req.peer_addr().map(|a| a.ip()) else {
        return "unknown".into();
    };
    let client = match trusted_proxies(req) {
        Some(proxies) => proxies.client(peer, header_lines(req, proxies.header.name()).as_deref()),
        None => peer,
    };
    crate::proxies::counting_key(client)
}

/// The configured trusted proxies, if any.
pub(crate) fn trusted_proxies(req: &HttpRequest) -> Option<&crate::proxies::TrustedProxies> {
    req.app_data::<web::Data<crate::state::AppState>>()
        .map(|s| &s.settings.trusted_proxies)
        .filter(|proxies| !proxies.is_empty())
}

/// Every line of header `name`, in order, joined with commas: a proxy may add a line rather
/// than extend one.
pub(crate) fn header_lines(req: &HttpRequest, name: &str) -> Option<String> {
    let lines: Vec<&str> = req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect();
    (!lines.is_empty()).then(|| lines.join(","))
}
