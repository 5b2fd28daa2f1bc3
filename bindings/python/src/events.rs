//! `beamlink._native.Events`: node up/down notifications (`net_kernel:monitor_nodes/1`) as
//! `NodeUp` / `NodeDown` messages of `beamlink/messages.py`.

use std::sync::{Arc, Mutex};

use beamlink::NodeEvent;
use beamlink::runtime::Runtime;
use pyo3::prelude::*;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::errors;
use crate::node::release;
use crate::wait::{Done, Pending, duration, start};

#[derive(Clone)]
struct Live {
    rx: Arc<tokio::sync::Mutex<broadcast::Receiver<NodeEvent>>>,
    rt: Runtime,
}

#[pyclass(frozen, module = "beamlink._native", name = "Events")]
pub struct Events {
    live: Mutex<Option<Live>>,
}

impl Events {
    pub(crate) fn new(rx: broadcast::Receiver<NodeEvent>, rt: Runtime) -> Events {
        Events { live: Mutex::new(Some(Live { rx: Arc::new(tokio::sync::Mutex::new(rx)), rt })) }
    }
}

#[pymethods]
impl Events {
    /// The next event; `None` as the value when none came within `timeout`.
    #[pyo3(signature = (timeout = None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Pending> {
        let live = match &*self.live.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(l) => l.clone(),
            None => return Err(errors::closed(py, "the event stream is closed")),
        };
        let t = duration(timeout)?;
        Ok(start(&live.rt, async move {
            let mut rx = live.rx.lock().await;
            let got = tokio::time::timeout(t, async {
                loop {
                    match rx.recv().await {
                        Ok(ev) => return Some(ev),
                        // Events missed while nobody read: go on with the ones kept.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    }
                }
            })
            .await;
            Box::new(move |py: Python<'_>| {
                let messages = py.import("beamlink.messages")?;
                match got {
                    Err(_) => Ok(py.None()),
                    Ok(None) => Err(errors::closed(py, "the node is closed")),
                    Ok(Some(NodeEvent::Up { node })) => {
                        Ok(messages.getattr("NodeUp")?.call1((node.as_str(),))?.unbind())
                    }
                    Ok(Some(NodeEvent::Down { node, reason })) => {
                        Ok(messages.getattr("NodeDown")?.call1((node.as_str(), reason))?.unbind())
                    }
                }
            }) as Done
        }))
    }

    fn close(&self, py: Python<'_>) {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(l) = live {
            py.detach(move || drop(l));
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        if let Some(l) = self.live.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            release(l);
        }
    }
}
