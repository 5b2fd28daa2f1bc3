//! Remote spawns (`Node.spawn/4`, `spawn_request`) whose printed output comes back to us.

use std::time::Duration;

use tokio::sync::mpsc;

use super::error::CallError;
use super::io_server::IoServer;
use crate::node::Node;
use crate::process::{Message, Outbound, Process};
use crate::term::{Pid, Reference, Term};

/// Where a spawned process's output goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Output {
    /// Our own group leader serves its I/O; the text arrives on [`Spawned::output`].
    #[default]
    Capture,
    /// The remote node's `user` (its stdout), as `rpc:cast` does.
    Remote,
}

/// Options for [`Node::spawn`].
#[derive(Clone, Debug)]
pub struct SpawnOptions {
    /// Link the new process to [`Spawned::owner`]; exit signals arrive there as messages.
    pub link: bool,
    /// Monitor it from the start, so [`Spawned::wait_exit`] sees the exit reason even if the
    /// process ends at once. Without it, `wait_exit` monitors late and may only see `noproc`.
    pub monitor: bool,
    pub output: Output,
    /// Further spawn options sent as they are (`{priority, high}`, `{fullsweep_after, 5}`…).
    /// A node that does not know one refuses the spawn: [`CallError::SpawnFailed`] `badopt`.
    pub extra: Vec<Term>,
    /// How long to wait for the remote node's spawn reply.
    pub timeout: Duration,
    /// With [`Output::Capture`]: the text the process's reads (`io:get_line`, `IO.gets`…)
    /// consume, lines separated by `\n`; once it is used up, reads get `eof`.
    pub input: String,
}

impl Default for SpawnOptions {
    fn default() -> SpawnOptions {
        SpawnOptions {
            link: false,
            monitor: true,
            output: Output::Capture,
            extra: Vec::new(),
            timeout: Duration::from_secs(10),
            input: String::new(),
        }
    }
}

/// What a spawned process did next, from [`Spawned::next_event`].
#[derive(Clone, Debug, PartialEq)]
pub enum SpawnEvent {
    /// Text it printed (one I/O request's worth).
    Output(String),
    /// It ended with this reason. Comes after all of its output.
    Exit(Term),
}

/// A process started by [`Node::spawn`].
pub struct Spawned {
    pub pid: Pid,
    /// Text the process printed, one chunk per I/O request, in order. Every chunk is here
    /// before the exit is seen, since the process waits for each I/O reply.
    pub output: mpsc::UnboundedReceiver<String>,
    owner: Process,
    monitor: Option<Reference>,
    node: String,
    /// The exit reason, once the DOWN is in (kept so output that raced it is handed out first).
    exited: Option<Term>,
    _io: Option<IoServer>,
}

impl std::fmt::Debug for Spawned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spawned").field("pid", &self.pid).finish_non_exhaustive()
    }
}

impl Node {
    /// Spawns `module:function(args…)` on `node`. With [`Output::Capture`] our group leader
    /// serves its I/O, so remote `io:format`, `io:put_chars` and `IO.puts` text reaches
    /// [`Spawned::output`].
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use std::time::Duration;
    /// use beamlink::{rpc::SpawnOptions, term::Term};
    /// let args = Term::list([Term::from("hello\n")]);
    /// let mut p = node.spawn("fuga@localhost", "io", "put_chars", args, SpawnOptions::default()).await?;
    /// let reason = p.wait_exit(Duration::from_secs(5)).await?;
    /// assert!(reason.is_atom("normal"));
    /// assert_eq!(p.output_so_far(), "hello\n");
    /// # Ok(()) }
    /// ```
    pub async fn spawn(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        options: SpawnOptions,
    ) -> Result<Spawned, CallError> {
        let args = args.into();
        let owner = self.spawn_process();
        let (io, output, gl) = match options.output {
            Output::Capture => {
                let (io, rx) = IoServer::start_with_input(self, &options.input);
                let gl = io.pid().clone();
                (Some(io), rx, gl)
            }
            Output::Remote => {
                let user = self
                    .call(node, "erlang", "whereis", Term::list([Term::atom("user")]), options.timeout)
                    .await?;
                let Term::Pid(user) = &user else {
                    return Err(CallError::SpawnFailed { node: node.to_string(), reason: user });
                };
                let user = user.clone();
                (None, mpsc::unbounded_channel().1, user)
            }
        };
        let mut opts = Vec::new();
        if options.link {
            opts.push(Term::atom("link"));
        }
        if options.monitor {
            opts.push(Term::atom("monitor"));
        }
        opts.extend(options.extra.iter().cloned());
        let req = owner
            .spawn_request(node, module, function, args, &opts, Some(&gl))
            .await
            .map_err(|e| CallError::from_node(node, e))?;
        let reply = owner
            .receive_map(options.timeout, |m| match m {
                Message::SpawnReply { request, result, .. } if *request == req => Some(result.clone()),
                _ => None,
            })
            .await;
        let pid = match reply {
            None => return Err(CallError::Timeout { node: node.to_string(), after: options.timeout }),
            Some((Ok(pid), _)) => pid,
            Some((Err(r), _)) if r.is_atom("noconnection") => return Err(CallError::lost(node)),
            Some((Err(reason), _)) => return Err(CallError::SpawnFailed { node: node.to_string(), reason }),
        };
        Ok(Spawned {
            pid,
            output,
            owner,
            monitor: options.monitor.then_some(req),
            node: node.to_string(),
            exited: None,
            _io: io,
        })
    }
}

