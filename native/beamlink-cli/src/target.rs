//! Node names as an operator types them: a short `fuga` is `fuga@<this host>` (what
//! `erl_call -sname fuga` means), and our own default name lives where the target can reach
//! it back.

use beamlink::name::{NodeName, hostname};

/// `name` as typed, with `@<this host>` added to a bare name (the host cut at its first dot,
/// as `erl -sname` does). A name that cannot be completed is left as it is, for the node
/// layer to refuse with its own message.
pub fn expand(name: &str) -> String {
    if name.contains('@') {
        return name.to_string();
    }
    NodeName::local_short(name).map(|n| n.to_string()).unwrap_or_else(|_| name.to_string())
}

/// Whether a node name has a long host part (`name@fq.dn` or `name@ip`).
pub fn is_long(name: &str) -> bool {
    name.split_once('@')
        .is_some_and(|(_, h)| h.contains('.') || h.contains(':') || h.parse::<std::net::IpAddr>().is_ok())
}

/// Our default name when talking to `target`: `beamlink_<pid>@host`, in the target's naming
/// mode (short or long), on a host the target can reach back (for output of processes that
/// connect to our group leader): `localhost`/`127.0.0.1` next to a target named so, this
/// host's name otherwise.
pub fn own_default(target: &str) -> (String, bool) {
    let alive = format!("beamlink_{}", std::process::id());
    let host = target.split_once('@').map_or("", |(_, h)| h);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    if is_long(target) {
        let h = if loopback {
            "127.0.0.1".to_string()
        } else {
            hostname().ok().filter(|h| h.contains('.')).unwrap_or_else(|| "127.0.0.1".to_string())
        };
        (format!("{alive}@{h}"), true)
    } else {
        let h = if loopback {
            "localhost".to_string()
        } else {
            hostname()
                .ok()
                .and_then(|h| h.split('.').next().map(str::to_string))
                .unwrap_or_else(|| "localhost".into())
        };
        (format!("{alive}@{h}"), false)
    }
}
