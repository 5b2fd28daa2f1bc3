//! The node runtime against real OTP 25 and OTP 28 nodes (and an Elixir node): ping, node
//! events, messages both ways up to 256 MiB, fragments, links, monitors, a published C node,
//! ticks, and a corrupt peer that must not disturb the others.

use std::time::{Duration, Instant};

use beamlink::node::NodeEvent;
use beamlink::term::{Pid, Term};
use beamlink::{Message, Node, NodeError};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn our_node() -> Node {
    Node::builder(format!("{}@localhost", unique_name("bl"))).cookie(DEFAULT_COOKIE).start().await.unwrap()
}

const ECHO: &str =
    "register(echo, spawn(fun Loop() -> receive {From, M} -> From ! {echo, M}, Loop(); stop -> ok end end)).";

async fn wait_event(
    rx: &mut tokio::sync::broadcast::Receiver<NodeEvent>,
    pred: impl Fn(&NodeEvent) -> bool,
    within: Duration,
) -> Option<NodeEvent> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(e)) if pred(&e) => return Some(e),
            Ok(Ok(_)) => continue,
            _ => return None,
        }
    }
}

#[test]
fn ping_pong_and_pang() {
    let nodes: Vec<TestNode> = Otp::ALL.iter().map(|&o| TestNode::start(o, "ping")).collect();
    let elixir = TestNode::builder(Otp::V25).prefix("pingex").elixir().start().unwrap();
    rt().block_on(async {
        let node = our_node().await;
        for n in nodes.iter().chain([&elixir]) {
            assert!(node.ping(&n.name).await, "pong from {}", n.name);
        }
        let mut listed: Vec<String> = node.nodes().iter().map(|a| a.as_str().to_string()).collect();
        listed.sort();
        let mut want: Vec<String> = nodes.iter().chain([&elixir]).map(|n| n.name.clone()).collect();
        want.sort();
        assert_eq!(listed, want);
        // The remote sees us as a hidden node.
        for n in &nodes {
            let seen = n.eval_ok("nodes(hidden).");
            assert!(seen.contains(node.name().as_str()), "{seen}");
            assert_eq!(n.eval_ok("nodes()."), "[]");
        }
        assert!(!node.ping("nosuchnode@localhost").await);
        match node.ping_timeout("nosuchnode@localhost", Duration::from_secs(5)).await {
            Err(NodeError::Connect { .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    });
}

#[test]
fn wrong_cookie_is_pang_with_a_typed_error_and_the_remote_logs_it() {
    for otp in Otp::ALL {
        let remote = TestNode::builder(otp).prefix("cookie").cookie("the_right_one").start().unwrap();
        rt().block_on(async {
            let node = our_node().await;
            let started = Instant::now();
            assert!(!node.ping(&remote.name).await);
            let err = node.connect(&remote.name).await.unwrap_err();
            let text = err.to_string();
            assert!(
                matches!(
                    &err,
                    NodeError::Connect {
                        source: beamlink::handshake::ConnectError::Handshake {
                            source: beamlink::handshake::HandshakeError::BadCookie { .. },
                            ..
                        },
                        ..
                    }
                ),
                "{otp:?}: {err:?}"
            );
            assert!(
                !text.contains("the_right_one") && !text.contains(DEFAULT_COOKIE),
                "cookie leaked: {text}"
            );
            assert!(started.elapsed() < Duration::from_secs(10), "no hang");
        });
        assert!(
            remote.wait_output("Connection attempt from", Duration::from_secs(5)),
            "{otp:?} logged: {}",
            remote.output()
        );
    }
}

#[test]
fn messages_both_ways_from_1k_to_256m() {
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "big");
        remote.eval_ok(ECHO);
        rt().block_on(async {
            let node = our_node().await;
            let me = node.spawn_process();
            for size in [1usize << 10, 1 << 16, 1 << 20, 64 << 20, 256 << 20] {
                let blob: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
                let msg = Term::tuple([Term::Pid(me.pid().clone()), Term::binary(blob.clone())]);
                me.send_named(&remote.name, "echo", msg).await.unwrap();
                let got = me.receive_timeout(Duration::from_secs(120)).await.expect("echo");
                let t = got.term().unwrap().unwrap();
                let items = t.as_tuple().unwrap();
                assert!(items[0].is_atom("echo"));
                let back = items[1].as_binary().unwrap();
                assert_eq!(back.len(), size, "{otp:?} size {size}");
                assert!(back.as_ref() == blob.as_slice(), "{otp:?} {size}: content differs");
            }
        });
    }
}

#[test]
fn small_messages_overtake_a_large_one_but_keep_their_own_order() {
    let remote = TestNode::start(Otp::V28, "interleave");
    remote.eval_ok(ECHO);
    rt().block_on(async {
        let node = our_node().await;
        let big = node.spawn_process();
        let small = node.spawn_process();
        let blob = Term::binary(vec![9u8; 48 << 20]);
        big.send_named(&remote.name, "echo", Term::tuple([Term::Pid(big.pid().clone()), blob]))
            .await
            .unwrap();
        // The same sender's next message must come after its large one.
        big.send_named(
            &remote.name,
            "echo",
            Term::tuple([Term::Pid(big.pid().clone()), Term::atom("after")]),
        )
        .await
        .unwrap();
        for i in 0..10_000 {
            small
                .send_named(
                    &remote.name,
                    "echo",
                    Term::tuple([Term::Pid(small.pid().clone()), Term::from(i)]),
                )
                .await
                .unwrap();
        }
        let stats = node.connect(&remote.name).await.unwrap().stats();
        for i in 0..10_000 {
            let m = small.receive_timeout(Duration::from_secs(60)).await.expect("small echo");
            let t = m.term().unwrap().unwrap();
            assert_eq!(t.as_tuple().unwrap()[1], Term::from(i), "in order");
        }
        // All 10k small echoes came back while the large one was still on its way.
        let first = big.receive_timeout(Duration::from_secs(60)).await.unwrap().term().unwrap().unwrap();
        assert!(first.as_tuple().unwrap()[1].as_binary().is_some(), "large first");
        let second = big.receive_timeout(Duration::from_secs(60)).await.unwrap().term().unwrap().unwrap();
        assert!(second.as_tuple().unwrap()[1].is_atom("after"));
        // Many small messages shared each write.
        let after = node.connect(&remote.name).await.unwrap().stats();
        assert!(after.packets_out >= 10_000 + 768, "{after:?}");
        assert!(after.writes * 4 < after.packets_out, "batching: {after:?} (before the replies: {stats:?})");
    });
}

#[test]
fn node_killed_gives_nodedown_then_pong_again_after_restart() {
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "restart");
        let alive = remote.alive.clone();
        rt().block_on(async {
            let node = our_node().await;
            let mut events = node.subscribe();
            assert!(node.ping(&remote.name).await);
            assert!(
                wait_event(&mut events, |e| matches!(e, NodeEvent::Up { .. }), Duration::from_secs(1))
                    .await
                    .is_some()
            );
            remote.eval_ok(ECHO);
            let mut me = node.spawn_process();
            let victim = remote_pid(&mut me, &remote.name, "echo").await;
            me.link(&victim).await.unwrap();
            let mref = me.monitor(&victim).await.unwrap();
            remote.kill();
            let down =
                wait_event(&mut events, |e| matches!(e, NodeEvent::Down { .. }), Duration::from_secs(10))
                    .await;
            assert!(down.is_some(), "{otp:?}: nodedown");
            assert!(node.nodes().is_empty());
            // Links and monitors over the lost connection fire with noconnection.
            let mut exit = false;
            let mut mdown = false;
            while let Some(m) = me.receive_timeout(Duration::from_secs(2)).await {
                match m {
                    Message::Exit { from, reason } if from == victim && reason.is_atom("noconnection") => {
                        exit = true
                    }
                    Message::Down { reference, reason, .. }
                        if reference == mref && reason.is_atom("noconnection") =>
                    {
                        mdown = true
                    }
                    _ => {}
                }
            }
            assert!(exit && mdown, "{otp:?}: exit {exit} down {mdown}");
            assert!(!node.ping(&remote.name).await);
            let again = TestNode::builder(otp).alive(&alive).start().unwrap();
            assert!(node.ping(&again.name).await, "{otp:?}: pong after restart");
            assert_eq!(node.nodes().len(), 1);
        });
    }
}

