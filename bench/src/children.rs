//! The subcommands other than `run`: child processes the driver times or measures as a whole,
//! so that process start-up and resident size are beamlink's alone, and loops to profile.

use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use beamlink::{Node, Term};
use beamlink_test_support::unique_name;

use crate::corpus;
use crate::env::{CALL_TIMEOUT, runtime, start_node};
use crate::rpc;

/// Decodes (or encodes) corpus item `item` in a loop for `secs` seconds: a target for
/// `perf record` and, with a small `secs`, for callgrind.
pub fn profile_codec(item: usize, secs: f64, encode: bool) {
    let (name, term) = corpus::corpus().swap_remove(item);
    let bytes = beamlink::term::encode(&term);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        for _ in 0..100 {
            if encode {
                drop(std::hint::black_box(beamlink::term::encode(std::hint::black_box(&term))));
            } else {
                drop(std::hint::black_box(beamlink::term::decode(std::hint::black_box(&bytes)).unwrap()));
            }
        }
        n += 100;
    }
    let what = if encode { "encode" } else { "decode" };
    println!("{name}: {:.0} ns/{what}", start.elapsed().as_nanos() as f64 / n as f64);
}

/// Decodes and encodes corpus item `item` exactly `n` times each: a fixed amount of work, so
/// callgrind's instruction counts compare between builds (`bench/profile.sh` counts inside
/// [`count_decode`] and [`count_encode`] only, so building the corpus is left out).
pub fn codec_count(item: usize, n: u64) {
    let (name, term) = corpus::corpus().swap_remove(item);
    let bytes = beamlink::term::encode(&term);
    // Once untimed: per-thread caches and the allocator's first growth are not per-op costs.
    drop(beamlink::term::decode(&bytes).unwrap());
    count_decode(&bytes, n);
    count_encode(&term, n);
    let eetf_term = eetf::Term::decode(&bytes[..]).expect("eetf decodes the corpus");
    count_eetf_decode(&bytes, n);
    count_eetf_encode(&eetf_term, n);
    println!("{name}: {n} decodes, {n} encodes");
}

/// The `eetf` reference, counted the same way (as the codec rows time it).
#[inline(never)]
pub fn count_eetf_decode(bytes: &[u8], n: u64) {
    for _ in 0..n {
        drop(std::hint::black_box(eetf::Term::decode(std::hint::black_box(bytes)).unwrap()));
    }
}

#[inline(never)]
pub fn count_eetf_encode(term: &eetf::Term, n: u64) {
    for _ in 0..n {
        let mut v = Vec::with_capacity(64);
        std::hint::black_box(term).encode(&mut v).unwrap();
        drop(std::hint::black_box(v));
    }
}

/// `n` decodes, each dropped as the bench's timing loop drops it.
#[inline(never)]
pub fn count_decode(bytes: &[u8], n: u64) {
    for _ in 0..n {
        drop(std::hint::black_box(beamlink::term::decode(std::hint::black_box(bytes)).unwrap()));
    }
}

/// `n` encodes, each dropped as the bench's timing loop drops it.
#[inline(never)]
pub fn count_encode(term: &Term, n: u64) {
    for _ in 0..n {
        drop(std::hint::black_box(beamlink::term::encode(std::hint::black_box(term))));
    }
}

/// Sequential `Node::call`s of `erlang:node/0` to a fresh OTP 28 node, from a child process
/// (`rpc-run`) run under `$BENCH_WRAP` (a command prefix such as `valgrind --tool=callgrind` or
/// `strace -f -c`), so that only beamlink's process is measured: `bench/profile-rpc.sh`.
pub fn rpc_count(n: u64, kind: &str) {
    let target = beamlink_test_support::TestNode::builder(beamlink_test_support::Otp::V28)
        .prefix("bench_count")
        .cookie(beamlink_test_support::DEFAULT_COOKIE)
        .start()
        .expect("starting BEAM node");
    let exe = std::env::current_exe().unwrap();
    let wrap = std::env::var("BENCH_WRAP").unwrap_or_default();
    let mut argv: Vec<String> = wrap.split_whitespace().map(String::from).collect();
    argv.extend([
        exe.display().to_string(),
        "rpc-run".into(),
        target.name.clone(),
        n.to_string(),
        kind.into(),
    ]);
    let status = std::process::Command::new(&argv[0]).args(&argv[1..]).status().expect("rpc-run");
    assert!(status.success(), "rpc-run: {status}");
}

