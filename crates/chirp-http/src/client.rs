//! Who the client is, when proxies stand in between.
//!
//! A request's peer is the last hop: behind nginx, the response caches and
//! the web site that is one of our own processes, and the browser's address
//! travels in `X-Forwarded-For`. Anyone can send that header, so it is
//! believed only when the peer is a proxy we run ([`TrustedProxies`]), and
//! then read from the right: each trusted hop appended the address it saw,
//! and the first address from the right that is not one of ours is the
//! client. Entries left of it were written by the client and are ignored.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The networks whose forwarding headers are believed
/// (`CHIRP_TRUSTED_PROXIES`). Loopback by default, where the local topology
/// runs nginx and the caches.
#[derive(Clone, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// `CHIRP_TRUSTED_PROXIES` did not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "{0:?} is not an IP address or network; write addresses or networks separated by commas, \
     like 127.0.0.1/8, ::1, 10.0.0.0/8 (or `none`)"
)]
pub struct BadProxy(String);

impl TrustedProxies {
    /// Trusts nobody: every peer is the client.
    pub fn none() -> Self {
        Self(Vec::new())
    }

    /// 127.0.0.0/8 and ::1.
    pub fn loopback() -> Self {
        Self(vec![
            IpNet::from_str("127.0.0.0/8").unwrap_or_default(),
            IpNet::from_str("::1/128").unwrap_or_default(),
        ])
    }

    /// Whether `ip` is one of our proxies.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

impl Default for TrustedProxies {
    fn default() -> Self {
        Self::loopback()
    }
}

impl FromStr for TrustedProxies {
    type Err = BadProxy;

    /// A comma- or space-separated list of addresses and networks; `none`
    /// (or nothing) for an empty list.
    fn from_str(text: &str) -> Result<Self, BadProxy> {
        let items: Vec<&str> = text
            .split([',', ' '])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        if items == ["none"] {
            return Ok(Self::none());
        }
        items
            .into_iter()
            .map(|item| {
                item.parse::<IpNet>()
                    .or_else(|_| item.parse::<IpAddr>().map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| BadProxy(item.to_owned()))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }
}

impl fmt::Debug for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(ToString::to_string))
            .finish()
    }
}

impl fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&list.join(","))
    }
}

/// The client's address: the peer itself, unless the peer is a trusted
/// proxy; then the right-most `X-Forwarded-For` entry that is not (or the
/// left-most entry, when every hop is ours). An entry that is not an
/// address ends the walk there: a proxy of ours never writes one.
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.trusts(client) {
        return client;
    }
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip.to_canonical();
        if !trusted.trusts(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn xff(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(X_FORWARDED_FOR, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted = TrustedProxies::loopback();
        let h = xff(&["198.51.100.7"]);
        assert_eq!(
            client_addr(ip("203.0.113.5"), &h, &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn behind_trusted_hops_the_first_untrusted_address_from_the_right_is_the_client() {
        let trusted: TrustedProxies = "127.0.0.0/8, 10.0.0.0/8".parse().expect("list");
        // The client forged the first entry; nginx appended the real one,
        // a cache appended nginx's.
        let h = xff(&["6.6.6.6, 203.0.113.5", "10.0.0.2"]);
        assert_eq!(
            client_addr(ip("127.0.0.1"), &h, &trusted),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn when_every_hop_is_trusted_the_left_most_is_the_client() {
        let trusted = TrustedProxies::loopback();
        let h = xff(&["127.0.0.2, 127.0.0.1"]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.2"));
        assert_eq!(
            client_addr(ip("127.0.0.9"), &HeaderMap::new(), &trusted),
            ip("127.0.0.9")
        );
    }

    #[test]
    fn junk_in_the_chain_stops_the_walk_at_the_last_good_hop() {
        let trusted = TrustedProxies::loopback();
        let h = xff(&["not-an-ip, 127.0.0.3"]);
        assert_eq!(client_addr(ip("127.0.0.1"), &h, &trusted), ip("127.0.0.3"));
    }

    #[test]
    fn ipv4_mapped_peers_count_as_their_ipv4_address() {
        let trusted = TrustedProxies::loopback();
        assert!(trusted.trusts(ip("::ffff:127.0.0.1")));
        assert!(trusted.trusts(ip("::1")));
        assert!(!trusted.trusts(ip("::ffff:192.0.2.1")));
    }

    #[test]
    fn lists_parse_with_bare_addresses_networks_and_none() {
        let t: TrustedProxies = "192.0.2.1 10.1.2.3/8".parse().expect("list");
        assert_eq!(t.to_string(), "192.0.2.1/32,10.0.0.0/8");
        assert!(t.trusts(ip("10.9.9.9")));
        assert_eq!(
            "none".parse::<TrustedProxies>().expect("none"),
            TrustedProxies::none()
        );
        assert_eq!(
            "".parse::<TrustedProxies>().expect("empty"),
            TrustedProxies::none()
        );
        let err = "10.0.0.0/8, nginx"
            .parse::<TrustedProxies>()
            .expect_err("bad");
        assert!(err.to_string().contains("\"nginx\""), "{err}");
    }
}
