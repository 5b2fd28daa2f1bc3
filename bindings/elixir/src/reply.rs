//! The one completion path: an engine future runs on the shared runtime as a
//! [`beamlink::runtime::Task`], and [`Task::on_complete`](beamlink::runtime::Task::on_complete)
//! sends its result to the calling process as `{:"$beamlink", tag, result}` with
//! `OwnedEnv::send_and_clear`, from an engine thread.
//!
//! The tag is a [`Pending`] resource, returned by the NIF that started the work. It monitors
//! the caller: when the caller dies the task is cancelled, which drops the engine future (an
//! erpc call then gives up its monitor and the remote work is stopped by the engine). The
//! Elixir side cancels it explicitly with `Native.cancel/1` when it stops waiting.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

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

/// Starts `work` on `rt`; when it is done, `reply` builds the result term in the message's
/// environment on the engine thread, and the caller receives `{:"$beamlink", tag, result}`.
/// Returns the tag.
pub(crate) fn start<'a, T, F, R>(env: Env<'a>, rt: &Runtime, work: F, reply: R) -> Term<'a>
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
            let mut msg = OwnedEnv::new();
            // The caller may be gone: then there is nobody to tell.
            let _ = msg.send_and_clear(&caller, |e| {
                let body = match outcome {
                    Ok(value) => catch_unwind(AssertUnwindSafe(|| reply(e, value)))
                        .unwrap_or_else(|p| guard::panic_error(e, &guard::message(p))),
                    Err(panic) => guard::panic_error(e, panic.message()),
                };
                (atoms::beamlink(), tag.clone(), body).encode(e)
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
        let tag = start(env, node.rt(), async {}, |e, ()| atoms::ok().encode(e));
        (atoms::ok(), tag).encode(env)
    })
}
