//! One engine runtime per process for callers that bring none (the blocking API and the Python,
//! C and Elixir bindings), and the one completion path they all share.
//!
//! A binding waits for the engine in one of four ways: a blocking call that wakes now and then
//! to look for signals (Python's sync API, C), a callback that resolves a future or sends a
//! message (asyncio, Elixir), or polling (C). All four are the same thing here: an engine
//! future runs on the shared runtime as a [`Task`], and whoever holds the task blocks on it
//! with a timeout, polls it, or hands it a callback. Dropping or [cancelling](Task::cancel) a
//! task drops its future on the runtime, which is how every engine operation is cancelled
//! (an erpc call gives up its monitor and stops the remote process, see
//! [`Node::call`](crate::Node::call)).
//!
//! ```
//! use std::time::Duration;
//! use beamlink::runtime::Runtime;
//!
//! let rt = Runtime::shared().unwrap();
//! let task = rt.spawn(async { 6 * 7 });
//! assert_eq!(task.wait(Some(Duration::from_secs(5))), Some(Ok(42)));
//!
//! // The callback form: runs on an engine thread once the future is done.
//! let (tx, rx) = std::sync::mpsc::channel();
//! rt.spawn(async { "done" }).on_complete(move |v| tx.send(v.unwrap()).unwrap());
//! assert_eq!(rx.recv_timeout(Duration::from_secs(5)), Ok("done"));
//!
//! // A panic (a bug) is caught and reported, so no waiter is left hanging.
//! let task = rt.spawn(async { if true { panic!("bug") }; 0 });
//! let panic = task.wait(None).unwrap().unwrap_err();
//! assert!(panic.message().contains("bug"));
//! ```
//!
//! The runtime starts with the first [`Runtime::shared`] and stops when the last handle is
//! dropped, so a program that closes every node it opened is left with no engine threads.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How long dropping the last handle waits for the engine threads to finish (outside the
/// runtime; from inside one of its own threads nothing can be waited for).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How long a cancel waits for the future to be dropped (its clean-up is quick; the bound
/// only matters when an engine thread is stuck, e.g. waiting for a lock the canceller holds).
const CANCEL_GRACE: Duration = Duration::from_secs(1);

static SHARED: Mutex<Weak<Shared>> = Mutex::new(Weak::new());

struct Shared {
    rt: Option<tokio::runtime::Runtime>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                // Dropped from an engine thread (the last handle went with a callback):
                // blocking here would deadlock, so the threads end on their own.
                rt.shutdown_background();
            } else {
                rt.shutdown_timeout(SHUTDOWN_GRACE);
            }
        }
    }
}

/// A handle on the process-wide engine runtime. Cheap to clone; the runtime lives as long as
/// any handle (and any node started on it should hold one).
#[derive(Clone)]
pub struct Runtime {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Runtime")
    }
}

impl Runtime {
    /// The process's engine runtime, started on first use (two worker threads named
    /// `beamlink`, or `BEAMLINK_THREADS`).
    pub fn shared() -> std::io::Result<Runtime> {
        let mut slot = SHARED.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(shared) = slot.upgrade() {
            return Ok(Runtime { shared });
        }
        let threads = std::env::var("BEAMLINK_THREADS")
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|n| (1..=256).contains(n))
            .unwrap_or(2);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("beamlink")
            .enable_all()
            .build()?;
        let shared = Arc::new(Shared { rt: Some(rt) });
        *slot = Arc::downgrade(&shared);
        Ok(Runtime { shared })
    }

    /// The tokio handle, to spawn on or enter the runtime.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.shared.rt.as_ref().expect("the runtime lives until the last handle drops").handle()
    }

    /// Runs `f` to completion, blocking this thread. Many threads may block at once.
    ///
    /// # Panics
    /// When called from inside an async context (as tokio's `block_on` does).
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.handle().block_on(f)
    }

    /// Starts `f` on the runtime; the [`Task`] tells when it is done. Its value is `Err` only
    /// when `f` panicked (a bug): the panic is caught so that whoever waits is told, and a
    /// binding reports it as its language's error instead of unwinding into foreign code.
    pub fn spawn<F>(&self, f: F) -> Task<Result<F::Output, Panic>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let slot = Arc::new(Slot {
            state: Mutex::new(State::Running(None)),
            done: Condvar::new(),
            dropped: AtomicBool::new(false),
        });
        let completer = slot.clone();
        // A running task keeps the runtime up, even one whose handle was dropped for a
        // callback; the marker tells a cancel when the future has been dropped.
        let f = Watched { fut: Box::pin(f), _keep: self.clone(), _gone: Gone(slot.clone()) };
        let join = self.handle().spawn(async move {
            // `f` and its runtime handle are gone before the value is handed over, so whoever
            // takes it and then drops the last handle of its own stops the runtime from
            // outside (waiting for the threads), not from inside (leaving them running).
            let value = f.await;
            completer.complete(value);
        });
        Task { slot, abort: join.abort_handle() }
    }
}

