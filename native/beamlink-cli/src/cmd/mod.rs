//! One module per subcommand; this one runs the chosen one under its deadline and the
//! signals that stop it, and turns every failure into its exit code the same way for all.

mod cluster;
mod eval;
mod info;
mod multicall;
mod names;
mod ping;
mod rpc;
mod spawn;

use std::time::Duration;

use beamlink::term::{Term, parse};
use beamlink::{CallError, NodeError};

use crate::cli::{Cli, Command};
use crate::ctx::{Ctx, watch_signals};
use crate::exit;
use crate::out::Out;
use crate::print;

/// How long a command that missed its deadline (or was interrupted) gets to wind down: the
/// steps inside honour the deadline themselves; this only catches one that does not.
const GRACE: Duration = Duration::from_secs(1);

pub async fn run(cli: Cli) -> i32 {
    // Commands that run until told to stop handle the signal (and their deadline) themselves,
    // to end their remote work their own way.
    let own_ending = matches!(cli.command, Command::Spawn { .. });
    let ctx = Ctx::new(cli.global, !own_ending, watch_signals());
    let command = dispatch(&ctx, cli.command);
    let result = if own_ending {
        command.await
    } else {
        let overdue = async {
            match ctx.deadline() {
                Some(d) => tokio::time::sleep_until(d + GRACE).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = command => r,
            () = overdue => Err(Failure::timeout(&ctx, "the command")),
            sig = ctx.interrupted() => Err(Failure::interrupted(sig)),
        }
    };
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            if code == exit::interrupted(libc::SIGINT) || code == exit::interrupted(libc::SIGTERM) {
                // The dropped command cancelled its calls (the engine kills their remote
                // processes); give those signals a moment to leave before we exit.
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !message.is_empty() {
                crate::out::warn(message);
            }
            code
        }
    }
}

async fn dispatch(ctx: &Ctx, command: Command) -> Outcome {
    match command {
        Command::Names { host } => names::run(ctx, &host).await,
        Command::Ping { node } => ping::run(ctx, &node).await,
        Command::Rpc { node, module, function, args, rex } => {
            rpc::run(ctx, &node, &module, &function, &args, rex).await
        }
        Command::Eval { node, expr } => eval::run(ctx, &node, &expr).await,
        Command::Spawn { node, module, function, args } => {
            spawn::run(ctx, &node, &module, &function, &args).await
        }
        Command::Info { node, json } => info::run(ctx, &node, json).await,
        Command::Multicall { items } => multicall::run(ctx, &items).await,
        Command::Cluster { node } => cluster::run(ctx, &node).await,
    }
}

/// A one-line reason and the exit code that goes with it. An empty message is a quiet end
/// (stdout closed).
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: exit::USAGE, message: message.into() }
    }

    /// Our node could not start, or a node could not be reached: the code says which.
    pub fn node(e: &NodeError, ctx: &Ctx) -> Failure {
        let code = exit::node_error(e);
        if code == exit::TIMEOUT {
            return Failure::timeout(ctx, &e.to_string());
        }
        let mut message = e.to_string();
        if let Some(h) = exit::hint(e) {
            message = format!("{message} ({h})");
        }
        Failure { code, message }
    }

    /// `what` did not finish within the command's limit.
    pub fn timeout(ctx: &Ctx, what: &str) -> Failure {
        Failure {
            code: exit::TIMEOUT,
            message: format!("timeout: {what}: not done within {} (--timeout)", ctx.limit_text()),
        }
    }

    pub fn interrupted(signal: i32) -> Failure {
        let what = if signal == libc::SIGTERM { "terminated" } else { "interrupted" };
        Failure { code: exit::interrupted(signal), message: format!("{what}; the remote work was stopped") }
    }
}

pub type Outcome = Result<i32, Failure>;

/// Runs the futures at once (as tasks) and returns their outputs in order.
pub async fn concurrently<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    let mut n = 0;
    for (i, f) in futures.into_iter().enumerate() {
        set.spawn(async move { (i, f.await) });
        n += 1;
    }
    let mut out: Vec<Option<F::Output>> = (0..n).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (i, v) = joined.expect("a command task panicked");
        out[i] = Some(v);
    }
    out.into_iter().map(|v| v.expect("every task finished")).collect()
}

/// Parses ARGS, which must be one Erlang list.
pub fn parse_args(text: &str) -> Result<Term, Failure> {
    match parse(text) {
        Ok(t @ Term::List(_)) => Ok(t),
        Ok(other) => Err(Failure::usage(format!("ARGS must be a list, like '[1, b]'; got {other}"))),
        Err(e) => Err(Failure::usage(format!("cannot read ARGS {text:?}: {e}"))),
    }
}

/// One line per failure kind; the exit code tells the kind too.
pub fn call_failure(e: &CallError, ctx: &Ctx) -> Failure {
    let t = |t: &Term| print::term(t, ctx.g.elixir);
    let message = match e {
        CallError::Error { reason, .. } => format!("error: {}", t(reason)),
        CallError::Exit { reason, .. } => format!("exit: {}", t(reason)),
        CallError::Throw { value } => format!("throw: {}", t(value)),
        CallError::Undef { module, function, arity, .. } => format!("undef: {module}:{function}/{arity}"),
        CallError::NoConnection { node, detail } => format!("noconnection: {node}: {detail}"),
        CallError::Timeout { node, .. } => return Failure::timeout(ctx, &format!("no answer from {node}")),
        CallError::SpawnFailed { node, reason } => format!("spawn refused by {node}: {}", t(reason)),
        CallError::BadRpc { reason } => format!("badrpc: {}", t(reason)),
        CallError::Decode(d) => format!("decode: {d}"),
    };
    Failure { code: e.exit_code(), message }
}

/// What a call printed, then its value; or the failure.
pub fn print_outcome(output: &str, result: Result<Term, CallError>, ctx: &Ctx) -> Outcome {
    let mut out = Out;
    out.write(output)?;
    let code = match result {
        Ok(v) => {
            out.line(print::term(&v, ctx.g.elixir))?;
            Ok(exit::OK)
        }
        Err(e) => Err(call_failure(&e, ctx)),
    };
    out.flush()?;
    code
}
