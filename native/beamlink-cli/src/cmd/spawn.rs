//! `beamlink spawn NODE M F [ARGS]`: streams the process's output until it exits. The exit
//! status follows its exit: 0 `normal`, else as a call's failure (2 error, 3 exit, 4 throw,
//! 5 undef). The process does not outlive the command: when the command stops early (its
//! deadline, Ctrl-C or SIGTERM, stdout closed) the process is killed.

use beamlink::CallError;
use beamlink::rpc::{SpawnEvent, SpawnOptions, Spawned};
use tokio::time::Instant;

use super::{Failure, Outcome, call_failure, parse_args};
use crate::ctx::Ctx;
use crate::out::Out;
use crate::{exit, print};

pub async fn run(ctx: &Ctx, target: &str, module: &str, function: &str, args: &str) -> Outcome {
    let args = parse_args(args)?;
    let start = async {
        let node = ctx.connect(target).await?;
        let opts = SpawnOptions { timeout: ctx.left(), ..SpawnOptions::default() };
        node.spawn(target, module, function, args, opts).await.map_err(|e| call_failure(&e, ctx))
    };
    let mut p = tokio::select! {
        started = tokio::time::timeout(ctx.left(), start) => match started {
            Ok(p) => p?,
            Err(_) => return Err(Failure::timeout(ctx, "starting the process")),
        },
        sig = ctx.interrupted() => return Err(Failure::interrupted(sig)),
    };
    crate::out::warn(format_args!(
        "spawned {}",
        print::term(&beamlink::Term::Pid(p.pid.clone()), ctx.g.elixir)
    ));
    match follow(ctx, &mut p).await {
        Ok(reason) => match CallError::from_exit_reason(reason, Some((module, function))) {
            None => Ok(exit::OK),
            Some(e) => Err(call_failure(&e, ctx)),
        },
        Err(f) => {
            // Whatever stopped us, the process must not run on without its reader.
            let _ = p.kill().await;
            Err(f)
        }
    }
}

/// Prints the process's output as it comes, until it exits (its exit reason) or the command
/// must stop (the failure saying why).
async fn follow(ctx: &Ctx, p: &mut Spawned) -> Result<beamlink::Term, Failure> {
    let mut out = Out;
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
            Ok(Some(SpawnEvent::Output(text))) => {
                out.write(&text)?;
                out.flush()?;
            }
            Ok(Some(SpawnEvent::Exit(reason))) => return Ok(reason),
            Ok(None) if deadline.is_some() => return Err(Failure::timeout(ctx, "the process")),
            Ok(None) => {}
            Err(e) => return Err(call_failure(&e, ctx)),
        }
    }
}
