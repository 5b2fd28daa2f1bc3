//! `beamlink spawn NODE M F [ARGS]`: streams the process's output until it exits. Exit status
//! 0 when it ends `normal`, 3 (exit) otherwise.

use std::io::Write;

use beamlink::rpc::SpawnOptions;

use super::{Failure, Outcome, call_failure, connect, parse_args, timeout};
use crate::cli::Global;
use crate::{exit, print};

pub async fn run(g: &Global, target: &str, module: &str, function: &str, args: &str) -> Outcome {
    let args = parse_args(args)?;
    let node = connect(g, target).await?;
    let opts = SpawnOptions { timeout: timeout(g), ..SpawnOptions::default() };
    let mut p =
        node.spawn(target, module, function, args, opts).await.map_err(|e| call_failure(&e, g.elixir))?;
    eprintln!("beamlink: spawned {}", print::term(&beamlink::Term::Pid(p.pid.clone()), g.elixir));
    // Print output as it comes; the exit is seen only after every I/O request was answered.
    let (_, idle) = tokio::sync::mpsc::unbounded_channel();
    let mut output = std::mem::replace(&mut p.output, idle);
    let mut out = std::io::stdout();
    let exited = p.wait_exit(std::time::Duration::from_secs(3600 * 24 * 365));
    tokio::pin!(exited);
    let reason = loop {
        tokio::select! {
            biased;
            Some(text) = output.recv() => {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            r = &mut exited => break r,
        }
    };
    while let Ok(text) = output.try_recv() {
        let _ = out.write_all(text.as_bytes());
    }
    let _ = out.flush();
    match reason {
        Ok(r) if r.is_atom("normal") => Ok(exit::OK),
        Ok(r) => Err(Failure { code: exit::EXIT, message: format!("exit: {}", print::term(&r, g.elixir)) }),
        Err(e) => Err(call_failure(&e, g.elixir)),
    }
}