/// The child of [`rpc_count`]: 200 calls of warm-up, then `n`.
pub fn rpc_run(target: &str, n: u64, kind: &str) {
    let rt = runtime();
    let (target, kind) = (target.to_string(), kind.to_string());
    // BENCH_INFLIGHT=k: k tasks share the `n` calls (throughput rather than latency).
    let inflight: u64 = std::env::var("BENCH_INFLIGHT").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let calls = async move {
        let node = start_node(beamlink_test_support::DEFAULT_COOKIE).await;
        count_calls(&node, &target, 200, &kind).await;
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..inflight {
            let (node, target, kind) = (node.clone(), target.clone(), kind.clone());
            set.spawn(async move { count_calls(&node, &target, n / inflight, &kind).await });
        }
        while set.join_next().await.is_some() {}
    };
    // As the latency rows call: from a task (BENCH_CALLER=block_on: from the blocked thread).
    if std::env::var("BENCH_CALLER").as_deref() == Ok("block_on") {
        rt.block_on(calls);
    } else {
        rt.block_on(rt.spawn(calls)).unwrap();
    }
    println!("{n} calls");
}

/// A/B latency probe for working on the call path: against a fresh OTP 28 node, `reps` rounds
/// each of `n` sequential calls by every kind given (`call`, `raw`, `rex`, `ping`, `ei` for the C
/// client), alternating; prints the median over rounds of each kind's p50 and p90 (µs).
pub fn rpc_lat(n: usize, reps: usize, kinds: &[&str]) {
    let target = beamlink_test_support::TestNode::builder(beamlink_test_support::Otp::V28)
        .prefix("bench_lat")
        .cookie(beamlink_test_support::DEFAULT_COOKIE)
        .start()
        .expect("starting BEAM node");
    let rt = runtime();
    let node = rt.block_on(start_node(beamlink_test_support::DEFAULT_COOKIE));
    let mut p50: Vec<Vec<f64>> = vec![vec![]; kinds.len()];
    let mut p90: Vec<Vec<f64>> = vec![vec![]; kinds.len()];
    let mut cpu: Vec<Vec<f64>> = vec![vec![]; kinds.len()];
    for _ in 0..reps {
        for (i, kind) in kinds.iter().enumerate() {
            let cpu0 = cpu_us();
            let ns = if *kind == "ei" {
                crate::ei::run(&target.name, beamlink_test_support::DEFAULT_COOKIE, 1, 200, n)
                    .unwrap()
                    .call_ns
            } else {
                let (node, to, kind) = (node.clone(), target.name.clone(), kind.to_string());
                let calls = async move {
                    count_calls(&node, &to, 200, &kind).await;
                    let mut v = Vec::with_capacity(n);
                    for _ in 0..n {
                        let t0 = Instant::now();
                        count_calls(&node, &to, 1, &kind).await;
                        v.push(t0.elapsed().as_nanos() as f64);
                    }
                    v
                };
                if std::env::var("BENCH_CALLER").as_deref() == Ok("block_on") {
                    rt.block_on(calls)
                } else {
                    rt.block_on(rt.spawn(calls)).unwrap()
                }
            };
            cpu[i].push((cpu_us() - cpu0) / (n + 200) as f64);
            p50[i].push(crate::env::percentile(&ns, 50.0) / 1e3);
            p90[i].push(crate::env::percentile(&ns, 90.0) / 1e3);
        }
    }
    for (i, kind) in kinds.iter().enumerate() {
        let med = |v: &mut Vec<f64>| {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[v.len() / 2]
        };
        println!(
            "{kind:>5}: p50 {:7.1} µs  p90 {:7.1} µs  beamlink CPU {:5.1} µs/call (user+system, this process)",
            med(&mut p50[i]),
            med(&mut p90[i]),
            med(&mut cpu[i])
        );
    }
}

