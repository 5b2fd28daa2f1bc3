//! epmd restarted while connected. A private epmd on its own port (this binary sets
//! ERL_EPMD_PORT for the whole process, so it is a file of its own), started and killed by
//! PID: established connections do not need epmd and keep working through its death and
//! restart; looking up a node that has not registered again (OTP nodes do not) is a typed
//! `NodeNotFound`, not a hang.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use beamlink::handshake::ConnectError;
use beamlink::{Node, NodeError, Term};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, unique_name};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Epmd(Child);

impl Epmd {
    fn start(port: u16) -> Epmd {
        let child =
            Command::new(Otp::V25.bin_dir().join("epmd")).args(["-port", &port.to_string()]).spawn().unwrap();
        // Up once it answers NAMES_REQ.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "epmd did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Epmd(child)
    }
}

impl Drop for Epmd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn epmd_restarted_while_connected() {
    let port = free_port();
    // SAFETY: set before any thread of this test binary reads the environment.
    unsafe { std::env::set_var("ERL_EPMD_PORT", port.to_string()) };
    let epmd = Epmd::start(port);
    let peer = TestNode::builder(Otp::V25)
        .prefix("epmdr")
        .env("ERL_EPMD_PORT", &port.to_string())
        .arg("-start_epmd")
        .arg("false")
        .start()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let t = Duration::from_secs(10);
        let node = Node::builder(format!("{}@localhost", unique_name("blep")))
            .cookie(DEFAULT_COOKIE)
            .listen(0)
            .start()
            .await
            .unwrap();
        let ours = node.name().as_str().to_string();
        assert_eq!(
            node.call(&peer.name, "erlang", "node", Term::nil(), t).await.unwrap(),
            Term::atom(&peer.name)
        );
        drop(epmd);
        // Both directions of the established connection work without epmd.
        assert_eq!(
            node.call(&peer.name, "erlang", "node", Term::nil(), t).await.unwrap(),
            Term::atom(&peer.name)
        );
        assert_eq!(peer.eval_ok(&format!("net_adm:ping('{ours}').")), "pong");
        let epmd = Epmd::start(port);
        assert_eq!(
            node.call(&peer.name, "erlang", "node", Term::nil(), t).await.unwrap(),
            Term::atom(&peer.name)
        );
        // A new client finds the new epmd empty: a typed answer at once.
        let fresh = Node::builder(format!("{}@localhost", unique_name("blep2")))
            .cookie(DEFAULT_COOKIE)
            .start()
            .await
            .unwrap();
        let started = Instant::now();
        let r = fresh.connect(&peer.name).await;
        assert!(
            matches!(r, Err(NodeError::Connect { source: ConnectError::NodeNotFound { .. }, .. })),
            "{r:?}"
        );
        eprintln!("lookup in the restarted epmd answered in {:?}: {}", started.elapsed(), r.unwrap_err());
        drop(epmd);
    });
}
