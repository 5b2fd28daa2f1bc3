//! Local processes: a pid with a mailbox, names, sending, receiving, links and monitors.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;

use beamlink::runtime::Runtime;
use beamlink::term::Term;
use beamlink::{Message, Process};

use crate::buf::bl_buf;
use crate::ffi::{self, entry};
use crate::node::bl_node;
use crate::status::Failure;
use crate::term;
use crate::wait;

/// A local process of a node: a pid others can send to, link to and monitor, with a mailbox.
/// Opaque; from bl_process_new(), freed with bl_process_free().
pub struct bl_process {
    rt: Runtime,
    proc: Arc<Process>,
    label: String,
}

/// What kind of message bl_receive() returned.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum bl_message_kind {
    /// An ordinary message (`Pid ! Msg`).
    BL_MSG_SEND = 1,
    /// An exit signal from a linked process (beamlink processes trap exits: it never kills).
    BL_MSG_EXIT = 2,
    /// A monitored process (or name) is gone.
    BL_MSG_DOWN = 3,
}

/// A received message. Every buffer is ETF; fields a kind does not use are empty.
/// Free it with bl_message_free().
#[repr(C)]
#[derive(Debug)]
pub struct bl_message {
    /// A bl_message_kind.
    pub kind: c_int,
    /// BL_MSG_SEND: the message. BL_MSG_EXIT, BL_MSG_DOWN: the reason.
    pub data: bl_buf,
    /// BL_MSG_SEND: the sender's pid when the sending node told it (registered-name sends
    /// always do), else empty. BL_MSG_EXIT: the linked pid. BL_MSG_DOWN: the monitored pid
    /// or name.
    pub from: bl_buf,
    /// BL_MSG_DOWN: the monitor reference (as bl_monitor() returned it).
    pub monitor: bl_buf,
}

impl bl_message {
    fn empty() -> bl_message {
        bl_message { kind: 0, data: bl_buf::empty(), from: bl_buf::empty(), monitor: bl_buf::empty() }
    }

    /// `None` for what a C process never asked for (spawn replies).
    fn from_message(m: Message) -> Option<bl_message> {
        let opt = |t: Option<Term>| t.as_ref().map_or_else(bl_buf::empty, term::encoded);
        Some(match m {
            Message::Send { from, payload } => bl_message {
                kind: bl_message_kind::BL_MSG_SEND as c_int,
                data: bl_buf::from_vec(term::etf(payload.bare())),
                from: opt(from.map(Term::Pid)),
                monitor: bl_buf::empty(),
            },
            Message::Exit { from, reason } => bl_message {
                kind: bl_message_kind::BL_MSG_EXIT as c_int,
                data: term::encoded(&reason),
                from: term::encoded(&Term::Pid(from)),
                monitor: bl_buf::empty(),
            },
            Message::Down { reference, object, reason, raw } => bl_message {
                kind: bl_message_kind::BL_MSG_DOWN as c_int,
                data: match raw {
                    Some(p) => bl_buf::from_vec(term::etf(p.bare())),
                    None => term::encoded(&reason),
                },
                from: term::encoded(&object),
                monitor: term::encoded(&Term::Reference(reference)),
            },
            Message::SpawnReply { .. } => return None,
        })
    }
}

/// Frees the buffers of a message and empties it. NULL is a no-op.
///
/// Ownership: takes back what `message` holds. Thread safety: any thread, one call per message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_message_free(message: *mut bl_message) {
    // SAFETY: NULL or a message the library filled, per the contract.
    if let Some(m) = unsafe { message.as_mut() } {
        unsafe {
            crate::buf::bl_buf_free(&mut m.data);
            crate::buf::bl_buf_free(&mut m.from);
            crate::buf::bl_buf_free(&mut m.monitor);
        }
        m.kind = 0;
    }
}

impl bl_process {
    /// Runs a process operation with the caller's timeout; the timeout becomes BL_TIMEOUT.
    fn run<F, T>(&self, what: &str, timeout: c_int, fut: F) -> Result<T, Failure>
    where
        F: std::future::Future<Output = Result<T, Failure>> + Send + 'static,
        T: Send + 'static,
    {
        let t = ffi::timeout(timeout);
        wait::run(&self.rt, what, t, fut)?.unwrap_or_else(|| Err(Failure::timeout(what, t)))
    }
}

