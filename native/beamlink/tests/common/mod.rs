//! Shared helpers for the integration tests: a proptest strategy for arbitrary terms and hex.
#![allow(dead_code)]

use beamlink::term::{Atom, Pid, Port, Reference, Term};
use bytes::Bytes;
use num_bigint::BigInt;
use proptest::prelude::*;

pub fn hex(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(D[(b >> 4) as usize] as char);
        s.push(D[(b & 15) as usize] as char);
    }
    s
}

pub fn unhex(s: &str) -> Vec<u8> {
    let v = |c: u8| match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("bad hex digit {c}"),
    };
    s.as_bytes().chunks(2).map(|p| v(p[0]) << 4 | v(p[1])).collect()
}

fn arb_atom() -> impl Strategy<Value = Atom> {
    prop_oneof!["[a-z][a-zA-Z0-9_@]{0,12}", "\\PC{0,20}", Just("ok".to_string()), Just(String::new()),]
        .prop_map(Atom::new)
}

fn arb_node() -> impl Strategy<Value = Atom> {
    "[a-z]{1,8}@[a-z]{1,8}".prop_map(Atom::new)
}

fn arb_leaf() -> impl Strategy<Value = Term> {
    prop_oneof![
        any::<i64>().prop_map(Term::Int),
        (0i64..300).prop_map(Term::Int),
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 9..40)).prop_map(|(neg, mag)| {
            let s = if neg { num_bigint::Sign::Minus } else { num_bigint::Sign::Plus };
            Term::from(BigInt::from_bytes_le(s, &mag))
        }),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Term::Float),
        arb_atom().prop_map(Term::Atom),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Term::Binary(Bytes::from(b))),
        (proptest::collection::vec(any::<u8>(), 1..16), 1u8..8).prop_map(|(mut b, bits)| {
            let n = b.len();
            b[n - 1] &= 0xffu8 << (8 - bits);
            Term::BitBinary { bytes: Bytes::from(b), bits }
        }),
        (arb_node(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(|(node, id, serial, creation)| {
            Term::Pid(Pid { node, id: id & 0x7fff_ffff, serial: serial & 0x7fff_ffff, creation })
        }),
        (arb_node(), any::<u64>(), any::<u32>()).prop_map(|(node, id, creation)| Term::Port(Port {
            node,
            id: id >> 4,
            creation
        })),
        (arb_node(), any::<u32>(), proptest::collection::vec(any::<u32>(), 3..=5))
            .prop_map(|(node, creation, ids)| Term::Reference(Reference { node, creation, ids })),
    ]
}

/// Arbitrary terms BEAM can represent (no funs: only their creator can make them).
pub fn arb_term() -> impl Strategy<Value = Term> {
    arb_leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Term::Tuple),
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Term::List),
            (proptest::collection::vec(inner.clone(), 1..4), arb_leaf())
                .prop_filter("tail must not be a list", |(_, t)| !matches!(t, Term::List(_)))
                .prop_map(|(items, tail)| Term::ImproperList(items, Box::new(tail))),
            proptest::collection::vec((inner.clone(), inner), 0..6).prop_map(|pairs| {
                let mut uniq: Vec<(Term, Term)> = Vec::new();
                for (k, v) in pairs {
                    if !uniq.iter().any(|(k2, _)| *k2 == k) {
                        uniq.push((k, v));
                    }
                }
                Term::Map(uniq)
            }),
        ]
    })
}
