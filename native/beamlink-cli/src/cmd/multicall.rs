//! `beamlink multicall NODE… M F [ARGS]`: one line per node, in the order given. Exit status 0
//! when every node answered, else the code of the first failure (in the order given).

use beamlink::term::Term;

use super::{Failure, Outcome, call_failure, concurrently, json_document, parse_args};
use crate::ctx::Ctx;
use crate::explain::Detailed;
use crate::out::Out;
use crate::{exit, render};

pub async fn run(ctx: &Ctx, items: &[String]) -> Outcome {
    // A trailing list literal (or `-`) is ARGS; the two before it are M and F.
    let (rest, args) = match items.last() {
        Some(last) if last.trim_start().starts_with('[') || last == "-" => {
            (&items[..items.len() - 1], parse_args(ctx, &super::input(last)?)?)
        }
        _ => (items, Term::nil()),
    };
    if rest.len() < 3 {
        return Err(Failure::usage("usage: beamlink multicall NODE… MODULE FUNCTION [ARGS]"));
    }
    let (nodes, mf) = rest.split_at(rest.len() - 2);
    let nodes: Vec<String> = nodes.iter().map(|n| crate::target::expand(n)).collect();
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
    let (m, f) = (super::module(ctx, &mf[0]), super::function(&mf[1]));
    let mut results = node.multicall(&reachable, &m, f, args, ctx.left()).await.into_iter();
    let rows: Vec<Result<Term, Detailed>> = nodes
        .iter()
        .zip(connected)
        .map(|(_, c)| match c {
            Ok(()) => match results.next().expect("one result per reachable node") {
                Ok(v) => Ok(v),
                Err(e) => Err(Detailed::of(call_failure(&e, ctx), &e)),
            },
            Err(f) => Err(f.into()),
        })
        .collect();
    let code = rows.iter().find_map(|r| r.as_ref().err()).map_or(exit::OK, |d| d.failure.code);
    let mut out = Out::new(false);
    if ctx.g.json {
        let doc = render::document(ctx, |d| {
            d.raw("[")?;
            for (i, (n, r)) in nodes.iter().zip(&rows).enumerate() {
                d.raw(if i == 0 { "{" } else { ", {" })?;
                d.key("node", true)?;
                d.string(n)?;
                match r {
                    Ok(v) => {
                        d.key("result", false)?;
                        d.term(v)?;
                    }
                    Err(e) => {
                        d.key("error", false)?;
                        d.failure(e.kind, &e.failure, e.reason.as_ref())?;
                    }
                }
                d.raw("}")?;
            }
            d.raw("]")
        });
        json_document(ctx, &mut out, doc)?;
        return Ok(code);
    }
    let mut cut = false;
    for (n, r) in nodes.iter().zip(rows) {
        let line = match r {
            Ok(v) => {
                let text = render::term(ctx, &v);
                cut |= text.cut;
                text.text
            }
            Err(d) => d.failure.message,
        };
        out.line(format_args!("{n}: {line}"))?;
    }
    out.flush()?;
    if cut && code == exit::OK {
        return Err(render::too_large(ctx));
    }
    Ok(code)
}