/// Creates a local process with an empty mailbox.
///
/// Ownership: `*out` belongs to the caller (bl_process_free()). Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_process_new(node: *mut bl_node, out: *mut *mut bl_process) -> c_int {
    entry("bl_process_new", || {
        let out = unsafe { ffi::out(out, ptr::null_mut(), "out") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let proc = Arc::new(n.node.spawn_process());
        let p = bl_process { rt: n.rt.clone(), label: Term::Pid(proc.pid().clone()).to_string(), proc };
        out.set(Box::into_raw(Box::new(p)));
        Ok(())
    })
}

/// Ends the process (links and monitors see reason `normal`; its name is freed) and frees the
/// handle. NULL is a no-op.
///
/// Ownership: frees `process`. Thread safety: no other thread may be using `process`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_process_free(process: *mut bl_process) {
    crate::ffi::entry_value("bl_process_free", (), || {
        if !process.is_null() {
            // SAFETY: a process from bl_process_new, freed once, per the contract.
            drop(unsafe { Box::from_raw(process) });
        }
    })
}

/// The process's pid as ETF (for ei_decode_pid(), or to put in messages).
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_process_pid(process: *const bl_process, out: *mut bl_buf) -> c_int {
    entry("bl_process_pid", || {
        let out = unsafe { ffi::out(out, bl_buf::empty(), "out") }?;
        let p = unsafe { ffi::handle(process, "process") }?;
        out.set(term::encoded(&Term::Pid(p.proc.pid().clone())));
        Ok(())
    })
}

/// Registers the process under `name` on its node, so others can send to `{name, node}`.
/// Returns BL_OK, or BL_NAME_IN_USE.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_register(process: *mut bl_process, name: *const c_char) -> c_int {
    entry("bl_register", || {
        let p = unsafe { ffi::handle(process, "process") }?;
        let name = unsafe { ffi::text(name, "name") }?;
        p.proc.register(name).map_err(Failure::node)
    })
}

/// Sends the ETF term `msg` to the pid `to` (ETF), local or remote, connecting to its node if
/// needed (within `timeout_ms`). Returns BL_OK once the message is handed to the connection
/// (as `!`, nothing tells whether it arrives), or BL_NO_CONNECTION, BL_TIMEOUT, BL_DECODE,
/// BL_BAD_ARGUMENT (`to` is not a pid), or a connection failure's status.
///
/// Ownership: `to` and `msg` are copied. Thread safety: any thread, also while another
/// thread waits in bl_receive() on the same process.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_send(
    process: *mut bl_process,
    to: *const c_void,
    to_len: usize,
    msg: *const c_void,
    msg_len: usize,
    timeout_ms: c_int,
) -> c_int {
    entry("bl_send", || {
        let p = unsafe { ffi::handle(process, "process") }?;
        let to = unsafe { term::pid(to, to_len, "to") }?;
        let msg = unsafe { term::message(msg, msg_len, "msg") }?;
        let proc = p.proc.clone();
        p.run("bl_send", timeout_ms, async move { proc.send(&to, msg).await.map_err(Failure::node) })
    })
}

/// Sends the ETF term `msg` to the process registered as `name` on node `target`
/// (`{name, target} ! msg`); otherwise as bl_send().
///
/// Thread safety: as bl_send().
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_send_named(
    process: *mut bl_process,
    target: *const c_char,
    name: *const c_char,
    msg: *const c_void,
    msg_len: usize,
    timeout_ms: c_int,
) -> c_int {
    entry("bl_send_named", || {
        let p = unsafe { ffi::handle(process, "process") }?;
        let target = unsafe { ffi::text(target, "target") }?.to_string();
        let name = unsafe { ffi::text(name, "name") }?.to_string();
        let msg = unsafe { term::message(msg, msg_len, "msg") }?;
        let proc = p.proc.clone();
        p.run("bl_send_named", timeout_ms, async move {
            proc.send_named(&target, &name, msg).await.map_err(Failure::node)
        })
    })
}

