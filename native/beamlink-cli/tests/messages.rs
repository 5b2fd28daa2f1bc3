//! What a failure says: Elixir exceptions as Elixir prints them (with the remote stacktrace on
//! request), undef with its function, syntax errors as the node's own messages, Elixir structs
//! as Elixir prints them, a hint for a TLS peer, and an error for something that is not epmd.

mod common;

use std::io::Write;
use std::net::TcpListener;

use common::*;

#[test]
fn elixir_exceptions_and_structs_print_as_elixir_does() {
    let ex = shared(Kind::Elixir);
    let n = ex.name.as_str();
    // An Elixir exception reads as IEx shows it, also without --elixir.
    let raise = r#"erlang:error('Elixir.RuntimeError':exception(<<"kaboom">>))"#;
    let o = beamlink(["eval", n, raise]).output();
    expect(&o, 2);
    assert_eq!(stderr(&o).trim(), "beamlink: ** (RuntimeError) kaboom");
    let o = beamlink(["--elixir", "eval", n, r#"raise "kaboom""#]).output();
    expect(&o, 2);
    assert_eq!(stderr(&o).trim(), "beamlink: ** (RuntimeError) kaboom");
    // With --stacktrace, the remote stacktrace follows, as Elixir formats it.
    let o = beamlink(["--elixir", "--stacktrace", "eval", n, r#"raise "kaboom""#]).output();
    expect(&o, 2);
    let err = stderr(&o);
    assert!(err.starts_with("beamlink: ** (RuntimeError) kaboom\n"), "{err}");
    assert!(err.lines().count() > 1 && err.contains("Code.eval_string"), "{err}");
    // Under --elixir, Erlang errors read as Elixir names them.
    let o = beamlink(["--elixir", "eval", n, ":erlang.error(:badarith)"]).output();
    expect(&o, 2);
    assert!(
        stderr(&o).contains("** (ArithmeticError) bad argument in arithmetic expression"),
        "{}",
        stderr(&o)
    );
    let o = beamlink(["--elixir", "eval", n, "throw(:ball)"]).output();
    expect(&o, 4);
    assert!(stderr(&o).contains("** (throw) :ball"), "{}", stderr(&o));
    // An Elixir syntax error is a syntax error.
    let o = beamlink(["--elixir", "eval", n, "1 +"]).output();
    expect(&o, 64);
    assert!(stderr(&o).contains("TokenMissingError"), "{}", stderr(&o));
    // Structs, ranges, dates.
    for (code, want) in [
        (
            r#"URI.parse("http://x:8/p")"#,
            "%URI{authority: \"x:8\", fragment: nil, host: \"x\", path: \"/p\", port: 8, query: nil, scheme: \"http\", userinfo: nil}",
        ),
        ("1..3", "1..3"),
        ("Date.new!(2024, 1, 2)", "~D[2024-01-02]"),
        ("MapSet.new([2, 1])", "MapSet.new([1, 2])"),
    ] {
        let o = beamlink(["--elixir", "eval", n, code]).output();
        expect(&o, 0);
        assert_eq!(stdout(&o).trim(), want);
    }
}

#[test]
fn undef_and_syntax_errors_name_what_was_wrong() {
    for kind in Kind::ERLANG {
        let node = shared(kind);
        let n = node.name.as_str();
        let o = beamlink(["eval", n, "no_such_mod:f(1)"]).output();
        expect(&o, 5);
        assert_eq!(stderr(&o).trim(), "beamlink: undef: no_such_mod:f/1");
        // A module named as Elixir would name it, without --elixir: the hint says how.
        let o = beamlink(["rpc", n, "Person", "say_hello", "[hoge]"]).output();
        expect(&o, 5);
        assert!(stderr(&o).contains("Elixir.Person"), "{}", stderr(&o));
        // Syntax errors are the node's own messages, where they are, not raw tuples.
        for (code, needle) in [("1 +", "syntax error before"), (r#"X = "abc"#, "unterminated string")] {
            let o = beamlink(["eval", n, code]).output();
            expect(&o, 64);
            let err = stderr(&o);
            assert!(err.contains("syntax error at 1:") && err.contains(needle), "{kind:?}: {err}");
            assert!(!err.contains('{'), "{kind:?}: {err}");
        }
    }
}

/// A node that speaks TLS distribution: our plain handshake fails, and the message says that
/// TLS may be why.
#[test]
fn a_tls_peer_gets_a_hint() {
    let dir = std::env::temp_dir().join(unique_name("beamlink_tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let conf = dir.join("ssl_dist.conf");
    std::fs::write(
        &conf,
        format!(
            "[{{server, [{{certfile, \"{0}\"}}, {{keyfile, \"{1}\"}}, {{cacertfile, \"{0}\"}}]}}, \
             {{client, [{{verify, verify_none}}]}}].\n",
            cert.display(),
            key.display()
        ),
    )
    .unwrap();
    let tls = TestNode::builder(Otp::V25)
        .prefix("clitls")
        .arg("-proto_dist")
        .arg("inet_tls")
        .arg("-ssl_dist_optfile")
        .arg(conf.to_str().unwrap())
        .start()
        .unwrap();
    let o = beamlink(["rpc", &tls.name, "erlang", "node"]).output();
    expect(&o, 6);
    assert!(stderr(&o).contains("TLS"), "{}", stderr(&o));
    // With the node's own optfile, the same command gets through; a missing file is a
    // configuration error.
    let o =
        beamlink(["rpc", &tls.name, "erlang", "node", "--ssl-dist-optfile", conf.to_str().unwrap()]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), tls.name);
    let o = beamlink(["--ssl-dist-optfile", "/nonexistent/ssl_dist.conf", "ping", &tls.name]).output();
    expect(&o, 78);
    drop(tls);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `names` against a port where something else answers: an error, not its bytes.
#[test]
fn names_against_something_that_is_not_epmd() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        while let Ok((mut s, _)) = l.accept() {
            // Read the request first: closing with it unread would reset the connection.
            let mut buf = [0u8; 64];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let o = beamlink(["names"]).env("ERL_EPMD_PORT", port.to_string()).output();
    expect(&o, 69);
    assert!(stderr(&o).contains("is not epmd"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
}
