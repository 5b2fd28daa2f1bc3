//! `beamlink._native`: the Python door to the beamlink engine. A thin translation: the engine
//! (`native/beamlink`) does all protocol work; this crate converts terms to and from Python
//! objects (`decode`, `encode`), maps engine errors to the exception hierarchy of
//! `beamlink/errors.py` (`errors`), and waits for the engine without holding the GIL.
//! The Python-facing API (`beamlink/*.py`) wraps these with docstrings, context managers and
//! iterators.

mod cache;
mod codec;
mod convert;
mod decode;
mod encode;
mod errors;
mod events;
mod node;
mod options;
mod process;
mod spawn;
mod tls;
mod types;
mod wait;

use pyo3::prelude::*;

#[pymodule(gil_used = true)]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<types::Atom>()?;
    m.add_class::<types::Pid>()?;
    m.add_class::<types::Port>()?;
    m.add_class::<types::Reference>()?;
    m.add_class::<types::Export>()?;
    m.add_class::<types::Fun>()?;
    m.add_class::<types::BitString>()?;
    m.add_class::<types::ImproperList>()?;
    m.add_class::<types::Charlist>()?;
    m.add_class::<types::FrozenList>()?;
    m.add_class::<types::FrozenMap>()?;
    m.add_function(wrap_pyfunction!(codec::term_to_binary, m)?)?;
    m.add_function(wrap_pyfunction!(codec::binary_to_term, m)?)?;
    m.add_class::<node::Node>()?;
    m.add_class::<process::Mailbox>()?;
    m.add_class::<spawn::Job>()?;
    m.add_class::<events::Events>()?;
    m.add_class::<tls::TlsConfig>()?;
    wait::register(m)?;
    Ok(())
}
