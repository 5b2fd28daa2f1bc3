//! One module per subcommand; this one starts our node, connects, and turns every failure
//! into its exit code the same way for all of them.

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
use beamlink::{CallError, Node, NodeError};

use crate::cli::{Cli, Command, Global};
use crate::exit;
use crate::print;

pub async fn run(cli: Cli) -> i32 {
    let g = cli.global;
    let result = match cli.command {
        Command::Names { host } => names::run(&host).await,
        Command::Ping { node } => ping::run(&g, &node).await,
        Command::Rpc { node, module, function, args, rex } => {
            rpc::run(&g, &node, &module, &function, &args, rex).await
        }
        Command::Eval { node, expr } => eval::run(&g, &node, &expr).await,
        Command::Spawn { node, module, function, args } => {
            spawn::run(&g, &node, &module, &function, &args).await
        }
        Command::Info { node, json } => info::run(&g, &node, json).await,
        Command::Multicall { items } => multicall::run(&g, &items).await,
        Command::Cluster { node } => cluster::run(&g, &node).await,
    };
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            eprintln!("beamlink: {message}");
            code
        }
    }
}

/// A one-line reason and the exit code that goes with it.
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure { code: exit::USAGE, message: message.into() }
    }

    /// Our node could not start, or a node could not be reached: the code says which.
    pub fn node(e: &NodeError) -> Failure {
        let mut message = e.to_string();
        if let Some(h) = exit::hint(e) {
            message = format!("{message} ({h})");
        }
        Failure { code: exit::node_error(e), message }
    }
}

pub type Outcome = Result<i32, Failure>;

pub fn timeout(g: &Global) -> Duration {
    Duration::from_secs_f64(g.timeout.max(0.001))
}

/// Starts our hidden node, named after the options or after our process id.
pub async fn start_node(g: &Global, target: &str) -> Result<Node, Failure> {
    let long_target =
        target.split_once('@').is_some_and(|(_, h)| h.contains('.') || h.parse::<std::net::IpAddr>().is_ok());
    let (name, long) = match (&g.sname, &g.name) {
        (Some(s), _) => (s.clone(), false),
        (None, Some(n)) => (n.clone(), true),
        (None, None) => {
            let host = if long_target { "127.0.0.1" } else { "localhost" };
            (format!("beamlink_{}@{host}", std::process::id()), long_target)
        }
    };
    let mut b = Node::builder(name).long_names(long).connect_timeout(timeout(g));
    if let Some(c) = &g.cookie {
        b = b.cookie(c.clone());
    }
    if let Some(tls) = g.tls().map_err(|e| Failure::node(&NodeError::Tls(e)))? {
        b = b.tls(tls);
    }
    b.start().await.map_err(|e| Failure::node(&e))
}

/// Starts our node and connects to `target`, so that a failure to get there is told apart
/// (epmd down, unknown node, wrong cookie, bad name) before any call is made.
pub async fn connect(g: &Global, target: &str) -> Result<Node, Failure> {
    let node = start_node(g, target).await?;
    node.connect(target).await.map_err(|e| Failure::node(&e))?;
    Ok(node)
}

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
pub fn call_failure(e: &CallError, elixir: bool) -> Failure {
    let t = |t: &Term| print::term(t, elixir);
    let message = match e {
        CallError::Error { reason, .. } => format!("error: {}", t(reason)),
        CallError::Exit { reason, .. } => format!("exit: {}", t(reason)),
        CallError::Throw { value } => format!("throw: {}", t(value)),
        CallError::Undef { module, function, arity, .. } => format!("undef: {module}:{function}/{arity}"),
        CallError::NoConnection { node, detail } => format!("noconnection: {node}: {detail}"),
        CallError::Timeout { node, after } => format!("timeout: no answer from {node} within {after:?}"),
        CallError::SpawnFailed { node, reason } => format!("spawn refused by {node}: {}", t(reason)),
        CallError::BadRpc { reason } => format!("badrpc: {}", t(reason)),
        CallError::Decode(d) => format!("decode: {d}"),
    };
    Failure { code: e.exit_code(), message }
}

/// What a call printed, then its value; or the failure.
pub fn print_outcome(output: &str, result: Result<Term, CallError>, elixir: bool) -> Outcome {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(output.as_bytes());
    match result {
        Ok(v) => {
            let _ = writeln!(out, "{}", print::term(&v, elixir));
            Ok(exit::OK)
        }
        Err(e) => Err(call_failure(&e, elixir)),
    }
}
