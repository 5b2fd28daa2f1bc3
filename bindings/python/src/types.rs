//! The Python types of the Erlang terms that have no Python counterpart: atoms, pids, ports,
//! references, funs, exports, bitstrings, improper lists, charlists, and the hashable forms of
//! lists and maps that appear as map keys. All are immutable and hashable, so any term can be a
//! key of a decoded map, and all pickle.

use pyo3::prelude::*;
use pyo3::pyclass::CompareOp;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

/// What `__reduce__` returns: the class and its constructor arguments.
type Reduced<'py, A> = PyResult<(Bound<'py, PyType>, A)>;

/// An Erlang atom: `Atom("ok")` is `ok` in Erlang and `:ok` in Elixir.
///
/// Atoms are not strings: `Atom("ok") != "ok"`, so a map with both an atom key and a string
/// key of the same text decodes to a dict with two keys. `true`/`false` are Python's `bool`
/// and `nil` is `None` (see the term mapping), so they never appear as `Atom`.
///
/// >>> from beamlink import Atom
/// >>> Atom("ok")
/// Atom('ok')
/// >>> Atom("ok").name, str(Atom("ok")), Atom("ok") == "ok"
/// ('ok', 'ok', False)
#[pyclass(frozen, eq, ord, module = "beamlink", name = "Atom")]
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Atom {
    pub(crate) text: Box<str>,
    /// The hash of `text`, computed once: atoms are dict keys in every decoded record, and
    /// every insertion asks for it.
    hash: u64,
}

impl Atom {
    pub(crate) fn of(text: Box<str>) -> Atom {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        Atom { hash: h.finish(), text }
    }

    /// What Python's `hash()` returns for this atom (pyo3's conversion of `__hash__`).
    #[inline]
    pub(crate) fn py_hash(&self) -> pyo3::ffi::Py_hash_t {
        let h = self.hash as pyo3::ffi::Py_hash_t;
        if h == -1 { -2 } else { h }
    }
}

#[pymethods]
impl Atom {
    #[new]
    fn new(name: &str) -> Atom {
        Atom::of(name.into())
    }

    fn __hash__(&self) -> u64 {
        self.hash
    }

    #[classattr]
    fn __match_args__() -> (&'static str,) {
        ("name",)
    }

    /// The atom's name.
    #[getter]
    fn name(&self) -> &str {
        &self.text
    }

    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!("Atom({})", py_str_repr(&self.text))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, (String,))> {
        Ok((slf.get_type(), (slf.get().text.to_string(),)))
    }
}

/// A process identifier, `<node.id.serial>` plus the node's creation.
///
/// >>> from beamlink import Pid
/// >>> p = Pid("fuga@localhost", 85, 0, 1700000000)
/// >>> str(p), p.node, p.id
/// ('<fuga@localhost.85.0>', 'fuga@localhost', 85)
#[pyclass(frozen, eq, ord, hash, module = "beamlink", name = "Pid")]
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash, Clone)]
pub struct Pid {
    #[pyo3(get)]
    pub(crate) node: String,
    #[pyo3(get)]
    pub(crate) id: u32,
    #[pyo3(get)]
    pub(crate) serial: u32,
    #[pyo3(get)]
    pub(crate) creation: u32,
}

#[pymethods]
impl Pid {
    #[new]
    #[pyo3(signature = (node, id, serial = 0, creation = 0))]
    fn new(node: String, id: u32, serial: u32, creation: u32) -> Pid {
        Pid { node, id, serial, creation }
    }

    #[classattr]
    fn __match_args__() -> (&'static str, &'static str, &'static str, &'static str) {
        ("node", "id", "serial", "creation")
    }

    fn __str__(&self) -> String {
        format!("<{}.{}.{}>", self.node, self.id, self.serial)
    }

    fn __repr__(&self) -> String {
        format!("Pid({}, {}, {}, {})", py_str_repr(&self.node), self.id, self.serial, self.creation)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String, u32, u32, u32)) {
        let p = slf.get();
        (slf.get_type(), (p.node.clone(), p.id, p.serial, p.creation))
    }
}

