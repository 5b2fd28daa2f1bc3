//! Erlang's term order and exact equality (`=:=`).
//!
//! `number < atom < reference < fun < port < pid < tuple < map < [] < list < bitstring`.
//! Equality is exact, as `=:=`: `1` and `1.0` differ, and maps are equal when they hold the
//! same pairs in whatever order they were built or decoded.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_traits::ToPrimitive;

use super::big::Big;
use super::types::{Pid, Term};

fn rank(t: &Term) -> u8 {
    match t {
        Term::Int(_) | Term::BigInt(_) | Term::Float(_) => 0,
        Term::Atom(_) => 1,
        Term::Reference(_) => 2,
        Term::Fun(_) | Term::Export(_) => 3,
        Term::Port(_) => 4,
        Term::Pid(_) => 5,
        Term::Tuple(_) => 6,
        Term::Map(_) => 7,
        Term::List(l) if l.is_empty() => 8,
        Term::List(_) | Term::ImproperList(..) => 9,
        Term::Binary(_) | Term::BitBinary { .. } => 10,
        Term::Local(_) => 11,
    }
}

/// Compares two terms in Erlang's exact term order (the order of map keys and of
/// `lists:sort/1`, with integers before equal floats).
///
/// ```
/// use beamlink::term::{compare, Term};
/// use std::cmp::Ordering;
/// assert_eq!(compare(&Term::from(1), &Term::atom("a")), Ordering::Less);
/// assert_eq!(compare(&Term::tuple([]), &Term::nil()), Ordering::Less);
/// ```
pub fn compare(a: &Term, b: &Term) -> Ordering {
    super::deep::around(a, || compare_here(a, b))
}

fn compare_here(a: &Term, b: &Term) -> Ordering {
    let (ra, rb) = (rank(a), rank(b));
    if ra != rb {
        return ra.cmp(&rb);
    }
    match (a, b) {
        (Term::Atom(x), Term::Atom(y)) => x.as_str().cmp(y.as_str()),
        (Term::Tuple(x), Term::Tuple(y)) => x.len().cmp(&y.len()).then_with(|| seq(x, y)),
        (Term::Map(x), Term::Map(y)) => x.len().cmp(&y.len()).then_with(|| {
            let mut xs: Vec<&(Term, Term)> = x.iter().collect();
            let mut ys: Vec<&(Term, Term)> = y.iter().collect();
            xs.sort_by(|p, q| compare(&p.0, &q.0));
            ys.sort_by(|p, q| compare(&p.0, &q.0));
            xs.iter()
                .zip(&ys)
                .map(|(p, q)| compare(&p.0, &q.0))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
                .then_with(|| {
                    xs.iter()
                        .zip(&ys)
                        .map(|(p, q)| compare(&p.1, &q.1))
                        .find(|o| o.is_ne())
                        .unwrap_or(Ordering::Equal)
                })
        }),
        (Term::List(_) | Term::ImproperList(..), Term::List(_) | Term::ImproperList(..)) => list_cmp(a, b),
        (Term::Binary(_) | Term::BitBinary { .. }, Term::Binary(_) | Term::BitBinary { .. }) => {
            let (xb, xbits) = bits_of(a);
            let (yb, ybits) = bits_of(b);
            let whole = |bytes: &[u8], bits: u8| if bits == 0 { bytes.len() } else { bytes.len() - 1 };
            let (xw, yw) = (whole(xb, xbits), whole(yb, ybits));
            xb[..xw.min(yw)].cmp(&yb[..xw.min(yw)]).then_with(|| {
                let xbitlen = xw as u64 * 8 + xbits as u64;
                let ybitlen = yw as u64 * 8 + ybits as u64;
                // Compare the rest bit by bit, then by length.
                let n = xbitlen.min(ybitlen);
                let mut i = (xw.min(yw) as u64) * 8;
                while i < n {
                    let bx = (xb[(i / 8) as usize] >> (7 - i % 8)) & 1;
                    let by = (yb[(i / 8) as usize] >> (7 - i % 8)) & 1;
                    if bx != by {
                        return bx.cmp(&by);
                    }
                    i += 1;
                }
                xbitlen.cmp(&ybitlen)
            })
        }
        (Term::Pid(x), Term::Pid(y)) => pid_cmp(x, y),
        (Term::Port(x), Term::Port(y)) => {
            x.node.cmp(&y.node).then(x.creation.cmp(&y.creation)).then(x.id.cmp(&y.id))
        }
        (Term::Reference(x), Term::Reference(y)) => x
            .node
            .cmp(&y.node)
            .then(x.creation.cmp(&y.creation))
            .then_with(|| x.ids.iter().rev().cmp(y.ids.iter().rev())),
        (Term::Fun(x), Term::Fun(y)) => x
            .module
            .cmp(&y.module)
            .then(x.index.cmp(&y.index))
            .then(x.uniq.cmp(&y.uniq))
            .then_with(|| pid_cmp(&x.pid, &y.pid))
            .then_with(|| seq(&x.free_vars, &y.free_vars)),
        (Term::Export(x), Term::Export(y)) => {
            x.module.cmp(&y.module).then(x.function.cmp(&y.function)).then(x.arity.cmp(&y.arity))
        }
        (Term::Fun(_), Term::Export(_)) => Ordering::Less,
        (Term::Export(_), Term::Fun(_)) => Ordering::Greater,
        (Term::Local(x), Term::Local(y)) => x.cmp(y),
        _ => number_cmp(a, b),
    }
}

