//! `beamlink rpc NODE M F [ARGS]`: erpc semantics by default, `--rex` for `rpc:call`'s. What
//! the call prints comes first, then the result.

use super::{Outcome, parse_args};
use crate::ctx::Ctx;
use crate::explain::{self, Origin};
use crate::out::Out;
use crate::{exit, print};

pub async fn run(ctx: &Ctx, target: &str, module: &str, function: &str, args: &str) -> Outcome {
    let args = parse_args(args)?;
    let node = ctx.connect_serving_io(target).await?;
    let (result, output) = if ctx.g.rex {
        node.rpc_call_with_output(target, module, function, args, ctx.left()).await
    } else {
        node.call_with_output(target, module, function, args, ctx.left()).await
    };
    let mut out = Out;
    out.write(&output)?;
    let code = match result {
        Ok(v) => {
            out.line(print::term(&v, ctx.g.elixir))?;
            Ok(exit::OK)
        }
        Err(e) => Err(explain::failure(ctx, Some(Origin { node: &node, target }), e).await),
    };
    out.flush()?;
    code
}