/// A port identifier (ports are 64-bit on OTP 26+).
///
/// >>> from beamlink import Port
/// >>> str(Port("fuga@localhost", 3, 1))
/// '#Port<fuga@localhost.3>'
#[pyclass(frozen, eq, ord, hash, module = "beamlink", name = "Port")]
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Port {
    #[pyo3(get)]
    pub(crate) node: String,
    #[pyo3(get)]
    pub(crate) id: u64,
    #[pyo3(get)]
    pub(crate) creation: u32,
}

#[pymethods]
impl Port {
    #[new]
    #[pyo3(signature = (node, id, creation = 0))]
    fn new(node: String, id: u64, creation: u32) -> Port {
        Port { node, id, creation }
    }

    fn __str__(&self) -> String {
        format!("#Port<{}.{}>", self.node, self.id)
    }

    fn __repr__(&self) -> String {
        format!("Port({}, {}, {})", py_str_repr(&self.node), self.id, self.creation)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String, u64, u32)) {
        let p = slf.get();
        (slf.get_type(), (p.node.clone(), p.id, p.creation))
    }
}

/// A reference (`make_ref()`, monitor references, aliases): up to five 32-bit words.
///
/// >>> from beamlink import Reference
/// >>> r = Reference("fuga@localhost", 1, (7, 8, 9))
/// >>> str(r), r.ids
/// ('#Ref<fuga@localhost.9.8.7>', (7, 8, 9))
#[pyclass(frozen, eq, ord, hash, module = "beamlink", name = "Reference")]
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash, Clone)]
pub struct Reference {
    #[pyo3(get)]
    pub(crate) node: String,
    #[pyo3(get)]
    pub(crate) creation: u32,
    pub(crate) ids: Vec<u32>,
}

#[pymethods]
impl Reference {
    #[new]
    fn new(node: String, creation: u32, ids: Vec<u32>) -> PyResult<Reference> {
        if ids.is_empty() || ids.len() > 5 {
            return Err(pyo3::exceptions::PyValueError::new_err("a reference has 1 to 5 ids"));
        }
        Ok(Reference { node, creation, ids })
    }

    /// The id words, as on the wire (Erlang prints them last first).
    #[getter]
    fn ids<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, &self.ids)
    }

    fn __str__(&self) -> String {
        let ids: Vec<String> = self.ids.iter().rev().map(u32::to_string).collect();
        format!("#Ref<{}.{}>", self.node, ids.join("."))
    }

    fn __repr__(&self) -> String {
        let ids: Vec<String> = self.ids.iter().map(u32::to_string).collect();
        let comma = if ids.len() == 1 { "," } else { "" };
        format!("Reference({}, {}, ({}{comma}))", py_str_repr(&self.node), self.creation, ids.join(", "))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String, u32, Vec<u32>)) {
        let r = slf.get();
        (slf.get_type(), (r.node.clone(), r.creation, r.ids.clone()))
    }
}

/// An external fun, `fun Module:Function/Arity` (`&Module.function/arity` in Elixir).
///
/// >>> from beamlink import Export
/// >>> str(Export("lists", "map", 2))
/// 'fun lists:map/2'
#[pyclass(frozen, eq, ord, hash, module = "beamlink", name = "Export")]
#[derive(PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Export {
    #[pyo3(get)]
    pub(crate) module: String,
    #[pyo3(get)]
    pub(crate) function: String,
    #[pyo3(get)]
    pub(crate) arity: u8,
}

#[pymethods]
impl Export {
    #[new]
    fn new(module: String, function: String, arity: u8) -> Export {
        Export { module, function, arity }
    }

    fn __str__(&self) -> String {
        format!("fun {}:{}/{}", self.module, self.function, self.arity)
    }

    fn __repr__(&self) -> String {
        format!("Export({}, {}, {})", py_str_repr(&self.module), py_str_repr(&self.function), self.arity)
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String, String, u8)) {
        let e = slf.get();
        (slf.get_type(), (e.module.clone(), e.function.clone(), e.arity))
    }
}

