//! Large payloads: a binary sent as the argument of `erlang:iolist_to_binary/1` and returned.

use std::time::Instant;

use beamlink::Term;
use beamlink_test_support::Otp;
use bytes::Bytes;

use crate::cfg::Cfg;
use crate::env::{CALL_TIMEOUT, Env, eval, note, nums, percentile};
use crate::rpc;
use crate::table::{Row, Stat, Table};

/// How the echo calls are made: through `Node::call`, or through the bench's own minimal
/// erpc (one encode, no I/O service), which separates `Node::call`'s own costs from the
/// engine's transport.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    NodeCall,
    MinimalErpc,
}

/// MB/s per repetition for beamlink (through `via`) and for BEAM↔BEAM erpc.
fn echo_rates(env: &Env, cfg: &Cfg, via: Via, size: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    let payload = Bytes::from(b"0123456789abcdef".repeat(size / 16));
    let (mut b, mut r) = (vec![], vec![]);
    for _ in 0..cfg.reps {
        let (bl, target, payload) = (env.bl.clone(), target.clone(), payload.clone());
        let s: Vec<f64> = env.task(async move {
            let call = || {
                let args = vec![Term::Binary(payload.clone())];
                let (bl, target) = (&bl, target.as_str());
                async move {
                    match via {
                        Via::NodeCall => {
                            rpc::call(bl, target, "erlang", "iolist_to_binary", args, CALL_TIMEOUT).await
                        }
                        Via::MinimalErpc => {
                            rpc::erpc_call(bl, target, "erlang", "iolist_to_binary", args, CALL_TIMEOUT).await
                        }
                    }
                }
            };
            call().await.unwrap();
            let mut v = vec![];
            for _ in 0..n {
                let t0 = Instant::now();
                let back = call().await.unwrap();
                v.push(t0.elapsed().as_nanos() as f64);
                assert!(matches!(&back, Term::Binary(x) if x.len() == size));
            }
            v
        });
        b.push(size as f64 / (percentile(&s, 50.0) / 1e9) / 1e6);
        let rs = nums(&eval(c, &format!("beamlink_bench:isolated(echo, ['{}', {size}, 1, {n}]).", t.name)));
        r.push(size as f64 / (percentile(&rs, 50.0) / 1e9) / 1e6);
    }
    (b, r)
}

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    let mut runs = vec![
        (1usize << 20, "1 MiB", cfg.echo_n, Via::NodeCall),
        (1 << 20, "1 MiB", cfg.echo_n, Via::MinimalErpc),
    ];
    if !cfg.quick {
        runs.push((64 << 20, "64 MiB", 3, Via::NodeCall));
    }
    for (size, label, n, via) in runs {
        note(&format!("echo {label}"));
        let (b, r) = echo_rates(env, cfg, via, size, n);
        let row = match via {
            Via::NodeCall => Row::new(
                "echo",
                &format!("{label} binary echoed via rpc, otp28"),
                "MB/s",
                true,
                Stat::of(&b),
                "erpc:call otp28→otp28",
                Stat::of(&r),
            )
            .note("MB/s = payload bytes / round-trip time (median call)"),
            Via::MinimalErpc => Row::new(
                "echo",
                &format!("{label} echo, bench's minimal erpc (baseline)"),
                "MB/s",
                true,
                Stat::of(&b),
                "erpc:call otp28→otp28",
                Stat::of(&r),
            )
            .note("beamlink engine without `Node::call` (bench/src/rpc.rs `erpc_call`)"),
        };
        table.push(if size == 64 << 20 {
            row.target(1.0 / 1.5).headline("64 MiB binary echo vs BEAM↔BEAM")
        } else {
            row
        });
    }
    if cfg.quick {
        table.push(
            Row::skipped(
                "echo",
                "64 MiB binary echoed via rpc, otp28",
                "erpc:call otp28→otp28",
                "skipped in QUICK mode; run `make bench`",
            )
            .target(1.0 / 1.5)
            .headline("64 MiB binary echo vs BEAM↔BEAM"),
        );
    }
}
