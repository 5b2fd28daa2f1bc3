//! The Elixir package's rows: `bench/elixir/bench.exs`, run by `mix` (a release build of the
//! NIF) in a VM that is not distributed, against this run's OTP 25 target, with this run's
//! distributed OTP 25 caller as the `:erpc.call` reference. The script prints one `ROW` line
//! per row (tab-separated: name, unit, higher-is-better, beamlink figures, reference name,
//! reference figures, target, headline label, note); this module only turns them into rows.

use std::process::{Command, Stdio};

use beamlink_test_support::repo_root;

use crate::cfg::Cfg;
use crate::env::{Env, note};
use crate::table::{Row, Stat, Table};

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
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some(row) = line.strip_prefix("ROW\t").and_then(parse) {
            table.push(row);
        }
    }
}

fn parse(line: &str) -> Option<Row> {
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
        return Some(Row::skipped(GROUP, name, reference, &n));
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
    Some(row)
}
