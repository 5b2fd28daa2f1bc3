//! `beamlink eval NODE EXPR`: Erlang expressions through the node's own scanner, parser and
//! erl_eval, or Elixir code through `Code.eval_string` (`--elixir`). What the code prints
//! streams out as it is printed, then comes its value.

use std::time::Duration;

use beamlink::rpc::IoServer;
use tokio::time::Instant;

use super::{Failure, Outcome, call_failure};
use crate::ctx::Ctx;
use crate::evaluator::{EvalError, Evaluator};
use crate::exit;
use crate::out::Out;
use crate::print;

pub async fn run(ctx: &Ctx, target: &str, expr: &str) -> Outcome {
    let node = ctx.connect_serving_io(target).await?;
    let mut events = node.subscribe();
    let (io, mut output) = IoServer::start(&node);
    let mut ev = Evaluator::new(node.clone(), target, ctx.g.elixir);
    let mut out = Out;
    let result = {
        let call = ev.eval(expr, &io, ctx.left());
        tokio::pin!(call);
        loop {
            tokio::select! {
                biased;
                Some(text) = output.recv() => {
                    out.write(&text)?;
                    out.flush()?;
                }
                r = &mut call => break r,
            }
        }
    };
    // Processes the code started elsewhere may still print: a third node takes a moment to
    // connect back to our group leader. Keep serving until nothing has happened for a while.
    linger(ctx, &mut out, &mut output, &mut events).await?;
    let code = match result {
        Ok(v) => {
            out.line(print::term(&v, ctx.g.elixir))?;
            Ok(exit::OK)
        }
        Err(EvalError::Syntax { line, column, message }) => {
            Err(Failure::usage(format!("syntax error at {line}:{column}: {message}")))
        }
        Err(EvalError::Call(e)) => Err(call_failure(&e, ctx)),
    };
    out.flush()?;
    code
}

/// How long output (or a node connecting to us) must pause before `eval` is done.
const QUIET: Duration = Duration::from_millis(100);

/// Serves output that comes after the value, until it has been quiet for [`QUIET`] (a node
/// connecting to us counts as activity: its output follows) or the deadline passes.
async fn linger(
    ctx: &Ctx,
    out: &mut Out,
    output: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    events: &mut tokio::sync::broadcast::Receiver<beamlink::NodeEvent>,
) -> Result<(), Failure> {
    let end = ctx.deadline().unwrap_or_else(|| Instant::now() + QUIET);
    loop {
        let quiet_until = (Instant::now() + QUIET).min(end);
        tokio::select! {
            Some(text) = output.recv() => {
                out.write(&text)?;
                out.flush()?;
            }
            Ok(beamlink::NodeEvent::Up { .. }) = events.recv() => {}
            () = tokio::time::sleep_until(quiet_until) => return Ok(()),
        }
    }
}
