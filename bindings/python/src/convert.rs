//! Small conversions at the edge of the node API: names given as `str` or `Atom`, pids and
//! references between their Python types and the engine's, message destinations.

use beamlink::term;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use crate::types::{Atom, Pid, Reference};

/// A node, module, function or registered name given as `str` or `Atom`.
pub(crate) fn name_of(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if let Ok(a) = obj.cast::<Atom>() {
        return Ok(a.get().text.to_string());
    }
    Err(PyTypeError::new_err(format!("{what} must be a str or an Atom, not {}", obj.get_type().name()?)))
}

pub(crate) fn pid_to_engine(p: &Pid) -> term::Pid {
    term::Pid { node: term::Atom::new(&p.node), id: p.id, serial: p.serial, creation: p.creation }
}

pub(crate) fn pid_of(obj: &Bound<'_, PyAny>) -> PyResult<term::Pid> {
    match obj.cast::<Pid>() {
        Ok(p) => Ok(pid_to_engine(p.get())),
        Err(_) => Err(PyTypeError::new_err(format!("expected a Pid, not {}", obj.get_type().name()?))),
    }
}

pub(crate) fn pid_to_py(py: Python<'_>, p: &term::Pid) -> PyResult<Py<PyAny>> {
    let pid = Pid { node: p.node.as_str().to_string(), id: p.id, serial: p.serial, creation: p.creation };
    Ok(Py::new(py, pid)?.into_any())
}

pub(crate) fn ref_of(obj: &Bound<'_, PyAny>) -> PyResult<term::Reference> {
    match obj.cast::<Reference>() {
        Ok(r) => {
            let r = r.get();
            Ok(term::Reference { node: term::Atom::new(&r.node), creation: r.creation, ids: r.ids.clone() })
        }
        Err(_) => Err(PyTypeError::new_err(format!("expected a Reference, not {}", obj.get_type().name()?))),
    }
}

pub(crate) fn ref_to_py(py: Python<'_>, r: &term::Reference) -> PyResult<Py<PyAny>> {
    let r = Reference { node: r.node.as_str().to_string(), creation: r.creation, ids: r.ids.clone() };
    Ok(Py::new(py, r)?.into_any())
}

/// Where a message goes: a pid, or a name registered on a node (`{Name, Node} ! Msg`; a bare
/// name is one registered on this node).
pub(crate) enum Dest {
    Pid(term::Pid),
    Named { name: String, node: String },
}

pub(crate) fn dest_of(obj: &Bound<'_, PyAny>, here: &str) -> PyResult<Dest> {
    if let Ok(p) = obj.cast::<Pid>() {
        return Ok(Dest::Pid(pid_to_engine(p.get())));
    }
    if let Ok(t) = obj.cast::<PyTuple>()
        && t.len() == 2
    {
        return Ok(Dest::Named {
            name: name_of(&t.get_item(0)?, "a registered name")?,
            node: name_of(&t.get_item(1)?, "a node name")?,
        });
    }
    if obj.cast::<PyString>().is_ok() || obj.cast::<Atom>().is_ok() {
        return Ok(Dest::Named { name: name_of(obj, "a registered name")?, node: here.to_string() });
    }
    Err(PyTypeError::new_err(format!(
        "a destination is a Pid, a (name, node) tuple or a local name, not {}",
        obj.get_type().name()?
    )))
}

/// A Python value as an engine term (for the few places the engine takes a `Term`: exit
/// reasons).
pub(crate) fn engine_term(
    obj: &Bound<'_, PyAny>,
    opts: &crate::options::EncodeOptions,
) -> PyResult<term::Term> {
    let bytes = crate::encode::encode_bare(obj, opts)?;
    let limits = beamlink::term::Limits::trusted();
    beamlink::term::Decoder::new(&bytes)
        .with_limits(limits)
        .term()
        .map_err(|e| crate::errors::encode_error(obj.py(), e.to_string()))
}
