//! `beamlink info NODE`: what a dashboard's home page shows, gathered with concurrent calls.

use beamlink::term::Term;
use serde_json::{Map, Value, json};

use super::{Outcome, call_failure};
use crate::ctx::Ctx;
use crate::exit;
use crate::out::Out;

const QUERIES: &[(&str, &str, &str, &str)] = &[
    ("node", "erlang", "node", "[]"),
    ("otp_release", "erlang", "system_info", "[otp_release]"),
    ("erts_version", "erlang", "system_info", "[version]"),
    ("uptime_ms", "erlang", "statistics", "[wall_clock]"),
    ("schedulers", "erlang", "system_info", "[schedulers]"),
    ("schedulers_online", "erlang", "system_info", "[schedulers_online]"),
    ("process_count", "erlang", "system_info", "[process_count]"),
    ("process_limit", "erlang", "system_info", "[process_limit]"),
    ("port_count", "erlang", "system_info", "[port_count]"),
    ("port_limit", "erlang", "system_info", "[port_limit]"),
    ("atom_count", "erlang", "system_info", "[atom_count]"),
    ("atom_limit", "erlang", "system_info", "[atom_limit]"),
    ("memory", "erlang", "memory", "[]"),
    ("nodes", "erlang", "nodes", "[]"),
    ("hidden_nodes", "erlang", "nodes", "[hidden]"),
];

pub async fn run(ctx: &Ctx, target: &str) -> Outcome {
    let node = ctx.connect(target).await?;
    let mut set = tokio::task::JoinSet::new();
    for (i, (_, m, f, a)) in QUERIES.iter().enumerate() {
        let (node, target, t) = (node.clone(), target.to_string(), ctx.left());
        let args = beamlink::term::parse(a).expect("static args");
        set.spawn(async move { (i, node.call(&target, m, f, args, t).await) });
    }
    let mut answers: Vec<Option<Term>> = vec![None; QUERIES.len()];
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.expect("query task");
        answers[i] = Some(r.map_err(|e| call_failure(&e, ctx))?);
    }
    let v: Vec<Term> = answers.into_iter().map(|a| a.expect("every query answered")).collect();
    let get = |key: &str| &v[QUERIES.iter().position(|q| q.0 == key).expect("known key")];
    let mut out = Out::new(false);
    if ctx.g.json {
        out.line(serde_json::to_string_pretty(&to_json(&v)).expect("json"))?;
    } else {
        out.write(&report(&get))?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// The human-readable page.
fn report<'a>(get: &impl Fn(&str) -> &'a Term) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let int = |key: &str| get(key).as_int().unwrap_or(0);
    let uptime = get("uptime_ms").as_tuple().and_then(|t| t[0].as_int()).unwrap_or(0) / 1000;
    let _ = writeln!(s, "node            {}", text(get("node")));
    let _ = writeln!(s, "OTP release     {}", text(get("otp_release")));
    let _ = writeln!(s, "ERTS version    {}", text(get("erts_version")));
    let _ = writeln!(
        s,
        "uptime          {}d {:02}h {:02}m {:02}s",
        uptime / 86400,
        uptime / 3600 % 24,
        uptime / 60 % 60,
        uptime % 60
    );
    let _ = writeln!(s, "schedulers      {} ({} online)", int("schedulers"), int("schedulers_online"));
    for (label, count, limit) in [
        ("processes", "process_count", "process_limit"),
        ("ports", "port_count", "port_limit"),
        ("atoms", "atom_count", "atom_limit"),
    ] {
        let (c, l) = (int(count), int(limit));
        let _ = writeln!(s, "{label:<15} {c} / {l} ({:.1}%)", 100.0 * c as f64 / l.max(1) as f64);
    }
    let _ = writeln!(s, "memory");
    if let Some(items) = get("memory").as_list() {
        for item in items {
            if let Some([k, n]) = item.as_tuple() {
                let _ = writeln!(s, "  {:<13} {}", text(k), human(n.as_int().unwrap_or(0)));
            }
        }
    }
    let list =
        |t: &Term| t.as_list().map(|l| l.iter().map(text).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    let _ = writeln!(s, "nodes           {}", list(get("nodes")));
    let _ = writeln!(s, "hidden nodes    {}", list(get("hidden_nodes")));
    s
}

/// Charlists and atoms as plain text, anything else in Erlang syntax.
fn text(t: &Term) -> String {
    match t {
        Term::Atom(a) => a.as_str().to_string(),
        Term::List(l) if !l.is_empty() && l.iter().all(|c| matches!(c, Term::Int(0..=0x10ffff))) => {
            l.iter().filter_map(|c| c.as_int().and_then(|i| char::from_u32(i as u32))).collect()
        }
        other => other.to_string(),
    }
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

fn to_json(v: &[Term]) -> Value {
    let mut obj = Map::new();
    for ((key, ..), t) in QUERIES.iter().zip(v) {
        let value = match *key {
            "uptime_ms" => json!(t.as_tuple().and_then(|x| x[0].as_int())),
            "memory" => {
                let mut m = Map::new();
                for item in t.as_list().unwrap_or(&[]) {
                    if let Some([k, n]) = item.as_tuple() {
                        m.insert(text(k), json!(n.as_int()));
                    }
                }
                Value::Object(m)
            }
            "nodes" | "hidden_nodes" => {
                json!(t.as_list().unwrap_or(&[]).iter().map(text).collect::<Vec<_>>())
            }
            _ => match t.as_int() {
                Some(i) => json!(i),
                None => json!(text(t)),
            },
        };
        obj.insert(key.to_string(), value);
    }
    Value::Object(obj)
}
