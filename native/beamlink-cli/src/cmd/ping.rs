//! `beamlink ping NODE`: pong (exit 0) or pang (exit 1), like `net_adm:ping/1`.

use super::{Outcome, start_node, timeout};
use crate::cli::Global;
use crate::exit;

pub async fn run(g: &Global, target: &str) -> Outcome {
    let node = start_node(g, target).await?;
    match node.ping_timeout(target, timeout(g)).await {
        Ok(()) => {
            println!("pong");
            Ok(exit::OK)
        }
        Err(e) => {
            println!("pang");
            eprintln!("beamlink: {e}");
            Ok(exit::PANG)
        }
    }
}
