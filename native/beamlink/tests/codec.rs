//! The decoder on hand-built bytes: tags BEAM no longer writes but peers may still send, every
//! error the decoder can report (with its offset), resource bounds against hostile input, and
//! the encoder's tag choices where they must match BEAM byte for byte.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use beamlink::term::{
    Atom, DecodeError, Decoder, EncodeOptions, ExportFun, Fun, Limits, Pid, Port, Reference, Term, decode,
    decode_shared, encode, encode_with, tag,
};
use bytes::Bytes;
use common::hex;

/// Counts the bytes this thread asks the allocator for, so a test can show that hostile length
/// fields are rejected before anything is reserved for them. Per thread, because the test
/// harness runs tests in parallel.
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size()));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + new_size));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATED.with(Cell::get);
    let r = f();
    (r, ALLOCATED.with(Cell::get) - before)
}

fn node() -> Atom {
    Atom::new("a@b")
}

/// `ATOM_EXT "a@b"`, the node name as pre-OTP-26 nodes wrote it.
const NODE: [u8; 6] = [100, 0, 3, b'a', b'@', b'b'];

fn v(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ---- tags BEAM no longer writes --------------------------------------------------------------

#[test]
fn small_atom_ext() {
    assert_eq!(decode(&[131, 115, 2, b'o', b'k']).unwrap(), Term::atom("ok"));
    assert_eq!(decode(&[131, 115, 0]).unwrap(), Term::atom(""));
}

#[test]
fn latin1_atoms_become_unicode() {
    // 'né' and 'ÿ' in Latin-1: each byte is its own code point, not UTF-8.
    assert_eq!(decode(&[131, 100, 0, 2, b'n', 0xe9]).unwrap(), Term::atom("né"));
    assert_eq!(decode(&[131, 115, 1, 0xff]).unwrap(), Term::atom("ÿ"));
    // Re-encoding writes UTF-8 by default, Latin-1 when asked for OTP 25's form.
    assert_eq!(encode(&Term::atom("né")), [131, 119, 3, b'n', 0xc3, 0xa9]);
    assert_eq!(encode_with(&Term::atom("né"), &EncodeOptions::otp25()), [131, 100, 0, 2, b'n', 0xe9]);
}

#[test]
fn latin1_atom_over_255_characters_is_rejected() {
    // Regression: the UTF-8 path had this check, the Latin-1 path did not.
    let mut b = vec![131, 100, 1, 0];
    b.extend(std::iter::repeat_n(0xe9, 256));
    assert_eq!(decode(&b), Err(DecodeError::Invalid { offset: 1, what: "atom (over 255 characters)" }));
    b[2..4].copy_from_slice(&[0, 255]);
    b.truncate(4 + 255);
    assert_eq!(decode(&b).unwrap().as_atom().unwrap().chars().count(), 255);
}

#[test]
fn known_atoms_are_still_checked() {
    // An atom made locally is interned whatever its length; decoding its name still refuses
    // more than 255 characters, and Latin-1 bytes that spell a known UTF-8 name decode as
    // Latin-1.
    let long = "x".repeat(300);
    let _known = beamlink::term::Atom::new(&long);
    let mut b = vec![131, 118, 1, 44];
    b.extend_from_slice(long.as_bytes());
    assert_eq!(decode(&b), Err(DecodeError::Invalid { offset: 1, what: "atom (over 255 characters)" }));
    let _e = Term::atom("é");
    assert_eq!(decode(&[131, 115, 2, 0xc3, 0xa9]).unwrap(), Term::atom("Ã©"));
    assert_eq!(decode(&[131, 119, 2, 0xc3, 0xa9]).unwrap(), Term::atom("é"));
}

#[test]
fn pid_ext() {
    let b = v(&[&[131, 103], &NODE, &[0, 0, 0, 7], &[0, 0, 0, 2], &[3]]);
    assert_eq!(decode(&b).unwrap(), Term::Pid(Pid { node: node(), id: 7, serial: 2, creation: 3 }));
}

#[test]
fn port_ext_and_new_port_ext() {
    let b = v(&[&[131, 102], &NODE, &[0, 0, 0, 9], &[2]]);
    assert_eq!(decode(&b).unwrap(), Term::Port(Port { node: node(), id: 9, creation: 2 }));
    let b = v(&[&[131, tag::NEW_PORT_EXT], &NODE, &[0, 0, 0, 9], &[0, 0, 1, 0]]);
    assert_eq!(decode(&b).unwrap(), Term::Port(Port { node: node(), id: 9, creation: 256 }));
    let b = v(&[&[131, tag::V4_PORT_EXT], &NODE, &[1, 0, 0, 0, 0, 0, 0, 9], &[0, 0, 0, 1]]);
    assert_eq!(decode(&b).unwrap(), Term::Port(Port { node: node(), id: (1 << 56) | 9, creation: 1 }));
}

#[test]
fn reference_ext_and_new_reference_ext() {
    let b = v(&[&[131, 101], &NODE, &[0, 0, 0, 42], &[1]]);
    assert_eq!(decode(&b).unwrap(), Term::Reference(Reference { node: node(), creation: 1, ids: vec![42] }));
    let b = v(&[&[131, 114, 0, 3], &NODE, &[2], &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]]);
    assert_eq!(
        decode(&b).unwrap(),
        Term::Reference(Reference { node: node(), creation: 2, ids: vec![1, 2, 3] })
    );
    for bad_len in [0u8, 6] {
        let b = v(&[&[131, 114, 0, bad_len], &NODE, &[2], &[0; 24]]);
        assert_eq!(decode(&b), Err(DecodeError::Invalid { offset: 1, what: "reference length" }));
    }
}

