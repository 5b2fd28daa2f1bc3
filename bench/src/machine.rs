//! The header of RESULTS.md: when, on what, with which releases, under how much load.

use std::process::Command;

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn output_of(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

pub fn describe(versions: &[String], load_before: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").map(|s| s.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = output_of("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let kernel = output_of("uname", &["-sr"]);
    format!(
        "- Date: {date}\n- Machine: {cores} cores, {cpu}, {kernel}\n- Load average (1, 5, 15 min) before / after the run: {load_before} / {} \
         (other work on the machine widens the spreads, p99 most)\n- OTP: {}\n- Rust: beamlink release build, tokio multi-thread runtime; eetf {}; \
         C reference: erl_interface `ei` of OTP 25 (Debian erlang-dev)",
        loadavg(),
        versions.join("; "),
        "0.12"
    )
}
