//! TLS distribution against real nodes started with `-proto_dist inet_tls
//! -ssl_dist_optfile FILE` that require a client certificate (`verify_peer`,
//! `fail_if_no_peer_cert`): both roles, TLS 1.2 and 1.3, on OTP 25; on the OTP 28 runtime
//! (which has no `ssl` application) with OTP 25's `ssl` loaded; the typed errors; and
//! beamlink against itself. Certificates are generated per run (see `pki`).

use std::sync::Mutex;
use std::time::Duration;

use beamlink::handshake::{ConnectError, HandshakeError};
use beamlink::node::NodeEvent;
use beamlink::tls::{TlsConfig, TlsConfigError, TlsError, TlsVersion, Whose};
use beamlink::{Node, NodeBuilder, NodeError, Term};
use beamlink_test_support::pki::{NodeCert, Pki};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

const HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn builder(prefix: &str) -> NodeBuilder {
    Node::builder(format!("{}@localhost", unique_name(prefix))).cookie(DEFAULT_COOKIE)
}

fn tls(pki: &Pki, cert: &NodeCert) -> TlsConfig {
    TlsConfig::from_pem_files(&cert.cert, &cert.key, &pki.ca).unwrap()
}

fn otp_tls_node(otp: Otp, pki: &Pki, cert: &NodeCert, extra: &str) -> TestNode {
    let optfile = pki.optfile(cert, extra, extra);
    TestNode::builder(otp).prefix("tls").tls(&optfile).start().unwrap_or_else(|e| panic!("{otp:?}: {e}"))
}

/// The connection error as a TLS error, or a panic naming what it was instead.
fn tls_error(r: Result<impl std::fmt::Debug, NodeError>) -> TlsError {
    match r {
        Err(NodeError::Connect { source: ConnectError::Tls(e), .. }) => e,
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

/// Log records of `beamlink::security` (what an accepting node says about refused peers).
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.target().starts_with("beamlink")
    }
    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            LOG.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{}", r.args()));
        }
    }
    fn flush(&self) {}
}

fn log_lines() -> Vec<String> {
    LOG.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn capture_logs() {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Info);
}

