//! A mutation fuzzer for the decoder that needs nothing but stable Rust, so it runs as part of
//! `cargo test` (a few seconds) and, through `scripts/fuzz.sh`, for as long as one likes.
//!
//! It is not coverage-guided; to reach past the first few bytes it mutates valid encodings of
//! varied terms (legacy tags, compressed forms, funs, deep nesting) and keeps every mutant that
//! still decodes as a new seed. Oracles: `decode` never panics, and whatever it accepts
//! re-encodes to bytes that decode to an equal term, through both `decode` and `decode_shared`.
//!
//! `BEAMLINK_FUZZ_SECONDS` sets the duration (default 5), `BEAMLINK_FUZZ_SEED` the RNG seed.

mod common;

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use beamlink::term::{
    Atom, DecodeError, EncodeOptions, ExportFun, Fun, Pid, Port, Reference, Term, compare, decode,
    decode_shared, encode, encode_with, tag,
};
use bytes::Bytes;
use common::{arb_term, hex, unhex};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// xorshift64*: reproducible from the printed seed, no dependency on an RNG crate's API.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

fn node() -> Atom {
    Atom::new("a@b")
}

fn pid() -> Pid {
    Pid { node: node(), id: 77, serial: 1, creation: 3 }
}

fn handmade_terms() -> Vec<Term> {
    let fun = Term::Fun(Box::new(Fun {
        arity: 2,
        uniq: [7; 16],
        index: 1,
        module: Atom::new("m"),
        old_index: 1,
        old_uniq: 0xdead_beef,
        pid: pid(),
        free_vars: vec![Term::from(1), Term::atom("x"), Term::tuple([Term::nil()])],
    }));
    let export = Term::Export(Box::new(ExportFun {
        module: Atom::new("lists"),
        function: Atom::new("map"),
        arity: 2,
    }));
    let mut deep = Term::from(1);
    for i in 0..40 {
        deep = if i % 2 == 0 { Term::tuple([deep]) } else { Term::list([deep, Term::nil()]) };
    }
    vec![
        Term::tuple([Term::atom("ok"), Term::from(42)]),
        Term::from(-1),
        Term::from(i64::MIN),
        Term::from(u64::MAX),
        Term::from(num_bigint::BigInt::from(7).pow(300)),
        Term::Float(-1.5e300),
        Term::atom("héllo"),
        Term::atom("日本"),
        Term::binary(vec![1, 2, 3]),
        Term::BitBinary { bytes: Bytes::from_static(&[0xff, 0xe0]), bits: 3 },
        Term::list((0..20).map(Term::from)),
        Term::list([Term::from(1000), Term::atom("a")]),
        Term::ImproperList(vec![Term::from(1)], Box::new(Term::atom("t"))),
        Term::map([(Term::atom("k"), Term::from(1)), (Term::from(2), Term::nil())]),
        Term::map((0..20).map(|i| (Term::from(i), Term::from(i * 2)))),
        Term::Pid(pid()),
        Term::Port(Port { node: node(), id: 5, creation: 9 }),
        Term::Port(Port { node: node(), id: 1 << 40, creation: 9 }),
        Term::Reference(Reference { node: node(), creation: 2, ids: vec![1, 2, 3, 4, 5] }),
        fun,
        export,
        Term::Local(Bytes::from_static(&[1, 2, 3])),
        deep,
        // Compressible, so the compressed seeds really are compressed.
        Term::list((0..200).map(|i| Term::tuple([Term::atom("same"), Term::from(i % 3)]))),
        Term::binary(vec![b'z'; 500]),
    ]
}

/// Encodings BEAM no longer writes but peers may still send.
fn legacy_encodings() -> Vec<Vec<u8>> {
    [
        "83730161",                       // SMALL_ATOM_EXT 'a'
        "836400036EE9E9",                 // ATOM_EXT Latin-1 'née'-ish
        "83677300000000010000000203",     // PID_EXT
        "83667300000000050F",             // PORT_EXT
        "835973000000000500000009",       // NEW_PORT_EXT
        "837200027300010000000100000002", // NEW_REFERENCE_EXT
        "836573000000000701",             // REFERENCE_EXT
        "836E040005000000",               // SMALL_BIG holding 5
        "836C0000000161006B00020203",     // LIST_EXT with STRING_EXT tail
        "834D000000020380FF",             // BIT_BINARY garbage bits
        "83790102030405",                 // LOCAL_EXT
    ]
    .iter()
    .map(|h| unhex(h))
    .chain(std::iter::once({
        let mut f = vec![131, tag::FLOAT_EXT];
        let mut field = [0u8; 31];
        let text = b"1.50000000000000000000e+00";
        field[..text.len()].copy_from_slice(text);
        f.extend_from_slice(&field);
        f
    }))
    .collect()
}

