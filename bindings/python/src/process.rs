//! `beamlink._native.Mailbox`: a local engine [`Process`] (a pid with a mailbox) for Python.
//! Messages come out as decoded terms; exit signals and monitor notifications as the typed
//! messages of `beamlink/messages.py` (`ExitSignal`, `Down`).

use std::sync::{Arc, RwLock};

use beamlink::runtime::Runtime;
use beamlink::{Message, Outbound, Process, Term};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::convert::{Dest, dest_of, name_of, pid_of, pid_to_py, ref_of, ref_to_py};
use crate::decode::term_to_py;
use crate::node::{payload_to_py, release};
use crate::options::{DecodeOptions, EncodeOptions};
use crate::wait::{Done, Pending, duration, start};
use crate::{encode, errors};

#[derive(Clone)]
struct Live {
    proc: Arc<Process>,
    rt: Runtime,
}

#[pyclass(frozen, module = "beamlink._native", name = "Mailbox")]
pub struct Mailbox {
    live: RwLock<Option<Live>>,
    pid: Py<PyAny>,
    node: String,
    decode: DecodeOptions,
    encode: EncodeOptions,
}

impl Mailbox {
    pub(crate) fn new(
        py: Python<'_>,
        proc: Process,
        rt: Runtime,
        decode: DecodeOptions,
        encode: EncodeOptions,
    ) -> PyResult<Mailbox> {
        let pid = pid_to_py(py, proc.pid())?;
        let node = proc.node().name().as_str().to_string();
        Ok(Mailbox { live: RwLock::new(Some(Live { proc: Arc::new(proc), rt })), pid, node, decode, encode })
    }

    fn live(&self, py: Python<'_>) -> PyResult<Live> {
        match &*self.live.read().unwrap_or_else(|p| p.into_inner()) {
            Some(l) => Ok(l.clone()),
            None => Err(errors::closed(py, "the mailbox is closed")),
        }
    }
}

/// A received message as Python: the term, or an `ExitSignal` / `Down`.
fn message_to_py(py: Python<'_>, m: &Message, opts: &DecodeOptions) -> PyResult<Py<PyAny>> {
    let messages = py.import("beamlink.messages")?;
    match m {
        Message::Send { payload, .. } => payload_to_py(py, payload.bare(), opts),
        Message::Exit { from, reason } => {
            let args = (pid_to_py(py, from)?, term_to_py(py, reason, opts)?);
            Ok(messages.getattr("ExitSignal")?.call1(args)?.unbind())
        }
        Message::Down { reference, object, reason, .. } => {
            let args =
                (ref_to_py(py, reference)?, term_to_py(py, object, opts)?, term_to_py(py, reason, opts)?);
            Ok(messages.getattr("Down")?.call1(args)?.unbind())
        }
        Message::SpawnReply { request, result, .. } => {
            // Only spawn requests of the engine's own make these; shown as the term BEAM uses.
            let result = match result {
                Ok(pid) => Term::Pid(pid.clone()),
                Err(reason) => reason.clone(),
            };
            let t = Term::tuple([Term::atom("spawn_reply"), Term::Reference(request.clone()), result]);
            Ok(term_to_py(py, &t, opts)?.unbind())
        }
    }
}

#[pymethods]
impl Mailbox {
    #[getter]
    fn pid(&self, py: Python<'_>) -> Py<PyAny> {
        self.pid.clone_ref(py)
    }

    #[getter]
    fn closed(&self) -> bool {
        self.live.read().unwrap_or_else(|p| p.into_inner()).is_none()
    }

    /// Sends `msg` from this process to a pid, `(name, node)` or a local name.
    fn send(&self, py: Python<'_>, dest: &Bound<'_, PyAny>, msg: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let dest = dest_of(dest, &self.node)?;
        let msg = Outbound::Encoded(encode::encode_bare(msg, &self.encode)?.into());
        Ok(start(&live.rt, async move {
            let r = match &dest {
                Dest::Pid(p) => live.proc.send(p, msg).await,
                Dest::Named { name, node } => live.proc.send_named(node, name, msg).await,
            };
            unit(r)
        }))
    }

