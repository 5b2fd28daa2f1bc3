//! `beamlink eval NODE EXPR`: Erlang expressions through the node's own scanner, parser and
//! erl_eval, or Elixir code through `Code.eval_string` (`--elixir`). What the code prints
//! streams out as it is printed, then comes its value.

use std::time::Duration;

use beamlink::CallError;
use beamlink::rpc::IoServer;
use beamlink::term::Term;
use tokio::time::Instant;

use super::{Failure, Outcome, conclude};
use crate::ctx::Ctx;
use crate::evaluator::{EvalError, Evaluator};
use crate::exit;
use crate::explain::{self, Detailed, Origin};
use crate::out::Out;

pub async fn run(ctx: &Ctx, target: &str, expr: &str) -> Outcome {
    let node = ctx.connect_serving_io(target).await?;
    let mut events = node.subscribe();
    let (io, mut output) = IoServer::start(&node);
    let mut ev = Evaluator::new(node.clone(), target, ctx.g.elixir);
    let mut out = Out::new(ctx.g.json);
    let result = {
        let call = ev.eval(expr, &io, ctx.left());
        tokio::pin!(call);
        loop {
            tokio::select! {
                biased;
                Some(text) = output.recv() => out.printed(&text)?,
                r = &mut call => break r,
            }
        }
    };
    // Processes the code started elsewhere may still print: a third node takes a moment to
    // connect back to our group leader. Keep serving until nothing has happened for a while.
    linger(ctx, &mut out, &mut output, &mut events).await?;
    let result = match result {
        Ok(v) => Ok(v),
        Err(EvalError::Syntax { line, column, message }) => {
            Err(Failure::usage(format!("syntax error at {line}:{column}: {message}")).into())
        }
        Err(EvalError::Call(e)) => Err(eval_failure(ctx, &node, target, e).await),
    };
    conclude(ctx, &mut out, result)
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
            Some(text) = output.recv() => out.printed(&text)?,
            Ok(beamlink::NodeEvent::Up { .. }) = events.recv() => {}
            () = tokio::time::sleep_until(quiet_until) => return Ok(()),
        }
    }
}

/// The evaluated code is what was called: an `undef` at the top of its stack is the code's own
/// call of a missing function (exit 5, as for rpc), and an Elixir syntax error is a syntax
/// error (exit 64), not a failure of the node.
async fn eval_failure(ctx: &Ctx, node: &beamlink::Node, target: &str, e: CallError) -> Detailed {
    let e = match e {
        CallError::Error { reason, stacktrace } if reason.is_atom("undef") => {
            undef_at_top(reason, stacktrace)
        }
        other => other,
    };
    let syntax = match &e {
        CallError::Error { reason, .. } => matches!(
            explain::exception_name(reason),
            Some("SyntaxError" | "TokenMissingError" | "MismatchedDelimiterError")
        ),
        _ => false,
    };
    let mut d = explain::detailed(ctx, Some(Origin { node, target }), e).await;
    if syntax {
        d.failure.code = exit::USAGE;
        d.kind = "syntax";
    }
    d
}

fn undef_at_top(reason: Term, stacktrace: Term) -> CallError {
    let top = stacktrace.as_list().and_then(|l| l.first()).and_then(Term::as_tuple);
    if let Some([m, f, a, _]) = top
        && let (Some(m), Some(f)) = (m.as_atom(), f.as_atom())
    {
        let arity = match a {
            Term::List(args) => Some(args.len()),
            other => other.as_int().and_then(|n| usize::try_from(n).ok()),
        };
        if let Some(arity) = arity {
            return CallError::Undef { module: m.to_string(), function: f.to_string(), arity, stacktrace };
        }
    }
    CallError::Error { reason, stacktrace }
}