fn seeds() -> Vec<Vec<u8>> {
    let mut terms = handmade_terms();
    let mut runner = TestRunner::deterministic();
    let strat = arb_term();
    for _ in 0..120 {
        terms.push(strat.new_tree(&mut runner).unwrap().current());
    }
    let opts = [
        EncodeOptions::default(),
        EncodeOptions::otp25(),
        EncodeOptions { minor_version: 0, ..EncodeOptions::default() },
        EncodeOptions { compressed: Some(6), ..EncodeOptions::default() },
        EncodeOptions { compressed: Some(1), deterministic: true, ..EncodeOptions::otp25() },
    ];
    let mut out = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        out.push(encode(t));
        // Every option set for the hand-made terms, one rotating set for the generated ones.
        if i < 25 {
            out.extend(opts.iter().map(|o| encode_with(t, o)));
        } else {
            out.push(encode_with(t, &opts[i % opts.len()]));
        }
    }
    out.extend(legacy_encodings());
    out
}

const INTERESTING: &[u8] = &[
    0,
    1,
    2,
    4,
    5,
    7,
    8,
    0x7f,
    0x80,
    0xfe,
    0xff,
    131,
    tag::COMPRESSED,
    tag::NEW_FLOAT_EXT,
    tag::BIT_BINARY_EXT,
    tag::ATOM_CACHE_REF,
    tag::NEW_PID_EXT,
    tag::NEW_PORT_EXT,
    tag::NEWER_REFERENCE_EXT,
    tag::SMALL_INTEGER_EXT,
    tag::INTEGER_EXT,
    tag::FLOAT_EXT,
    tag::ATOM_EXT,
    tag::REFERENCE_EXT,
    tag::PORT_EXT,
    tag::PID_EXT,
    tag::SMALL_TUPLE_EXT,
    tag::LARGE_TUPLE_EXT,
    tag::NIL_EXT,
    tag::STRING_EXT,
    tag::LIST_EXT,
    tag::BINARY_EXT,
    tag::SMALL_BIG_EXT,
    tag::LARGE_BIG_EXT,
    tag::NEW_FUN_EXT,
    tag::EXPORT_EXT,
    tag::NEW_REFERENCE_EXT,
    tag::SMALL_ATOM_EXT,
    tag::MAP_EXT,
    tag::ATOM_UTF8_EXT,
    tag::SMALL_ATOM_UTF8_EXT,
    tag::V4_PORT_EXT,
    tag::LOCAL_EXT,
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = v.len();
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 if len > 0 => v.truncate(rng.below(len)),
            3 => {
                // Splice: our head, another seed's tail (often a whole sub-term).
                let other = &corpus[rng.below(corpus.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            4 if len >= 2 => {
                // Length fields: write a big-endian count that lies (huge, off by one, zero).
                let width = [1usize, 2, 4][rng.below(3)].min(len);
                let i = rng.below(len - width + 1);
                let old = v[i..i + width].iter().fold(0u64, |a, &b| a << 8 | b as u64);
                let new = match rng.below(6) {
                    0 => u64::MAX,
                    1 => old.wrapping_add(1),
                    2 => old.wrapping_sub(1),
                    3 => 0,
                    4 => 1u64 << (8 * width as u32 - 1),
                    _ => old.wrapping_mul(2),
                };
                for k in 0..width {
                    v[i + k] = (new >> (8 * (width - 1 - k))) as u8;
                }
            }
            5 => {
                let i = rng.below(len + 1);
                let b = INTERESTING[rng.below(INTERESTING.len())];
                v.insert(i, b);
            }
            6 if len > 1 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                v.drain(i..i + n);
            }
            7 if len > 1 && len < 1 << 16 => {
                // Repeat a chunk, which nests whatever header it holds.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(32));
                let chunk = v[i..i + n].to_vec();
                for _ in 0..1 + rng.below(8) {
                    v.splice(i..i, chunk.iter().copied());
                }
            }
            _ if len > 0 => {
                let i = rng.below(len);
                v[i] = rng.next() as u8;
            }
            _ => v.push(131),
        }
    }
    v
}

