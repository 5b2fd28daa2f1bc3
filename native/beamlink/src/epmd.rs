//! EPMD client: list names, look a node up, register ourselves.
//!
//! Every request opens its own TCP connection; only a registration keeps its connection, because
//! epmd forgets the name as soon as that socket closes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), beamlink::epmd::EpmdError> {
//! use beamlink::epmd;
//! for (name, port) in epmd::names("localhost").await? {
//!     println!("{name} at {port}");
//! }
//! if let Some(info) = epmd::port_please("localhost", "foo").await? {
//!     println!("foo listens on {}", info.port);
//! }
//! let reg = epmd::register("me", 4370, true).await?; // held for the node's life
//! println!("creation {}", reg.creation());
//! # Ok(()) }
//! ```

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The port epmd listens on unless `ERL_EPMD_PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 4369;
/// How long each epmd request may take, connect included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

const NAMES_REQ: u8 = b'n';
const PORT_PLEASE2_REQ: u8 = b'z';
const PORT2_RESP: u8 = b'w';
const ALIVE2_REQ: u8 = b'x';
const ALIVE2_X_RESP: u8 = b'v';
const ALIVE2_RESP: u8 = b'y';

/// What epmd stores for a registered node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    pub port: u16,
    pub node_type: NodeType,
    /// 0 is TCP/IP v4, the only value in use.
    pub protocol: u8,
    pub highest_version: u16,
    pub lowest_version: u16,
    /// The alive part, as registered.
    pub name: String,
    /// Opaque bytes the node registered with.
    pub extra: Vec<u8>,
}

/// The node type byte. epmd does not interpret it and OTP ignores it on lookup; OTP always
/// registers `Normal`, even for `-hidden` nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    /// 77 (`'M'`).
    Normal,
    /// 104 (`'h'`), what ei registers.
    Hidden,
    Other(u8),
}

impl NodeType {
    pub fn from_byte(b: u8) -> NodeType {
        match b {
            77 => NodeType::Normal,
            104 => NodeType::Hidden,
            other => NodeType::Other(other),
        }
    }
    pub fn to_byte(self) -> u8 {
        match self {
            NodeType::Normal => 77,
            NodeType::Hidden => 104,
            NodeType::Other(b) => b,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EpmdError {
    #[error("epmd is not running on {host} (connection refused on port {port})")]
    Unreachable {
        host: String,
        port: u16,
        #[source]
        source: io::Error,
    },
    #[error("cannot resolve epmd host {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("epmd on {host}:{port} did not answer {request} within {after:?}")]
    Timeout { host: String, port: u16, request: &'static str, after: Duration },
    #[error("epmd on {host}:{port} sent an unexpected answer to {request}: {detail}")]
    Protocol { host: String, port: u16, request: &'static str, detail: String },
    #[error("epmd refused to register {alive:?}: the name is already in use (result {result})")]
    NameInUse { alive: String, result: u8 },
    #[error("invalid name {alive:?} for epmd: {detail}")]
    BadName { alive: String, detail: &'static str },
    #[error("talking to epmd on {host}:{port} ({request}): {source}")]
    Io {
        host: String,
        port: u16,
        request: &'static str,
        #[source]
        source: io::Error,
    },
}

/// The epmd port `erl` would use: `ERL_EPMD_PORT` when set and valid, else 4369.
pub fn port_from_env() -> u16 {
    std::env::var("ERL_EPMD_PORT").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(DEFAULT_PORT)
}

/// An epmd at a given host and port.
///
/// ```no_run
/// # async fn demo() -> Result<(), beamlink::epmd::EpmdError> {
/// let c = beamlink::epmd::Client::new("::1", 4399);
/// let (epmd_port, text) = c.names_raw().await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    pub host: String,
    pub port: u16,
    pub timeout: Duration,
}

/// A live registration. Dropping it closes the socket, which makes epmd forget the name.
#[derive(Debug)]
pub struct Registration {
    alive: String,
    port: u16,
    creation: u32,
    socket: TcpStream,
}

