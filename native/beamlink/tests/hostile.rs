//! Hostile peers on loopback against a listening node: a hand-written peer that passes the
//! handshake (or does not) and then breaks the rules. Each must get its connection dropped
//! with a typed reason, quickly and without the memory it claims, while the connection to a
//! real OTP node keeps working.

use std::io::{Read, Write};
use std::net::TcpStream as StdStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use beamlink::cookie::Cookie;
use beamlink::handshake::{self, HandshakeConfig};
use beamlink::name::NodeName;
use beamlink::node::NodeEvent;
use beamlink::term::{self, Term};
use beamlink::transport::Transport;
use beamlink::{Node, NodeBuilder};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn builder() -> NodeBuilder {
    Node::builder(format!("{}@localhost", unique_name("blh"))).cookie(DEFAULT_COOKIE).listen(0)
}

/// Log records of `beamlink::security`, captured for the tests that check what is logged.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.target().starts_with("beamlink")
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            LOG.lock().unwrap().push(format!("{}", r.args()));
        }
    }
    fn flush(&self) {}
}

fn capture_logs() {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Info);
}

async fn wait_down(
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
    peer: &str,
    within: Duration,
) -> String {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(NodeEvent::Down { node, reason })) if node.as_str() == peer => return reason,
            Ok(Ok(_)) => {}
            other => panic!("no Down for {peer} within {within:?}: {other:?}"),
        }
    }
}

/// A peer that completes the handshake with `node` (as `evil…@localhost`).
async fn evil_peer(
    node: &Node,
    events: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
) -> (Transport, String) {
    let me = NodeName::parse_any(&format!("{}@localhost", unique_name("evil"))).unwrap();
    let cfg = HandshakeConfig::new(me.clone(), Cookie::new(DEFAULT_COOKIE), 7);
    let target = NodeName::parse_any(node.name().as_str()).unwrap();
    let (stream, _) = handshake::connect(&cfg, &target).await.unwrap();
    let name = me.to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Ok(NodeEvent::Up { node })) if node.as_str() == name => break,
            Ok(Ok(_)) => {}
            other => panic!("no Up for {name}: {other:?}"),
        }
    }
    (stream, name)
}

fn packet(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_be_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn enc(t: &Term) -> Vec<u8> {
    let mut v = Vec::new();
    term::encode_into(t, &mut v);
    v
}

fn our_pid(node: &Node) -> Term {
    Term::Pid(beamlink::term::Pid { node: node.name().clone(), id: 1, serial: 0, creation: node.creation() })
}

/// `{2, '', Pid}` (SEND) after a distribution header with no atom cache references.
fn send_packet(node: &Node, extra: Option<Term>) -> Vec<u8> {
    let mut fields = vec![Term::Int(2), Term::atom(""), our_pid(node)];
    fields.extend(extra);
    let mut b = vec![131, 68, 0];
    b.extend(enc(&Term::Tuple(fields)));
    b.extend(enc(&Term::atom("hello")));
    packet(&b)
}

fn first_fragment(node: &Node, seq: u64, frags: u64, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![131, 69];
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&frags.to_be_bytes());
    b.push(0);
    b.extend(enc(&Term::tuple([Term::Int(2), Term::atom(""), our_pid(node)])));
    b.extend_from_slice(payload);
    packet(&b)
}

