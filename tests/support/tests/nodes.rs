use beamlink_test_support::{Otp, TestNode};
use std::time::Duration;

#[test]
fn starts_and_evaluates_on_both_otps() {
    for otp in Otp::ALL {
        let node = TestNode::start(otp, "support");
        let release = node.eval_ok("erlang:system_info(otp_release).");
        let want = match otp {
            Otp::V25 => "\"25\"",
            Otp::V28 => "\"28\"",
        };
        assert_eq!(release, want);
        assert_eq!(node.eval_ok("node()."), node.name);
        assert!(node.eval("X = 5.").unwrap().contains("5"));
        assert_eq!(node.eval_ok("X * 2."), "10");
        assert!(node.eval("error(boom).").unwrap().starts_with("{error,boom"));
        node.eval_ok("io:format(\"hello from ~s~n\", [node()]).");
        assert!(node.wait_output("hello from", Duration::from_secs(5)));
        node.kill();
        assert!(!node.is_running());
    }
}

#[test]
fn elixir_node_runs_elixir() {
    let node = TestNode::builder(Otp::V25).prefix("ex").elixir().start().unwrap();
    assert_eq!(node.eval_ok("'Elixir.String':upcase(<<\"abc\">>)."), "<<\"ABC\">>");
}
