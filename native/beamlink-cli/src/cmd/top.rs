//! `beamlink top NODE`: what etop and observer_cli show, from the shell. Every interval: the
//! processes that did the most work since the last look (or hold the most memory, or have
//! the longest message queues) with their name or initial call, the node's memory and its
//! schedulers' use. `q` quits; `--once` prints one view (after one interval, for the
//! reduction counts) and exits, as text or JSON.
//!
//! Sampling costs the node one call per interval over all its processes (pid, reductions,
//! memory, queue length), then one for the details of the few shown. Scheduler use needs
//! `scheduler_wall_time`, which a helper process we spawn (linked to us) keeps switched on
//! while we watch.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use beamlink::rpc::{IoServer, SpawnOptions, Spawned};
use beamlink::term::{Pid, Term};
use tokio::time::Instant;

use super::{Failure, Outcome, json_document};
use crate::cli::SortBy;
use crate::ctx::Ctx;
use crate::evaluator::{EvalError, Evaluator};
use crate::out::Out;
use crate::{exit, explain, render};

/// Every process: `{Pid, Reductions, Memory, QueueLength}`; and the node's figures.
const SAMPLE: &str = "{[{P, R, M, Q} || P <- erlang:processes(), \
    [{reductions, R}, {memory, M}, {message_queue_len, Q}] <- \
    [erlang:process_info(P, [reductions, memory, message_queue_len])]], \
    erlang:memory(), erlang:statistics(scheduler_wall_time), erlang:statistics(run_queue), \
    erlang:system_info(process_count)}";

/// The details of the processes shown (bound as `Shown`): a gen_server's initial call is
/// proc_lib's, so the one proc_lib keeps for it is shown instead.
const DETAILS: &str = "[{P, erlang:process_info(P, registered_name), \
    case erlang:process_info(P, initial_call) of \
        {initial_call, {proc_lib, init_p, 5}} -> (catch proc_lib:translate_initial_call(P)); \
        {initial_call, I} -> I; _ -> undefined end, \
    erlang:process_info(P, current_function)} || P <- Shown]";

struct Sample {
    at: Instant,
    procs: HashMap<Pid, (i64, i64, i64)>,
    memory: Vec<(String, i64)>,
    /// Scheduler id → (active, total) wall time.
    schedulers: HashMap<i64, (i64, i64)>,
    run_queue: i64,
    process_count: i64,
}

struct Row {
    pid: Pid,
    reductions: i64,
    memory: i64,
    queue: i64,
    name: String,
    current: String,
}

pub async fn run(ctx: &Ctx, target: &str, once: bool, interval: f64, sort: SortBy, limit: usize) -> Outcome {
    if ctx.g.json && !once {
        return Err(Failure::usage("top --json needs --once"));
    }
    let interval = Duration::from_secs_f64(interval.max(0.1));
    let node = ctx.connect(target).await?;
    let (io, _output) = IoServer::start(&node);
    let mut ev = Evaluator::new(node.clone(), target, false);
    let helper = wall_time_helper(ctx, &node, target).await;
    let result = if once {
        once_view(ctx, &mut ev, &io, target, interval, sort, limit).await
    } else {
        live(ctx, &mut ev, &io, target, interval, sort, limit).await
    };
    if let Some(h) = helper {
        let _ = h.kill().await;
    }
    result
}

async fn once_view(
    ctx: &Ctx,
    ev: &mut Evaluator,
    io: &IoServer,
    target: &str,
    interval: Duration,
    sort: SortBy,
    limit: usize,
) -> Outcome {
    let first = sample(ctx, ev, io).await?;
    tokio::select! {
        () = tokio::time::sleep(interval) => {}
        sig = ctx.interrupted() => return Err(Failure::interrupted(sig)),
    }
    let second = sample(ctx, ev, io).await?;
    let rows = top_rows(ctx, ev, io, &first, &second, sort, limit).await?;
    let mut out = Out::new(false);
    if ctx.g.json {
        json_document(ctx, &mut out, json(ctx, target, &first, &second, &rows))?;
    } else {
        out.write(&page(target, &first, &second, &rows, sort, interval))?;
        out.flush()?;
    }
    Ok(exit::OK)
}

