//! epmd and handshake against real OTP 25 and OTP 28 nodes.
//!
//! Set `BEAMLINK_WRITE_FLAGS=1` to rewrite `tests/NEGOTIATED_FLAGS.md` from the run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use beamlink::cookie::Cookie;
use beamlink::epmd::{self, EpmdError, NodeType};
use beamlink::handshake::{self, ConnectError, DistFlags, HandshakeConfig, HandshakeError, Negotiated};
use beamlink::name::NodeName;
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn our_cfg(prefix: &str, cookie: &str) -> HandshakeConfig {
    let name = NodeName::new(&unique_name(prefix), "localhost").unwrap();
    let mut cfg = HandshakeConfig::new(name, Cookie::new(cookie), rand_creation());
    cfg.timeout = Duration::from_secs(5);
    cfg
}

fn rand_creation() -> u32 {
    // Any value >= 4 will do for a node that does not listen.
    4 + std::process::id()
}

fn peer_of(node: &TestNode) -> NodeName {
    node.name.parse().unwrap()
}

/// Keeps a connection alive the simplest way: echo every tick, drop everything else.
async fn answer_ticks(mut s: beamlink::transport::Transport) {
    loop {
        let mut len = [0u8; 4];
        if s.read_exact(&mut len).await.is_err() {
            return;
        }
        let n = u32::from_be_bytes(len) as usize;
        if n == 0 {
            if s.write_all(&[0; 4]).await.is_err() {
                return;
            }
        } else {
            let mut b = vec![0u8; n];
            if s.read_exact(&mut b).await.is_err() {
                return;
            }
        }
    }
}

#[test]
fn epmd_names_and_port_please() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_epmd");
        let names = rt.block_on(epmd::names("localhost")).unwrap();
        let (_, port) = names
            .iter()
            .find(|(n, _)| *n == node.alive)
            .unwrap_or_else(|| panic!("{} not in {names:?}", node.alive))
            .clone();
        assert!(port > 0);

        let (epmd_port, text) = rt.block_on(epmd::Client::from_env("localhost").names_raw()).unwrap();
        assert_eq!(epmd_port, epmd::port_from_env() as u32);
        assert!(text.contains(&format!("name {} at port {port}\n", node.alive)), "{text}");

        let info =
            rt.block_on(epmd::port_please("localhost", &node.alive)).unwrap().expect("registered node");
        assert_eq!(info.port, port, "{otp:?}");
        assert_eq!(info.name, node.alive);
        assert_eq!(info.node_type, NodeType::Normal);
        assert_eq!((info.highest_version, info.lowest_version), (6, 5), "{otp:?}");
        assert_eq!(info.protocol, 0);
        println!("{}: port_please -> {info:?}", otp.label());

        // IPv6 loopback too: epmd listens on both (skipped where ::1 is unusable).
        match rt.block_on(epmd::Client::from_env("::1").port_please(&node.alive)) {
            Ok(i) => assert_eq!(i.map(|i| i.port), Some(port)),
            Err(e) => println!("no IPv6 epmd here: {e}"),
        }

        let none = rt.block_on(epmd::port_please("localhost", &unique_name("bl_nosuch"))).unwrap();
        assert_eq!(none, None);
    }
}

#[test]
fn epmd_register_is_seen_and_dropped() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_reg");
        let alive = unique_name("bl_registered");
        let reg = rt.block_on(epmd::register(&alive, 40123, true)).unwrap();
        assert!(reg.creation() >= 4, "creation {}", reg.creation());
        let seen = node.eval_ok("net_adm:names().");
        assert!(seen.contains(&format!("{{\"{alive}\",40123}}")), "{otp:?}: {seen}");
        let again = rt.block_on(epmd::register(&alive, 40124, true));
        assert!(matches!(again, Err(EpmdError::NameInUse { .. })), "{again:?}");

        drop(reg);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let names = rt.block_on(epmd::names("localhost")).unwrap();
            if !names.iter().any(|(n, _)| *n == alive) {
                break;
            }
            assert!(Instant::now() < deadline, "{alive} still registered");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!node.eval_ok("net_adm:names().").contains(&alive));
    }
}

