//! Whole OS processes: start, connect, one call, exit — the Rust API in a new process and the
//! `beamlink` CLI, against `erl_call -a`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use beamlink_test_support::{Otp, repo_root, run_erl};

use crate::cfg::Cfg;
use crate::env::{Env, note, percentile};
use crate::table::{Row, Stat, Table};

fn erl_call_path() -> PathBuf {
    let dir = run_erl(Otp::V25, &[], "io:format(\"~s\",[code:lib_dir(erl_interface)])").expect("erl");
    Path::new(&dir).join("bin/erl_call")
}

fn time_cmd(cmd: &mut Command) -> f64 {
    let t0 = Instant::now();
    let out = cmd.stdin(Stdio::null()).output().expect("running command");
    let dt = t0.elapsed().as_nanos() as f64;
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dt
}

/// Medians (µs) per repetition of two commands run alternately `whole_n` times; the first
/// repetition warms up and is dropped.
pub fn time_against(
    cfg: &Cfg,
    ours: impl Fn() -> Command,
    theirs: impl Fn() -> Command,
) -> (Vec<f64>, Vec<f64>) {
    let (mut b, mut r) = (vec![], vec![]);
    for rep in 0..=cfg.reps {
        let (mut bs, mut rs) = (vec![], vec![]);
        for _ in 0..cfg.whole_n {
            bs.push(time_cmd(&mut ours()));
            rs.push(time_cmd(&mut theirs()));
        }
        if rep > 0 {
            b.push(percentile(&bs, 50.0) / 1e3);
            r.push(percentile(&rs, 50.0) / 1e3);
        }
    }
    (b, r)
}

/// The release CLI next to this bench binary (`make bench` builds both).
fn cli_path() -> PathBuf {
    let cli = repo_root().join("target/release/beamlink");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("release/beamlink"))
        .filter(|p| p.exists())
        .unwrap_or(cli)
}

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("whole-process connect + call vs erl_call");
    let target = env.t28.name.clone();
    let erl_call = erl_call_path();
    let erl_call_cmd = || {
        let mut c = Command::new(&erl_call);
        c.args(["-sname", &target, "-c", &env.cookie, "-a", "erlang node []"]);
        c
    };
    let (b, r) = time_against(
        cfg,
        || {
            let mut c = Command::new(&env.self_exe);
            c.args(["oneshot", &target, &env.cookie]);
            c
        },
        erl_call_cmd,
    );
    table.push(
        Row::new(
            "connect",
            "fresh process: connect + erlang:node/0, p50, otp28",
            "µs",
            false,
            Stat::of(&b),
            "erl_call -a 'erlang node []'",
            Stat::of(&r),
        )
        .note("beamlink: `beamlink-bench oneshot` (Rust API in a new process)"),
    );

    let cli = cli_path();
    let (b, r) = time_against(
        cfg,
        || {
            let mut c = Command::new(&cli);
            c.args(["rpc", "--cookie", &env.cookie, &target, "erlang", "node", "[]"]);
            c
        },
        erl_call_cmd,
    );
    table.push(
        Row::new(
            "cli",
            "`beamlink rpc NODE erlang node []`, p50",
            "µs",
            false,
            Stat::of(&b),
            "erl_call -a 'erlang node []'",
            Stat::of(&r),
        )
        .target(1.0)
        .headline("`beamlink rpc` whole process vs `erl_call -a`"),
    );
}
