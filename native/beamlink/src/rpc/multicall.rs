//! `erpc:multicall/5`: the same call on several nodes at once.

use std::time::Duration;

use tokio::task::JoinSet;

use super::error::CallError;
use crate::node::Node;
use crate::process::Outbound;
use crate::term::Term;

impl Node {
    /// Calls `module:function(args…)` on every node in `nodes` concurrently (each with
    /// [`call`](Self::call) semantics and the same `timeout`) and returns the results in the
    /// order of `nodes`. A dead or unreachable node gives its own error without delaying the
    /// others beyond `timeout`.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) {
    /// use std::time::Duration;
    /// use beamlink::term::Term;
    /// let rs = node.multicall(&["a@localhost", "b@localhost"], "erlang", "node", Term::nil(), Duration::from_secs(5)).await;
    /// for r in rs { println!("{r:?}"); }
    /// # }
    /// ```
    pub async fn multicall(
        &self,
        nodes: &[&str],
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> Vec<Result<Term, CallError>> {
        // Encode once; every task sends the same bytes.
        let args = Outbound::Encoded(args.into().into_bytes());
        let mut set = JoinSet::new();
        for (i, n) in nodes.iter().enumerate() {
            let (me, n, m, f, a) =
                (self.clone(), n.to_string(), module.to_string(), function.to_string(), args.clone());
            set.spawn(async move { (i, me.call(&n, &m, &f, a, timeout).await) });
        }
        let mut out: Vec<Option<Result<Term, CallError>>> = nodes.iter().map(|_| None).collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((i, r)) = joined {
                out[i] = Some(r);
            }
        }
        out.into_iter()
            .zip(nodes)
            .map(|(r, n)| {
                r.unwrap_or_else(|| {
                    Err(CallError::NoConnection {
                        node: n.to_string(),
                        detail: "call task failed".into(),
                        cause: None,
                    })
                })
            })
            .collect()
    }
}
