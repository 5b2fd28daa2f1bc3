//! What a connected node sends decodes as BEAM would decode it: terms nested far deeper than
//! the untrusted-input limit come back on every path (erpc, rex, raw, eval, messages, exit
//! reasons), and bytes that cannot be decoded at all are a decode error, never a remote exit.

use std::time::{Duration, Instant};

use beamlink::cookie::Cookie;
use beamlink::handshake::{self, HandshakeConfig};
use beamlink::name::NodeName;
use beamlink::node::NodeEvent;
use beamlink::rpc::{Language, SpawnOptions};
use beamlink::term::{self, Decoder, Limits, Term};
use beamlink::{CallError, Node};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const T: Duration = Duration::from_secs(10);
/// Twice the default depth limit for untrusted bytes.
const DEPTH: usize = 2048;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

/// `[[[…[]…]]]`, `depth` lists deep: what `lists:foldl(fun(_, A) -> [A] end, [], …)` builds.
fn nested(depth: usize) -> Term {
    let mut t = Term::nil();
    for _ in 0..depth {
        t = Term::list([t]);
    }
    t
}

/// The same term as the node builds it, so the reply really is the node's encoding.
fn build_on_node(depth: usize) -> String {
    format!("lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, {depth}))")
}

#[test]
fn deep_results_come_back_on_every_path() {
    let want = nested(DEPTH);
    let encoded = Term::Binary(term::encode(&want).into());
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "deep");
        rt().block_on(async {
            let node = Node::builder(format!("{}@localhost", unique_name("deep")))
                .cookie(DEFAULT_COOKIE)
                .start()
                .await
                .unwrap();
            let args = Term::list([encoded.clone()]);
            let v = node.call(&peer.name, "erlang", "binary_to_term", args.clone(), T).await;
            assert_eq!(v.unwrap(), want, "{otp:?} erpc");
            let v = node.rpc_call(&peer.name, "erlang", "binary_to_term", args.clone(), T).await;
            assert_eq!(v.unwrap(), want, "{otp:?} rex");
            let raw = node.call_raw(&peer.name, "erlang", "binary_to_term", args, T).await.unwrap();
            assert_eq!(raw.term().unwrap(), want, "{otp:?} raw");
            // The default limits still hold for whoever asks for them explicitly.
            assert!(matches!(raw.term_with(Limits::default()), Err(term::DecodeError::TooDeep { .. })));
            let (v, _) = node.eval(&peer.name, &build_on_node(DEPTH), Language::Erlang, T).await;
            assert_eq!(v.unwrap(), want, "{otp:?} eval");
            // Bindings returned by erl_eval hold the deep term too.
            let code = format!("T = {}, ok", build_on_node(DEPTH));
            let (v, _) = node.eval(&peer.name, &code, Language::Erlang, T).await;
            assert_eq!(v.unwrap(), Term::atom("ok"), "{otp:?} eval with a deep binding");
            // A deep message, and a deep exit reason.
            // A deep message: our argument is decoded by the node and encoded again to send it.
            let me = node.spawn_process();
            let args = Term::list([Term::Pid(me.pid().clone()), want.clone()]);
            node.call(&peer.name, "erlang", "send", args, T).await.unwrap();
            let msg = me.receive_timeout(T).await.expect("the deep message");
            assert_eq!(msg.term().unwrap().unwrap(), want, "{otp:?} message");
            let mut p = node
                .spawn(&peer.name, "erlang", "exit", Term::list([want.clone()]), SpawnOptions::default())
                .await
                .unwrap();
            assert_eq!(p.wait_exit(T).await.unwrap(), want, "{otp:?} exit reason");
        });
    }
}

/// A hand-made peer answers our erpc spawn and then sends a DOWN whose reason is not a term:
/// the call fails with [`CallError::Decode`] (before, the reason became `badarg`, reported as a
/// remote exit).
#[test]
fn an_undecodable_down_reason_is_a_decode_error() {
    rt().block_on(async {
        let node = Node::builder(format!("{}@localhost", unique_name("deepdec")))
            .cookie(DEFAULT_COOKIE)
            .listen(0)
            .start()
            .await
            .unwrap();
        let mut events = node.subscribe();
        let me = NodeName::parse_any(&format!("{}@localhost", unique_name("evil"))).unwrap();
        let cfg = HandshakeConfig::new(me.clone(), Cookie::new(DEFAULT_COOKIE), 7);
        let target = NodeName::parse_any(node.name().as_str()).unwrap();
        let (mut s, _) = handshake::connect(&cfg, &target).await.unwrap();
        let peer = me.to_string();
        let deadline = Instant::now() + T;
        while !matches!(events.recv().await, Ok(NodeEvent::Up { node }) if node.as_str() == peer) {
            assert!(Instant::now() < deadline, "no Up for {peer}");
        }
        let call = {
            let (node, peer) = (node.clone(), peer.clone());
            tokio::spawn(async move { node.call(&peer, "m", "f", Term::nil(), T).await })
        };
        // Our SPAWN_REQUEST: {29, ReqId, From, GroupLeader, MFA, Opts} after a dist header.
        let (req, from) = loop {
            let mut len = [0u8; 4];
            s.read_exact(&mut len).await.unwrap();
            let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
            s.read_exact(&mut body).await.unwrap();
            if body.is_empty() {
                continue; // a tick
            }
            assert_eq!(&body[..3], &[131, 68, 0], "a dist header without atom cache refs");
            let control = Decoder::new(&body[3..]).term().unwrap();
            let items = control.as_tuple().unwrap();
            if items[0] == Term::Int(29) {
                break (items[1].clone(), items[2].clone());
            }
        };
        let remote_pid =
            Term::Pid(term::Pid { node: term::Atom::new(&peer), id: 77, serial: 0, creation: 7 });
        let mut out = Vec::new();
        // SPAWN_REPLY {31, ReqId, To, Flags = monitor, Pid}.
        let reply = Term::tuple([Term::Int(31), req.clone(), from.clone(), Term::Int(2), remote_pid.clone()]);
        push_packet(&mut out, &reply, None);
        // PAYLOAD_MONITOR_P_EXIT {28, Pid, To, Ref} with a tuple that claims 3 elements and
        // has one.
        let down = Term::tuple([Term::Int(28), remote_pid, from, req]);
        push_packet(&mut out, &down, Some(&[104, 3, 97, 1]));
        s.write_all(&out).await.unwrap();
        match call.await.unwrap() {
            Err(CallError::Decode(e)) => assert!(e.to_string().contains("end of input"), "{e}"),
            other => panic!("expected a decode error, got {other:?}"),
        }
    });
}

fn push_packet(out: &mut Vec<u8>, control: &Term, payload: Option<&[u8]>) {
    let mut body = vec![131, 68, 0];
    term::encode_into(control, &mut body);
    // After a distribution header, neither term has a version byte.
    if let Some(p) = payload {
        body.extend_from_slice(p);
    }
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
}
