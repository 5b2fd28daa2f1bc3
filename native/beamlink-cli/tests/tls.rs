//! `beamlink` against an OTP 25 node started with `-proto_dist inet_tls` that requires a
//! client certificate: configured by flags, by the node's own `-ssl_dist_optfile`, or by
//! environment variables; and the exit codes and hints when TLS is missing, wrong or not
//! expected.

mod common;

use beamlink_test_support::pki::Pki;
use common::*;

#[test]
fn tls_by_flags_optfile_and_environment() {
    let pki = Pki::generate("cli");
    let cert = pki.node_cert("node", &["localhost", "127.0.0.1"]);
    let optfile = pki.optfile(&cert, "", "");
    let node = TestNode::builder(Otp::V25).prefix("clitls").tls(&optfile).start().unwrap();
    let s = |p: &std::path::Path| p.display().to_string();
    let flags = [
        "--tls-cert".to_string(),
        s(&cert.cert),
        "--tls-key".into(),
        s(&cert.key),
        "--tls-ca".into(),
        s(&pki.ca),
    ];

    let mut args: Vec<String> = flags.to_vec();
    args.extend(["rpc".into(), node.name.clone(), "erlang".into(), "node".into()]);
    let o = beamlink(&args).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), node.name);

    let o = beamlink(["--ssl-dist-optfile", &s(&optfile), "ping", &node.name]).output();
    expect(&o, 0);
    assert_eq!(stdout(&o).trim(), "pong");

    let o = beamlink(["ping", &node.name])
        .env("BEAMLINK_TLS_CERT", &cert.cert)
        .env("BEAMLINK_TLS_KEY", &cert.key)
        .env("BEAMLINK_TLS_CA", &pki.ca)
        .output();
    expect(&o, 0);

    // Without TLS: the node's TLS answer is recognised, and the hint says what to give.
    let o = beamlink(["rpc", &node.name, "erlang", "node"]).output();
    expect(&o, 78);
    assert!(stderr(&o).contains("-proto_dist inet_tls"), "{}", stderr(&o));

    // A CA the node's certificate does not chain to.
    let other = Pki::generate("cli_other");
    let o = beamlink([
        "--tls-cert",
        &s(&cert.cert),
        "--tls-key",
        &s(&cert.key),
        "--tls-ca",
        &s(&other.ca),
        "ping",
        &node.name,
    ])
    .output();
    expect(&o, 78);
    assert!(stderr(&o).contains("not signed by a trusted CA"), "{}", stderr(&o));

    // An incomplete set of flags is bad usage; an unreadable key is configuration.
    let o = beamlink(["--tls-cert", &s(&cert.cert), "ping", &node.name]).output();
    expect(&o, 64);
    let o = beamlink([
        "--tls-cert",
        &s(&cert.cert),
        "--tls-key",
        "/nonexistent.key",
        "--tls-ca",
        &s(&pki.ca),
        "ping",
        &node.name,
    ])
    .output();
    expect(&o, 78);
    assert!(stderr(&o).contains("/nonexistent.key"), "{}", stderr(&o));

    // TLS toward a plain-TCP node: it waits in silence; we give up and say why.
    let plain = shared(Kind::Otp25);
    let mut args: Vec<String> = flags.to_vec();
    args.extend([
        "--timeout".into(),
        "2".into(),
        "rpc".into(),
        plain.name.clone(),
        "erlang".into(),
        "node".into(),
    ]);
    let o = beamlink(&args).output();
    expect(&o, 7);
    assert!(stderr(&o).contains("plain-TCP") || stderr(&o).contains("plain TCP"), "{}", stderr(&o));
}
