//! `beamlink multicall NODE… M F [ARGS]`: one line per node, in the order given. Exit status 0
//! when every node answered, else the code of the first failure.

use beamlink::term::Term;

use super::{Failure, Outcome, call_failure, parse_args, start_node, timeout};
use crate::cli::Global;
use crate::{exit, print};

pub async fn run(g: &Global, items: &[String]) -> Outcome {
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
    let node = start_node(g, nodes[0]).await?;
    let results = node.multicall(&nodes, &mf[0], &mf[1], args, timeout(g)).await;
    let mut code = exit::OK;
    for (n, r) in nodes.iter().zip(results) {
        match r {
            Ok(v) => println!("{n}: {}", print::term(&v, g.elixir)),
            Err(e) => {
                let f = call_failure(&e, g.elixir);
                println!("{n}: {}", f.message);
                if code == exit::OK {
                    code = f.code;
                }
            }
        }
    }
    Ok(code)
}
