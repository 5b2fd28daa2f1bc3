//! `beamlink cluster NODE`: the membership seen from NODE, each member connected to.

use super::{Outcome, call_failure, start_node};
use crate::cli::Global;
use crate::exit;

pub async fn run(g: &Global, seed: &str) -> Outcome {
    let node = start_node(g, seed).await?;
    let members = node.discover(seed).await.map_err(|e| call_failure(&e, g.elixir))?;
    let connected = node.nodes();
    for m in members {
        let mark = if connected.contains(&m) { "up" } else { "unreachable" };
        println!("{}\t{mark}", m.as_str());
    }
    Ok(exit::OK)
}
