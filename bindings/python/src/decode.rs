//! External term format → Python objects, straight from the bytes (no `beamlink::Term` in
//! between): this is where decoding speed is won.
//!
//! The checks are the engine decoder's (`beamlink::term::Decoder`): every length is checked
//! against the bytes left before anything is allocated, one preallocation budget covers the
//! whole input, nesting is bounded, atoms and floats are validated, and duplicate map keys are
//! refused. Errors are the engine's [`DecodeError`], with the byte offset. The rare shapes whose
//! rules are intricate (funs, exports, compressed terms) are parsed by the engine decoder itself.
//!
//! Objects are made through the C API directly; atoms and short map-key strings come from the
//! caches in [`crate::cache`]. Deep terms continue on heap-allocated stack segments, so a
//! 100 000-deep list from a node converts without exhausting the thread's stack.

use beamlink::term::{DecodeError, Limits, Term, tag::*};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::cache::{self, ATOMS, INTS, KEYS};
use crate::options::{Binaries, DecodeOptions};
use crate::types::{
    Atom, BitString, Charlist, Export, FrozenList, FrozenMap, Fun, ImproperList, Pid, Port, Reference,
};

/// Why decoding stopped: malformed input, or a Python error (out of memory, an unhashable
/// key where none can occur).
pub(crate) enum Fail {
    Format(DecodeError),
    Py(PyErr),
}

impl From<PyErr> for Fail {
    fn from(e: PyErr) -> Fail {
        Fail::Py(e)
    }
}

impl From<DecodeError> for Fail {
    fn from(e: DecodeError) -> Fail {
        Fail::Format(e)
    }
}

type R<'py> = Result<Bound<'py, PyAny>, Fail>;

type FromByteArray = unsafe extern "C" fn(*const u8, usize, i32, i32) -> *mut ffi::PyObject;

