//! `beamlink ping NODE…`: pong or pang for each node (pinged at once), like `net_adm:ping/1`.
//! Exit 0 when all answered; otherwise the first failure's code in the order given: 1 for a
//! node that is not there, but 69 (epmd down) or 78 (bad name or cookie) when the ping could
//! not even be tried.

use super::{Failure, Outcome, concurrently, json_document};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;
use crate::render;

pub async fn run(ctx: &Ctx, targets: &[String]) -> Outcome {
    let node = ctx.start_node(&targets[0]).await?;
    let t = ctx.left();
    let answers = concurrently(targets.iter().map(|target| {
        let (node, target) = (node.clone(), target.clone());
        async move { node.ping_timeout(&target, t).await }
    }))
    .await;
    let mut out = Out::new(false);
    let failures: Vec<Option<Failure>> = answers
        .into_iter()
        .map(|a| {
            a.err().map(|e| {
                let f = Failure::node(&e, ctx);
                // Only "the node is not there" is plain pang.
                Failure {
                    code: if f.code == exit::NOCONNECTION { exit::PANG } else { f.code },
                    message: f.message,
                }
            })
        })
        .collect();
    if ctx.g.json {
        let doc = render::document(ctx, |d| {
            d.raw("[")?;
            for (i, (target, f)) in targets.iter().zip(&failures).enumerate() {
                d.raw(if i == 0 { "{" } else { ", {" })?;
                d.key("node", true)?;
                d.string(target)?;
                d.key("pong", false)?;
                d.raw(if f.is_none() { "true" } else { "false" })?;
                if let Some(f) = f {
                    d.key("code", false)?;
                    d.raw(&f.code.to_string())?;
                    d.key("message", false)?;
                    d.string(&f.message)?;
                }
                d.raw("}")?;
            }
            d.raw("]")
        });
        json_document(ctx, &mut out, doc)?;
    } else {
        for (target, f) in targets.iter().zip(&failures) {
            let word = if f.is_none() { "pong" } else { "pang" };
            if targets.len() == 1 {
                out.line(word)?;
            } else {
                out.line(format_args!("{target}\t{word}"))?;
            }
        }
        out.flush()?;
    }
    let mut first: Option<Failure> = None;
    for (target, f) in targets.iter().zip(failures) {
        let Some(f) = f else { continue };
        let message = if targets.len() == 1 { f.message } else { format!("{target}: {}", f.message) };
        if first.is_none() {
            first = Some(Failure { code: f.code, message });
        } else {
            crate::out::warn(message);
        }
    }
    match first {
        None => Ok(exit::OK),
        Some(f) => Err(f),
    }
}
