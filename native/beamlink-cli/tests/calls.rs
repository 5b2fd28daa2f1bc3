//! rpc, eval and spawn: values, output, and every way the remote code can fail, told apart by
//! exit status and message; against real OTP 25 and OTP 28 nodes (and Elixir).

mod common;

use common::*;

/// A spawned process's exit reads as a call's failure would: 2 error, 3 exit, 4 throw,
/// 5 undef (the README's promise), 0 for `normal`.
#[test]
fn spawn_exit_status_follows_how_the_process_ended() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let n = node.name.as_str();
        let cases: Vec<(Vec<&str>, i32, &str)> = vec![
            (vec!["spawn", n, "erlang", "node"], 0, ""),
            (vec!["spawn", n, "erlang", "error", "[boom]"], 2, "error: boom"),
            (vec!["spawn", n, "erlang", "exit", "[bye]"], 3, "exit: bye"),
            (vec!["spawn", n, "erlang", "throw", "[ball]"], 4, "throw: ball"),
            (vec!["spawn", n, "no_such_module", "f", "[1]"], 5, "undef: no_such_module:f/1"),
        ];
        let runs = cases.iter().map(|(a, ..)| beamlink(a)).collect();
        for ((args, code, needle), o) in cases.iter().zip(all(runs)) {
            expect(&o, *code);
            assert!(stderr(&o).contains(needle), "{kind:?} {args:?}: {}", stderr(&o));
        }
    }
}
