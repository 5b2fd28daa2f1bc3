//! The exit status of every subcommand for every way of not getting through, as a table: the
//! same cause gives the same code from every command (README: 1 pang, 6 no connection,
//! 64 usage, 69 epmd unreachable, 78 bad name or cookie).

mod common;

use common::*;

/// Every subcommand that talks to a node, as arguments around the target `N`.
fn commands(n: &str) -> Vec<(&'static str, Vec<String>)> {
    let v = |a: &[&str]| a.iter().map(|s| s.replace('N', n)).collect::<Vec<String>>();
    vec![
        ("ping", v(&["ping", "N"])),
        ("rpc", v(&["rpc", "N", "erlang", "node"])),
        ("rpc --rex", v(&["rpc", "--rex", "N", "erlang", "node"])),
        ("eval", v(&["eval", "N", "node()"])),
        ("spawn", v(&["spawn", "N", "erlang", "node"])),
        ("info", v(&["info", "N"])),
        ("multicall", v(&["multicall", "N", "erlang", "node"])),
        ("cluster", v(&["cluster", "N"])),
        ("send", v(&["send", "N", SINK, "hello"])),
    ]
}

/// A name registered on the shared node for `send`.
const SINK: &str = "cli_table_sink";

/// What each command gives when the node is not there: pang for ping, no connection for the
/// rest.
fn absent(cmd: &str) -> i32 {
    if cmd == "ping" { 1 } else { 6 }
}

#[test]
fn every_command_maps_each_cause_to_its_code() {
    let node = shared(Kind::Otp25);
    node.eval_ok(&format!("catch register({SINK}, spawn(fun() -> receive after infinity -> ok end end))."));
    let home = empty_home();
    let missing = format!("{}@localhost", unique_name("absent"));
    // (cause, target, environment, expected code for a command)
    type Case = (&'static str, String, Vec<(&'static str, String)>, fn(&str) -> i32);
    let cases: Vec<Case> = vec![
        ("reachable", node.name.clone(), vec![], |_| 0),
        ("node not registered", missing, vec![], absent),
        ("bad target name", "bad.name@localhost".into(), vec![], |_| 78),
        ("wrong cookie", node.name.clone(), vec![("BEAMLINK_COOKIE", "wrong_cookie".into())], |_| 78),
        ("epmd down", node.name.clone(), vec![("ERL_EPMD_PORT", "1".into())], |_| 69),
        (
            "no cookie file",
            node.name.clone(),
            vec![("HOME", home.display().to_string()), ("BEAMLINK_COOKIE", String::new())],
            |_| 78,
        ),
    ];
    let mut runs = Vec::new();
    let mut want = Vec::new();
    for (cause, target, env, code) in &cases {
        for (cmd, args) in commands(target) {
            let mut r = beamlink(&args);
            for (k, v) in env {
                r = if v.is_empty() { r.env_remove(k) } else { r.env(k, v) };
            }
            runs.push(r);
            want.push((*cause, cmd, code(cmd)));
        }
    }
    let outputs = all(runs);
    let mut wrong = Vec::new();
    for ((cause, cmd, code), o) in want.iter().zip(&outputs) {
        if o.status.code() != Some(*code) {
            wrong.push(format!(
                "{cause} / {cmd}: expected {code}, got {:?}: {}",
                o.status.code(),
                stderr(o).trim()
            ));
        } else if *code != 0 && *cmd != "multicall" {
            // A failure says why, on one line of stderr (multicall: on the node's own line).
            assert_eq!(
                stderr(o).lines().filter(|l| l.starts_with("beamlink:")).count(),
                1,
                "{cause} / {cmd}"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

#[test]
fn listen_without_epmd_or_with_a_taken_name() {
    let o = beamlink(["listen", "inbox", "--count", "1"]).env("ERL_EPMD_PORT", "1").output();
    expect(&o, 69);
    // Our node name is taken in epmd by a running node.
    let node = shared(Kind::Otp25);
    let o = beamlink(["--sname", &node.name, "listen", "inbox", "--count", "1"]).output();
    expect(&o, 78);
}

#[test]
fn names_and_usage() {
    let o = beamlink(["names"]).env("ERL_EPMD_PORT", "1").output();
    expect(&o, 69);
    assert!(stderr(&o).contains("epmd is not running"), "{}", stderr(&o));
    for args in [
        vec!["rpc", "n@localhost"],
        vec!["rpc", "n@localhost", "m", "f", "not a list"],
        vec!["nosuchcommand"],
        vec!["ping"],
        vec!["--timeout"],
    ] {
        let o = beamlink(&args).output();
        expect(&o, 64);
    }
    let o = beamlink(["--help"]).output();
    expect(&o, 0);
}
