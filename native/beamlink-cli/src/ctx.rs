//! What every subcommand runs with: the global options, the command's deadline, the signals
//! that interrupt it, and the start of our node.

use std::time::Duration;

use beamlink::Node;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::cli::Global;
use crate::cmd::Failure;

/// The limit when `--timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Ctx {
    pub g: Global,
    /// When the whole command must be done; `None` for a command that runs until it is told
    /// to stop (spawn, listen, shell, top without `--timeout`).
    deadline: Option<Instant>,
    /// The limit of each step (connecting, one call) of a command without a deadline.
    step: Duration,
    /// The number of the signal (SIGINT, SIGTERM) that asked us to stop, once one came.
    signal: watch::Receiver<Option<i32>>,
}

impl Ctx {
    /// `bounded`: the command as a whole is held to the timeout (given or default); otherwise
    /// only an explicit `--timeout` bounds it.
    pub fn new(g: Global, bounded: bool, signal: watch::Receiver<Option<i32>>) -> Ctx {
        let step = g.timeout.map_or(DEFAULT_TIMEOUT, |s| Duration::from_secs_f64(s.max(0.001)));
        let deadline = (bounded || g.timeout.is_some()).then(|| Instant::now() + step);
        Ctx { g, deadline, step, signal }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The time the next step may take: what is left of the deadline, or one step's limit.
    pub fn left(&self) -> Duration {
        match self.deadline {
            Some(d) => d.saturating_duration_since(Instant::now()).max(Duration::from_millis(1)),
            None => self.step,
        }
    }

    /// The limit as the user knows it, for messages: "10s", "0.5s".
    pub fn limit_text(&self) -> String {
        format!("{}s", self.step.as_secs_f64())
    }

    /// Resolves when SIGINT or SIGTERM arrives, with the signal's number.
    pub async fn interrupted(&self) -> i32 {
        let mut rx = self.signal.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(v) => v.expect("waited for Some"),
            // The signal task is gone only when the runtime is: nothing will interrupt us.
            Err(_) => std::future::pending().await,
        }
    }

    /// Starts our hidden node, named after the options or after our process id.
    pub async fn start_node(&self, target: &str) -> Result<Node, Failure> {
        let g = &self.g;
        let long_target = target
            .split_once('@')
            .is_some_and(|(_, h)| h.contains('.') || h.parse::<std::net::IpAddr>().is_ok());
        let (name, long) = match (&g.sname, &g.name) {
            (Some(s), _) => (s.clone(), false),
            (None, Some(n)) => (n.clone(), true),
            (None, None) => {
                let host = if long_target { "127.0.0.1" } else { "localhost" };
                (format!("beamlink_{}@{host}", std::process::id()), long_target)
            }
        };
        let mut b = Node::builder(name).long_names(long).connect_timeout(self.left());
        if let Some(c) = &g.cookie {
            b = b.cookie(c.clone());
        }
        if let Some(tls) = g.tls().map_err(|e| Failure::node(&beamlink::NodeError::Tls(e), self))? {
            b = b.tls(tls);
        }
        b.start().await.map_err(|e| Failure::node(&e, self))
    }

    /// Starts our node and connects to `target`, so that a failure to get there is told
    /// apart (epmd down, unknown node, wrong cookie, bad name) before any call is made.
    pub async fn connect(&self, target: &str) -> Result<Node, Failure> {
        let node = self.start_node(target).await?;
        node.connect(target).await.map_err(|e| Failure::node(&e, self))?;
        Ok(node)
    }
}

/// Turns SIGINT and SIGTERM into a value the command can wait for, instead of the default
/// action that would kill us with the remote work still running.
pub fn watch_signals() -> watch::Receiver<Option<i32>> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = watch::channel(None);
    let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    else {
        // Cannot happen on a working runtime; without handlers the defaults still apply.
        return rx;
    };
    tokio::spawn(async move {
        loop {
            let n = tokio::select! {
                _ = int.recv() => libc::SIGINT,
                _ = term.recv() => libc::SIGTERM,
            };
            let _ = tx.send(Some(n));
        }
    });
    rx
}