fn pid_cmp(x: &Pid, y: &Pid) -> Ordering {
    x.node.cmp(&y.node).then(x.creation.cmp(&y.creation)).then(x.serial.cmp(&y.serial)).then(x.id.cmp(&y.id))
}

fn seq(x: &[Term], y: &[Term]) -> Ordering {
    x.iter().zip(y).map(|(p, q)| compare(p, q)).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
}

fn list_parts(t: &Term) -> (&[Term], Option<&Term>) {
    match t {
        Term::List(l) => (l, None),
        Term::ImproperList(l, tail) => (l, Some(tail)),
        _ => (&[], None),
    }
}

fn list_cmp(a: &Term, b: &Term) -> Ordering {
    let (xs, xt) = list_parts(a);
    let (ys, yt) = list_parts(b);
    for (x, y) in xs.iter().zip(ys) {
        let o = compare(x, y);
        if o.is_ne() {
            return o;
        }
    }
    let nil = Term::List(Vec::new());
    // Past the shorter prefix, compare what each side has next: an element or its tail.
    match xs.len().cmp(&ys.len()) {
        Ordering::Equal => match (xt, yt) {
            (None, None) => Ordering::Equal,
            _ => compare(xt.unwrap_or(&nil), yt.unwrap_or(&nil)),
        },
        Ordering::Less => {
            let rest = Term::List(ys[xs.len()..].to_vec());
            let rest = match yt {
                Some(t) => Term::ImproperList(ys[xs.len()..].to_vec(), Box::new(t.clone())),
                None => rest,
            };
            compare(xt.unwrap_or(&nil), &rest)
        }
        Ordering::Greater => compare(b, a).reverse(),
    }
}

fn bits_of(t: &Term) -> (&[u8], u8) {
    match t {
        Term::Binary(b) => (b, 0),
        Term::BitBinary { bytes, bits } => (bytes, *bits),
        _ => (&[], 0),
    }
}

fn number_cmp(a: &Term, b: &Term) -> Ordering {
    match (a, b) {
        (Term::Int(x), Term::Int(y)) => x.cmp(y),
        (Term::Float(x), Term::Float(y)) => x.partial_cmp(y).unwrap_or(Ordering::Equal),
        (Term::BigInt(x), Term::BigInt(y)) => x.cmp(y),
        (Term::Int(x), Term::BigInt(y)) => Big::from(*x).cmp(y),
        (Term::BigInt(x), Term::Int(y)) => x.cmp(&Big::from(*y)),
        (Term::Float(_), _) => number_cmp(b, a).reverse(),
        (int, Term::Float(f)) => {
            let big = match int {
                Term::Int(i) => BigInt::from(*i),
                Term::BigInt(b) => b.to_bigint(),
                _ => return Ordering::Equal,
            };
            match big.to_f64() {
                Some(x) if x != *f => x.partial_cmp(f).unwrap_or(Ordering::Equal),
                // Same value as a float: exact order puts the integer first.
                _ => match BigInt::from_f64_exact(*f) {
                    Some(fb) if fb != big => big.cmp(&fb),
                    _ => Ordering::Less,
                },
            }
        }
        _ => Ordering::Equal,
    }
}

trait FromF64Exact: Sized {
    fn from_f64_exact(f: f64) -> Option<Self>;
}

impl FromF64Exact for BigInt {
    fn from_f64_exact(f: f64) -> Option<BigInt> {
        if f.fract() == 0.0 { num_traits::FromPrimitive::from_f64(f) } else { None }
    }
}

impl PartialEq for Term {
    fn eq(&self, other: &Term) -> bool {
        super::deep::around(self, || eq_here(self, other))
    }
}

fn eq_here(this: &Term, other: &Term) -> bool {
    {
        match (this, other) {
            (Term::Int(a), Term::Int(b)) => a == b,
            (Term::Atom(a), Term::Atom(b)) => a == b,
            (Term::Binary(a), Term::Binary(b)) => a == b,
            (Term::Tuple(a), Term::Tuple(b)) => a == b,
            (Term::List(a), Term::List(b)) => a == b,
            (Term::Float(a), Term::Float(b)) => a.to_bits() == b.to_bits() || a == b,
            (Term::Map(a), Term::Map(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.iter().any(|(k2, v2)| k == k2 && v == v2))
            }
            (Term::Int(_) | Term::BigInt(_), Term::Int(_) | Term::BigInt(_)) => {
                number_cmp(this, other).is_eq()
            }
            (Term::Float(_), _) | (_, Term::Float(_)) => false,
            _ if rank(this) != rank(other) => false,
            _ => compare(this, other).is_eq() && same_kind(this, other),
        }
    }
}

/// `compare` says a bitstring equals nothing else of rank 10 but itself; only funs and exports
/// share a rank while being different kinds.
fn same_kind(a: &Term, b: &Term) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        || matches!(
            (a, b),
            (Term::Binary(_), Term::BitBinary { .. }) | (Term::BitBinary { .. }, Term::Binary(_))
        )
}

impl Eq for Term {}

impl PartialOrd for Term {
    fn partial_cmp(&self, other: &Term) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Term {
    fn cmp(&self, other: &Term) -> Ordering {
        compare(self, other)
    }
}
