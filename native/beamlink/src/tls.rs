//! TLS distribution, as OTP's `-proto_dist inet_tls`: the TCP connection is wrapped in TLS
//! before the distribution handshake, which then runs unchanged inside it (epmd is used as for
//! plain TCP).
//!
//! A [`TlsConfig`] is built from the PEM files a node already has — its certificate chain, its
//! private key, and the CA bundle that signs its peers — or read from an existing
//! `-ssl_dist_optfile` ([`TlsConfig::from_optfile`]). The defaults are those of a cluster that
//! requires mutual authentication (`verify_peer` both ways, `fail_if_no_peer_cert`): the peer's
//! certificate must chain to the CA, a server's must also name the host we dialed (the host
//! part of the node name, as OTP checks it), and a client must present one. TLS 1.2 and 1.3
//! are both offered.
//!
//! The stack is rustls (with the `ring` provider) and tokio-rustls: memory-safe, maintained by
//! the rustls project, no OpenSSL to link.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use beamlink::{Node, tls::TlsConfig};
//! let tls = TlsConfig::from_pem_files("node.pem", "node.key", "ca.pem")?;
//! let node = Node::builder("hoge@localhost").cookie("secret").tls(tls).listen(0).start().await?;
//! assert!(node.ping("fuga@localhost").await); // fuga runs -proto_dist inet_tls
//! # Ok(()) }
//! ```

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{AlertDescription, CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::term::{self, Term};

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlsVersion {
    /// `'tlsv1.2'`
    Tls12,
    /// `'tlsv1.3'`
    Tls13,
}

impl TlsVersion {
    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }

    /// The version a connection negotiated.
    fn of(v: rustls::ProtocolVersion) -> Option<TlsVersion> {
        match v {
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }
}

/// A certificate with its private key.
#[derive(Clone)]
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivateKeyDer<'static>>,
}

/// How one role (connecting, or accepting) does TLS.
#[derive(Clone)]
struct Role {
    identity: Option<Identity>,
    /// CA certificates a peer's certificate must chain to.
    roots: Arc<RootCertStore>,
    /// Check the peer's certificate (`verify_peer`); off only if asked (`verify_none`).
    verify_peer: bool,
    /// Accepting: a client without a certificate is refused (`fail_if_no_peer_cert`).
    require_peer_cert: bool,
    /// Connecting: the server's certificate must name the host dialed (or `server_name`).
    check_host_name: bool,
    /// Connecting: the name to check instead of the host part of the node name.
    server_name: Option<String>,
    versions: Vec<TlsVersion>,
}

impl Role {
    fn new(identity: Option<Identity>, roots: Arc<RootCertStore>) -> Role {
        Role {
            identity,
            roots,
            verify_peer: true,
            require_peer_cert: true,
            check_host_name: true,
            server_name: None,
            versions: vec![TlsVersion::Tls13, TlsVersion::Tls12],
        }
    }
}

impl fmt::Debug for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key: only whether there is one.
        f.debug_struct("Role")
            .field("certificates", &self.identity.as_ref().map_or(0, |i| i.chain.len()))
            .field("has_key", &self.identity.is_some())
            .field("ca_certificates", &self.roots.len())
            .field("verify_peer", &self.verify_peer)
            .field("require_peer_cert", &self.require_peer_cert)
            .field("check_host_name", &self.check_host_name)
            .field("server_name", &self.server_name)
            .field("versions", &self.versions)
            .finish()
    }
}

/// TLS settings of a node: what it presents and what it requires, as a client (connecting)
/// and as a server (accepting). Cheap to clone; its `Debug` never shows the key.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    client: Role,
    server: Role,
}

/// Why TLS settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    #[error("cannot read {what} from {path}: {detail}")]
    Read { what: &'static str, path: PathBuf, detail: String },
    #[error("no {what} found in {origin}")]
    Missing { what: &'static str, origin: String },
    #[error("{0}")]
    Invalid(String),
    #[error("ssl_dist_optfile {path}: {detail}")]
    Optfile { path: PathBuf, detail: String },
    #[error("ssl_dist_optfile {path}: option {option} is not supported: {why}")]
    Unsupported { path: PathBuf, option: String, why: &'static str },
}

/// Whose certificate a TLS error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whose {
    /// The peer's: we refused it.
    Theirs,
    /// Ours: the peer refused it (it told us with a TLS alert).
    Ours,
}

impl fmt::Display for Whose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Whose::Theirs => "its",
            Whose::Ours => "our",
        })
    }
}