/// A local fun received from a node. Opaque: it keeps the exact bytes the node sent, so it
/// goes back intact and can be called there (`node.call(n, "erlang", "apply", [fun, []])`).
/// Two funs are equal when they are the same closure (code and free variables), however
/// their atoms were encoded.
#[pyclass(frozen, eq, hash, module = "beamlink", name = "Fun")]
pub struct Fun {
    /// `NEW_FUN_EXT` and everything after it, as received.
    pub(crate) etf: Box<[u8]>,
    #[pyo3(get)]
    pub(crate) module: String,
    #[pyo3(get)]
    pub(crate) arity: u8,
    pub(crate) uniq: [u8; 16],
    pub(crate) index: u32,
}

impl PartialEq for Fun {
    fn eq(&self, other: &Fun) -> bool {
        if self.etf == other.etf {
            return true;
        }
        if (self.uniq, self.index) != (other.uniq, other.index) {
            return false;
        }
        let decode = |b: &[u8]| {
            let limits = beamlink::term::Limits::trusted();
            beamlink::term::Decoder::new(b).with_limits(limits).term().ok()
        };
        matches!((decode(&self.etf), decode(&other.etf)), (Some(a), Some(b)) if a == b)
    }
}

impl Eq for Fun {}

impl std::hash::Hash for Fun {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        (self.uniq, self.index, &self.module).hash(h)
    }
}

#[pymethods]
impl Fun {
    fn __repr__(&self) -> String {
        format!("<Fun {}/{} ({} bytes)>", self.module, self.arity, self.etf.len())
    }

    /// Pickles as its encoding.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let decode = py.import("beamlink")?.getattr("binary_to_term")?;
        let mut v = Vec::with_capacity(self.etf.len() + 1);
        v.push(beamlink::term::VERSION_MAGIC);
        v.extend_from_slice(&self.etf);
        Ok((decode, (PyBytes::new(py, &v),)))
    }
}

/// A bitstring whose length is not a whole number of bytes: `BitString(b"\xe0", 3)` is
/// `<<7:3>>`. `bits` is how many high bits of the last byte count (1 to 8); unused low bits
/// are cleared.
///
/// >>> from beamlink import BitString
/// >>> b = BitString(b"\x01\xff", 3)
/// >>> b.data, b.bits, b.bit_size
/// (b'\x01\xe0', 3, 11)
#[pyclass(frozen, eq, hash, module = "beamlink", name = "BitString")]
#[derive(PartialEq, Eq, Hash)]
pub struct BitString {
    pub(crate) data: Box<[u8]>,
    #[pyo3(get)]
    pub(crate) bits: u8,
}

#[pymethods]
impl BitString {
    #[new]
    fn new(data: &[u8], bits: u8) -> PyResult<BitString> {
        if !(1..=8).contains(&bits) || data.is_empty() {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "a BitString needs at least one byte and 1 to 8 bits in the last",
            ));
        }
        Ok(BitString::cleared(data, bits))
    }

    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    /// Length in bits.
    #[getter]
    fn bit_size(&self) -> usize {
        self.data.len() * 8 - (8 - self.bits as usize)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("BitString({}, {})", PyBytes::new(py, &self.data).repr()?, self.bits))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (Bound<'py, PyBytes>, u8)) {
        let b = slf.get();
        (slf.get_type(), (PyBytes::new(slf.py(), &b.data), b.bits))
    }
}

impl BitString {
    pub(crate) fn cleared(data: &[u8], bits: u8) -> BitString {
        let mut data: Box<[u8]> = data.into();
        if let Some(last) = data.last_mut() {
            *last &= 0xffu8 << (8 - bits);
        }
        BitString { data, bits }
    }
}

/// A list whose tail is not `[]`: `ImproperList([1, 2], 3)` is `[1, 2 | 3]`.
///
/// >>> from beamlink import ImproperList
/// >>> ImproperList([1, 2], 3)
/// ImproperList([1, 2], 3)
#[pyclass(frozen, module = "beamlink", name = "ImproperList")]
pub struct ImproperList {
    /// Kept as a tuple so the value is immutable (and hashable when its parts are).
    pub(crate) items: Py<PyTuple>,
    pub(crate) tail: Py<PyAny>,
}

