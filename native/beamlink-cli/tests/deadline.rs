//! `--timeout` is one deadline for the whole command: the epmd lookup included (an epmd that
//! never answers), and a spawned process that outlives it is killed.

mod common;

use std::net::TcpListener;

use common::*;

/// An "epmd" that accepts connections and never answers; held open while the test runs.
fn silent_epmd() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let accept = l.try_clone().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        while let Ok((s, _)) = accept.accept() {
            held.push(s);
        }
    });
    (l, port)
}

#[test]
fn a_silent_epmd_costs_the_timeout_given() {
    let (_l, port) = silent_epmd();
    let n = "anyone@localhost";
    let commands: Vec<Vec<&str>> = vec![
        vec!["names"],
        vec!["ping", n],
        vec!["rpc", n, "erlang", "node"],
        vec!["eval", n, "node()"],
        vec!["spawn", n, "erlang", "node"],
        vec!["info", n],
        vec!["multicall", n, "erlang", "node"],
        vec!["cluster", n],
    ];
    let runs = commands
        .iter()
        .map(|args| {
            let mut a = vec!["--timeout", "0.5"];
            a.extend(args);
            beamlink(a).env("ERL_EPMD_PORT", port.to_string())
        })
        .collect();
    for (args, o) in commands.iter().zip(all(runs)) {
        // ping: pang is for a node that is not there; here nobody could say.
        expect(&o, 7);
        let said = if args[0] == "multicall" { stdout(&o) } else { stderr(&o) };
        assert!(said.contains("within 0.5s"), "{args:?}: {said}");
    }
}

#[test]
fn a_spawned_process_that_outlives_the_timeout_is_killed() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let o = beamlink(["--timeout", "1", "spawn", &node.name, "timer", "sleep", "[60000]"]).output();
        expect(&o, 7);
        let pid = spawned_pid(&stderr(&o));
        let alive = node.eval_ok(&format!("erlang:is_process_alive(list_to_pid(\"{pid}\"))."));
        assert_eq!(alive, "false", "{kind:?}");
    }
}
