//! `erpc:call/5` semantics: SPAWN_REQUEST of `erpc:execute_call/4` with a monitor, the result
//! read from the DOWN reason (notes §6.3).

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::time::Instant;

use super::error::CallError;
use super::io_server::{IoHandler, IoServer, Sink};
use super::list_with_raw;
use crate::node::Node;
use crate::process::{Message, Outbound, Payload, Process};
use crate::term::{self, Pid, Reference, Term};

/// One erpc call in flight, owning the temporary process that is both the spawn's parent and
/// its group leader.
pub(crate) struct Erpc {
    pub(crate) proc: Process,
    node: String,
    module: String,
    function: String,
    req: Reference,
    res: Reference,
    pid: Option<Pid>,
    done: bool,
    /// The DOWN reason as received, for `call_raw`.
    raw: Option<Payload>,
}

impl Erpc {
    /// Starts the call; its group leader is our temporary process unless `group_leader`
    /// names another one.
    pub(crate) async fn start(
        local: &Node,
        node: &str,
        module: &str,
        function: &str,
        args: Outbound,
        group_leader: Option<&Pid>,
    ) -> Result<Erpc, CallError> {
        let proc = local.spawn_process();
        let res = local.make_ref();
        let head = [Term::Reference(res.clone()), Term::atom(module), Term::atom(function)];
        let spawn_args = list_with_raw(&head, args.into_bytes());
        let req = proc
            .spawn_request_monitored_quiet(node, "erpc", "execute_call", spawn_args, group_leader)
            .await
            .map_err(|e| CallError::from_node(node, e))?;
        Ok(Erpc {
            proc,
            node: node.to_string(),
            module: module.to_string(),
            function: function.to_string(),
            req,
            res,
            pid: None,
            done: false,
            raw: None,
        })
    }

    /// Waits up to `timeout` for the outcome, serving I/O requests from the call meanwhile.
    /// `None`: no outcome yet (the call stays in flight), or it was already delivered.
    pub(crate) async fn poll(
        &mut self,
        timeout: Duration,
        io: &mut IoHandler,
    ) -> Option<Result<Term, CallError>> {
        if self.done {
            return None;
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let msg = self.proc.receive_timeout(left).await?;
            match msg {
                Message::SpawnReply { request, result, .. } if request == self.req => match result {
                    Ok(pid) => self.pid = Some(pid),
                    Err(reason) => {
                        self.done = true;
                        return Some(Err(if reason.is_atom("noconnection") {
                            CallError::lost(&self.node)
                        } else {
                            CallError::SpawnFailed { node: self.node.clone(), reason }
                        }));
                    }
                },
                Message::Down { reference, reason, raw, .. } if reference == self.req => {
                    self.done = true;
                    if let Some(e) = CallError::undecodable(&reason, raw.as_ref()) {
                        return Some(Err(e));
                    }
                    self.raw = raw;
                    return Some(self.outcome(reason));
                }
                Message::Send { payload, from } => {
                    if let Ok(t) = payload.term() {
                        io.serve(&self.proc, from.as_ref(), &t).await;
                    }
                }
                _ => {}
            }
        }
    }

