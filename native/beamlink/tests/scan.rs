//! `term::scan` against the decoder: it accepts everything the decoder accepts under the same
//! limits, finds depth and size violations at the decoder's offsets, never panics, and hands
//! back the inflated form of compressed terms; with a budget it ends the same way or gives up.

mod common;

use beamlink::term::{
    DecodeError, Decoder, EncodeOptions, Limits, Scanned, Term, decode, encode, encode_with, scan, scan_with,
    scan_within,
};
use common::{arb_term, hex};
use proptest::prelude::*;

fn decode_with(bytes: &[u8], limits: Limits) -> Result<Term, DecodeError> {
    let mut d = Decoder::new(bytes).with_limits(limits);
    let t = d.versioned_term()?;
    d.finish()?;
    Ok(t)
}

fn nested(depth: usize, wrap: fn(Term) -> Term) -> Term {
    let mut t = Term::atom("leaf");
    for _ in 0..depth {
        t = wrap(t);
    }
    t
}

#[test]
fn depth_is_counted_as_the_decoder_counts_it() {
    let wraps: [fn(Term) -> Term; 5] = [
        |t| Term::list([t]),
        |t| Term::tuple([t]),
        |t| Term::map([(Term::from(1), t)]),
        |t| Term::ImproperList(vec![t], Box::new(Term::atom("tail"))),
        |t| Term::list([Term::from(1), Term::from(2), t]),
    ];
    for wrap in wraps {
        for depth in [0, 1, 9, 10, 11, 200] {
            let bytes = encode(&nested(depth, wrap));
            for max_depth in [1, 10, 64, 1024] {
                let limits = Limits { max_depth, ..Limits::default() };
                let want = decode_with(&bytes, limits).map(|_| ());
                let got = scan(&bytes, &limits).map(|_| ());
                assert_eq!(got, want, "depth {depth}, limit {max_depth}: {}", hex(&bytes));
            }
        }
    }
}

#[test]
fn a_list_split_into_many_list_ext_tails_is_one_level() {
    // [1, 2, 3] as LIST_EXT [1 | LIST_EXT [2 | LIST_EXT [3 | []]]]: BEAM never writes this,
    // but a peer may, and the decoder folds it into one list.
    let b = [131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 108, 0, 0, 0, 1, 97, 3, 106];
    let one = Limits { max_depth: 1, ..Limits::default() };
    assert_eq!(decode_with(&b, one).unwrap(), Term::list([Term::from(1), Term::from(2), Term::from(3)]));
    assert_eq!(scan(&b, &one), Ok(Scanned::Plain));
}

#[test]
fn compressed_terms_come_back_inflated_and_their_size_claim_is_bounded() {
    let t = Term::list((0..2000).map(|i| Term::tuple([Term::atom("k"), Term::from(i)])));
    let packed = encode_with(&t, &EncodeOptions { compressed: Some(6), ..EncodeOptions::default() });
    assert_eq!(packed[1], 80);
    match scan(&packed, &Limits::default()).unwrap() {
        Scanned::Inflated(plain) => assert_eq!(plain, encode(&t)),
        other => panic!("{other:?}"),
    }
    let small = Limits { max_decompressed: 1000, ..Limits::default() };
    let e = scan(&packed, &small).unwrap_err();
    assert!(matches!(e, DecodeError::TooLarge { offset: 2, limit: 1000, .. }), "{e:?}");
    // A claim far beyond what zlib can produce from the input is refused before inflating.
    let mut lying = packed.clone();
    lying[2..6].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(scan(&lying, &Limits::default()), Err(DecodeError::TooLarge { .. })));
    // A claim too low is caught while inflating.
    let mut low = packed.clone();
    low[2..6].copy_from_slice(&10u32.to_be_bytes());
    assert!(matches!(scan(&low, &Limits::default()), Err(DecodeError::Compression { .. })));
}