#[test]
fn epmd_unreachable() {
    let rt = rt();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = epmd::Client::new("127.0.0.1", port);
    let started = Instant::now();
    let e = rt.block_on(c.names()).unwrap_err();
    assert!(matches!(e, EpmdError::Unreachable { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("epmd is not running on 127.0.0.1 (connection refused on port {port})")
    );
    let e = rt.block_on(c.port_please("foo")).unwrap_err();
    assert!(matches!(e, EpmdError::Unreachable { .. }), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn flag_lines(label: &str, role: &str, n: &Negotiated) -> String {
    format!(
        "### {label}, beamlink as {role}\n\n\
         - peer offered: `{:#x}`: {}\n- negotiated (AND): `{:#x}`: {}\n\n",
        n.peer_flags.bits(),
        n.peer_flags.names().join(", "),
        n.flags.bits(),
        n.flags.names().join(", "),
    )
}

#[test]
fn initiator_handshake_with_real_nodes() {
    let rt = rt();
    let mut report = String::new();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_acc");
        let cfg = our_cfg("bl_init", DEFAULT_COOKIE);
        let (stream, n) =
            rt.block_on(handshake::connect(&cfg, &peer_of(&node))).unwrap_or_else(|e| panic!("{otp:?}: {e}"));
        println!("{}: initiator negotiated {n:#?}", otp.label());
        assert_eq!(n.peer_name, node.name);
        assert_eq!(n.our_name, cfg.name.to_string());
        assert!(n.peer_flags.contains(DistFlags::PUBLISHED));
        assert!(!n.flags.contains(DistFlags::PUBLISHED), "we are hidden");
        assert!(n.flags.contains(DistFlags::MANDATORY_26 | DistFlags::FRAGMENTS));
        report.push_str(&flag_lines(otp.label(), "initiator", &n));

        let ticks = rt.spawn(answer_ticks(stream));
        assert!(lists_hidden(&node, &cfg.name.to_string()), "{otp:?}: {}", node.eval_ok("nodes(hidden)."));
        assert!(!node.eval_ok("nodes().").contains(&cfg.name.to_string()));
        ticks.abort();
    }
    if std::env::var_os("BEAMLINK_WRITE_FLAGS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/NEGOTIATED_FLAGS.md");
        let text = format!(
            "# Flags negotiated with real nodes\n\n\
             Written by `BEAMLINK_WRITE_FLAGS=1 cargo test -p beamlink --test handshake \
             initiator_handshake_with_real_nodes` (beamlink offers \
             `DistFlags::beamlink_default()` = `{:#x}`, hidden). The negotiated set is the AND of \
             both offers with the digest bit expanded.\n\n{report}",
            DistFlags::beamlink_default().bits()
        );
        std::fs::write(path, text).unwrap();
    }
}

#[test]
fn wrong_cookie_fails_fast() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_cookie");
        let cfg = our_cfg("bl_badcookie", "not_the_cookie");
        let started = Instant::now();
        let r = rt.block_on(handshake::connect(&cfg, &peer_of(&node)));
        let e = r.expect_err("handshake must fail");
        println!("{}: wrong cookie -> {e}", otp.label());
        // Observed on 25 and 28: the node closes after our challenge reply, no status, no ack.
        assert!(
            matches!(e, ConnectError::Handshake { source: HandshakeError::BadCookie { .. }, .. }),
            "{otp:?}: {e:?}"
        );
        assert!(!e.to_string().contains("not_the_cookie"));
        assert!(started.elapsed() < cfg.timeout, "took {:?}", started.elapsed());
    }
}