/// An engine future panicked: the message it panicked with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Panic {
    message: String,
}

impl Panic {
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for Panic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "beamlink engine panicked: {}", self.message)
    }
}

impl std::error::Error for Panic {}

type Callback<T> = Box<dyn FnOnce(T) + Send>;

enum State<T> {
    /// Not done; the callback to call with the value, if one was given.
    Running(Option<Callback<T>>),
    Done(T),
    /// The value was taken, handed to the callback, or the task was cancelled.
    Over,
}

struct Slot<T> {
    state: Mutex<State<T>>,
    done: Condvar,
    /// The future is gone: finished or dropped after a cancel.
    dropped: AtomicBool,
}

/// Marks its slot's future as dropped (see [`Slot::wait_dropped`]).
struct Gone<T>(Arc<Slot<T>>);

/// A task's future with the runtime handle it holds and its [`Gone`] marker; fields drop in
/// order, the marker last.
struct Watched<F: Future> {
    fut: Pin<Box<F>>,
    _keep: Runtime,
    _gone: Gone<Result<F::Output, Panic>>,
}

impl<F: Future> Future for Watched<F> {
    type Output = Result<F::Output, Panic>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.fut.as_mut();
        // After a panic the future is never polled again, so a broken invariant inside it
        // cannot be observed: asserting unwind safety is sound here.
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".to_string());
                Poll::Ready(Err(Panic { message }))
            }
        }
    }
}

impl<T> Drop for Gone<T> {
    fn drop(&mut self) {
        // Under the lock, so a waiter cannot check the flag and then miss the wake-up.
        let state = self.0.lock();
        self.0.dropped.store(true, Ordering::SeqCst);
        drop(state);
        self.0.done.notify_all();
    }
}

impl<T> Slot<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, State<T>> {
        // A panicking callback runs outside the lock, so poisoning only means a waiter
        // panicked; the state itself is always whole.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Blocks until the future has been dropped (at most [`CANCEL_GRACE`]), so the engine's
    /// clean-up (an erpc call's kill signal, say) has run when a cancel returns. Not on an
    /// engine thread, which may be the very one that has to drop it.
    fn wait_dropped(&self) {
        if tokio::runtime::Handle::try_current().is_ok() {
            return;
        }
        let deadline = Instant::now() + CANCEL_GRACE;
        let mut state = self.lock();
        while !self.dropped.load(Ordering::SeqCst) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            state = self.done.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn complete(&self, value: T) {
        let mut state = self.lock();
        match std::mem::replace(&mut *state, State::Over) {
            State::Running(Some(callback)) => {
                drop(state);
                callback(value);
            }
            State::Running(None) => {
                *state = State::Done(value);
                drop(state);
                self.done.notify_all();
            }
            // Cancelled while finishing: the value is dropped.
            State::Over | State::Done(_) => {}
        }
    }
}

/// An engine future running on the shared [`Runtime`]. Dropping the task cancels it unless it
/// was handed a callback with [`on_complete`](Task::on_complete).
pub struct Task<T> {
    slot: Arc<Slot<T>>,
    abort: tokio::task::AbortHandle,
}

impl<T> std::fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let finished = !matches!(&*self.slot.lock(), State::Running(_));
        f.debug_struct("Task").field("finished", &finished).finish()
    }
}