/// Redraws every interval until `q` (0) or Ctrl-C (130).
async fn live(
    ctx: &Ctx,
    ev: &mut Evaluator,
    io: &IoServer,
    target: &str,
    interval: Duration,
    sort: SortBy,
    limit: usize,
) -> Outcome {
    let _screen = Screen::enter();
    let mut keys = keys();
    let mut out = Out::new(false);
    let mut last = sample(ctx, ev, io).await?;
    out.write(&format!("\x1b[H\x1b[2Jbeamlink top: sampling {target}…\r\n"))?;
    out.flush()?;
    loop {
        let tick = tokio::time::sleep(interval);
        tokio::pin!(tick);
        loop {
            tokio::select! {
                () = &mut tick => break,
                k = keys.recv() => match k {
                    Some(b'q' | b'Q') | None => return Ok(exit::OK),
                    _ => {}
                },
                sig = ctx.interrupted() => return Err(Failure::interrupted(sig)),
            }
        }
        let now = sample(ctx, ev, io).await?;
        let rows = top_rows(ctx, ev, io, &last, &now, sort, limit).await?;
        let text = page(target, &last, &now, &rows, sort, interval).replace('\n', "\x1b[K\r\n");
        out.write(&format!("\x1b[H{text}\x1b[J"))?;
        out.flush()?;
        last = now;
    }
}

async fn eval(ctx: &Ctx, ev: &mut Evaluator, io: &IoServer, code: &str) -> Result<Term, Failure> {
    match ev.eval(code, io, ctx.left()).await {
        Ok(t) => Ok(t),
        Err(EvalError::Call(e)) => Err(explain::plain(ctx, &e)),
        Err(EvalError::Syntax { message, .. }) => Err(Failure::usage(message)),
    }
}

async fn sample(ctx: &Ctx, ev: &mut Evaluator, io: &IoServer) -> Result<Sample, Failure> {
    let t = eval(ctx, ev, io, SAMPLE).await?;
    let at = Instant::now();
    let bad =
        || Failure { code: exit::UNEXPECTED, message: "the node's statistics have an unknown shape".into() };
    let [procs, memory, wall, run_queue, count] = t.as_tuple().ok_or_else(bad)? else { return Err(bad()) };
    let mut by_pid = HashMap::new();
    for p in procs.as_list().unwrap_or(&[]) {
        if let Some([Term::Pid(pid), r, m, q]) = p.as_tuple() {
            let n = |t: &Term| t.as_int().unwrap_or(0);
            by_pid.insert(pid.clone(), (n(r), n(m), n(q)));
        }
    }
    let memory = memory
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|kv| match kv.as_tuple() {
            Some([k, v]) => Some((k.as_atom()?.to_string(), v.as_int()?)),
            _ => None,
        })
        .collect();
    // `undefined` until the helper has switched scheduler_wall_time on.
    let schedulers = wall
        .as_list()
        .unwrap_or(&[])
        .iter()
        .filter_map(|s| match s.as_tuple() {
            Some([id, active, total]) => Some((id.as_int()?, (active.as_int()?, total.as_int()?))),
            _ => None,
        })
        .collect();
    Ok(Sample {
        at,
        procs: by_pid,
        memory,
        schedulers,
        run_queue: run_queue.as_int().unwrap_or(0),
        process_count: count.as_int().unwrap_or(0),
    })
}

/// The processes to show, most busy first, with their names and current functions.
#[allow(clippy::too_many_arguments)]
async fn top_rows(
    ctx: &Ctx,
    ev: &mut Evaluator,
    io: &IoServer,
    before: &Sample,
    now: &Sample,
    sort: SortBy,
    limit: usize,
) -> Result<Vec<Row>, Failure> {
    let mut rows: Vec<(Pid, i64, i64, i64)> = now
        .procs
        .iter()
        .map(|(pid, &(r, m, q))| {
            let delta = r - before.procs.get(pid).map_or(0, |p| p.0);
            (pid.clone(), delta.max(0), m, q)
        })
        .collect();
    let key = |r: &(Pid, i64, i64, i64)| match sort {
        SortBy::Reductions => r.1,
        SortBy::Memory => r.2,
        SortBy::Msgq => r.3,
    };
    rows.sort_by(|a, b| key(b).cmp(&key(a)).then_with(|| b.1.cmp(&a.1)));
    rows.truncate(limit);
    ev.bind("Shown", Term::list(rows.iter().map(|r| Term::Pid(r.0.clone()))));
    let details = eval(ctx, ev, io, DETAILS).await?;
    let mut names: HashMap<Pid, (String, String)> = HashMap::new();
    for d in details.as_list().unwrap_or(&[]) {
        if let Some([Term::Pid(pid), reg, initial, current]) = d.as_tuple() {
            let name = match reg.as_tuple() {
                Some([_, n]) if n.as_atom().is_some() => n.as_atom().unwrap_or_default().to_string(),
                _ => mfa(initial),
            };
            let current = match current.as_tuple() {
                Some([_, c]) => mfa(c),
                _ => String::new(),
            };
            names.insert(pid.clone(), (name, current));
        }
    }
    // A process that ended since the sample (our own sampling call, often) is left out.
    Ok(rows
        .into_iter()
        .filter_map(|(pid, reductions, memory, queue)| {
            let (name, current) = names.remove(&pid).filter(|(_, c)| !c.is_empty())?;
            Some(Row { pid, reductions, memory, queue, name, current })
        })
        .collect())
}