/// Takes the next message from the mailbox, waiting up to `timeout_ms` (0: only look).
/// Returns BL_OK with `*message` filled, or BL_TIMEOUT when nothing came.
///
/// Ownership: `*message` is overwritten (emptied unless BL_OK) and belongs to the caller
/// (bl_message_free()). Thread safety: any thread; concurrent receives on one process each
/// take a different message.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_receive(
    process: *mut bl_process,
    timeout_ms: c_int,
    message: *mut bl_message,
) -> c_int {
    entry("bl_receive", || {
        let message = unsafe { ffi::out(message, bl_message::empty(), "message") }?;
        let p = unsafe { ffi::handle(process, "process") }?;
        let proc = p.proc.clone();
        let limit = ffi::timeout_or_long(timeout_ms);
        // The engine's receive ends the wait, never the task's timeout: a message taken from
        // the mailbox at the last moment is then returned rather than dropped with the task.
        let got = wait::run_until(&p.rt, "bl_receive", ffi::timeout(timeout_ms), async move {
            let deadline = tokio::time::Instant::now() + limit;
            loop {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                match proc.receive_timeout(left).await {
                    None => return None,
                    Some(m) => {
                        if let Some(m) = RustMessage::new(m) {
                            return Some(m);
                        }
                    }
                }
            }
        })?;
        match got {
            Some(m) => {
                message.set(m.into_c());
                Ok(())
            }
            None => {
                Err(Failure::timeout(format_args!("bl_receive on {}", p.label), ffi::timeout(timeout_ms)))
            }
        }
    })
}

/// A message on its way out of the engine, owned by Rust (a task cancelled at the wrong moment
/// frees it rather than leaking C buffers).
struct RustMessage(Message);

impl RustMessage {
    fn new(m: Message) -> Option<RustMessage> {
        (!matches!(m, Message::SpawnReply { .. })).then_some(RustMessage(m))
    }

    fn into_c(self) -> bl_message {
        bl_message::from_message(self.0).unwrap_or_else(bl_message::empty)
    }
}

/// Links the process to the pid `pid` (ETF): when either ends, the other gets an exit signal
/// (here: a BL_MSG_EXIT message). A link to a process that is already gone brings an exit
/// with reason `noproc`.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_link(
    process: *mut bl_process,
    pid: *const c_void,
    pid_len: usize,
    timeout_ms: c_int,
) -> c_int {
    entry("bl_link", || {
        let p = unsafe { ffi::handle(process, "process") }?;
        let pid = unsafe { term::pid(pid, pid_len, "pid") }?;
        let proc = p.proc.clone();
        p.run("bl_link", timeout_ms, async move { proc.link(&pid).await.map_err(Failure::node) })
    })
}

/// Removes a link made with bl_link().
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_unlink(
    process: *mut bl_process,
    pid: *const c_void,
    pid_len: usize,
    timeout_ms: c_int,
) -> c_int {
    entry("bl_unlink", || {
        let p = unsafe { ffi::handle(process, "process") }?;
        let pid = unsafe { term::pid(pid, pid_len, "pid") }?;
        let proc = p.proc.clone();
        p.run("bl_unlink", timeout_ms, async move { proc.unlink(&pid).await.map_err(Failure::node) })
    })
}

/// Monitors the pid `pid` (ETF): a BL_MSG_DOWN message with the reference put in
/// `*reference` arrives when it ends (reason `noproc` if it already has, `noconnection` if its
/// node goes away).
///
/// Ownership: `*reference` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_monitor(
    process: *mut bl_process,
    pid: *const c_void,
    pid_len: usize,
    timeout_ms: c_int,
    reference: *mut bl_buf,
) -> c_int {
    entry("bl_monitor", || {
        let reference = unsafe { ffi::out(reference, bl_buf::empty(), "reference") }?;
        let p = unsafe { ffi::handle(process, "process") }?;
        let pid = unsafe { term::pid(pid, pid_len, "pid") }?;
        let proc = p.proc.clone();
        let r =
            p.run("bl_monitor", timeout_ms, async move { proc.monitor(&pid).await.map_err(Failure::node) })?;
        reference.set(term::encoded(&Term::Reference(r)));
        Ok(())
    })
}

/// Removes a monitor made with bl_monitor(), given its reference (ETF). No DOWN for it comes
/// after this returns BL_OK; one already received stays in the mailbox.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_demonitor(
    process: *mut bl_process,
    reference: *const c_void,
    reference_len: usize,
    timeout_ms: c_int,
) -> c_int {
    entry("bl_demonitor", || {
        let p = unsafe { ffi::handle(process, "process") }?;
        let r = unsafe { term::reference(reference, reference_len, "reference") }?;
        let proc = p.proc.clone();
        p.run("bl_demonitor", timeout_ms, async move { proc.demonitor(&r).await.map_err(Failure::node) })
    })
}
