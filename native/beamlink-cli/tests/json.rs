//! `--json` on every command (the documented term-to-JSON mapping), and `--max-output`.

mod common;

use common::*;
use serde_json::{Value, json};

fn parse(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn every_command_speaks_json() {
    let a = shared(Kind::Otp25);
    let b = shared(Kind::Otp28);
    let (na, nb) = (a.name.as_str(), b.name.as_str());
    let args = r#"["hello ~s~n", ["world"]]"#;
    let o = beamlink(["--json", "rpc", na, "io", "format", args]).output();
    expect(&o, 0);
    assert_eq!(parse(&o), json!({"result": "ok", "output": "hello world\n"}));
    let o = beamlink([
        "rpc",
        na,
        "erlang",
        "list_to_tuple",
        r#"[[1, 2.5, true, nil, <<"t">>, "abc", [1, 2], #{k => v}]]"#,
        "--json",
    ])
    .output();
    expect(&o, 0);
    assert_eq!(parse(&o)["result"], json!([1, 2.5, true, null, "t", "abc", [1, 2], {"k": "v"}]));
    let o = beamlink(["--json", "rpc", na, "erlang", "error", "[boom]"]).output();
    expect(&o, 2);
    let v = parse(&o);
    assert_eq!(v["error"]["kind"], "error");
    assert_eq!(v["error"]["code"], 2);
    assert_eq!(v["error"]["reason"], "boom");
    let o = beamlink(["--json", "eval", na, r#"io:format("x~n"), {ok, 42}"#]).output();
    expect(&o, 0);
    assert_eq!(parse(&o), json!({"result": ["ok", 42], "output": "x\n"}));
    let o = beamlink(["--json", "eval", na, "1 +"]).output();
    expect(&o, 64);
    assert_eq!(parse(&o)["error"]["kind"], "syntax");
    let o = beamlink(["--json", "multicall", na, nb, "erlang", "node"]).output();
    expect(&o, 0);
    assert_eq!(parse(&o), json!([{"node": na, "result": na}, {"node": nb, "result": nb}]));
    let o = beamlink(["--json", "ping", na, "absent_x@localhost"]).output();
    expect(&o, 1);
    let v = parse(&o);
    assert_eq!(v[0], json!({"node": na, "pong": true}));
    assert_eq!(v[1]["pong"], false);
    let o = beamlink(["--json", "names"]).output();
    expect(&o, 0);
    let v = parse(&o);
    assert!(v["nodes"].as_array().unwrap().iter().any(|n| n["name"] == a.alive.as_str()), "{v}");
    let o = beamlink(["--json", "cluster", na]).output();
    expect(&o, 0);
    assert_eq!(parse(&o)[0], json!({"node": na, "up": true}));
    let o = beamlink(["info", na, "--json"]).output();
    expect(&o, 0);
    assert_eq!(parse(&o)["node"], na);
    // spawn: JSON lines, the pid first and the exit last.
    let o = beamlink(["--json", "spawn", na, "io", "put_chars", r#"["line\n"]"#]).output();
    expect(&o, 0);
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines[0]["pid"].as_str().unwrap().starts_with('<'), "{lines:?}");
    assert_eq!(lines[1], json!({"output": "line\n"}));
    assert_eq!(lines[2], json!({"exit": "normal"}));
}

#[test]
fn max_output_cuts_a_large_value() {
    let a = shared(Kind::Otp25);
    let n = a.name.as_str();
    // 3 MB of text by default limit (1 MiB): cut, exit 11, said on stderr.
    let o = beamlink(["rpc", n, "binary", "copy", r#"[<<"x">>, 3000000]"#]).output();
    expect(&o, 11);
    assert!(o.stdout.len() <= (1 << 20) + 1, "{}", o.stdout.len());
    assert!(stdout(&o).starts_with("<<\"xxx"));
    assert!(stderr(&o).contains("--max-output"), "{}", stderr(&o));
    let o = beamlink(["--max-output", "10", "eval", n, "lists:seq(1, 100)"]).output();
    expect(&o, 11);
    assert_eq!(stdout(&o), "[1,2,3,4,5\n");
    let o = beamlink(["--max-output", "0", "rpc", n, "binary", "copy", r#"[<<"x">>, 3000000]"#]).output();
    expect(&o, 0);
    assert_eq!(o.stdout.len(), "<<\"".len() + 3_000_000 + "\">>\n".len());
    // JSON is never cut in the middle: the document is replaced by an error document.
    let o = beamlink(["--json", "--max-output", "100", "eval", n, "lists:seq(1, 100)"]).output();
    expect(&o, 11);
    assert_eq!(parse(&o)["error"]["kind"], "max_output");
}
