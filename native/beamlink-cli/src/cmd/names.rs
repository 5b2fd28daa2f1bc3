//! `beamlink names [HOST]`: what `epmd -names` prints, once the answer has been checked to be
//! epmd's (something else listening on the port is an error, not garbage on the screen).

use beamlink::epmd;

use super::{Failure, Outcome};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;

pub async fn run(ctx: &Ctx, host: &str) -> Outcome {
    let client = epmd::Client::from_env(host).with_timeout(ctx.left());
    let (port, text) = client.names_raw().await.map_err(|e| match exit::epmd_error(&e) {
        exit::TIMEOUT => Failure::timeout(ctx, &e.to_string()),
        code => Failure { code, message: e.to_string() },
    })?;
    let not_epmd = |detail: String| Failure {
        code: exit::UNAVAILABLE,
        message: format!("what answers on {host}:{} is not epmd ({detail})", client.port),
    };
    // epmd reports its own TCP port first.
    if port > u32::from(u16::MAX) {
        return Err(not_epmd(format!("it reports port {port}")));
    }
    let nodes = epmd::parse_names(&text).map_err(|line| {
        not_epmd(format!("its answer has the line {:?}", line.chars().take(60).collect::<String>()))
    })?;
    let mut page = format!("epmd: up and running on port {port} with data:\n");
    for (name, p) in nodes {
        page.push_str(&format!("name {name} at port {p}\n"));
    }
    let mut out = Out;
    out.write(&page)?;
    out.flush()?;
    Ok(exit::OK)
}
