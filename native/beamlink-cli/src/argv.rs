//! Hiding a `--cookie` value from the process title: once the arguments are parsed, the
//! value's bytes in the process's own argument block (what `ps` and `/proc/<pid>/cmdline`
//! show) are overwritten with `x`. The value was visible from the exec until then, which is
//! why `--cookie` still warns.
//!
//! The argument block is found the way the Rust standard library finds it on Linux with
//! glibc: glibc calls every `.init_array` function with `(argc, argv, envp)` before `main`.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::ffi::CStr;
    use std::sync::atomic::{AtomicIsize, AtomicPtr, Ordering};

    static ARGC: AtomicIsize = AtomicIsize::new(0);
    static ARGV: AtomicPtr<*mut u8> = AtomicPtr::new(std::ptr::null_mut());

    extern "C" fn keep(argc: i32, argv: *mut *mut u8, _envp: *mut *mut u8) {
        ARGC.store(argc as isize, Ordering::Relaxed);
        ARGV.store(argv, Ordering::Relaxed);
    }

    #[used]
    #[unsafe(link_section = ".init_array.00099")]
    static KEEP: extern "C" fn(i32, *mut *mut u8, *mut *mut u8) = keep;

    pub fn hide_cookie() {
        let (argc, argv) = (ARGC.load(Ordering::Relaxed), ARGV.load(Ordering::Relaxed));
        if argv.is_null() {
            return;
        }
        let mut next_is_cookie = false;
        for i in 0..argc {
            // SAFETY: glibc passed argc valid, NUL-terminated, writable strings; nothing else
            // writes them, and the parsed arguments were copied out before this runs.
            let p = unsafe { *argv.offset(i) };
            if p.is_null() {
                break;
            }
            let bytes = unsafe { CStr::from_ptr(p.cast()) }.to_bytes();
            if bytes == b"--" {
                break;
            }
            let from = if next_is_cookie {
                Some(0)
            } else if bytes.starts_with(b"--cookie=") {
                Some("--cookie=".len())
            } else {
                None
            };
            next_is_cookie = bytes == b"--cookie";
            if let Some(from) = from {
                for j in from..bytes.len() {
                    // SAFETY: within the string found above.
                    unsafe { *p.add(j) = b'x' };
                }
            }
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub use imp::hide_cookie;

/// Elsewhere the value stays visible; the warning says so.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn hide_cookie() {}
