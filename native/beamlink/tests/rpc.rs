//! Remote calls against real OTP 25 and OTP 28 nodes (and an Elixir node): erpc and rex
//! semantics, every error kind produced for real, concurrency on one connection, multicall
//! with a dead node, spawned processes whose output comes back, I/O input, discovery.

use std::path::PathBuf;
use std::time::Duration;

use beamlink::handshake::ConnectError;
use beamlink::rpc::{IoServer, Output, SpawnEvent, SpawnOptions};
use beamlink::term::{Atom, Term};
use beamlink::{CallError, Message, Node, NodeError};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

const T: Duration = Duration::from_secs(10);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn local() -> Node {
    Node::builder(format!("{}@localhost", unique_name("rpc"))).cookie(DEFAULT_COOKIE).start().await.unwrap()
}

/// An Erlang string (charlist).
fn s(x: &str) -> Term {
    Term::list(x.chars().map(|c| Term::from(c as u32)))
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rpc_fixtures.erl")
}

fn with_fixtures(otp: Otp, prefix: &str) -> TestNode {
    let n = TestNode::start(otp, prefix);
    n.load_erl(&fixtures());
    n
}

#[test]
fn call_returns_values() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "rpcval");
        rt().block_on(async {
            let node = local().await;
            let v = node.call(&peer.name, "erlang", "node", Term::nil(), T).await.unwrap();
            assert_eq!(v, Term::atom(&peer.name), "{otp:?}");
            let args = Term::list([Term::list([Term::from(1), Term::from(2), Term::from(3)])]);
            let v = node.call(&peer.name, "lists", "reverse", args.clone(), T).await.unwrap();
            assert_eq!(v, Term::list([Term::from(3), Term::from(2), Term::from(1)]));
            // Raw results decode to the same term; pre-encoded arguments work too.
            let raw_args = beamlink::Outbound::etf(beamlink::term::encode(&args)).unwrap();
            let raw = node.call_raw(&peer.name, "lists", "reverse", raw_args, T).await.unwrap();
            assert_eq!(raw.term().unwrap(), Term::list([Term::from(3), Term::from(2), Term::from(1)]));
            // The raw bytes are the node's own encoding of the value: here, what BEAM's
            // term_to_binary gives for it after the version byte.
            let raw = node
                .call_raw(&peer.name, "erlang", "atom_to_binary", Term::list([Term::atom("hello_raw")]), T)
                .await
                .unwrap();
            let beam = peer.eval_ok("binary_to_list(term_to_binary(atom_to_binary(hello_raw))).");
            let beam: Vec<u8> =
                beam.trim_matches(|c| c == '[' || c == ']').split(',').map(|x| x.parse().unwrap()).collect();
            assert_eq!(raw.bare().as_ref(), &beam[1..]);
            assert_eq!(raw.to_etf(), beam);
            // A binary result and a big one.
            let v = node
                .call(&peer.name, "erlang", "integer_to_binary", Term::list([Term::from(12345)]), T)
                .await;
            assert_eq!(v.unwrap(), Term::binary(&b"12345"[..]));
            let v = node
                .call(&peer.name, "lists", "seq", Term::list([Term::from(1), Term::from(10000)]), T)
                .await;
            assert_eq!(v.unwrap().as_list().unwrap().len(), 10000);
        });
    }
}

