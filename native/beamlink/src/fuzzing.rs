//! Entry points for the cargo-fuzz targets in `fuzz/` and the smoke runs in the test suite:
//! each feeds arbitrary bytes to one parser of what a peer, or an epmd, sends. Not a stable
//! API. Every function must return (never panic, never allocate more than the input allows).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::connection::{ReadState, parse_packet};
use crate::control::Control;
use crate::cookie::Cookie;
use crate::handshake::{self, HandshakeConfig};
use crate::name::NodeName;
use crate::term::{self, Decoder, Limits};

/// Packets as the reader sees them after the length prefix: `data[0]` selects whether the
/// distribution header was negotiated, then `u16` length + bytes, repeated. The message limit
/// is small (64 KiB) so the limit paths are reached too.
pub fn packets(data: &[u8]) {
    let Some((&mode, mut rest)) = data.split_first() else { return };
    let mut st = ReadState::new(mode & 1 == 0, 64 * 1024);
    while rest.len() >= 2 {
        let n = (u16::from_be_bytes([rest[0], rest[1]]) as usize).min(rest.len() - 2);
        let body = Bytes::copy_from_slice(&rest[2..2 + n]);
        rest = &rest[2 + n..];
        if body.is_empty() {
            continue;
        }
        match parse_packet(body, &mut st) {
            Ok(Some(msg)) => {
                let _ = msg.payload_term();
            }
            Ok(None) => {}
            Err(_) => return,
        }
    }
}

/// A control tuple in external format (with version byte), as decoded from an untrusted peer.
pub fn control(data: &[u8]) {
    let mut d = Decoder::new(data).with_limits(Limits::default());
    let read = data.split_first().map(|(_, rest)| Control::decode(&mut Decoder::new(rest)));
    if let Ok(t) = d.versioned_term()
        && let Ok(c) = Control::from_term(t)
    {
        // The direct reader agrees with the term route (an uncompressed term: 131 then it).
        if data.get(1) != Some(&term::tag::COMPRESSED) {
            assert_eq!(read.expect("non-empty").expect("reads directly"), c);
        }
        let mut direct = Vec::new();
        c.encode_into(&mut direct);
        let mut via_term = Vec::new();
        term::encode_into(&c.to_term(), &mut via_term);
        assert_eq!(direct, via_term);
        // What decodes must encode back to a tuple that decodes to the same message.
        let again = Control::from_term(c.to_term()).expect("re-decodes");
        assert_eq!(again, c);
    }
}

/// The acceptor's side of the handshake with `data` as everything the initiator sends.
pub fn handshake_accept(data: &[u8]) {
    let cfg = config("acceptor@localhost");
    run(async {
        let mut s = Scripted::new(data);
        let _ = handshake::accept(&mut s, &cfg).await;
    });
}

/// The initiator's side of the handshake with `data` as everything the acceptor sends.
pub fn handshake_initiate(data: &[u8]) {
    let cfg = config("initiator@localhost");
    let peer: NodeName = "acceptor@localhost".parse().expect("valid");
    run(async {
        let mut s = Scripted::new(data);
        let _ = handshake::initiate(&mut s, &cfg, &peer).await;
    });
}

/// epmd's answers: PORT2_RESP and the NAMES_REQ text (`data[0]` picks which).
pub fn epmd_reply(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    if which & 1 == 0 {
        let _ = crate::epmd::decode_port2_resp(rest);
    } else {
        let _ = crate::epmd::parse_names(&String::from_utf8_lossy(rest));
    }
}

/// The Erlang-syntax parser (ssl_dist optfiles, CLI arguments): accepted text must print back
/// to text that parses to the same term.
pub fn erlang_syntax(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(t) = crate::term::parse(text) {
        let printed = t.to_string();
        let again =
            crate::term::parse(&printed).unwrap_or_else(|e| panic!("{printed:?} does not parse: {e}"));
        assert_eq!(again, t, "{printed}");
    }
}

fn config(name: &str) -> HandshakeConfig {
    let mut cfg =
        HandshakeConfig::new(NodeName::parse_any(name).expect("valid"), Cookie::new("fuzzcookie"), 7);
    cfg.timeout = std::time::Duration::from_millis(50);
    cfg
}

fn run(f: impl Future<Output = ()>) {
    thread_local! {
        static RT: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_time().build().expect("runtime");
    }
    RT.with(|rt| rt.block_on(f));
}

/// A stream whose reads return the script and then end; writes are accepted and dropped.
struct Scripted<'a> {
    data: &'a [u8],
}

impl<'a> Scripted<'a> {
    fn new(data: &'a [u8]) -> Self {
        Scripted { data }
    }
}

