//! Python objects → external term format, straight into a byte buffer (no `beamlink::Term` in
//! between), choosing the tags the engine encoder (and so BEAM's `term_to_binary/1` on OTP 26+)
//! chooses: the bytes of a value decoded from BEAM come out identical.
//!
//! Exact built-in types are recognised by their type pointer first (the common case costs one
//! comparison); subclasses (`IntEnum`, `namedtuple`, `OrderedDict`…) and beamlink's own types
//! come after. Deep values continue on heap-allocated stack segments; a cycle ends at the
//! depth limit with an error, never a crash.

use beamlink::term::tag::*;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

use crate::options::EncodeOptions;
use crate::types::{
    Atom, BitString, Charlist, Export, FrozenList, FrozenMap, Fun, ImproperList, Pid, Port, Reference,
};

unsafe extern "C" {
    // In the stable ABI from 3.10 and exported by every CPython 3 (the wheel targets 3.9+):
    // the UTF-8 form CPython caches on the string, without a copy.
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut ffi::PyObject,
        size: *mut ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// Encodes `obj` with the version byte.
pub(crate) fn encode(obj: &Bound<'_, PyAny>, opts: &EncodeOptions) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    out.push(VERSION_MAGIC);
    encode_into(obj, opts, &mut out)?;
    Ok(out)
}

/// Appends `obj` without the version byte (the form of a message payload or call argument).
pub(crate) fn encode_into(obj: &Bound<'_, PyAny>, opts: &EncodeOptions, out: &mut Vec<u8>) -> PyResult<()> {
    Encoder { out, depth: 0, opts, types: Types::get(obj.py()), holes: None }.term(obj)
}

/// Binaries at least this long are not copied into the buffer but straight into the result.
const HOLE_MIN: usize = 4096;

/// A long binary left out of the buffer: its bytes go at `at`, from the object that owns them.
struct Hole {
    at: usize,
    data: *const u8,
    len: usize,
    _owner: Py<PyAny>,
}

/// Encodes `obj` with the version byte into a new `bytes`: long binaries and strings are
/// copied once, from their object into the result, not through a buffer first.
pub(crate) fn encode_bytes<'py>(
    obj: &Bound<'py, PyAny>,
    opts: &EncodeOptions,
) -> PyResult<Bound<'py, PyBytes>> {
    let py = obj.py();
    let mut out = Vec::with_capacity(64);
    out.push(VERSION_MAGIC);
    let mut holes = Vec::new();
    Encoder { out: &mut out, depth: 0, opts, types: Types::get(py), holes: Some(&mut holes) }.term(obj)?;
    if holes.is_empty() {
        return Ok(PyBytes::new(py, &out));
    }
    let total = out.len() + holes.iter().map(|h| h.len).sum::<usize>();
    // Safety: a new, uninitialised bytes object of `total` bytes, every one of them written
    // below before it is handed out; the holes' owners keep their data alive until then.
    unsafe {
        let b =
            Bound::from_owned_ptr_or_err(py, ffi::PyBytes_FromStringAndSize(std::ptr::null(), total as _))?;
        let mut dst = ffi::PyBytes_AsString(b.as_ptr()).cast::<u8>();
        let mut from = 0;
        for h in &holes {
            std::ptr::copy_nonoverlapping(out.as_ptr().add(from), dst, h.at - from);
            dst = dst.add(h.at - from);
            std::ptr::copy_nonoverlapping(h.data, dst, h.len);
            dst = dst.add(h.len);
            from = h.at;
        }
        std::ptr::copy_nonoverlapping(out.as_ptr().add(from), dst, out.len() - from);
        Ok(b.cast_into_unchecked())
    }
}

/// Type pointers compared on every object.
#[derive(Clone, Copy)]
struct Types {
    str_: *mut ffi::PyTypeObject,
    int: *mut ffi::PyTypeObject,
    float: *mut ffi::PyTypeObject,
    list: *mut ffi::PyTypeObject,
    tuple: *mut ffi::PyTypeObject,
    dict: *mut ffi::PyTypeObject,
    bytes: *mut ffi::PyTypeObject,
    bool_: *mut ffi::PyTypeObject,
    atom: *mut ffi::PyTypeObject,
}

