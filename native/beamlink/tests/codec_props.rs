//! Properties of the codec over generated terms and bytes: round trips under every option
//! combination, no panics on arbitrary input, and `compare` being a total order that agrees
//! with `==` (map keys, duplicate detection and sorting all rely on that).

mod common;

use std::cmp::Ordering;

use beamlink::term::{EncodeOptions, Term, compare, decode, decode_shared, encode_with};
use bytes::Bytes;
use common::{arb_term, hex};
use proptest::prelude::*;

fn all_options() -> Vec<EncodeOptions> {
    let mut v = Vec::new();
    for minor_version in 0..=2 {
        for compressed in [None, Some(0), Some(1), Some(9)] {
            for v4_ports in [false, true] {
                for deterministic in [false, true] {
                    v.push(EncodeOptions { minor_version, compressed, v4_ports, deterministic });
                }
            }
        }
    }
    v
}

/// Terms and bytes that are mostly almost-valid: a valid encoding with a few bytes changed.
fn arb_mangled() -> impl Strategy<Value = Vec<u8>> {
    (arb_term(), 0usize..3, proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4))
        .prop_map(|(t, opt, edits)| {
            let opts = [
                EncodeOptions::default(),
                EncodeOptions { minor_version: 0, ..EncodeOptions::otp25() },
                EncodeOptions { compressed: Some(1), ..EncodeOptions::default() },
            ];
            let mut b = encode_with(&t, &opts[opt]);
            for (i, byte) in edits {
                let i = i.index(b.len());
                b[i] = byte;
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_under_every_option(t in arb_term()) {
        for opts in all_options() {
            let b = encode_with(&t, &opts);
            let back = decode(&b).map_err(|e| TestCaseError::fail(format!("{opts:?}: {e} in {}", hex(&b))))?;
            prop_assert_eq!(&back, &t, "{:?}", opts);
            let shared = decode_shared(&Bytes::from(b)).unwrap();
            prop_assert_eq!(&shared, &t, "{:?}", opts);
        }
    }

    #[test]
    fn every_truncation_is_an_error(t in arb_term(), compressed in any::<bool>()) {
        let opts = EncodeOptions { compressed: compressed.then_some(6), ..EncodeOptions::default() };
        let b = encode_with(&t, &opts);
        for n in 0..b.len() {
            prop_assert!(decode(&b[..n]).is_err(), "prefix {} of {} decoded", n, hex(&b));
        }
    }

    #[test]
    fn compare_is_a_total_order_consistent_with_eq(a in arb_term(), b in arb_term(), c in arb_term()) {
        for x in [&a, &b, &c] {
            prop_assert_eq!(compare(x, x), Ordering::Equal);
            prop_assert!(x == x);
        }
        for (x, y) in [(&a, &b), (&b, &c), (&a, &c)] {
            prop_assert_eq!(compare(x, y), compare(y, x).reverse(), "antisymmetry");
            prop_assert_eq!(compare(x, y) == Ordering::Equal, x == y, "compare and == disagree on {:?} and {:?}", x, y);
        }
        let mut v = [&a, &b, &c];
        v.sort_by(|x, y| compare(x, y));
        prop_assert!(compare(v[0], v[1]).is_le() && compare(v[1], v[2]).is_le());
        // Transitivity, tried on the sorted triple so every case is exercised.
        prop_assert!(compare(v[0], v[2]).is_le(), "{:?} <= {:?} <= {:?} but not the ends", v[0], v[1], v[2]);
    }

    #[test]
    fn sorting_yields_a_sorted_vec(mut v in proptest::collection::vec(arb_term(), 0..24)) {
        v.sort_by(compare);
        for w in v.windows(2) {
            prop_assert!(compare(&w[0], &w[1]).is_le());
        }
        for i in 0..v.len() {
            for j in i + 1..v.len() {
                prop_assert!(compare(&v[i], &v[j]).is_le(), "{:?} before {:?}", v[i], v[j]);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(mut b in proptest::collection::vec(any::<u8>(), 0..64), versioned in any::<bool>()) {
        // Mostly past the version byte, or nothing but BadVersion would be tested.
        if versioned {
            b.insert(0, 131);
        }
        let _ = decode(&b);
        let _ = decode_shared(&Bytes::from(b));
    }

    #[test]
    fn mangled_encodings_never_panic_and_what_decodes_round_trips(b in arb_mangled()) {
        if let Ok(t) = decode(&b) {
            let again = encode_with(&t, &EncodeOptions::default());
            prop_assert_eq!(decode(&again).unwrap(), t);
        }
    }
}

/// The cases the generator rarely hits: one number in two representations, and an integer
/// against the float of the same value (exact order puts the integer first).
#[test]
fn equal_numbers_of_different_representation() {
    let small = Term::Int(5);
    let big = Term::BigInt(beamlink::term::Big::from(5i64));
    assert_eq!(small, big);
    assert_eq!(compare(&small, &big), Ordering::Equal);
    assert_eq!(compare(&Term::Int(1), &Term::Float(1.0)), Ordering::Less);
    assert_ne!(Term::Int(1), Term::Float(1.0));
}