/// User + system CPU time of this process so far, µs (children excluded: the C client's own
/// time is not in it).
fn cpu_us() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = after.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    // Fields 14 and 15 (utime, stime) in clock ticks; `after` starts at field 3.
    let which = std::env::var("BENCH_CPU").unwrap_or_default();
    let user = f.get(11).copied().unwrap_or(0.0);
    let system = f.get(12).copied().unwrap_or(0.0);
    let ticks = match which.as_str() {
        "user" => user,
        "system" => system,
        _ => user + system,
    };
    ticks * 1e6 / 100.0
}

/// `n` sequential calls: `call` (Node::call), `raw` (call_raw), `rex` (rpc_call) or `ping`.
#[inline(never)]
pub async fn count_calls(node: &Node, target: &str, n: u64, kind: &str) {
    for _ in 0..n {
        match kind {
            "ping" => assert!(node.ping(target).await),
            "rex" => drop(node.rpc_call(target, "erlang", "node", Term::nil(), CALL_TIMEOUT).await.unwrap()),
            "raw" => drop(node.call_raw(target, "erlang", "node", Term::nil(), CALL_TIMEOUT).await.unwrap()),
            _ => drop(node.call(target, "erlang", "node", Term::nil(), CALL_TIMEOUT).await.unwrap()),
        }
    }
}

/// Whole-process fresh connect + first call, the job `erl_call -a` does.
pub fn oneshot(target: &str, cookie: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let node = start_node(cookie).await;
        let v = rpc::call(&node, target, "erlang", "node", vec![], CALL_TIMEOUT).await.expect("oneshot call");
        println!("{v}");
    });
}

/// Hosts N listening (hidden) beamlink nodes for the memory rows to connect to; prints their
/// names on one line and stays up until stdin closes.
pub fn listeners(n: usize, cookie: &str) {
    let rt = runtime();
    let nodes: Vec<Node> = rt.block_on(async {
        let mut v = Vec::new();
        for _ in 0..n {
            let node = Node::builder(format!("{}@localhost", unique_name("bllisten")))
                .cookie(cookie)
                .hidden(true)
                .listen(0)
                .start()
                .await
                .expect("listening node");
            v.push(node);
        }
        v
    });
    let names: Vec<String> = nodes.iter().map(|n| n.name().to_string()).collect();
    println!("NAMES {}", names.join(" "));
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    while std::io::stdin().lock().read_line(&mut line).map(|n| n > 0).unwrap_or(false) {}
    drop(nodes);
}

pub fn rss_kb(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident size (kB) of a beamlink node holding idle connections to `peers`.
pub fn memnode(cookie: &str, peers: &[&str]) {
    let rt = runtime();
    rt.block_on(async {
        let node = start_node(cookie).await;
        for p in peers {
            node.connect(p).await.expect("connect to listener");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        println!("RSS {}", rss_kb("self"));
    });
}

/// Resident bytes per call in flight: N calls blocked in `timer:sleep` on `target`.
pub fn memcalls(cookie: &str, target: &str, n: usize, sleep_ms: u64) {
    let rt = runtime();
    rt.block_on(async {
        let node = start_node(cookie).await;
        rpc::call(&node, target, "erlang", "node", vec![], CALL_TIMEOUT).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let before = rss_kb("self");
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..n {
            let node = node.clone();
            let target = target.to_string();
            set.spawn(async move {
                rpc::call(&node, &target, "timer", "sleep", vec![Term::from(sleep_ms as i64)], CALL_TIMEOUT)
                    .await
                    .unwrap();
            });
        }
        tokio::time::sleep(Duration::from_millis(sleep_ms / 2)).await;
        let during = rss_kb("self");
        println!("BYTES_PER_CALL {}", (during.saturating_sub(before) * 1024) as f64 / n as f64);
        while set.join_next().await.is_some() {}
    });
}