#[test]
fn acceptor_handshake_with_real_nodes() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = Arc::new(TestNode::start(otp, "bl_init"));
        let mut cfg = our_cfg("bl_accept", DEFAULT_COOKIE);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let reg = rt.block_on(epmd::register(&cfg.name.alive, port, true)).unwrap();
        cfg.creation = reg.creation();

        let (tx, rx) = tokio::sync::oneshot::channel();
        let acfg = cfg.clone();
        let server = rt.spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            s.set_nodelay(true).unwrap();
            let r = handshake::accept(&mut s, &acfg).await;
            let ok = r.is_ok();
            let _ = tx.send(r);
            if ok {
                answer_ticks(s.into()).await;
            }
        });

        let ours = cfg.name.to_string();
        let connected = node.eval_ok(&format!("net_kernel:connect_node('{ours}')."));
        let n = rt.block_on(rx).unwrap().unwrap_or_else(|e| panic!("{otp:?}: {e}"));
        println!("{}: acceptor negotiated {n:#?}", otp.label());
        assert_eq!(connected, "true", "{otp:?}");
        assert_eq!(n.peer_name, node.name);
        assert!(n.peer_creation != 0);
        assert!(n.flags.contains(DistFlags::MANDATORY_26));
        assert!(node.eval_ok("nodes(hidden).").contains(&ours));
        server.abort();
        drop(reg);
    }
}

#[test]
fn otp_refusals_map_to_errors() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_refuse");
        let peer = peer_of(&node);

        // OTP 26+ require V4_NC and UNLINK_ID; OTP 25 does not.
        let mut cfg = our_cfg("bl_old", DEFAULT_COOKIE);
        cfg.flags = DistFlags::beamlink_default()
            .without(DistFlags::V4_NC | DistFlags::UNLINK_ID | DistFlags::MANDATORY_25_DIGEST);
        let r = rt.block_on(handshake::connect(&cfg, &peer));
        println!("{}: without V4_NC/UNLINK_ID -> {:?}", otp.label(), r.as_ref().map(|x| &x.1));
        match otp {
            Otp::V25 => {
                let n = r.unwrap_or_else(|e| panic!("OTP 25 accepts it: {e}")).1;
                assert!(!n.flags.contains(DistFlags::V4_NC));
            }
            Otp::V28 => assert!(
                matches!(r, Err(ConnectError::Handshake { source: HandshakeError::NotAllowed { .. }, .. })),
                "{:?}",
                r.map(|x| x.1)
            ),
        }

        // A '.' in the alive part: OTP answers nok.
        let mut cfg = our_cfg("bl_dot", DEFAULT_COOKIE);
        cfg.name = NodeName { alive: format!("bad.{}", unique_name("dot")), host: "localhost".into() };
        let r = rt.block_on(handshake::connect(&cfg, &peer));
        assert!(
            matches!(r, Err(ConnectError::Handshake { source: HandshakeError::Refused { .. }, .. })),
            "{otp:?}: {:?}",
            r.map(|x| x.1)
        );
    }
}

#[test]
fn alive_status_with_a_live_connection() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_alive");
        let peer = peer_of(&node);
        let mut cfg = our_cfg("bl_twice", DEFAULT_COOKIE);
        let (first, _) = rt.block_on(handshake::connect(&cfg, &peer)).unwrap();
        let first = rt.spawn(answer_ticks(first));

        cfg.replace_stale = false;
        let r = rt.block_on(handshake::connect(&cfg, &peer));
        assert!(
            matches!(r, Err(ConnectError::Handshake { source: HandshakeError::AlreadyConnected { .. }, .. })),
            "{otp:?}: {:?}",
            r.map(|x| x.1)
        );
        assert!(!first.is_finished(), "refusing must keep the old connection");

        cfg.replace_stale = true;
        let (second, n) =
            rt.block_on(handshake::connect(&cfg, &peer)).unwrap_or_else(|e| panic!("{otp:?}: {e}"));
        assert_eq!(n.peer_name, node.name);
        // The node kills the old connection when we answer `true`.
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(5), first).await })
            .expect("old connection closed by the node")
            .unwrap();
        let second = rt.spawn(answer_ticks(second));
        assert!(lists_hidden(&node, &cfg.name.to_string()));
        second.abort();
    }
}