#[pymethods]
impl ImproperList {
    #[new]
    fn new(py: Python<'_>, items: &Bound<'_, PyAny>, tail: Py<PyAny>) -> PyResult<ImproperList> {
        let items = PyTuple::new(py, items.try_iter()?.collect::<PyResult<Vec<_>>>()?)?;
        if items.is_empty() {
            return Err(pyo3::exceptions::PyValueError::new_err("an improper list has at least one item"));
        }
        if tail.bind(py).is_instance_of::<PyList>() {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "the tail of an improper list is not a list (append it to the items)",
            ));
        }
        Ok(ImproperList { items: items.unbind(), tail })
    }

    /// The elements before the tail, as a list.
    #[getter]
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.items.bind(py).iter())
    }

    #[getter]
    fn tail(&self, py: Python<'_>) -> Py<PyAny> {
        self.tail.clone_ref(py)
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let Ok(o) = other.cast::<ImproperList>() else {
            return Ok(py.NotImplemented());
        };
        let o = o.get();
        let same = self.items.bind(py).eq(o.items.bind(py))? && self.tail.bind(py).eq(o.tail.bind(py))?;
        eq_result(py, op, same)
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        Ok(self.items.bind(py).hash()? ^ self.tail.bind(py).hash()?.rotate_left(7) ^ 0x1b2b3b)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("ImproperList({}, {})", self.items(py)?.repr()?, self.tail.bind(py).repr()?))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduced<'py, (Bound<'py, PyList>, Py<PyAny>)> {
        let py = slf.py();
        let l = slf.get();
        Ok((slf.get_type(), (l.items(py)?, l.tail.clone_ref(py))))
    }
}

/// An Erlang charlist given as text: `Charlist("abc")` encodes as the list `[97, 98, 99]`
/// (`'abc'` in Elixir, `"abc"` in Erlang). Python `str` encodes as a binary (an Elixir string).
/// Decoding gives charlists back as lists of integers, or as `Charlist` with
/// `charlists="charlist"`.
///
/// >>> from beamlink import Charlist, term_to_binary
/// >>> term_to_binary(Charlist("ab")) == term_to_binary([97, 98])
/// True
#[pyclass(frozen, eq, hash, module = "beamlink", name = "Charlist")]
#[derive(PartialEq, Eq, Hash)]
pub struct Charlist {
    pub(crate) text: Box<str>,
}

#[pymethods]
impl Charlist {
    #[new]
    fn new(text: &str) -> Charlist {
        Charlist { text: text.into() }
    }

    #[getter]
    fn text(&self) -> &str {
        &self.text
    }

    fn __str__(&self) -> &str {
        &self.text
    }

    fn __repr__(&self) -> String {
        format!("Charlist({})", py_str_repr(&self.text))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> (Bound<'py, PyType>, (String,)) {
        (slf.get_type(), (slf.get().text.to_string(),))
    }
}

/// A list used as a map key (Python lists cannot be dict keys): an immutable sequence that
/// encodes back as a list. Equal to a `list` with the same items. Lists and dicts inside are
/// frozen too, so it is always hashable.
///
/// >>> from beamlink import FrozenList
/// >>> FrozenList([1, 2]) == [1, 2], len(FrozenList([1, 2])), list(FrozenList([1, 2]))
/// (True, 2, [1, 2])
#[pyclass(frozen, sequence, module = "beamlink", name = "FrozenList")]
pub struct FrozenList {
    pub(crate) items: Py<PyTuple>,
}

#[pymethods]
impl FrozenList {
    #[new]
    #[pyo3(signature = (items = None))]
    fn new(py: Python<'_>, items: Option<&Bound<'_, PyAny>>) -> PyResult<FrozenList> {
        let items = match items {
            Some(it) => PyTuple::new(py, it.try_iter()?.map(|x| freeze(&x?)).collect::<PyResult<Vec<_>>>()?)?,
            None => PyTuple::empty(py),
        };
        Ok(FrozenList { items: items.unbind() })
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, index: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.items.bind(py).as_any().get_item(index)
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.items.bind(py).as_any().try_iter()?.into_any())
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let items = self.items.bind(py);
        let same = if let Ok(o) = other.cast::<FrozenList>() {
            items.eq(o.get().items.bind(py))?
        } else if let Ok(l) = other.cast::<PyList>() {
            items.eq(l.to_tuple())?
        } else {
            return Ok(py.NotImplemented());
        };
        eq_result(py, op, same)
    }

    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        Ok(self.items.bind(py).hash()? ^ 0x2c3c4c)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("FrozenList({})", PyList::new(py, self.items.bind(py).iter())?.repr()?))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, (Bound<'py, PyList>,))> {
        let py = slf.py();
        Ok((slf.get_type(), (PyList::new(py, slf.get().items.bind(py).iter())?,)))
    }
}

