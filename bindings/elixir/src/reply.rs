//! The one completion path: an engine future runs on the shared runtime as a
//! [`beamlink::runtime::Task`], and [`Task::on_complete`](beamlink::runtime::Task::on_complete)
//! sends its result to the calling process as `{:"$beamlink", tag, result}` with
//! `OwnedEnv::send_and_clear`, from an engine thread.
//!
//! An operation's first step runs on the calling scheduler (see [`start`]); the rest runs on
//! the engine's threads.
//!
//! The tag is a [`Pending`] resource, returned by the NIF that started the work. It monitors
//! the caller: when the caller dies the task is cancelled, which drops the engine future (an
//! erpc call then gives up its monitor and the remote work is stopped by the engine). The
//! Elixir side cancels it explicitly with `Native.cancel/1` when it stops waiting.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use beamlink::runtime::{Cancel, Runtime};
use rustler::thread::is_scheduler_thread;
use rustler::{Encoder, Env, LocalPid, Monitor, OwnedEnv, Resource, ResourceArc, Term};

use crate::atoms;
use crate::guard;

/// An operation in flight, and the tag its result comes with.
#[derive(Default)]
pub(crate) struct Pending {
    cancel: Mutex<Option<Cancel>>,
    monitor: Mutex<Option<Monitor>>,
}

#[rustler::resource_impl]
impl Resource for Pending {
    /// The caller died: nobody wants the result any more.
    fn down<'a>(&'a self, _env: Env<'a>, _pid: LocalPid, _mon: Monitor) {
        self.cancel_now();
    }
}

impl Pending {
    fn cancel_now(&self) {
        let cancel = self.cancel.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(c) = cancel {
            c.cancel();
        }
    }
}

/// Starts `work`; when it is done, `reply` builds the result term in the message's
/// environment and the caller receives `{:"$beamlink", tag, result}`. Returns the tag.
///
/// The future is polled once here, on the calling scheduler, inside the engine runtime's
/// context: that first step of an engine operation only does what takes no waiting (a call
/// writes its request to the socket without blocking), so the request is on its way without
/// first waking an engine thread. Then the future goes to the runtime, which finishes it; the
/// network is never waited for here. For operations whose first step may do more than that
/// (reading a cookie file), use [`start_on_engine`].
pub(crate) fn start<'a, T, F, R>(env: Env<'a>, rt: &Runtime, work: F, reply: R) -> Term<'a>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    R: for<'b> FnOnce(Env<'b>, T) -> Term<'b> + Send + 'static,
{
    let mut work: Pin<Box<dyn Future<Output = T> + Send>> = Box::pin(work);
    let first = {
        let _in_runtime = rt.handle().enter();
        // The runtime catches panics in the steps it runs; this one is ours to catch.
        catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(&mut Context::from_waker(Waker::noop()))))
    };
    let outcome = match first {
        Ok(Poll::Pending) => return hand_over(env, rt, work, reply),
        Ok(Poll::Ready(value)) => Ok(value),
        Err(p) => Err(guard::message(p)),
    };
    // Done already: the answer goes straight to the caller (this very process).
    let tag = ResourceArc::new(Pending::default());
    let body = body(env, outcome, reply);
    let _ = env.send(&env.pid(), (atoms::beamlink(), tag.clone(), body).encode(env));
    tag.encode(env)
}

/// Like [`start`], with every step of `work` on an engine thread.
pub(crate) fn start_on_engine<'a, T, F, R>(env: Env<'a>, rt: &Runtime, work: F, reply: R) -> Term<'a>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    R: for<'b> FnOnce(Env<'b>, T) -> Term<'b> + Send + 'static,
{
    hand_over(env, rt, work, reply)
}

/// The result term of an outcome; a panic in `work` or in `reply` is `{:error, {:panic, _}}`.
fn body<'b, T, R>(e: Env<'b>, outcome: Result<T, String>, reply: R) -> Term<'b>
where
    R: FnOnce(Env<'b>, T) -> Term<'b>,
{
    match outcome {
        Ok(value) => catch_unwind(AssertUnwindSafe(|| reply(e, value)))
            .unwrap_or_else(|p| guard::panic_error(e, &guard::message(p))),
        Err(panic) => guard::panic_error(e, &panic),
    }
}

/// Runs `work` on the runtime (which turns a panic in it into an error); its completion
/// callback sends the result.
fn hand_over<'a, T, F, R>(env: Env<'a>, rt: &Runtime, work: F, reply: R) -> Term<'a>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
    R: for<'b> FnOnce(Env<'b>, T) -> Term<'b> + Send + 'static,
{
    let pending = ResourceArc::new(Pending::default());
    let caller = env.pid();
    *pending.monitor.lock().unwrap_or_else(|p| p.into_inner()) = pending.monitor(Some(env), &caller);
    let tag = pending.clone();
    let rt_for_send = rt.clone();
    let cancel = rt.spawn(work).on_complete(move |outcome| {
        let send = move || {
            let monitor = tag.monitor.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(m) = monitor {
                tag.demonitor(None, &m);
            }
            drop(tag.cancel.lock().unwrap_or_else(|p| p.into_inner()).take());
            let outcome = outcome.map_err(|panic| panic.message().to_string());
            let mut msg = OwnedEnv::new();
            // The caller may be gone: then there is nobody to tell.
            let _ = msg.send_and_clear(&caller, |e| {
                (atoms::beamlink(), tag.clone(), body(e, outcome, reply)).encode(e)
            });
        };
        if is_scheduler_thread() {
            // Finished before the callback was attached: it runs here, inside the NIF, where
            // a message cannot be sent from an owned environment. Send from the engine.
            rt_for_send.handle().spawn(async move { send() });
        } else {
            send();
        }
    });
    *pending.cancel.lock().unwrap_or_else(|p| p.into_inner()) = Some(cancel);
    pending.encode(env)
}

/// Stops waiting for an operation: its engine future is dropped and no result will come.
#[rustler::nif]
fn cancel(pending: ResourceArc<Pending>) -> rustler::Atom {
    pending.cancel_now();
    atoms::ok()
}

/// The completion path alone: an engine future that does nothing, its `:ok` sent back. What
/// every operation costs on top of its engine work (measured by `make bench`).
#[rustler::nif]
fn roundtrip<'a>(env: Env<'a>, node: ResourceArc<crate::node::NodeRes>) -> Term<'a> {
    guard::nif(env, || {
        let tag = start_on_engine(env, node.rt(), async {}, |e, ()| atoms::ok().encode(e));
        (atoms::ok(), tag).encode(env)
    })
}