/// The pid behind a name registered on `remote`: the echo answers with SEND_SENDER, which
/// names the sender.
async fn remote_pid(me: &mut beamlink::Process, remote: &str, name: &str) -> Pid {
    me.send_named(remote, name, Term::tuple([Term::Pid(me.pid().clone()), Term::atom("whoami")]))
        .await
        .unwrap();
    match me.receive_timeout(Duration::from_secs(5)).await {
        Some(Message::Send { from: Some(p), .. }) => p,
        other => panic!("no sender in {other:?}"),
    }
}

#[test]
fn published_c_node_receives_by_name_and_answers_ping() {
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "cnode_peer");
        rt().block_on(async {
            let node = Node::builder(format!("{}@localhost", unique_name("blc")))
                .cookie(DEFAULT_COOKIE)
                .listen(0)
                .start()
                .await
                .unwrap();
            assert!(node.port().is_some());
            let sink = node.spawn_process();
            sink.register("sink").unwrap();
            let ours = node.name().as_str().to_string();
            assert_eq!(remote.eval_ok(&format!("net_adm:ping('{ours}').")), "pong", "{otp:?}");
            remote.eval_ok(&format!("{{sink, '{ours}'}} ! {{hello, self(), <<\"from {otp:?}\">>}}."));
            let m = sink.receive_timeout(Duration::from_secs(5)).await.expect("message");
            let t = m.term().unwrap().unwrap();
            let items = t.as_tuple().unwrap();
            assert!(items[0].is_atom("hello"));
            assert!(matches!(&items[1], Term::Pid(p) if p.node.as_str() == remote.name));
            // Unknown names are dropped without harm; the connection stays.
            remote.eval_ok(&format!("{{nobody, '{ours}'}} ! x."));
            assert_eq!(remote.eval_ok(&format!("net_adm:ping('{ours}').")), "pong");
        });
    }
}

