//! `--elixir` for input too: ARGS as Elixir literals, module names as Elixir writes them; and
//! Erlang binaries meaning what Erlang means.

mod common;

use common::*;

#[test]
fn elixir_args_and_module_names() {
    let ex = shared(Kind::Elixir);
    let n = ex.name.as_str();
    let o = beamlink([
        "--elixir",
        "rpc",
        n,
        "Kernel",
        "inspect",
        r#"[[:hoge, "text", %{a: 1}, {:ok, 1}, [a: 1]]]"#,
    ])
    .output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), r#""[:hoge, \"text\", %{a: 1}, {:ok, 1}, [a: 1]]""#);
    // A module of our own, named without Elixir. under --elixir.
    let module = unique_name("CliPerson").replace('_', "");
    let define = format!(
        r#"defmodule {module} do def say_hello(n), do: "Hello #{{inspect(n)}}, this is #{{node()}}" end"#
    );
    expect(&beamlink(["--elixir", "eval", n, &define]).output(), 0);
    let o = beamlink(["--elixir", "rpc", n, &module, "say_hello", "[:hoge]"]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), format!(r#""Hello :hoge, this is {n}""#));
    // Erlang modules as Elixir names them, and a spawn too.
    let o = beamlink(["--elixir", "rpc", n, ":lists", "reverse", "[[1, 2]]"]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), "[2, 1]");
    let o = beamlink(["--elixir", "spawn", n, "IO", "puts", r#"["元気ですかーーーッ！"]"#]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o), "元気ですかーーーッ！\n");
    // Not a literal: a usage error that says where.
    let o = beamlink(["--elixir", "rpc", n, "Kernel", "inspect", "[x]"]).output();
    expect(&o, 64);
    assert!(stderr(&o).contains("1:2"), "{}", stderr(&o));
}

#[test]
fn erlang_binaries_mean_what_erlang_means() {
    let node = shared(Kind::Otp25);
    let n = node.name.as_str();
    for (args, size) in [(r#"[<<"日本">>]"#, "2"), (r#"[<<"日本"/utf8>>]"#, "6")] {
        let o = beamlink(["rpc", n, "erlang", "byte_size", args]).output();
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), size, "{args}");
    }
}
