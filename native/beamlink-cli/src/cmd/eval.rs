//! `beamlink eval NODE EXPR`: Erlang expressions go through the remote `erl_scan`,
//! `erl_parse` and `erl_eval`; with `--elixir`, `Code.eval_string/1`. Output, then the value.

use beamlink::term::Term;
use beamlink::{CallError, Node};

use super::{Failure, Outcome, call_failure, print_outcome};
use crate::ctx::Ctx;
use crate::exit;

pub async fn run(ctx: &Ctx, target: &str, expr: &str) -> Outcome {
    let node = ctx.connect(target).await?;
    let (result, output) = if ctx.g.elixir {
        let args = Term::list([Term::from(expr)]);
        let (r, out) = node.call_with_output(target, "Elixir.Code", "eval_string", args, ctx.left()).await;
        // Code.eval_string returns {Value, Binding}.
        (r.map(|t| t.as_tuple().and_then(|x| x.first().cloned()).unwrap_or(t)), out)
    } else {
        let exprs = parse_remote(&node, target, expr, ctx).await?;
        let args = Term::list([exprs, Term::nil()]);
        let (r, out) = node.call_with_output(target, "erl_eval", "exprs", args, ctx.left()).await;
        // erl_eval:exprs returns {value, Value, Bindings}.
        (r.map(|t| t.as_tuple().and_then(|x| x.get(1).cloned()).unwrap_or(t)), out)
    };
    print_outcome(&output, result, ctx)
}

/// Scans and parses on the remote node, so its syntax is exactly the node's own.
async fn parse_remote(node: &Node, target: &str, expr: &str, ctx: &Ctx) -> Result<Term, Failure> {
    let mut text = expr.trim().to_string();
    if !text.ends_with('.') {
        text.push('.');
    }
    let chars = Term::list(text.chars().map(|c| Term::from(c as u32)));
    let scanned = node.call(target, "erl_scan", "string", Term::list([chars]), ctx.left()).await;
    let tokens = match scanned {
        Ok(Term::Tuple(ref t)) if t.len() == 3 && t[0].is_atom("ok") => t[1].clone(),
        Ok(other) => return Err(syntax_error(&other)),
        Err(e) => return Err(call_failure(&e, ctx)),
    };
    match node.call(target, "erl_parse", "parse_exprs", Term::list([tokens]), ctx.left()).await {
        Ok(Term::Tuple(ref t)) if t.len() == 2 && t[0].is_atom("ok") => Ok(t[1].clone()),
        Ok(other) => Err(syntax_error(&other)),
        Err(e @ CallError::Error { .. }) | Err(e) => Err(call_failure(&e, ctx)),
    }
}

fn syntax_error(t: &Term) -> Failure {
    Failure { code: exit::USAGE, message: format!("syntax error: {t}") }
}