/// A node started without listening can publish later (`Node::listen`): a remote then
/// connects to us by name, and a process made before publishing is reachable by name and pid.
#[test]
fn a_node_publishes_after_start() {
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "late_pub");
        rt().block_on(async {
            let node = our_node().await;
            let early = node.spawn_process();
            assert_eq!(node.port(), None);
            let port = node.listen(0).await.unwrap();
            assert_eq!(node.port(), Some(port));
            assert_eq!(node.listen(0).await.unwrap(), port, "listening twice keeps the port");
            early.register("early").unwrap();
            let ours = node.name().as_str().to_string();
            let epmd = beamlink::epmd::names("localhost").await.unwrap();
            let alive = ours.split('@').next().unwrap();
            assert!(epmd.iter().any(|(n, p)| n == alive && *p == port), "{epmd:?}");
            assert_eq!(remote.eval_ok(&format!("net_adm:ping('{ours}').")), "pong", "{otp:?}");
            remote.eval_ok(&format!("{{early, '{ours}'}} ! {{self(), hello}}."));
            let m = early.receive_timeout(Duration::from_secs(5)).await.expect("message by name");
            let t = m.term().unwrap().unwrap();
            let Some([Term::Pid(from), hello]) = t.as_tuple() else { panic!("{t:?}") };
            assert!(hello.is_atom("hello"));
            early.send(from, Term::tuple([Term::atom("pid"), Term::Pid(early.pid().clone())])).await.unwrap();
            remote.eval_ok("receive {pid, P} -> P ! direct after 5000 -> timeout end.");
            let m = early.receive_timeout(Duration::from_secs(5)).await.expect("message by pid");
            assert!(m.term().unwrap().unwrap().is_atom("direct"), "{otp:?}");
        });
    }
}

