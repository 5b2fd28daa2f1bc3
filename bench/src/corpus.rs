//! The fixed term corpus of the codec rows. Built once in Rust; the BEAM side decodes the very
//! bytes beamlink encoded (handed over as files), so every decoder reads identical input.

use beamlink::Term;
use bytes::Bytes;
use num_bigint::BigInt;

pub fn corpus() -> Vec<(&'static str, Term)> {
    let mut v = Vec::new();
    // What an rpc request or reply looks like on the wire, minus pids.
    v.push((
        "small rpc-like tuple",
        Term::tuple([
            Term::atom("call"),
            Term::atom("erlang"),
            Term::atom("node"),
            Term::List(vec![Term::from(1), Term::Binary(Bytes::from_static(b"arg"))]),
            Term::atom("user"),
        ]),
    ));
    v.push(("1000 small ints", Term::List((0..1000i64).map(|i| Term::from(i * 37 % 5000)).collect())));
    v.push((
        "map of 100 binary keys",
        Term::Map(
            (0..100i64)
                .map(|i| (Term::Binary(format!("key_{i}").into_bytes().into()), Term::from(i)))
                .collect(),
        ),
    ));
    v.push((
        "1 MiB binary",
        Term::Binary(Bytes::from((0..1 << 20).map(|i| (i * 7) as u8).collect::<Vec<u8>>())),
    ));
    v.push((
        "1000 nested maps",
        Term::List(
            (0..1000i64)
                .map(|i| {
                    Term::Map(vec![
                        (Term::atom("id"), Term::from(i)),
                        (Term::atom("score"), Term::from(i as f64 * 1.25 + 0.1)),
                        (Term::atom("name"), Term::Binary(format!("name_{i}").into_bytes().into())),
                        (
                            Term::atom("pos"),
                            Term::tuple([Term::from(i), Term::from(i * 2), Term::from(-1.5)]),
                        ),
                        (
                            Term::atom("inner"),
                            Term::Map(vec![
                                (Term::atom("a"), Term::from(i as f64 / 3.0)),
                                (Term::atom("b"), Term::Binary(Bytes::from_static(b"payload"))),
                            ]),
                        ),
                    ])
                })
                .collect(),
        ),
    ));
    v.push((
        "10k atoms (50 distinct)",
        Term::List((0..10_000).map(|i| Term::atom(format!("atom_{}", i % 50))).collect()),
    ));
    let base = BigInt::from(1) << 100;
    v.push((
        "1000 bignums ~2^100",
        Term::List((0..1000i64).map(|i| Term::from(&base + i * 1_000_003)).collect()),
    ));
    v
}
