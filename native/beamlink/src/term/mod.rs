//! Erlang's external term format: the [`Term`] type, its binary codec, and an Erlang-syntax
//! parser and printer.
//!
//! The codec is split by direction (`decode`, `encode`) and the text syntax by direction
//! (`parse`, `display`). The decoder takes an optional atom table so the connection layer can
//! resolve `ATOM_CACHE_REF`s without a second decoding path.

mod atom;
mod big;
mod decode;
mod deep;
mod display;
mod elixir;
mod elixir_structs;
mod encode;
mod order;
mod parse;
mod parse_elixir;
mod scan;
mod tags;
mod types;

pub use big::{Big, OutOfRange};
pub use decode::{DecodeError, Decoder, Limits, decode, decode_shared};
pub use deep::nested;
pub use elixir::ElixirDisplay;
pub(crate) use encode::piece;
pub use encode::{EncodeOptions, encode, encode_into, encode_into_with, encode_with};
pub use order::compare;
pub use parse::{ParseError, parse};
pub use parse_elixir::parse_elixir;
pub use scan::{AtomSeen, Scanned, scan, scan_with, scan_within};
pub use tags::VERSION_MAGIC;
pub use types::{Atom, ExportFun, Fun, Pid, Port, Reference, Term};

/// The tag bytes, for code that builds or inspects encodings by hand.
pub mod tag {
    pub use super::tags::*;
}