#[test]
fn remote_monitor_by_name_sees_our_process_end() {
    let remote = TestNode::start(Otp::V28, "watch");
    rt().block_on(async {
        let node = Node::builder(format!("{}@localhost", unique_name("blw")))
            .cookie(DEFAULT_COOKIE)
            .listen(0)
            .start()
            .await
            .unwrap();
        let ours = node.name().as_str().to_string();
        let target = node.spawn_process();
        target.register("target").unwrap();
        // The remote monitors our registered process by name, then we end it. The connection
        // comes first: a monitor on an unconnected node is set up asynchronously.
        assert_eq!(remote.eval_ok(&format!("net_adm:ping('{ours}').")), "pong");
        remote.eval_ok(&format!(
            "Self = self(), W = spawn(fun() -> R = erlang:monitor(process, {{target, '{ours}'}}), Self ! {{monitoring, R}}, receive {{'DOWN', R, _, _, Why}} -> Self ! {{down, Why}} end end), receive {{monitoring, _}} -> ok after 5000 -> timeout end."
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        target.exit(Term::atom("shutdown"));
        let got = remote.eval_ok("receive {down, Why} -> Why after 5000 -> timeout end.");
        assert_eq!(got, "shutdown");
    });
}

#[test]
fn silent_peer_is_dropped_after_net_ticktime_and_we_tick_to_stay_alive() {
    let remote = TestNode::builder(Otp::V25)
        .prefix("tick")
        .arg("-kernel")
        .arg("net_ticktime")
        .arg("4")
        .start()
        .unwrap();
    rt().block_on(async {
        let node = Node::builder(format!("{}@localhost", unique_name("blt")))
            .cookie(DEFAULT_COOKIE)
            .net_ticktime(Duration::from_secs(4))
            .start()
            .await
            .unwrap();
        let mut events = node.subscribe();
        assert!(node.ping(&remote.name).await);
        // Idle for three tick times: our ticks keep the remote from dropping us.
        tokio::time::sleep(Duration::from_secs(12)).await;
        assert!(remote.eval_ok("nodes(hidden).").contains(node.name().as_str()));
        assert_eq!(node.nodes().len(), 1);
        // Freeze the remote: it stops ticking and we must notice.
        let pid = remote.os_pid().to_string();
        std::process::Command::new("kill").args(["-STOP", &pid]).status().unwrap();
        let started = Instant::now();
        let down =
            wait_event(&mut events, |e| matches!(e, NodeEvent::Down { .. }), Duration::from_secs(15)).await;
        std::process::Command::new("kill").args(["-CONT", &pid]).status().unwrap();
        let down = down.expect("tick timeout");
        assert!(format!("{down:?}").contains("net_ticktime"), "{down:?}");
        assert!(started.elapsed() >= Duration::from_secs(3), "not before the tick time");
    });
}

#[test]
fn corrupt_frames_close_only_their_own_connection() {
    use beamlink::cookie::Cookie;
    use beamlink::handshake::{HandshakeConfig, connect};
    use beamlink::name::NodeName;
    use tokio::io::AsyncWriteExt;

    let good = TestNode::start(Otp::V28, "bystander");
    rt().block_on(async {
        let node = Node::builder(format!("{}@localhost", unique_name("blx")))
            .cookie(DEFAULT_COOKIE)
            .listen(0)
            .start()
            .await
            .unwrap();
        let mut events = node.subscribe();
        assert!(node.ping(&good.name).await);
        // A hand-made peer completes the handshake, then sends garbage.
        let evil_name = NodeName::parse_any(&format!("{}@localhost", unique_name("evil"))).unwrap();
        let cfg = HandshakeConfig::new(evil_name.clone(), Cookie::new(DEFAULT_COOKIE), 7);
        let ours = NodeName::parse_any(node.name().as_str()).unwrap();
        let (mut stream, _) = connect(&cfg, &ours).await.unwrap();
        assert!(
            wait_event(
                &mut events,
                |e| matches!(e, NodeEvent::Up { node } if node.as_str() == evil_name.to_string()),
                Duration::from_secs(5)
            )
            .await
            .is_some()
        );
        stream.write_all(&[0, 0, 0, 5, 131, 68, 0, 104, 99]).await.unwrap();
        let down = wait_event(
            &mut events,
            |e| matches!(e, NodeEvent::Down { node, .. } if node.as_str() == evil_name.to_string()),
            Duration::from_secs(5),
        )
        .await;
        assert!(format!("{down:?}").contains("broke the protocol"), "{down:?}");
        // The other connection is untouched.
        assert!(node.ping(&good.name).await);
        assert_eq!(node.nodes().len(), 1);
    });
}

#[test]
fn links_both_ways_and_unlink_id() {
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "links");
        remote.eval_ok(ECHO);
        remote.eval_ok(
            "register(linker, spawn(fun() -> process_flag(trap_exit, true), receive {link, P, Report} -> link(P), Report ! linked, receive {'EXIT', P, R} -> Report ! {exit_seen, R} end end end)).",
        );
        rt().block_on(async {
            let node = our_node().await;
            let mut me = node.spawn_process();
            let echo = remote_pid(&mut me, &remote.name, "echo").await;
            // Unlinking uses UNLINK_ID; OTP 28 drops connections that send the old UNLINK.
            me.link(&echo).await.unwrap();
            me.unlink(&echo).await.unwrap();
            me.link(&echo).await.unwrap();
            assert!(node.ping(&remote.name).await, "{otp:?}: connection survived the unlink");
            remote.eval_ok("exit(whereis(echo), kill).");
            let m = me
                .receive_match(Duration::from_secs(5), |m| matches!(m, Message::Exit { .. }))
                .await
                .expect("exit signal");
            match m {
                Message::Exit { from, reason } => {
                    assert_eq!(from, echo);
                    assert!(reason.is_atom("killed"), "{otp:?}: {reason:?}");
                }
                _ => unreachable!(),
            }
            // A remote process links to one of ours; when ours ends, it is told why.
            let victim = node.spawn_process();
            let observer = node.spawn_process();
            let req = Term::tuple([
                Term::atom("link"),
                Term::Pid(victim.pid().clone()),
                Term::Pid(observer.pid().clone()),
            ]);
            observer.send_named(&remote.name, "linker", req).await.unwrap();
            let linked =
                observer.receive_timeout(Duration::from_secs(5)).await.unwrap().term().unwrap().unwrap();
            assert!(linked.is_atom("linked"));
            tokio::time::sleep(Duration::from_millis(100)).await;
            victim.exit(Term::atom("bye"));
            let seen =
                observer.receive_timeout(Duration::from_secs(5)).await.unwrap().term().unwrap().unwrap();
            assert_eq!(seen, Term::tuple([Term::atom("exit_seen"), Term::atom("bye")]), "{otp:?}");
        });
    }
}