// Safety: type objects live as long as the interpreter; only compared, never dereferenced here.
unsafe impl Send for Types {}
unsafe impl Sync for Types {}

impl Types {
    fn get(py: Python<'_>) -> Types {
        static TYPES: PyOnceLock<Types> = PyOnceLock::new();
        *TYPES.get_or_init(py, || Types {
            str_: py.get_type::<PyString>().as_type_ptr(),
            int: py.get_type::<PyInt>().as_type_ptr(),
            float: py.get_type::<PyFloat>().as_type_ptr(),
            list: py.get_type::<PyList>().as_type_ptr(),
            tuple: py.get_type::<PyTuple>().as_type_ptr(),
            dict: py.get_type::<PyDict>().as_type_ptr(),
            bytes: py.get_type::<PyBytes>().as_type_ptr(),
            bool_: py.get_type::<pyo3::types::PyBool>().as_type_ptr(),
            atom: py.get_type::<Atom>().as_type_ptr(),
        })
    }
}

struct Encoder<'o> {
    out: &'o mut Vec<u8>,
    depth: usize,
    opts: &'o EncodeOptions,
    types: Types,
    /// Where long binaries are left out of `out` (see [`encode_bytes`]), if they may be.
    holes: Option<&'o mut Vec<Hole>>,
}

fn encode_error(py: Python<'_>, msg: String) -> PyErr {
    crate::errors::encode_error(py, msg)
}

