//! Certificates for TLS distribution tests, generated on the fly (rcgen) into a scratch
//! directory that is removed when the [`Pki`] is dropped: no private key is ever committed.
//!
//! ```no_run
//! use beamlink_test_support::pki::Pki;
//! let pki = Pki::generate("demo");
//! let node = pki.node_cert("node", &["localhost", "127.0.0.1", "::1"]);
//! let optfile = pki.optfile(&node, "", "");
//! // erl -proto_dist inet_tls -ssl_dist_optfile <optfile> ...
//! # let _ = optfile;
//! ```

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};

use crate::scratch_dir;

/// A certificate authority and the files of what it signed.
pub struct Pki {
    pub dir: PathBuf,
    /// The CA certificate (PEM): what peers' certificates must chain to.
    pub ca: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

/// A node's certificate and key files.
#[derive(Clone, Debug)]
pub struct NodeCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

fn write_private(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f =
        std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

impl Pki {
    /// A new CA named after `name`, in a fresh scratch directory.
    pub fn generate(name: &str) -> Pki {
        let dir = scratch_dir(&format!("pki_{name}"));
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, format!("beamlink test CA {name}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, cert.pem()).unwrap();
        Pki { dir, ca, issuer: Issuer::new(params, key) }
    }

    /// A node certificate for `hosts` (DNS names or IP addresses), good for both TLS roles.
    ///
    /// An IPv6 literal goes in twice: as an iPAddress, and as a dNSName with the same text,
    /// because OTP 25's `inet6_tls_dist` checks a server's certificate against the host part of
    /// `name@::1` as a DNS name (and sends it as SNI), so only the latter satisfies it.
    pub fn node_cert(&self, name: &str, hosts: &[&str]) -> NodeCert {
        self.cert_with(name, hosts, false)
    }

    /// Like [`node_cert`](Self::node_cert) but valid only in 2000: expired.
    pub fn expired_cert(&self, name: &str, hosts: &[&str]) -> NodeCert {
        self.cert_with(name, hosts, true)
    }

    fn cert_with(&self, name: &str, hosts: &[&str], expired: bool) -> NodeCert {
        let names: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        for h in hosts.iter().filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok()) {
            let text = rcgen::string::Ia5String::try_from(h.to_string()).unwrap();
            params.subject_alt_names.push(rcgen::SanType::DnsName(text));
        }
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        if expired {
            params.not_before = date_time_ymd(2000, 1, 1);
            params.not_after = date_time_ymd(2001, 1, 1);
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        let out = NodeCert {
            cert: self.dir.join(format!("{name}.pem")),
            key: self.dir.join(format!("{name}.key")),
        };
        std::fs::write(&out.cert, cert.pem()).unwrap();
        write_private(&out.key, &key.serialize_pem());
        out
    }

    /// An `-ssl_dist_optfile` for an OTP node presenting `node`, requiring a client
    /// certificate signed by this CA (`verify_peer`, `fail_if_no_peer_cert`) and verifying
    /// servers. `server_extra` and `client_extra` are more options, e.g.
    /// `"{versions, ['tlsv1.3']}"`.
    pub fn optfile(&self, node: &NodeCert, server_extra: &str, client_extra: &str) -> PathBuf {
        let q = |p: &Path| format!("{:?}", p.display().to_string());
        let comma = |s: &str| if s.is_empty() { String::new() } else { format!(", {s}") };
        let text = format!(
            "[{{server, [{{certfile, {c}}}, {{keyfile, {k}}}, {{cacertfile, {ca}}}, \
             {{verify, verify_peer}}, {{fail_if_no_peer_cert, true}}{se}]}},\n \
             {{client, [{{certfile, {c}}}, {{keyfile, {k}}}, {{cacertfile, {ca}}}, \
             {{verify, verify_peer}}{ce}]}}].\n",
            c = q(&node.cert),
            k = q(&node.key),
            ca = q(&self.ca),
            se = comma(server_extra),
            ce = comma(client_extra),
        );
        let path = self.dir.join(format!("ssl_dist_{}.conf", crate::unique_name("opt")));
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