impl AsyncRead for Scripted<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.data.len().min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Scripted<'_> {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Valid inputs for each target (the names of the functions above), to start fuzzing from.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    use crate::flags::DistFlags;
    use crate::handshake::{Challenge, SendName, Status};
    use crate::term::{self, Atom, Pid, Reference, Term};
    let pid = Pid { node: Atom::new("a@localhost"), id: 5, serial: 0, creation: 9 };
    let reference = Reference { node: Atom::new("a@localhost"), creation: 9, ids: vec![1, 2, 3] };
    let controls = [
        Control::Send { from: None, to: pid.clone() },
        Control::RegSend { from: pid.clone(), to: Atom::new("net_kernel") },
        Control::Monitor { from: pid.clone(), target: Term::atom("rex"), reference: reference.clone() },
        Control::MonitorExit { object: Term::Pid(pid.clone()), to: pid.clone(), reference, reason: None },
        Control::Exit { from: pid.clone(), to: pid.clone(), reason: Some(Term::atom("normal")) },
    ];
    let framed = |b: Vec<u8>| {
        let mut v = (b.len() as u16).to_be_bytes().to_vec();
        v.extend(b);
        v
    };
    match target {
        "control" => controls
            .iter()
            .map(|c| {
                let mut v = vec![term::VERSION_MAGIC];
                term::encode_into(&c.to_term(), &mut v);
                v
            })
            .collect(),
        "packets" => {
            let payload = {
                let mut v = Vec::new();
                term::encode_into(&Term::tuple([Term::atom("hello"), Term::binary(vec![1u8; 40])]), &mut v);
                v
            };
            let mut header = vec![0u8];
            let mut pass = vec![1u8];
            let mut frags = vec![0u8];
            for c in &controls {
                let mut p = vec![131, 68, 0];
                term::encode_into(&c.to_term(), &mut p);
                p.extend_from_slice(&payload);
                header.extend(framed(p));
                let mut p = vec![112, term::VERSION_MAGIC];
                term::encode_into(&c.to_term(), &mut p);
                p.push(term::VERSION_MAGIC);
                p.extend_from_slice(&payload);
                pass.extend(framed(p));
            }
            // One message in three fragments, with a new atom cache entry in the first.
            let mut first = vec![131, 69];
            first.extend_from_slice(&7u64.to_be_bytes());
            first.extend_from_slice(&3u64.to_be_bytes());
            first.extend_from_slice(&[1, 0x08, 3, 5]);
            first.extend_from_slice(b"hello");
            first.extend_from_slice(&[104, 3, 97, 2, 82, 0]);
            term::encode_into(&Term::Pid(pid.clone()), &mut first);
            first.extend_from_slice(&payload[..10]);
            frags.extend(framed(first));
            for (i, part) in [(2u64, &payload[10..20]), (1, &payload[20..])] {
                let mut f = vec![131, 70];
                f.extend_from_slice(&7u64.to_be_bytes());
                f.extend_from_slice(&i.to_be_bytes());
                f.extend_from_slice(part);
                frags.extend(framed(f));
            }
            vec![header, pass, frags]
        }
        "handshake_accept" => {
            let name = SendName {
                flags: DistFlags::beamlink_default(),
                creation: 77,
                name: "initiator@localhost".into(),
            };
            let mut v = framed(name.encode());
            v.extend(framed([b'r', 0, 0, 0, 1].into_iter().chain([0u8; 16]).collect()));
            let me = SendName { flags: DistFlags::beamlink_default().with(DistFlags::NAME_ME), creation: 0, name: "localhost".into() };
            vec![v, framed(me.encode())]
        }
        "handshake_initiate" => {
            let ch = Challenge {
                flags: DistFlags::beamlink_default(),
                challenge: 42,
                creation: 9,
                name: "acceptor@localhost".into(),
            };
            let mut v = framed(Status::Ok.encode());
            v.extend(framed(ch.encode()));
            v.extend(framed([b'a'].into_iter().chain([0u8; 16]).collect()));
            let mut alive = framed(Status::Alive.encode());
            alive.extend(framed(ch.encode()));
            vec![v, alive, framed(Status::Named { name: "X@localhost".into(), creation: 5 }.encode())]
        }
        "epmd_reply" => vec![
            [0u8, 119, 0, 0x9c, 0x40, 72, 0, 0, 6, 0, 5, 0, 3]
                .into_iter()
                .chain(*b"foo")
                .chain([0, 0])
                .collect(),
            [1u8].into_iter().chain(*b"name foo at port 40000\nname bar at port 5\n").collect(),
        ],
        "erlang_syntax" => [
            "[{server, [{certfile, \"/etc/ssl/node.pem\"}, {keyfile, \"/k.pem\"}, {verify, verify_peer}, {fail_if_no_peer_cert, true}]}, {client, [{cacertfile, \"ca.pem\"}, {versions, ['tlsv1.2', 'tlsv1.3']}]}].",
            "{ok, <<\"bin\">>, #{a => 1.5, \"k\" => [$a, -12]}, 'quoted atom', 16#ff}.",
            "[1, 2 | 3]",
        ]
        .into_iter()
        .map(|s| s.as_bytes().to_vec())
        .collect(),
        _ => Vec::new(),
    }
}