#[test]
fn call_errors_are_told_apart() {
    for otp in Otp::ALL {
        let peer = with_fixtures(otp, "rpcerr");
        rt().block_on(async {
            let node = local().await;
            let n = peer.name.as_str();
            let mut codes = Vec::new();

            let e = node.call(n, "erlang", "error", Term::list([Term::atom("boom")]), T).await.unwrap_err();
            match &e {
                CallError::Error { reason, stacktrace } => {
                    assert!(reason.is_atom("boom"));
                    assert!(!stacktrace.as_list().unwrap().is_empty());
                }
                other => panic!("{otp:?}: {other:?}"),
            }
            codes.push((e.kind(), e.exit_code()));

            let e =
                node.call(n, "erlang", "binary_to_atom", Term::list([Term::from(1)]), T).await.unwrap_err();
            assert!(matches!(&e, CallError::Error { reason, .. } if reason.is_atom("badarg")), "{e:?}");

            let e = node.call(n, "erlang", "exit", Term::list([Term::atom("bye")]), T).await.unwrap_err();
            assert!(
                matches!(&e, CallError::Exit { reason, signal: false } if reason.is_atom("bye")),
                "{e:?}"
            );
            codes.push((e.kind(), e.exit_code()));

            // Killed before erpc could report: `exit({signal, killed})` in erpc terms.
            let e = node.call(n, "rpc_fixtures", "self_kill", Term::nil(), T).await;
            assert!(
                matches!(&e, Err(CallError::Exit { reason, signal: true }) if reason.is_atom("killed")),
                "{e:?}"
            );

            let e = node.call(n, "erlang", "throw", Term::list([Term::atom("ball")]), T).await.unwrap_err();
            assert!(matches!(&e, CallError::Throw { value } if value.is_atom("ball")), "{e:?}");
            codes.push((e.kind(), e.exit_code()));

            let e =
                node.call(n, "no_such_mod_beamlink", "f", Term::list([Term::from(1)]), T).await.unwrap_err();
            match &e {
                CallError::Undef { module, function, arity, stacktrace } => {
                    assert_eq!(
                        (module.as_str(), function.as_str(), *arity),
                        ("no_such_mod_beamlink", "f", 1)
                    );
                    // The remote stacktrace, whose top frame is the call itself.
                    let top = stacktrace.as_list().and_then(|l| l.first()).and_then(Term::as_tuple);
                    assert!(
                        matches!(top, Some([m, _, _, _]) if m.is_atom("no_such_mod_beamlink")),
                        "{stacktrace:?}"
                    );
                }
                other => panic!("{otp:?}: {other:?}"),
            }
            codes.push((e.kind(), e.exit_code()));
            // A missing export of a loaded module is undef too.
            let e = node.call(n, "lists", "no_such_fun", Term::nil(), T).await.unwrap_err();
            assert!(matches!(&e, CallError::Undef { arity: 0, .. }), "{e:?}");
            // An undef raised deeper down is an ordinary error.
            let e = node.call(n, "rpc_fixtures", "nested_undef", Term::nil(), T).await.unwrap_err();
            assert!(matches!(&e, CallError::Error { reason, .. } if reason.is_atom("undef")), "{e:?}");

            let started = std::time::Instant::now();
            let e = node
                .call(n, "timer", "sleep", Term::list([Term::from(3000)]), Duration::from_millis(300))
                .await
                .unwrap_err();
            assert!(
                matches!(&e, CallError::Timeout { after, .. } if *after == Duration::from_millis(300)),
                "{e:?}"
            );
            assert!(started.elapsed() < Duration::from_secs(2));
            codes.push((e.kind(), e.exit_code()));

            let e =
                node.call("nobody_beamlink@localhost", "erlang", "node", Term::nil(), T).await.unwrap_err();
            assert!(matches!(&e, CallError::NoConnection { .. }), "{e:?}");
            // The typed reason stays reachable: epmd knows no such name.
            assert!(
                matches!(
                    e.connect_error(),
                    Some(NodeError::Connect { source: ConnectError::NodeNotFound { .. }, .. })
                ),
                "{e:?}"
            );
            codes.push((e.kind(), e.exit_code()));

            let mut kinds: Vec<_> = codes.iter().map(|c| c.0).collect();
            let mut nums: Vec<_> = codes.iter().map(|c| c.1).collect();
            kinds.dedup();
            nums.sort();
            nums.dedup();
            assert_eq!(kinds, ["error", "exit", "throw", "undef", "timeout", "noconnection"]);
            assert_eq!(nums, [2, 3, 4, 5, 6, 7]);

            // The abandoned call leaves nothing: the remote process (still sleeping, as with
            // erpc) is no longer monitored by us, and the next call on the same connection
            // gets exactly its own answer.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let watchers = peer.eval_ok(
                "[element(2, process_info(P, monitored_by)) || P <- processes(), \
                 process_info(P, initial_call) == {initial_call, {erpc, execute_call, 4}}].",
            );
            assert_eq!(watchers, "[[]]", "{otp:?}");
            tokio::time::sleep(Duration::from_millis(3000)).await;
            let v = node.call(n, "erlang", "node", Term::nil(), T).await.unwrap();
            assert_eq!(v, Term::atom(n));
        });
    }
}