fn next_fragment(seq: u64, frag: u64, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![131, 70];
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&frag.to_be_bytes());
    b.extend_from_slice(payload);
    packet(&b)
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = s.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Every protocol violation of the list gets its own connection dropped, with the reason
/// named; a real node's connection beside them keeps answering.
#[test]
fn each_violation_drops_only_its_connection_with_a_typed_reason() {
    let good = TestNode::start(Otp::V25, "bystander");
    rt().block_on(async {
        let node = builder().start().await.unwrap();
        let mut events = node.subscribe();
        assert!(node.ping(&good.name).await);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("huge length prefix", vec![0xff, 0xff, 0xff, 0xff], "a packet of 4294967295 bytes"),
            (
                "pass-through after the header",
                {
                    let mut b = vec![112];
                    b.extend(enc(&Term::tuple([Term::Int(2), Term::atom(""), our_pid(&node)])));
                    packet(&b)
                },
                "pass-through",
            ),
            (
                "control tuple with an extra field",
                send_packet(&node, Some(Term::atom("x"))),
                "has 4 elements, expected 3",
            ),
            ("garbage control", packet(&[131, 68, 0, 97, 7]), "control message"),
            ("unknown operation field", packet(&[131, 68, 0, 104, 1, 100, 0, 1, b'x']), "control message"),
            (
                "atom cache reference to an empty slot",
                packet(&[131, 68, 1, 0x01, 9, 104, 1, 82, 0]),
                "empty slot",
            ),
            ("fragment of an unknown sequence", next_fragment(99, 3, b"x"), "unknown sequence 99"),
            (
                "fragments out of order",
                {
                    let mut v = first_fragment(&node, 5, 3, &[131]);
                    v.extend(next_fragment(5, 1, b"x"));
                    v
                },
                "fragment 1 of sequence 5, expected 2",
            ),
            ("unknown packet type", packet(&[7, 7, 7]), "unknown packet type"),
            ("header byte without a tag", packet(&[131]), "unknown packet type"),
        ];
        for (what, bytes, expect) in cases {
            let (mut s, name) = evil_peer(&node, &mut events).await;
            let started = Instant::now();
            s.write_all(&bytes).await.unwrap();
            let reason = wait_down(&mut events, &name, Duration::from_secs(10)).await;
            assert!(reason.contains(expect), "{what}: {reason}");
            assert!(started.elapsed() < Duration::from_secs(5), "{what}: {:?}", started.elapsed());
            // The peer's socket was closed by us.
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(5), async {
                loop {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => return 0,
                        Ok(_) => continue,
                    }
                }
            })
            .await;
            assert_eq!(n, Ok(0), "{what}: socket still open");
            assert!(node.ping(&good.name).await, "{what}: the real node's connection broke");
        }
        assert_eq!(node.nodes(), vec![beamlink::term::Atom::new(&good.name)]);
    });
}

/// 4095 first fragments each announcing 2^40 fragments: the old code reserved 64 MiB for
/// each (256 GiB of address space, an abort under `ulimit -v`); now nothing is reserved
/// beyond the bytes that came, and the total is capped by the message limit.
#[test]
fn announced_fragments_reserve_nothing_and_reassembly_is_capped() {
    rt().block_on(async {
        let node = builder().max_message(4 << 20).start().await.unwrap();
        let mut events = node.subscribe();
        let (mut s, name) = evil_peer(&node, &mut events).await;
        let vm_before = status_kib("VmSize:");
        let mut all = Vec::new();
        for seq in 0..4095u64 {
            all.extend(first_fragment(&node, seq, 1 << 40, &[131, 109]));
        }
        s.write_all(&all).await.unwrap();
        // Still connected: 4095 sequences of a few bytes are within every limit.
        assert!(!node.nodes().is_empty());
        tokio::time::sleep(Duration::from_millis(500)).await;
        let vm_grew = status_kib("VmSize:").saturating_sub(vm_before);
        assert!(vm_grew < 512 * 1024, "address space grew by {vm_grew} KiB");
        // One sequence fed past the 4 MiB limit is dropped when it crosses it.
        let chunk = vec![0u8; 64 * 1024];
        let mut frag = 1 << 40;
        let mut sent = 0usize;
        let reason = loop {
            frag -= 1;
            if s.write_all(&next_fragment(0, frag, &chunk)).await.is_err() {
                break wait_down(&mut events, &name, Duration::from_secs(10)).await;
            }
            sent += chunk.len();
            if sent > 8 << 20 {
                break wait_down(&mut events, &name, Duration::from_secs(10)).await;
            }
        };
        assert!(reason.contains("fragmented messages of more than 4194304 bytes"), "{reason}");
    });
}

