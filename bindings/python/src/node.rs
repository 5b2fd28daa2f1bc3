//! `beamlink._native.Node`: one engine [`beamlink::Node`] and the runtime handle that keeps
//! the engine running for it. Every method that talks to the network returns a
//! [`Pending`](crate::wait::Pending); the Python classes (`beamlink.Node`,
//! `beamlink.AsyncNode`) wait on it their way.
//!
//! Closing drops the engine node and the runtime handle: once every node, mailbox, job and
//! event stream of the process is closed, the engine's threads stop.

use std::sync::RwLock;
use std::time::Duration;

use beamlink::rpc::{Language, Output, SpawnOptions};
use beamlink::runtime::Runtime;
use beamlink::{CallError, NodeError, Outbound};
use pyo3::IntoPyObjectExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use crate::convert::{Dest, dest_of, name_of};
use crate::options::{DecodeOptions, EncodeOptions, NoneAtom, TRUSTED_DEPTH};
use crate::wait::{Done, Pending, block, duration, start};
use crate::{decode, encode, errors, events, process, spawn};

/// The engine objects a live node holds; cloned into each operation.
#[derive(Clone)]
pub(crate) struct Live {
    pub node: beamlink::Node,
    pub rt: Runtime,
}

/// What an operation can fail with before or during a call.
pub(crate) enum Failure {
    Node(NodeError),
    Call(CallError),
}

impl Failure {
    pub(crate) fn into_py(self, py: Python<'_>, node: &str, opts: &DecodeOptions) -> PyErr {
        match self {
            Failure::Node(e) => errors::node_error(py, &e),
            // Connecting failed: the typed reason (bad cookie, epmd down, TLS…), as `connect`.
            Failure::Call(e) if e.connect_error().is_some() => {
                errors::node_error(py, e.connect_error().expect("checked"))
            }
            Failure::Call(e) => errors::call_error(py, node, e, opts),
        }
    }
}

/// Connects (a map lookup when already connected): a node that cannot be reached fails with
/// the typed reason (bad cookie, epmd down, no such node) rather than a bare "no connection".
async fn reach(node: &beamlink::Node, peer: &str) -> Result<(), Failure> {
    node.connect(peer).await.map(drop).map_err(Failure::Node)
}

/// Decodes a reply payload (no version byte) into a Python object.
pub(crate) fn payload_to_py(py: Python<'_>, bare: &[u8], opts: &DecodeOptions) -> PyResult<Py<PyAny>> {
    decode::decode_bare(py, bare, opts).map(Bound::unbind).map_err(|f| errors::decode_failure(py, f))
}

fn none(py: Python<'_>) -> PyResult<Py<PyAny>> {
    Ok(py.None())
}

/// A Python object from a value that converts without the engine's help.
fn value<T>(v: T) -> Done
where
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    Box::new(move |py| v.into_py_any(py))
}

#[pyclass(frozen, module = "beamlink._native", name = "Node")]
pub struct Node {
    live: RwLock<Option<Live>>,
    name: String,
    creation: u32,
    pub(crate) decode: DecodeOptions,
    pub(crate) encode: EncodeOptions,
}

impl Node {
    pub(crate) fn live(&self, py: Python<'_>) -> PyResult<Live> {
        match &*self.live.read().unwrap_or_else(|p| p.into_inner()) {
            Some(l) => Ok(l.clone()),
            None => Err(errors::closed(py, &format!("the node {} is closed", self.name))),
        }
    }
}