#[test]
fn node_killed_mid_call_is_noconnection() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "rpckill");
        rt().block_on(async {
            let node = local().await;
            let n = peer.name.clone();
            let (a, b) = (node.clone(), n.clone());
            let erpc = tokio::spawn(async move {
                a.call(&b, "timer", "sleep", Term::list([Term::from(10000)]), Duration::from_secs(30)).await
            });
            let (a, b) = (node.clone(), n.clone());
            let rex = tokio::spawn(async move {
                a.rpc_call(&b, "timer", "sleep", Term::list([Term::from(10000)]), Duration::from_secs(30))
                    .await
            });
            tokio::time::sleep(Duration::from_millis(800)).await;
            let started = std::time::Instant::now();
            peer.kill();
            let e = erpc.await.unwrap().unwrap_err();
            assert!(
                matches!(&e, CallError::NoConnection { node, cause: None, .. } if *node == n),
                "{otp:?}: {e:?}"
            );
            let e = rex.await.unwrap().unwrap_err();
            assert!(matches!(&e, CallError::NoConnection { .. }), "{otp:?}: {e:?}");
            assert!(started.elapsed() < Duration::from_secs(5));
        });
    }
}

/// How many processes on `peer` are running an erpc call (`erpc:execute_call/4`).
fn erpc_processes(peer: &TestNode) -> String {
    peer.eval_ok(
        "length([P || P <- processes(), \
         erlang:process_info(P, initial_call) =:= {initial_call, {erpc, execute_call, 4}}]).",
    )
}

fn until(mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn a_dropped_call_stops_the_remote_process_and_a_timed_out_one_does_not() {
    for otp in Otp::ALL {
        let peer = with_fixtures(otp, "rpccancel");
        let rt = rt();
        let node = rt.block_on(local());
        let n = peer.name.clone();
        let sleep = || Term::list([Term::from(60_000)]);
        let long = Duration::from_secs(60);

        // Dropped once the remote process runs (the spawn reply is in).
        let (a, b) = (node.clone(), n.clone());
        let call = rt.spawn(async move { a.call(&b, "rpc_fixtures", "sleeper", sleep(), long).await });
        assert!(until(|| erpc_processes(&peer) == "1"), "{otp:?}: the call runs: {}", erpc_processes(&peer));
        call.abort();
        assert!(until(|| erpc_processes(&peer) == "0"), "{otp:?}: killed on cancel");

        // Dropped as soon as the request is sent, before the spawn reply can have come: the
        // process is killed when the reply names it.
        rt.block_on(async {
            for _ in 0..20 {
                drop(node.send_request(&n, "rpc_fixtures", "sleeper", sleep()).await.unwrap());
            }
        });
        assert!(until(|| erpc_processes(&peer) == "0"), "{otp:?}: killed on reply");

        // A timeout keeps erpc's semantics: the remote process runs on.
        let e = rt
            .block_on(node.call(&n, "rpc_fixtures", "sleeper", sleep(), Duration::from_millis(300)))
            .unwrap_err();
        assert!(matches!(e, CallError::Timeout { .. }), "{e:?}");
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(erpc_processes(&peer), "1", "{otp:?}: runs on after a timeout");

        // The connection is still good.
        let v = rt.block_on(node.call(&n, "erlang", "node", Term::nil(), T)).unwrap();
        assert_eq!(v, Term::atom(&n));
    }
}

#[test]
fn rex_rpc_call_and_cast() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "rpcrex");
        rt().block_on(async {
            let node = local().await;
            let n = peer.name.as_str();
            let v = node.rpc_call(n, "erlang", "node", Term::nil(), T).await.unwrap();
            assert_eq!(v, Term::atom(n));
            // rpc:call gives a thrown value back as the value.
            let v = node.rpc_call(n, "erlang", "throw", Term::list([Term::atom("ball")]), T).await.unwrap();
            assert!(v.is_atom("ball"));
            let e = node.rpc_call(n, "erlang", "error", Term::list([Term::atom("boom")]), T).await.unwrap_err();
            match &e {
                CallError::BadRpc { reason } => {
                    let t = reason.as_tuple().unwrap();
                    assert!(t[0].is_atom("EXIT"));
                    assert!(t[1].as_tuple().unwrap()[0].is_atom("boom"));
                }
                other => panic!("{otp:?}: {other:?}"),
            }
            assert_eq!(e.exit_code(), 9);
            let e = node.rpc_call(n, "erlang", "exit", Term::list([Term::atom("bye")]), T).await.unwrap_err();
            assert!(matches!(&e, CallError::BadRpc { reason } if *reason == Term::tuple([Term::atom("EXIT"), Term::atom("bye")])));
            let e = node.rpc_call(n, "no_such_mod_beamlink", "f", Term::nil(), T).await.unwrap_err();
            assert!(matches!(&e, CallError::BadRpc { .. }), "{e:?}");
            let e = node
                .rpc_call(n, "timer", "sleep", Term::list([Term::from(2000)]), Duration::from_millis(200))
                .await
                .unwrap_err();
            assert!(matches!(&e, CallError::Timeout { .. }), "{e:?}");
            // Our pid as group leader: the output comes back with the result.
            let args = Term::list([s("rex ~p~n"), Term::list([Term::from(5)])]);
            let (r, out) = node.rpc_call_with_output(n, "io", "format", args, T).await;
            assert!(r.unwrap().is_atom("ok"));
            assert_eq!(out, "rex 5\n");

            let env = Term::list([Term::atom("kernel"), Term::atom("beamlink_cast"), Term::from(42)]);
            node.cast(n, "application", "set_env", env).await.unwrap();
            let mut seen = Term::atom("undefined");
            for _ in 0..50 {
                let args = Term::list([Term::atom("kernel"), Term::atom("beamlink_cast")]);
                seen = node.call(n, "application", "get_env", args, T).await.unwrap();
                if seen != Term::atom("undefined") {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(seen, Term::tuple([Term::atom("ok"), Term::from(42)]));
        });
    }
}