impl Registration {
    /// The creation epmd gave us: put it in the handshake and in every pid we make.
    pub fn creation(&self) -> u32 {
        self.creation
    }
    pub fn alive(&self) -> &str {
        &self.alive
    }
    /// The distribution port that was registered.
    pub fn port(&self) -> u16 {
        self.port
    }
    /// Waits until epmd closes our registration socket (epmd stopped or died).
    pub async fn closed(&mut self) {
        let mut buf = [0u8; 64];
        loop {
            match self.socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

impl Client {
    pub fn new(host: impl Into<String>, port: u16) -> Client {
        Client { host: host.into(), port, timeout: DEFAULT_TIMEOUT }
    }

    /// epmd on `host`, at the port from `ERL_EPMD_PORT` (default 4369).
    pub fn from_env(host: impl Into<String>) -> Client {
        Client::new(host, port_from_env())
    }

    pub fn with_timeout(mut self, t: Duration) -> Client {
        self.timeout = t;
        self
    }

    /// NAMES_REQ: the epmd port it reports and its text lines (`name N at port P`).
    pub async fn names_raw(&self) -> Result<(u32, String), EpmdError> {
        let req = "NAMES_REQ";
        self.bounded(req, async {
            let mut s = self.connect(req).await?;
            self.send(&mut s, req, &[NAMES_REQ]).await?;
            // A real epmd's answer is a few lines per node; a peer that sends without end is not
            // one, and is not given unbounded memory.
            let mut all = Vec::new();
            (&mut s)
                .take(MAX_NAMES_REPLY as u64 + 1)
                .read_to_end(&mut all)
                .await
                .map_err(|e| self.io(req, e))?;
            if all.len() > MAX_NAMES_REPLY {
                return Err(self.protocol(req, format!("answer longer than {MAX_NAMES_REPLY} bytes")));
            }
            if all.len() < 4 {
                return Err(self.protocol(req, format!("{} bytes, expected at least 4", all.len())));
            }
            let port = u32::from_be_bytes([all[0], all[1], all[2], all[3]]);
            Ok((port, String::from_utf8_lossy(&all[4..]).into_owned()))
        })
        .await
    }

    /// NAMES_REQ, parsed: `(alive, port)` per registered node.
    pub async fn names(&self) -> Result<Vec<(String, u16)>, EpmdError> {
        let (_, text) = self.names_raw().await?;
        parse_names(&text).map_err(|l| self.protocol("NAMES_REQ", format!("bad line {l:?}")))
    }

    /// PORT_PLEASE2_REQ: where `alive` listens, or `None` when epmd does not know it.
    pub async fn port_please(&self, alive: &str) -> Result<Option<NodeInfo>, EpmdError> {
        let req = "PORT_PLEASE2_REQ";
        check_alive(alive)?;
        self.bounded(req, async {
            let mut s = self.connect(req).await?;
            let mut body = vec![PORT_PLEASE2_REQ];
            body.extend_from_slice(alive.as_bytes());
            self.send(&mut s, req, &body).await?;
            let mut all = Vec::new();
            s.read_to_end(&mut all).await.map_err(|e| self.io(req, e))?;
            decode_port2_resp(&all).map_err(|d| self.protocol(req, d))
        })
        .await
    }

    /// ALIVE2_REQ: registers `alive` at distribution port `port`. Only works with the epmd on
    /// this machine (epmd refuses registrations from other hosts).
    pub async fn register(&self, alive: &str, port: u16, hidden: bool) -> Result<Registration, EpmdError> {
        let req = "ALIVE2_REQ";
        check_alive(alive)?;
        self.bounded(req, async {
            let mut s = self.connect(req).await?;
            let node_type = if hidden { NodeType::Hidden } else { NodeType::Normal };
            self.send(&mut s, req, &encode_alive2_req(alive, port, node_type, &[])).await?;
            let mut tag = [0u8; 1];
            s.read_exact(&mut tag).await.map_err(|e| self.io(req, e))?;
            let (result, creation) = match tag[0] {
                ALIVE2_X_RESP => {
                    let mut b = [0u8; 5];
                    s.read_exact(&mut b).await.map_err(|e| self.io(req, e))?;
                    (b[0], u32::from_be_bytes([b[1], b[2], b[3], b[4]]))
                }
                // Only an epmd that ignores our HighestVersion 6 would answer this way.
                ALIVE2_RESP => {
                    let mut b = [0u8; 3];
                    s.read_exact(&mut b).await.map_err(|e| self.io(req, e))?;
                    (b[0], u16::from_be_bytes([b[1], b[2]]) as u32)
                }
                t => return Err(self.protocol(req, format!("response tag {t}"))),
            };
            if result != 0 {
                return Err(EpmdError::NameInUse { alive: alive.to_string(), result });
            }
            Ok(Registration { alive: alive.to_string(), port, creation, socket: s })
        })
        .await
    }

    async fn bounded<T>(
        &self,
        request: &'static str,
        fut: impl Future<Output = Result<T, EpmdError>>,
    ) -> Result<T, EpmdError> {
        timeout(self.timeout, fut).await.map_err(|_| EpmdError::Timeout {
            host: self.host.clone(),
            port: self.port,
            request,
            after: self.timeout,
        })?
    }

    async fn connect(&self, request: &'static str) -> Result<TcpStream, EpmdError> {
        let addrs: Vec<SocketAddr> = crate::resolve::addresses(&self.host, self.port)
            .await
            .map_err(|source| EpmdError::Resolve { host: self.host.clone(), source })?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        // Try every address: `localhost` may resolve to ::1 first while epmd only has IPv4.
        for a in addrs {
            match TcpStream::connect(a).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = e,
            }
        }
        if last.kind() == io::ErrorKind::ConnectionRefused {
            Err(EpmdError::Unreachable { host: self.host.clone(), port: self.port, source: last })
        } else {
            Err(self.io(request, last))
        }
    }

    async fn send(&self, s: &mut TcpStream, request: &'static str, body: &[u8]) -> Result<(), EpmdError> {
        let mut buf = Vec::with_capacity(body.len() + 2);
        buf.extend_from_slice(&(body.len() as u16).to_be_bytes());
        buf.extend_from_slice(body);
        s.write_all(&buf).await.map_err(|e| self.io(request, e))
    }

    fn io(&self, request: &'static str, source: io::Error) -> EpmdError {
        EpmdError::Io { host: self.host.clone(), port: self.port, request, source }
    }

    fn protocol(&self, request: &'static str, detail: String) -> EpmdError {
        EpmdError::Protocol { host: self.host.clone(), port: self.port, request, detail }
    }
}

/// [`Client::names`] on `host` at the `ERL_EPMD_PORT`/4369 port.
pub async fn names(host: &str) -> Result<Vec<(String, u16)>, EpmdError> {
    Client::from_env(host).names().await
}

/// [`Client::port_please`] on `host` at the `ERL_EPMD_PORT`/4369 port.
pub async fn port_please(host: &str, alive: &str) -> Result<Option<NodeInfo>, EpmdError> {
    Client::from_env(host).port_please(alive).await
}

/// [`Client::register`] with the local epmd (`localhost`) at the `ERL_EPMD_PORT`/4369 port.
pub async fn register(alive: &str, port: u16, hidden: bool) -> Result<Registration, EpmdError> {
    Client::from_env("localhost").register(alive, port, hidden).await
}

fn check_alive(alive: &str) -> Result<(), EpmdError> {
    let detail = if alive.is_empty() {
        "empty"
    } else if alive.len() > 255 {
        "longer than 255 bytes"
    } else if alive.contains('\0') {
        "contains a NUL byte"
    } else {
        return Ok(());
    };
    Err(EpmdError::BadName { alive: alive.to_string(), detail })
}

/// The longest NAMES_REQ answer read (about 20 000 registered names).
const MAX_NAMES_REPLY: usize = 1 << 20;

/// The text of a NAMES_REQ answer as `(alive, port)` pairs; `Err` gives the first bad line.
pub fn parse_names(text: &str) -> Result<Vec<(String, u16)>, String> {
    text.lines().filter(|l| !l.is_empty()).map(|l| parse_names_line(l).ok_or_else(|| l.to_string())).collect()
}

fn parse_names_line(l: &str) -> Option<(String, u16)> {
    let rest = l.strip_prefix("name ")?;
    let (name, port) = rest.rsplit_once(" at port ")?;
    Some((name.to_string(), port.trim().parse().ok()?))
}

/// The ALIVE2_REQ body (without the u16 length): version range 6..5, as OTP 25 and 28 send.
pub fn encode_alive2_req(alive: &str, port: u16, node_type: NodeType, extra: &[u8]) -> Vec<u8> {
    let mut b = vec![ALIVE2_REQ];
    b.extend_from_slice(&port.to_be_bytes());
    b.push(node_type.to_byte());
    b.push(0);
    b.extend_from_slice(&6u16.to_be_bytes());
    b.extend_from_slice(&5u16.to_be_bytes());
    b.extend_from_slice(&(alive.len() as u16).to_be_bytes());
    b.extend_from_slice(alive.as_bytes());
    b.extend_from_slice(&(extra.len() as u16).to_be_bytes());
    b.extend_from_slice(extra);
    b
}

/// Parses a whole PORT2_RESP.
pub fn decode_port2_resp(b: &[u8]) -> Result<Option<NodeInfo>, String> {
    match b {
        [] => Err("connection closed without an answer".into()),
        [PORT2_RESP] => Err("truncated answer".into()),
        [PORT2_RESP, r, ..] if *r != 0 => Ok(None),
        [PORT2_RESP, 0, rest @ ..] => {
            let mut r = Reader(rest);
            let info = (|| {
                let port = r.u16()?;
                let node_type = NodeType::from_byte(r.u8()?);
                let protocol = r.u8()?;
                let highest_version = r.u16()?;
                let lowest_version = r.u16()?;
                let n = r.u16()? as usize;
                let name = String::from_utf8_lossy(r.take(n)?).into_owned();
                // Some epmds omit the extra field entirely.
                let extra = match r.u16() {
                    Some(n) => r.take(n as usize)?.to_vec(),
                    None => Vec::new(),
                };
                Some(NodeInfo { port, node_type, protocol, highest_version, lowest_version, name, extra })
            })();
            info.map(Some).ok_or_else(|| format!("truncated PORT2_RESP ({} bytes)", b.len()))
        }
        [t, ..] => Err(format!("response tag {t}, expected {PORT2_RESP}")),
    }
}

struct Reader<'a>(&'a [u8]);
impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn alive2_req_matches_otp25_capture() {
        // Captured from an OTP 25 node (notes §1.2), without the length prefix.
        let want = hex("78 8aad 4d 00 0006 0005 0009 70726f62655f613235 0000");
        assert_eq!(encode_alive2_req("probe_a25", 0x8aad, NodeType::Normal, &[]), want);
    }

    #[test]
    fn port2_resp_capture() {
        let ok = hex("77 00 976b 4d 00 0006 0005 0009 70726f62655f613235 0000");
        let info = decode_port2_resp(&ok).unwrap().unwrap();
        assert_eq!(info.port, 38763);
        assert_eq!(info.node_type, NodeType::Normal);
        assert_eq!((info.highest_version, info.lowest_version), (6, 5));
        assert_eq!(info.name, "probe_a25");
        assert_eq!(decode_port2_resp(&hex("77 01")).unwrap(), None);
        assert!(decode_port2_resp(&hex("77 00 97")).is_err());
        assert!(decode_port2_resp(&[]).is_err());
    }

    #[test]
    fn names_lines() {
        assert_eq!(parse_names_line("name foo_1 at port 4370"), Some(("foo_1".to_string(), 4370)));
        assert_eq!(parse_names_line("garbage"), None);
    }

    #[test]
    fn unreachable_message() {
        let e = EpmdError::Unreachable {
            host: "h".into(),
            port: 4369,
            source: io::Error::from(io::ErrorKind::ConnectionRefused),
        };
        assert_eq!(e.to_string(), "epmd is not running on h (connection refused on port 4369)");
    }
}
