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

/// Results nested far deeper than the untrusted-input limit (1024) come back as BEAM returns
/// them, on the erpc and rex paths and from eval (whose bindings hold the deep term too).
#[test]
fn deep_results_come_back() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let n = node.name.as_str();
        let build = "lists:foldl(fun(_, A) -> [A] end, [], lists:seq(1, 2000))";
        let o = beamlink(["eval", n, &format!("T = {build}, ok.")]).output();
        expect(&o, 0);
        assert_eq!(stdout(&o), "ok\n");
        let o = beamlink(["eval", n, build]).output();
        expect(&o, 0);
        // 2000 lists around the innermost [].
        let want = format!("{}{}\n", "[".repeat(2001), "]".repeat(2001));
        assert!(stdout(&o) == want, "{kind:?}: {} bytes: {}", o.stdout.len(), stderr(&o));
        // binary_to_term of the same term's encoding: the node decodes it and sends it back.
        let mut bin = vec![131u8];
        for _ in 0..2000 {
            bin.extend_from_slice(&[108, 0, 0, 0, 1]);
        }
        bin.extend(std::iter::repeat_n(106u8, 2001));
        let args = format!("[<<{}>>]", bin.iter().map(u8::to_string).collect::<Vec<_>>().join(","));
        for rex in [false, true] {
            let mut a = vec!["rpc", n, "erlang", "binary_to_term", &args];
            if rex {
                a.push("--rex");
            }
            let o = beamlink(&a).output();
            expect(&o, 0);
            assert!(stdout(&o) == want, "{kind:?} rex {rex}: {} bytes: {}", o.stdout.len(), stderr(&o));
        }
    }
}