/// Why a TLS connection could not be set up. `peer` is the node name when connecting, the
/// address when accepting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("TLS with {peer}: {whose} certificate is not signed by a trusted CA")]
    UnknownCa { peer: String, whose: Whose },
    #[error("TLS with {peer}: {whose} certificate has expired")]
    Expired { peer: String, whose: Whose },
    #[error("TLS with {peer}: {whose} certificate is not valid yet")]
    NotYetValid { peer: String, whose: Whose },
    #[error("TLS with {peer}: its certificate is not valid for the host name {host:?}")]
    WrongHostName { peer: String, host: String },
    #[error("TLS with {peer}: {whose} certificate was refused: {detail}")]
    BadCertificate { peer: String, whose: Whose, detail: String },
    #[error("TLS with {peer}: it presented no certificate, and one is required (fail_if_no_peer_cert)")]
    NoCertificate { peer: String },
    #[error("{peer} does not speak TLS ({detail}): is it a plain-TCP node (-proto_dist inet_tcp)?")]
    NotTls { peer: String, detail: String },
    #[error("TLS with {peer}: no TLS answer within {after:?} (a plain-TCP node waits silently)")]
    Timeout { peer: String, after: Duration },
    #[error("TLS with {peer}: the peer ended the handshake: {alert}")]
    Refused { peer: String, alert: String },
    #[error("TLS with {peer} failed: {detail}")]
    Failed { peer: String, detail: String },
}

impl TlsError {
    /// Classifies what rustls reported while talking to `peer`; `host` is the name the
    /// server's certificate was checked against.
    fn classify(e: &rustls::Error, peer: &str, host: &str) -> TlsError {
        use rustls::Error as E;
        let peer = peer.to_string();
        let ours = |a: AlertDescription, peer: String| match a {
            AlertDescription::UnknownCA => TlsError::UnknownCa { peer, whose: Whose::Ours },
            AlertDescription::CertificateExpired => TlsError::Expired { peer, whose: Whose::Ours },
            AlertDescription::CertificateRequired => TlsError::Refused {
                peer,
                alert: "certificate_required: it requires a client certificate (configure one)".into(),
            },
            AlertDescription::BadCertificate
            | AlertDescription::UnsupportedCertificate
            | AlertDescription::CertificateRevoked
            | AlertDescription::CertificateUnknown => {
                TlsError::BadCertificate { peer, whose: Whose::Ours, detail: format!("{a:?}") }
            }
            other => TlsError::Refused { peer, alert: format!("{other:?}") },
        };
        match e {
            E::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => TlsError::UnknownCa { peer, whose: Whose::Theirs },
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    TlsError::Expired { peer, whose: Whose::Theirs }
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    TlsError::NotYetValid { peer, whose: Whose::Theirs }
                }
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    TlsError::WrongHostName { peer, host: host.to_string() }
                }
                other => {
                    TlsError::BadCertificate { peer, whose: Whose::Theirs, detail: format!("{other:?}") }
                }
            },
            E::AlertReceived(a) => ours(*a, peer),
            E::NoCertificatesPresented => TlsError::NoCertificate { peer },
            E::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
            | E::InvalidMessage(rustls::InvalidMessage::UnknownProtocolVersion)
            | E::InappropriateMessage { .. } => TlsError::NotTls { peer, detail: e.to_string() },
            other => TlsError::Failed { peer, detail: other.to_string() },
        }
    }

    /// Classifies an I/O error of a TLS stream (rustls errors travel inside them).
    pub(crate) fn from_io(e: &std::io::Error, peer: &str, host: &str) -> Option<TlsError> {
        let inner = e.get_ref()?.downcast_ref::<rustls::Error>()?;
        Some(TlsError::classify(inner, peer, host))
    }
}