/// CPython's `_PyLong_FromByteArray` (what `pickle` and `int.from_bytes` use), looked up at
/// run time: it is not in the stable ABI, so an abi3 wheel must not link it, but every
/// CPython from 3.9 on exports it with this signature. `None` where it is missing.
fn long_from_byte_array() -> Option<FromByteArray> {
    #[cfg(unix)]
    {
        use std::sync::OnceLock;
        static FOUND: OnceLock<Option<FromByteArray>> = OnceLock::new();
        *FOUND.get_or_init(|| {
            // Safety: a lookup by a NUL-terminated name; a found symbol is this function.
            let p = unsafe { dlsym(rtld_default(), c"_PyLong_FromByteArray".as_ptr()) };
            (!p.is_null()).then(|| unsafe { std::mem::transmute::<*mut std::ffi::c_void, FromByteArray>(p) })
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

type NewDict = unsafe extern "C" fn(ffi::Py_ssize_t) -> *mut ffi::PyObject;

unsafe extern "C" fn dict_new(_: ffi::Py_ssize_t) -> *mut ffi::PyObject {
    // Safety: plain C API call.
    unsafe { ffi::PyDict_New() }
}

/// CPython's `_PyDict_NewPresized` (what `marshal` and the compiler use for a dict of known
/// size: no resize while it fills), looked up like [`long_from_byte_array`].
fn dict_new_presized() -> Option<NewDict> {
    #[cfg(unix)]
    {
        use std::sync::OnceLock;
        static FOUND: OnceLock<Option<NewDict>> = OnceLock::new();
        *FOUND.get_or_init(|| {
            // Safety: a lookup by a NUL-terminated name; a found symbol is this function.
            let p = unsafe { dlsym(rtld_default(), c"_PyDict_NewPresized".as_ptr()) };
            (!p.is_null()).then(|| unsafe { std::mem::transmute::<*mut std::ffi::c_void, NewDict>(p) })
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

#[cfg(unix)]
unsafe extern "C" {
    fn dlsym(handle: *mut std::ffi::c_void, symbol: *const std::ffi::c_char) -> *mut std::ffi::c_void;
}

/// RTLD_DEFAULT: the symbols of the process, the interpreter's among them.
#[cfg(unix)]
fn rtld_default() -> *mut std::ffi::c_void {
    #[cfg(target_os = "linux")]
    let default = std::ptr::null_mut();
    #[cfg(not(target_os = "linux"))]
    let default = -2isize as *mut std::ffi::c_void;
    default
}

/// The address of an interpreter function that is not in the stable ABI (null if missing).
#[cfg(unix)]
pub(crate) fn interpreter_symbol(name: &std::ffi::CStr) -> *mut std::ffi::c_void {
    // Safety: a lookup by a NUL-terminated name.
    unsafe { dlsym(rtld_default(), name.as_ptr()) }
}

type SetKnownHash =
    unsafe extern "C" fn(*mut ffi::PyObject, *mut ffi::PyObject, *mut ffi::PyObject, ffi::Py_hash_t) -> i32;

/// CPython's `_PyDict_SetItem_KnownHash` (a dict insertion given the key's hash), looked up
/// like [`long_from_byte_array`].
fn set_known_hash() -> Option<SetKnownHash> {
    #[cfg(unix)]
    {
        use std::sync::OnceLock;
        static FOUND: OnceLock<Option<SetKnownHash>> = OnceLock::new();
        *FOUND.get_or_init(|| {
            let p = interpreter_symbol(c"_PyDict_SetItem_KnownHash");
            // Safety: a found symbol is this function.
            (!p.is_null()).then(|| unsafe { std::mem::transmute::<*mut std::ffi::c_void, SetKnownHash>(p) })
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Decodes one complete term that starts with the version byte 131.
pub(crate) fn decode<'py>(py: Python<'py>, input: &[u8], opts: &DecodeOptions) -> R<'py> {
    match input {
        [] => Err(DecodeError::UnexpectedEof { offset: 0, needed: 1 }.into()),
        [VERSION_MAGIC, COMPRESSED, ..] => {
            // zlib and its size rules are the engine's; the expanded term comes back as bytes.
            let limits = Limits { max_depth: opts.max_depth, ..Limits::default() };
            let mut d = beamlink::term::Decoder::new(input).with_limits(limits);
            let t = d.versioned_term()?;
            d.finish()?;
            let mut bare = Vec::new();
            beamlink::term::encode_into(&t, &mut bare);
            decode_bare(py, &bare, opts)
        }
        [VERSION_MAGIC, ..] => {
            let mut d = Decoder::new(py, input, opts);
            d.pos = 1;
            let t = d.term(false)?;
            d.finish()?;
            Ok(t)
        }
        [found, ..] => Err(DecodeError::BadVersion { offset: 0, found: *found }.into()),
    }
}

/// Decodes one complete term without a version byte (a message payload as it arrived).
pub(crate) fn decode_bare<'py>(py: Python<'py>, input: &[u8], opts: &DecodeOptions) -> R<'py> {
    let mut d = Decoder::new(py, input, opts);
    let t = d.term(false)?;
    d.finish()?;
    Ok(t)
}

/// An engine term as a Python object (error reasons, exit reasons): encoded by the engine,
/// decoded here, so there is one conversion per direction.
pub(crate) fn term_to_py<'py>(
    py: Python<'py>,
    t: &Term,
    opts: &DecodeOptions,
) -> PyResult<Bound<'py, PyAny>> {
    let mut bare = Vec::with_capacity(64);
    beamlink::term::encode_into(t, &mut bare);
    let opts = DecodeOptions { max_depth: usize::MAX, ..*opts };
    decode_bare(py, &bare, &opts).map_err(|f| crate::errors::decode_failure(py, f))
}

struct Decoder<'a, 'py> {
    py: Python<'py>,
    input: &'a [u8],
    pos: usize,
    depth: usize,
    /// Elements still allowed to be preallocated (see the engine decoder: one budget for the
    /// whole input, so nested containers cannot each reserve what the input could hold).
    budget: usize,
    opts: &'a DecodeOptions,
    atom_type: *mut ffi::PyTypeObject,
}

#[inline]
fn own<'py>(py: Python<'py>, ptr: *mut ffi::PyObject) -> R<'py> {
    // Safety: `ptr` is a new reference returned by the C API (or null with an error set).
    unsafe { Bound::from_owned_ptr_or_err(py, ptr) }.map_err(Fail::Py)
}

impl<'a, 'py> Decoder<'a, 'py> {
    fn new(py: Python<'py>, input: &'a [u8], opts: &'a DecodeOptions) -> Self {
        let atom_type = py.get_type::<Atom>().as_type_ptr();
        Decoder { py, input, pos: 0, depth: 0, budget: input.len(), opts, atom_type }
    }

    fn finish(&self) -> Result<(), Fail> {
        if self.pos == self.input.len() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { offset: self.pos, count: self.input.len() - self.pos }.into())
        }
    }

    /// One term. `key`: it is (part of) a map key, so it must come out hashable.
    fn term(&mut self, key: bool) -> R<'py> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            SMALL_INTEGER_EXT => {
                let b = self.u8()?;
                self.int(b as i64)
            }
            INTEGER_EXT => {
                let v = self.u32()? as i32;
                self.cached_int(v as i64)
            }
            SMALL_ATOM_UTF8_EXT | ATOM_EXT | ATOM_UTF8_EXT | SMALL_ATOM_EXT => self.atom(tag, at),
            BINARY_EXT => {
                let n = self.u32()? as usize;
                let b = self.take(n)?;
                self.binary(b, key)
            }
            NIL_EXT => self.empty_list(key),
            SMALL_TUPLE_EXT | LARGE_TUPLE_EXT | LIST_EXT | MAP_EXT => {
                let depth = self.depth;
                beamlink::term::nested(depth, || self.nested(tag, key))
            }
            _ => self.leaf(tag, at, key),
        }
    }

    /// A container element: integers inline, the rest through [`term`](Self::term).
    #[inline(always)]
    fn item(&mut self, key: bool) -> R<'py> {
        let p = self.pos;
        match self.input.get(p..) {
            Some([SMALL_INTEGER_EXT, b, ..]) => {
                self.pos = p + 2;
                self.int(*b as i64)
            }
            Some([INTEGER_EXT, a, b, c, d, ..]) => {
                self.pos = p + 5;
                self.cached_int(i32::from_be_bytes([*a, *b, *c, *d]) as i64)
            }
            Some([SMALL_BIG_EXT, n, ..]) => {
                self.pos = p + 2;
                self.big(*n as usize)
            }
            _ => self.term(key),
        }
    }

    /// A map key: a binary or atom already in its cache straight from there, the rest through
    /// [`item`](Self::item).
    #[inline(always)]
    fn map_key(&mut self) -> R<'py> {
        let p = self.pos;
        match self.input.get(p..) {
            Some([BINARY_EXT, a, b, c, d, ..]) if self.opts.binaries == Binaries::Str => {
                let n = u32::from_be_bytes([*a, *b, *c, *d]) as usize;
                if n <= cache::MAX_KEY_LEN
                    && let Some(raw) = self.input.get(p + 5..p + 5 + n)
                    && let Some(o) = KEYS.get(self.py, raw)
                {
                    self.pos = p + 5 + n;
                    return Ok(o);
                }
            }
            Some([SMALL_ATOM_UTF8_EXT, n, ..]) => {
                let end = p + 2 + *n as usize;
                if let Some(raw) = self.input.get(p + 2..end)
                    && self.special_atom(raw).is_none()
                    && let Some(o) = ATOMS.get(self.py, raw)
                {
                    self.pos = end;
                    return Ok(o);
                }
            }
            _ => {}
        }
        self.item(true)
    }

    fn nested(&mut self, tag: u8, key: bool) -> R<'py> {
        match tag {
            SMALL_TUPLE_EXT => {
                let n = self.u8()? as usize;
                self.tuple(n, key)
            }
            LARGE_TUPLE_EXT => {
                let n = self.u32()? as usize;
                self.tuple(n, key)
            }
            LIST_EXT => self.list(key),
            _ => self.map(key),
        }
    }

    fn enter(&mut self) -> Result<(), Fail> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            return Err(DecodeError::TooDeep { offset: self.pos, limit: self.opts.max_depth }.into());
        }
        Ok(())
    }

    /// Fails unless `n` items of at least `min_bytes_each` can still follow.
    fn check_count(&self, n: usize, min_bytes_each: usize) -> Result<(), Fail> {
        let left = self.input.len() - self.pos;
        if n.saturating_mul(min_bytes_each) > left {
            return Err(DecodeError::UnexpectedEof {
                offset: self.pos,
                needed: n.saturating_mul(min_bytes_each) - left,
            }
            .into());
        }
        Ok(())
    }

    /// Whether `n` slots may be allocated ahead (and charges them).
    fn reserve(&mut self, n: usize) -> bool {
        if n <= self.budget {
            self.budget -= n;
            true
        } else {
            false
        }
    }

    #[inline]
    fn int(&self, v: i64) -> R<'py> {
        // Safety: plain C API call; CPython returns its cached objects for small values.
        own(self.py, unsafe { ffi::PyLong_FromLongLong(v) })
    }

    /// An integer outside CPython's small-int range, from the cache of recent ones.
    #[inline]
    fn cached_int(&self, v: i64) -> R<'py> {
        own(self.py, INTS.get(self.py, v))
    }

    fn empty_list(&self, key: bool) -> R<'py> {
        if key {
            return Ok(Py::new(self.py, FrozenList { items: PyTuple::empty(self.py).unbind() })?
                .into_bound(self.py)
                .into_any());
        }
        // Safety: plain C API call.
        own(self.py, unsafe { ffi::PyList_New(0) })
    }

    fn binary(&self, b: &[u8], key: bool) -> R<'py> {
        if self.opts.binaries == Binaries::Str {
            // The cache holds only valid UTF-8, so a hit needs no check.
            if key
                && b.len() <= cache::MAX_KEY_LEN
                && let Some(o) = KEYS.get(self.py, b)
            {
                return Ok(o);
            }
            if let Ok(s) = std::str::from_utf8(b) {
                return self.string(s, key);
            }
        }
        Ok(PyBytes::new(self.py, b).into_any())
    }

    /// A `str`; short map keys come from the cache.
    #[inline]
    fn string(&self, s: &str, key: bool) -> R<'py> {
        if key && s.len() <= cache::MAX_KEY_LEN {
            if let Some(o) = KEYS.get(self.py, s.as_bytes()) {
                return Ok(o);
            }
            let o = self.new_str(s)?;
            KEYS.put(self.py, s.as_bytes(), &o);
            return Ok(o);
        }
        self.new_str(s)
    }

    #[inline]
    fn new_str(&self, s: &str) -> R<'py> {
        // Safety: `s` is valid UTF-8 of the given length.
        own(self.py, unsafe {
            ffi::PyUnicode_FromStringAndSize(s.as_ptr().cast(), s.len() as ffi::Py_ssize_t)
        })
    }

    fn tuple(&mut self, n: usize, key: bool) -> R<'py> {
        self.check_count(n, 1)?;
        self.enter()?;
        let t = if self.reserve(n) {
            // Safety: a new tuple of n slots, each filled exactly once before it is used.
            let t = own(self.py, unsafe { ffi::PyTuple_New(n as ffi::Py_ssize_t) })?;
            for i in 0..n {
                let item = self.item(key)?;
                // Safety: steals the new reference; `i` is in range.
                unsafe { ffi::PyTuple_SetItem(t.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr()) };
            }
            t
        } else {
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(self.item(key)?);
            }
            PyTuple::new(self.py, items)?.into_any()
        };
        self.depth -= 1;
        Ok(t)
    }

    fn list(&mut self, key: bool) -> R<'py> {
        let n = self.u32()? as usize;
        self.check_count(n, 1)?;
        self.enter()?;
        let list = if self.reserve(n) {
            // Safety: a new list of n slots, each filled exactly once before it is used.
            let l = own(self.py, unsafe { ffi::PyList_New(n as ffi::Py_ssize_t) })?;
            for i in 0..n {
                let item = self.item(key)?;
                // Safety: steals the new reference; `i` is in range.
                unsafe { ffi::PyList_SetItem(l.as_ptr(), i as ffi::Py_ssize_t, item.into_ptr()) };
            }
            l
        } else {
            let l = own(self.py, unsafe { ffi::PyList_New(0) })?;
            self.append_items(&l, n, key)?;
            l
        };
        // A LIST_EXT tail continues this list (BEAM never writes one, but it is a list).
        while self.peek() == Some(LIST_EXT) {
            self.pos += 1;
            let n = self.u32()? as usize;
            self.check_count(n, 1)?;
            self.append_items(&list, n, key)?;
        }
        let out = match self.peek() {
            Some(NIL_EXT) => {
                self.pos += 1;
                list
            }
            Some(STRING_EXT) => {
                self.pos += 1;
                let n = self.u16()? as usize;
                for &b in self.take(n)? {
                    self.append(&list, self.int(b as i64)?)?;
                }
                list
            }
            _ => {
                let tail = self.term(key)?;
                // Safety: `list` is a list.
                if unsafe { ffi::PyList_Size(list.as_ptr()) } == 0 {
                    self.depth -= 1;
                    return Ok(tail);
                }
                let items = list.cast_into::<PyList>().map_err(PyErr::from)?.to_tuple();
                self.depth -= 1;
                return Ok(Py::new(self.py, ImproperList { items: items.unbind(), tail: tail.unbind() })?
                    .into_bound(self.py)
                    .into_any());
            }
        };
        self.depth -= 1;
        if key {
            let items = out.cast_into::<PyList>().map_err(PyErr::from)?.to_tuple();
            return Ok(Py::new(self.py, FrozenList { items: items.unbind() })?
                .into_bound(self.py)
                .into_any());
        }
        Ok(out)
    }

    fn append_items(&mut self, list: &Bound<'py, PyAny>, n: usize, key: bool) -> Result<(), Fail> {
        for _ in 0..n {
            let item = self.item(key)?;
            self.append(list, item)?;
        }
        Ok(())
    }

    #[inline]
    fn append(&self, list: &Bound<'py, PyAny>, item: Bound<'py, PyAny>) -> Result<(), Fail> {
        // Safety: `list` is a list; the item reference is borrowed, not stolen.
        if unsafe { ffi::PyList_Append(list.as_ptr(), item.as_ptr()) } != 0 {
            return Err(PyErr::fetch(self.py).into());
        }
        Ok(())
    }

    fn map(&mut self, key: bool) -> R<'py> {
        let at = self.pos - 1;
        let n = self.u32()? as usize;
        self.check_count(n, 2)?;
        if key {
            return self.map_pairs(at, n, true);
        }
        self.enter()?;
        let presized = match dict_new_presized() {
            Some(new) if n > 5 && self.reserve(n) => new,
            _ => dict_new,
        };
        // Safety: plain C API call.
        let dict = own(self.py, unsafe { presized(n as ffi::Py_ssize_t) })?;
        for i in 0..n {
            let k = self.map_key()?;
            let v = self.item(false)?;
            // Safety: `dict` is a dict; keys decoded with `key = true` are hashable. An atom's
            // hash is the one its `__hash__` returns, known without calling it.
            let (rc, size) = unsafe {
                let rc = match set_known_hash() {
                    Some(set) if ffi::Py_TYPE(k.as_ptr()) == self.atom_type => {
                        let h = k.cast_unchecked::<Atom>().get().py_hash();
                        set(dict.as_ptr(), k.as_ptr(), v.as_ptr(), h)
                    }
                    _ => ffi::PyDict_SetItem(dict.as_ptr(), k.as_ptr(), v.as_ptr()),
                };
                (rc, ffi::PyDict_Size(dict.as_ptr()))
            };
            if rc != 0 {
                return Err(PyErr::fetch(self.py).into());
            }
            if size as usize != i + 1 {
                // Two keys Python calls equal (`1` and `1.0`, or a real duplicate): decode the
                // map again as pairs, which keeps both or refuses a duplicate.
                self.depth -= 1;
                self.pos = at + 5;
                return self.map_pairs(at, n, false);
            }
        }
        self.depth -= 1;
        Ok(dict)
    }

    /// A map as a [`FrozenMap`] (every pair kept; hashable when `key`). `self.pos` is just
    /// past the count.
    fn map_pairs(&mut self, at: usize, n: usize, key: bool) -> R<'py> {
        self.enter()?;
        let mut pairs = Vec::with_capacity(if self.reserve(n) { n } else { 0 });
        for _ in 0..n {
            let k = self.item(true)?;
            let v = self.item(key)?;
            pairs.push(PyTuple::new(self.py, [k, v])?);
        }
        self.depth -= 1;
        let map = FrozenMap::from_pairs(self.py, pairs)?;
        if map.index.is_none() {
            // Keys that Python calls equal: only Erlang's rules can say whether two are one key.
            self.check_map_keys(at)?;
        }
        Ok(Py::new(self.py, map)?.into_bound(self.py).into_any())
    }

    /// Runs the engine decoder over the map at `at` (up to here) for its duplicate-key check.
    fn check_map_keys(&self, at: usize) -> Result<(), Fail> {
        let limits = Limits::trusted();
        let mut d = beamlink::term::Decoder::new(&self.input[at..self.pos]).with_limits(limits);
        d.term().map(drop).map_err(|e| Fail::Format(shift(e, at)))
    }

    /// Every tag that is neither the commonest leaf nor a tuple, list or map.
    #[inline(never)]
    fn leaf(&mut self, tag: u8, at: usize, key: bool) -> R<'py> {
        let py = self.py;
        match tag {
            SMALL_BIG_EXT => {
                let n = self.u8()? as usize;
                self.big(n)
            }
            LARGE_BIG_EXT => {
                let n = self.u32()? as usize;
                self.big(n)
            }
            NEW_FLOAT_EXT => {
                let f = f64::from_bits(self.u64()?);
                self.float(f, at)
            }
            FLOAT_EXT => {
                let raw = self.take(31)?;
                let end = raw.iter().position(|&b| b == 0).unwrap_or(31);
                let f = std::str::from_utf8(&raw[..end])
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .ok_or(DecodeError::Invalid { offset: at, what: "float text" })?;
                self.float(f, at)
            }
            STRING_EXT => {
                let n = self.u16()? as usize;
                let bytes = self.take(n)?;
                if self.opts.charlists {
                    let text: String = bytes.iter().map(|&b| b as char).collect();
                    return Ok(Py::new(py, Charlist { text: text.into() })?.into_bound(py).into_any());
                }
                // Safety: a new list of n slots, each filled once.
                let l = own(py, unsafe { ffi::PyList_New(n as ffi::Py_ssize_t) })?;
                for (i, &b) in bytes.iter().enumerate() {
                    let v = self.int(b as i64)?;
                    unsafe { ffi::PyList_SetItem(l.as_ptr(), i as ffi::Py_ssize_t, v.into_ptr()) };
                }
                if key {
                    let items = l.cast_into::<PyList>().map_err(PyErr::from)?.to_tuple();
                    return Ok(Py::new(py, FrozenList { items: items.unbind() })?.into_bound(py).into_any());
                }
                Ok(l)
            }
            BIT_BINARY_EXT => {
                let n = self.u32()? as usize;
                let bits = self.u8()?;
                let bad = DecodeError::Invalid { offset: at, what: "bitstring bit count" };
                if n == 0 {
                    return if bits == 0 || bits == 8 { self.binary(&[], key) } else { Err(bad.into()) };
                }
                if bits == 0 || bits > 8 {
                    return Err(bad.into());
                }
                let data = self.take(n)?;
                if bits == 8 {
                    return self.binary(data, key);
                }
                Ok(Py::new(py, BitString::cleared(data, bits))?.into_bound(py).into_any())
            }
            NEW_PID_EXT | PID_EXT => {
                let node = self.node_name()?;
                let id = self.u32()?;
                let serial = self.u32()?;
                let creation = if tag == NEW_PID_EXT { self.u32()? } else { self.u8()? as u32 };
                Ok(Py::new(py, Pid { node, id, serial, creation })?.into_bound(py).into_any())
            }
            V4_PORT_EXT | NEW_PORT_EXT | PORT_EXT => {
                let node = self.node_name()?;
                let id = if tag == V4_PORT_EXT { self.u64()? } else { self.u32()? as u64 };
                let creation = if tag == PORT_EXT { self.u8()? as u32 } else { self.u32()? };
                Ok(Py::new(py, Port { node, id, creation })?.into_bound(py).into_any())
            }
            NEWER_REFERENCE_EXT | NEW_REFERENCE_EXT => {
                let n = self.u16()? as usize;
                if n == 0 || n > 5 {
                    return Err(DecodeError::Invalid { offset: at, what: "reference length" }.into());
                }
                let node = self.node_name()?;
                let creation = if tag == NEWER_REFERENCE_EXT { self.u32()? } else { self.u8()? as u32 };
                let mut ids = Vec::with_capacity(n);
                for _ in 0..n {
                    ids.push(self.u32()?);
                }
                Ok(Py::new(py, Reference { node, creation, ids })?.into_bound(py).into_any())
            }
            REFERENCE_EXT => {
                let node = self.node_name()?;
                let id = self.u32()?;
                let creation = self.u8()? as u32;
                Ok(Py::new(py, Reference { node, creation, ids: vec![id] })?.into_bound(py).into_any())
            }
            NEW_FUN_EXT | EXPORT_EXT => self.fun_or_export(at),
            ATOM_CACHE_REF => {
                let index = self.u8()?;
                Err(DecodeError::AtomCacheMiss { offset: at, index }.into())
            }
            COMPRESSED => Err(DecodeError::Invalid { offset: at, what: "nested compressed term" }.into()),
            LOCAL_EXT => Err(DecodeError::Invalid {
                offset: at,
                what: "LOCAL_EXT term (only the node that wrote it can read it)",
            }
            .into()),
            _ => Err(DecodeError::UnknownTag { offset: at, tag }.into()),
        }
    }

    fn float(&self, f: f64, at: usize) -> R<'py> {
        if !f.is_finite() {
            return Err(DecodeError::Invalid { offset: at, what: "float (NaN or infinity)" }.into());
        }
        // Safety: plain C API call.
        own(self.py, unsafe { ffi::PyFloat_FromDouble(f) })
    }

    fn big(&mut self, n: usize) -> R<'py> {
        let at = self.pos;
        let sign = self.u8()?;
        let mag = self.take(n)?;
        if sign > 1 {
            return Err(DecodeError::Invalid { offset: at, what: "bignum sign" }.into());
        }
        if n <= 8 {
            let v = mag.iter().rev().fold(0u64, |v, &b| v << 8 | b as u64);
            // Safety: plain C API calls.
            if sign == 0 {
                return own(self.py, unsafe { ffi::PyLong_FromUnsignedLongLong(v) });
            }
            if v <= 1u64 << 63 {
                return self.int((v as i64).wrapping_neg());
            }
        }
        if let Some(from_bytes) = long_from_byte_array() {
            // Safety: `mag` is valid for `n` bytes; the function only reads them.
            let v = own(self.py, unsafe { from_bytes(mag.as_ptr(), n, 1, 0) })?;
            return if sign == 1 {
                own(self.py, unsafe { ffi::PyNumber_Negative(v.as_ptr()) })
            } else {
                Ok(v)
            };
        }
        if n <= 64 {
            return self.big_from_words(mag, sign == 1);
        }
        static FROM_BYTES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
        let from_bytes = FROM_BYTES
            .get_or_try_init(self.py, || -> PyResult<_> {
                Ok(self.py.get_type::<pyo3::types::PyInt>().getattr("from_bytes")?.unbind())
            })?
            .bind(self.py);
        let v = from_bytes.call1((PyBytes::new(self.py, mag), "little"))?;
        if sign == 1 { Ok(v.neg()?) } else { Ok(v) }
    }

    /// A bignum of up to 64 bytes from 64-bit words, high word first (`(hi << 64) | lo`…):
    /// a few C-API integer operations instead of a call to `int.from_bytes`.
    fn big_from_words(&mut self, mag: &[u8], negative: bool) -> R<'py> {
        let py = self.py;
        let word = |i: usize| {
            let chunk = &mag[i * 8..mag.len().min(i * 8 + 8)];
            chunk.iter().rev().fold(0u64, |v, &b| v << 8 | b as u64)
        };
        let words = mag.len().div_ceil(8);
        // Safety: plain C API calls on live objects; every result is checked by `own`.
        let shift = own(py, unsafe { ffi::PyLong_FromLong(64) })?;
        let mut v = own(py, unsafe { ffi::PyLong_FromUnsignedLongLong(word(words - 1)) })?;
        for i in (0..words - 1).rev() {
            let shifted = own(py, unsafe { ffi::PyNumber_Lshift(v.as_ptr(), shift.as_ptr()) })?;
            let low = own(py, unsafe { ffi::PyLong_FromUnsignedLongLong(word(i)) })?;
            v = own(py, unsafe { ffi::PyNumber_Or(shifted.as_ptr(), low.as_ptr()) })?;
        }
        if negative { own(py, unsafe { ffi::PyNumber_Negative(v.as_ptr()) }) } else { Ok(v) }
    }

    /// Funs and exports are rare and their layout intricate: the engine decoder checks and
    /// measures them; the fun keeps its bytes, so it goes back exactly as it came.
    fn fun_or_export(&mut self, at: usize) -> R<'py> {
        let py = self.py;
        let left = self.opts.max_depth.saturating_sub(self.depth);
        let limits = Limits { max_depth: left, ..Limits::default() };
        let mut d = beamlink::term::Decoder::new(&self.input[at..]).with_limits(limits);
        let t = d.term().map_err(|e| Fail::Format(shift(e, at)))?;
        let end = at + d.position();
        self.pos = end;
        match &t {
            Term::Export(e) => Ok(Py::new(
                py,
                Export {
                    module: e.module.as_str().into(),
                    function: e.function.as_str().into(),
                    arity: e.arity,
                },
            )?
            .into_bound(py)
            .into_any()),
            Term::Fun(f) => Ok(Py::new(
                py,
                Fun {
                    etf: self.input[at..end].into(),
                    module: f.module.as_str().into(),
                    arity: f.arity,
                    uniq: f.uniq,
                    index: f.index,
                },
            )?
            .into_bound(py)
            .into_any()),
            _ => Err(DecodeError::Invalid { offset: at, what: "fun" }.into()),
        }
    }

    /// An atom as a Python value: `true`/`false` → bool, the `None` atom → None, others → a
    /// cached [`Atom`].
    fn atom(&mut self, tag: u8, at: usize) -> R<'py> {
        let py = self.py;
        let (len, utf8) = self.atom_header(tag)?;
        let raw = self.take(len)?;
        if utf8 || raw.is_ascii() {
            if let Some(v) = self.special_atom(raw) {
                return Ok(v);
            }
            if let Some(a) = ATOMS.get(py, raw) {
                return Ok(a);
            }
            let s = std::str::from_utf8(raw)
                .map_err(|_| DecodeError::Invalid { offset: at, what: "UTF-8 in atom" })?;
            if s.len() > 255 && s.chars().count() > 255 {
                return Err(DecodeError::Invalid { offset: at, what: "atom (over 255 characters)" }.into());
            }
            let a = Py::new(py, Atom::of(s.into()))?.into_bound(py).into_any();
            ATOMS.put(py, raw, &a);
            Ok(a)
        } else {
            let s: String = raw.iter().map(|&b| b as char).collect();
            if let Some(a) = ATOMS.get(py, s.as_bytes()) {
                return Ok(a);
            }
            let a = Py::new(py, Atom::of(s.as_str().into()))?.into_bound(py).into_any();
            ATOMS.put(py, s.as_bytes(), &a);
            Ok(a)
        }
    }

    #[inline]
    fn special_atom(&self, raw: &[u8]) -> Option<Bound<'py, PyAny>> {
        // Safety: the singletons are immortal; `from_borrowed_ptr` takes a new reference.
        let ptr = match raw {
            b"true" => unsafe { ffi::Py_True() },
            b"false" => unsafe { ffi::Py_False() },
            r if r == self.opts.none.name().as_bytes() => unsafe { ffi::Py_None() },
            _ => return None,
        };
        Some(unsafe { Bound::from_borrowed_ptr(self.py, ptr) })
    }

    fn atom_header(&mut self, tag: u8) -> Result<(usize, bool), Fail> {
        Ok(match tag {
            SMALL_ATOM_UTF8_EXT => (self.u8()? as usize, true),
            ATOM_UTF8_EXT => (self.u16()? as usize, true),
            SMALL_ATOM_EXT => (self.u8()? as usize, false),
            _ => (self.u16()? as usize, false),
        })
    }

    /// The node atom of a pid, port or reference, as a `str`.
    fn node_name(&mut self) -> Result<String, Fail> {
        let at = self.pos;
        let tag = self.u8()?;
        match tag {
            SMALL_ATOM_UTF8_EXT | ATOM_UTF8_EXT | SMALL_ATOM_EXT | ATOM_EXT => {
                let (len, utf8) = self.atom_header(tag)?;
                let raw = self.take(len)?;
                if utf8 || raw.is_ascii() {
                    let s = std::str::from_utf8(raw)
                        .map_err(|_| DecodeError::Invalid { offset: at, what: "UTF-8 in atom" })?;
                    Ok(s.to_string())
                } else {
                    Ok(raw.iter().map(|&b| b as char).collect())
                }
            }
            ATOM_CACHE_REF => {
                let index = self.u8()?;
                Err(DecodeError::AtomCacheMiss { offset: at, index }.into())
            }
            _ => Err(DecodeError::Invalid { offset: at, what: "atom" }.into()),
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    #[inline]
    fn take(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        let left = self.input.len() - self.pos;
        if n > left {
            return Err(DecodeError::UnexpectedEof { offset: self.pos, needed: n - left }.into());
        }
        let s = &self.input[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    #[inline]
    fn u8(&mut self) -> Result<u8, Fail> {
        match self.input.get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(DecodeError::UnexpectedEof { offset: self.pos, needed: 1 }.into()),
        }
    }

    #[inline]
    fn u16(&mut self) -> Result<u16, Fail> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, Fail> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }

    #[inline]
    fn u64(&mut self) -> Result<u64, Fail> {
        Ok(u64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
}

/// An engine error found in a sub-slice starting at `by`, with offsets of the whole input.
fn shift(e: DecodeError, by: usize) -> DecodeError {
    match e {
        DecodeError::UnexpectedEof { offset, needed } => {
            DecodeError::UnexpectedEof { offset: offset + by, needed }
        }
        DecodeError::BadVersion { offset, found } => DecodeError::BadVersion { offset: offset + by, found },
        DecodeError::UnknownTag { offset, tag } => DecodeError::UnknownTag { offset: offset + by, tag },
        DecodeError::Invalid { offset, what } => DecodeError::Invalid { offset: offset + by, what },
        DecodeError::TooDeep { offset, limit } => DecodeError::TooDeep { offset: offset + by, limit },
        DecodeError::TooLarge { offset, what, size, limit } => {
            DecodeError::TooLarge { offset: offset + by, what, size, limit }
        }
        DecodeError::AtomCacheMiss { offset, index } => {
            DecodeError::AtomCacheMiss { offset: offset + by, index }
        }
        DecodeError::Compression { offset, reason } => {
            DecodeError::Compression { offset: offset + by, reason }
        }
        DecodeError::TrailingBytes { offset, count } => {
            DecodeError::TrailingBytes { offset: offset + by, count }
        }
    }
}
