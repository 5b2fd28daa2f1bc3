//! Panics never cross into the VM: NIF bodies run under `catch_unwind` (engine futures are
//! caught by the engine's runtime), and a panic becomes the error `{:panic, message}`.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

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