    fn outcome(&self, reason: Term) -> Result<Term, CallError> {
        if let Term::Tuple(_) = reason {
            let mut t = reason.into_items().expect("a tuple");
            if t.first() == Some(&Term::Reference(self.res.clone())) {
                match (t.len(), t[1].as_atom()) {
                    (3, Some("return")) => return Ok(t.pop().expect("3 elements")),
                    (3, Some("throw")) => {
                        return Err(CallError::Throw { value: t.pop().expect("3 elements") });
                    }
                    (3, Some("exit")) => {
                        return Err(CallError::Exit { reason: t.pop().expect("3 elements"), signal: false });
                    }
                    // `{Res, error, {erpc, R}}`: erpc itself refused the arguments.
                    (3, Some("error")) => {
                        return Err(CallError::Error {
                            reason: t.pop().expect("3 elements"),
                            stacktrace: Term::nil(),
                        });
                    }
                    (4, Some("error")) => {
                        let stack = t.pop().expect("4 elements");
                        let reason = t.pop().expect("4 elements");
                        return Err(CallError::from_error(
                            reason,
                            stack,
                            Some((&self.module, &self.function)),
                        ));
                    }
                    _ => {}
                }
            }
            return Err(CallError::Exit { reason: Term::Tuple(t), signal: true });
        }
        if reason.is_atom("noconnection") {
            return Err(CallError::lost(&self.node));
        }
        // Killed by a signal before `execute_call` could report: erpc's `exit({signal, R})`.
        Err(CallError::Exit { reason, signal: true })
    }

    pub(crate) fn timeout_error(&self, after: Duration) -> CallError {
        CallError::Timeout { node: self.node.clone(), after }
    }

    /// Gives the call up after a timeout, as erpc does: the monitor is removed on the peer and
    /// the process disappears, so a late DOWN finds no mailbox; the remote process runs on.
    pub(crate) async fn abandon(mut self) {
        if !self.done {
            let _ = self.proc.demonitor(&self.req).await;
            self.done = true;
        }
    }
}

