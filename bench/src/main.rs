//! `make bench`: beamlink next to BEAM itself, erl_call and the `eetf` crate, in one run on one
//! machine, reported as ratios. See bench/README.md.
//!
//! The driver runs on the main thread and talks to the BEAM nodes through the test-support
//! control loop (blocking); beamlink's own work runs on a tokio runtime it blocks on, so the
//! two sides never share a thread while one of them is being timed.
//!
//! Subcommands other than `run` are the child processes the driver times or measures as a
//! whole: they exist so that process start-up and resident size are beamlink's alone.

mod corpus;
mod rpc;
mod table;

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use beamlink::{Node, Term};
use beamlink_test_support::{DEFAULT_COOKIE, Otp, TestNode, compile_erl, repo_root, run_erl, unique_name};
use bytes::Bytes;
use table::{Row, Stat, Table};

const CALL_TIMEOUT: Duration = Duration::from_secs(120);

struct Cfg {
    quick: bool,
    reps: usize,
    lat_warm: usize,
    lat_n: usize,
    tput_total: usize,
    ping_n: usize,
    fresh_n: usize,
    whole_n: usize,
    codec_ms: u64,
    echo_n: usize,
    mem_reps: usize,
}

impl Cfg {
    fn new(quick: bool) -> Cfg {
        if quick {
            Cfg {
                quick,
                reps: 5,
                lat_warm: 100,
                lat_n: 500,
                tput_total: 2048,
                ping_n: 300,
                fresh_n: 8,
                whole_n: 8,
                codec_ms: 20,
                echo_n: 10,
                mem_reps: 1,
            }
        } else {
            Cfg {
                quick,
                reps: 10,
                lat_warm: 500,
                lat_n: 2000,
                tput_total: 8192,
                ping_n: 1000,
                fresh_n: 20,
                whole_n: 20,
                codec_ms: 60,
                echo_n: 20,
                mem_reps: 3,
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        [] | ["run"] => run(),
        ["oneshot", target, cookie] => oneshot(target, cookie),
        ["listeners", n, cookie] => listeners(n.parse().unwrap(), cookie),
        ["memnode", cookie, peers @ ..] => memnode(cookie, peers),
        ["profile-decode", item, secs] => profile_codec(item.parse().unwrap(), secs.parse().unwrap(), false),
        ["profile-encode", item, secs] => profile_codec(item.parse().unwrap(), secs.parse().unwrap(), true),
        ["memcalls", cookie, target, n, sleep_ms] => {
            memcalls(cookie, target, n.parse().unwrap(), sleep_ms.parse().unwrap())
        }
        _ => {
            eprintln!(
                "usage: beamlink-bench [run | profile-decode ITEM SECS | profile-encode ITEM SECS | oneshot NODE COOKIE | listeners N COOKIE | memnode COOKIE PEER... | memcalls COOKIE NODE N SLEEP_MS]"
            );
            std::process::exit(2);
        }
    }
}

/// Multi-thread by default, as most applications run tokio; BENCH_RT=current tries the
/// single-thread scheduler, which saves the cross-thread wake-ups on every message.
fn runtime() -> tokio::runtime::Runtime {
    match std::env::var("BENCH_RT").as_deref() {
        Ok("current") => tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        _ => tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap(),
    }
}

async fn start_node(cookie: &str) -> Node {
    Node::builder(format!("{}@localhost", unique_name("blbench")))
        .cookie(cookie)
        .start()
        .await
        .expect("starting beamlink node")
}

// ---------------------------------------------------------------------------------------------
// Child processes

/// Decodes (or encodes) corpus item `item` in a loop for `secs` seconds: a target for
/// `perf record`.
fn profile_codec(item: usize, secs: u64, encode: bool) {
    let (name, term) = corpus::corpus().swap_remove(item);
    let bytes = beamlink::term::encode(&term);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(secs) {
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

/// Whole-process fresh connect + first call, the job `erl_call -a` does.
fn oneshot(target: &str, cookie: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let node = start_node(cookie).await;
        let v = rpc::call(&node, target, "erlang", "node", vec![], CALL_TIMEOUT).await.expect("oneshot call");
        println!("{v}");
    });
}

/// Hosts N listening (hidden) beamlink nodes for the memory rows to connect to; prints their
/// names on one line and stays up until stdin closes.
fn listeners(n: usize, cookie: &str) {
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

fn rss_kb(pid: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resident size (kB) of a beamlink node holding idle connections to `peers`.
fn memnode(cookie: &str, peers: &[&str]) {
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
fn memcalls(cookie: &str, target: &str, n: usize, sleep_ms: u64) {
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

// ---------------------------------------------------------------------------------------------
// Driver

fn nums(t: &Term) -> Vec<f64> {
    match t {
        Term::List(v) => v.iter().flat_map(nums).collect(),
        Term::Int(i) => vec![*i as f64],
        Term::Float(f) => vec![*f],
        _ => panic!("expected numbers, got {t}"),
    }
}

fn eval(node: &TestNode, expr: &str) -> Term {
    let r = node
        .eval_timeout(expr, Duration::from_secs(600))
        .unwrap_or_else(|e| panic!("{expr} on {}: {e}", node.name));
    let t = beamlink::term::parse(&r).unwrap_or_else(|e| panic!("parsing {r:.200}: {e:?}"));
    match t {
        Term::Tuple(ref v) if v.len() == 2 && v[0].is_atom("ok") => v[1].clone(),
        other => panic!("{expr} on {} failed: {other}", node.name),
    }
}

fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[i]
}

fn note(msg: &str) {
    eprintln!("bench: {msg}");
}

struct Env {
    rt: tokio::runtime::Runtime,
    bl: Node,
    cookie: String,
    ebin: PathBuf,
    t25: TestNode,
    c25: TestNode,
    t28: TestNode,
    c28: TestNode,
}

impl Env {
    fn beam(&self, otp: Otp) -> (&TestNode, &TestNode) {
        match otp {
            Otp::V25 => (&self.t25, &self.c25),
            Otp::V28 => (&self.t28, &self.c28),
        }
    }

    fn fresh_beam(&self, otp: Otp, prefix: &str) -> TestNode {
        TestNode::builder(otp)
            .prefix(prefix)
            .cookie(&self.cookie)
            .code_path(&self.ebin)
            .start()
            .expect("starting BEAM node")
    }
}

fn run() {
    let quick = std::env::var("QUICK").map(|v| !v.is_empty() && v != "0").unwrap_or(false);
    let cfg = Cfg::new(quick);
    let started = Instant::now();
    let load_before = loadavg();
    let self_exe = std::env::current_exe().unwrap();
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
    };
    let mut table = Table::default();
    let versions: Vec<String> = [&env.t25, &env.t28]
        .iter()
        .map(|n| {
            let t = eval(n, "{erlang:system_info(otp_release), erlang:system_info(version)}.");
            match t {
                Term::Tuple(ref v) if v.len() == 2 => {
                    format!("OTP {} (erts {})", text_of(&v[0]), text_of(&v[1]))
                }
                other => format!("{}: {other}", n.otp.label()),
            }
        })
        .collect();

    // BENCH_ONLY=codec,echo runs a subset while working on one area; `make bench` runs all.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let on = |g: &str| only.is_empty() || only.split(',').any(|x| x == g);
    if on("rpc") {
        rpc_latency(&env, &cfg, &mut table);
    }
    if on("tput") {
        rpc_throughput(&env, &cfg, &mut table);
    }
    if on("ping") {
        ping_rows(&env, &cfg, &mut table);
    }
    if on("fresh") {
        fresh_connect(&env, &cfg, &mut table);
    }
    if on("whole") {
        whole_process(&env, &cfg, &mut table, &self_exe);
    }
    if on("echo") {
        echo_rows(&env, &cfg, &mut table);
    }
    if on("codec") {
        codec_rows(&env, &cfg, &mut table);
    }
    if on("memory") {
        memory_rows(&env, &cfg, &mut table, &self_exe);
    }

    let elapsed = started.elapsed();
    let text = table.render();
    println!("{text}");
    let machine = machine(&versions, &load_before);
    let md = format!(
        "# beamlink benchmark results\n\n{}\n\nMode: {} ({} repetitions per row), run time {:.0} s. Produced by `make bench{}`; \
         see [README.md](README.md) for what each row measures.\n\n{}\n{}",
        machine,
        if cfg.quick { "QUICK" } else { "full" },
        cfg.reps,
        elapsed.as_secs_f64(),
        if cfg.quick { " QUICK=1" } else { "" },
        text,
        table.targets(),
    );
    let analysis = std::fs::read_to_string(repo_root().join("bench/ANALYSIS.md")).unwrap_or_default();
    std::fs::write(repo_root().join("bench/RESULTS.md"), format!("{md}\n{analysis}")).unwrap();
    note(&format!("wrote bench/RESULTS.md ({:.0} s)", elapsed.as_secs_f64()));
}

/// A charlist as printed by the control loop comes back as a string or a list of ints.
fn text_of(t: &Term) -> String {
    match t {
        Term::List(v) => v
            .iter()
            .filter_map(|c| if let Term::Int(i) = c { char::from_u32(*i as u32) } else { None })
            .collect(),
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn machine(versions: &[String], load_before: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").map(|s| s.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let kernel = Command::new("uname")
        .arg("-sr")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "- Date: {date}\n- Machine: {cores} cores, {cpu}, {kernel}\n- Load average (1, 5, 15 min) before / after the run: {load_before} / {} \
         (other work on the machine widens the spreads, p99 most)\n- OTP: {}\n- Rust: beamlink release build, tokio multi-thread runtime; eetf {}",
        loadavg(),
        versions.join("; "),
        "0.12"
    )
}

/// Alternates beamlink and BEAM repetitions so drift on a shared machine hits both alike.
fn rpc_latency(env: &Env, cfg: &Cfg, table: &mut Table) {
    for otp in Otp::ALL {
        note(&format!("rpc latency, {}", otp.label()));
        let (t, c) = env.beam(otp);
        let target = t.name.clone();
        let (mut b50, mut b99, mut r50, mut r99) = (vec![], vec![], vec![], vec![]);
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
        }
        let refname = format!("erpc:call {0}→{0}", otp.label());
        table.push(
            Row::new(
                "rpc",
                &format!("seq erlang:node/0 p50, {}", otp.label()),
                "µs",
                false,
                Stat::of(&b50),
                &refname,
                Stat::of(&r50),
            )
            .target(0.85),
        );
        table.push(
            Row::new(
                "rpc",
                &format!("seq erlang:node/0 p99, {}", otp.label()),
                "µs",
                false,
                Stat::of(&b99),
                &refname,
                Stat::of(&r99),
            )
            .target(1.0),
        );
    }
}

fn rpc_throughput(env: &Env, cfg: &Cfg, table: &mut Table) {
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    for inflight in [1usize, 16, 256, 4096] {
        note(&format!("rpc throughput, {inflight} in flight"));
        let per = (cfg.tput_total / inflight).max(2);
        let calls = (per * inflight) as f64;
        let (mut b, mut r) = (vec![], vec![]);
        // Untimed warm-up round for both sides.
        for rep in 0..=cfg.reps {
            let ns = env.rt.block_on(async {
                let t0 = Instant::now();
                let mut set = tokio::task::JoinSet::new();
                for _ in 0..inflight {
                    let node = env.bl.clone();
                    let target = target.clone();
                    set.spawn(async move {
                        for _ in 0..per {
                            rpc::call(&node, &target, "erlang", "node", vec![], CALL_TIMEOUT).await.unwrap();
                        }
                    });
                }
                while let Some(r) = set.join_next().await {
                    r.unwrap();
                }
                t0.elapsed().as_nanos() as f64
            });
            let rns = nums(&eval(
                c,
                &format!("beamlink_bench:isolated(tput, ['{target}', erlang, node, [], {inflight}, {per}])."),
            ))[0];
            if rep > 0 {
                b.push(calls / (ns / 1e9));
                r.push(calls / (rns / 1e9));
            }
        }
        let mut row = Row::new(
            "rpc",
            &format!("throughput, {inflight} in flight, otp28"),
            "calls/s",
            true,
            Stat::of(&b),
            "erpc:call otp28→otp28, same # of callers",
            Stat::of(&r),
        );
        if inflight == 256 {
            row = row.target(1.0 / 1.3);
        }
        table.push(row);
    }
}

fn ping_rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("ping on an established connection");
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    let (mut b, mut r) = (vec![], vec![]);
    for _ in 0..cfg.reps {
        let s: Vec<f64> = env.rt.block_on(async {
            for _ in 0..cfg.lat_warm {
                assert!(env.bl.ping(&target).await);
            }
            let mut v = vec![];
            for _ in 0..cfg.ping_n {
                let t0 = Instant::now();
                assert!(env.bl.ping(&target).await);
                v.push(t0.elapsed().as_nanos() as f64);
            }
            v
        });
        b.push(percentile(&s, 50.0) / 1e3);
        let rs = nums(&eval(
            c,
            &format!("beamlink_bench:isolated(ping_est, ['{target}', {}, {}]).", cfg.lat_warm, cfg.ping_n),
        ));
        r.push(percentile(&rs, 50.0) / 1e3);
    }
    table.push(Row::new(
        "connect",
        "ping, established connection, p50, otp28",
        "µs",
        false,
        Stat::of(&b),
        "net_adm:ping otp28→otp28",
        Stat::of(&r),
    ));
}

fn fresh_connect(env: &Env, cfg: &Cfg, table: &mut Table) {
    note("fresh connect");
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    let (mut b, mut r) = (vec![], vec![]);
    for rep in 0..=cfg.reps {
        // A new beamlink node each time: nothing cached, the epmd lookup and handshake are real.
        let s: Vec<f64> = env.rt.block_on(async {
            let mut v = vec![];
            for _ in 0..cfg.fresh_n {
                let t0 = Instant::now();
                let node = start_node(&env.cookie).await;
                assert!(node.ping(&target).await);
                v.push(t0.elapsed().as_nanos() as f64);
                node.shutdown();
            }
            v
        });
        let rs = nums(&eval(
            c,
            &format!("beamlink_bench:isolated(ping_fresh, ['{target}', 20, {}]).", cfg.fresh_n),
        ));
        if rep > 0 {
            b.push(percentile(&s, 50.0) / 1e3);
            r.push(percentile(&rs, 50.0) / 1e3);
        }
    }
    table.push(
        Row::new(
            "connect",
            "fresh connect (epmd + handshake + ping), p50, otp28",
            "µs",
            false,
            Stat::of(&b),
            "net_adm:ping from a BEAM node, no connection",
            Stat::of(&r),
        )
        .target(0.5)
        .note("beamlink: new Node + ping; BEAM: disconnect_node, then net_adm:ping"),
    );
}

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
fn time_against(cfg: &Cfg, ours: impl Fn() -> Command, theirs: impl Fn() -> Command) -> (Vec<f64>, Vec<f64>) {
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

/// Whole-process figures: OS process start, connect, one call, exit.
fn whole_process(env: &Env, cfg: &Cfg, table: &mut Table, self_exe: &Path) {
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
            let mut c = Command::new(self_exe);
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

    let cli = repo_root().join("target/release/beamlink");
    let cli = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| PathBuf::from(d).join("release/beamlink"))
        .filter(|p| p.exists())
        .unwrap_or(cli);
    let has_rpc = Command::new(&cli)
        .arg("--help")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).lines().any(|l| l.trim_start().starts_with("rpc")))
        .unwrap_or(false);
    if !has_rpc {
        table.push(
            Row::skipped(
                "cli",
                "`beamlink rpc` whole process vs erl_call -a",
                "erl_call -a",
                "skipped: `target/release/beamlink rpc` does not exist yet",
            )
            .target(1.0),
        );
        table.push(Row::skipped(
            "cli",
            "codec from the CLI",
            "-",
            "not meaningful: a CLI run is dominated by process start and connect, see the row above",
        ));
        return;
    }
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
        .target(1.0),
    );
}

