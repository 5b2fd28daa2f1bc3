//! Local processes: a pid with a mailbox, and the messages and signals that arrive in it.
//!
//! The handle sits on top of the node (it sends, links and monitors through it); the node
//! knows its processes only through its routing table, never this type.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::mailbox::Mailbox;
pub use crate::message::{Message, Outbound, Payload, UNDECODABLE_REASON};
use crate::node::{Node, NodeError, SpawnSpec};
use crate::term::{Atom, Pid, Reference, Term};

impl Node {
    /// A new local process with an empty mailbox.
    pub fn spawn_process(&self) -> Process {
        let (pid, mailbox) = self.new_process();
        Process { node: self.clone(), pid, mailbox, saved: Default::default(), exit_reason: None }
    }
}

/// A local process of a [`Node`]: a pid others can send to, link to and monitor, with a
/// mailbox. Dropping it ends the process: links get exit reason `normal` and monitors DOWN.
///
/// Every method takes `&self`, so one process can be shared (`Arc<Process>`) between a task
/// or thread that waits in a receive and others that send, link or monitor on its behalf.
/// Concurrent receives each take a different message.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use beamlink::{Node, term::Term};
/// let node = Node::builder("demo").cookie("secret").start().await?;
/// let mut me = node.spawn_process();
/// me.send_named("fuga@localhost", "logger_sink", Term::atom("hello")).await?;
/// if let Some(msg) = me.receive_timeout(std::time::Duration::from_secs(1)).await {
///     println!("{:?}", msg.term());
/// }
/// # Ok(()) }
/// ```
pub struct Process {
    pub(crate) node: Node,
    pub(crate) pid: Pid,
    pub(crate) mailbox: Arc<Mailbox>,
    /// Messages skipped by a selective receive, kept in arrival order. Locked only briefly,
    /// never across an await.
    pub(crate) saved: Mutex<VecDeque<Message>>,
    pub(crate) exit_reason: Option<Term>,
}

impl Process {
    pub fn pid(&self) -> &Pid {
        &self.pid
    }

    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Sends to a pid, local or remote, connecting to its node if needed.
    pub async fn send(&self, to: &Pid, msg: impl Into<Outbound>) -> Result<(), NodeError> {
        self.node.send_from(Some(&self.pid), to, msg.into()).await
    }

    /// Sends to a name registered on `node` (`{Name, Node} ! Msg`).
    pub async fn send_named(
        &self,
        node: &str,
        name: &str,
        msg: impl Into<Outbound>,
    ) -> Result<(), NodeError> {
        self.node.send_named_from(&self.pid, node, &Atom::new(name), msg.into()).await
    }

    /// Registers this process under `name` on the local node.
    pub fn register(&self, name: &str) -> Result<(), NodeError> {
        self.node.register(name, &self.pid)
    }

    /// The next message, waiting as long as it takes (always `Some`; the `Option` matches
    /// [`receive_timeout`](Self::receive_timeout)).
    pub async fn receive(&self) -> Option<Message> {
        if let Some(m) = self.take_saved() {
            return Some(m);
        }
        Some(self.mailbox.pop().await)
    }

    fn take_saved(&self) -> Option<Message> {
        self.saved.lock().unwrap().pop_front()
    }

    /// The next message, or `None` after `timeout`.
    pub async fn receive_timeout(&self, timeout: Duration) -> Option<Message> {
        if let Some(m) = self.take_saved() {
            return Some(m);
        }
        tokio::time::timeout(timeout, self.mailbox.pop()).await.ok()
    }

    /// Selective receive: the first message (oldest first) for which `select` returns `Some`,
    /// leaving the others in the mailbox in order, or `None` after `timeout`.
    pub async fn receive_map<T>(
        &self,
        timeout: Duration,
        mut select: impl FnMut(&Message) -> Option<T>,
    ) -> Option<(T, Message)> {
        {
            let mut saved = self.saved.lock().unwrap();
            if let Some(i) = saved.iter().position(|m| select(m).is_some()) {
                let m = saved.remove(i).expect("index in range");
                let t = select(&m).expect("matched before");
                return Some((t, m));
            }
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = tokio::time::timeout_at(deadline, self.mailbox.pop()).await.ok()?;
            if let Some(t) = select(&m) {
                return Some((t, m));
            }
            self.saved.lock().unwrap().push_back(m);
        }
    }

