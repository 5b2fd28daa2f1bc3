//! IPv6 distribution: nodes started with `-proto_dist inet6_tcp` (OTP 25 and 28) and
//! `inet6_tls` (OTP 25), named `name@::1` as OTP writes IPv6 hosts, with epmd reached over
//! `::1`; both roles.

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use beamlink::epmd;
use beamlink::tls::TlsConfig;
use beamlink::{Node, NodeBuilder, Term};
use beamlink_test_support::pki::Pki;
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn v6_builder(prefix: &str) -> NodeBuilder {
    Node::builder(format!("{}@::1", unique_name(prefix))).long_names(true).cookie(DEFAULT_COOKIE)
}

/// We call the node, then it pings us on a fresh connection and we call it again; its view of
/// both connections is the IPv6 loopback. (OTP 25's `inet6_tls_dist` reports the family of
/// such a connection as `inet`; the address is what tells.)
async fn both_roles(otp: &TestNode, node: &Node) {
    let t = Duration::from_secs(10);
    let ours = node.name().as_str().to_string();
    let v = node.call(&otp.name, "erlang", "node", Term::nil(), t).await.unwrap();
    assert_eq!(v, Term::atom(&otp.name));
    let addr = format!("proplists:get_value(address, element(2, net_kernel:node_info('{ours}'))).");
    let seen = otp.eval_ok(&addr);
    assert!(seen.contains("{{0,0,0,0,0,0,0,1},"), "{seen}");
    assert!(node.disconnect(&otp.name));
    let gone = format!(
        "(fun W(0) -> still; W(N) -> case lists:member('{ours}', nodes(hidden)) of true -> timer:sleep(50), W(N - 1); false -> gone end end)(100)."
    );
    assert_eq!(otp.eval_ok(&gone), "gone");
    assert_eq!(otp.eval_ok(&format!("net_adm:ping('{ours}').")), "pong");
    let v = node.call(&otp.name, "erlang", "node", Term::nil(), t).await.unwrap();
    assert_eq!(v, Term::atom(&otp.name));
    let seen = otp.eval_ok(&addr);
    assert!(seen.contains("{{0,0,0,0,0,0,0,1},"), "{seen}");
}

#[test]
fn inet6_tcp_both_roles_on_otp25_and_otp28() {
    for otp in Otp::ALL {
        let peer = TestNode::builder(otp).prefix("v6").ipv6().start().unwrap();
        assert!(peer.name.ends_with("@::1"), "{}", peer.name);
        rt().block_on(async {
            // epmd answers over ::1: the node registered there.
            let names = epmd::Client::from_env("::1").names_raw().await.unwrap().1;
            assert!(names.contains(&format!("name {} at port", peer.alive)), "{names}");
            // Listening on the default (dual-stack) address.
            let node = v6_builder("blv6").listen(0).start().await.unwrap();
            both_roles(&peer, &node).await;
            // The same listener takes IPv4 (the other tests' OTP nodes reach it that way).
            let port = node.port().unwrap();
            assert!(tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok());
        });
    }
}

#[test]
fn bound_to_the_ipv6_loopback_only() {
    let peer = TestNode::builder(Otp::V25).prefix("v6b").ipv6().start().unwrap();
    rt().block_on(async {
        let node = v6_builder("blv6b").bind(IpAddr::V6(Ipv6Addr::LOCALHOST)).listen(0).start().await.unwrap();
        both_roles(&peer, &node).await;
    });
}

#[test]
fn inet6_tls_both_roles_on_otp25() {
    let pki = Pki::generate("v6tls");
    let theirs = pki.node_cert("otp", &["localhost", "::1"]);
    let ours = pki.node_cert("beamlink", &["localhost", "::1"]);
    let optfile = pki.optfile(&theirs, "", "");
    let peer = TestNode::builder(Otp::V25).prefix("v6tls").ipv6().tls(&optfile).start().unwrap();
    rt().block_on(async {
        let tls = TlsConfig::from_pem_files(&ours.cert, &ours.key, &pki.ca).unwrap();
        let node = v6_builder("blv6tls").tls(tls).listen(0).start().await.unwrap();
        both_roles(&peer, &node).await;
        let seen = peer.eval_ok(&format!(
            "proplists:get_value(address, element(2, net_kernel:node_info('{}'))).",
            node.name().as_str()
        ));
        assert!(seen.contains("tls"), "{seen}");
    });
}
