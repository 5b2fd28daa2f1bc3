//! Node names (`alive@host`) and the rules `erl` applies to them.
//!
//! ```
//! use beamlink::name::{NameKind, NodeName};
//! let n = NodeName::parse("hoge@localhost", NameKind::Short).unwrap();
//! assert_eq!(n.alive, "hoge");
//! assert_eq!(n.to_string(), "hoge@localhost");
//! assert!(NodeName::parse("hoge@vm.example.com", NameKind::Short).is_err());
//! assert!(NodeName::parse("hoge@127.0.0.1", NameKind::Long).is_ok());
//! ```

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// The longest alive part epmd stores.
pub const MAX_ALIVE_LEN: usize = 255;
/// The longest whole name: a node name is an atom, and atoms have at most 255 characters.
pub const MAX_NAME_LEN: usize = 255;

/// `-sname` or `-name` style.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NameKind {
    /// Host part without dots (`foo@vm`, `foo@localhost`).
    Short,
    /// Host part is a fully qualified domain name or an IP address.
    Long,
}

/// A node name split at its `@`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeName {
    /// The part before `@`: what epmd registers.
    pub alive: String,
    /// The part after `@`: where the node's epmd is.
    pub host: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    #[error("node name {name:?} has no '@host' part")]
    MissingHost { name: String },
    #[error("node name {name:?} has an empty alive part before '@'")]
    EmptyAlive { name: String },
    #[error("alive part {alive:?} contains {bad:?}: only ASCII letters, digits, '_' and '-' are allowed")]
    BadAliveChar { alive: String, bad: char },
    #[error("alive part {alive:?} is longer than {MAX_ALIVE_LEN} bytes")]
    AliveTooLong { alive: String },
    #[error("host part {host:?} contains {bad:?}: keep host names ASCII, without '@' or spaces")]
    BadHostChar { host: String, bad: char },
    #[error("node name of {len} bytes is longer than {MAX_NAME_LEN} (names are atoms)")]
    TooLong { len: usize },
    #[error("host part of {name:?} is empty")]
    EmptyHost { name: String },
    #[error("{host:?} is not a short host name (it contains a dot); use long names or a host without dots")]
    NotShort { host: String },
    #[error("{host:?} is not a long host name: use a fully qualified domain name or an IP address")]
    NotLong { host: String },
    #[error("cannot find this machine's host name: {detail}")]
    NoHostname { detail: String },
    #[error(
        "cannot build a long name: host {host:?} has no domain and none is configured in /etc/resolv.conf"
    )]
    NoDomain { host: String },
}

impl NodeName {
    /// Parses `alive@host`, checking the host against the naming mode `kind` as `erl` does.
    pub fn parse(s: &str, kind: NameKind) -> Result<NodeName, NameError> {
        let n = Self::parse_any(s)?;
        check_host(&n.host, kind)?;
        Ok(n)
    }

    /// Parses `alive@host` without a naming mode: any legal host (what an accepting node sees).
    pub fn parse_any(s: &str) -> Result<NodeName, NameError> {
        let (alive, host) =
            s.split_once('@').ok_or_else(|| NameError::MissingHost { name: s.to_string() })?;
        if host.is_empty() {
            return Err(NameError::EmptyHost { name: s.to_string() });
        }
        let n = NodeName::new(alive, host)?;
        Ok(n)
    }

    /// Builds a name from its parts, checking both.
    pub fn new(alive: &str, host: &str) -> Result<NodeName, NameError> {
        check_alive(alive)?;
        let len = alive.len() + 1 + host.len();
        if len > MAX_NAME_LEN {
            return Err(NameError::TooLong { len });
        }
        check_host_chars(host)?;
        Ok(NodeName { alive: alive.to_string(), host: host.to_string() })
    }

    /// The naming mode this host fits: long when it has a dot or is an IP address.
    pub fn kind(&self) -> NameKind {
        if self.host.contains('.') || self.host.parse::<IpAddr>().is_ok() {
            NameKind::Long
        } else {
            NameKind::Short
        }
    }

    /// `alive@<short hostname>`, as `erl -sname alive` names itself.
    ///
    /// ```no_run
    /// let n = beamlink::name::NodeName::local_short("hoge").unwrap();
    /// println!("{n}"); // hoge@vm
    /// ```
    pub fn local_short(alive: &str) -> Result<NodeName, NameError> {
        let host = hostname()?;
        // erl cuts the OS host name at its first dot for short names.
        let short = host.split('.').next().unwrap_or_default();
        let n = NodeName::new(alive, short)?;
        check_host(&n.host, NameKind::Short)?;
        Ok(n)
    }

    /// `alive@<hostname.domain>`, as `erl -name alive` names itself; the domain comes from
    /// `/etc/resolv.conf` (`domain`, else the first `search` entry) when the host has none.
    pub fn local_long(alive: &str) -> Result<NodeName, NameError> {
        let host = hostname()?;
        let fqdn = if host.contains('.') {
            host
        } else {
            match resolv_domain() {
                Some(d) => format!("{host}.{d}"),
                None => return Err(NameError::NoDomain { host }),
            }
        };
        NodeName::parse(&format!("{alive}@{fqdn}"), NameKind::Long)
    }
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.alive, self.host)
    }
}

impl FromStr for NodeName {
    type Err = NameError;
    /// Same as [`NodeName::parse_any`]: the naming mode is inferred, see [`NodeName::kind`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeName::parse_any(s)
    }
}

