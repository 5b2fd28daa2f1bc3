//! Remote spawns whose output comes back: a pollable stream of output chunks and the exit.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;

use beamlink::rpc::{SpawnEvent, SpawnOptions, Spawned};
use beamlink::runtime::Runtime;
use beamlink::term::Term;
use tokio::sync::Mutex;

use crate::buf::bl_buf;
use crate::ffi::{self, entry};
use crate::node::bl_node;
use crate::status::{Failure, bl_status};
use crate::term;
use crate::wait;

/// A process spawned on another node by bl_spawn(), its output coming back to us. Opaque;
/// freed with bl_spawned_free().
pub struct bl_spawned {
    rt: Runtime,
    inner: Arc<Mutex<Spawned>>,
    pid: Vec<u8>,
    label: String,
}

/// What bl_spawned_next() returned.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum bl_spawn_event_kind {
    /// Text the process printed (one I/O request's worth), UTF-8.
    BL_SPAWN_OUTPUT = 1,
    /// The process ended; comes after all of its output.
    BL_SPAWN_EXIT = 2,
}

/// One event of a spawned process. Free it with bl_spawn_event_free().
#[repr(C)]
#[derive(Debug)]
pub struct bl_spawn_event {
    /// A bl_spawn_event_kind.
    pub kind: c_int,
    /// BL_SPAWN_OUTPUT: the text (NUL-terminated). BL_SPAWN_EXIT: the exit reason as ETF.
    pub data: bl_buf,
}

/// Frees an event's data and empties it. NULL is a no-op.
///
/// Ownership: takes back what `event` holds. Thread safety: any thread, one call per event.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_spawn_event_free(event: *mut bl_spawn_event) {
    // SAFETY: NULL or an event the library filled, per the contract.
    if let Some(e) = unsafe { event.as_mut() } {
        unsafe { crate::buf::bl_buf_free(&mut e.data) };
        e.kind = 0;
    }
}

/// Spawns `module:function(args...)` on `target` (`Node.spawn/4`, `spawn_request`), with this
/// side serving its I/O: what it prints (`io:format`, `IO.puts`) comes back through
/// bl_spawned_next(), and its reads get end-of-file. `args` as for bl_call(). Waits up to
/// `timeout_ms` for the target's answer.
/// Returns BL_OK with `*out` set, or BL_SPAWN_FAILED (the node refused: error term is its
/// reason), BL_NO_CONNECTION, BL_TIMEOUT, a connection failure's status, BL_DECODE,
/// BL_BAD_ARGUMENT.
///
/// Ownership: `*out` belongs to the caller (bl_spawned_free()); the arguments are copied.
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_spawn(
    node: *mut bl_node,
    target: *const c_char,
    module: *const c_char,
    function: *const c_char,
    args: *const c_void,
    args_len: usize,
    timeout_ms: c_int,
    out: *mut *mut bl_spawned,
) -> c_int {
    entry("bl_spawn", || {
        let out = unsafe { ffi::out(out, ptr::null_mut(), "out") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let target = unsafe { ffi::text(target, "target") }?.to_string();
        let module = unsafe { ffi::text(module, "module") }?.to_string();
        let function = unsafe { ffi::text(function, "function") }?.to_string();
        let args = unsafe { term::args(args, args_len) }?;
        let node = n.node.clone();
        let options = SpawnOptions { timeout: ffi::timeout_or_long(timeout_ms), ..SpawnOptions::default() };
        let spawned = n.run("bl_spawn", timeout_ms, async move {
            node.connect(&target).await.map_err(Failure::node)?;
            node.spawn(&target, &module, &function, args, options).await.map_err(Failure::call)
        })?;
        let pid = beamlink::term::encode(&Term::Pid(spawned.pid.clone()));
        let label = Term::Pid(spawned.pid.clone()).to_string();
        let s = bl_spawned { rt: n.rt.clone(), inner: Arc::new(Mutex::new(spawned)), pid, label };
        out.set(Box::into_raw(Box::new(s)));
        Ok(())
    })
}

/// The spawned process's pid as ETF.
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_spawned_pid(spawned: *const bl_spawned, out: *mut bl_buf) -> c_int {
    entry("bl_spawned_pid", || {
        let out = unsafe { ffi::out(out, bl_buf::empty(), "out") }?;
        let s = unsafe { ffi::handle(spawned, "spawned") }?;
        out.set(bl_buf::from_vec(s.pid.clone()));
        Ok(())
    })
}

/// The next thing the spawned process did, waiting up to `timeout_ms` (0: only look): a chunk
/// of output, or (after all of its output) its exit, which is returned again by every later
/// call. Returns BL_OK with `*event` filled, BL_TIMEOUT when nothing happened in time, or
/// BL_NO_CONNECTION if its node cannot be reached to watch it.
///
/// Ownership: `*event` is overwritten (emptied unless BL_OK) and belongs to the caller
/// (bl_spawn_event_free()). Thread safety: any thread; concurrent calls take turns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_spawned_next(
    spawned: *mut bl_spawned,
    timeout_ms: c_int,
    event: *mut bl_spawn_event,
) -> c_int {
    entry("bl_spawned_next", || {
        let event = unsafe { ffi::out(event, bl_spawn_event { kind: 0, data: bl_buf::empty() }, "event") }?;
        let s = unsafe { ffi::handle(spawned, "spawned") }?;
        let inner = s.inner.clone();
        let limit = ffi::timeout_or_long(timeout_ms);
        let t = ffi::timeout(timeout_ms);
        // The engine's timeout ends the wait (see wait::run_until): an event is never dropped.
        let got = wait::run_until(&s.rt, "bl_spawned_next", t, async move {
            let start = tokio::time::Instant::now();
            let mut guard = inner.lock().await;
            let left = limit.saturating_sub(start.elapsed());
            guard.next_event(left).await
        })?
        .map_err(Failure::call)?;
        let e = match got {
            Some(SpawnEvent::Output(text)) => bl_spawn_event {
                kind: bl_spawn_event_kind::BL_SPAWN_OUTPUT as c_int,
                data: bl_buf::from_string(text),
            },
            Some(SpawnEvent::Exit(reason)) => bl_spawn_event {
                kind: bl_spawn_event_kind::BL_SPAWN_EXIT as c_int,
                data: term::encoded(&reason),
            },
            None => {
                return Err(Failure::new(
                    bl_status::BL_TIMEOUT,
                    format_args!("{}: no output or exit within {timeout_ms} ms", s.label),
                ));
            }
        };
        event.set(e);
        Ok(())
    })
}

/// Frees the handle. The remote process goes on; its further output is dropped. NULL is a
/// no-op.
///
/// Ownership: frees `spawned`. Thread safety: no other thread may be using `spawned`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_spawned_free(spawned: *mut bl_spawned) {
    crate::ffi::entry_value("bl_spawned_free", (), || {
        if !spawned.is_null() {
            // SAFETY: a handle from bl_spawn, freed once, per the contract.
            drop(unsafe { Box::from_raw(spawned) });
        }
    })
}