/// A packet announced at the limit's size plus one is refused on its length alone; one within
/// the limit whose bytes stop coming is dropped after the tick time, not after a time that
/// grows with the length (it used to be ~37 minutes for 2 GiB).
#[test]
fn a_claimed_length_neither_allocates_nor_extends_the_deadline() {
    rt().block_on(async {
        let node = builder().max_message(1 << 30).net_ticktime(Duration::from_secs(2)).start().await.unwrap();
        let mut events = node.subscribe();
        let (mut s, name) = evil_peer(&node, &mut events).await;
        let rss_before = status_kib("VmRSS:");
        s.write_all(&[0x3f, 0xff, 0xff, 0xff, 131, 68, 0]).await.unwrap();
        let started = Instant::now();
        let reason = wait_down(&mut events, &name, Duration::from_secs(20)).await;
        assert!(reason.contains("net_ticktime"), "{reason}");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(6), "{took:?}");
        let rss_grew = status_kib("VmRSS:").saturating_sub(rss_before);
        assert!(rss_grew < 64 * 1024, "RSS grew by {rss_grew} KiB for a 1 GiB claim");
        let (mut s, name) = evil_peer(&node, &mut events).await;
        s.write_all(&[0x40, 0, 0, 1]).await.unwrap();
        let reason = wait_down(&mut events, &name, Duration::from_secs(5)).await;
        assert!(reason.contains("a packet of 1073741825 bytes (limit 1073741824)"), "{reason}");
    });
}

/// The engine answers `is_auth` by itself, reflecting the peer's tag: a peer that sends big
/// tags and never reads made the queue grow without end (1 GiB in 3 s). The queue limit now
/// closes that connection.
#[test]
fn a_peer_that_never_reads_is_dropped_at_the_queue_limit() {
    rt().block_on(async {
        let node = builder().max_queued(16 << 20).start().await.unwrap();
        let mut events = node.subscribe();
        let (s, name) = evil_peer(&node, &mut events).await;
        let (_rd, mut wr) = tokio::io::split(s);
        let from = Term::Pid(beamlink::term::Pid {
            node: beamlink::term::Atom::new(&name),
            id: 1,
            serial: 0,
            creation: 7,
        });
        let tag = Term::binary(vec![0u8; 1 << 20]);
        let req = Term::tuple([
            Term::atom("$gen_call"),
            Term::tuple([from.clone(), tag]),
            Term::tuple([Term::atom("is_auth"), Term::atom("x")]),
        ]);
        let mut b = vec![131, 68, 0];
        b.extend(enc(&Term::tuple([Term::Int(6), from, Term::atom(""), Term::atom("net_kernel")])));
        b.extend(enc(&req));
        let p = packet(&b);
        let writer = tokio::spawn(async move {
            for _ in 0..2000 {
                if wr.write_all(&p).await.is_err() {
                    return;
                }
            }
        });
        let reason = wait_down(&mut events, &name, Duration::from_secs(60)).await;
        assert!(reason.contains("does not read"), "{reason}");
        writer.abort();
    });
}

/// A peer that connects and says nothing, or trickles a byte a second, is dropped within the
/// handshake deadline; the number of handshakes at once is capped.
#[test]
fn slow_and_silent_handshakes_are_dropped_and_capped() {
    capture_logs();
    rt().block_on(async {
        let node =
            builder().handshake_timeout(Duration::from_secs(2)).max_handshakes(4).start().await.unwrap();
        let port = node.port().unwrap();
        let started = Instant::now();
        let mut silent = Vec::new();
        for _ in 0..4 {
            silent.push(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        // The fifth is closed at once: four handshakes are in progress.
        let mut fifth = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut b = [0u8; 8];
        let r = tokio::time::timeout(Duration::from_secs(1), fifth.read(&mut b)).await;
        assert!(matches!(r, Ok(Ok(0)) | Ok(Err(_))), "{r:?}");
        // The four silent ones are closed after the 2 s deadline, not before.
        for mut s in silent {
            let r = tokio::time::timeout(Duration::from_secs(6), s.read(&mut b)).await;
            assert!(matches!(r, Ok(Ok(0)) | Ok(Err(_))), "{r:?}");
        }
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(1900) && took < Duration::from_secs(5), "{took:?}");
        // One byte a second (a valid length prefix, then the name slowly) does not reset it.
        let mut slow = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let started = Instant::now();
        let name = handshake::SendName {
            flags: beamlink::flags::DistFlags::beamlink_default(),
            creation: 7,
            name: "slow@localhost".into(),
        }
        .encode();
        let mut msg = (name.len() as u16).to_be_bytes().to_vec();
        msg.extend(name);
        let mut closed = false;
        for byte in msg {
            if slow.write_all(&[byte]).await.is_err() {
                closed = true;
                break;
            }
            match tokio::time::timeout(Duration::from_secs(1), slow.read(&mut b)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed = true;
                    break;
                }
                _ => {}
            }
        }
        assert!(closed, "trickling peer kept its connection");
        assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        // And the node still takes a real handshake.
        let mut events = node.subscribe();
        let _ = evil_peer(&node, &mut events).await;
        let logs = LOG.lock().unwrap().join("\n");
        assert!(logs.contains("handshakes already in progress"), "{logs}");
        assert!(logs.contains("not finished within 2s"), "{logs}");
    });
}

