//! The Elixir package's rows: `bench/elixir/bench.exs`, run by `mix` (a release build of the
//! NIF) in a VM that is not distributed, against this run's OTP 25 target, with this run's
//! distributed OTP 25 caller as the `:erpc.call` reference. The script prints one `ROW` line
//! per row (tab-separated: name, unit, higher-is-better, beamlink figures, reference name,
//! reference figures, target, headline label, note); this module turns them into rows, and
//! adds one of its own: the Elixir call p50 against the engine's `Node::call` from Rust to the
//! same node, which is what the NIF and the Elixir side add to a call.

use std::process::{Command, Stdio};
use std::time::Instant;

use beamlink_test_support::repo_root;

use crate::cfg::Cfg;
use crate::env::{CALL_TIMEOUT, Env, note, percentile};
use crate::rpc;
use crate::table::{Row, Stat, Table};

/// The row whose figures the engine comparison reuses.
const CALL_ROW: &str = "Elixir call p50 (VM not distributed), otp25";

const GROUP: &str = "elixir";

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("elixir: bench/elixir/bench.exs (mix, release NIF)");
    let out = Command::new("mix")
        .args(["run", "../bench/elixir/bench.exs"])
        .args([&env.t25.name, &env.c25.name, &env.cookie])
        .args([cfg.reps.to_string(), if cfg.quick { "1" } else { "0" }.to_string()])
        .current_dir(repo_root().join("elixir"))
        .env("MIX_ENV", "prod")
        .stderr(Stdio::inherit())
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            let why = format!("bench.exs failed ({}): {}", o.status, String::from_utf8_lossy(&o.stdout));
            return table.push(Row::skipped(GROUP, "Elixir rows", "–", why.trim()));
        }
        Err(e) => {
            return table.push(Row::skipped(GROUP, "Elixir rows", "–", &format!("cannot run mix: {e}")));
        }
    };
    let mut elixir_call = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((row, figures)) = line.strip_prefix("ROW\t").and_then(parse) {
            if line.split('\t').nth(1) == Some(CALL_ROW) {
                elixir_call = Some(figures);
            }
            table.push(row);
        }
    }
    if let Some(elixir) = elixir_call {
        table.push(engine_row(env, cfg, &elixir));
    }
}

/// The engine's own call p50 from Rust to the same target, with the same warm-up and count.
fn engine_row(env: &Env, cfg: &Cfg, elixir: &[f64]) -> Row {
    note("elixir: the engine's Node::call p50 from Rust, for the NIF's own cost");
    let target = env.t25.name.clone();
    let p50s: Vec<f64> = (0..cfg.reps)
        .map(|_| {
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
            percentile(&samples, 50.0) / 1e3
        })
        .collect();
    Row::new(
        GROUP,
        "Elixir call p50 vs the engine's own call, otp25",
        "µs",
        false,
        Stat::of(elixir),
        "beamlink Node::call from Rust",
        Stat::of(&p50s),
    )
    .note("the ratio is what the NIF and the Elixir side add")
}

fn parse(line: &str) -> Option<(Row, Vec<f64>)> {
    let f: Vec<&str> = line.split('\t').collect();
    let [name, unit, higher, bl, reference, rf, target, headline, note] = f.as_slice() else { return None };
    let nums = |s: &str| s.split(',').filter_map(|x| x.parse::<f64>().ok()).collect::<Vec<f64>>();
    let (bl, rf) = (nums(bl), nums(rf));
    if bl.is_empty() || rf.is_empty() {
        return None;
    }
    let (b, r) = (Stat::of(&bl), Stat::of(&rf));
    if r.med == 0.0 {
        // A count that is zero on both sides (scheduler events): no ratio, the figures go in
        // the note.
        let n = format!("beamlink {} {unit}, reference {} {unit}; {note}", b.med, r.med);
        return Some((Row::skipped(GROUP, name, reference, &n), bl));
    }
    let mut row = Row::new(GROUP, name, unit, *higher == "1", b, reference, r);
    if let Ok(t) = target.parse::<f64>() {
        row = row.target(t);
    }
    if *headline != "-" {
        row = row.headline(headline);
    }
    if !note.is_empty() {
        row = row.note(note);
    }
    Some((row, bl))
}
