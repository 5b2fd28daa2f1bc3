//! A spawned process's end, told the way a call's failure is told, and a spawned process
//! killed by the caller that gives up on it; against real OTP 25 and OTP 28 nodes.

use std::time::Duration;

use beamlink::rpc::SpawnOptions;
use beamlink::term::Term;
use beamlink::{CallError, Node};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

const T: Duration = Duration::from_secs(10);

#[test]
fn exit_reasons_read_as_call_errors_and_kill_ends_the_process() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "spawnexit");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            let node = Node::builder(format!("{}@localhost", unique_name("spx")))
                .cookie(DEFAULT_COOKIE)
                .start()
                .await
                .unwrap();
            let end = |m: &'static str, f: &'static str, args: Term| {
                let (node, peer) = (node.clone(), peer.name.clone());
                async move {
                    let mut p = node.spawn(&peer, m, f, args, SpawnOptions::default()).await.unwrap();
                    let reason = p.wait_exit(T).await.unwrap();
                    CallError::from_exit_reason(reason, Some((m, f)))
                }
            };
            let one = |t: Term| Term::list([t]);
            assert!(end("erlang", "node", Term::nil()).await.is_none(), "{otp:?}");
            match end("erlang", "error", one(Term::atom("boom"))).await {
                Some(CallError::Error { reason, stacktrace }) => {
                    assert!(reason.is_atom("boom"));
                    assert!(stacktrace.as_list().is_some());
                }
                other => panic!("{otp:?}: {other:?}"),
            }
            match end("erlang", "throw", one(Term::atom("ball"))).await {
                Some(CallError::Throw { value }) => assert!(value.is_atom("ball")),
                other => panic!("{otp:?}: {other:?}"),
            }
            match end("erlang", "exit", one(Term::atom("bye"))).await {
                Some(CallError::Exit { reason, signal }) => assert!(reason.is_atom("bye") && !signal),
                other => panic!("{otp:?}: {other:?}"),
            }
            match end("no_such_module", "f", one(Term::from(1))).await {
                Some(CallError::Undef { module, function, arity, .. }) => {
                    assert_eq!((module.as_str(), function.as_str(), arity), ("no_such_module", "f", 1))
                }
                other => panic!("{otp:?}: {other:?}"),
            }
            // Killed by its caller: gone on the node, and the exit says so.
            let args = one(Term::from(60_000));
            let mut p =
                node.spawn(&peer.name, "timer", "sleep", args, SpawnOptions::default()).await.unwrap();
            p.kill().await.unwrap();
            assert!(p.wait_exit(T).await.unwrap().is_atom("killed"), "{otp:?}");
            let alive = node
                .call(&peer.name, "erlang", "is_process_alive", Term::list([Term::Pid(p.pid.clone())]), T)
                .await
                .unwrap();
            assert!(alive.is_atom("false"), "{otp:?}");
        });
    }
}