#[test]
fn ten_thousand_concurrent_calls_on_one_connection() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "rpcmany");
        rt().block_on(async {
            let node = local().await;
            let mut set = tokio::task::JoinSet::new();
            for i in 0..10_000i64 {
                let (node, n) = (node.clone(), peer.name.clone());
                set.spawn(async move {
                    let args = Term::list([Term::list([Term::from(i), Term::atom("x")])]);
                    (i, node.call(&n, "lists", "reverse", args, Duration::from_secs(60)).await)
                });
            }
            let mut seen = vec![false; 10_000];
            while let Some(r) = set.join_next().await {
                let (i, v) = r.unwrap();
                assert_eq!(v.unwrap(), Term::list([Term::atom("x"), Term::from(i)]), "{otp:?} call {i}");
                seen[i as usize] = true;
            }
            assert!(seen.iter().all(|x| *x));
            assert_eq!(node.nodes(), vec![Atom::new(&peer.name)]);

            // Requests collected later, in any order; dropping one cancels it.
            let n = peer.name.as_str();
            let mut slow =
                node.send_request(n, "timer", "sleep", Term::list([Term::from(700)])).await.unwrap();
            let quick = node.send_request(n, "erlang", "node", Term::nil()).await.unwrap();
            let dropped =
                node.send_request(n, "timer", "sleep", Term::list([Term::from(100)])).await.unwrap();
            drop(dropped);
            assert!(slow.wait_response(Duration::from_millis(100)).await.is_none());
            assert_eq!(quick.receive_response(T).await.unwrap(), Term::atom(n));
            assert!(slow.wait_response(T).await.unwrap().unwrap().is_atom("ok"));
            assert!(slow.wait_response(Duration::from_millis(50)).await.is_none());
            let late = node.send_request(n, "timer", "sleep", Term::list([Term::from(1000)])).await.unwrap();
            let e = late.receive_response(Duration::from_millis(100)).await.unwrap_err();
            assert_eq!(e.kind(), "timeout");
        });
    }
}

#[test]
fn multicall_over_five_nodes_with_one_dead() {
    let peers: Vec<TestNode> =
        (0..5).map(|i| TestNode::start(if i % 2 == 0 { Otp::V25 } else { Otp::V28 }, "rpcmulti")).collect();
    rt().block_on(async {
        let node = local().await;
        let names: Vec<&str> = peers.iter().map(|p| p.name.as_str()).collect();
        // Connected first, so the dead one is lost mid-flight rather than never reached.
        for n in &names {
            assert!(node.ping(n).await);
        }
        peers[2].kill();
        let rs = node.multicall(&names, "erlang", "node", Term::nil(), T).await;
        assert_eq!(rs.len(), 5);
        for (i, r) in rs.iter().enumerate() {
            if i == 2 {
                assert!(matches!(r, Err(CallError::NoConnection { node, .. }) if node == names[2]), "{r:?}");
            } else {
                assert_eq!(r.as_ref().unwrap(), &Term::atom(names[i]));
            }
        }
    });
}