/// A map Python's `dict` cannot hold: one used as a map key (it must be hashable), or one
/// whose keys Python considers equal although Erlang does not (`1` and `1.0`, `true` and `1`).
/// An immutable mapping that keeps every pair in order and encodes back as a map. Lists and
/// dicts inside are frozen, so it is hashable.
///
/// >>> from beamlink import FrozenMap
/// >>> m = FrozenMap([(1, "int"), (1.0, "float")])
/// >>> len(m), m.items()
/// (2, [(1, 'int'), (1.0, 'float')])
/// >>> FrozenMap({"a": 1})["a"], FrozenMap({"a": 1}) == {"a": 1}
/// (1, True)
#[pyclass(frozen, mapping, module = "beamlink", name = "FrozenMap")]
pub struct FrozenMap {
    /// `(key, value)` tuples in order.
    pub(crate) pairs: Py<PyTuple>,
    /// For lookups, when no two keys collide in Python.
    pub(crate) index: Option<Py<PyDict>>,
}

#[pymethods]
impl FrozenMap {
    #[new]
    #[pyo3(signature = (pairs = None))]
    fn new(py: Python<'_>, pairs: Option<&Bound<'_, PyAny>>) -> PyResult<FrozenMap> {
        let mut v = Vec::new();
        if let Some(p) = pairs {
            let iter = match p.cast::<PyDict>() {
                Ok(d) => d.items().into_any().try_iter()?,
                Err(_) => p.try_iter()?,
            };
            for pair in iter {
                let (k, val): (Bound<'_, PyAny>, Bound<'_, PyAny>) = pair?.extract()?;
                v.push(PyTuple::new(py, [freeze(&k)?, freeze(&val)?])?);
            }
        }
        FrozenMap::from_pairs(py, v)
    }

    fn __len__(&self, py: Python<'_>) -> usize {
        self.pairs.bind(py).len()
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        match self.lookup(py, key)? {
            Some(v) => Ok(v),
            None => Err(pyo3::exceptions::PyKeyError::new_err(key.clone().unbind())),
        }
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.lookup(py, key)?.is_some())
    }

    #[pyo3(signature = (key, default = None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.lookup(py, key)?.or(default).unwrap_or_else(|| py.None().into_bound(py)))
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.as_any().try_iter()?.into_any())
    }

    /// The keys, in order.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.column(py, 0)
    }

    /// The values, in order.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        self.column(py, 1)
    }

    /// The `(key, value)` pairs, in order.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.pairs.bind(py).iter())
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp) -> PyResult<Py<PyAny>> {
        let py = other.py();
        let same = if let Ok(o) = other.cast::<FrozenMap>() {
            match (&self.index, &o.get().index) {
                (Some(a), Some(b)) => a.bind(py).eq(b.bind(py))?,
                _ => self.same_pairs(py, o.get().pairs.bind(py))?,
            }
        } else if let Ok(d) = other.cast::<PyDict>() {
            match &self.index {
                Some(a) => a.bind(py).eq(d)?,
                None => self.same_pairs(py, &PyTuple::new(py, d.items().iter())?)?,
            }
        } else {
            return Ok(py.NotImplemented());
        };
        eq_result(py, op, same)
    }

    /// Independent of pair order, as map equality is.
    fn __hash__(&self, py: Python<'_>) -> PyResult<isize> {
        let mut h: isize = 0x3d4d5d;
        for p in self.pairs.bind(py).iter() {
            h = h.wrapping_add(p.hash()?);
        }
        Ok(h)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("FrozenMap({})", self.items(py)?.repr()?))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyType>, (Bound<'py, PyList>,))> {
        Ok((slf.get_type(), (slf.get().items(slf.py())?,)))
    }
}

