//! Blocking wrappers for callers without an async runtime (scripts, C and Python bindings).
//!
//! A [`BlockingNode`] runs on the process's shared engine runtime ([`Runtime::shared`]), which
//! drives the node's connections in the background; each method blocks the calling thread
//! until its answer is in. The async
//! [`Node`] stays reachable through [`BlockingNode::node`], so both styles can share one node.
//!
//! ```no_run
//! use std::time::Duration;
//! use beamlink::{Node, Term, blocking::BlockingNode};
//! let node = BlockingNode::start(Node::builder("hoge").cookie("mycookie")).unwrap();
//! assert!(node.ping("fuga@localhost"));
//! let v = node.call("fuga@localhost", "erlang", "node", Term::nil(), Duration::from_secs(5)).unwrap();
//! println!("{v}");
//! ```

use std::time::Duration;

use crate::node::{Node, NodeBuilder, NodeError};
use crate::process::{Message, Outbound, Process};
use crate::rpc::CallError;
use crate::runtime::Runtime;
use crate::term::{Atom, Pid, Reference, Term};

/// A [`Node`] driven by its own runtime. Cheap to clone; clones share the node.
#[derive(Clone)]
pub struct BlockingNode {
    rt: Runtime,
    node: Node,
}

impl BlockingNode {
    /// Starts the node on the shared engine runtime.
    pub fn start(builder: NodeBuilder) -> Result<BlockingNode, NodeError> {
        let rt = Runtime::shared().map_err(NodeError::Listen)?;
        let node = rt.block_on(builder.start())?;
        Ok(BlockingNode { rt, node })
    }

    /// The runtime the node runs on, to start [`Task`](crate::runtime::Task)s of its API.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// The async node, for mixing styles.
    pub fn node(&self) -> &Node {
        &self.node
    }

    /// Runs any future of this node's API to completion on the node's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    pub fn name(&self) -> &Atom {
        self.node.name()
    }

    pub fn nodes(&self) -> Vec<Atom> {
        self.node.nodes()
    }

    /// `true` for pong. See [`Node::ping`].
    pub fn ping(&self, node: &str) -> bool {
        self.rt.block_on(self.node.ping(node))
    }

    /// erpc semantics. See [`Node::call`].
    pub fn call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> Result<Term, CallError> {
        self.rt.block_on(self.node.call(node, module, function, args, timeout))
    }

    /// `rpc:call` semantics. See [`Node::rpc_call`].
    pub fn rpc_call(
        &self,
        node: &str,
        module: &str,
        function: &str,
        args: impl Into<Outbound>,
        timeout: Duration,
    ) -> Result<Term, CallError> {
        self.rt.block_on(self.node.rpc_call(node, module, function, args, timeout))
    }

    pub fn spawn_process(&self) -> BlockingProcess {
        BlockingProcess { rt: self.rt.clone(), process: self.node.spawn_process() }
    }
}

/// A [`Process`] with blocking methods.
pub struct BlockingProcess {
    rt: Runtime,
    process: Process,
}

impl BlockingProcess {
    pub fn pid(&self) -> &Pid {
        self.process.pid()
    }

    pub fn send(&self, to: &Pid, msg: impl Into<Outbound>) -> Result<(), NodeError> {
        self.rt.block_on(self.process.send(to, msg))
    }

    pub fn send_named(&self, node: &str, name: &str, msg: impl Into<Outbound>) -> Result<(), NodeError> {
        self.rt.block_on(self.process.send_named(node, name, msg))
    }

    pub fn register(&self, name: &str) -> Result<(), NodeError> {
        self.process.register(name)
    }

    /// The next message, or `None` after `timeout`.
    pub fn receive_timeout(&mut self, timeout: Duration) -> Option<Message> {
        self.rt.block_on(self.process.receive_timeout(timeout))
    }

    pub fn link(&self, pid: &Pid) -> Result<(), NodeError> {
        self.rt.block_on(self.process.link(pid))
    }

    pub fn monitor(&self, pid: &Pid) -> Result<Reference, NodeError> {
        self.rt.block_on(self.process.monitor(pid))
    }

    /// The async process, for what has no blocking wrapper here.
    pub fn process_mut(&mut self) -> &mut Process {
        &mut self.process
    }
}