/// The `ring` provider. rustls 0.23.48 marks it deprecated because it has no post-quantum key
/// exchange (aws-lc-rs has); aws-lc-rs needs a large C build on every machine that builds
/// beamlink, and OTP 25's `ssl`, the peer we must reach, offers no post-quantum group either.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_file(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsConfigError> {
    std::fs::read(path).map_err(|e| TlsConfigError::Read {
        what,
        path: path.to_path_buf(),
        detail: e.to_string(),
    })
}

fn parse_chain(pem: &[u8], source: &str) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let chain = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Invalid(format!("certificates in {source}: {e}")))?;
    if chain.is_empty() {
        return Err(TlsConfigError::Missing { what: "certificate", origin: source.to_string() });
    }
    Ok(chain)
}

fn parse_key(pem: &[u8], source: &str) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => {
            TlsConfigError::Missing { what: "private key", origin: source.to_string() }
        }
        e => TlsConfigError::Invalid(format!("private key in {source}: {e}")),
    })
}

fn parse_roots(pem: &[u8], source: &str) -> Result<RootCertStore, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    for c in parse_chain(pem, source)? {
        roots.add(c).map_err(|e| TlsConfigError::Invalid(format!("CA certificate in {source}: {e}")))?;
    }
    Ok(roots)
}

