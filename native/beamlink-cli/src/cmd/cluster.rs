//! `beamlink cluster NODE`: the membership seen from NODE (`nodes()`), each member pinged.

use beamlink::term::Term;

use super::{Outcome, call_failure, concurrently, json_document};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;
use crate::render;

pub async fn run(ctx: &Ctx, seed: &str) -> Outcome {
    let node = ctx.connect(seed).await?;
    let seen = node
        .call(seed, "erlang", "nodes", Term::nil(), ctx.left())
        .await
        .map_err(|e| call_failure(&e, ctx))?;
    let mut members: Vec<String> = vec![seed.to_string()];
    members.extend(seen.as_list().unwrap_or(&[]).iter().filter_map(Term::as_atom).map(str::to_string));
    members.sort();
    members.dedup();
    let t = ctx.left();
    let up = concurrently(members.iter().map(|m| {
        let (node, m) = (node.clone(), m.clone());
        async move { node.ping_timeout(&m, t).await.is_ok() }
    }))
    .await;
    let mut out = Out::new(false);
    if ctx.g.json {
        let doc = render::document(ctx, |d| {
            d.raw("[")?;
            for (i, (m, up)) in members.iter().zip(&up).enumerate() {
                d.raw(if i == 0 { "{" } else { ", {" })?;
                d.key("node", true)?;
                d.string(m)?;
                d.key("up", false)?;
                d.raw(if *up { "true" } else { "false" })?;
                d.raw("}")?;
            }
            d.raw("]")
        });
        json_document(ctx, &mut out, doc)?;
        return Ok(exit::OK);
    }
    for (m, up) in members.iter().zip(up) {
        out.line(format_args!("{m}\t{}", if up { "up" } else { "unreachable" }))?;
    }
    out.flush()?;
    Ok(exit::OK)
}
