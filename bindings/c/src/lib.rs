//! libbeamlink: the beamlink engine behind a plain C API. The header, `include/beamlink.h`, is
//! generated from this crate by cbindgen (see `build.rs`); its opening comment states the
//! conventions every function follows.
//!
//! One module per concept of the engine, as in the other bindings:
//! - [`status`], [`error`]: the status codes and the thread's last error;
//! - [`ffi`], [`wait`]: the boundary (panics caught, arguments checked) and waiting on the
//!   engine's [`beamlink::runtime::Task`] with a timeout, by polling or through a callback;
//! - [`buf`], [`term`]: memory handed to C, ETF in and out, Erlang/Elixir text;
//! - [`node`], [`events`], [`call`], [`process`], [`spawn`]: the API itself.
//!
//! The functions are `extern "C"` and usable from Rust too (the crate is also an rlib), which
//! is how its own unit tests reach them; the C test programs in `tests/` use the header.

// The exported names are the C names.
#![allow(non_camel_case_types)]
// Every entry point documents its pointer contract in prose meant for the C header (ownership,
// thread safety); a Rust "# Safety" section per function would repeat it there.
#![allow(clippy::missing_safety_doc)]
// The C calls take the arguments a C caller has, one per parameter.
#![allow(clippy::too_many_arguments)]

// In the order the header shows them (cbindgen follows the source): conventions first, then
// the API. The blank lines keep rustfmt from sorting them.
pub mod status;

pub mod error;

pub mod buf;

pub mod term;

pub mod node;

pub mod events;

pub mod call;

pub mod process;

pub mod spawn;

pub mod ffi;

pub mod wait;

use std::ffi::c_char;

/// Wait without limit (for any `timeout_ms`).
pub const BL_FOREVER: i32 = -1;

/// The library's version, `"MAJOR.MINOR.PATCH"`.
///
/// Ownership: static; do not free. Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn bl_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}

#[cfg(test)]
mod tests {
    /// The committed header must be what this source generates (build.rs writes it to OUT_DIR).
    #[test]
    fn header_is_current() {
        let generated = include_str!(concat!(env!("OUT_DIR"), "/beamlink.h"));
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../include/beamlink.h");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == generated,
            "include/beamlink.h is out of date with bindings/c/src: run `scripts/c.sh header` and commit it"
        );
    }
}
