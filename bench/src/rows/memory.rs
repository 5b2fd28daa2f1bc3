//! Resident memory: idle connections held by a beamlink process against a BEAM node holding
//! the same ones, and the growth per call in flight.

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::time::Duration;

use beamlink_test_support::Otp;

use crate::cfg::Cfg;
use crate::children::rss_kb;
use crate::env::{Env, eval, note};
use crate::table::{Row, Stat, Table};

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    idle_connections(env, cfg, table);
    calls_in_flight(env, cfg, table);
}

fn idle_connections(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("memory: 100 listening beamlink nodes to hold connections to");
    let mut child = Command::new(&env.self_exe)
        .args(["listeners", "100", &env.cookie])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("listeners");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let names: Vec<String> =
        line.trim().strip_prefix("NAMES ").expect("listener names").split(' ').map(String::from).collect();
    for count in [1usize, 100] {
        note(&format!("memory: {count} idle connections"));
        let peers = &names[..count];
        let (mut b, mut r) = (vec![], vec![]);
        for _ in 0..cfg.mem_reps.max(1) {
            let out = Command::new(&env.self_exe)
                .arg("memnode")
                .arg(&env.cookie)
                .args(peers)
                .output()
                .expect("memnode");
            let s = String::from_utf8_lossy(&out.stdout);
            let kb: f64 = s
                .trim()
                .strip_prefix("RSS ")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("memnode said {s}"));
            b.push(kb / 1024.0);
            let node = env.fresh_beam(Otp::V28, "bench_mem");
            let list = peers.iter().map(|p| format!("'{p}'")).collect::<Vec<_>>().join(",");
            eval(&node, &format!("beamlink_bench:isolated(connect_all, [[{list}]])."));
            std::thread::sleep(Duration::from_millis(300));
            r.push(rss_kb(&node.os_pid().to_string()) as f64 / 1024.0);
        }
        let mut row = Row::new(
            "memory",
            &format!("RSS holding {count} idle connection(s)"),
            "MiB",
            false,
            Stat::of(&b),
            "fresh BEAM node (otp28), same connections",
            Stat::of(&r),
        )
        .note("peers are hidden beamlink listener nodes");
        if count == 100 {
            row = row.headline("RSS holding 100 idle connections vs a BEAM node");
        }
        table.push(row);
    }
    drop(child.stdin.take());
    let _ = child.wait();
}

fn calls_in_flight(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("memory: per call in flight");
    let target = env.t28.name.clone();
    let n = 4096;
    let sleep_ms = 3000;
    let (mut b, mut r) = (vec![], vec![]);
    for _ in 0..cfg.mem_reps.max(1) {
        let out = Command::new(&env.self_exe)
            .args(["memcalls", &env.cookie, &target, &n.to_string(), &sleep_ms.to_string()])
            .output()
            .expect("memcalls");
        let s = String::from_utf8_lossy(&out.stdout);
        b.push(
            s.trim()
                .strip_prefix("BYTES_PER_CALL ")
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("memcalls said {s}")),
        );
        let node = env.fresh_beam(Otp::V28, "bench_memcalls");
        eval(&node, &format!("erpc:call('{target}', erlang, node, [])."));
        std::thread::sleep(Duration::from_millis(100));
        let pid = node.os_pid().to_string();
        let before = rss_kb(&pid);
        eval(&node, &format!("beamlink_bench:isolated(calls_in_flight, ['{target}', {n}, {sleep_ms}])."));
        std::thread::sleep(Duration::from_millis(sleep_ms / 2));
        let during = rss_kb(&pid);
        r.push((during.saturating_sub(before) * 1024) as f64 / n as f64);
    }
    table.push(
        Row::new(
            "memory",
            &format!("RSS per call in flight ({n} calls)"),
            "B",
            false,
            Stat::of(&b),
            "BEAM caller (otp28), one process per call",
            Stat::of(&r),
        )
        .target(1.0)
        .note("RSS growth while the calls sleep in timer:sleep/1 on the target, / calls")
        .headline("RSS per call in flight vs a BEAM caller process"),
    );
}
