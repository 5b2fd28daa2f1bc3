//! `beamlink cluster NODE`: the membership seen from NODE (`nodes()`), each member pinged.

use beamlink::term::Term;

use super::{Outcome, call_failure, concurrently, connect, timeout};
use crate::cli::Global;
use crate::exit;

pub async fn run(g: &Global, seed: &str) -> Outcome {
    let node = connect(g, seed).await?;
    let seen = node
        .call(seed, "erlang", "nodes", Term::nil(), timeout(g))
        .await
        .map_err(|e| call_failure(&e, g.elixir))?;
    let mut members: Vec<String> = vec![seed.to_string()];
    members.extend(seen.as_list().unwrap_or(&[]).iter().filter_map(Term::as_atom).map(str::to_string));
    members.sort();
    members.dedup();
    let t = timeout(g);
    let up = concurrently(members.iter().map(|m| {
        let (node, m) = (node.clone(), m.clone());
        async move { node.ping_timeout(&m, t).await.is_ok() }
    }))
    .await;
    for (m, up) in members.iter().zip(up) {
        println!("{m}\t{}", if up { "up" } else { "unreachable" });
    }
    Ok(exit::OK)
}
