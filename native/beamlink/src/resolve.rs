//! Host names to socket addresses.
//!
//! IP literals and `localhost` are answered here, without `getaddrinfo`: tokio runs that on its
//! blocking thread pool, which costs a thread start and reads of nsswitch.conf, host.conf and
//! resolv.conf — a large share of a short-lived client's run time. Other names go to the
//! system resolver.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Every address `host` may be reached at on `port`, in the order to try them.
///
/// ```
/// # tokio_test_block_on(async {
/// let a = beamlink::resolve::addresses("127.0.0.1", 4369).await.unwrap();
/// assert_eq!(a, vec!["127.0.0.1:4369".parse().unwrap()]);
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
pub async fn addresses(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if host.eq_ignore_ascii_case("localhost") {
        // epmd and most nodes listen on IPv4; IPv6 loopback second.
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]);
    }
    Ok(tokio::net::lookup_host((host, port)).await?.collect())
}
