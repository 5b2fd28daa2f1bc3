//! How C waits for the engine: every operation is a future started on the shared engine
//! runtime as a [`Task`]; a blocking function waits on it with the caller's timeout (and drops
//! it on timeout, which cancels the engine work), a pollable handle keeps the task, a callback
//! is handed to [`Task::on_complete`]. A panic inside an engine future (caught by the
//! engine) comes back as BL_INTERNAL.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

use beamlink::runtime::{Panic, Runtime, Task};

use crate::status::Failure;

/// The result of an engine future: its output, or the engine's report of its panic.
pub type Caught<T> = Result<T, Panic>;

/// Starts `fut` on the engine.
pub fn start<F>(rt: &Runtime, fut: F) -> Task<Caught<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    rt.spawn(fut)
}

/// A panic's message as a failure.
pub fn panicked(what: &str, panic: Panic) -> Failure {
    Failure::internal(format_args!(
        "{what}: internal error in beamlink (a Rust panic: {}); please report it",
        panic.message()
    ))
}

/// Refuses to block on an engine thread: a callback that waited for the engine would hold up
/// one of the threads that must finish the wait.
pub fn may_block(what: &str) -> Result<(), Failure> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Failure::bad_argument(format_args!(
            "{what} would block an engine thread: beamlink callbacks must not call blocking beamlink functions"
        )));
    }
    Ok(())
}

/// Runs `fut` on the engine and blocks this thread until it is done, or `timeout` (`None`: no
/// limit) passes — then the task is dropped, which cancels the engine work, and `Ok(None)`
/// comes back.
pub fn run<F>(
    rt: &Runtime,
    what: &str,
    timeout: Option<Duration>,
    fut: F,
) -> Result<Option<F::Output>, Failure>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    may_block(what)?;
    let task = start(rt, fut);
    match task.wait(timeout) {
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(p)) => Err(panicked(what, p)),
        None => Ok(None),
    }
}

/// How long past the caller's timeout [`run_until`] waits for the engine's own.
const GRACE: Duration = Duration::from_secs(2);

/// Like [`run`] for a future that ends itself at `timeout` (a receive with a timeout): its
/// own end is waited for, so a value it took at the last moment (a message out of a mailbox)
/// is returned instead of dropped with the task. Should it overrun by [`GRACE`] (a machine
/// too loaded to run it), it is cancelled and the wait is a BL_TIMEOUT.
pub fn run_until<F>(rt: &Runtime, what: &str, timeout: Option<Duration>, fut: F) -> Result<F::Output, Failure>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    run(rt, what, timeout.map(|t| t.saturating_add(GRACE)), fut)?
        .ok_or_else(|| Failure::timeout(what, timeout))
}

/// Guards a C callback for its handle: once [`stop`](Guarded::stop) returns, the callback is
/// not running and will not run again, so the caller may free what its user data points to.
/// A callback that stops its own handle (from inside) is allowed.
#[derive(Default)]
pub struct Guarded {
    stopped: AtomicBool,
    /// Held while the callback runs.
    running: Mutex<()>,
    /// The thread running the callback, so a stop from inside does not wait for itself.
    runner: Mutex<Option<ThreadId>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The data under these locks is never left half-changed: a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Guarded {
    /// Runs `f` (which calls the C callback) unless stopped. `false` when stopped.
    pub fn invoke(&self, f: impl FnOnce()) -> bool {
        let _running = lock(&self.running);
        if self.stopped.load(Ordering::SeqCst) {
            return false;
        }
        *lock(&self.runner) = Some(std::thread::current().id());
        // A C callback cannot unwind; catch what the Rust side of `f` might.
        let _ = catch_unwind(AssertUnwindSafe(f));
        *lock(&self.runner) = None;
        !self.stopped.load(Ordering::SeqCst)
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// No callback after this returns (and none running, unless called from the callback).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let inside = *lock(&self.runner) == Some(std::thread::current().id());
        if !inside {
            // Waits for a callback in progress on another thread.
            drop(lock(&self.running));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn a_panicking_engine_future_is_an_internal_error() {
        let rt = Runtime::shared().unwrap();
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = run(&rt, "test", Some(Duration::from_secs(5)), async { panic!("inside the engine") });
        std::panic::set_hook(prev);
        let f = r.unwrap_err();
        assert_eq!(f.status, crate::status::bl_status::BL_INTERNAL);
        assert!(f.message.contains("inside the engine"), "{}", f.message);
    }

    #[test]
    fn a_timeout_cancels_the_task() {
        let rt = Runtime::shared().unwrap();
        let r = run(&rt, "test", Some(Duration::from_millis(10)), std::future::pending::<()>());
        assert!(matches!(r, Ok(None)));
    }

    #[test]
    fn blocking_inside_the_engine_is_refused() {
        let rt = Runtime::shared().unwrap();
        let rt2 = rt.clone();
        let task = rt.spawn(async move { run(&rt2, "inner", None, async { 1 }).map(|_| ()) });
        let f = task.wait(Some(Duration::from_secs(5))).unwrap().unwrap().unwrap_err();
        assert_eq!(f.status, crate::status::bl_status::BL_BAD_ARGUMENT);
    }

    #[test]
    fn stop_waits_for_a_running_callback_and_blocks_later_ones() {
        let g = Arc::new(Guarded::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let (g2, c2) = (g.clone(), calls.clone());
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            g2.invoke(|| {
                entered_tx.send(()).unwrap();
                std::thread::sleep(Duration::from_millis(50));
                c2.fetch_add(1, Ordering::SeqCst);
            })
        });
        entered_rx.recv().unwrap();
        g.stop();
        // The callback in progress finished before stop returned.
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(!t.join().unwrap());
        assert!(!g.invoke(|| panic!("must not run")));
        // Stopping from inside a callback does not wait for itself.
        let h = Guarded::default();
        assert!(!h.invoke(|| h.stop()));
    }
}
