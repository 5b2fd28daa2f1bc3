//! `beamlink spawn NODE M F [ARGS]`: streams the process's output until it exits. The exit
//! status follows its exit: 0 `normal`, else as a call's failure (2 error, 3 exit, 4 throw,
//! 5 undef). The process does not outlive the command: when the command stops early (its
//! deadline, Ctrl-C or SIGTERM, stdout closed) the process is killed.

use beamlink::CallError;
use beamlink::rpc::{SpawnEvent, SpawnOptions, Spawned};
use tokio::time::Instant;

use super::{Failure, Outcome, call_failure, json_document, parse_args};
use crate::ctx::Ctx;
use crate::explain::{self, Origin};
use crate::out::Out;
use crate::{exit, print, render};

pub async fn run(ctx: &Ctx, target: &str, module: &str, function: &str, args: &str) -> Outcome {
    let args = parse_args(ctx, args)?;
    let start = async {
        let node = ctx.connect_serving_io(target).await?;
        let opts = SpawnOptions { timeout: ctx.left(), ..SpawnOptions::default() };
        let p = node.spawn(target, module, function, args, opts).await.map_err(|e| call_failure(&e, ctx))?;
        Ok::<_, Failure>((node, p))
    };
    let (node, mut p) = tokio::select! {
        started = tokio::time::timeout(ctx.left(), start) => match started {
            Ok(p) => p?,
            Err(_) => return Err(Failure::timeout(ctx, "starting the process")),
        },
        sig = ctx.interrupted() => return Err(Failure::interrupted(sig)),
    };
    let pid = beamlink::Term::Pid(p.pid.clone());
    let mut out = Out::new(false);
    if ctx.g.json {
        json_line(ctx, &mut out, "pid", &pid)?;
    } else {
        crate::out::warn(format_args!("spawned {}", print::term(&pid, ctx.g.elixir)));
    }
    match follow(ctx, &mut out, &mut p).await {
        Ok(reason) => {
            let end = CallError::from_exit_reason(reason.clone(), Some((module, function)));
            let failure = match &end {
                None => None,
                Some(e) => Some(explain::failure(ctx, Some(Origin { node: &node, target }), e).await),
            };
            if ctx.g.json {
                json_line(ctx, &mut out, "exit", &reason)?;
            }
            failure.map_or(Ok(exit::OK), Err)
        }
        Err(f) => {
            // Whatever stopped us, the process must not run on without its reader.
            let _ = p.kill().await;
            Err(f)
        }
    }
}

/// One JSON line `{"<key>": <term>}` of `--json` output.
fn json_line(ctx: &Ctx, out: &mut Out, key: &str, t: &beamlink::Term) -> Result<(), Failure> {
    let doc = render::document(ctx, |d| {
        d.raw("{")?;
        d.key(key, true)?;
        d.term(t)?;
        d.raw("}")
    });
    json_document(ctx, out, doc)
}

/// Prints the process's output as it comes, until it exits (its exit reason) or the command
/// must stop (the failure saying why).
async fn follow(ctx: &Ctx, out: &mut Out, p: &mut Spawned) -> Result<beamlink::Term, Failure> {
    let deadline = ctx.deadline();
    loop {
        // The exit is seen only after every I/O request was answered, so no output is lost.
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => std::time::Duration::from_secs(3600),
        };
        let event = tokio::select! {
            e = p.next_event(wait) => e,
            sig = ctx.interrupted() => return Err(Failure::interrupted(sig)),
        };
        match event {
            Ok(Some(SpawnEvent::Output(text))) if ctx.g.json => {
                json_line(ctx, out, "output", &beamlink::Term::from(text.as_str()))?
            }
            Ok(Some(SpawnEvent::Output(text))) => out.printed(&text)?,
            Ok(Some(SpawnEvent::Exit(reason))) => return Ok(reason),
            Ok(None) if deadline.is_some() => return Err(Failure::timeout(ctx, "the process")),
            Ok(None) => {}
            Err(e) => return Err(call_failure(&e, ctx)),
        }
    }
}