impl Encoder<'_> {
    fn term(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        // Safety: reading the type of a live object.
        let ty = unsafe { ffi::Py_TYPE(obj.as_ptr()) };
        let t = self.types;
        if ty == t.str_ {
            self.str(obj)
        } else if ty == t.int {
            self.int(obj)
        } else if ty == t.atom {
            // Safety: the type was just checked.
            let a = unsafe { obj.cast_unchecked::<Atom>() };
            self.atom(obj.py(), &a.get().text)
        } else if ty == t.list || ty == t.tuple || ty == t.dict {
            let depth = self.depth;
            beamlink::term::nested(depth, || self.nested(obj, ty))
        } else if ty == t.float {
            // Safety: the type was just checked.
            self.float(obj.py(), unsafe { ffi::PyFloat_AsDouble(obj.as_ptr()) })
        } else if ty == t.bytes {
            // Safety: the type was just checked.
            let b = unsafe { obj.cast_unchecked::<PyBytes>() };
            self.binary_of(obj, b.as_bytes());
            Ok(())
        } else if ty == t.bool_ {
            self.atom_bytes(if obj.is_truthy()? { b"true" } else { b"false" });
            Ok(())
        } else if obj.is_none() {
            self.atom_bytes(self.opts.none.name().as_bytes());
            Ok(())
        } else {
            self.rare(obj)
        }
    }

    /// An element of a container, borrowed from it: the leaf types that run no Python code
    /// while they are written (exact `int`, `str`, `bytes`, `float`, `Atom`) straight from the
    /// pointer; anything else through [`term`](Self::term) on a strong reference, since a
    /// container's rare path may change the container that lends the element.
    #[inline(always)]
    fn item(&mut self, py: Python<'_>, p: *mut ffi::PyObject) -> PyResult<()> {
        // Safety: `p` is a live, borrowed reference; its type is read only.
        let ty = unsafe { ffi::Py_TYPE(p) };
        let t = self.types;
        if ty == t.int {
            let mut overflow = 0;
            // Safety: `p` is an exact int.
            let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(p, &mut overflow) };
            if overflow == 0 {
                self.small(v);
                return Ok(());
            }
        } else if ty == t.str_ {
            return self.str_ptr(py, p);
        } else if ty == t.atom || ty == t.float || ty == t.bytes {
            // Safety: as above; these types run no Python code, so the borrow outlives the use.
            let obj = unsafe { pyo3::Borrowed::from_ptr(py, p) };
            return self.term(&obj);
        }
        // Safety: a new strong reference to the live element.
        let obj = unsafe { Bound::from_borrowed_ptr(py, p) };
        self.term(&obj)
    }

    fn nested(&mut self, obj: &Bound<'_, PyAny>, ty: *mut ffi::PyTypeObject) -> PyResult<()> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            return Err(encode_error(
                obj.py(),
                format!("terms nested deeper than {} (a value that contains itself?)", self.opts.max_depth),
            ));
        }
        let r = if ty == self.types.list {
            // Safety: the caller checked the type.
            self.list(unsafe { obj.cast_unchecked::<PyList>() })
        } else if ty == self.types.tuple {
            self.tuple(unsafe { obj.cast_unchecked::<PyTuple>() })
        } else {
            self.dict(unsafe { obj.cast_unchecked::<PyDict>() })
        };
        self.depth -= 1;
        r
    }

    /// Subclasses of the built-in types and beamlink's own term types.
    #[inline(never)]
    fn rare(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = obj.py();
        if let Ok(p) = obj.cast::<Pid>() {
            self.pid(p.get());
        } else if let Ok(r) = obj.cast::<Reference>() {
            let r = r.get();
            self.out.push(NEWER_REFERENCE_EXT);
            self.out.extend_from_slice(&(r.ids.len() as u16).to_be_bytes());
            self.atom(py, &r.node)?;
            self.out.extend_from_slice(&r.creation.to_be_bytes());
            for id in &r.ids {
                self.out.extend_from_slice(&id.to_be_bytes());
            }
        } else if let Ok(p) = obj.cast::<Port>() {
            let p = p.get();
            self.out.push(V4_PORT_EXT);
            self.atom(py, &p.node)?;
            self.out.extend_from_slice(&p.id.to_be_bytes());
            self.out.extend_from_slice(&p.creation.to_be_bytes());
        } else if let Ok(e) = obj.cast::<Export>() {
            let e = e.get();
            self.out.push(EXPORT_EXT);
            self.atom(py, &e.module)?;
            self.atom(py, &e.function)?;
            self.out.extend_from_slice(&[SMALL_INTEGER_EXT, e.arity]);
        } else if let Ok(f) = obj.cast::<Fun>() {
            self.out.extend_from_slice(&f.get().etf);
        } else if let Ok(b) = obj.cast::<BitString>() {
            let b = b.get();
            if b.bits == 8 {
                self.binary(&b.data);
            } else {
                self.out.push(BIT_BINARY_EXT);
                self.out.extend_from_slice(&(b.data.len() as u32).to_be_bytes());
                self.out.push(b.bits);
                self.out.extend_from_slice(&b.data);
            }
        } else if let Ok(l) = obj.cast::<ImproperList>() {
            let l = l.get();
            self.enter(py)?;
            let items = l.items.bind(py);
            self.out.push(LIST_EXT);
            self.out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for i in items.iter() {
                self.term(&i)?;
            }
            self.term(l.tail.bind(py))?;
            self.depth -= 1;
        } else if let Ok(l) = obj.cast::<FrozenList>() {
            let items = l.get().items.bind(py).clone();
            self.enter(py)?;
            self.frozen_list(&items)?;
            self.depth -= 1;
        } else if let Ok(m) = obj.cast::<FrozenMap>() {
            let pairs = m.get().pairs.bind(py).clone();
            self.enter(py)?;
            self.out.push(MAP_EXT);
            self.out.extend_from_slice(&(pairs.len() as u32).to_be_bytes());
            for p in pairs.iter() {
                self.term(&p.get_item(0)?)?;
                self.term(&p.get_item(1)?)?;
            }
            self.depth -= 1;
        } else if let Ok(c) = obj.cast::<Charlist>() {
            let text = &c.get().text;
            let n = text.chars().count();
            if n == 0 {
                self.out.push(NIL_EXT);
            } else if n <= u16::MAX as usize && text.chars().all(|c| (c as u32) < 256) {
                self.out.push(STRING_EXT);
                self.out.extend_from_slice(&(n as u16).to_be_bytes());
                self.out.extend(text.chars().map(|c| c as u32 as u8));
            } else {
                self.out.push(LIST_EXT);
                self.out.extend_from_slice(&(n as u32).to_be_bytes());
                for c in text.chars() {
                    self.small(c as i64);
                }
                self.out.push(NIL_EXT);
            }
        } else if obj.is_instance_of::<pyo3::types::PyBool>() {
            self.atom_bytes(if obj.is_truthy()? { b"true" } else { b"false" });
        } else if obj.is_instance_of::<PyInt>() {
            self.int(obj)?;
        } else if obj.is_instance_of::<PyFloat>() {
            self.float(py, obj.extract::<f64>()?)?;
        } else if obj.is_instance_of::<PyString>() {
            self.str(obj)?;
        } else if let Ok(b) = obj.cast::<PyBytes>() {
            self.binary(b.as_bytes());
        } else if let Ok(b) = obj.cast::<PyByteArray>() {
            self.binary(&b.to_vec());
        } else if let Ok(l) = obj.cast::<PyList>() {
            self.enter(py)?;
            self.list(l)?;
            self.depth -= 1;
        } else if let Ok(t) = obj.cast::<PyTuple>() {
            self.enter(py)?;
            self.tuple(t)?;
            self.depth -= 1;
        } else if let Ok(d) = obj.cast::<PyDict>() {
            self.enter(py)?;
            self.dict(d)?;
            self.depth -= 1;
        } else if is_memoryview(py, obj) {
            let b = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyObject_Bytes(obj.as_ptr()))? };
            self.binary(b.cast::<PyBytes>()?.as_bytes());
        } else {
            return Err(encode_error(
                py,
                format!("cannot encode an object of type {} as an Erlang term", obj.get_type().name()?),
            ));
        }
        Ok(())
    }

    fn enter(&mut self, py: Python<'_>) -> PyResult<()> {
        self.depth += 1;
        if self.depth > self.opts.max_depth {
            return Err(encode_error(
                py,
                format!("terms nested deeper than {} (a value that contains itself?)", self.opts.max_depth),
            ));
        }
        Ok(())
    }

    #[inline]
    fn str(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        self.str_ptr(obj.py(), obj.as_ptr())
    }

    /// A binary whose bytes `owner` keeps alive: a long one may become a hole.
    #[inline]
    fn binary_of(&mut self, owner: &Bound<'_, PyAny>, b: &[u8]) {
        if b.len() >= HOLE_MIN
            && let Some(holes) = self.holes.as_deref_mut()
        {
            let h = (b.len() as u32).to_be_bytes();
            self.out.extend_from_slice(&[BINARY_EXT, h[0], h[1], h[2], h[3]]);
            holes.push(Hole {
                at: self.out.len(),
                data: b.as_ptr(),
                len: b.len(),
                _owner: owner.clone().unbind(),
            });
            return;
        }
        self.binary(b);
    }

    #[inline]
    fn str_ptr(&mut self, py: Python<'_>, obj: *mut ffi::PyObject) -> PyResult<()> {
        let mut n: ffi::Py_ssize_t = 0;
        // Safety: `obj` is a live str; the buffer lives as long as the string.
        let p = unsafe { PyUnicode_AsUTF8AndSize(obj, &mut n) };
        if p.is_null() {
            return Err(PyErr::fetch(py));
        }
        let b = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), n as usize) };
        if b.len() >= HOLE_MIN && self.holes.is_some() {
            // Safety: `obj` is live; the hole takes its own reference.
            let owner = unsafe { Bound::from_borrowed_ptr(py, obj) };
            self.binary_of(&owner, b);
        } else {
            self.binary(b);
        }
        Ok(())
    }

    #[inline]
    fn binary(&mut self, b: &[u8]) {
        let n = b.len();
        self.out.reserve(5 + n);
        let h = (n as u32).to_be_bytes();
        self.put([BINARY_EXT, h[0], h[1], h[2], h[3]]);
        self.out.extend_from_slice(b);
    }

    /// A few bytes, capacity checked once.
    #[inline(always)]
    fn put<const N: usize>(&mut self, b: [u8; N]) {
        let len = self.out.len();
        self.out.reserve(N);
        // Safety: the capacity was just ensured; the bytes are written before the length moves.
        unsafe {
            self.out.as_mut_ptr().add(len).cast::<[u8; N]>().write_unaligned(b);
            self.out.set_len(len + N);
        }
    }

    #[inline]
    fn int(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut overflow = 0;
        // Safety: `obj` is an int (or a subclass).
        let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(obj.as_ptr(), &mut overflow) };
        if overflow == 0 {
            if v == -1 && unsafe { !ffi::PyErr_Occurred().is_null() } {
                return Err(PyErr::fetch(obj.py()));
            }
            self.small(v);
            Ok(())
        } else {
            self.big(obj, overflow < 0)
        }
    }

    /// An integer that fits an `i64`, as the engine encoder writes it.
    #[inline]
    fn small(&mut self, i: i64) {
        if (0..=255).contains(&i) {
            self.put([SMALL_INTEGER_EXT, i as u8]);
        } else if let Ok(v) = i32::try_from(i) {
            let b = v.to_be_bytes();
            self.put([INTEGER_EXT, b[0], b[1], b[2], b[3]]);
        } else {
            let mag = i.unsigned_abs();
            let n = 8 - (mag.leading_zeros() / 8) as usize;
            self.out.extend_from_slice(&[SMALL_BIG_EXT, n as u8, (i < 0) as u8]);
            self.out.extend_from_slice(&mag.to_le_bytes()[..n]);
        }
    }

    #[inline(never)]
    fn big(&mut self, obj: &Bound<'_, PyAny>, negative: bool) -> PyResult<()> {
        let py = obj.py();
        if let Some(f) = long_bytes(py) {
            // Safety: `obj` is an int (or a subclass): the magnitude's bit count.
            let bits = unsafe { (f.num_bits)(obj.as_ptr()) };
            if bits > 0 {
                let n = (bits as u64).div_ceil(8) as usize;
                if n < 256 {
                    self.put([SMALL_BIG_EXT, n as u8, negative as u8]);
                } else {
                    let c = (n as u32).to_be_bytes();
                    self.put([LARGE_BIG_EXT, c[0], c[1], c[2], c[3], negative as u8]);
                }
                let len = self.out.len();
                // A negative value as n + 1 bytes of two's complement, negated in place below.
                self.out.reserve(n + 1);
                let width = n + negative as usize;
                // Safety: `width` bytes of capacity are free; the call writes all of them.
                let rc = unsafe { f.as_bytes(obj.as_ptr(), self.out.as_mut_ptr().add(len), width, negative) };
                if rc == 0 {
                    // Safety: just written.
                    unsafe { self.out.set_len(len + width) };
                    if negative {
                        let mut carry = 1u16;
                        for b in &mut self.out[len..] {
                            let v = (!*b) as u16 + carry;
                            *b = v as u8;
                            carry = v >> 8;
                        }
                        self.out.truncate(len + n);
                    }
                    return Ok(());
                }
                // Not expected for a width taken from the bit count; start over the slow way.
                // Safety: clears the error just raised.
                unsafe { ffi::PyErr_Clear() };
                self.out.truncate(len - if n < 256 { 3 } else { 6 });
            } else {
                unsafe { ffi::PyErr_Clear() };
            }
        }
        let mag = if negative { obj.neg()? } else { obj.clone() };
        let mut bytes = [0u8; 16];
        // Up to 128 bits: two machine words, no Python-level call.
        let lo = unsafe { ffi::PyLong_AsUnsignedLongLongMask(mag.as_ptr()) };
        let hi_obj = mag.rshift(64)?;
        let hi = unsafe { ffi::PyLong_AsUnsignedLongLong(hi_obj.as_ptr()) };
        let digits: Vec<u8>;
        let mag_le: &[u8] = if hi == u64::MAX && unsafe { !ffi::PyErr_Occurred().is_null() } {
            unsafe { ffi::PyErr_Clear() };
            static TO_BYTES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
            let to_bytes = TO_BYTES
                .get_or_try_init(py, || -> PyResult<_> {
                    Ok(py.get_type::<PyInt>().getattr("to_bytes")?.unbind())
                })?
                .bind(py);
            let nbits: usize = mag.call_method0("bit_length")?.extract()?;
            let b = to_bytes.call1((&mag, nbits.div_ceil(8), "little"))?;
            digits = b.cast::<PyBytes>()?.as_bytes().to_vec();
            &digits
        } else {
            bytes[..8].copy_from_slice(&lo.to_le_bytes());
            bytes[8..].copy_from_slice(&hi.to_le_bytes());
            let n = 16 - bytes.iter().rev().take_while(|&&b| b == 0).count();
            &bytes[..n]
        };
        if mag_le.len() < 256 {
            self.out.extend_from_slice(&[SMALL_BIG_EXT, mag_le.len() as u8]);
        } else {
            self.out.push(LARGE_BIG_EXT);
            self.out.extend_from_slice(&(mag_le.len() as u32).to_be_bytes());
        }
        self.out.push(negative as u8);
        self.out.extend_from_slice(mag_le);
        Ok(())
    }

    fn float(&mut self, py: Python<'_>, f: f64) -> PyResult<()> {
        if !f.is_finite() {
            if f == -1.0 && unsafe { !ffi::PyErr_Occurred().is_null() } {
                return Err(PyErr::fetch(py));
            }
            return Err(encode_error(py, format!("{f} has no Erlang representation (floats are finite)")));
        }
        self.out.push(NEW_FLOAT_EXT);
        self.out.extend_from_slice(&f.to_bits().to_be_bytes());
        Ok(())
    }

    #[inline]
    fn atom(&mut self, py: Python<'_>, name: &str) -> PyResult<()> {
        if name.len() > 255 && name.chars().count() > 255 {
            return Err(encode_error(
                py,
                format!("atom of {} characters (the limit is 255)", name.chars().count()),
            ));
        }
        if name.len() < 256 {
            self.atom_bytes(name.as_bytes());
        } else {
            self.out.push(ATOM_UTF8_EXT);
            self.out.extend_from_slice(&(name.len() as u16).to_be_bytes());
            self.out.extend_from_slice(name.as_bytes());
        }
        Ok(())
    }

    /// A name of at most 255 bytes.
    #[inline]
    fn atom_bytes(&mut self, b: &[u8]) {
        self.out.reserve(2 + b.len());
        self.out.extend_from_slice(&[SMALL_ATOM_UTF8_EXT, b.len() as u8]);
        self.out.extend_from_slice(b);
    }

    fn pid(&mut self, p: &Pid) {
        self.out.push(NEW_PID_EXT);
        // Node names come from decoded atoms or from users; an over-long one is refused by
        // the node, not crashed on here.
        let n = p.node.as_bytes();
        self.atom_bytes(&n[..n.len().min(255)]);
        self.out.extend_from_slice(&p.id.to_be_bytes());
        self.out.extend_from_slice(&p.serial.to_be_bytes());
        self.out.extend_from_slice(&p.creation.to_be_bytes());
    }

    fn list(&mut self, l: &Bound<'_, PyList>) -> PyResult<()> {
        // Safety: `l` is a list; items are borrowed for the scan only, and no code runs in it.
        let at = |i: usize| unsafe { ffi::PyList_GetItem(l.as_ptr(), i as ffi::Py_ssize_t) };
        let n = l.len();
        if self.string_ext(n, at) {
            return Ok(());
        }
        if n == 0 {
            self.out.push(NIL_EXT);
            return Ok(());
        }
        let c = (n as u32).to_be_bytes();
        self.put([LIST_EXT, c[0], c[1], c[2], c[3]]);
        let count_at = self.out.len() - 4;
        let mut written = 0u32;
        for i in 0..n {
            // A list can shrink while an element's rare path runs Python code: stop at its end
            // (PyList_GetItem checks the index against the current length).
            let p = at(i);
            if p.is_null() {
                // Safety: the IndexError just raised is not the caller's.
                unsafe { ffi::PyErr_Clear() };
                break;
            }
            self.item(l.py(), p)?;
            written += 1;
        }
        if written as usize != n {
            self.out[count_at..count_at + 4].copy_from_slice(&written.to_be_bytes());
        }
        self.out.push(NIL_EXT);
        Ok(())
    }

    /// A frozen list (a map key): the same encoding as the list it stands for.
    fn frozen_list(&mut self, items: &Bound<'_, PyTuple>) -> PyResult<()> {
        // Safety: `items` is a tuple; as in `list`.
        let at = |i: usize| unsafe { ffi::PyTuple_GetItem(items.as_ptr(), i as ffi::Py_ssize_t) };
        if self.string_ext(items.len(), at) {
            return Ok(());
        }
        self.seq_list(items.len(), |i| items.get_item(i))
    }

    /// Writes `STRING_EXT` and returns true when the `n` items (borrowed from `at`) are all
    /// exact ints in 0..=255 and there are 1 to 65535 of them, as BEAM does.
    fn string_ext(&mut self, n: usize, at: impl Fn(usize) -> *mut ffi::PyObject) -> bool {
        if n == 0 || n > u16::MAX as usize {
            return false;
        }
        let byte = |i: usize| -> Option<u8> {
            let item = at(i);
            // Safety: `item` is a borrowed, live reference (or null, checked).
            if item.is_null() || unsafe { ffi::Py_TYPE(item) } != self.types.int {
                return None;
            }
            let mut overflow = 0;
            let v = unsafe { ffi::PyLong_AsLongLongAndOverflow(item, &mut overflow) };
            (overflow == 0 && (0..=255).contains(&v)).then_some(v as u8)
        };
        if (0..n).any(|i| byte(i).is_none()) {
            return false;
        }
        self.out.reserve(3 + n);
        self.out.push(STRING_EXT);
        self.out.extend_from_slice(&(n as u16).to_be_bytes());
        for i in 0..n {
            self.out.push(byte(i).unwrap_or(0));
        }
        true
    }

    /// `LIST_EXT` of `n` elements fetched by `get`, then `[]`.
    fn seq_list<'py>(
        &mut self,
        n: usize,
        get: impl Fn(usize) -> PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<()> {
        if n == 0 {
            self.out.push(NIL_EXT);
            return Ok(());
        }
        self.out.push(LIST_EXT);
        let count_at = self.out.len();
        self.out.extend_from_slice(&(n as u32).to_be_bytes());
        let mut written = 0u32;
        for i in 0..n {
            // A list can shrink while an element's rare path runs Python code: stop at its end.
            let Ok(item) = get(i) else { break };
            self.term(&item)?;
            written += 1;
        }
        self.out[count_at..count_at + 4].copy_from_slice(&written.to_be_bytes());
        self.out.push(NIL_EXT);
        Ok(())
    }

    fn tuple(&mut self, t: &Bound<'_, PyTuple>) -> PyResult<()> {
        let n = t.len();
        if n < 256 {
            self.out.extend_from_slice(&[SMALL_TUPLE_EXT, n as u8]);
        } else {
            self.out.push(LARGE_TUPLE_EXT);
            self.out.extend_from_slice(&(n as u32).to_be_bytes());
        }
        for i in 0..n {
            // Safety: tuples are immutable and `i` < len; the tuple keeps the item alive.
            let item = unsafe { t.get_borrowed_item_unchecked(i) };
            self.item(t.py(), item.as_ptr())?;
        }
        Ok(())
    }

    fn dict(&mut self, d: &Bound<'_, PyDict>) -> PyResult<()> {
        let py = d.py();
        let n = d.len();
        self.out.push(MAP_EXT);
        self.out.extend_from_slice(&(n as u32).to_be_bytes());
        let mut pos: ffi::Py_ssize_t = 0;
        let mut k: *mut ffi::PyObject = std::ptr::null_mut();
        let mut v: *mut ffi::PyObject = std::ptr::null_mut();
        let mut seen = 0usize;
        // Safety: PyDict_Next yields borrowed references; `item` makes them strong before any
        // code that could change the dict runs. The value is taken strongly first unless the
        // key is a leaf: another key's path could run code that drops it from the dict.
        while unsafe { ffi::PyDict_Next(d.as_ptr(), &mut pos, &mut k, &mut v) } != 0 {
            let kt = unsafe { ffi::Py_TYPE(k) };
            let t = self.types;
            if kt == t.str_ || kt == t.int || kt == t.atom {
                // Writing these keys runs no Python code: the value stays borrowed.
                self.item(py, k)?;
                self.item(py, v)?;
            } else {
                let value = unsafe { Bound::from_borrowed_ptr(py, v) };
                self.item(py, k)?;
                self.item(py, value.as_ptr())?;
            }
            seen += 1;
        }
        if seen != n || d.len() != n {
            return Err(pyo3::exceptions::PyRuntimeError::new_err("dict changed size during encoding"));
        }
        Ok(())
    }
}