/// What a decode did, coarsely: the shape of the accepted term or the kind of error. A mutant
/// with a shape not seen before joins the corpus; this stands in for coverage feedback.
fn shape(result: &Result<Term, DecodeError>) -> u64 {
    fn walk(t: &Term, depth: u64, h: &mut DefaultHasher, budget: &mut usize) {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        std::mem::discriminant(t).hash(h);
        depth.hash(h);
        let kids: &[Term] = match t {
            Term::Tuple(v) | Term::List(v) => v,
            Term::ImproperList(v, tail) => {
                walk(tail, depth + 1, h, budget);
                v
            }
            Term::Map(pairs) => {
                for (k, v) in pairs.iter().take(4) {
                    walk(k, depth + 1, h, budget);
                    walk(v, depth + 1, h, budget);
                }
                &[]
            }
            Term::Fun(f) => &f.free_vars,
            _ => &[],
        };
        kids.len().min(3).hash(h);
        for k in kids.iter().take(4) {
            walk(k, depth + 1, h, budget);
        }
    }
    let mut h = DefaultHasher::new();
    match result {
        Ok(t) => walk(t, 0, &mut h, &mut 48),
        Err(e) => {
            std::mem::discriminant(e).hash(&mut h);
            if let DecodeError::Invalid { what, .. } = e {
                what.hash(&mut h);
            }
        }
    }
    h.finish()
}

/// Decodes `input`; if accepted, the term must survive encode → decode unchanged.
fn check(input: &[u8]) -> Result<Term, DecodeError> {
    let t = decode(input)?;
    assert_eq!(compare(&t, &t), std::cmp::Ordering::Equal, "compare(t, t) for {t:?}");
    let shared = decode_shared(&Bytes::copy_from_slice(input)).expect("decode_shared disagrees with decode");
    assert_eq!(shared, t, "decode_shared disagrees with decode");
    for opts in [EncodeOptions::default(), EncodeOptions { minor_version: 0, ..EncodeOptions::otp25() }] {
        let again = encode_with(&t, &opts);
        match decode(&again) {
            Ok(u) => assert_eq!(u, t, "re-encoding changed the term; re-encoded {}", hex(&again)),
            Err(e) => panic!("re-encoding {t:?} gave undecodable {}: {e}", hex(&again)),
        }
    }
    Ok(t)
}

#[test]
fn fuzz_decoder() {
    let seconds: f64 =
        std::env::var("BEAMLINK_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let seed: u64 =
        std::env::var("BEAMLINK_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        }) | 1;
    let mut rng = Rng(seed);
    let mut corpus = seeds();
    let mut seen = HashSet::new();
    for s in &corpus {
        let r = check(s);
        assert!(r.is_ok(), "seed does not decode: {}: {r:?}", hex(s));
        seen.insert(shape(&r));
    }
    let initial = corpus.len();

    // A panicking input is reported by the assertion below; the default hook would only add
    // a second copy of the message per attempt.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let (mut execs, mut accepted) = (0u64, 0u64);
    let mut failure = None;
    while failure.is_none() && (!execs.is_multiple_of(256) || Instant::now() < deadline) {
        // Half the time start from a seed, so the grown corpus cannot crowd them out.
        let base = if rng.chance(2) { &corpus[rng.below(initial)] } else { &corpus[rng.below(corpus.len())] };
        let input = mutate(&mut rng, base, &corpus);
        execs += 1;
        match catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(r) => {
                accepted += r.is_ok() as u64;
                if input.len() < 1 << 16 && seen.insert(shape(&r)) {
                    if corpus.len() >= 50_000 {
                        let i = initial + rng.below(corpus.len() - initial);
                        corpus[i] = input;
                    } else {
                        corpus.push(input);
                    }
                }
            }
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failure = Some((input, msg));
            }
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "fuzz_decoder: seed {seed}, {execs} executions in {seconds} s, {accepted} accepted, corpus {} (from {initial})",
        corpus.len()
    );
    if let Some((input, msg)) = failure {
        panic!("decoder failed (seed {seed}) on input {}:\n{msg}", hex(&input));
    }
}
