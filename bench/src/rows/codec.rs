//! The codec: `beamlink::term::{decode, encode}` on the corpus, against `binary_to_term/1` and
//! `term_to_binary/1` on the same bytes, and against the `eetf` crate.

use std::time::{Duration, Instant};

use beamlink_test_support::{Otp, unique_name};

use crate::cfg::Cfg;
use crate::corpus;
use crate::env::{Env, eval, note, nums};
use crate::table::{self, Row, Stat, Table};

/// ns per operation: doubling batches until `min_ms` have passed.
fn per_op(min_ms: u64, mut f: impl FnMut()) -> f64 {
    let min = Duration::from_millis(min_ms);
    let (mut batch, mut ops, mut spent) = (1u64, 0u64, Duration::ZERO);
    while spent < min {
        let t0 = Instant::now();
        for _ in 0..batch {
            f();
        }
        spent += t0.elapsed();
        ops += batch;
        batch *= 2;
    }
    spent.as_nanos() as f64 / ops as f64
}

/// One warm-up measurement, then `reps` kept ones.
fn reps_of(cfg: &Cfg, mut f: impl FnMut() -> f64) -> Vec<f64> {
    f();
    (0..cfg.reps).map(|_| f()).collect()
}

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    // A node of its own: nothing else has run in it, so no earlier row's garbage or
    // background work is in its timings.
    let codec_node = env.fresh_beam(Otp::V28, "bench_codec");
    let c = &codec_node;
    let dir = std::env::temp_dir().join(unique_name("beamlink_bench_corpus"));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (name, term)) in corpus::corpus().into_iter().enumerate() {
        note(&format!("codec: {name}"));
        let bytes = beamlink::term::encode(&term);
        let size = bytes.len() as f64;
        let path = dir.join(format!("{i}.etf"));
        std::fs::write(&path, &bytes).unwrap();
        let eetf_term = eetf::Term::decode(&bytes[..]).expect("eetf decodes the corpus");
        let bl_dec = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                drop(std::hint::black_box(beamlink::term::decode(std::hint::black_box(&bytes)).unwrap()))
            })
        });
        let ee_dec = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                drop(std::hint::black_box(eetf::Term::decode(std::hint::black_box(&bytes[..])).unwrap()))
            })
        });
        let bl_enc = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                drop(std::hint::black_box(beamlink::term::encode(std::hint::black_box(&term))))
            })
        });
        let ee_enc = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                let mut v = Vec::with_capacity(64);
                std::hint::black_box(&eetf_term).encode(&mut v).unwrap();
                drop(std::hint::black_box(v));
            })
        });
        let t = eval(
            c,
            &format!(
                "beamlink_bench:isolated(codec, [\"{}\", {}, {}]).",
                path.display(),
                cfg.codec_ms,
                cfg.reps
            ),
        );
        let Some([be_dec, be_enc, ..]) = t.as_tuple() else { panic!("codec reply {t}") };
        let (be_dec, be_enc) = (nums(be_dec), nums(be_enc));
        // Figures in MB/s of the (identical) encoded input; terms/s goes in the note.
        let mbs = |v: &[f64]| v.iter().map(|ns| size / ns * 1e3).collect::<Vec<f64>>();
        let tps = |v: &[f64]| Stat::of(&v.iter().map(|ns| 1e9 / ns).collect::<Vec<f64>>()).med;
        let n = |v: &[f64]| format!("{} terms/s", table::fmt(tps(v)));
        let structured = name != "1 MiB binary";
        let sz = format!("{} B", bytes.len());
        let row = |what: &str, ours: &[f64], reference: &str, theirs: &[f64]| {
            Row::new("codec", what, "MB/s", true, Stat::of(&mbs(ours)), reference, Stat::of(&mbs(theirs)))
                .note(&format!("{} vs {}", n(ours), n(theirs)))
        };
        let mut r = row(&format!("decode {name} ({sz})"), &bl_dec, "binary_to_term otp28", &be_dec);
        if structured {
            r = r.target(1.0 / 1.5).headline("decode vs `binary_to_term`, structured corpus items");
        }
        table.push(r);
        let mut r = row(&format!("decode {name}"), &bl_dec, "eetf 0.12 decode", &ee_dec);
        if structured {
            r = r.target(0.5).headline("decode vs `eetf`, structured corpus items");
        }
        table.push(r);
        table.push(
            row(&format!("encode {name}"), &bl_enc, "term_to_binary otp28", &be_enc)
                .headline("encode vs `term_to_binary`, every corpus item"),
        );
        table.push(
            row(&format!("encode {name}"), &bl_enc, "eetf 0.12 encode", &ee_enc)
                .target(1.0 / 1.5)
                .headline("encode vs `eetf`, every corpus item"),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
