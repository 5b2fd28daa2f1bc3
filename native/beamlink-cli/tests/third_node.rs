//! Output of processes that the evaluated code starts on a third node reaches us: our node
//! is reachable (published in epmd, accepting) while it serves I/O, as a BEAM node would be.

mod common;

use common::*;

#[test]
fn output_from_a_process_started_on_a_third_node_is_printed() {
    let fuga = TestNode::builder(Otp::V25).prefix("fuga").elixir().start().unwrap();
    let piyo = TestNode::builder(Otp::V25).prefix("piyo").elixir().start().unwrap();
    fuga.eval_ok(&format!("true = net_kernel:connect_node('{}').", piyo.name));
    // The issue's own example: the value is the pid, the text comes from piyo.
    let code = format!(r#"Node.spawn(:"{}", fn -> IO.puts("hi from piyo") end)"#, piyo.name);
    let o = beamlink(["--elixir", "eval", &fuga.name, &code]).output();
    expect(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("hi from piyo\n"), "{out}");
    assert!(out.contains(&format!("#PID<{}.", piyo.name)) || out.contains("#PID<"), "{out}");
    // Erlang, and from inside an rpc: the call on fuga prints through piyo.
    let o = beamlink([
        "rpc",
        &fuga.name,
        "erpc",
        "call",
        &format!(r#"['{}', io, put_chars, ["through piyo\n"]]"#, piyo.name),
    ])
    .output();
    expect(&o, 0);
    assert_eq!(stdout(&o), "through piyo\nok\n");
    assert!(!piyo.output().contains("terminated"), "{}", piyo.output());
}
