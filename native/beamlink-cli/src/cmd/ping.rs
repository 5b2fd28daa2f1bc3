//! `beamlink ping NODE…`: pong or pang for each node (pinged at once), like `net_adm:ping/1`.
//! Exit 0 when all answered; otherwise the first failure's code in the order given: 1 for a
//! node that is not there, but 69 (epmd down) or 78 (bad name or cookie) when the ping could
//! not even be tried.

use super::{Failure, Outcome, concurrently};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;

pub async fn run(ctx: &Ctx, targets: &[String]) -> Outcome {
    let node = ctx.start_node(&targets[0]).await?;
    let t = ctx.left();
    let answers = concurrently(targets.iter().map(|target| {
        let (node, target) = (node.clone(), target.clone());
        async move { node.ping_timeout(&target, t).await }
    }))
    .await;
    let mut out = Out;
    let mut first: Option<Failure> = None;
    for (target, answer) in targets.iter().zip(answers) {
        let word = if answer.is_ok() { "pong" } else { "pang" };
        if targets.len() == 1 {
            out.line(word)?;
        } else {
            out.line(format_args!("{target}\t{word}"))?;
        }
        if let Err(e) = answer {
            let f = Failure::node(&e, ctx);
            // Only "the node is not there" is plain pang.
            let code = if f.code == exit::NOCONNECTION { exit::PANG } else { f.code };
            let message = if targets.len() == 1 { f.message } else { format!("{target}: {}", f.message) };
            if first.is_none() {
                first = Some(Failure { code, message });
            } else {
                crate::out::warn(message);
            }
        }
    }
    out.flush()?;
    match first {
        None => Ok(exit::OK),
        Some(f) => Err(f),
    }
}
