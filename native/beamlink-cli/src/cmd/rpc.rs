//! `beamlink rpc NODE M F [ARGS]`: erpc semantics by default, `--rex` for `rpc:call`'s. What
//! the call prints comes first, then the result.

use super::{Outcome, conclude, parse_args};
use crate::ctx::Ctx;
use crate::explain::{self, Origin};
use crate::out::Out;

pub async fn run(ctx: &Ctx, target: &str, module: &str, function: &str, args: &str) -> Outcome {
    let args = parse_args(ctx, args)?;
    let node = ctx.connect_serving_io(target).await?;
    let (result, output) = if ctx.g.rex {
        node.rpc_call_with_output(target, module, function, args, ctx.left()).await
    } else {
        node.call_with_output(target, module, function, args, ctx.left()).await
    };
    let mut out = Out::new(ctx.g.json);
    out.printed(&output)?;
    let result = match result {
        Ok(v) => Ok(v),
        Err(e) => Err(explain::detailed(ctx, Some(Origin { node: &node, target }), e).await),
    };
    conclude(ctx, &mut out, result)
}
