//! Terms at the boundary: ETF bytes in (checked before anything reaches a peer, which would
//! drop the connection over a malformed term) and out (with the version byte, as
//! `term_to_binary/1` and ei give them), and the text forms.

use std::ffi::{c_char, c_int, c_void};

use beamlink::Outbound;
use beamlink::term::{self, Decoder, ElixirDisplay, Limits, Pid, Reference, Term, VERSION_MAGIC};
use bytes::Bytes;

use crate::buf::bl_buf;
use crate::ffi::{self, entry};
use crate::status::{Failure, bl_status};

/// Flags for bl_term_print().
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum bl_print_flags {
    /// Erlang syntax, as `io_lib:format("~0tp", [T])` prints it.
    BL_PRINT_ERLANG = 0,
    /// Elixir syntax, as `inspect/1` prints it.
    BL_PRINT_ELIXIR = 1,
}

/// ETF for the caller: the version byte, then the term as it was encoded (room is left for
/// the NUL a [`bl_buf`] adds, so handing it out does not copy again).
pub fn etf(bare: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bare.len() + 2);
    v.push(VERSION_MAGIC);
    v.extend_from_slice(bare);
    v
}

pub fn encoded(t: &Term) -> bl_buf {
    bl_buf::from_vec(term::encode(t))
}

/// Decodes caller-given ETF (with or without the version byte; compressed allowed). The caller
/// is trusted as to depth: BEAM accepts any.
pub fn decode(bytes: &[u8], what: &str) -> Result<Term, Failure> {
    let shared = Bytes::copy_from_slice(bytes);
    decode_shared(&shared, what)
}

fn decode_shared(bytes: &Bytes, what: &str) -> Result<Term, Failure> {
    let bad = |e: term::DecodeError| {
        Failure::new(bl_status::BL_DECODE, format_args!("{what} is not a valid external term: {e}"))
    };
    if bytes.is_empty() {
        return Err(Failure::new(bl_status::BL_DECODE, format_args!("{what} is empty")));
    }
    let mut d = Decoder::shared(bytes).with_limits(Limits::trusted());
    let t = if bytes[0] == VERSION_MAGIC { d.versioned_term() } else { d.term() }.map_err(bad)?;
    d.finish().map_err(bad)?;
    Ok(t)
}

/// A term to send, checked whole. The bytes go out as given (no re-encoding) unless they
/// were compressed: distribution carries terms uncompressed.
pub fn outbound(bytes: &[u8], what: &str) -> Result<(Outbound, Term), Failure> {
    let shared = Bytes::copy_from_slice(bytes);
    let t = decode_shared(&shared, what)?;
    let out = match (shared.first(), shared.get(1)) {
        (Some(&VERSION_MAGIC), Some(80)) => Outbound::Term(t.clone()),
        (Some(&VERSION_MAGIC), _) => Outbound::Encoded(shared.slice(1..)),
        _ => Outbound::Encoded(shared),
    };
    Ok((out, t))
}

/// A message to send: any term.
///
/// # Safety
/// As [`ffi::bytes`].
pub unsafe fn message(p: *const c_void, len: usize, what: &str) -> Result<Outbound, Failure> {
    let b = unsafe { ffi::bytes(p, len, what) }?;
    Ok(outbound(b, what)?.0)
}

/// Call arguments: a proper list; `(NULL, 0)` is `[]`.
///
/// # Safety
/// As [`ffi::bytes`].
pub unsafe fn args(p: *const c_void, len: usize) -> Result<Outbound, Failure> {
    let b = unsafe { ffi::bytes(p, len, "args") }?;
    if b.is_empty() {
        return Ok(Outbound::Term(Term::nil()));
    }
    let (out, t) = outbound(b, "args")?;
    match t {
        Term::List(_) => Ok(out),
        other => Err(Failure::bad_argument(format_args!(
            "args must be a proper list of the arguments, not {}",
            crate::status::show(&other)
        ))),
    }
}

/// A pid given as ETF.
///
/// # Safety
/// As [`ffi::bytes`].
pub unsafe fn pid(p: *const c_void, len: usize, what: &str) -> Result<Pid, Failure> {
    let b = unsafe { ffi::bytes(p, len, what) }?;
    match decode(b, what)? {
        Term::Pid(ref pid) => Ok(pid.clone()),
        other => {
            Err(Failure::bad_argument(format_args!("{what} is not a pid: {}", crate::status::show(&other))))
        }
    }
}

/// A reference given as ETF.
///
/// # Safety
/// As [`ffi::bytes`].
pub unsafe fn reference(p: *const c_void, len: usize, what: &str) -> Result<Reference, Failure> {
    let b = unsafe { ffi::bytes(p, len, what) }?;
    match decode(b, what)? {
        Term::Reference(ref r) => Ok(r.clone()),
        other => Err(Failure::bad_argument(format_args!(
            "{what} is not a reference: {}",
            crate::status::show(&other)
        ))),
    }
}

