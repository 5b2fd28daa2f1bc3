//! What an operator types: options before or after the subcommand, short node names, `-` for
//! stdin, several nodes to ping, and a help page per subcommand.

mod common;

use common::*;

const SUBCOMMANDS: &[&str] =
    &["names", "ping", "rpc", "eval", "spawn", "info", "multicall", "cluster", "send", "listen", "shell"];

#[test]
fn every_subcommand_has_a_help_page_with_an_example_and_the_exit_codes() {
    for sub in SUBCOMMANDS {
        let o = beamlink([sub, "--help"]).output();
        expect(&o, 0);
        let page = stdout(&o);
        assert!(page.contains("Example:"), "{sub}: {page}");
        assert!(page.contains("Exit status:") && page.contains("78"), "{sub}: {page}");
        if !matches!(*sub, "names" | "listen") {
            assert!(page.contains("NODE is a node name"), "{sub}: {page}");
        }
        if matches!(*sub, "rpc" | "spawn" | "multicall") {
            assert!(page.contains("ARGS"), "{sub}: {page}");
        }
    }
    let o = beamlink(["--help"]).output();
    expect(&o, 0);
    for needle in ["BEAMLINK_COOKIE", "ERL_EPMD_PORT", "Exit status:"] {
        assert!(stdout(&o).contains(needle), "{needle}");
    }
}

#[test]
fn options_before_or_after_the_subcommand() {
    let node = shared(Kind::Otp25);
    let n = node.name.as_str();
    for args in [
        vec!["--elixir", "rpc", n, "erlang", "list_to_tuple", "[[:ok, 1]]"],
        vec!["rpc", n, "erlang", "list_to_tuple", "[[:ok, 1]]", "--elixir"],
        vec!["rpc", "--elixir", n, "erlang", "list_to_tuple", "[[:ok, 1]]"],
    ] {
        let o = beamlink(&args).output();
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), "{:ok, 1}", "{args:?}");
    }
    for args in [
        vec!["--rex", "rpc", n, "erlang", "exit", "[bye]"],
        vec!["rpc", n, "erlang", "exit", "[bye]", "--rex"],
    ] {
        let o = beamlink(&args).output();
        expect(&o, 9);
    }
    for args in [
        vec!["--timeout", "0.5", "rpc", n, "timer", "sleep", "[5000]"],
        vec!["rpc", n, "timer", "sleep", "[5000]", "--timeout", "0.5"],
    ] {
        let o = beamlink(&args).output();
        expect(&o, 7);
    }
}

#[test]
fn a_short_name_is_on_this_host() {
    let host = beamlink::name::hostname().unwrap();
    let short = host.split('.').next().unwrap().to_string();
    let node = TestNode::builder(Otp::V25).prefix("clishort").host(&short).start().unwrap();
    let o = beamlink(["ping", &node.alive]).output();
    expect(&o, 0);
    let o = beamlink(["rpc", &node.alive, "erlang", "node"]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), format!("{}@{short}", node.alive));
}

#[test]
fn dash_reads_stdin_and_ping_takes_several_nodes() {
    let a = shared(Kind::Otp25);
    let b = shared(Kind::Otp28);
    let o = beamlink(["rpc", &a.name, "lists", "sum", "-"]).stdin("[[1, 2, 3]]").output();
    expect(&o, 0);
    assert_eq!(stdout(&o), "6\n");
    let o = beamlink(["eval", &a.name, "-"]).stdin("X = 6,\nX * 7.\n").output();
    expect(&o, 0);
    assert_eq!(stdout(&o), "42\n");
    let o = beamlink(["multicall", &a.name, &b.name, "lists", "sum", "-"]).stdin("[[1, 2]]").output();
    expect(&o, 0);
    assert_eq!(stdout(&o), format!("{}: 3\n{}: 3\n", a.name, b.name));
    let absent = format!("{}@localhost", unique_name("absent"));
    let o = beamlink(["ping", &a.name, &b.name]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o), format!("{}\tpong\n{}\tpong\n", a.name, b.name));
    let o = beamlink(["ping", &a.name, &absent, &b.name]).output();
    expect(&o, 1);
    assert_eq!(stdout(&o), format!("{}\tpong\n{absent}\tpang\n{}\tpong\n", a.name, b.name));
    assert!(stderr(&o).contains(&absent), "{}", stderr(&o));
}

/// `--visible`: the node we call sees us in `nodes()` (our group leader lives on our node).
#[test]
fn visible_is_in_the_peers_nodes() {
    let node = shared(Kind::Otp28);
    let code = "lists:member(node(group_leader()), nodes())";
    let o = beamlink(["eval", &node.name, code]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), "false");
    let o = beamlink(["eval", &node.name, code, "--visible"]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), "true");
}
