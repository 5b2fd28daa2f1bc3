//! How terms map to Python values where users differ: binaries as `str` or `bytes`, which atom
//! `None` is, charlists as lists or text. The defaults suit Elixir: a UTF-8 binary is a `str`
//! and `nil` is `None`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// What a binary decodes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Binaries {
    /// `str` when the binary is valid UTF-8, else `bytes` (the default: Elixir strings).
    Str,
    /// Always `bytes`.
    Bytes,
}

/// The atom that `None` stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NoneAtom {
    /// Elixir's `nil` (the default).
    Nil,
    /// Erlang's `undefined`.
    Undefined,
}

impl NoneAtom {
    pub(crate) fn name(self) -> &'static str {
        match self {
            NoneAtom::Nil => "nil",
            NoneAtom::Undefined => "undefined",
        }
    }

    pub(crate) fn parse(s: &str) -> PyResult<NoneAtom> {
        match s {
            "nil" => Ok(NoneAtom::Nil),
            "undefined" => Ok(NoneAtom::Undefined),
            other => {
                Err(PyValueError::new_err(format!("none must be \"nil\" or \"undefined\", not {other:?}")))
            }
        }
    }
}

/// Nesting allowed in bytes of unknown origin (as the engine's default).
pub(crate) const UNTRUSTED_DEPTH: usize = 1024;
/// Nesting allowed in terms from a connected node, and in what Python encodes: deeper than
/// anything Python itself can compare or print, shallow enough to fail cleanly on a cycle.
pub(crate) const TRUSTED_DEPTH: usize = 1_000_000;

#[derive(Clone, Copy, Debug)]
pub(crate) struct DecodeOptions {
    pub binaries: Binaries,
    pub none: NoneAtom,
    /// `STRING_EXT` lists as [`crate::types::Charlist`] instead of lists of integers.
    pub charlists: bool,
    pub max_depth: usize,
}

impl DecodeOptions {
    pub(crate) fn parse(
        binaries: &str,
        none: &str,
        charlists: &str,
        max_depth: usize,
    ) -> PyResult<DecodeOptions> {
        let binaries = match binaries {
            "str" => Binaries::Str,
            "bytes" => Binaries::Bytes,
            other => {
                return Err(PyValueError::new_err(format!(
                    "binaries must be \"str\" or \"bytes\", not {other:?}"
                )));
            }
        };
        let charlists = match charlists {
            "list" => false,
            "charlist" => true,
            other => {
                return Err(PyValueError::new_err(format!(
                    "charlists must be \"list\" or \"charlist\", not {other:?}"
                )));
            }
        };
        Ok(DecodeOptions { binaries, none: NoneAtom::parse(none)?, charlists, max_depth })
    }
}

impl Default for DecodeOptions {
    fn default() -> DecodeOptions {
        DecodeOptions {
            binaries: Binaries::Str,
            none: NoneAtom::Nil,
            charlists: false,
            max_depth: TRUSTED_DEPTH,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct EncodeOptions {
    pub none: NoneAtom,
    pub max_depth: usize,
}

impl Default for EncodeOptions {
    fn default() -> EncodeOptions {
        EncodeOptions { none: NoneAtom::Nil, max_depth: TRUSTED_DEPTH }
    }
}
