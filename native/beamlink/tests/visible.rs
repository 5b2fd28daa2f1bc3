//! A visible node (PUBLISHED) against real OTP 25 and OTP 28 nodes: listed in the peer's
//! `nodes()` (a hidden one only in `nodes(hidden)`), and what `global` on the peer does with
//! a visible node that does not run `global` (documented in the README): the name registry
//! keeps working, but `global:sync()` there waits for a sync we never answer, until we leave.

use std::time::Duration;

use beamlink::Node;
use beamlink::term::Term;
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

const T: Duration = Duration::from_secs(10);

#[test]
fn a_visible_node_is_in_the_peers_nodes_and_global_waits_for_it() {
    for otp in Otp::ALL {
        let peer = TestNode::start(otp, "visible");
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(async {
            for visible in [false, true] {
                let name = format!("{}@localhost", unique_name("vis"));
                let node =
                    Node::builder(&name).cookie(DEFAULT_COOKIE).hidden(!visible).start().await.unwrap();
                assert!(node.ping(&peer.name).await, "{otp:?}");
                let listed = |kind: &str| {
                    let r = peer.eval_ok(&format!("lists:member('{name}', nodes({kind}))."));
                    r == "true"
                };
                assert_eq!(listed("visible"), visible, "{otp:?} visible {visible}");
                assert_eq!(listed("hidden"), !visible, "{otp:?} visible {visible}");
                if visible {
                    // The registry works: global locks only the nodes it has synced with.
                    let reg = peer.eval_ok(&format!(
                        "R = global:register_name({}, self()), global:unregister_name({0}), R.",
                        unique_name("vis_name")
                    ));
                    assert_eq!(reg, "yes", "{otp:?}");
                    // global:sync() waits for us: no answer within a second...
                    let sync = node
                        .call(
                            &peer.name,
                            "rpc",
                            "call",
                            Term::list([
                                Term::atom(&peer.name),
                                Term::atom("global"),
                                Term::atom("sync"),
                                Term::nil(),
                                Term::from(1000),
                            ]),
                            T,
                        )
                        .await
                        .unwrap();
                    assert_eq!(sync, Term::tuple([Term::atom("badrpc"), Term::atom("timeout")]), "{otp:?}");
                }
                node.shutdown();
                drop(node);
                // ...and once we are gone, it returns.
                let back = peer.eval_ok("global:sync().");
                assert_eq!(back, "ok", "{otp:?}");
            }
        });
    }
}