impl<T: Send + 'static> Task<T> {
    /// Blocks until the value is in (and takes it) or `timeout` passes (`None`: no limit).
    /// `None` when the time ran out, or when the value was already taken or the task
    /// cancelled.
    pub fn wait(&self, timeout: Option<Duration>) -> Option<T> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut state = self.slot.lock();
        loop {
            match &*state {
                State::Done(_) => return take(&mut state),
                State::Over => return None,
                State::Running(_) => {}
            }
            state = match deadline {
                None => self.slot.done.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return None;
                    }
                    self.slot.done.wait_timeout(state, left).unwrap_or_else(|p| p.into_inner()).0
                }
            };
        }
    }

    /// Like [`wait`](Self::wait), waking every `every` to run `check` (a binding looks for
    /// pending signals there, Python's Ctrl-C say). When `check` fails the task is cancelled
    /// and its error returned.
    ///
    /// ```
    /// use std::time::Duration;
    /// use beamlink::runtime::Runtime;
    /// let rt = Runtime::shared().unwrap();
    /// let task = rt.spawn(std::future::pending::<()>());
    /// let mut checks = 0;
    /// let r = task.wait_checking(None, Duration::from_millis(5), || {
    ///     checks += 1;
    ///     if checks == 3 { Err("interrupted") } else { Ok(()) }
    /// });
    /// assert_eq!(r, Err("interrupted"));
    /// assert!(task.wait(Some(Duration::ZERO)).is_none()); // cancelled
    /// ```
    pub fn wait_checking<E>(
        &self,
        timeout: Option<Duration>,
        every: Duration,
        mut check: impl FnMut() -> Result<(), E>,
    ) -> Result<Option<T>, E> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let slice = match deadline {
                Some(d) => every.min(d.saturating_duration_since(Instant::now())),
                None => every,
            };
            if let Some(v) = self.wait(Some(slice)) {
                return Ok(Some(v));
            }
            if !matches!(&*self.slot.lock(), State::Running(_)) {
                return Ok(None);
            }
            if let Err(e) = check() {
                self.cancel();
                return Err(e);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// The value if it is in, without blocking (for callers that poll).
    pub fn try_take(&self) -> Option<T> {
        let mut state = self.slot.lock();
        take(&mut state)
    }

    /// Whether the future has finished (its value may already have been taken).
    pub fn is_finished(&self) -> bool {
        !matches!(&*self.slot.lock(), State::Running(_))
    }

    /// Cancels the task: its future is dropped on the runtime (running the engine's clean-up)
    /// and no value or callback follows. A value already in is dropped. Called outside the
    /// runtime, it returns once the future is gone, so what the clean-up sends (an erpc
    /// call's kill signal) is out before, say, the caller closes the node.
    pub fn cancel(&self) {
        *self.slot.lock() = State::Over;
        self.abort.abort();
        self.slot.wait_dropped();
    }

    /// Hands the value to `callback` once it is in, on an engine thread (or on this thread
    /// when it is already in). The task is then detached: nothing cancels it but the
    /// returned [`Cancel`].
    pub fn on_complete(self, callback: impl FnOnce(T) + Send + 'static) -> Cancel {
        let cancel = Cancel { abort: self.abort.clone(), slot: self.slot.clone() };
        let mut state = self.slot.lock();
        match std::mem::replace(&mut *state, State::Over) {
            State::Done(v) => {
                drop(state);
                callback(v);
            }
            State::Running(_) => *state = State::Running(Some(Box::new(callback))),
            State::Over => {}
        }
        // Dropping `self` now leaves the task running: it has a callback.
        cancel
    }
}

fn take<T>(state: &mut State<T>) -> Option<T> {
    match std::mem::replace(state, State::Over) {
        State::Done(v) => Some(v),
        other => {
            *state = other;
            None
        }
    }
}

impl<T> Drop for Task<T> {
    // Cancels a waiting task (see the type's docs).
    fn drop(&mut self) {
        let mut state = self.slot.lock();
        // A task with a callback is detached; only the waiting kind is cancelled by drop.
        if matches!(&*state, State::Running(None)) {
            *state = State::Over;
            drop(state);
            self.abort.abort();
        }
    }
}

/// Cancels a task that was handed a callback; the callback is then never called.
pub struct Cancel {
    abort: tokio::task::AbortHandle,
    slot: Arc<dyn CancelSlot>,
}

impl std::fmt::Debug for Cancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cancel")
    }
}

trait CancelSlot: Send + Sync {
    fn cancel(&self);
    fn wait_dropped(&self);
}

impl<T: Send> CancelSlot for Slot<T> {
    fn cancel(&self) {
        *self.lock() = State::Over;
    }