async fn logged(needle: &str) -> bool {
    for _ in 0..100 {
        if log_lines().iter().any(|l| l.contains(needle)) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Both roles with one OTP node, then a 1 MiB echo (fragments through the writer task), for
/// one TLS version. The node's own view says the connection runs TLS.
async fn both_roles(otp: &TestNode, node: &Node) {
    let t = Duration::from_secs(10);
    let ours = node.name().as_str().to_string();
    // We connect.
    let v = node.call(&otp.name, "erlang", "node", Term::nil(), t).await;
    assert_eq!(v.as_ref().ok(), Some(&Term::atom(&otp.name)), "{v:?}: {}", otp.output());
    let big = Term::binary(vec![7u8; 1 << 20]);
    let echoed =
        node.call(&otp.name, "erlang", "iolist_to_binary", Term::list([big.clone()]), t).await.unwrap();
    assert_eq!(echoed, big);
    let info =
        otp.eval_ok(&format!("proplists:get_value(address, element(2, net_kernel:node_info('{ours}')))."));
    assert!(info.contains("tls"), "{info}");
    // It connects.
    assert!(node.disconnect(&otp.name));
    let mut events = node.subscribe();
    // Once the node has seen the connection go (a ping on a connection it still believes up
    // would be pang).
    let gone = format!(
        "(fun W(0) -> still; W(N) -> case lists:member('{ours}', nodes(hidden)) of true -> timer:sleep(50), W(N - 1); false -> gone end end)(100)."
    );
    assert_eq!(otp.eval_ok(&gone), "gone");
    let pong = otp.eval_ok(&format!("net_adm:ping('{ours}')."));
    assert_eq!(pong, "pong", "{:?}\n{}", log_lines(), otp.output());
    let up = tokio::time::timeout(t, async {
        loop {
            if let Ok(NodeEvent::Up { node: n }) = events.recv().await
                && n.as_str() == otp.name
            {
                return;
            }
        }
    })
    .await;
    assert!(up.is_ok(), "no Up for the accepted connection");
    let v = node.call(&otp.name, "erlang", "node", Term::nil(), t).await.unwrap();
    assert_eq!(v, Term::atom(&otp.name));
    let info =
        otp.eval_ok(&format!("{{ok, I}} = net_kernel:node_info('{ours}'), proplists:get_value(address, I)."));
    assert!(info.contains("tls"), "{info}");
}

#[test]
fn otp25_both_roles_over_tls12_and_tls13() {
    capture_logs();
    let pki = Pki::generate("roles25");
    let theirs = pki.node_cert("otp25", HOSTS);
    let ours = pki.node_cert("beamlink", HOSTS);
    let rt = rt();
    for (version, atom) in [(TlsVersion::Tls12, "tlsv1.2"), (TlsVersion::Tls13, "tlsv1.3")] {
        // Both sides allow one version only: that a connection exists proves which was used.
        let otp = otp_tls_node(Otp::V25, &pki, &theirs, &format!("{{versions, ['{atom}']}}"));
        rt.block_on(async {
            let cfg = tls(&pki, &ours).versions(&[version]);
            let node = builder("bltls").tls(cfg).listen(0).start().await.unwrap();
            both_roles(&otp, &node).await;
            node.shutdown();
        });
    }
}

/// The OTP 28 runtime has no `ssl` application; with OTP 25's loaded (same `#hs_data{}`
/// record in both kernels), it runs OTP 28's distribution inside OTP 25's TLS. This covers
/// OTP 28's side of the distribution protocol over TLS, not OTP 28's own TLS stack.
#[test]
fn otp28_distribution_inside_otp25_tls_both_roles() {
    capture_logs();
    let pki = Pki::generate("roles28");
    let theirs = pki.node_cert("otp28", HOSTS);
    let ours = pki.node_cert("beamlink", HOSTS);
    let otp = otp_tls_node(Otp::V28, &pki, &theirs, "");
    assert_eq!(otp.eval_ok("erlang:system_info(otp_release)."), "\"28\"");
    rt().block_on(async {
        let node = builder("bltls28").tls(tls(&pki, &ours)).listen(0).start().await.unwrap();
        both_roles(&otp, &node).await;
    });
}

#[test]
fn typed_errors_against_otp25() {
    let pki = Pki::generate("errors");
    let other = Pki::generate("stranger");
    // The good node's certificate names localhost only, so dialing it as name@127.0.0.1 is a
    // wrong host name.
    let good = otp_tls_node(Otp::V25, &pki, &pki.node_cert("good", &["localhost"]), "");
    let expired = otp_tls_node(Otp::V25, &pki, &pki.expired_cert("old", HOSTS), "");
    let plain = TestNode::start(Otp::V25, "plain");
    let ours = pki.node_cert("beamlink", HOSTS);
    rt().block_on(async {
        let start =
            |cfg: TlsConfig| builder("blerr").tls(cfg).connect_timeout(Duration::from_secs(3)).start();
        let ok = start(tls(&pki, &ours)).await.unwrap();
        assert!(ok.ping(&good.name).await, "the good configuration works");

        // Our certificate comes from a CA the node does not know: it says so.
        let stranger = other.node_cert("stranger", HOSTS);
        let cfg = TlsConfig::from_pem_files(&stranger.cert, &stranger.key, &pki.ca).unwrap();
        let e = tls_error(start(cfg).await.unwrap().connect(&good.name).await);
        assert_eq!(e, TlsError::UnknownCa { peer: good.name.clone(), whose: Whose::Ours }, "{e}");

        // We do not know the node's CA.
        let cfg = TlsConfig::from_pem_files(&ours.cert, &ours.key, &other.ca).unwrap();
        let e = tls_error(start(cfg).await.unwrap().connect(&good.name).await);
        assert_eq!(e, TlsError::UnknownCa { peer: good.name.clone(), whose: Whose::Theirs }, "{e}");

        // Our certificate has expired: the node refuses it.
        let old = pki.expired_cert("beamlink_old", HOSTS);
        let e = tls_error(start(tls(&pki, &old)).await.unwrap().connect(&good.name).await);
        assert_eq!(e, TlsError::Expired { peer: good.name.clone(), whose: Whose::Ours }, "{e}");

        // The node's certificate has expired: we refuse it.
        let e = tls_error(ok.connect(&expired.name).await);
        assert_eq!(e, TlsError::Expired { peer: expired.name.clone(), whose: Whose::Theirs }, "{e}");

        // Its certificate does not name the host we dialed.
        let by_ip = format!("{}@127.0.0.1", good.alive);
        let e = tls_error(ok.connect(&by_ip).await);
        assert_eq!(e, TlsError::WrongHostName { peer: by_ip.clone(), host: "127.0.0.1".into() }, "{e}");
        assert!(e.to_string().contains("not valid for the host name \"127.0.0.1\""), "{e}");

        // A plain-TCP node reads our ClientHello as the length of a handshake message and
        // waits in silence: we give up after the connect timeout and say why it may be.
        let e = tls_error(ok.connect(&plain.name).await);
        assert!(matches!(e, TlsError::Timeout { .. } | TlsError::NotTls { .. }), "{e:?}");
        assert!(e.to_string().contains("plain-TCP"), "{e}");

        // Plain TCP toward a TLS node: its TLS answer is recognised.
        let plain_client = builder("blplain").connect_timeout(Duration::from_secs(3)).start().await.unwrap();
        let r = plain_client.connect(&good.name).await;
        assert!(
            matches!(
                r,
                Err(NodeError::Connect {
                    source: ConnectError::Handshake { source: HandshakeError::TlsPeer { .. }, .. },
                    ..
                })
            ),
            "{r:?}"
        );

        // No client certificate at all, toward a node with fail_if_no_peer_cert.
        let dir = pki.dir.join("nocert.conf");
        std::fs::write(
            &dir,
            format!(
                "[{{client, [{{cacertfile, {:?}}}, {{verify, verify_peer}}]}}].",
                pki.ca.display().to_string()
            ),
        )
        .unwrap();
        let e =
            tls_error(start(TlsConfig::from_optfile(&dir).unwrap()).await.unwrap().connect(&good.name).await);
        assert!(matches!(e, TlsError::Refused { .. }), "{e:?}");

        // After all of that the good connection still works.
        assert!(ok.ping(&good.name).await);
    });
}

/// beamlink against itself, both roles in one process: TLS to TLS works; TLS to a plain
/// listener and plain to a TLS listener fail at once with typed reasons on both sides; a
/// client without a certificate is refused by a listener that requires one.
#[test]
fn beamlink_to_beamlink_and_mismatched_transports() {
    capture_logs();
    let pki = Pki::generate("self");
    let a = pki.node_cert("a", HOSTS);
    let b = pki.node_cert("b", HOSTS);
    rt().block_on(async {
        let server = builder("blsrv").tls(tls(&pki, &a)).listen(0).start().await.unwrap();
        let client = builder("blcli").tls(tls(&pki, &b)).start().await.unwrap();
        assert!(client.ping(server.name().as_str()).await);
        let plain_server = builder("blpsrv").listen(0).start().await.unwrap();
        let plain_client = builder("blpcli").start().await.unwrap();

        let started = std::time::Instant::now();
        let e = tls_error(client.connect(plain_server.name().as_str()).await);
        assert!(matches!(e, TlsError::NotTls { .. }), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        assert!(logged("the peer speaks TLS").await, "{:?}", log_lines());

        let r = plain_client.connect(server.name().as_str()).await;
        assert!(
            matches!(
                r,
                Err(NodeError::Connect {
                    source: ConnectError::Handshake { source: HandshakeError::TlsPeer { .. }, .. },
                    ..
                })
            ),
            "{r:?}"
        );
        assert!(logged("does not speak TLS").await, "{:?}", log_lines());

        let dir = pki.dir.join("nocert.conf");
        std::fs::write(&dir, format!("[{{client, [{{cacertfile, {:?}}}]}}].", pki.ca.display().to_string()))
            .unwrap();
        let anonymous = builder("blanon").tls(TlsConfig::from_optfile(&dir).unwrap()).start().await.unwrap();
        let e = tls_error(anonymous.connect(server.name().as_str()).await);
        assert!(matches!(e, TlsError::Refused { .. }), "{e:?}");
        assert!(logged("presented no certificate").await, "{:?}", log_lines());
        assert!(client.ping(server.name().as_str()).await);
    });
}

#[test]
fn configuration_errors_are_typed() {
    let pki = Pki::generate("config");
    let c = pki.node_cert("c", HOSTS);
    let other = pki.node_cert("other", HOSTS);
    // A key that is not the certificate's.
    let e = TlsConfig::from_pem_files(&c.cert, &other.key, &pki.ca).unwrap_err();
    assert!(matches!(e, TlsConfigError::Invalid(_)), "{e:?}");
    // A missing file names itself; the key's content never appears in an error.
    let e = TlsConfig::from_pem_files(&c.cert, pki.dir.join("nope.key"), &pki.ca).unwrap_err();
    assert!(matches!(&e, TlsConfigError::Read { what: "private key", .. }), "{e:?}");
    let e = TlsConfig::from_pem_files(&c.key, &c.key, &pki.ca).unwrap_err();
    assert!(matches!(&e, TlsConfigError::Missing { what: "certificate", .. }), "{e:?}");
    let key_text = std::fs::read_to_string(&c.key).unwrap();
    let cfg = tls(&pki, &c);
    let shown = format!("{cfg:?}");
    assert!(!shown.contains(&key_text[30..60]), "{shown}");
    assert!(shown.contains("has_key: true"), "{shown}");
    // Optfiles: read as erl reads them; options that would be ignored are refused.
    let write = |name: &str, text: &str| {
        let p = pki.dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let q = |p: &std::path::Path| format!("{:?}", p.display().to_string());
    let (cert, key, ca) = (q(&c.cert), q(&c.key), q(&pki.ca));
    let ok = write(
        "ok.conf",
        &format!(
            "%% as erl reads it\n[{{server, [{{certfile, {cert}}}, {{keyfile, {key}}}, {{cacertfile, {ca}}},\n\
             {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}, {{versions, ['tlsv1.3', 'tlsv1.2']}}]}},\n\
             {{client, [{{certfile, {cert}}}, {{keyfile, {key}}}, {{cacertfile, {ca}}}, {{verify, verify_peer}},\n\
             {{server_name_indication, disable}}, {{secure_renegotiate, true}}, {{depth, 3}}]}}]."
        ),
    );
    let cfg = TlsConfig::from_optfile(&ok).unwrap();
    let shown = format!("{cfg:?}");
    assert!(shown.contains("check_host_name: false") && shown.contains("require_peer_cert: true"), "{shown}");
    let no_key = format!("[{{client, [{{certfile, {cert}}}]}}].");
    for (text, want) in [
        ("[{client, [{password, \"x\"}]}].", "option password is not supported"),
        ("[{client, [{ciphers, [\"x\"]}]}].", "option ciphers is not supported"),
        ("[{client, [{versions, ['tlsv1.1']}]}].", "only 'tlsv1.2' and 'tlsv1.3'"),
        ("[{server, [{verify_fun, {fun inet_tls_dist:verify_client/3, []}}]}].", "verify_fun"),
        (no_key.as_str(), "no private key found"),
        ("{client, []}.", "expected a list"),
        ("[{client, [{verify, verify_peer}]}", "ssl_dist_optfile"),
        ("[{client, [{verify, verify_peer}]}].", "verify_peer needs CA certificates"),
    ] {
        let p = write("bad.conf", text);
        let e = TlsConfig::from_optfile(&p).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
    // A listening node needs a server certificate.
    let client_only = write(
        "client_only.conf",
        &format!("[{{client, [{{certfile, {cert}}}, {{keyfile, {key}}}, {{cacertfile, {ca}}}]}}]."),
    );
    let r =
        rt().block_on(builder("blcfg").tls(TlsConfig::from_optfile(&client_only).unwrap()).listen(0).start());
    assert!(matches!(r, Err(NodeError::Tls(_))), "{r:?}");
}
