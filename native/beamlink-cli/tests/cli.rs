//! Every `beamlink` subcommand, run as a process against real OTP 25 and OTP 28 nodes, with the
//! exit codes scripts rely on.

use std::process::{Command, Output};

use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode};

fn beamlink(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beamlink"))
        .args(["--timeout", "5"])
        .args(args)
        .env("BEAMLINK_COOKIE", DEFAULT_COOKIE)
        .output()
        .expect("running beamlink")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn expect(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "stdout: {}\nstderr: {}", stdout(o), stderr(o));
}

#[test]
fn names_and_ping() {
    let nodes: Vec<TestNode> = Otp::ALL.iter().map(|&o| TestNode::start(o, "clinames")).collect();
    let o = beamlink(&["names"]);
    expect(&o, 0);
    assert!(stdout(&o).starts_with("epmd: up and running on port 4369 with data:"));
    for n in &nodes {
        assert!(stdout(&o).contains(&format!("name {} at port", n.alive)), "{}", stdout(&o));
        let o = beamlink(&["ping", &n.name]);
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), "pong");
    }
    let o = beamlink(&["ping", "nosuchnode@localhost"]);
    expect(&o, 1);
    assert_eq!(stdout(&o).trim(), "pang");
    // A wrong cookie is pang, exit 78 (bad cookie), with the reason on stderr and no cookie
    // in it.
    let o = Command::new(env!("CARGO_BIN_EXE_beamlink"))
        .args(["--cookie", "wrong_cookie_value", "ping", &nodes[0].name])
        .output()
        .unwrap();
    expect(&o, 78);
    assert_eq!(stdout(&o).trim(), "pang");
    assert!(stderr(&o).contains("cookie mismatch"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("wrong_cookie_value"));
    // A cookie on the command line works, with a warning naming the safer places, never the
    // cookie itself; through BEAMLINK_COOKIE there is no warning.
    for form in [vec!["--cookie", DEFAULT_COOKIE], vec![&*format!("--cookie={DEFAULT_COOKIE}")]] {
        let o = Command::new(env!("CARGO_BIN_EXE_beamlink"))
            .args(&form)
            .args(["ping", &nodes[0].name])
            .env_remove("BEAMLINK_COOKIE")
            .output()
            .unwrap();
        expect(&o, 0);
        let err = stderr(&o);
        assert!(
            err.contains("warning") && err.contains("~/.erlang.cookie") && err.contains("BEAMLINK_COOKIE"),
            "{err}"
        );
        assert!(!err.contains(DEFAULT_COOKIE), "{err}");
    }
    let o = beamlink(&["ping", &nodes[0].name]);
    expect(&o, 0);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn epmd_not_running_is_exit_69() {
    let o = Command::new(env!("CARGO_BIN_EXE_beamlink"))
        .args(["names"])
        .env("ERL_EPMD_PORT", "1")
        .output()
        .unwrap();
    expect(&o, 69);
    assert!(stderr(&o).contains("epmd is not running"), "{}", stderr(&o));
}

#[test]
fn rpc_results_and_every_error_code() {
    for otp in Otp::ALL {
        let n = TestNode::start(otp, "clirpc");
        let name = n.name.as_str();
        let o = beamlink(&["rpc", name, "lists", "reverse", r#"[[1, "ab", <<"bin">>, {a, b}]]"#]);
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), r#"[{a,b},<<"bin">>,"ab",1]"#);
        let o = beamlink(&["--elixir", "rpc", name, "erlang", "list_to_tuple", "[[:ok, 1]]"]);
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), "{:ok, 1}");
        let o = beamlink(&["rpc", name, "erlang", "node"]);
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), name);
        // What the call prints comes back before the value.
        let o = beamlink(&["rpc", name, "io", "format", r#"["hello ~s~n", ["world"]]"#]);
        expect(&o, 0);
        assert_eq!(stdout(&o), "hello world\nok\n");
        for (args, code, needle) in [
            (vec!["erlang", "error", "[boom]"], 2, "error: boom"),
            (vec!["erlang", "exit", "[bye]"], 3, "exit: bye"),
            (vec!["erlang", "throw", "[ball]"], 4, "throw: ball"),
            (vec!["no_such_module", "f", "[1]"], 5, "undef: no_such_module:f/1"),
            (vec!["timer", "sleep", "[60000]"], 7, "timeout"),
            (vec!["erlang", "exit", "[bye]", "--rex"], 9, "badrpc"),
        ] {
            let mut a = vec!["rpc", name];
            a.extend(args);
            let o = beamlink(&a);
            expect(&o, code);
            assert!(stderr(&o).contains(needle), "{otp:?} {needle}: {}", stderr(&o));
            assert_eq!(stderr(&o).lines().count(), 1, "one line: {}", stderr(&o));
        }
        let o = beamlink(&["rpc", "nosuchnode@localhost", "erlang", "node"]);
        expect(&o, 6);
        let o = beamlink(&["rpc", name, "erlang", "node", "not a list"]);
        expect(&o, 64);
        let o = beamlink(&["rpc", name]);
        expect(&o, 64);
    }
}