#[test]
fn dynamic_name_from_real_nodes() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "bl_nameme");
        let mut cfg = our_cfg("ignored", DEFAULT_COOKIE);
        cfg.flags.insert(DistFlags::NAME_ME);
        let (s, n) =
            rt.block_on(handshake::connect(&cfg, &peer_of(&node))).unwrap_or_else(|e| panic!("{otp:?}: {e}"));
        println!("{}: NAME_ME -> {} creation {}", otp.label(), n.our_name, n.our_creation);
        assert!(n.our_name.ends_with("@localhost"), "{}", n.our_name);
        assert_ne!(n.our_name, cfg.name.to_string());
        let t = rt.spawn(answer_ticks(s));
        assert!(lists_hidden(&node, &n.our_name));
        t.abort();
    }
}

/// Whether `node` lists `name` among its hidden nodes within a few seconds: the node's
/// net_kernel records a connection after the handshake's last message, which we may have
/// read first.
fn lists_hidden(node: &TestNode, name: &str) -> bool {
    let until = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        if node.eval_ok("nodes(hidden).").contains(name) {
            return true;
        }
        if std::time::Instant::now() > until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn wrong_peer_and_long_names() {
    let rt = rt();
    for otp in Otp::ALL {
        let node = TestNode::builder(otp).prefix("bl_long").long_names().start().unwrap();
        let peer = peer_of(&node);
        assert_eq!(peer.host, "127.0.0.1");
        let cfg = our_cfg("bl_tolong", DEFAULT_COOKIE);
        let (s, n) = rt.block_on(handshake::connect(&cfg, &peer)).unwrap_or_else(|e| panic!("{otp:?}: {e}"));
        assert_eq!(n.peer_name, node.name);
        drop(s);

        // Dial the right port under another name: the challenge gives the node away.
        let port =
            rt.block_on(epmd::Client::from_env("127.0.0.1").port_please(&node.alive)).unwrap().unwrap().port;
        let wrong = NodeName::new(&node.alive, "localhost").unwrap();
        let r = rt.block_on(handshake::connect_port(&cfg, &wrong, port));
        assert!(
            matches!(r, Err(ConnectError::Handshake { source: HandshakeError::WrongPeer { .. }, .. })),
            "{otp:?}: {:?}",
            r.map(|x| x.1)
        );
    }
}

#[test]
fn acceptor_sees_wrong_cookie() {
    let rt = rt();
    for otp in Otp::ALL {
        let node =
            TestNode::builder(otp).prefix("bl_othercookie").cookie("some_other_cookie").start().unwrap();
        let cfg = our_cfg("bl_acc_cookie", DEFAULT_COOKIE);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let reg = rt.block_on(epmd::register(&cfg.name.alive, port, true)).unwrap();
        let acfg = cfg.clone();
        let server = rt.spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            handshake::accept(&mut s, &acfg).await
        });
        let ours = cfg.name.to_string();
        let connected = node.eval_ok(&format!("net_kernel:connect_node('{ours}')."));
        assert_eq!(connected, "false");
        let r = rt.block_on(server).unwrap();
        println!("{}: acceptor, wrong cookie -> {:?}", otp.label(), r);
        assert!(matches!(r, Err(HandshakeError::BadCookie { .. })), "{r:?}");
        drop(reg);
    }
}

#[test]
fn silent_servers_time_out() {
    let rt = rt();
    let (listener, port) = rt.block_on(async {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let p = l.local_addr().unwrap().port();
        (l, p)
    });
    // Accept and hold connections without ever answering.
    let holder = rt.spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    let c = epmd::Client::new("127.0.0.1", port).with_timeout(Duration::from_millis(300));
    let e = rt.block_on(c.names()).unwrap_err();
    assert!(matches!(e, EpmdError::Timeout { .. }), "{e:?}");

    let mut cfg = our_cfg("bl_silent", DEFAULT_COOKIE);
    cfg.timeout = Duration::from_millis(300);
    let peer = NodeName::new("silent", "localhost").unwrap();
    let started = Instant::now();
    let r = rt.block_on(handshake::connect_port(&cfg, &peer, port));
    assert!(
        matches!(r, Err(ConnectError::Handshake { source: HandshakeError::Timeout { .. }, .. })),
        "{:?}",
        r.map(|x| x.1)
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    holder.abort();
}
