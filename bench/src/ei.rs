//! The reference C client: OTP's own erl_interface (`ei`), the way a C program reaches a BEAM
//! node today, calling through `ei_rpc` (`rpc:call` via the target's `rex` server).
//!
//! The client is `bench/ei/ei_rpc_bench.c`, compiled by `bench/build.rs` against Debian's
//! erlang-dev (or `$EI_DIR`). Any row that wants "what a C program with `ei` gets" runs it
//! through [`run`]: connect times (epmd lookup + handshake, each under a fresh node name) and
//! per-call latencies, in nanoseconds, timed inside the C process.

use std::path::Path;
use std::process::{Command, Stdio};

/// Figures from one run of the C client.
pub struct EiRun {
    /// One per fresh connection (epmd lookup + handshake), ns.
    pub connect_ns: Vec<f64>,
    /// One per timed call on the last connection, ns.
    pub call_ns: Vec<f64>,
}

/// Path of the compiled client, or why there is none (the bench rows say so in their note).
pub fn client() -> Result<&'static Path, String> {
    match option_env!("BEAMLINK_EI_RPC_BENCH") {
        Some(p) if !p.is_empty() && Path::new(p).exists() => Ok(Path::new(p)),
        _ => Err("ei client not built (no erl_interface found by bench/build.rs; install erlang-dev or set EI_DIR)"
            .to_string()),
    }
}

/// `connects` fresh connections to `target`, then `warm` untimed and `calls` timed
/// `ei_rpc` calls of `erlang:node/0` on the last one.
pub fn run(target: &str, cookie: &str, connects: usize, warm: usize, calls: usize) -> Result<EiRun, String> {
    run_mf(target, cookie, connects, warm, calls, "erlang", "node")
}

/// Like [`run`], calling `module:function()` (no arguments) instead.
pub fn run_mf(
    target: &str,
    cookie: &str,
    connects: usize,
    warm: usize,
    calls: usize,
    module: &str,
    function: &str,
) -> Result<EiRun, String> {
    let exe = client()?;
    let out = Command::new(exe)
        .args([target, cookie])
        .args([connects, warm, calls].map(|n| n.to_string()))
        .args([module, function])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", exe.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("ei client: {}{}", text.trim(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let line = |tag: &str| -> Result<Vec<f64>, String> {
        text.lines()
            .find_map(|l| l.strip_prefix(tag))
            .ok_or_else(|| format!("ei client printed no {tag}: {text}"))?
            .split_whitespace()
            .map(|v| v.parse::<f64>().map_err(|e| format!("ei client figure {v:?}: {e}")))
            .collect()
    };
    Ok(EiRun { connect_ns: line("CONNECT_NS")?, call_ns: line("CALL_NS")? })
}