#[test]
fn spawned_output_reaches_the_caller() {
    for otp in Otp::ALL {
        let peer = with_fixtures(otp, "rpcspawn");
        rt().block_on(async {
            let node = local().await;
            let n = peer.name.as_str();
            let args = Term::list([s("hi ~p~n"), Term::list([Term::from(42)])]);
            let mut p = node.spawn(n, "io", "format", args, SpawnOptions::default()).await.unwrap();
            assert_eq!(p.pid.node.as_str(), n);
            assert!(p.wait_exit(T).await.unwrap().is_atom("normal"));
            assert_eq!(p.output_so_far(), "hi 42\n");

            let mut p = node
                .spawn(n, "rpc_fixtures", "printer", Term::list([Term::from(7)]), SpawnOptions::default())
                .await
                .unwrap();
            let reason = p.wait_exit(T).await.unwrap();
            assert!(reason.is_atom("normal"), "{otp:?}: {reason:?} {:?}", p.output_so_far());
            assert_eq!(p.output_so_far(), "hi 7\nplain\nünï\nold\nlé\n");

            // The same as one stream: every chunk, then the exit, then the exit again.
            let mut p = node
                .spawn(n, "rpc_fixtures", "printer", Term::list([Term::from(8)]), SpawnOptions::default())
                .await
                .unwrap();
            let mut text = String::new();
            let reason = loop {
                match p.next_event(T).await.unwrap().expect("an event before the timeout") {
                    SpawnEvent::Output(chunk) => text.push_str(&chunk),
                    SpawnEvent::Exit(reason) => break reason,
                }
            };
            assert!(reason.is_atom("normal"), "{otp:?}: {reason:?}");
            assert_eq!(text, "hi 8\nplain\nünï\nold\nlé\n");
            assert_eq!(p.next_event(T).await.unwrap(), Some(SpawnEvent::Exit(reason)));

            // Linked, no early monitor, output left on the remote node.
            let opts =
                SpawnOptions { link: true, monitor: false, output: Output::Remote, ..Default::default() };
            let args = Term::list([s("remote side only\n")]);
            let mut p = node.spawn(n, "io", "put_chars", args, opts).await.unwrap();
            let exit = p.owner().receive_match(T, |m| matches!(m, Message::Exit { .. })).await;
            assert!(
                matches!(exit, Some(Message::Exit { ref reason, .. }) if reason.is_atom("normal")),
                "{exit:?}"
            );
            assert!(peer.wait_output("remote side only", T));
            assert_eq!(p.output_so_far(), "");

            // A missing function still spawns; its exit reason says undef.
            let mut p = node
                .spawn(n, "no_such_mod_beamlink", "f", Term::nil(), SpawnOptions::default())
                .await
                .unwrap();
            let reason = p.wait_exit(T).await.unwrap();
            assert!(reason.as_tuple().unwrap()[0].is_atom("undef"), "{reason:?}");

            // An option the node does not know: the spawn is refused, for real.
            let opts = SpawnOptions {
                extra: vec![Term::tuple([Term::atom("beamlink_bogus"), Term::from(1)])],
                ..Default::default()
            };
            let e = node.spawn(n, "erlang", "node", Term::nil(), opts).await.unwrap_err();
            assert!(matches!(&e, CallError::SpawnFailed { reason, .. } if reason.is_atom("badopt")), "{e:?}");
            assert_eq!((e.kind(), e.exit_code()), ("spawn_failed", 8));

            let (r, out) = node.call_with_output(n, "rpc_fixtures", "io_misc", Term::nil(), T).await;
            let opts = Term::list([
                Term::tuple([Term::atom("binary"), Term::atom("false")]),
                Term::tuple([Term::atom("encoding"), Term::atom("unicode")]),
            ]);
            let error_request = Term::tuple([Term::atom("error"), Term::atom("request")]);
            assert_eq!(r.unwrap(), Term::tuple([opts, Term::atom("ok"), Term::atom("ok"), error_request]));
            assert_eq!(out, "ab\n");

            let args = Term::list([s("out ~s ~p~n"), Term::list([s("put"), Term::atom("x")])]);
            let (r, out) = node.call_with_output(n, "io", "format", args, T).await;
            assert!(r.unwrap().is_atom("ok"));
            assert_eq!(out, "out put x\n");
            let (r, out) =
                node.call_with_output(n, "rpc_fixtures", "printer", Term::list([Term::atom("y")]), T).await;
            assert!(r.unwrap().is_atom("done"));
            assert_eq!(out, "hi y\nplain\nünï\nold\nlé\n");
            // Plain call: output discarded, but the printing call is not blocked.
            let v = node.call(n, "rpc_fixtures", "printer", Term::list([Term::from(1)]), T).await.unwrap();
            assert!(v.is_atom("done"));
        });
    }
}

