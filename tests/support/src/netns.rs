//! A network namespace joined to this one by a veth pair, for cutting a node off without a
//! FIN: [`NetNs::cut`] sets our end of the pair down, after which an established TCP
//! connection hears nothing at all (neither data nor a reset). Needs root and `ip` (iproute2).
//!
//! Everything started inside (the node, and the epmd its `erl` starts) is killed by PID, and
//! the namespace with its veth pair is deleted, when the [`NetNs`] is dropped.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A namespace `bl<pid>_<n>` reached at [`NetNs::inside`] from [`NetNs::outside`].
pub struct NetNs {
    pub name: String,
    host_if: String,
    /// Our address on the pair.
    pub outside: String,
    /// The namespace's address on the pair: name nodes inside `alive@<inside>`.
    pub inside: String,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip {args:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("ip {args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

impl NetNs {
    /// Creates the namespace and the pair (10.213.X.1 here, 10.213.X.2 inside, X unique to
    /// this process and call), or says why it cannot (not root, no `ip`, no netns support).
    pub fn create() -> Result<NetNs, String> {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id();
        let name = format!("bl{pid}_{n}");
        let tag = (pid.wrapping_mul(31).wrapping_add(n)) % 60_000;
        let (host_if, ns_if) = (format!("blh{tag}"), format!("bln{tag}"));
        // /30 subnets: 64 per third octet, so X and the fourth octet come from the tag.
        let (x, base) = ((tag / 64) % 250, (tag % 64) * 4);
        let outside = format!("10.213.{x}.{}", base + 1);
        let inside = format!("10.213.{x}.{}", base + 2);
        ip(&["netns", "add", &name])?;
        let ns = NetNs { name: name.clone(), host_if: host_if.clone(), outside, inside };
        ip(&["link", "add", &host_if, "type", "veth", "peer", "name", &ns_if])?;
        ip(&["link", "set", &ns_if, "netns", &name])?;
        ip(&["addr", "add", &format!("{}/30", ns.outside), "dev", &host_if])?;
        ip(&["link", "set", &host_if, "up"])?;
        ip(&["netns", "exec", &name, "ip", "addr", "add", &format!("{}/30", ns.inside), "dev", &ns_if])?;
        ip(&["netns", "exec", &name, "ip", "link", "set", &ns_if, "up"])?;
        ip(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// The link goes down on our side: packets stop both ways, no FIN, no RST.
    pub fn cut(&self) {
        ip(&["link", "set", &self.host_if, "down"]).expect("setting the link down");
    }

    /// The link comes back.
    pub fn restore(&self) {
        ip(&["link", "set", &self.host_if, "up"]).expect("setting the link up");
    }

    /// The command prefix that runs a program inside.
    pub fn exec_prefix(&self) -> Vec<String> {
        vec!["ip".into(), "netns".into(), "exec".into(), self.name.clone()]
    }
}

impl Drop for NetNs {
    fn drop(&mut self) {
        // Whatever still runs inside (epmd started by a node's erl) was started by us.
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.name]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = ip(&["link", "del", &self.host_if]);
        let _ = ip(&["netns", "del", &self.name]);
    }
}
