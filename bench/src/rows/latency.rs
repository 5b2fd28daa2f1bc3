//! Sequential rpc latency: beamlink's `Node::call` against BEAM↔BEAM `erpc:call` and against
//! the C `ei_rpc` client, on OTP 25 and OTP 28. Repetitions alternate between the three so
//! drift on a shared machine hits all alike.

use std::time::Instant;

use beamlink::Term;
use beamlink_test_support::Otp;

use crate::cfg::Cfg;
use crate::ei;
use crate::env::{CALL_TIMEOUT, Env, eval, note, nums, percentile};
use crate::rpc;
use crate::table::{Row, Stat, Table};

#[derive(Clone, Copy)]
enum Via {
    /// `Node::call`: erpc semantics (SPAWN_REQUEST of `erpc:execute_call/4`).
    Erpc,
    /// `Node::rpc_call`: a `gen_server` call to `rex`, as `ei_rpc` makes.
    Rex,
}

/// One repetition of sequential calls of `erlang:node/0` from a task: nanoseconds per call.
fn sequential(env: &Env, cfg: &Cfg, target: &str, via: Via) -> Vec<f64> {
    let (bl, to, warm, n) = (env.bl.clone(), target.to_string(), cfg.lat_warm, cfg.lat_n);
    env.task(async move {
        let call = || async {
            match via {
                Via::Erpc => rpc::call(&bl, &to, "erlang", "node", vec![], CALL_TIMEOUT).await.map(drop),
                Via::Rex => bl
                    .rpc_call(&to, "erlang", "node", Term::nil(), CALL_TIMEOUT)
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string()),
            }
        };
        for _ in 0..warm {
            call().await.unwrap();
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let t0 = Instant::now();
            call().await.unwrap();
            v.push(t0.elapsed().as_nanos() as f64);
        }
        v
    })
}

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    for otp in Otp::ALL {
        note(&format!("rpc latency, {}", otp.label()));
        let (t, c) = env.beam(otp);
        let target = t.name.clone();
        let (mut b50, mut b99, mut r50, mut r99, mut e50) = (vec![], vec![], vec![], vec![], vec![]);
        let mut x50 = vec![];
        let mut ei_error = None;
        for _ in 0..cfg.reps {
            let samples = sequential(env, cfg, &target, Via::Erpc);
            x50.push(percentile(&sequential(env, cfg, &target, Via::Rex), 50.0) / 1e3);
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
        // Like for like: the same rex protocol on both sides (one reply message; erpc's spawn
        // costs the node a SPAWN_REPLY and a DOWN).
        let what = format!("seq erlang:node/0 p50 via rex (Node::rpc_call), {label}");
        let row = match &e50[..] {
            [] => Row::skipped("rpc", &what, &ei_name, "the ei_rpc client did not run"),
            e50 => Row::new("rpc", &what, "µs", false, Stat::of(&x50), &ei_name, Stat::of(e50))
                .note("both rpc:call through rex: one request, one reply"),
        };
        table.push(
            row.target(1.0)
                .headline(&format!("sequential rpc:call (rex) p50 vs the C `ei_rpc` client, {label}")),
        );
    }
}