#[test]
fn io_server_serves_input() {
    for otp in Otp::ALL {
        let peer = with_fixtures(otp, "rpcinput");
        rt().block_on(async {
            let node = local().await;
            let n = peer.name.as_str();
            let (gl, mut out) = IoServer::start_with_input(&node, "alpha\nbeta\n");
            let me = node.spawn_process();
            let req = me
                .spawn_request(
                    n,
                    "rpc_fixtures",
                    "read_and_echo",
                    Term::nil(),
                    &[Term::atom("monitor")],
                    Some(gl.pid()),
                )
                .await
                .unwrap();
            let down = me
                .receive_match(T, |m| matches!(m, Message::Down { reference, .. } if *reference == req))
                .await;
            assert!(
                matches!(down, Some(Message::Down { ref reason, .. }) if reason.is_atom("normal")),
                "{down:?}"
            );
            let mut text = String::new();
            while let Ok(c) = out.try_recv() {
                text.push_str(&c);
            }
            assert_eq!(text, "first> got \"alpha\\n\" \"beta\\n\" eof\n");

            // get_until (io:read) is evaluated on the node, a line at a time.
            let (gl, mut out) = IoServer::start_with_input(&node, "{answer,\n 42}.\n");
            let req = me
                .spawn_request(
                    n,
                    "rpc_fixtures",
                    "read_term",
                    Term::nil(),
                    &[Term::atom("monitor")],
                    Some(gl.pid()),
                )
                .await
                .unwrap();
            let down = me
                .receive_match(T, |m| matches!(m, Message::Down { reference, .. } if *reference == req))
                .await;
            assert!(
                matches!(down, Some(Message::Down { ref reason, .. }) if reason.is_atom("normal")),
                "{down:?}"
            );
            assert_eq!(out.recv().await.as_deref(), Some("term> "));
            assert_eq!(out.recv().await.as_deref(), Some("{ok,{answer,42}}\n"));
            let v = node.call_with_output(n, "io", "read", Term::list([s("> ")]), T).await;
            // With no input a read is eof.
            assert!(v.0.unwrap().is_atom("eof"));
        });
    }
}

/// An interactive group leader: each read is a request answered as it comes (a terminal in
/// the CLI), with the prompt the remote code gave; output streams as it is printed.
#[test]
fn interactive_io_server_answers_reads_as_they_come() {
    for otp in Otp::ALL {
        let peer = with_fixtures(otp, "rpcinter");
        rt().block_on(async {
            let node = local().await;
            let n = peer.name.as_str();
            let (gl, mut out, mut reads) = IoServer::start_interactive(&node);
            let answers = tokio::spawn(async move {
                let mut prompts = Vec::new();
                for line in [Some("alpha"), Some("beta\n"), None, Some("{answer,"), Some(" 42}.")] {
                    let r = reads.recv().await.expect("a read");
                    prompts.push(r.prompt().to_string());
                    r.answer(line.map(String::from));
                }
                prompts
            });
            let v = node.call_with_io(n, "rpc_fixtures", "read_and_echo", Term::nil(), T, &gl).await.unwrap();
            assert_eq!(v, Term::tuple([s("alpha\n"), s("beta\n"), Term::atom("eof")]), "{otp:?}");
            assert_eq!(out.recv().await.as_deref(), Some("got \"alpha\\n\" \"beta\\n\" eof\n"));
            // io:read asks again until the term is complete; only the first read shows the prompt.
            let v = node.call_with_io(n, "rpc_fixtures", "read_term", Term::nil(), T, &gl).await.unwrap();
            let want = Term::tuple([Term::atom("ok"), Term::tuple([Term::atom("answer"), Term::from(42)])]);
            assert_eq!(v, want);
            assert_eq!(out.recv().await.as_deref(), Some("{ok,{answer,42}}\n"));
            assert_eq!(answers.await.unwrap(), ["first> ", "", "", "term> ", ""]);
        });
    }
}