/// How the echo calls are made: through `Node::call`, or through the bench's own minimal
/// erpc (one encode, no I/O service), which separates `Node::call`'s own costs from the
/// engine's transport.
#[derive(Clone, Copy, PartialEq)]
enum Via {
    NodeCall,
    MinimalErpc,
}

/// MB/s per repetition for beamlink (through `via`) and for BEAM↔BEAM erpc.
fn echo_rates(env: &Env, cfg: &Cfg, via: Via, size: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let (t, c) = env.beam(Otp::V28);
    let target = t.name.clone();
    let payload = Bytes::from(b"0123456789abcdef".repeat(size / 16));
    let (mut b, mut r) = (vec![], vec![]);
    for _ in 0..cfg.reps {
        let s: Vec<f64> = env.rt.block_on(async {
            let call = || {
                let args = vec![Term::Binary(payload.clone())];
                let (bl, target) = (&env.bl, target.as_str());
                async move {
                    match via {
                        Via::NodeCall => {
                            rpc::call(bl, target, "erlang", "iolist_to_binary", args, CALL_TIMEOUT).await
                        }
                        Via::MinimalErpc => {
                            rpc::erpc_call(bl, target, "erlang", "iolist_to_binary", args, CALL_TIMEOUT).await
                        }
                    }
                }
            };
            call().await.unwrap();
            let mut v = vec![];
            for _ in 0..n {
                let t0 = Instant::now();
                let back = call().await.unwrap();
                v.push(t0.elapsed().as_nanos() as f64);
                assert!(matches!(&back, Term::Binary(x) if x.len() == size));
            }
            v
        });
        b.push(size as f64 / (percentile(&s, 50.0) / 1e9) / 1e6);
        let rs = nums(&eval(c, &format!("beamlink_bench:isolated(echo, ['{target}', {size}, 1, {n}]).")));
        r.push(size as f64 / (percentile(&rs, 50.0) / 1e9) / 1e6);
    }
    (b, r)
}