#[test]
fn eval_spawn_info_multicall_cluster() {
    for otp in Otp::ALL {
        let n = TestNode::start(otp, "clieval");
        let name = n.name.as_str();
        let o = beamlink(&["eval", name, r#"io:format("sum ~p~n", [lists:sum([1,2,3])]), X = 7, X * 6"#]);
        expect(&o, 0);
        assert_eq!(stdout(&o), "sum 6\n42\n");
        let o = beamlink(&["eval", name, "1 +"]);
        expect(&o, 64);
        let o = beamlink(&["spawn", name, "io", "format", r#"["line ~p~n", [1]]"#]);
        expect(&o, 0);
        assert_eq!(stdout(&o), "line 1\n");
        let o = beamlink(&["spawn", name, "erlang", "exit", "[crashed]"]);
        expect(&o, 3);
        let o = beamlink(&["info", name]);
        expect(&o, 0);
        let release = if otp == Otp::V25 { "25" } else { "28" };
        assert!(stdout(&o).contains(&format!("OTP release     {release}")), "{}", stdout(&o));
        let o = beamlink(&["info", "--json", name]);
        expect(&o, 0);
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["otp_release"], release);
        assert!(v["memory"]["total"].as_i64().unwrap() > 1_000_000);
        assert!(v["process_count"].as_i64().unwrap() > 10);
    }
    let a = TestNode::start(Otp::V25, "climc");
    let b = TestNode::start(Otp::V28, "climc");
    let o = beamlink(&["multicall", &a.name, &b.name, "erlang", "node"]);
    expect(&o, 0);
    assert_eq!(stdout(&o), format!("{0}: {0}\n{1}: {1}\n", a.name, b.name));
    let o = beamlink(&["multicall", &a.name, "dead@localhost", "erlang", "node", "[]"]);
    expect(&o, 6);
    assert!(stdout(&o).starts_with(&format!("{0}: {0}\n", a.name)));
    a.eval_ok(&format!("net_kernel:connect_node('{}').", b.name));
    let o = beamlink(&["cluster", &a.name]);
    expect(&o, 0);
    let mut want = vec![format!("{}\tup", a.name), format!("{}\tup", b.name)];
    want.sort();
    let mut got: Vec<String> = stdout(&o).lines().map(String::from).collect();
    got.sort();
    assert_eq!(got, want);
}

#[test]
fn elixir_eval_against_an_elixir_node() {
    let ex = TestNode::builder(Otp::V25).prefix("cliex").elixir().start().unwrap();
    let o =
        beamlink(&["--elixir", "eval", &ex.name, r#"IO.puts("from elixir"); Enum.map([1, 2], &(&1 * 2))"#]);
    expect(&o, 0);
    assert_eq!(stdout(&o), "from elixir\n[2, 4]\n");
}

/// Without `--cookie`, the cookie comes from `$HOME/.erlang.cookie`, as `erl` reads it, and a
/// file that others can read is refused with a message saying so.
#[test]
fn cookie_from_the_home_file() {
    use std::os::unix::fs::PermissionsExt;
    let n = TestNode::start(Otp::V28, "clicookie");
    let home = std::env::temp_dir().join(beamlink_test_support::unique_name("home"));
    std::fs::create_dir_all(&home).unwrap();
    let file = home.join(".erlang.cookie");
    std::fs::write(&file, format!("{DEFAULT_COOKIE}\n")).unwrap();
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_beamlink"))
            .args(["ping", &n.name])
            .env("HOME", &home)
            .env_remove("BEAMLINK_COOKIE")
            .output()
            .unwrap()
    };
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).unwrap();
    let o = run();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), "pong");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run();
    expect(&o, 78);
    assert!(stderr(&o).contains("0644"), "{}", stderr(&o));
    assert!(!stderr(&o).contains(DEFAULT_COOKIE));
    std::fs::remove_file(&file).unwrap();
    let o = run();
    expect(&o, 78);
    let _ = std::fs::remove_dir_all(&home);
}
