//! rpc throughput: N tokio tasks, each making sequential calls over one connection, against
//! N Erlang processes doing the same.

use std::time::Instant;

use beamlink_test_support::Otp;

use crate::cfg::Cfg;
use crate::env::{CALL_TIMEOUT, Env, eval, note, nums};
use crate::rpc;
use crate::table::{Row, Stat, Table};

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    for inflight in [1usize, 16, 256, 4096] {
        note(&format!("rpc throughput, {inflight} in flight"));
        let per = (cfg.tput_total / inflight).max(2);
        let calls = (per * inflight) as f64;
        let (mut b, mut r) = (vec![], vec![]);
        // Untimed warm-up round for both sides.
        for rep in 0..=cfg.reps {
            let ns = env.rt.block_on(async {
                let t0 = Instant::now();
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..inflight {
                    let node = env.bl.clone();
                    let target = target.clone();
                    set.spawn(async move {
                        for _ in 0..per {
                            rpc::call(&node, &target, "erlang", "node", vec![], CALL_TIMEOUT).await.unwrap();
                        }
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.unwrap();
                }
                t0.elapsed().as_nanos() as f64
            });
            let rns = nums(&eval(
                c,
                &format!("beamlink_bench:isolated(tput, ['{target}', erlang, node, [], {inflight}, {per}])."),
            ))[0];
            if rep > 0 {
                b.push(calls / (ns / 1e9));
                r.push(calls / (rns / 1e9));
            }
        }
        let mut row = Row::new(
            "rpc",
            &format!("throughput, {inflight} in flight, otp28"),
            "calls/s",
            true,
            Stat::of(&b),
            "erpc:call otp28→otp28, same # of callers",
            Stat::of(&r),
        );
        if inflight > 1 {
            row = row
                .target(1.0 / 1.3)
                .headline(&format!("rpc throughput, {inflight} calls in flight, vs BEAM↔BEAM"));
        }
        table.push(row);
    }
}