    /// Like [`receive_map`](Self::receive_map) with a yes/no predicate.
    pub async fn receive_match(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&Message) -> bool,
    ) -> Option<Message> {
        self.receive_map(timeout, |m| pred(m).then_some(())).await.map(|(_, m)| m)
    }

    /// Drops every queued message for which `pred` is true (late replies, for instance).
    pub fn flush(&self, mut pred: impl FnMut(&Message) -> bool) {
        let mut saved = self.saved.lock().unwrap();
        while let Some(m) = self.mailbox.try_pop() {
            saved.push_back(m);
        }
        saved.retain(|m| !pred(m));
    }

    /// Links to `pid`: when either side ends, the other gets an exit signal.
    pub async fn link(&self, pid: &Pid) -> Result<(), NodeError> {
        self.node.link(&self.pid, pid).await
    }

    pub async fn unlink(&self, pid: &Pid) -> Result<(), NodeError> {
        self.node.unlink(&self.pid, pid).await
    }

    /// Monitors a pid; a [`Message::Down`] with the returned reference arrives when it ends.
    pub async fn monitor(&self, pid: &Pid) -> Result<Reference, NodeError> {
        self.node.monitor(&self.pid, Term::Pid(pid.clone()), &pid.node).await
    }

    /// Monitors a name registered on `node`.
    pub async fn monitor_named(&self, node: &str, name: &str) -> Result<Reference, NodeError> {
        self.node.monitor(&self.pid, Term::atom(name), &Atom::new(node)).await
    }

    pub async fn demonitor(&self, reference: &Reference) -> Result<(), NodeError> {
        self.node.demonitor(&self.pid, reference).await
    }

    /// Sends `exit(Pid, Reason)`.
    pub async fn exit_signal(&self, to: &Pid, reason: Term) -> Result<(), NodeError> {
        self.node.exit2(&self.pid, to, reason).await
    }

    /// Asks `node` to spawn `module:function(args…)` (`erlang:spawn_request/5`). The answer
    /// arrives as [`Message::SpawnReply`] with the returned request reference. `options` are
    /// spawn options such as `link` and `monitor`; with `monitor` the DOWN message's reference
    /// is the request reference. `group_leader` defaults to this process.
    pub async fn spawn_request(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        options: &[Term],
        group_leader: Option<&Pid>,
    ) -> Result<Reference, NodeError> {
        let spec = SpawnSpec {
            module: Atom::new(module),
            function: Atom::new(function),
            args: args.into(),
            options,
            group_leader: group_leader.unwrap_or(&self.pid).clone(),
            quiet: false,
        };
        self.node.spawn_request(&self.pid, &Atom::new(node), spec).await
    }

    /// Like [`spawn_request`](Self::spawn_request) with `monitor`, for callers that only
    /// care about the DOWN: a successful reply does not enter the mailbox (saving a wake-up);
    /// a failed one does.
    pub(crate) async fn spawn_request_monitored_quiet(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: Outbound,
        group_leader: Option<&Pid>,
    ) -> Result<Reference, NodeError> {
        let spec = SpawnSpec {
            module: Atom::new(module),
            function: Atom::new(function),
            args,
            options: &[Term::atom("monitor")],
            group_leader: group_leader.unwrap_or(&self.pid).clone(),
            quiet: true,
        };
        self.node.spawn_request(&self.pid, &Atom::new(node), spec).await
    }

    /// Ends the process with `reason` (links and monitors see it).
    pub fn exit(mut self, reason: Term) {
        self.exit_reason = Some(reason);
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let reason = self.exit_reason.take().unwrap_or_else(|| Term::atom("normal"));
        self.node.process_ended(&self.pid, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_process_receives_in_one_task_while_another_sends_for_it() {
        let node = Node::builder("sharedproc@localhost").cookie("c").start().await.unwrap();
        let me = Arc::new(node.spawn_process());
        let waiter = {
            let me = me.clone();
            tokio::spawn(async move { me.receive_timeout(Duration::from_secs(5)).await })
        };
        let other = node.spawn_process();
        // The waiter is blocked in a receive on `me`; a send from `me` to `other` still goes.
        me.send(other.pid(), Term::atom("from_me")).await.unwrap();
        let got = other.receive_timeout(Duration::from_secs(5)).await.unwrap();
        assert!(matches!(&got, Message::Send { from: Some(f), .. } if f == me.pid()));
        other.send(me.pid(), Term::atom("back")).await.unwrap();
        let back = waiter.await.unwrap().unwrap();
        assert_eq!(back.term().unwrap().unwrap(), Term::atom("back"));
    }
}
