//! How Python waits for the engine: every operation that talks to the network runs as a
//! [`beamlink::runtime::Task`] on the process's shared engine runtime and is handed to Python
//! as a [`Pending`]. The sync API blocks on it with the GIL released, waking every
//! [`SIGNAL_CHECK`] to run Python's signal handlers (Ctrl-C cancels the task, which cancels
//! the remote work); asyncio hands it a callback that resolves an `asyncio.Future` through
//! `loop.call_soon_threadsafe`. One mechanism, the engine's: no second runtime, no thread of
//! our own.
//!
//! A task's value is a [`Done`]: the engine's result, turned into a Python object (or
//! exception) only once the GIL is held, by whoever takes it.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use beamlink::runtime::{Cancel, Panic, Runtime, Task};
use pyo3::exceptions::PyRuntimeError;
use pyo3::panic::PanicException;
use pyo3::prelude::*;

/// How often a blocked sync call wakes to look for signals (Ctrl-C within ~50 ms).
pub(crate) const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// "No limit": long enough never to end, short enough that `Instant + it` cannot overflow.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A finished operation's result, converted to Python when the GIL is held.
pub(crate) type Done = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// A Python timeout in seconds (`None`: no limit) as an engine duration.
pub(crate) fn duration(timeout: Option<f64>) -> PyResult<Duration> {
    match timeout {
        None => Ok(FOREVER),
        Some(t) if t.is_nan() || t < 0.0 => {
            Err(pyo3::exceptions::PyValueError::new_err("timeout must be a number of seconds >= 0, or None"))
        }
        Some(t) => Ok(Duration::try_from_secs_f64(t).unwrap_or(FOREVER).min(FOREVER)),
    }
}

/// Starts `fut` on the engine runtime. A panic inside the engine future (caught by the
/// engine) becomes a Python `PanicException` for the waiter.
pub(crate) fn start<F>(rt: &Runtime, fut: F) -> Pending
where
    F: Future<Output = Done> + Send + 'static,
{
    Pending { state: Mutex::new(State::Waiting(rt.spawn(fut))) }
}

/// The engine's report of a panic, as the `Done` that raises it.
fn panicked(p: Panic) -> Done {
    Box::new(move |_py: Python<'_>| Err(PanicException::new_err(p.to_string())))
}

enum State {
    Waiting(Task<Result<Done, Panic>>),
    Scheduled(Cancel),
    Over,
}

/// An engine operation in flight. Take its result once: [`wait`](Pending::wait) (blocking,
/// GIL released, Ctrl-C cancels) or [`schedule`](Pending::schedule) (asyncio). Dropping a
/// pending operation that nobody took cancels it.
#[pyclass(frozen, module = "beamlink._native", name = "Pending")]
pub struct Pending {
    state: Mutex<State>,
}

impl Pending {
    fn take_task(&self) -> PyResult<Task<Result<Done, Panic>>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match std::mem::replace(&mut *state, State::Over) {
            State::Waiting(task) => Ok(task),
            other => {
                *state = other;
                Err(PyRuntimeError::new_err("this operation's result was already taken"))
            }
        }
    }
}

#[pymethods]
impl Pending {
    /// Blocks until the result is in and returns it (or raises its exception). The GIL is
    /// released meanwhile; every 50 ms the wait runs Python's signal handlers, and if one
    /// raises (KeyboardInterrupt) the operation is cancelled and the exception propagates.
    fn wait(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let task = self.take_task()?;
        let waited =
            py.detach(|| task.wait_checking(None, SIGNAL_CHECK, || Python::attach(|py| py.check_signals())));
        match waited {
            Ok(Some(done)) => done.unwrap_or_else(panicked)(py),
            Ok(None) => Err(crate::errors::closed(py, "the operation was cancelled")),
            Err(e) => Err(e),
        }
    }

    /// Hands the result to `completions` (the event loop's queue) for `future` once it is in.
    fn schedule(&self, completions: &Completions, future: Py<PyAny>) -> PyResult<()> {
        let task = self.take_task()?;
        let queue = completions.queue.clone();
        let cancel = task.on_complete(move |done| queue.push(future, done.unwrap_or_else(panicked)));
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if matches!(*state, State::Over) {
            *state = State::Scheduled(cancel);
        }
        Ok(())
    }