/// A process the call spawns on a third node inherits our group leader; once we listen, that
/// node connects back to us and its output arrives too.
#[test]
fn output_from_a_third_node_reaches_a_listening_group_leader() {
    let a = TestNode::start(Otp::V25, "rpcthird");
    let b = TestNode::start(Otp::V28, "rpcthird");
    rt().block_on(async {
        let node = local().await;
        node.listen(0).await.unwrap();
        let (gl, mut out) = IoServer::start(&node);
        let args = Term::list([
            Term::atom(&b.name),
            Term::atom("io"),
            Term::atom("put_chars"),
            Term::list([Term::binary(&b"from the third node\n"[..])]),
        ]);
        let pid = node.call_with_io(&a.name, "erlang", "spawn", args, T, &gl).await.unwrap();
        assert!(matches!(&pid, Term::Pid(p) if p.node.as_str() == b.name), "{pid:?}");
        let text = tokio::time::timeout(T, out.recv()).await.expect("output in time");
        assert_eq!(text.as_deref(), Some("from the third node\n"));
    });
}

#[test]
fn discover_a_mesh_from_an_elixir_seed() {
    let seed = TestNode::builder(Otp::V25).prefix("rpcseed").elixir().start().unwrap();
    let others = [
        TestNode::start(Otp::V25, "rpcmesh"),
        TestNode::start(Otp::V28, "rpcmesh"),
        TestNode::start(Otp::V28, "rpcmesh"),
    ];
    let all: Vec<&TestNode> = std::iter::once(&seed).chain(others.iter()).collect();
    for a in &all {
        for b in &all {
            if a.name != b.name {
                assert_eq!(a.eval_ok(&format!("net_kernel:connect_node('{}').", b.name)), "true");
            }
        }
    }
    seed.eval_ok(
        r##"'Elixir.Code':eval_string(<<"defmodule Person do def say_hello(n), do: \"hello from #{node()} to #{n}\" end">>)."##,
    );
    rt().block_on(async {
        let node = local().await;
        let members = node.discover(&others[1].name).await.unwrap();
        let mut want: Vec<Atom> = all.iter().map(|n| Atom::new(&n.name)).collect();
        want.sort();
        assert_eq!(members, want);
        assert_eq!(node.nodes(), want);

        let v = node
            .call(&seed.name, "Elixir.Person", "say_hello", Term::list([Term::from("beamlink")]), T)
            .await;
        assert_eq!(v.unwrap(), Term::from(format!("hello from {} to beamlink", seed.name)));
        // Node.spawn(seed, fn -> IO.puts(...) end), as MFA.
        let args = Term::list([Term::from("hi from elixir")]);
        let mut p = node.spawn(&seed.name, "Elixir.IO", "puts", args, SpawnOptions::default()).await.unwrap();
        assert!(p.wait_exit(T).await.unwrap().is_atom("normal"));
        assert_eq!(p.output_so_far(), "hi from elixir\n");
        // Node.spawn(seed, fn -> IO.puts(...) end) with a real fun: made on the seed (a client
        // cannot build one), carried through us, and spawned as `erlang:apply(Fun, [])`.
        let code = Term::from(r#"fn -> IO.puts("from a fun on #{node()}") end"#);
        let made = node.call(&seed.name, "Elixir.Code", "eval_string", Term::list([code]), T).await.unwrap();
        let fun = made.as_tuple().unwrap()[0].clone();
        assert!(matches!(fun, Term::Fun(_)), "{fun:?}");
        let args = Term::list([fun, Term::nil()]);
        let mut p = node.spawn(&seed.name, "erlang", "apply", args, SpawnOptions::default()).await.unwrap();
        assert!(p.wait_exit(T).await.unwrap().is_atom("normal"));
        assert_eq!(p.output_so_far(), format!("from a fun on {}\n", seed.name));
        // Every member answers.
        let names: Vec<String> = members.iter().map(|a| a.as_str().to_string()).collect();
        let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let rs = node.multicall(&refs, "erlang", "node", Term::nil(), T).await;
        assert!(rs.iter().zip(&refs).all(|(r, n)| r.as_ref().unwrap() == &Term::atom(n)));
    });
}
