//! `beamlink listen NAME`: a C node from the shell. Publishes our node in epmd, registers NAME,
//! and prints every message sent to it (`from <pid>: term`, or JSON lines); with `--reply`,
//! answers each sender. Runs until Ctrl-C (130), SIGTERM (143), `--count` messages (0) or an
//! explicit `--timeout` (7).

use beamlink::Message;
use beamlink::term::Term;

use super::{Failure, Outcome, json_document, parse_term};
use crate::ctx::Ctx;
use crate::out::Out;
use crate::{exit, print, render};

pub async fn run(ctx: &Ctx, name: &str, reply: Option<&str>, count: Option<u64>) -> Outcome {
    let reply = reply.map(|r| parse_term(ctx, r, "--reply TERM")).transpose()?;
    let node = ctx.start_node("").await?;
    node.listen(0).await.map_err(|e| Failure::node(&e, ctx))?;
    let me = node.spawn_process();
    me.register(name).map_err(|e| Failure::node(&e, ctx))?;
    let mut out = Out::new(false);
    if ctx.g.json {
        let doc = render::small_document(ctx, |d| {
            d.raw("{")?;
            d.key("node", true)?;
            d.string(node.name().as_str())?;
            d.key("name", false)?;
            d.string(name)?;
            d.raw("}")
        });
        json_document(ctx, &mut out, doc)?;
    } else {
        crate::out::warn(format_args!("listening as {{{name}, '{}'}}", node.name().as_str()));
    }
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        let wait = async {
            match ctx.deadline() {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let m = tokio::select! {
            m = me.receive() => m.expect("receive waits for a message"),
            sig = ctx.interrupted() => return Err(Failure::interrupted(sig)),
            () = wait => return Err(Failure::timeout(ctx, &format!("{seen} messages so far"))),
        };
        let Message::Send { from, payload } = m else { continue };
        let term = match payload.term() {
            Ok(t) => t,
            Err(e) => {
                crate::out::warn(format_args!("a message that cannot be decoded: {e}"));
                continue;
            }
        };
        seen += 1;
        let sender = from.as_ref().map(|p| Term::Pid(p.clone()));
        if ctx.g.json {
            let doc = render::document(ctx, |d| {
                d.raw("{")?;
                d.key("from", true)?;
                match &sender {
                    Some(p) => d.term(p)?,
                    None => d.raw("null")?,
                }
                d.key("message", false)?;
                d.term(&term)?;
                d.raw("}")
            });
            json_document(ctx, &mut out, doc)?;
        } else {
            let from = sender.as_ref().map_or_else(|| "?".to_string(), |p| print::term(p, ctx.g.elixir));
            let text = render::term(ctx, &term);
            out.line(format_args!("from {from}: {}", text.text))?;
            out.flush()?;
        }
        if let (Some(r), Some(to)) = (&reply, &from) {
            me.send(to, r.clone()).await.map_err(|e| Failure::node(&e, ctx))?;
        }
    }
    Ok(exit::OK)
}