    /// The next message (or, with `match`, the first one for which `match(message)` is
    /// true, the others staying queued in order); `None` as the task's value on timeout.
    #[pyo3(signature = (timeout = None, r#match = None))]
    fn receive(&self, py: Python<'_>, timeout: Option<f64>, r#match: Option<Py<PyAny>>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let t = duration(timeout)?;
        let opts = self.decode;
        Ok(start(&live.rt, async move {
            let Some(pred) = r#match else {
                let m = live.proc.receive_timeout(t).await;
                return Box::new(move |py: Python<'_>| match m {
                    Some(m) => Ok(PyTuple::new(py, [message_to_py(py, &m, &opts)?])?.into_any().unbind()),
                    None => Ok(py.None()),
                }) as Done;
            };
            // The predicate runs here, on an engine thread, with the GIL. `receive_map` asks
            // twice about a message that waited in the save queue; the second answer is the
            // first one kept, so the predicate runs once per message.
            let mut found: Option<PyResult<Py<PyAny>>> = None;
            let got = live
                .proc
                .receive_map(t, |m| {
                    if found.is_some() {
                        return Some(());
                    }
                    let verdict = Python::try_attach(|py| -> Option<PyResult<Py<PyAny>>> {
                        let obj = match message_to_py(py, m, &opts) {
                            Ok(o) => o,
                            Err(e) => return Some(Err(e)),
                        };
                        match pred.call1(py, (obj.clone_ref(py),)).and_then(|r| r.is_truthy(py)) {
                            Ok(true) => Some(Ok(obj)),
                            Ok(false) => None,
                            // A predicate that raises takes the message and ends the receive.
                            Err(e) => Some(Err(e)),
                        }
                    })
                    .flatten();
                    found = verdict;
                    found.as_ref().map(|_| ())
                })
                .await;
            let found = if got.is_some() { found } else { None };
            Box::new(move |py: Python<'_>| match found {
                Some(Ok(obj)) => Ok(PyTuple::new(py, [obj])?.into_any().unbind()),
                Some(Err(e)) => Err(e),
                None => Ok(py.None()),
            }) as Done
        }))
    }

    /// Registers this process under `name` on its node.
    fn register(&self, py: Python<'_>, name: &Bound<'_, PyAny>) -> PyResult<()> {
        let live = self.live(py)?;
        live.proc.register(&name_of(name, "name")?).map_err(|e| errors::node_error(py, &e))
    }

    fn link(&self, py: Python<'_>, pid: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let pid = pid_of(pid)?;
        Ok(start(&live.rt, async move { unit(live.proc.link(&pid).await) }))
    }

    fn unlink(&self, py: Python<'_>, pid: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let pid = pid_of(pid)?;
        Ok(start(&live.rt, async move { unit(live.proc.unlink(&pid).await) }))
    }

    /// Monitors a pid or `(name, node)`; the value is the monitor's `Reference`.
    fn monitor(&self, py: Python<'_>, target: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let dest = dest_of(target, &self.node)?;
        Ok(start(&live.rt, async move {
            let r = match &dest {
                Dest::Pid(p) => live.proc.monitor(p).await,
                Dest::Named { name, node } => live.proc.monitor_named(node, name).await,
            };
            Box::new(move |py: Python<'_>| match r {
                Ok(reference) => ref_to_py(py, &reference),
                Err(e) => Err(errors::node_error(py, &e)),
            }) as Done
        }))
    }

    fn demonitor(&self, py: Python<'_>, reference: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let reference = ref_of(reference)?;
        Ok(start(&live.rt, async move { unit(live.proc.demonitor(&reference).await) }))
    }

    /// Sends the exit signal `exit(Pid, Reason)` to `pid`.
    fn exit(&self, py: Python<'_>, pid: &Bound<'_, PyAny>, reason: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let pid = pid_of(pid)?;
        let reason = crate::convert::engine_term(reason, &self.encode)?;
        Ok(start(&live.rt, async move { unit(live.proc.exit_signal(&pid, reason).await) }))
    }

    /// Ends the process: links get `reason` (default `normal`), monitors a DOWN, its name is
    /// released.
    #[pyo3(signature = (reason = None))]
    fn close(&self, py: Python<'_>, reason: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        let reason = match reason {
            Some(r) => Some(crate::convert::engine_term(r, &self.encode)?),
            None => None,
        };
        let live = self.live.write().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(Live { proc, rt }) = live {
            match (Arc::try_unwrap(proc), reason) {
                (Ok(p), Some(r)) => p.exit(r),
                // A receive still in flight holds the process; it ends with that receive.
                (p, _) => drop(p),
            }
            py.detach(move || drop(rt));
        }
        Ok(())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let pid = self.pid.bind(py).str().map(|s| s.to_string()).unwrap_or_default();
        format!("Mailbox({pid}{})", if self.closed() { ", closed" } else { "" })
    }
}

impl Drop for Mailbox {
    fn drop(&mut self) {
        if let Some(l) = self.live.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            release(l);
        }
    }
}

fn unit(r: Result<(), beamlink::NodeError>) -> Done {
    Box::new(move |py: Python<'_>| match r {
        Ok(()) => Ok(py.None()),
        Err(e) => Err(errors::node_error(py, &e)),
    })
}
