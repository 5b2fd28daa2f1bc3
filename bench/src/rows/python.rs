//! The Python package: `node.call` from Python against BEAM↔BEAM `erpc` and the pure-Python
//! `erldistpy` client, 256 asyncio calls in flight against the Rust API doing the same, and
//! the codec against the Python ETF codecs on PyPI (`earl-etf`, `erlpack`, `erlang-py`,
//! `elixir-py`) and `pickle`. The Python side is `bench/python/pybench.py`, run once in the
//! repo venv (`bench/python/setup.sh` installs the package and the peers); its figures come
//! back as JSON lines and join this run's table.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Instant;

use beamlink::Term;
use beamlink_test_support::{Otp, repo_root};

use crate::cfg::Cfg;
use crate::corpus;
use crate::env::{CALL_TIMEOUT, Env, eval, note, nums, percentile, text_of};
use crate::rpc;
use crate::table::{Row, Stat, Table};

/// The Python ETF codecs compared, as `pybench.py` labels them.
const PEERS: &[&str] = &["earl-etf", "erlpack", "erlang-py", "elixir-py"];

struct Py {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Py {
    fn start() -> Result<Py, String> {
        let python = repo_root().join(".cache/venv/bin/python");
        let script = repo_root().join("bench/python/pybench.py");
        let mut child = Command::new(&python)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped"));
        Ok(Py { child, stdin, stdout })
    }