#[test]
fn every_atom_is_shown_and_a_refused_one_stops_the_scan_at_its_offset() {
    let t = Term::tuple([Term::atom("known"), Term::atom("névé"), Term::binary(&b"x"[..])]);
    let bytes = encode(&t);
    let mut seen = Vec::new();
    scan_with(&bytes, &Limits::default(), |a| {
        seen.push((a.offset, String::from_utf8(a.name.to_vec()).unwrap(), a.utf8));
        true
    })
    .unwrap();
    assert_eq!(seen, [(3, "known".to_string(), true), (10, "névé".to_string(), true)]);
    let e = scan_with(&bytes, &Limits::default(), |a| a.name != "névé".as_bytes()).unwrap_err();
    assert_eq!(e, DecodeError::Invalid { offset: 10, what: "atom (not an existing atom)" });
}

#[test]
fn malformed_input_stops_with_the_decoders_offsets() {
    let cases: [&[u8]; 7] = [
        &[],
        &[130, 97, 1],
        &[131, 200],
        &[131, 104, 2, 97, 1],
        &[131, 104, 1, 82, 0],
        &[131, 97, 1, 0],
        &[131, 108, 255, 255, 255, 255, 106],
    ];
    for b in cases {
        assert_eq!(scan(b, &Limits::default()).map(|_| ()), decode(b).map(|_| ()), "{}", hex(b));
    }
}

#[test]
fn a_budget_counts_every_term_once_and_gives_up_past_it() {
    // A list of 100 integers: the list, its elements and its `[]` tail are 102 terms.
    let b = encode(&Term::list((0..100).map(|i| Term::from(i * 1000))));
    let l = Limits::default();
    assert_eq!(scan_within(&b, &l, 102), Ok(Some(Scanned::Plain)));
    assert_eq!(scan_within(&b, &l, 101), Ok(None));
    // An error before the budget runs out is still an error.
    assert!(matches!(scan_within(&b[..50], &l, 1_000), Err(DecodeError::UnexpectedEof { .. })));
    // Nested containers and leaves of every kind count alike.
    let t = Term::tuple([Term::atom("a"), Term::binary(&b"xy"[..]), Term::list([Term::from(1.5)])]);
    let b = encode(&t);
    assert_eq!(scan_within(&b, &l, 6), Ok(Some(Scanned::Plain)));
    assert_eq!(scan_within(&b, &l, 5), Ok(None));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn accepts_every_encoding_of_every_term(t in arb_term(), opt in 0usize..4) {
        let opts = [
            EncodeOptions::default(),
            EncodeOptions { minor_version: 0, ..EncodeOptions::otp25() },
            EncodeOptions { compressed: Some(1), ..EncodeOptions::default() },
            EncodeOptions { deterministic: true, v4_ports: true, ..EncodeOptions::default() },
        ];
        let b = encode_with(&t, &opts[opt]);
        match scan(&b, &Limits::default()) {
            Ok(Scanned::Plain) => {}
            Ok(Scanned::Inflated(plain)) => prop_assert_eq!(decode(&plain).unwrap(), t),
            Err(e) => prop_assert!(false, "{e} in {}", hex(&b)),
        }
    }

    #[test]
    fn no_stricter_than_the_decoder_and_never_panics(
        t in arb_term(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut b = encode(&t);
        for (i, byte) in edits {
            let i = i.index(b.len());
            b[i] = byte;
        }
        for bytes in [&b[..], &b[..cut.index(b.len() + 1)]] {
            let scanned = scan(bytes, &Limits::default());
            if decode(bytes).is_ok() {
                prop_assert!(scanned.is_ok(), "{:?} in {}", scanned, hex(bytes));
            }
            // With a budget it ends the same way, or gives up.
            let within = scan_within(bytes, &Limits::default(), 7);
            prop_assert!(within == Ok(None) || within == scanned.clone().map(Some), "{:?} vs {:?}", within, scanned);
        }
    }
}
