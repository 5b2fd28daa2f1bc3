//! The boundary: every entry point runs its body through [`entry`], which catches panics and
//! records failures as the thread's last error; and the checked readings of C arguments.

use std::any::Any;
use std::ffi::{CStr, c_char, c_int, c_void};
#[cfg(unix)]
use std::os::unix::ffi::OsStrExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::time::Duration;

use crate::error;
use crate::status::{Failure, bl_status};

/// Runs the body of entry point `name`: BL_OK, or the failure's status with the failure
/// recorded as this thread's last error. A panic becomes BL_INTERNAL and never unwinds into C.
pub fn entry(name: &str, body: impl FnOnce() -> Result<(), Failure>) -> c_int {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => bl_status::BL_OK.code(),
        Ok(Err(f)) => error::set(f),
        Err(panic) => error::set(Failure::internal(format_args!(
            "{name}: internal error in beamlink (a Rust panic: {}); please report it",
            panic_message(&*panic)
        ))),
    }
}

/// Like [`entry`] for functions that return a value rather than a status: `fallback` when the
/// body panics (recorded as BL_INTERNAL).
pub fn entry_value<T>(name: &str, fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(v) => v,
        Err(panic) => {
            error::set(Failure::internal(format_args!(
                "{name}: internal error in beamlink (a Rust panic: {})",
                panic_message(&*panic)
            )));
            fallback
        }
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "no message".to_string()
    }
}

/// A string argument: non-NULL, UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the returned borrow.
pub unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::bad_argument(format_args!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|e| Failure::bad_argument(format_args!("{what} is not UTF-8: {e}")))
}

/// Like [`text`], with NULL meaning "not given".
///
/// # Safety
/// As [`text`].
pub unsafe fn opt_text<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() { Ok(None) } else { unsafe { text(p, what) }.map(Some) }
}

/// A file name argument, NULL meaning "not given". Taken as bytes, as the system takes file
/// names (not necessarily UTF-8).
///
/// # Safety
/// As [`text`].
pub unsafe fn opt_path<'a>(p: *const c_char, _what: &str) -> Result<Option<&'a Path>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    #[cfg(unix)]
    let path = Path::new(std::ffi::OsStr::from_bytes(bytes));
    #[cfg(not(unix))]
    let path = Path::new(
        std::str::from_utf8(bytes)
            .map_err(|e| Failure::bad_argument(format_args!("{_what} is not UTF-8: {e}")))?,
    );
    Ok(Some(path))
}

/// A byte-range argument: `(NULL, 0)` is empty, `(NULL, n > 0)` is refused.
///
/// # Safety
/// `p` is NULL or points to `len` readable bytes that outlive the returned borrow.
pub unsafe fn bytes<'a>(p: *const c_void, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    match (p.is_null(), len) {
        (true, 0) => Ok(&[]),
        (true, _) => Err(Failure::bad_argument(format_args!("{what} is NULL with a length of {len}"))),
        // SAFETY: per the contract.
        (false, _) => Ok(unsafe { std::slice::from_raw_parts(p as *const u8, len) }),
    }
}

/// A handle argument.
///
/// # Safety
/// `p` is NULL or a live handle of this type, not being freed by another thread.
pub unsafe fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T, Failure> {
    // SAFETY: per the contract.
    unsafe { p.as_ref() }.ok_or_else(|| Failure::bad_argument(format_args!("{what} is NULL")))
}

/// A handle argument the call may change.
///
/// # Safety
/// `p` is NULL or a live handle of this type that no other thread uses meanwhile.
pub unsafe fn handle_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, Failure> {
    // SAFETY: per the contract.
    unsafe { p.as_mut() }.ok_or_else(|| Failure::bad_argument(format_args!("{what} is NULL")))
}

/// An output parameter, checked and emptied before any work is done: a NULL one is refused
/// up front (nothing is computed that would have nowhere to go), and a failure leaves it
/// empty.
pub struct Out<T>(*mut T);

impl<T> Out<T> {
    pub fn set(self, value: T) {
        // SAFETY: checked non-NULL and writable in [`out`].
        unsafe { self.0.write(value) }
    }
}

/// Checks the output parameter `p` and writes `empty` to it (not dropping what the caller left
/// there: outputs are overwritten, as the header says).
///
/// # Safety
/// `p` is NULL or points to writable memory for a `T`.
pub unsafe fn out<T>(p: *mut T, empty: T, what: &str) -> Result<Out<T>, Failure> {
    if p.is_null() {
        return Err(Failure::bad_argument(format_args!("{what} is NULL")));
    }
    // SAFETY: per the contract.
    unsafe { p.write(empty) };
    Ok(Out(p))
}

/// `timeout_ms` as the engine takes it: negative is no limit.
pub fn timeout(ms: c_int) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// For engine calls that need a duration: "no limit" is a year (every wait here also ends
/// when its handle is freed).
pub fn timeout_or_long(ms: c_int) -> Duration {
    timeout(ms).unwrap_or(Duration::from_secs(365 * 24 * 3600))
}

/// The body of the hidden `bl__test_panic` entry point, and of the tests: a panic caught at
/// the boundary.
pub fn test_panic() -> c_int {
    entry("bl__test_panic", || panic!("a test of the panic guard"))
}

/// Panics inside the boundary guard, for the C tests of BL_INTERNAL. Not declared in the
/// header: test programs declare it themselves.
#[unsafe(no_mangle)]
pub extern "C" fn bl__test_panic() -> c_int {
    test_panic()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_reported_as_internal() {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let status = test_panic();
        std::panic::set_hook(prev);
        assert_eq!(status, bl_status::BL_INTERNAL.code());
        let msg = unsafe { CStr::from_ptr(error::bl_error_message()) }.to_str().unwrap().to_string();
        assert!(msg.contains("a test of the panic guard"), "{msg}");
    }

    #[test]
    fn null_and_non_utf8_arguments_are_refused() {
        assert_eq!(unsafe { text(std::ptr::null(), "name") }.unwrap_err().message, "name is NULL");
        let bad = c"\xff";
        assert_eq!(unsafe { text(bad.as_ptr(), "name") }.unwrap_err().status, bl_status::BL_BAD_ARGUMENT);
        assert!(unsafe { bytes(std::ptr::null(), 0, "args") }.unwrap().is_empty());
        assert!(unsafe { bytes(std::ptr::null(), 3, "args") }.is_err());
        assert_eq!(timeout(-1), None);
        assert_eq!(timeout(0), Some(Duration::ZERO));
    }
}