#[pymethods]
impl Node {
    #[new]
    #[pyo3(signature = (
        name, cookie = None, *, long_names = false, hidden = true, listen = None,
        connect_timeout = None, net_ticktime = None, tls = None,
        binaries = "str", none = "nil", charlists = "list",
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        name: &str,
        cookie: Option<&str>,
        long_names: bool,
        hidden: bool,
        listen: Option<u16>,
        connect_timeout: Option<f64>,
        net_ticktime: Option<f64>,
        tls: Option<PyRef<'_, crate::tls::TlsConfig>>,
        binaries: &str,
        none: &str,
        charlists: &str,
    ) -> PyResult<Node> {
        let decode = DecodeOptions::parse(binaries, none, charlists, TRUSTED_DEPTH)?;
        let encode = EncodeOptions { none: NoneAtom::parse(none)?, max_depth: TRUSTED_DEPTH };
        let rt = Runtime::shared().map_err(|e| errors::make(py, "BeamlinkError", &e.to_string(), &[]))?;
        let mut b = beamlink::Node::builder(name).long_names(long_names).hidden(hidden);
        if let Some(c) = cookie {
            b = b.cookie(c);
        }
        if let Some(p) = listen {
            b = b.listen(p);
        }
        if let Some(t) = connect_timeout {
            b = b.connect_timeout(positive(t, "connect_timeout")?);
        }
        if let Some(t) = net_ticktime {
            b = b.net_ticktime(positive(t, "net_ticktime")?);
        }
        if let Some(t) = tls {
            b = b.tls(t.config.clone());
        }
        let node = block(py, &rt, b.start())?.map_err(|e| errors::node_error(py, &e))?;
        Ok(Node {
            name: node.name().as_str().to_string(),
            creation: node.creation(),
            live: RwLock::new(Some(Live { node, rt })),
            decode,
            encode,
        })
    }

    /// This node's full name, `alive@host`.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    #[getter]
    fn creation(&self) -> u32 {
        self.creation
    }

    /// The port it listens on, or `None`.
    #[getter]
    fn port(&self, py: Python<'_>) -> PyResult<Option<u16>> {
        Ok(self.live(py)?.node.port())
    }

    #[getter]
    fn closed(&self) -> bool {
        self.live.read().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    /// Connected nodes, sorted.
    fn nodes(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        Ok(self.live(py)?.node.nodes().iter().map(|a| a.as_str().to_string()).collect())
    }

    #[pyo3(signature = (node, timeout = 10.0))]
    fn ping(&self, py: Python<'_>, node: &Bound<'_, PyAny>, timeout: Option<f64>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let peer = name_of(node, "node")?;
        let t = duration(timeout)?;
        Ok(start(&live.rt, async move { value(live.node.ping_timeout(&peer, t).await.is_ok()) }))
    }

    fn connect(&self, py: Python<'_>, node: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let peer = name_of(node, "node")?;
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let r = reach(&live.node, &peer).await;
            Box::new(move |py: Python<'_>| match r {
                Ok(()) => none(py),
                Err(f) => Err(f.into_py(py, &peer, &opts)),
            }) as Done
        }))
    }

    fn disconnect(&self, py: Python<'_>, node: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.live(py)?.node.disconnect(&name_of(node, "node")?))
    }

    #[pyo3(signature = (port = 0))]
    fn listen(&self, py: Python<'_>, port: u16) -> PyResult<Pending> {
        let live = self.live(py)?;
        Ok(start(&live.rt, async move {
            let r = live.node.listen(port).await;
            Box::new(move |py: Python<'_>| match r {
                Ok(p) => Ok(p.into_pyobject(py)?.into_any().unbind()),
                Err(e) => Err(errors::node_error(py, &e)),
            }) as Done
        }))
    }

    /// erpc semantics; the reply is decoded straight from the bytes the node sent.
    #[pyo3(signature = (node, module, function, args, timeout = None))]
    fn call(
        &self,
        py: Python<'_>,
        node: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let live = self.live(py)?;
        let (peer, m, f) = mfa(node, module, function)?;
        let args = Outbound::Encoded(encode::encode_args(args, &self.encode)?.into());
        let t = duration(timeout)?;
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let r = live.node.call_raw(&peer, &m, &f, args, t).await.map_err(Failure::Call);
            Box::new(move |py: Python<'_>| match r {
                Ok(p) => payload_to_py(py, p.bare(), &opts),
                Err(e) => Err(e.into_py(py, &peer, &opts)),
            }) as Done
        }))
    }

    /// `rpc:call` semantics, through the node's `rex`.
    #[pyo3(signature = (node, module, function, args, timeout = None))]
    fn rpc_call(
        &self,
        py: Python<'_>,
        node: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let live = self.live(py)?;
        let (peer, m, f) = mfa(node, module, function)?;
        let args = Outbound::Encoded(encode::encode_args(args, &self.encode)?.into());
        let t = duration(timeout)?;
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let r = live.node.rpc_call(&peer, &m, &f, args, t).await.map_err(Failure::Call);
            term_result(r, peer, opts)
        }))
    }

    /// The same call on every node at once; a list in the order of `nodes` whose items are
    /// values or exception instances.
    #[pyo3(signature = (nodes, module, function, args, timeout = None))]
    fn multicall(
        &self,
        py: Python<'_>,
        nodes: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let live = self.live(py)?;
        let peers = nodes.try_iter()?.map(|n| name_of(&n?, "node")).collect::<PyResult<Vec<String>>>()?;
        let m = name_of(module, "module")?;
        let f = name_of(function, "function")?;
        let args = Outbound::Encoded(encode::encode_args(args, &self.encode)?.into());
        let t = duration(timeout)?;
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let mut reachable = Vec::with_capacity(peers.len());
            let mut outcomes: Vec<Option<Result<beamlink::Term, Failure>>> = Vec::with_capacity(peers.len());
            // Connect to all at once, so one unreachable node costs one connect timeout.
            let connects = futures_join(peers.iter().map(|p| reach(&live.node, p)).collect()).await;
            for (p, c) in peers.iter().zip(connects) {
                match c {
                    Ok(()) => {
                        reachable.push(p.as_str());
                        outcomes.push(None);
                    }
                    Err(e) => outcomes.push(Some(Err(e))),
                }
            }
            let mut results = live.node.multicall(&reachable, &m, &f, args, t).await.into_iter();
            for o in outcomes.iter_mut().filter(|o| o.is_none()) {
                *o = results.next().map(|r| r.map_err(Failure::Call));
            }
            Box::new(move |py: Python<'_>| {
                let out = PyList::empty(py);
                for (peer, o) in peers.iter().zip(outcomes) {
                    let item = match o {
                        Some(Ok(t)) => crate::decode::term_to_py(py, &t, &opts)?.unbind(),
                        Some(Err(e)) => e.into_py(py, peer, &opts).into_value(py).into_any(),
                        None => errors::closed(py, "no result").into_value(py).into_any(),
                    };
                    out.append(item)?;
                }
                Ok(out.into_any().unbind())
            }) as Done
        }))
    }

    /// `rpc:cast/4`: returns once the request is on its way.
    fn cast(
        &self,
        py: Python<'_>,
        node: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
    ) -> PyResult<Pending> {
        let live = self.live(py)?;
        let (peer, m, f) = mfa(node, module, function)?;
        let args = Outbound::Encoded(encode::encode_args(args, &self.encode)?.into());
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let r = match reach(&live.node, &peer).await {
                Ok(()) => live.node.cast(&peer, &m, &f, args).await.map_err(Failure::Call),
                Err(e) => Err(e),
            };
            Box::new(move |py: Python<'_>| match r {
                Ok(()) => none(py),
                Err(e) => Err(e.into_py(py, &peer, &opts)),
            }) as Done
        }))
    }

    /// Evaluates Erlang or Elixir source on the node: `(value, printed text)`.
    #[pyo3(signature = (node, code, language = "erlang", timeout = None))]
    fn eval(
        &self,
        py: Python<'_>,
        node: &Bound<'_, PyAny>,
        code: String,
        language: &str,
        timeout: Option<f64>,
    ) -> PyResult<Pending> {
        let live = self.live(py)?;
        let peer = name_of(node, "node")?;
        let language = match language {
            "erlang" => Language::Erlang,
            "elixir" => Language::Elixir,
            other => {
                return Err(PyValueError::new_err(format!(
                    "language must be \"erlang\" or \"elixir\", not {other:?}"
                )));
            }
        };
        let t = duration(timeout)?;
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let r = match reach(&live.node, &peer).await {
                Ok(()) => {
                    let (r, printed) = live.node.eval(&peer, &code, language, t).await;
                    r.map(|v| (v, printed)).map_err(Failure::Call)
                }
                Err(e) => Err(e),
            };
            Box::new(move |py: Python<'_>| match r {
                Ok((v, printed)) => {
                    let v = crate::decode::term_to_py(py, &v, &opts)?;
                    Ok(PyTuple::new(py, [v, PyString::new(py, &printed).into_any()])?.into_any().unbind())
                }
                Err(e) => Err(e.into_py(py, &peer, &opts)),
            }) as Done
        }))
    }

    /// Spawns `module:function(args…)` there; the result is a `Job` following its output.
    #[pyo3(signature = (node, module, function, args, *, input = None, link = false, output = "capture", timeout = 10.0, options = None))]
    #[allow(clippy::too_many_arguments)]
    fn spawn(
        &self,
        py: Python<'_>,
        node: &Bound<'_, PyAny>,
        module: &Bound<'_, PyAny>,
        function: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        input: Option<String>,
        link: bool,
        output: &str,
        timeout: Option<f64>,
        options: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pending> {
        let live = self.live(py)?;
        let (peer, m, f) = mfa(node, module, function)?;
        let extra = match options {
            Some(o) => o
                .try_iter()?
                .map(|t| crate::convert::engine_term(&t?, &self.encode))
                .collect::<PyResult<_>>()?,
            None => Vec::new(),
        };
        let args = Outbound::Encoded(encode::encode_args(args, &self.encode)?.into());
        let output = match output {
            "capture" => Output::Capture,
            "remote" => Output::Remote,
            other => {
                return Err(PyValueError::new_err(format!(
                    "output must be \"capture\" or \"remote\", not {other:?}"
                )));
            }
        };
        if input.is_some() && output == Output::Remote {
            return Err(PyValueError::new_err(
                "input needs output=\"capture\" (our group leader serves reads)",
            ));
        }
        let options = SpawnOptions {
            link,
            monitor: true,
            output,
            timeout: duration(timeout)?,
            input: input.unwrap_or_default(),
            extra,
        };
        let opts = self.decode;
        let rt = live.rt.clone();
        Ok(start(&live.rt, async move {
            let r = match reach(&live.node, &peer).await {
                Ok(()) => live.node.spawn(&peer, &m, &f, args, options).await.map_err(Failure::Call),
                Err(e) => Err(e),
            };
            Box::new(move |py: Python<'_>| match r {
                Ok(s) => Ok(Py::new(py, spawn::Job::new(py, s, &peer, rt, opts)?)?.into_any()),
                Err(e) => Err(e.into_py(py, &peer, &opts)),
            }) as Done
        }))
    }

    /// Sends `msg` to a pid or to `(name, node)` without a sender process.
    fn send(&self, py: Python<'_>, dest: &Bound<'_, PyAny>, msg: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let dest = dest_of(dest, &self.name)?;
        let msg = Outbound::Encoded(encode::encode_bare(msg, &self.encode)?.into());
        Ok(start(&live.rt, async move {
            let r = match &dest {
                Dest::Pid(p) => live.node.send(p, msg).await,
                Dest::Named { name, node } => {
                    // A name needs a sender (REG_SEND): a process for just this message.
                    live.node.spawn_process().send_named(node, name, msg).await
                }
            };
            Box::new(move |py: Python<'_>| match r {
                Ok(()) => none(py),
                Err(e) => Err(errors::node_error(py, &e)),
            }) as Done
        }))
    }

    /// A new local process with a mailbox, registered under `name` if given.
    #[pyo3(signature = (name = None))]
    fn mailbox(&self, py: Python<'_>, name: Option<&Bound<'_, PyAny>>) -> PyResult<process::Mailbox> {
        let live = self.live(py)?;
        let proc = live.node.spawn_process();
        if let Some(n) = name {
            proc.register(&name_of(n, "name")?).map_err(|e| errors::node_error(py, &e))?;
        }
        process::Mailbox::new(py, proc, live.rt, self.decode, self.encode)
    }

    /// Node up/down events from now on.
    fn events(&self, py: Python<'_>) -> PyResult<events::Events> {
        let live = self.live(py)?;
        Ok(events::Events::new(live.node.subscribe(), live.rt))
    }

    /// The local pid registered under `name`, if any.
    fn whereis(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<Option<Py<PyAny>>> {
        let live = self.live(py)?;
        match live.node.whereis(&name_of(name, "name")?) {
            Some(p) => Ok(Some(crate::convert::pid_to_py(py, &p)?)),
            None => Ok(None),
        }
    }

    /// Closes every connection, leaves epmd and gives up this node's hold on the engine.
    fn close(&self, py: Python<'_>) {
        let live = self.live.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(l) = live {
            l.node.shutdown();
            // The last runtime handle waits for the engine threads; they may need the GIL.
            py.detach(move || drop(l));
        }
    }

    fn __repr__(&self) -> String {
        let state = if self.closed() { ", closed" } else { "" };
        format!("Node({:?}{state})", self.name)
    }
}