impl Spawned {
    /// Waits for the process to end and returns its exit reason (`normal`, `noconnection`
    /// if its node went away, …).
    pub async fn wait_exit(&mut self, timeout: Duration) -> Result<Term, CallError> {
        if let Some(reason) = &self.exited {
            return Ok(reason.clone());
        }
        let mref = self.exit_monitor().await?;
        match self.owner.receive_map(timeout, |m| down_reason(m, &mref)).await {
            Some((reason, _)) => {
                let reason = reason?;
                self.exited = Some(reason.clone());
                Ok(reason)
            }
            None => Err(CallError::Timeout { node: self.node.clone(), after: timeout }),
        }
    }

    /// The next thing the process did: a chunk of text it printed, or (after all of its
    /// output) its exit; `None` if neither happened within `timeout`. Once it has exited,
    /// every further call returns the exit again. One stream for callers that follow output
    /// and exit together (a pollable handle, an iterator).
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use std::time::Duration;
    /// use beamlink::{rpc::{SpawnEvent, SpawnOptions}, term::Term};
    /// let args = Term::list([Term::from("hi\n")]);
    /// let mut p = node.spawn("fuga@localhost", "io", "put_chars", args, SpawnOptions::default()).await?;
    /// while let Some(event) = p.next_event(Duration::from_secs(5)).await? {
    ///     match event {
    ///         SpawnEvent::Output(text) => print!("{text}"),
    ///         SpawnEvent::Exit(reason) => { println!("exit: {reason}"); break }
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_event(&mut self, timeout: Duration) -> Result<Option<SpawnEvent>, CallError> {
        if let Ok(chunk) = self.output.try_recv() {
            return Ok(Some(SpawnEvent::Output(chunk)));
        }
        if let Some(reason) = &self.exited {
            return Ok(Some(SpawnEvent::Exit(reason.clone())));
        }
        let mref = self.exit_monitor().await?;
        let (owner, output) = (&self.owner, &mut self.output);
        tokio::select! {
            biased;
            Some(chunk) = output.recv() => Ok(Some(SpawnEvent::Output(chunk))),
            got = owner.receive_map(timeout, |m| down_reason(m, &mref)) => match got {
                None => Ok(None),
                Some((reason, _)) => {
                    let reason = reason?;
                    self.exited = Some(reason.clone());
                    // Output is queued before the process can go on to exit; take what raced
                    // the DOWN first.
                    Ok(Some(match self.output.try_recv() {
                        Ok(chunk) => SpawnEvent::Output(chunk),
                        Err(_) => SpawnEvent::Exit(reason),
                    }))
                }
            },
        }
    }

    /// The monitor that reports the exit, set up now if the spawn did not ask for one.
    async fn exit_monitor(&mut self) -> Result<Reference, CallError> {
        if let Some(r) = &self.monitor {
            return Ok(r.clone());
        }
        let r = self.owner.monitor(&self.pid).await.map_err(|e| CallError::from_node(&self.node, e))?;
        self.monitor = Some(r.clone());
        Ok(r)
    }

    /// Ends the process at once: `exit(Pid, kill)` from its owner. Its exit (`killed`) still
    /// arrives through [`wait_exit`](Self::wait_exit) and [`next_event`](Self::next_event).
    /// For a caller that gives up on it (a timeout, Ctrl-C) and must not leave it running.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use std::time::Duration;
    /// use beamlink::{rpc::SpawnOptions, term::Term};
    /// let mut p = node.spawn("fuga@localhost", "timer", "sleep", Term::list([Term::from(60_000)]), SpawnOptions::default()).await?;
    /// p.kill().await?;
    /// assert!(p.wait_exit(Duration::from_secs(5)).await?.is_atom("killed"));
    /// # Ok(()) }
    /// ```
    pub async fn kill(&self) -> Result<(), CallError> {
        self.owner
            .exit_signal(&self.pid, Term::atom("kill"))
            .await
            .map_err(|e| CallError::from_node(&self.node, e))
    }

    /// Everything printed that has arrived so far, concatenated.
    pub fn output_so_far(&mut self) -> String {
        let mut s = String::new();
        while let Ok(chunk) = self.output.try_recv() {
            s.push_str(&chunk);
        }
        s
    }

    /// The local process that spawned it: links and exit signals concern this process.
    pub fn owner(&mut self) -> &mut Process {
        &mut self.owner
    }
}

/// The exit reason in the DOWN of `mref`, or the decode error if its bytes were malformed.
fn down_reason(m: &Message, mref: &Reference) -> Option<Result<Term, CallError>> {
    match m {
        Message::Down { reference, reason, raw, .. } if reference == mref => {
            Some(CallError::undecodable(reason, raw.as_ref()).map_or_else(|| Ok(reason.clone()), Err))
        }
        _ => None,
    }
}
