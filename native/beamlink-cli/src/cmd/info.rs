//! `beamlink info NODE`: what a dashboard's home page shows, gathered with concurrent calls.

use beamlink::term::Term;
use serde_json::{Map, Value, json};

use super::{Outcome, call_failure, connect, timeout};
use crate::cli::Global;
use crate::exit;

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

pub async fn run(g: &Global, target: &str, as_json: bool) -> Outcome {
    let node = connect(g, target).await?;
    let mut set = tokio::task::JoinSet::new();
    for (i, (_, m, f, a)) in QUERIES.iter().enumerate() {
        let (node, target, t) = (node.clone(), target.to_string(), timeout(g));
        let args = beamlink::term::parse(a).expect("static args");
        set.spawn(async move { (i, node.call(&target, m, f, args, t).await) });
    }
    let mut answers: Vec<Option<Term>> = vec![None; QUERIES.len()];
    while let Some(joined) = set.join_next().await {
        let (i, r) = joined.expect("query task");
        answers[i] = Some(r.map_err(|e| call_failure(&e, g.elixir))?);
    }
    let v: Vec<Term> = answers.into_iter().map(|a| a.expect("every query answered")).collect();
    let get = |key: &str| &v[QUERIES.iter().position(|q| q.0 == key).expect("known key")];
    let info = to_json(&v);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&info).expect("json"));
        return Ok(exit::OK);
    }
    let int = |key: &str| get(key).as_int().unwrap_or(0);
    let uptime = get("uptime_ms").as_tuple().and_then(|t| t[0].as_int()).unwrap_or(0) / 1000;
    println!("node            {}", text(get("node")));
    println!("OTP release     {}", text(get("otp_release")));
    println!("ERTS version    {}", text(get("erts_version")));
    println!(
        "uptime          {}d {:02}h {:02}m {:02}s",
        uptime / 86400,
        uptime / 3600 % 24,
        uptime / 60 % 60,
        uptime % 60
    );
    println!("schedulers      {} ({} online)", int("schedulers"), int("schedulers_online"));
    for (label, count, limit) in [
        ("processes", "process_count", "process_limit"),
        ("ports", "port_count", "port_limit"),
        ("atoms", "atom_count", "atom_limit"),
    ] {
        let (c, l) = (int(count), int(limit));
        println!("{label:<15} {c} / {l} ({:.1}%)", 100.0 * c as f64 / l.max(1) as f64);
    }
    println!("memory");
    if let Some(items) = get("memory").as_list() {
        for item in items {
            if let Some([k, n]) = item.as_tuple() {
                println!("  {:<13} {}", text(k), human(n.as_int().unwrap_or(0)));
            }
        }
    }
    let list =
        |t: &Term| t.as_list().map(|l| l.iter().map(text).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    println!("nodes           {}", list(get("nodes")));
    println!("hidden nodes    {}", list(get("hidden_nodes")));
    Ok(exit::OK)
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