/// Online guessing: every wrong digest is logged (never the cookie), and the address waits
/// longer after each one, so guesses go at a few a minute instead of thousands a second. A
/// replayed challenge reply from an earlier good handshake is a wrong digest too.
#[test]
fn wrong_digests_and_replays_are_logged_and_slowed_down() {
    capture_logs();
    rt().block_on(async {
        let node = builder().start().await.unwrap();
        let target = NodeName::parse_any(node.name().as_str()).unwrap();
        let me = NodeName::parse_any(&format!("{}@localhost", unique_name("guess"))).unwrap();
        let wrong = HandshakeConfig::new(me.clone(), Cookie::new("not-the-cookie"), 7);
        let started = Instant::now();
        let mut refused_fast = 0;
        let mut attempts = 0;
        while started.elapsed() < Duration::from_secs(3) {
            attempts += 1;
            match handshake::connect(&wrong, &target).await {
                Err(handshake::ConnectError::Handshake { .. }) => {}
                other => panic!("{other:?}"),
            }
            refused_fast += 1;
        }
        // With back-off 0.25 s, 0.5 s, 1 s, 2 s… at most a handful of digests are checked.
        let logs = LOG.lock().unwrap().clone();
        let checked =
            logs.iter().filter(|l| l.contains(&me.to_string()) && l.contains("wrong cookie")).count();
        assert!((1..=5).contains(&checked), "{checked} digests checked in 3 s ({attempts} attempts)");
        assert!(refused_fast > checked, "later attempts are refused before the handshake");
        assert!(logs.iter().any(|l| l.contains("presented a wrong cookie")), "{logs:?}");
        assert!(!logs.iter().any(|l| l.contains(DEFAULT_COOKIE) || l.contains("not-the-cookie")));
        // Replaying a challenge reply (on a node this address has not failed on yet): the
        // acceptor's challenge is new each time.
        replay_is_refused(&builder().start().await.unwrap()).await;
    });
}

/// Runs a good handshake recording our reply, then sends the same reply on a new connection.
async fn replay_is_refused(node: &Node) {
    let port = node.port().unwrap();
    let me = format!("{}@localhost", unique_name("replay"));
    let cookie = Cookie::new(DEFAULT_COOKIE);
    let send_name = |s: &mut StdStream| {
        let m = handshake::SendName {
            flags: beamlink::flags::DistFlags::beamlink_default(),
            creation: 7,
            name: me.clone(),
        }
        .encode();
        let mut v = (m.len() as u16).to_be_bytes().to_vec();
        v.extend(m);
        s.write_all(&v).unwrap();
    };
    let read_msg = |s: &mut StdStream| -> Vec<u8> {
        let mut l = [0u8; 2];
        s.read_exact(&mut l).unwrap();
        let mut b = vec![0u8; u16::from_be_bytes(l) as usize];
        s.read_exact(&mut b).unwrap();
        b
    };
    let mut s = StdStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    send_name(&mut s);
    assert_eq!(read_msg(&mut s), b"sok");
    let ch = handshake::Challenge::decode(&read_msg(&mut s)).unwrap();
    let reply =
        handshake::ChallengeReply { challenge: 1, digest: handshake::digest(ch.challenge, &cookie) }.encode();
    let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
    framed.extend(reply);
    s.write_all(&framed).unwrap();
    assert_eq!(read_msg(&mut s)[0], b'a');
    drop(s);
    // The same reply again: wrong, because this connection's challenge is another.
    let mut s = StdStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    send_name(&mut s);
    let status = read_msg(&mut s);
    // The first connection may still be known (`alive`): say true.
    if status == b"salive" {
        s.write_all(&[0, 5, b's', b't', b'r', b'u', b'e']).unwrap();
    }
    let _ = handshake::Challenge::decode(&read_msg(&mut s)).unwrap();
    s.write_all(&framed).unwrap();
    let mut b = [0u8; 4];
    assert!(matches!(s.read(&mut b), Ok(0) | Err(_)), "a replayed reply was accepted");
    assert!(LOG.lock().unwrap().iter().any(|l| l.contains(&me) && l.contains("wrong cookie")));
}