impl FrozenMap {
    /// Takes `(key, value)` tuples; keys must be hashable.
    pub(crate) fn from_pairs(py: Python<'_>, pairs: Vec<Bound<'_, PyTuple>>) -> PyResult<FrozenMap> {
        let index = PyDict::new(py);
        for p in &pairs {
            index.set_item(p.get_item(0)?, p.get_item(1)?)?;
        }
        let index = (index.len() == pairs.len()).then(|| index.unbind());
        Ok(FrozenMap { pairs: PyTuple::new(py, pairs)?.unbind(), index })
    }

    fn lookup<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyAny>>> {
        if let Some(ix) = &self.index {
            return ix.bind(py).get_item(key);
        }
        // Colliding keys: only a key of the very same type matches (`1` finds `1`, not `1.0`).
        for p in self.pairs.bind(py).iter() {
            let k = p.get_item(0)?;
            if k.get_type().is(key.get_type()) && k.eq(key)? {
                return Ok(Some(p.get_item(1)?));
            }
        }
        Ok(None)
    }

    fn column<'py>(&self, py: Python<'py>, i: usize) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for p in self.pairs.bind(py).iter() {
            out.append(p.get_item(i)?)?;
        }
        Ok(out)
    }

    fn same_pairs(&self, py: Python<'_>, other: &Bound<'_, PyTuple>) -> PyResult<bool> {
        let mine = self.pairs.bind(py);
        if mine.len() != other.len() {
            return Ok(false);
        }
        'outer: for p in mine.iter() {
            let (k, v) = (p.get_item(0)?, p.get_item(1)?);
            for q in other.iter() {
                let (k2, v2) = (q.get_item(0)?, q.get_item(1)?);
                if k.get_type().is(k2.get_type()) && k.eq(&k2)? && v.eq(&v2)? {
                    continue 'outer;
                }
            }
            return Ok(false);
        }
        Ok(true)
    }
}

/// `obj` with every list and dict in it (through tuples, lists and dicts) made a
/// [`FrozenList`] / [`FrozenMap`], so it can be hashed.
fn freeze<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    if let Ok(l) = obj.cast::<PyList>() {
        let items = l.iter().map(|x| freeze(&x)).collect::<PyResult<Vec<_>>>()?;
        return Ok(Py::new(py, FrozenList { items: PyTuple::new(py, items)?.unbind() })?
            .into_bound(py)
            .into_any());
    }
    if let Ok(t) = obj.cast::<PyTuple>()
        && t.get_type().is(py.get_type::<PyTuple>())
    {
        let items = t.iter().map(|x| freeze(&x)).collect::<PyResult<Vec<_>>>()?;
        return Ok(PyTuple::new(py, items)?.into_any());
    }
    if obj.cast::<PyDict>().is_ok() {
        return Ok(Py::new(py, FrozenMap::new(py, Some(obj))?)?.into_bound(py).into_any());
    }
    Ok(obj.clone())
}

/// Python's `repr` of a string, for the `__repr__`s above.
fn py_str_repr(s: &str) -> String {
    Python::attach(|py| {
        PyString::new(py, s).repr().map(|r| r.to_string()).unwrap_or_else(|_| format!("{s:?}"))
    })
}

/// The answer of `==` / `!=` for a comparison that found `same`; other operators are not
/// defined.
fn eq_result(py: Python<'_>, op: CompareOp, same: bool) -> PyResult<Py<PyAny>> {
    let b = match op {
        CompareOp::Eq => same,
        CompareOp::Ne => !same,
        _ => return Ok(py.NotImplemented()),
    };
    Ok(pyo3::types::PyBool::new(py, b).to_owned().into_any().unbind())
}