/// `{M, F, A}` as `m:f/a`.
fn mfa(t: &Term) -> String {
    match t.as_tuple() {
        Some([m, f, a]) => format!("{}:{}/{}", render_atom(m), render_atom(f), a.as_int().unwrap_or(0)),
        _ => crate::print::term(t, false),
    }
}

fn render_atom(t: &Term) -> String {
    t.as_atom().map(str::to_string).unwrap_or_else(|| crate::print::term(t, false))
}

/// Average scheduler use over the interval, overall and per scheduler (0–100).
fn scheduler_use(before: &Sample, now: &Sample) -> Option<(f64, Vec<f64>)> {
    let mut ids: Vec<&i64> = now.schedulers.keys().collect();
    ids.sort();
    let mut each = Vec::new();
    let (mut active, mut total) = (0i64, 0i64);
    for id in ids {
        let (a1, t1) = now.schedulers[id];
        let (a0, t0) = *before.schedulers.get(id)?;
        let (da, dt) = (a1 - a0, t1 - t0);
        each.push(if dt > 0 { 100.0 * da as f64 / dt as f64 } else { 0.0 });
        active += da;
        total += dt;
    }
    (total > 0).then(|| (100.0 * active as f64 / total as f64, each))
}

fn human(bytes: i64) -> String {
    let b = bytes as f64;
    match b {
        _ if b >= 1e9 => format!("{:.1} GB", b / 1e9),
        _ if b >= 1e6 => format!("{:.1} MB", b / 1e6),
        _ if b >= 1e3 => format!("{:.1} kB", b / 1e3),
        _ => format!("{bytes} B"),
    }
}

fn page(
    target: &str,
    before: &Sample,
    now: &Sample,
    rows: &[Row],
    sort: SortBy,
    interval: Duration,
) -> String {
    let mut s = String::new();
    let by = match sort {
        SortBy::Reductions => "reductions",
        SortBy::Memory => "memory",
        SortBy::Msgq => "message queue",
    };
    let _ = writeln!(s, "beamlink top {target}: by {by}, every {:.1}s (q quits)", interval.as_secs_f64());
    let _ = write!(s, "processes {}   run queue {}", now.process_count, now.run_queue);
    match scheduler_use(before, now) {
        Some((all, each)) => {
            let each: Vec<String> = each.iter().map(|u| format!("{u:.0}%")).collect();
            let _ = writeln!(s, "   schedulers {all:.1}% [{}]", each.join(" "));
        }
        None => {
            let _ = writeln!(s, "   schedulers: measuring");
        }
    }
    let mem = |k: &str| now.memory.iter().find(|(n, _)| n == k).map_or(0, |(_, v)| *v);
    let _ = writeln!(
        s,
        "memory {}   processes {}   ets {}   binary {}   atom {}   code {}",
        human(mem("total")),
        human(mem("processes")),
        human(mem("ets")),
        human(mem("binary")),
        human(mem("atom")),
        human(mem("code"))
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<24} {:<40} {:>11} {:>10} {:>7}  CURRENT FUNCTION",
        "PID", "NAME OR INITIAL CALL", "REDUCTIONS", "MEMORY", "MSGQ"
    );
    for r in rows {
        let pid = crate::print::term(&Term::Pid(r.pid.clone()), false);
        let _ = writeln!(
            s,
            "{:<24} {:<40} {:>11} {:>10} {:>7}  {}",
            pid,
            r.name.chars().take(40).collect::<String>(),
            r.reductions,
            human(r.memory),
            r.queue,
            r.current
        );
    }
    s
}

