//! Remote calls: blocking (`bl_call`, `bl_rpc_call`) and as a handle that is waited on, polled
//! or given a callback (`bl_call_async`).

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;
use std::time::Duration;

use beamlink::runtime::{Cancel, Task};
use beamlink::{Node, Outbound};

use crate::buf::bl_buf;
use crate::error;
use crate::ffi::{self, Out, entry, entry_value};
use crate::node::bl_node;
use crate::status::{Failure, bl_status};
use crate::term;
use crate::wait::{self, Caught, Guarded};

/// The value of a finished call (ETF with the version byte), or why there is none. Owned by
/// Rust until handed out, so a result nobody takes is freed with its task.
type Outcome = Result<Vec<u8>, Failure>;

/// What a call needs, copied out of the caller's arguments.
struct Request {
    node: Node,
    target: String,
    module: String,
    function: String,
    args: Outbound,
    timeout: Duration,
}

impl Request {
    /// # Safety
    /// Pointers as the calling entry point documents.
    unsafe fn new(
        node: &bl_node,
        target: *const c_char,
        module: *const c_char,
        function: *const c_char,
        args: *const c_void,
        args_len: usize,
        timeout_ms: c_int,
    ) -> Result<Request, Failure> {
        Ok(Request {
            node: node.node.clone(),
            target: unsafe { ffi::text(target, "target") }?.to_string(),
            module: unsafe { ffi::text(module, "module") }?.to_string(),
            function: unsafe { ffi::text(function, "function") }?.to_string(),
            args: unsafe { term::args(args, args_len) }?,
            timeout: ffi::timeout_or_long(timeout_ms),
        })
    }

    /// Connects first, which gives a failed connection its precise status (cookie, epmd...),
    /// within the call's time; returns the time left for the call itself.
    async fn connect(&self) -> Result<Duration, Failure> {
        let start = tokio::time::Instant::now();
        match tokio::time::timeout(self.timeout, self.node.connect(&self.target)).await {
            Ok(r) => r.map(|_| ()).map_err(Failure::node)?,
            Err(_) => {
                let what = format_args!("connecting to {}", self.target);
                return Err(Failure::timeout(what, Some(self.timeout)));
            }
        }
        Ok(self.timeout.saturating_sub(start.elapsed()))
    }

    /// erpc semantics; the value's bytes are handed on as the node sent them. The engine ends
    /// the call at its timeout (the remote process runs on, as with `erpc:call`).
    async fn erpc(self) -> Outcome {
        let left = self.connect().await?;
        let Request { node, target, module, function, args, .. } = self;
        let v = node.call_raw(&target, &module, &function, args, left).await.map_err(Failure::call)?;
        Ok(term::etf(v.bare()))
    }

    /// `rpc:call` semantics, through the remote rex.
    async fn rex(self) -> Outcome {
        let left = self.connect().await?;
        let Request { node, target, module, function, args, .. } = self;
        let v = node.rpc_call(&target, &module, &function, args, left).await.map_err(Failure::call)?;
        Ok(beamlink::term::encode(&v))
    }
}

/// Runs a blocking call and writes its result.
fn blocking(
    what: &str,
    n: &bl_node,
    req: Request,
    timeout_ms: c_int,
    rex: bool,
    result: Out<bl_buf>,
) -> Result<(), Failure> {
    let fut = async move { if rex { req.rex().await } else { req.erpc().await } };
    // The engine ends the call at its timeout, and the wait follows it: a timeout is then the
    // engine's erpc timeout, not a cancellation.
    let value = wait::run_until(&n.rt, what, ffi::timeout(timeout_ms), fut)??;
    result.set(bl_buf::from_vec(value));
    Ok(())
}

