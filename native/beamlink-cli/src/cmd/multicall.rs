//! `beamlink multicall NODE… M F [ARGS]`: one line per node, in the order given. Exit status 0
//! when every node answered, else the code of the first failure (in the order given).

use beamlink::term::Term;

use super::{Failure, Outcome, call_failure, concurrently, parse_args};
use crate::ctx::Ctx;
use crate::out::Out;
use crate::{exit, print};

pub async fn run(ctx: &Ctx, items: &[String]) -> Outcome {
    // A trailing list literal is ARGS; the two before it are M and F.
    let (rest, args) = match items.last() {
        Some(last) if last.trim_start().starts_with('[') => (&items[..items.len() - 1], parse_args(last)?),
        _ => (items, Term::nil()),
    };
    if rest.len() < 3 {
        return Err(Failure::usage("usage: beamlink multicall NODE… MODULE FUNCTION [ARGS]"));
    }
    let (nodes, mf) = rest.split_at(rest.len() - 2);
    let nodes: Vec<&str> = nodes.iter().map(String::as_str).collect();
    let node = ctx.start_node(nodes[0]).await?;
    // Connect to all first, so that each unreachable node is reported with its own reason
    // (epmd down, wrong cookie…) rather than as a lost call.
    let connected = concurrently(nodes.iter().map(|n| {
        let (node, n) = (node.clone(), n.to_string());
        async move { node.connect(&n).await.map(|_| ()) }
    }))
    .await
    .into_iter()
    .map(|r| r.map_err(|e| Failure::node(&e, ctx)))
    .collect::<Vec<_>>();
    let reachable: Vec<&str> =
        nodes.iter().zip(&connected).filter(|(_, c)| c.is_ok()).map(|(n, _)| *n).collect();
    let mut results = node.multicall(&reachable, &mf[0], &mf[1], args, ctx.left()).await.into_iter();
    let mut code = exit::OK;
    let mut out = Out;
    for (n, c) in nodes.iter().zip(connected) {
        let line = match c.map(|()| results.next().expect("one result per reachable node")) {
            Ok(Ok(v)) => print::term(&v, ctx.g.elixir),
            Ok(Err(e)) => fail(&mut code, call_failure(&e, ctx)),
            Err(f) => fail(&mut code, f),
        };
        out.line(format_args!("{n}: {line}"))?;
    }
    out.flush()?;
    Ok(code)
}

fn fail(code: &mut i32, f: Failure) -> String {
    if *code == exit::OK {
        *code = f.code;
    }
    f.message
}