fn check_alive(alive: &str) -> Result<(), NameError> {
    if alive.is_empty() {
        return Err(NameError::EmptyAlive { name: alive.to_string() });
    }
    // net_kernel:valid_name_head/1; acceptors answer `nok` to anything else.
    if let Some(bad) = alive.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-')) {
        return Err(NameError::BadAliveChar { alive: alive.to_string(), bad });
    }
    if alive.len() > MAX_ALIVE_LEN {
        return Err(NameError::AliveTooLong { alive: alive.to_string() });
    }
    Ok(())
}

fn check_host_chars(host: &str) -> Result<(), NameError> {
    // erl takes any printable Latin-1, but the handshake turns names into Latin-1 atoms while
    // pids carry UTF-8 atoms: non-ASCII hosts connect and then lose replies. Refuse them.
    if let Some(bad) = host.chars().find(|c| !c.is_ascii_graphic() || *c == '@') {
        return Err(NameError::BadHostChar { host: host.to_string(), bad });
    }
    Ok(())
}

fn check_host(host: &str, kind: NameKind) -> Result<(), NameError> {
    match kind {
        NameKind::Short => {
            // An IPv6 address has no dot but is not a host name either.
            if host.contains('.') || host.parse::<IpAddr>().is_ok() {
                return Err(NameError::NotShort { host: host.to_string() });
            }
        }
        NameKind::Long => {
            if host.parse::<IpAddr>().is_ok() {
                return Ok(());
            }
            let fqdn = host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && host.split('.').all(|l| {
                    !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
            if !fqdn {
                return Err(NameError::NotLong { host: host.to_string() });
            }
        }
    }
    Ok(())
}

/// The OS host name (what `gethostname(2)` returns).
pub fn hostname() -> Result<String, NameError> {
    let from_file =
        |p: &str| std::fs::read_to_string(p).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(h) = from_file("/proc/sys/kernel/hostname") {
        return Ok(h);
    }
    if let Some(h) = from_file("/etc/hostname") {
        return Ok(h);
    }
    let out = std::process::Command::new("hostname")
        .output()
        .map_err(|e| NameError::NoHostname { detail: format!("running `hostname`: {e}") })?;
    let h = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if h.is_empty() {
        return Err(NameError::NoHostname { detail: "`hostname` printed nothing".into() });
    }
    Ok(h)
}

fn resolv_domain() -> Option<String> {
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    let mut search = None;
    for line in conf.lines() {
        let mut w = line.split_whitespace();
        match w.next() {
            Some("domain") => return w.next().map(str::to_string),
            Some("search") if search.is_none() => search = w.next().map(str::to_string),
            _ => {}
        }
    }
    search
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long() {
        assert!(NodeName::parse("a@vm", NameKind::Short).is_ok());
        assert!(NodeName::parse("a-b_1@localhost", NameKind::Short).is_ok());
        assert_eq!(
            NodeName::parse("a@1.2.3.4", NameKind::Short),
            Err(NameError::NotShort { host: "1.2.3.4".into() })
        );
        assert!(NodeName::parse("a@::1", NameKind::Short).is_err());
        assert!(NodeName::parse("a@::1", NameKind::Long).is_ok());
        assert!(NodeName::parse("a@vm.example.com", NameKind::Long).is_ok());
        assert!(NodeName::parse("a@vm", NameKind::Long).is_err());
        assert!(NodeName::parse("a@vm.", NameKind::Long).is_err());
    }

    #[test]
    fn bad_names() {
        assert!(matches!("foo".parse::<NodeName>(), Err(NameError::MissingHost { .. })));
        assert!(matches!("@h".parse::<NodeName>(), Err(NameError::EmptyAlive { .. })));
        assert!(matches!("a@".parse::<NodeName>(), Err(NameError::EmptyHost { .. })));
        assert!(matches!("a.b@h".parse::<NodeName>(), Err(NameError::BadAliveChar { bad: '.', .. })));
        assert!(matches!("a@h@x".parse::<NodeName>(), Err(NameError::BadHostChar { .. })));
        assert!(matches!("a@höst".parse::<NodeName>(), Err(NameError::BadHostChar { .. })));
        let long = "x".repeat(256);
        assert!(matches!(format!("{long}@h").parse::<NodeName>(), Err(NameError::AliveTooLong { .. })));
        // A 64 990-byte host made a name once; names are atoms of at most 255 characters.
        let host = "h".repeat(64_990);
        assert!(matches!(format!("a@{host}").parse::<NodeName>(), Err(NameError::TooLong { len: 64_992 })));
        assert!(format!("a@{}", "h".repeat(253)).parse::<NodeName>().is_ok());
        for bad in ["a@x\0y", "a@x\u{ff}"] {
            assert!(bad.parse::<NodeName>().is_err(), "{bad:?}");
        }
        let msg = "a.b@h".parse::<NodeName>().unwrap_err().to_string();
        assert!(msg.contains("only ASCII letters"), "{msg}");
    }

    #[test]
    fn kind_and_display() {
        let n: NodeName = "x@127.0.0.1".parse().unwrap();
        assert_eq!(n.kind(), NameKind::Long);
        assert_eq!(n.to_string(), "x@127.0.0.1");
        let n: NodeName = "x@vm".parse().unwrap();
        assert_eq!(n.kind(), NameKind::Short);
    }

    #[test]
    fn local_short_has_no_dot() {
        let n = NodeName::local_short("hoge").unwrap();
        assert_eq!(n.alive, "hoge");
        assert!(!n.host.contains('.'));
    }
}
