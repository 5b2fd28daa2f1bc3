//! `erpc:send_request/4` and its `receive_response` / `wait_response`: calls started now and
//! collected later. Each request owns its temporary process, so thousands can be in flight on
//! one connection and each answer can only reach its own request.

use std::time::Duration;

use super::call::Erpc;
use super::error::CallError;
use super::io_server::{IoHandler, Sink};
use crate::node::Node;
use crate::process::Outbound;
use crate::term::{Pid, Term};

/// A call in flight, from [`Node::send_request`]. Dropping it unanswered cancels the request:
/// the monitor is removed and the remote process killed, as when a [`Node::call`] future is
/// dropped (after a timeout in [`receive_response`](Self::receive_response) the remote
/// process runs on instead, as with erpc). While nobody waits on it, I/O requests from the call queue up, so a function that
/// prints blocks until [`wait_response`](Self::wait_response) or
/// [`receive_response`](Self::receive_response) is called.
pub struct RequestId {
    call: Erpc,
    io: IoHandler,
}

impl std::fmt::Debug for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RequestId({:?})", self.call.proc.pid())
    }
}

impl Node {
    /// Starts `module:function(args…)` on `node` and returns at once (`erpc:send_request/4`).
    ///
    /// ```no_run
    /// # async fn demo(node: beamlink::Node) -> Result<(), beamlink::CallError> {
    /// use std::time::Duration;
    /// use beamlink::term::Term;
    /// let a = node.send_request("fuga@localhost", "erlang", "node", Term::nil()).await?;
    /// let b = node.send_request("piyo@localhost", "erlang", "node", Term::nil()).await?;
    /// let (a, b) = (a.receive_response(Duration::from_secs(5)).await?, b.receive_response(Duration::from_secs(5)).await?);
    /// # Ok(()) }
    /// ```
    pub async fn send_request(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
    ) -> Result<RequestId, CallError> {
        let call = Erpc::start(self, node, module, function, args.into(), None).await?;
        Ok(RequestId { call, io: IoHandler::new(Sink::Discard) })
    }
}

impl RequestId {
    /// The result, waiting at most `timeout` (`erpc:receive_response/2`). On timeout the
    /// request is abandoned and [`CallError::Timeout`] returned.
    pub async fn receive_response(mut self, timeout: Duration) -> Result<Term, CallError> {
        match self.call.poll(timeout, &mut self.io).await {
            Some(r) => r,
            None => {
                let e = self.call.timeout_error(timeout);
                self.call.abandon().await;
                Err(e)
            }
        }
    }

    /// The result if it arrives within `timeout`, else `None` with the request still in flight
    /// (`erpc:wait_response/2`). After the result has been returned once, always `None`.
    pub async fn wait_response(&mut self, timeout: Duration) -> Option<Result<Term, CallError>> {
        self.call.poll(timeout, &mut self.io).await
    }

    /// The local temporary process that owns the request (the call's group leader).
    pub fn owner(&self) -> &Pid {
        self.call.proc.pid()
    }
}