fn float_ext(text: &str) -> Vec<u8> {
    let mut b = vec![131, tag::FLOAT_EXT];
    let mut field = [0u8; 31];
    field[..text.len()].copy_from_slice(text.as_bytes());
    b.extend_from_slice(&field);
    b
}

#[test]
fn float_ext_text_floats() {
    assert_eq!(decode(&float_ext("1.50000000000000000000e+00")).unwrap(), Term::Float(1.5));
    assert_eq!(decode(&float_ext("-2.5e-03")).unwrap(), Term::Float(-0.0025));
    // minor_version 0 writes it, and it reads back exactly.
    let opts = EncodeOptions { minor_version: 0, ..EncodeOptions::default() };
    for f in [0.1, -1e300, 5e-324, std::f64::consts::PI] {
        let b = encode_with(&Term::Float(f), &opts);
        assert_eq!(b[1], tag::FLOAT_EXT);
        assert_eq!(decode(&b).unwrap(), Term::Float(f), "{f}");
    }
}

#[test]
fn non_canonical_bignums_are_ints() {
    assert_eq!(decode(&[131, 110, 4, 0, 5, 0, 0, 0]).unwrap(), Term::Int(5));
    assert!(matches!(decode(&[131, 110, 4, 0, 5, 0, 0, 0]).unwrap(), Term::Int(5)));
    assert!(matches!(decode(&[131, 110, 1, 1, 5]).unwrap(), Term::Int(-5)));
    assert!(matches!(decode(&[131, 111, 0, 0, 0, 2, 0, 5, 0]).unwrap(), Term::Int(5)));
    // Negative zero is zero; i64::MIN still fits.
    assert!(matches!(decode(&[131, 110, 0, 1]).unwrap(), Term::Int(0)));
    assert!(matches!(decode(&[131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128]).unwrap(), Term::Int(i64::MIN)));
    // Regression: padded with zeros past eight bytes it was a `Term::BigInt`, breaking the
    // rule that every integer fitting an i64 is a `Term::Int`.
    assert!(matches!(decode(&[131, 110, 10, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap(), Term::Int(5)));
    assert_eq!(decode(&[131, 110, 1, 2, 5]), Err(DecodeError::Invalid { offset: 3, what: "bignum sign" }));
}

#[test]
fn list_with_string_tail_is_one_proper_list() {
    let b = [131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 2, 3];
    let t = decode(&b).unwrap();
    assert_eq!(t, Term::list([Term::from(1), Term::from(2), Term::from(3)]));
    assert!(matches!(&t, Term::List(items) if items.len() == 3));
    // BEAM writes it back as one STRING_EXT.
    assert_eq!(encode(&t), [131, 107, 0, 3, 1, 2, 3]);
    // An empty LIST_EXT is just its tail.
    assert_eq!(decode(&[131, 108, 0, 0, 0, 0, 97, 7]).unwrap(), Term::Int(7));
}

#[test]
fn atom_cache_refs() {
    let cache = [None, Some(Atom::new("hello"))];
    let mut d = Decoder::new(&[82, 1]).with_atom_cache(&cache);
    assert_eq!(d.term().unwrap(), Term::atom("hello"));
    // Inside a term, and as the node of a pid.
    let b = v(&[&[104, 2, 82, 1, 88, 82, 1], &[0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]]);
    let t = Decoder::new(&b).with_atom_cache(&cache).term().unwrap();
    assert_eq!(
        t,
        Term::tuple([
            Term::atom("hello"),
            Term::Pid(Pid { node: Atom::new("hello"), id: 1, serial: 0, creation: 0 })
        ])
    );
    for (bytes, index) in [([82u8, 0], 0u8), ([82, 2], 2), ([82, 255], 255)] {
        let mut d = Decoder::new(&bytes).with_atom_cache(&cache);
        assert_eq!(d.term(), Err(DecodeError::AtomCacheMiss { offset: 0, index }));
    }
    // Without a cache every reference misses.
    assert_eq!(decode(&[131, 104, 1, 82, 0]), Err(DecodeError::AtomCacheMiss { offset: 3, index: 0 }));
}

#[test]
fn local_ext_passes_through() {
    let b = [131, 121, 9, 8, 7, 131, 0];
    let t = decode(&b).unwrap();
    assert_eq!(t, Term::Local(Bytes::from_static(&[9, 8, 7, 131, 0])));
    assert_eq!(encode(&t), b);
}

#[test]
fn bit_binary_garbage_bits_are_cleared() {
    let t = decode(&[131, 77, 0, 0, 0, 2, 3, 0xab, 0xff]).unwrap();
    match &t {
        Term::BitBinary { bytes, bits } => {
            assert_eq!(*bits, 3);
            assert_eq!(&bytes[..], [0xab, 0xe0]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(t, decode(&[131, 77, 0, 0, 0, 2, 3, 0xab, 0xe0]).unwrap());
    assert_eq!(encode(&t), [131, 77, 0, 0, 0, 2, 3, 0xab, 0xe0]);
    // Eight bits in the last byte is a plain binary; zero bits only when empty.
    assert_eq!(decode(&[131, 77, 0, 0, 0, 1, 8, 5]).unwrap(), Term::binary(vec![5]));
    assert_eq!(decode(&[131, 77, 0, 0, 0, 0, 0]).unwrap(), Term::binary(vec![]));
    for bits in [0u8, 9] {
        assert_eq!(
            decode(&[131, 77, 0, 0, 0, 1, bits, 5]),
            Err(DecodeError::Invalid { offset: 1, what: "bitstring bit count" })
        );
    }
}

#[test]
fn funs_and_exports_round_trip() {
    let f = Term::Fun(Box::new(Fun {
        arity: 1,
        uniq: [3; 16],
        index: 4,
        module: Atom::new("m"),
        old_index: 4,
        old_uniq: 0x8000_0001,
        pid: Pid { node: node(), id: 1, serial: 0, creation: 1 },
        free_vars: vec![Term::atom("x"), Term::from(1)],
    }));
    let e = Term::Export(Box::new(ExportFun {
        module: Atom::new("lists"),
        function: Atom::new("map"),
        arity: 2,
    }));
    for t in [f, e] {
        assert_eq!(decode(&encode(&t)).unwrap(), t);
    }
}

// ---- errors ----------------------------------------------------------------------------------

fn nested_sample() -> Term {
    Term::tuple([
        Term::atom("ok"),
        Term::map([
            (Term::from(1), Term::list([Term::from(1000), Term::binary(vec![1, 2])])),
            (Term::atom("k"), Term::ImproperList(vec![Term::Float(1.5)], Box::new(Term::atom("t")))),
        ]),
        Term::from(u64::MAX),
        Term::Pid(Pid { node: node(), id: 1, serial: 2, creation: 3 }),
        Term::Reference(Reference { node: node(), creation: 1, ids: vec![1, 2, 3] }),
        Term::Export(Box::new(ExportFun { module: Atom::new("m"), function: Atom::new("f"), arity: 0 })),
        Term::BitBinary { bytes: Bytes::from_static(&[0xf0]), bits: 4 },
        Term::list((0..5).map(Term::from)),
    ])
}

#[test]
fn every_truncation_fails_cleanly() {
    for opts in [
        EncodeOptions::default(),
        EncodeOptions::otp25(),
        EncodeOptions { minor_version: 0, ..EncodeOptions::otp25() },
    ] {
        let full = encode_with(&nested_sample(), &opts);
        assert_eq!(decode(&full).unwrap(), nested_sample());
        for n in 0..full.len() {
            match decode(&full[..n]) {
                Err(DecodeError::UnexpectedEof { offset, needed }) => {
                    assert!(offset <= n && needed > 0, "prefix {n}: offset {offset} needed {needed}");
                }
                Err(DecodeError::Invalid { offset, .. }) => assert!(offset < n),
                other => panic!("prefix {n} of {}: {other:?}", hex(&full)),
            }
        }
    }
}

#[test]
fn bad_version() {
    assert_eq!(decode(&[130, 97, 1]), Err(DecodeError::BadVersion { offset: 0, found: 130 }));
    assert_eq!(decode(&[]), Err(DecodeError::UnexpectedEof { offset: 0, needed: 1 }));
    assert_eq!(decode(&[131]), Err(DecodeError::UnexpectedEof { offset: 1, needed: 1 }));
}

#[test]
fn unknown_tags() {
    assert_eq!(decode(&[131, 200]), Err(DecodeError::UnknownTag { offset: 1, tag: 200 }));
    assert_eq!(decode(&[131, 104, 2, 97, 1, 0]), Err(DecodeError::UnknownTag { offset: 5, tag: 0 }));
    // A compressed term may only appear right after the version byte.
    assert_eq!(
        decode(&[131, 104, 1, 80, 0, 0, 0, 1]),
        Err(DecodeError::Invalid { offset: 3, what: "nested compressed term" })
    );
    // Where an atom must be, only atom tags will do.
    assert_eq!(decode(&[131, 88, 97, 1]), Err(DecodeError::Invalid { offset: 2, what: "atom" }));
}

#[test]
fn non_finite_floats_are_rejected() {
    let nonfinite = DecodeError::Invalid { offset: 1, what: "float (NaN or infinity)" };
    for f in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut b = vec![131, 70];
        b.extend_from_slice(&f.to_bits().to_be_bytes());
        assert_eq!(decode(&b), Err(nonfinite.clone()), "{f}");
    }
    for text in ["nan", "inf", "-infinity", "1e400"] {
        assert_eq!(decode(&float_ext(text)), Err(nonfinite.clone()), "{text}");
    }
    assert_eq!(decode(&float_ext("x1")), Err(DecodeError::Invalid { offset: 1, what: "float text" }));
    let mut b = float_ext("1.0");
    b[3] = 0xff;
    assert_eq!(decode(&b), Err(DecodeError::Invalid { offset: 1, what: "float text" }));
}

#[test]
fn duplicate_map_keys_are_rejected() {
    let dup = DecodeError::Invalid { offset: 3, what: "map (duplicate keys)" };
    // Nested, so the offset is the map's and not the term's.
    assert_eq!(decode(&[131, 104, 1, 116, 0, 0, 0, 2, 97, 1, 97, 1, 97, 1, 97, 2]), Err(dup.clone()));
    // Past 16 pairs the check sorts instead of comparing all pairs.
    let mut b = vec![131, 104, 1, 116, 0, 0, 0, 40];
    for i in 0..40u8 {
        b.extend_from_slice(&[97, if i == 39 { 3 } else { i }, 106]);
    }
    assert_eq!(decode(&b), Err(dup));
    // Regression: OTP 27+ keeps 0.0 and -0.0 apart as map keys. This is OTP 28's
    // term_to_binary(#{0.0 => a, -0.0 => b}); it was rejected as having duplicate keys.
    let otp28 = [
        131, 116, 0, 0, 0, 2, 70, 128, 0, 0, 0, 0, 0, 0, 0, 119, 1, 98, 70, 0, 0, 0, 0, 0, 0, 0, 0, 119, 1,
        97,
    ];
    let m = decode(&otp28).unwrap();
    assert!(matches!(&m, Term::Map(pairs) if pairs.len() == 2));
    assert_eq!(encode(&m), otp28);
    // Nested inside a key, and past 16 keys (the sorting path), too.
    let zero = |negative: bool| Term::tuple([Term::Float(if negative { -0.0 } else { 0.0 })]);
    let mut pairs = vec![(zero(false), Term::nil()), (zero(true), Term::nil())];
    pairs.extend((0..20).map(|i| (Term::from(i), Term::nil())));
    let b = encode(&Term::Map(pairs.clone()));
    assert!(decode(&b).is_ok());
    pairs.push((zero(false), Term::nil()));
    assert!(matches!(decode(&encode(&Term::Map(pairs))), Err(DecodeError::Invalid { offset: 1, .. })));
    // 1 and 1.0 are different keys.
    let mut b = vec![131, 116, 0, 0, 0, 2, 97, 1, 106, 70];
    b.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
    b.push(106);
    assert!(decode(&b).is_ok());
}

fn assert_fast_and_small(input: &[u8], expect: DecodeError) {
    let start = Instant::now();
    let (r, bytes) = allocated_by(|| decode(input));
    assert_eq!(r, Err(expect), "{}", hex(input));
    assert!(start.elapsed() < Duration::from_millis(100), "took {:?}", start.elapsed());
    assert!(bytes < 4096, "allocated {bytes} bytes for {}", hex(input));
}

#[test]
fn huge_counts_fail_fast_without_allocating() {
    let eof = |offset, needed| DecodeError::UnexpectedEof { offset, needed };
    let max = u32::MAX as usize;
    assert_fast_and_small(&[131, 108, 255, 255, 255, 255, 106], eof(6, max - 1));
    assert_fast_and_small(&[131, 105, 255, 255, 255, 255, 97, 1], eof(6, max - 2));
    assert_fast_and_small(&[131, 116, 255, 255, 255, 255, 97, 1], eof(6, 2 * max - 2));
    assert_fast_and_small(&[131, 109, 255, 255, 255, 255, 0], eof(6, max - 1));
    assert_fast_and_small(&[131, 77, 255, 255, 255, 255, 3, 0], eof(7, max - 1));
    assert_fast_and_small(&[131, 111, 255, 255, 255, 255, 0, 1], eof(7, max - 1));
    assert_fast_and_small(&[131, 107, 255, 255, 1], eof(4, 65534));
    assert_fast_and_small(&[131, 118, 255, 255, b'a'], eof(4, 65534));
}

#[test]
fn nested_counts_share_one_preallocation_budget() {
    // Regression: each of these lists claims about as many elements as there are bytes left,
    // and each level reserved that many `Term`s, so k levels reserved k times the input.
    let levels = 1000;
    let filler = 100_000;
    let mut b = vec![131];
    for i in 0..levels {
        let claim = (filler + 5 * (levels - i - 1)) as u32;
        b.push(108);
        b.extend_from_slice(&claim.to_be_bytes());
    }
    b.extend(std::iter::repeat_n(106, filler));
    let len = b.len();
    let (r, bytes) = on_small_stack(move || allocated_by(|| decode(&b)));
    assert!(r.is_err());
    let per_input_byte = bytes / len;
    assert!(per_input_byte < 200, "{bytes} bytes allocated for {len} of input");
}

#[test]
fn compressed_size_must_be_true() {
    let t = Term::list((0..100).map(|_| Term::atom("again")));
    let packed = encode_with(&t, &EncodeOptions { compressed: Some(9), ..EncodeOptions::default() });
    assert_eq!(packed[1], tag::COMPRESSED);
    assert_eq!(decode(&packed).unwrap(), t);
    let real = u32::from_be_bytes(packed[2..6].try_into().unwrap());
    let with_size = |size: u32| {
        let mut b = packed.clone();
        b[2..6].copy_from_slice(&size.to_be_bytes());
        b
    };
    // More than zlib can make of that input: refused before inflating or allocating.
    let limit = (packed.len() as u64 - 6) * 1032 + 64;
    let start = Instant::now();
    let (r, bytes) = allocated_by(|| decode(&with_size(u32::MAX)));
    assert_eq!(
        r,
        Err(DecodeError::TooLarge { offset: 2, what: "decompressed term", size: u32::MAX as u64, limit })
    );
    assert!(bytes < 4096 + packed.len() && start.elapsed() < Duration::from_millis(100));
    // Over Limits::max_decompressed.
    let small = Limits { max_decompressed: 100, ..Limits::default() };
    let mut d = Decoder::new(&packed).with_limits(small);
    assert!(matches!(d.versioned_term(), Err(DecodeError::TooLarge { offset: 2, limit: 100, .. })));
    // Plausible but wrong, either way.
    for size in [real - 1, real + 1, 0] {
        assert!(
            matches!(decode(&with_size(size)), Err(DecodeError::Compression { offset: 2, .. })),
            "size {size}: {:?}",
            decode(&with_size(size))
        );
    }
    // Corrupt zlib data.
    let mut b = packed.clone();
    b[8] ^= 0x55;
    assert!(matches!(
        decode(&b),
        Err(DecodeError::Compression { offset: 2, .. }) | Err(DecodeError::Invalid { .. })
    ));
    // Bytes after the zlib stream are trailing bytes of the outer term.
    let mut b = packed.clone();
    b.push(0);
    assert_eq!(decode(&b), Err(DecodeError::TrailingBytes { offset: packed.len(), count: 1 }));
    // A valid zlib stream of a term followed by junk inside the stream: trailing, inner offset.
    let mut body = encode(&Term::from(1))[1..].to_vec();
    body.push(7);
    let mut z = zlib(&body);
    let mut b = vec![131, 80];
    b.extend_from_slice(&(body.len() as u32).to_be_bytes());
    b.append(&mut z);
    assert_eq!(decode(&b), Err(DecodeError::TrailingBytes { offset: 2, count: 1 }));
}

fn zlib(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// Runs `f` on a thread with a 256 KiB stack, far less than a tokio worker's 2 MiB: the
/// decoder must move deep nesting onto heap-allocated stack segments rather than overflow,
/// in unoptimised builds too.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let stack = 256 << 10;
    std::thread::Builder::new().stack_size(stack).spawn(f).unwrap().join().unwrap()
}

#[test]
fn deep_nesting_errors_instead_of_overflowing() {
    let depth = 100_000;
    let mut tuples = vec![131];
    tuples.extend(std::iter::repeat_n([104u8, 1], depth).flatten());
    tuples.extend_from_slice(&[97, 0]);
    let mut lists = vec![131];
    lists.extend(std::iter::repeat_n([108u8, 0, 0, 0, 1], depth).flatten());
    lists.push(106);
    let mut maps = vec![131];
    maps.extend(std::iter::repeat_n([116u8, 0, 0, 0, 1, 97, 1], depth).flatten());
    // Regression: an export's arity is a term, and it was decoded without counting depth.
    let mut exports = vec![131];
    exports.extend(std::iter::repeat_n([113u8, 115, 0, 115, 0], depth).flatten());
    // Regression: likewise a fun's old index, old uniq and pid.
    // Each header is 32 bytes and its size field claims everything after it.
    let total = 1 + 32 * depth;
    let mut funs = vec![131];
    for i in 0..depth {
        let size = (total - (1 + 32 * i + 1)) as u32;
        funs.push(112);
        funs.extend_from_slice(&size.to_be_bytes());
        funs.push(0);
        funs.extend_from_slice(&[0; 16]);
        funs.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 115, 0]);
    }
    for (name, input) in
        [("tuples", tuples), ("lists", lists), ("maps", maps), ("exports", exports), ("funs", funs)]
    {
        let r = on_small_stack(move || decode(&input));
        assert!(matches!(r, Err(DecodeError::TooDeep { limit: 1024, .. })), "{name}: {r:?}");
    }
    // The same, compressed: depth carries into the inflated term.
    let mut body = vec![];
    body.extend(std::iter::repeat_n([104u8, 1], depth).flatten());
    body.extend_from_slice(&[97, 0]);
    let mut packed = vec![131, 80];
    packed.extend_from_slice(&(body.len() as u32).to_be_bytes());
    packed.extend(zlib(&body));
    let r = on_small_stack(move || decode(&packed));
    assert!(matches!(r, Err(DecodeError::TooDeep { limit: 1024, .. })), "compressed: {r:?}");
}

#[test]
fn depth_limit_is_exact() {
    let nest = |n: usize| {
        let mut b = vec![131];
        b.extend(std::iter::repeat_n([104u8, 1], n).flatten());
        b.extend_from_slice(&[97, 0]);
        b
    };
    let limits = Limits { max_depth: 3, ..Limits::default() };
    assert!(Decoder::new(&nest(3)).with_limits(limits).versioned_term().is_ok());
    assert_eq!(
        Decoder::new(&nest(4)).with_limits(limits).versioned_term(),
        Err(DecodeError::TooDeep { offset: 9, limit: 3 })
    );
    let deepest = nest(1024);
    assert!(on_small_stack(move || decode(&deepest)).is_ok());
}

#[test]
fn trailing_bytes() {
    assert_eq!(decode(&[131, 97, 1, 0]), Err(DecodeError::TrailingBytes { offset: 3, count: 1 }));
    let shared = Bytes::from_static(&[131, 106, 106, 106]);
    assert_eq!(decode_shared(&shared), Err(DecodeError::TrailingBytes { offset: 2, count: 2 }));
    // The streaming decoder leaves them for the caller.
    let mut d = Decoder::new(&[97, 1, 106]);
    assert_eq!(d.term().unwrap(), Term::Int(1));
    assert_eq!(d.remaining(), [106]);
}

#[test]
fn fun_size_must_match() {
    let f = Term::Fun(Box::new(Fun {
        arity: 0,
        uniq: [0; 16],
        index: 0,
        module: Atom::new("m"),
        old_index: 0,
        old_uniq: 0,
        pid: Pid { node: node(), id: 1, serial: 0, creation: 1 },
        free_vars: vec![],
    }));
    let good = encode(&f);
    for delta in [-1i32, 1] {
        let mut b = good.clone();
        let size = u32::from_be_bytes(b[2..6].try_into().unwrap()) as i32 + delta;
        b[2..6].copy_from_slice(&(size as u32).to_be_bytes());
        assert_eq!(decode(&b), Err(DecodeError::Invalid { offset: 1, what: "fun size" }), "{delta}");
    }
}

// ---- encoding ----------------------------------------------------------------------------------

#[test]
fn integer_tags_match_beam() {
    // term_to_binary/1 on OTP 25.
    let cases: &[(i64, &[u8])] = &[
        (0, &[131, 97, 0]),
        (255, &[131, 97, 255]),
        (256, &[131, 98, 0, 0, 1, 0]),
        (-1, &[131, 98, 255, 255, 255, 255]),
        (i32::MAX as i64, &[131, 98, 127, 255, 255, 255]),
        (i32::MIN as i64, &[131, 98, 128, 0, 0, 0]),
        (i32::MAX as i64 + 1, &[131, 110, 4, 0, 0, 0, 0, 128]),
        (i32::MIN as i64 - 1, &[131, 110, 4, 1, 1, 0, 0, 128]),
        (i64::MAX, &[131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 127]),
        (i64::MIN, &[131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128]),
    ];
    for (i, bytes) in cases {
        assert_eq!(encode(&Term::Int(*i)), *bytes, "{i}");
        assert!(matches!(decode(bytes).unwrap(), Term::Int(j) if j == *i));
    }
    let big = Term::from(i64::MAX as u64 + 1);
    assert_eq!(encode(&big), [131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128]);
    assert_eq!(decode(&encode(&big)).unwrap(), big);
}

#[test]
fn deterministic_sorts_map_keys_like_beam() {
    let m = Term::map([
        (Term::atom("b"), Term::from(1)),
        (Term::from(1), Term::from(2)),
        (Term::atom("a"), Term::from(3)),
        (Term::tuple([Term::atom("x")]), Term::from(4)),
        (Term::list([Term::from(b's')]), Term::from(5)),
    ]);
    // term_to_binary(#{b=>1, 1=>2, a=>3, {x}=>4, "s"=>5}, [deterministic]) on OTP 25.
    let beam = [
        131, 116, 0, 0, 0, 5, 97, 1, 97, 2, 100, 0, 1, 97, 97, 3, 100, 0, 1, 98, 97, 1, 104, 1, 100, 0, 1,
        120, 97, 4, 107, 0, 1, 115, 97, 5,
    ];
    let opts = EncodeOptions { deterministic: true, ..EncodeOptions::otp25() };
    assert_eq!(encode_with(&m, &opts), beam);
    assert_ne!(encode_with(&m, &EncodeOptions::otp25()), beam, "insertion order is kept otherwise");
    assert_eq!(decode(&beam).unwrap(), m);
}

#[test]
fn compressed_output_decodes() {
    let t = Term::tuple([Term::binary(vec![b'x'; 10_000]), Term::list((0..1000).map(|i| Term::from(i % 7)))]);
    for level in 0..=9 {
        let b = encode_with(&t, &EncodeOptions { compressed: Some(level), ..EncodeOptions::default() });
        if level > 0 {
            assert_eq!(b[1], tag::COMPRESSED, "level {level}");
            assert!(b.len() < encode(&t).len() / 10);
        }
        assert_eq!(decode(&b).unwrap(), t, "level {level}");
    }
    // Incompressible: kept uncompressed, as BEAM does.
    let tiny =
        encode_with(&Term::from(1), &EncodeOptions { compressed: Some(9), ..EncodeOptions::default() });
    assert_eq!(tiny, [131, 97, 1]);
}

#[test]
fn decode_shared_shares_the_input_buffer() {
    let t = Term::tuple([
        Term::binary(vec![7; 100]),
        Term::BitBinary { bytes: Bytes::from_static(&[0xf0]), bits: 4 },
    ]);
    let input = Bytes::from(encode(&t));
    let range = input.as_ptr() as usize..input.as_ptr() as usize + input.len();
    let decoded = decode_shared(&input).unwrap();
    assert_eq!(decoded, t);
    let items = decoded.as_tuple().unwrap();
    let bin = items[0].as_binary().unwrap();
    assert!(range.contains(&(bin.as_ptr() as usize)) && range.contains(&(bin.as_ptr() as usize + 99)));
    let Term::BitBinary { bytes, .. } = &items[1] else { panic!() };
    assert!(range.contains(&(bytes.as_ptr() as usize)));
    // `decode` copies.
    let copied = decode(&input).unwrap();
    assert!(!range.contains(&(copied.as_tuple().unwrap()[0].as_binary().unwrap().as_ptr() as usize)));
}

#[test]
fn chained_list_tails_cost_linear_time() {
    // Regression: each LIST_EXT tail was decoded as a list of its own and then copied onto its
    // predecessor, so k chained tails in front of n elements cost k·n moves.
    let chain = 1000;
    let n = 400_000;
    let mut b = vec![131];
    for _ in 0..chain {
        b.extend_from_slice(&[108, 0, 0, 0, 1, 97, 0]);
    }
    b.extend_from_slice(&[108]);
    b.extend_from_slice(&(n as u32).to_be_bytes());
    b.extend(std::iter::repeat_n([97u8, 1], n).flatten());
    b.push(106);
    let start = Instant::now();
    let t = on_small_stack(move || decode(&b).map(|t| t.as_list().map(<[Term]>::len)));
    let took = start.elapsed();
    assert_eq!(t, Ok(Some(chain + n)));
    eprintln!("chained tails: {took:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}
