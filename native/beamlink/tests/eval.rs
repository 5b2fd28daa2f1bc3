//! `Node::eval` and spawns with input, against real nodes: Erlang source on OTP 25 and OTP 28,
//! Elixir source on an Elixir node, syntax errors as the node reports them.

use std::time::Duration;

use beamlink::rpc::{Language, SpawnOptions};
use beamlink::term::Term;
use beamlink::{CallError, Node};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

const T: Duration = Duration::from_secs(20);

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn local() -> Node {
    Node::builder(format!("{}@localhost", unique_name("eval"))).cookie(DEFAULT_COOKIE).start().await.unwrap()
}

#[test]
fn erlang_source_evaluates_with_its_output() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "evalerl");
        rt().block_on(async {
            let node = local().await;
            let (v, out) = node
                .eval(&peer.name, "io:format(\"hi ~p~n\", [x]), X = 20, X + 22", Language::Erlang, T)
                .await;
            assert_eq!(v.unwrap(), Term::from(42), "{otp:?}");
            assert_eq!(out, "hi x\n");
            let (v, _) = node.eval(&peer.name, "1 + ", Language::Erlang, T).await;
            match v {
                Err(CallError::Error { reason, .. }) => {
                    assert!(reason.as_tuple().unwrap()[0].is_atom("error"), "{reason}")
                }
                other => panic!("{otp:?}: {other:?}"),
            }
            let (v, _) = node.eval(&peer.name, "erlang:error(boom)", Language::Erlang, T).await;
            assert!(matches!(v, Err(CallError::Error { ref reason, .. }) if reason.is_atom("boom")), "{v:?}");
        });
    }
}

#[test]
fn elixir_source_evaluates_on_an_elixir_node() {
    let peer = TestNode::builder(Otp::V25).prefix("evalex").elixir().start().unwrap();
    rt().block_on(async {
        let node = local().await;
        let (v, out) =
            node.eval(&peer.name, "IO.puts(\"hello\"); Enum.sum([1, 2, 3])", Language::Elixir, T).await;
        assert_eq!(v.unwrap(), Term::from(6));
        assert_eq!(out, "hello\n");
        let (v, _) = node.eval(&peer.name, "1 +", Language::Elixir, T).await;
        assert!(matches!(v, Err(CallError::Error { .. })), "{v:?}");
    });
}

#[test]
fn spawned_reads_consume_the_given_input() {
    let peer = TestNode::start(Otp::V25, "spawnin");
    peer.load_erl(&std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rpc_fixtures.erl"));
    rt().block_on(async {
        let node = local().await;
        let opts = SpawnOptions { input: "one\ntwo\n".into(), ..Default::default() };
        let mut p = node.spawn(&peer.name, "rpc_fixtures", "read_and_echo", Term::nil(), opts).await.unwrap();
        assert!(p.wait_exit(T).await.unwrap().is_atom("normal"));
        // The prompt, then the two lines read and the end of input after them.
        assert_eq!(p.output_so_far(), "first> got \"one\\n\" \"two\\n\" eof\n");
    });
}
