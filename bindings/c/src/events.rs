//! Node up/down events (`net_kernel:monitor_nodes/1`): a pollable stream, and a callback form
//! that re-arms one engine task per event through `Task::on_complete`.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::{Arc, Mutex};

use beamlink::NodeEvent;
use beamlink::runtime::{Cancel, Runtime};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::ffi::{self, entry};
use crate::node::bl_node;
use crate::status::{Failure, bl_status};
use crate::wait::{self, Guarded};

/// The kind of a bl_event.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum bl_event_kind {
    /// A connection to `node` came up.
    BL_NODE_UP = 1,
    /// The connection to `node` went down; `reason` says why.
    BL_NODE_DOWN = 2,
}

/// A node event. Plain data: nothing to free.
#[repr(C)]
#[derive(Debug)]
pub struct bl_event {
    /// A bl_event_kind.
    pub kind: c_int,
    /// The other node's name, NUL-terminated (node names are at most 255 bytes).
    pub node: [c_char; 256],
    /// BL_NODE_DOWN: why, NUL-terminated (cut at 255 bytes); empty for BL_NODE_UP.
    pub reason: [c_char; 256],
}

fn fill(dst: &mut [c_char; 256], s: &str) {
    let mut n = s.len().min(255);
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    for (d, b) in dst.iter_mut().zip(s.as_bytes()[..n].iter()) {
        *d = *b as c_char;
    }
    dst[n] = 0;
}

impl bl_event {
    fn empty() -> bl_event {
        bl_event { kind: 0, node: [0; 256], reason: [0; 256] }
    }

    fn from_event(e: &NodeEvent) -> bl_event {
        let mut out = bl_event::empty();
        match e {
            NodeEvent::Up { node } => {
                out.kind = bl_event_kind::BL_NODE_UP as c_int;
                fill(&mut out.node, node.as_str());
            }
            NodeEvent::Down { node, reason } => {
                out.kind = bl_event_kind::BL_NODE_DOWN as c_int;
                fill(&mut out.node, node.as_str());
                fill(&mut out.reason, reason);
            }
        }
        out
    }
}

type Receiver = Arc<tokio::sync::Mutex<broadcast::Receiver<NodeEvent>>>;

/// The next event; `None` when the node is gone. Events missed by a slow reader are skipped.
async fn next(rx: Receiver) -> Option<NodeEvent> {
    let mut rx = rx.lock().await;
    loop {
        match rx.recv().await {
            Ok(e) => return Some(e),
            Err(RecvError::Lagged(_)) => continue,
            Err(RecvError::Closed) => return None,
        }
    }
}

/// A stream of the node's up/down events from the moment it was opened. Opaque; from
/// bl_events_open(), freed with bl_events_close().
pub struct bl_events {
    rt: Runtime,
    rx: Receiver,
}

/// Opens a stream of the node's events (from now on; up to 256 unread are kept, older ones
/// are dropped).
///
/// Ownership: `*out` belongs to the caller (bl_events_close()). Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_events_open(node: *mut bl_node, out: *mut *mut bl_events) -> c_int {
    entry("bl_events_open", || {
        let out = unsafe { ffi::out(out, ptr::null_mut(), "out") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let rx = Arc::new(tokio::sync::Mutex::new(n.node.subscribe()));
        out.set(Box::into_raw(Box::new(bl_events { rt: n.rt.clone(), rx })));
        Ok(())
    })
}

/// The next event, waiting up to `timeout_ms` (0: only look). Returns BL_OK with `*event`
/// filled, BL_TIMEOUT when none came, or BL_NO_CONNECTION when the node was closed.
///
/// Ownership: `*event` is the caller's. Thread safety: any thread; concurrent calls each take
/// a different event.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_events_next(
    events: *mut bl_events,
    timeout_ms: c_int,
    event: *mut bl_event,
) -> c_int {
    entry("bl_events_next", || {
        let event = unsafe { ffi::out(event, bl_event::empty(), "event") }?;
        let ev = unsafe { ffi::handle(events, "events") }?;
        let rx = ev.rx.clone();
        let limit = ffi::timeout_or_long(timeout_ms);
        // The engine's timeout ends the wait (see wait::run_until): an event is never dropped.
        let got = wait::run_until(&ev.rt, "bl_events_next", ffi::timeout(timeout_ms), async move {
            tokio::time::timeout(limit, next(rx)).await
        })?;
        match got {
            Ok(Some(e)) => {
                event.set(bl_event::from_event(&e));
                Ok(())
            }
            Ok(None) => Err(Failure::new(bl_status::BL_NO_CONNECTION, "the node was closed: no more events")),
            Err(_) => {
                Err(Failure::new(bl_status::BL_TIMEOUT, format_args!("no node event within {timeout_ms} ms")))
            }
        }
    })
}