    fn wait_dropped(&self) {
        Slot::wait_dropped(self);
    }
}

impl Cancel {
    /// Drops the future on the runtime; the callback will not run (unless it already has).
    /// Like [`Task::cancel`], returns once the future is gone when called outside the runtime.
    pub fn cancel(&self) {
        self.slot.cancel();
        self.abort.abort();
        self.slot.wait_dropped();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct SetOnDrop(Arc<AtomicBool>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    fn wait_for(flag: &AtomicBool) -> bool {
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if flag.load(Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        false
    }

    #[test]
    fn handles_share_one_runtime() {
        let a = Runtime::shared().unwrap();
        let b = Runtime::shared().unwrap();
        assert!(Arc::ptr_eq(&a.shared, &b.shared));
    }

    #[test]
    fn timeout_leaves_the_task_running_and_a_later_wait_gets_the_value() {
        let rt = Runtime::shared().unwrap();
        let task = rt.spawn(async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            7
        });
        assert_eq!(task.wait(Some(Duration::from_millis(1))), None);
        assert!(!task.is_finished());
        assert_eq!(task.wait(None), Some(Ok(7)));
        assert!(task.is_finished());
        assert_eq!(task.try_take(), None, "taken once");
    }

    #[test]
    fn dropping_a_task_drops_its_future() {
        let rt = Runtime::shared().unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        let task = rt.spawn(async move {
            let _g = guard;
            std::future::pending::<()>().await
        });
        drop(task);
        assert!(wait_for(&dropped));
    }

    #[test]
    fn cancel_returns_once_the_future_is_dropped() {
        let rt = Runtime::shared().unwrap();
        for _ in 0..50 {
            let dropped = Arc::new(AtomicBool::new(false));
            let guard = SetOnDrop(dropped.clone());
            let task = rt.spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await
            });
            task.cancel();
            assert!(dropped.load(Ordering::SeqCst), "the clean-up ran before cancel returned");

            let dropped = Arc::new(AtomicBool::new(false));
            let guard = SetOnDrop(dropped.clone());
            let cancel = rt
                .spawn(async move {
                    let _g = guard;
                    std::future::pending::<()>().await
                })
                .on_complete(|_| {});
            cancel.cancel();
            assert!(dropped.load(Ordering::SeqCst), "the clean-up ran before Cancel::cancel returned");
        }
    }

    #[test]
    fn cancel_of_a_callback_task_drops_future_and_callback_never_runs() {
        let rt = Runtime::shared().unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let called = Arc::new(AtomicBool::new(false));
        let guard = SetOnDrop(dropped.clone());
        let c = called.clone();
        let cancel = rt
            .spawn(async move {
                let _g = guard;
                std::future::pending::<()>().await
            })
            .on_complete(move |_| c.store(true, Ordering::SeqCst));
        cancel.cancel();
        assert!(wait_for(&dropped));
        assert!(!called.load(Ordering::SeqCst));
    }

    #[test]
    fn callback_on_an_already_finished_task_runs_at_once() {
        let rt = Runtime::shared().unwrap();
        let task = rt.spawn(async { 1 });
        while !task.is_finished() {
            std::thread::yield_now();
        }
        let (tx, rx) = std::sync::mpsc::channel();
        task.on_complete(move |v| tx.send(v).unwrap());
        assert_eq!(rx.try_recv(), Ok(Ok(1)));
    }

    #[test]
    fn polling_sees_the_value() {
        let rt = Runtime::shared().unwrap();
        let task = rt.spawn(async { "x" });
        let end = Instant::now() + Duration::from_secs(5);
        let mut got = None;
        while got.is_none() && Instant::now() < end {
            got = task.try_take();
        }
        assert_eq!(got, Some(Ok("x")));
    }

    #[test]
    fn a_panicking_future_completes_its_task_with_the_message() {
        let rt = Runtime::shared().unwrap();
        let task = rt.spawn(async {
            tokio::task::yield_now().await;
            panic!("engine bug {}", 7);
        });
        let r: Result<(), Panic> = task.wait(Some(Duration::from_secs(5))).expect("completed");
        assert_eq!(r.unwrap_err().message(), "engine bug 7");
        // The runtime is still fine.
        assert_eq!(rt.spawn(async { 1 }).wait(None), Some(Ok(1)));
    }
}
