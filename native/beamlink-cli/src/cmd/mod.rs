//! One module per subcommand; this one runs the chosen one under its deadline and the
//! signals that stop it, and turns every failure into its exit code the same way for all.

mod cluster;
mod eval;
mod info;
mod listen;
mod multicall;
mod names;
mod ping;
mod rpc;
mod send;
mod shell;
mod spawn;

use std::time::Duration;

use beamlink::term::{Term, parse, parse_elixir};
use beamlink::{CallError, NodeError};

use crate::cli::{Cli, Command};
use crate::ctx::{Ctx, watch_signals};
use crate::exit;
use crate::explain::Detailed;
use crate::out::Out;
use crate::print;
use crate::render;
use crate::target;

/// How long a command that missed its deadline (or was interrupted) gets to wind down: the
/// steps inside honour the deadline themselves; this only catches one that does not.
const GRACE: Duration = Duration::from_secs(1);

pub async fn run(cli: Cli) -> i32 {
    // Commands that run until told to stop handle the signal (and their deadline) themselves,
    // to end their remote work their own way.
    let own_ending =
        matches!(cli.command, Command::Spawn { .. } | Command::Listen { .. } | Command::Shell { .. });
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
    let x = |n: &str| target::expand(n);
    match command {
        Command::Names { host } => names::run(ctx, &host).await,
        Command::Ping { nodes } => ping::run(ctx, &nodes.iter().map(|n| x(n)).collect::<Vec<_>>()).await,
        Command::Rpc { node, module: m, function: f, args } => {
            rpc::run(ctx, &x(&node), &module(ctx, &m), function(&f), &input(&args)?).await
        }
        Command::Eval { node, expr } => eval::run(ctx, &x(&node), &input(&expr)?).await,
        Command::Spawn { node, module: m, function: f, args } => {
            spawn::run(ctx, &x(&node), &module(ctx, &m), function(&f), &input(&args)?).await
        }
        Command::Info { node } => info::run(ctx, &x(&node)).await,
        Command::Multicall { items } => multicall::run(ctx, &items).await,
        Command::Cluster { node } => cluster::run(ctx, &x(&node)).await,
        Command::Send { node, name, term } => send::run(ctx, &x(&node), &name, &input(&term)?).await,
        Command::Listen { name, reply, count } => listen::run(ctx, &name, reply.as_deref(), count).await,
        Command::Shell { node } => shell::run(ctx, &x(&node)).await,
    }
}

/// An argument as given, or all of stdin for `-`.
pub fn input(text: &str) -> Result<String, Failure> {
    if text != "-" {
        return Ok(text.to_string());
    }
    let mut s = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
        .map_err(|e| Failure::usage(format!("cannot read stdin: {e}")))?;
    Ok(s)
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

/// Parses ARGS, which must be one list: Erlang syntax, or Elixir's with `--elixir`.
pub fn parse_args(ctx: &Ctx, text: &str) -> Result<Term, Failure> {
    match parse_term(ctx, text, "ARGS")? {
        t @ Term::List(_) => Ok(t),
        other => {
            let example = if ctx.g.elixir { "[1, :b]" } else { "[1, b]" };
            Err(Failure::usage(format!(
                "ARGS must be a list, like '{example}'; got {}",
                print::term(&other, ctx.g.elixir)
            )))
        }
    }
}

/// Parses one term (`what` names it in the message): Erlang syntax, or Elixir's with
/// `--elixir`.
pub fn parse_term(ctx: &Ctx, text: &str, what: &str) -> Result<Term, Failure> {
    let parsed = if ctx.g.elixir { parse_elixir(text) } else { parse(text) };
    parsed.map_err(|e| Failure::usage(format!("cannot read {what} {text:?}: {e}")))
}

/// A module name as typed: with `--elixir`, `Person` is `Elixir.Person` (as Elixir writes
/// it) and `:lists` is `lists`; without, as it is.
pub fn module(ctx: &Ctx, name: &str) -> String {
    if !ctx.g.elixir {
        return name.to_string();
    }
    match name.strip_prefix(':') {
        Some(erlang) => erlang.to_string(),
        None if name.starts_with(|c: char| c.is_ascii_uppercase()) && !name.starts_with("Elixir.") => {
            format!("Elixir.{name}")
        }
        None => name.to_string(),
    }
}

/// A function name as typed (`:name` is `name` too).
pub fn function(name: &str) -> &str {
    name.strip_prefix(':').unwrap_or(name)
}

/// One line per failure kind; the exit code tells the kind too.
pub fn call_failure(e: &CallError, ctx: &Ctx) -> Failure {
    crate::explain::plain(ctx, e)
}

/// Ends a call-like command: the value on its line (cut at `--max-output`), or with `--json`
/// one document `{"result": …, "output": …}` / `{"error": {…}, "output": …}`.
pub fn conclude(ctx: &Ctx, out: &mut Out, result: Result<Term, Detailed>) -> Outcome {
    if !ctx.g.json {
        return match result {
            Ok(v) => {
                let text = render::term(ctx, &v);
                out.line(&text.text)?;
                out.flush()?;
                if text.cut { Err(render::too_large(ctx)) } else { Ok(exit::OK) }
            }
            Err(d) => {
                out.flush()?;
                Err(d.failure)
            }
        };
    }
    let output = out.kept().to_string();
    let doc = render::document(ctx, |d| {
        d.raw("{")?;
        match &result {
            Ok(v) => {
                d.key("result", true)?;
                d.term(v)?;
            }
            Err(e) => {
                d.key("error", true)?;
                d.failure(e.kind, &e.failure, e.reason.as_ref())?;
            }
        }
        d.key("output", false)?;
        d.string(&output)?;
        d.raw("}")
    });
    json_document(ctx, out, doc)?;
    match result {
        Ok(_) => Ok(exit::OK),
        Err(d) => Err(d.failure),
    }
}

/// Prints a JSON document, or, if it grew past `--max-output`, an error document in its
/// place (a cut document would not parse).
pub fn json_document(ctx: &Ctx, out: &mut Out, doc: render::Limited) -> Result<(), Failure> {
    if doc.cut {
        let f = render::too_large(ctx);
        let small = render::small_document(ctx, |d| {
            d.raw("{")?;
            d.key("error", true)?;
            d.failure("max_output", &f, None)?;
            d.raw("}")
        });
        out.line(&small.text)?;
        out.flush()?;
        return Err(f);
    }
    out.line(&doc.text)?;
    out.flush()
}
