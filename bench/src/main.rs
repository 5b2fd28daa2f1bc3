//! `make bench`: beamlink next to BEAM itself, the C `ei` client, erl_call and the `eetf`
//! crate, in one run on one machine, reported as ratios. See bench/README.md.
//!
//! The driver runs on the main thread and talks to the BEAM nodes through the test-support
//! control loop (blocking); beamlink's own work runs on a tokio runtime it blocks on, so the
//! two sides never share a thread while one of them is being timed.
//!
//! Layout: [`rows`] has one module per bench family, [`table`] the statistics and the Markdown,
//! [`env`] the nodes every family shares, [`children`] the subcommands run as child processes,
//! [`ei`] the reference C client, [`rpc`] the one place the bench makes an rpc.

mod cfg;
mod children;
mod corpus;
mod ei;
mod env;
mod machine;
mod rows;
mod rpc;
mod table;

use std::time::Instant;

use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, compile_erl, repo_root};

use cfg::Cfg;
use env::{Env, eval, note, runtime, start_node, text_of};
use table::Table;

const USAGE: &str = "usage: beamlink-bench [run | profile-decode ITEM SECS | profile-encode ITEM SECS | \
codec-count ITEM N | rpc-count N call|raw|rex|ping | rpc-lat N REPS KIND... | oneshot NODE COOKIE | listeners N COOKIE | memnode COOKIE PEER... | memcalls COOKIE NODE N SLEEP_MS]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let num = |s: &str| s.parse::<u64>().unwrap_or_else(|_| usage());
    match a.as_slice() {
        [] | ["run"] => run(),
        ["oneshot", target, cookie] => children::oneshot(target, cookie),
        ["listeners", n, cookie] => children::listeners(num(n) as usize, cookie),
        ["memnode", cookie, peers @ ..] => children::memnode(cookie, peers),
        ["memcalls", cookie, target, n, sleep_ms] => {
            children::memcalls(cookie, target, num(n) as usize, num(sleep_ms))
        }
        ["profile-decode", item, secs] => {
            children::profile_codec(num(item) as usize, secs.parse().unwrap_or_else(|_| usage()), false)
        }
        ["profile-encode", item, secs] => {
            children::profile_codec(num(item) as usize, secs.parse().unwrap_or_else(|_| usage()), true)
        }
        ["codec-count", item, n] => children::codec_count(num(item) as usize, num(n)),
        ["rpc-count", n, kind] => children::rpc_count(num(n), kind),
        ["rpc-run", target, n, kind] => children::rpc_run(target, num(n), kind),
        ["rpc-lat", n, reps, kinds @ ..] => children::rpc_lat(num(n) as usize, num(reps) as usize, kinds),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!("{USAGE}");
    std::process::exit(2);
}

fn release(node: &TestNode) -> String {
    let t = eval(node, "{erlang:system_info(otp_release), erlang:system_info(version)}.");
    match t.as_tuple() {
        Some([rel, vsn]) => format!("OTP {} (erts {})", text_of(rel), text_of(vsn)),
        _ => format!("{}: {t}", node.otp.label()),
    }
}

fn run() {
    let cfg = Cfg::from_env();
    let started = Instant::now();
    let load_before = machine::loadavg();
    let cookie = DEFAULT_COOKIE.to_string();
    let ebin = compile_erl(&repo_root().join("bench/erl/beamlink_bench.erl"));
    note("starting BEAM nodes (OTP 25 and 28, a caller and a target each)");
    // Callers are hidden nodes, as beamlink and erl_call are: the connections being compared
    // then carry the same traffic (no `global` synchronisation on connect and disconnect).
    let start = |otp: Otp, prefix: &str, hidden: bool| {
        let b = TestNode::builder(otp).prefix(prefix).cookie(&cookie).code_path(&ebin);
        let b = if hidden { b.hidden() } else { b };
        b.start().expect("starting BEAM node")
    };
    let rt = runtime();
    let bl = rt.block_on(start_node(&cookie));
    let env = Env {
        t25: start(Otp::V25, "bench_t25", false),
        c25: start(Otp::V25, "bench_c25", true),
        t28: start(Otp::V28, "bench_t28", false),
        c28: start(Otp::V28, "bench_c28", true),
        rt,
        bl,
        cookie: cookie.clone(),
        ebin: ebin.clone(),
        self_exe: std::env::current_exe().unwrap(),
    };
    let versions = [release(&env.t25), release(&env.t28)];

    // BENCH_ONLY=codec,echo runs a subset while working on one area; `make bench` runs all.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let on = |g: &str| only.is_empty() || only.split(',').any(|x| x == g);
    let mut table = Table::default();
    for family in rows::FAMILIES.iter().filter(|f| on(f.key)) {
        (family.run)(&env, &cfg, &mut table);
    }

    let elapsed = started.elapsed();
    let text = table.render();
    println!("{text}");
    let mode = match (cfg.quick, only.is_empty()) {
        (false, true) => "full".to_string(),
        (true, true) => "QUICK".to_string(),
        (q, false) => format!("{}BENCH_ONLY={only} (partial: do not commit)", if q { "QUICK, " } else { "" }),
    };
    let headline = table.headline();
    let md = format!(
        "# beamlink benchmark results\n\n{}\n\nMode: {mode} ({} repetitions per row), run time {:.0} s. Produced by `make bench{}`; \
         see [README.md](README.md) for what each row measures.\n\n{}\n{}\n## Headline (the README's performance table)\n\n{headline}\n",
        machine::describe(&versions, &load_before),
        cfg.reps,
        elapsed.as_secs_f64(),
        if cfg.quick { " QUICK=1" } else { "" },
        text,
        table.targets(),
    );
    let analysis = std::fs::read_to_string(repo_root().join("bench/ANALYSIS.md")).unwrap_or_default();
    std::fs::write(repo_root().join("bench/RESULTS.md"), format!("{md}\n{analysis}")).unwrap();
    note(&format!("wrote bench/RESULTS.md ({:.0} s)", elapsed.as_secs_f64()));
    // Only a complete full run may speak for the project in the README.
    if !cfg.quick && only.is_empty() {
        match update_readme(&headline) {
            Ok(()) => note("updated the performance table in README.md"),
            Err(e) => note(&format!("README.md not updated: {e}")),
        }
    }
}

const README_START: &str = "<!-- bench:headline:start (generated by `make bench`; do not edit) -->";
const README_END: &str = "<!-- bench:headline:end -->";

/// Replaces the table between the README's markers with this run's headline.
fn update_readme(headline: &str) -> Result<(), String> {
    let path = repo_root().join("README.md");
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (text.find(README_START), text.find(README_END)) else {
        return Err("markers not found".into());
    };
    if b < a {
        return Err("markers out of order".into());
    }
    let new = format!("{}{README_START}\n{headline}{}", &text[..a], &text[b..]);
    std::fs::write(&path, new).map_err(|e| e.to_string())
}