#[test]
fn blocking_api_without_a_runtime() {
    use beamlink::blocking::BlockingNode;
    let remote = TestNode::start(Otp::V28, "blocking");
    remote.eval_ok(ECHO);
    let node = BlockingNode::start(
        Node::builder(format!("{}@localhost", unique_name("blb"))).cookie(DEFAULT_COOKIE),
    )
    .unwrap();
    assert!(node.ping(&remote.name));
    let v = node.call(&remote.name, "erlang", "node", Term::nil(), Duration::from_secs(5)).unwrap();
    assert_eq!(v, Term::atom(&remote.name));
    let mut me = node.spawn_process();
    me.send_named(&remote.name, "echo", Term::tuple([Term::Pid(me.pid().clone()), Term::from(5)])).unwrap();
    let m = me.receive_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(m.term().unwrap().unwrap(), Term::tuple([Term::atom("echo"), Term::from(5)]));
}

/// With DIST_HDR_ATOM_CACHE offered, OTP sends atoms as cache references (2–7 per message,
/// per the notes); the connection must resolve them, fragments included.
#[test]
fn atom_cache_references_from_otp_are_resolved() {
    use beamlink::flags::DistFlags;
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "atomcache");
        remote.eval_ok(ECHO);
        rt().block_on(async {
            let node = Node::builder(format!("{}@localhost", unique_name("bla")))
                .cookie(DEFAULT_COOKIE)
                .flags(DistFlags::beamlink_default().with(DistFlags::DIST_HDR_ATOM_CACHE))
                .start()
                .await
                .unwrap();
            let conn = node.connect(&remote.name).await.unwrap();
            assert!(conn.flags().contains(DistFlags::DIST_HDR_ATOM_CACHE), "{otp:?}: negotiated");
            let me = node.spawn_process();
            for round in 0..3 {
                let atoms: Vec<Term> = (0..40).map(|i| Term::atom(format!("atom_{}", i % 7))).collect();
                let big = Term::binary(vec![round as u8; 200_000]);
                let msg = Term::tuple([
                    Term::Pid(me.pid().clone()),
                    Term::tuple([Term::list(atoms.clone()), big.clone()]),
                ]);
                me.send_named(&remote.name, "echo", msg).await.unwrap();
                let got =
                    me.receive_timeout(Duration::from_secs(10)).await.expect("echo").term().unwrap().unwrap();
                assert_eq!(
                    got,
                    Term::tuple([Term::atom("echo"), Term::tuple([Term::list(atoms), big])]),
                    "{otp:?}"
                );
            }
            let stats = conn.stats();
            assert!(stats.atom_cache_refs_in > 0, "{otp:?}: OTP used no cache references: {stats:?}");
            assert!(stats.fragments_in > 0, "{otp:?}: {stats:?}");
        });
    }
}

