//! The connect timeout bounds the epmd lookup too: an "epmd" that accepts and never answers
//! costs the caller the timeout it gave, not the epmd client's own default.
//!
//! Alone in its file: it points `ERL_EPMD_PORT` at the silent listener for the whole process.

use std::time::Duration;

use beamlink::epmd::EpmdError;
use beamlink::handshake::ConnectError;
use beamlink::{Node, NodeError};

#[test]
fn the_connect_timeout_covers_the_epmd_lookup() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        // Accept and hold every connection without a word.
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = silent.accept().await {
                held.push(s);
            }
        });
        // SAFETY: the only test in this process; nothing reads the environment concurrently.
        unsafe { std::env::set_var("ERL_EPMD_PORT", port.to_string()) };
        let given = Duration::from_millis(700);
        let node =
            Node::builder("deadline@localhost").cookie("c").connect_timeout(given).start().await.unwrap();
        match node.connect("anyone@localhost").await {
            Err(NodeError::Connect {
                source: ConnectError::Epmd(EpmdError::Timeout { after, .. }), ..
            }) => {
                assert_eq!(after, given)
            }
            other => panic!("expected an epmd timeout, got {other:?}"),
        }
    });
}
