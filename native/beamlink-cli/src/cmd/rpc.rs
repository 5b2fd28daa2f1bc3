//! `beamlink rpc NODE M F [ARGS]`: erpc semantics by default, `--rex` for `rpc:call`'s. What
//! the call prints comes first, then the result.

use std::io::Write;

use super::{Outcome, call_failure, parse_args, start_node, timeout};
use crate::cli::Global;
use crate::{exit, print};

pub async fn run(g: &Global, target: &str, module: &str, function: &str, args: &str, rex: bool) -> Outcome {
    let args = parse_args(args)?;
    let node = start_node(g, target).await?;
    let (result, output) = if rex {
        node.rpc_call_with_output(target, module, function, args, timeout(g)).await
    } else {
        node.call_with_output(target, module, function, args, timeout(g)).await
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(output.as_bytes());
    match result {
        Ok(v) => {
            let _ = writeln!(out, "{}", print::term(&v, g.elixir));
            Ok(exit::OK)
        }
        Err(e) => Err(call_failure(&e, g.elixir)),
    }
}