impl Drop for Node {
    // A node garbage-collected without close(): the same clean-up.
    fn drop(&mut self) {
        if let Some(l) = self.live.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            l.node.shutdown();
            release(l);
        }
    }
}

/// Drops engine objects (maybe the last runtime handle, which waits for the engine threads)
/// without holding the GIL, since an engine thread may be waiting for it.
pub(crate) fn release<T: Send>(held: T) {
    let mut held = Some(held);
    Python::try_attach(|py| {
        let h = held.take();
        py.detach(move || drop(h));
    });
    // Not attachable (the interpreter is finalizing): nothing can wait for the GIL any more.
    drop(held);
}

fn positive(t: f64, what: &str) -> PyResult<Duration> {
    if t.is_finite() && t > 0.0 {
        Ok(Duration::from_secs_f64(t))
    } else {
        Err(PyValueError::new_err(format!("{what} must be a positive number of seconds")))
    }
}

fn mfa(
    node: &Bound<'_, PyAny>,
    module: &Bound<'_, PyAny>,
    function: &Bound<'_, PyAny>,
) -> PyResult<(String, String, String)> {
    Ok((name_of(node, "node")?, name_of(module, "module")?, name_of(function, "function")?))
}

fn term_result(r: Result<beamlink::Term, Failure>, peer: String, opts: DecodeOptions) -> Done {
    Box::new(move |py: Python<'_>| match r {
        Ok(t) => Ok(crate::decode::term_to_py(py, &t, &opts)?.unbind()),
        Err(e) => Err(e.into_py(py, &peer, &opts)),
    })
}

/// Awaits every future, in order (the engine has tokio, not the `futures` crate).
async fn futures_join<F: std::future::Future>(futs: Vec<F>) -> Vec<F::Output> {
    let mut futs: Vec<_> = futs.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (f, slot) in futs.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => *slot = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    out.into_iter().map(|o| o.expect("every future finished")).collect()
}
