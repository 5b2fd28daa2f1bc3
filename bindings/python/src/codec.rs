//! `beamlink.term_to_binary` and `beamlink.binary_to_term`: the codec on its own, no node.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::options::{DecodeOptions, EncodeOptions, NoneAtom, TRUSTED_DEPTH, UNTRUSTED_DEPTH};
use crate::{decode, encode, errors};

/// Encodes a Python value in the external term format, like BEAM's `term_to_binary/2`.
#[pyfunction]
#[pyo3(signature = (obj, *, minor_version = 2, compressed = None, deterministic = false, none = "nil"))]
pub(crate) fn term_to_binary<'py>(
    py: Python<'py>,
    obj: &Bound<'py, PyAny>,
    minor_version: u8,
    compressed: Option<&Bound<'py, PyAny>>,
    deterministic: bool,
    none: &str,
) -> PyResult<Bound<'py, PyBytes>> {
    let opts = EncodeOptions { none: NoneAtom::parse(none)?, max_depth: TRUSTED_DEPTH };
    let plain = minor_version == 2 && compressed.is_none() && !deterministic;
    if plain {
        return encode::encode_bytes(obj, &opts);
    }
    let bytes = encode::encode(obj, &opts)?;
    let level = match compressed {
        None => None,
        Some(c) if c.is_instance_of::<pyo3::types::PyBool>() => c.is_truthy()?.then_some(6),
        Some(c) => {
            let l: u32 = c.extract()?;
            if l > 9 {
                return Err(PyValueError::new_err("compressed must be a zlib level 0..9 or a bool"));
            }
            Some(l)
        }
    };
    if minor_version > 2 {
        return Err(PyValueError::new_err("minor_version must be 0, 1 or 2"));
    }
    if minor_version == 2 && level.is_none() && !deterministic {
        // `compressed=False` (or a level of None-like falsehood): the plain form.
        return Ok(PyBytes::new(py, &bytes));
    }
    let eo = beamlink::term::EncodeOptions {
        minor_version,
        compressed: level,
        deterministic,
        ..beamlink::term::EncodeOptions::default()
    };
    let bytes = py.detach(|| encode::reencode(&bytes, &eo));
    Ok(PyBytes::new(py, &bytes.map_err(PyValueError::new_err)?))
}

/// Decodes external term format bytes (what BEAM's `term_to_binary` returns).
#[pyfunction]
#[pyo3(signature = (data, *, binaries = "str", none = "nil", charlists = "list", max_depth = UNTRUSTED_DEPTH))]
pub(crate) fn binary_to_term<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    binaries: &str,
    none: &str,
    charlists: &str,
    max_depth: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = DecodeOptions::parse(binaries, none, charlists, max_depth)?;
    let r = if let Ok(b) = data.cast::<PyBytes>() {
        decode::decode(py, b.as_bytes(), &opts)
    } else {
        let owned: Vec<u8> = match data.cast::<pyo3::types::PyByteArray>() {
            Ok(ba) => ba.to_vec(),
            Err(_) => data
                .call_method0("__bytes__")
                .or_else(|_| py.import("builtins")?.getattr("bytes")?.call1((data,)))?
                .extract()?,
        };
        decode::decode(py, &owned, &opts)
    };
    r.map_err(|f| errors::decode_failure(py, f))
}