fn echo_rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    let mut runs = vec![
        (1usize << 20, "1 MiB", cfg.echo_n, Via::NodeCall),
        (1 << 20, "1 MiB", cfg.echo_n, Via::MinimalErpc),
    ];
    if !cfg.quick {
        runs.push((64 << 20, "64 MiB", 3, Via::NodeCall));
    }
    for (size, label, n, via) in runs {
        note(&format!("echo {label}"));
        let (b, r) = echo_rates(env, cfg, via, size, n);
        let row = match via {
            Via::NodeCall => Row::new(
                "echo",
                &format!("{label} binary echoed via rpc, otp28"),
                "MB/s",
                true,
                Stat::of(&b),
                "erpc:call otp28→otp28",
                Stat::of(&r),
            )
            .note("MB/s = payload bytes / round-trip time (median call)"),
            Via::MinimalErpc => Row::new(
                "echo",
                &format!("{label} echo, bench's minimal erpc (baseline)"),
                "MB/s",
                true,
                Stat::of(&b),
                "erpc:call otp28→otp28",
                Stat::of(&r),
            )
            .note("beamlink engine without `Node::call` (bench/src/rpc.rs `erpc_call`)"),
        };
        table.push(if size == 64 << 20 { row.target(1.0 / 1.5) } else { row });
    }
    if cfg.quick {
        table.push(
            Row::skipped(
                "echo",
                "64 MiB binary echoed via rpc, otp28",
                "erpc:call otp28→otp28",
                "skipped in QUICK mode; run `make bench`",
            )
            .target(1.0 / 1.5),
        );
    }
}

