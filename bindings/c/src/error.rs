//! The calling thread's last error: set by every function that returns a status other than
//! BL_OK, read with the `bl_error_*` functions (which never change it).

use std::cell::RefCell;
use std::ffi::{CString, c_char, c_int};

use beamlink::term;

use crate::buf::bl_buf;
use crate::status::{Failure, bl_status};

struct Last {
    status: bl_status,
    /// NUL-free text (interior NULs are replaced when it is set).
    message: CString,
    /// ETF with the version byte.
    term: Option<Vec<u8>>,
    stacktrace: Option<Vec<u8>>,
}

impl Last {
    fn none() -> Last {
        Last { status: bl_status::BL_OK, message: CString::default(), term: None, stacktrace: None }
    }
}

thread_local! {
    static LAST: RefCell<Last> = RefCell::new(Last::none());
}

/// Records `f` as this thread's last error and returns its status.
pub fn set(f: Failure) -> c_int {
    let status = f.status;
    let message = CString::new(f.message.replace('\0', "\\0")).expect("NULs replaced");
    let last = Last {
        status,
        message,
        term: f.term.as_deref().map(term::encode),
        stacktrace: f.stacktrace.as_deref().map(term::encode),
    };
    // `try_with`: a thread being torn down has no last error to keep.
    let _ = LAST.try_with(|l| *l.borrow_mut() = last);
    status.code()
}

fn copy_out(pick: impl FnOnce(&Last) -> Option<Vec<u8>>, out: *mut bl_buf) -> c_int {
    if out.is_null() {
        return bl_status::BL_BAD_ARGUMENT.code();
    }
    let bytes = LAST.try_with(|l| pick(&l.borrow())).ok().flatten();
    // SAFETY: `out` is non-NULL and, by the function's contract, points to a bl_buf.
    unsafe {
        match bytes {
            Some(b) => {
                *out = bl_buf::from_vec(b);
                bl_status::BL_OK.code()
            }
            None => {
                *out = bl_buf::empty();
                bl_status::BL_BAD_ARGUMENT.code()
            }
        }
    }
}

/// The calling thread's last error as text (`""` when there is none). Never changes the last
/// error.
///
/// Ownership: the string belongs to the library and stays valid until the next failing
/// beamlink call on this thread (or bl_error_clear()); copy it to keep it.
/// Thread safety: each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn bl_error_message() -> *const c_char {
    // The thread-local lives as long as the thread; the pointer stays valid until it is
    // replaced, as documented.
    LAST.try_with(|l| l.borrow().message.as_ptr()).unwrap_or(c"".as_ptr())
}

/// The status of the calling thread's last error (BL_OK when there is none).
///
/// Thread safety: each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn bl_error_status() -> c_int {
    LAST.try_with(|l| l.borrow().status.code()).unwrap_or(0)
}

/// Copies the Erlang term of the calling thread's last error into `out` as ETF: the reason of
/// BL_ERROR, BL_EXIT, BL_BADRPC and BL_SPAWN_FAILED, the value of BL_THROW, `{M, F, A}` of
/// BL_UNDEF. Returns BL_OK, or BL_BAD_ARGUMENT (with `out` emptied) when the last error has no
/// term or `out` is NULL. Never changes the last error.
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: each thread has its own last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_error_term(out: *mut bl_buf) -> c_int {
    copy_out(|l| l.term.clone(), out)
}

/// Copies the remote stacktrace of the calling thread's last error (a BL_ERROR or BL_UNDEF
/// from a call) into `out` as ETF; otherwise like bl_error_term().
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: each thread has its own last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_error_stacktrace(out: *mut bl_buf) -> c_int {
    copy_out(|l| l.stacktrace.clone(), out)
}

/// Forgets the calling thread's last error.
///
/// Thread safety: each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn bl_error_clear() {
    let _ = LAST.try_with(|l| *l.borrow_mut() = Last::none());
}

#[cfg(test)]
mod tests {
    use super::*;
    use beamlink::term::Term;
    use std::ffi::CStr;

    #[test]
    fn the_last_error_is_per_thread() {
        let mut f = Failure::new(bl_status::BL_EXIT, "remote exit: boom");
        f.term = Some(Box::new(Term::atom("boom")));
        assert_eq!(set(f), bl_status::BL_EXIT.code());
        assert_eq!(bl_error_status(), bl_status::BL_EXIT.code());
        let msg = unsafe { CStr::from_ptr(bl_error_message()) };
        assert_eq!(msg.to_str().unwrap(), "remote exit: boom");
        let mut b = bl_buf::empty();
        assert_eq!(unsafe { bl_error_term(&mut b) }, 0);
        assert_eq!(term::decode(unsafe { b.as_slice() }).unwrap(), Term::atom("boom"));
        unsafe { crate::buf::bl_buf_free(&mut b) };
        assert_eq!(unsafe { bl_error_stacktrace(&mut b) }, bl_status::BL_BAD_ARGUMENT.code());
        assert!(b.data.is_null());
        std::thread::spawn(|| assert_eq!(bl_error_status(), 0)).join().unwrap();
        bl_error_clear();
        assert_eq!(bl_error_status(), 0);
        assert_eq!(unsafe { CStr::from_ptr(bl_error_message()) }.to_bytes(), b"");
    }

    #[test]
    fn a_message_with_a_nul_is_kept_whole() {
        set(Failure::bad_argument("a\0b"));
        assert_eq!(unsafe { CStr::from_ptr(bl_error_message()) }.to_str().unwrap(), "a\\0b");
    }
}
