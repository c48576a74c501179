//! The client address that per-address limits count: the TCP peer, or behind trusted reverse
//! proxies the address the nearest of them was connected from, taken from a forwarding header.
//!
//! Each proxy appends the address of the peer it saw to `X-Forwarded-For`, so only the entries
//! the trusted proxies appended (the rightmost ones) can be believed: everything to their left
//! came from the client and may be anything. With `hops` trusted proxies the client is the entry
//! `hops` places from the right.

use std::net::{IpAddr, SocketAddr};

use hyper::header::{HeaderMap, HeaderName};

/// Where the client address comes from (`LIVEUPDATE_CLIENT_ADDRESS_HEADER`,
/// `LIVEUPDATE_TRUSTED_PROXY_HOPS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardedBy {
    pub header: HeaderName,
    /// How many proxies in front of the gateway append to `header` (at least 1).
    pub trusted_hops: usize,
}

/// The address of the client: the entry `trusted_hops` from the right of the forwarding header
/// (all its lines read as one comma-separated list, as RFC 9110 §5.3 combines them), or `peer`
/// when there is no such header setting, or when the header is missing, too short or the entry is
/// not an address (then the request did not come through the trusted proxies as configured).
pub fn client_address(forwarded_by: Option<&ForwardedBy>, headers: &HeaderMap, peer: IpAddr) -> IpAddr {
    let Some(ForwardedBy { header, trusted_hops }) = forwarded_by else { return peer };
    let mut entries = Vec::new();
    for line in headers.get_all(header) {
        let Ok(text) = line.to_str() else { return peer };
        entries.extend(text.split(','));
    }
    let Some(index) = entries.len().checked_sub(*trusted_hops) else { return peer };
    parse_entry(entries[index]).unwrap_or(peer)
}

/// One list entry: an IPv4 or IPv6 address, possibly with a port (`203.0.113.7:4711`,
/// `[2001:db8::1]:4711`), as some proxies write them.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|socket| socket.ip()))
        .ok()
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests: a failed step should fail loudly")]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    const PEER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));

    fn forwarded(hops: usize) -> ForwardedBy {
        ForwardedBy { header: HeaderName::from_static("x-forwarded-for"), trusted_hops: hops }
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", HeaderValue::from_str(line).unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_a_header_setting_the_peer_counts() {
        assert_eq!(client_address(None, &headers(&["198.51.100.9"]), PEER), PEER);
    }

    /// The defect: the client's own first entry was believed, so varying it escaped every
    /// per-address limit. One trusted proxy appends the real address as the last entry.
    #[test]
    fn entries_the_client_wrote_are_not_believed() {
        let one = forwarded(1);
        for spoofed in ["1.2.3.4", "5.6.7.8", "garbage", "1.1.1.1, 2.2.2.2"] {
            let list = format!("{spoofed}, 203.0.113.7");
            assert_eq!(client_address(Some(&one), &headers(&[&list]), PEER), ip("203.0.113.7"), "{list}");
        }
        // A client's own header line comes first; the proxy's appended line last.
        assert_eq!(
            client_address(Some(&one), &headers(&["1.2.3.4", "203.0.113.7"]), PEER),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn several_trusted_proxies() {
        let two = forwarded(2);
        let list = headers(&["1.2.3.4, 203.0.113.7, 10.1.1.1"]);
        assert_eq!(client_address(Some(&two), &list, PEER), ip("203.0.113.7"));
        assert_eq!(client_address(Some(&forwarded(3)), &list, PEER), ip("1.2.3.4"));
    }

    #[test]
    fn ports_and_ipv6() {
        let one = forwarded(1);
        assert_eq!(client_address(Some(&one), &headers(&["203.0.113.7:4711"]), PEER), ip("203.0.113.7"));
        assert_eq!(client_address(Some(&one), &headers(&["2001:db8::1"]), PEER), ip("2001:db8::1"));
        assert_eq!(client_address(Some(&one), &headers(&["[2001:db8::1]:80"]), PEER), ip("2001:db8::1"));
        assert_eq!(client_address(Some(&one), &headers(&["[2001:db8::1]"]), PEER), ip("2001:db8::1"));
    }

    #[test]
    fn missing_short_or_malformed_headers_fall_back_to_the_peer() {
        let two = forwarded(2);
        assert_eq!(client_address(Some(&two), &headers(&[]), PEER), PEER, "missing");
        assert_eq!(client_address(Some(&two), &headers(&["203.0.113.7"]), PEER), PEER, "too short");
        assert_eq!(
            client_address(Some(&two), &headers(&["unknown, 10.1.1.1"]), PEER),
            PEER,
            "not an address"
        );
        assert_eq!(client_address(Some(&forwarded(1)), &headers(&["1.2.3.4, "]), PEER), PEER, "empty entry");
    }
}
