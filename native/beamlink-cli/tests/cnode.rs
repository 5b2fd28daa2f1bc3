//! `send` and `listen`: messages between the shell and a real node, both ways.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn send_to_a_registered_name() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let sink = unique_name("cli_sink");
        // The node's control loop registers itself and reads its mailbox afterwards.
        node.eval_ok(&format!("register({sink}, self())."));
        let o = beamlink(["send", &node.name, &sink, r#"{hello, 1, <<"bin">>}"#]).output();
        expect(&o, 0);
        // Selective, and with variables of their own: other tests share this node's control
        // loop, its mailbox and its bindings.
        let got = node.eval_ok("receive {hello, _, _} = SendGot1 -> SendGot1 after 5000 -> timeout end.");
        assert_eq!(got, r#"{hello,1,<<"bin">>}"#, "{kind:?}");
        node.eval_ok(&format!("unregister({sink})."));
        // Elixir syntax, TERM from stdin.
        node.eval_ok(&format!("register({sink}, self())."));
        let o = beamlink(["--elixir", "send", &node.name, &sink, "-"]).stdin("%{a: [1, 2]}").output();
        expect(&o, 0);
        assert_eq!(
            node.eval_ok("receive #{a := _} = SendGot2 -> SendGot2 after 5000 -> timeout end."),
            "#{a => [1,2]}"
        );
        node.eval_ok(&format!("unregister({sink})."));
        // Nobody registered under the name: exit 3, as noproc.
        let o = beamlink(["send", &node.name, &sink, "hello"]).output();
        expect(&o, 3);
        assert!(stderr(&o).contains("noproc"), "{}", stderr(&o));
    }
}

#[test]
fn listen_prints_what_arrives_and_replies() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let alive = unique_name("clilisten");
        let me = format!("{alive}@localhost");
        let mut run = beamlink(["--sname", &me, "listen", "inbox", "--count", "2", "--reply", "{pong, 1}"]);
        let child =
            run.command().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        // Ready once the node can reach it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while node.eval_ok(&format!("net_adm:ping('{me}').")) != "pong" {
            assert!(Instant::now() < deadline, "the listener never came up");
            std::thread::sleep(Duration::from_millis(50));
        }
        node.eval_ok(&format!("{{inbox, '{me}'}} ! {{hello, \"text\"}}."));
        // The reply goes to the sender: here the node's control loop.
        let back = node.eval_ok(&format!("{{inbox, '{me}'}} ! {{self(), ping}}, receive {{pong, _}} = ListenGot -> ListenGot after 5000 -> timeout end."));
        assert_eq!(back, "{pong,1}", "{kind:?}");
        let o = child.wait_with_output().unwrap();
        expect(&o, 0);
        let lines: Vec<String> = BufReader::new(&o.stdout[..]).lines().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with("from <") && lines[0].ends_with(": {hello,\"text\"}"), "{lines:?}");
        assert!(lines[1].ends_with(",ping}"), "{lines:?}");
        assert!(stderr(&o).contains(&format!("listening as {{inbox, '{me}'}}")), "{}", stderr(&o));
    }
}
