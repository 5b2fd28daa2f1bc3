//! `beamlink ping NODE`: pong (exit 0) or pang (exit 1), like `net_adm:ping/1`; but a ping that
//! cannot even be tried (epmd down 69, bad name or cookie 78) says so in its exit code.

use super::{Failure, Outcome, start_node, timeout};
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
            let f = Failure::node(&e);
            // Only "the node is not there" is plain pang.
            let code = if f.code == exit::NOCONNECTION { exit::PANG } else { f.code };
            Err(Failure { code, message: f.message })
        }
    }
}