/// Closes the stream. NULL is a no-op.
///
/// Ownership: frees `events`. Thread safety: no other thread may be using `events`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_events_close(events: *mut bl_events) {
    crate::ffi::entry_value("bl_events_close", (), || {
        if !events.is_null() {
            // SAFETY: a stream from bl_events_open, closed once, per the contract.
            drop(unsafe { Box::from_raw(events) });
        }
    })
}

/// Called on an engine thread for each node event given to bl_node_watch(). `event` is valid
/// during the call only. The callback must return promptly and must not call blocking
/// beamlink functions (it may call bl_watch_stop() on its own watch).
pub type bl_event_cb = Option<unsafe extern "C" fn(event: *const bl_event, userdata: *mut c_void)>;

/// A callback receiving a node's events. Opaque; from bl_node_watch(), freed with
/// bl_watch_stop().
pub struct bl_watch {
    shared: Arc<Watch>,
}

struct Watch {
    rt: Runtime,
    rx: Receiver,
    callback: unsafe extern "C" fn(*const bl_event, *mut c_void),
    userdata: UserData,
    guard: Guarded,
    /// The task waiting for the next event, with its arming number (a newer one replaces an
    /// older one, never the reverse, even when a callback re-arms before its caller stores).
    pending: Mutex<Option<(u64, Cancel)>>,
}

struct UserData(*mut c_void);
// SAFETY: handed back to the caller's callback only; the caller synchronises what it points to.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

impl Watch {
    /// Waits for the next event in an engine task that calls back and re-arms.
    fn arm(self: &Arc<Self>, seq: u64) {
        if self.guard.is_stopped() {
            return;
        }
        let me = self.clone();
        let cancel = wait::start(&self.rt, next(self.rx.clone())).on_complete(move |got| {
            // A panic in the engine future ends the watch, as a closed node does.
            let Ok(Some(e)) = got else { return };
            let ev = bl_event::from_event(&e);
            let go_on = me.guard.invoke(|| unsafe { (me.callback)(&ev, me.userdata.0) });
            if go_on {
                me.arm(seq + 1);
            }
        });
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        match &*pending {
            Some((newer, _)) if *newer > seq => {}
            _ => *pending = Some((seq, cancel)),
        }
        drop(pending);
        if self.guard.is_stopped() {
            self.cancel_pending();
        }
    }

    fn cancel_pending(&self) {
        if let Some((_, c)) = self.pending.lock().unwrap_or_else(|p| p.into_inner()).take() {
            c.cancel();
        }
    }
}

/// Calls `callback(event, userdata)` for each up/down event of the node from now on, on an
/// engine thread, one event at a time, until bl_watch_stop().
///
/// Ownership: `*out` belongs to the caller (bl_watch_stop()); `userdata` stays the caller's.
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_node_watch(
    node: *mut bl_node,
    callback: bl_event_cb,
    userdata: *mut c_void,
    out: *mut *mut bl_watch,
) -> c_int {
    entry("bl_node_watch", || {
        let out = unsafe { ffi::out(out, ptr::null_mut(), "out") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let Some(callback) = callback else { return Err(Failure::bad_argument("callback is NULL")) };
        let shared = Arc::new(Watch {
            rt: n.rt.clone(),
            rx: Arc::new(tokio::sync::Mutex::new(n.node.subscribe())),
            callback,
            userdata: UserData(userdata),
            guard: Guarded::default(),
            pending: Mutex::new(None),
        });
        shared.arm(0);
        out.set(Box::into_raw(Box::new(bl_watch { shared })));
        Ok(())
    })
}

/// Stops the callbacks and frees the watch. Once it returns, the callback is not running
/// (unless this is called from the callback itself) and will not be called again. NULL is a
/// no-op.
///
/// Ownership: frees `watch`. Thread safety: any thread, once per watch; may be called from
/// the watch's own callback.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_watch_stop(watch: *mut bl_watch) {
    crate::ffi::entry_value("bl_watch_stop", (), || {
        if watch.is_null() {
            return;
        }
        // SAFETY: a watch from bl_node_watch, stopped once, per the contract.
        let w = unsafe { Box::from_raw(watch) };
        w.shared.guard.stop();
        w.shared.cancel_pending();
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_on_a_character() {
        let e = NodeEvent::Down { node: "a@b".into(), reason: "é".repeat(200) };
        let c = bl_event::from_event(&e);
        let reason = unsafe { std::ffi::CStr::from_ptr(c.reason.as_ptr()) }.to_str().unwrap();
        assert_eq!(reason.len(), 254);
        assert_eq!(c.kind, bl_event_kind::BL_NODE_DOWN as c_int);
    }
}
