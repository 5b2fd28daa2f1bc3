//! `beamlink._native.TlsConfig`: the engine's [`beamlink::tls::TlsConfig`], built from PEM
//! files or an OTP `-ssl_dist_optfile`, for `Node(..., tls=...)`. The files are read and
//! checked here, so a bad one fails at configuration (`TlsConfigError`), not at the first
//! connection. `beamlink/tls.py` wraps it with the documentation.

use std::path::PathBuf;

use beamlink::tls::{TlsConfigError, TlsVersion};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors;

#[pyclass(frozen, module = "beamlink._native", name = "TlsConfig")]
pub struct TlsConfig {
    pub(crate) config: beamlink::tls::TlsConfig,
}

/// `TlsConfigError(message, kind="tls_config", path=...)`.
fn config_error(py: Python<'_>, e: &TlsConfigError) -> PyErr {
    let path = match e {
        TlsConfigError::Read { path, .. }
        | TlsConfigError::Optfile { path, .. }
        | TlsConfigError::Unsupported { path, .. } => {
            PyString::new(py, &path.display().to_string()).into_any()
        }
        _ => py.None().into_bound(py),
    };
    let kind = PyString::new(py, "tls_config").into_any();
    errors::make(py, "TlsConfigError", &format!("TLS settings: {e}"), &[("kind", kind), ("path", path)])
}

fn version(name: &str) -> PyResult<TlsVersion> {
    match name {
        "tlsv1.2" => Ok(TlsVersion::Tls12),
        "tlsv1.3" => Ok(TlsVersion::Tls13),
        other => {
            Err(PyValueError::new_err(format!("a TLS version is \"tlsv1.2\" or \"tlsv1.3\", not {other:?}")))
        }
    }
}

#[pymethods]
impl TlsConfig {
    /// Mutual TLS from PEM files; `keyfile=None`: the key is in `certfile`.
    #[new]
    #[pyo3(signature = (certfile, keyfile = None, *, cafile, versions = None, check_hostname = true, require_client_cert = true))]
    fn new(
        py: Python<'_>,
        certfile: PathBuf,
        keyfile: Option<PathBuf>,
        cafile: PathBuf,
        versions: Option<Vec<String>>,
        check_hostname: bool,
        require_client_cert: bool,
    ) -> PyResult<TlsConfig> {
        let versions = match versions {
            Some(v) if v.is_empty() => {
                return Err(PyValueError::new_err("versions must name at least one TLS version"));
            }
            Some(v) => Some(v.iter().map(|s| version(s)).collect::<PyResult<Vec<_>>>()?),
            None => None,
        };
        let keyfile = keyfile.unwrap_or_else(|| certfile.clone());
        let loaded = py.detach(|| beamlink::tls::TlsConfig::from_pem_files(&certfile, &keyfile, &cafile));
        let mut config = loaded.map_err(|e| config_error(py, &e))?;
        if let Some(v) = versions {
            config = config.versions(&v);
        }
        config = config.check_host_name(check_hostname).require_client_certificate(require_client_cert);
        Ok(TlsConfig { config })
    }

    /// The settings of an OTP `-ssl_dist_optfile` (its client section to connect, its server
    /// section to accept).
    #[staticmethod]
    fn from_optfile(py: Python<'_>, path: PathBuf) -> PyResult<TlsConfig> {
        let loaded = py.detach(|| beamlink::tls::TlsConfig::from_optfile(&path));
        Ok(TlsConfig { config: loaded.map_err(|e| config_error(py, &e))? })
    }
}
