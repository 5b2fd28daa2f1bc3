//! `beamlink names [HOST]`: what `epmd -names` prints.

use beamlink::epmd;

use super::{Failure, Outcome};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;

pub async fn run(ctx: &Ctx, host: &str) -> Outcome {
    let (port, text) =
        epmd::Client::from_env(host).with_timeout(ctx.left()).names_raw().await.map_err(|e| {
            let code = exit::epmd_error(&e);
            if code == exit::TIMEOUT {
                Failure::timeout(ctx, &e.to_string())
            } else {
                Failure { code, message: e.to_string() }
            }
        })?;
    let mut out = Out;
    out.write(&format!("epmd: up and running on port {port} with data:\n{text}"))?;
    out.flush()?;
    Ok(exit::OK)
}
