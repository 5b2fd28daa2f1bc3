//! `beamlink ping NODE`: pong (exit 0) or pang (exit 1), like `net_adm:ping/1`; but a ping that
//! cannot even be tried (epmd down 69, bad name or cookie 78) says so in its exit code.

use super::{Failure, Outcome};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;

pub async fn run(ctx: &Ctx, target: &str) -> Outcome {
    let node = ctx.start_node(target).await?;
    match node.ping_timeout(target, ctx.left()).await {
        Ok(()) => {
            Out.line("pong")?;
            Out.flush()?;
            Ok(exit::OK)
        }
        Err(e) => {
            Out.line("pang")?;
            Out.flush()?;
            let f = Failure::node(&e, ctx);
            // Only "the node is not there" is plain pang.
            let code = if f.code == exit::NOCONNECTION { exit::PANG } else { f.code };
            Err(Failure { code, message: f.message })
        }
    }
}