impl TlsConfig {
    /// Mutual TLS from PEM files: this node's certificate (chain), its private key (PKCS#8,
    /// PKCS#1 or SEC1), and the CA certificates its peers' certificates must chain to — the
    /// `certfile`, `keyfile` and `cacertfile` of an OTP `ssl_dist_optfile`. Used both to
    /// connect and to accept.
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
        ca: impl AsRef<Path>,
    ) -> Result<TlsConfig, TlsConfigError> {
        let (cert, key, ca) = (cert.as_ref(), key.as_ref(), ca.as_ref());
        let chain = parse_chain(&read_file("certificate", cert)?, &cert.display().to_string())?;
        let key =
            zeroizing(read_file("private key", key)?, |pem| parse_key(pem, &key.display().to_string()))?;
        let roots = parse_roots(&read_file("CA certificates", ca)?, &ca.display().to_string())?;
        TlsConfig::from_parts(chain, key, roots)
    }

    /// Like [`from_pem_files`](Self::from_pem_files) with the PEM text itself.
    ///
    /// ```
    /// let e = beamlink::tls::TlsConfig::from_pem(b"", b"", b"").unwrap_err();
    /// assert_eq!(e.to_string(), "no certificate found in the certificate PEM");
    /// ```
    pub fn from_pem(cert: &[u8], key: &[u8], ca: &[u8]) -> Result<TlsConfig, TlsConfigError> {
        let chain = parse_chain(cert, "the certificate PEM")?;
        let key = parse_key(key, "the private key PEM")?;
        let roots = parse_roots(ca, "the CA PEM")?;
        TlsConfig::from_parts(chain, key, roots)
    }

    fn from_parts(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
        roots: RootCertStore,
    ) -> Result<TlsConfig, TlsConfigError> {
        let identity = Identity { chain, key: Arc::new(key) };
        let roots = Arc::new(roots);
        let cfg = TlsConfig {
            client: Role::new(Some(identity.clone()), roots.clone()),
            server: Role::new(Some(identity), roots),
        };
        cfg.check()?;
        Ok(cfg)
    }

    /// The TLS versions to offer and accept, both roles (default both 1.2 and 1.3).
    pub fn versions(mut self, versions: &[TlsVersion]) -> TlsConfig {
        self.client.versions = versions.to_vec();
        self.server.versions = versions.to_vec();
        self
    }

    /// Whether an accepting node refuses a client that presents no certificate (default
    /// `true`, OTP's `fail_if_no_peer_cert`). A certificate that is presented is always
    /// checked.
    pub fn require_client_certificate(mut self, yes: bool) -> TlsConfig {
        self.server.require_peer_cert = yes;
        self
    }

    /// Whether a server's certificate must be valid for the host we dial (default `true`, as
    /// OTP checks it through `server_name_indication`). The chain is checked either way.
    pub fn check_host_name(mut self, yes: bool) -> TlsConfig {
        self.client.check_host_name = yes;
        self
    }

    /// Checks what can be checked before a connection: that rustls accepts the key with the
    /// certificate, and that a verifying role has CA certificates.
    fn check(&self) -> Result<(), TlsConfigError> {
        self.client_config()?;
        if self.server.identity.is_some() {
            self.server_config()?;
        }
        Ok(())
    }

    pub(crate) fn client_config(&self) -> Result<Arc<rustls::ClientConfig>, TlsConfigError> {
        let r = &self.client;
        let provider = provider();
        let versions: Vec<_> = r.versions.iter().map(|v| v.rustls()).collect();
        let invalid = |e: rustls::Error| TlsConfigError::Invalid(e.to_string());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(invalid)?;
        let verifier: Arc<dyn ServerCertVerifier> = if r.verify_peer {
            if r.roots.is_empty() {
                return Err(TlsConfigError::Invalid("verify_peer needs CA certificates (cacertfile)".into()));
            }
            let webpki = WebPkiServerVerifier::builder_with_provider(r.roots.clone(), provider.clone())
                .build()
                .map_err(|e| TlsConfigError::Invalid(e.to_string()))?;
            if r.check_host_name { webpki } else { Arc::new(AnyHostName(webpki)) }
        } else {
            Arc::new(NoVerification(provider))
        };
        let builder = builder.dangerous().with_custom_certificate_verifier(verifier);
        let cfg = match &r.identity {
            Some(id) => {
                builder.with_client_auth_cert(id.chain.clone(), id.key.clone_key()).map_err(invalid)?
            }
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(cfg))
    }

    pub(crate) fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsConfigError> {
        let r = &self.server;
        let provider = provider();
        let versions: Vec<_> = r.versions.iter().map(|v| v.rustls()).collect();
        let invalid = |e: rustls::Error| TlsConfigError::Invalid(e.to_string());
        let Some(id) = &r.identity else {
            return Err(TlsConfigError::Invalid(
                "accepting TLS connections needs a certificate and key".into(),
            ));
        };
        let verifier = if r.verify_peer {
            if r.roots.is_empty() {
                return Err(TlsConfigError::Invalid("verify_peer needs CA certificates (cacertfile)".into()));
            }
            let b = WebPkiClientVerifier::builder_with_provider(r.roots.clone(), provider.clone());
            let b = if r.require_peer_cert { b } else { b.allow_unauthenticated() };
            b.build().map_err(|e| TlsConfigError::Invalid(e.to_string()))?
        } else {
            WebPkiClientVerifier::no_client_auth()
        };
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(invalid)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(id.chain.clone(), id.key.clone_key())
            .map_err(invalid)?;
        Ok(Arc::new(cfg))
    }

    /// Builds the client and (when there is an identity) server sides, ready to wrap streams
    /// (a node does this once; [`HandshakeConfig::tls`](crate::handshake::HandshakeConfig::tls) takes it).
    pub fn context(&self) -> Result<TlsContext, TlsConfigError> {
        Ok(TlsContext {
            client: tokio_rustls::TlsConnector::from(self.client_config()?),
            server: match &self.server.identity {
                Some(_) => Some(tokio_rustls::TlsAcceptor::from(self.server_config()?)),
                None => None,
            },
            server_name: self.client.server_name.clone(),
        })
    }
}

/// Runs `f` on `bytes`, then zeroes them: key material read from a file does not linger in a
/// freed block.
fn zeroizing<T>(mut bytes: Vec<u8>, f: impl FnOnce(&[u8]) -> T) -> T {
    let r = f(&bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    r
}

/// A node's TLS sides, ready to wrap streams.
#[derive(Clone)]
pub struct TlsContext {
    client: tokio_rustls::TlsConnector,
    server: Option<tokio_rustls::TlsAcceptor>,
    server_name: Option<String>,
}

impl fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsContext").field("accepts", &self.server.is_some()).finish_non_exhaustive()
    }
}