/// Calls `module:function(args...)` on `target` with `erpc:call/5` semantics and waits up to
/// `timeout_ms` for the value. `args` is the ETF of the argument list (with or without the
/// version byte: an ei_x_buff from ei_x_new_with_version works); `(NULL, 0)` is `[]`.
///
/// Returns BL_OK with the value's ETF in `*result`; or BL_ERROR, BL_EXIT, BL_THROW, BL_UNDEF
/// (the remote exception: bl_error_term() has its term), BL_NO_CONNECTION (also when the
/// connection is lost during the call), BL_TIMEOUT (no answer in time: the call is abandoned
/// and, as with `erpc:call`, the remote process runs on), BL_SPAWN_FAILED, BL_BAD_COOKIE, BL_EPMD_UNREACHABLE,
/// BL_HANDSHAKE, BL_TLS, BL_BAD_NAME, BL_DECODE (`args` or the answer is not valid ETF),
/// BL_BAD_ARGUMENT (`args` is not a list, a NULL string).
///
/// Ownership: `*result` is overwritten (emptied on failure) and belongs to the caller
/// (bl_buf_free()); the arguments are copied. Thread safety: any number of threads may call
/// at once on one node; each call runs in its own temporary process.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_call(
    node: *mut bl_node,
    target: *const c_char,
    module: *const c_char,
    function: *const c_char,
    args: *const c_void,
    args_len: usize,
    timeout_ms: c_int,
    result: *mut bl_buf,
) -> c_int {
    entry("bl_call", || {
        let result = unsafe { ffi::out(result, bl_buf::empty(), "result") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let req = unsafe { Request::new(n, target, module, function, args, args_len, timeout_ms) }?;
        blocking("bl_call", n, req, timeout_ms, false, result)
    })
}

/// Like bl_call() with `rpc:call/5` semantics, through the target's `rex` server: a throw
/// comes back as the thrown value (BL_OK), and `{badrpc, Reason}` as BL_BADRPC with Reason
/// as the error term (for an exit, `{'EXIT', R}`).
///
/// Ownership and thread safety: as bl_call().
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_rpc_call(
    node: *mut bl_node,
    target: *const c_char,
    module: *const c_char,
    function: *const c_char,
    args: *const c_void,
    args_len: usize,
    timeout_ms: c_int,
    result: *mut bl_buf,
) -> c_int {
    entry("bl_rpc_call", || {
        let result = unsafe { ffi::out(result, bl_buf::empty(), "result") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let req = unsafe { Request::new(n, target, module, function, args, args_len, timeout_ms) }?;
        blocking("bl_rpc_call", n, req, timeout_ms, true, result)
    })
}

/// Called once when a call given to bl_async_on_complete() finishes, on an engine thread (or
/// on the calling thread if it had already finished). `status` is the call's status; with
/// BL_OK, `etf`/`len` is the value, valid only during the callback (copy it to keep it);
/// otherwise `etf` is NULL and bl_error_message() / bl_error_term() describe the failure.
/// The callback must return promptly and must not call blocking beamlink functions.
pub type bl_async_cb =
    Option<unsafe extern "C" fn(status: c_int, etf: *const c_char, len: usize, userdata: *mut c_void)>;

/// A call in flight, from bl_call_async(). Opaque; freed with bl_async_free().
pub struct bl_async {
    state: CallState,
    target: String,
}

enum CallState {
    /// Waited on or polled.
    Waiting(Task<Caught<Outcome>>),
    /// Handed to a callback.
    Callback { guard: Arc<Guarded>, cancel: Cancel },
    /// The result was taken.
    Taken,
}

/// Starts an erpc call like bl_call() without waiting for it. The timeout applies to the call
/// itself; then wait with bl_async_wait(), poll with bl_async_wait(call, 0, ...), or hand the
/// result to a callback with bl_async_on_complete().
/// Returns BL_OK with `*out` set, or BL_BAD_ARGUMENT / BL_DECODE for bad arguments (every
/// other failure comes when the result is taken).
///
/// Ownership: `*out` belongs to the caller, who frees it with bl_async_free() (which cancels
/// the call, remote process included, if it has not finished). Thread safety: any thread may start calls; one
/// bl_async is then used by one thread at a time.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_call_async(
    node: *mut bl_node,
    target: *const c_char,
    module: *const c_char,
    function: *const c_char,
    args: *const c_void,
    args_len: usize,
    timeout_ms: c_int,
    out: *mut *mut bl_async,
) -> c_int {
    entry("bl_call_async", || {
        let out = unsafe { ffi::out(out, ptr::null_mut(), "out") }?;
        let n = unsafe { ffi::handle(node, "node") }?;
        let req = unsafe { Request::new(n, target, module, function, args, args_len, timeout_ms) }?;
        let target = req.target.clone();
        let task = wait::start(&n.rt, req.erpc());
        let call = bl_async { state: CallState::Waiting(task), target };
        out.set(Box::into_raw(Box::new(call)));
        Ok(())
    })
}

fn outcome(caught: Caught<Outcome>, what: &str) -> Outcome {
    caught.unwrap_or_else(|p| Err(wait::panicked(what, p)))
}

/// Waits up to `timeout_ms` for the call to finish (0: just look). Returns the call's status
/// and result as bl_call() does, or BL_PENDING when it has not finished yet (the call goes
/// on). The result is taken once: a later wait returns BL_BAD_ARGUMENT.
///
/// Ownership: `*result` is overwritten (emptied unless BL_OK) and belongs to the caller
/// (bl_buf_free()). Thread safety: one thread at a time per call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_async_wait(call: *mut bl_async, timeout_ms: c_int, result: *mut bl_buf) -> c_int {
    entry("bl_async_wait", || {
        let result = unsafe { ffi::out(result, bl_buf::empty(), "result") }?;
        let c = unsafe { ffi::handle_mut(call, "call") }?;
        let CallState::Waiting(task) = &c.state else {
            return Err(Failure::bad_argument("the call's result was already taken or handed to a callback"));
        };
        let got = if timeout_ms == 0 {
            task.try_take()
        } else {
            wait::may_block("bl_async_wait")?;
            task.wait(ffi::timeout(timeout_ms))
        };
        match got {
            Some(caught) => {
                c.state = CallState::Taken;
                let value = outcome(caught, "bl_async_wait")?;
                result.set(bl_buf::from_vec(value));
                Ok(())
            }
            None => Err(Failure::new(
                bl_status::BL_PENDING,
                format_args!("the call to {} has not finished yet", c.target),
            )),
        }
    })
}

