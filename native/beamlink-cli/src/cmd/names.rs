//! `beamlink names [HOST]`: what `epmd -names` prints, once the answer has been checked to be
//! epmd's (something else listening on the port is an error, not garbage on the screen).

use beamlink::epmd;

use super::{Failure, Outcome, json_document};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;
use crate::render;

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
    let mut out = Out::new(false);
    if ctx.g.json {
        let doc = render::document(ctx, |d| {
            d.raw("{")?;
            d.key("epmd_port", true)?;
            d.raw(&port.to_string())?;
            d.key("nodes", false)?;
            d.raw("[")?;
            for (i, (name, p)) in nodes.iter().enumerate() {
                d.raw(if i == 0 { "{" } else { ", {" })?;
                d.key("name", true)?;
                d.string(name)?;
                d.key("port", false)?;
                d.raw(&p.to_string())?;
                d.raw("}")?;
            }
            d.raw("]}")
        });
        json_document(ctx, &mut out, doc)?;
        return Ok(exit::OK);
    }
    let mut page = format!("epmd: up and running on port {port} with data:\n");
    for (name, p) in nodes {
        page.push_str(&format!("name {name} at port {p}\n"));
    }
    out.write(&page)?;
    out.flush()?;
    Ok(exit::OK)
}