/// A client stream after the TLS handshake.
pub type ClientStream = tokio_rustls::client::TlsStream<Watched>;
/// A server stream after the TLS handshake.
pub type ServerStream = tokio_rustls::server::TlsStream<Watched>;

/// A TCP stream that notes whether the peer ever sent a byte, so a handshake that ends in
/// EOF can tell "closed without a TLS answer" (a plain-TCP peer) from "closed in the middle".
pub struct Watched {
    tcp: TcpStream,
    heard: Arc<AtomicBool>,
}

impl Watched {
    fn new(tcp: TcpStream) -> (Watched, Arc<AtomicBool>) {
        let heard = Arc::new(AtomicBool::new(false));
        (Watched { tcp, heard: heard.clone() }, heard)
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.heard.store(true, Ordering::Relaxed);
        }
        r
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

impl TlsContext {
    /// Whether this context can accept (it has a server certificate).
    pub fn accepts(&self) -> bool {
        self.server.is_some()
    }

    /// The TLS client handshake toward `peer` (a node name) on host `host`, within `limit`.
    pub async fn connect(
        &self,
        tcp: TcpStream,
        peer: &str,
        host: &str,
        limit: Duration,
    ) -> Result<ClientStream, TlsError> {
        let host = self.server_name.as_deref().unwrap_or(host);
        let name = server_name(host).map_err(|detail| TlsError::Failed { peer: peer.to_string(), detail })?;
        let (tcp, heard) = Watched::new(tcp);
        match tokio::time::timeout(limit, self.client.connect(name, tcp)).await {
            Err(_) if !heard.load(Ordering::Relaxed) => {
                Err(TlsError::Timeout { peer: peer.to_string(), after: limit })
            }
            Err(_) => Err(TlsError::Failed {
                peer: peer.to_string(),
                detail: format!("the TLS handshake did not finish within {limit:?}"),
            }),
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(handshake_io(&e, peer, host, heard.load(Ordering::Relaxed))),
        }
    }

    /// The TLS server handshake with a client at `peer` (an address); the caller bounds the
    /// time.
    pub async fn accept(&self, tcp: TcpStream, peer: &str) -> Result<ServerStream, TlsError> {
        let Some(acceptor) = &self.server else {
            return Err(TlsError::Failed { peer: peer.to_string(), detail: "no server certificate".into() });
        };
        let (tcp, heard) = Watched::new(tcp);
        acceptor.accept(tcp).await.map_err(|e| handshake_io(&e, peer, "", heard.load(Ordering::Relaxed)))
    }
}

/// What an I/O error during a TLS handshake means; `heard` says whether the peer had sent
/// anything.
fn handshake_io(e: &std::io::Error, peer: &str, host: &str, heard: bool) -> TlsError {
    if let Some(t) = TlsError::from_io(e, peer, host) {
        return t;
    }
    use std::io::ErrorKind as K;
    let closed =
        matches!(e.kind(), K::UnexpectedEof | K::ConnectionReset | K::BrokenPipe | K::ConnectionAborted);
    match (closed, heard) {
        // Closed before a single TLS byte came back: a plain-TCP beamlink node does that when
        // it sees a ClientHello.
        (true, false) => TlsError::NotTls {
            peer: peer.to_string(),
            detail: "it closed the connection without a TLS answer".into(),
        },
        // It spoke TLS, then hung up: it refused us (its alert, if any, was lost with the
        // connection — a write can fail before the alert is read).
        (true, true) => TlsError::Refused {
            peer: peer.to_string(),
            alert: "it closed the connection during the TLS handshake (our certificate or TLS options?)"
                .into(),
        },
        _ => TlsError::Failed { peer: peer.to_string(), detail: e.to_string() },
    }
}

/// The version a finished client or server stream negotiated.
pub fn negotiated_version(conn: &rustls::CommonState) -> Option<TlsVersion> {
    conn.protocol_version().and_then(TlsVersion::of)
}

/// The name a server's certificate is checked against: the host part of a node name, which
/// may be an IP address (IPv6 hosts may come in brackets).
fn server_name(host: &str) -> Result<ServerName<'static>, String> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    ServerName::try_from(bare.to_string())
        .map_err(|e| format!("{host:?} cannot be checked against a certificate: {e}"))
}

