//! `beamlink send NODE NAME TERM`: `{Name, Node} ! Term`, refused (exit 3, as `noproc`) when
//! nothing is registered as NAME there.

use beamlink::term::Term;

use super::{Failure, Outcome, call_failure, parse_term};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;

pub async fn run(ctx: &Ctx, target: &str, name: &str, term: &str) -> Outcome {
    let msg = parse_term(ctx, term, "TERM")?;
    let node = ctx.connect(target).await?;
    let whereis = node
        .call(target, "erlang", "whereis", Term::list([Term::atom(name)]), ctx.left())
        .await
        .map_err(|e| call_failure(&e, ctx))?;
    if whereis.is_atom("undefined") {
        return Err(Failure {
            code: exit::NOPROC,
            message: format!("noproc: nothing is registered as {name} on {target}"),
        });
    }
    let me = node.spawn_process();
    me.send_named(target, name, msg).await.map_err(|e| Failure::node(&e, ctx))?;
    // A round trip after the message: once its answer is in, the message has left (the
    // connection keeps order), and the process can end without losing it.
    node.ping_timeout(target, ctx.left()).await.map_err(|e| Failure::node(&e, ctx))?;
    let mut out = Out::new(false);
    if ctx.g.json {
        out.line("{\"sent\": true}")?;
    }
    out.flush()?;
    Ok(exit::OK)
}