    /// Cancels the operation: the engine future is dropped (an erpc call stops its remote
    /// process), and no result follows. Returns once the engine's clean-up has run.
    fn cancel(&self, py: Python<'_>) {
        let state =
            std::mem::replace(&mut *self.state.lock().unwrap_or_else(|p| p.into_inner()), State::Over);
        // Without the GIL: the engine thread dropping the future may be waiting for it.
        py.detach(move || match state {
            State::Waiting(task) => task.cancel(),
            State::Scheduled(cancel) => cancel.cancel(),
            State::Over => {}
        });
    }

    /// Whether the engine has finished (the result may not be taken yet).
    fn done(&self) -> bool {
        match &*self.state.lock().unwrap_or_else(|p| p.into_inner()) {
            State::Waiting(task) => task.is_finished(),
            _ => true,
        }
    }
}

/// Results finished for one asyncio event loop, handed over in batches: the first result of
/// a batch schedules one drain on the loop (`call_soon_threadsafe`), later ones join it. The
/// engine thread takes the GIL only for that one call; results become Python objects on the
/// loop's thread.
#[pyclass(frozen, module = "beamlink._native", name = "Completions")]
pub struct Completions {
    queue: Arc<Queue>,
}

struct Queue {
    items: Mutex<Vec<(Py<PyAny>, Done)>>,
    /// A `weakref.WeakMethod` of the loop's `call_soon_threadsafe`: the queue must not keep
    /// its loop alive (the loop's table of queues is keyed weakly by the loop).
    notify: Py<PyAny>,
}

impl Queue {
    fn push(self: &Arc<Self>, future: Py<PyAny>, done: Done) {
        let first = {
            let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
            items.push((future, done));
            items.len() == 1
        };
        if first {
            // `try_attach`: at interpreter exit there is nobody left to tell.
            Python::try_attach(|py| {
                let notify = || -> PyResult<()> {
                    let call_soon_threadsafe = self.notify.call0(py)?;
                    if !call_soon_threadsafe.is_none(py) {
                        call_soon_threadsafe.call1(py, (Py::new(py, Drain { queue: self.clone() })?,))?;
                    }
                    Ok(())
                };
                // A closed or collected loop refuses; its futures are gone with it.
                let _ = notify();
            });
        }
    }
}

#[pymethods]
impl Completions {
    /// `notify`: a callable returning the loop's `call_soon_threadsafe` (or `None` once the
    /// loop is gone), such as a `weakref.WeakMethod`.
    #[new]
    fn new(notify: Py<PyAny>) -> Completions {
        Completions { queue: Arc::new(Queue { items: Mutex::new(Vec::new()), notify }) }
    }
}

/// One scheduled drain of a [`Completions`] queue, called on the event loop.
#[pyclass(frozen, module = "beamlink._native", name = "_Drain")]
struct Drain {
    queue: Arc<Queue>,
}

#[pymethods]
impl Drain {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let items = std::mem::take(&mut *self.queue.items.lock().unwrap_or_else(|p| p.into_inner()));
        for (future, done) in items {
            let future = future.bind(py);
            let result = done(py);
            let settle = || -> PyResult<()> {
                // A cancelled future takes no result.
                if !future.call_method0("done")?.is_truthy()? {
                    match result {
                        Ok(v) => future.call_method1("set_result", (v,))?,
                        Err(e) => future.call_method1("set_exception", (e.into_value(py),))?,
                    };
                }
                Ok(())
            };
            // One future that cannot be settled (its loop is closing) must not strand the rest.
            let _ = settle();
        }
        Ok(())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Pending>()?;
    m.add_class::<Completions>()?;
    m.add_class::<Drain>()?;
    Ok(())
}

/// Runs `fut` on the engine and blocks for its value with the GIL released, running Python's
/// signal handlers every [`SIGNAL_CHECK`] (an exception from one cancels `fut`). For values
/// that are not Python objects, such as a started engine node.
pub(crate) fn block<F>(py: Python<'_>, rt: &Runtime, fut: F) -> PyResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = rt.spawn(fut);
    let waited =
        py.detach(|| task.wait_checking(None, SIGNAL_CHECK, || Python::attach(|py| py.check_signals())));
    match waited? {
        Some(Ok(v)) => Ok(v),
        Some(Err(panic)) => Err(PanicException::new_err(panic.to_string())),
        None => Err(crate::errors::closed(py, "the operation was cancelled")),
    }
}
