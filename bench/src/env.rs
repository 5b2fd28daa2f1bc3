//! What every bench family shares: the BEAM nodes, the beamlink node and its runtime, and the
//! small helpers to read figures back from the nodes.

use std::path::PathBuf;
use std::time::Duration;

use beamlink::{Node, Term};
use beamlink_test_support::{Otp, TestNode, unique_name};

pub const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// The nodes of one run: per OTP release a target and a (hidden) BEAM caller, plus the
/// beamlink node every in-process beamlink row calls from.
pub struct Env {
    pub rt: tokio::runtime::Runtime,
    pub bl: Node,
    pub cookie: String,
    pub ebin: PathBuf,
    /// This executable, for the rows that time or measure a child process.
    pub self_exe: PathBuf,
    pub t25: TestNode,
    pub c25: TestNode,
    pub t28: TestNode,
    pub c28: TestNode,
}

impl Env {
    /// (target, caller) of one OTP release.
    pub fn beam(&self, otp: Otp) -> (&TestNode, &TestNode) {
        match otp {
            Otp::V25 => (&self.t25, &self.c25),
            Otp::V28 => (&self.t28, &self.c28),
        }
    }

    /// Runs beamlink's side of a row as a tokio task, as an application's code runs, and waits
    /// for it. (Calling from the thread blocked in `block_on` adds a cross-thread wake-up to
    /// every reply that no task pays; `BENCH_CALLER=block_on` measures that way anyway.)
    pub fn task<T: Send + 'static>(&self, f: impl std::future::Future<Output = T> + Send + 'static) -> T {
        if std::env::var("BENCH_CALLER").as_deref() == Ok("block_on") {
            self.rt.block_on(f)
        } else {
            self.rt.block_on(self.rt.spawn(f)).expect("bench task")
        }
    }

    /// A BEAM node of its own for one row, so no earlier row's garbage is in its figures.
    pub fn fresh_beam(&self, otp: Otp, prefix: &str) -> TestNode {
        TestNode::builder(otp)
            .prefix(prefix)
            .cookie(&self.cookie)
            .code_path(&self.ebin)
            .start()
            .expect("starting BEAM node")
    }
}

/// Multi-thread by default, as most applications run tokio; BENCH_RT=current tries the
/// single-thread scheduler, which saves the cross-thread wake-ups on every message.
pub fn runtime() -> tokio::runtime::Runtime {
    match std::env::var("BENCH_RT").as_deref() {
        Ok("current") => tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
        _ => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if let Some(n) = std::env::var("BENCH_THREADS").ok().and_then(|n| n.parse().ok()) {
                b.worker_threads(n);
            }
            b.enable_all().build().unwrap()
        }
    }
}

pub async fn start_node(cookie: &str) -> Node {
    Node::builder(format!("{}@localhost", unique_name("blbench")))
        .cookie(cookie)
        .start()
        .await
        .expect("starting beamlink node")
}

/// Numbers in a (nested) list term.
pub fn nums(t: &Term) -> Vec<f64> {
    match t {
        Term::List(v) => v.iter().flat_map(nums).collect(),
        Term::Int(i) => vec![*i as f64],
        Term::Float(f) => vec![*f],
        _ => panic!("expected numbers, got {t}"),
    }
}

/// Evaluates `expr` on a BEAM node and returns the `Value` of its `{ok, Value}`.
pub fn eval(node: &TestNode, expr: &str) -> Term {
    let r = node
        .eval_timeout(expr, Duration::from_secs(600))
        .unwrap_or_else(|e| panic!("{expr} on {}: {e}", node.name));
    let t = beamlink::term::parse(&r).unwrap_or_else(|e| panic!("parsing {r:.200}: {e:?}"));
    match &t {
        Term::Tuple(v) if v.len() == 2 && v[0].is_atom("ok") => v[1].clone(),
        other => panic!("{expr} on {} failed: {other}", node.name),
    }
}

/// Nearest-rank percentile.
pub fn percentile(v: &[f64], p: f64) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let i = ((p / 100.0) * (s.len() - 1) as f64).round() as usize;
    s[i]
}

pub fn note(msg: &str) {
    eprintln!("bench: {msg}");
}

/// A charlist as printed by the control loop comes back as a string or a list of ints.
pub fn text_of(t: &Term) -> String {
    match t {
        Term::List(v) => v
            .iter()
            .filter_map(|c| if let Term::Int(i) = c { char::from_u32(*i as u32) } else { None })
            .collect(),
        Term::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        other => other.to_string(),
    }
}
