//! Ctrl-C (SIGINT) or SIGTERM during `rpc`, `eval` or `spawn` ends the remote work too, and
//! the command exits as a shell expects of a process stopped by that signal (130, 143).

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

/// The processes on `node` whose group leader lives on the beamlink node of OS process
/// `os_pid` (our default node name is `beamlink_<pid>@localhost`): the remote work of that
/// command, and nothing of any other test's.
fn remote_work(node: &TestNode, os_pid: u32) -> usize {
    let r = node.eval_ok(&format!(
        "length([P || P <- processes(), {{group_leader, G}} <- [process_info(P, group_leader)], \
         node(G) == 'beamlink_{os_pid}@localhost'])."
    ));
    r.parse().unwrap()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_signal_stops_the_remote_work_and_exits_128_plus_its_number() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let cases: Vec<(Vec<&str>, i32)> = vec![
            (vec!["rpc", &node.name, "timer", "sleep", "[60000]"], libc::SIGINT),
            (vec!["eval", &node.name, "timer:sleep(60000)"], libc::SIGINT),
            (vec!["spawn", &node.name, "timer", "sleep", "[60000]"], libc::SIGINT),
            (vec!["rpc", &node.name, "timer", "sleep", "[60000]"], libc::SIGTERM),
            (vec!["spawn", &node.name, "timer", "sleep", "[60000]"], libc::SIGTERM),
        ];
        for (args, signal) in cases {
            let mut run = beamlink(&args);
            let child = run
                .command()
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let os_pid = child.id();
            wait_until("the remote work to start", || remote_work(&node, os_pid) > 0);
            // SAFETY: a signal to the child we started, by its own PID.
            unsafe { libc::kill(os_pid as i32, signal) };
            let o = child.wait_with_output().unwrap();
            assert_eq!(o.status.code(), Some(128 + signal), "{kind:?} {args:?}: {}", stderr(&o));
            let err = stderr(&o);
            assert!(err.contains("interrupted") || err.contains("terminated"), "{err}");
            wait_until("the remote work to end", || remote_work(&node, os_pid) == 0);
        }
    }
}
