//! Cluster discovery from one seed node.

use std::time::Duration;

use super::error::CallError;
use crate::node::Node;
use crate::term::{Atom, Term};

const DISCOVER_TIMEOUT: Duration = Duration::from_secs(10);

impl Node {
    /// Asks `seed` for the nodes it sees (`erlang:nodes/0`: visible nodes), connects to each
    /// (a ping), and returns the membership, seed included, sorted. Nodes that do not answer
    /// the ping are left out. Afterwards [`nodes`](Self::nodes) lists them as connected.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// let members = node.discover("fuga@localhost").await?;
    /// println!("{} nodes", members.len());
    /// # Ok(()) }
    /// ```
    pub async fn discover(&self, seed: &str) -> Result<Vec<Atom>, CallError> {
        let seen = self.call(seed, "erlang", "nodes", Term::nil(), DISCOVER_TIMEOUT).await?;
        let Some(list) = seen.as_list() else {
            return Err(CallError::BadRpc { reason: seen });
        };
        let mut members = vec![Atom::new(seed)];
        let mut pings = tokio::task::JoinSet::new();
        for n in list.iter().filter_map(Term::as_atom) {
            let (me, n) = (self.clone(), n.to_string());
            pings.spawn(async move { me.ping(&n).await.then_some(n) });
        }
        while let Some(r) = pings.join_next().await {
            if let Ok(Some(n)) = r {
                members.push(Atom::new(n));
            }
        }
        members.sort();
        members.dedup();
        Ok(members)
    }
}
