//! Engine errors as Python exceptions. The classes live in `beamlink/errors.py` (one hierarchy,
//! documented there); this module only picks the class and fills its fields, in one place for
//! every entry point.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::decode::Fail;

fn errors_module(py: Python<'_>) -> PyResult<&Bound<'_, PyModule>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    Ok(MODULE.get_or_try_init(py, || -> PyResult<_> { Ok(py.import("beamlink.errors")?.unbind()) })?.bind(py))
}

/// An instance of `beamlink.errors.<class>(message, **fields)` as a `PyErr`.
pub(crate) fn make(py: Python<'_>, class: &str, message: &str, fields: &[(&str, Bound<'_, PyAny>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = errors_module(py)?.getattr(class)?;
        let kwargs = PyDict::new(py);
        for (k, v) in fields {
            kwargs.set_item(k, v)?;
        }
        Ok(PyErr::from_value(cls.call((message,), Some(&kwargs))?))
    };
    build().unwrap_or_else(|e| e)
}

pub(crate) fn decode_failure(py: Python<'_>, f: Fail) -> PyErr {
    match f {
        Fail::Py(e) => e,
        Fail::Format(e) => {
            let offset = e.offset().into_pyobject(py).map(|o| o.into_any());
            match offset {
                Ok(o) => make(py, "DecodeError", &e.to_string(), &[("offset", o)]),
                Err(err) => err.into(),
            }
        }
    }
}

pub(crate) fn encode_error(py: Python<'_>, message: String) -> PyErr {
    make(py, "EncodeError", &message, &[])
}