/// Both sides connect at the same moment: whichever attempt wins, both calls succeed and one
/// working connection remains. Timing decides which path a run takes, so each OTP gets
/// several rounds.
#[test]
fn simultaneous_connect_leaves_one_working_connection() {
    for otp in Otp::ALL {
        let remote = TestNode::start(otp, "simul");
        for round in 0..6 {
            rt().block_on(async {
                let node = Node::builder(format!("{}@localhost", unique_name("bls")))
                    .cookie(DEFAULT_COOKIE)
                    .listen(0)
                    .start()
                    .await
                    .unwrap();
                let ours = node.name().as_str().to_string();
                let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
                let remote_ref = &remote;
                std::thread::scope(|scope| {
                    let theirs = scope.spawn(move || {
                        go_rx.recv().unwrap();
                        remote_ref.eval_ok(&format!("net_kernel:connect_node('{ours}')."))
                    });
                    go_tx.send(()).unwrap();
                    // The remote needs a moment to read its stdin; meet it halfway.
                    std::thread::sleep(Duration::from_millis(round as u64));
                    let ours_result = tokio::task::block_in_place(|| {
                        tokio::runtime::Handle::current().block_on(node.connect(&remote_ref.name))
                    });
                    assert!(ours_result.is_ok(), "{otp:?} round {round}: {ours_result:?}");
                    assert_eq!(theirs.join().unwrap(), "true", "{otp:?} round {round}");
                });
                assert!(node.ping(&remote.name).await, "{otp:?} round {round}");
                assert_eq!(node.nodes().len(), 1);
                let seen = remote.eval_ok(&format!(
                    "length([N || N <- nodes(hidden), N =:= '{}']).",
                    node.name().as_str()
                ));
                assert_eq!(seen, "1");
                node.shutdown();
            });
        }
    }
}

/// A peer that stops in the middle of a packet is dropped like a silent one.
#[test]
fn peer_stalled_mid_packet_is_dropped_after_the_tick_time() {
    use beamlink::cookie::Cookie;
    use beamlink::handshake::{HandshakeConfig, connect};
    use beamlink::name::NodeName;
    use tokio::io::AsyncWriteExt;

    rt().block_on(async {
        let node = Node::builder(format!("{}@localhost", unique_name("blm")))
            .cookie(DEFAULT_COOKIE)
            .net_ticktime(Duration::from_secs(2))
            .listen(0)
            .start()
            .await
            .unwrap();
        let mut events = node.subscribe();
        let peer = NodeName::parse_any(&format!("{}@localhost", unique_name("stall"))).unwrap();
        let cfg = HandshakeConfig::new(peer.clone(), Cookie::new(DEFAULT_COOKIE), 9);
        let ours = NodeName::parse_any(node.name().as_str()).unwrap();
        let (mut stream, _) = connect(&cfg, &ours).await.unwrap();
        assert!(
            wait_event(&mut events, |e| matches!(e, NodeEvent::Up { .. }), Duration::from_secs(5))
                .await
                .is_some()
        );
        // A 100-byte packet of which 3 bytes ever arrive.
        stream.write_all(&[0, 0, 0, 100, 131, 68, 0]).await.unwrap();
        let started = Instant::now();
        let down =
            wait_event(&mut events, |e| matches!(e, NodeEvent::Down { .. }), Duration::from_secs(10)).await;
        assert!(format!("{down:?}").contains("net_ticktime"), "{down:?}");
        assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
        drop(stream);
    });
}
