//! `beamlink._native.Job`: a process spawned on a remote node ([`Spawned`]), followed through
//! the engine's one stream of its output and its exit ([`Spawned::next_event`]).

use std::sync::{Arc, Mutex};

use beamlink::rpc::{SpawnEvent, Spawned};
use beamlink::runtime::Runtime;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::convert::pid_to_py;
use crate::decode::term_to_py;
use crate::errors;
use crate::node::release;
use crate::options::DecodeOptions;
use crate::wait::{Done, Pending, duration, start};

#[derive(Clone)]
struct Live {
    spawned: Arc<tokio::sync::Mutex<Spawned>>,
    rt: Runtime,
}

#[pyclass(frozen, module = "beamlink._native", name = "Job")]
pub struct Job {
    live: Mutex<Option<Live>>,
    pid: Py<PyAny>,
    node: String,
    decode: DecodeOptions,
}

impl Job {
    pub(crate) fn new(
        py: Python<'_>,
        spawned: Spawned,
        node: &str,
        rt: Runtime,
        decode: DecodeOptions,
    ) -> PyResult<Job> {
        Ok(Job {
            pid: pid_to_py(py, &spawned.pid)?,
            live: Mutex::new(Some(Live { spawned: Arc::new(tokio::sync::Mutex::new(spawned)), rt })),
            node: node.to_string(),
            decode,
        })
    }

    fn live(&self, py: Python<'_>) -> PyResult<Live> {
        match &*self.live.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(l) => Ok(l.clone()),
            None => Err(errors::closed(py, "the job is closed")),
        }
    }
}

#[pymethods]
impl Job {
    #[getter]
    fn pid(&self, py: Python<'_>) -> Py<PyAny> {
        self.pid.clone_ref(py)
    }

    #[getter]
    fn node(&self) -> &str {
        &self.node
    }

    /// The next thing the process did: `("output", text)`, then, after all of its output,
    /// `("exit", reason)` (again on every later call); `None` when nothing happened within
    /// `timeout`.
    #[pyo3(signature = (timeout = None))]
    fn next_event(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let t = duration(timeout)?;
        let (node, opts) = (self.node.clone(), self.decode);
        Ok(start(&live.rt, async move {
            let r = live.spawned.lock().await.next_event(t).await;
            Box::new(move |py: Python<'_>| match r {
                Ok(Some(SpawnEvent::Output(text))) => {
                    let items = [PyString::new(py, "output").into_any(), PyString::new(py, &text).into_any()];
                    Ok(PyTuple::new(py, items)?.into_any().unbind())
                }
                Ok(Some(SpawnEvent::Exit(reason))) => {
                    let items = [PyString::new(py, "exit").into_any(), term_to_py(py, &reason, &opts)?];
                    Ok(PyTuple::new(py, items)?.into_any().unbind())
                }
                Ok(None) => Ok(py.None()),
                Err(e) => Err(errors::call_error(py, &node, e, &opts)),
            }) as Done
        }))
    }

    /// Waits for the process to end; the value is its exit reason. Output not yet read stays
    /// available to `next_event`.
    #[pyo3(signature = (timeout = None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Pending> {
        let live = self.live(py)?;
        let t = duration(timeout)?;
        let (node, opts) = (self.node.clone(), self.decode);
        Ok(start(&live.rt, async move {
            let r = live.spawned.lock().await.wait_exit(t).await;
            Box::new(move |py: Python<'_>| match r {
                Ok(reason) => Ok(term_to_py(py, &reason, &opts)?.unbind()),
                Err(e) => Err(errors::call_error(py, &node, e, &opts)),
            }) as Done
        }))
    }

    /// Stops following the process (our group leader and its monitor go; the remote process
    /// runs on, and output it prints later is answered `{error, terminated}`... by nobody).
    fn close(&self, py: Python<'_>) {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(l) = live {
            py.detach(move || drop(l));
        }
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let pid = self.pid.bind(py).str().map(|s| s.to_string()).unwrap_or_default();
        format!("Job({pid})")
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(l) = self.live.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            release(l);
        }
    }
}