/// CPython's `_PyLong_NumBits` and `_PyLong_AsByteArray` (what `pickle` and `int.to_bytes`
/// use), looked up at run time like `_PyLong_FromByteArray` in the decoder: not in the stable
/// ABI, but exported by every CPython from 3.9 on; the latter took a sixth argument in 3.13.
struct LongBytes {
    num_bits: unsafe extern "C" fn(*mut ffi::PyObject) -> i64,
    as_byte_array: *mut std::ffi::c_void,
    with_exceptions: bool,
}

// Safety: function pointers into the interpreter, valid for its lifetime.
unsafe impl Send for LongBytes {}
unsafe impl Sync for LongBytes {}

type AsByteArray5 = unsafe extern "C" fn(*mut ffi::PyObject, *mut u8, usize, i32, i32) -> i32;
type AsByteArray6 = unsafe extern "C" fn(*mut ffi::PyObject, *mut u8, usize, i32, i32, i32) -> i32;

impl LongBytes {
    /// `v` little-endian in `n` bytes at `out` (two's complement when `signed`); 0 on success.
    unsafe fn as_bytes(&self, v: *mut ffi::PyObject, out: *mut u8, n: usize, signed: bool) -> i32 {
        // Safety: the symbol has the signature of the running CPython's version.
        unsafe {
            if self.with_exceptions {
                let f = std::mem::transmute::<*mut std::ffi::c_void, AsByteArray6>(self.as_byte_array);
                f(v, out, n, 1, signed as i32, 1)
            } else {
                let f = std::mem::transmute::<*mut std::ffi::c_void, AsByteArray5>(self.as_byte_array);
                f(v, out, n, 1, signed as i32)
            }
        }
    }
}

