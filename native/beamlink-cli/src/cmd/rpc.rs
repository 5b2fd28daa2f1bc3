//! `beamlink rpc NODE M F [ARGS]`: erpc semantics by default, `--rex` for `rpc:call`'s. What
//! the call prints comes first, then the result.

use super::{Outcome, parse_args, print_outcome};
use crate::ctx::Ctx;

pub async fn run(ctx: &Ctx, target: &str, module: &str, function: &str, args: &str, rex: bool) -> Outcome {
    let args = parse_args(args)?;
    let node = ctx.connect(target).await?;
    let (result, output) = if rex {
        node.rpc_call_with_output(target, module, function, args, ctx.left()).await
    } else {
        node.call_with_output(target, module, function, args, ctx.left()).await
    };
    print_outcome(&output, result, ctx)
}