/// Whether the call has finished (its result may already have been taken). 1 or 0.
///
/// Thread safety: one thread at a time per call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_async_is_finished(call: *const bl_async) -> c_int {
    entry_value("bl_async_is_finished", 0, || {
        // SAFETY: NULL or a live call, per the contract.
        match unsafe { call.as_ref() }.map(|c| &c.state) {
            Some(CallState::Waiting(task)) => c_int::from(task.is_finished()),
            Some(CallState::Taken) => 1,
            Some(CallState::Callback { .. }) | None => 0,
        }
    })
}

/// A user-data pointer the engine thread may carry to the callback.
struct UserData(*mut c_void);
// SAFETY: the pointer is only handed back to the caller's callback; what it points to is the
// caller's to synchronise, as the header says.
unsafe impl Send for UserData {}

/// Hands the call's result to `callback` (with `userdata`) once it finishes: on an engine
/// thread, or before this function returns if it already has. Returns BL_OK, or
/// BL_BAD_ARGUMENT if the result was already taken or given to a callback.
///
/// Ownership: the call still belongs to the caller: bl_async_free() it afterwards. Freeing it
/// first cancels the call; once bl_async_free() returns, the callback is not running and will
/// not run. Thread safety: one thread at a time per call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_async_on_complete(
    call: *mut bl_async,
    callback: bl_async_cb,
    userdata: *mut c_void,
) -> c_int {
    entry("bl_async_on_complete", || {
        let c = unsafe { ffi::handle_mut(call, "call") }?;
        let Some(cb) = callback else { return Err(Failure::bad_argument("callback is NULL")) };
        if !matches!(c.state, CallState::Waiting(_)) {
            return Err(Failure::bad_argument("the call's result was already taken or handed to a callback"));
        }
        let CallState::Waiting(task) = std::mem::replace(&mut c.state, CallState::Taken) else {
            unreachable!()
        };
        let guard = Arc::new(Guarded::default());
        let g = guard.clone();
        let ud = UserData(userdata);
        let cancel = task.on_complete(move |caught| {
            let ud = ud;
            g.invoke(|| match outcome(caught, "bl_async_on_complete") {
                Ok(value) => {
                    // SAFETY: the caller's callback, with its own user data.
                    unsafe { cb(bl_status::BL_OK.code(), value.as_ptr().cast(), value.len(), ud.0) };
                }
                Err(f) => {
                    let status = error::set(f);
                    unsafe { cb(status, ptr::null(), 0, ud.0) };
                }
            });
        });
        c.state = CallState::Callback { guard, cancel };
        Ok(())
    })
}

/// Frees a call. One still running is cancelled: the engine gives it up and kills the remote
/// process doing it (unlike a timeout), and a callback given to it will not run. NULL is a
/// no-op.
///
/// Ownership: frees `call`. Thread safety: no other thread may be using `call`; may be called
/// from the call's own callback.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_async_free(call: *mut bl_async) {
    entry_value("bl_async_free", (), || {
        if call.is_null() {
            return;
        }
        // SAFETY: a call from bl_call_async, freed once, per the contract.
        let c = unsafe { Box::from_raw(call) };
        if let CallState::Callback { guard, cancel } = &c.state {
            guard.stop();
            cancel.cancel();
        }
        // A task still waited on is cancelled by dropping it.
        drop(c);
    })
}
