//! `beamlink rpc NODE M F [ARGS]`: erpc semantics by default, `--rex` for `rpc:call`'s. What
//! the call prints comes first, then the result.

use super::{Outcome, connect, parse_args, print_outcome, timeout};
use crate::cli::Global;

pub async fn run(g: &Global, target: &str, module: &str, function: &str, args: &str, rex: bool) -> Outcome {
    let args = parse_args(args)?;
    let node = connect(g, target).await?;
    let (result, output) = if rex {
        node.rpc_call_with_output(target, module, function, args, timeout(g)).await
    } else {
        node.call_with_output(target, module, function, args, timeout(g)).await
    };
    print_outcome(&output, result, g.elixir)
}