/// Parses one term written in Erlang syntax (`{ok, [1, <<"x">>]}`, an optional final `.`)
/// into ETF with the version byte. Pids, ports and references have no syntax and are refused.
/// Strings are lists of code points; a string segment in a binary is UTF-8.
/// Returns BL_OK, or BL_BAD_ARGUMENT for a syntax error (the message says where).
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_term_parse(text: *const c_char, out: *mut bl_buf) -> c_int {
    entry("bl_term_parse", || {
        let out = unsafe { ffi::out(out, bl_buf::empty(), "out") }?;
        let text = unsafe { ffi::text(text, "text") }?;
        let t =
            term::parse(text).map_err(|e| Failure::bad_argument(format_args!("not an Erlang term: {e}")))?;
        out.set(encoded(&t));
        Ok(())
    })
}

/// Prints an ETF term (with or without the version byte) as text in `out`, which is
/// NUL-terminated. `flags` is BL_PRINT_ERLANG (as `~0tp`) or BL_PRINT_ELIXIR (as `inspect`).
/// Returns BL_OK, BL_DECODE for bytes that are not one whole term, BL_BAD_ARGUMENT for a
/// NULL pointer or unknown flags.
///
/// Ownership: `*out` is overwritten and belongs to the caller (bl_buf_free()).
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bl_term_print(
    etf: *const c_void,
    len: usize,
    flags: c_int,
    out: *mut bl_buf,
) -> c_int {
    entry("bl_term_print", || {
        let out = unsafe { ffi::out(out, bl_buf::empty(), "out") }?;
        let bytes = unsafe { ffi::bytes(etf, len, "etf") }?;
        let t = decode(bytes, "etf")?;
        let text = match flags {
            0 => t.to_string(),
            1 => ElixirDisplay(&t).to_string(),
            f => return Err(Failure::bad_argument(format_args!("unknown print flags {f}"))),
        };
        out.set(bl_buf::from_string(text));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buf::bl_buf_free;

    fn print(bytes: &[u8], flags: c_int) -> (c_int, String) {
        let mut out = bl_buf::empty();
        let s = unsafe { bl_term_print(bytes.as_ptr().cast(), bytes.len(), flags, &mut out) };
        let text = String::from_utf8(unsafe { out.as_slice() }.to_vec()).unwrap();
        unsafe { bl_buf_free(&mut out) };
        (s, text)
    }

    #[test]
    fn parse_then_print() {
        let mut out = bl_buf::empty();
        assert_eq!(unsafe { bl_term_parse(c"{ok, [1, <<\"x\">>]}.".as_ptr(), &mut out) }, 0);
        let bytes = unsafe { out.as_slice() }.to_vec();
        unsafe { bl_buf_free(&mut out) };
        assert_eq!(bytes[0], 131);
        assert_eq!(print(&bytes, 0), (0, "{ok,[1,<<\"x\">>]}".into()));
        assert_eq!(print(&bytes, 1), (0, "{:ok, [1, \"x\"]}".into()));
        // Without the version byte too.
        assert_eq!(print(&bytes[1..], 0).1, "{ok,[1,<<\"x\">>]}");
    }

    #[test]
    fn bad_input_has_its_status() {
        let mut out = bl_buf::empty();
        assert_eq!(unsafe { bl_term_parse(c"{ok,".as_ptr(), &mut out) }, bl_status::BL_BAD_ARGUMENT.code());
        assert!(out.data.is_null());
        assert_eq!(print(&[131, 104, 2, 97], 0).0, bl_status::BL_DECODE.code());
        assert_eq!(print(&[131, 97, 1, 97, 2], 0).0, bl_status::BL_DECODE.code(), "trailing bytes");
        assert_eq!(print(&[131, 97, 1], 7).0, bl_status::BL_BAD_ARGUMENT.code());
    }

    #[test]
    fn args_must_be_a_list() {
        let list = term::encode(&Term::list([Term::from(1)]));
        assert!(unsafe { args(list.as_ptr().cast(), list.len()) }.is_ok());
        assert!(unsafe { args(std::ptr::null(), 0) }.is_ok());
        let atom = term::encode(&Term::atom("x"));
        assert_eq!(
            unsafe { args(atom.as_ptr().cast(), atom.len()) }.unwrap_err().status,
            bl_status::BL_BAD_ARGUMENT
        );
        // A compressed list is expanded for the wire.
        let packed = term::encode_with(
            &Term::list([Term::binary(vec![7u8; 4096])]),
            &term::EncodeOptions { compressed: Some(6), ..Default::default() },
        );
        assert_eq!(packed[1], 80);
        assert!(matches!(unsafe { args(packed.as_ptr().cast(), packed.len()) }.unwrap(), Outbound::Term(_)));
    }
}
