//! The [`Term`] value type and the identifiers it carries (atoms, pids, ports, references, funs).
//!
//! `Term` mirrors what the external term format can carry, not how it is encoded: a list is a
//! list whether the wire said `STRING_EXT` or `LIST_EXT`, an integer is an integer whether it
//! came as `SMALL_INTEGER_EXT` or `SMALL_BIG_EXT`. The encoder picks the tag BEAM would pick.

use std::fmt;

pub use super::atom::Atom;
use super::big::Big;
use bytes::Bytes;

/// A process identifier: `<node.id.serial>` with the node's creation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pid {
    pub node: Atom,
    pub id: u32,
    pub serial: u32,
    pub creation: u32,
}

/// A port identifier. OTP 26+ ports carry 64-bit ids (`V4_PORT_EXT`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port {
    pub node: Atom,
    pub id: u64,
    pub creation: u32,
}

/// A reference: up to 5 32-bit words (OTP 28 sends 5-word refs for monitors and aliases).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    pub node: Atom,
    pub creation: u32,
    pub ids: Vec<u32>,
}

/// A local fun (`NEW_FUN_EXT`). It can be passed back to the node that made it and called there.
#[derive(Clone, Debug, PartialEq)]
pub struct Fun {
    pub arity: u8,
    pub uniq: [u8; 16],
    pub index: u32,
    pub module: Atom,
    pub old_index: u32,
    pub old_uniq: u32,
    pub pid: Pid,
    pub free_vars: Vec<Term>,
}

/// An external fun, `fun Module:Function/Arity` (`EXPORT_EXT`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExportFun {
    pub module: Atom,
    pub function: Atom,
    pub arity: u8,
}

/// Any Erlang term.
///
/// Integers that fit an `i64` are always [`Term::Int`]; larger ones are [`Term::BigInt`], so
/// two equal numbers always compare equal. Proper lists (including `[]`) are [`Term::List`];
/// a list whose tail is not `[]` is [`Term::ImproperList`]. Binaries share the buffer they were
/// decoded from instead of copying it.
///
/// ```
/// use beamlink::term::{Atom, Term};
/// let t = Term::tuple([Term::atom("ok"), Term::from(42)]);
/// match &t {
///     Term::Tuple(items) => assert_eq!(items[1], Term::Int(42)),
///     _ => unreachable!(),
/// }
/// ```
///
/// Terms of any depth are safe to build, clone, compare, print, encode and drop: none of these
/// recurses on the thread stack without bound (see [`nested`](super::nested)). Because `Term`
/// implements `Drop`, take elements out of an owned term with [`Term::into_items`] and friends
/// (or `std::mem::take`) rather than by moving them out in a pattern.
pub enum Term {
    Int(i64),
    /// An integer outside `i64` (magnitudes up to 128 bits are held in place).
    BigInt(Big),
    Float(f64),
    Atom(Atom),
    Binary(Bytes),
    /// A bitstring whose last byte holds only `bits` (1..=7) significant high bits.
    BitBinary {
        bytes: Bytes,
        bits: u8,
    },
    Tuple(Vec<Term>),
    List(Vec<Term>),
    ImproperList(Vec<Term>, Box<Term>),
    /// Key/value pairs in the order they were decoded or built. Keys are unique.
    Map(Vec<(Term, Term)>),
    Pid(Pid),
    Port(Port),
    Reference(Reference),
    Fun(Box<Fun>),
    Export(Box<ExportFun>),
    /// `LOCAL_EXT` payload (after the tag byte), carried through untouched.
    Local(Bytes),
}

impl Clone for Term {
    fn clone(&self) -> Term {
        match self {
            Term::Int(i) => Term::Int(*i),
            Term::BigInt(b) => Term::BigInt(b.clone()),
            Term::Float(f) => Term::Float(*f),
            Term::Atom(a) => Term::Atom(a.clone()),
            Term::Binary(b) => Term::Binary(b.clone()),
            Term::BitBinary { bytes, bits } => Term::BitBinary { bytes: bytes.clone(), bits: *bits },
            Term::Tuple(v) => Term::Tuple(super::deep::descend(|| v.clone())),
            Term::List(v) => Term::List(super::deep::descend(|| v.clone())),
            Term::ImproperList(v, t) => super::deep::descend(|| Term::ImproperList(v.clone(), t.clone())),
            Term::Map(p) => Term::Map(super::deep::descend(|| p.clone())),
            Term::Pid(p) => Term::Pid(p.clone()),
            Term::Port(p) => Term::Port(p.clone()),
            Term::Reference(r) => Term::Reference(r.clone()),
            Term::Fun(f) => Term::Fun(super::deep::descend(|| f.clone())),
            Term::Export(e) => Term::Export(e.clone()),
            Term::Local(b) => Term::Local(b.clone()),
        }
    }
}

