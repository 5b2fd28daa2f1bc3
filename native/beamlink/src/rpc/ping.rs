//! `net_adm:ping/1`: a `gen_call` to the remote `net_kernel` asking `is_auth`.

use std::time::Duration;

use crate::node::{Node, NodeError};
use crate::term::Term;

impl Node {
    /// `net_adm:ping/1`: connects if needed and asks the remote `net_kernel`. `true` is pong.
    /// Never fails: an unreachable node, a bad cookie or a timeout is simply pang.
    pub async fn ping(&self, node: &str) -> bool {
        self.ping_timeout(node, Duration::from_secs(10)).await.is_ok()
    }

    /// Like [`ping`](Self::ping), saying why it was pang.
    pub async fn ping_timeout(&self, node: &str, timeout: Duration) -> Result<(), NodeError> {
        let me = self.spawn_process();
        let tag = self.make_ref();
        let req = Term::tuple([
            Term::atom("$gen_call"),
            Term::tuple([Term::Pid(me.pid().clone()), Term::Reference(tag.clone())]),
            Term::tuple([Term::atom("is_auth"), Term::Atom(self.name().clone())]),
        ]);
        tokio::time::timeout(timeout, me.send_named(node, "net_kernel", req))
            .await
            .map_err(|_| NodeError::NoConnection { node: node.to_string() })??;
        let want = Term::Reference(tag);
        let got = me
            .receive_match(timeout, |m| match m.term() {
                Some(Ok(Term::Tuple(ref t))) => t.len() == 2 && t[0] == want,
                _ => false,
            })
            .await;
        match got.and_then(|m| m.term()).and_then(|t| t.ok()) {
            Some(Term::Tuple(ref t)) if t[1].is_atom("yes") => Ok(()),
            _ => Err(NodeError::NoConnection { node: node.to_string() }),
        }
    }
}
