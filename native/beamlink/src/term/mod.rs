//! Erlang's external term format: the [`Term`] type, its binary codec, and an Erlang-syntax
//! parser and printer.
//!
//! The codec is split by direction (`decode`, `encode`) and the text syntax by direction
//! (`parse`, `display`). The decoder takes an optional atom table so the connection layer can
//! resolve `ATOM_CACHE_REF`s without a second decoding path.

mod display;
mod elixir;
mod parse;
mod types;

pub use elixir::ElixirDisplay;
pub use parse::{ParseError, parse};
pub use types::{Atom, ExportFun, Fun, Pid, Port, Reference, Term};