/// Malformed handshakes: each is refused without a panic, and the node still accepts.
#[test]
fn malformed_handshakes_are_refused() {
    rt().block_on(async {
        let node = builder().start().await.unwrap();
        let port = node.port().unwrap();
        let host = "h".repeat(64_990);
        let long_name = handshake::SendName {
            flags: beamlink::flags::DistFlags::beamlink_default(),
            creation: 7,
            name: format!("a@{host}"),
        }
        .encode();
        // Built by hand: the host's bytes go on the wire as they are (0xFF is one byte).
        let name_me = |host: &[u8]| {
            let flags =
                beamlink::flags::DistFlags::beamlink_default().with(beamlink::flags::DistFlags::NAME_ME);
            let mut m = vec![b'N'];
            m.extend_from_slice(&flags.0.to_be_bytes());
            m.extend_from_slice(&0u32.to_be_bytes());
            m.extend_from_slice(&(host.len() as u16).to_be_bytes());
            m.extend_from_slice(host);
            m
        };
        let frame = |m: Vec<u8>| {
            let mut v = (m.len() as u16).to_be_bytes().to_vec();
            v.extend(m);
            v
        };
        // (what, bytes sent, the status expected before the close, if any)
        type Case<'a> = (&'a str, Vec<u8>, Option<&'a [u8]>);
        let cases: Vec<Case> = vec![
            ("empty message", vec![0, 0], None),
            ("unknown tag", frame(b"Xhello".to_vec()), None),
            ("truncated send_name", frame(vec![b'N', 0, 0]), None),
            ("64 990-byte host", frame(long_name), Some(b"snok")),
            ("NAME_ME host with NUL", frame(name_me(b"a\0b")), Some(b"snok")),
            ("NAME_ME host with 0xFF", frame(name_me(b"a\xffb")), Some(b"snok")),
            ("NAME_ME 60 KB host", frame(name_me("x".repeat(60_000).as_bytes())), Some(b"snok")),
        ];
        for (what, bytes, status) in cases {
            let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            s.write_all(&bytes).await.unwrap();
            let mut got = Vec::new();
            let r = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut got)).await;
            assert!(r.is_ok(), "{what}: not closed");
            match status {
                Some(st) => assert_eq!(&got[got.len().min(2)..], st, "{what}"),
                None => assert!(got.is_empty(), "{what}: {got:?}"),
            }
        }
        let mut events = node.subscribe();
        let _ = evil_peer(&node, &mut events).await;
    });
}

/// Peers outside the allow list are answered `not_allowed`, as `net_kernel:allow/1` does; a
/// real OTP node inside it connects.
#[test]
fn allow_list_admits_only_the_named_peers() {
    let good = TestNode::start(Otp::V28, "allowed");
    rt().block_on(async {
        let node = builder().allow([good.name.clone()]).start().await.unwrap();
        let me = NodeName::parse_any(&format!("{}@localhost", unique_name("stranger"))).unwrap();
        let cfg = HandshakeConfig::new(me, Cookie::new(DEFAULT_COOKIE), 7);
        let target = NodeName::parse_any(node.name().as_str()).unwrap();
        let err = handshake::connect(&cfg, &target).await.unwrap_err();
        assert!(format!("{err}").contains("not_allowed"), "{err}");
        let ours = node.name().as_str().to_string();
        let out = good.eval_ok(&format!("net_adm:ping('{ours}')."));
        assert_eq!(out.trim(), "pong");
    });
}
