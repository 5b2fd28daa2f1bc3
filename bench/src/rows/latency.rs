//! Sequential rpc latency: beamlink's `Node::call` against BEAM↔BEAM `erpc:call` and against
//! the C `ei_rpc` client, on OTP 25 and OTP 28. Repetitions alternate between the three so
//! drift on a shared machine hits all alike.

use std::time::Instant;

use beamlink_test_support::Otp;

use crate::cfg::Cfg;
use crate::ei;
use crate::env::{CALL_TIMEOUT, Env, eval, note, nums, percentile};
use crate::rpc;
use crate::table::{Row, Stat, Table};

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    for otp in Otp::ALL {
        note(&format!("rpc latency, {}", otp.label()));
        let (t, c) = env.beam(otp);
        let target = t.name.clone();
        let (mut b50, mut b99, mut r50, mut r99, mut e50) = (vec![], vec![], vec![], vec![], vec![]);
        let mut ei_error = None;
        for _ in 0..cfg.reps {
            let samples: Vec<f64> = env.rt.block_on(async {
                for _ in 0..cfg.lat_warm {
                    rpc::call(&env.bl, &target, "erlang", "node", vec![], CALL_TIMEOUT).await.unwrap();
                }
                let mut v = Vec::with_capacity(cfg.lat_n);
                for _ in 0..cfg.lat_n {
                    let t0 = Instant::now();
                    rpc::call(&env.bl, &target, "erlang", "node", vec![], CALL_TIMEOUT).await.unwrap();
                    v.push(t0.elapsed().as_nanos() as f64);
                }
                v
            });
            b50.push(percentile(&samples, 50.0) / 1e3);
            b99.push(percentile(&samples, 99.0) / 1e3);
            let r = nums(&eval(
                c,
                &format!(
                    "beamlink_bench:isolated(lat, ['{target}', erlang, node, [], {}, {}]).",
                    cfg.lat_warm, cfg.lat_n
                ),
            ));
            r50.push(percentile(&r, 50.0) / 1e3);
            r99.push(percentile(&r, 99.0) / 1e3);
            if ei_error.is_none() {
                match ei::run(&target, &env.cookie, 1, cfg.lat_warm, cfg.lat_n) {
                    Ok(run) => e50.push(percentile(&run.call_ns, 50.0) / 1e3),
                    Err(e) => ei_error = Some(e),
                }
            }
        }
        let label = otp.label();
        let refname = format!("erpc:call {label}→{label}");
        table.push(
            Row::new(
                "rpc",
                &format!("seq erlang:node/0 p50, {label}"),
                "µs",
                false,
                Stat::of(&b50),
                &refname,
                Stat::of(&r50),
            )
            .target(0.85)
            .headline(&format!("sequential rpc p50 vs BEAM↔BEAM `erpc`, {label}")),
        );
        table.push(
            Row::new(
                "rpc",
                &format!("seq erlang:node/0 p99, {label}"),
                "µs",
                false,
                Stat::of(&b99),
                &refname,
                Stat::of(&r99),
            )
            .target(1.0)
            .headline(&format!("sequential rpc p99 vs BEAM↔BEAM `erpc`, {label}")),
        );
        let ei_name = format!("C ei_rpc (erl_interface, rex) → {label}");
        let row = match ei_error {
            Some(why) => Row::skipped("rpc", &format!("seq erlang:node/0 p50, {label}"), &ei_name, &why),
            None => Row::new(
                "rpc",
                &format!("seq erlang:node/0 p50, {label}"),
                "µs",
                false,
                Stat::of(&b50),
                &ei_name,
                Stat::of(&e50),
            )
            .note("reference: bench/ei/ei_rpc_bench.c, one connection, rpc:call through rex"),
        };
        table
            .push(row.target(1.0).headline(&format!("sequential rpc p50 vs the C `ei_rpc` client, {label}")));
    }
}