fn long_bytes(py: Python<'_>) -> Option<&'static LongBytes> {
    static FOUND: PyOnceLock<Option<LongBytes>> = PyOnceLock::new();
    FOUND
        .get_or_init(py, || {
            #[cfg(unix)]
            {
                // Found symbols are these functions (`_PyLong_NumBits` returns size_t before
                // 3.13 and int64_t after: one word either way).
                let bits = crate::decode::interpreter_symbol(c"_PyLong_NumBits");
                let bytes = crate::decode::interpreter_symbol(c"_PyLong_AsByteArray");
                if bits.is_null() || bytes.is_null() {
                    return None;
                }
                Some(LongBytes {
                    // Safety: the symbol is this function (see above).
                    num_bits: unsafe {
                        std::mem::transmute::<
                            *mut std::ffi::c_void,
                            unsafe extern "C" fn(*mut ffi::PyObject) -> i64,
                        >(bits)
                    },
                    as_byte_array: bytes,
                    with_exceptions: py.version_info() >= (3, 13),
                })
            }
            #[cfg(not(unix))]
            {
                let _ = py;
                None
            }
        })
        .as_ref()
}

fn is_memoryview(py: Python<'_>, obj: &Bound<'_, PyAny>) -> bool {
    static MEMORYVIEW: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    MEMORYVIEW
        .get_or_try_init(py, || -> PyResult<_> { Ok(py.import("builtins")?.getattr("memoryview")?.unbind()) })
        .map(|t| obj.is_instance(t.bind(py)).unwrap_or(false))
        .unwrap_or(false)
}

/// Encoding options BEAM's `term_to_binary/2` takes besides the defaults go through the engine
/// encoder: the fast path's bytes are read back as a `Term` and written with those options.
pub(crate) fn reencode(bytes: &[u8], opts: &beamlink::term::EncodeOptions) -> Result<Vec<u8>, String> {
    let limits = beamlink::term::Limits::trusted();
    let mut d = beamlink::term::Decoder::new(bytes).with_limits(limits);
    let t = d.versioned_term().map_err(|e| e.to_string())?;
    Ok(beamlink::term::encode_with(&t, opts))
}

/// A call's arguments (a list or tuple of Python values) as one encoded Erlang list without
/// the version byte, the form the engine sends on.
pub(crate) fn encode_args(args: &Bound<'_, PyAny>, opts: &EncodeOptions) -> PyResult<Vec<u8>> {
    let py = args.py();
    let list = if let Ok(l) = args.cast::<PyList>() {
        l.clone()
    } else if let Ok(t) = args.cast::<PyTuple>() {
        PyList::new(py, t.iter())?
    } else {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "args must be a list or tuple of arguments, not {}",
            args.get_type().name()?
        )));
    };
    let mut out = Vec::with_capacity(64);
    encode_into(list.as_any(), opts, &mut out)?;
    Ok(out)
}

/// One message (no version byte).
pub(crate) fn encode_bare(obj: &Bound<'_, PyAny>, opts: &EncodeOptions) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(64);
    encode_into(obj, opts, &mut out)?;
    Ok(out)
}