fn json(ctx: &Ctx, target: &str, before: &Sample, now: &Sample, rows: &[Row]) -> render::Limited {
    render::document(ctx, |d| {
        d.raw("{")?;
        d.key("node", true)?;
        d.string(target)?;
        d.key("interval_ms", false)?;
        d.raw(&now.at.duration_since(before.at).as_millis().to_string())?;
        d.key("process_count", false)?;
        d.raw(&now.process_count.to_string())?;
        d.key("run_queue", false)?;
        d.raw(&now.run_queue.to_string())?;
        d.key("scheduler_use", false)?;
        match scheduler_use(before, now) {
            Some((all, _)) => d.raw(&format!("{all:.2}"))?,
            None => d.raw("null")?,
        }
        d.key("memory", false)?;
        d.raw("{")?;
        for (i, (k, v)) in now.memory.iter().enumerate() {
            d.key(k, i == 0)?;
            d.raw(&v.to_string())?;
        }
        d.raw("}")?;
        d.key("processes", false)?;
        d.raw("[")?;
        for (i, r) in rows.iter().enumerate() {
            d.raw(if i == 0 { "{" } else { ", {" })?;
            d.key("pid", true)?;
            d.term(&Term::Pid(r.pid.clone()))?;
            d.key("name", false)?;
            d.string(&r.name)?;
            d.key("reductions", false)?;
            d.raw(&r.reductions.to_string())?;
            d.key("memory", false)?;
            d.raw(&r.memory.to_string())?;
            d.key("message_queue_len", false)?;
            d.raw(&r.queue.to_string())?;
            d.key("current_function", false)?;
            d.string(&r.current)?;
            d.raw("}")?;
        }
        d.raw("]}")
    })
}

/// A process on the node that switches `scheduler_wall_time` on for as long as it lives
/// (the flag follows the process that set it), linked to us so it ends when we go.
async fn wall_time_helper(ctx: &Ctx, node: &beamlink::Node, target: &str) -> Option<Spawned> {
    let a = |n: &str| Term::tuple([Term::atom("atom"), Term::from(1), Term::atom(n)]);
    let call = Term::tuple([
        Term::atom("call"),
        Term::from(1),
        Term::tuple([Term::atom("remote"), Term::from(1), a("erlang"), a("system_flag")]),
        Term::list([a("scheduler_wall_time"), a("true")]),
    ]);
    let wait = Term::tuple([
        Term::atom("receive"),
        Term::from(1),
        Term::list([Term::tuple([
            Term::atom("clause"),
            Term::from(1),
            Term::list([a("stop")]),
            Term::nil(),
            Term::list([a("ok")]),
        ])]),
    ]);
    let args = Term::list([Term::list([call, wait]), Term::nil()]);
    let opts = SpawnOptions { link: true, timeout: ctx.left(), ..SpawnOptions::default() };
    node.spawn(target, "erl_eval", "exprs", args, opts).await.ok()
}

/// Keys pressed, one byte each, read on a thread of its own (stdin blocks).
fn keys() -> tokio::sync::mpsc::UnboundedReceiver<u8> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut b = [0u8; 1];
        while let Ok(1) = std::io::stdin().read(&mut b) {
            if tx.send(b[0]).is_err() {
                break;
            }
        }
    });
    rx
}

/// The terminal as `top` uses it: keys without Enter or echo, the alternate screen, no
/// cursor; all put back at the end.
struct Screen(Option<libc::termios>);

impl Screen {
    fn enter() -> Screen {
        // SAFETY: termios calls on stdin when it is a terminal.
        let saved = unsafe {
            if libc::isatty(0) == 1 {
                let mut t: libc::termios = std::mem::zeroed();
                if libc::tcgetattr(0, &mut t) == 0 {
                    let mut raw = t;
                    raw.c_lflag &= !(libc::ICANON | libc::ECHO);
                    raw.c_cc[libc::VMIN] = 1;
                    raw.c_cc[libc::VTIME] = 0;
                    libc::tcsetattr(0, libc::TCSANOW, &raw);
                    Some(t)
                } else {
                    None
                }
            } else {
                None
            }
        };
        let _ = std::io::Write::write_all(&mut std::io::stdout(), b"\x1b[?1049h\x1b[?25l");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        Screen(saved)
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        let _ = std::io::Write::write_all(&mut std::io::stdout(), b"\x1b[?25h\x1b[?1049l");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        if let Some(t) = &self.0 {
            // SAFETY: restoring the settings read at the start.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, t);
            }
        }
    }
}
