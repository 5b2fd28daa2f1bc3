//! What every subcommand runs with: the global options, the command's deadline, the signals
//! that interrupt it, and the start of our node.

use std::time::Duration;

use beamlink::Node;
use beamlink::tls::TlsConfig;
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
    /// How many signals (SIGINT, SIGTERM) came so far, and the number of the last one.
    signal: watch::Receiver<(u64, i32)>,
}

impl Ctx {
    /// `bounded`: the command as a whole is held to the timeout (given or default); otherwise
    /// only an explicit `--timeout` bounds it.
    pub fn new(g: Global, bounded: bool, signal: watch::Receiver<(u64, i32)>) -> Ctx {
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

    /// Resolves when SIGINT or SIGTERM has arrived, with the signal's number.
    pub async fn interrupted(&self) -> i32 {
        self.signal_after(0).await
    }

    /// How many signals have arrived so far (for [`signal_after`](Self::signal_after)).
    pub fn signals_seen(&self) -> u64 {
        self.signal.borrow().0
    }

    /// Resolves when a signal arrives after the first `seen` ones, with its number: for the
    /// shell, where each Ctrl-C interrupts one evaluation.
    pub async fn signal_after(&self, seen: u64) -> i32 {
        let mut rx = self.signal.clone();
        match rx.wait_for(|(n, _)| *n > seen).await {
            Ok(v) => v.1,
            // The signal task is gone only when the runtime is: nothing will interrupt us.
            Err(_) => std::future::pending().await,
        }
    }

    /// Starts our node, hidden unless `--visible`, named after the options or after our
    /// process id.
    pub async fn start_node(&self, target: &str) -> Result<Node, Failure> {
        let g = &self.g;
        let (name, long) = match (&g.sname, &g.name) {
            (Some(s), _) => (s.clone(), false),
            (None, Some(n)) => (n.clone(), true),
            (None, None) => crate::target::own_default(target),
        };
        let mut b = Node::builder(name).long_names(long).connect_timeout(self.left()).hidden(!g.visible);
        if let Some(c) = &g.cookie {
            b = b.cookie(c.clone());
        }
        if let Some(tls) = self.tls()? {
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

    /// Like [`connect`](Self::connect) for a command whose node serves I/O (our group leader
    /// prints what the remote code prints): the node also publishes its name and accepts
    /// connections, as a BEAM node would, so that a process the remote code starts on a third
    /// node can reach its group leader. Publishing runs alongside the connection; if it
    /// fails (epmd refuses the name), the command still runs, only such output is lost.
    pub async fn connect_serving_io(&self, target: &str) -> Result<Node, Failure> {
        let node = self.start_node(target).await?;
        let (_, connected) = tokio::join!(node.listen(0), node.connect(target));
        connected.map_err(|e| Failure::node(&e, self))?;
        Ok(node)
    }
}

impl Ctx {
    /// The TLS settings the options name, if any; unusable ones are a configuration error.
    fn tls(&self) -> Result<Option<TlsConfig>, Failure> {
        let g = &self.g;
        let loaded = match (&g.ssl_dist_optfile, &g.tls_cert, &g.tls_key, &g.tls_ca) {
            (Some(optfile), ..) => TlsConfig::from_optfile(optfile),
            (None, Some(cert), Some(key), Some(ca)) => TlsConfig::from_pem_files(cert, key, ca),
            _ => return Ok(None),
        };
        loaded.map(Some).map_err(|e| Failure { code: crate::exit::CONFIG, message: format!("TLS: {e}") })
    }
}

/// Turns SIGINT and SIGTERM into a value the command can wait for, instead of the default
/// action that would kill us with the remote work still running.
pub fn watch_signals() -> watch::Receiver<(u64, i32)> {
    use tokio::signal::unix::{SignalKind, signal};
    let (tx, rx) = watch::channel((0, 0));
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
            tx.send_modify(|(count, last)| {
                *count += 1;
                *last = n;
            });
        }
    });
    rx
}
