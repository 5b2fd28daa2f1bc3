//! The C library (libbeamlink): a C program calling through `bl_call` / `bl_rpc_call` against
//! OTP's own C client (`ei_rpc`, bench/ei) and against beamlink's Rust API on the same node,
//! and its connect time against `ei_connect`. All three run in the same repetitions, in turn.
//!
//! The C client is bench/c/bl_call_bench.c, compiled here against the release
//! `libbeamlink_c.a` that bench/run.sh builds (`-p beamlink-c`), with the same `-O2` as the ei
//! client; its figures are timed inside the C process, as the ei client's are.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use beamlink_test_support::{Otp, repo_root};

use crate::cfg::Cfg;
use crate::ei;
use crate::env::{CALL_TIMEOUT, Env, note, percentile};
use crate::rpc;
use crate::table::{Row, Stat, Table};

/// What the C client measured in one run.
struct CRun {
    connect_ns: Vec<f64>,
    call_ns: Vec<f64>,
}

/// Compiles the C client; why not when the library is missing.
fn client() -> Result<PathBuf, String> {
    let root = repo_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let lib = target.join("release/libbeamlink_c.a");
    if !lib.exists() {
        return Err(format!("{} not built (bench/run.sh builds -p beamlink-c)", lib.display()));
    }
    let exe = target.join("release/bl_call_bench");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let out = Command::new(&cc)
        .args(["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o"])
        .arg(&exe)
        .arg(root.join("bench/c/bl_call_bench.c"))
        .arg(format!("-I{}", root.join("include").display()))
        .arg(&lib)
        // What Rust's standard library needs from the system (bindings/c/beamlink.pc.in).
        .args(["-lgcc_s", "-lutil", "-lrt", "-lpthread", "-lm", "-ldl", "-lc"])
        .output()
        .map_err(|e| format!("running {cc}: {e}"))?;
    if !out.status.success() {
        return Err(format!("compiling bench/c/bl_call_bench.c: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(exe)
}

fn run(
    exe: &Path,
    target: &str,
    cookie: &str,
    cfg: &Cfg,
    connects: usize,
    mode: &str,
) -> Result<CRun, String> {
    let out = Command::new(exe)
        .args([target, cookie])
        .args([connects, cfg.lat_warm, cfg.lat_n].map(|n| n.to_string()))
        .arg(mode)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("C client: {}{}", text.trim(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let line = |tag: &str| -> Result<Vec<f64>, String> {
        text.lines()
            .find_map(|l| l.strip_prefix(tag))
            .ok_or_else(|| format!("C client printed no {tag}"))?
            .split_whitespace()
            .map(|v| v.parse::<f64>().map_err(|e| format!("C client figure {v:?}: {e}")))
            .collect()
    };
    Ok(CRun { connect_ns: line("CONNECT_NS")?, call_ns: line("CALL_NS")? })
}

#[derive(Default)]
struct Figures {
    erpc: Vec<f64>,
    rex: Vec<f64>,
    connect: Vec<f64>,
    rust: Vec<f64>,
    ei_call: Vec<f64>,
    ei_connect: Vec<f64>,
}

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    let exe = client();
    for otp in Otp::ALL {
        note(&format!("C library calls, {}", otp.label()));
        let (t, _) = env.beam(otp);
        let target = t.name.clone();
        let mut f = Figures::default();
        let mut error = exe.as_ref().err().cloned();
        let mut ei_error = None;
        for _ in 0..cfg.reps {
            let Ok(exe) = &exe else { break };
            let erpc = run(exe, &target, &env.cookie, cfg, cfg.fresh_n, "erpc");
            let rex = run(exe, &target, &env.cookie, cfg, 1, "rex");
            match (erpc, rex) {
                (Ok(e), Ok(r)) => {
                    f.erpc.push(percentile(&e.call_ns, 50.0) / 1e3);
                    f.connect.push(percentile(&e.connect_ns, 50.0) / 1e3);
                    f.rex.push(percentile(&r.call_ns, 50.0) / 1e3);
                }
                (Err(e), _) | (_, Err(e)) => {
                    error = Some(e);
                    break;
                }
            }
            if ei_error.is_none() {
                match ei::run(&target, &env.cookie, cfg.fresh_n, cfg.lat_warm, cfg.lat_n) {
                    Ok(r) => {
                        f.ei_call.push(percentile(&r.call_ns, 50.0) / 1e3);
                        f.ei_connect.push(percentile(&r.connect_ns, 50.0) / 1e3);
                    }
                    Err(e) => ei_error = Some(e),
                }
            }
            let rust: Vec<f64> = env.rt.block_on(async {
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
            f.rust.push(percentile(&rust, 50.0) / 1e3);
        }
        push_rows(table, otp.label(), &f, error, ei_error);
    }
}

/// One row: the C figure against a reference figure.
struct Spec<'a> {
    name: String,
    bl: &'a [f64],
    reference: &'a str,
    rf: &'a [f64],
    target: Option<f64>,
    note: &'a str,
    /// The reference comes from the ei client (skipped with it).
    ei: bool,
}

fn push_rows(table: &mut Table, label: &str, f: &Figures, error: Option<String>, ei_error: Option<String>) {
    let ei_call = format!("C ei_rpc (erl_interface, rex) → {label}");
    let specs = [
        Spec {
            name: format!("C bl_call (erpc) erlang:node/0 p50, {label}"),
            bl: &f.erpc,
            reference: &ei_call,
            rf: &f.ei_call,
            target: Some(0.9),
            note: "C client: bench/c/bl_call_bench.c (libbeamlink.a); reference: bench/ei/ei_rpc_bench.c",
            ei: true,
        },
        Spec {
            name: format!("C bl_rpc_call (rex) erlang:node/0 p50, {label}"),
            bl: &f.rex,
            reference: &ei_call,
            rf: &f.ei_call,
            target: Some(0.9),
            note: "the same semantics on both sides: rpc:call through rex",
            ei: true,
        },
        Spec {
            name: format!("C bl_call (erpc) erlang:node/0 p50, {label}"),
            bl: &f.erpc,
            reference: "Rust Node::call (erpc), same node",
            rf: &f.rust,
            target: Some(1.1),
            note: "what the C boundary costs: engine Task, wait, ETF copy out",
            ei: false,
        },
        Spec {
            name: format!("C fresh connect (bl_node_start + bl_connect) p50, {label}"),
            bl: &f.connect,
            reference: "C ei_connect_init + ei_connect",
            rf: &f.ei_connect,
            target: None,
            note: "a new node name each time; epmd lookup and handshake",
            ei: true,
        },
    ];
    for s in specs {
        let why = error.as_ref().or(if s.ei { ei_error.as_ref() } else { None });
        let mut row = match why {
            Some(why) => Row::skipped("c", &s.name, s.reference, why),
            None if s.bl.is_empty() || s.rf.is_empty() => {
                Row::skipped("c", &s.name, s.reference, "no figures")
            }
            None => {
                Row::new("c", &s.name, "µs", false, Stat::of(s.bl), s.reference, Stat::of(s.rf)).note(s.note)
            }
        };
        if let Some(t) = s.target {
            let against = if s.ei { "the C `ei_rpc` client" } else { "the Rust API" };
            row = row.target(t).headline(&format!("C library call p50 vs {against}, {label}"));
        }
        table.push(row);
    }
}