/// `verify_peer` without the host name check (`{server_name_indication, disable}`): the chain
/// is still verified.
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // webpki checks the chain before the name, so a name error means the chain was good.
        match self.0.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `verify_none`: any server certificate is taken (the handshake signatures are still
/// checked, so the peer holds the key of what it presented).
#[derive(Debug)]
struct NoVerification(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

// ---------------------------------------------------------------------------------------------
// ssl_dist_optfile

impl TlsConfig {
    /// Reads an OTP `-ssl_dist_optfile`: one Erlang term, `[{server, Opts}, {client, Opts}]`,
    /// as `erl` reads it (relative file names from the current directory). Without `verify`,
    /// peers are verified (OTP 25 would not verify unless told to; OTP 26 clients do); without
    /// `fail_if_no_peer_cert`, a client without a certificate is let in, as in OTP. Understood
    /// options: `certfile`, `keyfile` (default: the key in
    /// `certfile`), `cacertfile`, `verify` (`verify_peer` | `verify_none`),
    /// `fail_if_no_peer_cert`, `versions`, `server_name_indication` (a host name or `disable`).
    /// Options without a security meaning for rustls (`secure_renegotiate`, `reuse_sessions`,
    /// `depth`, `hibernate_after`, `log_level`…) are ignored; anything else (`password`,
    /// `verify_fun`, `ciphers`, `crl_check`…) is refused rather than silently dropped.
    ///
    /// ```
    /// let dir = std::env::temp_dir();
    /// let path = dir.join(format!("optfile-doc-{}", std::process::id()));
    /// std::fs::write(&path, "[{server, [{certfile, \"/nonexistent/cert.pem\"}]}].").unwrap();
    /// let e = beamlink::tls::TlsConfig::from_optfile(&path).unwrap_err();
    /// assert!(e.to_string().contains("/nonexistent/cert.pem"), "{e}");
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn from_optfile(path: impl AsRef<Path>) -> Result<TlsConfig, TlsConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| TlsConfigError::Read {
            what: "ssl_dist_optfile",
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let optfile_err = |detail: String| TlsConfigError::Optfile { path: path.to_path_buf(), detail };
        let t = term::parse(&text).map_err(|e| optfile_err(e.to_string()))?;
        let Term::List(ref sections) = t else {
            return Err(optfile_err("expected a list [{server, Options}, {client, Options}]".into()));
        };
        let mut client = None;
        let mut server = None;
        for s in sections {
            match s.as_tuple() {
                Some([k, Term::List(opts)]) if k.is_atom("client") => client = Some(opts.clone()),
                Some([k, Term::List(opts)]) if k.is_atom("server") => server = Some(opts.clone()),
                _ => return Err(optfile_err(format!("unexpected section {s}"))),
            }
        }
        let client = role_from_opts(path, client.as_deref().unwrap_or(&[]), false)?;
        let server = role_from_opts(path, server.as_deref().unwrap_or(&[]), true)?;
        let cfg = TlsConfig { client, server };
        cfg.client_config()?;
        if cfg.server.identity.is_some() {
            cfg.server_config()?;
        }
        Ok(cfg)
    }
}

/// A string option's value: an Erlang string (a list of code points) or a binary.
fn text(t: &Term) -> Option<String> {
    match t {
        Term::List(cs) => cs
            .iter()
            .map(|c| match c {
                Term::Int(i) => u32::try_from(*i).ok().and_then(char::from_u32),
                _ => None,
            })
            .collect(),
        Term::Binary(b) => String::from_utf8(b.to_vec()).ok(),
        _ => None,
    }
}

fn role_from_opts(path: &Path, opts: &[Term], server: bool) -> Result<Role, TlsConfigError> {
    let bad = |detail: String| TlsConfigError::Optfile { path: path.to_path_buf(), detail };
    let unsupported = |option: &str, why: &'static str| TlsConfigError::Unsupported {
        path: path.to_path_buf(),
        option: option.to_string(),
        why,
    };
    let file = |v: &Term, opt: &str| -> Result<PathBuf, TlsConfigError> {
        // Relative paths are taken from the current directory, as `erl` takes them.
        let s = text(v).ok_or_else(|| bad(format!("{opt} must be a string, got {v}")))?;
        Ok(PathBuf::from(s))
    };
    let (mut certfile, mut keyfile, mut cacertfile) = (None, None, None);
    let mut role = Role::new(None, Arc::new(RootCertStore::empty()));
    for o in opts {
        let Some([k, v]) = o.as_tuple() else {
            return Err(bad(format!("expected {{Option, Value}}, got {o}")));
        };
        let Term::Atom(k) = k else { return Err(bad(format!("expected an option name, got {k}"))) };
        match k.as_str() {
            "certfile" => certfile = Some(file(v, "certfile")?),
            "keyfile" => keyfile = Some(file(v, "keyfile")?),
            "cacertfile" => cacertfile = Some(file(v, "cacertfile")?),
            "verify" if v.is_atom("verify_peer") => role.verify_peer = true,
            "verify" if v.is_atom("verify_none") => {
                log::warn!(target: "beamlink::security", "{}: verify_none: peers' certificates are not checked", path.display());
                role.verify_peer = false
            }
            "fail_if_no_peer_cert" if server => {
                role.require_peer_cert = v.is_atom("true");
                if !v.is_atom("true") && !v.is_atom("false") {
                    return Err(bad(format!("fail_if_no_peer_cert must be true or false, got {v}")));
                }
            }
            "server_name_indication" if !server => {
                if v.is_atom("disable") {
                    role.check_host_name = false;
                } else {
                    let name = text(v).ok_or_else(|| bad(format!("server_name_indication: {v}")))?;
                    role.server_name = Some(name);
                }
            }
            "versions" => {
                let Term::List(vs) = v else { return Err(bad(format!("versions must be a list, got {v}"))) };
                let mut versions = Vec::new();
                for v in vs {
                    match v {
                        v if v.is_atom("tlsv1.3") => versions.push(TlsVersion::Tls13),
                        v if v.is_atom("tlsv1.2") => versions.push(TlsVersion::Tls12),
                        other => {
                            return Err(unsupported(
                                &format!("versions {other}"),
                                "only 'tlsv1.2' and 'tlsv1.3' (older versions are insecure)",
                            ));
                        }
                    }
                }
                if versions.is_empty() {
                    return Err(bad("versions is empty".into()));
                }
                role.versions = versions;
            }
            // No security meaning with rustls: it never renegotiates, and the rest tunes OTP's
            // own processes.
            "secure_renegotiate" | "reuse_sessions" | "reuse_session" | "depth" | "hibernate_after"
            | "log_level" | "log_alert" | "honor_cipher_order" | "packet" | "erl_dist" => {}
            "password" => return Err(unsupported("password", "decrypt the key file first")),
            "verify_fun" => {
                return Err(unsupported("verify_fun", "an Erlang function cannot run in beamlink"));
            }
            other => {
                return Err(unsupported(other, "beamlink would ignore it, and it may matter to security"));
            }
        }
    }
    let identity = match (certfile, keyfile) {
        (Some(c), k) => {
            let cert_pem = read_file("certificate", &c)?;
            let chain = parse_chain(&cert_pem, &c.display().to_string())?;
            // Without keyfile, OTP reads the key from certfile.
            let (pem, source) = match &k {
                Some(k) => (read_file("private key", k)?, k.display().to_string()),
                None => (cert_pem, c.display().to_string()),
            };
            let key = zeroizing(pem, |pem| parse_key(pem, &source))?;
            Some(Identity { chain, key: Arc::new(key) })
        }
        (None, Some(_)) => return Err(bad("keyfile without certfile".into())),
        (None, None) => None,
    };
    role.identity = identity;
    if let Some(ca) = cacertfile {
        role.roots = Arc::new(parse_roots(&read_file("CA certificates", &ca)?, &ca.display().to_string())?);
    }
    Ok(role)
}