impl Default for Term {
    /// `[]`, what [`Term::take`] and `std::mem::take` leave behind.
    fn default() -> Term {
        Term::nil()
    }
}

impl fmt::Debug for Term {
    /// The structure, as `#[derive(Debug)]` would print it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Term::Int(i) => f.debug_tuple("Int").field(i).finish(),
            Term::BigInt(b) => f.debug_tuple("BigInt").field(b).finish(),
            Term::Float(x) => f.debug_tuple("Float").field(x).finish(),
            Term::Atom(a) => f.debug_tuple("Atom").field(a).finish(),
            Term::Binary(b) => f.debug_tuple("Binary").field(b).finish(),
            Term::BitBinary { bytes, bits } => {
                f.debug_struct("BitBinary").field("bytes", bytes).field("bits", bits).finish()
            }
            Term::Tuple(v) => super::deep::descend(|| f.debug_tuple("Tuple").field(v).finish()),
            Term::List(v) => super::deep::descend(|| f.debug_tuple("List").field(v).finish()),
            Term::ImproperList(v, t) => {
                super::deep::descend(|| f.debug_tuple("ImproperList").field(v).field(t).finish())
            }
            Term::Map(p) => super::deep::descend(|| f.debug_tuple("Map").field(p).finish()),
            Term::Pid(p) => f.debug_tuple("Pid").field(p).finish(),
            Term::Port(p) => f.debug_tuple("Port").field(p).finish(),
            Term::Reference(r) => f.debug_tuple("Reference").field(r).finish(),
            Term::Fun(x) => super::deep::descend(|| f.debug_tuple("Fun").field(x).finish()),
            Term::Export(e) => f.debug_tuple("Export").field(e).finish(),
            Term::Local(b) => f.debug_tuple("Local").field(b).finish(),
        }
    }
}

impl Term {
    /// The elements of a tuple or a proper list, moved out (`Term` implements `Drop`, so they
    /// cannot be moved out by a pattern); any other term comes back as the error.
    ///
    /// ```
    /// use beamlink::term::Term;
    /// let items = Term::tuple([Term::atom("ok"), Term::from(1)]).into_items().unwrap();
    /// assert_eq!(items, [Term::atom("ok"), Term::from(1)]);
    /// assert!(Term::from(1).into_items().is_err());
    /// ```
    pub fn into_items(mut self) -> Result<Vec<Term>, Term> {
        match &mut self {
            Term::Tuple(v) | Term::List(v) => Ok(std::mem::take(v)),
            _ => Err(self),
        }
    }

    /// The pairs of a map, moved out; any other term comes back as the error.
    pub fn into_pairs(mut self) -> Result<Vec<(Term, Term)>, Term> {
        match &mut self {
            Term::Map(p) => Ok(std::mem::take(p)),
            _ => Err(self),
        }
    }

    /// The elements and the tail of an improper list, moved out; any other term comes back as
    /// the error.
    pub fn into_improper(mut self) -> Result<(Vec<Term>, Term), Term> {
        match &mut self {
            Term::ImproperList(v, t) => Ok((std::mem::take(v), std::mem::take(&mut **t))),
            _ => Err(self),
        }
    }

    /// `[items… | tail]` in canonical form: a proper-list tail continues the list, and no
    /// items at all is the tail itself.
    ///
    /// ```
    /// use beamlink::term::Term;
    /// let l = Term::cons(vec![Term::from(1)], Term::list([Term::from(2)]));
    /// assert_eq!(l, Term::list([Term::from(1), Term::from(2)]));
    /// ```
    pub fn cons(mut items: Vec<Term>, mut tail: Term) -> Term {
        match &mut tail {
            Term::List(rest) => {
                items.append(rest);
                Term::List(items)
            }
            Term::ImproperList(rest, t) => {
                items.append(rest);
                Term::ImproperList(items, Box::new(t.take()))
            }
            _ if items.is_empty() => tail,
            _ => Term::ImproperList(items, Box::new(tail)),
        }
    }

    /// Takes the term out of `self`, leaving `[]` behind.
    pub fn take(&mut self) -> Term {
        std::mem::take(self)
    }
}

impl Term {
    pub fn atom(name: impl AsRef<str>) -> Term {
        Term::Atom(Atom::new(name))
    }

    pub fn tuple(items: impl IntoIterator<Item = Term>) -> Term {
        Term::Tuple(items.into_iter().collect())
    }

    pub fn list(items: impl IntoIterator<Item = Term>) -> Term {
        Term::List(items.into_iter().collect())
    }

