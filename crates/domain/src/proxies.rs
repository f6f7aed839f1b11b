//! Which address a request comes from, when the server sits behind reverse proxies.
//!
//! Throttles and logs count per client address. `Forwarded` and `X-Forwarded-For` are written
//! by whoever sends the request, so they are believed only as far as a chain of trusted proxies
//! vouches for them: starting from the TCP peer, while the hop is a trusted proxy, step to the
//! address it says it received the request from. The first untrusted hop is the client. Only
//! the one header the proxies write is read (the other passes through from the client
//! untouched), all its lines in order. IPv6 clients count by their /64: one host holds a whole
//! /64, and counting its addresses one by one would give it limits without end. Pure rules.

use std::net::IpAddr;
use std::str::FromStr;

/// One trusted address or network, e.g. `10.0.0.0/8`, `192.0.2.7`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl FromStr for Network {
    type Err = String;

    fn from_str(raw: &str) -> Result<Network, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let base: IpAddr = addr.parse().map_err(|_| format!("{raw:?} is not an address or CIDR"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?} has a prefix length outside 0..={max}"))?,
        };
        Ok(Network { base, prefix })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`, how a dual-stack socket reports IPv4 peers) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

/// Which header the trusted proxies write (`CONSULAR_DESK_PROXY_HEADER`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `X-Forwarded-For: client, proxy1, ...` (nginx, HAProxy, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl ProxyHeader {
    pub fn parse(raw: &str) -> Result<ProxyHeader, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
            "forwarded" => Ok(ProxyHeader::Forwarded),
            other => Err(format!("{other:?} is not one of x-forwarded-for, forwarded")),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProxyHeader::XForwardedFor => "x-forwarded-for",
            ProxyHeader::Forwarded => "forwarded",
        }
    }

    /// The header in which these proxies say which scheme the client used: `X-Forwarded-Proto`
    /// beside `X-Forwarded-For`, the `proto=` of `Forwarded` itself.
    pub fn proto_name(self) -> &'static str {
        match self {
            ProxyHeader::XForwardedFor => "x-forwarded-proto",
            ProxyHeader::Forwarded => "forwarded",
        }
    }
}

/// The configured trusted proxies (`CONSULAR_DESK_TRUSTED_PROXIES`) and the header they write;
/// no proxies trusts nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<Network>,
    pub header: ProxyHeader,
}

impl TrustedProxies {
    /// A comma- or space-separated list of addresses and CIDRs.
    pub fn parse(raw: &str, header: ProxyHeader) -> Result<TrustedProxies, String> {
        let networks = raw
            .split([',', ' '])
            .filter(|s| !s.trim().is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()?;
        Ok(TrustedProxies { networks, header })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.networks.iter().any(|n| n.contains(ip))
    }

    /// The client address of a request from `peer` whose proxy header (all its lines joined
    /// with commas, in order) is `forwarded`: the rightmost hop that is not a trusted proxy. A
    /// hop that can't be read stops the walk at the last trusted proxy that reported it.
    pub fn client(&self, peer: IpAddr, forwarded: Option<&str>) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = match (self.header, forwarded) {
            (_, None) => Vec::new(),
            (ProxyHeader::Forwarded, Some(f)) => forwarded_for(f),
            (ProxyHeader::XForwardedFor, Some(x)) => x.split(',').map(str::trim).collect(),
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match parse_hop(hop) {
                Some(ip) => {
                    client = ip;
                    if !self.trusts(ip) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

impl TrustedProxies {
    /// Whether the client reached the proxies over HTTPS, for a request from `peer` whose
    /// [`ProxyHeader::proto_name`] header (all its lines joined with commas) is `said`. Only a
    /// trusted peer is believed. `X-Forwarded-Proto`: the last value, the one the nearest
    /// proxy wrote. `Forwarded`: the `proto=` of the element that names the client, walked
    /// as [`TrustedProxies::client`] walks; no `proto=` there, or an unreadable hop, is no.
    pub fn client_over_tls(&self, peer: IpAddr, said: Option<&str>) -> bool {
        let Some(said) = said.filter(|_| self.trusts(canonical(peer))) else {
            return false;
        };
        let proto = match self.header {
            ProxyHeader::XForwardedFor => said.rsplit(',').next().map(str::trim),
            ProxyHeader::Forwarded => self.client_element_proto(said),
        };
        proto.is_some_and(|p| p.trim_matches('"').eq_ignore_ascii_case("https"))
    }

    /// The `proto=` of the `Forwarded` element where the walk from the peer stops.
    fn client_element_proto<'h>(&self, header: &'h str) -> Option<&'h str> {
        for element in header.rsplit(',') {
            let pair = |name: &str| {
                element.split(';').find_map(|pair| {
                    let (n, v) = pair.split_once('=')?;
                    n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
                })
            };
            let hop = parse_hop(pair("for")?)?;
            if !self.trusts(hop) {
                return pair("proto");
            }
        }
        None
    }
}

/// The key a client address counts under: the address itself, or for IPv6 its /64.
pub fn counting_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
        v4 => v4.to_string(),
    }
}

/// The `for=` values of a `Forwarded` header (RFC 7239), in order.
fn forwarded_for(header: &str) -> Vec<&str> {
    header
        .split(',')
        .flat_map(|element| element.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            name.trim().eq_ignore_ascii_case("for").then(|| value.trim())
        })
        .collect()
}

/// An address from a hop: `192.0.2.1`, `192.0.2.1:4711`, `"[2001:db8::1]:4711"`, `2001:db8::1`.
fn parse_hop(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok()).map(canonical);
    }
    raw.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse().ok())).map(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn xff(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list, ProxyHeader::XForwardedFor).expect("list")
    }

    #[test]
    fn networks() {
        let net: Network = "10.0.0.0/8".parse().expect("cidr");
        assert!(net.contains(ip("10.200.1.1")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.0.0.1")));
        let all: Network = "0.0.0.0/0".parse().expect("cidr");
        assert!(all.contains(ip("203.0.113.9")));
        let one: Network = "2001:db8::1".parse().expect("address");
        assert!(one.contains(ip("2001:db8::1")) && !one.contains(ip("2001:db8::2")));
        assert!("10.0.0.0/33".parse::<Network>().is_err());
        assert!("proxy.local".parse::<Network>().is_err());
        assert!(TrustedProxies::parse("10.0.0.1, 192.168.0.0/16", ProxyHeader::default()).is_ok());
        assert!(TrustedProxies::parse("10.0.0.1,nope", ProxyHeader::default()).is_err());
        assert_eq!(ProxyHeader::parse("Forwarded"), Ok(ProxyHeader::Forwarded));
        assert!(ProxyHeader::parse("x-real-ip").is_err());
    }

    #[test]
    fn headers_are_ignored_unless_the_peer_is_trusted() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.5"), Some("198.51.100.1")), ip("203.0.113.5"));
        assert_eq!(xff("10.0.0.1").client(ip("203.0.113.5"), Some("198.51.100.1")), ip("203.0.113.5"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies = xff("10.0.0.0/8");
        // The client forged the first entry; the proxies appended the real ones.
        let chain = "1.2.3.4, 198.51.100.7, 10.0.0.2";
        assert_eq!(proxies.client(ip("10.0.0.1"), Some(chain)), ip("198.51.100.7"));
        assert_eq!(proxies.client(ip("10.0.0.1"), None), ip("10.0.0.1"));
        // Every hop trusted: the leftmost one is the best there is.
        assert_eq!(proxies.client(ip("10.0.0.1"), Some("10.9.9.9")), ip("10.9.9.9"));
        // Garbage stops the walk at the proxy that reported it.
        assert_eq!(proxies.client(ip("10.0.0.1"), Some("1.2.3.4, garbage")), ip("10.0.0.1"));
    }

    #[test]
    fn forwarded_header() {
        let proxies = TrustedProxies::parse("10.0.0.1", ProxyHeader::Forwarded).expect("list");
        let f = r#"for=1.2.3.4;proto=https, For="[2001:db8:cafe::17]:4711""#;
        assert_eq!(proxies.client(ip("10.0.0.1"), Some(f)), ip("2001:db8:cafe::17"));
        assert_eq!(proxies.client(ip("10.0.0.1"), Some("for=192.0.2.60:8080")), ip("192.0.2.60"));
    }

    #[test]
    fn only_a_trusted_proxy_says_the_client_used_https() {
        let client = ip("203.0.113.5");
        assert!(!TrustedProxies::default().client_over_tls(client, Some("https")));
        assert!(!xff("10.0.0.1").client_over_tls(client, Some("https")), "a client's own header");
        let proxies = xff("10.0.0.1");
        assert!(proxies.client_over_tls(ip("10.0.0.1"), Some("https")));
        assert!(proxies.client_over_tls(ip("::ffff:10.0.0.1"), Some("HTTPS")));
        assert!(!proxies.client_over_tls(ip("10.0.0.1"), Some("http")));
        assert!(!proxies.client_over_tls(ip("10.0.0.1"), None));
        // The client wrote the first value; the proxy appended what it saw.
        assert!(!proxies.client_over_tls(ip("10.0.0.1"), Some("https, http")));
        let fwd = TrustedProxies::parse("10.0.0.0/8", ProxyHeader::Forwarded).expect("list");
        let proxy = ip("10.0.0.1");
        assert!(fwd.client_over_tls(proxy, Some("for=198.51.100.7;proto=https")));
        assert!(fwd.client_over_tls(proxy, Some(r#"for=1.2.3.4;proto=http, for=198.51.100.7;proto="https""#)));
        assert!(!fwd.client_over_tls(
            proxy,
            Some("for=198.51.100.7;proto=https, for=10.0.0.2;proto=http, for=192.0.2.1")
        ));
        assert!(fwd.client_over_tls(proxy, Some("for=198.51.100.7;proto=https, for=10.0.0.2;proto=http")));
        assert!(!fwd.client_over_tls(proxy, Some("for=198.51.100.7")));
        assert!(!fwd.client_over_tls(proxy, Some("for=garbage;proto=https")));
        assert!(!fwd.client_over_tls(ip("203.0.113.9"), Some("for=198.51.100.7;proto=https")));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        assert_eq!(counting_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(counting_key(ip("2001:db8:1:2:bbbb::9")), "2001:db8:1:2::/64");
        assert_eq!(counting_key(ip("::ffff:192.0.2.1")), "192.0.2.1");
        assert_eq!(counting_key(ip("192.0.2.1")), "192.0.2.1");
    }
}
