//! Panics never cross into the VM: NIF bodies and engine futures run under `catch_unwind`,
//! and a panic becomes the error `{:panic, message}`.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use rustler::{Encoder, Env, Term};

use crate::atoms;

/// The text of a panic payload.
pub(crate) fn message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => match p.downcast::<&'static str>() {
            Ok(s) => s.to_string(),
            Err(_) => "panic with a non-text payload".to_string(),
        },
    }
}

/// `{:error, {:panic, message}}`.
pub(crate) fn panic_error<'a>(env: Env<'a>, message: &str) -> Term<'a> {
    (atoms::error(), (atoms::panic(), message)).encode(env)
}

/// Runs a NIF body; a panic in it returns `{:error, {:panic, message}}` instead.
pub(crate) fn nif<'a>(env: Env<'a>, body: impl FnOnce() -> Term<'a>) -> Term<'a> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(t) => t,
        Err(p) => panic_error(env, &message(p)),
    }
}

/// A future whose panics come out as `Err(message)` (the engine's runtime would otherwise
/// swallow them with the task, and the caller would wait for a reply that never comes).
pub(crate) struct CatchUnwind<T> {
    inner: Pin<Box<dyn Future<Output = T> + Send>>,
}

impl<T> CatchUnwind<T> {
    pub(crate) fn new(f: impl Future<Output = T> + Send + 'static) -> CatchUnwind<T> {
        CatchUnwind { inner: Box::pin(f) }
    }
}

impl<T> Future for CatchUnwind<T> {
    type Output = Result<T, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.inner.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(message(p))),
        }
    }
}

/// For the test suite: panics in a NIF body (`:nif`), in an engine future (`:engine`) or
/// while building a reply (`:reply`), to show each comes back as an error and the VM lives on.
#[rustler::nif]
fn panic_for_test<'a>(
    env: Env<'a>,
    node: rustler::ResourceArc<crate::node::NodeRes>,
    place: rustler::Atom,
) -> Term<'a> {
    nif(env, || {
        let place = place.to_term(env).atom_to_string().unwrap_or_default();
        match place.as_str() {
            "engine" => {
                let tag = crate::reply::start(
                    env,
                    node.rt(),
                    async { panic!("engine future panicked on purpose") },
                    |e, ()| atoms::ok().encode(e),
                );
                (atoms::ok(), tag).encode(env)
            }
            "reply" => {
                let tag = crate::reply::start(env, node.rt(), async {}, |_, ()| {
                    panic!("reply panicked on purpose")
                });
                (atoms::ok(), tag).encode(env)
            }
            _ => panic!("NIF body panicked on purpose"),
        }
    })
}