/// ns per operation: doubling batches until `min_ms` have passed.
fn per_op(min_ms: u64, mut f: impl FnMut()) -> f64 {
    let min = Duration::from_millis(min_ms);
    let (mut batch, mut ops, mut spent) = (1u64, 0u64, Duration::ZERO);
    while spent < min {
        let t0 = Instant::now();
        for _ in 0..batch {
            f();
        }
        spent += t0.elapsed();
        ops += batch;
        batch *= 2;
    }
    spent.as_nanos() as f64 / ops as f64
}

fn reps_of(cfg: &Cfg, mut f: impl FnMut() -> f64) -> Vec<f64> {
    f();
    (0..cfg.reps).map(|_| f()).collect()
}

fn codec_rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    // A node of its own: nothing else has run in it, so no earlier row's garbage or
    // background work is in its timings.
    let codec_node = env.fresh_beam(Otp::V28, "bench_codec");
    let c = &codec_node;
    let dir = std::env::temp_dir().join(unique_name("beamlink_bench_corpus"));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (name, term)) in corpus::corpus().into_iter().enumerate() {
        note(&format!("codec: {name}"));
        let bytes = beamlink::term::encode(&term);
        let size = bytes.len() as f64;
        let path = dir.join(format!("{i}.etf"));
        std::fs::write(&path, &bytes).unwrap();
        let eetf_term = eetf::Term::decode(&bytes[..]).expect("eetf decodes the corpus");
        let bl_dec = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                drop(std::hint::black_box(beamlink::term::decode(std::hint::black_box(&bytes)).unwrap()))
            })
        });
        let ee_dec = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                drop(std::hint::black_box(eetf::Term::decode(std::hint::black_box(&bytes[..])).unwrap()))
            })
        });
        let bl_enc = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                drop(std::hint::black_box(beamlink::term::encode(std::hint::black_box(&term))))
            })
        });
        let ee_enc = reps_of(cfg, || {
            per_op(cfg.codec_ms, || {
                let mut v = Vec::with_capacity(64);
                std::hint::black_box(&eetf_term).encode(&mut v).unwrap();
                drop(std::hint::black_box(v));
            })
        });
        let t = eval(
            c,
            &format!(
                "beamlink_bench:isolated(codec, [\"{}\", {}, {}]).",
                path.display(),
                cfg.codec_ms,
                cfg.reps
            ),
        );
        let Term::Tuple(ref parts) = t else { panic!("codec reply") };
        let (be_dec, be_enc) = (nums(&parts[0]), nums(&parts[1]));
        // Figures in MB/s of the (identical) encoded input; terms/s goes in the note.
        let mbs = |v: &[f64]| v.iter().map(|ns| size / ns * 1e3).collect::<Vec<f64>>();
        let tps = |v: &[f64]| Stat::of(&v.iter().map(|ns| 1e9 / ns).collect::<Vec<f64>>()).med;
        let n = |v: &[f64]| format!("{} terms/s", table::fmt(tps(v)));
        let structured = name != "1 MiB binary";
        let sz = format!("{} B", bytes.len());
        let mut r = Row::new(
            "codec",
            &format!("decode {name} ({sz})"),
            "MB/s",
            true,
            Stat::of(&mbs(&bl_dec)),
            "binary_to_term otp28",
            Stat::of(&mbs(&be_dec)),
        )
        .note(&format!("{} vs {}", n(&bl_dec), n(&be_dec)));
        if structured {
            r = r.target(1.0 / 1.5);
        }
        table.push(r);
        let mut r = Row::new(
            "codec",
            &format!("decode {name}"),
            "MB/s",
            true,
            Stat::of(&mbs(&bl_dec)),
            "eetf 0.12 decode",
            Stat::of(&mbs(&ee_dec)),
        )
        .note(&format!("{} vs {}", n(&bl_dec), n(&ee_dec)));
        if structured {
            r = r.target(0.5);
        }
        table.push(r);
        table.push(
            Row::new(
                "codec",
                &format!("encode {name}"),
                "MB/s",
                true,
                Stat::of(&mbs(&bl_enc)),
                "term_to_binary otp28",
                Stat::of(&mbs(&be_enc)),
            )
            .note(&format!("{} vs {}", n(&bl_enc), n(&be_enc))),
        );
        table.push(
            Row::new(
                "codec",
                &format!("encode {name}"),
                "MB/s",
                true,
                Stat::of(&mbs(&bl_enc)),
                "eetf 0.12 encode",
                Stat::of(&mbs(&ee_enc)),
            )
            .note(&format!("{} vs {}", n(&bl_enc), n(&ee_enc)))
            .target(1.0 / 1.5),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn memory_rows(env: &Env, cfg: &Cfg, table: &mut Table, self_exe: &Path) {
    note("memory: 100 listening beamlink nodes to hold connections to");
    let mut child = Command::new(self_exe)
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
            let out =
                Command::new(self_exe).arg("memnode").arg(&env.cookie).args(peers).output().expect("memnode");
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
        table.push(
            Row::new(
                "memory",
                &format!("RSS holding {count} idle connection(s)"),
                "MiB",
                false,
                Stat::of(&b),
                "fresh BEAM node (otp28), same connections",
                Stat::of(&r),
            )
            .note("peers are hidden beamlink listener nodes"),
        );
    }
    drop(child.stdin.take());
    let _ = child.wait();

    note("memory: per call in flight");
    let target = env.t28.name.clone();
    let n = 4096;
    let sleep_ms = 3000;
    let (mut b, mut r) = (vec![], vec![]);
    for _ in 0..cfg.mem_reps.max(1) {
        let out = Command::new(self_exe)
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
        .note("RSS growth while the calls sleep in timer:sleep/1 on the target, / calls"),
    );
}