    /// Sends one command; the answer as a term (JSON maps as proplists of binaries), or the
    /// error the script reported.
    fn ask(&mut self, cmd: &str) -> Result<Json, String> {
        writeln!(self.stdin, "{cmd}").map_err(|e| e.to_string())?;
        self.stdin.flush().map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.stdout.read_line(&mut line).map_err(|e| e.to_string())?;
        if line.is_empty() {
            return Err("pybench.py exited".into());
        }
        let j = Json::parse(&line)?;
        match j.get("error") {
            Some(Json::Str(e)) => Err(e.clone()),
            _ => Ok(j),
        }
    }
}

impl Drop for Py {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn rows(env: &Env, cfg: &Cfg, table: &mut Table) {
    let mut py = match Py::start() {
        Ok(p) => p,
        Err(why) => return skip_all(table, &why),
    };
    let started = match py.ask(&format!(r#"{{"cmd": "start", "cookie": "{}"}}"#, env.cookie)) {
        Ok(j) => j,
        Err(why) => return skip_all(table, &format!("the Python package does not start: {why}")),
    };
    let peers: Vec<String> = started.get("peers").map(Json::strings).unwrap_or_default();
    note(&format!("python: beamlink package ready, peers: {}", peers.join(", ")));
    latency(env, cfg, table, &mut py);
    throughput(env, cfg, table, &mut py);
    codec(env, cfg, table, &mut py);
}

fn skip_all(table: &mut Table, why: &str) {
    note(&format!("python rows skipped: {why}"));
    table.push(Row::skipped("python", "Python package rows", "–", why));
}

fn latency(env: &Env, cfg: &Cfg, table: &mut Table, py: &mut Py) {
    for otp in Otp::ALL {
        note(&format!("python: node.call latency, {}", otp.label()));
        let (t, c) = env.beam(otp);
        let target = &t.name;
        let (mut p50, mut p99, mut r50, mut e50) = (vec![], vec![], vec![], vec![]);
        let mut failed = None;
        let mut erldist_failed = None;
        for _ in 0..cfg.reps {
            let cmd = format!(
                r#"{{"cmd": "lat", "target": "{target}", "warm": {}, "n": {}}}"#,
                cfg.lat_warm, cfg.lat_n
            );
            match py.ask(&cmd) {
                Ok(j) => {
                    p50.push(j.num("p50"));
                    p99.push(j.num("p99"));
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
            let r = nums(&eval(
                c,
                &format!(
                    "beamlink_bench:isolated(lat, ['{target}', erlang, node, [], {}, {}]).",
                    cfg.lat_warm, cfg.lat_n
                ),
            ));
            r50.push(percentile(&r, 50.0) / 1e3);
            if erldist_failed.is_none() {
                match py.ask(&cmd.replace(r#""lat""#, r#""erldist""#)) {
                    Ok(j) => e50.push(j.num("p50")),
                    Err(e) => erldist_failed = Some(e),
                }
            }
        }
        let label = otp.label();
        let name = format!("Python node.call erlang:node/0 p50, {label}");
        if let Some(why) = failed {
            table.push(Row::skipped("python", &name, "–", &why));
            continue;
        }
        table.push(
            Row::new(
                "python",
                &name,
                "µs",
                false,
                Stat::of(&p50),
                &format!("erpc:call {label}→{label} (BEAM↔BEAM)"),
                Stat::of(&r50),
            )
            .target(1.2)
            .note(&format!("p99 {:.0} µs; sync API, GIL released while waiting", Stat::of(&p99).med))
            .headline(&format!("Python `node.call` p50 vs BEAM↔BEAM `erpc`, {label}")),
        );
        let row = match erldist_failed {
            Some(why) => Row::skipped("python", &name, "erldistpy (PyPI) rex call", &why),
            None => Row::new(
                "python",
                &name,
                "µs",
                false,
                Stat::of(&p50),
                &format!("erldistpy rpc:call through rex → {label}"),
                Stat::of(&e50),
            )
            .note("the pure-Python distribution client on PyPI: one blocking socket, rex calls only"),
        };
        table.push(row.target(1.0).headline(&format!("Python `node.call` p50 vs `erldistpy`, {label}")));
    }
}

fn throughput(env: &Env, cfg: &Cfg, table: &mut Table, py: &mut Py) {
    let (t, _) = env.beam(Otp::V28);
    let target = t.name.clone();
    let inflight = 256usize;
    let per = (cfg.tput_total / inflight).max(2);
    note("python: 256 asyncio calls in flight");
    let (mut p, mut r) = (vec![], vec![]);
    for rep in 0..=cfg.reps {
        let cmd = format!(r#"{{"cmd": "tput", "target": "{target}", "inflight": {inflight}, "per": {per}}}"#);
        let got = match py.ask(&cmd) {
            Ok(j) => j.num("calls_per_s"),
            Err(why) => {
                table.push(Row::skipped("python", "asyncio throughput, 256 in flight", "–", &why));
                return;
            }
        };
        let ns = env.rt.block_on(async {
            let t0 = Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..inflight {
                let (node, target) = (env.bl.clone(), target.clone());
                set.spawn(async move {
                    for _ in 0..per {
                        rpc::call(&node, &target, "erlang", "node", vec![], CALL_TIMEOUT).await.unwrap();
                    }
                });
            }
            while let Some(j) = set.join_next().await {
                j.unwrap();
            }
            t0.elapsed().as_nanos() as f64
        });
        if rep > 0 {
            p.push(got);
            r.push((inflight * per) as f64 / (ns / 1e9));
        }
    }
    table.push(
        Row::new(
            "python",
            "asyncio throughput, 256 calls in flight, otp28",
            "calls/s",
            true,
            Stat::of(&p),
            "the Rust API, 256 tasks in flight",
            Stat::of(&r),
        )
        .target(1.0 / 0.8)
        .headline("Python asyncio, 256 calls in flight, vs the Rust API"),
    );
}

/// The bench corpus, plus what the fast Python codecs are said to fail on, made by OTP 28:
/// pids, references and ports; funs, bitstrings and improper lists.
fn items(env: &Env) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> =
        corpus::corpus().into_iter().map(|(n, t)| (n.to_string(), beamlink::term::encode(&t))).collect();
    let (t28, _) = env.beam(Otp::V28);
    for (name, expr) in [
        (
            "100 pids, refs and ports (OTP 28)",
            "[{self(), make_ref(), hd(erlang:ports())} || _ <- lists:seq(1, 100)]",
        ),
        (
            "funs, bitstrings, improper lists (OTP 28)",
            "[{fun(X) -> X + N end, <<N:13>>, [N, N | tail]} || N <- lists:seq(1, 100)]",
        ),
    ] {
        let hex = eval(t28, &format!("binary:encode_hex(term_to_binary({expr}))."));
        let text = match &hex {
            Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
            other => text_of(other),
        };
        v.push((name.to_string(), from_hex(&text)));
    }
    v
}

fn from_hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn codec(env: &Env, cfg: &Cfg, table: &mut Table, py: &mut Py) {
    let items = items(env);
    for (name, bytes) in &items {
        note(&format!("python codec: {name}"));
        let cmd = format!(
            r#"{{"cmd": "codec", "items": [["{name}", "{}"]], "ms": {}, "reps": {}}}"#,
            to_hex(bytes),
            cfg.codec_ms,
            cfg.reps
        );
        let got = match py.ask(&cmd) {
            Ok(j) => j,
            Err(why) => {
                table.push(Row::skipped("python codec", name, "–", &why));
                continue;
            }
        };
        let Some(Json::List(list)) = got.get("items") else { continue };
        let Some(item) = list.first() else { continue };
        let results = item.get("results");
        let fails: Vec<(String, String)> = match item.get("fails") {
            Some(Json::Obj(kv)) => kv.iter().map(|(k, v)| (k.clone(), v.string())).collect(),
            _ => vec![],
        };
        let series = |who: &str, op: &str, field: &str| -> Option<Vec<f64>> {
            let r = results?.get(&format!("{who}/{op}"))?;
            Some(r.get(field)?.numbers())
        };
        for op in ["decode", "encode"] {
            let Some(mine) = series("beamlink", op, "mb_s") else { continue };
            let target = if op == "decode" { 1.0 / 1.5 } else { 1.0 };
            // The fastest peer that handles the item.
            let best = PEERS
                .iter()
                .filter_map(|p| series(p, op, "mb_s").map(|s| (p, Stat::of(&s))))
                .max_by(|a, b| a.1.med.partial_cmp(&b.1.med).unwrap());
            let failing: Vec<String> = fails
                .iter()
                .filter(|(_, why)| op == "encode" || why.starts_with("decode"))
                .map(|(p, why)| format!("{p} ({why})"))
                .collect();
            let failed_note =
                if failing.is_empty() { String::new() } else { format!("fails: {}", failing.join("; ")) };
            let row = match best {
                Some((peer, stat)) => Row::new(
                    "python codec",
                    &format!("{op} {name}"),
                    "MB/s",
                    true,
                    Stat::of(&mine),
                    &format!("{peer} (fastest that handles it)"),
                    stat,
                )
                .target(target)
                .note(&failed_note)
                .headline(&format!("Python {op} vs the fastest Python ETF codec that handles the item")),
                None => Row::skipped(
                    "python codec",
                    &format!("{op} {name}"),
                    "no Python ETF codec handles it",
                    &format!(
                        "beamlink {:.0} MB/s; {}",
                        Stat::of(&mine).med,
                        if failed_note.is_empty() { "no peer installed".into() } else { failed_note }
                    ),
                ),
            };
            table.push(row);
            let (Some(mine_t), Some(pickle_t)) =
                (series("beamlink", op, "terms_s"), series("pickle", op, "terms_s"))
            else {
                continue;
            };
            let pickle_op = if op == "decode" { "pickle.loads" } else { "pickle.dumps" };
            table.push(
                Row::new(
                    "python codec",
                    &format!("{op} {name}"),
                    "terms/s",
                    true,
                    Stat::of(&mine_t),
                    &format!("{pickle_op} of the same Python object"),
                    Stat::of(&pickle_t),
                )
                .target(1.0)
                .headline(&format!("Python {op} vs `pickle` on the same object")),
            );
        }
    }
}

/// Just enough JSON for pybench.py's answers (objects, arrays, strings, numbers).
#[derive(Debug, Clone)]
enum Json {
    Obj(Vec<(String, Json)>),
    List(Vec<Json>),
    Str(String),
    Num(f64),
    Other,
}

impl Json {
    fn parse(s: &str) -> Result<Json, String> {
        let b = s.trim().as_bytes();
        let mut i = 0;
        let v = parse_value(b, &mut i)?;
        Ok(v)
    }

    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(kv) => kv.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn num(&self, key: &str) -> f64 {
        match self.get(key) {
            Some(Json::Num(n)) => *n,
            other => panic!("pybench.py: {key} is {other:?}"),
        }
    }

    fn numbers(&self) -> Vec<f64> {
        match self {
            Json::List(v) => {
                v.iter().filter_map(|x| if let Json::Num(n) = x { Some(*n) } else { None }).collect()
            }
            _ => vec![],
        }
    }

    fn strings(&self) -> Vec<String> {
        match self {
            Json::List(v) => v.iter().map(Json::string).collect(),
            _ => vec![],
        }
    }

    fn string(&self) -> String {
        match self {
            Json::Str(s) => s.clone(),
            other => format!("{other:?}"),
        }
    }
}

fn skip_ws(b: &[u8], i: &mut usize) {
    while *i < b.len() && b[*i].is_ascii_whitespace() {
        *i += 1;
    }
}

fn parse_value(b: &[u8], i: &mut usize) -> Result<Json, String> {
    skip_ws(b, i);
    match b.get(*i) {
        Some(b'{') => {
            *i += 1;
            let mut kv = Vec::new();
            loop {
                skip_ws(b, i);
                if b.get(*i) == Some(&b'}') {
                    *i += 1;
                    return Ok(Json::Obj(kv));
                }
                let Json::Str(k) = parse_value(b, i)? else { return Err("object key".into()) };
                skip_ws(b, i);
                *i += 1; // ':'
                let v = parse_value(b, i)?;
                kv.push((k, v));
                skip_ws(b, i);
                if b.get(*i) == Some(&b',') {
                    *i += 1;
                }
            }
        }
        Some(b'[') => {
            *i += 1;
            let mut v = Vec::new();
            loop {
                skip_ws(b, i);
                if b.get(*i) == Some(&b']') {
                    *i += 1;
                    return Ok(Json::List(v));
                }
                v.push(parse_value(b, i)?);
                skip_ws(b, i);
                if b.get(*i) == Some(&b',') {
                    *i += 1;
                }
            }
        }
        Some(b'"') => {
            *i += 1;
            let mut s = String::new();
            while let Some(&c) = b.get(*i) {
                *i += 1;
                match c {
                    b'"' => return Ok(Json::Str(s)),
                    b'\\' => {
                        let e = *b.get(*i).ok_or("escape")?;
                        *i += 1;
                        match e {
                            b'n' => s.push('\n'),
                            b't' => s.push('\t'),
                            b'u' => {
                                let hex = std::str::from_utf8(&b[*i..*i + 4]).map_err(|e| e.to_string())?;
                                *i += 4;
                                let cp = u32::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
                                s.push(char::from_u32(cp).unwrap_or('?'));
                            }
                            other => s.push(other as char),
                        }
                    }
                    _ => {
                        // Multi-byte UTF-8 passes through byte by byte.
                        let start = *i - 1;
                        let len = utf8_len(c);
                        s.push_str(std::str::from_utf8(&b[start..start + len]).unwrap_or("?"));
                        *i = start + len;
                    }
                }
            }
            Err("unterminated string".into())
        }
        Some(c) if *c == b'-' || c.is_ascii_digit() => {
            let start = *i;
            while *i < b.len() && matches!(b[*i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                *i += 1;
            }
            let t = std::str::from_utf8(&b[start..*i]).map_err(|e| e.to_string())?;
            t.parse().map(Json::Num).map_err(|e| format!("{t}: {e}"))
        }
        Some(_) => {
            // true, false, null, NaN, Infinity: not figures.
            while *i < b.len() && b[*i].is_ascii_alphabetic() {
                *i += 1;
            }
            Ok(Json::Other)
        }
        None => Err("unexpected end".into()),
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}