    pub fn nil() -> Term {
        Term::List(Vec::new())
    }

    pub fn binary(bytes: impl Into<Bytes>) -> Term {
        Term::Binary(bytes.into())
    }

    pub fn map(pairs: impl IntoIterator<Item = (Term, Term)>) -> Term {
        Term::Map(pairs.into_iter().collect())
    }

    /// The atom's name if this term is an atom.
    pub fn as_atom(&self) -> Option<&str> {
        match self {
            Term::Atom(a) => Some(a.as_str()),
            _ => None,
        }
    }

    pub fn is_atom(&self, name: &str) -> bool {
        self.as_atom() == Some(name)
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Term::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_tuple(&self) -> Option<&[Term]> {
        match self {
            Term::Tuple(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Term]> {
        match self {
            Term::List(l) => Some(l),
            _ => None,
        }
    }

    pub fn as_binary(&self) -> Option<&Bytes> {
        match self {
            Term::Binary(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_pid(&self) -> Option<&Pid> {
        match self {
            Term::Pid(p) => Some(p),
            _ => None,
        }
    }

    /// Looks a key up in a map term (linear: maps from the wire are small or scanned once).
    pub fn map_get(&self, key: &Term) -> Option<&Term> {
        match self {
            Term::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

macro_rules! from_small_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Term {
            fn from(v: $t) -> Term { Term::Int(v as i64) }
        }
    )*};
}
from_small_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Term {
    fn from(v: u64) -> Term {
        match i64::try_from(v) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(Big::from(v)),
        }
    }
}

impl From<i128> for Term {
    fn from(v: i128) -> Term {
        match i64::try_from(v) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(Big::from(v)),
        }
    }
}

impl From<u128> for Term {
    fn from(v: u128) -> Term {
        match i64::try_from(v) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(Big::from(v)),
        }
    }
}

impl From<Big> for Term {
    /// Normalises: a number that fits an `i64` becomes [`Term::Int`].
    fn from(v: Big) -> Term {
        match i64::try_from(&v) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(v),
        }
    }
}

impl From<num_bigint::BigInt> for Term {
    /// Normalises: a big integer that fits an `i64` becomes [`Term::Int`].
    fn from(v: num_bigint::BigInt) -> Term {
        match i64::try_from(&v) {
            Ok(i) => Term::Int(i),
            Err(_) => Term::BigInt(Big::from(&v)),
        }
    }
}

impl From<f64> for Term {
    fn from(v: f64) -> Term {
        Term::Float(v)
    }
}

impl From<bool> for Term {
    fn from(v: bool) -> Term {
        Term::atom(if v { "true" } else { "false" })
    }
}

impl From<Atom> for Term {
    fn from(a: Atom) -> Term {
        Term::Atom(a)
    }
}

impl From<Pid> for Term {
    fn from(p: Pid) -> Term {
        Term::Pid(p)
    }
}

impl From<Reference> for Term {
    fn from(r: Reference) -> Term {
        Term::Reference(r)
    }
}

impl From<Port> for Term {
    fn from(p: Port) -> Term {
        Term::Port(p)
    }
}

impl From<Bytes> for Term {
    fn from(b: Bytes) -> Term {
        Term::Binary(b)
    }
}

impl From<Vec<u8>> for Term {
    /// A `Vec<u8>` becomes a binary, as Elixir strings are binaries.
    fn from(b: Vec<u8>) -> Term {
        Term::Binary(Bytes::from(b))
    }
}

impl From<&[u8]> for Term {
    fn from(b: &[u8]) -> Term {
        Term::Binary(Bytes::copy_from_slice(b))
    }
}

impl From<&str> for Term {
    /// A Rust string becomes a UTF-8 binary (an Elixir string), not a charlist.
    fn from(s: &str) -> Term {
        Term::Binary(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for Term {
    fn from(s: String) -> Term {
        Term::Binary(Bytes::from(s.into_bytes()))
    }
}

impl From<Vec<Term>> for Term {
    fn from(v: Vec<Term>) -> Term {
        Term::List(v)
    }
}

impl From<()> for Term {
    fn from(_: ()) -> Term {
        Term::Tuple(Vec::new())
    }
}

macro_rules! from_tuple {
    ($($n:ident),+) => {
        impl<$($n: Into<Term>),+> From<($($n,)+)> for Term {
            #[allow(non_snake_case)]
            fn from(($($n,)+): ($($n,)+)) -> Term {
                Term::Tuple(vec![$($n.into()),+])
            }
        }
    };
}
from_tuple!(A);
from_tuple!(A, B);
from_tuple!(A, B, C);
from_tuple!(A, B, C, D);
from_tuple!(A, B, C, D, E);
from_tuple!(A, B, C, D, E, F);