impl Drop for Erpc {
    /// A call dropped before its outcome was cancelled (its future dropped: a cancelled
    /// binding task, Ctrl-C, a `select!` that went the other way): the remote process is
    /// killed, so nothing of the call is left running anywhere.
    fn drop(&mut self) {
        if !self.done {
            self.proc.node().cancel_spawn(self.proc.pid(), &self.req);
        }
    }
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Node {
    /// Calls `module:function(args…)` on `node` with `erpc:call/5` semantics and returns its
    /// value. `args` is a list term (or pre-encoded list). The call runs in a fresh remote
    /// process; exceptions come back as [`CallError::Error`], [`Exit`](CallError::Exit),
    /// [`Throw`](CallError::Throw) or [`Undef`](CallError::Undef). On timeout the call is
    /// abandoned (demonitored; a late answer is dropped) and the remote process keeps running,
    /// as with erpc. Dropping the future before it completes cancels the call instead: the
    /// remote process is killed (`exit(Pid, kill)`), also when it is dropped before the node
    /// answered the spawn — this is how a cancelled binding call or Ctrl-C stops remote work.
    /// Output the function prints is discarded: see
    /// [`call_with_output`](Self::call_with_output).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use beamlink::{Node, term::Term};
    /// let node = Node::builder("hoge").cookie("secret").start().await?;
    /// let args = Term::list([Term::list([Term::from(1), Term::from(2)])]);
    /// let v = node.call("fuga@localhost", "lists", "reverse", args, Duration::from_secs(5)).await?;
    /// assert_eq!(v, Term::list([Term::from(2), Term::from(1)]));
    /// # Ok(()) }
    /// ```
    pub async fn call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> Result<Term, CallError> {
        let args = args.into();
        self.call_boxed(node, module, function, args, timeout, Sink::Discard).await.0
    }

    /// Like [`call`](Self::call) but returns the result encoded (external term format without
    /// the version byte), for bindings that hand bytes on: the bytes are a slice of what the
    /// node sent, not a re-encoding.
    pub async fn call_raw(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> Result<Payload, CallError> {
        let mut io = IoHandler::new(Sink::Discard);
        let mut call = Erpc::start(self, node, module, function, args.into(), None).await?;
        let Some(result) = call.poll(timeout, &mut io).await else {
            let e = call.timeout_error(timeout);
            call.abandon().await;
            return Err(e);
        };
        let value = result?;
        // The value is the last element of `{Res, return, Value}` as the node encoded it.
        if let Some(bytes) = call.raw.as_ref().and_then(|r| return_value_bytes(r.bare())) {
            return Ok(Payload(bytes));
        }
        let mut out = Vec::with_capacity(64);
        term::encode_into(&value, &mut out);
        Ok(Payload(out.into()))
    }

    /// Like [`call`](Self::call), also returning everything the call printed (`io:format`,
    /// `io:put_chars`, Elixir's `IO.puts`). Our temporary process is the call's group leader
    /// and serves the I/O protocol; `io:format` text is produced by calling `io_lib:format`
    /// back on `node`.
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) {
    /// use std::time::Duration;
    /// use beamlink::term::Term;
    /// let args = Term::list([Term::list("hi ~p~n".chars().map(|c| Term::from(c as u32))), Term::list([Term::from(7)])]);
    /// let (r, out) = node.call_with_output("fuga@localhost", "io", "format", args, Duration::from_secs(5)).await;
    /// assert!(r.is_ok());
    /// assert_eq!(out, "hi 7\n");
    /// # }
    /// ```
    pub async fn call_with_output(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> (Result<Term, CallError>, String) {
        let args = args.into();
        let (r, sink) =
            self.call_boxed(node, module, function, args, timeout, Sink::Buffer(String::new())).await;
        (r, sink.into_string())
    }

    /// Like [`call`](Self::call), with `io` as the call's group leader: what the call prints
    /// arrives on the server's output as it is printed, and its reads are answered by the
    /// server (see [`IoServer::start_interactive`] for input from a terminal). A process the
    /// call spawns inherits the group leader, so its output arrives there too; on another
    /// node, it reaches us only if this node [listens](Self::listen).
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use std::time::Duration;
    /// use beamlink::{rpc::IoServer, term::Term};
    /// let (gl, mut output) = IoServer::start(&node);
    /// let args = Term::list([Term::from("hi\n")]);
    /// node.call_with_io("fuga@localhost", "io", "put_chars", args, Duration::from_secs(5), &gl).await?;
    /// assert_eq!(output.recv().await.as_deref(), Some("hi\n"));
    /// # Ok(()) }
    /// ```
    pub async fn call_with_io(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
        io: &IoServer,
    ) -> Result<Term, CallError> {
        // Requests go to `io`; this handler only sees stray messages.
        let mut ignore = IoHandler::new(Sink::Discard);
        let mut call = Erpc::start(self, node, module, function, args.into(), Some(io.pid())).await?;
        match call.poll(timeout, &mut ignore).await {
            Some(r) => r,
            None => {
                let e = call.timeout_error(timeout);
                call.abandon().await;
                Err(e)
            }
        }
    }

    /// The call loop, boxed because serving `io:format` calls back into it.
    pub(crate) fn call_boxed<'a>(
        &'a self,
        node: &'a str,
        module: &'a str,
        function: &'a str,
        args: Outbound,
        timeout: Duration,
        sink: Sink,
    ) -> BoxFut<'a, (Result<Term, CallError>, Sink)> {
        Box::pin(async move {
            let mut io = IoHandler::new(sink);
            let mut call = match Erpc::start(self, node, module, function, args, None).await {
                Ok(c) => c,
                Err(e) => return (Err(e), io.into_sink()),
            };
            let r = match call.poll(timeout, &mut io).await {
                Some(r) => r,
                None => {
                    let e = call.timeout_error(timeout);
                    call.abandon().await;
                    Err(e)
                }
            };
            (r, io.into_sink())
        })
    }
}

/// The bytes of `Value` inside an encoded `{Res, return, Value}`.
fn return_value_bytes(reason: &bytes::Bytes) -> Option<bytes::Bytes> {
    if reason.get(..2)? != [term::tag::SMALL_TUPLE_EXT, 3] {
        return None;
    }
    let tail = reason.slice(2..);
    let mut d = term::Decoder::shared(&tail);
    d.term().ok()?;
    if !d.term().ok()?.is_atom("return") {
        return None;
    }
    Some(tail.slice(d.position()..))
}
